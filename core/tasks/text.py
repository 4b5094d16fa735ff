"""text: a character-level language model on the shipped corpus (core/data/corpus.txt), and
`generate_text`, which samples a continuation from a trained model."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from core.config import ExperimentConfig
from core.tasks.base import (
    Batch,
    Task,
    _advance,
    _check_min_len,
    _check_split,
    _evaluating,
    _length_mask,
    _make_batch,
    _one_hot,
    _ragged_lengths,
    _require,
)

CORPUS_PATH = Path(__file__).parents[1] / "data" / "corpus.txt"


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
    ask = "generate"
    prediction_chart = "text"
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
