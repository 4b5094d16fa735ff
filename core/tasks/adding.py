"""adding: output the sum of the two marked numbers at the end of a sequence (long memory)."""

from __future__ import annotations

import numpy as np
import torch

from core.tasks.base import Batch, Task


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
    reads = "last"  # the sum, at the last step only
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
