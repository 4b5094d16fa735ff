"""The memory sweep: points, early stop once solved, reach and its sentence, cancel, time budget."""

import pytest

from core.config import ExperimentConfig
from core.teaching import Sweep, SweepPoint


def base(**changes):
    return ExperimentConfig(
        **{**dict(task="adding", seq_len=12, hidden=8, batch_size=8, seed=5), **changes}
    )


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
    with pytest.raises(ValueError, match="no memory setting to sweep; try adding or copy"):
        Sweep("sine")


def test_a_run_stops_once_solved_at_three_validations_in_a_row(monkeypatch):
    from core.tasks.copy import CopyTask

    monkeypatch.setattr(CopyTask, "is_solved", lambda self, metric: True)
    sweep = tiny_sweep(steps_per_run=400, values=(1,), cells=("gru",))
    (point,) = sweep.run(chunk=10)
    # Validations at steps 1, 25 and 50 (val_every 25): the third in a row ends the run.
    assert point.steps == 50 and point.solved


def test_two_workers_give_the_same_points_as_one():
    one = sorted((p.cell, p.value, p.metric) for p in tiny_sweep().run(chunk=3))
    two = sorted((p.cell, p.value, p.metric) for p in tiny_sweep().run(chunk=3, workers=2))
    assert one == two


def test_reach_is_the_longest_value_solved_and_the_sentence_says_it():
    sweep = tiny_sweep(values=(1, 3, 5), cells=("rnn", "lstm", "gru"))
    outcomes = {("rnn", 1): True, ("lstm", 1): True, ("lstm", 3): True, ("gru", 5): True}
    sweep.points = [
        SweepPoint(cell, value, 1.0, outcomes.get((cell, value), False), 1.0, 4, 0.1)
        for value in (1, 3, 5)
        for cell in ("rnn", "lstm", "gru")
    ]
    assert sweep.reach() == {"rnn": 1, "lstm": 3, "gru": 5}
    assert sweep.conclusion() == (
        "Of lag 1, 3, 5: GRU remembered up to lag 5; LSTM remembered up to lag 3; "
        "RNN remembered up to lag 1."
    )
    sweep.points = [p for p in sweep.points if p.cell != "rnn"] + [
        SweepPoint("rnn", 1, 0.0, False, 0.3, 4, 0.1)
    ]
    assert sweep.conclusion().endswith("RNN solved none of them.")


def test_the_sweep_includes_the_no_memory_model():
    from core.teaching.sweep import CELLS

    assert CELLS == ("rnn", "lstm", "gru", "feedforward")


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(5))
def test_the_default_adding_sweep_orders_the_cells(seed):
    """The page's default sweep shows the textbook picture on every seed: the vanilla RNN's reach
    ends first, the LSTM and GRU solve every length, and no curve climbs back up by much."""
    sweep = Sweep("adding", base_config=ExperimentConfig(hidden=32, lr=0.02, seed=seed))
    list(sweep.run(workers=2))
    reach, curves = sweep.reach(), sweep.curves()
    print(f"\n[seed {seed}] {sweep.seconds:.1f}s reach {reach} curves {curves}")
    assert not sweep.stopped_reason
    assert reach["rnn"] is not None and reach["rnn"] < reach["lstm"] <= reach["gru"]
    assert reach["lstm"] == reach["gru"] == max(sweep.values)
    for cell in ("lstm", "gru"):
        assert min(curves[cell][1]) >= 0.9
    rnn = curves["rnn"][1]
    assert rnn[-1] < 0.5 and all(b <= a + 0.2 for a, b in zip(rnn, rnn[1:], strict=False))
