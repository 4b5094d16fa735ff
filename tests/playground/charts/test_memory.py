"""Hidden-state charts: PCA trajectories, the units x time heatmap."""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pytest

from playground.charts import style
from tests.playground.charts.helpers import (
    CELLS,
    assert_clean,
    charts,
    run,
    types,
)


def explained_percentages(titles: list[str]) -> list[float]:
    return [float(re.search(r"\(([\d.]+)%\)", title).group(1)) for title in titles]


@pytest.mark.parametrize("cell", CELLS)
def test_trajectory_has_one_line_per_sequence(runs, cell):
    _, probe = runs[cell]
    count, length, _ = probe.hidden.shape
    fig = charts.trajectory_figure(probe)
    assert types(fig) == ["scatter"] * count
    assert all(len(trace.x) == length for trace in fig.data)
    np.testing.assert_array_equal(fig.data[0].marker.color, np.arange(length))
    assert fig.data[0].marker.coloraxis == "coloraxis"
    shares = explained_percentages([fig.layout.xaxis.title.text, fig.layout.yaxis.title.text])
    assert shares[0] >= shares[1] and sum(shares) <= 100.5
    xs = np.concatenate([t.x for t in fig.data])
    ys = np.concatenate([t.y for t in fig.data])
    assert abs(xs.mean()) < 1e-4 and xs.var() >= ys.var()  # centred; PC1 carries the most variance
    fig3 = charts.trajectory_figure(probe, 3)
    assert types(fig3) == ["scatter3d"] * count
    scene = fig3.layout.scene
    titles = [scene.xaxis.title.text, scene.yaxis.title.text, scene.zaxis.title.text]
    assert sum(explained_percentages(titles)) <= 100.5


def test_trajectory_projection_matches_numpy_pca(runs):
    _, probe = runs["gru"]
    states = probe.hidden.reshape(-1, probe.hidden.shape[-1]).astype(np.float64)
    centred = states - states.mean(axis=0)
    _, singular, vt = np.linalg.svd(centred, full_matrices=False)
    expected = centred @ vt[0]
    drawn = np.concatenate([trace.x for trace in charts.trajectory_figure(probe).data])
    sign = np.sign(expected @ drawn)  # a principal direction's sign is arbitrary
    np.testing.assert_allclose(drawn, sign * expected, atol=1e-5)


def test_trajectory_does_not_mirror_between_redraws(runs):
    _, probe = runs["lstm"]
    nudged = dataclasses.replace(probe, hidden=probe.hidden * 1.001 + 1e-4)
    before = charts.trajectory_figure(probe).data[0]
    after = charts.trajectory_figure(nudged).data[0]
    np.testing.assert_allclose(before.x, after.x, atol=1e-2)
    np.testing.assert_allclose(before.y, after.y, atol=1e-2)


def test_ragged_trajectories_stop_where_sequences_end(runs):
    _, probe = runs["lstm"]
    lengths = np.array([3, 20, 7, 1] * 4)
    hidden = probe.hidden.copy()
    hidden[np.arange(20)[None, :] >= lengths[:, None]] = np.nan
    ragged = dataclasses.replace(probe, hidden=hidden, lengths=lengths)
    fig = charts.trajectory_figure(ragged)
    assert [len(trace.x) for trace in fig.data] == list(lengths)
    assert all(np.isfinite(trace.x).all() and np.isfinite(trace.y).all() for trace in fig.data)
    assert_clean(fig)
    heat = charts.hidden_heatmap(ragged, example=0)
    assert heat.data[0].z.shape == (8, 3)
    assert_clean(charts.gates_figure(ragged, example=2))
    histogram = charts.length_histogram(ragged)
    np.testing.assert_array_equal(histogram.data[0].x, lengths)


@pytest.mark.parametrize("hidden", [1, 2])
def test_trajectory_pads_missing_components_for_tiny_layers(hidden):
    _, probe = run("rnn", hidden=hidden, steps=1)
    for dims in (2, 3):
        fig = charts.trajectory_figure(probe, dims)
        assert len(fig.data) == probe.hidden.shape[0]
        assert_clean(fig)
    fig = charts.trajectory_figure(probe, 3)
    assert "(0%)" in fig.layout.scene.zaxis.title.text


def test_hidden_heatmap_shows_units_by_time(runs):
    _, probe = runs["rnn"]
    fig = charts.hidden_heatmap(probe, 2)
    (heat,) = fig.data
    np.testing.assert_allclose(heat.z, probe.hidden[2].T, rtol=1e-6)
    assert (heat.zmin, heat.zmax) == (-1, 1)


def test_hidden_heatmap_range_widens_for_relu():
    _, probe = run("rnn_relu", steps=1)
    loud = dataclasses.replace(probe, hidden=np.abs(probe.hidden) * 5 + 0.5)  # ReLU is unbounded
    (heat,) = charts.hidden_heatmap(loud).data
    assert heat.zmax > 1 and heat.zmin == -heat.zmax  # still centred on zero
    assert_clean(charts.trajectory_figure(probe))


def test_wide_layers_show_their_most_active_units():
    _, probe = run("gru", hidden=100, seq_len=6, steps=1)
    fig = charts.hidden_heatmap(probe)
    assert len(fig.data[0].y) == style.MAX_UNITS
    assert fig.layout.yaxis.type == "category"
    assert "of 100" in fig.layout.yaxis.title.text
    gates = charts.gates_figure(probe)
    assert all(len(trace.y) == style.MAX_GATE_UNITS for trace in gates.data)
