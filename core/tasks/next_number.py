"""next_number: predict the next number of an arithmetic, geometric or Fibonacci-like sequence,
and `fill_in`, which lets a trained model fill the '?' in a typed sequence."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from core.config import ConfigError, ExperimentConfig
from core.tasks.base import (
    BASELINE_BATCH,
    BASELINE_SEED,
    Batch,
    Task,
    _check_min_len,
    _check_split,
    _evaluating,
    _length_mask,
    _make_batch,
    _ragged_lengths,
    _repeat_last_mse,
    _require,
)


def _progressions(kind: str, rng: np.random.Generator, batch_size: int, steps: int) -> np.ndarray:
    """(N, steps) float64 real numbers of one sequence family, with random small starting values."""
    t = np.arange(steps)
    sign = rng.choice([-1.0, 1.0], size=(batch_size, 1))
    if kind == "arithmetic":
        start = rng.integers(-10, 11, (batch_size, 1))
        step = rng.integers(1, 6, (batch_size, 1)) * sign
        return (start + step * t).astype(np.float64)
    if kind == "geometric":
        start = rng.integers(1, 10, (batch_size, 1)) * sign
        # Ratios between 1/2 and 2: fast enough to look geometric, slow enough to stay finite.
        ratio = np.exp(rng.uniform(-np.log(2.0), np.log(2.0), (batch_size, 1)))
        return start * ratio**t
    seeds = rng.integers(-9, 10, (batch_size, 2)).astype(np.float64)
    seeds[(seeds == 0).all(axis=1), 1] = 1.0  # 0, 0, 0, ... has no rule to learn
    values = np.empty((batch_size, steps))
    values[:, :2] = seeds[:, : min(steps, 2)]
    for i in range(2, steps):
        values[:, i] = values[:, i - 1] + values[:, i - 2]
    return values


def sequence_scale(values: np.ndarray, lengths: np.ndarray | None = None) -> np.ndarray:
    """Per-sequence scale: the largest |value| among the first `lengths` values of each row.

    values: (N, L) real numbers; returns (N,) float64, 1.0 for an all-zero row. Dividing by it puts
    every sequence in [-1, 1], whatever its size; the three rules are linear, so scaling keeps them.
    Training divides by this times a random factor in [MIN_SHRINK, 1]; fill_in by this alone.
    """
    values = np.atleast_2d(values)
    real = _length_mask(lengths, *values.shape)
    scale = np.where(real, np.abs(values), 0.0).max(axis=1)
    return np.where(scale > 0, scale, 1.0)


MIN_SHRINK = 0.25  # next_number divides by 1/4 to 1 times the largest |value|: inputs within ±4


class NextNumberTask(Task):
    """Arithmetic, geometric or Fibonacci-like sequences; predict the next number at every step."""

    name = "next_number"
    title = "Next number in a sequence"
    explanation = (
        "The network reads a sequence such as 3, 7, 11, 15 one number at a time and, after every "
        "number, guesses the one that comes next. The rule (add a fixed step, multiply by a fixed "
        "ratio, or add the two previous numbers) is different in every sequence, so the network "
        "can't memorise answers: it has to work the rule out from what it has seen so far and keep "
        "it in memory. Its first guess comes after a single number, when no rule can be known yet, "
        "so that guess is not scored. Each sequence is divided by a number between a quarter of "
        "and all of its largest value, so the network sees small values (between -4 and 4) "
        "whatever the sizes; the charts show the real numbers."
    )
    kind = "regression"
    ask = "fill_in"
    prediction_chart = "next_value"
    series_names = ("numbers", "next number", "network's guess")
    params = ("sequence_kind", "seq_len", "min_len")
    metric_name = "MSE"
    higher_is_better = False
    input_size = 1
    output_size = 1
    baseline_name = "repeat the last number"
    shortest = 3  # two numbers to see the rule, one to check it

    def __init__(self, config: ExperimentConfig, data: Any = None) -> None:
        super().__init__(config)
        _check_min_len(config, self.shortest)
        self.baseline = _repeat_last_mse(
            self.sample(BASELINE_BATCH, np.random.default_rng(BASELINE_SEED))
        )
        self.solved_at = 0.05 * self.baseline  # twenty times better than repeating

    def sample(self, batch_size: int, rng: np.random.Generator, split: str = "train") -> Batch:
        """inputs (N, L, 1) scaled numbers; targets (N, L, 1) the next scaled number; mask skips
        step 0 and the padding. meta: values (N, L+1) real numbers (NaN past the end), scale (N,)."""
        _check_split(split)
        length = self.config.seq_len
        values = _progressions(self.config.sequence_kind, rng, batch_size, length + 1)
        lengths = _ragged_lengths(rng, batch_size, self.config, self.shortest)
        # A random share of the largest |value|, down to a quarter: the network sees each rule at
        # many sizes and spacings, so a short typed sequence (1, 2, 3, ...: a large step relative
        # to its largest number) looks like the start of a training sequence.
        shrink = np.exp(rng.uniform(np.log(MIN_SHRINK), 0.0, batch_size))
        scale = sequence_scale(values[:, :length], lengths) * shrink
        scaled = values / scale[:, None]
        mask = _length_mask(lengths, batch_size, length)
        mask[:, 0] = False
        if lengths is not None:  # a sequence of length n has n inputs and one more target
            values = np.where(np.arange(length + 1) <= lengths[:, None], values, np.nan)
        return _make_batch(
            scaled[:, :length, None],
            scaled[:, 1:, None],
            mask,
            lengths,
            {"values": values, "scale": scale, "kind": self.config.sequence_kind},
        )


@dataclass
class FillIn:
    """What the network makes of a typed sequence, in real numbers.

    values: the numbers as typed, None at the '?'. missing_index: position of the '?' or None.
    guess: the network's value for the '?' (None without one). next_value: its prediction of the
    number after the last one. message: one readable sentence.
    """

    values: list[float | None]
    missing_index: int | None
    guess: float | None
    next_value: float
    message: str


FILL_IN_EXAMPLE = "1, 2, 3, ?, 5"
FILL_IN_MAX = 400


def parse_numbers(text: str) -> tuple[list[float | None], int | None]:
    """Parse '1, 2, 3, ?, 5' (commas, semicolons or spaces between items; at most one '?').

    Returns the values (None at the '?') and the '?' index. Raises ConfigError saying what is wrong.
    """
    items = [item for item in re.split(r"[,;\s]+", text.strip()) if item]
    if not items:
        raise ConfigError(f"type a few numbers separated by commas, for example {FILL_IN_EXAMPLE}")
    _require(len(items) <= FILL_IN_MAX, f"type at most {FILL_IN_MAX} numbers, got {len(items)}")
    values: list[float | None] = [None if item == "?" else _parse_number(item) for item in items]
    holes = [i for i, value in enumerate(values) if value is None]
    _require(len(holes) <= 1, f"use at most one '?', found {len(holes)}")
    missing = holes[0] if holes else None
    known_before = len(values) if missing is None else missing
    _require(
        known_before >= 2,
        "put at least two numbers before the '?' (or type at least two numbers): the network "
        f"reads from left to right and needs two values to see a rule, as in {FILL_IN_EXAMPLE}",
    )
    return values, missing


def _parse_number(item: str) -> float:
    try:
        value = float(item)
    except ValueError:
        raise ConfigError(
            f"{item[:20]!r} is not a number; type numbers separated by commas, with one '?' "
            f"for a missing one, for example {FILL_IN_EXAMPLE}"
        ) from None
    _require(math.isfinite(value), f"{item[:20]!r} is not a finite number")
    return value


def fill_in(model: nn.Module, config: ExperimentConfig, text: str) -> FillIn:
    """Let a model trained on next_number fill the '?' in `text` and predict the number after it.

    Scales exactly as training does (divide by the largest known |value|), feeds the known values
    step by step, and at the '?' feeds the model's own guess, as if it had been typed.
    """
    _require(
        config.task == "next_number",
        f"fill-in needs a model trained on next_number; this run's task is {config.task!r}",
    )
    values, missing = parse_numbers(text)
    known = np.array([v for v in values if v is not None])
    scale = float(sequence_scale(known[None, :])[0])
    scaled = [None if v is None else v / scale for v in values]
    with _evaluating(model) as device:
        if missing is not None:
            scaled[missing] = _predict_next(model, scaled[:missing], device)
        next_scaled = _predict_next(model, scaled, device)
    guess = None if missing is None else scaled[missing] * scale
    next_value = next_scaled * scale
    message = _fill_in_message(guess, next_value, scale)
    return FillIn(values, missing, guess, next_value, message)


def _predict_next(model: nn.Module, scaled: list[float], device: torch.device) -> float:
    x = torch.tensor(scaled, dtype=torch.float32, device=device).reshape(1, -1, 1)
    return float(model(x)[0, -1, 0])


def _fill_in_message(guess: float | None, next_value: float, scale: float) -> str:
    after = f"expects {_readable(next_value, scale)} to come next"
    if guess is None:
        return f"The network {after}."
    return f"The network fills the '?' with {_readable(guess, scale)} and {after}."


def _readable(value: float, scale: float) -> str:
    """Three significant digits relative to the sequence's size, so 4.5e-07 next to 5 reads 0."""
    rounded = round(value, max(0, 2 - math.floor(math.log10(scale))))
    return f"{rounded + 0.0:.6g}"  # + 0.0 turns -0.0 into 0.0
