"""The Sweep page: how far back each cell can remember.

Start builds a `core.teaching.Sweep` in a SweepDriver; while it runs, a worker
(playground/live.py) trains two of its runs at a time and the panel (a fragment with the buttons
in it, redrawn while the sweep is busy) shows the success-against-memory chart growing. A sentence says how far each cell
reached. Cancel stops it; the sweep also stops itself at its time budget.
"""

from __future__ import annotations

from functools import partial

import pandas as pd
import streamlit as st

from core import CELLS as REGISTRY
from core import TASKS
from core.teaching.sweep import CELLS, STEPS_PER_RUN
from playground import charts, live, state
from playground.actions import teaching as actions
from playground.charts import describe
from playground.views import panel
from playground.views.common import chart, flashes, live_area, progress_bar

PAGE = "sweep"
SWEEP_TASKS = tuple(n for n, task in TASKS.items() if task.memory_setting and task.sweepable)
MAX_VALUES = 8
LABELS = {"lag": "lag (blank steps before recall)", "seq_len": "sequence length"}


def page() -> None:
    st.title("Memory sweep", anchor=False)
    st.markdown(
        "How far back can each cell remember? Every point is a fresh run; only the memory "
        "demand (the adding problem's length) grows. A run stops as soon as it has learned the "
        "task, or at its step budget. The no-memory model never gets off the ground; of the "
        "networks with memory, the vanilla RNN falls off first."
    )
    plan = settings()
    st.fragment(sweep_panel)(plan)


def sweep_panel(plan: dict | None) -> None:
    """Start, Cancel and the sweep as it is (a fragment: redrawn while the sweep is busy)."""
    driver = actions.sweep_driver()
    running = state.running(PAGE)
    busy = driver is not None and live.drawing(driver)
    buttons = [
        panel.Button(
            "sweep_start",
            "sweep_start",
            "Start",
            partial(actions.start_sweep, plan),
            primary=True,
            disabled=plan is None or running,
        ),
        panel.Button(
            "sweep_cancel", "sweep_cancel", "Cancel", actions.cancel_sweep, disabled=not running
        ),
    ]
    # Start and Cancel take turns being disabled: focus goes from one to the other.
    fallback = "sweep_cancel" if running else "sweep_start"
    panel.controls("sweep_controls", buttons, busy, label="Sweep controls", fallback=fallback)
    flashes()
    if actions.sweep_error():
        st.error(actions.sweep_error())
    if driver is not None:
        with live_area("sweep_live"):
            draw(driver)


def settings() -> dict | None:
    columns = st.columns([1.5, 3, 1.5, 1, 1])  # the cells' titles need the room
    task = columns[0].selectbox(
        "Task", SWEEP_TASKS, format_func=lambda name: TASKS[name].title, key="sweep_task"
    )
    cells = columns[1].multiselect(
        "Cells",
        CELLS,
        default=list(CELLS),
        format_func=lambda name: REGISTRY[name].title,
        key="sweep_cells",
    )
    setting = TASKS[task].memory_setting
    default = ", ".join(str(v) for v in TASKS[task].memory_values)
    text = columns[2].text_input(
        f"Values of {setting}",
        default,
        key=f"sweep_values_{task}",
        help=f"comma-separated, up to {MAX_VALUES}",
    )
    steps = columns[3].number_input(
        "Steps per run", 10, 3000, STEPS_PER_RUN, step=50, key="sweep_steps"
    )
    seconds = columns[4].number_input("Max seconds", 5, 600, 90, step=10, key="sweep_seconds")
    try:
        values = sorted({int(v) for v in text.replace(";", ",").split(",") if v.strip()})
    except ValueError:
        st.error(f"Values must be whole numbers separated by commas; got {text[:80]!r}.")
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
    )


def draw(driver) -> None:
    sweep = driver.sweep
    line = f"**{len(sweep.points)} of {sweep.total_runs} runs** · {sweep.seconds:.0f} s"
    if state.running(PAGE) and driver.live.waiting:
        line += " · waiting for a free training slot…"
    elif sweep.stopped_reason:
        line += f" · stopped: {sweep.stopped_reason}"
    elif sweep.done:
        line += " · finished"
    st.markdown(line)
    progress_bar(sweep.progress(), 1.0)
    if sweep.points:
        st.markdown(f"**{'Result' if sweep.done else 'So far'}:** {sweep.conclusion()}")
    results = {
        cell: list(zip(values, successes, strict=True))
        for cell, (values, successes) in sweep.curves().items()
    }
    label = LABELS.get(sweep.setting, sweep.setting)

    def build():
        return charts.sweep_figure(
            results, label, "success (0: trivial guess, 1: perfect)", sweep.task.solved_success
        )

    alt = partial(describe.sweep, results, label, sweep.task.solved_success)
    chart(PAGE, "sweep", build, len(sweep.points), alt=alt)
    if sweep.points:
        st.dataframe(table(sweep), hide_index=True, key="sweep_table")


def table(sweep) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "cell": REGISTRY[p.cell].title,
                sweep.setting: p.value,
                "success": round(p.success, 3),
                "solved": "✓" if p.solved else "",
                sweep.task.metric_name: p.metric,
                "steps": p.steps,
                "seconds": round(p.seconds, 1),
            }
            for p in sweep.points
        ]
    )
