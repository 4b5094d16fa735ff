"""The heavy part of a visitor's session, and giving it back when the visitor goes quiet or leaves.

A session's models, optimizers, probes and figures (tens to hundreds of MB) live in one
`Workspace`, apart from its settings and uploaded table. A background sweep (every SWEEP_SECONDS)
empties a workspace when
- its tab was closed: Streamlit keeps a disconnected session for 120 s in case the tab comes
  back, and frees it only when a garbage collection finds it. The sweep asks `session_is_open`
  (set by playground/state.py from Streamlit's runtime) and releases a workspace whose session
  has been disconnected for `PLAYGROUND_CLOSED_SECONDS` (default 15; a reload or a network blip
  reconnects sooner);
- or nobody used it for `PLAYGROUND_IDLE_SECONDS` (default 900; 0 turns this off): an open tab
  that nobody uses would otherwise hold its run forever.
A release also ends the session's memory reservations (playground/governor.py), and a sweep that
released something runs one full garbage collection and trims the allocator, so the memory is
back within seconds (models sit in reference cycles, which only a full collection frees). The
visitor keeps the settings, and the page says what happened.

No Streamlit here: st.session_state belongs to the session's own script thread, so the sweep
(run from a background thread) only ever touches workspaces, each under its own lock. Any access
counts as activity, so a session that trains (a tick every fraction of a second) is never idle.
"""

from __future__ import annotations

import itertools
import logging
import os
import threading
import time
import weakref
from collections.abc import Callable
from typing import Any

from playground import governor
from playground.governor import reclaim_memory

DEFAULT_IDLE_SECONDS = 900.0
SWEEP_SECONDS = 5.0
CLOSED_GRACE_SECONDS = 15.0
_owners = itertools.count(1)


def closed_grace_from_env() -> float:
    """PLAYGROUND_CLOSED_SECONDS: how long a disconnected session keeps its run (default 15)."""
    try:
        value = float(os.environ.get("PLAYGROUND_CLOSED_SECONDS", CLOSED_GRACE_SECONDS))
    except ValueError:
        return CLOSED_GRACE_SECONDS
    return value if value >= 0 else CLOSED_GRACE_SECONDS


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
        self.reason = ""  # why the last release happened: "idle" or "closed"
        # Names this session's memory reservations (an int: the governor keeps no reference).
        self.owner = next(_owners)
        self.session_id: str | None = None  # Streamlit's id for the session, when known
        self.seen_open = False  # the runtime has listed the session as connected
        self.closed_since: float | None = None
        self.collected = False  # the collection after Streamlit dropped the closed session ran
        weakref.finalize(self, _release_owner, self.owner)

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
            self._release("idle")
            return True

    def release_if_closed(self, is_open: bool | None, grace: float) -> bool:
        """Drop every value once the session has been disconnected for `grace` seconds.

        is_open: whether Streamlit lists the session as connected (None: can't tell). A session
        never seen connected (a test without a browser) is never taken for a closed one."""
        with self._lock:
            if is_open is None:
                return False
            if is_open:
                self.seen_open, self.closed_since = True, None
                return False
            if not self.seen_open:
                return False
            now = self._clock()
            if self.closed_since is None:
                self.closed_since = now
            if not self._values or now - self.closed_since < grace:
                return False
            self._release("closed")
            return True

    def _release(self, reason: str) -> None:
        for value in self._values.values():
            close = getattr(value, "close", None)  # a run's worker stops (playground/live.py)
            if callable(close):
                close()
        self._values.clear()
        self.released, self.reason = True, reason
        _release_owner(self.owner)


def _release_owner(owner: int) -> None:
    governor.GOVERNOR.release(owner)  # looked up now: tests swap in a governor of their own


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


# Set by playground/state.py: session id -> connected (True/False), or None when it can't tell;
# and how long Streamlit keeps a disconnected session (server.disconnectedSessionTTL).
session_is_open: Callable[[str], bool | None] | None = None
session_ttl = 120.0


def watch_sessions(is_open: Callable[[str], bool | None], ttl: float = 120.0) -> None:
    """Let the sweep release the workspaces of closed sessions (and start it, if it isn't yet).

    `ttl`: Streamlit drops a disconnected session after this many seconds; its remaining objects
    (settings, widget states, cached messages) sit in reference cycles, so the sweep collects
    garbage once more when that time has passed for a closed session."""
    global session_is_open, session_ttl
    session_is_open, session_ttl = is_open, ttl
    _start_sweeper()


def sweep(idle_seconds: float | None = None, grace: float | None = None) -> int:
    """Release every workspace of a closed session, or idle for `idle_seconds` (default: from
    the environment; 0: never for idleness). Returns how many were released; if any, collects
    garbage and trims the allocator so their memory goes back to the system now."""
    idle = idle_seconds_from_env() if idle_seconds is None else idle_seconds
    grace = closed_grace_from_env() if grace is None else grace
    with _registry_lock:
        workspaces = list(_workspaces)
    released = 0
    for workspace in workspaces:
        if _closed(workspace, grace) or (idle > 0 and workspace.release_if_idle(idle)):
            released += 1
    if released or _dropped_by_streamlit(workspaces):
        reclaim_memory()
    return released


def _dropped_by_streamlit(workspaces: list[Workspace]) -> bool:
    """True once for closed sessions that Streamlit has stopped keeping by now."""
    now = time.monotonic()
    dropped = [
        w
        for w in workspaces
        if w.reason == "closed"
        and not w.collected
        and w.closed_since is not None
        and now - w.closed_since > session_ttl + SWEEP_SECONDS
    ]
    for workspace in dropped:
        workspace.collected = True
    return bool(dropped)


def _closed(workspace: Workspace, grace: float) -> bool:
    probe = session_is_open
    if probe is None or workspace.session_id is None:
        return False
    return workspace.release_if_closed(probe(workspace.session_id), grace)


def _start_sweeper() -> None:
    global _sweeper
    with _registry_lock:
        if _sweeper is not None or (idle_seconds_from_env() <= 0 and session_is_open is None):
            return
        _sweeper = threading.Thread(target=_sweep_forever, name="workspace-sweeper", daemon=True)
        _sweeper.start()


def _sweep_forever() -> None:
    while True:
        idle, grace = idle_seconds_from_env(), closed_grace_from_env()
        every = min(SWEEP_SECONDS, max(grace / 2, 1.0))
        time.sleep(min(every, max(idle / 4, 1.0)) if idle > 0 else every)
        try:
            sweep()
        except Exception:  # noqa: BLE001 - the sweeper must outlive any one bad workspace
            logging.getLogger(__name__).exception("workspace sweep failed")
