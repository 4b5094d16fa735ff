"""The number-words task and the encoder-decoder, against oracles written here: a number parser,
sentences run one at a time without padding, step-by-step decoding, and a recount of the baseline."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from core.cells import CLASSIC_CELLS, RECURRENT_CELLS
from core.config import ConfigError
from core.seq2seq import (
    ATTENTIONS,
    Seq2Seq,
    Seq2SeqConfig,
    Seq2SeqExperiment,
    exact_by_length,
    greedy,
    scores,
    sequence_loss,
)
from core.tasks import SEQ2SEQ_TASKS, TASKS
from core.tasks.numbers import (
    BOS,
    DIGIT_BASE,
    EOS,
    SYMBOLS,
    WORDS,
    NumberWordsTask,
    Pairs,
    encode_words,
    make_pairs,
    number_words,
)

SMALL = {"zero": 0, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fifteen": 15}
SMALL |= {
    w: k
    for k, w in enumerate(
        ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine"], 1
    )
}
SMALL |= {w + "teen": 10 + k for w, k in [("four", 4), ("six", 6), ("seven", 7), ("nine", 9)]}
SMALL["eighteen"] = 18
SMALL |= {
    w: 10 * k
    for k, w in enumerate(
        ["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"], 2
    )
}
SCALE = {"thousand": 10**3, "million": 10**6, "billion": 10**9}


def parse(words: list[str]) -> int:
    """An independent reader of the grammar: sum the groups, each closed by its scale word."""
    total, group = 0, 0
    for word in words:
        if word in SMALL:
            group += SMALL[word]
        elif word == "hundred":
            group *= 100
        elif word in SCALE:
            total, group = total + group * SCALE[word], 0
        else:
            assert word == "and", word
    return total + group


def test_words_of_hand_picked_numbers():
    cases = {
        0: "zero",
        7: "seven",
        40: "forty",
        99: "ninety nine",
        312: "three hundred and twelve",
        1005: "one thousand and five",
        1200: "one thousand two hundred",
        20013: "twenty thousand and thirteen",
        7000000: "seven million",
        101001010: "one hundred and one million one thousand and ten",
    }
    for value, words in cases.items():
        assert " ".join(number_words(value)) == words


def test_words_read_back_to_their_number():
    rng = np.random.default_rng(0)
    for value in np.concatenate([rng.integers(0, 10**12, 500), rng.integers(0, 2000, 500)]):
        words = number_words(int(value))
        assert parse(words) == value, words
        assert len(words) <= 23


@pytest.mark.parametrize("groups", [1, 2, 3, 4])
def test_samples_are_seeded_and_bounded(groups):
    task = NumberWordsTask(Seq2SeqConfig(max_groups=groups))
    first = task.sample(200, np.random.default_rng(5))
    again = task.sample(200, np.random.default_rng(5))
    other = task.sample(200, np.random.default_rng(6))
    assert torch.equal(first.source, again.source) and not torch.equal(first.source, other.source)
    values = first.meta["values"]
    assert values.max() < 1000**groups and values.min() >= 0
    assert int(first.source_lengths.max()) <= task.max_words
    # digit counts are spread out: every count from 1 to 3 groups appears in 200 draws
    assert {len(str(v)) for v in values} == set(range(1, 3 * groups + 1))


def test_pairs_hold_words_and_digits():
    pairs = make_pairs(np.array([312, 5]))
    assert [WORDS[i] for i in pairs.source[0]] == ["three", "hundred", "and", "twelve"]
    assert pairs.source[1].tolist() == [WORDS.index("five"), 0, 0, 0]
    assert pairs.source_lengths.tolist() == [4, 1]
    assert [SYMBOLS[i] for i in pairs.decoder_in[0]] == ["<s>", "3", "1", "2"]
    assert [SYMBOLS[i] for i in pairs.decoder_out[0]] == ["3", "1", "2", "</s>"]
    assert pairs.target_mask.tolist() == [[True] * 4, [True, True, False, False]]


def test_baseline_is_the_per_position_majority():
    task = NumberWordsTask(Seq2SeqConfig(max_groups=2))
    pairs = task.sample(2000, np.random.default_rng(20240601))
    hits = total = 0
    for t in range(pairs.decoder_out.shape[1]):
        column = pairs.decoder_out[:, t][pairs.target_mask[:, t]].numpy()
        hits += np.bincount(column).max()
        total += len(column)
    assert task.baseline == pytest.approx(hits / total, abs=1e-6)
    assert task.baseline < 0.4 and task.baseline_exact < 0.05
    assert not task.is_solved(task.baseline_exact)


def test_registered_as_seq2seq_not_as_single_model_task():
    assert SEQ2SEQ_TASKS["number_words"] is NumberWordsTask
    assert "number_words" not in TASKS  # the picker, Race and Sweep train SequenceModel


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "type a number"),
        ("three hundred and twelv", "unknown word 'twelv'"),
        ("<pad>", "unknown word"),
        ("one " * 12, "at most 11 words"),
    ],
)
def test_bad_phrases_get_a_plain_message(text, message):
    with pytest.raises(ConfigError, match=message):
        encode_words(text, 11)


def test_phrase_encoding_is_forgiving_about_case_and_hyphens():
    assert encode_words("Forty-Two", 11) == [WORDS.index("forty"), WORDS.index("two")]


@pytest.mark.parametrize("bad", [dict(attention="luong"), dict(cell="elman"), dict(max_groups=5)])
def test_bad_settings_raise_config_error(bad):
    with pytest.raises(ConfigError):
        Seq2SeqConfig(**bad)


def build(cell, attention, seed=0):
    torch.manual_seed(seed)
    model = Seq2Seq(cell, len(WORDS), len(SYMBOLS), 10, 6, attention).eval()
    pairs = make_pairs(np.array([312, 5, 1005, 70, 999999]))
    return model, pairs


@pytest.mark.parametrize("attention", ATTENTIONS)
@pytest.mark.parametrize("cell", [c for c in CLASSIC_CELLS if c in RECURRENT_CELLS])
def test_packed_batch_equals_each_sentence_alone(cell, attention):
    model, pairs = build(cell, attention)
    logits, _ = model(pairs)
    for row in range(pairs.size):
        words, answer = int(pairs.source_lengths[row]), int(pairs.target_mask[row].sum())
        alone = Pairs(
            pairs.source[row : row + 1, :words],
            pairs.source_lengths[row : row + 1],
            pairs.decoder_in[row : row + 1, :answer],
            pairs.decoder_out[row : row + 1, :answer],
            pairs.target_mask[row : row + 1, :answer],
        )
        single, _ = model(alone)
        torch.testing.assert_close(logits[row, :answer], single[0], atol=1e-5, rtol=0)


@pytest.mark.parametrize("attention", ATTENTIONS)
@pytest.mark.parametrize("cell", [c for c in CLASSIC_CELLS if c in RECURRENT_CELLS])
def test_teacher_forcing_equals_feeding_true_symbols_one_at_a_time(cell, attention):
    model, pairs = build(cell, attention)
    logits, weights = model(pairs)
    memory, state = model.encode(pairs.source, pairs.source_lengths)
    for t in range(pairs.decoder_in.shape[1]):
        step, state, step_weights = model.decode(
            pairs.decoder_in[:, t : t + 1], state, memory, pairs.source != 0
        )
        torch.testing.assert_close(step[:, 0], logits[:, t], atol=1e-5, rtol=0)
        if weights is not None:
            torch.testing.assert_close(step_weights[:, 0], weights[:, t], atol=1e-6, rtol=0)
    loss = F.cross_entropy(logits[pairs.target_mask], pairs.decoder_out[pairs.target_mask])
    assert sequence_loss(logits, pairs).item() == pytest.approx(loss.item())


@pytest.mark.parametrize("attention", ["additive", "dot"])
def test_attention_is_a_distribution_over_real_words(attention):
    model, pairs = build("gru", attention)
    _, weights = model(pairs)
    torch.testing.assert_close(weights.sum(-1), torch.ones(weights.shape[:2]))
    padding = (pairs.source == 0).unsqueeze(1).expand_as(weights)
    assert weights[padding].abs().max().item() == 0.0


def test_greedy_feeds_back_its_own_best_symbol():
    model, pairs = build("lstm", "dot")
    symbols, attention = greedy(model, pairs, steps=4)
    fed = torch.cat([torch.full((pairs.size, 1), BOS), symbols[:, :-1]], dim=1)
    as_pairs = Pairs(pairs.source, pairs.source_lengths, fed, fed, fed >= 0)
    logits, weights = model(as_pairs)
    assert torch.equal(logits.argmax(-1), symbols)
    torch.testing.assert_close(weights, attention)


def test_scores_count_digits_and_the_end_marker():
    pairs = make_pairs(np.array([312, 5]))
    d = DIGIT_BASE
    symbols = torch.tensor([[d + 3, d + 1, d + 2, EOS], [d + 5, d + 1, EOS, EOS]])
    token, exact = scores(symbols, pairs)
    assert token.tolist() == [1.0, 0.5] and exact.tolist() == [1.0, 0.0]


@pytest.mark.slow
def test_experiment_learns_short_numbers_and_translates_typed_phrases():
    config = Seq2SeqConfig(cell="gru", max_groups=1, hidden=32, batch_size=32, val_every=100)
    experiment = Seq2SeqExperiment(config)
    before = experiment.evaluate()["exact_match"]
    experiment.step(200)
    after = experiment.evaluate()
    print(f"\n[seq2seq max_groups=1] exact {before:.3f} -> {after}")
    assert after["exact_match"] >= 0.8 > before
    answer = experiment.translate("three hundred and twelve")
    assert answer.words == ["three", "hundred", "and", "twelve"]
    assert answer.attention.shape == (len(answer.symbols), 4)
    assert answer.digits == "312"
    with pytest.raises(ConfigError, match="unknown word"):
        experiment.translate("three hundred and twelv")


def test_reset_gives_the_same_run_again():
    config = Seq2SeqConfig(cell="rnn", attention="additive", hidden=8, batch_size=8, val_every=2)
    first = Seq2SeqExperiment(config)
    first.step(3)
    second = Seq2SeqExperiment(config)
    second.step(3)
    assert first.history.train_loss == second.history.train_loss
    first.reset()
    assert first.steps_done == 0 and len(first.history) == 0


def test_exact_match_by_length_buckets():
    pairs = make_pairs(np.array([5, 312, 999999]))  # 1, 4 and 11 words
    d = DIGIT_BASE
    right = torch.tensor([[d + 5, EOS] + [0] * 5, [d + 3, d + 1, d + 2, EOS] + [0] * 3])
    wrong = torch.full((1, 7), d + 9)  # never stops
    symbols = torch.cat([right, wrong])
    by_length = exact_by_length(symbols, pairs, [1, 2, 6, 12, 20])
    assert by_length[:3] == [1.0, 1.0, 0.0] and np.isnan(by_length[3])


def test_batched_sentences_equal_number_words_one_by_one():
    rng = np.random.default_rng(1)
    edges = [0, 5, 99, 100, 1000, 1005, 1100, 10**6, 10**6 + 1, 10**9, 10**12 - 1]
    values = np.concatenate([edges, rng.integers(0, 10**12, 300), rng.integers(0, 10**4, 300)])
    pairs = make_pairs(values)
    for row, value in enumerate(values):
        words = [WORDS[i] for i in pairs.source[row] if i]
        assert words == number_words(int(value))
        assert int(pairs.source_lengths[row]) == len(words)
        digits = [SYMBOLS[i] for i in pairs.decoder_out[row] if i]
        assert digits == [*str(value), "</s>"]
        assert [SYMBOLS[i] for i in pairs.decoder_in[row] if i] == ["<s>", *str(value)]
