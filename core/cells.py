"""The cell registry: the one home of what the engine and the page know about each recurrent cell.

Per cell: the torch module that holds its weights, its title, its weight blocks (the gates, in
PyTorch's order, with each activation's range), whether it carries a cell state, the parameter
count, and the three functions the probe uses:

- `step(x_proj, h_proj, h, c) -> (h_next, c_next, gates)`: one step of the cell from its two
  pre-computed projections, x_proj = W_ih x + b_ih and h_proj = W_hh h + b_hh. The same function
  unrolls a sequence step by step (`core.probes.unroll`) and defines the Jacobian d s_{t+1} / d s_t.
- `replay(x_proj, h_proj, h_prev, hidden) -> Replay`: the gates (and LSTM cell states) of every
  step at once, from h_{t-1} and h_t already known (the fused module's outputs), instead of step
  by step.
- `backprop(replay, direct, w_hh) -> (grad_h, grad_c)`: the total derivative of the loss with
  respect to every h_t (and c_t), from the derivative through the readout alone (`direct`), by
  running the recurrence's chain rule backwards in time: the same numbers autograd gives through an
  unrolled graph (tests/core/test_cells.py and test_probes.py check them against torch.nn.*Cell
  loops with autograd), without building one graph node per operation and step.

Shapes: L = length, N = batch, I = input size, H = hidden size, G = gates x H. `replay` and
`backprop` take time-major tensors (L, N, .), so each step's slice is contiguous. Unknown names raise
`ValueError` listing the options.

A cell is one declaration here: the model, the probe, the page and the exported script read these
facts. The no-memory model (`FeedForward`) is a cell too: it speaks torch.nn.RNN's interface with
zero recurrent weights, so every path that runs a cell runs it unchanged.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, fields

import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class Gate:
    """One weight block of weight_ih / weight_hh and the activation applied to it."""

    name: str
    activation: str  # "sigmoid", "tanh" or "relu"
    low: float  # the activation's range: sigmoid 0..1, tanh -1..1, relu 0..inf
    high: float


def _sigmoid(name: str) -> Gate:
    return Gate(name, "sigmoid", 0.0, 1.0)


def _tanh(name: str) -> Gate:
    return Gate(name, "tanh", -1.0, 1.0)


@dataclass
class Replay:
    """Every step of one layer at once, time-major (L, N, H) each.

    h_prev: h_{t-1} (zeros at t = 0); hidden: h_t; cell: LSTM c_t (None otherwise);
    gates: name -> activation, the names the probe records (empty for vanilla RNN);
    saved: what `backprop` needs besides these (the GRU's W_hn h + b_hn).
    """

    h_prev: torch.Tensor
    hidden: torch.Tensor
    cell: torch.Tensor | None
    gates: dict[str, torch.Tensor]
    saved: dict[str, torch.Tensor] = field(default_factory=dict)


class FeedForward(nn.Module):
    """Layers of h_t = tanh(W_ih x_t + b_ih), each step on its own: a network without memory.

    It speaks torch.nn.RNN's interface (batch-first or packed input, (output, h_n) out, parameters
    weight_ih_l{k} and bias_ih_l{k}, PyTorch's uniform init). Its weight_hh_l{k} and bias_hh_l{k}
    are zero buffers, not parameters: nothing trains or initialises them, so h_t depends on x_t
    alone and the chain rule through time multiplies by exactly zero."""

    def __init__(self, input_size, hidden_size, num_layers=1, batch_first=True, dropout=0.0):
        super().__init__()
        if not batch_first:
            raise ValueError("FeedForward reads batch-first input only")
        self.input_size, self.hidden_size = input_size, hidden_size
        self.num_layers, self.dropout, self.batch_first = num_layers, dropout, True
        bound = 1 / math.sqrt(hidden_size)
        for layer in range(num_layers):
            size = input_size if layer == 0 else hidden_size
            weight = nn.Parameter(torch.empty(hidden_size, size).uniform_(-bound, bound))
            self.register_parameter(f"weight_ih_l{layer}", weight)
            bias = nn.Parameter(torch.empty(hidden_size).uniform_(-bound, bound))
            self.register_parameter(f"bias_ih_l{layer}", bias)
            zero = torch.zeros(hidden_size, hidden_size)
            self.register_buffer(f"weight_hh_l{layer}", zero, persistent=False)
            self.register_buffer(f"bias_hh_l{layer}", torch.zeros(hidden_size), persistent=False)

    def forward(self, x):
        packed = isinstance(x, nn.utils.rnn.PackedSequence)
        out = x.data if packed else x  # packed: every real step in one (steps, I) matrix
        finals = []
        for layer in range(self.num_layers):
            if layer and self.training and self.dropout:
                out = F.dropout(out, self.dropout)  # as nn.RNN: between layers only
            weight, bias = getattr(self, f"weight_ih_l{layer}"), getattr(self, f"bias_ih_l{layer}")
            out = torch.tanh(F.linear(out, weight, bias))
            finals.append(_last_steps(out, x) if packed else out[:, -1])
        return (x._replace(data=out) if packed else out), torch.stack(finals)


def _last_steps(data, packed):
    """(N, H) rows of packed `data` at each sequence's last step, in the batch's own order."""
    sizes = packed.batch_sizes.to(data.device)
    rows = torch.arange(int(sizes[0]), device=data.device)
    lengths = (sizes.unsqueeze(0) > rows.unsqueeze(1)).sum(1)  # of the sorted sequences
    starts = torch.cumsum(sizes, 0) - sizes  # where each step's rows begin
    last = data[starts[lengths - 1] + rows]
    return last if packed.unsorted_indices is None else last[packed.unsorted_indices]


@dataclass(frozen=True)
class Cell:
    """A recurrent cell type. `gates` are the weight blocks in PyTorch's order (the vanilla RNN's
    one block is the candidate state itself, named "hidden"); `recorded_gates` are the activations
    the probe records (none for the vanilla RNN, whose only activation is h_t). `recurrent`: False
    for a model without memory (no W_hh); `raced`: the Race and the Sweep line it up by default."""

    name: str
    title: str
    module: type[nn.Module]
    nonlinearity: str | None  # passed to nn.RNN; None for LSTM and GRU
    gates: tuple[Gate, ...]
    has_cell_state: bool
    records_gates: bool
    step: Callable
    replay: Callable
    backprop: Callable
    recurrent: bool = True
    raced: bool = True
    short_title: str = ""  # what a sentence calls it ("RNN"); the title when empty

    @property
    def label(self) -> str:
        return self.short_title or self.title

    @property
    def gate_names(self) -> tuple[str, ...]:
        return tuple(gate.name for gate in self.gates)

    @property
    def gate_count(self) -> int:
        """Weight blocks per layer (stacked in one weight_ih and one weight_hh matrix)."""
        return len(self.gates)

    @property
    def gate_ranges(self) -> dict[str, tuple[float, float]]:
        return {gate.name: (gate.low, gate.high) for gate in self.gates}

    @property
    def recorded_gates(self) -> tuple[str, ...]:
        return self.gate_names if self.records_gates else ()

    @property
    def module_kwargs(self) -> dict[str, str]:
        """What the module takes besides its sizes (nn.RNN's nonlinearity)."""
        return {"nonlinearity": self.nonlinearity} if self.nonlinearity else {}

    def parameter_count(
        self, input_size: int, hidden: int, layers: int = 1, output_size: int = 1
    ) -> int:
        """Parameters of a SequenceModel with this cell, read off the module itself built on the
        meta device (no memory, no init), plus the readout."""
        with torch.device("meta"):
            module = self.module(input_size, hidden, layers, batch_first=True, **self.module_kwargs)
        return sum(p.numel() for p in module.parameters()) + hidden * output_size + output_size

    def facts(self) -> dict[str, object]:
        """The plain facts (no functions, no module): what the exported script's cell carries."""
        plain = {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if isinstance(getattr(self, f.name), str | bool | int | type(None))
        }
        return {**plain, "gate_names": self.gate_names, "gate_count": self.gate_count}


# ---- vanilla RNN -----------------------------------------------------------------------------
# h_t = f(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh), f = tanh or relu.


def _rnn_tanh_step(x_proj, h_proj, h, c):
    return torch.tanh(x_proj + h_proj), None, {}


def _rnn_relu_step(x_proj, h_proj, h, c):
    return torch.relu(x_proj + h_proj), None, {}


def _rnn_replay(x_proj, h_proj, h_prev, hidden):
    return Replay(h_prev, hidden, None, {})


def _rnn_backprop(replay: Replay, direct, w_hh, slope):
    """dL/dh_{t-1} = direct_{t-1} + (dL/dh_t * f'(a_t)) W_hh, with f' read off h_t."""
    grad_h = torch.empty_like(direct)
    carry, scaled = torch.zeros_like(direct[0]), torch.empty_like(direct[0])
    steps = zip(direct.unbind(0), slope.unbind(0), grad_h.unbind(0), strict=True)
    for direct_t, slope_t, total in reversed(list(steps)):
        torch.add(direct_t, carry, out=total)
        torch.mul(total, slope_t, out=scaled)
        torch.mm(scaled, w_hh, out=carry)
    return grad_h, None


def _rnn_tanh_backprop(replay, direct, w_hh):
    hidden = replay.hidden
    return _rnn_backprop(replay, direct, w_hh, 1 - hidden * hidden)


def _rnn_relu_backprop(replay, direct, w_hh):
    # relu'(a) = 1 where a > 0, that is where h > 0 (torch's threshold_backward uses the same)
    return _rnn_backprop(replay, direct, w_hh, (replay.hidden > 0).to(direct.dtype))


# ---- LSTM ------------------------------------------------------------------------------------
# i, f, g, o = sigmoid, sigmoid, tanh, sigmoid of (W_ih x + b_ih + W_hh h + b_hh) blocks;
# c_t = f c_{t-1} + i g; h_t = o tanh(c_t).


def _lstm_gates(x_proj, h_proj):
    i, f, g, o = (x_proj + h_proj).chunk(4, dim=-1)
    return torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)


