"""The built-in real series: each declares its source, licence and citation, ships its file, is
listed in core/data/README.md, and works as a task with the seasonal naive reference beside it.

Oracles: the shipped CSV read by pandas on its own, and the seasonal naive forecast indexed
straight from the raw series."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.config import ExperimentConfig
from core.forecast import forecast_example, reference_predictions, references, summary
from core.tasks import DATA_SETS, TASKS, CsvTask, make_task
from core.tasks.series import SERIES_DIR
from core.trainer import Experiment

README = (Path(__file__).resolve().parents[2] / "core" / "data" / "README.md").read_text()


@pytest.mark.parametrize("data_set", DATA_SETS, ids=lambda d: d.name)
def test_each_data_set_declares_where_it_comes_from_and_is_listed(data_set):
    for part in ("source", "licence", "citation", "about", "title"):
        assert len(getattr(data_set, part).split()) >= 2, f"{data_set.name} lacks its {part}"
    row = next(
        (line for line in README.splitlines() if line.startswith(f"| `{data_set.name}`")), ""
    )
    assert row, f"core/data/README.md has no row for {data_set.name}"
    assert f"series/{data_set.file}" in row and data_set.licence.split()[0] in row
    assert (SERIES_DIR / data_set.file).is_file()
    task = TASKS[data_set.name]
    assert issubclass(task, CsvTask) and "csv_column" not in task.params
    assert data_set.credit in task.explanation, "the page shows the source with the task"


@pytest.mark.parametrize("data_set", DATA_SETS, ids=lambda d: d.name)
def test_each_data_set_is_its_column_of_the_shipped_file(data_set):
    expected = pd.read_csv(SERIES_DIR / data_set.file)[data_set.column].dropna().to_numpy()
    task = make_task(ExperimentConfig(task=data_set.name))
    assert np.array_equal(task.raw, expected) and len(expected) >= 100
    assert task.season == data_set.season and task.column_name == data_set.column


def test_the_seasonal_reference_repeats_the_value_a_season_before():
    task = make_task(ExperimentConfig(task="airline", normalise="zscore"))
    batch = task.sample(16, np.random.default_rng(0), "val")
    starts, length = batch.meta["starts"], task.config.seq_len
    oracle = np.array([[task.raw[s + t + 1 - 12] for t in range(length)] for s in starts])
    guess = reference_predictions(task, batch)["seasonal"]
    assert np.allclose(guess * task.scale + task.shift, oracle)


def test_seasonal_forecast_and_scores_reach_the_chart_and_the_summary():
    exp = Experiment(ExperimentConfig(task="co2", hidden=8))
    exp.step(3)
    forecast = forecast_example(exp, 0)
    end = int(exp.probe_batch.meta["starts"][0]) + exp.task.config.seq_len
    assert np.allclose(forecast.seasonal, exp.task.raw[end - 12 : end - 12 + exp.config.horizon])
    assert [name for name, _ in forecast.references()][-2:] == [
        "seasonal naive (12)",
        "Holt-Winters",
    ]
    scores = references(exp)
    assert scores.season == 12 and np.isfinite(scores.seasonal)
    assert "repeat the value one season ago (12 steps)" in summary(scores)
