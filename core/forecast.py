"""Reference forecasters for the next-value tasks (sine, csv), the forecast a page draws, and a
verdict when the network does worse than the simplest forecast.

References, scored on the same validation windows as the network:
- persistence: the next value equals the last one seen;
- a linear autoregression: the next value as a least-squares straight-line function (numpy) of the
  last k values seen, k up to the window length (`LinearAR`). At step t of a window it reads the
  t + 1 values the network has read so far, so it sees nothing the network doesn't;
- seasonal naive, for a csv task whose data set declares a season (`task.season`, in steps): the
  next value equals the value one season before it. It reads the series' own past, which may lie
  before the window (a season can be longer than a window); it never reads the future;
- exponential smoothing, for a csv task (`HoltWinters`): additive Holt-Winters (level, trend and,
  with a season of at most ETS_LONGEST_SEASON steps, a seasonal term), its weights fitted by
  statsmodels on the training part. Like seasonal naive it reads the series' own past.

Why both a line and exponential smoothing: on the built-in series' validation parts (one step
ahead, full history, real units; `bench/forecast_ets.py`), Holt-Winters' MSE over the linear
AR(20)'s is airline 0.90, co2 0.93, stocks 0.79 (both lose to repeating the last value there),
weather 1.13 (trend only: its 365-day season is too long), sunspots 2.0; on the page's own
validation windows, where the line reads only the window, 0.32, 0.47, 0.80, 1.13 and 2.1. Neither
is better everywhere, so the page scores both and names whichever wins. The line itself matches
statsmodels' AutoReg (tests/core/test_forecast_oracle.py), so it stays numpy's least squares.

`references(experiment)` scores them and the network one step ahead on the experiment's own
validation batch, in the task's model units (the units of the loss chart). `forecast_example(
experiment, i)` returns one example's context, the network's free-running forecast, the truth and
the references' forecasts, in the series' own units (levels, also when the csv task predicts
changes internally). `verdict` (only when the network loses to persistence) and `summary` (always:
which forecast won, in words) are total: any finite series gets a sentence, never an exception.

Shapes: N = batch, L = window length, H = horizon, K = AR order.
"""

from __future__ import annotations

import math
import warnings
import weakref
from dataclasses import dataclass
from typing import Any

import numpy as np

from core.tasks import BASELINE_BATCH, BASELINE_SEED, Batch, Task, rollout
from core.tasks.csv import CsvTask

MAX_ORDER = 128  # longer windows still get a 128-lag line: enough to follow any season here
MAX_ROWS = 20_000  # the most recent training rows the line is fitted on; bounds the fit's cost
PERSISTENCE_NAME = "repeat the last value"
SEASONAL_NAME = "repeat the value one season ago"
SHORT_SERIES = 300  # fewer training values: the straight line's few weights learn faster
EXACT = 1e-9  # a reference error this small, next to the others' largest, is rounding: exact
ETS_NAME = "exponential smoothing (Holt-Winters)"
# A longer season means hundreds of starting values fitted from a few seasons: weather's 365 days
# take 0.4 s to fit and forecast worse than the trend alone, so such a season is left out.
ETS_LONGEST_SEASON = 52
ETS_SHORTEST = 10  # fewer training values: too few to fit a level, a trend and their weights


# ---- the linear reference --------------------------------------------------------------------


@dataclass(frozen=True)
class LinearAR:
    """Linear autoregressions AR(1) .. AR(K), each with an intercept, fitted by least squares on
    the same rows. coefficients[k - 1] (k + 1,): the intercept, then the weights of the latest k
    values, latest first, in units standardised by `mean` and `std` (real = z * std + mean)."""

    coefficients: tuple[np.ndarray, ...]
    mean: float
    std: float

    @property
    def order(self) -> int:
        return len(self.coefficients)

    def predict(self, recent: np.ndarray) -> np.ndarray:
        """recent (N, k) real values, oldest first -> (N,) the next value, from AR(min(k, K))."""
        k = min(recent.shape[1], self.order)
        latest_first = (recent[:, ::-1][:, :k] - self.mean) / self.std
        weights = self.coefficients[k - 1]
        return (weights[0] + latest_first @ weights[1:]) * self.std + self.mean

    def one_step(self, inputs: np.ndarray) -> np.ndarray:
        """inputs (N, L) real values -> (N, L): at step t, the next value from inputs[:, : t + 1]
        (what the network has read by then). Steps past a window's length are ignored later."""
        return np.stack([self.predict(inputs[:, : t + 1]) for t in range(inputs.shape[1])], axis=1)

    def rollout(self, context: np.ndarray, horizon: int) -> np.ndarray:
        """context (n,) real values -> (H,) forecast, each step fed back as the latest value."""
        values = list(np.asarray(context, dtype=np.float64)[-self.order :])
        for _ in range(horizon):
            values.append(float(self.predict(np.asarray(values)[None, -self.order :])[0]))
        return np.asarray(values[-horizon:])


