"""Every test of the page ends with no run training: a run's worker thread (playground/live.py)
would otherwise train on into the next test, or past the end of the process."""

from __future__ import annotations

import pytest

from playground import live


@pytest.fixture(autouse=True)
def no_worker_outlives_its_test():
    yield
    live.pause_all()
