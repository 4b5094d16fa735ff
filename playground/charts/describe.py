"""Text alternatives: one short sentence per chart, from the same numbers the chart draws, so a
screen reader learns what a sighted visitor sees ("Loss 0.0031 at step 455, below the solved line
0.01; validation 0.0097"). The page keeps them current with the charts; no Streamlit here.
"""

from __future__ import annotations

import math

import numpy as np

from core.probes import Probe
from core.tasks import Task
from core.trainer import History, ProbeRecord
from playground.charts.gradients import realised_gain


def _num(value: float | None) -> str:
    return "not measured" if value is None or not math.isfinite(value) else f"{value:.3g}"


def loss(history: History, task: Task) -> str:
    if not len(history):
        return "Loss chart: no training steps yet."
    step, train = history.step[-1], history.train_loss[-1]
    _, val_loss, _ = history.validations()
    text = f"Loss chart: training loss {_num(train)} at step {step}"
    if task.metric_is_loss:
        where = "below" if train <= task.solved_at else "above"
        text += f", {where} the solved line {_num(task.solved_at)}"
        text += f" (baseline {_num(task.baseline)})"
    if len(val_loss):
        text += f"; validation {_num(float(val_loss[-1]))}"
    return text + "."


def metric(history: History, task: Task) -> str:
    _, _, values = history.validations()
    if not len(values):
        return f"Validation {task.metric_name} chart: no validation yet."
    state = "solved" if task.is_solved(float(values[-1])) else "not solved yet"
    return (
        f"Validation {task.metric_name} chart: {_num(float(values[-1]))}, {state} (solved at "
        f"{_num(task.solved_at)}, baseline {_num(task.baseline)})."
    )


def grad_norm(probe: Probe) -> str:
    grad = probe.grad_norm
    first, last = float(grad[0]), float(grad[-1])
    gain = realised_gain(grad, window=len(grad))
    typical = float(gain[len(gain) // 2]) if len(gain) else math.nan
    zeros = int(np.sum(grad == 0))
    text = (
        f"Gradient per time step: {_num(last)} at the last step and {_num(first)} at step 0; "
        f"going back it changes by a factor of about {_num(typical)} per step"
    )
    if zeros:
        text += f"; {zeros} steps underflowed to 0"
    return text + "."


def grad_history(probe_log: list[ProbeRecord]) -> str:
    if not probe_log:
        return "Gradient history: no probes yet."
    first, last = probe_log[0], probe_log[-1]
    return (
        f"Gradient history from step {first.step} to {last.step}: the gradient at time step 0 "
        f"went from {_num(float(first.grad_norm[0]))} to {_num(float(last.grad_norm[0]))}."
    )


def prediction(probe: Probe, example: int) -> str:
    return (
        f"Prediction chart for sequence {example}: the loss on the probe batch is "
        f"{_num(probe.loss)} and the task's metric {_num(probe.metric)}."
    )


def spectral_radius(probe_log: list[ProbeRecord]) -> str:
    if not probe_log:
        return "Spectral radius chart: no probes yet."
    return (
        f"Spectral radius of the recurrent weights: {_num(probe_log[-1].spectral_radius)} at step "
        f"{probe_log[-1].step} (1 is the line between fading and growing)."
    )


def race(histories: dict[str, History]) -> str:
    parts = []
    for cell, history in histories.items():
        _, val_loss, _ = history.validations()
        value = float(val_loss[-1]) if len(val_loss) else math.nan
        parts.append(f"{cell} {_num(value)}")
    return "Validation loss by cell: " + ", ".join(parts) + "."
