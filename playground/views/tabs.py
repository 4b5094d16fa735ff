"""The Playground page's tabs: Training, Memory, Gradients, Gates, Weights, Cell.

Each drawer gets the TrainingDriver and the probe to draw. Figures are rebuilt when they can have
changed: for each new probe (the worker takes one only after the page has drawn the last one),
heavy ones at every HEAVY_EVERY_PROBES-th while training. The open tab's name goes to the driver,
whose probe takes the costly parts only for tabs that show them.
"""

from __future__ import annotations

from functools import cache, partial

import numpy as np
import streamlit as st

from core.cells import get_cell
from playground import charts, live, state
from playground.actions import training as actions
from playground.charts import describe
from playground.views.common import chart, example_picker, keep_tab_focus
from playground.words import cells as cell_words

PAGE = "playground"
TABS = ("Training", "Memory", "Gradients", "Gates", "Weights", "Cell")
READ_EXAMPLE = "the plot was good at first but dull"


def draw(driver, probe) -> None:
    """The tab bar and the open tab (tabs are lazy: only the open one is computed and sent)."""
    drawers = (training_tab, memory_tab, gradients_tab, gates_tab, weights_tab, cell_tab)
    keep_tab_focus()
    for name, tab, drawer in zip(
        TABS, st.tabs(TABS, key="view", on_change="rerun"), drawers, strict=True
    ):
        if tab.open is not False:
            driver.live.view = name
            with tab:
                if probe is None:
                    st.info("Nothing to show yet: press Step 1 or Train.")
                else:
                    drawer(driver, probe)


def version(driver, probe, *extra, heavy: bool = False) -> tuple:
    """What a figure is built for: the probe (its count, `TrainingDriver.observed`; heavy figures
    change at every HEAVY_EVERY_PROBES-th while training) and `extra`."""
    made = driver.observed
    if heavy and live.running(driver):
        made //= live.HEAVY_EVERY_PROBES
    return (heavy, made, *extra)


def training_tab(driver, probe) -> None:
    exp = driver.experiment
    left, right = st.columns(2)
    with left:
        chart(
            PAGE,
            "loss",
            lambda: charts.loss_figure(exp.history, exp.task, loss_references(exp)),
            version(driver, probe),
            alt=lambda: describe.loss(exp.history, exp.task),
        )
        chart(
            PAGE,
            "grad_norm",
            lambda: charts.grad_norm_figure(probe),
            version(driver, probe),
            alt=lambda: describe.grad_norm(probe),
        )
    with right:
        example = example_picker(len(probe.inputs))
        chart(
            PAGE,
            "prediction",
            lambda: charts.prediction_figure(probe, exp.task, example),
            version(driver, probe, example),
            alt=lambda: describe.prediction(probe, example),
        )
        ask_the_model(driver, probe, example)
        if not exp.task.metric_is_loss:
            metric_references = actions.metric_references(exp)
            chart(
                PAGE,
                "metric",
                lambda: charts.metric_figure(exp.history, exp.task, metric_references),
                version(driver, probe, len(metric_references)),
                alt=lambda: describe.metric(exp.history, exp.task, metric_references),
            )


def ask_the_model(driver, probe, example: int) -> None:
    """The task's own way to question the model: fill in a number, forecast, write text, or read
    a typed sentence word by word."""
    ask = driver.experiment.task.ask
    if ask == "fill_in":
        fill_in_box(driver)
    elif ask == "forecast":
        forecast_chart(driver, probe, example)
    elif ask == "generate":
        write_text(driver, probe)
    elif ask == "read":
        read_box(driver)


def fill_in_box(driver) -> None:
    text = st.text_input(
        "Type a sequence with one '?' (press Enter)", "1, 2, 3, ?, 5", key="fill_in"
    )
    kind, message = state.cached(
        PAGE,
        "fill_in_answer",
        version(driver, None, text),
        partial(actions.fill_in_answer, driver.experiment, text),
    )
    getattr(st, kind)(message)


def read_box(driver) -> None:
    """A typed sentence and the model's verdict after each of its words."""
    exp = driver.experiment
    text = st.text_input(
        "Type a review and press Enter", READ_EXAMPLE, key="read_sentence", max_chars=300
    )
    answer = state.cached(
        PAGE,
        "read_answer",
        version(driver, None, text),
        partial(actions.read_typed_sentence, exp, text),
    )
    if answer[0] == "success":
        _, words, positive = answer
        chart(
            PAGE,
            "verdict",
            lambda: charts.verdict_figure(words, positive, "Your sentence, word by word"),
            version(driver, None, text),
            alt=lambda: describe.verdict(words, positive),
        )
    else:
        st.warning(answer[1])
    st.caption("Words it knows: " + ", ".join(exp.task.vocabulary))


