"""Gradients tab: the gradient per time step of backpropagation through time, and its history."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from core.probes import Probe
from core.trainer import ProbeRecord
from playground.charts.style import (
    GATE_COLORS,
    LOG_AXIS,
    MAX_HEATMAP_CELLS,
    MAX_RECORDS,
    SEQUENTIAL,
    TRAIN_COLOR,
    f32,
    finish,
    floored,
    hline,
    i32,
    message_figure,
    thin,
)


# ---- gradients -----------------------------------------------------------------------------------
def grad_norm_figure(probe: Probe) -> go.Figure:
    """‖∂L/∂h_t‖ per time step (log y), ‖∂L/∂c_t‖ for LSTM, and the per-step Jacobian norm
    ‖∂s_{t+1}/∂s_t‖ on a right-hand log axis (drawn between t and t+1) with a dashed line at 1."""
    steps = i32(np.arange(len(probe.grad_norm)))
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=steps,
            y=floored(probe.grad_norm),
            name="‖∂L/∂h<sub>t</sub>‖",
            mode="lines+markers",
            line=dict(color=TRAIN_COLOR, width=2),
            marker=dict(size=4),
        )
    )
    if probe.grad_norm_cell is not None:
        fig.add_trace(
            go.Scatter(
                x=steps,
                y=floored(probe.grad_norm_cell),
                name="‖∂L/∂c<sub>t</sub>‖",
                mode="lines",
                line=dict(color=GATE_COLORS["forget"], width=2),
            )
        )
    layout = {}
    if probe.jacobian_norm is not None and len(probe.jacobian_norm):
        between = np.arange(len(probe.jacobian_norm), dtype=np.float32) + 0.5
        fig.add_trace(
            go.Scatter(
                x=between,
                y=floored(probe.jacobian_norm),
                name="per-step factor",
                mode="lines",
                yaxis="y2",
                line=dict(color="#ff7f0e", width=1.5),
            )
        )
        fig.add_trace(hline(0.0, float(len(steps) - 1), 1.0, "factor = 1", "#ff7f0e", "y2"))
        # Linear from zero: factors below 1 (vanishing) and above 1 (exploding) both stay readable.
        layout["yaxis2"] = dict(
            title=dict(text="per-step factor ‖∂s<sub>t+1</sub>/∂s<sub>t</sub>‖"),
            overlaying="y",
            side="right",
            rangemode="tozero",
            tickmode="auto",  # not synced to the left axis' ticks, which gives values like 1.016
            showgrid=False,
        )
    title, y_title = "Gradient per time step", "‖∂L/∂h<sub>t</sub>‖ (log scale)"
    return finish(fig, "grad_norm", title, "time step t", y_title, yaxis=LOG_AXIS, **layout)


def grad_history_heatmap(probe_log: list[ProbeRecord]) -> go.Figure:
    """log10 ‖∂L/∂h_t‖ as time step (x) by training step (y), one row per probe record; records of
    different lengths are padded with NaN (drawn as gaps)."""
    x_title, y_title = "time step t", "training step"
    if not probe_log:
        return message_figure(
            "grad_history_heatmap", "Gradient over training", "No probes yet.", x_title, y_title
        )
    records = [probe_log[i] for i in thin(len(probe_log), MAX_RECORDS)]
    width = max(len(r.grad_norm) for r in records)
    grid = np.full((len(records), width), np.nan)
    for row, record in enumerate(records):
        grid[row, : len(record.grad_norm)] = record.grad_norm
    columns = thin(width, max(MAX_HEATMAP_CELLS * 2 // len(records), 2))
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.log10(floored(grid[:, columns]))
    finite = logs[np.isfinite(logs)]
    # At most ten decades of colour, so one exact-zero gradient does not wash out the rest.
    top = float(finite.max()) if finite.size else 0.0
    bottom = max(float(finite.min()), top - 10) if finite.size else -1.0
    fig = go.Figure(
        go.Heatmap(
            z=f32(logs),
            x=i32(columns),
            y=i32([r.step for r in records]),
            zmin=bottom,
            zmax=max(top, bottom + 1e-6),
            colorscale=SEQUENTIAL,
            colorbar=dict(title=dict(text="log<sub>10</sub> ‖∂L/∂h<sub>t</sub>‖"), thickness=12),
            hovertemplate="t=%{x}, step %{y}: 10^%{z:.1f}<extra></extra>",
        )
    )
    fig.update_xaxes(showgrid=False)
    fig.update_yaxes(showgrid=False)
    return finish(fig, "grad_history_heatmap", "Gradient over training", x_title, y_title)
