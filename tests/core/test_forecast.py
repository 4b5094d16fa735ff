"""The csv scalings, the reference forecasters, forecast assembly and the verdict.

Oracles: numpy.linalg.lstsq fitted directly on the rows, the raw series itself for every unit
conversion, and windows forecast one at a time.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from bench.forecast import FAMILIES
from core.config import FIELDS, ConfigError, ExperimentConfig
from core.forecast import (
    References,
    fit_linear_ar,
    forecast_example,
    linear_reference,
    reference_predictions,
    references,
    verdict,
)
from core.tasks import CsvTask, make_task, rollout
from core.trainer import Experiment

METHODS = ("zscore", "minmax", "none", "diff", "window", "relative")


def growing(n: int = 300, seed: int = 0) -> np.ndarray:
    """Positive, trending, seasonal and noisy: every method applies."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return 50 * np.exp(0.004 * t) + 3 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 0.5, n)


def csv_task(method: str, series=None, **config) -> CsvTask:
    values = growing() if series is None else series
    return CsvTask(ExperimentConfig(task="csv", normalise=method, **config), values)


def val_batch(task, size=12, seed=0):
    return task.sample(size, np.random.default_rng(seed), "val")


# ---- config and the auto choice -----------------------------------------------------------------


def test_normalise_defaults_to_auto_and_lists_every_method():
    assert FIELDS["normalise"].default == "auto" == ExperimentConfig().normalise
    assert set(FIELDS["normalise"].choices) == {"auto", *METHODS}


@pytest.mark.parametrize(
    "series, chosen",
    [
        (10 + np.sin(np.arange(400) / 3.0), "zscore"),  # stationary
        (FAMILIES["linear trend"](0), "window"),  # leaves the training range
        (FAMILIES["exponential growth"](0), "relative"),  # positive and grows sevenfold
        (FAMILIES["trend + season"](0), "window"),
        (FAMILIES["level shift"](0), "zscore"),  # the shift is inside the training part
    ],
)
def test_auto_picks_a_method_and_says_why(series, chosen):
    task = csv_task("auto", series)
    assert task.method == chosen
    note = task.normalisation_note
    assert note.startswith("Scaling: ") and "(auto): " in note and note.endswith(".")
    assert "\n" not in note and len(note) < 400


def test_relative_needs_a_series_that_keeps_its_sign():
    with pytest.raises(ConfigError, match="stays above zero"):
        csv_task("relative", np.sin(np.arange(200) / 4.0))


# ---- units: every method maps back to the series ---------------------------------------------


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("ragged", [False, True])
def test_every_method_round_trips_to_real_units(method, ragged):
    task = csv_task(method, seq_len=16, min_len=4 if ragged else 0)
    batch = val_batch(task)
    raw, starts = task.raw, batch.meta["starts"]
    ends = batch.lengths.numpy() if ragged else np.full(batch.size, 16)
    inputs = batch.inputs[..., 0].double().numpy()
    targets = batch.targets[..., 0].double().numpy()
    real_in, real_next = task.real_inputs(batch), task.real_next(batch, targets)
    for i, (start, n) in enumerate(zip(starts, ends, strict=True)):
        assert np.allclose(real_in[i, :n], raw[start : start + n], rtol=1e-6)
        assert np.allclose(real_next[i, :n], raw[start + 1 : start + n + 1], rtol=1e-6)
    assert np.allclose(task.model_next(batch, real_next), targets, atol=1e-9)
    # Persistence in model units: the last input, or no change for "diff".
    persistence = task.model_next(batch, real_in)
    expected = np.zeros_like(inputs) if method == "diff" else inputs
    assert np.allclose(persistence[batch.mask.numpy()], expected[batch.mask.numpy()], atol=1e-5)
    # The future, in model units, maps back to the raw values after each window.
    future = task.future(batch, 5)
    assert np.allclose(future[:, 0], targets[np.arange(batch.size), ends - 1], atol=1e-5)
    real_future = task.real_ahead(batch, future)
    for i, (start, n) in enumerate(zip(starts, ends, strict=True)):
        after = raw[start + n : start + n + 5]
        assert np.allclose(real_future[i, : len(after)], after, rtol=1e-6)
        assert np.isnan(real_future[i, len(after) :]).all()


