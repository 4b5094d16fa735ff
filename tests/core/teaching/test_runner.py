"""The claim runner: experiments side by side in bounded chunks, settled once solved, stopped once
the verdict holds, cancellable, the same outcome in threads."""

from __future__ import annotations

import math

import pytest

from core.teaching import CLAIMS, SEQ2SEQ_CLAIMS, Claim, ClaimRun, get_claim, run_claim

ADDING = dict(task="adding", seq_len=8, hidden=8, batch_size=8, val_every=5)


def toy_claim(**changes) -> Claim:
    """Two small cells on a short adding problem; the verdict holds once both report solved."""
    settings = dict(
        key="toy",
        title="Toy",
        claim="Both learn.",
        expect="They do.",
        configs={"rnn": dict(cell="rnn", **ADDING), "gru": dict(cell="gru", **ADDING)},
        steps=30,
        measure=lambda experiments: {label: e.steps_done for label, e in experiments.items()},
        verdict=lambda numbers: (False, f"steps {numbers}"),
    )
    return Claim(**{**settings, **changes})


def test_a_run_trains_every_experiment_to_its_budget_in_bounded_chunks():
    run = ClaimRun(toy_claim())
    progress = run.advance(12)
    assert progress.steps == {"rnn": 12, "gru": 12} and progress.fraction == pytest.approx(0.4)
    while not run.done:
        run.advance(12)
    assert run.progress().steps == {"rnn": 30, "gru": 30}
    assert run.decided == {"rnn": "budget", "gru": "budget"}
    result = run.result()
    assert not result.ok and not result.stopped and result.summary == "steps {'rnn': 30, 'gru': 30}"


def test_a_settling_experiment_stops_after_three_solved_validations(monkeypatch):
    from core.tasks.adding import AddingTask

    monkeypatch.setattr(AddingTask, "is_solved", lambda self, metric: True)
    run = ClaimRun(toy_claim(settle=("gru",)))
    while not run.done:
        run.advance(4)
    # Validations at steps 1, 5 and 10 (val_every 5): solved at three in a row by step 10.
    assert run.decided["gru"] == "solved" and run.experiments["gru"].steps_done == 12
    assert run.decided["rnn"] == "budget" and run.experiments["rnn"].steps_done == 30


def test_the_run_stops_as_soon_as_the_verdict_holds_at_a_check():
    claim = toy_claim(
        check_every=10, observe=True, verdict=lambda n: (n["rnn"] >= 20, f"at {n['rnn']}")
    )
    run = ClaimRun(claim)
    seen = []
    while not run.done:
        seen.append(run.advance(7).steps["rnn"])
    # Each advance takes 7 steps, stopping at the checks on the way (10, 20): confirmed at the
    # check at step 20, where the run stops even though that advance had a step left.
    assert seen == [7, 14, 20]
    result = run.result()
    assert result.ok and result.summary == "at 20" and run.remaining == 0
    # Observations were taken at the checks, for the measures that read recent ones.
    assert [r.step for r in run.experiments["rnn"].probe_log] == [10, 20]


def test_stopped_before_decided_is_a_stopped_result():
    calls = []
    result = run_claim(
        toy_claim(), chunk=4, on_progress=calls.append, should_stop=lambda: len(calls) >= 2
    )
    assert result.stopped and not result.ok and result.numbers == {}
    assert "Stopped at step 8 of 30 (27% of the experiment)" in result.summary


def test_threads_give_the_same_outcome_as_one_at_a_time():
    one = run_claim(toy_claim(), chunk=10)
    two = run_claim(toy_claim(), chunk=10, workers=2)
    for label in one.experiments:
        assert (
            one.experiments[label].history.train_loss == two.experiments[label].history.train_loss
        )


def test_a_seed_replaces_every_config_seed():
    configs = get_claim("long_memory").experiment_configs(seed=3)
    assert {c.seed for c in configs.values()} == {3}
    assert {c.seed for c in get_claim("long_memory").experiment_configs().values()} == {0}


def test_every_claim_is_complete():
    assert list(CLAIMS) == [
        "next_number",
        "independent",
        "vanishing",
        "long_memory",
        "gru_vs_lstm",
        "exploding",
        "forecast",
        "real_forecast",
        "text",
        "speech",
        "speakers",
        "order",
    ]
    for key, claim in CLAIMS.items():
        assert claim.key == key and claim.claim.endswith(".") and claim.expect
        assert claim.experiment_configs() and claim.steps > 0
        assert set(claim.settle) <= set(claim.configs)
        assert not math.isnan(claim.check_every)
    with pytest.raises(ValueError, match="unknown claim 'nope'; choose one of: next_number"):
        get_claim("nope")
    assert list(SEQ2SEQ_CLAIMS) == ["translation"]
    assert get_claim("translation") is SEQ2SEQ_CLAIMS["translation"]  # found as the others are
    assert get_claim("translation").seq2seq and not any(c.seq2seq for c in CLAIMS.values())
