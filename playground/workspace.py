"""The heavy part of a visitor's session, and giving it back when the visitor goes quiet.

A session's models, optimizers, probes and figures (tens to hundreds of MB) live in one
`Workspace`, apart from its settings and uploaded table. An open tab that nobody uses would
otherwise hold them until the tab is closed; after `PLAYGROUND_IDLE_SECONDS` (default 900; 0 turns
it off) without a single read or write, a sweep empties the workspace. The visitor keeps the
settings, and the page says what happened.

No Streamlit here: st.session_state belongs to the session's own script thread, so the sweep
(run from a background thread) only ever touches workspaces, each under its own lock. Any access
counts as activity, so a session that trains (a tick every fraction of a second) is never idle.
"""

from __future__ import annotations

import os
import threading
import time
import weakref
from typing import Any

DEFAULT_IDLE_SECONDS = 900.0
SWEEP_SECONDS = 30.0


def idle_seconds_from_env() -> float:
    """PLAYGROUND_IDLE_SECONDS, or the default when unset or not a number; 0 disables release."""
    try:
        value = float(os.environ.get("PLAYGROUND_IDLE_SECONDS", DEFAULT_IDLE_SECONDS))
    except ValueError:
        return DEFAULT_IDLE_SECONDS
    return value if value >= 0 else DEFAULT_IDLE_SECONDS


class Workspace:
    """A dict of one session's heavy values with a last-used time; `release_if_idle` empties it."""

    def __init__(self, clock=time.monotonic) -> None:
        self._values: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._clock = clock
        self.last_used = clock()
        self.released = False  # set by a release, cleared by `pop_released`

    def get(self, key: str, default: Any = None) -> Any:
        with self._lock:
            self.last_used = self._clock()
            return self._values.get(key, default)

    def put(self, key: str, value: Any) -> None:
        with self._lock:
            self.last_used = self._clock()
            self._values[key] = value

    def pop(self, key: str) -> None:
        with self._lock:
            self.last_used = self._clock()
            self._values.pop(key, None)

    def pop_released(self) -> bool:
        with self._lock:
            self.last_used = self._clock()
            released, self.released = self.released, False
            return released

    def release_if_idle(self, idle_seconds: float) -> bool:
        """Drop every value if unused for `idle_seconds`; True when something was dropped."""
        with self._lock:
            if not self._values or self._clock() - self.last_used < idle_seconds:
                return False
            self._values.clear()
            self.released = True
            return True


_workspaces: weakref.WeakSet[Workspace] = weakref.WeakSet()  # a closed session's goes with it
_registry_lock = threading.Lock()
_sweeper: threading.Thread | None = None


def new_workspace() -> Workspace:
    """A workspace for a new session, swept from now on (the sweeper starts with the first one)."""
    workspace = Workspace()
    with _registry_lock:
        _workspaces.add(workspace)
    _start_sweeper()
    return workspace


def sweep(idle_seconds: float | None = None) -> int:
    """Release every workspace idle for `idle_seconds` (default: from the environment)."""
    idle = idle_seconds_from_env() if idle_seconds is None else idle_seconds
    if idle <= 0:
        return 0
    with _registry_lock:
        workspaces = list(_workspaces)
    return sum(workspace.release_if_idle(idle) for workspace in workspaces)


def _start_sweeper() -> None:
    global _sweeper
    with _registry_lock:
        if _sweeper is not None or idle_seconds_from_env() <= 0:
            return
        _sweeper = threading.Thread(target=_sweep_forever, name="workspace-sweeper", daemon=True)
        _sweeper.start()


def _sweep_forever() -> None:
    while True:
        time.sleep(min(SWEEP_SECONDS, max(idle_seconds_from_env() / 4, 1.0)))
        sweep()
