"""The playground run's actions: the classical references drawn beside the network."""

from __future__ import annotations

import math
import time

from core import Experiment, ExperimentConfig
from core.bag_of_words import bag_of_words
from core.speakers import speaker_references
from playground.actions import training


def test_speaker_references_arrive_in_the_background_without_slowing_the_page():
    vowels = Experiment(ExperimentConfig(task="vowels", seq_len=29, hidden=8))
    started = time.perf_counter()
    training.metric_references(vowels)
    first = time.perf_counter() - started
    future = training._SPEAKER_REFERENCES[0]
    future.result(timeout=120)
    started = time.perf_counter()
    lines = training.metric_references(vowels)
    later = time.perf_counter() - started
    print(f"\nfirst page draw {first * 1e3:.1f} ms, once computed {later * 1e3:.2f} ms")
    assert first < 0.5 and later < 0.05
    assert dict(lines) == dict(speaker_references().named())
    assert [name for name, _ in lines] == ["1-NN DTW", "1-NN Euclidean", "no memory (per frame)"]
    adding = Experiment(ExperimentConfig(task="adding", hidden=8))
    assert training.metric_references(adding) == []


def test_bag_of_words_lines_arrive_in_the_background():
    sentiment = Experiment(ExperimentConfig(task="sentiment", seq_len=16, hidden=8, seed=7))
    started = time.perf_counter()
    training.metric_references(sentiment)
    first = time.perf_counter() - started
    training._BAG_OF_WORDS[7].result(timeout=120)
    lines = training.metric_references(sentiment)
    assert first < 0.5
    assert dict(lines) == dict(bag_of_words(sentiment.config).named())
    assert [name for name, _ in lines] == ["bag of words, order decides", "bag of words, the rest"]


def test_a_typed_sentence_is_read_word_by_word_or_refused_with_its_unknown_words():
    sentiment = Experiment(ExperimentConfig(task="sentiment", seq_len=16, hidden=8))
    kind, words, positive = training.read_typed_sentence(sentiment, "The acting was NOT bad.")
    assert kind == "success" and words == ["the", "acting", "was", "not", "bad"]
    assert len(positive) == 5 and all(0 <= p <= 1 for p in positive)
    kind, message = training.read_typed_sentence(sentiment, "the acting was splendid, xyz")
    assert kind == "warning" and "'splendid', 'xyz'" in message


def test_text_n_gram_lines_are_quick_and_in_the_networks_units():
    text = Experiment(ExperimentConfig(task="text", seq_len=400, hidden=8))
    started = time.perf_counter()
    accuracy = training.metric_references(text)
    first = time.perf_counter() - started
    loss = training.text_references(text)
    print(f"\nn-gram lines: first draw {first * 1e3:.0f} ms: {accuracy} {loss}")
    assert first < 1.0  # counting, choosing the order, scoring 128 x 400 characters: ~0.1 s
    (name, value), (same, nats) = accuracy[0], loss[0]
    assert name == same and name.endswith("-gram model")
    assert text.task.baseline < value < 1 and 0 < nats < math.log(len(text.task.vocabulary))
    assert "bits per character" in training.text_notices(text)[0][1]
