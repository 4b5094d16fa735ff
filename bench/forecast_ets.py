"""Exponential smoothing against the linear AR on the built-in series (issue 24): is a library's
Holt-Winters a better classical reference than core/forecast.py's least-squares line?

Each series' default task (its own split and seq_len). Both are fitted on the training part, then
forecast every validation value one step ahead from the real series before it (full history, real
units): the linear AR(K) with K = the task's order, Holt-Winters (core.forecast.fit_holt_winters:
statsmodels' additive trend and, for a season of at most 52 steps, additive season). Also the
page's own scores (core.forecast.references, the validation windows in model units), and the
seconds each fit costs. Run: OMP_NUM_THREADS=1 python -m bench.forecast_ets
"""

from __future__ import annotations

import time

import numpy as np

from core.config import ExperimentConfig
from core.forecast import _FITTED, _SMOOTHED, linear_reference, references, smoothing_reference
from core.tasks import DATA_SETS
from core.trainer import Experiment


def row(name: str) -> dict:
    experiment = Experiment(ExperimentConfig(task=name))
    task = experiment.task
    raw, split_at = task.raw, task.split_at
    _FITTED.pop(task, None), _SMOOTHED.pop(task, None)
    started = time.perf_counter()
    line = linear_reference(task)
    line_seconds = time.perf_counter() - started
    smoothing_reference(task)  # the first call pays statsmodels' import
    _SMOOTHED.pop(task, None)
    started = time.perf_counter()
    smoothing = smoothing_reference(task)
    ets_seconds = time.perf_counter() - started
    rows = np.arange(split_at, len(raw))
    history = raw[rows[:, None] - line.order + np.arange(line.order)[None, :]]
    truth = raw[split_at:]
    ar = float(np.mean((line.predict(history) - truth) ** 2))
    ets = float(np.mean((smoothing.one_step[rows - smoothing.first] - truth) ** 2))
    persistence = float(np.mean((raw[split_at - 1 : -1] - truth) ** 2))
    page = references(experiment)
    return {
        "series": name,
        "K": line.order,
        "season": smoothing.season,
        "persistence": persistence,
        "AR": ar,
        "ETS": ets,
        "ETS/AR": ets / ar,
        "page AR": page.linear,
        "page ETS": page.ets,
        "page ETS/AR": page.ets / page.linear,
        "AR s": line_seconds,
        "ETS s": ets_seconds,
    }


def main() -> None:
    rows = [row(data_set.name) for data_set in DATA_SETS]
    keys = list(rows[0])
    print("| " + " | ".join(keys) + " |")
    print("|" + "---|" * len(keys))
    for r in rows:
        cells = [v if isinstance(v, str | int) else f"{v:.3g}" for v in r.values()]
        print("| " + " | ".join(map(str, cells)) + " |")


if __name__ == "__main__":
    main()
