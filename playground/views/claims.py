"""A claim's box on the Learn page ("Check the claim"; the translation claim's also on the
Translate page): the claim, what to expect, a Run button, the live run, and afterwards the
verdict with its numbers and charts (for encoder-decoders, only the views that apply to them).

The run trains the claim's experiments side by side (core.teaching.ClaimRun through a
ClaimDriver in a worker of playground/live.py, two at a time where the server has the slots),
each stopping as soon as its outcome is decided; each experiment's line says when it is. One
claim runs at a time per session.
"""

from __future__ import annotations

from functools import cache, partial

import pandas as pd
import streamlit as st

from core.teaching import Claim, ClaimResult
from core.teaching.memory import FILL_IN_TEXT
from playground import charts, live, state
from playground.actions import describe_error, translation
from playground.actions import teaching as actions
from playground.charts import describe
from playground.views import panel
from playground.views.common import chart, live_area, progress_bar, start_stop

PAGE = "claim"
DECIDED = {"solved": "solved ✓", "budget": "step budget used", "diverged": "diverged"}


def box(claim: Claim) -> None:
    """The claim's box in an expander, open while it runs or once it has a result."""
    active = actions.active_claim() == claim.key
    result = actions.claim_results().get(claim.key)
    with st.expander(f"Check the claim: {claim.title}", expanded=active or result is not None):
        st.markdown(f"**Claim.** {claim.claim}")
        st.markdown(f"**What to expect.** {claim.expect}")
        if active:
            st.fragment(run_panel)(claim)
            return
        run_button(claim, busy=state.running(PAGE))
        if result is not None:
            show_result(claim, result)


def run_button(claim: Claim, busy: bool) -> None:
    """An idle claim's Run button (a plain button: nothing of its own is live)."""
    start_stop(
        st.columns([1, 2])[0],
        False,
        f"claim_{claim.key}",
        ("Run this experiment", "Stop"),
        (actions.start_claim, actions.stop_claim),
        start_args=(claim.key,),
        disabled=busy,
        help="Another experiment is running; stop it first." if busy else None,
    )


def run_panel(claim: Claim) -> None:
    """The running claim's Stop and progress (a fragment: redrawn while it trains). When the
    run has ended, the whole page is drawn again, with the verdict."""
    driver = state.run(PAGE)
    if driver is not None and not state.running(PAGE) and not live.busy(driver):
        actions.finish_claim()
        driver = None
    if driver is None or actions.active_claim() != claim.key:
        st.rerun(scope="app")
    pair = f"claim_{claim.key}"
    stop = panel.start_stop(
        pair, True, ("Run this experiment", "Stop"), (actions.start_claim, actions.stop_claim)
    )
    focus = pair if state.swapped(pair, f"{pair}_stop") else None  # focus follows the click
    live.drawing(driver)
    # Ask for drawings until the verdict, not only while the run is busy: the drawing after the
    # run ends is the one that judges it and draws the page with the result (above).
    panel.controls(f"claim_controls_{claim.key}", [stop], True, label=claim.title, focus=focus)
    run = driver.run
    progress = run.progress()
    parts = []
    for label, steps in progress.steps.items():
        why = DECIDED.get(progress.decided.get(label, ""), "training")
        parts.append(f"**{label}** step {steps:,} ({why})")
    line = " · ".join(parts) + f" · {progress.seconds:.0f} s"
    if driver.live.waiting:
        line += " · waiting for a free training slot…"
    with live_area(f"claim_live_area_{run.claim.key}"):
        progress_bar(progress.fraction, 1.0, text=line)
        loss_chart(run.claim, run.experiments, driver.live.version, f"claim_live_{run.claim.key}")


def loss_chart(claim: Claim, experiments: dict, version, key: str) -> None:
    """Each run's loss: the Race's chart (with the task's reference lines), or for
    encoder-decoders the Translate page's (their tasks have no such lines)."""
    histories = {label: e.history for label, e in experiments.items()}
    if claim.seq2seq:
        build = partial(charts.translate_loss_figure, histories)
        alt = partial(describe.translate_loss, histories)
        chart(PAGE, "translate_loss", build, version, key=key, alt=alt)
        return
    task = next(iter(experiments.values())).task
    build = partial(charts.race_loss_figure, histories, task)
    chart(PAGE, "race_loss", build, version, key=key, alt=partial(describe.race, histories))


