"""The Race page: rnn, lstm and gru trained side by side on identical data, seed and budget.

Live like the playground: a fragment with `run_every` set only while racing runs `live.tick` on
the session's RaceDriver (every cell steps in turn, then all are probed), then redraws. A sentence
drawn from the numbers says who solved the task when; the table gives each cell's cost per step.
"""

from __future__ import annotations

from functools import partial

import pandas as pd
import streamlit as st

from core import TASKS
from playground import charts, live, state
from playground.actions import teaching as actions
from playground.charts import describe
from playground.views.common import (
    chart,
    flashes,
    keep_pair_in_step,
    live_area,
    progress_bar,
    start_stop,
)

PAGE = "race"
RACE_TASKS = tuple(name for name, task in TASKS.items() if task.raceable)
COST_NOTE = (
    "Wall time per step depends on how PyTorch runs each cell on this CPU, not only on its "
    "arithmetic: the LSTM and GRU go through fused, vectorised kernels, while the vanilla RNN's "
    "simpler loop can cost as much per step although it has a quarter of the LSTM's weights."
)


def page() -> None:
    st.title("Cell race: RNN, LSTM and GRU", anchor=False)
    st.markdown(
        "Three networks, one per cell type, learn the same task from the same batches with the "
        "same seed and step budget. Only the cell differs, so the curves show what gating buys."
    )
    config = settings()
    driver = actions.race_driver()
    stale = driver is not None and config is not None and driver.race.base_config != config
    buttons(config)
    flashes()
    if actions.race_queued():
        st.warning(actions.race_queued())
    if stale:
        st.info("The settings changed: Train starts a new race with them.")
    st.fragment(run_every=live.TIMER_SECONDS if state.running(PAGE) else None)(race_panel)()


def settings():
    columns = st.columns(5)
    task = columns[0].selectbox("Task", RACE_TASKS, key="race_task")
    values = dict(
        task=task,
        seq_len=int(columns[1].number_input("Sequence length", 2, 200, 50, key="race_seq_len")),
        hidden=int(columns[2].number_input("Hidden units", 1, 256, 32, key="race_hidden")),
        max_steps=int(
            columns[3].number_input("Steps per cell", 10, 5000, 600, step=50, key="race_steps")
        ),
        seed=int(columns[4].number_input("Seed", 0, 2**31 - 1, 0, key="race_seed")),
    )
    config, error = actions.race_config(values)
    if error:
        st.error(error)
    return config


def buttons(config) -> None:
    columns = st.columns([1, 1, 1, 4])
    running = state.running(PAGE)
    start_stop(
        columns[0],
        running,
        "race_train",
        ("Train", "Pause"),
        (actions.start_race, actions.pause_race),
        start_args=(config,),
        disabled=config is None and not running,
    )
    columns[1].button(
        "Step 50",
        key="race_step",
        on_click=actions.step_race,
        args=(config, 50),
        disabled=config is None,
        width="stretch",
    )
    columns[2].button(
        "New race",
        key="race_reset",
        on_click=actions.new_race,
        args=(config,),
        disabled=config is None,
        width="stretch",
    )


def race_panel() -> None:
    driver = actions.race_driver()
    if driver is None:
        st.info("Press Train (or Step 50) to start the race.")
        return
    outcome = live.tick(driver).outcome if state.running(PAGE) else "paused"
    if outcome == "stopped":
        state.set_running(PAGE, False)
        st.rerun()  # the whole page: the timer stops and the button says Train again
    with live_area("race_live"):
        draw(driver, outcome)
        keep_pair_in_step("race_train", state.running(PAGE))


def draw(driver, outcome: str) -> None:
    race = driver.race
    status(driver, outcome)
    if race.steps_done:
        st.markdown(f"**{'Result' if race.done else 'So far'}:** {race.conclusion()}")
    task = next(iter(race.experiments.values())).task
    version = driver.pace.chart_version() if state.running(PAGE) else race.steps_done
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


def status(driver, outcome: str) -> None:
    race = driver.race
    parts = [f"**Step {race.steps_done:,} / {race.steps:,}** per cell"]
    if outcome == "waiting":
        parts.append("waiting for a free training slot…")
    elif state.running(PAGE):
        speed = driver.pace.steps_per_second()
        parts.append(f"{speed:,.0f} race steps/s" if speed == speed else "starting…")
    else:
        parts.append("finished" if race.done else "paused")
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
                "cell": cell,
                "parameters": m["parameters"],
                "recurrent parameters": recurrent[cell],
                "ms per step": round(1000 * per_step[cell], 2),
                "wall time (s)": round(m["wall_seconds"], 2),
                "validation loss": m["val_loss"],
                f"validation {task.metric_name}": m["val_metric"],
                "solved": "✓" if m["solved"] else "",
            }
        )
    return pd.DataFrame(rows)