def loss_references(exp) -> list[tuple[str, float]]:
    """More lines for the loss chart: a forecast's linear AR reference, the text's n-gram."""
    if exp.task.ask == "generate":
        return actions.text_references(exp)
    if exp.task.ask != "forecast" or not exp.steps_done:
        return []
    return actions.forecast_references(exp)


def forecast_chart(driver, probe, example: int) -> None:
    exp = driver.experiment
    y_title = str(getattr(exp.task, "column_name", "value"))

    horizon = exp.config.horizon
    made_for = version(driver, probe, example, horizon, heavy=True)
    # One rollout for the chart and its text alternative, made only when they are rebuilt.
    forecast = cache(partial(actions.forecast, exp, example))
    chart(
        PAGE,
        "rollout",
        lambda: charts.rollout_figure(forecast(), y_title),
        made_for,
        alt=lambda: describe.forecast(forecast()),
    )
    notices = state.cached(
        PAGE,
        "forecast_notices",
        version(driver, probe, heavy=True),
        partial(actions.forecast_notices, exp),
    )
    for kind, text in notices:
        getattr(st, kind)(text)


def write_text(driver, probe) -> None:
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
    exp = driver.experiment
    text = state.cached(
        PAGE,
        "generated_text",
        version(driver, probe, prompt, temperature, heavy=True),
        lambda: actions.write_text(exp, prompt, temperature),
    )
    st.markdown("**The network writes:**")
    st.text(prompt + text)
    notices = state.cached(
        PAGE,
        "text_notices",
        version(driver, probe, heavy=True),
        partial(actions.text_notices, exp),
    )
    for kind, message in notices:
        getattr(st, kind)(message)


def memory_tab(driver, probe) -> None:
    example = example_picker(len(probe.inputs))
    left, right = st.columns(2)
    with left:
        chart(
            PAGE,
            "trajectory",
            lambda: charts.trajectory_figure(probe, 2),
            version(driver, probe),
            key="chart_trajectory_2d",
            alt=lambda: describe.trajectory(probe, 2),
        )
        chart(
            PAGE,
            "hidden",
            lambda: charts.hidden_heatmap(probe, example),
            version(driver, probe, example, heavy=True),
            alt=lambda: describe.hidden(probe, example),
        )
    with right:
        chart(
            PAGE,
            "trajectory",
            lambda: charts.trajectory_figure(probe, 3),
            version(driver, probe, heavy=True),
            key="chart_trajectory_3d",
            alt=lambda: describe.trajectory(probe, 3),
        )
        if probe.lengths is not None and np.ptp(probe.lengths) > 0:
            chart(
                PAGE,
                "length",
                lambda: charts.length_histogram(probe),
                version(driver, probe),
                alt=lambda: describe.lengths(probe),
            )


def gradients_tab(driver, probe) -> None:
    left, right = st.columns(2)
    with left:
        chart(
            PAGE,
            "grad_norm",
            lambda: charts.grad_norm_figure(probe),
            version(driver, probe),
            key="chart_grad_norm_tab",
            alt=lambda: describe.grad_norm(probe),
        )
    with right:
        log = driver.experiment.probe_log
        chart(
            PAGE,
            "grad_history",
            lambda: charts.grad_history_heatmap(log),
            version(driver, probe, heavy=True),
            alt=lambda: describe.grad_history(log),
        )


def gates_tab(driver, probe) -> None:
    if not probe.gates:
        st.info(
            "A vanilla RNN has no gates: everything it remembers must survive the same "
            "squashing step. Choose LSTM or GRU in the sidebar (then Reset) to see gates."
        )
        return
    example = example_picker(len(probe.inputs))
    chart(
        PAGE,
        "gates",
        lambda: charts.gates_figure(probe, example),
        version(driver, probe, example, heavy=True),
        alt=lambda: describe.gates(probe, example),
    )


def weights_tab(driver, probe) -> None:
    left, right = st.columns(2)
    with left:
        chart(
            PAGE,
            "spectrum",
            lambda: charts.spectrum_figure(probe),
            version(driver, probe, heavy=True),
            alt=lambda: describe.spectrum(probe),
        )
    with right:
        log = driver.experiment.probe_log
        chart(
            PAGE,
            "spectral_radius",
            lambda: charts.spectral_radius_figure(log),
            version(driver, probe),
            alt=lambda: describe.spectral_radius(log),
        )


def cell_tab(driver, probe) -> None:
    exp = driver.experiment
    cell = get_cell(exp.config.cell)
    # h2 under the page's h1 (an h3 skipped a level for screen readers); page.css sizes it down.
    st.header(f"{cell.title}: the equations", anchor=False)
    for line in cell_words.EQUATIONS[cell.name]:
        st.latex(line)
    st.caption(cell_words.EQUATION_NOTES[cell.name])
    st.header(f"{exp.parameter_count():,} parameters", anchor=False)
    st.markdown(
        cell_words.parameter_explanation(
            cell.name,
            exp.task.input_size,
            exp.config.hidden,
            exp.config.layers,
            exp.task.output_size,
        )
    )
