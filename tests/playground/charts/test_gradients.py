"""Gradient charts against the probe's own numbers: per time step, the realised gain, underflow,
and the history heatmap on its fixed colour range."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from core.trainer import ProbeRecord
from playground.charts.gradients import (
    GAIN_WINDOW,
    GRAD_LOG_RANGE,
    realised_gain,
    underflow_floor,
)
from playground.words.captions import CAPTIONS
from tests.playground.charts.helpers import (
    CELLS,
    assert_clean,
    charts,
    named,
    run,
)


@pytest.mark.parametrize("cell", CELLS)
def test_grad_norm_figure_matches_the_probe(runs, cell):
    _, probe = runs[cell]
    fig = charts.grad_norm_figure(probe)
    np.testing.assert_allclose(fig.data[0].y, probe.grad_norm, rtol=1e-6)
    assert fig.layout.yaxis.type == "log"
    cell_traces = named(fig, "‖∂L/∂c")
    assert len(cell_traces) == (cell == "lstm")
    if cell == "lstm":
        np.testing.assert_allclose(cell_traces[0].y, probe.grad_norm_cell, rtol=1e-6)
    (gain,) = named(fig, "gain per step back")
    assert gain.yaxis == "y2"
    np.testing.assert_allclose(gain.y, realised_gain(probe.grad_norm), rtol=1e-5)
    (one,) = named(fig, "gain = 1")
    assert list(one.y) == [1, 1] and one.line.dash == "dash"
    (bound,) = named(fig, "upper bound")
    np.testing.assert_allclose(bound.y, probe.jacobian_norm, rtol=1e-6)
    assert bound.line.dash == "dot"


@pytest.mark.parametrize("cell", CELLS)
def test_the_caption_is_true_for_every_cell(runs, cell):
    """The caption: below 1 the gradient shrinks going back, above 1 it grows. The gain at t is a
    geometric mean over a window of step pairs, so it telescopes: below 1 exactly when the
    gradient at the window's first step is smaller than at the step after its last."""
    _, probe = runs[cell]
    grad = probe.grad_norm
    assert "below the dashed line at 1 the gradient shrinks going back" in CAPTIONS["grad_norm"]
    gain = realised_gain(grad)
    half = GAIN_WINDOW // 2
    for t, value in enumerate(gain):
        first, last = max(0, t - half), min(len(grad) - 2, t + half)
        ends = grad[first] / grad[last + 1]
        assert (value < 1) == (ends < 1), (t, value, ends)
        np.testing.assert_allclose(value, ends ** (1 / (last - first + 1)), rtol=1e-5)
    exact = realised_gain(grad, window=1)
    np.testing.assert_allclose(exact, grad[:-1] / grad[1:], rtol=1e-5)


@pytest.mark.parametrize("cell", CELLS)
def test_the_dotted_line_bounds_the_gain_through_the_state(cell):
    """Against PyTorch's own cells: for every sequence and step of the adding problem (its loss
    reads only the last step), the state gradient shrinks or grows by at most the spectral norm
    of the step's Jacobian, and the probe's jacobian_norm is that norm's mean."""
    exp, probe = run(cell, seq_len=12, hidden=6, steps=20)
    model, batch = exp.model, exp.probe_batch
    torch_cell = {"rnn": torch.nn.RNNCell, "lstm": torch.nn.LSTMCell, "gru": torch.nn.GRUCell}
    oracle = torch_cell[cell](batch.inputs.shape[-1], 6)
    for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
        getattr(oracle, name).data.copy_(getattr(model.rnn, f"{name}_l0").data)
    states, grads = _oracle_states_and_grads(exp, oracle, cell)
    length = batch.inputs.shape[1]
    norms = []
    for n in range(4):
        row = []
        for t in range(length - 1):
            state = states[t][n].detach()
            jac = torch.autograd.functional.jacobian(
                lambda s, n=n, t=t: _step(oracle, cell, batch.inputs[n, t + 1], s), state
            )
            spectral = float(torch.linalg.matrix_norm(jac, ord=2))
            before, after = float(grads[t][n].norm()), float(grads[t + 1][n].norm())
            assert before <= spectral * after * (1 + 1e-4) + 1e-30, (n, t, before, after, spectral)
            row.append(spectral)
        norms.append(row)
    np.testing.assert_allclose(probe_of(exp).jacobian_norm, np.mean(norms, axis=0), rtol=1e-4)


def probe_of(exp):
    return exp.probe(jacobian=True)