@pytest.mark.parametrize("method", METHODS)
def test_the_baseline_is_persistence_over_every_validation_window(method):
    task = csv_task(method, seq_len=10)
    raw, length = task.raw, 10
    starts = np.arange(task.split_at, len(raw) - length)
    errors = []
    for start in starts:
        window = raw[start : start + length + 1]
        scale = {"relative": task.scale * window[0]}.get(method, task.scale)
        errors.append(np.mean(np.diff(window) ** 2) / scale**2)
    assert task.baseline == pytest.approx(float(np.mean(errors)), rel=1e-9)


# ---- the linear reference -------------------------------------------------------------------------


def test_fit_linear_ar_equals_lstsq_for_every_order():
    rng = np.random.default_rng(0)
    lags, targets = rng.normal(5, 2, (200, 6)), rng.normal(5, 2, 200)
    line = fit_linear_ar(lags, targets)
    probe = rng.normal(5, 2, (7, 6))  # oldest first
    for k in range(1, 7):
        design = np.column_stack([np.ones(200), lags[:, :k]])
        weights = np.linalg.lstsq(design, targets, rcond=None)[0]
        expected = weights[0] + probe[:, ::-1][:, :k] @ weights[1:]
        assert np.allclose(line.predict(probe[:, -k:]), expected, atol=1e-8)


def test_fit_linear_ar_with_fewer_rows_than_weights_is_lstsq_minimum_norm():
    rng = np.random.default_rng(1)
    lags, targets = rng.normal(0, 1, (3, 6)), rng.normal(0, 1, 3)
    line = fit_linear_ar(lags, targets)
    assert np.all(np.isfinite(line.predict(rng.normal(0, 1, (2, 6)))))


@pytest.mark.parametrize("method", ["zscore", "diff", "window"])
def test_csv_linear_reference_is_an_ar_fit_on_the_training_part(method):
    """Oracle: AR(k) with an intercept, lstsq on every k + 1 consecutive training values that the
    order-seq_len fit also uses, predicting each validation step from the window so far."""
    task = csv_task(method, seq_len=8)
    train, order = task.raw[: task.split_at], 8
    rows = np.arange(len(train) - order)
    batch = val_batch(task)
    predicted = reference_predictions(task, batch)["linear"]
    real = task.real_next(batch, predicted)
    inputs = task.real_inputs(batch)
    for t in range(order):
        k = t + 1
        lags = np.stack([train[rows + order - 1 - j] for j in range(k)], axis=1)  # latest first
        design = np.column_stack([np.ones(len(rows)), lags])
        weights = np.linalg.lstsq(design, train[rows + order], rcond=None)[0]
        expected = weights[0] + inputs[:, : t + 1][:, ::-1] @ weights[1:]
        assert np.allclose(real[:, t], expected, rtol=1e-7, atol=1e-7)


def test_linear_reference_for_sine_reads_the_noisy_window():
    task = make_task(ExperimentConfig(task="sine", seq_len=16))
    line = linear_reference(task)
    assert line.order == 16 and linear_reference(task) is line  # fitted once per task
    batch = task.sample(64, np.random.default_rng(5), "val")
    scores = reference_predictions(task, batch)
    truth = batch.targets[..., 0].numpy()
    linear = np.mean((scores["linear"] - truth)[:, 8:] ** 2)
    persistence = np.mean((scores["persistence"] - truth)[:, 8:] ** 2)
    assert linear < 0.5 * persistence, "a sum of sines follows a linear recurrence"


# ---- scores, forecasts, verdict ------------------------------------------------------------------


def test_references_score_the_validation_batch_in_model_units():
    exp = Experiment(ExperimentConfig(task="csv", seq_len=12, normalise="window"), growing())
    exp.step(3)
    scores = references(exp)
    batch, mask = exp.val_batch, exp.val_batch.mask.numpy()
    truth = batch.targets[..., 0].double().numpy()
    persistence = task_persistence = exp.task.model_next(batch, exp.task.real_inputs(batch))
    assert scores.persistence == pytest.approx(np.mean((task_persistence - truth)[mask] ** 2))
    assert scores.network == pytest.approx(exp.validate()[0])
    assert scores.order == 12 and 0 < scores.linear < scores.persistence
    assert [name for name, _ in scores.baselines()][0] == "repeat the last value"
    assert persistence.shape == truth.shape


