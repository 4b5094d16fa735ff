"""What every task shares: Batch, the Task base class, DataError, the mask and batch helpers,
and `rollout` (a model forecasting from its own predictions; sine and csv).

A task draws every random number from the `numpy.random.Generator` it is handed, so the same seed
gives the same batch. Shapes: N = batch, L = sequence length, I = input size, O = output size.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
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
    # Which steps the loss reads: "every" (the mask may select any steps) or "last" (the mask
    # selects exactly each sequence's last valid step, a sequence-to-one task). Training applies
    # the readout only where the loss reads (`core.trainer.training_loss`).
    reads: ClassVar[str] = "every"

    # What the page needs to know, declared here so no view has to switch on task names:
    ask: ClassVar[str] = ""  # how the page questions a trained model: fill_in, forecast, generate
    prediction_chart: ClassVar[str] = ""  # the prediction chart's kind ("": a generic overlay)
    # Next-value tasks: names of the input series, the value to predict and the model's guess.
    series_names: ClassVar[tuple[str, str, str]] = ("input", "next value", "prediction")
    memory_setting: ClassVar[str | None] = None  # what the memory sweep stretches (lag, seq_len)
    memory_values: ClassVar[tuple[int, ...]] = ()  # the sweep's default values of it
    raceable: ClassVar[bool] = True  # offered on the Race page (not when it needs an upload)
    # A fixed test set: the trainer validates on this many sequences (all of them) instead of
    # the usual sample (core.trainer.VAL_BATCH).
    val_size: ClassVar[int | None] = None
    # offered on the Sweep page (with a memory_setting), when its default values finish in the
    # page's budget (core.teaching.sweep.STEPS_PER_RUN steps a run, a minute in all)
    sweepable: ClassVar[bool] = True

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
        """Mean loss over the masked steps: MSE for regression, cross-entropy for classification.
        predictions (N, L, O)."""
        mask = batch.mask
        return self.loss_on(predictions[mask], batch.targets[mask])

    def loss_on(self, predictions: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """The loss of predictions (M, O) at M chosen steps against their targets (M, O) or (M,)."""
        if self.kind == "classification":
            return F.cross_entropy(predictions, targets)
        return F.mse_loss(predictions, targets)

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

    @property
    def metric_is_loss(self) -> bool:
        """The metric is the loss itself (MSE regression): one chart shows both."""
        return self.kind == "regression" and self.metric_name == "MSE"

    def success(self, metric: float) -> float:
        """The metric on a 0..1 scale: 0 is no better than the baseline, 1 is perfect (accuracy
        1, or an error of 0). Clipped; NaN (a diverged run) counts as 0."""
        if metric != metric:
            return 0.0
        if self.higher_is_better:
            score = (metric - self.baseline) / (1.0 - self.baseline)
        else:
            score = 1.0 - metric / self.baseline
        return min(1.0, max(0.0, score))

    @property
    def solved_success(self) -> float:
        """Where `solved_at` falls on the `success` scale."""
        return self.success(self.solved_at)


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
# Page helper shared by sine and csv


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
