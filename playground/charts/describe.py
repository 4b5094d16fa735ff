"""Text alternatives: one short sentence per chart, from the same numbers the chart draws, so a
screen reader learns what a sighted visitor sees ("Loss 0.0031 at step 455, below the solved line
0.01; validation 0.0097"). The page keeps them current with the charts; no Streamlit here.
"""

from __future__ import annotations

import math

import numpy as np

from core.forecast import Forecast
from core.probes import Probe
from core.tasks import Task
from core.trainer import History, ProbeRecord
from playground.charts.gradients import realised_gain
from playground.charts.memory import _pca
from playground.charts.style import clamp_example, real_length
from playground.charts.translation import shown_symbol


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


def metric(history: History, task: Task, references: list[tuple[str, float]] = ()) -> str:
    _, _, values = history.validations()
    if not len(values):
        return f"Validation {task.metric_name} chart: no validation yet."
    state = "solved" if task.is_solved(float(values[-1])) else "not solved yet"
    others = "".join(f", {name} {_num(value)}" for name, value in references)
    return (
        f"Validation {task.metric_name} chart: {_num(float(values[-1]))}, {state} (solved at "
        f"{_num(task.solved_at)}, baseline {_num(task.baseline)}{others})."
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


def verdict(words: list[str], positive) -> str:
    steps = ", ".join(f"{word} {_num(float(p))}" for word, p in zip(words, positive, strict=True))
    return f"Running verdict, probability positive after each word: {steps}."


def spectral_radius(probe_log: list[ProbeRecord]) -> str:
    measured = [r for r in probe_log if math.isfinite(r.spectral_radius)]  # NaN: not taken
    if not measured:
        return "Spectral radius chart: no probes yet."
    return (
        f"Spectral radius of the recurrent weights: {_num(measured[-1].spectral_radius)} at step "
        f"{measured[-1].step} (1 is the line between fading and growing)."
    )


def race(histories: dict[str, History]) -> str:
    parts = []
    for cell, history in histories.items():
        _, val_loss, _ = history.validations()
        value = float(val_loss[-1]) if len(val_loss) else math.nan
        parts.append(f"{cell} {_num(value)}")
    return "Validation loss by cell: " + ", ".join(parts) + "."


def race_grad(probes: dict[str, Probe]) -> str:
    """The gradient-per-time-step chart of several cells: each one's value at the last step and
    at step 0, the factor between them, and how many steps underflowed to 0."""
    if not probes:
        return "Gradient per time step by cell: no probes yet."
    parts = []
    for cell, probe in probes.items():
        grad = np.asarray(probe.grad_norm, dtype=np.float64)
        first, last = float(grad[0]), float(grad[-1])
        text = f"{cell} {_num(last)} at the last step, {_num(first)} at step 0"
        if first > 0 and last > 0:
            text += f" (x{_num(first / last)})"
        zeros = int(np.sum(grad == 0))
        if zeros:
            text += f", {zeros} steps underflowed to 0"
        parts.append(text)
    return "Gradient per time step by cell: " + "; ".join(parts) + "."


def grad_norm_history(histories: dict[str, History]) -> str:
    """The gradient-norm-per-training-step chart: each run's last and largest norm."""
    parts = []
    for label, history in histories.items():
        norms, steps = history.columns("grad_norm", "step")
        finite = np.flatnonzero(np.isfinite(norms))
        if not finite.size:
            parts.append(f"{label} no finite norm")
            continue
        top = finite[np.argmax(norms[finite])]
        parts.append(
            f"{label} {_num(norms[finite[-1]])} at step {int(steps[finite[-1]])}, largest "
            f"{_num(norms[top])} at step {int(steps[top])}"
        )
    if not parts:
        return "Gradient norm per training step: no steps yet."
    return "Gradient norm per training step: " + "; ".join(parts) + "."


def sweep(
    results: dict[str, list[tuple[float, float]]], setting: str, threshold: float | None
) -> str:
    """The sweep chart: each cell's score at every value tried and the largest value it solved."""
    if not any(results.values()):
        return f"Sweep chart: no runs finished yet ({setting})."
    parts = []
    for cell, points in results.items():
        points = sorted(points)
        scores = ", ".join(f"{_num(score)} at {value:g}" for value, score in points)
        text = f"{cell} {scores}" if points else f"{cell} no runs yet"
        if threshold is not None and points:
            solved = [value for value, score in points if score >= threshold]
            text += f" (solved up to {max(solved):g})" if solved else " (solved none)"
        parts.append(text)
    line = f"Success by {setting}: " + "; ".join(parts)
    if threshold is not None:
        line += f". Solved means at least {_num(threshold)}"
    return line + "."


def forecast(fc: Forecast) -> str:
    """The forecast chart: how far ahead, and each forecast's mean absolute error against the
    truth over the steps the data cover."""
    ahead = len(fc.network)
    text = f"Forecast chart: {ahead} steps ahead after {len(fc.context)} seen"
    truth = np.ravel(fc.truth).astype(np.float64)
    known = np.isfinite(truth)
    if not known.any():
        return text + "; the data end before the forecast, so there is nothing to score."
    errors = [
        (name, float(np.mean(np.abs(np.ravel(values).astype(np.float64)[known] - truth[known]))))
        for name, values in [("network", fc.network), *fc.references()]
    ]
    scored = ", ".join(f"{name} {_num(error)}" for name, error in errors)
    return f"{text}. Mean absolute error over {int(known.sum())} steps: {scored}."


def trajectory(probe: Probe, dims: int = 2) -> str:
    """The hidden-state trajectory chart: how many sequences, and the share of the states'
    variance its principal components show (the same PCA as charts.memory)."""
    dims = 3 if dims == 3 else 2
    hidden = np.asarray(probe.hidden, dtype=np.float64)
    count, length, size = hidden.shape
    flat = hidden.reshape(-1, size)
    real = np.isfinite(flat).all(axis=1)
    if not real.any():
        return "Hidden-state trajectories: no real steps."
    _, explained, _ = _pca(flat[real], dims)
    return (
        f"Hidden-state trajectories of {count} sequences of up to {length} steps, drawn on the "
        f"first {dims} principal components of the {size} hidden units, which hold "
        f"{explained.sum():.0f}% of the variance ({', '.join(f'{e:.0f}%' for e in explained)})."
    )


def hidden(probe: Probe, example: int) -> str:
    """The hidden-state heatmap of one sequence: its range, and how many units sit near the ends
    of tanh's range (|h| > 0.9, saturated) at its last step."""
    example = clamp_example(probe, example)
    length = real_length(probe, example)
    states = np.asarray(probe.hidden[example, :length], dtype=np.float64)
    if not length or not np.isfinite(states).any():
        return f"Hidden state of sequence {example}: no real steps."
    last = states[-1]
    saturated = int(np.sum(np.abs(last[np.isfinite(last)]) > 0.9))
    return (
        f"Hidden state of sequence {example}: {states.shape[1]} units over {length} steps, values "
        f"from {_num(np.nanmin(states))} to {_num(np.nanmax(states))}; at the last step "
        f"{saturated} of {states.shape[1]} units are beyond ±0.9."
    )


def lengths(probe: Probe) -> str:
    values = np.asarray(probe.lengths)
    if not values.size:
        return "Sequence lengths: none."
    return (
        f"Sequence lengths of the {values.size} sequences: {int(values.min())} to "
        f"{int(values.max())} steps, median {np.median(values):g}."
    )


def gates(probe: Probe, example: int) -> str:
    """The gates chart of one sequence: each gate's mean over units and time, and the cell
    state's range (LSTM)."""
    if not probe.gates:
        return "Gates chart: a vanilla RNN has no gates."
    example = clamp_example(probe, example)
    length = real_length(probe, example)
    means = ", ".join(
        f"{name.replace('_', ' ')} {_num(float(np.nanmean(values[example, :length])))}"
        for name, values in probe.gates.items()
    )
    text = f"Gates of sequence {example}, mean over units and {length} steps: {means}"
    if probe.cell is not None:
        cell = probe.cell[example, :length]
        text += f"; cell state from {_num(np.nanmin(cell))} to {_num(np.nanmax(cell))}"
    return text + "."


def spectrum(probe: Probe) -> str:
    """The eigenvalue chart: the spectral radius and how many eigenvalues lie outside the unit
    circle (directions that grow from step to step)."""
    values = [np.asarray(v) for v in probe.spectrum.values()]
    values = [v[np.isfinite(v)] for v in values]
    magnitudes = np.abs(np.concatenate(values)) if values else np.array([])
    if not magnitudes.size:
        return "Recurrent eigenvalues: none computed."
    outside = int(np.sum(magnitudes > 1))
    return (
        f"Recurrent eigenvalues: spectral radius {_num(float(magnitudes.max()))}; {outside} of "
        f"{magnitudes.size} lie outside the unit circle (1 is the line between fading and growing)."
    )


def attention(words: list[str], symbols: list[str], weights) -> str:
    if weights is None:
        return "Attention map: this network has no attention."
    parts = [
        f"{shown_symbol(symbol)} looks most at word {int(np.argmax(row)) + 1} ({words[int(np.argmax(row))]})"
        for symbol, row in zip(symbols, weights, strict=True)
    ]
    return "Attention map: " + "; ".join(parts) + "."


def encoder_grad(grad_norms: dict) -> str:
    parts = [
        f"{label}: {_num(float(values[0]))} at the first word, {_num(float(values[-1]))} at the "
        "last"
        for label, values in grad_norms.items()
    ]
    return "Gradient per word: " + "; ".join(parts) + "."


def exact_by_length(by_length: dict, buckets: list[str]) -> str:
    parts = [
        f"{label}: " + ", ".join(f"{b} {_num(v)}" for b, v in zip(buckets, values, strict=True))
        for label, values in by_length.items()
    ]
    return "Exact match by sentence length: " + "; ".join(parts) + "."


def translate_loss(histories: dict) -> str:
    parts = [
        f"{label} {_num(h.train_loss[-1])} at step {h.step[-1]}"
        for label, h in histories.items()
        if len(h)
    ]
    return "Training loss: " + ("; ".join(parts) if parts else "no steps yet") + "."
