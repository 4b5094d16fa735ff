"""Live training off the page: one worker thread per busy run, fair training slots, and the pace.

No Streamlit here. A run (a driver from playground/drivers.py) trains in a worker thread of its
own, not in a script run: `start(driver)` (Train) keeps it training until `pause(driver)`, its
step budget is used up, it diverges or its session goes (`close`); `request(driver, k)` (Step)
takes k steps and stops. Between slices of training the worker gives its training slot back, so
the runs of every session share the cores in turn (`Slots`, first come first served).

The page only draws. Its live panel is a fragment that the browser reruns itself a moment after
each drawing arrives (views/common.ticker), for as long as `busy(driver)`. Each drawing marks the
state it showed as seen (`seen`), and the worker probes the run (hidden states, gates, gradients)
only once the page has seen the last probe: a tab nobody looks at costs no probes, and a slow
browser gets fewer of them. This replaces the `run_every` timer, which stopped any run that
outlasted its interval and threw its drawing away (DESIGN.md), and the training inside script
runs that a click had to wait for.
"""

from __future__ import annotations

import gc
import logging
import math
import os
import threading
import time
from collections import deque
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any, Protocol

LOG = logging.getLogger(__name__)

# A slice of training holds a slot for at most SLICE_SECONDS; when more runs want slots than
# there are, slices shrink so that each run's turn comes about every CYCLE_SECONDS (never below
# MIN_SLICE_SECONDS: a step must still be worth the probe that may follow it).
SLICE_SECONDS = 0.15
CYCLE_SECONDS = 0.4
MIN_SLICE_SECONDS = 0.03
TEACHING_SLICE_SECONDS = 0.5  # a claim or sweep: a progress line and one chart, so longer slices
MAX_STEPS_PER_SLICE = 500
SLOT_WAIT_SECONDS = 0.5  # a worker that waits longer than this says "waiting" on the page
# The browser asks for the next drawing this long after the last one arrived (views/common.ticker).
DRAW_EVERY_MS = 250
HANDOVER_SECONDS = 0.001
JACOBIAN_EVERY_SECONDS = 2.0  # the Jacobian costs up to ~0.2 s (LSTM); refresh it rarely
HEAVY_EVERY_PROBES = 3  # 3D trajectories and big heatmaps: rebuilt at every 3rd probe


def _slots_from_env() -> int:
    """PLAYGROUND_MAX_TRAINING, else the cores this process may use."""
    try:
        return max(1, int(os.environ["PLAYGROUND_MAX_TRAINING"]))
    except (KeyError, ValueError):
        return max(1, len(os.sched_getaffinity(0)))


class Slots:
    """Training slots, handed out first come, first served.

    A plain semaphore lets the thread that just released a slot take it back before a waiter
    wakes, so one run could keep the cores while others starve; here every request queues."""

    def __init__(self, count: int) -> None:
        self.count = count
        self._free = count
        self._queue: deque[object] = deque()
        self._changed = threading.Condition()

    def acquire(self, wanted: int = 1, timeout: float | None = None) -> int:
        """Up to `wanted` slots: waits (up to `timeout`) for the first in turn, takes more only if
        free at once; 0 if none came in time."""
        ticket = object()
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._changed:
            self._queue.append(ticket)
            try:
                while self._queue[0] is not ticket or self._free == 0:
                    left = None if deadline is None else deadline - time.monotonic()
                    if left is not None and left <= 0:
                        return 0
                    self._changed.wait(left)
                held = min(max(1, wanted), self._free)
                self._free -= held
                return held
            finally:
                self._queue.remove(ticket)
                self._changed.notify_all()

    def release(self, count: int = 1) -> None:
        with self._changed:
            self._free = min(self.count, self._free + count)
            self._changed.notify_all()

    def demand(self) -> int:
        """Slots held plus requests waiting: how many want to train now."""
        with self._changed:
            return self.count - self._free + len(self._queue)


# One per server process (modules are imported once): N trainings share N cores fairly.
SLOTS = Slots(_slots_from_env())


def slice_seconds(longest: float = SLICE_SECONDS) -> float:
    """How long the next slice may hold its slot: shorter when many runs take turns."""
    share = CYCLE_SECONDS * SLOTS.count / max(1, SLOTS.demand())
    return max(MIN_SLICE_SECONDS, min(longest, share))


