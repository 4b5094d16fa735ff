"""speech: classify synthetic spoken words from their spectrogram frames (ragged lengths)."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from core.config import ExperimentConfig
from core.tasks.base import Batch, Task, _check_split, _length_mask, _make_batch, _require

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
    reads = "last"  # the word, on each example's last real frame only
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
        wave = np.sin(phases[0])
        second = step[1] > 0  # a pure tone has no second frequency: skip its sines
        wave[second] += np.sin(phases[1][second])
        wave = wave.reshape(batch_size, hops * HOP)
        wave *= rng.uniform(0.5, 1.0, (batch_size, 1)).astype(np.float32)
        noise = rng.standard_normal(wave.shape, dtype=np.float32)
        noise *= self.config.noise
        wave += noise
        inside = np.arange(hops * HOP)[None, :] < (lengths[:, None] + 1) * HOP
        wave *= inside
        return wave


def _word_tables(words: tuple[Word, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Pad words to 4 sounds for vectorised lookup: freqs (W, 4, 2) Hz, weights (W, 4) with 0 for
    missing sounds (a zero weight adds no duration, so the sound never plays)."""
    freqs = np.zeros((len(words), 4, 2))
    weights = np.zeros((len(words), 4))
    for i, word in enumerate(words):
        freqs[i, : len(word.sounds)] = word.sounds
        weights[i, : len(word.sounds)] = word.durations
    return freqs, weights


_HANN = np.hanning(WINDOW)


def _spectrogram(wave: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """(N, samples) -> (N, L, N_BINS) log magnitude frames (Hann window), each example scaled to
    zero mean and unit variance over its real frames; zero past its length."""
    frames = np.lib.stride_tricks.sliding_window_view(wave, WINDOW, axis=1)[:, ::HOP]
    magnitude = np.abs(np.fft.rfft(frames * _HANN, axis=2)[:, :, 1 : N_BINS + 1])
    features = np.log(magnitude + 0.1)
    real = _length_mask(lengths, *features.shape[:2])[..., None]
    count = lengths[:, None, None] * N_BINS
    mean = (features * real).sum(axis=(1, 2), keepdims=True) / count
    spread = np.sqrt((((features - mean) * real) ** 2).sum(axis=(1, 2), keepdims=True) / count)
    return (features - mean) / (spread + 1e-6) * real
