"""Shared test setup: the project root on sys.path (so plain `pytest` finds core/ and
playground/), one torch thread, and a live-server fixture for the browser tests."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("OMP_NUM_THREADS", "1")
# No background release of idle sessions while tests age workspaces by hand (test_workspace.py
# turns it on for the one test of the sweeper thread).
os.environ.setdefault("PLAYGROUND_IDLE_SECONDS", "0")

import torch  # noqa: E402

from bench.browser import Server  # noqa: E402

torch.set_num_threads(1)

CHROMIUM = "/usr/bin/chromium"


@dataclass
class LiveServer:
    url: str
    log: Path


@pytest.fixture(scope="module")
def live_server(tmp_path_factory):
    """`streamlit run playground/app.py` on a free port; yields its URL and log; always stopped."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    server = Server(log_path=tmp_path_factory.mktemp("server") / "server.log")
    try:
        try:
            server.start(timeout=60)
        except RuntimeError as error:
            pytest.fail(str(error))
        yield LiveServer(server.url.rstrip("/"), server.log_path)
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium driven by Playwright (Playwright's own browser download is not used)."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking"],
        )
        yield chromium
        chromium.close()
