"""The one live tick loop every page trains through, its pace, and the process-wide training slots.

No Streamlit here. A page's `run_every` fragment calls `tick(driver, pace)` once per timer tick:
it takes a training slot (or says "waiting"), asks `Pace.next_k()` how many steps fit in the tick's
compute budget, lets the driver advance that many steps and then observe (probe) under its
experiments' locks, and reports the measured time back to the pace. A driver adapts one kind of
run to that loop: `TrainingDriver` (the playground's Experiment), `RaceDriver`, `SweepDriver` and
`ClaimDriver` (core.teaching). `Pace.charts_due()` is the one rule for when charts are rebuilt.
"""

from __future__ import annotations

import gc
import math
import os
import threading
import time
from collections import deque
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any, Protocol

# The browser asks for a tick every TIMER_SECONDS; requests that arrive during a tick are merged
# into one, so ticks run back to back. A tick computes (steps + probe) for at most
# TICK_COMPUTE_SECONDS and then draws; computing less when drawing is slow keeps the whole tick
# near TICK_SECONDS, so the page redraws about 5-6 times a second (charts are redrawn in place
# and cost a few ms to build) and a Pause click waits at most one tick.
TIMER_SECONDS = 0.1
TICK_SECONDS = 0.18
TICK_COMPUTE_SECONDS = 0.12
TEACHING_COMPUTE_SECONDS = 0.6  # a claim or sweep tick: see Pace.tick_compute
MIN_COMPUTE_SECONDS = 0.08  # on a busy machine, keep training at a fair pace over redraw rate
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
    # The compute a tick may spend: the playground redraws every tick; a teaching run (a claim,
    # the sweep) shows a progress line and one chart, so it takes longer ticks and trains more.
    tick_compute: float = TICK_COMPUTE_SECONDS
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
        compute = min(
            self.tick_compute,
            self.tick_compute + TICK_SECONDS - TICK_COMPUTE_SECONDS - self.draw_seconds,
        )
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

    def chart_version(self, heavy: bool = False) -> int:
        """The version a live chart is built for: it changes at each chart refresh (every
        HEAVY_EVERY_REFRESHES-th for heavy charts), so the same figure is re-sent in between."""
        if heavy:
            return self.chart_generation // HEAVY_EVERY_REFRESHES
        return self.chart_generation

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


# ---- drivers: one kind of run each, seen the same way by the tick ----------------------------
class Driver(Protocol):
    """A run the tick can advance. `remaining`: steps it may still take (0: finished);
    `experiments`: whose locks a tick holds; `workers`: how many training slots it can use."""

    workers: int
    pace: Pace

    @property
    def remaining(self) -> int: ...

    @property
    def experiments(self) -> list[Any]: ...

    @property
    def step(self) -> int: ...

    def advance(self, k: int, workers: int) -> None: ...

    def observe(self) -> None: ...


@dataclass
class Tick:
    """What one tick did. outcome: "stepped", "waiting" (no free training slot) or "stopped"
    (the driver has finished: the page redraws itself without the timer)."""

    outcome: str
    steps: int = 0
    seconds: float = 0.0


def tick(driver: Driver) -> Tick:
    """Advance `driver` by one tick's worth of steps within a training slot, then observe it."""
    pace = driver.pace
    pace.tick_started(time.perf_counter())
    if driver.remaining <= 0:
        return Tick("stopped")
    held = acquire_slots(driver.workers)
    if not held:
        pace.pause()
        return Tick("waiting")
    try:
        k = pace.next_k(driver.remaining)
        before = driver.step
        with locked(driver.experiments):  # an overlapping script run can't change weights
            started = time.perf_counter()
            driver.advance(k, held)
            stepped = time.perf_counter()
            driver.observe()
            observed = time.perf_counter()
    finally:
        release_slots(held)
    pace.record(driver.step - before, stepped - started, observed - stepped)
    pace.mark(driver.step)
    outcome = "stopped" if driver.remaining <= 0 else "stepped"
    return Tick(outcome, driver.step - before, observed - started)


def locked(experiments) -> ExitStack:
    """Hold every experiment's lock (step + probe together)."""
    stack = ExitStack()
    for experiment in experiments:
        stack.enter_context(experiment.lock)
    return stack


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


def acquire_slots(wanted: int, wait: float = SLOT_WAIT_SECONDS) -> int:
    """Up to `wanted` slots: waits up to `wait` for the first, takes more only if free now."""
    if not try_acquire_slot(wait):
        return 0
    held = 1
    while held < wanted and try_acquire_slot():
        held += 1
    return held


def release_slots(count: int) -> None:
    for _ in range(count):
        release_slot()
