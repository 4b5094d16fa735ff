"""Training tab: the loss and the validation metric over training steps, with baseline and solved
lines."""

from __future__ import annotations

import math

from core.tasks import Task
from core.trainer import History
from playground.charts.style import (
    BASELINE_COLOR,
    LOG_AXIS,
    MAX_HISTORY_POINTS,
    PALETTE,
    SOLVED_COLOR,
    TRAIN_COLOR,
    VAL_COLOR,
    Fig,
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


# ---- loss and metric -----------------------------------------------------------------------------
def reference_lines(task: Task, x0: float, x1: float, on_loss: bool) -> list[dict]:
    """Baseline and solved lines in the units of the chart they go on."""
    if on_loss and not task.metric_is_loss:
        if task.kind == "classification" and task.output_size > 1:
            # Cross-entropy of a uniform guess over the classes: the loss of knowing nothing.
            chance = math.log(task.output_size)
            hover = f"loss of a uniform guess over {task.output_size} classes: {fmt(chance)}"
            return [
                hline(x0, x1, chance, f"uniform guess {fmt(chance)}", BASELINE_COLOR, hover=hover)
            ]
        return []
    # Short legend names keep the legend to one row in a narrow column; the hover says more.
    relation = "≥" if task.higher_is_better else "≤"
    baseline, solved = task.baseline, task.solved_at
    lines = []
    for value, name, color, dash, hover in (
        (
            baseline,
            f"baseline {fmt(baseline)}",
            BASELINE_COLOR,
            "dash",
            f"baseline: {task.baseline_name} scores {fmt(baseline)}",
        ),
        (
            solved,
            f"solved {relation} {fmt(solved)}",
            SOLVED_COLOR,
            "dot",
            f"solved when {task.metric_name} {relation} {fmt(solved)}",
        ),
    ):
        if value is not None and math.isfinite(value) and (value > 0 or not on_loss):
            lines.append(hline(x0, x1, value, name, color, hover=hover, dash=dash))
    return lines


def loss_figure(
    history: History, task: Task, references: list[tuple[str, float]] | None = None
) -> Fig:
    """Train loss (raw, thin, and smoothed) and validation loss per step, log y, with the task's
    baseline and solved lines when its metric is the loss (else a uniform-guess line for
    classification; show `metric_figure` for the accuracy lines), and any more `references`
    (name, loss) as dash-dot lines: a forecast's linear AR, say."""
    if len(history) == 0:
        return message_figure(
            "loss", "Loss", "Press Train or Step to start.", "training step", "loss"
        )
    steps, train = history.columns("step", "train_loss")
    train = positive(train)
    keep = thin(len(steps), MAX_HISTORY_POINTS)
    smooth = smooth_log(train, at=keep)
    val_steps, val_loss, _ = history.validations()
    keep_val = thin(len(val_steps), MAX_HISTORY_POINTS)
    fig = Fig()
    fig.add_trace(
        scatter(
            x=i32(steps[keep]),
            y=train[keep],
            name="train",
            mode="lines",
            line=dict(color=TRAIN_COLOR, width=1),
            opacity=0.35,
        )
    )
    fig.add_trace(
        scatter(
            x=i32(steps[keep]),
            y=smooth,
            name="smoothed",
            mode="lines",
            line=dict(color=TRAIN_COLOR, width=2),
        )
    )
    fig.add_trace(
        scatter(
            x=i32(val_steps[keep_val]),
            y=positive(val_loss[keep_val]),
            name="validation",
            mode="lines+markers",
            line=dict(color=VAL_COLOR, width=1.5),
            marker=dict(size=5),
        )
    )
    end = max(float(steps[-1]), 1.0)
    fig.add_traces(reference_lines(task, 0.0, end, on_loss=True))
    for name, value in references or ():
        if math.isfinite(value) and value > 0:
            line = hline(0.0, end, value, f"{name} {fmt(value)}", PALETTE[0], dash="dashdot")
            fig.add_trace(line)
    return finish(fig, "loss", "Loss", "training step", "loss (log scale)", yaxis=LOG_AXIS)


def metric_figure(
    history: History, task: Task, references: list[tuple[str, float]] | None = None
) -> Fig:
    """Validation metric per step with the baseline and solved lines, and any more `references`
    (name, metric) as dash-dot lines (the classical methods on the same test set, say); log y
    for errors (lower is better), linear from zero for scores like accuracy."""
    title = f"Validation {task.metric_name}"
    steps, _, metric = history.validations()
    if len(steps) == 0:
        return message_figure(
            "metric", title, "No validation yet.", "training step", task.metric_name
        )
    keep = thin(len(steps), MAX_HISTORY_POINTS)
    log = not task.higher_is_better
    values = positive(metric[keep]) if log else f32(metric[keep])
    fig = Fig(
        scatter(
            x=i32(steps[keep]),
            y=values,
            name=task.metric_name,
            mode="lines+markers",
            line=dict(color=VAL_COLOR, width=1.5),
            marker=dict(size=5),
        )
    )
    end = max(float(steps[-1]), 1.0)
    fig.add_traces(reference_lines(task, 0.0, end, on_loss=False))
    for index, (name, value) in enumerate(references or ()):
        if math.isfinite(value):
            color = PALETTE[index % len(PALETTE)]
            fig.add_trace(hline(0.0, end, value, f"{name} {fmt(value)}", color, dash="dashdot"))
    axis = dict(yaxis=LOG_AXIS) if log else dict(yaxis_rangemode="tozero")
    return finish(fig, "metric", title, "training step", task.metric_name, **axis)
