"""sine: forecast a sum of noisy sine waves, one clean value ahead (`rollout` runs it further)."""

from __future__ import annotations

from typing import Any

import numpy as np

from core.config import ExperimentConfig
from core.tasks.base import (
    BASELINE_BATCH,
    BASELINE_SEED,
    Batch,
    Task,
    _check_split,
    _make_batch,
    _repeat_last_mse,
)


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
    ask = "forecast"
    prediction_chart = "next_value"
    series_names = ("input", "next value (clean)", "prediction")
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
