"""The charts' text alternatives say the numbers the charts draw: each sentence is checked against
the same quantity computed here from the run, independently (numpy on the probe's arrays, the
model's own recurrent weights for the eigenvalues, plain arithmetic on a hand-made forecast)."""

from __future__ import annotations

import dataclasses
import math
import re

import numpy as np
import pytest

from core.forecast import Forecast
from core.trainer import History
from playground.charts import describe
from tests.playground.charts.helpers import charts, run, synthetic_history


def g3(value: float) -> str:
    """A number as the sentences write it (3 significant digits)."""
    return f"{value:.3g}"


@pytest.fixture(scope="module")
def lstm():
    return run("lstm", steps=4)


@pytest.fixture(scope="module")
def rnn():
    return run("rnn", steps=4)


# ---- training tab -------------------------------------------------------------------------------
def test_loss_names_the_last_step_and_the_solved_line(lstm):
    history = synthetic_history(40)
    task = lstm[0].task  # the adding problem: loss is its metric, solved below 0.01
    text = describe.loss(history, task)
    train = history.train_loss[-1]
    _, val_loss, _ = history.validations()
    assert f"training loss {g3(train)} at step 40" in text
    assert f"validation {g3(val_loss[-1])}" in text
    side = "below" if train <= task.solved_at else "above"
    assert f"{side} the solved line {g3(task.solved_at)}" in text
    assert describe.loss(History(), task) == "Loss chart: no training steps yet."


def test_grad_norm_reads_both_ends_of_the_probe(lstm):
    _, probe = lstm
    text = describe.grad_norm(probe)
    assert f"{g3(float(probe.grad_norm[-1]))} at the last step" in text
    assert f"{g3(float(probe.grad_norm[0]))} at step 0" in text


def test_spectral_radius_is_the_last_probe_record(lstm):
    exp, _ = lstm
    record = exp.probe_log[-1]
    text = describe.spectral_radius(exp.probe_log)
    assert f"{g3(record.spectral_radius)} at step {record.step}" in text


# ---- comparing cells -----------------------------------------------------------------------------
def test_race_gives_each_cells_last_validation_loss(lstm, rnn):
    histories = {"lstm": lstm[0].history, "rnn": rnn[0].history}
    text = describe.race(histories)
    for cell, history in histories.items():
        _, val_loss, _ = history.validations()
        assert f"{cell} {g3(float(val_loss[-1]))}" in text


def test_race_grad_gives_ends_factor_and_underflow(lstm, rnn):
    probes = {"lstm": lstm[1], "rnn": rnn[1]}
    text = describe.race_grad(probes)
    for cell, probe in probes.items():
        first, last = float(probe.grad_norm[0]), float(probe.grad_norm[-1])
        assert (
            f"{cell} {g3(last)} at the last step, {g3(first)} at step 0 (x{g3(first / last)})"
            in (text)
        )
    grad = np.array(lstm[1].grad_norm, dtype=np.float32)
    grad[:3] = 0.0  # vanished below float32's smallest number
    text = describe.race_grad({"rnn": dataclasses.replace(lstm[1], grad_norm=grad)})
    assert "3 steps underflowed to 0" in text and "(x" not in text
    assert "no probes yet" in describe.race_grad({})


def test_grad_norm_history_finds_the_largest_norm():
    history = synthetic_history(30)
    norms = np.linspace(1.0, 2.0, 30)
    norms[11] = 1e6  # a spike at step 12
    norms[-1] = math.nan  # a last step that overflowed
    history.grad_norm = list(norms)
    text = describe.grad_norm_history({"unclipped": history})
    assert "largest 1e+06 at step 12" in text
    assert f"unclipped {g3(norms[-2])} at step 29" in text  # the last finite one


def test_sweep_says_how_far_each_cell_solved():
    results = {"rnn": [(10, 0.3), (2, 0.95), (5, 0.91)], "lstm": [(2, 1.0), (10, 0.99)], "gru": []}
    text = describe.sweep(results, "lag", 0.9)
    assert "rnn 0.95 at 2, 0.91 at 5, 0.3 at 10 (solved up to 5)" in text
    assert "lstm 1 at 2, 0.99 at 10 (solved up to 10)" in text
    assert "gru no runs yet" in text and "at least 0.9" in text
    assert "(solved none)" in describe.sweep({"rnn": [(2, 0.1)]}, "lag", 0.9)
    assert "no runs finished yet" in describe.sweep({"rnn": []}, "lag", 0.9)


