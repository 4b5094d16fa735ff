"""The probe: one instrumented pass over a batch that records what the fused RNN call hides.

It runs the model's own fused module, replays the last layer's gates from the hidden states it
returned (PyTorch's gate order: LSTM i, f, g, o; GRU r, z, n), and takes the exact total derivative
of the batch loss with respect to every last-layer h_t (and c_t) by the chain rule run backwards in
time (`core.cells`: each cell's `replay` and `backprop`). `unroll`, the step-by-step pass with each
cell's `step`, is the reference both are tested against, with torch.nn's modules and autograd as
oracles. The probe never changes weights, gradients, the optimizer or any RNG: it runs in eval mode
(no dropout) and uses `torch.autograd.grad`, which leaves `.grad` alone.
Shapes: N = batch, L = length, H = hidden size, O = output size.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch.func import jacrev, vmap
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from core.cells import Replay
from core.model import SequenceModel
from core.tasks import Batch, Task

# Jacobians cost N * L * (state size)^2 floats; above this many, `jacobian_norm` is skipped.
JACOBIAN_BUDGET = 8_000_000
JACOBIAN_EXAMPLES = 4


@dataclass
class Probe:
    """What one instrumented pass saw. Arrays are numpy, detached, on the CPU.

    inputs (N, L, I), targets, predictions (N, L, O) raw model outputs (logits for classification),
    mask (N, L) bool, lengths (N,) int.
    hidden (N, L, H): last layer's h_t; NaN past a sequence's end.
    cell (N, L, H) or None: LSTM cell state c_t of the last layer.
    gates: name -> (N, L, H) gate activations of the last layer (empty for vanilla RNN).
    grad_norm (L,): mean over the sequences that reach step t of ||dLoss/dh_t||_2, the total
        derivative through every later step, not only the readout. NaN where no sequence reaches t.
    grad_norm_cell (L,) or None: the same for the LSTM cell state.
    jacobian_norm (L-1,) or None: mean spectral norm of the state-to-state Jacobian
        d s_{t+1} / d s_t of the last layer, over the first few sequences (s = h, or [h; c] for
        LSTM, whose product is what BPTT multiplies). None when too costly.
    grad_gain (L-1,): the realised per-step gradient gain. For each t, the geometric mean, over
        the sequences that reach step t+1 and whose two norms are positive and finite, of
        ||dLoss/dh_t||_2 / ||dLoss/dh_{t+1}||_2 (the same exact total derivatives as grad_norm, per
        sequence). Below 1 the gradient shrinks going one step back in time, above 1 it grows.
        NaN where no sequence qualifies (say, a gradient that is exactly zero). Unlike
        jacobian_norm, which bounds this factor from above, it includes the gradient that enters
        at step t through the readout and the direction the gradient actually points in.
    spectrum: block name -> complex eigenvalues (H,) of the last layer's recurrent weight block;
        empty when the probe was asked to skip them (spectrum=False: they depend on the weights
        alone, cost the same at every T, and can be refreshed less often, as the Jacobian is).
    """

    inputs: np.ndarray
    targets: np.ndarray
    predictions: np.ndarray
    mask: np.ndarray
    lengths: np.ndarray
    hidden: np.ndarray
    cell: np.ndarray | None
    gates: dict[str, np.ndarray]
    grad_norm: np.ndarray
    grad_norm_cell: np.ndarray | None
    jacobian_norm: np.ndarray | None
    grad_gain: np.ndarray
    spectrum: dict[str, np.ndarray]
    loss: float
    metric: float
    meta: dict = field(default_factory=dict)
    step: int = 0

    @property
    def spectral_radius(self) -> float:
        """Largest |eigenvalue| over the blocks; NaN without a spectrum."""
        if not self.spectrum:
            return float("nan")
        return float(max(np.abs(values).max() for values in self.spectrum.values()))


@dataclass
class Unrolled:
    """The last layer's record of a pass over a batch, batch first (N, L, .).

    outputs: h_t, zero past each sequence's end (as pad_packed_sequence gives them); hidden: h_t;
    cell: LSTM c_t or None; gates: name -> activation; layer_inputs (N, L, I_last): what the last
    layer reads at each step. `replay` (from `replay_pass` only) holds the same, time-major, with
    what `Cell.backprop` needs."""

    outputs: torch.Tensor
    hidden: torch.Tensor
    cell: torch.Tensor | None
    gates: dict[str, torch.Tensor]
    layer_inputs: torch.Tensor
    replay: Replay | None = None


WEIGHT_NAMES = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


def layer_weights(model: SequenceModel, layer: int) -> tuple[torch.Tensor, ...]:
    """(w_ih, w_hh, b_ih, b_hh) of one layer, in PyTorch's gate-block order."""
    return tuple(getattr(model.rnn, f"{name}_l{layer}") for name in WEIGHT_NAMES)


