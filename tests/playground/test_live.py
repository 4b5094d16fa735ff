"""Live pacing: how often a training page refreshes its charts (playground/live.py)."""

from __future__ import annotations

from playground import live
from playground.live import Pace


def refreshes(pace: Pace, tick_seconds: float, wait: float, seconds: float) -> int:
    """Chart refreshes over `seconds` of ticks that compute for `tick_seconds` and then wait
    `wait` for the browser to ask again."""
    now, start = 0.0, pace.chart_generation
    while now < seconds:
        pace.tick_started(now)
        now += tick_seconds
        pace.tick_ended(now)
        now += wait
    return pace.chart_generation - start


def test_charts_refresh_at_every_tick_while_the_browser_keeps_up():
    # Ticks of 0.2 s, the browser asking again after 0.05 s: 40 ticks in 10 s.
    count = refreshes(Pace(), tick_seconds=0.2, wait=0.05, seconds=10.0)
    assert count == 40


def test_a_busy_browser_gets_fewer_refreshes():
    # The browser keeps the server waiting 0.6 s per tick (38 ticks): refresh every few ticks.
    pace = Pace()
    count = refreshes(pace, tick_seconds=0.2, wait=0.6, seconds=30.0)
    assert pace.chart_every > 1
    assert count < 38 / 2


def test_a_waiting_tick_gets_a_slot_freed_while_it_waits():
    import threading
    import time

    taken = 0
    while live.TRAINING_SLOTS.acquire(blocking=False):
        taken += 1
    try:
        assert not live.try_acquire_slot()  # no wait: busy at once
        threading.Timer(0.2, live.release_slot).start()
        started = time.monotonic()
        assert live.try_acquire_slot(wait=5.0)
        assert 0.15 < time.monotonic() - started < 4.0
        assert not live.try_acquire_slot(wait=0.1)  # all taken again
    finally:
        for _ in range(taken):
            live.release_slot()
