"""Idle sessions give back their models: the workspace, the sweep, and the page afterwards."""

from __future__ import annotations

import gc
import time
import weakref
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core import Experiment, ExperimentConfig
from playground import workspace
from playground.workspace import Workspace
from tests.playground.helpers import (
    click,
    settle,
)

APP = str(Path(__file__).resolve().parents[2] / "playground" / "app.py")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_only_a_workspace_unused_for_the_whole_timeout_is_emptied():
    clock = Clock()
    ws = Workspace(clock)
    assert not ws.release_if_idle(60), "an empty workspace has nothing to give back"
    ws.put("experiment", "model")
    clock.now += 59
    assert not ws.release_if_idle(60)
    assert ws.get("experiment") == "model"  # a read is activity: the clock starts again
    clock.now += 59
    assert not ws.release_if_idle(60)
    clock.now += 2
    assert ws.release_if_idle(60)
    assert ws.get("experiment") is None and ws.get("experiment", "gone") == "gone"
    assert ws.pop_released() and not ws.pop_released(), "the notice is shown once"


def test_sweep_frees_the_model_of_an_idle_session():
    ws = workspace.new_workspace()
    exp = Experiment(ExperimentConfig(task="adding", seq_len=10, hidden=8))
    exp.step(2)
    ws.put("experiment", exp)
    alive = weakref.ref(exp)
    del exp
    assert workspace.sweep(idle_seconds=3600) == 0
    ws.last_used -= 3601
    assert workspace.sweep(idle_seconds=3600) >= 1
    gc.collect()
    assert alive() is None, "nothing else may keep a released model alive"
    assert workspace.sweep(idle_seconds=0) == 0, "0 turns release off"


def test_the_background_sweeper_releases_without_any_visitor(monkeypatch):
    monkeypatch.setenv("PLAYGROUND_IDLE_SECONDS", "4")  # the sweeper then looks every second
    ws = workspace.new_workspace()  # starts the sweeper (once per process)
    ws.put("experiment", object())
    ws.last_used -= 60
    deadline = time.monotonic() + 10
    while not ws.released and time.monotonic() < deadline:
        time.sleep(0.2)
    assert ws.released and ws.get("experiment") is None


@pytest.mark.parametrize(
    "value, expected", [(None, 900.0), ("60", 60.0), ("0", 0.0), ("soon", 900.0), ("-5", 900.0)]
)
def test_idle_timeout_from_the_environment(monkeypatch, value, expected):
    if value is None:
        monkeypatch.delenv("PLAYGROUND_IDLE_SECONDS", raising=False)
    else:
        monkeypatch.setenv("PLAYGROUND_IDLE_SECONDS", value)
    assert workspace.idle_seconds_from_env() == expected


def release_idle(ws: Workspace, *values) -> None:
    """Age `ws` past a 900 s timeout, sweep, and check each value (a weakref) was freed."""
    ws.last_used -= 10_000
    assert workspace.sweep(idle_seconds=900) >= 1
    gc.collect()
    for value in values:
        assert value() is None, "nothing else may keep a released run alive"


def test_page_after_release_says_so_keeps_settings_and_trains_again():
    at = AppTest.from_file(APP, default_timeout=30)
    at.query_params["cell"] = "gru"
    at.query_params["task"] = "sine"
    at.run()
    settle(click(at, "step10"))
    ws: Workspace = at.session_state["workspace"]
    old = weakref.ref(ws.get("playground").experiment)
    assert old().steps_done == 10
    release_idle(ws, old)
    at.run()
    assert not at.exception
    assert any("model was let go" in info.value for info in at.info)
    exp = ws.get("playground").experiment
    assert exp is not None and exp.steps_done == 0 and exp.config.cell == "gru"
    settle(click(at, "step1"))
    assert not at.exception and ws.get("playground").experiment.steps_done == 1
    at.run()
    assert not any("model was let go" in info.value for info in at.info)


def test_an_idle_race_is_released_too():
    script = (
        "import sys\nfrom pathlib import Path\nsys.path.insert(0, str(Path.cwd()))\n"
        "from playground import state\nfrom playground.views import race\n"
        "state.start_session()\nrace.page()\n"
    )
    at = AppTest.from_string(script, default_timeout=60).run()
    at.number_input(key="race_seq_len").set_value(10).run()
    settle(click(at, "race_step"), "race")
    ws: Workspace = at.session_state["workspace"]
    race = weakref.ref(ws.get("race").race)
    assert race().steps_done == 50
    release_idle(ws, race)
    at.run()
    assert not at.exception
    settle(click(at, "race_step"), "race")
    assert not at.exception and ws.get("race").race.steps_done == 50


