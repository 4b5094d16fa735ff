"""The gates chart per cell."""

from __future__ import annotations

import numpy as np

from tests.playground.charts.helpers import (
    charts,
    types,
)


def test_gates_figure_per_cell(runs):
    _, lstm = runs["lstm"]
    fig = charts.gates_figure(lstm, 1)
    assert types(fig) == ["heatmap"] * 5
    assert [a.text for a in fig.layout.annotations] == [
        "input",
        "forget",
        "cell candidate",
        "output",
        "cell state",
    ]
    np.testing.assert_allclose(fig.data[1].z, lstm.gates["forget"][1].T, rtol=1e-6)
    assert (fig.layout.coloraxis.cmin, fig.layout.coloraxis.cmax) == (0, 1)
    assert (fig.layout.coloraxis2.cmin, fig.layout.coloraxis2.cmax) == (-1, 1)
    assert fig.data[0].coloraxis == "coloraxis" and fig.data[2].coloraxis == "coloraxis2"
    _, gru = runs["gru"]
    assert types(charts.gates_figure(gru)) == ["heatmap"] * 3
    _, rnn = runs["rnn"]
    vanilla = charts.gates_figure(rnn)
    assert len(vanilla.data) == 0
    assert vanilla.layout.annotations[0].text == "vanilla RNN has no gates"
