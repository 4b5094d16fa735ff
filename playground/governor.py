"""The server's memory budget for resident runs, and the queue of visitors waiting for room.

One `Governor` per server process (`GOVERNOR`). Before a page builds a run it asks for that run's
estimated bytes (`core.memory.estimate`) under a name of its own (owner, slot): a session's
playground run, its race, its sweep. A request that fits is reserved at once; one that doesn't
joins a first-come queue and is told how many are ahead. Asking again (the next tick or click)
either gets in or keeps its place; a visitor who stops asking for WAIT_TTL_SECONDS has left.

A reservation ends when the run is dropped: `hold(owner, slot, run)` ties it to the run object's
lifetime, `release(owner, slot)` ends it at once (a replaced run, a closed session), and asking
again under the same name replaces it, so a Reset never waits behind its own old run. When a
request doesn't fit, the governor first runs `reclaim` (a full garbage collection: models sit in
reference cycles and stay resident until one runs) and asks again.

Waiters are served first come first served: room that frees up is kept for the earliest waiter
it fits. A request may skip ahead of larger ones that don't fit (a smaller model fits now), except
past a waiter that has waited AGING_SECONDS: its bytes are then held back, so it can't starve.
No Streamlit here.
"""

from __future__ import annotations

import functools
import itertools
import os
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any

from core.config import ExperimentConfig
from core.memory import estimate

MB = 2**20
ENV = "PLAYGROUND_MEMORY_MB"
# A 2 GB container: the idle server (Python, torch, Streamlit, plotly, and statsmodels with scipy
# for the forecasts' Holt-Winters, +75 MB) holds 575-825 MB; what is left after room for the
# allocator's slack goes to resident runs (bench/hostile.py: 20 visitors of the largest run stay
# under 2 GB). The estimates are peaks, so resident runs take less.
DEFAULT_MEMORY_MB = 1200
WAIT_TTL_SECONDS = 30.0
AGING_SECONDS = 60.0
# A waiting page asks again every 2 s: one silent for longer than this holds no room for itself
# (it keeps its place until WAIT_TTL_SECONDS), so a closed tab doesn't block the queue.
LIVE_WAITER_SECONDS = 10.0
RECLAIM_EVERY_SECONDS = 5.0


def budget_from_env() -> int:
    """PLAYGROUND_MEMORY_MB in bytes; the default when unset, not a number or not positive."""
    try:
        value = float(os.environ.get(ENV, DEFAULT_MEMORY_MB))
    except ValueError:
        return DEFAULT_MEMORY_MB * MB
    return int(value * MB) if value > 0 else DEFAULT_MEMORY_MB * MB


@dataclass(frozen=True)
class Admission:
    """The answer to a request: admitted, or the place in the queue and the room there is now."""

    admitted: bool
    needed: int
    ahead: int = 0  # waiters who asked before this one and are still waiting
    free: int = 0  # bytes a request could get right now (after any held back for the queue)


@dataclass
class _Waiter:
    arrived: float
    seen: float
    needed: int


@dataclass
class _Reservation:
    needed: int
    token: int
    finalizer: weakref.finalize | None = field(default=None, repr=False)


