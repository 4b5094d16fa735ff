"""Links whose values are fine alone but not together fall back to working settings, with notices."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.config import FIELDS
from core.links import MAX_NOTICES, cap, config_from_link, task_problem
from core.tasks import make_task


@pytest.mark.parametrize(
    "params, reset, kept",
    [
        # min_len above seq_len: min_len goes back to 0, seq_len stays.
        (
            {"task": "next_number", "seq_len": "20", "min_len": "400"},
            {"min_len": 0},
            {"seq_len": 20},
        ),
        ({"task": "text", "seq_len": "30", "min_len": "31"}, {"min_len": 0}, {"seq_len": 30}),
        ({"task": "csv", "seq_len": "24", "min_len": "50"}, {"min_len": 0}, {"seq_len": 24}),
        # next_number needs three steps: seq_len goes back to its default.
        ({"task": "next_number", "seq_len": "2"}, {"seq_len": FIELDS["seq_len"].default}, {}),
        # The demo series has fewer columns than asked for.
        (
            {"task": "csv", "csv_column": "7", "normalise": "minmax"},
            {"csv_column": -1},  # back to the default: the first series column
            {"normalise": "minmax"},
        ),
    ],
)
def test_jointly_invalid_links_reset_the_fewest_settings(params, reset, kept):
    assert task_problem(config_from_link(params)[0]) is None
    config, notices = config_from_link(params)
    for name, value in {**reset, **kept}.items():
        assert getattr(config, name) == value, name
    assert config.task == params["task"]
    assert len(notices) == 1 and "instead" in notices[0]
    for name in reset:
        assert f"{name}=" in notices[0]


def test_a_link_needing_a_table_checks_against_the_table_given():
    table = np.column_stack([np.arange(300.0), np.sin(np.arange(300) / 7)])
    config, notices = config_from_link({"task": "csv", "csv_column": "1"}, data=table)
    assert config.csv_column == 1 and notices == []
    config, notices = config_from_link({"task": "csv", "csv_column": "2"}, data=table)
    assert config.csv_column == -1 and "csv_column" in notices[0]  # the default: the sine column
    assert make_task(config, table).column == 1


def test_many_problems_are_summarised_not_listed():
    params = {f"junk{i}": "1" for i in range(60)}
    config, notices = config_from_link(params)
    assert len(notices) == MAX_NOTICES
    assert notices[-1].startswith(f"{60 - MAX_NOTICES + 1} more problems")
    assert cap(["a", "b"]) == ["a", "b"]


@settings(max_examples=60, deadline=None)
@given(
    task=st.sampled_from(["next_number", "text", "csv", "speech", "copy", "sine"]),
    seq_len=st.integers(-5, 600),
    min_len=st.integers(-5, 600),
    csv_column=st.integers(-2, 12),
)
def test_any_combination_gives_a_config_the_task_accepts(task, seq_len, min_len, csv_column):
    params = {
        "task": task,
        "seq_len": str(seq_len),
        "min_len": str(min_len),
        "csv_column": str(csv_column),
    }
    config, notices = config_from_link(params)
    assert task_problem(config) is None
    assert len(notices) <= MAX_NOTICES
