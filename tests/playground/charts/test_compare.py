"""Charts that compare cells: the race and the memory sweep."""

from __future__ import annotations

import math

import numpy as np

from playground.charts import style
from tests.playground.charts.helpers import (
    CELLS,
    assert_clean,
    charts,
)


def test_race_figures_use_one_colour_per_cell(runs):
    histories = {cell: runs[cell][0].history for cell in CELLS}
    probes = {cell: runs[cell][1] for cell in CELLS}
    task = runs["rnn"][0].task
    loss = charts.race_loss_figure(histories, task)
    for cell in CELLS:
        colours = {trace.line.color for trace in loss.data if trace.legendgroup == cell}
        assert colours == {style.CELL_COLORS[cell]}
    grad = charts.race_grad_figure(probes)
    assert [trace.name for trace in grad.data] == list(CELLS)
    assert [trace.line.color for trace in grad.data] == [style.CELL_COLORS[c] for c in CELLS]
    np.testing.assert_allclose(grad.data[1].y, probes["lstm"].grad_norm, rtol=1e-6)
    assert_clean(loss)
    assert_clean(grad)


def test_sweep_figure_sorts_points_and_draws_the_threshold():
    results = {"rnn": [(20, 0.3), (5, 0.9), (10, math.nan)], "lstm": [(5, 1.0), (20, 0.97)]}
    fig = charts.sweep_figure(results, "lag", "accuracy", 0.95)
    rnn, lstm, threshold = fig.data
    np.testing.assert_array_equal(rnn.x, [5, 10, 20])
    assert rnn.line.color == style.CELL_COLORS["rnn"]
    np.testing.assert_array_equal(threshold.x, [5, 20])
    assert fig.layout.title.text == "Accuracy by lag"
    assert_clean(fig)
    assert len(charts.sweep_figure({}, "lag", "accuracy", None).data) == 0
