"""A tampered client: widget values outside their widget, sent raw as a modified browser would,
and values put straight into the session state. Every one becomes a notice, never a traceback."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.playground.helpers import (
    click,
    experiment,
    settle,
)

APP = str(Path(__file__).resolve().parents[2] / "playground" / "app.py")


def open_app(**params: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    for key, value in params.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception
    return at


def send_raw(at: AppTest, key: str, field: str, value) -> AppTest:
    """Run `at` as if the browser sent `value` in the protobuf field `field` for the widget keyed
    `key` (AppTest's own setters refuse values outside a widget's options; a modified client
    doesn't)."""
    states = at._tree.get_widget_states()
    for state in states.widgets:
        if state.id.endswith("-" + key):
            if field.endswith("array_value"):
                getattr(state, field).data[:] = value
            else:
                setattr(state, field, value)
            break
    else:
        raise KeyError(key)
    return at._run(states)


CASES = [
    # the case: a string for the Column picker (was TypeError at views/controls.py:159)
    ("csv", "w_csv_column", "string_value", "zzz"),
    ("csv", "w_csv_column", "string_value", "999"),
    ("csv", "w_cell", "string_value", "lstn"),
    ("csv", "w_task", "string_value", "x" * 200_000),
    # wrong value types for sliders and number boxes (Streamlit's own deserializers raised)
    ("sine", "w_seq_len", "double_value", 1e9),
    ("sine", "w_seq_len", "double_array_value", [5, 7]),
    ("sine", "w_seq_len", "double_array_value", [1e9]),
    ("sine", "w_noise", "double_array_value", [math.inf]),
    ("sine", "w_lr", "string_value", "[1e9]"),
    ("sine", "w_lr", "string_array_value", ["1e9"]),
    ("sine", "w_hidden", "double_array_value", [1e9]),
    ("sine", "w_batch_size", "string_array_value", ["-1"]),
    ("sine", "w_max_steps", "double_value", math.nan),
    ("sine", "w_max_steps", "double_value", 1e12),
    ("sine", "w_seed", "int_value", -5),
    ("sine", "w_seed", "string_value", "5"),
]


@pytest.mark.parametrize("task, key, field, value", CASES)
def test_a_value_outside_its_widget_is_ignored_with_a_notice(task, key, field, value):
    at = open_app(task=task, seq_len="24", hidden="16")
    before = at.session_state["config"]
    send_raw(at, key, field, value)
    assert not at.exception, [e.value for e in at.exception]
    assert at.session_state["config"] == before, "the widget kept its last good value"
    notices = [w.value for w in at.warning if w.value.startswith("Ignored a value sent for")]
    assert notices and key.removeprefix("w_").replace("_", "\\_") in notices[0], notices
    settle(click(at, "step1"))  # and the page still works
    assert not at.exception and experiment(at).steps_done == 1
    at.run()
    assert not any(w.value.startswith("Ignored a value") for w in at.warning), "shown once"


def test_good_values_still_go_through():
    at = open_app(task="sine", seq_len="24")
    at.slider(key="w_seq_len").set_value(30).run()
    at.select_slider(key="w_hidden").set_value(64).run()
    at.number_input(key="w_seed").set_value(7).run()
    send_raw(at, "w_max_steps", "int_value", 500)  # how Chromium sends a whole-number box
    config = at.session_state["config"]
    assert (config.seq_len, config.hidden, config.seed, config.max_steps) == (30, 64, 7, 500)
    assert not at.warning


@pytest.mark.parametrize(
    "key, value",
    [("w_csv_column", "zzz"), ("w_csv_column", -3), ("w_hidden", "big"), ("w_seq_len", 10**9)],
)
def test_a_tampered_session_state_falls_back_to_the_settings_with_a_notice(key, value):
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["task"] = "csv"
    at.session_state[key] = value  # before the widget is drawn (AppTest's tree refuses after)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    config = at.session_state["config"]
    assert (config.csv_column, config.hidden, config.seq_len) == (-1, 32, 20)
    assert any(key.removeprefix("w_").replace("_", "\\_") in w.value for w in at.warning)


def test_other_pages_are_guarded_too():
    script = (
        "import sys\nfrom pathlib import Path\nsys.path.insert(0, str(Path.cwd()))\n"
        "from playground import state\nfrom playground.views import race\n"
        "state.start_session()\nrace.page()\n"
    )
    at = AppTest.from_string(script, default_timeout=60).run()
    before = at.selectbox(key="race_task").value
    send_raw(at, "race_task", "string_value", "format c:")
    assert not at.exception
    assert at.selectbox(key="race_task").value == before
    send_raw(at, "race_hidden", "double_value", 1e12)
    assert not at.exception and at.number_input(key="race_hidden").value == 32