def show_result(claim: Claim, result: ClaimResult) -> None:
    if result.stopped:
        st.warning(result.summary)
        return
    (st.success if result.ok else st.error)(
        f"**{'Claim confirmed' if result.ok else 'Claim not confirmed this time'}** "
        f"({result.seconds:.0f} s). {result.summary}"
    )
    for kind in claim.show:
        if claim.seq2seq and kind in SEQUENCE_MODEL_ONLY:
            continue  # these read a SequenceModel (its probe, forecast, sampler, recurrent weights)
        try:
            DRAW[kind](claim, result)
        except Exception as error:  # noqa: BLE001 - a failing chart is a notice, not a traceback
            st.warning(f"This part could not be drawn: {describe_error(error)}")


def _version(result: ClaimResult) -> tuple:
    return (result.key, id(result))


def _loss(claim: Claim, result: ClaimResult) -> None:
    loss_chart(claim, result.experiments, _version(result), f"claim_{claim.key}_loss")


def _exact_by_length(claim: Claim, result: ClaimResult) -> None:
    by_length = actions.result_by_length(result)
    build = partial(charts.exact_by_length_figure, by_length, translation.BUCKETS)
    alt = partial(describe.exact_by_length, by_length, translation.BUCKETS)
    key = f"claim_{claim.key}_by_length"
    chart(PAGE, "exact_by_length", build, _version(result), key=key, alt=alt)


def _probes(result: ClaimResult):
    """The result's probes, computed once for a chart and its text alternative, and only when
    they are (re)built."""
    return cache(partial(actions.result_probes, result))


def _grad_per_step(claim: Claim, result: ClaimResult) -> None:
    probes = _probes(result)

    def build():
        return charts.race_grad_figure(probes())

    def alt():
        return describe.race_grad(probes())

    chart(PAGE, "race_grad", build, _version(result), key=f"claim_{claim.key}_grad", alt=alt)


def _grad_norm(claim: Claim, result: ClaimResult) -> None:
    histories = {label: e.history for label, e in result.experiments.items()}
    build = partial(charts.grad_norm_history_figure, histories)
    alt = partial(describe.grad_norm_history, histories)
    key = f"claim_{claim.key}_norm"
    chart(PAGE, "grad_norm_history", build, _version(result), key=key, alt=alt)


def _params(claim: Claim, result: ClaimResult) -> None:
    rows = [
        {
            "cell": label,
            "parameters": e.parameter_count(),
            "recurrent parameters": e.model.parameter_count(recurrent_only=True),
        }
        for label, e in result.experiments.items()
    ]
    st.dataframe(pd.DataFrame(rows), hide_index=True, key=f"claim_{claim.key}_params")


def _fill_in(claim: Claim, result: ClaimResult) -> None:
    text = st.text_input("Type numbers with one '?'", FILL_IN_TEXT, key=f"claim_{claim.key}_ask")
    kind, message = actions.result_fill_in(result, text)
    getattr(st, kind)(message)


def _rollout(claim: Claim, result: ClaimResult) -> None:
    forecast = cache(partial(actions.result_rollout, result))

    def build():
        return charts.rollout_figure(forecast())

    def alt():
        return describe.forecast(forecast())

    chart(PAGE, "rollout", build, _version(result), key=f"claim_{claim.key}_rollout", alt=alt)


def _generate(claim: Claim, result: ClaimResult) -> None:
    key = f"claim_{claim.key}_temperature"
    temperature = st.slider("Temperature", 0.0, 1.5, 0.5, 0.1, key=key)
    st.text(actions.result_text(result, temperature))


def _trajectories(claim: Claim, result: ClaimResult) -> None:
    probes = _probes(result)

    def build():
        return charts.trajectory_figure(next(iter(probes().values())))

    def alt():
        return describe.trajectory(next(iter(probes().values())))

    key = f"claim_{claim.key}_trajectories"
    chart(PAGE, "trajectory", build, _version(result), key=key, alt=alt)


DRAW = {
    "loss": _loss,
    "grad_per_step": _grad_per_step,
    "grad_norm": _grad_norm,
    "params": _params,
    "fill_in": _fill_in,
    "rollout": _rollout,
    "generate": _generate,
    "trajectories": _trajectories,
    "exact_by_length": _exact_by_length,
}
SEQUENCE_MODEL_ONLY = frozenset(
    {"grad_per_step", "params", "fill_in", "rollout", "generate", "trajectories"}
)