def fit_linear_ar(lags: np.ndarray, targets: np.ndarray) -> LinearAR:
    """Fit AR(1) .. AR(K) on the same rows. lags (M, K) real values, latest first; targets (M,).

    One QR factorisation serves every order: with the columns ordered intercept, latest, next
    latest, ..., the least-squares fit on the first k + 1 columns comes from the leading block of
    R. Rank-deficient blocks (fewer rows than weights) fall back to numpy's minimum-norm lstsq."""
    mean = float(np.mean(targets))
    std = float(np.std(targets)) or 1.0
    design = np.column_stack([np.ones(len(lags)), (lags - mean) / std])
    goal = (targets - mean) / std
    q, r = np.linalg.qr(design)
    projected = q.T @ goal
    coefficients = []
    for k in range(1, lags.shape[1] + 1):
        block = r[: k + 1, : k + 1]
        if len(lags) > k and np.all(np.abs(np.diag(block)) > 1e-9 * np.abs(r[0, 0])):
            coefficients.append(np.linalg.solve(block, projected[: k + 1]))
        else:
            coefficients.append(np.linalg.lstsq(design[:, : k + 1], goal, rcond=None)[0])
    return LinearAR(tuple(coefficients), mean, std)


_FITTED: weakref.WeakKeyDictionary[Task, LinearAR] = weakref.WeakKeyDictionary()


def linear_reference(task: Task) -> LinearAR:
    """The task's linear reference, fitted once on its training data (cached per task).

    csv: every run of K + 1 consecutive training values (the latest MAX_ROWS), K = min(seq_len,
    MAX_ORDER). sine: the last step of BASELINE_BATCH training windows from a fixed seed, reading
    the noisy inputs and predicting the clean next value, as the network does."""
    if task not in _FITTED:
        order = min(task.config.seq_len, MAX_ORDER)
        if isinstance(task, CsvTask):
            lags, targets = _series_rows(task.raw[: task.split_at], order)
        else:
            batch = task.sample(BASELINE_BATCH, np.random.default_rng(BASELINE_SEED), "train")
            inputs = _real_inputs(task, batch)
            lags = inputs[:, ::-1][:, :order]
            targets = _real_next(task, batch, batch.targets[..., 0].numpy())[:, -1]
        _FITTED[task] = fit_linear_ar(lags, targets)
    return _FITTED[task]


def _series_rows(train: np.ndarray, order: int) -> tuple[np.ndarray, np.ndarray]:
    """(M, order) lags latest first and (M,) targets: every order + 1 consecutive values."""
    count = min(len(train) - order, MAX_ROWS)
    first = len(train) - order - count
    index = first + np.arange(count)[:, None] + np.arange(order - 1, -1, -1)[None, :]
    return train[index], train[first + order + np.arange(count)]


# ---- exponential smoothing --------------------------------------------------------------------


@dataclass(frozen=True)
class HoltWinters:
    """Additive Holt-Winters run over a whole series with weights fitted on its training part.
    Rows count from `first` (the fit's first row). one_step (n,): the forecast of each row from the
    rows before it; level, trend (n,): the states after reading each row; seasons (n + m,): the
    seasonal term of each row (zeros without a season, m = 1)."""

    first: int
    one_step: np.ndarray
    level: np.ndarray
    trend: np.ndarray
    seasons: np.ndarray
    season: int  # 0: no seasonal term

    def rollout(self, end: int, horizon: int) -> np.ndarray:
        """(H,) the forecast of rows end .. end + H - 1 from the rows before `end`."""
        at = end - self.first - 1
        period = max(self.season, 1)
        steps = np.arange(1, horizon + 1)
        seasonal = self.seasons[at + 1 + (steps - 1) % period] if self.season else 0.0
        return self.level[at] + steps * self.trend[at] + seasonal


def load_smoothing() -> Any:
    """statsmodels' ExponentialSmoothing, imported on first use (about a second: a page starts
    it in the background). Raises ImportError where statsmodels is missing."""
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    return ExponentialSmoothing


