"""In real Chromium against a live server: the largest run's own checkpoint downloaded and uploaded
again (the server's upload limit applies here, not in AppTest), and three visitors against a
memory budget with room for two: the third waits with a message and gets in by itself when a tab
closes (Streamlit's session end, seen by the workspace sweep)."""

from __future__ import annotations

import re
import time

import pytest

from bench.browser import Server
from core import ExperimentConfig
from core.checkpoint import MAX_CHECKPOINT_BYTES
from core.memory import estimate
from playground.governor import MB, PAGE_BYTES

pytestmark = [pytest.mark.browser, pytest.mark.slow]

MAIN = "[data-testid='stMain']"
STATUS = re.compile(r"Step ([\d,]+) / ")


def main_text(page) -> str:
    return page.inner_text(MAIN)


def until(page, predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        page.wait_for_timeout(500)
    return False


def step1_enabled(page) -> bool:
    button = page.locator(MAIN).get_by_role("button", name="Step 1", exact=True)
    return button.count() > 0 and button.first.is_enabled()


def click(page, name: str) -> None:
    """A click that doesn't wait for the page to stop redrawing (as bench/browser.py's)."""
    button = page.locator(MAIN).get_by_role("button", name=name, exact=True)
    button.click(force=True, timeout=60_000)


def no_exception(page) -> None:
    assert page.locator("[data-testid='stException']").count() == 0


def test_the_largest_runs_checkpoint_downloads_and_uploads_again(live_server, browser, tmp_path):
    context = browser.new_context(viewport={"width": 1400, "height": 1200}, accept_downloads=True)
    page = context.new_page()
    page.goto(f"{live_server.url}/?cell=lstm&hidden=512&layers=3&batch_size=1&seq_len=113")
    assert until(page, lambda: step1_enabled(page), 180), main_text(page)[:500]
    click(page, "Step 1")
    assert until(page, lambda: "Step 1 /" in main_text(page), 180)
    page.get_by_text("Take it home: checkpoint").click(force=True, timeout=60_000)
    with page.expect_download(timeout=120_000) as download:
        page.get_by_role("button", name="Checkpoint (.pt)", exact=True).click(
            force=True, timeout=60_000
        )
    saved = tmp_path / "largest.pt"
    download.value.save_as(saved)
    size = saved.stat().st_size
    assert 20e6 < size <= MAX_CHECKPOINT_BYTES, size
    help_text = page.locator("[data-testid='stFileUploader']").inner_text()
    page.locator("[data-testid='stFileUploader'] input[type='file']").set_input_files(saved)
    assert until(page, lambda: "Loaded largest.pt" in main_text(page), 180), main_text(page)[-800:]
    assert until(page, lambda: "Step 1 /" in main_text(page), 120), main_text(page)[-800:]
    no_exception(page)
    print(f"checkpoint {size / 1e6:.1f} MB uploaded again; uploader says: {help_text!r}")
    context.close()


@pytest.fixture
def two_run_server(tmp_path):
    """A server whose memory budget holds two small playground runs, not three."""
    one = estimate(ExperimentConfig(task="adding", seq_len=10, hidden=8)).total + PAGE_BYTES
    env = {
        "PLAYGROUND_MEMORY_MB": f"{2.5 * one / MB:.1f}",
        "PLAYGROUND_CLOSED_SECONDS": "1",
    }
    server = Server(env=env, log_path=tmp_path / "server.log")
    try:
        server.start(timeout=120)
        yield server
    finally:
        server.stop()


def test_a_third_visitor_waits_then_gets_in_when_a_tab_closes(two_run_server, browser):
    url = two_run_server.url + "?task=adding&seq_len=10&hidden=8"
    contexts, pages = [], []
    for _ in range(3):
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.goto(url)
        contexts.append(context)
        pages.append(page)
        assert until(
            page, lambda p=page: step1_enabled(p) or "The server is full" in main_text(p), 120
        )
    first, second, third = pages
    assert step1_enabled(first) and step1_enabled(second)
    assert "The server is full" in main_text(third) and not step1_enabled(third)
    contexts[0].close()  # the first visitor leaves
    assert until(third, lambda: step1_enabled(third), 60), main_text(third)[:500]
    click(third, "Step 1")
    assert until(third, lambda: "Step 1 /" in main_text(third), 60)
    for page in pages[1:]:
        no_exception(page)
    for context in contexts[1:]:
        context.close()
    log = two_run_server.log_path.read_text()
    assert "Traceback" not in log, log[-2000:]
    assert "ignored widget values" not in log, "a real browser's values all fit their widgets"
