"""core/forecast.py's references against statsmodels, the well-kept library: the least-squares
line against AutoReg (trend "c", OLS, the same rows for every order), the Holt-Winters recursion
against ExponentialSmoothing run with the same weights. statsmodels is only a test oracle here."""

import warnings

import numpy as np
import pytest

from core.config import ExperimentConfig
from core.forecast import (
    _series_rows,
    fit_holt_winters,
    fit_linear_ar,
    holt_winters_filter,
    linear_reference,
)
from core.tasks import DATA_SETS, make_task

statsmodels = pytest.importorskip("statsmodels")
from statsmodels.tsa.ar_model import AutoReg  # noqa: E402
from statsmodels.tsa.holtwinters import ExponentialSmoothing  # noqa: E402


def _real_weights(weights: np.ndarray, mean: float, std: float) -> np.ndarray:
    """Our standardised (intercept, latest, ...) -> AutoReg's real (const, lag 1, ...)."""
    lags = weights[1:]
    return np.concatenate([[std * weights[0] + mean * (1 - lags.sum())], lags])


def _check_against_autoreg(series: np.ndarray, split_at: int, order: int, ours) -> None:
    train = series[:split_at]
    for k in range(1, order + 1):
        fitted = AutoReg(train, lags=k, trend="c", hold_back=order).fit()
        expected = np.asarray(fitted.params)
        got = _real_weights(ours.coefficients[k - 1], ours.mean, ours.std)
        scale = max(1.0, float(np.max(np.abs(expected))))
        np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-8 * scale, err_msg=f"k={k}")
        # One step ahead over the validation part, every value read from the real series.
        applied = fitted.apply(series, refit=False)
        truth = np.asarray(applied.predict(start=split_at, end=len(series) - 1))
        rows = np.arange(split_at, len(series))[:, None] - k + np.arange(k)[None, :]
        mine = ours.predict(series[rows])
        np.testing.assert_allclose(mine, truth, rtol=1e-7, atol=1e-7 * np.ptp(series))


@pytest.mark.parametrize("data_set", DATA_SETS, ids=lambda d: d.name)
def test_linear_ar_matches_statsmodels_autoreg_on_every_built_in_series(data_set):
    task = make_task(ExperimentConfig(task=data_set.name))
    ours = linear_reference(task)
    _check_against_autoreg(task.raw, task.split_at, ours.order, ours)


@pytest.mark.parametrize("seed", range(3))
def test_linear_ar_matches_autoreg_on_synthetic_ar3(seed):
    rng = np.random.default_rng(seed)
    series = np.zeros(3000)
    for t in range(3, len(series)):
        series[t] = 2.0 + 0.5 * series[t - 1] - 0.3 * series[t - 2] + 0.2 * series[t - 3]
        series[t] += rng.normal()
    split_at, order = 2400, 6
    ours = fit_linear_ar(*_series_rows(series[:split_at], order))
    _check_against_autoreg(series, split_at, order, ours)
    # and the fit finds the generating weights (it can fail: a wrong lag order would not)
    np.testing.assert_allclose(ours.coefficients[2][1:], [0.5, -0.3, 0.2], atol=0.08)


@pytest.mark.parametrize("data_set", DATA_SETS, ids=lambda d: d.name)
def test_holt_winters_recursion_matches_statsmodels(data_set):
    task = make_task(ExperimentConfig(task=data_set.name))
    ours = fit_holt_winters(task.raw, task.split_at, data_set.season)
    assert ours is not None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted = ExponentialSmoothing(
            task.raw[: task.split_at],
            trend="add",
            seasonal="add" if ours.season else None,
            seasonal_periods=ours.season or None,
            initialization_method="estimated",
        ).fit()
    p = fitted.params
    full = ExponentialSmoothing(
        task.raw,
        trend="add",
        seasonal="add" if ours.season else None,
        seasonal_periods=ours.season or None,
        initialization_method="known",
        initial_level=p["initial_level"],
        initial_trend=p["initial_trend"],
        initial_seasonal=p["initial_seasons"] if ours.season else None,
    ).fit(
        smoothing_level=p["smoothing_level"],
        smoothing_trend=p["smoothing_trend"],
        smoothing_seasonal=p["smoothing_seasonal"] if ours.season else None,
        optimized=False,
    )
    mine = holt_winters_filter(task.raw, p, ours.season)
    tol = 1e-8 * np.ptp(task.raw)
    np.testing.assert_allclose(mine.one_step, np.asarray(full.fittedvalues), atol=tol)
    np.testing.assert_allclose(ours.one_step, np.asarray(full.fittedvalues), atol=tol)
    # The rollout from the training part's end is statsmodels' own forecast for the first m - 1
    # steps. At step m statsmodels' forecast() (0.15.0) reads the seasonal term from before the
    # last value was read; ours reads the updated one, which is statsmodels' own last `season`.
    horizon = max(ours.season, 2) - 1
    forecast = np.asarray(fitted.forecast(horizon))
    rollout = ours.rollout(task.split_at, horizon + 1)
    np.testing.assert_allclose(rollout[:horizon], forecast, atol=tol)
    if ours.season:
        last = fitted.level[-1] + (horizon + 1) * fitted.trend[-1] + fitted.season[-1]
        np.testing.assert_allclose(rollout[-1], last, atol=tol)