@dataclass
class Pace:
    """Steps per slice from measured speed, and wall-clock speed for the status line."""

    seconds_per_step: float = 0.01  # first guess; replaced by a moving average after one slice
    longest_slice: float = SLICE_SECONDS
    elapsed: float = 0.0  # wall-clock seconds spent training
    recent: deque = field(default_factory=lambda: deque(maxlen=12))  # (time, step) per slice

    def next_k(self, remaining: int, seconds: float | None = None) -> int:
        """Steps that fit in a slice of `seconds` (default: `slice_seconds()`)."""
        seconds = slice_seconds(self.longest_slice) if seconds is None else seconds
        k = int(seconds / max(self.seconds_per_step, 1e-5))
        return max(1, min(k, MAX_STEPS_PER_SLICE, remaining))

    def record(self, steps: int, seconds: float) -> None:
        if steps > 0:
            self.seconds_per_step = 0.5 * self.seconds_per_step + 0.5 * seconds / steps

    def mark(self, step: int, now: float | None = None) -> None:
        """Note a slice that ended at `step`; gaps over a second (paused, waiting) don't count
        as training time."""
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


@dataclass
class Live:
    """A run's live state, shared by its worker thread and the page (plain attributes: each is
    written by one side and read by the other; `lock` guards starting and ending the worker).

    running: Train mode (the button shows Pause); steps_asked: Step clicks not yet taken;
    version: bumped after every slice; seen: the version the page last drew; probed: the version
    of the last probe; waiting: the last slot request timed out; error: why the worker stopped,
    if it failed; view: what the page shows (a tab name), for the driver's probe."""

    running: bool = False
    steps_asked: int = 0
    closed: bool = False
    version: int = 0
    seen: int = -1
    probed: int = -1
    probes: int = 0
    waiting: bool = False
    error: str = ""
    view: str = ""
    thread: threading.Thread | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)


class Driver(Protocol):
    """A run the worker can advance. `remaining`: steps it may still take (0: finished);
    `experiments`: whose locks a slice holds; `workers`: how many training slots it can use."""

    workers: int
    pace: Pace
    live: Live

    @property
    def remaining(self) -> int: ...

    @property
    def experiments(self) -> list[Any]: ...

    @property
    def step(self) -> int: ...

    def advance(self, k: int, workers: int) -> None: ...

    def observe(self) -> None: ...


# ---- what the page and the clicks call --------------------------------------------------------
def start(driver: Driver) -> None:
    """Train: keep training until paused, finished, diverged or closed."""
    if driver.live.closed:
        return
    driver.live.running = True
    driver.live.error = ""
    _wake(driver)


def pause(driver: Driver) -> None:
    """Stop, and wait for the slice in progress (at most SLICE_SECONDS): the page drawn after a
    Pause shows the run's final step count, not one a slice short of it."""
    live = driver.live
    live.running = False
    live.steps_asked = 0
    driver.pace.pause()
    if live.thread is not None and live.thread is not threading.current_thread():
        with locked(driver.experiments):  # a slice holds these while it steps
            pass


def request(driver: Driver, steps: int) -> None:
    """Step: take `steps` more steps (then stop, unless training), and probe."""
    driver.live.steps_asked += max(0, int(steps))
    driver.live.error = ""
    _wake(driver)


def close(driver: Driver) -> None:
    """The run is dropped (Reset, a new run, the tab went): its worker stops for good."""
    pause(driver)
    driver.live.closed = True


def busy(driver: Driver) -> bool:
    """Whether the page should keep drawing: training, stepping, or a change not yet shown."""
    live = driver.live
    return live.running or live.thread is not None or live.version != live.seen


def seen(driver: Driver, version: int) -> None:
    """The page has drawn the run as it was at `version` (read before drawing)."""
    driver.live.seen = version


def drawing(driver: Driver) -> bool:
    """A page starts drawing the run as it is now: mark it seen, and say whether the page should
    ask for another drawing after this one (`busy`)."""
    seen(driver, driver.live.version)
    return busy(driver)


def fresh_probe_due(driver: Driver) -> bool:
    """Probe after this slice? Only once the page has drawn the last probe (or there is none)."""
    live = driver.live
    return live.seen >= live.probed