@pytest.mark.parametrize(
    "config",
    [
        dict(task="sine", seq_len=20, horizon=6),
        dict(task="csv", seq_len=16, min_len=5, horizon=6, normalise="diff"),
        dict(task="csv", seq_len=16, horizon=6, normalise="relative"),
    ],
    ids=["sine", "csv_ragged_diff", "csv_relative"],
)
def test_forecast_example_assembles_levels(config):
    data = growing() if config["task"] == "csv" else None
    exp = Experiment(ExperimentConfig(**config), data)
    exp.step(2)
    task, batch = exp.task, exp.probe_batch
    for example in (0, 5):
        forecast = forecast_example(exp, example)
        n = int(batch.inputs.shape[1] if batch.lengths is None else batch.lengths[example])
        one = batch.inputs[example : example + 1, :n]
        model_units = rollout(exp.model, type(batch)(one, one, torch.ones(1, n, dtype=bool)), 6)
        assert forecast.context.shape == (n,) and forecast.network.shape == (6,)
        if config["task"] == "csv":
            start = batch.meta["starts"][example]
            assert np.allclose(forecast.context, task.raw[start : start + n])
            after = task.raw[start + n : start + n + 6]
            assert np.allclose(forecast.truth[: len(after)], after)
            if task.method == "diff":  # changes accumulate from the last value read
                levels = forecast.context[-1] + np.cumsum(model_units[0]) * task.scale
            else:
                levels = forecast.context[0] * (1 + model_units[0] * task.scale)
            assert np.allclose(forecast.network, levels, rtol=1e-5)
        else:
            assert np.allclose(forecast.truth, task.future(batch, 6)[example])
            assert np.allclose(forecast.network, model_units[0], atol=1e-5)
        assert np.all(forecast.persistence == forecast.context[-1])
        line = linear_reference(task)
        values = list(forecast.context)
        for step in range(6):
            recent = np.asarray(values[-line.order :])
            values.append(float(line.predict(recent[None])[0]))
            assert forecast.linear[step] == pytest.approx(values[-1])


def test_verdict_is_none_when_the_network_beats_persistence_and_advises_otherwise():
    series = FAMILIES["linear trend"](0)
    exp = Experiment(ExperimentConfig(task="csv", normalise="zscore"), series)
    exp.step(2)
    assert verdict(exp, References(0.5, 1.0, 0.8, 20)) is None
    text = verdict(exp, References(3.0, 1.0, 0.8, 20))
    assert text is not None and "3.0 times" in text
    assert "Scaling 'auto'" in text, "z-scores on a series that leaves the training range"
    walk = verdict(exp, References(3.0, 1.0, 1.1, 20))
    assert "random walk" in walk
    fresh = Experiment(ExperimentConfig(task="csv", normalise="auto"), series)
    fresh.step(2)
    assert "more training steps" in verdict(fresh, References(3.0, 1.0, 0.8, 20))
    assert verdict(Experiment(ExperimentConfig(task="csv"), series)) is None, "not trained yet"


# ---- trained: the default beats persistence on every family ------------------------------------

STEPS = 300  # the default config; a few seconds per run on one core


@pytest.mark.slow
@pytest.mark.parametrize("cell", ["lstm", "gru"])
@pytest.mark.parametrize("family", list(FAMILIES))
def test_the_default_beats_persistence_on_each_family(family, cell):
    ratios = []
    for seed in range(5):
        config = ExperimentConfig(task="csv", cell=cell, seed=seed)
        exp = Experiment(config, FAMILIES[family](0))
        exp.step(STEPS)
        scores = references(exp)
        ratios.append(scores.network / scores.persistence)
    print(f"{family} {cell} {exp.task.method}: val / persistence", [f"{r:.2f}" for r in ratios])
    assert max(ratios) < 0.97, ratios