def _oracle_states_and_grads(exp, oracle, cell):
    """The probe batch run through PyTorch's own cell, step by step: the state s_t (h, or [h; c])
    at every step and the exact gradient of the batch loss with respect to it (autograd)."""
    batch, model = exp.probe_batch, exp.model
    size = batch.size
    h = batch.inputs.new_zeros(size, model.hidden_size)
    c = torch.zeros_like(h)
    states, outputs = [], []
    for t in range(batch.inputs.shape[1]):
        state = torch.cat([h, c], dim=-1) if cell == "lstm" else h
        state = state.detach().requires_grad_(True) if t == 0 else state
        states.append(state)
        h, c = _split(_step(oracle, cell, batch.inputs[:, t], state), cell)
        outputs.append(h)
    loss = exp.task.loss(model.readout(torch.stack(outputs, dim=1)), batch)
    grads = list(torch.autograd.grad(loss, states[1:] + [outputs[-1]]))
    if cell == "lstm":  # the loss reads h at the last step only: its c gradient is 0 there
        grads[-1] = torch.cat([grads[-1], torch.zeros_like(grads[-1])], dim=-1)
    return states[1:] + [None], grads


def _split(state, cell):
    return state.chunk(2, dim=-1) if cell == "lstm" else (state, None)


def _step(oracle, cell, x, state):
    """One step of PyTorch's cell on a batch (or one sequence): s_t -> s_{t+1}."""
    single = state.dim() == 1
    if single:
        x, state = x[None], state[None]
    if cell == "lstm":
        h, c = state.chunk(2, dim=-1)
        h_next, c_next = oracle(x, (h, c))
        out = torch.cat([h_next, c_next], dim=-1)
    else:
        out = oracle(x, state)
    return out[0] if single else out


def test_underflow_is_marked_below_the_curve_not_drawn_as_a_value(runs):
    _, probe = runs["rnn"]
    grad = probe.grad_norm.copy()
    grad[:4] = [0.0, 0.0, np.nan, np.inf]
    fig = charts.grad_norm_figure(dataclasses.replace(probe, grad_norm=grad, jacobian_norm=None))
    y = fig.data[0].y
    assert np.isnan(y[:4]).all() and (y[4:] > 0).all()  # zeros, NaN and inf are gaps
    (marks,) = named(fig, "exactly 0")
    np.testing.assert_array_equal(marks.x, [0, 1])
    floor = float(marks.y[0])
    assert floor < np.nanmin(grad[4:]) and floor == pytest.approx(underflow_floor(grad))
    assert not named(fig, "upper bound")
    assert_clean(fig)


def test_grad_history_heatmap_has_one_fixed_colour_range():
    """An RNN's gradients (down to 1e-18, some 0) and an LSTM's (1e-7 and up) get the same
    colours for the same values, so screenshots of the two can be compared."""
    rnn = [ProbeRecord(10 * i, np.geomspace(1e-18, 1, 6), 1.0, 1.0) for i in range(3)]
    rnn[0].grad_norm[0] = 0.0
    lstm = [ProbeRecord(10 * i, np.geomspace(1e-7, 1, 6), 1.0, 1.0) for i in range(3)]
    for records in (rnn, lstm):
        (heat,) = charts.grad_history_heatmap(records).data
        assert (heat.zmin, heat.zmax) == GRAD_LOG_RANGE
    (heat,) = charts.grad_history_heatmap(rnn).data
    assert heat.z[0, 0] == GRAD_LOG_RANGE[0]  # underflow: the bottom colour
    np.testing.assert_allclose(heat.z[1], np.log10(rnn[1].grad_norm), rtol=1e-5)


def test_grad_history_heatmap_pads_ragged_records():
    records = [
        ProbeRecord(
            step=10 * i, grad_norm=np.geomspace(1e-6, 1, 5 + i), spectral_radius=1.0, loss=1
        )
        for i in range(4)
    ]
    fig = charts.grad_history_heatmap(records)
    (heat,) = fig.data
    assert heat.z.shape == (4, 8)
    np.testing.assert_array_equal(heat.y, [0, 10, 20, 30])
    np.testing.assert_allclose(heat.z[3], np.log10(records[3].grad_norm), rtol=1e-5)
    assert np.isnan(heat.z[0, 5:]).all()  # shorter records are padded with gaps
    assert_clean(fig)
    empty = charts.grad_history_heatmap([])
    assert len(empty.data) == 0 and empty.layout.annotations
