"""The Sweep page: how far back each cell can remember.

Start builds a `core.teaching.Sweep` in a SweepDriver; while it runs, `live.tick` trains two of
its runs at a time and the success-against-memory chart grows. A sentence says how far each cell
reached. Cancel stops it; the sweep also stops itself at its time budget.
"""

from __future__ import annotations

from functools import partial

import pandas as pd
import streamlit as st

from core import TASKS
from core.teaching.sweep import CELLS, STEPS_PER_RUN
from playground import charts, live, state
from playground.actions import teaching as actions
from playground.charts import describe
from playground.views.common import chart, flashes, focus_button, live_area, progress_bar

PAGE = "sweep"
SWEEP_TASKS = tuple(name for name, task in TASKS.items() if task.memory_setting)
MAX_VALUES = 8
LABELS = {"lag": "lag (blank steps before recall)", "seq_len": "sequence length"}


def page() -> None:
    st.title("Memory sweep", anchor=False)
    st.markdown(
        "How far back can each cell remember? Every point is a fresh run; only the memory "
        "demand (the copy task's lag, or the adding problem's length) grows. A run stops as soon "
        "as it has learned the task, or at its step budget. The vanilla RNN falls off first."
    )
    plan = settings()
    running = state.running(PAGE)
    columns = st.columns([1, 1, 5])
    columns[0].button(
        "Start",
        key="sweep_start",
        on_click=actions.start_sweep,
        args=(plan,),
        type="primary",
        disabled=plan is None or running,
        width="stretch",
    )
    columns[1].button("Cancel", key="sweep_cancel", on_click=cancel, disabled=not running)
    hand_focus(running)
    flashes()
    if actions.sweep_error():
        st.error(actions.sweep_error())
    if actions.sweep_driver() is not None:
        st.fragment(run_every=live.TIMER_SECONDS if running else None)(sweep_panel)()


def cancel() -> None:
    actions.cancel_sweep()
    state.set_page_value(PAGE, "focus", "sweep_start")


def hand_focus(running: bool) -> None:
    """Start and Cancel take turns being disabled, and a disabled button drops keyboard focus
    to the page: hand it to the other one (Cancel once a sweep starts, Start once it ends)."""
    if running:
        focus_button("sweep_cancel")
        return
    target = state.page_value(PAGE, "focus")
    if target:
        state.set_page_value(PAGE, "focus", None)
        focus_button(target)


def settings() -> dict | None:
    columns = st.columns([1, 2, 2, 1, 1])
    task = columns[0].selectbox("Task", SWEEP_TASKS, key="sweep_task")
    cells = columns[1].multiselect("Cells", CELLS, default=list(CELLS), key="sweep_cells")
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
    seconds = columns[4].number_input("Max seconds", 5, 600, 60, step=10, key="sweep_seconds")
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


def sweep_panel() -> None:
    driver = actions.sweep_driver()
    outcome = live.tick(driver).outcome if state.running(PAGE) else "paused"
    if outcome == "stopped":
        state.set_running(PAGE, False)
        state.set_page_value(PAGE, "focus", "sweep_start")
        st.rerun()
    with live_area("sweep_live"):
        draw(driver.sweep, outcome)


def draw(sweep, outcome: str) -> None:
    line = f"**{len(sweep.points)} of {sweep.total_runs} runs** · {sweep.seconds:.0f} s"
    if outcome == "waiting":
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
                "cell": p.cell,
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