class Governor:
    """Reservations against a byte budget, plus the queue of requests that didn't fit."""

    def __init__(
        self,
        budget: int,
        clock: Callable[[], float] = time.monotonic,
        reclaim: Callable[[], None] | None = None,
    ) -> None:
        self.budget = budget
        self._clock = clock
        self._reclaim = reclaim
        self._reclaimed_at = -float("inf")
        self._lock = threading.Lock()
        self._reserved: dict[tuple[Hashable, str], _Reservation] = {}
        self._waiting: dict[tuple[Hashable, str], _Waiter] = {}
        self._tokens = itertools.count()
        # Finalizers run inside garbage collection, which can start in any thread at any
        # allocation, even one holding the lock: they only queue the release (deque.append is
        # atomic), and the next locked call applies it.
        self._finalized: deque[tuple[tuple[Hashable, str], int]] = deque()

    # ---- asking ------------------------------------------------------------------------------
    def request(self, owner: Hashable, slot: str, needed: int) -> Admission:
        """Reserve `needed` bytes for (owner, slot), replacing what it held; or queue it."""
        admission = self._try(owner, slot, needed)
        if admission.admitted or self._reclaim is None:
            return admission
        now = self._clock()
        if now - self._reclaimed_at < RECLAIM_EVERY_SECONDS:
            return admission
        self._reclaimed_at = now
        self._reclaim()  # outside the lock: a collection may take a while
        return self._try(owner, slot, needed)

    def _try(self, owner: Hashable, slot: str, needed: int) -> Admission:
        key = (owner, slot)
        with self._lock:
            now = self._clock()
            self._tidy(now)
            current = self._reserved.get(key)
            free = self.budget - self._used() + (current.needed if current else 0)
            mine = self._waiting.get(key)
            ahead = list(self._waiting.values())  # in order of arrival (a dict keeps it)
            if mine is not None:
                ahead = ahead[: list(self._waiting).index(key)]
            available = max(free - _held_for(ahead, free, now), 0)
            if needed <= available:
                self._waiting.pop(key, None)
                if current is not None and current.finalizer is not None:
                    current.finalizer.detach()
                self._reserved[key] = _Reservation(needed, next(self._tokens))
                return Admission(True, needed)
            if mine is None:
                mine = self._waiting[key] = _Waiter(now, now, needed)
            mine.seen, mine.needed = now, needed
            return Admission(False, needed, ahead=len(ahead), free=available)

    def hold(self, owner: Hashable, slot: str, run: object) -> None:
        """End (owner, slot)'s reservation when `run` is garbage (unless it was replaced first)."""
        key = (owner, slot)
        with self._lock:
            reservation = self._reserved.get(key)
            if reservation is None:
                return
            if reservation.finalizer is not None:
                reservation.finalizer.detach()
            reservation.finalizer = weakref.finalize(
                run, self._finalized.append, (key, reservation.token)
            )

    # ---- giving back -----------------------------------------------------------------------
    def release(self, owner: Hashable, slot: str | None = None) -> int:
        """End the reservations (and queue places) of `owner` (one slot, or all). Bytes freed."""
        with self._lock:
            self._tidy(self._clock())
            keys = [k for k in self._reserved if k[0] == owner and slot in (None, k[1])]
            freed = 0
            for key in keys:
                reservation = self._reserved.pop(key)
                if reservation.finalizer is not None:
                    reservation.finalizer.detach()
                freed += reservation.needed
            for key in [k for k in self._waiting if k[0] == owner and slot in (None, k[1])]:
                del self._waiting[key]
            return freed

    def _tidy(self, now: float) -> None:
        """Apply the releases of runs that were garbage-collected; forget departed waiters."""
        while self._finalized:
            key, token = self._finalized.popleft()
            reservation = self._reserved.get(key)
            if reservation is not None and reservation.token == token:
                del self._reserved[key]
        for key in [k for k, w in self._waiting.items() if now - w.seen > WAIT_TTL_SECONDS]:
            del self._waiting[key]

    def _used(self) -> int:
        return sum(r.needed for r in self._reserved.values())

    # ---- looking ---------------------------------------------------------------------------
    def reserved_bytes(self) -> int:
        """Bytes reserved by all runs now."""
        with self._lock:
            self._tidy(self._clock())
            return self._used()

    def reserved(self, owner: Hashable, slot: str) -> int:
        """Bytes (owner, slot) holds now (0: none)."""
        with self._lock:
            self._tidy(self._clock())
            reservation = self._reserved.get((owner, slot))
            return reservation.needed if reservation else 0

    def waiting(self) -> int:
        with self._lock:
            self._tidy(self._clock())
            return len(self._waiting)


def _held_for(ahead: list[_Waiter], free: int, now: float) -> int:
    """Bytes kept back for the waiters `ahead` (in order of arrival), first come first served.

    Each live waiter that fits in what is left gets its room (it takes it at its next ask, within
    seconds), and one that has waited AGING_SECONDS gets it whether it fits yet or not, so it
    can't starve. Without the first rule, whichever of 17 equal waiters asked first after a
    release got in, not the one told "0 runs ahead of you"."""
    held = 0
    for waiter in ahead:
        if now - waiter.seen > LIVE_WAITER_SECONDS:
            continue
        if waiter.needed <= free - held or now - waiter.arrived >= AGING_SECONDS:
            held += waiter.needed
    return held