def unroll(
    model: SequenceModel, inputs: torch.Tensor, lengths: torch.Tensor | None = None
) -> Unrolled:
    """Run `model.rnn`'s weights step by step with the registry's `Cell.step` (no dropout).

    The reference the probe's fast path (`replay_pass`) is tested against; it records every step
    and is differentiable, so it is also an oracle for `Cell.backprop`."""
    batch, length, _ = inputs.shape
    cell = model.cell
    valid = _valid_steps(batch, length, lengths, inputs.device)
    layer_input = inputs
    for layer in range(model.num_layers):
        w_ih, w_hh, b_ih, b_hh = layer_weights(model, layer)
        projected = F.linear(layer_input, w_ih, b_ih).unbind(1)  # every step's W_ih x at once
        h = inputs.new_zeros(batch, model.hidden_size)
        c = torch.zeros_like(h) if cell.has_cell_state else None
        hs, cs, gates = [], [], []
        for t in range(length):
            h, c, step_gates = cell.step(projected[t], F.linear(h, w_hh, b_hh), h, c)
            hs.append(h)
            cs.append(c)
            gates.append(step_gates)
        hidden = torch.stack(hs, dim=1)
        outputs = hidden * valid.unsqueeze(-1)
        if layer < model.num_layers - 1:
            layer_input = outputs
    return Unrolled(
        outputs=outputs,
        hidden=hidden,
        cell=torch.stack(cs, dim=1) if cell.has_cell_state else None,
        gates={name: torch.stack([g[name] for g in gates], dim=1) for name in gates[0]},
        layer_inputs=layer_input,
    )


@torch.no_grad()
def replay_pass(
    model: SequenceModel, inputs: torch.Tensor, lengths: torch.Tensor | None = None
) -> Unrolled:
    """The probe's forward: the fused module's own pass (oneDNN / cuDNN), then the last layer's
    gates (and LSTM cell states) for every step at once from the h_{t-1} it returned. Equal to
    `unroll` (atol 1e-5), at a fraction of its cost. No dropout, no autograd graph."""
    layers = model.num_layers
    below = inputs if layers == 1 else _fused(model, inputs, lengths, range(layers - 1))
    outputs = _fused(model, below, lengths, range(layers - 1, layers))
    w_ih, w_hh, b_ih, b_hh = (w.detach() for w in layer_weights(model, layers - 1))
    hidden = outputs.transpose(0, 1).contiguous()  # time-major (L, N, H)
    h_prev = torch.cat([torch.zeros_like(hidden[:1]), hidden[:-1]])
    x_proj = F.linear(below.transpose(0, 1), w_ih, b_ih)
    replay = model.cell.replay(x_proj, F.linear(h_prev, w_hh, b_hh), h_prev, hidden)
    return Unrolled(
        outputs=outputs,
        hidden=outputs,
        cell=None if replay.cell is None else replay.cell.transpose(0, 1),
        gates={name: value.transpose(0, 1) for name, value in replay.gates.items()},
        layer_inputs=below,
        replay=replay,
    )


