"""The playground page: buttons, messages, a live status line and the charts, in tabs.

Live training: `live_panel` is a fragment with `run_every` set only while training; the browser
asks for it every `live.TIMER_SECONDS` and Streamlit merges requests that arrive mid-tick, so
ticks run back to back. Each tick runs a bounded number of steps plus one probe (`actions.tick`,
about `live.TICK_COMPUTE_SECONDS`), then redraws the status and the open tab only (tabs are lazy).
Figures are rebuilt at the chart refresh rate (`live.Pace`: every tick while the browser keeps
up, less often when it doesn't; heavy ones every few refreshes) and drawn in place by
`plotly_live`, which sends an unchanged figure as its hash only.
"""

from __future__ import annotations

import math
import time
from urllib.parse import urlencode

import numpy as np
import streamlit as st

from core.presets import config_for
from core.tasks import fill_in, generate_text, rollout
from playground import actions, charts, content, live, state
from playground.plotly_live import plotly_live, steady_container
from playground.views import controls, downloads, waiting

TABS = ("Training", "Memory", "Gradients", "Gates", "Weights", "Cell")
# The same config while training and paused: charts are redrawn in place, so zoom, hover and the
# 3D camera survive redraws (layout.uirevision). plotly's staticPlot, used here before, drew 3D
# scenes blank in headless Chromium.
PLOTLY_CONFIG = {"displaylogo": False}


def page() -> None:
    st.title("RNN playground")
    if not state.classroom():
        st.caption(content.INTRO)
    # The buttons go out before the sidebar, so a click on Pause shows up as soon as possible;
    # on a session's first run that needs the experiment built first.
    if state.experiment() is None:
        actions.apply_settings(state.config())
    shown = buttons(state.experiment())
    config = state.config()
    if not state.classroom():
        config = controls.sidebar(config)
        state.set_config(config)
    pending = actions.apply_settings(config)
    exp = state.experiment()
    if usable(exp) != shown:
        st.rerun()  # the settings just made the run (un)usable: redraw the buttons to match
    messages(exp, pending)
    if exp is None and state.queued():
        waiting.waiting_room()  # the run waits for memory (playground/governor.py)
    if exp is not None:
        with st.expander(f"About the task: {exp.task.title}"):
            st.markdown(exp.task.explanation)
        # Re-declared on every full run: the timer runs only while training.
        st.fragment(run_every=live.TIMER_SECONDS if state.running() else None)(live_panel)()
        if not state.classroom():
            with st.expander("Take it home: checkpoint, script, history; or continue a run"):
                downloads.render_downloads(exp)
                downloads.render_checkpoint_upload()
    if not state.classroom():
        share_box()


# ---- top of the page ----------------------------------------------------------------------------
def usable(exp) -> bool:
    return exp is not None and not exp.diverged


def buttons(exp) -> bool:
    """Train/Pause, Step 1, Step 10, Reset; returns whether they were drawn enabled."""
    enabled = usable(exp)
    columns = st.columns([1, 1, 1, 1, 3] if not state.classroom() else [1, 1, 5])
    # Two buttons in one place rather than one toggle: Streamlit can occasionally deliver one
    # click twice when runs overlap, and a toggle would then undo itself; start and pause can't.
    if state.running():
        columns[0].button(
            "Pause", key="pause", type="primary", on_click=actions.pause_training, width="stretch"
        )
    else:
        columns[0].button(
            "Train",
            key="train",
            type="primary",
            on_click=actions.start_training,
            disabled=not enabled,
            width="stretch",
        )
    if state.classroom():
        columns[1].button("Reset", key="reset", on_click=actions.reset, width="stretch")
        return enabled
    columns[1].button(
        "Step 1",
        key="step1",
        on_click=actions.step,
        args=(1,),
        disabled=not enabled,
        width="stretch",
    )
    columns[2].button(
        "Step 10",
        key="step10",
        on_click=actions.step,
        args=(10,),
        disabled=not enabled,
        width="stretch",
    )
    columns[3].button("Reset", key="reset", on_click=actions.reset, width="stretch")
    return enabled


def messages(exp, pending: list[str]) -> None:
    for notice in state.pop_url_notices():
        st.warning(f"From the link: {actions.plain_text(notice)}.")
    for kind, text in state.pop_flash():
        getattr(st, kind)(text)
    if state.experiment_error():
        st.error(f"These settings can't be used: {state.experiment_error()}")
    if exp is None:
        return
    if exp.diverged:
        st.error(exp.message)
    elif exp.steps_done >= state.config().max_steps and not state.running():
        st.info(
            "Done: the step budget is used up. Raise it in the sidebar to keep training, or "
            "press Reset to start over."
        )
    if pending:
        st.warning(
            f"Settings changed ({', '.join(pending)}) — press Reset to apply. Until then, "
            "Train continues the current run with its old settings."
        )
    show_preset(exp)


