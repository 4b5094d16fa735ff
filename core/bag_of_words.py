"""The classical reference for the sentiment task: logistic regression on word counts (a "bag of
words"), which sees which words a sentence has and how often, never their order.

`fit_logistic` fits it by Newton's method (a small L2 penalty keeps it finite when the classes
separate); `bag_of_words(config)` trains it on the run's own training split and scores it on the
run's own validation set, on the sentences where order decides the label and on the rest.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from core.config import ExperimentConfig
from core.tasks.sentiment import LONGEST, SentimentTask, order_accuracies

TRAIN_SENTENCES = 4000  # about what a network sees in its first 125 steps at batch 32
L2 = 1e-3  # per sentence: the penalty is L2 * n * |w|^2 / 2, the bias unpenalised
NEWTON_STEPS = 25


@dataclass(frozen=True)
class BagOfWordsScores:
    accuracy: float
    order_accuracy: float  # on validation sentences where word order decides the label
    rest_accuracy: float

    def named(self) -> list[tuple[str, float]]:
        """(name, accuracy) pairs for a chart's reference lines."""
        return [
            ("bag of words, order decides", self.order_accuracy),
            ("bag of words, the rest", self.rest_accuracy),
        ]


def word_counts(inputs: np.ndarray) -> np.ndarray:
    """(N, L, V) one-hot words, zero past each sentence -> (N, V) counts."""
    return inputs.sum(axis=1)


def fit_logistic(features: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, float]:
    """(weights (V,), bias) minimising the mean log loss plus L2 |w|^2 / 2, by Newton's method."""
    n, size = features.shape
    design = np.hstack([features, np.ones((n, 1))]).astype(np.float64)
    penalty = np.full(size + 1, L2)
    penalty[-1] = 0.0
    theta = np.zeros(size + 1)
    for _ in range(NEWTON_STEPS):
        p = 1.0 / (1.0 + np.exp(-design @ theta))
        gradient = design.T @ (p - labels) / n + penalty * theta
        hessian = (
            (design.T * (p * (1 - p))) @ design / n + np.diag(penalty) + 1e-9 * np.eye(size + 1)
        )
        theta -= np.linalg.solve(hessian, gradient)
    return theta[:-1], float(theta[-1])


def bag_of_words(config: ExperimentConfig) -> BagOfWordsScores:
    """Train on TRAIN_SENTENCES of the run's training split, score on the run's validation set
    (the same sentences the trainer validates on: its seed's stream 2). Only the seed matters,
    so runs that differ in anything else share one fit."""
    return _bag_of_words(config.seed)


@functools.lru_cache(maxsize=16)
def _bag_of_words(seed: int) -> BagOfWordsScores:
    task = SentimentTask(ExperimentConfig(task="sentiment", seq_len=LONGEST, seed=seed))
    train = task.sample(TRAIN_SENTENCES, np.random.default_rng([seed, 4]), "train")
    val = task.sample(task.val_size, np.random.default_rng([seed, 2]), "val")
    weights, bias = fit_logistic(word_counts(train.inputs.numpy()), train.meta["labels"])
    predicted = (word_counts(val.inputs.numpy()) @ weights + bias > 0).astype(np.int64)
    order, rest = order_accuracies(predicted, val)
    overall = float(np.mean(predicted == val.meta["labels"]))
    return BagOfWordsScores(overall, order, rest)