def _fused(
    model: SequenceModel, x: torch.Tensor, lengths: torch.Tensor | None, layers: range
) -> torch.Tensor:
    """(N, L, H) outputs of `layers` of model.rnn run as one fused call (packed with `lengths`:
    zero past each end). A subset of the layers runs in a weightless copy of the module on the meta
    device, handed the real weights by `functional_call` (nothing is copied or initialised)."""
    sequence = x
    if lengths is not None:
        sequence = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
    if len(layers) == model.rnn.num_layers:
        out = model.rnn(sequence)[0]
    else:
        out = _layer_subset(model, x.shape[-1], layers, sequence)
    if lengths is None:
        return out
    return pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])[0]


def _layer_subset(model: SequenceModel, input_size: int, layers: range, sequence):
    rnn, cell = model.rnn, model.cell
    kwargs = {"nonlinearity": cell.nonlinearity} if cell.nonlinearity else {}
    with torch.device("meta"):
        skeleton = cell.module(input_size, rnn.hidden_size, len(layers), batch_first=True, **kwargs)
    weights = {
        f"{name}_l{k}": getattr(rnn, f"{name}_l{layer}")
        for k, layer in enumerate(layers)
        for name in WEIGHT_NAMES
    }
    # args as a 1-tuple: a PackedSequence is a tuple itself and would be unpacked
    return torch.func.functional_call(skeleton, weights, (sequence,))[0]


def _valid_steps(batch: int, length: int, lengths: torch.Tensor | None, device) -> torch.Tensor:
    """(N, L) float: 1 on real steps, 0 on padding."""
    if lengths is None:
        return torch.ones(batch, length, device=device)
    steps = torch.arange(length, device=device)
    return (steps.unsqueeze(0) < lengths.to(device).unsqueeze(1)).float()


def probe(
    model: SequenceModel,
    batch: Batch,
    task: Task,
    jacobian: bool = True,
    step: int = 0,
    spectrum: bool = True,
) -> Probe:
    """One instrumented pass of `model` over `batch`; see `Probe` for what each field means.

    The forward is `replay_pass` (fused module plus replayed gates); the readout runs at every step,
    because the charts draw every prediction even when the loss reads only the last one. autograd
    gives dLoss/dh_t through the readout alone, and `Cell.backprop` adds everything that flows back
    through later steps, in one reverse sweep over time."""
    was_training = model.training
    model.eval()
    try:
        run = replay_pass(model, batch.inputs, batch.lengths)
        outputs = run.outputs.detach().requires_grad_()
        with torch.enable_grad():
            predictions = model.readout(outputs)
            loss = task.loss(predictions, batch)
            (direct,) = torch.autograd.grad(loss, outputs)
        with torch.no_grad():
            w_hh = getattr(model.rnn, f"weight_hh_l{model.num_layers - 1}").detach()
            direct = direct.transpose(0, 1).contiguous()
            grad_h, grad_c = model.cell.backprop(run.replay, direct, w_hh)
        parts = (predictions, loss, grad_h, grad_c)
        return _assemble(model, batch, task, run, parts, jacobian, spectrum, step)
    finally:
        model.train(was_training)


def _assemble(model, batch, task, run, parts, jacobian, spectrum, step) -> Probe:
    """The Probe's numpy fields from the pass, its predictions and loss, and the time-major
    gradients (L, N, H)."""
    predictions, loss, grad_h, grad_c = parts
    length = batch.inputs.shape[1]
    lengths = np.full(batch.size, length) if batch.lengths is None else _np(batch.lengths)
    valid = np.arange(length) < lengths[:, None]  # (N, L) the real steps
    norms = _np(grad_h.norm(dim=-1).T).astype(np.float64)  # (N, L) per-sequence ||dLoss/dh_t||
    return Probe(
        inputs=_np(batch.inputs),
        targets=_np(batch.targets),
        predictions=_np(predictions),
        mask=_np(batch.mask),
        lengths=lengths,
        hidden=_np_masked(run.hidden, valid),
        cell=_np_masked(run.cell, valid) if run.cell is not None else None,
        gates={name: _np_masked(value, valid) for name, value in run.gates.items()},
        grad_norm=_mean_norm(norms, valid),
        grad_norm_cell=None if grad_c is None else _mean_norm(_np(grad_c.norm(dim=-1).T), valid),
        jacobian_norm=_jacobian_norm(model, run, batch) if jacobian else None,
        grad_gain=_grad_gain(norms, valid),
        spectrum=recurrent_spectrum(model) if spectrum else {},
        loss=float(loss.detach()),
        metric=task.metric(predictions, batch),
        meta=batch.meta,
        step=step,
    )