def _lstm_step(x_proj, h_proj, h, c):
    i, f, g, o = _lstm_gates(x_proj, h_proj)
    c_next = torch.addcmul(f * c, i, g)
    h_next = o * torch.tanh(c_next)
    return h_next, c_next, {"input": i, "forget": f, "cell_candidate": g, "output": o}


def _lstm_replay(x_proj, h_proj, h_prev, hidden):
    i, f, g, o = _lstm_gates(x_proj, h_proj)
    # c_t = f_t c_{t-1} + i_t g_t: a linear recurrence, one fused op per step (no graph).
    cell = i * g  # i_t g_t, then c_t in place, step by step
    c = torch.zeros_like(hidden[0])
    for f_t, c_t in zip(f.unbind(0), cell.unbind(0), strict=True):
        c = c_t.addcmul_(f_t, c)
    gates = {"input": i, "forget": f, "cell_candidate": g, "output": o}
    return Replay(h_prev, hidden, cell, gates)


def _lstm_backprop(replay: Replay, direct, w_hh):
    """Reverse-time chain rule of h_t = o tanh(c_t), c_t = f c_{t-1} + i g.

    dL/dc_t = dL/dh_t o (1 - tanh^2 c_t) + dL/dc_{t+1} f_{t+1}; the pre-activation gradients are
    dL/dc_t times (g i(1-i), c_{t-1} f(1-f), i (1-g^2)) for i, f, g and dL/dh_t tanh(c_t) o(1-o)
    for o; dL/dh_{t-1} = direct_{t-1} + (those four blocks) W_hh."""
    gates, cell = replay.gates, replay.cell
    i, f, g, o = gates["input"], gates["forget"], gates["cell_candidate"], gates["output"]
    length, batch, hidden = cell.shape
    tanh_c = torch.tanh(cell)
    to_cell = o * (1 - tanh_c * tanh_c)
    to_output = tanh_c * o * (1 - o)
    to_written = cell.new_empty(length, batch, 3, hidden)
    torch.mul(g, i * (1 - i), out=to_written[:, :, 0])
    torch.mul(cell[:-1], f[1:] * (1 - f[1:]), out=to_written[1:, :, 1])  # c_{t-1} f(1-f)
    to_written[0, :, 1] = 0.0  # c_{-1} = 0
    torch.mul(i, 1 - g * g, out=to_written[:, :, 2])
    grad_h, grad_c = torch.empty_like(direct), torch.empty_like(direct)
    blocks = direct.new_empty(batch, 4, hidden)
    written_blocks, output_block, flat = blocks[:, :3], blocks[:, 3], blocks.view(batch, -1)
    carry_h, carry_c = torch.zeros_like(direct[0]), torch.zeros_like(direct[0])
    steps = zip(
        *(x.unbind(0) for x in (direct, to_cell, to_written, to_output, f, grad_h, grad_c)),
        strict=True,
    )
    for direct_t, to_cell_t, to_written_t, to_output_t, f_t, total_h, total_c in reversed(
        list(steps)
    ):
        torch.add(direct_t, carry_h, out=total_h)
        torch.addcmul(carry_c, total_h, to_cell_t, out=total_c)
        torch.mul(to_written_t, total_c.unsqueeze(1), out=written_blocks)
        torch.mul(to_output_t, total_h, out=output_block)
        torch.mm(flat, w_hh, out=carry_h)
        torch.mul(total_c, f_t, out=carry_c)
    return grad_h, grad_c


