"""The Race page: rnn, lstm and gru trained side by side on identical data, seed and budget.

Live like the playground: a fragment with `run_every` set only while racing runs a bounded
`Race.step(k)` per tick (k from a `live.Pace`, so a tick computes ~0.17 s), then probes every cell
under their locks and redraws. AppTest does not fire timers; the Step button drives it there.
"""

from __future__ import annotations

import math

import pandas as pd
import streamlit as st

from core import ConfigError, ExperimentConfig
from core.race import CELLS, Race
from playground import actions, charts, governor, live, state
from playground.views import teaching_state as ts

TASKS = ("adding", "copy", "sine", "next_number")
PLOTLY_CONFIG = {"displaylogo": False}
LIVE_PLOTLY_CONFIG = {"staticPlot": True}  # redrawn every tick: skip the interaction layers


def page() -> None:
    st.title("Cell race: RNN, LSTM and GRU")
    st.markdown(
        "Three networks, one per cell type, learn the same task from the same batches with the "
        "same seed and step budget. Only the cell differs, so the curves show what gating buys."
    )
    config = settings()
    race = ts.get("race_race")
    stale = race is not None and config is not None and race.base_config != config
    buttons(config, race, stale)
    if ts.get("race_queued"):
        st.warning(ts.get("race_queued"))
    if stale:
        st.info("The settings changed: Train starts a new race with them.")
    st.fragment(run_every=live.TIMER_SECONDS if ts.get("race_running") else None)(race_panel)()


def settings() -> ExperimentConfig | None:
    columns = st.columns(5)
    task = columns[0].selectbox("Task", TASKS, key="race_task")
    seq_len = columns[1].number_input("Sequence length", 2, 200, 50, key="race_seq_len")
    hidden = columns[2].number_input("Hidden units", 1, 256, 32, key="race_hidden")
    steps = columns[3].number_input("Steps per cell", 10, 5000, 600, step=50, key="race_steps")
    seed = columns[4].number_input("Seed", 0, 2**31 - 1, 0, key="race_seed")
    try:
        config = ExperimentConfig(
            task=task,
            seq_len=int(seq_len),
            hidden=int(hidden),
            seed=int(seed),
            lr=0.01,
            val_every=25,
            max_steps=int(steps),
        )
        config.check_budget()
    except (ConfigError, ValueError) as error:
        st.error(actions.describe_error(error))
        return None
    return config


def buttons(config: ExperimentConfig | None, race: Race | None, stale: bool) -> None:
    columns = st.columns([1, 1, 1, 4])
    if ts.get("race_running"):
        columns[0].button(
            "Pause", key="race_pause", on_click=pause, type="primary", width="stretch"
        )
    else:
        finished = race is not None and race.done and not stale
        columns[0].button(
            "Train",
            key="race_train",
            on_click=start,
            args=(config,),
            disabled=config is None or finished,
            type="primary",
            width="stretch",
        )
    columns[1].button(
        "Step 50",
        key="race_step",
        on_click=step,
        args=(config, 50),
        disabled=config is None,
        width="stretch",
    )
    columns[2].button(
        "New race",
        key="race_reset",
        on_click=new_race,
        args=(config,),
        disabled=config is None,
        width="stretch",
    )


# ---- actions ------------------------------------------------------------------------------------
def _race_for(config: ExperimentConfig) -> Race | None:
    race = ts.get("race_race")
    if race is None or race.base_config != config:
        race = new_race(config)
    return race


def new_race(config: ExperimentConfig) -> Race | None:
    """A new race, once the server's memory governor has room for its three runs (else None,
    and the page says how many are ahead: a later click asks again)."""
    ts.forget("race_race")  # the old race goes first: its memory counts for the new one
    admission = governor.admit(state.owner(), "race", [config.replace(cell=c) for c in CELLS])
    ts.put("race_queued", "" if admission.admitted else governor.full_message(admission))
    if not admission.admitted:
        ts.put("race_running", False)
        return None
    race = Race(config, CELLS, steps=config.max_steps)
    governor.GOVERNOR.hold(state.owner(), "race", race)
    ts.put("race_race", race)
    ts.put("race_probes", None)
    ts.put("race_pace", live.Pace())
    ts.put("race_running", False)
    return race


