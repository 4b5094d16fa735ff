"""The character n-gram reference (core/ngram.py): a proper distribution, exact on text that
repeats itself, no better than chance on random text, the order chosen where validation is best,
and scored in the network's own units on the text task."""

import math

import numpy as np
import pytest

from core.config import ExperimentConfig
from core.ngram import (
    MAX_ORDER,
    TextReference,
    best_order,
    bits_per_character,
    fit_ngram,
    summary,
    text_reference,
)
from core.trainer import Experiment


def _random_text(seed: int, length: int, size: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, size, length)


@pytest.mark.parametrize("order", range(1, MAX_ORDER + 1))
def test_probabilities_sum_to_one_over_the_vocabulary(order):
    text = _random_text(0, 3000, 7)
    model = fit_ngram(text[:2000], 7)
    probs = model.probabilities(text[2000:].reshape(10, 100), order)
    assert probs.shape == (10, 100, 7)
    np.testing.assert_allclose(probs.sum(-1), 1.0, atol=1e-12)
    assert probs.min() > 0  # smoothing leaves every character possible


def test_bits_per_character_go_to_zero_on_a_repeating_string_at_its_order():
    pattern = np.array([0, 1, 2, 0, 1, 3])  # after "0 1" comes 2 or 3: it takes 3 back to know
    text = np.tile(pattern, 800)
    model = fit_ngram(text[:4000], 4)
    bits = [bits_per_character(model, text[4000:], order) for order in range(1, MAX_ORDER + 1)]
    print("repeating string, bits per character by order:", np.round(bits, 4))
    assert bits[3] < 0.01  # order 4 (3 characters back) predicts every character
    assert bits[2] > 0.1  # order 3 can't tell "0 1 2" from "0 1 3"
    assert best_order(model, text[4000:]) >= 4


@pytest.mark.parametrize("seed", range(5))
def test_bits_per_character_on_uniform_random_text_are_log2_of_the_vocabulary(seed):
    size = 16
    text = _random_text(seed, 60_000, size)
    model = fit_ngram(text[:50_000], size)
    order = best_order(model, text[50_000:])
    bits = bits_per_character(model, text[50_000:], order)
    print(f"seed {seed}: order {order}, {bits:.4f} bits per character (log2 V = 4)")
    assert abs(bits - math.log2(size)) < 0.02
    assert order <= 2  # longer contexts only add noise


def test_the_chosen_order_is_the_validation_best():
    # text with structure one character deep (a Markov chain: a 2-gram) and a held-out part
    rng = np.random.default_rng(3)
    size, transitions = 8, rng.dirichlet(np.full(8, 0.3), size=8)
    text = [0]
    for _ in range(20_000):
        text.append(rng.choice(size, p=transitions[text[-1]]))
    text = np.array(text)
    model = fit_ngram(text[:16_000], size)
    bits = [bits_per_character(model, text[16_000:], k) for k in range(1, MAX_ORDER + 1)]
    print("Markov chain, bits per character by order:", np.round(bits, 4))
    assert best_order(model, text[16_000:]) == int(np.argmin(bits)) + 1 == 2


def test_text_reference_scores_in_the_networks_units():
    experiment = Experiment(ExperimentConfig(task="text", seed=0))
    reference = text_reference(experiment)
    print(f"{reference.name}: accuracy {reference.accuracy:.3f}, {reference.bits:.3f} bpc")
    assert 1 <= reference.order <= MAX_ORDER
    assert experiment.task.baseline < reference.accuracy < 1
    assert reference.loss < math.log(len(experiment.task.vocabulary))
    assert math.isnan(reference.network_loss)
    assert "classical reference" in summary(reference)
    experiment.step(5)
    trained = text_reference(experiment)
    loss, accuracy = experiment.validate()
    assert (trained.network_loss, trained.network_accuracy) == (loss, accuracy)
    assert summary(trained).startswith(f"The {trained.name} model")  # 5 steps can't beat it


def test_the_summary_names_the_winner_and_a_split_decision():
    won = summary(TextReference(4, 0.55, 1.45, network_accuracy=0.60, network_loss=1.30))
    assert won.startswith("The network wins: 1.88 bits per character, accuracy 60.0%")
    assert "By accuracy" not in won
    lost = summary(TextReference(4, 0.55, 1.45, network_accuracy=0.56, network_loss=1.60))
    assert lost.startswith("The 4-gram model") and " wins: 2.09 bits per character" in lost
    assert "By accuracy alone the network leads (56.0% against 55.0%)" in lost