def fit_holt_winters(series: np.ndarray, split_at: int, season: int) -> HoltWinters | None:
    """Fit on series[:split_at] (its latest MAX_ROWS values) with statsmodels, then run the
    recursion over the rest; None when the training part is too short or the fit fails."""
    first = max(0, split_at - MAX_ROWS)
    train = series[first:split_at]
    if len(train) < ETS_SHORTEST or np.ptp(train) == 0:
        return None
    season = season if 2 <= season <= ETS_LONGEST_SEASON and len(train) >= 2 * season else 0
    try:
        ExponentialSmoothing = load_smoothing()  # noqa: N806 - the library's class
        with warnings.catch_warnings():  # convergence warnings on short series: the fit stands
            warnings.simplefilter("ignore")
            model = ExponentialSmoothing(
                train,
                trend="add",
                seasonal="add" if season else None,
                seasonal_periods=season or None,
                initialization_method="estimated",
            )
            params = model.fit().params
    except Exception:  # noqa: BLE001 - a reference that can't be fitted is left out, not fatal
        return None
    return holt_winters_filter(series[first:], params, season, first)


def holt_winters_filter(
    values: np.ndarray, params: dict, season: int, first: int = 0
) -> HoltWinters:
    """The additive recursion with statsmodels' parameter names and conventions:
    forecast = l + b + s[t]; l' = a (y - s[t]) + (1 - a)(l + b); b' = beta (l' - l) +
    (1 - beta) b; s[t + m] = gamma (y - l - b) + (1 - gamma) s[t]."""
    alpha, beta = float(params["smoothing_level"]), float(params["smoothing_trend"])
    gamma = float(params["smoothing_seasonal"]) if season else 0.0
    period = max(season, 1)
    seasons = np.zeros(len(values) + period)
    if season:
        seasons[:period] = params["initial_seasons"]
    level, trend = float(params["initial_level"]), float(params["initial_trend"])
    one_step, levels, trends = (np.empty(len(values)) for _ in range(3))
    for t, value in enumerate(values.tolist()):
        one_step[t] = level + trend + seasons[t]
        new_level = alpha * (value - seasons[t]) + (1 - alpha) * (level + trend)
        if season:
            seasons[t + period] = gamma * (value - level - trend) + (1 - gamma) * seasons[t]
        trend = beta * (new_level - level) + (1 - beta) * trend
        level = new_level
        levels[t], trends[t] = level, trend
    return HoltWinters(first, one_step, levels, trends, seasons, season)


_SMOOTHED: weakref.WeakKeyDictionary[Task, HoltWinters | None] = weakref.WeakKeyDictionary()


def smoothing_reference(task: Task) -> HoltWinters | None:
    """The csv task's Holt-Winters reference, fitted once (cached per task); None for other
    tasks (the sine task's waves are no one series) and where it can't be fitted."""
    if not isinstance(task, CsvTask):
        return None
    if task not in _SMOOTHED:
        _SMOOTHED[task] = fit_holt_winters(task.raw, task.split_at, _season(task))
    return _SMOOTHED[task]


# ---- units ----------------------------------------------------------------------------------
# Csv tasks know how their scaling maps back (it may be per window, or changes); other tasks keep
# an optional scale and shift in their batch's meta (real = value * scale + shift).


def _affine(batch: Batch) -> tuple[Any, Any]:
    scale = np.reshape(batch.meta.get("scale", 1.0), (-1, 1))
    shift = np.reshape(batch.meta.get("shift", 0.0), (-1, 1))
    return scale, shift


def _real_inputs(task: Task, batch: Batch) -> np.ndarray:
    if isinstance(task, CsvTask):
        return task.real_inputs(batch)
    scale, shift = _affine(batch)
    return batch.inputs[..., 0].cpu().numpy().astype(np.float64) * scale + shift


def _real_next(task: Task, batch: Batch, values: np.ndarray) -> np.ndarray:
    if isinstance(task, CsvTask):
        return task.real_next(batch, values)
    scale, shift = _affine(batch)
    return np.asarray(values, dtype=np.float64) * scale + shift


def _model_next(task: Task, batch: Batch, real: np.ndarray) -> np.ndarray:
    if isinstance(task, CsvTask):
        return task.model_next(batch, real)
    scale, shift = _affine(batch)
    return (np.asarray(real, dtype=np.float64) - shift) / scale