# ---- forecast -------------------------------------------------------------------------------------
def test_forecast_scores_each_forecast_where_the_truth_is_known():
    fc = Forecast(
        context=np.arange(6.0),
        network=np.array([1.0, 2.0, 9.0]),
        truth=np.array([1.0, 4.0, math.nan]),  # the data end after two steps
        persistence=np.array([0.0, 0.0, 0.0]),
        linear=np.array([1.0, 3.0, 3.0]),
        linear_order=2,
    )
    text = describe.forecast(fc)
    assert "3 steps ahead after 6 seen" in text
    # |1-1| and |2-4| -> 1; |0-1| and |0-4| -> 2.5; |1-1| and |3-4| -> 0.5
    assert "over 2 steps: network 1, repeat the last value 2.5, linear AR(2) 0.5." in text
    nothing = dataclasses.replace(fc, truth=np.full(3, math.nan))
    assert "nothing to score" in describe.forecast(nothing)


# ---- memory, gates, weights -------------------------------------------------------------------------
def test_trajectory_share_matches_an_svd_and_the_chart_title(lstm):
    _, probe = lstm
    rows = probe.hidden.reshape(-1, probe.hidden.shape[2]).astype(np.float64)
    rows = rows[np.isfinite(rows).all(axis=1)]
    singular = np.linalg.svd(rows - rows.mean(axis=0), compute_uv=False)
    share = 100 * singular**2 / np.sum(singular**2)
    for dims in (2, 3):
        text = describe.trajectory(probe, dims)
        assert f"hold {share[:dims].sum():.0f}% of the variance" in text
        title = charts.trajectory_figure(probe, dims).layout.title.text
        assert f"({share[:dims].sum():.0f}% of variance shown)" in title
    assert f"{probe.hidden.shape[0]} sequences of up to {probe.hidden.shape[1]} steps" in text


def test_hidden_gives_range_and_saturated_units(lstm):
    _, probe = lstm
    example = 1
    length = int(probe.lengths[example])
    states = probe.hidden[example, :length]
    text = describe.hidden(probe, example)
    assert f"{states.shape[1]} units over {length} steps" in text
    assert f"from {g3(float(states.min()))} to {g3(float(states.max()))}" in text
    assert f"{int(np.sum(np.abs(states[-1]) > 0.9))} of {states.shape[1]} units" in text


def test_lengths_of_ragged_sequences():
    _, probe = run("gru", task="next_number", steps=1, seq_len=10, min_len=4)
    lengths = np.asarray(probe.lengths)
    assert np.ptp(lengths) > 0, "min_len should make the batch ragged"
    text = describe.lengths(probe)
    assert f"{lengths.min()} to {lengths.max()} steps, median {np.median(lengths):g}" in text


def test_gates_means_and_cell_state(lstm, rnn):
    _, probe = lstm
    length = int(probe.lengths[0])
    text = describe.gates(probe, 0)
    for name in ("input", "forget", "cell_candidate", "output"):
        mean = float(probe.gates[name][0, :length].mean())
        assert f"{name.replace('_', ' ')} {g3(mean)}" in text
    cell = probe.cell[0, :length]
    assert f"cell state from {g3(float(cell.min()))} to {g3(float(cell.max()))}" in text
    assert describe.gates(rnn[1], 0) == "Gates chart: a vanilla RNN has no gates."


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_spectrum_from_the_models_own_weights(cell):
    exp, probe = run(cell, steps=2)
    weight = exp.model.rnn.weight_hh_l0.detach().double().numpy()
    size = exp.model.hidden_size
    eigenvalues = np.concatenate(
        [np.linalg.eigvals(weight[k : k + size]) for k in range(0, len(weight), size)]
    )
    magnitudes = np.abs(eigenvalues)
    text = describe.spectrum(probe)
    assert f"spectral radius {g3(magnitudes.max())}" in text
    outside = re.search(r"(\d+) of (\d+) lie outside", text)
    assert outside, text
    assert int(outside.group(2)) == magnitudes.size
    # Eigenvalues within rounding of the unit circle may fall either side in float64.
    near = np.sum(np.abs(magnitudes - 1) < 1e-9)
    assert abs(int(outside.group(1)) - int(np.sum(magnitudes > 1))) <= near
