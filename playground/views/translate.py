"""The Translate page: an encoder-decoder without attention and one with it, trained side by side
on number words, with the attention map of a typed phrase, the gradient reaching each word and
exact match by sentence length; below them the translation claim's "Check the claim" box
(views/claims.py), as on the Learn page.

Live like the Race: the session's TranslationDriver trains in a worker; the panel, a fragment with
the buttons in it, draws it as it is and is redrawn while it is busy.
"""

from __future__ import annotations

from functools import partial

import streamlit as st

from core import CELLS
from core.teaching import get_claim
from playground import charts, live, state
from playground.actions import translation as actions
from playground.charts import describe
from playground.charts.translation import RUN_NAMES
from playground.views import claims, downloads, panel
from playground.views.common import chart, flashes, live_area, pace_phrase, progress_bar
from playground.words import translate as words

PAGE = actions.PAGE
BUCKETS = actions.BUCKETS
CLAIM = "translation"  # core.teaching.SEQ2SEQ_CLAIMS


def page() -> None:
    st.title(words.TITLE, anchor=False)
    st.markdown(words.INTRO)
    config, steps = settings()
    if actions.queued():
        st.warning(actions.queued())
    state.set_page_value(PAGE, "drawn_run", state.run_generation(PAGE))
    st.fragment(translate_panel)(config, steps)
    with st.expander("Take it home: checkpoint, script; or continue from a checkpoint"):
        take_home(actions.driver(), steps)
    claims.box(get_claim(CLAIM))  # the same check as on the Learn page, at its settings


def settings():
    # A loaded checkpoint's settings, set before the widgets are drawn (Streamlit refuses after).
    st.session_state.update(actions.loaded_settings())
    columns = st.columns(6)
    values = dict(
        cell=columns[0].selectbox(
            "Cell",
            actions.CELLS,
            index=2,
            format_func=lambda name: CELLS[name].title,
            key="translate_cell",
        ),
        attention=columns[1].selectbox(
            "Attention",
            actions.KINDS,
            format_func=lambda kind: words.ATTENTION_TITLES.get(kind, kind),
            help=words.ATTENTION_HELP,
            key="translate_attention",
        ),
        hidden=int(
            columns[2].number_input(
                "Hidden units", *actions.HIDDEN_RANGE, 64, key="translate_hidden"
            )
        ),
        max_groups=int(
            columns[3].number_input(
                "Longest number (groups of 3 digits)",
                *actions.GROUPS_RANGE,
                3,
                key="translate_groups",
            )
        ),
        seed=int(columns[5].number_input("Seed", 0, 2**31 - 1, 0, key="translate_seed")),
    )
    steps = int(
        columns[4].number_input(
            "Steps", *actions.STEPS_RANGE, 1500, step=100, key="translate_steps"
        )
    )
    config, error = actions.config_from(values)
    if error:
        st.error(error)
    return config, steps


def buttons(config, steps, driver) -> list[panel.Button]:
    off = config is None
    return [
        panel.start_stop(
            "translate_train",
            live.running(driver),
            ("Train", "Pause"),
            (partial(actions.start, config, steps), actions.pause),
            disabled=off and not live.running(driver),
        ),
        panel.Button(
            "translate_step",
            "translate_step",
            "Step 100",
            partial(actions.step, config, steps, 100),
            disabled=off,
            help="Pauses training, then both networks take 100 steps.",
        ),
        panel.Button(
            "translate_reset",
            "translate_reset",
            "New networks",
            partial(actions.reset, config, steps),
            disabled=off,
        ),
    ]


def translate_panel(config, steps) -> None:
    """The buttons and both runs as they are (a fragment: redrawn while they are busy)."""
    if state.run_generation(PAGE) != state.page_value(PAGE, "drawn_run"):
        st.rerun(scope="app")  # a click replaced the runs: the take-home box must offer the new
    driver = actions.driver()
    busy = driver is not None and live.drawing(driver)
    panel.controls(
        "translate_controls", buttons(config, steps, driver), busy, label="Translation controls"
    )
    flashes()
    if driver is None:
        st.info(words.START)
        return
    if config is not None and (driver.config != config or driver.steps != steps):
        st.info(words.CHANGED)
    with live_area("translate_live"):
        draw(driver)


def draw(driver) -> None:
    status(driver)
    version = (driver.live.probes, driver.step)
    phrase = st.text_input(
        words.PHRASE_LABEL,
        words.DEFAULT_PHRASE,
        max_chars=200,
        key="translate_phrase",
        help=words.PHRASE_HELP,
    )
    # Asked again only after new training or a new phrase (a drawing comes every quarter second).
    answers, problem = state.cached(
        PAGE, "translation", (version, phrase), partial(actions.translate, phrase)
    )
    if problem:
        st.warning(problem)
    else:
        st.markdown(
            " · ".join(
                f"{RUN_NAMES[label]}: **{answer.digits or '(nothing)'}**"
                for label, answer in answers.items()
            )
        )
        shown = answers["attention"]
        build = partial(charts.attention_heatmap, shown.words, shown.symbols, shown.attention)
        alt = partial(describe.attention, shown.words, shown.symbols, shown.attention)
        chart(PAGE, "attention", build, (version, phrase), alt=alt)
    left, right = st.columns(2)
    with left:
        if driver.by_length:
            build = partial(charts.exact_by_length_figure, driver.by_length, BUCKETS)
            alt = partial(describe.exact_by_length, driver.by_length, BUCKETS)
            chart(PAGE, "exact_by_length", build, version, alt=alt)
    with right:
        if driver.probes:
            grads = {label: p.grad_norm for label, p in driver.probes.items()}
            build = partial(charts.encoder_grad_figure, grads)
            chart(PAGE, "encoder_grad", build, version, alt=partial(describe.encoder_grad, grads))
    histories = {label: run.history for label, run in driver.runs.items()}
    build = partial(charts.translate_loss_figure, histories)
    chart(PAGE, "translate_loss", build, version, alt=partial(describe.translate_loss, histories))
    for label, run in driver.runs.items():
        if run.diverged:
            st.warning(f"{RUN_NAMES[label]}: {run.message}")


def status(driver) -> None:
    parts = [f"**Step {driver.step:,} / {driver.steps:,}** per network"]
    parts.append(pace_phrase(driver, "finished" if not driver.remaining else "paused"))
    for label, score in driver.scores.items():
        parts.append(f"{RUN_NAMES[label]}: exact match {score['exact_match']:.2f}")
    st.markdown(" · ".join(parts))
    progress_bar(driver.step, driver.steps)


def take_home(driver, steps: int) -> None:
    """Download both networks' checkpoint and the standalone script; upload a checkpoint."""
    if driver is not None:
        st.markdown(words.TAKE_HOME)
        left, right = st.columns(2)
        left.download_button(
            "Checkpoint of both networks (.pt)",
            data=actions.checkpoint_file(driver),
            file_name=f"{actions.file_stem(driver)}.pt",
            mime="application/octet-stream",
            key="translate_download_checkpoint",
            on_click="ignore",
            width="stretch",
        )
        with right:
            downloads.script_button(
                partial(actions.script_text, driver.config, driver.steps),
                f"translate_{driver.config.cell}.py",
                "translate_download_script",
            )
    downloads.render_checkpoint_upload(
        partial(actions.upload_checkpoint, steps=steps),
        "translate_checkpoint_upload",
        f"{words.UPLOAD_HELP} {downloads.UPLOAD_LIMIT}",
    )