# ---- GRU -------------------------------------------------------------------------------------
# r, z = sigmoid(W_i{r,z} x + b_i{r,z} + W_h{r,z} h + b_h{r,z});
# n = tanh(W_in x + b_in + r (W_hn h + b_hn)); h_t = (1 - z) n + z h_{t-1}.


def _gru_parts(x_proj, h_proj):
    x_r, x_z, x_n = x_proj.chunk(3, dim=-1)
    h_r, h_z, h_n = h_proj.chunk(3, dim=-1)
    r = torch.sigmoid(x_r + h_r)
    z = torch.sigmoid(x_z + h_z)
    n = torch.tanh(torch.addcmul(x_n, r, h_n))
    return r, z, n, h_n


def _gru_step(x_proj, h_proj, h, c):
    r, z, n, _ = _gru_parts(x_proj, h_proj)
    # n + z (h - n) is (1 - z) n + z h in the form PyTorch's own GRU kernels use
    h_next = torch.addcmul(n, z, h - n)
    return h_next, None, {"reset": r, "update": z, "candidate": n}


def _gru_replay(x_proj, h_proj, h_prev, hidden):
    r, z, n, h_n = _gru_parts(x_proj, h_proj)
    gates = {"reset": r, "update": z, "candidate": n}
    return Replay(h_prev, hidden, None, gates, {"recurrent_candidate": h_n})


