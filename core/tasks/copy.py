"""copy: replay a string of symbols after a delay of blank steps (long memory)."""

from __future__ import annotations

from typing import Any

import numpy as np

from core.config import ExperimentConfig
from core.tasks.base import Batch, Task, _check_split, _make_batch, _one_hot


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
    prediction_chart = "copy"
    memory_setting = "lag"  # blank steps between seeing and recalling
    memory_values = (2, 5, 10, 20)  # the sweep's default lags
    # Not on the Sweep page: at lag 20 and 800 steps the LSTM copies 24% right, the GRU 82%
    # (seed 0), and more steps don't fit the page's minute. core.teaching.Sweep still runs it.
    sweepable = False
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
