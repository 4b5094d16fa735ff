"""sentiment: is a short generated review positive or negative? Read word by word (sequence to
one), with sentences whose label depends on word order, and `read_sentence`, the running verdict
after every word of a typed sentence.

The sentences come from a small grammar with fixed rules (the task's explanation states them):
an adjective is positive or negative; "not" right before it (an intensifier may sit between)
flips it; in "X but Y" the part after "but" decides, in "X although Y" the part before; "not
only" does not flip, it stresses. Half the sentences are built so that the same words in another
order, which the generator makes just as often, carry the other label ("order decides"); the rest
are plain, joined by "and" or negated, and their words alone decide.

Words are fed one-hot; the cell's input weights are the learned embedding (a one-hot vector
times a matrix picks that word's column).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from core.config import ConfigError, ExperimentConfig
from core.tasks.base import Batch, Task, _check_split, _evaluating, _make_batch, _require


def _listed(text: str) -> tuple[str, ...]:
    return tuple(text.split())


POSITIVE = _listed(
    "good great fun lovely brilliant charming clever superb moving gripping fresh warm"
)
NEGATIVE = _listed("bad dull boring awful poor weak slow silly bland messy clumsy tedious")
NOUNS = _listed(
    "film movie plot acting music ending story cast script book show dialogue pacing "
    "soundtrack meal service hotel game song camera"
)
VERBS = _listed("was is felt seemed")
INTENSIFIERS = _listed("very really quite truly so")
FUNCTION_WORDS = _listed("the not but although only and at first overall in end it")
VOCABULARY = tuple(sorted(set(POSITIVE + NEGATIVE + NOUNS + VERBS + INTENSIFIERS + FUNCTION_WORDS)))
LONGEST = 16  # the longest sentence the grammar makes
VAL_SHARE = 10  # one sentence in ten (by a checksum of its text) is kept for validation
CLASS_NAMES = ("negative", "positive")

# Families: which rule builds the sentence; the first four make order decide the label.
ORDER_FAMILIES = ("but", "although", "not_but", "scope")
OTHER_FAMILIES = ("plain", "and", "negated")
TRAILERS = ((), ("overall",), ("in", "the", "end"))


@dataclass(frozen=True)
class Sentence:
    words: tuple[str, ...]
    label: int  # 1 positive, 0 negative
    family: str
    twin: tuple[str, ...] | None  # the same words in another order, with the other label

    @property
    def order_decides(self) -> bool:
        return self.twin is not None


def _phrase(rng: np.random.Generator, polarity: int) -> list[str]:
    """An adjective of that polarity, sometimes with an intensifier before it."""
    words = list(POSITIVE if polarity else NEGATIVE)
    phrase = [str(rng.choice(words))]
    if rng.random() < 0.3:
        phrase.insert(0, str(rng.choice(INTENSIFIERS)))
    return phrase


def _subject(rng: np.random.Generator) -> list[str]:
    return ["the", str(rng.choice(NOUNS)), str(rng.choice(VERBS))]


def make_sentence(rng: np.random.Generator) -> Sentence:
    """One sentence: half from the order families, half from the others, labels balanced."""
    ordered = rng.random() < 0.5
    families = ORDER_FAMILIES if ordered else OTHER_FAMILIES
    family = str(families[rng.integers(len(families))])
    label = int(rng.integers(2))
    start, end = _subject(rng), list(TRAILERS[rng.integers(len(TRAILERS))])
    if family in OTHER_FAMILIES:
        if family == "plain":
            middle = _phrase(rng, label)
        elif family == "and":
            middle = _phrase(rng, label) + ["and"] + _phrase(rng, label)
        else:  # negated: "not" flips the adjective
            middle = ["not"] + _phrase(rng, 1 - label)
        return Sentence(tuple(start + middle + end), label, family, None)
    first, second, twin_first, twin_second = _two_parts(rng, family, label)
    words = tuple(start + first + second + end)
    twin = tuple(start + twin_first + twin_second + end)
    return Sentence(words, label, family, twin)


def _two_parts(rng: np.random.Generator, family: str, label: int) -> tuple[list, ...]:
    """The sentence's two parts after the subject (the joining word opens the second), then the
    same words with the other label: the adjective phrases swap places (but, although), or "not"
    moves to the other part (not_but, scope)."""
    if family == "but":  # the part after "but" decides
        early, late = _phrase(rng, 1 - label), _phrase(rng, label)
        at_first = ["at", "first"] if rng.random() < 0.5 else []
        link = ["but"] + (_subject(rng) if rng.random() < 0.3 else [])
        return early + at_first, link + late, late + at_first, link + early
    if family == "although":  # the part before "although" decides
        main, conceded = _phrase(rng, label), _phrase(rng, 1 - label)
        link = ["although"] + (["it", str(rng.choice(VERBS))] if rng.random() < 0.5 else [])
        return main, link + conceded, conceded, link + main
    # not_but and scope: both adjectives share a polarity; where "not" stands decides.
    polarity = int(rng.integers(2))
    head = ["only"] if family == "scope" else []
    early, late = head + _phrase(rng, polarity), _phrase(rng, polarity)
    if polarity == label:  # "not good but great", "not only good but great"
        return ["not"] + early, ["but"] + late, early, ["but", "not"] + late
    return early, ["but", "not"] + late, ["not"] + early, ["but"] + late


def in_split(words: tuple[str, ...], split: str) -> bool:
    """Whether a sentence belongs to this split: a checksum of its text decides, so no validation
    sentence is ever trained on."""
    checksum = 0
    for byte in " ".join(words).encode():  # a polynomial hash: the same in every process
        checksum = (checksum * 131 + byte) % 1_000_003
    return (checksum % VAL_SHARE == 0) == (split == "val")


def sentences(count: int, rng: np.random.Generator, split: str = "train") -> list[Sentence]:
    """`count` sentences of one split, drawn from rng."""
    _check_split(split)
    found: list[Sentence] = []
    while len(found) < count:
        sentence = make_sentence(rng)
        if in_split(sentence.words, split):
            found.append(sentence)
    return found


class SentimentTask(Task):
    """Positive or negative? Generated reviews read word by word; one label per sentence."""

    name = "sentiment"
    title = "Positive or negative? (word by word)"
    explanation = (
        "Each example is a short review made up by a small grammar from 65 English words, "
        "like 'the plot was good at first but dull' or 'the film was not only good but great'. "
        "The network reads it one word at a time and says positive or negative after the last "
        "word. The rules: each adjective is positive or negative, 'not' right before it flips "
        "it, after 'but' the second part decides, before 'although' the first part decides, and "
        "'not only' stresses rather than flips. In half the sentences the same words in another "
        "order mean the opposite ('good at first but dull' against 'dull at first but good'), so "
        "only a model that reads the order can get them right; in the rest the words alone "
        "decide. Validation sentences never appear in training. Guessing scores one in two."
    )
    kind = "classification"
    ask = "read"  # the page reads a typed sentence word by word (read_sentence)
    prediction_chart = "sentiment"
    params = ("seq_len",)
    metric_name = "accuracy"
    higher_is_better = True
    reads = "last"
    baseline = 0.5  # labels are balanced in every family
    baseline_name = "guess"
    solved_at = 0.95
    sweepable = False
    val_size = 1000  # a fixed test set of unseen sentences, scored whole

    def __init__(self, config: ExperimentConfig, data: Any = None) -> None:
        super().__init__(config)
        _require(
            config.seq_len >= LONGEST,
            f"sentiment needs seq_len of at least {LONGEST} (its longest sentence, in words), "
            f"got {config.seq_len}",
        )
        self.vocabulary = VOCABULARY
        self.index = {word: i for i, word in enumerate(VOCABULARY)}
        self.input_size = len(VOCABULARY)
        self.output_size = 2
        self.class_names = list(CLASS_NAMES)

    def encode(self, words: tuple[str, ...] | list[str], length: int) -> np.ndarray:
        """(length, V) one-hot rows of the words, zero after them."""
        rows = np.zeros((length, len(self.vocabulary)), dtype=np.float32)
        rows[np.arange(len(words)), [self.index[w] for w in words]] = 1.0
        return rows

    def sample(self, batch_size: int, rng: np.random.Generator, split: str = "train") -> Batch:
        """inputs (N, L, V) one-hot words, zero past each sentence; targets (N, L) int64 the label
        at every real step; mask (N, L) True only on the last word; lengths (N,) words. meta:
        labels, order_decides (N,) bool, family and words (lists of N)."""
        drawn = sentences(batch_size, rng, split)
        length = self.config.seq_len
        lengths = np.array([len(s.words) for s in drawn], dtype=np.int64)
        inputs = np.stack([self.encode(s.words, length) for s in drawn])
        labels = np.array([s.label for s in drawn], dtype=np.int64)
        targets = np.repeat(labels[:, None], length, axis=1)
        mask = np.arange(length)[None, :] == lengths[:, None] - 1
        meta = {
            "labels": labels,
            "order_decides": np.array([s.order_decides for s in drawn]),
            "family": [s.family for s in drawn],
            "words": [s.words for s in drawn],
            "class_names": self.class_names,
        }
        return _make_batch(inputs, targets, mask, lengths, meta)

    def words_of(self, text: str) -> list[str]:
        """The words of a typed sentence (lower case, punctuation dropped); ConfigError naming
        any word the network has never seen."""
        cleaned = "".join(c if c.isalpha() or c == "'" else " " for c in text.lower())
        words = cleaned.split()
        if not words:
            raise ConfigError("type a sentence, for example: the plot was good at first but dull")
        unknown = sorted({w for w in words if w not in self.index}, key=words.index)
        if unknown:
            listed = ", ".join(repr(w) for w in unknown[:8])
            raise ConfigError(
                f"the network has never seen {listed}: it knows only the "
                f"{len(self.vocabulary)} words of its sentences (listed under the box)"
            )
        if len(words) > self.config.seq_len:
            raise ConfigError(
                f"type at most {self.config.seq_len} words (seq_len), got {len(words)}"
            )
        return words


def read_sentence(model: nn.Module, task: SentimentTask, text: str) -> tuple[list[str], np.ndarray]:
    """The running verdict: (the words, (n,) probability of positive after each word), each the
    answer the model would give if the sentence stopped there. ConfigError for unusable text."""
    words = task.words_of(text)
    with _evaluating(model) as device:
        x = torch.from_numpy(task.encode(words, len(words)))[None].to(device)
        probabilities = torch.softmax(model(x)[0], dim=-1)[:, 1]
    return words, probabilities.cpu().numpy()


def order_accuracies(predicted: np.ndarray, batch: Batch) -> tuple[float, float]:
    """Accuracy of predicted labels (N,) on the batch's sentences where order decides the label,
    and on the rest."""
    hits = np.asarray(predicted) == batch.meta["labels"]
    order = batch.meta["order_decides"]
    return float(hits[order].mean()), float(hits[~order].mean())


def model_order_accuracies(model: nn.Module, batch: Batch) -> tuple[float, float]:
    """`order_accuracies` of a model's verdicts after each sentence's last word."""
    with _evaluating(model) as device:
        verdict = model.last_step(batch.inputs.to(device), batch.lengths).argmax(-1)
    return order_accuracies(verdict.cpu().numpy(), batch)
