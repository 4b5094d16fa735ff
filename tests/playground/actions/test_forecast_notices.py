"""The forecast panel's actions are total: any series the task accepts gets sentences (the
scaling note, who won, what to try), never an exception. Reported: a flat upload raised
ZeroDivisionError in forecast_notices."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings

from core.config import ExperimentConfig
from core.tasks import DataError
from core.trainer import Experiment
from playground.actions import training
from tests.core.test_forecast import DEGENERATE


@settings(max_examples=30, deadline=None)
@given(series=DEGENERATE)
def test_the_forecast_panel_answers_every_series_in_sentences(series):
    config = ExperimentConfig(task="csv", hidden=4, batch_size=4, horizon=3)  # seq_len fits
    try:
        exp = Experiment(config, series)
    except DataError as error:
        assert "power of ten" in str(error)
        return
    exp.step(2)
    notices = training.forecast_notices(exp)
    assert notices and all(kind in ("caption", "info", "warning") for kind, _ in notices)
    assert all(text.endswith(".") for _, text in notices)
    assert any(kind == "info" for kind, _ in notices), "who won is always said"
    assert all(np.isfinite(loss) or np.isnan(loss) for _, loss in training.forecast_references(exp))
    assert training.forecast(exp, 0).network.shape == (3,)


def test_a_flat_upload_is_said_to_be_exact():
    exp = Experiment(ExperimentConfig(task="csv", seq_len=8), np.full(60, 4.2))
    exp.step(3)
    texts = [text for _, text in training.forecast_notices(exp)]
    assert any("exact" in text for text in texts)


def test_a_built_in_series_names_its_source_and_licence_under_the_chart():
    exp = Experiment(ExperimentConfig(task="sunspots", hidden=4))
    exp.step(2)
    first = training.forecast_notices(exp)[0][1]
    assert "Source: NOAA" in first and "Licence: public domain" in first
