"""Sequence tasks: seeded, pure batch generators, each with its loss, metric, baseline and explanation.

`TASKS` maps a name to a Task class; `make_task(config, data)` builds one for an ExperimentConfig.
A task draws every random number from the `numpy.random.Generator` it is handed, so the same seed
gives the same batch. Shapes: N = batch, L = sequence length, I = input size, O = output size.

Helpers for the page: `fill_in` (next_number), `rollout` (sine, csv), `generate_text` (text) and
`load_csv` (csv). Invalid settings raise ConfigError; unreadable uploads raise DataError.
"""

from __future__ import annotations

import csv
import functools
import io
import math
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from core.config import ConfigError, ExperimentConfig

SPLITS = ("train", "val")
# Baselines are measured once per task on this many sequences from a fixed seed, so they never
# depend on the run's seed and a test can recompute them from any large batch.
BASELINE_BATCH = 2000
BASELINE_SEED = 20240601
CORPUS_PATH = Path(__file__).parent / "data" / "corpus.txt"


class DataError(ValueError):
    """An uploaded file can't be used; the message says why in plain words."""


@dataclass
class Batch:
    """One batch of sequences.

    inputs: (N, L, I) float32.
    targets: (N, L, O) float32 for regression tasks, (N, L) int64 class indices for classification.
    mask: (N, L) bool, the steps that count in loss and metric.
    lengths: (N,) int64 real length of each sequence, or None when every sequence fills L.
    meta: task-specific extras for charts (symbols, labels, raw values); never used by the loss.
    """

    inputs: torch.Tensor
    targets: torch.Tensor
    mask: torch.Tensor
    lengths: torch.Tensor | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def to(self, device: torch.device | str) -> Batch:
        return Batch(
            self.inputs.to(device),
            self.targets.to(device),
            self.mask.to(device),
            None if self.lengths is None else self.lengths.to(device),
            self.meta,
        )

    @property
    def size(self) -> int:
        return self.inputs.shape[0]


class Task:
    """Base class. Subclasses set the class attributes and implement `sample`."""

    name: ClassVar[str]
    title: ClassVar[str]
    explanation: ClassVar[str]  # one plain-language paragraph for the page
    kind: ClassVar[str]  # "regression" or "classification"
    params: ClassVar[tuple[str, ...]]  # the config fields this task reads, for the page's controls
    metric_name: ClassVar[str]
    higher_is_better: ClassVar[bool]

    input_size: int
    output_size: int
    baseline: float  # the metric a trivial predictor gets (say which in `baseline_name`)
    baseline_name: str
    solved_at: float  # the metric at which the task counts as solved

    def __init__(self, config: ExperimentConfig, data: np.ndarray | None = None) -> None:
        self.config = config

    def sample(self, batch_size: int, rng: np.random.Generator, split: str = "train") -> Batch:
        raise NotImplementedError

    def loss(self, predictions: torch.Tensor, batch: Batch) -> torch.Tensor:
        """Mean loss over the masked steps: MSE for regression, cross-entropy for classification."""
        mask = batch.mask
        if self.kind == "classification":
            return F.cross_entropy(predictions[mask], batch.targets[mask])
        return F.mse_loss(predictions[mask], batch.targets[mask])

    def metric(self, predictions: torch.Tensor, batch: Batch) -> float:
        """MSE for regression, accuracy over masked steps for classification."""
        with torch.no_grad():
            mask = batch.mask
            if self.kind == "classification":
                hits = predictions[mask].argmax(-1) == batch.targets[mask]
                return float(hits.float().mean())
            return float(F.mse_loss(predictions[mask], batch.targets[mask]))

    def is_solved(self, metric: float) -> bool:
        return metric >= self.solved_at if self.higher_is_better else metric <= self.solved_at


# ---------------------------------------------------------------------------------------------
# Shared helpers


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ConfigError(message)


def _check_split(split: str) -> None:
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; choose one of: {', '.join(SPLITS)}")


def _check_min_len(config: ExperimentConfig, shortest: int = 1) -> None:
    """min_len (0: off) must fit inside seq_len; `shortest` is the task's own floor."""
    _require(
        config.min_len <= config.seq_len,
        f"min_len ({config.min_len}) must be at most seq_len ({config.seq_len}); "
        "use 0 for full-length sequences",
    )
    _require(
        config.seq_len >= shortest,
        f"{config.task} needs seq_len of at least {shortest}, got {config.seq_len}",
    )


def _ragged_lengths(
    rng: np.random.Generator, batch_size: int, config: ExperimentConfig, shortest: int = 1
) -> np.ndarray | None:
    """(N,) int64 lengths uniform in [max(min_len, shortest), seq_len], or None when min_len is 0."""
    if config.min_len == 0:
        return None
    low = min(max(config.min_len, shortest), config.seq_len)
    return rng.integers(low, config.seq_len + 1, batch_size).astype(np.int64)


def _length_mask(lengths: np.ndarray | None, batch_size: int, seq_len: int) -> np.ndarray:
    """(N, L) bool: True on each sequence's real steps."""
    if lengths is None:
        return np.ones((batch_size, seq_len), dtype=bool)
    return np.arange(seq_len)[None, :] < lengths[:, None]


def _one_hot(indices: np.ndarray, size: int) -> np.ndarray:
    return np.eye(size, dtype=np.float32)[indices]


