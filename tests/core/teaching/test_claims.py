"""Every claim holds on seeds 0-4, with room to spare in its step budget.

Slow: each claim trains for real, five times (a few seconds each on two cores). Run with -s to see
the per-seed figures. Trained outcomes differ between CPUs (kernels round differently, and a
vanilla RNN's trajectory is chaotic), so a claim that holds on five seeds here, each decided well
inside its budget, is what lets it hold on another machine's seed 0. The thresholds below are
written out apart from each claim's own verdict, so a change that weakens a claim still fails.
"""

from __future__ import annotations

import math

import pytest

from core.teaching import CLAIMS, SEQ2SEQ_CLAIMS, run_claim

SEEDS = range(5)
BUDGET_SHARE = 0.8  # every seed decides within this share of the claim's step budget


def run_seeds(key: str) -> list[dict]:
    claim = CLAIMS[key] if key in CLAIMS else SEQ2SEQ_CLAIMS[key]
    rows = []
    for seed in SEEDS:
        result = run_claim(claim, seed=seed, workers=2)
        steps = max(e.steps_done for e in result.experiments.values())
        numbers = {k: v for k, v in result.numbers.items() if not isinstance(v, str)}
        print(f"\n[{key} seed {seed}] ok={result.ok} steps={steps} {result.seconds:.1f}s {numbers}")
        assert not result.stopped
        assert result.ok, f"seed {seed}: {result.summary}"
        assert steps <= BUDGET_SHARE * claim.steps, f"seed {seed} needed {steps} steps"
        rows.append(result.numbers)
    return rows


@pytest.mark.slow
def test_next_number_fills_the_gap():
    for n in run_seeds("next_number"):
        assert abs(n["guess"] - 4) <= 0.25 and abs(n["next"] - 6) <= 0.25
        assert n["val_mse"] < 0.1 * n["baseline_mse"]


@pytest.mark.slow
def test_no_memory_stays_at_the_baseline_where_the_lstm_solves_it():
    for n in run_seeds("independent"):
        assert n["lstm_mse"] <= 0.01 and math.isfinite(n["lstm_solved_at"])
        assert n["feedforward_mse"] >= 0.8 * n["baseline_mse"]  # 0.083 would be half learned
        assert math.isnan(n["feedforward_solved_at"])
        assert n["feedforward_grad_before_last"] == 0 < n["feedforward_grad_last"]
        assert n["feedforward_steps"] >= n["lstm_solved_at"]  # trained as long as it took the LSTM


@pytest.mark.slow
def test_vanishing_gradient_rnn_against_lstm():
    for n in run_seeds("vanishing"):
        assert n["rnn_ratio"] * 100 <= n["lstm_ratio"]  # two orders of magnitude at least
        assert n["lstm_ratio"] >= 1e-3 and n["lstm_mse"] <= 0.01 < 0.1 <= n["rnn_mse"]


@pytest.mark.slow
def test_long_memory_gated_cells_solve_adding_50_and_the_rnn_does_not():
    for n in run_seeds("long_memory"):
        assert n["lstm_mse"] <= 0.01 and n["gru_mse"] <= 0.01
        assert 0.1 <= n["rnn_mse"] < 0.3  # near the 0.167 baseline; 0.083 would be half learned
        assert math.isnan(n["rnn_solved_at"])
        # The RNN trained as long as the slowest gated cell needed to solve the task.
        assert n["rnn_steps"] >= max(n["lstm_solved_at"], n["gru_solved_at"])


@pytest.mark.slow
def test_gru_matches_lstm_with_three_quarters_of_the_parameters():
    for n in run_seeds("gru_vs_lstm"):
        assert n["gru_recurrent_params"] * 4 == n["lstm_recurrent_params"] * 3
        assert n["gru_accuracy"] >= 0.95 and n["lstm_accuracy"] >= 0.95
        assert 0.1 < n["gru_loss"] / n["lstm_loss"] < 10  # comparable loss


@pytest.mark.slow
def test_exploding_gradients_are_tamed_by_clipping():
    for n in run_seeds("exploding"):
        assert n["initial_ratio"] > 1e3  # the gradient grows going back in time
        assert n["unclipped_max_grad_norm"] > 1e3
        assert n["unclipped_diverged"] or n["unclipped_mse"] > n["baseline_mse"]
        assert not n["clipped_diverged"] and n["clipped_mse"] < 0.5 * n["baseline_mse"]
        assert n["clipped_fraction"] > 0


