"""Charts that compare runs: cells side by side (race, claims) and the memory sweep."""

from __future__ import annotations

import math

import numpy as np

from core.probes import Probe
from core.tasks import Task
from core.trainer import History
from playground.charts.gradients import underflow_floor, underflow_trace
from playground.charts.style import (
    DASHES,
    LOG_AXIS,
    MARKERS,
    MAX_HISTORY_POINTS,
    PALETTE,
    SOLVED_COLOR,
    Fig,
    cell_color,
    cell_dash,
    f32,
    finish,
    fmt,
    hline,
    i32,
    message_figure,
    positive,
    scatter,
    smooth_log,
    thin,
)
from playground.charts.training import reference_lines


# ---- comparing cells -----------------------------------------------------------------------------
def race_loss_figure(histories: dict[str, History], task: Task) -> Fig:
    """Each cell's validation loss (line) and smoothed training loss (faint), one colour per cell."""
    title, x_title, y_title = "Loss by cell", "training step", "loss (log scale)"
    if not any(len(h) for h in histories.values()):
        return message_figure("race_loss", title, "Press Train or Step to start.", x_title, y_title)
    fig = Fig()
    last = 1.0
    cap = MAX_HISTORY_POINTS // 2  # several cells share one figure's budget
    for index, (name, history) in enumerate(histories.items()):
        if not len(history):
            continue
        color = cell_color(name, index)
        steps, train = history.columns("step", "train_loss")
        last = max(last, float(steps[-1]))
        keep = thin(len(steps), cap)
        smooth = smooth_log(positive(train), at=keep)
        fig.add_trace(
            scatter(
                x=i32(steps[keep]),
                y=smooth,
                name=f"{name} train",
                legendgroup=name,
                showlegend=False,
                mode="lines",
                line=dict(color=color, width=1),
                opacity=0.4,
            )
        )
        val_steps, val_loss, _ = history.validations()
        keep_val = thin(len(val_steps), cap)
        fig.add_trace(
            scatter(
                x=i32(val_steps[keep_val]),
                y=positive(val_loss[keep_val]),
                name=name,
                legendgroup=name,
                mode="lines+markers",
                line=dict(color=color, width=2, dash=cell_dash(name, index)),
                marker=dict(size=5, symbol=MARKERS[index % len(MARKERS)]),
            )
        )
    fig.add_traces(reference_lines(task, 0.0, last, on_loss=True))
    return finish(fig, "race_loss", title, x_title, y_title, yaxis=LOG_AXIS, showlegend=True)


def race_grad_figure(probes: dict[str, Probe]) -> Fig:
    """‖∂L/∂h_t‖ per time step for each cell on one log axis; gradients that underflowed to 0
    are marked below the lowest real value, one marker colour per cell."""
    floor = underflow_floor(*(p.grad_norm for p in probes.values())) if probes else 1.0
    fig = Fig()
    for index, (name, probe) in enumerate(probes.items()):
        color = cell_color(name, index)
        fig.add_trace(
            scatter(
                x=i32(np.arange(len(probe.grad_norm))),
                y=positive(probe.grad_norm),
                name=name,
                legendgroup=name,
                mode="lines",
                line=dict(color=color, width=2, dash=cell_dash(name, index)),
            )
        )
        marks = underflow_trace(probe.grad_norm, floor, f"{name}: exactly 0")
        if marks is not None:
            marks["marker"]["line"]["color"] = color
            marks["legendgroup"] = name
            fig.add_trace(marks)
    return finish(
        fig,
        "race_grad",
        "Gradient per time step by cell",
        "time step t",
        "‖∂L/∂h<sub>t</sub>‖ (log scale)",
        yaxis=LOG_AXIS,
        showlegend=True,
    )


def sweep_figure(
    results: dict[str, list[tuple[float, float]]],
    x_label: str,
    y_label: str,
    threshold: float | None = None,
) -> Fig:
    """Score against memory demand (lag, length) per cell, points sorted by x, optional dashed
    threshold."""
    fig = Fig()
    xs: list[float] = []
    for index, (name, points) in enumerate(results.items()):
        pairs = np.array(sorted(points), dtype=np.float64).reshape(-1, 2)
        xs.extend(pairs[:, 0][np.isfinite(pairs[:, 0])])
        fig.add_trace(
            scatter(
                x=f32(pairs[:, 0]),
                y=f32(pairs[:, 1]),
                name=name,
                mode="lines+markers",
                line=dict(color=cell_color(name, index), width=2, dash=cell_dash(name, index)),
                marker=dict(size=8, symbol=MARKERS[index % len(MARKERS)]),
            )
        )
    if threshold is not None and math.isfinite(threshold) and xs:
        fig.add_trace(
            hline(min(xs), max(xs), threshold, f"solved {fmt(threshold)}", SOLVED_COLOR, dash="dot")
        )
    title = f"{y_label} by {x_label}"
    return finish(fig, "sweep", title[:1].upper() + title[1:], x_label, y_label)


def grad_norm_history_figure(histories: dict[str, History]) -> Fig:
    """The gradient's total norm at every training step of each run (log y): clipped against
    unclipped in the exploding-gradients claim."""
    fig = Fig()
    for index, (label, history) in enumerate(histories.items()):
        norms, steps = history.columns("grad_norm", "step")
        keep = np.isfinite(norms) & (norms > 0)
        steps = steps[keep]
        shown = thin(len(steps), MAX_HISTORY_POINTS)
        fig.add_trace(
            scatter(
                x=i32(steps[shown]),
                y=f32(norms[keep][shown]),
                name=label,
                mode="lines",
                line=dict(color=PALETTE[index % len(PALETTE)], width=2, dash=DASHES[index % 6]),
            )
        )
    title, y_title = "Gradient norm per training step", "‖gradient‖ (log scale)"
    return finish(
        fig, "grad_norm_history", title, "training step", y_title, yaxis=LOG_AXIS, showlegend=True
    )
