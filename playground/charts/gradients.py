"""Gradients tab: the gradient per time step of backpropagation through time, and its history."""

from __future__ import annotations

import numpy as np

from core.probes import Probe
from core.trainer import ProbeRecord
from playground.charts.style import (
    BASELINE_COLOR,
    GATE_COLORS,
    LOG_AXIS,
    MAX_HEATMAP_CELLS,
    MAX_RECORDS,
    SEQUENTIAL,
    TRAIN_COLOR,
    Fig,
    f32,
    finish,
    heatmap,
    hline,
    i32,
    message_figure,
    positive,
    scatter,
    thin,
)

# The gradient-history heatmap and the Race share one fixed colour range (log10 of the gradient),
# so a screenshot of an RNN and one of an LSTM can be compared; below it is the bottom colour.
GRAD_LOG_RANGE = (-20.0, 2.0)
GAIN_WINDOW = 5  # step pairs the realised gain is averaged over (a geometric mean)
GAIN_COLOR = "#d55e00"


def realised_gain(grad_norm: np.ndarray, window: int = GAIN_WINDOW) -> np.ndarray:
    """(L-1,) how much the gradient grows per step back: grad_norm[t] / grad_norm[t+1], as a
    geometric mean over up to `window` neighbouring pairs (centred). NaN where a gradient is 0
    (underflow) or missing, and where no pair in the window is defined."""
    values = np.asarray(grad_norm, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.log(values[:-1]) - np.log(values[1:])
    logs[~np.isfinite(logs)] = np.nan
    half = window // 2
    smooth = np.full(len(logs), np.nan)
    for t in range(len(logs)):
        part = logs[max(0, t - half) : t + half + 1]
        if np.isfinite(part).any():
            smooth[t] = np.exp(np.nanmean(part))
    return smooth


def underflow_floor(*series: np.ndarray) -> float:
    """Where to draw gradients that underflowed to 0: a decade below the smallest real value."""
    values = np.concatenate([np.ravel(np.asarray(s, dtype=np.float64)) for s in series])
    positive = values[np.isfinite(values) & (values > 0)]
    smallest = float(positive.min()) if positive.size else 1.0
    return 10.0 ** (np.floor(np.log10(smallest)) - 1)


def underflow_trace(grad_norm: np.ndarray, floor: float, name: str) -> dict | None:
    """Markers at `floor` where the gradient is exactly 0: below float32's range, not a value."""
    zero = np.flatnonzero(np.asarray(grad_norm) == 0)
    if zero.size == 0:
        return None
    return scatter(
        x=i32(zero),
        y=f32(np.full(zero.size, floor)),
        name=name,
        mode="markers",
        marker=dict(symbol="x-thin", size=8, line=dict(width=2, color=BASELINE_COLOR)),
        hovertemplate="t=%{x}: the gradient is exactly 0 (it underflowed below float32, or "
        "nothing links this step to the loss)<extra></extra>",
    )


def grad_norm_figure(probe: Probe) -> Fig:
    """‖∂L/∂h_t‖ per time step (log y; exact zeros drawn as underflow markers below the curve),
    ‖∂L/∂c_t‖ for LSTM, and on a right-hand axis the realised gain per step back
    (`realised_gain`, what the curve follows) with a dashed line at 1, plus the state Jacobian's
    spectral norm, labelled as the upper bound it is, when the probe has it."""
    grads = [probe.grad_norm] + ([probe.grad_norm_cell] if probe.grad_norm_cell is not None else [])
    floor = underflow_floor(*grads)
    steps = i32(np.arange(len(probe.grad_norm)))
    fig = Fig()
    fig.add_trace(
        scatter(
            x=steps,
            y=positive(probe.grad_norm),
            name="‖∂L/∂h<sub>t</sub>‖",
            mode="lines+markers",
            line=dict(color=TRAIN_COLOR, width=2),
            marker=dict(size=4),
        )
    )
    if probe.grad_norm_cell is not None:
        fig.add_trace(
            scatter(
                x=steps,
                y=positive(probe.grad_norm_cell),
                name="‖∂L/∂c<sub>t</sub>‖",
                mode="lines",
                line=dict(color=GATE_COLORS["forget"], width=2, dash="dash"),
            )
        )
    marks = underflow_trace(probe.grad_norm, floor, "exactly 0 (underflow or no path)")
    if marks is not None:
        fig.add_trace(marks)
    fig.add_traces(_gain_traces(probe, len(steps)))
    layout = dict(
        yaxis2=dict(
            title=dict(text="gain per step back"),
            overlaying="y",
            side="right",
            rangemode="tozero",
            tickmode="auto",  # not synced to the left axis' ticks, which gives values like 1.016
            showgrid=False,
        )
    )
    title, y_title = "Gradient per time step", "‖∂L/∂h<sub>t</sub>‖ (log scale)"
    return finish(fig, "grad_norm", title, "time step t", y_title, yaxis=LOG_AXIS, **layout)


def _gain_traces(probe: Probe, length: int) -> list[dict]:
    between = np.arange(max(length - 1, 0), dtype=np.float32) + 0.5
    traces = [
        scatter(
            x=between,
            y=f32(realised_gain(probe.grad_norm)),
            name="gain per step back",
            mode="lines",
            yaxis="y2",
            line=dict(color=GAIN_COLOR, width=1.5),
            hovertemplate="between t=%{x:.0f} and the next step: ×%{y:.3g}<extra></extra>",
        ),
        hline(0.0, float(max(length - 1, 1)), 1.0, "gain = 1", GAIN_COLOR, "y2"),
    ]
    if probe.jacobian_norm is not None and len(probe.jacobian_norm):
        traces.append(
            scatter(
                x=between[: len(probe.jacobian_norm)],
                y=positive(probe.jacobian_norm),
                name="upper bound ‖∂s<sub>t+1</sub>/∂s<sub>t</sub>‖₂",
                mode="lines",
                yaxis="y2",
                line=dict(color=GAIN_COLOR, width=1, dash="dot"),
            )
        )
    return traces


def grad_history_heatmap(probe_log: list[ProbeRecord]) -> Fig:
    """log10 ‖∂L/∂h_t‖ as time step (x) by training step (y), one row per probe record, on the
    fixed colour range GRAD_LOG_RANGE (below it, and exact zeros, get the bottom colour);
    records of different lengths are padded with NaN (drawn as gaps)."""
    x_title, y_title = "time step t", "training step"
    if not probe_log:
        return message_figure(
            "grad_history", "Gradient over training", "No probes yet.", x_title, y_title
        )
    records = [probe_log[i] for i in thin(len(probe_log), MAX_RECORDS)]
    width = max(len(r.grad_norm) for r in records)
    grid = np.full((len(records), width), np.nan)
    for row, record in enumerate(records):
        grid[row, : len(record.grad_norm)] = record.grad_norm
    columns = thin(width, max(MAX_HEATMAP_CELLS * 2 // len(records), 2))
    low, high = GRAD_LOG_RANGE
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.log10(grid[:, columns])
    logs = np.where(np.isnan(grid[:, columns]), np.nan, np.clip(logs, low, high))
    ticks = np.arange(low, high + 1, 4)
    labels = [f"≤10<sup>{int(low)}</sup>"] + [f"10<sup>{int(v)}</sup>" for v in ticks[1:]]
    fig = Fig(
        heatmap(
            z=f32(logs),
            x=i32(columns),
            y=i32([r.step for r in records]),
            zmin=low,
            zmax=high,
            colorscale=SEQUENTIAL,
            colorbar=dict(
                title=dict(text="‖∂L/∂h<sub>t</sub>‖"),
                thickness=12,
                tickvals=f32(ticks),
                ticktext=labels,
            ),
            hovertemplate="t=%{x}, step %{y}: 10^%{z:.1f}<extra></extra>",
        )
    )
    fig.update_xaxes(showgrid=False)
    fig.update_yaxes(showgrid=False)
    return finish(fig, "grad_history", "Gradient over training", x_title, y_title)
