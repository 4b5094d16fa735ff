"""Recurrent eigenvalues and the spectral radius over training."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from core.trainer import ProbeRecord
from tests.playground.charts.helpers import (
    CELLS,
    assert_clean,
    charts,
)


@pytest.mark.parametrize("cell", CELLS)
def test_spectrum_figure_draws_each_block_and_the_unit_circle(runs, cell):
    _, probe = runs[cell]
    fig = charts.spectrum_figure(probe)
    circle, *blocks = fig.data
    assert circle.name == "unit circle"
    np.testing.assert_allclose(np.hypot(circle.x, circle.y), 1, rtol=1e-6)
    assert len(blocks) == len(probe.spectrum)
    for trace, values in zip(blocks, probe.spectrum.values(), strict=True):
        np.testing.assert_allclose(trace.x, values.real, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(trace.y, values.imag, rtol=1e-5, atol=1e-6)
    assert fig.layout.yaxis.scaleanchor == "x"
    assert f"{probe.spectral_radius:.3g}" in fig.layout.title.text


def test_spectral_radius_figure(runs):
    exp, _ = runs["gru"]
    fig = charts.spectral_radius_figure(exp.probe_log)
    np.testing.assert_allclose(fig.data[0].y, [r.spectral_radius for r in exp.probe_log], rtol=1e-6)
    assert list(fig.data[1].y) == [1, 1]
    diverged = [ProbeRecord(1, np.ones(3), math.nan, math.nan), ProbeRecord(2, np.ones(3), 2.0, 1)]
    assert_clean(charts.spectral_radius_figure(diverged))
    assert len(charts.spectral_radius_figure([]).data) == 0


def test_spectrum_title_survives_nan_weights(runs):
    _, probe = runs["rnn"]
    broken = dataclasses.replace(probe, spectrum={"hidden": np.full(8, np.nan + 0j)})
    fig = charts.spectrum_figure(broken)
    assert "n/a" in fig.layout.title.text
    assert_clean(fig)
