"""The sentiment task: its rules (checked by a parser written here from the task's explanation),
the twins that make order decide, the split, typed sentences and the running verdict, and the
bag-of-words reference against a torch fit of the same objective."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
import torch

from core.bag_of_words import L2, bag_of_words, fit_logistic, word_counts
from core.config import ConfigError, ExperimentConfig
from core.model import SequenceModel
from core.tasks import SentimentTask, make_task, read_sentence
from core.tasks.sentiment import (
    INTENSIFIERS,
    LONGEST,
    NEGATIVE,
    ORDER_FAMILIES,
    POSITIVE,
    VOCABULARY,
    in_split,
    make_sentence,
    sentences,
)

CONFIG = ExperimentConfig(task="sentiment", seq_len=16)


def polarity_of(part: list[str]) -> int:
    """A part's polarity by the explanation's rules: its last adjective, flipped when 'not' (not
    'not only') stands right before it or before its intensifier."""
    at = max(i for i, w in enumerate(part) if w in POSITIVE or w in NEGATIVE)
    polarity = int(part[at] in POSITIVE)
    before = at - 1 if at and part[at - 1] in INTENSIFIERS else at
    return 1 - polarity if before and part[before - 1] == "not" else polarity


def rule_label(words: tuple[str, ...]) -> int:
    words = list(words)
    if "but" in words:
        return polarity_of(words[words.index("but") + 1 :])
    if "although" in words:
        return polarity_of(words[: words.index("although")])
    return polarity_of(words)


@pytest.fixture(scope="module")
def drawn():
    return sentences(3000, np.random.default_rng(0))


def test_labels_follow_the_stated_rules(drawn):
    for s in drawn:
        assert rule_label(s.words) == s.label, " ".join(s.words)
    assert LONGEST - 1 <= max(len(s.words) for s in drawn) <= LONGEST


def test_order_decides_exactly_where_a_reordering_flips_the_label(drawn):
    for s in drawn:
        assert s.order_decides == (s.family in ORDER_FAMILIES)
        if s.order_decides:
            assert Counter(s.twin) == Counter(s.words) and s.twin != s.words
            assert rule_label(s.twin) == 1 - s.label, " ".join(s.twin)
    # Elsewhere the words decide: every bag of words met has one label.
    labels: dict = {}
    for s in drawn:
        if not s.order_decides:
            labels.setdefault(frozenset(Counter(s.words).items()), set()).add(s.label)
    assert all(len(found) == 1 for found in labels.values())


def test_families_and_labels_are_balanced(drawn):
    order = np.array([s.order_decides for s in drawn])
    labels = np.array([s.label for s in drawn])
    assert 0.45 < order.mean() < 0.55
    assert 0.45 < labels[order].mean() < 0.55 and 0.45 < labels[~order].mean() < 0.55
    assert len(Counter(s.family for s in drawn)) == 7


def test_vocabulary_is_small_and_named_in_the_explanation():
    assert 60 <= len(VOCABULARY) <= 150 and len(set(VOCABULARY)) == len(VOCABULARY)
    assert f"from {len(VOCABULARY)} English words" in SentimentTask.explanation


def test_validation_sentences_are_never_trained_on():
    train = {s.words for s in sentences(3000, np.random.default_rng(1), "train")}
    val = {s.words for s in sentences(1000, np.random.default_rng(1), "val")}
    assert not train & val
    rng = np.random.default_rng(2)
    held_out = np.mean([in_split(make_sentence(rng).words, "val") for _ in range(3000)])
    assert 0.07 < held_out < 0.13  # about one in VAL_SHARE


def test_batch_reads_the_last_word_and_carries_the_marks():
    task = make_task(CONFIG)
    batch = task.sample(50, np.random.default_rng(3))
    lengths = batch.lengths.numpy()
    assert batch.mask.sum(1).tolist() == [1] * 50
    assert batch.mask[np.arange(50), lengths - 1].all()
    for i, words in enumerate(batch.meta["words"]):
        assert len(words) == lengths[i]
        decoded = [VOCABULARY[j] for j in batch.inputs[i, : lengths[i]].argmax(-1).tolist()]
        assert decoded == list(words)
    assert batch.targets[:, 0].tolist() == batch.meta["labels"].tolist()
    assert batch.meta["order_decides"].dtype == bool


@pytest.mark.parametrize(
    "text, message",
    [
        ("the film was grand but nice", "never seen 'grand'"),
        ("The plot, was GOOD; wonderful!! zzz", "never seen 'wonderful', 'zzz'"),
        ("   ", "type a sentence"),
        ("the film was good " * 5, "at most 16 words"),
    ],
)
def test_typed_sentences_that_cant_be_read_get_a_message(text, message):
    with pytest.raises(ConfigError, match=message):
        make_task(CONFIG).words_of(text)


def test_running_verdict_is_the_answer_after_each_prefix():
    """Oracle: each prefix run on its own through last_step."""
    task = make_task(CONFIG)
    torch.manual_seed(0)
    model = SequenceModel("gru", task.input_size, 8, 2)
    words, verdict = read_sentence(model, task, "The plot was good at first, but DULL.")
    assert words == ["the", "plot", "was", "good", "at", "first", "but", "dull"]
    for n in range(1, len(words) + 1):
        x = torch.from_numpy(task.encode(words[:n], n))[None]
        with torch.no_grad():
            expected = torch.softmax(model.last_step(x), -1)[0, 1]
        assert verdict[n - 1] == pytest.approx(float(expected), abs=1e-6)


def test_logistic_fit_matches_torch_on_the_same_objective():
    rng = np.random.default_rng(0)
    features = rng.poisson(0.5, (300, 6)).astype(float)
    labels = (features @ rng.normal(size=6) + rng.normal(size=300) > 0).astype(float)
    weights, bias = fit_logistic(features, labels)
    theta = torch.zeros(7, dtype=torch.float64, requires_grad=True)
    x, y = torch.tensor(features), torch.tensor(labels)
    optimizer = torch.optim.LBFGS([theta], max_iter=500, tolerance_grad=1e-12, tolerance_change=0)

    def objective():
        optimizer.zero_grad()
        logits = x @ theta[:6] + theta[6]
        loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, y)
        loss = loss + L2 / 2 * (theta[:6] ** 2).sum()
        loss.backward()
        return loss

    optimizer.step(objective)
    assert np.allclose(weights, theta[:6].detach().numpy(), atol=1e-5)
    assert bias == pytest.approx(float(theta[6].detach()), abs=1e-5)


def test_bag_of_words_cannot_read_order():
    task = make_task(CONFIG)
    batch = task.sample(5, np.random.default_rng(0))
    counts = word_counts(batch.inputs.numpy())
    for i, words in enumerate(batch.meta["words"]):
        assert {VOCABULARY[j]: c for j, c in enumerate(counts[i]) if c} == Counter(words)
    scores = bag_of_words(CONFIG)
    print(
        f"\nbag of words: order decides {scores.order_accuracy:.3f}, rest {scores.rest_accuracy:.3f}"
    )
    assert abs(scores.order_accuracy - 0.5) < 0.06  # a coin: twins share their counts
    assert scores.rest_accuracy > 0.6  # it does read the words: "not" is what defeats it
