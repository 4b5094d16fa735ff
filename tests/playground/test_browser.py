"""The playground in real Chromium against a live server: train, pause, rapid clicks, a Learn demo.

Rapid Train / Step / Pause clicks while a tick is running are what once made two script runs
of one session overlap (DESIGN.md, known hazard); AppTest can't reproduce that, this test can.
Screenshots go to test-artifacts/ (gitignored).
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from tests.playground.status_line import step_count

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def wait_for_steps(page, reads: int = 3, timeout: float = 25.0) -> list[int]:
    """Read the step count until it has risen `reads` times (each read is a redraw)."""
    seen = [step_count(page)]
    deadline = time.monotonic() + timeout
    while len(set(seen)) <= reads and time.monotonic() < deadline:
        page.wait_for_timeout(250)
        value = step_count(page)
        if value != seen[-1]:
            seen.append(value)
    return seen


def no_exception(page) -> None:
    assert page.locator("[data-testid='stException']").count() == 0


def test_train_pause_and_rapid_clicks(live_server, browser):
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": 1440, "height": 1400})
    page.goto(f"{live_server.url}/?cell=lstm&task=adding&seq_len=30")
    train = page.get_by_role("button", name="Train", exact=True)
    train.wait_for(timeout=30_000)
    choices = page.locator("[data-testid='stSidebar'] [data-testid='stSelectbox'] input")
    choices.first.wait_for(timeout=30_000)  # the sidebar can arrive after the buttons under load
    values = choices.evaluate_all("inputs => inputs.map(input => input.value)")
    assert "LSTM" in values and "Adding problem (long memory)" in values, values

    train.click()
    # One way to stop: Streamlit's own Stop indicator is hidden, only Pause is shown.
    stop = page.get_by_role("button", name=re.compile(r"^\W*(Stop|Pause)"))
    stop.first.wait_for(timeout=15_000)
    assert stop.count() == 1 and stop.first.inner_text().strip() == "Pause"
    seen = wait_for_steps(page, reads=3)
    assert len(set(seen)) >= 4 and seen == sorted(seen), seen
    page.screenshot(path=str(ARTIFACTS / "browser-01-training.png"))

    page.get_by_role("button", name="Pause", exact=True).click()
    page.get_by_role("button", name="Train", exact=True).wait_for(timeout=5_000)
    page.wait_for_timeout(1_000)  # the tick that was running when Pause came in still lands
    paused_at = step_count(page)
    page.wait_for_timeout(1_500)
    assert step_count(page) == paused_at  # nothing trains after Pause

    # Rapid clicks while a tick runs: the overlapping-run hazard.
    page.get_by_role("button", name="Train", exact=True).click()
    page.wait_for_timeout(600)
    page.get_by_role("button", name="Step 10", exact=True).click()
    page.get_by_role("button", name="Pause", exact=True).click()
    page.get_by_role("button", name="Train", exact=True).wait_for(timeout=5_000)
    page.get_by_role("button", name="Train", exact=True).click()
    page.get_by_role("button", name="Step 10", exact=True).click()
    page.wait_for_timeout(800)
    page.get_by_role("button", name="Pause", exact=True).click()
    page.get_by_role("button", name="Train", exact=True).wait_for(timeout=5_000)
    page.wait_for_timeout(1_000)

    assert page.locator(".js-plotly-plot").count() >= 3
    no_exception(page)
    assert step_count(page) > paused_at
    page.screenshot(path=str(ARTIFACTS / "browser-02-after-clicks.png"))
    log = live_server.log.read_text()
    assert "Traceback" not in log and "inplace operation" not in log, log[-2000:]
    page.close()


def test_learn_demo_opens_the_playground_and_trains(live_server, browser):
    page = browser.new_page(viewport={"width": 1440, "height": 1400})
    page.goto(f"{live_server.url}/learn")
    button = page.get_by_role("button", name="Show me: Vanishing: vanilla RNN, T=50", exact=True)
    button.wait_for(timeout=30_000)
    page.screenshot(path=str(ARTIFACTS / "browser-03-learn.png"))
    button.click()
    page.get_by_role("button", name="Pause", exact=True).wait_for(timeout=15_000)
    assert "Demo: Vanishing" in page.inner_text("[data-testid='stMain']")
    assert "cell=rnn" in page.url
    seen = wait_for_steps(page, reads=2)
    assert len(set(seen)) >= 3, seen
    page.get_by_role("button", name="Pause", exact=True).click()
    page.get_by_role("button", name="Train", exact=True).wait_for(timeout=5_000)
    no_exception(page)
    page.screenshot(path=str(ARTIFACTS / "browser-04-demo.png"))
    page.close()


class ClickIntoFragment:
    """Between the page and the server: sends the next click of an armed button as part of a run
    of the live fragment, as a Streamlit 1.67 browser does when a click and a fragment's widget
    update (the live chart asking for a full figure) fall into one batch ("Multiple different
    fragmentIds detected in a single batch of widget updates" in its console). `armed` maps a
    button's key to "moved" (the fragment run alone gets the click) or "twice" (the fragment run,
    then the full run the click asked for)."""

    def __init__(self):
        self.fragment, self.armed, self.moved = "", {}, []

    def route(self, ws) -> None:
        server = ws.connect_to_server()
        ws.on_message(lambda message: [server.send(m) for m in self.rewrite(message)])
        server.on_message(ws.send)

    def rewrite(self, message) -> list:
        from streamlit.proto.BackMsg_pb2 import BackMsg

        if not isinstance(message, bytes):
            return [message]
        msg = BackMsg()
        msg.ParseFromString(message)
        if msg.WhichOneof("type") != "rerun_script":
            return [message]
        run = msg.rerun_script
        keys = [w.id.rsplit("-", 1)[-1] for w in run.widget_states.widgets if w.trigger_value]
        key = next((k for k in keys if k in self.armed), None)
        if run.fragment_id:
            self.fragment = run.fragment_id  # the timer's runs name the live fragment
            if key is not None:  # the browser did it itself: the click rode on a timer's run
                self.armed.pop(key)
                self.moved.append(key)
            return [message]
        if key is None or not self.fragment:
            return [message]
        how = self.armed.pop(key)
        self.moved.append(key)
        run.fragment_id = self.fragment
        return [msg.SerializeToString()] + ([message] if how == "twice" else [])


def pause_by(page, router, how: str) -> int:
    """Press Pause with the click delivered `how`; returns the step count it stopped at."""
    router.armed["train_stop"] = how
    page.get_by_role("button", name="Pause", exact=True).click()
    page.get_by_role("button", name="Train", exact=True).wait_for(timeout=20_000)
    assert router.moved[-1] == "train_stop"
    page.wait_for_timeout(2_000)  # a tick that was running when Pause came in still lands
    paused_at = step_count(page)
    page.wait_for_timeout(2_500)
    assert step_count(page) == paused_at, f"still training after a Pause delivered {how}"
    assert page.get_by_role("button", name="Train", exact=True).count() == 1
    return paused_at


def test_a_click_delivered_to_the_live_fragment_still_counts(live_server, browser):
    """The soak's lost Pause: a click arrives in a run of the live fragment, alone or followed by
    its copy in a full run. Pause must pause, say Train and stay paused either way; and a Step 10
    delivered twice must make 10 steps, not 20."""
    router = ClickIntoFragment()
    page = browser.new_page(viewport={"width": 1440, "height": 1400})
    page.route_web_socket(re.compile(r".*/_stcore/stream"), router.route)
    page.goto(f"{live_server.url}/?cell=gru&task=sine&hidden=16")
    for how in ("moved", "twice"):
        page.get_by_role("button", name="Train", exact=True).click(timeout=30_000)
        assert len(set(wait_for_steps(page, reads=2))) >= 3  # the timer's fragment runs flow
        assert router.fragment
        paused_at = pause_by(page, router, how)

    router.armed["step10"] = "twice"
    page.get_by_role("button", name="Step 10", exact=True).click()
    deadline = time.monotonic() + 20
    while step_count(page) == paused_at and time.monotonic() < deadline:
        page.wait_for_timeout(250)
    page.wait_for_timeout(2_000)
    assert router.moved == ["train_stop", "train_stop", "step10"]
    assert step_count(page) == paused_at + 10, (paused_at, step_count(page))
    no_exception(page)
    log = live_server.log.read_text()
    assert "Traceback" not in log, log[-2000:]
    page.close()


class DropButton:
    """Between the server and the page: drops the next message that draws an armed button, and
    reports the end of that run as interrupted, so the page keeps the button it had. That is what
    the soak saw under load (Streamlit drops what a run had not sent yet when the next one
    starts): a page that said "paused" next to a Pause button for a minute, while the live
    fragment's runs kept arriving."""

    def __init__(self):
        self.armed, self.dropped, self.interrupt = set(), [], False

    def route(self, ws) -> None:
        server = ws.connect_to_server()
        ws.on_message(server.send)
        server.on_message(lambda message: self.forward(ws, message))

    def forward(self, ws, message) -> None:
        message = self.rewrite(message)
        if message is not None:
            ws.send(message)

    def rewrite(self, message):
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        if not isinstance(message, bytes) or not (self.armed or self.interrupt):
            return message
        msg = ForwardMsg()
        msg.ParseFromString(message)
        kind = msg.WhichOneof("type")
        finished = kind == "script_finished" and self.interrupt
        if finished and msg.script_finished == ForwardMsg.FINISHED_SUCCESSFULLY:
            self.interrupt = False
            msg.script_finished = ForwardMsg.FINISHED_EARLY_FOR_RERUN
            return msg.SerializeToString()
        element = msg.delta.new_element if kind == "delta" else None
        if element is None or element.WhichOneof("type") != "button":
            return message
        key = element.button.id.rsplit("-", 1)[-1]
        if key not in self.armed:
            return message
        self.armed.discard(key)
        self.dropped.append(key)
        self.interrupt = True
        return None