def _real_ahead(task: Task, batch: Batch, values: np.ndarray) -> np.ndarray:
    if isinstance(task, CsvTask):
        return task.real_ahead(batch, values)
    return _real_next(task, batch, values)


def _real_future(task: Task, batch: Batch, horizon: int) -> np.ndarray:
    if isinstance(task, CsvTask):
        return task.real_future(batch, horizon)
    return _real_next(task, batch, task.future(batch, horizon))


# ---- one-step scores --------------------------------------------------------------------------


@dataclass(frozen=True)
class References:
    """One-step validation MSE, in the task's model units (those of the loss chart), on the
    experiment's validation batch, every scored step: the network's and both references'."""

    network: float
    persistence: float
    linear: float
    order: int
    seasonal: float = math.nan  # NaN: the task declares no season
    season: int = 0
    rows: int = 0  # training values (0: not a series, e.g. the sine task's generated waves)
    ets: float = math.nan  # NaN: no Holt-Winters reference (not a series, or too short to fit)

    @property
    def linear_name(self) -> str:
        return f"straight line through the last {self.order} values (linear AR)"

    @property
    def seasonal_name(self) -> str:
        return f"{SEASONAL_NAME} ({self.season} steps)"

    def baselines(self) -> list[tuple[str, float]]:
        """(name, MSE) of the references, for horizontal lines on the loss chart."""
        lines = [(PERSISTENCE_NAME, self.persistence), (self.linear_name, self.linear)]
        if self.season:
            lines.append((self.seasonal_name, self.seasonal))
        if math.isfinite(self.ets):
            lines.append((ETS_NAME, self.ets))
        return lines

    def best(self) -> tuple[str, float]:
        """The reference with the lowest finite error (persistence when none is finite)."""
        finite = [(name, mse) for name, mse in self.baselines() if math.isfinite(mse)]
        return min(finite, key=lambda pair: pair[1]) if finite else self.baselines()[0]


def reference_predictions(task: Task, batch: Batch) -> dict[str, np.ndarray]:
    """(N, L) one-step predictions in model units: "persistence", "linear", for a task with a
    season "seasonal", and for a csv task whose series it could fit, "ets"."""
    inputs = _real_inputs(task, batch)
    linear = linear_reference(task).one_step(inputs)
    guesses = {
        "persistence": _model_next(task, batch, inputs),
        "linear": _model_next(task, batch, linear),
    }
    if _season(task):
        guesses["seasonal"] = _model_next(task, batch, _seasonal_one_step(task, batch, inputs))
    smoothing = smoothing_reference(task)
    if smoothing is not None:
        guesses["ets"] = _model_next(task, batch, _smoothing_one_step(smoothing, batch, inputs))
    return guesses


def _smoothing_one_step(smoothing: HoltWinters, batch: Batch, inputs: np.ndarray) -> np.ndarray:
    """(N, L) real values: at step t, Holt-Winters' forecast of row starts + t + 1 (padding past
    the series' end reads its last row; it is never scored)."""
    rows = batch.meta["starts"][:, None] + np.arange(1, inputs.shape[1] + 1)[None, :]
    at = np.clip(rows - smoothing.first, 0, len(smoothing.one_step) - 1)
    return smoothing.one_step[at]


def _season(task: Task) -> int:
    return int(getattr(task, "season", 0) or 0)


def _seasonal_one_step(task: CsvTask, batch: Batch, inputs: np.ndarray) -> np.ndarray:
    """(N, L) real values: at step t, the series' value one season before the value predicted
    (row starts + t + 1); the last value read where the series doesn't reach back that far."""
    rows = batch.meta["starts"][:, None] + np.arange(1, inputs.shape[1] + 1)[None, :]
    back = rows - _season(task)
    return np.where(back >= 0, task.raw[np.maximum(back, 0)], inputs)


def _seasonal_rollout(task: CsvTask, end: int, horizon: int) -> np.ndarray:
    """(H,) the seasonal naive forecast of rows end .. end + H - 1 from the series before `end`,
    each step past one season repeating the forecast a season before it."""
    season = _season(task)
    known = list(task.raw[:end])
    for _ in range(horizon):
        known.append(known[-season] if len(known) >= season else known[-1])
    return np.asarray(known[end:], dtype=np.float64)


