"""Live-training schedule: how many steps a tick runs, and the process-wide cap on trainings.

No Streamlit here. A page tick asks `Pace.next_k()` how many optimizer steps fit in its compute
budget, runs them (plus a probe) under the experiment's lock while holding a slot of
`TRAINING_SLOTS`, and reports the measured time back with `Pace.record()`.
"""

from __future__ import annotations

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
HEAVY_EVERY_TICKS = 3  # 3D trajectories and big heatmaps redraw every 3rd tick while training


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

    def mark(self, step: int, now: float | None = None) -> None:
        """Note a tick at `step`; gaps over a second (paused, waiting) don't count as training."""
        now = time.perf_counter() if now is None else now
        if self.recent:
            self.elapsed += min(now - self.recent[-1][0], 1.0)
        self.recent.append((now, step))

    def pause(self) -> None:
        self.recent.clear()

    def steps_per_second(self) -> float:
        if len(self.recent) < 2:
            return math.nan
        (t0, s0), (t1, s1) = self.recent[0], self.recent[-1]
        return (s1 - s0) / (t1 - t0) if t1 > t0 else math.nan


def try_acquire_slot() -> bool:
    return TRAINING_SLOTS.acquire(blocking=False)


def release_slot() -> None:
    TRAINING_SLOTS.release()