def _make_batch(
    inputs: np.ndarray,
    targets: np.ndarray,
    mask: np.ndarray,
    lengths: np.ndarray | None = None,
    meta: dict[str, Any] | None = None,
) -> Batch:
    """Zero inputs and targets outside each sequence's length, convert to tensors."""
    if lengths is not None:
        real = _length_mask(lengths, *mask.shape)
        inputs = inputs * real[..., None]
        targets = targets * (real[..., None] if targets.ndim == 3 else real)
    target_type = np.float32 if targets.ndim == 3 else np.int64
    return Batch(
        torch.from_numpy(np.ascontiguousarray(inputs, dtype=np.float32)),
        torch.from_numpy(np.ascontiguousarray(targets, dtype=target_type)),
        torch.from_numpy(np.ascontiguousarray(mask, dtype=bool)),
        None if lengths is None else torch.from_numpy(lengths.astype(np.int64)),
        meta or {},
    )


def _repeat_last_mse(batch: Batch) -> float:
    """MSE of predicting each next value as the current input (the 'repeat the last value' guess)."""
    return float(F.mse_loss(batch.inputs[batch.mask], batch.targets[batch.mask]))


@contextmanager
def _evaluating(model: nn.Module) -> Iterator[torch.device]:
    """Eval mode and no autograd for a helper's forward passes; restores the training mode."""
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            yield next(model.parameters()).device
    finally:
        model.train(was_training)


def _advance(
    model: nn.Module, x: torch.Tensor, state: Any, lengths: torch.Tensor | None = None
) -> tuple[torch.Tensor, Any]:
    """Run the model's recurrent layers over x (N, L, I) from `state`; return (N, L, O) and the
    new state. The state is passed through untouched, so this works for every cell type. With
    `lengths` the batch is packed, so the returned state is each sequence's state at its own end."""
    if lengths is None:
        out, state = model.rnn(x, state)
    else:
        packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
        out, state = model.rnn(packed, state)
        out, _ = pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])
    return model.readout(out), state


# ---------------------------------------------------------------------------------------------
# next_number


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


# ---------------------------------------------------------------------------------------------
# sine, and the rollout shared with csv


def rollout(model: nn.Module, batch: Batch, horizon: int) -> np.ndarray:
    """Forecast `horizon` values past the end of each context, feeding predictions back in.

    batch.inputs (N, L, 1) is the context; a ragged batch (batch.lengths) ends each context at its
    own length. Step 1 is the model's prediction after the whole context, for the value after its
    last input (the sequence's last target); every later step feeds the previous prediction back
    as the next input, exactly as predicted: no noise is added and nothing is clipped. Returns
    (N, horizon) float32, in the task's scaled units (as the model sees them).
    """
    if horizon < 1:
        raise ValueError(f"horizon must be at least 1, got {horizon}")
    forecast = []
    with _evaluating(model) as device:
        out, state = _advance(model, batch.inputs.to(device), None, batch.lengths)
        last = torch.full((batch.size,), out.shape[1] - 1, dtype=torch.long)
        if batch.lengths is not None:
            last = batch.lengths.long() - 1
        step = out[torch.arange(batch.size), last.to(device)][:, None, :]
        forecast.append(step)
        for _ in range(horizon - 1):
            step, state = _advance(model, step, state)
            forecast.append(step)
    return torch.cat(forecast, dim=1)[..., 0].cpu().numpy()


def sine_waves(
    amplitude: np.ndarray, frequency: np.ndarray, phase: np.ndarray, t: np.ndarray
) -> np.ndarray:
    """Sum of sines: amplitude, frequency (cycles per step), phase (N, K); t (T,) -> (N, T)."""
    angle = 2 * np.pi * frequency[:, :, None] * t[None, None, :] + phase[:, :, None]
    return (amplitude[:, :, None] * np.sin(angle)).sum(axis=1)


class SineTask(Task):
    """A sum of 2-3 noisy sines; predict the next clean value at every step."""

    name = "sine"
    title = "Forecast a wave"
    explanation = (
        "Each sequence is two or three waves of different speeds added together, with random "
        "noise sprinkled on top (the noise setting). After every step the network predicts the "
        "next point of the smooth, noise-free wave, so it has to look through the noise and keep "
        "track of where each wave is in its cycle. Simply repeating the last value is the trivial "
        "guess to beat. The forecast chart then lets the network run on its own: it feeds its own "
        "predictions back in as inputs and shows how long its picture of the waves holds."
    )
    kind = "regression"
    params = ("seq_len", "noise", "horizon")
    metric_name = "MSE"
    higher_is_better = False
    input_size = 1
    output_size = 1
    baseline_name = "repeat the last value"
    max_waves = 3

    def __init__(self, config: ExperimentConfig, data: Any = None) -> None:
        super().__init__(config)
        batch = self.sample(BASELINE_BATCH, np.random.default_rng(BASELINE_SEED))
        self.baseline = _repeat_last_mse(batch)
        self.zero_mse = float(batch.targets[batch.mask].square().mean())
        # Solved: four times better than both trivial guesses, repeating the last value and
        # answering 0 (the mean); at high noise the second one is the harder to beat.
        self.solved_at = 0.25 * min(self.baseline, self.zero_mse)

    def sample(self, batch_size: int, rng: np.random.Generator, split: str = "train") -> Batch:
        """inputs (N, L, 1) noisy wave; targets (N, L, 1) the next clean value; all steps count.
        meta: amplitude, frequency, phase (N, 3) (unused waves have amplitude 0), clean (N, L+1)."""
        _check_split(split)
        length = self.config.seq_len
        shape = (batch_size, self.max_waves)
        amplitude = rng.uniform(0.2, 0.8, shape)
        amplitude[:, 2] *= rng.random(batch_size) < 0.5  # two or three waves
        frequency = rng.uniform(0.04, 0.2, shape)  # periods of 5 to 25 steps
        phase = rng.uniform(0.0, 2 * np.pi, shape)
        clean = sine_waves(amplitude, frequency, phase, np.arange(length + 1))
        noisy = clean[:, :length] + self.config.noise * rng.standard_normal((batch_size, length))
        meta = {"amplitude": amplitude, "frequency": frequency, "phase": phase, "clean": clean}
        mask = np.ones((batch_size, length), dtype=bool)
        return _make_batch(noisy[..., None], clean[:, 1:, None], mask, None, meta)

    def future(self, batch: Batch, horizon: int) -> np.ndarray:
        """(N, horizon) the true clean values that `rollout` forecasts (steps L .. L+horizon-1)."""
        meta = batch.meta
        t = np.arange(batch.inputs.shape[1], batch.inputs.shape[1] + horizon)
        return sine_waves(meta["amplitude"], meta["frequency"], meta["phase"], t)