def _gru_backprop(replay: Replay, direct, w_hh):
    """Reverse-time chain rule of h_t = n + z (h_{t-1} - n).

    With d = dL/dh_t: the gradient of W_hh h + b_hh is d times (n' hn r(1-r), (h_{t-1} - n)
    z(1-z), n' r) for the r, z, n blocks, where n' = (1 - z)(1 - n^2) and hn = W_hn h + b_hn;
    dL/dh_{t-1} = direct_{t-1} + d z + (those three blocks) W_hh."""
    gates = replay.gates
    r, z, n = gates["reset"], gates["update"], gates["candidate"]
    length, batch, hidden = n.shape
    to_candidate = (1 - z) * (1 - n * n)
    to_blocks = torch.stack(
        [
            to_candidate * replay.saved["recurrent_candidate"] * r * (1 - r),
            (replay.h_prev - n) * z * (1 - z),
            to_candidate * r,
        ],
        dim=2,
    )
    grad_h = torch.empty_like(direct)
    blocks = direct.new_empty(batch, 3, hidden)
    flat, kept = blocks.view(batch, -1), torch.empty_like(direct[0])
    carry = torch.zeros_like(direct[0])
    steps = zip(*(x.unbind(0) for x in (direct, to_blocks, z, grad_h)), strict=True)
    for direct_t, to_blocks_t, z_t, total in reversed(list(steps)):
        torch.add(direct_t, carry, out=total)
        torch.mul(to_blocks_t, total.unsqueeze(1), out=blocks)
        torch.mul(total, z_t, out=kept)
        torch.addmm(kept, flat, w_hh, out=carry)
    return grad_h, None


