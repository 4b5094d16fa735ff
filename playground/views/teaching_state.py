"""Session keys of the teaching pages (cell race, memory sweep, preset runs).

playground/state.py owns the main playground's keys and has no generic get/set, so the teaching
pages keep theirs here, every key namespaced ("race_", "sweep_", "preset_run_") so they can never
collide with the playground's. Widget keys of these pages use the same prefixes. The values
(races, sweeps, preset runs: models and their results) live in the session's workspace, so an
idle session gives them back (playground/workspace.py); widget values stay in st.session_state.
"""

from __future__ import annotations

import time
from contextlib import ExitStack
from typing import Any

from playground import live, state

PREFIXES = ("race_", "sweep_", "preset_run_")


def _check(key: str) -> str:
    if not key.startswith(PREFIXES):
        raise KeyError(f"teaching-page session keys start with one of {PREFIXES}; got {key!r}")
    return key


def get(key: str, default: Any = None) -> Any:
    return state.workspace().get(_check(key), default)


def put(key: str, value: Any) -> None:
    state.workspace().put(_check(key), value)


def forget(key: str) -> None:
    state.workspace().pop(_check(key))


def locked(experiments) -> ExitStack:
    """Hold every experiment's lock (step + probe together), like the playground's tick does."""
    stack = ExitStack()
    for experiment in experiments:
        stack.enter_context(experiment.lock)
    return stack


class Slot:
    """A process-wide training slot for one tick (None when the server is busy)."""

    def __enter__(self) -> bool:
        self.held = live.try_acquire_slot(wait=live.SLOT_WAIT_SECONDS)
        return self.held

    def __exit__(self, *exc) -> None:
        if self.held:
            live.release_slot()


def now() -> float:
    return time.perf_counter()
