"""Divergence on the page (AppTest): a vanilla RNN with a large recurrent gain and learning rate 10.

tests/playground/test_app.py already checks that training pauses, the last good probe is kept and
Reset rebuilds. This adds what the visitor reads and sees: the banner explains exploding gradients
and what to change, no number on the page or in any chart is NaN or infinite, every tab still
draws, and after Reset with a lower learning rate the same network trains normally.

With Adam, or with clipping on, the tanh RNN saturates instead of overflowing (its steps are
bounded), so the diverging run uses plain SGD without clipping.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from playground.charts import component as plotly_live
from tests.playground.helpers import (
    button,
    click,
    running,
    settle,
)

APP = str(Path(__file__).resolve().parents[2] / "playground" / "app.py")
DIVERGING = dict(
    cell="rnn", task="adding", init="scaled", init_gain="10", lr="10", clip="0", optimizer="sgd"
)
TABS = ("Training", "Memory", "Gradients", "Gates", "Weights", "Cell")
NOT_A_NUMBER = re.compile(r"\b(nan|inf|infinity)\b", re.IGNORECASE)


def status_text(at: AppTest) -> str:
    return next(m.value for m in at.markdown if m.value.startswith("**Step "))


def chart_specs(at: AppTest) -> list[tuple[str, dict]]:
    """(key, figure) of every Plotly chart, failing on any NaN or Infinity in its JSON."""
    specs = []
    for key, text in plotly_live.page_figures(at).items():
        bad: list[str] = []
        figure = json.loads(text, parse_constant=bad.append)
        assert not bad, f"{key} holds {bad}"
        specs.append((key, figure))
    return specs


def finite_or_gap(values) -> bool:
    return all(v is None or (isinstance(v, int | float) and math.isfinite(v)) for v in values)


@pytest.fixture(scope="module")
def diverged() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    for key, value in DIVERGING.items():
        at.query_params[key] = value
    at.run()
    settle(click(at, "train"))  # the worker stops where training diverged
    assert not at.exception
    assert at.session_state["workspace"].get("playground").experiment.diverged
    return at


def test_the_banner_explains_exploding_gradients_and_what_to_change(diverged):
    banners = [e.value for e in diverged.error if "diverged" in e.value]
    assert len(banners) == 1, [e.value for e in diverged.error]
    banner = banners[0]
    assert "exploding gradients" in banner
    assert "gradient clipping" in banner and "lower the learning rate" in banner
    assert "recurrent gain below 1 (now 10)" in banner
    assert "press Reset" in banner


def test_training_is_paused_and_the_run_can_not_continue(diverged):
    assert not running(diverged)
    train = button(diverged, "train")
    assert train["label"] == "Train" and train["disabled"]
    assert button(diverged, "step1")["disabled"] and button(diverged, "step10")["disabled"]
    assert not button(diverged, "reset")["disabled"]


def test_no_nan_on_the_page_or_in_any_chart(diverged):
    status = status_text(diverged)
    assert not NOT_A_NUMBER.search(status), status
    seen = set()
    for tab in TABS:
        diverged.session_state["view"] = tab
        diverged.run()
        assert not diverged.exception, tab
        for key, figure in chart_specs(diverged):
            seen.add(key)
            for trace in figure["data"]:
                for axis in ("x", "y", "z"):
                    values = trace.get(axis)
                    if isinstance(values, list) and values and not isinstance(values[0], list):
                        assert finite_or_gap(values), (tab, key, axis)
        for element in (*diverged.markdown, *diverged.caption, *diverged.info):
            assert not NOT_A_NUMBER.search(element.value), (tab, element.value)
    assert {"chart_loss", "chart_grad_norm", "chart_spectrum", "chart_trajectory_3d"} <= seen, seen
    diverged.session_state["view"] = "Training"
    diverged.run()


def test_reset_with_a_lower_learning_rate_recovers(diverged):
    at = diverged
    at.select_slider(key="w_lr").set_value(0.01).run()
    click(at, "reset")
    assert not at.exception
    exp = at.session_state["workspace"].get("playground").experiment
    assert not exp.diverged and exp.steps_done == 0 and exp.config.lr == 0.01
    assert not [e.value for e in at.error]
    settle(click(at, "step10"))
    settle(click(at, "step10"))
    exp = at.session_state["workspace"].get("playground").experiment
    assert not exp.diverged and exp.steps_done == 20
    assert math.isfinite(exp.metrics()["train_loss"])
    assert button(at, "train")["disabled"] is False
