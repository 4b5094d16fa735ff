"""The page's status line ("Step 1,545 / 2,000 · train loss … · paused · …") as the Chromium tests
read it."""

from __future__ import annotations

import re
import time

STATUS = re.compile(r"Step ([\d,]+) / ([\d,]+)[^\n]*")
MAIN = "[data-testid='stMain']"


def status(page) -> str:
    match = STATUS.search(page.inner_text(MAIN))
    return match.group(0) if match else ""


def step_count(page) -> int:
    match = STATUS.search(page.inner_text(MAIN))
    return int(match.group(1).replace(",", "")) if match else -1


def paused_count(page, timeout: float = 10.0) -> int:
    """The step count once the status line says "paused". The run after a Pause click draws the
    buttons before the status line, so Train can show while the last tick's count is still up."""
    deadline = time.monotonic() + timeout
    while "· paused" not in status(page):
        assert time.monotonic() < deadline, f"the status line never said paused: {status(page)}"
        time.sleep(0.25)
    return step_count(page)
