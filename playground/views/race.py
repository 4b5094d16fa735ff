"""The Race page: the no-memory model, rnn, lstm and gru trained side by side on identical data,
seed and budget.

Live like the playground: the session's RaceDriver trains in a worker (every cell steps in turn,
then all are probed); the race panel, a fragment with the buttons in it, draws it as it is and is
redrawn while the race is busy (views/common.live_drawing). A sentence
drawn from the numbers says who solved the task when; the table gives each cell's cost per step.
"""

from __future__ import annotations

from functools import partial

import pandas as pd
import streamlit as st

from core import CELLS, TASKS
from core.teaching.race import DEFAULTS
from playground import charts, live
from playground.actions import teaching as actions
from playground.charts import describe
from playground.views import panel
from playground.views.common import chart, flashes, live_area, pace_phrase, progress_bar

PAGE = "race"
RACE_TASKS = tuple(name for name, task in TASKS.items() if task.raceable)
COST_NOTE = (
    "Wall time per step depends on how PyTorch runs each cell on this CPU, not only on its "
    "arithmetic: the LSTM and GRU go through fused, vectorised kernels, while the vanilla RNN's "
    "simpler loop can cost as much per step although it has a quarter of the LSTM's weights."
)


def page() -> None:
    st.title("Cell race: no memory, RNN, LSTM and GRU", anchor=False)
    st.markdown(
        "Four networks learn the same task from the same batches with the same seed and step "
        "budget. Only the model differs: the no-memory one sees each step alone, the RNN carries "
        "a hidden state, the LSTM and GRU gate it. So the curves show what memory buys, and what "
        "gating adds to it."
    )
    config = settings()
    if actions.race_queued():
        st.warning(actions.race_queued())
    st.fragment(race_panel)(config)


def settings():
    columns = st.columns(5)
    task = columns[0].selectbox(
        "Task",
        RACE_TASKS,
        index=RACE_TASKS.index(DEFAULTS["task"]),
        format_func=lambda name: TASKS[name].title,
        key="race_task",
    )
    values = dict(
        task=task,
        seq_len=int(
            columns[1].number_input(
                "Sequence length", 2, 200, DEFAULTS["seq_len"], key="race_seq_len"
            )
        ),
        hidden=int(
            columns[2].number_input("Hidden units", 1, 256, DEFAULTS["hidden"], key="race_hidden")
        ),
        max_steps=int(
            columns[3].number_input(
                "Steps per cell", 10, 5000, DEFAULTS["max_steps"], step=50, key="race_steps"
            )
        ),
        seed=int(columns[4].number_input("Seed", 0, 2**31 - 1, 0, key="race_seed")),
    )
    config, error = actions.race_config(values)
    if error:
        st.error(error)
    return config


def buttons(config, driver) -> list[panel.Button]:
    off = config is None
    return [
        panel.start_stop(
            "race_train",
            live.running(driver),
            ("Train", "Pause"),
            (partial(actions.start_race, config), actions.pause_race),
            disabled=off and not live.running(driver),
        ),
        panel.Button(
            "race_step",
            "race_step",
            "Step 50",
            partial(actions.step_race, config, 50),
            disabled=off,
            help="Pauses the race, then every cell takes 50 steps.",
        ),
        panel.Button(
            "race_reset", "race_reset", "New race", partial(actions.new_race, config), disabled=off
        ),
    ]


def race_panel(config) -> None:
    """The buttons and the race as it is (a fragment: redrawn while the race is busy)."""
    driver = actions.race_driver()
    busy = driver is not None and live.drawing(driver)
    panel.controls("race_controls", buttons(config, driver), busy, label="Race controls")
    flashes()
    if driver is None:
        st.info("Press Train (or Step 50) to start the race.")
        return
    if config is not None and driver.race.base_config != config:
        st.info("The settings changed: Train starts a new race with them.")
    with live_area("race_live"):
        draw(driver)


def draw(driver) -> None:
    race = driver.race
    status(driver)
    if race.steps_done:
        st.markdown(f"**{'Result' if race.done else 'So far'}:** {race.conclusion()}")
    task = next(iter(race.experiments.values())).task
    version = (driver.live.probes, race.steps_done)
    left, right = st.columns(2)
    with left:
        build = partial(charts.race_loss_figure, race.histories(), task)
        chart(PAGE, "race_loss", build, version, alt=partial(describe.race, race.histories()))
    with right:
        if driver.probes:
            build = partial(charts.race_grad_figure, driver.probes)
            chart(PAGE, "race_grad", build, version, alt=partial(describe.race_grad, driver.probes))
    st.dataframe(table(race), hide_index=True, key="race_table")
    st.caption(COST_NOTE)
    for cell, experiment in race.experiments.items():
        if experiment.diverged:
            st.warning(f"{cell}: {experiment.message}")


def status(driver) -> None:
    race = driver.race
    parts = [f"**Step {race.steps_done:,} / {race.steps:,}** per cell"]
    parts.append(pace_phrase(driver, "finished" if race.done else "paused", "race steps/s"))
    st.markdown(" · ".join(parts))
    progress_bar(race.steps_done, race.steps)


def table(race) -> pd.DataFrame:
    metrics = race.metrics()
    recurrent = race.parameter_counts(recurrent_only=True)
    per_step = race.seconds_per_step()
    task = next(iter(race.experiments.values())).task
    rows = []
    for cell, m in metrics.items():
        rows.append(
            {
                "cell": CELLS[cell].title,
                "parameters": m["parameters"],
                # the no-memory model's layer has input weights only: nothing recurrent
                "recurrent parameters": recurrent[cell] if CELLS[cell].recurrent else 0,
                "ms per step": round(1000 * per_step[cell], 2),
                "wall time (s)": round(m["wall_seconds"], 2),
                "validation loss": m["val_loss"],
                f"validation {task.metric_name}": m["val_metric"],
                "solved": "✓" if m["solved"] else "",
            }
        )
    return pd.DataFrame(rows)