def test_download_callables_do_not_keep_a_run_alive():
    from playground.actions import exports

    exp = Experiment(ExperimentConfig(task="adding", seq_len=10, hidden=8))
    exp.step(2)
    data = exports.made_later(exp, exports.history_csv)
    assert len(data().splitlines()) == 3  # header + 2 steps
    del exp
    gc.collect()
    assert data() == exports.GONE


def test_a_closed_session_is_released_after_the_grace_and_its_memory_reservation_ends(
    monkeypatch,
):
    from playground import governor

    connected = {"s1"}
    monkeypatch.setattr(workspace, "session_is_open", lambda sid: sid in connected)
    ws = workspace.new_workspace()
    ws.session_id = "s1"
    exp = Experiment(ExperimentConfig(task="adding", seq_len=10, hidden=8))
    exp.step(2)
    assert governor.GOVERNOR.request(ws.owner, "playground", 10 * governor.MB).admitted
    governor.GOVERNOR.hold(ws.owner, "playground", exp)
    ws.put("experiment", exp)
    alive = weakref.ref(exp)
    del exp
    assert workspace.sweep(idle_seconds=0, grace=10) == 0, "connected: kept"
    connected.clear()  # the tab is closed
    assert workspace.sweep(idle_seconds=0, grace=10) == 0, "within the grace: kept"
    connected.add("s1")  # a reload reconnects in time
    assert workspace.sweep(idle_seconds=0, grace=10) == 0 and ws.closed_since is None
    connected.clear()
    workspace.sweep(idle_seconds=0, grace=10)
    ws.closed_since -= 11
    assert workspace.sweep(idle_seconds=0, grace=10) >= 1 and ws.released
    assert alive() is None, "the sweep collected the garbage itself"
    assert ws.pop_released() and ws.reason == "closed"
    assert governor.GOVERNOR.reserved(ws.owner, "playground") == 0


def test_a_session_never_seen_connected_is_not_taken_for_closed(monkeypatch):
    monkeypatch.setattr(workspace, "session_is_open", lambda sid: False)  # AppTest's sessions
    ws = workspace.new_workspace()
    ws.session_id = "test session id"
    ws.put("experiment", object())
    ws.closed_since = None
    workspace.sweep(idle_seconds=0, grace=0)
    assert ws.get("experiment") is not None and not ws.released


@pytest.mark.parametrize(
    "value, expected", [(None, 15.0), ("1", 1.0), ("0", 0.0), ("x", 15.0), ("-1", 15.0)]
)
def test_closed_grace_from_the_environment(monkeypatch, value, expected):
    if value is None:
        monkeypatch.delenv("PLAYGROUND_CLOSED_SECONDS", raising=False)
    else:
        monkeypatch.setenv("PLAYGROUND_CLOSED_SECONDS", value)
    assert workspace.closed_grace_from_env() == expected


def test_garbage_is_collected_again_once_streamlit_has_dropped_a_closed_session(monkeypatch):
    collections = []
    monkeypatch.setattr(workspace, "reclaim_memory", lambda: collections.append(1))
    monkeypatch.setattr(workspace, "session_ttl", 30.0)
    ws = workspace.new_workspace()
    ws.session_id, ws.seen_open = "gone", True
    ws._release("closed")
    ws.closed_since = time.monotonic() - 20
    workspace.sweep(idle_seconds=0, grace=10)
    assert not collections, "Streamlit still keeps the session"
    ws.closed_since = time.monotonic() - 30 - workspace.SWEEP_SECONDS - 1
    workspace.sweep(idle_seconds=0, grace=10)
    workspace.sweep(idle_seconds=0, grace=10)
    assert collections == [1], "once"


def test_a_tab_closed_before_the_first_sweep_is_released(monkeypatch):
    """The hostile bench's lost queue: a visitor's tab opened and closed between two sweeps was
    never seen connected by the sweep, so its run held its memory until the idle timeout."""
    from types import SimpleNamespace

    from playground import state

    connected = {"sid": True}
    monkeypatch.setattr(state, "get_script_run_ctx", lambda: SimpleNamespace(session_id="sid"))
    monkeypatch.setattr(state, "_session_is_open", connected.get)
    monkeypatch.setattr(workspace, "session_is_open", connected.get)
    monkeypatch.setattr(state, "watch_sessions", lambda *args: None)  # no sweeper thread
    ws = workspace.new_workspace()
    state._watch_session(ws)
    ws.put("experiment", object())
    connected["sid"] = False  # closed before any sweep looked
    workspace.sweep(idle_seconds=0, grace=0)
    assert ws.released and ws.reason == "closed" and ws.get("experiment") is None