def test_a_page_that_missed_its_button_redraws_itself(live_server, browser):
    """Pause and Train whose full page runs lose their button: the live fragment still says which
    button the server drew, and the page asks to be redrawn until it shows that one."""
    router = DropButton()
    page = browser.new_page(viewport={"width": 1440, "height": 1400})
    page.route_web_socket(re.compile(r".*/_stcore/stream"), router.route)
    page.goto(f"{live_server.url}/?cell=gru&task=sine&hidden=16")
    train = page.get_by_role("button", name="Train", exact=True)
    pause = page.get_by_role("button", name="Pause", exact=True)
    train.click(timeout=30_000)
    assert len(set(wait_for_steps(page, reads=2))) >= 3
    router.armed.add("train")
    pause.click()
    page.wait_for_timeout(1_000)
    assert router.dropped == ["train"] and pause.count() == 1  # the stale Pause, as in the soak
    train.wait_for(timeout=20_000)
    paused_at = step_count(page)
    page.wait_for_timeout(2_000)
    assert step_count(page) == paused_at, "still training after Pause"

    router.armed.add("train_stop")
    train.click()
    page.wait_for_timeout(1_000)
    assert router.dropped == ["train", "train_stop"]
    pause.wait_for(timeout=20_000)
    assert len(set(wait_for_steps(page, reads=2))) >= 3
    pause.click()
    train.wait_for(timeout=20_000)
    no_exception(page)
    log = live_server.log.read_text()
    assert "Traceback" not in log, log[-2000:]
    # Each lost button asked for a redraw; a redraw that takes over 4 s is asked for again
    # (PAIR_CHECK_JS: up to 3 times), as it was once in 5 runs on a loaded machine.
    asked = log.count("out of step with the server")
    assert 2 <= asked <= 6, (asked, log[-2000:])