# ---- no memory -------------------------------------------------------------------------------
# h_t = tanh(W_ih x_t + b_ih): h_{t-1} is never read, so dL/dh_t is the readout's part alone.


def _feedforward_step(x_proj, h_proj, h, c):
    return torch.tanh(x_proj), None, {}


def _feedforward_backprop(replay: Replay, direct, w_hh):
    """Nothing flows back through time: dL/dh_t = direct_t, exactly."""
    return direct.clone(), None


CELLS: dict[str, Cell] = {
    cell.name: cell
    for cell in [
        Cell(
            name="rnn",
            title="Vanilla RNN (tanh)",
            short_title="RNN",
            module=nn.RNN,
            nonlinearity="tanh",
            gates=(_tanh("hidden"),),
            has_cell_state=False,
            records_gates=False,
            step=_rnn_tanh_step,
            replay=_rnn_replay,
            backprop=_rnn_tanh_backprop,
        ),
        Cell(
            name="rnn_relu",
            title="Vanilla RNN (ReLU)",
            short_title="RNN (ReLU)",
            module=nn.RNN,
            nonlinearity="relu",
            gates=(Gate("hidden", "relu", 0.0, math.inf),),
            has_cell_state=False,
            records_gates=False,
            step=_rnn_relu_step,
            replay=_rnn_replay,
            backprop=_rnn_relu_backprop,
            raced=False,
        ),
        Cell(
            name="lstm",
            title="LSTM",
            module=nn.LSTM,
            nonlinearity=None,
            gates=(
                _sigmoid("input"),
                _sigmoid("forget"),
                _tanh("cell_candidate"),
                _sigmoid("output"),
            ),
            has_cell_state=True,
            records_gates=True,
            step=_lstm_step,
            replay=_lstm_replay,
            backprop=_lstm_backprop,
        ),
        Cell(
            name="gru",
            title="GRU",
            module=nn.GRU,
            nonlinearity=None,
            gates=(_sigmoid("reset"), _sigmoid("update"), _tanh("candidate")),
            has_cell_state=False,
            records_gates=True,
            step=_gru_step,
            replay=_gru_replay,
            backprop=_gru_backprop,
        ),
        Cell(
            name="feedforward",
            title="No memory (feed-forward)",
            short_title="No memory",
            module=FeedForward,
            nonlinearity=None,
            gates=(_tanh("hidden"),),
            has_cell_state=False,
            records_gates=False,
            step=_feedforward_step,
            replay=_rnn_replay,
            backprop=_feedforward_backprop,
            recurrent=False,
        ),
    ]
}
CELL_NAMES: tuple[str, ...] = tuple(CELLS)
# The cells the Race and the Sweep set side by side (`raced`; the registry may hold variants).
CLASSIC_CELLS: tuple[str, ...] = tuple(name for name, cell in CELLS.items() if cell.raced)
# Cells with a hidden state carried from step to step: an encoder-decoder needs one.
RECURRENT_CELLS: tuple[str, ...] = tuple(name for name, cell in CELLS.items() if cell.recurrent)


def get_cell(name: str) -> Cell:
    """The registry entry for `name`; raises ValueError listing the options."""
    if name not in CELLS:
        raise ValueError(f"unknown cell {name!r}; choose one of: {', '.join(CELLS)}")
    return CELLS[name]