def _mean_norm(norms: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """(L,) mean over the sequences that reach step t of the per-sequence norms (N, L)."""
    counts = valid.sum(axis=0)
    sums = np.where(valid, norms, 0.0).sum(axis=0, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return sums / counts  # 0 / 0 -> NaN where no sequence reaches t


def _grad_gain(norms: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """(L-1,) geometric mean over sequences of ||dLoss/dh_t|| / ||dLoss/dh_{t+1}||; see Probe."""
    before, after = norms[:, :-1], norms[:, 1:]
    usable = valid[:, 1:] & (before > 0) & (after > 0) & np.isfinite(before) & np.isfinite(after)
    logs = np.log(np.where(usable, before, 1.0)) - np.log(np.where(usable, after, 1.0))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.exp(logs.sum(axis=0) / usable.sum(axis=0))  # NaN where no sequence counts


def recurrent_spectrum(model: SequenceModel) -> dict[str, np.ndarray]:
    """Eigenvalues of the last layer's recurrent weight, one set per gate block (float64, all
    blocks in one batched LAPACK call)."""
    weight_hh = getattr(model.rnn, f"weight_hh_l{model.num_layers - 1}").detach()
    hidden = model.hidden_size
    blocks = weight_hh.to("cpu", torch.float64).reshape(-1, hidden, hidden)
    values = torch.linalg.eigvals(blocks).numpy()
    return {name: values[k] for k, name in enumerate(model.cell.gate_names)}


def _jacobian_norm(model: SequenceModel, run: Unrolled, batch: Batch) -> np.ndarray | None:
    """Mean spectral norm of d s_{t+1} / d s_t (last layer) over the first few sequences."""
    examples = min(JACOBIAN_EXAMPLES, batch.size)
    length = batch.inputs.shape[1]
    is_lstm = run.cell is not None
    state_size = model.hidden_size * (2 if is_lstm else 1)
    if length < 2 or examples * length * state_size**2 > JACOBIAN_BUDGET:
        return None
    step = model.cell.step
    w_ih, w_hh, b_ih, b_hh = (w.detach() for w in layer_weights(model, model.num_layers - 1))
    hidden = model.hidden_size

    def next_state(x_t, state):
        h, c = (state[:hidden], state[hidden:]) if is_lstm else (state, None)
        h_next, c_next, _ = step(F.linear(x_t, w_ih, b_ih), F.linear(h, w_hh, b_hh), h, c)
        return torch.cat([h_next, c_next]) if is_lstm else h_next

    with torch.no_grad():
        states = run.hidden[:examples, :-1].detach()
        if is_lstm:
            states = torch.cat([states, run.cell[:examples, :-1].detach()], dim=-1)
        x_next = run.layer_inputs[:examples, 1:].detach()
    flat_x = x_next.reshape(-1, x_next.shape[-1])
    flat_states = states.reshape(-1, state_size)
    jac = vmap(jacrev(next_state, argnums=1))(flat_x, flat_states)
    norms = torch.linalg.matrix_norm(jac, ord=2).reshape(examples, length - 1)
    valid = _valid_steps(
        examples, length, None if batch.lengths is None else batch.lengths[:examples], norms.device
    )
    valid = valid[:, 1:]
    mean = (norms * valid).sum(0) / valid.sum(0).clamp(min=1)
    mean[valid.sum(0) == 0] = float("nan")
    return _np(mean).astype(np.float64)


def _np(tensor: torch.Tensor) -> np.ndarray:
    return tensor.detach().cpu().numpy()


def _np_masked(tensor: torch.Tensor, valid: np.ndarray) -> np.ndarray:
    """A float32 copy with NaN past each sequence's end (valid: (N, L) bool)."""
    array = _np(tensor).astype(np.float32, copy=True)
    if not valid.all():
        array[~valid] = np.nan
    return array
