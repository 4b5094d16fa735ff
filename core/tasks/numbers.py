"""number_words: translate English number words into digits ("three hundred and twelve" -> "312").

A sequence-to-sequence task: the input is a sentence of words, the answer a string of digits of its
own length, so it needs an encoder-decoder (`core.seq2seq`) rather than one readout per step. It
is not in `TASKS` (the single-model registry the page's picker, the Race and the Sweep read) but
in `SEQ2SEQ_TASKS` beside it.

Grammar (British, with "and"): groups of three digits, each "X hundred and Y", followed by
thousand, million or billion; "and" also joins a last group below one hundred to the groups above
("one thousand and five"). `max_groups` (1-4: up to 999, 999 999, ... 999 999 999 999) stretches
the length: up to 5, 11, 17 and 23 words.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from core.config import ConfigError

UNITS = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
TENS = [
    "twenty",
    "thirty",
    "forty",
    "fifty",
    "sixty",
    "seventy",
    "eighty",
    "ninety",
]  # 20, 30, ... 90
SCALES = ("thousand", "million", "billion")  # 10^3, 10^6, 10^9
WORDS = ("<pad>", *UNITS, *TENS, "hundred", "and", *SCALES)  # the input vocabulary; 0 is padding
PAD, BOS, EOS = 0, 1, 2
SYMBOLS = ("<pad>", "<s>", "</s>", *"0123456789")  # the output vocabulary
DIGIT_BASE = 3  # SYMBOLS.index("0")
MAX_GROUPS = 4
WORD_INDEX = {word: index for index, word in enumerate(WORDS)}


def below_thousand(n: int) -> list[str]:
    """Words of 0 < n < 1000 ("three hundred and twelve")."""
    hundreds, rest = divmod(n, 100)
    words = [UNITS[hundreds], "hundred"] if hundreds else []
    if hundreds and rest:
        words.append("and")
    if rest >= 20:
        words.append(TENS[rest // 10 - 2])
        if rest % 10:
            words.append(UNITS[rest % 10])
    elif rest:
        words.append(UNITS[rest])
    return words


def number_words(n: int) -> list[str]:
    """English words of 0 <= n < 10^12, e.g. 1005 -> one thousand and five."""
    if not 0 <= n < 1000**MAX_GROUPS:
        raise ValueError(f"number_words takes 0 to {1000**MAX_GROUPS - 1}, got {n}")
    if n == 0:
        return ["zero"]
    groups = [(n // 1000**k) % 1000 for k in range(MAX_GROUPS)]  # lowest group first
    words: list[str] = []
    for k in reversed(range(MAX_GROUPS)):
        if groups[k]:
            words += below_thousand(groups[k]) + ([SCALES[k - 1]] if k else [])
    if n >= 1000 and 0 < groups[0] < 100:
        words.insert(len(words) - len(below_thousand(groups[0])), "and")
    return words


def encode_words(text: str, max_words: int) -> list[int]:
    """Word indices of a phrase a visitor typed; ConfigError naming the problem for words outside
    the vocabulary, an empty phrase or one that is too long."""
    words = text.lower().replace("-", " ").replace(",", " ").split()
    if not words:
        raise ConfigError("type a number in words, for example: three hundred and twelve")
    unknown = [w for w in words if w not in WORD_INDEX or w == "<pad>"]
    if unknown:
        raise ConfigError(
            f"unknown word {unknown[0][:30]!r}; use number words such as one, twelve, forty, "
            f"hundred, and, {', '.join(SCALES)}"
        )
    if len(words) > max_words:
        raise ConfigError(f"at most {max_words} words here, got {len(words)}")
    return [WORD_INDEX[w] for w in words]


def decode_digits(indices) -> str:
    """The digit string of output indices, up to the first end marker (other markers dropped)."""
    text = []
    for index in indices:
        index = int(index)
        if index == EOS:
            break
        if index >= DIGIT_BASE:
            text.append(SYMBOLS[index])
    return "".join(text)


@dataclass
class Pairs:
    """A batch of (sentence, answer) pairs, batch first; S = longest input, T = longest answer + 1.

    source (N, S) int64 word indices, 0-padded; source_lengths (N,) int64.
    decoder_in (N, T): <s> then the digits (teacher forcing); decoder_out (N, T): the digits then
    </s>; target_mask (N, T) bool, the steps scored. meta: values (N,) int64, words (N,) int."""

    source: torch.Tensor
    source_lengths: torch.Tensor
    decoder_in: torch.Tensor
    decoder_out: torch.Tensor
    target_mask: torch.Tensor
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return self.source.shape[0]

    def to(self, device) -> Pairs:
        if self.source.device == torch.device(device):
            return self  # on the CPU, five no-op copies cost 2% of a small training step
        moved = [
            t.to(device)
            for t in (
                self.source,
                self.source_lengths,
                self.decoder_in,
                self.decoder_out,
                self.target_mask,
            )
        ]
        return Pairs(*moved, meta=self.meta)


def _phrase_tables() -> tuple[np.ndarray, np.ndarray]:
    """(words (6, 1000, 6), lengths (6, 1000)): the phrase of group value g in place k, as word
    indices, 0-padded. k = 0-3: the group of 10^(3k), closed by its scale word; k = 4: the last
    group after "and" (one thousand and five); k = 5: the number zero. Empty groups have no
    words, so sentences are assembled from these rows with a few array operations."""
    words = np.zeros((6, 1000, 6), dtype=np.int64)
    lengths = np.zeros((6, 1000), dtype=np.int64)
    for g in range(1, 1000):
        phrase = below_thousand(g)
        rows = {0: phrase, 4: ["and", *phrase] if g < 100 else phrase}
        rows |= {k: [*phrase, SCALES[k - 1]] for k in range(1, MAX_GROUPS)}
        for k, row in rows.items():
            words[k, g, : len(row)] = [WORD_INDEX[w] for w in row]
            lengths[k, g] = len(row)
    words[5, 0, 0], lengths[5, 0] = WORD_INDEX["zero"], 1
    return words, lengths


PHRASES, PHRASE_LENGTHS = _phrase_tables()
PLACES = np.arange(MAX_GROUPS - 1, -1, -1)  # the highest group first
POWERS = 10 ** np.arange(1, 3 * MAX_GROUPS)  # 10 .. 10^11: where a number gains a digit


def sentences(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(indices (N, S) 0-padded, lengths (N,)): the words of `number_words`, for many at once."""
    values = np.asarray(values, dtype=np.int64)
    groups = (values[:, None] // 1000 ** PLACES[None, :]) % 1000  # (N, 4), highest first
    places = np.broadcast_to(PLACES, groups.shape).copy()
    places[:, -1] = np.where((values >= 1000) & (groups[:, -1] < 100), 4, 0)
    places[values == 0, -1] = 5
    words, counts = PHRASES[places, groups], PHRASE_LENGTHS[places, groups]  # (N, 4, 6), (N, 4)
    real = (np.arange(words.shape[-1]) < counts[..., None]).reshape(len(values), -1)
    lengths = real.sum(axis=1)
    out = np.zeros((len(values), int(lengths.max())), dtype=np.int64)
    rows = np.broadcast_to(np.arange(len(values))[:, None], real.shape)
    out[rows[real], (np.cumsum(real, axis=1) - 1)[real]] = words.reshape(len(values), -1)[real]
    return out, lengths


def answers(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(symbols (N, D) 0-padded, digit counts (N,)): each number's digits as output indices."""
    values = np.asarray(values, dtype=np.int64)
    counts = np.searchsorted(POWERS, values, side="right") + 1
    width = int(counts.max())
    place = counts[:, None] - 1 - np.arange(width)[None, :]  # 10^place of each column
    digits = (values[:, None] // 10 ** np.maximum(place, 0)) % 10
    return np.where(place >= 0, DIGIT_BASE + digits, PAD), counts


def make_pairs(values: np.ndarray) -> Pairs:
    """The batch of these numbers, words in and digits out."""
    source, lengths = sentences(values)
    digits, counts = answers(values)
    rows = np.arange(len(counts))
    decoder_in = np.concatenate([np.full((len(counts), 1), BOS), digits], axis=1)
    decoder_out = np.concatenate([digits, np.zeros((len(counts), 1), dtype=np.int64)], axis=1)
    decoder_out[rows, counts] = EOS
    meta = {"values": np.asarray(values, dtype=np.int64), "words": lengths}
    return Pairs(
        torch.from_numpy(source),
        torch.from_numpy(lengths),
        torch.from_numpy(decoder_in),
        torch.from_numpy(decoder_out),
        torch.from_numpy(decoder_out != PAD),
        meta,
    )


class NumberWordsTask:
    """English number words to digits, with lengths spread by drawing the digit count first."""

    name = "number_words"
    title = "Number words to digits (translation)"
    explanation = (
        "The network reads a number written out in English words, such as three hundred and "
        "twelve, one word at a time, and then writes the digits 312 one at a time. The answer "
        "has its own length, so an encoder reads the whole sentence first and a decoder writes "
        "the answer afterwards. Without attention, everything the decoder knows about the "
        "sentence must pass through the encoder's last hidden state; with attention, it looks "
        "back at every word at every step. An answer counts only when every digit is right."
    )
    kind = "seq2seq"
    params = ("max_groups",)
    metric_name = "exact match"
    higher_is_better = True
    input_size = len(WORDS)
    output_size = len(SYMBOLS)
    baseline_name = "the most common digit at each position"
    solved_at = 0.95

    def __init__(self, config) -> None:
        groups = config.max_groups
        if not 1 <= groups <= MAX_GROUPS:
            raise ConfigError(f"max_groups must be between 1 and {MAX_GROUPS}, got {groups}")
        self.config = config
        self.max_digits = 3 * groups
        self.max_words = 6 * groups - 1  # "X hundred and Y Z <scale>" per group, less the last
        rng = np.random.default_rng(
            20240601
        )  # BASELINE_SEED: the baseline never moves with the run
        self.baseline, self.baseline_exact = majority_baseline(self.sample(2000, rng))

    def draw_values(self, batch_size: int, rng: np.random.Generator) -> np.ndarray:
        """Numbers whose digit count is uniform in 1..max_digits (uniform values would be long)."""
        digits = rng.integers(1, self.max_digits + 1, batch_size)
        low = np.where(digits == 1, 0, 10 ** (digits - 1))
        return rng.integers(low, 10**digits).astype(np.int64)

    def sample(self, batch_size: int, rng: np.random.Generator, split: str = "train") -> Pairs:
        if split not in ("train", "val"):
            raise ValueError(f"unknown split {split!r}; choose one of: train, val")
        return make_pairs(self.draw_values(batch_size, rng))

    def is_solved(self, metric: float) -> bool:
        return metric >= self.solved_at


def majority_baseline(pairs: Pairs) -> tuple[float, float]:
    """(token accuracy, exact match) of always writing, at each position, the symbol most often
    there: a guess that never reads the sentence."""
    out, mask = pairs.decoder_out, pairs.target_mask
    guess = torch.stack(
        [torch.bincount(out[:, t][mask[:, t]]).argmax() for t in range(out.shape[1])]
    )
    hits = (out == guess) & mask
    token = float(hits.sum() / mask.sum())
    exact = float(((hits | ~mask).all(dim=1)).float().mean())
    return token, exact