def running(driver: Driver | None) -> bool:
    return driver is not None and driver.live.running


_workers: dict[int, Driver] = {}  # id(driver) -> driver, while its worker runs


def _wake(driver: Driver) -> None:
    live = driver.live
    with live.lock:
        if live.closed or live.thread is not None:
            return
        live.thread = threading.Thread(
            target=_work, args=(driver,), name="playground-training", daemon=True
        )
        _workers[id(driver)] = driver
        live.thread.start()


def pause_all(timeout: float = 10.0) -> None:
    """Pause every run that has a worker and wait for the workers to end (tests, shutdown)."""
    drivers = list(_workers.values())
    threads = [d.live.thread for d in drivers]
    for driver in drivers:
        pause(driver)
    for thread in threads:
        if thread is not None:
            thread.join(timeout)


def _has_work(driver: Driver) -> bool:
    """Train mode within the step budget, or Step clicks not yet taken (a Step may go past the
    budget: each click asks for a few steps, no more)."""
    live = driver.live
    if live.closed:
        return False
    if live.running and driver.remaining <= 0:
        live.running = False
    return live.running or live.steps_asked > 0


def _work(driver: Driver) -> None:
    """The worker: slices of training until there is nothing left to do, then one last probe."""
    live = driver.live
    while True:
        with live.lock:
            work = not live.error and _has_work(driver)
            if not work and (live.closed or live.error or live.probed == live.version):
                live.thread = None
                _workers.pop(id(driver), None)
                live.version += 1  # the page draws once more: the worker has stopped
                return
        try:
            if work:
                _slice(driver)
            else:  # stopped: probe the final state, so the paused page shows it exactly
                with locked(driver.experiments):
                    driver.observe()
                live.probed = live.version
                live.probes += 1
        except Exception as error:  # noqa: BLE001 - the page says what happened; the server goes on
            LOG.exception("training stopped by an error")
            live.error = f"Training stopped: {type(error).__name__}: {str(error)[:200]}"
            live.running, live.steps_asked = False, 0


def _slice(driver: Driver) -> None:
    live = driver.live
    held = SLOTS.acquire(driver.workers, timeout=SLOT_WAIT_SECONDS)
    if not held:
        if not live.waiting:
            live.waiting = True
            live.version += 1
        return
    live.waiting = False
    try:
        with locked(driver.experiments):  # the page reads under the same locks
            # Read and count off under the lock: a Pause waits for it (live.pause), so a Pause
            # that came while this worker waited for its slot leaves nothing to take, and a Step
            # right after a Pause is never counted off against a slice taken in Train mode.
            training = live.running
            budget = driver.remaining if training else live.steps_asked
            if budget <= 0:
                return
            before = driver.step
            started = time.perf_counter()
            driver.advance(driver.pace.next_k(budget), held)
            stepped = time.perf_counter()
            taken = driver.step - before
            if training or taken == 0:  # nothing more can be taken (finished, diverged)
                live.steps_asked = 0
            else:
                live.steps_asked = max(0, live.steps_asked - taken)
            probe = fresh_probe_due(driver)
            if probe:
                driver.observe()
    finally:
        SLOTS.release(held)
    # Python's locks hand over to no one: without a pause, the worker would take the experiment's
    # lock again before a script run waiting for it (to ask the model something) woke up.
    time.sleep(HANDOVER_SECONDS)
    driver.pace.record(taken, stepped - started)
    driver.pace.mark(driver.step)
    live.version += 1
    if probe:
        live.probed = live.version
        live.probes += 1


def locked(experiments) -> ExitStack:
    """Hold every experiment's lock (a slice of steps and its probe, or a page reading them)."""
    stack = ExitStack()
    for experiment in experiments:
        stack.enter_context(experiment.lock)
    return stack


def settle(driver: Driver, timeout: float = 30.0) -> bool:
    """Wait until the run's worker is idle (for tests, tools and notebooks); True if it is."""
    deadline = time.monotonic() + timeout
    while driver.live.thread is not None or _pending(driver):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True


def _pending(driver: Driver) -> bool:
    live = driver.live
    return not live.closed and not live.running and live.steps_asked > 0


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