@pytest.mark.slow
def test_forecast_beats_repeating_the_last_value():
    for n in run_seeds("forecast"):
        assert n["horizon"] >= 5
        assert n["rollout_mse"] < 0.25 * n["repeat_last_mse"] and n["rollout_mse"] < n["zero_mse"]


@pytest.mark.slow
def test_a_real_co2_forecast_beats_repeating_the_last_value():
    for n in run_seeds("real_forecast"):
        assert n["network_mse"] <= 0.2 * n["persistence_mse"]
        assert n["persistence_mse"] > 0 and n["linear_mse"] > 0 and n["seasonal_mse"] > 0


@pytest.mark.slow
def test_text_model_writes_corpus_words():
    for n in run_seeds("text"):
        assert n["word_fraction"] >= 0.6 and n["word_fraction"] >= n["unigram_word_fraction"] + 0.3
        assert n["accuracy"] >= n["baseline_accuracy"] + 0.2


@pytest.mark.slow
def test_speech_is_classified_and_hidden_states_separate():
    for n in run_seeds("speech"):
        assert n["accuracy"] >= 4 * n["chance"]
        assert n["centroid_accuracy"] >= 4 * n["chance"]
        assert n["centroid_accuracy"] > n["untrained_centroid_accuracy"]
        assert n["separation"] >= 2 * n["untrained_separation"]


@pytest.mark.slow
def test_speakers_are_named_at_least_at_dtws_level_with_the_no_memory_model_beside_it():
    for n in run_seeds("speakers"):
        print(
            f"  test accuracy {n['accuracy']:.4f} after {n['training_seconds']:.1f} s of training; "
            f"DTW {n['dtw']:.4f}, Euclidean {n['euclidean']:.4f}, no memory {n['no_memory']:.4f}"
        )
        assert n["accuracy"] >= 0.96 and n["accuracy"] >= n["dtw"] >= 0.94
        # The 10 s goal is a speed target: printed here and measured in bench/, never asserted
        # (shared machines are noisy); the claim's step budget is what keeps it short.
        assert n["no_memory"] >= 0.95  # the lesson: the speaker shows in every frame


@pytest.mark.slow
def test_order_decides_and_only_the_lstm_reads_it():
    for n in run_seeds("order"):
        print(
            f"  order decides / the rest: LSTM {n['lstm_order']:.3f} / {n['lstm_rest']:.3f}, "
            f"bag of words {n['bag_of_words_order']:.3f} / {n['bag_of_words_rest']:.3f}, "
            f"no memory {n['feedforward_order']:.3f} / {n['feedforward_rest']:.3f}"
        )
        assert n["lstm_order"] >= 0.9 and n["lstm_accuracy"] >= 0.95
        assert n["bag_of_words_order"] <= 0.75 and n["feedforward_order"] <= 0.75


def test_translation_fails_long_numbers_without_attention_and_holds_with_it():
    for n in run_seeds("translation"):
        assert n["plain_short"] >= 0.9 and n["plain_long"] <= n["plain_short"] - 0.4
        assert n["attention_long"] >= 0.8 and n["attention_long"] >= n["plain_long"] + 0.3
        assert n["attention_token"] >= n["baseline_token"] + 0.5


def test_translation_claim_builds_encoder_decoders_and_needs_short_numbers_learned():
    from core.seq2seq import Seq2SeqExperiment
    from core.teaching import ClaimRun

    claim = SEQ2SEQ_CLAIMS["translation"]
    run = ClaimRun(claim, seed=3)
    assert all(isinstance(e, Seq2SeqExperiment) for e in run.experiments.values())
    assert {e.config.attention for e in run.experiments.values()} == {"none", "dot"}
    assert {e.config.seed for e in run.experiments.values()} == {3}
    numbers = {
        f"{label}_{bucket}": 0.0
        for label in ("plain", "attention")
        for bucket in ("short", "medium", "long")
    }
    numbers |= dict(attention_long=0.9, attention_short=1.0, plain_token=0.5, attention_token=0.9)
    numbers |= dict(baseline_token=0.19, baseline_exact=0.01, steps=500)
    assert not claim.verdict(numbers)[0]  # the plain run learned nothing: nothing to forget
    assert claim.verdict({**numbers, "plain_short": 0.95})[0]
