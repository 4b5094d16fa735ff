"""Cell race (identical data, budget, timing) and memory sweep (points, cancel, time budget)."""

import numpy as np
import pytest
import torch

from core.config import ExperimentConfig
from core.race import Race
from core.sweep import Sweep, SweepPoint


def base(**changes):
    return ExperimentConfig(
        **{**dict(task="adding", seq_len=12, hidden=8, batch_size=8, seed=5), **changes}
    )


def test_race_cells_see_identical_data_and_budget():
    race = Race(base(), steps=7)
    assert set(race.experiments) == {"rnn", "lstm", "gru"}
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


def tiny_sweep(**changes):
    settings = dict(
        task="copy",
        cells=("rnn", "lstm"),
        values=(1, 3),
        steps_per_run=4,
        base_config=ExperimentConfig(task="copy", n_symbols=2, alphabet=4, hidden=8, batch_size=8),
    )
    return Sweep(**{**settings, **changes})


def test_sweep_yields_one_point_per_value_and_cell():
    sweep = tiny_sweep()
    points = list(sweep.run(chunk=3))
    assert [(p.cell, p.value) for p in points] == [("rnn", 1), ("lstm", 1), ("rnn", 3), ("lstm", 3)]
    assert all(isinstance(p, SweepPoint) and p.steps == 4 and 0 <= p.success <= 1 for p in points)
    for p in points:  # copy: accuracy rescaled so that chance (1/4) is 0
        assert p.success == pytest.approx(max(0.0, (p.metric - 0.25) / 0.75))
        assert p.solved == (p.metric >= 0.95)
    assert sweep.done and not sweep.stopped_reason and sweep.progress() == 1.0
    assert sweep.curves()["lstm"] == ([1, 3], [points[1].success, points[3].success])


def test_sweep_adding_varies_seq_len_and_scores_against_the_baseline():
    sweep = tiny_sweep(task="adding", values=(6, 9), base_config=base())
    points = list(sweep.run())
    assert [sweep.config_for(p.cell, p.value).seq_len for p in points] == [6, 6, 9, 9]
    for p in points:
        assert p.success == pytest.approx(max(0.0, 1 - p.metric / (1 / 6)))


def test_sweep_stops_when_asked():
    sweep = tiny_sweep()
    asked = []

    def should_stop():
        asked.append(1)
        return len(sweep.points) >= 1

    points = list(sweep.run(should_stop=should_stop, chunk=2))
    assert len(points) == 1 and sweep.done
    assert sweep.stopped_reason == "stopped after 1 of 4 runs"
    assert list(sweep.run()) == []  # a stopped sweep stays stopped


def test_sweep_respects_its_time_budget():
    sweep = tiny_sweep(steps_per_run=40, max_seconds=0.0)
    assert (
        list(sweep.run()) == []
        and "time budget of 0 s used up after 0 of 4" in sweep.stopped_reason
    )
    sweep = tiny_sweep(steps_per_run=40, max_seconds=1e-3)
    points = list(sweep.run(chunk=1))
    assert len(points) <= 1 and sweep.stopped_reason.startswith("time budget")
    assert sweep.seconds < 1e-3 + 1.0  # overshoots by at most one chunk


def test_sweep_refuses_unknown_tasks():
    with pytest.raises(ValueError, match="choose one of: copy, adding"):
        Sweep("sine")
