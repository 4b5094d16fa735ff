"""Live-training schedule: how many steps a tick runs, and the process-wide cap on trainings.

No Streamlit here. A page tick asks `Pace.next_k()` how many optimizer steps fit in its compute
budget, runs them (plus a probe) under the experiment's lock while holding a slot of
`TRAINING_SLOTS`, and reports the measured time back with `Pace.record()`.
"""

from __future__ import annotations

import gc
import math
import os
import threading
import time
from collections import deque
from dataclasses import dataclass, field

# The browser asks for a tick every TIMER_SECONDS; requests that arrive during a tick are merged
# into one, so ticks run back to back. A tick computes (steps + probe) for at most
# TICK_COMPUTE_SECONDS and then draws; computing less when drawing is slow keeps the whole tick
# near TICK_SECONDS, so the page redraws about 4 times a second and a Pause click waits at most
# one tick.
TIMER_SECONDS = 0.1
TICK_SECONDS = 0.25
TICK_COMPUTE_SECONDS = 0.17
MIN_COMPUTE_SECONDS = 0.12  # on a busy machine, keep training at a fair pace over redraw rate
MAX_STEPS_PER_TICK = 200
JACOBIAN_EVERY_SECONDS = 2.0  # the Jacobian costs up to ~0.2 s (LSTM); refresh it rarely
HEAVY_EVERY_REFRESHES = 3  # 3D trajectories and big heatmaps: every 3rd chart refresh
# Charts are redrawn in place (playground/plotly_live.py) at every tick while the browser keeps
# up; on a slow or busy machine a redraw can take longer than a tick. The server can tell:
# the browser asks for the next tick only when it is idle again. When it keeps the server waiting
# longer than BROWSER_BUSY_SECONDS, charts are refreshed every 2nd, 3rd... tick (up to
# MAX_CHART_EVERY; the status line still updates every tick), and more often again once it
# keeps up.
BROWSER_BUSY_SECONDS = 0.4
BROWSER_IDLE_SECONDS = 0.2
MAX_CHART_EVERY = 4
# A tick that finds every training slot taken waits this long for one before it draws "waiting":
# asking again at once (every TIMER_SECONDS) kept waiting sessions redrawing their charts in a
# loop, which took the CPU from the sessions that were training.
SLOT_WAIT_SECONDS = 0.5
STEP_SLOT_WAIT_SECONDS = 2.0  # a Step click waits a little longer before saying "busy"


def _slots_from_env() -> int:
    try:
        return max(1, int(os.environ.get("PLAYGROUND_MAX_TRAINING", "4")))
    except ValueError:
        return 4


# One per server process (modules are imported once): N trainings share N cores fairly.
TRAINING_SLOTS = threading.BoundedSemaphore(_slots_from_env())


@dataclass
class Pace:
    """Adapts steps per tick to measured speed, and tracks wall-clock speed for the status line."""

    seconds_per_step: float = 0.01  # first guess; replaced by a moving average after one tick
    probe_seconds: float = 0.03
    draw_seconds: float = 0.05
    elapsed: float = 0.0  # wall-clock seconds spent training
    recent: deque = field(default_factory=lambda: deque(maxlen=12))  # (time, step) per tick
    browser_wait: float = 0.0  # moving average of the idle time between ticks
    chart_every: int = 1  # refresh charts every n-th tick
    chart_generation: int = 0  # bumped at each chart refresh; cached figures follow it
    ticks_since_charts: int = 0
    last_tick_end: float | None = None

    def next_k(self, remaining: int) -> int:
        """Steps for the next tick: fill the compute budget left after the probe."""
        compute = min(TICK_COMPUTE_SECONDS, TICK_SECONDS - self.draw_seconds)
        compute = max(compute, MIN_COMPUTE_SECONDS)
        budget = max(compute - self.probe_seconds, 0.02)
        k = int(budget / max(self.seconds_per_step, 1e-4))
        return max(1, min(k, MAX_STEPS_PER_TICK, remaining))

    def record(self, steps: int, step_seconds: float, probe_seconds: float) -> None:
        if steps > 0:
            measured = step_seconds / steps
            self.seconds_per_step = 0.5 * self.seconds_per_step + 0.5 * measured
        self.probe_seconds = 0.5 * self.probe_seconds + 0.5 * probe_seconds

    def record_draw(self, seconds: float) -> None:
        self.draw_seconds = 0.5 * self.draw_seconds + 0.5 * seconds

    def tick_started(self, now: float) -> None:
        """Adapt the chart refresh rate to how long the browser kept us waiting."""
        if self.last_tick_end is not None:
            wait = min(now - self.last_tick_end, 2.0)
            self.browser_wait = 0.7 * self.browser_wait + 0.3 * wait
            if self.browser_wait > BROWSER_BUSY_SECONDS:
                self.chart_every = min(self.chart_every + 1, MAX_CHART_EVERY)
            elif self.browser_wait < BROWSER_IDLE_SECONDS:
                self.chart_every = max(self.chart_every - 1, 1)
        self.ticks_since_charts += 1
        if self.ticks_since_charts >= self.chart_every:
            self.ticks_since_charts = 0
            self.chart_generation += 1

    def tick_ended(self, now: float) -> None:
        self.last_tick_end = now

    def mark(self, step: int, now: float | None = None) -> None:
        """Note a tick at `step`; gaps over a second (paused, waiting) don't count as training."""
        now = time.perf_counter() if now is None else now
        if self.recent:
            self.elapsed += min(now - self.recent[-1][0], 1.0)
        self.recent.append((now, step))

    def pause(self) -> None:
        self.recent.clear()
        self.last_tick_end = None

    def steps_per_second(self) -> float:
        if len(self.recent) < 2:
            return math.nan
        (t0, s0), (t1, s1) = self.recent[0], self.recent[-1]
        return (s1 - s0) / (t1 - t0) if t1 > t0 else math.nan


_startup_frozen = False


def freeze_startup_objects() -> None:
    """Move the ~370k objects of the imported libraries out of the garbage collector's sight.

    They live as long as the process, so every full collection would walk them for nothing
    (0.2-0.7 s each); frozen, the occasional automatic full collection stays short. Once per
    process, after the imports and before any session's objects exist.
    """
    global _startup_frozen
    if not _startup_frozen:
        gc.freeze()
        _startup_frozen = True


def try_acquire_slot(wait: float = 0.0) -> bool:
    """Take a training slot, waiting up to `wait` seconds for one (0: don't wait)."""
    if wait > 0:
        return TRAINING_SLOTS.acquire(timeout=wait)
    return TRAINING_SLOTS.acquire(blocking=False)


def release_slot() -> None:
    TRAINING_SLOTS.release()
