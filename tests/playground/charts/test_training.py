"""Loss and metric charts: history, smoothing, caps, baseline and solved lines."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest

from core import TASKS, ExperimentConfig
from core.trainer import History
from playground.charts import describe, style
from tests.playground.charts.helpers import (
    KB,
    assert_clean,
    charts,
    named,
    run,
    synthetic_history,
    types,
)


def test_loss_figure_draws_history_and_reference_lines(runs):
    exp, _ = runs["lstm"]
    fig = charts.loss_figure(exp.history, exp.task)
    assert types(fig) == ["scatter"] * 5
    assert fig.layout.yaxis.type == "log"
    train, _, validation = fig.data[:3]
    np.testing.assert_allclose(train.x, exp.history.step)
    np.testing.assert_allclose(train.y, exp.history.train_loss, rtol=1e-6)
    steps, val_loss, _ = exp.history.validations()
    np.testing.assert_allclose(validation.x, steps)
    np.testing.assert_allclose(validation.y, val_loss, rtol=1e-6)
    (baseline,) = named(fig, "baseline")
    (solved,) = named(fig, "solved")
    np.testing.assert_allclose(baseline.y, [exp.task.baseline] * 2, rtol=1e-6)
    np.testing.assert_allclose(solved.y, [exp.task.solved_at] * 2, rtol=1e-6)
    assert exp.task.baseline_name in baseline.hovertemplate


def test_loss_figure_survives_nan_inf_zero_and_empty_history():
    task = SimpleNamespace(
        kind="regression",
        metric_is_loss=True,
        metric_name="MSE",
        higher_is_better=False,
        baseline=0.2,
        baseline_name="guess",
        solved_at=0.01,
        output_size=1,
    )
    history = History()
    values = [1.0, math.nan, math.inf, 0.0, -1.0, 1e30, 0.5, 0.25]
    for step, value in enumerate(values, start=1):
        history.add(step, value, *(2 * [value if step % 2 else math.nan]))
    fig = charts.loss_figure(history, task)
    assert_clean(fig)
    train = fig.data[0].y
    assert np.isnan(train[[1, 2, 3, 4]]).all()  # NaN, inf, 0 and negatives are gaps on a log axis
    assert np.isfinite(train[[0, 5, 6, 7]]).all()
    assert_clean(charts.metric_figure(history, task))
    empty = charts.loss_figure(History(), task)
    assert len(empty.data) == 0 and empty.layout.annotations
    assert_clean(empty)
    assert len(charts.metric_figure(History(), task).data) == 0


def test_smoothed_loss_bridges_bad_steps():
    history = synthetic_history(500)
    loss = history.train_loss
    history.train_loss = [*loss[:100], math.nan, math.inf, 0.0, *loss[103:]]
    task = TASKS["adding"](ExperimentConfig(task="adding"))
    smooth = charts.loss_figure(history, task).data[1].y
    assert np.isfinite(smooth).all()
    assert smooth[-1] < smooth[0] / 100  # it follows the trend (1 down to 1e-3)


def test_long_history_is_capped():
    history = History()
    count = 100_000
    for i, loss in enumerate(np.geomspace(1, 1e-3, count)):
        validated = loss if i % 10 == 0 else math.nan
        history.add(i + 1, float(loss), validated, validated)
    task = TASKS["adding"](ExperimentConfig(task="adding"))
    fig = charts.loss_figure(history, task)
    assert all(len(trace.x) <= style.MAX_HISTORY_POINTS for trace in fig.data)
    assert fig.data[0].x[-1] == count  # the newest step is always drawn
    assert len(fig.to_json()) < 60 * KB


def test_classification_loss_has_uniform_guess_and_metric_has_task_lines():
    if "copy" not in TASKS:
        pytest.skip("copy task not available")
    exp, _ = run("gru", "copy", lag=3, n_symbols=3)
    assert not exp.task.metric_is_loss
    loss = charts.loss_figure(exp.history, exp.task)
    (uniform,) = named(loss, "uniform guess")
    np.testing.assert_allclose(uniform.y, [math.log(exp.task.output_size)] * 2, rtol=1e-6)
    metric = charts.metric_figure(exp.history, exp.task)
    assert metric.layout.yaxis.type != "log"
    np.testing.assert_allclose(named(metric, "baseline")[0].y, [exp.task.baseline] * 2, rtol=1e-6)
    np.testing.assert_allclose(named(metric, "solved")[0].y, [exp.task.solved_at] * 2, rtol=1e-6)


def test_metric_figure_draws_the_classical_references_beside_the_network():
    exp, _ = run("gru", "vowels", seq_len=29)
    lines = [("1-NN DTW", 0.949), ("no memory (per frame)", 0.98), ("broken", math.nan)]
    metric = charts.metric_figure(exp.history, exp.task, lines)
    assert_clean(metric)
    np.testing.assert_allclose(named(metric, "1-NN DTW")[0].y, [0.949] * 2)
    np.testing.assert_allclose(named(metric, "no memory")[0].y, [0.98] * 2)
    assert not named(metric, "broken")
    assert "1-NN DTW 0.949" in describe.metric(exp.history, exp.task, lines)
