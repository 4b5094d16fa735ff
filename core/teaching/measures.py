"""Measurements the claims share: gradient ratios, cells compared side by side, how much of a text
is real words, how well final hidden states separate classes. Each reads trained experiments and
changes nothing."""

from __future__ import annotations

import math
import re

import numpy as np

from core.teaching.runner import Experiments, Numbers
from core.trainer import Experiment

OBSERVED = 3  # recent observations a gradient ratio is the median of


def grad_ratio(experiment: Experiment) -> float:
    """grad_norm[0] / grad_norm[-1] on the probe batch: the loss's gradient with respect to the first
    hidden state over that of the last (tiny: vanishing; huge: exploding). 0 when it underflows.
    The same two numbers the gradient-per-time-step chart shows at its ends."""
    return _ratio(experiment.probe(jacobian=False).grad_norm)


def recent_grad_ratio(experiment: Experiment, count: int = OBSERVED) -> float:
    """Median of grad_ratio over the experiment's last `count` observations (Experiment.observe;
    a claim run observes at every check). A vanilla RNN's trajectory is chaotic: its ratio jumps
    by orders of magnitude from one check to the next, and one moment says little."""
    records = experiment.probe_log[-count:]
    if not records:
        return grad_ratio(experiment)
    return float(np.median([_ratio(record.grad_norm) for record in records]))


def _ratio(grad_norm: np.ndarray) -> float:
    return float(grad_norm[0] / grad_norm[-1])


def orders_apart(small: float, large: float) -> float:
    """log10(large / small), with an underflowed 0 counted as float32's smallest normal number."""
    return math.log10(max(large, 1e-38) / max(small, 1e-38))


def steps_to_solve(experiment: Experiment) -> float:
    """First validated step whose metric counts as solved, NaN if none."""
    steps, _, metric = experiment.history.validations()
    solved = [s for s, m in zip(steps, metric, strict=True) if experiment.task.is_solved(float(m))]
    return float(solved[0]) if solved else math.nan


def fresh(experiment: Experiment) -> Experiment:
    """The same run before training: same config and seed give the same initial weights."""
    return Experiment(experiment.config)


def compare_cells(experiments: Experiments) -> Numbers:
    """Cells trained on one task, side by side (long_memory, gru_vs_lstm).

    Per cell: `{cell}_loss`, the task's metric as `{cell}_mse` or `{cell}_accuracy` (for MSE tasks
    the same number as the loss), `{cell}_solved_at` (steps_to_solve), `{cell}_steps` (trained), `{cell}_params` and
    `{cell}_recurrent_params`. For the task: `baseline_mse` or `baseline_accuracy` and
    `solved_at` (the metric that counts as solved). With both an LSTM and a GRU:
    `recurrent_share`, the GRU's recurrent parameters over the LSTM's.
    """
    task = next(iter(experiments.values())).task
    metric = task.metric_name.lower()  # "mse" or "accuracy"
    numbers: Numbers = {f"baseline_{metric}": task.baseline, "solved_at": task.solved_at}
    for cell, experiment in experiments.items():
        numbers[f"{cell}_loss"], numbers[f"{cell}_{metric}"] = experiment.validate()
        numbers[f"{cell}_solved_at"] = steps_to_solve(experiment)
        numbers[f"{cell}_steps"] = experiment.steps_done
        numbers[f"{cell}_params"] = experiment.parameter_count()
        numbers[f"{cell}_recurrent_params"] = experiment.model.parameter_count(recurrent_only=True)
    if "gru" in experiments and "lstm" in experiments:
        share = numbers["gru_recurrent_params"] / numbers["lstm_recurrent_params"]
        numbers["recurrent_share"] = share
    return numbers


def words_of(text: str) -> list[str]:
    """Lower-case space-separated tokens with everything but letters and apostrophes removed."""
    tokens = (re.sub(r"[^a-z']", "", token) for token in text.lower().split())
    return [token for token in tokens if token]


def word_fraction(text: str, vocabulary: set[str]) -> float:
    """Share of the text's tokens that are words of `vocabulary` (0 for no tokens)."""
    tokens = words_of(text)
    return sum(token in vocabulary for token in tokens) / len(tokens) if tokens else 0.0


SPEECH_BATCH = 128  # sequences for the hidden-state measurements (fit and held-out)


def final_hidden(experiment: Experiment, stream: int) -> tuple[np.ndarray, np.ndarray]:
    """(hidden (N, H) at each word's last frame, labels (N,)) of a fixed validation batch drawn
    from stream `stream` (4 and up: the trainer uses 1-3)."""
    rng = np.random.default_rng([experiment.config.seed, stream])
    batch = experiment.task.sample(SPEECH_BATCH, rng, split="val")
    probed = experiment.probe(batch=batch, jacobian=False)
    last = probed.lengths - 1
    return probed.hidden[np.arange(len(last)), last], np.asarray(batch.meta["labels"])


def centroid_accuracy(experiment: Experiment) -> float:
    """Nearest-class-mean classifier on final hidden states: means from one batch, scored on
    another. High when the trajectories of different words end in different places."""
    fit_h, fit_y = final_hidden(experiment, 4)
    test_h, test_y = final_hidden(experiment, 5)
    classes = np.unique(fit_y)
    centroids = np.stack([fit_h[fit_y == c].mean(axis=0) for c in classes])
    distances = ((test_h[:, None, :] - centroids[None]) ** 2).sum(axis=-1)
    return float(np.mean(classes[distances.argmin(axis=1)] == test_y))


def separation(experiment: Experiment) -> float:
    """Mean distance between class means of final hidden states over the mean distance of a state
    to its own class mean (above 1: classes are apart more than they are spread)."""
    hidden, labels = final_hidden(experiment, 5)
    classes = np.unique(labels)
    centroids = np.stack([hidden[labels == c].mean(axis=0) for c in classes])
    within = np.mean(
        [
            np.linalg.norm(hidden[labels == c] - centroids[i], axis=1).mean()
            for i, c in enumerate(classes)
        ]
    )
    pairs = [(i, j) for i in range(len(classes)) for j in range(i + 1, len(classes))]
    between = np.mean([np.linalg.norm(centroids[i] - centroids[j]) for i, j in pairs])
    return float(between / within)


def solved_text(steps: float) -> str:
    return "not within the budget" if math.isnan(steps) else f"at step {steps:.0f}"