def show_preset(exp) -> None:
    preset = state.preset()
    if preset is None:
        return
    name, expectation = preset
    demo = content.DEMOS[name]
    params = config_for(demo.config)
    if any(
        getattr(exp.config, key) != value
        for key, value in params.items()
        if key not in ("lr", "clip", "max_steps")
    ):
        state.set_preset(None)  # the visitor has moved on to other settings
        return
    st.info(f"**Demo: {demo.label}.** What to expect: {expectation}")


def share_box() -> None:
    with st.expander("Share these settings"):
        query = urlencode(state.config().to_params())
        link = state.page_url() + (f"?{query}" if query else "")
        st.caption(
            "Copy this link (button at the right) to open the playground with the same settings."
        )
        st.code(link, language=None)
        classroom = (
            state.page_url()
            + "?"
            + urlencode({**state.config().to_params(), state.CLASSROOM_PARAM: "1"})
        )
        st.caption(
            "Classroom link: the same settings with only Train/Pause and Reset, for "
            "showing on a projector."
        )
        st.code(classroom, language=None)


# ---- the live part ----------------------------------------------------------------------------
def live_panel() -> None:
    exp = state.experiment()
    if exp is None:
        return
    outcome = actions.tick(exp) if state.running() else "paused"
    probe = actions.current_probe(exp)
    drawing = time.perf_counter()
    with steady_container("live"):  # no stale fade on the status line and charts
        status(exp, outcome)
        if outcome == "stopped":
            st.rerun()  # the whole page: the timer stops and the button says Train again
        drawers = (training_tab, memory_tab, gradients_tab, gates_tab, weights_tab, cell_tab)
        for tab, draw in zip(st.tabs(TABS, key="view", on_change="rerun"), drawers, strict=True):
            if tab.open is not False:  # lazy: only the open tab is computed and sent
                with tab:
                    if probe is None:
                        st.info("Nothing to show yet: press Step 1 or Train.")
                    else:
                        draw(exp, probe)
    if state.running():
        state.pace().record_draw(time.perf_counter() - drawing)
        state.pace().tick_ended(time.perf_counter())


def status(exp, outcome: str) -> None:
    metrics = exp.metrics()
    config = state.config()
    pace = state.pace()
    task = exp.task
    parts = [
        f"**Step {metrics['step']:,} / {config.max_steps:,}**",
        f"train loss {number(metrics['train_loss'])}",
        f"validation {task.metric_name} {number(metrics['val_metric'])}",
    ]
    if not charts.metric_matches_loss(task):
        parts.append(f"validation loss {number(metrics['val_loss'])}")
    parts.append(f"gradient norm {number(metrics['grad_norm'])}")
    if metrics["clipped_fraction"] > 0:
        parts.append(f"clipped {metrics['clipped_fraction']:.0%}")
    if outcome == "waiting":
        parts.append("waiting for a free training slot…")
    elif state.running():
        speed = pace.steps_per_second()
        parts.append(f"{speed:,.0f} steps/s" if math.isfinite(speed) else "starting…")
    else:
        parts.append("paused")
    parts.append(f"{clock(pace.elapsed)} elapsed")
    if metrics["solved"]:
        parts.append("✓ solved")
    st.markdown(" · ".join(parts))
    # Clamped both ways: a checkpoint's step can be past this run's budget (st.progress raises
    # outside 0..1).
    st.progress(min(max(metrics["step"] / max(config.max_steps, 1), 0.0), 1.0))


def number(value: float) -> str:
    return "–" if value is None or not math.isfinite(value) else f"{value:.4g}"


def clock(seconds: float) -> str:
    return f"{int(seconds) // 60}:{int(seconds) % 60:02d}"


# ---- charts -------------------------------------------------------------------------------------
def chart(name: str, build, probe, *extra, key: str | None = None, heavy: bool = False) -> None:
    """Draw the figure `build()` makes, with its caption (`name` in charts.CAPTIONS).

    The figure is rebuilt only when it can have changed (a new probe, or `extra` such as the
    example) and, while training, at the chart refresh rate (`heavy`: every few refreshes).
    `plotly_live` redraws it in place and sends an unchanged figure as its hash only.
    A failing builder becomes a notice on the page, never a traceback.
    """
    key = key or f"chart_{name}"
    try:
        figure = cached(key, build, probe, *extra, heavy=heavy)
    except Exception as error:  # noqa: BLE001
        st.warning(f"This chart could not be drawn: {actions.describe_error(error)}")
        return
    plotly_live(figure, key=key, config=PLOTLY_CONFIG)
    st.caption(charts.CAPTIONS[name])


