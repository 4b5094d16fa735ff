"""A measured experiment's box on the Learn page: one claim of the seed (core.presets.PRESETS).

The Learn page shows each experiment under the idea it belongs to (views/learn.py); that idea's
"Show me" buttons, not this box, load the experiment's configs into the playground.

"Run this experiment" trains the preset live: a `run_every` fragment calls `PresetRun.advance(k)`
with k from a `live.Pace` (about 0.17 s of training per tick) under the experiment's lock, shows
progress and the loss curves; Stop ends it. At the end the preset's verdict (claim confirmed or
not, with the numbers) and its charts are shown. One preset runs at a time per session.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core import ConfigError
from core.presets import (
    FILL_IN_TEXT,
    TEXT_PROMPT,
    Preset,
    PresetResult,
    PresetRun,
    get_preset,
)
from core.tasks import fill_in, generate_text, rollout
from playground import actions, charts, governor, live, state
from playground.views import teaching_state as ts

PLOTLY_CONFIG = {"displaylogo": False}


def experiment(preset: Preset) -> None:
    """The preset's box in an expander, open while it runs or once it has a result."""
    active = ts.get("preset_run_key") == preset.key
    result = (ts.get("preset_run_results") or {}).get(preset.key)
    with st.expander(f"Check the claim: {preset.title}", expanded=active or result is not None):
        preset_box(preset, active, result)


def preset_box(preset: Preset, active: bool, result: PresetResult | None) -> None:
    st.markdown(f"**Claim.** {preset.claim}")
    st.markdown(f"**What to expect.** {preset.expect}")
    running = active and ts.get("preset_run_running")
    column = st.columns([1, 2])[0]
    if running:
        column.button("Stop", key=f"preset_run_stop_{preset.key}", on_click=stop, width="stretch")
    else:
        column.button(
            "Run this experiment",
            key=f"preset_run_start_{preset.key}",
            on_click=start,
            args=(preset.key,),
            type="primary",
            disabled=bool(ts.get("preset_run_running")),
            width="stretch",
        )
    if active:
        st.fragment(run_every=live.TIMER_SECONDS if running else None)(run_panel)()
    elif result is not None:
        show_result(preset, result)


# ---- actions ------------------------------------------------------------------------------------
@actions.button_action
def start(key: str) -> None:
    ts.put("preset_run_run", None)  # the old run goes first: its memory counts for the new one
    try:  # all of a preset's runs are built at once: room for all (playground/governor.py)
        configs = get_preset(key).experiment_configs().values()
        admission = governor.admit(state.owner(), "preset_run", configs)
        if not admission.admitted:
            state.flash("warning", governor.full_message(admission))
            return
        run = PresetRun(key)
    except (ConfigError, ValueError) as error:
        state.flash("error", actions.describe_error(error))
        return
    governor.GOVERNOR.hold(state.owner(), "preset_run", run)
    ts.put("preset_run_key", key)
    ts.put("preset_run_run", run)
    ts.put("preset_run_pace", live.Pace())
    ts.put("preset_run_running", True)
    results = ts.get("preset_run_results") or {}
    results.pop(key, None)
    ts.put("preset_run_results", results)
    ts.put("preset_run_figures", {})


@actions.button_action
def stop() -> None:
    ts.put("preset_run_running", False)
    run: PresetRun | None = ts.get("preset_run_run")
    if run is not None:
        finish(run)


def finish(run: PresetRun) -> None:
    """Measure and judge (or record that it was stopped); keep the result, drop the run."""
    with run.experiments[list(run.experiments)[-1]].lock:
        result = run.result()
    results = ts.get("preset_run_results") or {}
    results[run.preset.key] = result
    ts.put("preset_run_results", results)
    ts.put("preset_run_key", None)
    ts.put("preset_run_run", None)


def advance(run: PresetRun, k: int) -> None:
    label = run.current
    if label is None:
        return
    with run.experiments[label].lock:
        run.advance(k)


def tick(run: PresetRun) -> str:
    pace: live.Pace = ts.get("preset_run_pace")
    pace.tick_started(ts.now())
    if not run.done:
        with ts.Slot() as held:
            if not held:
                pace.pause()
                return "waiting"
            current = run.experiments[run.current]
            k = pace.next_k(run.steps - current.steps_done)
            started = ts.now()
            advance(run, k)
            pace.record(k, ts.now() - started, 0.0)
    if run.done:
        ts.put("preset_run_running", False)
        finish(run)
        return "stopped"
    return "stepped"


# ---- drawing ------------------------------------------------------------------------------------
def run_panel() -> None:
    run: PresetRun | None = ts.get("preset_run_run")
    if run is None:
        return
    outcome = tick(run) if ts.get("preset_run_running") else "paused"
    if outcome == "stopped":
        st.rerun()  # the whole page: the timer stops and the result is drawn
    progress = run.progress()
    line = (
        f"Training **{progress.label}**: step {progress.step:,} of {progress.steps:,} · "
        f"{progress.fraction:.0%} of the experiment · {progress.seconds:.0f} s"
    )
    if outcome == "waiting":
        line += " · waiting for a free training slot…"
    st.progress(progress.fraction, text=line)
    task = next(iter(run.experiments.values())).task
    histories = {label: e.history for label, e in run.experiments.items()}
    st.plotly_chart(
        charts.race_loss_figure(histories, task),
        key=f"preset_run_live_{run.preset.key}",
        theme=None,
        config={"staticPlot": True},
    )


