"""The cell registry against PyTorch itself: module parameters, torch.nn.*Cell steps, autograd."""

import math

import pytest
import torch
from torch import nn

from core import CELLS as EXPORTED_CELLS
from core.cells import CELL_NAMES, CELLS, get_cell
from core.model import SequenceModel
from tests.core.oracles import FeedForwardCell

TORCH_CELLS = {
    "rnn": nn.RNNCell,
    "rnn_relu": nn.RNNCell,
    "lstm": nn.LSTMCell,
    "gru": nn.GRUCell,
    "feedforward": FeedForwardCell,
}


def test_unknown_cell_lists_the_options():
    with pytest.raises(
        ValueError,
        match="unknown cell 'lstn'; choose one of: rnn, rnn_relu, lstm, gru, feedforward",
    ):
        get_cell("lstn")


def test_one_registry_everywhere():
    from core.config import FIELDS
    from core.model import CELLS as MODEL_CELLS

    assert CELL_NAMES == ("rnn", "rnn_relu", "lstm", "gru", "feedforward")
    assert FIELDS["cell"].options == CELL_NAMES
    assert EXPORTED_CELLS is CELLS is MODEL_CELLS


@pytest.mark.parametrize("name", CELL_NAMES)
@pytest.mark.parametrize(
    "input_size, hidden, layers, output_size",
    [(1, 1, 1, 1), (2, 64, 1, 1), (24, 32, 2, 10), (67, 128, 3, 67), (3, 7, 2, 2)],
)
def test_parameter_count_equals_the_real_module(name, input_size, hidden, layers, output_size):
    model = SequenceModel(name, input_size, hidden, output_size, num_layers=layers)
    real = sum(p.numel() for p in model.parameters())
    assert get_cell(name).parameter_count(input_size, hidden, layers, output_size) == real


@pytest.mark.parametrize("name", CELL_NAMES)
def test_gate_count_is_the_number_of_weight_blocks(name):
    cell = get_cell(name)
    model = SequenceModel(name, 3, 5, 1)
    assert model.rnn.weight_hh_l0.shape == (cell.gate_count * 5, 5)
    assert cell.gate_count == len(cell.gate_names) == len(cell.gate_ranges)
    assert cell.has_cell_state == (name == "lstm")
    assert cell.recorded_gates == (
        () if name in ("rnn", "rnn_relu", "feedforward") else cell.gate_names
    )
    assert cell.title and isinstance(model.rnn, cell.module)


def test_gate_names_and_ranges():
    assert get_cell("lstm").gate_names == ("input", "forget", "cell_candidate", "output")
    assert get_cell("gru").gate_names == ("reset", "update", "candidate")
    for cell in CELLS.values():
        for gate in cell.gates:
            expected = {"sigmoid": (0, 1), "tanh": (-1, 1), "relu": (0, math.inf)}[gate.activation]
            assert (gate.low, gate.high) == expected, (cell.name, gate.name)


def torch_cell_and_weights(name, input_size=3, hidden=6, seed=0):
    torch.manual_seed(seed)
    kwargs = {"nonlinearity": get_cell(name).nonlinearity} if name.startswith("rnn") else {}
    oracle = TORCH_CELLS[name](input_size, hidden, **kwargs)
    with torch.no_grad():
        for weight in oracle.parameters():
            weight.mul_(3.0)  # large enough that every activation leaves its linear range
    return oracle, (oracle.weight_ih, oracle.weight_hh, oracle.bias_ih, oracle.bias_hh)


@pytest.mark.parametrize("name", CELL_NAMES)
def test_step_equals_torch_cell_and_gates_stay_in_their_ranges(name):
    cell = get_cell(name)
    oracle, (w_ih, w_hh, b_ih, b_hh) = torch_cell_and_weights(name)
    x, h, c = torch.randn(50, 3), torch.randn(50, 6), torch.randn(50, 6)
    h_next, c_next, gates = cell.step(
        nn.functional.linear(x, w_ih, b_ih), nn.functional.linear(h, w_hh, b_hh), h, c
    )
    if cell.has_cell_state:
        want_h, want_c = oracle(x, (h, c))
        torch.testing.assert_close(c_next, want_c, atol=1e-5, rtol=0)
    else:
        want_h = oracle(x, h)
        assert c_next is None
    torch.testing.assert_close(h_next, want_h, atol=1e-5, rtol=0)
    assert tuple(gates) == cell.recorded_gates
    for name_, (low, high) in cell.gate_ranges.items():
        values = gates.get(name_, h_next if name_ == "hidden" else None)
        assert low <= values.min() and values.max() <= high, name_


def oracle_run(name, inputs, lengths):
    """h_t (and c_t) of a torch.nn.*Cell loop, each with retain_grad; lengths are honoured the way
    pack_padded_sequence does (the state freezes at each end, outputs after it are zero)."""
    oracle, weights = torch_cell_and_weights(name, inputs.shape[-1])
    steps, batch = inputs.shape[:2]
    h = torch.zeros(batch, 6)
    c = torch.zeros_like(h)
    hs, cs = [], []
    for t in range(steps):
        alive = (t < lengths).unsqueeze(1)
        if name == "lstm":
            h_new, c_new = oracle(inputs[t], (h, c))
            c_new.retain_grad()  # the c that h_t is computed from: dL/dc_t through h_t too
            cs.append(c_new)
            c = torch.where(alive, c_new, torch.zeros_like(c))
        else:
            h_new = oracle(inputs[t], h)
        h = torch.where(alive, h_new, torch.zeros_like(h))
        h.retain_grad()
        hs.append(h)
    return weights, torch.stack(hs), hs, cs


@pytest.mark.parametrize("name", CELL_NAMES)
def test_replay_and_backprop_equal_autograd_through_a_torch_cell_loop(name):
    cell = get_cell(name)
    steps, batch = 9, 5
    inputs = torch.randn(steps, batch, 3)
    lengths = torch.tensor([9, 4, 7, 1, 9])
    (w_ih, w_hh, b_ih, b_hh), hidden, hs, cs = oracle_run(name, inputs, lengths)
    # Any direct gradient through the readout: a random one, zero past each end as a mask makes it.
    direct = torch.randn(steps, batch, 6) * (torch.arange(steps)[:, None] < lengths).unsqueeze(-1)
    (hidden * direct).sum().backward()
    with torch.no_grad():
        h_prev = torch.cat([torch.zeros_like(hidden[:1]), hidden[:-1]])
        replay = cell.replay(
            nn.functional.linear(inputs, w_ih, b_ih),
            nn.functional.linear(h_prev, w_hh, b_hh),
            h_prev,
            hidden.detach(),
        )
        grad_h, grad_c = cell.backprop(replay, direct, w_hh.detach())
    alive = (torch.arange(steps)[:, None] < lengths).unsqueeze(-1)
    want_h = torch.stack([h.grad for h in hs]) * alive
    torch.testing.assert_close(grad_h * alive, want_h, atol=1e-6, rtol=1e-5)
    if name == "lstm":
        want_c = torch.stack([c.grad for c in cs]) * alive
        torch.testing.assert_close(grad_c * alive, want_c, atol=1e-6, rtol=1e-5)
        cell_states = torch.stack([c.detach() for c in cs])
        torch.testing.assert_close(replay.cell * alive, cell_states * alive, atol=1e-5, rtol=0)
    else:
        assert grad_c is None and replay.cell is None
