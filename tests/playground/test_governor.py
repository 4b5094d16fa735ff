"""The memory governor: reservations, the queue, releases; and the playground page waiting in it."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import weakref
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core import ExperimentConfig
from core.memory import estimate
from playground import governor
from playground.governor import MB, Governor
from tests.playground.helpers import (
    button,
    click,
    experiment,
    settle,
)

APP = str(Path(__file__).resolve().parents[2] / "playground" / "app.py")


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Run:
    """Something a reservation can be tied to (any object that can be weakly referenced)."""


def test_requests_are_reserved_until_the_budget_is_full_then_queued_in_order():
    clock = Clock()
    gov = Governor(100 * MB, clock)
    assert gov.request("a", "run", 40 * MB).admitted
    assert gov.request("b", "run", 40 * MB).admitted
    first = gov.request("c", "run", 40 * MB)
    assert not first.admitted and first.ahead == 0 and first.free == 20 * MB
    second = gov.request("d", "run", 40 * MB)
    assert not second.admitted and second.ahead == 1
    assert gov.request("c", "run", 40 * MB).ahead == 0, "asking again keeps the place"
    assert gov.reserved_bytes() == 80 * MB and gov.waiting() == 2
    gov.release("a")
    assert gov.request("c", "run", 40 * MB).admitted
    assert not gov.request("d", "run", 40 * MB).admitted
    assert gov.waiting() == 1


def test_freed_room_goes_to_the_earliest_waiter_it_fits_whoever_asks_first():
    clock = Clock()
    gov = Governor(100 * MB, clock)
    gov.request("a", "run", 60 * MB)
    waiters = ["w1", "w2", "w3"]
    for name in waiters:
        assert not gov.request(name, "run", 60 * MB).admitted
    gov.release("a")
    clock.now += 1
    assert not gov.request("w3", "run", 60 * MB).admitted, "w1 is first, and fits now"
    assert not gov.request("w2", "run", 60 * MB).admitted
    assert gov.request("w1", "run", 60 * MB).admitted
    assert gov.request("small", "run", 30 * MB).admitted, "what is left still fits a small one"
    gov.release("w1")
    clock.now += governor.LIVE_WAITER_SECONDS + 1  # w2 has stopped asking: its tab is closed
    assert gov.request("w3", "run", 60 * MB).admitted


def test_a_smaller_request_fits_now_but_not_past_a_long_waiter():
    clock = Clock()
    gov = Governor(100 * MB, clock)
    gov.request("a", "run", 70 * MB)
    assert not gov.request("big", "run", 50 * MB).admitted
    assert gov.request("small", "run", 20 * MB).admitted, "a smaller model fits now"
    for _ in range(int(governor.AGING_SECONDS // 10)):  # it keeps asking, every 10 s
        clock.now += 10
        assert not gov.request("big", "run", 50 * MB).admitted
    # It has now waited long enough to hold its place: no newcomer gets its memory.
    assert not gov.request("tiny", "run", 5 * MB).admitted
    gov.release("a")
    assert gov.request("big", "run", 50 * MB).admitted


def test_asking_again_under_the_same_name_replaces_the_reservation():
    gov = Governor(100 * MB)
    assert gov.request("a", "run", 60 * MB).admitted
    assert gov.request("a", "run", 90 * MB).admitted, "a Reset never waits behind its own run"
    assert gov.reserved_bytes() == 90 * MB
    assert gov.request("a", "race", 10 * MB).admitted
    assert gov.release("a") == 100 * MB and gov.reserved_bytes() == 0


def test_a_reservation_ends_when_its_run_is_garbage():
    gov = Governor(100 * MB)
    gov.request("a", "run", 60 * MB)
    run = Run()
    gov.hold("a", "run", run)
    del run
    gc.collect()
    assert gov.reserved_bytes() == 0
    # A replaced reservation is not ended by its old run dying later.
    old = Run()
    gov.request("b", "run", 30 * MB)
    gov.hold("b", "run", old)
    gov.request("b", "run", 50 * MB)
    del old
    gc.collect()
    assert gov.reserved("b", "run") == 50 * MB


def test_waiters_who_stop_asking_leave_the_queue():
    clock = Clock()
    gov = Governor(10 * MB, clock)
    gov.request("a", "run", 10 * MB)
    gov.request("gone", "run", 10 * MB)
    assert gov.request("b", "run", 10 * MB).ahead == 1
    clock.now += governor.WAIT_TTL_SECONDS + 1
    assert gov.request("b", "run", 10 * MB).ahead == 0


def test_a_full_governor_collects_garbage_before_saying_no():
    calls = []
    gov = Governor(100 * MB)

    def reclaim():
        calls.append(1)
        gov.release("a")  # what a collection does when the old run was only held by a cycle

    gov._reclaim = reclaim
    gov.request("a", "run", 80 * MB)
    assert gov.request("b", "run", 80 * MB).admitted and calls == [1]


def test_the_budget_comes_from_the_environment(monkeypatch):
    default = governor.DEFAULT_MEMORY_MB
    for value, expected in [(None, default), ("2048", 2048), ("0", default), ("x", default)]:
        if value is None:
            monkeypatch.delenv(governor.ENV, raising=False)
        else:
            monkeypatch.setenv(governor.ENV, value)
        assert governor.budget_from_env() == expected * MB


def test_the_message_says_how_many_are_ahead_and_what_fits_now():
    config = ExperimentConfig(cell="lstm", task="adding", hidden=512, layers=3, batch_size=1)
    config = config.replace(seq_len=100)
    free = estimate(config.replace(hidden=128)).total + governor.PAGE_BYTES
    smaller = governor.smaller_that_fits(config, free, extra=governor.PAGE_BYTES)
    assert smaller == 128
    text = governor.full_message(governor.Admission(False, 500 * MB, ahead=3), smaller)
    assert "The server is full: 3 runs ahead of you" in text
    assert "A smaller model fits now: 128 hidden units" in text
    assert "1 run ahead" in governor.full_message(governor.Admission(False, MB, ahead=1))


@pytest.fixture
def tiny_budget(monkeypatch):
    """The process-wide governor with room for one small playground run, restored afterwards."""
    config = ExperimentConfig(task="adding", seq_len=10, hidden=8)
    one = estimate(config).total + governor.PAGE_BYTES
    # A governor of its own: sessions of earlier tests in this process may still hold room.
    monkeypatch.setattr(governor, "GOVERNOR", Governor(one + MB))
    yield
    gc.collect()


def open_page() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    for key, value in {"task": "adding", "seq_len": "10", "hidden": "8"}.items():
        at.query_params[key] = value
    return at.run()


def test_a_visitor_beyond_the_budget_waits_with_a_message_and_gets_in_when_room_frees(
    tiny_budget,
):
    first = open_page()
    assert not first.exception and experiment(first)
    second = open_page()
    assert not second.exception and not second.error
    assert experiment(second) is None
    waiting = [w.value for w in second.warning if "The server is full" in w.value]
    assert waiting, [w.value for w in second.warning]
    assert button(second, "step1")["disabled"] and button(second, "train")["disabled"]
    second.run()  # the waiting room asks again (AppTest does not fire its timer): still full
    assert not second.exception
    assert any("The server is full" in w.value for w in second.warning)
    # The first visitor leaves: their run is released; the second's next run gets in.
    released = weakref.ref(experiment(first))
    first.session_state["workspace"]._release("closed")
    gc.collect()
    assert released() is None
    second.run()
    assert not second.exception
    assert experiment(second) is not None
    assert not any("The server is full" in w.value for w in second.warning)
    settle(click(second, "step1"))
    assert experiment(second).steps_done == 1


ARENA_SCRIPT = """
import ctypes, os, sys, threading
sys.path.insert(0, os.getcwd())
from playground import governor
governor.limit_arenas()
ready = threading.Barrier(8)
def work():
    ready.wait()  # all 8 alive at once, each allocating: each asks glibc for a heap
    junk = [bytearray(64) for _ in range(2000)]
    ready.wait()
threads = [threading.Thread(target=work) for _ in range(8)]
for t in threads: t.start()
for t in threads: t.join()
ctypes.CDLL("libc.so.6").malloc_stats()  # glibc's own account, one "Arena N:" per heap
"""


def test_the_server_caps_the_allocators_heaps():
    """glibc's malloc_stats is the oracle: with the default cap, 8 busy threads share 2 heaps;
    with PLAYGROUND_MALLOC_ARENAS=0 (glibc's own limit) they get one each."""

    def heaps(value: str) -> int:
        env = {**os.environ, "PLAYGROUND_MALLOC_ARENAS": value}
        done = subprocess.run(
            [sys.executable, "-c", ARENA_SCRIPT],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stderr.count("Arena ")

    capped, uncapped = heaps("2"), heaps("0")
    print(f"heaps with PLAYGROUND_MALLOC_ARENAS=2: {capped}; with 0: {uncapped}")
    assert 1 <= capped <= 2 < uncapped