# ---- for the pages -------------------------------------------------------------------------------
# Figures, the previous probe and Streamlit's copies of a playground page, on top of the run.
PAGE_BYTES = 32 * MB
HIDDEN_STEPS = (512, 384, 256, 192, 128, 96, 64, 48, 32, 24, 16, 8, 4, 2, 1)


def needed_bytes(configs: Iterable[ExperimentConfig], data: Any = None, extra: int = 0) -> int:
    """What runs of these configs need together (raises what `core.memory.estimate` raises)."""
    return sum(_estimate(config, data) for config in configs) + extra


def _estimate(config: ExperimentConfig, data: Any) -> int:
    # A waiting page asks again every few seconds: the built-in tasks' estimates are cached.
    return estimate(config, data).total if data is not None else _cached_estimate(config)


@functools.lru_cache(maxsize=512)
def _cached_estimate(config: ExperimentConfig) -> int:
    return estimate(config).total


def admit(
    owner: Hashable,
    slot: str,
    configs: Iterable[ExperimentConfig],
    data: Any = None,
    extra: int = 0,
    one_at_a_time: bool = False,
) -> Admission:
    """Ask GOVERNOR for room for runs of `configs`: all resident together (a race, a preset's
    runs), or `one_at_a_time` (a sweep builds one run after another: room for the largest)."""
    if one_at_a_time:
        needed = max((needed_bytes([c], data) for c in configs), default=0) + extra
    else:
        needed = needed_bytes(configs, data, extra)
    return GOVERNOR.request(owner, slot, needed)


def smaller_that_fits(
    config: ExperimentConfig, free: int, data: Any = None, extra: int = 0
) -> int | None:
    """The largest hidden size below `config.hidden` whose run fits in `free` bytes, if any."""
    for hidden in HIDDEN_STEPS:
        if hidden < config.hidden:
            try:
                if needed_bytes([config.replace(hidden=hidden)], data, extra) <= free:
                    return hidden
            except ValueError:  # a setting that doesn't hold at this size: try the next
                continue
    return None


def full_message(admission: Admission, smaller_hidden: int | None = None) -> str:
    """What a visitor who has to wait is told."""
    ahead = admission.ahead
    if ahead:
        text = f"The server is full: {ahead} {'run' if ahead == 1 else 'runs'} ahead of you."
    else:
        text = "The server is full: every bit of memory for runs is in use."
    text += (
        f" This run needs about {admission.needed / MB:,.0f} MB; it starts by itself as soon as "
        "there is room (the page checks every few seconds, keep it open)."
    )
    if smaller_hidden is not None:
        text += f" A smaller model fits now: {smaller_hidden} hidden units or fewer."
    return text


def reclaim_memory() -> None:
    """A full garbage collection (freed models sit in reference cycles until one runs), then
    glibc's malloc_trim, which returns the free pages of every heap to the system."""
    import gc

    gc.collect()
    trim_allocator()


def trim_allocator() -> None:
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to trim
        pass


ARENAS_ENV = "PLAYGROUND_MALLOC_ARENAS"
M_ARENA_MAX = -8  # glibc's mallopt parameter


@functools.cache  # once per process
def limit_arenas() -> None:
    """Cap glibc's heaps ("arenas") at PLAYGROUND_MALLOC_ARENAS (default 2; 0 leaves glibc's 8 per
    core): a thread that finds the heaps busy gets a new one, so every session's script thread
    and training slot ends up with its own, and what a closed session left in each one stays
    mapped. Like MALLOC_ARENA_MAX, but set by the app itself, however the server is started; it
    applies to heaps made from now on, so call it before the first session."""
    try:
        arenas = max(int(os.environ.get(ARENAS_ENV, "2")), 0)
    except ValueError:
        arenas = 2
    if arenas == 0:
        return
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").mallopt(M_ARENA_MAX, arenas)
    except (OSError, AttributeError):  # not glibc
        pass


GOVERNOR = Governor(budget_from_env(), reclaim=reclaim_memory)
