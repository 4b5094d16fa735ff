"""A button's click runs its callback once, wherever Streamlit delivers it, and a click that
arrives in a fragment run asks for a full page run (playground/actions.button_action).

Streamlit's own session state and run context are replaced by stand-ins here; the browser test
`test_browser.py::test_a_click_delivered_to_the_live_fragment_still_counts` sends the real
message that a Streamlit 1.67 browser sends."""

from __future__ import annotations

import contextlib
from types import SimpleNamespace

import pytest

from playground import state
from playground.actions import button_action


class Session(dict):
    """st.session_state's two ways in: items and attributes."""

    __getattr__ = dict.__getitem__
    __setattr__ = dict.__setitem__


class Rerun(Exception):
    pass


@pytest.fixture
def streamlit(monkeypatch):
    """A session, a run context whose fragment ids the test sets, and the page runs asked for."""
    fake = SimpleNamespace(session_state=Session(), reruns=[], fragments=[])

    def rerun(scope):
        fake.reruns.append(scope)
        raise Rerun  # like st.rerun: the callback stops here

    monkeypatch.setattr(state, "st", SimpleNamespace(session_state=fake.session_state, rerun=rerun))
    monkeypatch.setattr(
        state, "get_script_run_ctx", lambda: SimpleNamespace(fragment_ids_this_run=fake.fragments)
    )
    return fake


def clicks():
    done = []

    @button_action
    def step(k):
        done.append(k)

    return step, done


def deliver(streamlit, step, k, fragment: bool):
    streamlit.fragments[:] = ["live"] if fragment else []
    with contextlib.suppress(Rerun):
        step(k)


def test_a_click_in_a_full_run_runs_once_and_asks_for_nothing(streamlit):
    step, done = clicks()
    state.count_page_run()
    deliver(streamlit, step, 10, fragment=False)
    assert done == [10]
    assert streamlit.reruns == []


def test_a_click_in_a_fragment_run_runs_and_asks_for_the_whole_page(streamlit):
    step, done = clicks()
    state.count_page_run()
    deliver(streamlit, step, 10, fragment=True)
    assert done == [10]
    assert streamlit.reruns == ["app"]


def test_the_same_click_delivered_again_is_dropped(streamlit):
    """Fragment run then full run, or two fragment runs: Step 10 still makes 10 steps."""
    step, done = clicks()
    state.count_page_run()
    deliver(streamlit, step, 10, fragment=True)
    deliver(streamlit, step, 10, fragment=True)
    deliver(streamlit, step, 10, fragment=False)
    assert done == [10]
    assert streamlit.reruns == ["app", "app"]  # a redraw is asked for again; Streamlit merges them


def test_a_new_click_after_the_page_was_redrawn_runs_again(streamlit):
    step, done = clicks()
    for _ in range(3):
        state.count_page_run()  # the full run that drew the button
        deliver(streamlit, step, 10, fragment=True)
    assert done == [10, 10, 10]


def test_another_button_in_the_same_page_run_is_a_new_click(streamlit):
    step, done = clicks()
    state.count_page_run()
    deliver(streamlit, step, 1, fragment=False)
    deliver(streamlit, step, 10, fragment=False)
    assert done == [1, 10]


def test_a_click_the_fragment_draws_itself_asks_for_no_redraw(streamlit):
    done = []

    @button_action(redraw=False)
    def step(k):
        done.append(k)

    state.count_page_run()
    deliver(streamlit, step, 1, fragment=True)
    deliver(streamlit, step, 1, fragment=False)
    assert done == [1]
    assert streamlit.reruns == []
