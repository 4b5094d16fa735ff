"""The Playground page: buttons, messages, the live panel (status line and the charts, in tabs),
the take-home box and the share box.

Live training: `live_panel` is a fragment with `run_every` set only while training; each timer
tick runs `live.tick` on the session's TrainingDriver (bounded steps plus one probe), then draws
the status line and the open tab only (tabs are lazy). The tab drawers are in views/tabs.py.
"""

from __future__ import annotations

import time

import streamlit as st

from playground import live, state
from playground.actions import plain_text
from playground.actions import training as actions
from playground.views import controls, downloads, tabs, waiting
from playground.views.common import (
    clock,
    flashes,
    focus_button,
    keep_pair_in_step,
    live_area,
    number,
    progress_bar,
    start_stop,
)
from playground.words.learn import DEMOS, INTRO

PAGE = "playground"


def page() -> None:
    # No anchor link on the title: one Tab stop less between "Skip to main content" and Train.
    st.title("RNN playground", anchor=False)
    if not state.classroom():
        st.caption(INTRO)
    # The buttons go out before the sidebar, so a click on Pause shows up as soon as possible;
    # on a session's first run that needs the run built first.
    if actions.driver() is None:
        actions.apply_settings(state.config())
    shown = buttons()
    config = state.config()
    if not state.classroom():
        config = controls.sidebar(config)
        state.set_config(config)
    pending = actions.apply_settings(config)
    if usable() != shown:
        st.rerun()  # the settings just made the run (un)usable: redraw the buttons to match
    messages(pending)
    exp = actions.experiment()
    if exp is None and actions.queued():
        waiting.waiting_room()  # the run waits for memory (playground/governor.py)
    if exp is None:
        return
    with st.expander(f"About the task: {exp.task.title}"):
        st.markdown(exp.task.explanation)
    # Re-declared on every full run: the timer runs only while training.
    st.fragment(run_every=live.TIMER_SECONDS if state.running(PAGE) else None)(live_panel)()
    if not state.classroom():
        with st.expander("Take it home: checkpoint, script, history; or continue a run"):
            downloads.render_downloads(exp)
            downloads.render_checkpoint_upload()
        share_box()


# ---- top of the page ----------------------------------------------------------------------------
def usable() -> bool:
    exp = actions.experiment()
    return exp is not None and not exp.diverged


def buttons() -> bool:
    """Train/Pause, Step 1, Step 10, Reset; returns whether they were drawn enabled."""
    enabled = usable()
    columns = st.columns([1, 1, 1, 1, 3] if not state.classroom() else [1, 1, 5])
    running = state.running(PAGE)
    demo_opened = state.page_value(PAGE, "focus")  # keyboard focus goes to the demo's Pause
    if demo_opened:
        state.set_page_value(PAGE, "focus", None)
    start_stop(
        columns[0],
        running,
        "train",
        ("Train", "Pause"),
        (actions.start_training, actions.pause_training),
        disabled=not (enabled or running),
        focus=bool(demo_opened),
    )
    if actions.experiment() is not None and not enabled and not running:
        focus_button("reset")  # the run diverged: the Step that was pressed is off, Reset is not
    if state.classroom():
        columns[1].button("Reset", key="reset", on_click=actions.reset, width="stretch")
        return enabled
    for column, k in zip(columns[1:3], (1, 10), strict=True):
        column.button(
            f"Step {k}",
            key=f"step{k}",
            on_click=actions.step,
            args=(k,),
            disabled=not enabled,
            width="stretch",
        )
    columns[3].button("Reset", key="reset", on_click=actions.reset, width="stretch")
    return enabled


def messages(pending: list[str]) -> None:
    for notice in state.pop_url_notices():
        st.warning(f"From the link: {plain_text(notice)}.")
    flashes()
    if actions.build_error():
        st.error(f"These settings can't be used: {actions.build_error()}")
    driver = actions.driver()
    if driver is None:
        return
    exp = driver.experiment
    if exp.diverged:
        st.error(exp.message)
    elif driver.remaining <= 0 and not state.running(PAGE):
        st.info(
            "Done: the step budget is used up. Raise it in the sidebar to keep training, or "
            "press Reset to start over."
        )
    if pending:
        st.warning(
            f"Settings changed ({', '.join(pending)}) — press Reset to apply. Until then, "
            "Train continues the current run with its old settings."
        )
    demo = state.demo()
    if demo is not None:
        if actions.demo_matches(demo, exp):
            st.info(f"**Demo: {DEMOS[demo].label}.** What to expect: {DEMOS[demo].expect}")
        else:
            state.set_demo(None)  # the visitor has moved on to other settings


def share_box() -> None:
    with st.expander("Share these settings"):
        st.text_input(
            "Link to these settings (select it and copy)",
            state.page_link(),
            key="share_link",
            help="Opens the playground with the same settings.",
        )
        st.text_input(
            "Classroom link: the same settings with only Train/Pause and Reset, for a projector",
            state.page_link(classroom=True),
            key="share_classroom_link",
        )


# ---- the live part ----------------------------------------------------------------------------
def live_panel() -> None:
    driver = actions.driver()
    if driver is None:
        return
    outcome = live.tick(driver).outcome if state.running(PAGE) else "paused"
    if outcome == "stopped":
        state.set_running(PAGE, False)
        st.rerun()  # the whole page: the timer stops and the button says Train again
    probe = driver.current() if outcome == "paused" else driver.probe
    drawing = time.perf_counter()
    with live_area():
        status(driver, outcome)
        keep_pair_in_step("train", state.running(PAGE))
        tabs.draw(driver, probe)
    if state.running(PAGE):
        driver.pace.record_draw(time.perf_counter() - drawing)
        driver.pace.tick_ended(time.perf_counter())


def status(driver, outcome: str) -> None:
    exp = driver.experiment
    metrics = driver.metrics or exp.metrics()
    task = exp.task
    parts = [
        f"**Step {metrics['step']:,} / {driver.max_steps:,}**",
        f"train loss {number(metrics['train_loss'])}",
        f"validation {task.metric_name} {number(metrics['val_metric'])}",
    ]
    if not task.metric_is_loss:
        parts.append(f"validation loss {number(metrics['val_loss'])}")
    parts.append(f"gradient norm {number(metrics['grad_norm'])}")
    if metrics["clipped_fraction"] > 0:
        parts.append(f"clipped {metrics['clipped_fraction']:.0%}")
    if outcome == "waiting":
        parts.append("waiting for a free training slot…")
    elif state.running(PAGE):
        speed = driver.pace.steps_per_second()
        parts.append(f"{speed:,.0f} steps/s" if speed == speed else "starting…")
    else:
        parts.append("paused")
    parts.append(f"{clock(driver.pace.elapsed)} elapsed")
    if metrics["solved"]:
        parts.append("✓ solved")
    st.markdown(" · ".join(parts))
    progress_bar(metrics["step"], driver.max_steps)
