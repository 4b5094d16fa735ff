"""The probe: one instrumented pass over a batch that records what the fused RNN call hides.

It unrolls the model's own weights step by step (PyTorch's gate order: LSTM i, f, g, o; GRU r, z, n)
so it can record hidden states, cell states and gates, and take the exact total derivative of the
batch loss with respect to every last-layer h_t. It never changes weights, gradients, the optimizer
or any RNG: it runs in eval mode (no dropout) and uses `torch.autograd.grad`, which leaves `.grad`
alone. Shapes: N = batch, L = length, H = hidden size, O = output size.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from torch.func import jacrev, vmap

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
    spectrum: block name -> complex eigenvalues (H,) of the last layer's recurrent weight block.
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
    spectrum: dict[str, np.ndarray]
    loss: float
    metric: float
    meta: dict = field(default_factory=dict)
    step: int = 0

    @property
    def spectral_radius(self) -> float:
        return float(max(np.abs(values).max() for values in self.spectrum.values()))


@dataclass
class Unrolled:
    """Result of `unroll`: outputs of the last layer and what was recorded on the way."""

    outputs: torch.Tensor  # (N, L, H), zero past each sequence's end (as pad_packed_sequence)
    hidden: torch.Tensor  # (N, L, H)
    cell: torch.Tensor | None
    gates: dict[str, torch.Tensor]
    # The last layer's h_t (and c_t) tensors themselves: autograd.grad with respect to an
    # intermediate tensor is the total derivative through every later use (next step and readout),
    # exactly what adding a zero eps_t and differentiating by it gave, without 2 extra ops per step.
    hidden_steps: list[torch.Tensor]
    cell_steps: list[torch.Tensor]
    layer_inputs: torch.Tensor  # (N, L, I_last): what the last layer reads at each step


def layer_weights(model: SequenceModel, layer: int) -> tuple[torch.Tensor, ...]:
    rnn = model.rnn
    return tuple(
        getattr(rnn, f"{name}_l{layer}")
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
    )


def cell_step(cell: str, weights, x_t, h, c=None, x_proj=None):
    """One step of `cell` from explicit weights. Returns (h_next, c_next, gates dict).

    `x_proj`, when given, is x_t @ w_ih.T + b_ih already computed (the unrolled pass does it for
    all steps at once, one matrix product instead of one per step)."""
    w_ih, w_hh, b_ih, b_hh = weights
    if x_proj is None:
        x_proj = x_t @ w_ih.T + b_ih
    if cell in ("rnn", "rnn_relu"):
        pre = x_proj + h @ w_hh.T + b_hh
        h_next = torch.tanh(pre) if cell == "rnn" else torch.relu(pre)
        return h_next, None, {}
    if cell == "lstm":
        pre = x_proj + h @ w_hh.T + b_hh
        i, f, g, o = pre.chunk(4, dim=-1)
        i, f, g, o = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)
        c_next = f * c + i * g
        h_next = o * torch.tanh(c_next)
        return h_next, c_next, {"input": i, "forget": f, "cell_candidate": g, "output": o}
    if cell == "gru":
        gi = x_proj
        gh = h @ w_hh.T + b_hh
        i_r, i_z, i_n = gi.chunk(3, dim=-1)
        h_r, h_z, h_n = gh.chunk(3, dim=-1)
        r = torch.sigmoid(i_r + h_r)
        z = torch.sigmoid(i_z + h_z)
        n = torch.tanh(i_n + r * h_n)
        h_next = (1 - z) * n + z * h
        return h_next, None, {"reset": r, "update": z, "candidate": n}
    raise ValueError(f"unknown cell {cell!r}; choose one of: rnn, rnn_relu, lstm, gru")


def unroll(
    model: SequenceModel, inputs: torch.Tensor, lengths: torch.Tensor | None = None
) -> Unrolled:
    """Run `model.rnn`'s weights step by step (no dropout), keeping every last-layer state tensor
    so gradients with respect to every h_t (and c_t) can be read off exactly."""
    batch, length, _ = inputs.shape
    cell = model.cell.name
    hidden_size = model.hidden_size
    valid = _valid_steps(batch, length, lengths, inputs.device)
    layer_input = inputs
    for layer in range(model.num_layers):
        last = layer == model.num_layers - 1
        weights = layer_weights(model, layer)
        projected = torch.nn.functional.linear(
            layer_input, weights[0], weights[2]
        )  # all steps at once
        h = inputs.new_zeros(batch, hidden_size)
        c = inputs.new_zeros(batch, hidden_size) if cell == "lstm" else None
        hs, cs = [], []
        gates: dict[str, list[torch.Tensor]] = {}
        for t in range(length):
            h, c, step_gates = cell_step(cell, weights, None, h, c, x_proj=projected[:, t])
            if last:
                for name, value in step_gates.items():
                    gates.setdefault(name, []).append(value)
            hs.append(h)
            cs.append(c)
        hidden = torch.stack(hs, dim=1)
        outputs = hidden * valid.unsqueeze(-1)
        if not last:
            layer_input = outputs
    return Unrolled(
        outputs=outputs,
        hidden=hidden,
        cell=torch.stack(cs, dim=1) if cell == "lstm" else None,
        gates={name: torch.stack(values, dim=1) for name, values in gates.items()},
        hidden_steps=hs,
        cell_steps=cs if cell == "lstm" else [],
        layer_inputs=layer_input,
    )


def _valid_steps(batch: int, length: int, lengths: torch.Tensor | None, device) -> torch.Tensor:
    """(N, L) float: 1 on real steps, 0 on padding."""
    if lengths is None:
        return torch.ones(batch, length, device=device)
    steps = torch.arange(length, device=device)
    return (steps.unsqueeze(0) < lengths.to(device).unsqueeze(1)).float()


def probe(
    model: SequenceModel, batch: Batch, task: Task, jacobian: bool = True, step: int = 0
) -> Probe:
    """One instrumented pass of `model` over `batch`; see `Probe` for what each field means."""
    was_training = model.training
    model.eval()
    try:
        with torch.enable_grad():
            run = unroll(model, batch.inputs, batch.lengths)
            predictions = model.readout(run.outputs)
            loss = task.loss(predictions, batch)
            grads = torch.autograd.grad(loss, run.hidden_steps + run.cell_steps, allow_unused=True)
        valid = _valid_steps(batch.size, batch.inputs.shape[1], batch.lengths, batch.inputs.device)
        length = batch.inputs.shape[1]
        grad_norm = _mean_norm(grads[:length], valid)
        grad_norm_cell = _mean_norm(grads[length:], valid) if run.cell_steps else None
        jacobian_norm = _jacobian_norm(model, run, batch) if jacobian else None
        return Probe(
            inputs=_np(batch.inputs),
            targets=_np(batch.targets),
            predictions=_np(predictions),
            mask=_np(batch.mask),
            lengths=_np(batch.lengths)
            if batch.lengths is not None
            else np.full(batch.size, length),
            hidden=_np_masked(run.hidden, valid),
            cell=_np_masked(run.cell, valid) if run.cell is not None else None,
            gates={name: _np_masked(value, valid) for name, value in run.gates.items()},
            grad_norm=grad_norm,
            grad_norm_cell=grad_norm_cell,
            jacobian_norm=jacobian_norm,
            spectrum=recurrent_spectrum(model),
            loss=float(loss.detach()),
            metric=task.metric(predictions, batch),
            meta=batch.meta,
            step=step,
        )
    finally:
        model.train(was_training)


def _mean_norm(grads, valid: torch.Tensor) -> np.ndarray:
    """(L,) mean over the sequences that reach step t of the per-sequence gradient norm."""
    if any(g is None for g in grads):
        norms = torch.stack(
            [
                torch.zeros(valid.shape[0], device=valid.device) if g is None else g.norm(dim=-1)
                for g in grads
            ],
            dim=1,
        )
    else:
        norms = torch.stack(grads, dim=1).norm(dim=-1)  # one call instead of one per step
    counts = valid.sum(dim=0)
    mean = (norms * valid).sum(dim=0) / counts.clamp(min=1)
    mean[counts == 0] = float("nan")
    return _np(mean).astype(np.float64)


def recurrent_spectrum(model: SequenceModel) -> dict[str, np.ndarray]:
    """Eigenvalues of the last layer's recurrent weight, one set per gate block."""
    weight_hh = _np(getattr(model.rnn, f"weight_hh_l{model.num_layers - 1}")).astype(np.float64)
    hidden = model.hidden_size
    names = model.cell.gate_names
    return {
        name: np.linalg.eigvals(weight_hh[k * hidden : (k + 1) * hidden])
        for k, name in enumerate(names)
    }


def _jacobian_norm(model: SequenceModel, run: Unrolled, batch: Batch) -> np.ndarray | None:
    """Mean spectral norm of d s_{t+1} / d s_t (last layer) over the first few sequences."""
    examples = min(JACOBIAN_EXAMPLES, batch.size)
    length = batch.inputs.shape[1]
    is_lstm = run.cell is not None
    state_size = model.hidden_size * (2 if is_lstm else 1)
    if length < 2 or examples * length * state_size**2 > JACOBIAN_BUDGET:
        return None
    cell = model.cell.name
    weights = tuple(w.detach() for w in layer_weights(model, model.num_layers - 1))
    hidden = model.hidden_size

    def next_state(x_t, state):
        h, c = (state[:hidden], state[hidden:]) if is_lstm else (state, None)
        h_next, c_next, _ = cell_step(cell, weights, x_t, h, c)
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


def _np_masked(tensor: torch.Tensor, valid: torch.Tensor) -> np.ndarray:
    array = _np(tensor).astype(np.float32, copy=True)
    array[_np(valid) == 0] = np.nan
    return array
