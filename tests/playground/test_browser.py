"""The playground in real Chromium against a live server: train, pause, rapid clicks, a Learn demo,
and clicks or drawings lost on the way.

Rapid Train / Step / Pause clicks while the run trains are what once made two script runs of one
session overlap (DESIGN.md, known hazard); AppTest can't reproduce that, this test can. Every wait
here is for something the page shows (a button, a step count, the panel going idle), never for a
fixed time; "nothing trains after Pause" is checked by a Step 1 landing exactly one step later.
Screenshots go to test-artifacts/ (gitignored).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.playground.status_line import (
    charts_drawn,
    paused_count,
    settled,
    wait_step_above,
)

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
STREAM = re.compile(r".*/_stcore/stream")


def no_exception(page) -> None:
    assert page.locator("[data-testid='stException']").count() == 0


def buttons(page):
    role = page.get_by_role
    return (
        role("button", name="Train", exact=True),
        role("button", name="Pause", exact=True),
        role("button", name="Step 1", exact=True),
        role("button", name="Step 10", exact=True),
    )


def server_log_is_clean(live_server) -> None:
    log = live_server.log.read_text()
    assert "Traceback" not in log and "inplace operation" not in log, log[-2000:]


def test_train_pause_and_rapid_clicks(live_server, browser):
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": 1440, "height": 1400})
    page.goto(f"{live_server.url}/?cell=lstm&task=adding&seq_len=30&max_steps=50000")
    train, pause, step1, step10 = buttons(page)
    train.wait_for(timeout=30_000)
    choices = page.locator("[data-testid='stSidebar'] [data-testid='stSelectbox'] input")
    choices.first.wait_for(timeout=30_000)  # the sidebar can arrive after the buttons under load
    values = choices.evaluate_all("inputs => inputs.map(input => input.value)")
    assert "LSTM" in values and "Adding problem (long memory)" in values, values

    train.click()
    pause.wait_for(timeout=15_000)
    # One way to stop: Streamlit's own Stop indicator is hidden, only Pause is shown.
    assert page.get_by_role("button", name=re.compile(r"^\W*(Stop|Pause)")).count() == 1
    seen = [wait_step_above(page, 0)]
    for _ in range(3):
        seen.append(wait_step_above(page, seen[-1]))
    assert seen == sorted(seen) and len(set(seen)) == 4, seen
    charts_drawn(page, 3)  # loss, gradient per step, the prediction
    page.screenshot(path=str(ARTIFACTS / "browser-01-training.png"))

    pause.click()
    train.wait_for(timeout=10_000)
    paused_at = settled(page)
    assert "· paused" in page.inner_text("[data-testid='stMain']")
    step1.click()
    assert settled(page) == paused_at + 1  # one step, and nothing trained after Pause

    # Rapid clicks while the run trains: the overlapping-run hazard, and each click counts once.
    train.click()
    wait_step_above(page, paused_at + 1)
    step10.click()  # Step pauses, then takes ten steps
    train.wait_for(timeout=10_000)
    before = settled(page)
    for _ in range(2):
        train.click()
        pause.click()  # as soon as it is there: Playwright waits for the button itself
    train.wait_for(timeout=10_000)
    paused_again = settled(page)
    assert paused_again >= before and pause.count() == 0
    for _ in range(3):
        step10.click()
    assert settled(page) == paused_again + 30  # three clicks, thirty steps
    assert paused_count(page) == paused_again + 30

    charts_drawn(page, 3)
    no_exception(page)
    page.screenshot(path=str(ARTIFACTS / "browser-02-after-clicks.png"))
    server_log_is_clean(live_server)
    page.close()


def test_learn_demo_opens_the_playground_and_trains(live_server, browser):
    page = browser.new_page(viewport={"width": 1440, "height": 1400})
    page.goto(f"{live_server.url}/learn")
    button = page.get_by_role("button", name="Show me: Vanishing: vanilla RNN, T=50", exact=True)
    button.wait_for(timeout=30_000)
    page.screenshot(path=str(ARTIFACTS / "browser-03-learn.png"))
    button.click()
    train, pause, _, _ = buttons(page)
    pause.wait_for(timeout=15_000)
    assert "Demo: Vanishing" in page.inner_text("[data-testid='stMain']")
    assert "cell=rnn" in page.url
    first = wait_step_above(page, 0)
    wait_step_above(page, first)
    pause.click()
    train.wait_for(timeout=10_000)
    settled(page)
    no_exception(page)
    page.screenshot(path=str(ARTIFACTS / "browser-04-demo.png"))
    page.close()


WORD_TICKS = """() => Object.fromEntries(Array.from(document.querySelectorAll('.js-plotly-plot'))
    .map(plot => [plot.layout.title.text,
                  Array.from(plot.querySelectorAll('.xtick text')).map(n => n.textContent)]))"""


def test_sentiment_verdict_word_by_word(live_server, browser):
    """Train on the sentiment task, then type reviews: the verdict line is drawn across the typed
    words, and an unknown word is named in a message (no traceback)."""
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": 1440, "height": 1600})
    page.goto(f"{live_server.url}/?cell=lstm&task=sentiment&seq_len=16&max_steps=300")
    train, pause, _, _ = buttons(page)
    train.wait_for(timeout=30_000)
    train.click()
    wait_step_above(page, 250, timeout=90)
    train.wait_for(timeout=30_000)  # the budget ends the run
    settled(page)
    box = page.get_by_label("Type a review and press Enter")
    box.fill("the film was not bad but the ending was dull")
    box.press("Enter")
    typed = f"() => (({WORD_TICKS})()['Your sentence, word by word'] || []).includes('ending')"
    page.wait_for_function(typed, timeout=30_000)
    ticks = page.evaluate(WORD_TICKS)  # the words drawn under each chart, by its title
    assert ticks["Your sentence, word by word"][-4:] == ["the", "ending", "was", "dull"], ticks
    sentence = [words for title, words in ticks.items() if title.startswith("Sentence 0")]
    assert sentence and sentence[0][0] == "the", ticks
    no_exception(page)
    page.screenshot(path=str(ARTIFACTS / "browser-05-sentiment.png"), full_page=True)
    box.fill("the film was marvellous")
    box.press("Enter")
    page.get_by_text("never seen 'marvellous'").first.wait_for(timeout=30_000)
    no_exception(page)
    page.screenshot(path=str(ARTIFACTS / "browser-06-sentiment-unknown.png"), full_page=True)
    server_log_is_clean(live_server)
    page.close()


class Lose:
    """Between the page and the server, on the live panel's websocket: loses the first request
    that carries a click ("click"), or the whole drawing that answers it ("drawing": its messages
    are dropped and its run reported as interrupted, as Streamlit does when a new run starts
    before the last one was sent). What is lost is recorded."""

    def __init__(self, what: str) -> None:
        self.what, self.armed, self.lost, self.dropping = what, False, [], False

    def route(self, ws) -> None:
        server = ws.connect_to_server()
        ws.on_message(lambda message: self.up(server, message))
        server.on_message(lambda message: self.down(ws, message))

    def up(self, server, message) -> None:
        click = self.armed and _carries_a_click(message)
        if click and self.what == "click":
            self.armed = False
            self.lost.append("click")
            return
        if click and self.what == "drawing":
            self.armed, self.dropping = False, True
        server.send(message)

    def down(self, ws, message) -> None:
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        if not self.dropping or not isinstance(message, bytes):
            ws.send(message)
            return
        msg = ForwardMsg()
        msg.ParseFromString(message)
        kind = msg.WhichOneof("type")
        if kind == "delta":
            self.lost.append("delta")
            return
        if kind == "script_finished":
            self.dropping = False
            msg.script_finished = ForwardMsg.FINISHED_EARLY_FOR_RERUN
            message = msg.SerializeToString()
        ws.send(message)


def _carries_a_click(message) -> bool:
    from streamlit.proto.BackMsg_pb2 import BackMsg

    if not isinstance(message, bytes):
        return False
    msg = BackMsg()
    msg.ParseFromString(message)
    if msg.WhichOneof("type") != "rerun_script":
        return False
    for widget in msg.rerun_script.widget_states.widgets:
        if widget.WhichOneof("value") == "json_trigger_value":
            for payload in json.loads(widget.json_trigger_value or "[]") or []:
                value = payload.get("value") if isinstance(payload, dict) else None
                if isinstance(value, dict) and value.get("events"):
                    return True
    return False


@pytest.mark.parametrize("what", ["click", "drawing"])
def test_a_click_or_its_drawing_lost_on_the_way_still_lands(live_server, browser, what):
    """A Pause whose request never reaches the server is sent again; a Pause whose answer never
    reaches the page is drawn again by the next drawing the page asks for. Either way the page
    says Train, stays paused, and the next Step 10 makes exactly ten steps."""
    router = Lose(what)
    page = browser.new_page(viewport={"width": 1440, "height": 1400})
    page.route_web_socket(STREAM, router.route)
    page.goto(f"{live_server.url}/?cell=gru&task=sine&hidden=16&max_steps=100000")
    train, pause, _, step10 = buttons(page)
    train.click(timeout=30_000)
    wait_step_above(page, wait_step_above(page, 0))
    router.armed = True
    pause.click()
    train.wait_for(timeout=20_000)
    assert router.lost and router.lost[0] == ("click" if what == "click" else "delta"), router.lost
    paused_at = settled(page)
    step10.click()
    assert settled(page) == paused_at + 10
    assert train.count() == 1 and pause.count() == 0
    no_exception(page)
    server_log_is_clean(live_server)
    page.close()
