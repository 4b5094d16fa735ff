"""A live panel's clicks (playground/views/panel.py): each handled once and in order, however the
requests that carry them are merged or repeated, and anything else a browser sends is ignored.

The browser side (static/controls.js) resends every click the server has not acknowledged with
each request; Streamlit keeps only the newest of the requests that queue up behind a run. These
tests feed `handle_clicks` what such a browser sends; the browser tests drive the real one."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from playground import state
from playground.views import panel

KEY = "controls"


@pytest.fixture
def session(monkeypatch):
    values: dict = {}
    fake = SimpleNamespace(session_state=values)
    monkeypatch.setattr(panel, "st", fake)
    monkeypatch.setattr(state, "st", fake)
    return values


def send(session, actions, page, *seqs_names):
    events = [{"seq": seq, "name": name} for seq, name in seqs_names]
    session[KEY] = {"update": {"page": page, "events": events, "ask": 1}}
    panel.handle_clicks(KEY, actions)


def recorder():
    done: list[str] = []
    actions = {name: (lambda n=name: done.append(n)) for name in ("train", "step10", "reset")}
    return done, actions


def test_each_click_runs_once_in_order_however_requests_repeat_it(session):
    done, actions = recorder()
    send(session, actions, "p1", (1, "step10"))
    send(session, actions, "p1", (1, "step10"), (2, "step10"))  # 1 not yet acknowledged: resent
    send(session, actions, "p1", (2, "step10"), (3, "train"), (4, "reset"))
    send(session, actions, "p1", (4, "reset"))  # a repeat after a lost drawing
    assert done == ["step10", "step10", "train", "reset"]
    assert state.clicks_handled(KEY) == {"page": "p1", "seq": 4}


def test_a_merged_request_still_carries_every_click(session):
    done, actions = recorder()
    # Two clicks sent in two requests that Streamlit merged: only the newest arrives, and it holds
    # both, since the first was not acknowledged when the second was sent.
    send(session, actions, "p1", (2, "step10"), (1, "step10"))
    assert done == ["step10", "step10"]


def test_a_click_on_a_button_the_server_has_disabled_does_nothing(session):
    done, actions = recorder()
    send(session, actions, "p1", (1, "step1"))  # not among this drawing's enabled buttons
    assert done == [] and state.clicks_handled(KEY)["seq"] == 1  # acknowledged, not run


def test_a_new_page_counts_from_one_again(session):
    done, actions = recorder()
    send(session, actions, "p1", (1, "train"), (2, "reset"))
    send(session, actions, "p2", (1, "train"))  # the tab was reloaded: a new page
    assert done == ["train", "reset", "train"]


@pytest.mark.parametrize(
    "update",
    [
        None,
        "train",
        {"page": 5, "events": [{"seq": 1, "name": "train"}]},
        {"page": "p", "events": "train"},
        {"page": "p", "events": [{"seq": "1", "name": "train"}, {"seq": True, "name": "train"}]},
        {"page": "p", "events": [{"seq": 1, "name": ["train"]}, 7, None]},
        {"page": "p" * 10_000, "events": [{"seq": 1.5, "name": "reset"}]},
    ],
)
def test_anything_else_a_browser_sends_is_ignored(session, update):
    done, actions = recorder()
    session[KEY] = {"update": update}
    panel.handle_clicks(KEY, actions)
    assert done == []


def test_a_flood_of_events_runs_at_most_a_pageful(session):
    done, actions = recorder()
    send(session, actions, "p1", *[(seq, "step10") for seq in range(1, 10_001)])
    assert len(done) == panel.MAX_EVENTS


def test_a_start_stop_pair_names_its_click_by_what_it_showed():
    stopped = panel.start_stop("train", False, ("Train", "Pause"), (min, max))
    running = panel.start_stop("train", True, ("Train", "Pause"), (min, max))
    assert (stopped.slot, stopped.name, stopped.label, stopped.action) == (
        "train",
        "train",
        "Train",
        min,
    )
    assert (running.slot, running.name, running.label, running.action) == (
        "train",
        "train_stop",
        "Pause",
        max,
    )