def references(experiment: Any) -> References:
    """Score the network, persistence and the linear reference on experiment.val_batch."""
    task, batch = experiment.task, experiment.val_batch
    with experiment.lock:
        network = experiment.validate()[0] if experiment.steps_done else math.nan
    mask = batch.mask.cpu().numpy()
    truth = batch.targets[..., 0].cpu().numpy().astype(np.float64)
    scores = {
        name: _mse(guess, truth, mask) for name, guess in reference_predictions(task, batch).items()
    }
    order = linear_reference(task).order
    return References(
        float(network),
        scores["persistence"],
        scores["linear"],
        order,
        scores.get("seasonal", math.nan),
        _season(task),
        int(getattr(task, "split_at", 0)),
        scores.get("ets", math.nan),
    )


def _mse(guess: np.ndarray, truth: np.ndarray, mask: np.ndarray) -> float:
    """Mean squared error over the scored steps; NaN when none is scored or it overflows."""
    with np.errstate(over="ignore", invalid="ignore"):
        errors = (guess - truth)[mask] ** 2
        return float(np.mean(errors)) if errors.size else math.nan


# ---- forecast assembly --------------------------------------------------------------------------


@dataclass(frozen=True)
class Forecast:
    """One example's forecast, in the series' own units. Steps count from the context's start:
    the context covers 0 .. n - 1, every forecast n .. n + H - 1. truth is NaN past the data."""

    context: np.ndarray  # (n,)
    network: np.ndarray  # (H,)
    truth: np.ndarray  # (H,)
    persistence: np.ndarray  # (H,)
    linear: np.ndarray  # (H,)
    linear_order: int
    seasonal: np.ndarray | None = None  # (H,), for a task with a season
    season: int = 0
    smoothing: np.ndarray | None = None  # (H,), Holt-Winters, where it could be fitted

    def references(self) -> list[tuple[str, np.ndarray]]:
        """(short name, (H,) forecast) of each reference, for the chart and its text."""
        lines = [("repeat the last value", self.persistence)]
        lines.append((f"linear AR({self.linear_order})", self.linear))
        if self.seasonal is not None:
            lines.append((f"seasonal naive ({self.season})", self.seasonal))
        if self.smoothing is not None:
            lines.append(("Holt-Winters", self.smoothing))
        return lines


def forecast_example(experiment: Any, example: int, batch: Batch | None = None) -> Forecast:
    """Example `example` of `batch` (default: the experiment's probe batch): what the network read,
    its rollout over config.horizon steps, the truth, and every reference's rollout. Works for
    ragged windows: each context ends at its own length."""
    task, horizon = experiment.task, experiment.config.horizon
    batch = experiment.probe_batch if batch is None else batch
    one = _single(batch, example)
    with experiment.lock:
        network = _real_ahead(task, one, rollout(experiment.model, one, horizon))[0]
    length = int(one.inputs.shape[1] if one.lengths is None else one.lengths[0])
    context = _real_inputs(task, one)[0, :length]
    linear = linear_reference(task)
    seasonal = smoothed = None
    end = int(one.meta["starts"][0]) + length if isinstance(task, CsvTask) else 0
    if _season(task):
        seasonal = _seasonal_rollout(task, end, horizon)
    smoothing = smoothing_reference(task)
    if smoothing is not None:
        smoothed = smoothing.rollout(end, horizon)
    return Forecast(
        context=context,
        network=network,
        truth=_real_future(task, one, horizon)[0],
        persistence=np.full(horizon, context[-1]),
        linear=linear.rollout(context, horizon),
        linear_order=linear.order,
        seasonal=seasonal,
        season=_season(task),
        smoothing=smoothed,
    )


def _single(batch: Batch, example: int) -> Batch:
    """Example `example` as a batch of one, its per-example meta sliced along."""
    if not 0 <= example < batch.size:
        raise IndexError(f"example {example} is out of range: the batch has {batch.size}")
    pick = slice(example, example + 1)
    meta = {
        key: value[pick] if isinstance(value, np.ndarray) and len(value) == batch.size else value
        for key, value in batch.meta.items()
    }
    lengths = None if batch.lengths is None else batch.lengths[pick]
    return Batch(batch.inputs[pick], batch.targets[pick], batch.mask[pick], lengths, meta)


# ---- verdict ------------------------------------------------------------------------------------


def verdict(experiment: Any, scores: References | None = None) -> str | None:
    """None while the network beats repeating the last value on validation (or before it has
    trained); otherwise one or two plain sentences saying so and what to try."""
    scores = scores or references(experiment)
    if not math.isfinite(scores.network) or scores.network < scores.persistence:
        return None
    if _is_exact(scores):  # a flat stretch, a straight line, or no number at all
        return _exact(scores)
    text = (
        f"On the validation part the network's error ({scores.network:.3g}) is "
        f"{_times(scores.network / scores.persistence)} times that of repeating the last value "
        f"({scores.persistence:.3g}); the {scores.linear_name} gets {scores.linear:.3g}."
    )
    return f"{text} {_advice(experiment, scores)}"


