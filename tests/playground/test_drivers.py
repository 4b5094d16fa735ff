"""The playground's TrainingDriver: what a live tick's probe carries between the costly parts."""

from __future__ import annotations

import math

import numpy as np

from core import Experiment, ExperimentConfig
from playground.drivers import TrainingDriver
from tests.playground.charts.helpers import charts  # figures as plotly objects, validated


def test_eigenvalues_are_taken_with_the_jacobian_and_carried_in_between():
    exp = Experiment(ExperimentConfig(cell="lstm", task="adding", seq_len=12, hidden=16))
    driver = TrainingDriver(exp, 100)
    driver.observe(jacobian=True)
    first = driver.probe
    assert first.spectrum and first.jacobian_norm is not None
    driver.advance(3)
    driver.observe(jacobian=False)
    carried = driver.probe
    assert carried.step == 3 and carried.spectrum is first.spectrum
    assert carried.jacobian_norm is first.jacobian_norm
    # The probe log says which records measured the spectrum: NaN where it was carried.
    assert math.isfinite(exp.probe_log[0].spectral_radius)
    assert math.isnan(exp.probe_log[1].spectral_radius)
    fig = charts.spectral_radius_figure(exp.probe_log)
    np.testing.assert_allclose(fig.data[0].y, [exp.probe_log[0].spectral_radius], rtol=1e-6)
    driver.observe(jacobian=True)
    fresh = driver.probe
    assert fresh.spectrum is not first.spectrum
    weights = exp.model.rnn.weight_hh_l0.detach().double().reshape(4, 16, 16)
    expected = np.abs(np.linalg.eigvals(weights.numpy())).max()  # numpy as the oracle
    assert math.isclose(fresh.spectral_radius, expected, rel_tol=1e-6)
