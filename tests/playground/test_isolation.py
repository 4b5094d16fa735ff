"""Two visitors on one server, in real Chromium: neither sees the other's settings, run or upload.

Each browser context is its own Streamlit session (its own cookies and websocket). Both train at
the same time; each page must show its own cell, task, step count and charts, and pausing one must
not pause the other. Uploads (a broken file, then a good one) stay in the session that made them.
Screenshots go to test-artifacts/ (gitignored).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from core.model import CELLS
from core.tasks import TASKS
from playground.words.captions import CAPTIONS
from tests.playground.status_line import MAIN, paused_count, step_count

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
SIDEBAR_CHOICES = "[data-testid='stSidebar'] [data-testid='stSelectbox'] input"
VISITORS = {
    "a": {"cell": "gru", "task": "adding", "seq_len": "30", "max_steps": "100000"},
    "b": {"cell": "rnn", "task": "sine", "hidden": "24", "max_steps": "100000"},
}


def open_visitor(browser, url: str, params: dict[str, str]):
    context = browser.new_context(viewport={"width": 1400, "height": 1300})
    page = context.new_page()
    page.goto(url + "/?" + "&".join(f"{k}={v}" for k, v in params.items()))
    page.get_by_role("button", name="Train", exact=True).wait_for(timeout=60_000)
    return context, page


def choices(page) -> list[str]:
    return page.locator(SIDEBAR_CHOICES).evaluate_all("inputs => inputs.map(i => i.value)")


def column_options(page) -> list[str]:
    """Open the sidebar's Column picker and read its options."""
    picker = page.locator("[data-testid='stSidebar'] [data-testid='stSelectbox']")
    picker.filter(has_text="Column").click()
    options = page.get_by_role("option")
    options.first.wait_for(timeout=10_000)
    texts = options.all_inner_texts()
    page.keyboard.press("Escape")
    return texts


def no_exception(page) -> None:
    assert page.locator("[data-testid='stException']").count() == 0


def wait_until(predicate, timeout: float = 30.0, every: float = 0.25) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(every)
    return predicate()


def server_log_is_clean(live_server) -> None:
    log = live_server.log.read_text()
    assert "Traceback" not in log and "Uncaught app exc" not in log, log[-3000:]


def test_two_sessions_train_at_once_and_stay_apart(live_server, browser):
    ARTIFACTS.mkdir(exist_ok=True)
    opened = {name: open_visitor(browser, live_server.url, p) for name, p in VISITORS.items()}
    pages = {name: page for name, (_, page) in opened.items()}
    try:
        for page in pages.values():
            page.get_by_role("button", name="Train", exact=True).click()
        for page in pages.values():
            page.get_by_role("button", name="Pause", exact=True).wait_for(timeout=15_000)
        # Both train side by side for a few seconds.
        start = {name: step_count(page) for name, page in pages.items()}
        assert wait_until(lambda: all(step_count(p) > start[n] + 20 for n, p in pages.items()))
        time.sleep(3)
        for name, page in pages.items():
            page.screenshot(path=str(ARTIFACTS / f"isolation-{name}-training.png"))

        for name, page in pages.items():
            own, other = VISITORS[name], VISITORS["b" if name == "a" else "a"]
            values = choices(page)
            text = page.inner_text(MAIN)
            assert CELLS[own["cell"]].title in values, values
            assert TASKS[own["task"]].title in values, values
            assert CELLS[other["cell"]].title not in values, values
            assert TASKS[other["task"]].title not in values, values
            assert f"About the task: {TASKS[own['task']].title}" in text
            assert TASKS[other["task"]].title not in text
            assert f"cell={own['cell']}" in page.url and f"task={own['task']}" in page.url
            assert f"task={other['task']}" not in page.url
            no_exception(page)
        # Only the sine task forecasts: its rollout chart is on b's page alone.
        assert CAPTIONS["rollout"][:40] in pages["b"].inner_text(MAIN)
        assert CAPTIONS["rollout"][:40] not in pages["a"].inner_text(MAIN)

        # Pausing one visitor leaves the other training.
        pages["a"].get_by_role("button", name="Pause", exact=True).click()
        pages["a"].get_by_role("button", name="Train", exact=True).wait_for(timeout=10_000)
        paused_at = paused_count(pages["a"])
        b_before = step_count(pages["b"])
        assert wait_until(lambda: step_count(pages["b"]) > b_before + 20)
        assert step_count(pages["a"]) == paused_at
        assert pages["b"].get_by_role("button", name="Pause", exact=True).count() == 1
        # Each session keeps its own history: their step counts are their own.
        exps = {n: step_count(p) for n, p in pages.items()}
        assert exps["a"] != exps["b"]
        pages["b"].get_by_role("button", name="Pause", exact=True).click()
        pages["b"].get_by_role("button", name="Train", exact=True).wait_for(timeout=10_000)
        for name, page in pages.items():
            no_exception(page)
            page.screenshot(path=str(ARTIFACTS / f"isolation-{name}-paused.png"))
        server_log_is_clean(live_server)
    finally:
        for context, _ in opened.values():
            context.close()


def test_uploads_give_messages_and_stay_in_their_session(live_server, browser, tmp_path):
    broken = tmp_path / "broken.csv"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64))
    good = tmp_path / "good.csv"
    rows = "\n".join(f"{i},{(i * 7) % 13 / 4}" for i in range(300))
    good.write_text(f"hour,level\n{rows}\n")
    params = {"task": "csv", "seq_len": "20"}
    uploader_context, page = open_visitor(browser, live_server.url, params)
    other_context, other = open_visitor(browser, live_server.url, params)
    try:
        file_input = page.locator("[data-testid='stSidebar'] input[type='file']")
        file_input.set_input_files(str(broken))
        alert = page.get_by_text("Could not use broken.csv")
        alert.wait_for(timeout=30_000)
        assert "not a text CSV file" in page.inner_text(MAIN)
        no_exception(page)
        page.screenshot(path=str(ARTIFACTS / "upload-1-broken.png"))

        file_input.set_input_files(str(good))
        page.get_by_text("Using good.csv").wait_for(timeout=30_000)
        page.get_by_role("button", name="Step 10", exact=True).click()
        assert wait_until(lambda: step_count(page) >= 10)
        assert wait_until(lambda: page.locator(".js-plotly-plot").count() >= 2)
        # the file's columns to pick from, after the default: the first that is not a time axis
        assert column_options(page) == ["auto: level", "hour", "level"]
        no_exception(page)
        page.screenshot(path=str(ARTIFACTS / "upload-2-good.png"))

        # The other visitor still has the demo series and saw none of it.
        other.wait_for_timeout(500)
        text = other.inner_text("body")
        assert "No file yet" in text
        assert "good.csv" not in text and "broken.csv" not in text
        assert "hour" not in choices(other)
        no_exception(other)
        server_log_is_clean(live_server)
    finally:
        uploader_context.close()
        other_context.close()
