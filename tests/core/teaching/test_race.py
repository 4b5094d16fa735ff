"""The cell race: identical data and budget, timing, and the sentence drawn from its numbers."""

import numpy as np
import pytest
import torch

from bench.race_defaults import race_at
from core.config import ExperimentConfig
from core.teaching import Race

BASELINE = 1 / 6  # the adding problem's: always answer 1.0


def base(**changes):
    return ExperimentConfig(
        **{**dict(task="adding", seq_len=12, hidden=8, batch_size=8, seed=5), **changes}
    )


def test_race_cells_see_identical_data_and_budget():
    race = Race(base(), steps=7)
    assert set(race.experiments) == {"rnn", "lstm", "gru", "feedforward"}
    first = [e.task.sample(8, np.random.default_rng([5, 1])) for e in race.experiments.values()]
    for batch in first[1:]:
        assert torch.equal(batch.inputs, first[0].inputs) and torch.equal(
            batch.targets, first[0].targets
        )
    race.step(3)
    race.step(100)  # clamped to the remaining budget
    assert race.done and race.steps_done == 7 and race.step(5)["rnn"]["step"] == 7
    states = [e.rng.bit_generator.state for e in race.experiments.values()]
    assert all(state == states[0] for state in states)  # every stream drew the same batches
    assert {len(h) for h in race.histories().values()} == {7}
    assert all(seconds > 0 for seconds in race.wall_seconds.values())
    metrics = race.metrics()
    assert (
        metrics["gru"]["wall_seconds"] == race.wall_seconds["gru"] and metrics["lstm"]["step"] == 7
    )


def test_race_differs_only_in_the_cell():
    race = Race(base(), cells=("lstm", "gru"), steps=2, overrides={"gru": {"lr": 0.005}})
    lstm, gru = (race.experiments[c].config for c in ("lstm", "gru"))
    assert gru == lstm.replace(cell="gru", lr=0.005)
    with pytest.raises(ValueError, match="may not change seq_len"):
        Race(base(), overrides={"rnn": {"seq_len": 20}})


def test_race_parameter_counts_and_probes():
    race = Race(base(hidden=16), steps=1)
    recurrent = race.parameter_counts(recurrent_only=True)
    assert (
        recurrent["gru"] * 4 == recurrent["lstm"] * 3 and recurrent["rnn"] * 4 == recurrent["lstm"]
    )
    race.step(1)
    probes = race.probes()
    assert {cell: p.grad_norm.shape for cell, p in probes.items()} == dict.fromkeys(
        race.cells, (12,)
    )
    np.testing.assert_array_equal(probes["rnn"].inputs, probes["gru"].inputs)


def test_race_conclusion_names_who_solved_and_who_did_not():
    race = Race(base(seq_len=6), steps=3)
    race.step(3)
    # Fake a validation history: the GRU solved at step 2, the LSTM at 3, the RNN got part of the
    # way (MSE 0.08 of the baseline's 0.167), the no-memory model none of it.
    final = {"gru": 0.005, "lstm": 0.008, "rnn": 0.08, "feedforward": 0.2}
    for cell, experiment in race.experiments.items():
        history = experiment.history
        # New lists, not slice assignments: History's columns are append-only (its float cache).
        history.val_loss = [0.2] * len(history)
        solved_from = {"gru": 2, "lstm": 3}.get(cell, 99)
        history.val_metric = [final[cell] if s >= solved_from else 0.2 for s in history.step]
        if cell in ("rnn", "feedforward"):
            history.val_metric[-1] = final[cell]
    text = race.conclusion()
    print(text)
    assert text.startswith("Solved first by GRU at step 2, then LSTM at step 3")
    assert "RNN (validation MSE 0.08) learned part of it" in text
    assert "No memory (validation MSE 0.2) stayed at the baseline" in text
    assert "always answer 1.0 scores 0.167" in text
    assert text.endswith("Ranking after 3 steps: No memory < RNN < LSTM ≈ GRU.")
    for experiment in race.experiments.values():
        experiment.history.val_metric = [0.2] * len(experiment.history)
    text = race.conclusion()
    assert text.startswith("None solved it in 3 steps; RNN, LSTM, GRU and No memory (validation")
    assert "Ranking" not in text


@pytest.mark.slow
def test_race_defaults_rank_no_memory_below_rnn_below_lstm_and_gru():
    """The page's defaults show what memory and gating buy, on seeds 0-4 (bench/race_defaults.py
    prints the same)."""
    for seed in range(5):
        race = race_at(seed)
        figures = {cell: m["val_metric"] for cell, m in race.metrics().items()}
        print(seed, {cell: round(value, 5) for cell, value in figures.items()}, race.conclusion())
        assert race.conclusion().endswith("No memory < RNN < LSTM ≈ GRU.")
        assert figures["feedforward"] > 0.8 * BASELINE  # at the baseline: it can't see the pair
        assert 0.012 < figures["rnn"] < 0.7 * BASELINE  # part of the way, clear of both ends
        assert max(figures["lstm"], figures["gru"]) < 0.005  # both solved, with margin


def test_race_cost_per_step_is_wall_time_over_steps():
    race = Race(base(), steps=4)
    assert all(np.isnan(v) for v in race.seconds_per_step().values())
    race.step(4)
    per_step = race.seconds_per_step()
    assert per_step == {cell: race.wall_seconds[cell] / 4 for cell in race.cells}
