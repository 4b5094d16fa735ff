"""Gates tab: every gate of one sequence as units x time heatmaps."""

from __future__ import annotations

import copy

from core.probes import Probe
from playground.charts.style import (
    DIVERGING,
    GATE_RANGES,
    MAX_GATE_CELLS,
    MAX_GATE_UNITS,
    SEQUENTIAL,
    Fig,
    clamp_example,
    finish,
    heatmap,
    i32,
    message_figure,
    real_length,
    select_units,
    subplot_rows,
    symmetric_limit,
    thin,
    unit_axis,
    units_by_time,
)


# ---- gates ---------------------------------------------------------------------------------------
def _colorbar_at(fig: Fig, row: int) -> dict:
    """A colour bar beside subplot `row` (1-based); the subplot titles say what it measures."""
    axis = fig.layout["yaxis" if row == 1 else f"yaxis{row}"]
    low, high = axis["domain"]
    return dict(y=(low + high) / 2, len=high - low, thickness=10)


def gates_figure(probe: Probe, example: int = 0) -> Fig:
    """One units x time heatmap per gate of one sequence (LSTM input, forget, cell_candidate,
    output, plus the cell state; GRU reset, update, candidate). Sigmoid gates use 0..1, tanh ones
    -1..1, the cell state a symmetric range around 0. Vanilla RNN: a figure that says so."""
    if not probe.gates:
        return message_figure("gates", "Gates", "vanilla RNN has no gates", "time step", "unit")
    example = clamp_example(probe, example)
    length = real_length(probe, example)
    panels = list(probe.gates.items())
    if probe.cell is not None:
        panels.append(("cell state", probe.cell))
    size = probe.hidden.shape[2]
    units = select_units(probe.hidden[example, :length], MAX_GATE_UNITS)  # same rows everywhere
    steps = thin(length, max(MAX_GATE_CELLS // (len(panels) * max(len(units), 1)), 2))
    y, axis, _ = unit_axis(units, size)
    titles = tuple(name.replace("_", " ") for name, _ in panels)
    fig = Fig(layout=copy.deepcopy(subplot_rows(len(panels), titles, 0.06)))
    coloraxes: dict[str, dict] = {}
    for row, (name, values) in enumerate(panels, start=1):
        z = units_by_time(values[example, :length], units, steps)
        low, high = GATE_RANGES.get(name, (None, None))
        if low is None:
            limit = symmetric_limit(z)
            low, high, scale, key = -limit, limit, DIVERGING, "coloraxis3"
        elif low == 0:
            scale, key = SEQUENTIAL, "coloraxis"
        else:
            scale, key = DIVERGING, "coloraxis2"
        if key not in coloraxes:
            bar = _colorbar_at(fig, row)
            coloraxes[key] = dict(colorscale=scale, cmin=low, cmax=high, colorbar=bar)
        fig.add_trace(
            heatmap(
                z=z,
                x=i32(steps),
                y=y,
                coloraxis=key,
                name=name,
                hovertemplate=f"{name} t=%{{x}} unit %{{y}}: %{{z:.2f}}<extra></extra>",
            ),
            row=row,
            col=1,
        )
    fig.update_layout(**coloraxes)
    fig.update_yaxes(showgrid=False, **axis)
    fig.update_xaxes(showgrid=False)
    for annotation in fig.layout.get("annotations", []):
        annotation["font"] = dict(size=12)
    title = f"Gates, sequence {example}"
    if len(units) < size:
        title += f" ({len(units)} most active of {size} units)"
    fig = finish(fig, "gates", title, "", "unit", height=90 + 120 * len(panels))
    fig.update_yaxes(title_text="unit")
    fig.update_xaxes(title_text="time step", row=len(panels), col=1)
    return fig
