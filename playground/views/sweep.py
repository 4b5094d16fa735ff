"""The Sweep page: how far back each cell can remember, with a fixed step budget per run.

Start builds a `core.sweep.Sweep`; while it runs, a `run_every` fragment trains it for about
TICK_COMPUTE_SECONDS per tick (`Sweep.advance` in chunks of CHUNK steps) and redraws the
success-against-memory chart. Cancel stops it; the sweep also stops itself at its time budget.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core import ConfigError, ExperimentConfig, make_task
from core.sweep import CELLS, DEFAULT_VALUES, SWEPT, Sweep
from playground import actions, charts, governor, live, state
from playground.views import teaching_state as ts

CHUNK = 25  # steps per Sweep.advance call inside a tick
MAX_VALUES = 8
LABELS = {"lag": "lag (blank steps before recall)", "seq_len": "sequence length"}
PLOTLY_CONFIG = {"displaylogo": False}


def page() -> None:
    st.title("Memory sweep")
    st.markdown(
        "How far back can each cell remember? Every point is a fresh run with the same step "
        "budget; only the memory demand (the copy task's lag, or the adding problem's length) "
        "grows. The vanilla RNN usually falls off first."
    )
    plan = settings()
    sweep: Sweep | None = ts.get("sweep_sweep")
    running = bool(ts.get("sweep_running"))
    columns = st.columns([1, 1, 5])
    columns[0].button(
        "Start",
        key="sweep_start",
        on_click=start,
        args=(plan,),
        type="primary",
        disabled=plan is None or running,
        width="stretch",
    )
    columns[1].button(
        "Cancel", key="sweep_cancel", on_click=cancel, disabled=not running, width="stretch"
    )
    if ts.get("sweep_error"):
        st.error(ts.get("sweep_error"))
    if sweep is not None:
        st.fragment(run_every=live.TIMER_SECONDS if running else None)(sweep_panel)()


def settings() -> dict | None:
    columns = st.columns([1, 2, 2, 1, 1])
    task = columns[0].selectbox("Task", ("adding", "copy"), key="sweep_task")
    cells = columns[1].multiselect("Cells", CELLS, default=list(CELLS), key="sweep_cells")
    default = ", ".join(str(v) for v in DEFAULT_VALUES[task])
    text = columns[2].text_input(
        f"Values of {SWEPT[task]}",
        default,
        key=f"sweep_values_{task}",
        help=f"comma-separated, up to {MAX_VALUES}",
    )
    steps = columns[3].number_input("Steps per run", 10, 3000, 300, step=50, key="sweep_steps")
    seconds = columns[4].number_input("Max seconds", 5, 600, 120, step=10, key="sweep_seconds")
    try:
        values = sorted({int(v) for v in text.replace(";", ",").split(",") if v.strip()})
    except ValueError:
        st.error(f"Values must be whole numbers separated by commas; got {text!r}.")
        return None
    if not values or len(values) > MAX_VALUES:
        st.error(f"Give between 1 and {MAX_VALUES} values.")
        return None
    if not cells:
        st.error("Pick at least one cell.")
        return None
    return dict(
        task=task,
        cells=tuple(cells),
        values=tuple(values),
        steps_per_run=int(steps),
        max_seconds=float(seconds),
        base_config=ExperimentConfig(task=task, hidden=32, lr=0.01, seed=0),
    )


@actions.button_action
def start(plan: dict | None) -> None:
    if plan is None:
        return
    try:
        sweep = Sweep(**plan)
    except (ConfigError, ValueError) as error:
        ts.put("sweep_error", actions.describe_error(error))
        return
    ts.forget("sweep_sweep")  # the old sweep goes first: its memory counts for the new one
    # One run at a time: room for the largest (playground/governor.py); a later click asks again.
    configs = [sweep.config_for(cell, value) for cell, value in sweep.plan]
    admission = governor.admit(state.owner(), "sweep", configs, one_at_a_time=True)
    if not admission.admitted:
        ts.put("sweep_error", governor.full_message(admission))
        return
    governor.GOVERNOR.hold(state.owner(), "sweep", sweep)
    ts.put("sweep_error", "")
    ts.put("sweep_sweep", sweep)
    ts.put("sweep_running", True)


@actions.button_action
def cancel() -> None:
    sweep: Sweep | None = ts.get("sweep_sweep")
    if sweep is not None and not sweep.done:
        sweep.stop(f"cancelled after {len(sweep.points)} of {sweep.total_runs} runs")
    ts.put("sweep_running", False)


def tick(sweep: Sweep) -> str:
    """Train for about one tick's compute budget; "stopped" once the sweep is done."""
    if sweep.done:
        ts.put("sweep_running", False)
        return "stopped"
    with ts.Slot() as held:
        if not held:
            return "waiting"
        deadline = ts.now() + live.TICK_COMPUTE_SECONDS
        while not sweep.done and ts.now() < deadline:
            sweep.advance(CHUNK)  # Experiment.step holds the run's lock
    if sweep.done:
        ts.put("sweep_running", False)
        return "stopped"
    return "stepped"


def threshold(sweep: Sweep) -> float:
    """The task's own "solved" line on the 0..1 success scale."""
    task = make_task(sweep.base_config)
    if sweep.task == "copy":
        return (task.solved_at - task.baseline) / (1.0 - task.baseline)
    return 1.0 - task.solved_at / task.baseline


def sweep_panel() -> None:
    sweep: Sweep = ts.get("sweep_sweep")
    outcome = tick(sweep) if ts.get("sweep_running") else "paused"
    finished = len(sweep.points)
    line = f"**{finished} of {sweep.total_runs} runs** · {sweep.seconds:.0f} s of {sweep.max_seconds:g} s"
    if outcome == "waiting":
        line += " · waiting for a free training slot…"
    elif sweep.stopped_reason:
        line += f" · stopped: {sweep.stopped_reason}"
    elif sweep.done:
        line += " · finished"
    st.markdown(line)
    st.progress(min(sweep.progress(), 1.0))
    if outcome == "stopped":
        st.rerun()
    results = {
        cell: list(zip(values, successes, strict=True))
        for cell, (values, successes) in sweep.curves().items()
    }
    st.plotly_chart(
        charts.sweep_figure(
            results,
            LABELS[sweep.setting],
            "success (0: trivial guess, 1: perfect)",
            threshold(sweep),
        ),
        key="sweep_chart",
        theme=None,
        config={"staticPlot": True} if ts.get("sweep_running") else PLOTLY_CONFIG,
    )
    st.caption(charts.CAPTIONS["sweep"])
    if sweep.points:
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "cell": p.cell,
                        sweep.setting: p.value,
                        "success": round(p.success, 3),
                        "solved": "✓" if p.solved else "",
                        "metric": p.metric,
                        "steps": p.steps,
                        "seconds": round(p.seconds, 1),
                    }
                    for p in sweep.points
                ]
            ),
            hide_index=True,
            key="sweep_table",
        )