def show_result(preset: Preset, result: PresetResult) -> None:
    if result.stopped:
        st.warning(result.summary)
        return
    (st.success if result.ok else st.error)(
        f"**{'Claim confirmed' if result.ok else 'Claim not confirmed this time'}** "
        f"({result.seconds:.0f} s of training). {result.summary}"
    )
    experiments = result.experiments
    first = next(iter(experiments.values()))
    for kind in preset.show:
        try:
            draw(kind, preset, result, first)
        except Exception as error:  # noqa: BLE001 - a failing chart is a notice, not a traceback
            st.warning(f"This part could not be drawn: {actions.describe_error(error)}")


def cached_figure(name: str, result: PresetResult, build) -> go.Figure:
    figures = ts.get("preset_run_figures") or {}
    key = (result.key, id(result), name)
    if key not in figures:
        figures[key] = build()
        ts.put("preset_run_figures", figures)
    return figures[key]


def draw(kind: str, preset: Preset, result: PresetResult, first) -> None:
    experiments = result.experiments
    key = f"preset_run_{preset.key}_{kind}"
    if kind == "loss":
        histories = {label: e.history for label, e in experiments.items()}
        figure = cached_figure(kind, result, lambda: charts.race_loss_figure(histories, first.task))
        st.plotly_chart(figure, key=key, theme=None, config=PLOTLY_CONFIG)
        st.caption(charts.CAPTIONS["race_loss"])
    elif kind == "grad_per_step":

        def build():
            live_ones = {k: e for k, e in experiments.items() if not e.diverged}
            probes = {}
            for label, e in live_ones.items():
                with e.lock:
                    probes[label] = e.probe(jacobian=False)
            return charts.race_grad_figure(probes)

        st.plotly_chart(
            cached_figure(kind, result, build), key=key, theme=None, config=PLOTLY_CONFIG
        )
        st.caption(charts.CAPTIONS["race_grad"])
    elif kind == "grad_norm":
        st.plotly_chart(
            cached_figure(kind, result, lambda: grad_norm_history(experiments)),
            key=key,
            theme=None,
            config=PLOTLY_CONFIG,
        )
        st.caption(
            "The gradient's total norm at every training step (log scale). Without clipping it "
            "spikes until training blows up; with clipping every update stays bounded."
        )
    elif kind == "params":
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "cell": label,
                        "parameters": e.parameter_count(),
                        "recurrent parameters": e.model.parameter_count(recurrent_only=True),
                    }
                    for label, e in experiments.items()
                ]
            ),
            hide_index=True,
            key=key,
        )
    elif kind == "fill_in":
        text = st.text_input("Type numbers with one '?'", FILL_IN_TEXT, key=key)
        try:
            with first.lock:
                answer = fill_in(first.model, first.config, text)
        except ValueError as error:
            st.warning(str(error))
        else:
            st.success(answer.message)
    elif kind == "rollout":

        def build():
            with first.lock:
                batch, horizon = first.val_batch, first.config.horizon
                forecast = rollout(first.model, batch, horizon)[0]
            truth = first.task.future(batch, horizon)[0]
            context = batch.inputs[0, :, 0].cpu().numpy()
            return charts.rollout_figure(context, forecast, truth)

        st.plotly_chart(
            cached_figure(kind, result, build), key=key, theme=None, config=PLOTLY_CONFIG
        )
        st.caption(charts.CAPTIONS["rollout"])
    elif kind == "generate":
        temperature = st.slider("Temperature", 0.0, 1.5, 0.5, 0.1, key=f"{key}_temperature")
        rng = np.random.default_rng(first.config.seed)
        with first.lock:
            sample = generate_text(first.model, first.task, TEXT_PROMPT, 300, temperature, rng)
        st.code(TEXT_PROMPT + sample, language=None, wrap_lines=True)
    elif kind == "trajectories":

        def build():
            with first.lock:
                return charts.trajectory_figure(first.probe(jacobian=False))

        st.plotly_chart(
            cached_figure(kind, result, build), key=key, theme=None, config=PLOTLY_CONFIG
        )
        st.caption(charts.CAPTIONS["trajectory"])


def grad_norm_history(experiments) -> go.Figure:
    fig = go.Figure()
    for index, (label, e) in enumerate(experiments.items()):
        norms = np.asarray(e.history.grad_norm, dtype=np.float64)
        steps = np.asarray(e.history.step)
        keep = np.isfinite(norms) & (norms > 0)
        fig.add_trace(
            go.Scatter(
                x=steps[keep].astype(np.int32),
                y=norms[keep].astype(np.float32),
                name=label,
                mode="lines",
                line=dict(color=charts.PALETTE[index % len(charts.PALETTE)], width=2),
            )
        )
    fig.update_layout(
        template=charts.TEMPLATE,
        title="Gradient norm per training step",
        xaxis_title="training step",
        yaxis=dict(title="‖gradient‖ (log scale)", **charts.LOG_AXIS),
        height=charts.HEIGHT,
        showlegend=True,
    )
    return fig