@actions.button_action
def start(config: ExperimentConfig) -> None:
    if _race_for(config) is not None:
        ts.put("race_running", True)


@actions.button_action
def pause() -> None:
    ts.put("race_running", False)
    pace = ts.get("race_pace")
    if pace is not None:
        pace.pause()


@actions.button_action
def step(config: ExperimentConfig, k: int) -> None:
    race = _race_for(config)
    if race is None:
        return
    with ts.Slot() as held:
        if not held:
            st.toast("The server is busy training for others; try again in a moment.")
            return
        advance(race, k)


def advance(race: Race, k: int) -> None:
    """k steps for every cell, then fresh probes, all under the cells' locks."""
    with ts.locked(race.experiments.values()):
        race.step(k)
        ts.put("race_probes", probes(race))


def probes(race: Race) -> dict:
    return {cell: e.probe(jacobian=False) for cell, e in race.experiments.items() if not e.diverged}


def tick(race: Race) -> str:
    pace: live.Pace = ts.get("race_pace")
    pace.tick_started(ts.now())
    if race.done:
        ts.put("race_running", False)
        return "stopped"
    with ts.Slot() as held:
        if not held:
            pace.pause()
            return "waiting"
        k = pace.next_k(race.remaining)
        started = ts.now()
        with ts.locked(race.experiments.values()):
            race.step(k)
            stepped = ts.now()
            ts.put("race_probes", probes(race))
        pace.record(k, stepped - started, ts.now() - stepped)
    pace.mark(race.steps_done)
    if race.done:
        ts.put("race_running", False)
        return "stopped"
    return "stepped"


# ---- the live panel -----------------------------------------------------------------------------
def race_panel() -> None:
    race: Race | None = ts.get("race_race")
    if race is None:
        st.info("Press Train (or Step 50) to start the race.")
        return
    outcome = tick(race) if ts.get("race_running") else "paused"
    status(race, outcome)
    if outcome == "stopped":
        st.rerun()  # the whole page: the timer stops and the button says Train again
    task = next(iter(race.experiments.values())).task
    plotly_config = LIVE_PLOTLY_CONFIG if ts.get("race_running") else PLOTLY_CONFIG
    left, right = st.columns(2)
    with left:
        st.plotly_chart(
            charts.race_loss_figure(race.histories(), task),
            key="race_loss",
            theme=None,
            config=plotly_config,
        )
        st.caption(charts.CAPTIONS["race_loss"])
    with right:
        race_probes = ts.get("race_probes") or {}
        if race_probes:
            st.plotly_chart(
                charts.race_grad_figure(race_probes),
                key="race_grad",
                theme=None,
                config=plotly_config,
            )
            st.caption(charts.CAPTIONS["race_grad"])
    st.dataframe(table(race), hide_index=True, key="race_table")
    for cell, experiment in race.experiments.items():
        if experiment.diverged:
            st.warning(f"{cell}: {experiment.message}")


def status(race: Race, outcome: str) -> None:
    parts = [f"**Step {race.steps_done:,} / {race.steps:,}** per cell"]
    pace: live.Pace = ts.get("race_pace")
    if outcome == "waiting":
        parts.append("waiting for a free training slot…")
    elif ts.get("race_running"):
        speed = pace.steps_per_second()
        parts.append(f"{speed:,.0f} race steps/s" if math.isfinite(speed) else "starting…")
    elif race.done:
        parts.append("finished")
    else:
        parts.append("paused")
    st.markdown(" · ".join(parts))
    st.progress(min(race.steps_done / max(race.steps, 1), 1.0))


def table(race: Race) -> pd.DataFrame:
    metrics = race.metrics()
    recurrent = race.parameter_counts(recurrent_only=True)
    task = next(iter(race.experiments.values())).task
    rows = []
    for cell, m in metrics.items():
        rows.append(
            {
                "cell": cell,
                "parameters": m["parameters"],
                "recurrent parameters": recurrent[cell],
                "wall time (s)": round(m["wall_seconds"], 2),
                "validation loss": m["val_loss"],
                f"validation {task.metric_name}": m["val_metric"],
                "solved": "✓" if m["solved"] else "",
            }
        )
    return pd.DataFrame(rows)