def summary(scores: References) -> str:
    """Which forecast won on the validation part, in words, with the numbers: the network
    (once trained) against every reference; including when a reference wins, and why that may be."""
    name, best = scores.best()
    others = "; ".join(f"{n} {mse:.3g}" for n, mse in scores.baselines())
    if not math.isfinite(scores.network):
        return f"Validation error of the references (MSE, before training): {others}."
    if _is_exact(scores):
        return _exact(scores)
    ratio = scores.network / best
    if ratio < 1:
        return (
            f"The network wins: its validation error ({scores.network:.3g}) is {ratio:.2f} of "
            f"the best reference's, {name} ({best:.3g}). All references: {others}."
        )
    return (
        f"{_capital(name)} wins: its validation error ({best:.3g}) is lower than the network's "
        f"({scores.network:.3g}, {_times(ratio)} times as large). All references: {others}. "
        + _why_lost(scores, name)
    )


def _why_lost(scores: References, name: str) -> str:
    if name == PERSISTENCE_NAME:
        return (
            "Nothing beats repeating the last value here: the series changes like a random walk, "
            "where the last value is the best forecast there is."
        )
    if name == scores.linear_name and 0 < scores.rows < SHORT_SERIES:
        return (
            f"The series is short: from {scores.rows} training values a straight line's "
            f"{scores.order + 1} weights are learned far better than the network's thousands."
        )
    if name == scores.linear_name:
        return (
            "Here the next value is close to a straight-line mix of the last few, plus noise "
            "nothing can predict; the network has to learn that line before it can beat it."
        )
    if name == ETS_NAME:
        return (
            "Exponential smoothing follows the series' level, its trend and its season, each "
            "updated a little by every new value, from a handful of weights: a good fit for a "
            "series with a steady trend and season, and hard to beat from few training values."
        )
    return "The series repeats itself season after season, and copying last season is hard to beat."


def _is_exact(scores: References) -> bool:
    """The best reference makes no error worth the name (or none has a number)."""
    best = scores.best()[1]
    values = [mse for _, mse in scores.baselines()] + [scores.network]
    largest = max((v for v in values if math.isfinite(v)), default=0.0)
    return not best > EXACT * largest


def _exact(scores: References) -> str:
    """Persistence (or the best reference) makes no error: there is nothing to beat."""
    name, best = scores.best()
    if not math.isfinite(best):
        return "There are no scored validation values, so nothing can be compared."
    network = (
        f" The network's error is {scores.network:.3g}." if math.isfinite(scores.network) else ""
    )
    return (
        f"{_capital(name)} is exact on the validation part (error {best:.3g}, rounding at "
        f"most): the series follows it there, so no forecaster can beat it.{network}"
    )


def _times(ratio: float) -> str:
    if ratio < 10:
        return f"{ratio:.2f}" if ratio < 1.1 else f"{ratio:.1f}"
    return f"{ratio:.0f}" if ratio < 1000 else f"{ratio:.3g}"


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _advice(experiment: Any, scores: References) -> str:
    task, config = experiment.task, experiment.config
    if scores.linear >= scores.persistence:
        return (
            "Even the straight line does no better: the series may change like a random walk, "
            "where repeating the last value is the best forecast there is."
        )
    if isinstance(task, CsvTask) and task.method in ("zscore", "minmax", "none"):
        outside = _outside(task)
        if outside > 0.1 and config.normalise != "auto":
            return (
                f"{outside:.0%} of the validation values lie outside the training range: try "
                "Scaling 'auto' (or 'window'), which measures each window from its own start."
            )
    if experiment.steps_done < 300:
        return "Try more training steps."
    train = float(np.mean(experiment.history.train_loss[-50:]))
    if train < 0.5 * scores.network:
        return (
            "Its training error is far lower, so it is memorising the training part: try a "
            "shorter window (seq_len), fewer hidden units or some weight decay."
        )
    return "Try a lower learning rate, a shorter window (seq_len) or more training steps."


def _outside(task: CsvTask) -> float:
    train, val = task.raw[: task.split_at], task.raw[task.split_at :]
    return float(np.mean((val < train.min()) | (val > train.max())))