# ---------------------------------------------------------------------------------------------
# adding


class AddingTask(Task):
    """Hochreiter & Schmidhuber's adding problem."""

    name = "adding"
    title = "Adding problem (long memory)"
    explanation = (
        "Each sequence is a row of random numbers between 0 and 1, with exactly two of them marked. "
        "At the very end the model must output the sum of the two marked numbers. The first mark "
        "falls in the first half, so the model has to carry a number across many steps: predicting "
        "1.0 every time (the average sum) scores an MSE of about 0.167, and only a network whose "
        "memory survives the whole sequence does better."
    )
    kind = "regression"
    params = ("seq_len",)
    metric_name = "MSE"
    higher_is_better = False
    input_size = 2
    output_size = 1
    baseline = 1.0 / 6.0  # variance of U(0,1) + U(0,1), the MSE of always answering 1.0
    baseline_name = "always answer 1.0"
    solved_at = 0.01

    def sample(self, batch_size: int, rng: np.random.Generator, split: str = "train") -> Batch:
        length = self.config.seq_len
        values = rng.random((batch_size, length), dtype=np.float32)
        marks = np.zeros((batch_size, length), dtype=np.float32)
        half = max(1, length // 2)
        first = rng.integers(0, half, batch_size)
        second = rng.integers(half, length, batch_size) if length > 1 else first
        second = np.where(second == first, (first + 1) % length, second)
        rows = np.arange(batch_size)
        marks[rows, first] = 1.0
        marks[rows, second] = 1.0
        total = (values * marks).sum(axis=1)
        inputs = np.stack([values, marks], axis=-1)
        targets = np.zeros((batch_size, length, 1), dtype=np.float32)
        targets[:, -1, 0] = total
        mask = np.zeros((batch_size, length), dtype=bool)
        mask[:, -1] = True
        return Batch(
            torch.from_numpy(inputs),
            torch.from_numpy(targets),
            torch.from_numpy(mask),
            meta={"marks": np.stack([first, second], axis=1)},
        )


# ---------------------------------------------------------------------------------------------
# copy


class CopyTask(Task):
    """Remember n_symbols symbols across `lag` blank steps, then replay them after a go marker."""

    name = "copy"
    title = "Copy after a delay (long memory)"
    explanation = (
        "The network is shown a short string of symbols, then nothing at all for a while (the "
        "lag), then a go signal. After the signal it must write the symbols back in the same "
        "order. Only those answers are scored. To succeed it has to store the whole string and "
        "hold it unchanged through the quiet stretch; a blind guess is right once per alphabet "
        "size (1 in 8 with 8 symbols). The length of a sequence follows from these settings "
        "(symbols, lag, the go signal, then the answers), so seq_len is not used."
    )
    kind = "classification"
    params = ("n_symbols", "lag", "alphabet")
    metric_name = "accuracy"
    higher_is_better = True
    baseline_name = "guess a symbol"
    solved_at = 0.95

    def __init__(self, config: ExperimentConfig, data: Any = None) -> None:
        super().__init__(config)
        self.alphabet = config.alphabet
        self.blank = config.alphabet  # class and input channel of "nothing here"
        self.go = config.alphabet + 1  # input channel of the go marker
        self.input_size = config.alphabet + 2
        self.output_size = config.alphabet + 1
        # seq_len is ignored: the length is derived from the copy settings.
        self.seq_len = 2 * config.n_symbols + config.lag + 1
        self.recall_start = config.n_symbols + config.lag + 1
        self.baseline = 1.0 / config.alphabet  # any fixed or random guess, on uniform symbols

    def sample(self, batch_size: int, rng: np.random.Generator, split: str = "train") -> Batch:
        """inputs (N, L, alphabet+2) one-hot (symbols, blank, go); targets (N, L) int64, the
        symbols on the recall steps and blank elsewhere; mask (N, L) True on the recall steps only.
        L = 2 n_symbols + lag + 1. meta: symbols (N, n_symbols), recall_start."""
        _check_split(split)
        k = self.config.n_symbols
        symbols = rng.integers(0, self.alphabet, (batch_size, k))
        channels = np.full((batch_size, self.seq_len), self.blank)
        channels[:, :k] = symbols
        channels[:, self.recall_start - 1] = self.go
        targets = np.full((batch_size, self.seq_len), self.blank)
        targets[:, self.recall_start :] = symbols
        mask = np.zeros((batch_size, self.seq_len), dtype=bool)
        mask[:, self.recall_start :] = True
        meta = {"symbols": symbols, "recall_start": self.recall_start}
        return _make_batch(_one_hot(channels, self.input_size), targets, mask, None, meta)


# ---------------------------------------------------------------------------------------------
# text


@functools.lru_cache(maxsize=1)
def load_corpus() -> str:
    """The shipped corpus (core/data/corpus.txt), read once."""
    return CORPUS_PATH.read_text(encoding="utf-8")


class TextTask(Task):
    """Character-level language model on the shipped corpus: predict the next character."""

    name = "text"
    title = "Write like the corpus (characters)"
    explanation = (
        "The network reads a short passage of plain English one letter at a time and, after each "
        "letter, guesses the next one. At first it only learns that spaces and the letter e are "
        "common; then short words appear, then words that follow each other. The text is a small "
        "collection of simple paragraphs about weather, music, rivers and memory written for this "
        "playground. The last tenth is kept aside to check that the network has learned the "
        "language rather than the exact pages. Always guessing the most common character (a "
        "space) is the trivial baseline."
    )
    kind = "classification"
    params = ("seq_len", "min_len")
    metric_name = "accuracy"
    higher_is_better = True
    solved_at = 0.5  # half the letters right: common words come out whole (LSTM, ~1000 steps)
    val_share = 0.1

    def __init__(self, config: ExperimentConfig, data: Any = None) -> None:
        super().__init__(config)
        corpus = load_corpus()
        self.vocabulary = "".join(sorted(set(corpus)))
        self.index = {char: i for i, char in enumerate(self.vocabulary)}
        self.codes = self.encode(corpus)
        self.split_at = int(len(self.codes) * (1 - self.val_share))
        self.input_size = self.output_size = len(self.vocabulary)
        _check_min_len(config)
        val_size = len(self.codes) - self.split_at
        _require(
            config.seq_len < val_size,
            f"text needs seq_len below {val_size} (the validation text's length), "
            f"got {config.seq_len}",
        )
        counts = np.bincount(self.codes[: self.split_at], minlength=len(self.vocabulary))
        self.most_common = int(counts.argmax())
        self.baseline = float(np.mean(self.codes[self.split_at + 1 :] == self.most_common))
        self.baseline_name = f"always guess {self.vocabulary[self.most_common]!r}"

    def encode(self, text: str) -> np.ndarray:
        """(len,) int64 character indices; characters outside the vocabulary are skipped."""
        return np.array([self.index[c] for c in text if c in self.index], dtype=np.int64)

    def decode(self, indices: np.ndarray | list[int]) -> str:
        return "".join(self.vocabulary[int(i)] for i in indices)

    def sample(self, batch_size: int, rng: np.random.Generator, split: str = "train") -> Batch:
        """inputs (N, L, V) one-hot characters; targets (N, L) int64 the next character; windows of
        seq_len from the first 90% (train) or the last 10% (val). meta: starts (N,) offsets."""
        _check_split(split)
        length = self.config.seq_len
        low, high = (0, self.split_at) if split == "train" else (self.split_at, len(self.codes))
        starts = rng.integers(low, high - length, batch_size)
        windows = self.codes[starts[:, None] + np.arange(length + 1)]
        lengths = _ragged_lengths(rng, batch_size, self.config)
        mask = _length_mask(lengths, batch_size, length)
        inputs = _one_hot(windows[:, :length], len(self.vocabulary))
        return _make_batch(inputs, windows[:, 1:], mask, lengths, {"starts": starts})


def generate_text(
    model: nn.Module,
    task: TextTask,
    prompt: str,
    length: int,
    temperature: float,
    rng: np.random.Generator,
) -> str:
    """Continue `prompt` by `length` characters sampled from the model; returns only the new text.

    temperature 0 picks the likeliest character every time; higher values sample more freely.
    Prompt characters outside the vocabulary are skipped (upper case falls back to lower case);
    an empty prompt starts after a newline. All randomness comes from `rng`.
    """
    _require(0 <= length <= 5000, f"length must be between 0 and 5000, got {length}")
    _require(0 <= temperature <= 10, f"temperature must be between 0 and 10, got {temperature}")
    codes = task.encode("".join(_known_char(task, c) for c in prompt))
    if len(codes) == 0:
        codes = task.encode("\n") if "\n" in task.index else np.array([0])
    size = len(task.vocabulary)
    generated: list[int] = []
    with _evaluating(model) as device:
        x = torch.from_numpy(_one_hot(codes, size)[None]).to(device)
        state = None
        for _ in range(length):
            logits, state = _advance(model, x, state)
            code = _pick(logits[0, -1].double().cpu().numpy(), temperature, rng)
            generated.append(code)
            x = torch.from_numpy(_one_hot(np.array([code]), size)[None]).to(device)
    return task.decode(generated)


def _known_char(task: TextTask, char: str) -> str:
    return char if char in task.index else char.lower()


def _pick(logits: np.ndarray, temperature: float, rng: np.random.Generator) -> int:
    if temperature == 0:
        return int(logits.argmax())
    scaled = logits / temperature
    weights = np.exp(scaled - scaled.max())
    return int(rng.choice(len(weights), p=weights / weights.sum()))


# ---------------------------------------------------------------------------------------------
# speech

SAMPLE_RATE = 4000  # notional Hz; only ratios matter
WINDOW = 64  # samples per spectrogram frame
HOP = 32  # samples between frames
N_BINS = 24  # FFT bins 1..24 (62.5 Hz each) are kept as features
MAX_WORDS = 10  # FIELDS caps n_classes at 10
N_SOUNDS = 6  # a small inventory, so words share sounds
WORD_SEED = 1789  # fixed: the words are the same in every run, whatever the seed


@dataclass(frozen=True)
class Word:
    """A synthetic word: 2-4 sounds in order, each one or two frequencies (Hz), with a nominal
    relative duration per sound."""

    sounds: tuple[tuple[float, float], ...]  # (low, high); high == 0 for a pure tone
    durations: tuple[float, ...]


@functools.lru_cache(maxsize=1)
def speech_words() -> tuple[Word, ...]:
    """MAX_WORDS distinct words from a fixed seed, independent of any batch. Words come in pairs
    that end with the same sound and differ earlier (the first two sounds swapped, or a different
    first sound), so the last frames alone can't tell a pair apart: the network must remember."""
    rng = np.random.default_rng(WORD_SEED)
    bin_hz = SAMPLE_RATE / WINDOW
    # Low frequencies two bins apart, so no two sounds blur together after pitch jitter.
    lows = rng.permutation(np.arange(4, 4 + 2 * N_SOUNDS, 2)) * bin_hz
    highs = lows + rng.integers(5, 9, N_SOUNDS) * bin_hz
    inventory = [(float(lows[i]), float(highs[i]) if i % 2 else 0.0) for i in range(N_SOUNDS)]
    orders: list[tuple[int, ...]] = []
    while len(orders) < MAX_WORDS:
        order = tuple(int(i) for i in rng.choice(N_SOUNDS, rng.integers(2, 5), replace=False))
        unused = [i for i in range(N_SOUNDS) if i not in order]
        twin = (order[1], order[0]) + order[2:] if len(order) > 2 else (unused[0], order[1])
        if order not in orders and twin not in orders:
            orders += [order, twin]
    return tuple(
        Word(
            tuple(inventory[i] for i in order),
            tuple(float(d) for d in rng.uniform(0.7, 1.3, len(order))),
        )
        for order in orders
    )


class SpeechTask(Task):
    """Classify synthetic spoken words from spectrogram frames; one label per word."""

    name = "speech"
    title = "Recognise spoken words"
    explanation = (
        "Each example is a made-up spoken word: two to four sounds in a row, each a whistle-like "
        "tone or a pair of tones, turned into a spectrogram (how loud each pitch is, frame by "
        "frame) just as speech recognisers do. Words share sounds and differ in their order, and "
        "every recording is said at a different speed with background noise, so examples have "
        "different lengths. The network hears the whole word and answers which word it was on "
        "the last frame, so it has to remember what it heard earlier. Guessing scores one in "
        "n_classes."
    )
    kind = "classification"
    params = ("n_classes", "seq_len", "noise")
    metric_name = "accuracy"
    higher_is_better = True
    input_size = N_BINS
    baseline_name = "guess a word"
    solved_at = 0.95
    shortest = 8  # up to four sounds, two frames each

    def __init__(self, config: ExperimentConfig, data: Any = None) -> None:
        super().__init__(config)
        _require(
            config.seq_len >= self.shortest,
            f"speech needs seq_len (frames per word) of at least {self.shortest}, "
            f"got {config.seq_len}",
        )
        self.output_size = config.n_classes
        self.baseline = 1.0 / config.n_classes  # labels are uniform, so any guess scores this
        self.words = speech_words()[: config.n_classes]
        self.class_names = [f"word {i + 1}" for i in range(config.n_classes)]
        self.shortest_word = max(self.shortest, math.ceil(0.6 * config.seq_len))
        self._tables = _word_tables(self.words)

    def sample(self, batch_size: int, rng: np.random.Generator, split: str = "train") -> Batch:
        """inputs (N, L, 24) normalised log spectrogram frames, L = seq_len, zero past each length;
        targets (N, L) int64 the word at every real step; mask (N, L) True only on the last real
        frame; lengths (N,) uniform in [0.6 seq_len, seq_len]. meta: labels (N,)."""
        _check_split(split)
        length = self.config.seq_len
        labels = rng.integers(0, self.config.n_classes, batch_size)
        lengths = rng.integers(self.shortest_word, length + 1, batch_size).astype(np.int64)
        wave = self._waveform(labels, lengths, rng)
        frames = _spectrogram(wave, lengths)
        targets = np.repeat(labels[:, None], length, axis=1)
        mask = np.arange(length)[None, :] == lengths[:, None] - 1
        meta = {"labels": labels, "class_names": self.class_names}
        return _make_batch(frames, targets, mask, lengths, meta)

    def _waveform(
        self, labels: np.ndarray, lengths: np.ndarray, rng: np.random.Generator
    ) -> np.ndarray:
        """(N, samples) float32: each word's sounds with jittered durations, pitch and loudness,
        silent past its length, plus Gaussian noise of level config.noise inside it. The signal is
        built hop by hop (HOP samples each, one sound per hop), which keeps the work vectorised."""
        freqs, weights = self._tables[0][labels], self._tables[1][labels]  # (N, 4, 2), (N, 4)
        batch_size, length = len(labels), self.config.seq_len
        weights = weights * rng.uniform(0.6, 1.4, weights.shape)  # each sound's speed varies
        ends = np.cumsum(weights, axis=1) / weights.sum(axis=1, keepdims=True)
        hops = length + 1  # L frames of WINDOW = 2 HOP samples overlap into L + 1 hops
        position = (np.minimum(np.arange(hops), length - 1) + 0.5) / lengths[:, None]
        sound = (position[:, :, None] >= ends[:, None, :-1]).sum(axis=2)  # (N, hops)
        pitch = rng.uniform(0.95, 1.05, (batch_size, 1, 1))
        hz = np.take_along_axis(freqs * pitch, sound[:, :, None], axis=1)  # (N, hops, 2)
        step = 2 * np.pi * np.moveaxis(hz, 2, 0) / SAMPLE_RATE  # (2, N, hops) radians per sample
        start = (np.cumsum(step * HOP, axis=2) - step * HOP) % (2 * np.pi)  # continuous phase
        offsets = np.arange(HOP, dtype=np.float32)
        phases = start.astype(np.float32)[..., None] + step.astype(np.float32)[..., None] * offsets
        tones = np.sin(phases)
        tones[1] *= (step[1] > 0)[..., None]  # a pure tone has no second frequency
        wave = (tones[0] + tones[1]).reshape(batch_size, hops * HOP)
        wave *= rng.uniform(0.5, 1.0, (batch_size, 1)).astype(np.float32)
        wave += self.config.noise * rng.standard_normal(wave.shape, dtype=np.float32)
        inside = np.arange(hops * HOP)[None, :] < (lengths[:, None] + 1) * HOP
        return wave * inside


def _word_tables(words: tuple[Word, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Pad words to 4 sounds for vectorised lookup: freqs (W, 4, 2) Hz, weights (W, 4) with 0 for
    missing sounds (a zero weight adds no duration, so the sound never plays)."""
    freqs = np.zeros((len(words), 4, 2))
    weights = np.zeros((len(words), 4))
    for i, word in enumerate(words):
        freqs[i, : len(word.sounds)] = word.sounds
        weights[i, : len(word.sounds)] = word.durations
    return freqs, weights


def _spectrogram(wave: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """(N, samples) -> (N, L, N_BINS) log magnitude frames (Hann window), each example scaled to
    zero mean and unit variance over its real frames; zero past its length."""
    frames = np.lib.stride_tricks.sliding_window_view(wave, WINDOW, axis=1)[:, ::HOP]
    magnitude = np.abs(np.fft.rfft(frames * np.hanning(WINDOW), axis=2))[:, :, 1 : N_BINS + 1]
    features = np.log(magnitude + 0.1)
    real = _length_mask(lengths, *features.shape[:2])[..., None]
    count = lengths[:, None, None] * N_BINS
    mean = (features * real).sum(axis=(1, 2), keepdims=True) / count
    spread = np.sqrt((((features - mean) * real) ** 2).sum(axis=(1, 2), keepdims=True) / count)
    return (features - mean) / (spread + 1e-6) * real


# ---------------------------------------------------------------------------------------------
# csv

MIN_ROWS = 10
NUMERIC_SHARE = 0.5  # a column is numeric when at least half its cells are numbers
DEMO_SEED = 1931


@dataclass
class CsvTable:
    """The numeric part of an uploaded CSV file.

    columns: names of the numeric columns. values: (rows, columns) float64, finite.
    notes: what was ignored or dropped while reading, in plain words.
    """

    columns: list[str]
    values: np.ndarray
    notes: list[str] = field(default_factory=list)


MAX_CSV_COLUMNS = 1000  # matches csv_column's bound; wider files cost minutes in pandas


def load_csv(raw: bytes, max_bytes: int = 2_000_000, max_rows: int = 200_000) -> CsvTable:
    """Read an uploaded CSV (comma, semicolon or tab separated; UTF-8 or Latin-1) into a CsvTable.

    Keeps the numeric columns, drops rows with a missing or non-numeric value in them (with a note),
    and raises DataError with a readable message when nothing usable is left.
    """
    if len(raw) == 0:
        raise DataError("the file is empty")
    if len(raw) > max_bytes:
        raise DataError(f"the file is {_size(len(raw))}; the limit is {_size(max_bytes)}")
    text = _decode(raw)
    if not text.strip():
        raise DataError("the file is empty")
    _check_width(text)
    table = _read_table(text, max_rows)
    return _numeric_part(table)


def _check_width(text: str) -> None:
    """Refuse very wide files before parsing: a separator count on the first line bounds the columns."""
    first_line = text.lstrip().split("\n", 1)[0]
    width = 1 + max(first_line.count(separator) for separator in ",;\t")
    if width > MAX_CSV_COLUMNS:
        raise DataError(
            f"the file has about {width:,} columns; the limit is {MAX_CSV_COLUMNS:,}. "
            "Keep the time-series columns and save again"
        )


def _size(n_bytes: int) -> str:
    if n_bytes >= 1_000_000:
        return f"{n_bytes / 1e6:.1f} MB"
    return f"{n_bytes / 1e3:.0f} KB" if n_bytes >= 10_000 else f"{n_bytes} bytes"


def _decode(raw: bytes) -> str:
    head = raw[:8192]
    controls = sum(byte < 9 or 13 < byte < 32 for byte in head)
    if b"\x00" in head or controls > 0.01 * len(head):
        raise DataError("this is not a text CSV file (it contains binary data); save it as CSV")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _read_table(text: str, max_rows: int) -> pd.DataFrame:
    try:
        separator = csv.Sniffer().sniff(text[:20_000], delimiters=",;\t").delimiter
    except csv.Error:
        separator = ","  # one column, or nothing the sniffer can tell apart
    try:
        table = _read_with(text, separator, max_rows, header=0)
        if all(_is_number(name) for name in table.columns):  # the first row is data, not names
            table = _read_with(text, separator, max_rows, header=None)
            table.columns = [f"column {i + 1}" for i in range(table.shape[1])]
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeError) as error:
        reason = str(error).strip().splitlines()[-1][:200] if str(error).strip() else "no columns"
        raise DataError(f"could not read the file as CSV: {reason}") from None
    if len(table) > max_rows:
        raise DataError(f"the file has more than {max_rows:,} rows; the limit is {max_rows:,}")
    if len(table) == 0:
        raise DataError("the file has a header but no data rows")
    return table


def _read_with(text: str, separator: str, max_rows: int, header: int | None) -> pd.DataFrame:
    return pd.read_csv(
        io.StringIO(text),
        sep=separator,
        header=header,
        dtype=str,
        nrows=max_rows + 1,
        skipinitialspace=True,
        skip_blank_lines=True,
    )


def _is_number(text: Any) -> bool:
    try:
        float(str(text).replace(",", "."))
    except ValueError:
        return False
    return True


def _to_numbers(column: pd.Series) -> np.ndarray:
    """float64 values; decimal commas (1,5) are accepted; anything else becomes NaN."""
    text = column.astype(str).str.strip().str.replace(",", ".", regex=False)
    values = pd.to_numeric(text, errors="coerce").to_numpy(dtype=np.float64)
    return np.where(np.isfinite(values), values, np.nan)


def _numeric_part(table: pd.DataFrame) -> CsvTable:
    columns, arrays, ignored = [], [], []
    for name in table.columns:
        values = _to_numbers(table[name])
        if np.isfinite(values).mean() >= NUMERIC_SHARE:
            columns.append(str(name))
            arrays.append(values)
        elif table[name].notna().any():  # an empty column (a trailing separator) goes unmentioned
            ignored.append(str(name))
    if not columns:
        raise DataError(
            f"no numeric column found (a column needs numbers in at least {NUMERIC_SHARE:.0%} of "
            "its rows, and columns must be separated by commas, semicolons or tabs); "
            f"the columns are: {', '.join(ignored)[:300]}"
        )
    values = np.stack(arrays, axis=1)
    complete = np.isfinite(values).all(axis=1)
    notes = [f"ignored columns that are not numeric: {', '.join(ignored)[:300]}"] if ignored else []
    if not complete.all():
        notes.append(f"dropped {int((~complete).sum())} rows with a missing or non-numeric value")
    values = values[complete]
    if len(values) < MIN_ROWS:
        raise DataError(f"the file has {len(values)} usable rows; at least {MIN_ROWS} are needed")
    return CsvTable(columns, values, notes)


def demo_series() -> CsvTable:
    """A year of made-up hourly weather: temperature (degrees C) with a seasonal and a daily cycle,
    weather that drifts over days, and sensor noise; humidity (%) falls as it warms. Fixed seed,
    so it is the same everywhere. 8760 rows leave room for seq_len 400 at any val_fraction, and the
    daily cycle gives a network something to beat 'repeat the last value' on."""
    rng = np.random.default_rng(DEMO_SEED)
    hours = np.arange(365 * 24)
    season = 10.0 - 8.0 * np.cos(2 * np.pi * (hours / 24 - 20) / 365.25)  # coldest on 20 January
    daily = 4.0 * np.sin(2 * np.pi * (hours - 9) / 24)  # warmest at 15:00, coldest at 03:00
    drift = np.cumsum(rng.normal(0.0, 0.25, len(hours)))
    drift -= np.convolve(drift, np.ones(168) / 168, mode="same")  # wander for days, not months
    temperature = season + daily + drift + rng.normal(0.0, 0.2, len(hours))
    humidity = 70.0 - 2.0 * (temperature - season) + rng.normal(0.0, 2.0, len(hours))
    values = np.round(np.stack([temperature, np.clip(humidity, 5, 100)], axis=1), 1)
    return CsvTable(
        ["temperature", "humidity"], values, ["built-in demo: a year of hourly weather"]
    )


class CsvTask(Task):
    """A column of the user's table (or a demo series); predict the next value at every step."""

    name = "csv"
    title = "Your own time series (CSV)"
    explanation = (
        "Upload a table of numbers in time order, one row per time step, and pick a column. The "
        "network reads a window of the series and after each value predicts the next one. It is "
        "trained on the earlier part of the series and checked on the last part (val_fraction), "
        "which it never sees while training, the honest way to judge a forecast. Values are "
        "rescaled with statistics of the training part only. Repeating the last value is the "
        "trivial forecast to beat. Without an upload, a made-up year of hourly weather is used. "
        "With a shortest length set, each window has its own length between that and seq_len."
    )
    kind = "regression"
    params = ("csv_column", "normalise", "seq_len", "min_len", "val_fraction", "horizon")
    shortest = 2  # one value to read, one to predict
    metric_name = "MSE"
    higher_is_better = False
    input_size = 1
    output_size = 1
    baseline_name = "repeat the last value"

    def __init__(self, config: ExperimentConfig, data: CsvTable | np.ndarray | None = None) -> None:
        super().__init__(config)
        table = demo_series() if data is None else _as_table(data)
        self.columns, self.notes = table.columns, table.notes
        _require(
            config.csv_column < len(table.columns),
            f"csv_column {config.csv_column} is out of range: the table has "
            f"{len(table.columns)} numeric column{'s' if len(table.columns) > 1 else ''} "
            f"(0 to {len(table.columns) - 1}: {', '.join(table.columns)[:200]})",
        )
        self.column_name = table.columns[config.csv_column]
        raw = table.values[:, config.csv_column]
        self.split_at = len(raw) - int(round(len(raw) * config.val_fraction))
        _check_min_len(config, self.shortest)
        self._check_room(len(raw))
        self.shift, self.scale = _normaliser(raw[: self.split_at], config.normalise)
        self.series = (raw - self.shift) / self.scale
        self.baseline = self._window_baseline()
        self.solved_at = 0.5 * self.baseline  # half the error of repeating the last value

    def _check_room(self, rows: int) -> None:
        """Both parts need at least one window of seq_len + 1 values."""
        need = self.config.seq_len + 1
        smaller = min(self.split_at, rows - self.split_at)
        _require(
            smaller >= need,
            f"the series has {rows} values; with val_fraction={self.config.val_fraction:g} the "
            f"{'validation' if smaller < self.split_at else 'training'} part has {smaller}, "
            f"fewer than seq_len + 1 = {need}; lower seq_len to at most {max(smaller - 1, 1)}"
            + (" or raise val_fraction" if smaller < self.split_at else ""),
        )

    def _window_baseline(self) -> float:
        """Repeat-the-last-value MSE averaged exactly over every validation window."""
        length = self.config.seq_len
        squared = np.diff(self.series[self.split_at :]) ** 2
        sums = np.concatenate([[0.0], np.cumsum(squared)])
        return float(np.mean(sums[length:] - sums[:-length]) / length)

    def sample(self, batch_size: int, rng: np.random.Generator, split: str = "train") -> Batch:
        """inputs (N, L, 1) normalised values; targets (N, L, 1) the next value; every real step
        counts. With min_len > 0 each window has its own length in [min_len, L] (batch.lengths;
        zero padding after it). Windows lie wholly in the training part or (split="val") the
        validation part. meta: starts (N,) row offsets, shift and scale (real = value * scale +
        shift)."""
        _check_split(split)
        length = self.config.seq_len
        lengths = _ragged_lengths(rng, batch_size, self.config, self.shortest)
        spans = np.full(batch_size, length) if lengths is None else lengths
        low, high = (0, self.split_at) if split == "train" else (self.split_at, len(self.series))
        starts = rng.integers(low, high - spans)
        # A short window near the end would index past the series: clip, the padding is zeroed.
        rows = np.minimum(starts[:, None] + np.arange(length + 1), len(self.series) - 1)
        windows = self.series[rows]
        mask = _length_mask(lengths, batch_size, length)
        meta = {"starts": starts, "shift": self.shift, "scale": self.scale}
        return _make_batch(windows[:, :length, None], windows[:, 1:, None], mask, lengths, meta)

    def future(self, batch: Batch, horizon: int) -> np.ndarray:
        """(N, horizon) the true normalised values that `rollout` forecasts; NaN past the end."""
        ends = batch.inputs.shape[1] if batch.lengths is None else batch.lengths.cpu().numpy()
        index = batch.meta["starts"][:, None] + np.reshape(ends, (-1, 1)) + np.arange(horizon)
        padded = np.concatenate([self.series, np.full(horizon, np.nan)])
        return padded[index]


def _as_table(data: CsvTable | np.ndarray) -> CsvTable:
    if isinstance(data, CsvTable):
        return data
    values = np.asarray(data, dtype=np.float64)
    if values.ndim == 1:
        values = values[:, None]
    if values.ndim != 2 or values.size == 0:
        raise DataError(f"expected a 1-D or 2-D array of numbers, got shape {values.shape}")
    if not np.isfinite(values).all():
        raise DataError("the series contains missing or infinite values")
    return CsvTable([f"column {i + 1}" for i in range(values.shape[1])], values)


def _normaliser(train: np.ndarray, method: str) -> tuple[float, float]:
    """(shift, scale) from the training part; a flat series keeps scale 1 to avoid dividing by 0."""
    if method == "zscore":
        shift, scale = float(train.mean()), float(train.std())
    elif method == "minmax":
        shift, scale = float(train.min()), float(train.max() - train.min())
    else:
        shift, scale = 0.0, 1.0
    return shift, scale if scale > 0 else 1.0


TASKS: dict[str, type[Task]] = {
    task.name: task
    for task in [NextNumberTask, SineTask, AddingTask, CopyTask, TextTask, SpeechTask, CsvTask]
}


def make_task(config: ExperimentConfig, data: CsvTable | np.ndarray | None = None) -> Task:
    """Build the task named by `config.task`; `data` is the user's CSV table for the csv task."""
    if config.task not in TASKS:
        raise ConfigError(f"unknown task {config.task!r}; choose one of: {', '.join(TASKS)}")
    return TASKS[config.task](config, data)