def cached(name: str, build, probe, *extra, heavy: bool = False):
    """`build()`, rebuilt at chart refreshes while training, for each new probe when paused."""
    if state.running():
        generation = state.pace().chart_generation
        version = (generation // live.HEAVY_EVERY_REFRESHES if heavy else generation, *extra)
    else:
        version = (id(probe), *extra)
    return state.cached(name, version, build)


def example_picker(probe, key: str = "example") -> int:
    count = len(probe.inputs)
    return st.slider(
        "Example sequence",
        0,
        count - 1,
        key=key,
        help="which sequence of the fixed probe batch the charts show",
    )


def training_tab(exp, probe) -> None:
    left, right = st.columns(2)
    with left:
        chart("loss", lambda: charts.loss_figure(exp.history, exp.task), probe)
        chart("grad_norm", lambda: charts.grad_norm_figure(probe), probe)
    with right:
        example = example_picker(probe)
        chart(
            "prediction", lambda: charts.prediction_figure(probe, exp.task, example), probe, example
        )
        ask_the_model(exp, probe, example)
        if not charts.metric_matches_loss(exp.task):
            chart("metric", lambda: charts.metric_figure(exp.history, exp.task), probe)


def ask_the_model(exp, probe, example: int) -> None:
    """The task's own way to question the model: fill in a number, forecast, or write text."""
    name = exp.task.name
    if name == "next_number":
        next_number_box(exp)
    elif name in ("sine", "csv"):
        forecast(exp, probe, example)
    elif name == "text":
        write_text(exp, probe)


def next_number_box(exp) -> None:
    text = st.text_input(
        "Type a sequence with one '?' (press Enter)", "1, 2, 3, ?, 5", key="fill_in"
    )
    try:
        with exp.lock:
            answer = fill_in(exp.model, exp.config, text)
    except Exception as error:  # noqa: BLE001 - mostly ConfigError: what was typed is not valid
        st.warning(actions.describe_error(error))
        return
    st.success(answer.message)


def forecast(exp, probe, example: int) -> None:
    horizon = exp.config.horizon

    def build():
        with exp.lock:
            predicted = rollout(exp.model, exp.probe_batch, horizon)[example]
        truth = exp.task.future(exp.probe_batch, horizon)[example]
        context = exp.probe_batch.inputs[example, :, 0].cpu().numpy()
        if exp.probe_batch.lengths is not None:  # a ragged window ends at its own length
            context = context[: int(exp.probe_batch.lengths[example])]
        return charts.rollout_figure(context, predicted, truth)

    chart("rollout", build, probe, example, horizon, heavy=True)


def write_text(exp, probe) -> None:
    prompt = st.text_input("Start the text with", "The ", key="text_prompt", max_chars=200)
    temperature = st.slider(
        "Temperature",
        0.0,
        2.0,
        0.8,
        0.1,
        key="temperature",
        help="0: always the likeliest letter; higher: more surprising choices",
    )

    def build():
        rng = np.random.default_rng(exp.config.seed)  # same weights, same text
        with exp.lock:
            return generate_text(exp.model, exp.task, prompt, 240, temperature, rng)

    try:
        text = cached("generated_text", build, probe, prompt, temperature, heavy=True)
    except Exception as error:  # noqa: BLE001
        st.warning(actions.describe_error(error))
        return
    st.markdown("**The network writes:**")
    st.text(prompt + text)


def memory_tab(exp, probe) -> None:
    example = example_picker(probe)
    left, right = st.columns(2)
    with left:
        chart(
            "trajectory",
            lambda: charts.trajectory_figure(probe, 2),
            probe,
            key="chart_trajectory_2d",
        )
        chart(
            "hidden_heatmap",
            lambda: charts.hidden_heatmap(probe, example),
            probe,
            example,
            heavy=True,
        )
    with right:
        chart(
            "trajectory",
            lambda: charts.trajectory_figure(probe, 3),
            probe,
            key="chart_trajectory_3d",
            heavy=True,
        )
        if probe.lengths is not None and len(np.unique(probe.lengths)) > 1:
            chart("length_histogram", lambda: charts.length_histogram(probe), probe)


def gradients_tab(exp, probe) -> None:
    left, right = st.columns(2)
    with left:
        chart("grad_norm", lambda: charts.grad_norm_figure(probe), probe, key="chart_grad_norm_tab")
    with right:
        chart(
            "grad_history_heatmap",
            lambda: charts.grad_history_heatmap(exp.probe_log),
            probe,
            heavy=True,
        )


def gates_tab(exp, probe) -> None:
    if not probe.gates:
        st.info(
            "A vanilla RNN has no gates: everything it remembers must survive the same "
            "squashing step. Choose LSTM or GRU in the sidebar (then Reset) to see gates."
        )
        return
    example = example_picker(probe)
    chart("gates", lambda: charts.gates_figure(probe, example), probe, example, heavy=True)


def weights_tab(exp, probe) -> None:
    left, right = st.columns(2)
    with left:
        chart("spectrum", lambda: charts.spectrum_figure(probe), probe, heavy=True)
    with right:
        chart("spectral_radius", lambda: charts.spectral_radius_figure(exp.probe_log), probe)


def cell_tab(exp, probe) -> None:
    cell = exp.config.cell
    st.subheader(f"{exp.model.cell.title}: the equations")
    for line in content.EQUATIONS[cell]:
        st.latex(line)
    st.caption(content.EQUATION_NOTES[cell])
    st.subheader(f"{exp.parameter_count():,} parameters")
    st.markdown(
        content.parameter_explanation(
            cell, exp.task.input_size, exp.config.hidden, exp.config.layers, exp.task.output_size
        )
    )
