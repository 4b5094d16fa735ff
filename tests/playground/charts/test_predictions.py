"""Prediction charts per task kind, and the forecast chart."""

from __future__ import annotations

import dataclasses
import math
from types import SimpleNamespace

import numpy as np
import pytest

from core import TASKS
from playground.charts import style
from tests.playground.charts.helpers import (
    KB,
    assert_clean,
    assert_titled,
    charts,
    named,
    run,
    types,
)

TASK_SETTINGS = {
    "next_number": dict(seq_len=10, min_len=4),
    "sine": dict(seq_len=20),
    "adding": dict(seq_len=20),
    "copy": dict(lag=3, n_symbols=3),
    "text": dict(seq_len=30, min_len=10),
    "speech": dict(seq_len=16),
    "csv": dict(seq_len=20),
}


EXPECTED_PREDICTION_TRACES = {
    "next_number": ["scatter"] * 3,
    "sine": ["scatter"] * 3,
    "csv": ["scatter"] * 3,
    "adding": ["scatter"] * 4,
    "copy": ["heatmap"],
    "text": ["bar"],
    "speech": ["bar"],
}


@pytest.mark.parametrize("task_name", list(TASK_SETTINGS))
def test_prediction_figure_per_task(task_name):
    if task_name not in TASKS:
        pytest.skip(f"task {task_name!r} not available yet")
    exp, probe = run("lstm", task_name, steps=2, **TASK_SETTINGS[task_name])
    for example in (0, 3, 999):  # 999: an out-of-range slider value is clamped, not an error
        fig = charts.prediction_figure(probe, exp.task, example)
        assert types(fig) == EXPECTED_PREDICTION_TRACES[task_name]
        assert_titled(fig)
        assert_clean(fig)
        assert len(fig.to_json()) < 30 * KB


def test_adding_prediction_shows_the_marked_numbers_and_the_answer(runs):
    exp, probe = runs["gru"]
    fig = charts.prediction_figure(probe, exp.task, 2)
    numbers, marked, target, guess = fig.data
    np.testing.assert_allclose(numbers.y, probe.inputs[2, :, 0])
    np.testing.assert_array_equal(marked.x, np.flatnonzero(probe.inputs[2, :, 1]))
    np.testing.assert_allclose(target.y, [probe.targets[2, -1, 0]], rtol=1e-6)
    np.testing.assert_allclose(guess.y, [probe.predictions[2, -1, 0]], rtol=1e-6)


def test_speech_probabilities_sum_to_one_and_mark_the_true_word():
    if "speech" not in TASKS:
        pytest.skip("speech task not available")
    exp, probe = run("gru", "speech", seq_len=16, n_classes=5)
    fig = charts.prediction_figure(probe, exp.task, 4)
    (bars,) = fig.data
    assert len(bars.y) == 5
    assert math.isclose(float(np.sum(bars.y)), 1.0, rel_tol=1e-5)
    truth = int(probe.meta["labels"][4])
    assert bars.marker.color[truth] == style.SOLVED_COLOR
    assert list(bars.x) == probe.meta["class_names"]


def test_next_value_prediction_is_in_real_units():
    if "next_number" not in TASKS:
        pytest.skip("next_number task not available")
    exp, probe = run("lstm", "next_number", seq_len=8)
    fig = charts.prediction_figure(probe, exp.task, 0)
    numbers, targets, _ = fig.data
    real = probe.meta["values"][0]
    np.testing.assert_allclose(numbers.y, real[:8], rtol=1e-5, atol=1e-4)
    np.testing.assert_array_equal(targets.x, np.arange(1, 9))  # drawn at the step they predict
    scored = np.isfinite(targets.y)
    np.testing.assert_allclose(targets.y[scored], real[1:][scored], rtol=1e-5, atol=1e-4)


def test_unknown_task_falls_back_to_a_generic_chart(runs):
    _, probe = runs["rnn"]
    regression = SimpleNamespace(name="mystery", kind="regression", prediction_chart="mystery")
    assert types(charts.prediction_figure(probe, regression)) == ["scatter"] * 3
    classification = SimpleNamespace(
        name="mystery", kind="classification", prediction_chart="mystery"
    )
    labels = dataclasses.replace(
        probe,
        targets=np.zeros(probe.mask.shape, dtype=np.int64),
        predictions=np.random.default_rng(0).normal(size=(*probe.mask.shape, 3)),
    )
    fig = charts.prediction_figure(labels, classification)
    assert types(fig) == ["scatter", "scatter"]
    assert_clean(fig)


def test_rollout_figure_draws_the_forecast_against_both_references():
    from core.forecast import Forecast

    context = np.sin(np.arange(30) / 3)
    network = np.sin(np.arange(30, 40) / 3)
    truth = network.copy()
    truth[-3:] = np.nan  # past the end of the data
    forecast = Forecast(context, network, truth, np.full(10, context[-1]), network * 0.9, 12)
    fig = charts.rollout_figure(forecast, "temperature")
    names = [t.name for t in fig.data]
    assert names == ["context", "truth", "network", "repeat the last value", "linear AR(12)"]
    for trace in fig.data[2:]:  # every forecast joined to the context's last value
        np.testing.assert_array_equal(trace.x, np.arange(29, 40))
        assert trace.y[0] == np.float32(context[-1])
    np.testing.assert_allclose(fig.data[4].y[1:], network * 0.9, rtol=1e-6)
    assert {t.line.dash for t in fig.data[2:]} == {"dot", "dash", "dashdot"}
    assert fig.layout.yaxis.title.text == "temperature"
    assert_clean(fig)


def test_the_loss_chart_draws_extra_references():
    exp, _ = run("lstm", task="sine")
    fig = charts.loss_figure(exp.history, exp.task, [("linear AR(20)", 0.05)])
    (line,) = named(fig, "linear AR(20)")
    assert list(line.y) == [np.float32(0.05)] * 2 and line.line.dash == "dashdot"


def test_speaker_prediction_names_speakers():
    exp, probe = run("gru", "vowels", seq_len=29)
    fig = charts.prediction_figure(probe, exp.task, 4)
    (bars,) = fig.data
    assert list(bars.x) == [f"speaker {i}" for i in range(1, 10)]
    assert math.isclose(float(np.sum(bars.y)), 1.0, rel_tol=1e-5)
    assert "spoke, heard speaker" in fig.layout.title.text
    assert fig.layout.xaxis.title.text.startswith("speaker (green")
