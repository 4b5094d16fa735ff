"""The Playground page: the settings, the live panel (buttons, the run's messages, the status
line and the charts, in tabs), the take-home box and the share box.

Live training: the session's TrainingDriver trains in a worker (playground/live.py). `live_panel`
is a fragment that draws the run as it is, its buttons first (views/panel.py: the button on
screen is the one the server drew last, and every click is handled once), and while the run is
busy the browser asks for the next drawing a moment after each one arrives. Only the open tab is
drawn (tabs are lazy); the tab drawers are in views/tabs.py.
"""

from __future__ import annotations

from functools import partial

import streamlit as st

from playground import live, state
from playground.actions import plain_text
from playground.actions import training as actions
from playground.views import controls, downloads, panel, tabs, waiting
from playground.views.common import clock, flashes, live_area, number, pace_phrase, progress_bar
from playground.words.learn import DEMOS, INTRO

PAGE = "playground"


def page() -> None:
    # No anchor link on the title: one Tab stop less between "Skip to main content" and Train.
    st.title("RNN playground", anchor=False)
    if not state.classroom():
        st.caption(INTRO)
    config = state.config()
    if not state.classroom():
        config = controls.sidebar(config)
        state.set_config(config)
    actions.apply_settings(config)
    for notice in state.pop_url_notices():
        st.warning(f"From the link: {plain_text(notice)}.")
    flashes()
    if actions.build_error():
        st.error(f"These settings can't be used: {actions.build_error()}")
    state.set_page_value(PAGE, "drawn_run", state.run_generation(PAGE))
    st.fragment(live_panel)()
    exp = actions.experiment()
    if exp is None and actions.queued():
        waiting.waiting_room()  # the run waits for memory (playground/governor.py)
    if exp is None:
        return
    with st.expander(f"About the task: {exp.task.title}"):
        st.markdown(exp.task.explanation)
    if not state.classroom():
        with st.expander("Take it home: checkpoint, script, history; or continue a run"):
            downloads.render_downloads(exp)
            downloads.render_checkpoint_upload()
        share_box()


# ---- the live panel: a fragment, redrawn while the run is busy -------------------------------
def live_panel() -> None:
    if state.run_generation(PAGE) != state.page_value(PAGE, "drawn_run"):
        st.rerun(scope="app")  # a click replaced the run (Reset, a rebuild): redraw everything
    driver = actions.driver()
    busy = driver is not None and live.drawing(driver)
    demo_opened = state.page_value(PAGE, "focus")  # keyboard focus goes to the demo's Pause
    if demo_opened:
        state.set_page_value(PAGE, "focus", None)
    panel.controls(
        "controls", buttons(driver), busy, focus="train" if demo_opened else None, fallback="reset"
    )
    if driver is None:
        return  # the settings can't be used, or the run waits for memory
    with live_area():
        messages(driver)
        status(driver)
        tabs.draw(driver, driver.current())


def buttons(driver) -> list[panel.Button]:
    """Train/Pause, Step 1, Step 10, Reset (all but Reset off without a usable run)."""
    usable = driver is not None and not driver.experiment.diverged
    running = live.running(driver)
    train = panel.start_stop(
        "train",
        running,
        ("Train", "Pause"),
        (actions.start_training, actions.pause_training),
        disabled=not (usable or running),
    )
    reset = panel.Button("reset", "reset", "Reset", actions.reset)
    if state.classroom():
        return [train, reset]
    steps = [
        panel.Button(
            f"step{k}",
            f"step{k}",
            f"Step {k}",
            partial(actions.step, k),
            disabled=not usable,
            help="Pauses training, then takes this many steps.",
        )
        for k in (1, 10)
    ]
    return [train, *steps, reset]


def messages(driver) -> None:
    """What the run's state means: diverged, done, settings waiting for Reset, a demo, an error,
    and the one-shot messages of the last click."""
    flashes()
    exp = driver.experiment
    if driver.live.error:
        st.error(f"{driver.live.error}. Press Reset to start over.")
    if exp.diverged:
        st.error(exp.message)
    elif driver.remaining <= 0 and not live.running(driver):
        st.info(
            "Done: the step budget is used up. Raise it in the sidebar to keep training, or "
            "press Reset to start over."
        )
    pending = actions.pending_changes(exp, state.config())
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


def status(driver) -> None:
    exp = driver.experiment
    metrics = exp.metrics()
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
    parts.append(pace_phrase(driver, "paused"))
    parts.append(f"{clock(driver.pace.elapsed)} elapsed")
    if metrics["solved"]:
        parts.append("✓ solved")
    st.markdown(" · ".join(parts))
    progress_bar(metrics["step"], driver.max_steps)
