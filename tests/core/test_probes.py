"""The probe against independent oracles: torch.nn's fused modules, torch.nn.*Cell loops with
retain_grad, and torch.autograd.functional.jacobian."""

import numpy as np
import pytest
import torch
from torch import nn

from core.cells import CELLS as REGISTRY
from core.config import ExperimentConfig
from core.model import build_model
from core.probes import JACOBIAN_EXAMPLES, probe, replay_pass, unroll
from core.tasks import make_task
from tests.core.oracles import FeedForwardCell, FeedForwardLayers

CELLS = list(REGISTRY)  # a new cell in core/cells.py is checked here as soon as it is added
RECURRENT = [name for name in CELLS if REGISTRY[name].recurrent]  # those with a gradient to gain
CELL_MODULES = {
    "rnn": nn.RNNCell,
    "rnn_relu": nn.RNNCell,
    "lstm": nn.LSTMCell,
    "gru": nn.GRUCell,
    "feedforward": FeedForwardCell,
}


def test_every_registered_cell_has_a_torch_oracle():
    assert set(CELLS) == set(CELL_MODULES), "give the new cell its torch.nn.*Cell oracle here"


def make(cell, layers=1, hidden=12, seq_len=15, seed=0, **extra):
    config = ExperimentConfig(
        cell=cell, task="adding", layers=layers, hidden=hidden, seq_len=seq_len, seed=seed, **extra
    )
    task = make_task(config)
    torch.manual_seed(seed)
    model = build_model(config, task.input_size, task.output_size)
    batch = task.sample(6, np.random.default_rng(seed))
    return model, task, batch


def random_lengths(batch, seed=0):
    rng = np.random.default_rng(seed)
    full = batch.inputs.shape[1]
    lengths = rng.integers(2, full + 1, batch.size)
    lengths[0] = full  # pad_packed_sequence needs one sequence at full length to keep L
    return torch.as_tensor(lengths)


@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("cell", CELLS)
def test_unrolled_outputs_equal_fused_module(cell, layers):
    model, _, batch = make(cell, layers)
    fused, _ = model.rnn(batch.inputs)
    unrolled = unroll(model, batch.inputs).outputs
    torch.testing.assert_close(unrolled, fused, atol=1e-5, rtol=0)


@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("cell", CELLS)
def test_unrolled_outputs_equal_packed_fused_module(cell, layers):
    model, _, batch = make(cell, layers)
    lengths = random_lengths(batch)
    packed = nn.utils.rnn.pack_padded_sequence(
        batch.inputs, lengths, batch_first=True, enforce_sorted=False
    )
    fused, _ = nn.utils.rnn.pad_packed_sequence(model.rnn(packed)[0], batch_first=True)
    unrolled = unroll(model, batch.inputs, lengths).outputs
    torch.testing.assert_close(unrolled, fused, atol=1e-5, rtol=0)


def cell_copies(model):
    """torch.nn.*Cell modules holding copies of the last layer's weights."""
    layer = model.num_layers - 1
    name = model.cell.name
    kwargs = (
        {"nonlinearity": "relu" if name == "rnn_relu" else "tanh"} if name.startswith("rnn") else {}
    )
    input_size = model.rnn.input_size if layer == 0 else model.hidden_size
    cell = CELL_MODULES[name](input_size, model.hidden_size, **kwargs)
    with torch.no_grad():
        for weight in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            getattr(cell, weight).copy_(getattr(model.rnn, f"{weight}_l{layer}"))
    return cell


def oracle_states(model, inputs):
    """Last-layer h_t (and c_t) computed by an nn.*Cell loop, each with retain_grad."""
    lower = inputs
    if model.num_layers > 1 and model.cell.name == "feedforward":
        lower_layers = FeedForwardLayers(inputs.shape[-1], model.hidden_size, model.num_layers - 1)
        with torch.no_grad():
            for layer, cell in enumerate(lower_layers.cells):
                cell.weight_ih.copy_(getattr(model.rnn, f"weight_ih_l{layer}"))
                cell.bias_ih.copy_(getattr(model.rnn, f"bias_ih_l{layer}"))
        lower, _ = lower_layers(inputs)
    elif model.num_layers > 1:
        below = (
            nn.LSTM if model.cell.name == "lstm" else nn.GRU if model.cell.name == "gru" else nn.RNN
        )
        kwargs = {"nonlinearity": model.cell.nonlinearity} if below is nn.RNN else {}
        lower_rnn = below(
            inputs.shape[-1], model.hidden_size, model.num_layers - 1, batch_first=True, **kwargs
        )
        lower_rnn.load_state_dict(
            {
                k: v
                for k, v in model.rnn.state_dict().items()
                if not k.endswith(f"_l{model.num_layers - 1}")
            }
        )
        lower, _ = lower_rnn(inputs)
    cell = cell_copies(model)
    h = torch.zeros(inputs.shape[0], model.hidden_size)
    c = torch.zeros_like(h)
    hs, cs = [], []
    for t in range(inputs.shape[1]):
        if model.cell.name == "lstm":
            h, c = cell(lower[:, t], (h, c))
            c.retain_grad()
            cs.append(c)
        else:
            h = cell(lower[:, t], h)
        h.retain_grad()
        hs.append(h)
    return hs, cs


@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("cell", CELLS)
def test_grad_norm_equals_cell_loop_with_retain_grad(cell, layers):
    model, task, batch = make(cell, layers, init="orthogonal")
    hs, cs = oracle_states(model, batch.inputs)
    loss = task.loss(model.readout(torch.stack(hs, dim=1)), batch)
    loss.backward()
    expected = np.array([h.grad.norm(dim=-1).mean().item() for h in hs])
    result = probe(model, batch, task, jacobian=False)
    np.testing.assert_allclose(result.grad_norm, expected, rtol=1e-5, atol=1e-12)
    assert result.loss == pytest.approx(loss.item(), rel=1e-6)
    if cell == "lstm":
        expected_cell = np.array([c.grad.norm(dim=-1).mean().item() for c in cs])
        np.testing.assert_allclose(result.grad_norm_cell, expected_cell, rtol=1e-5, atol=1e-12)
    else:
        assert result.grad_norm_cell is None


@pytest.mark.parametrize("layers", [1, 2])
def test_no_memory_gradient_before_the_step_it_sees_is_exactly_zero(layers):
    """The adding task's loss reads the last step only: a model without memory sees x_T alone, so
    dLoss/dh_t is exactly 0 for every t < T (autograd through a Linear+tanh loop agrees), while an
    RNN's gradient reaches back."""
    model, task, batch = make("feedforward", layers, seq_len=10)
    hs, _ = oracle_states(model, batch.inputs)
    task.loss(model.readout(torch.stack(hs, dim=1)), batch).backward()
    oracle = np.array([h.grad.norm(dim=-1).mean().item() for h in hs])
    result = probe(model, batch, task, jacobian=True)
    print("no memory ||dL/dh_t||:", np.round(result.grad_norm, 6), "oracle:", np.round(oracle, 6))
    assert (oracle[:-1] == 0).all() and oracle[-1] > 0
    assert (result.grad_norm[:-1] == 0).all()
    assert result.grad_norm[-1] == pytest.approx(oracle[-1], rel=1e-5)
    assert (result.jacobian_norm == 0).all()  # d h_{t+1} / d h_t = 0: nothing carried
    assert np.isnan(result.grad_gain).all()  # no step has two positive norms to divide
    assert all((values == 0).all() for values in result.spectrum.values())
    rnn, rnn_task, rnn_batch = make("rnn", layers, seq_len=10)
    assert (probe(rnn, rnn_batch, rnn_task, jacobian=False).grad_norm[:-1] > 0).all()


def test_grad_norm_with_lengths_averages_over_sequences_that_reach_each_step():
    model, task, batch = make("gru")
    lengths = random_lengths(batch, seed=3)
    batch.lengths = lengths
    # Move the adding task's target to each sequence's last real step.
    batch.mask[:] = False
    batch.mask[torch.arange(batch.size), lengths - 1] = True
    result = probe(model, batch, task, jacobian=False)
    per_sequence = []
    for i in range(batch.size):
        hs, _ = oracle_states(model, batch.inputs[i : i + 1, : lengths[i]])
        prediction = model.readout(hs[-1])
        # The batch loss is a mean over the batch's masked steps: one per sequence here.
        loss = (
            nn.functional.mse_loss(prediction, batch.targets[i : i + 1, lengths[i] - 1])
            / batch.size
        )
        loss.backward()
        norms = [h.grad.norm().item() for h in hs]
        per_sequence.append(norms + [np.nan] * (batch.inputs.shape[1] - len(norms)))
    expected = np.nanmean(np.array(per_sequence), axis=0)
    np.testing.assert_allclose(result.grad_norm, expected, rtol=1e-5, atol=1e-12)
    assert len(set(lengths.tolist())) > 1, "the test needs ragged lengths"
    past_end = np.arange(batch.inputs.shape[1]) >= lengths.numpy()[:, None]
    np.testing.assert_array_equal(np.isnan(result.hidden).all(axis=-1), past_end)


def per_sequence_grad_norms(model, batch, lengths):
    """(N, L) ||dLoss/dh_t|| of each sequence alone through an nn.*Cell loop (NaN past its end);
    the batch loss is the mean over its N masked steps, one per sequence."""
    rows = []
    for i in range(batch.size):
        hs, _ = oracle_states(model, batch.inputs[i : i + 1, : lengths[i]])
        target = batch.targets[i : i + 1, lengths[i] - 1]
        (nn.functional.mse_loss(model.readout(hs[-1]), target) / batch.size).backward()
        norms = [h.grad.norm().item() for h in hs]
        rows.append(norms + [np.nan] * (batch.inputs.shape[1] - len(norms)))
    return np.array(rows, dtype=np.float64)


@pytest.mark.parametrize("cell", RECURRENT)
def test_grad_gain_is_the_geometric_mean_of_per_sequence_norm_ratios(cell):
    model, task, batch = make(cell, init="orthogonal", seq_len=12)
    lengths = random_lengths(batch, seed=5)
    batch.lengths = lengths
    batch.mask[:] = False
    batch.mask[torch.arange(batch.size), lengths - 1] = True
    result = probe(model, batch, task, jacobian=False)
    norms = per_sequence_grad_norms(model, batch, lengths)
    ratios = norms[:, :-1] / norms[:, 1:]  # NaN where a sequence does not reach t + 1
    expected = np.exp(np.nanmean(np.log(ratios), axis=0))
    assert result.grad_gain.shape == (batch.inputs.shape[1] - 1,)
    np.testing.assert_allclose(result.grad_gain, expected, rtol=1e-4)
    # The last step is reached by one sequence only: its gain is that sequence's ratio.
    assert (lengths == lengths.max()).sum() == 1 or np.isfinite(result.grad_gain[-1])


def test_grad_gain_is_nan_where_the_gradient_is_zero():
    model, task, batch = make("rnn_relu", seq_len=6)
    with torch.no_grad():
        model.rnn.weight_hh_l0.zero_()  # nothing flows back: dLoss/dh_t = 0 before the last step
    result = probe(model, batch, task, jacobian=False)
    assert np.isnan(result.grad_gain[:-1]).all()
    assert result.grad_gain[-1] == 0 or np.isnan(result.grad_gain[-1])


@pytest.mark.parametrize("ragged", [False, True])
@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("cell", CELLS)
def test_replay_pass_equals_the_step_by_step_unroll(cell, layers, ragged):
    model, _, batch = make(cell, layers)
    lengths = random_lengths(batch) if ragged else None
    model.eval()
    with torch.no_grad():
        fast, slow = replay_pass(model, batch.inputs, lengths), unroll(model, batch.inputs, lengths)
    valid = torch.ones(batch.inputs.shape[:2]) if lengths is None else _valid(batch, lengths)
    real = valid.unsqueeze(-1).bool()
    torch.testing.assert_close(fast.outputs, slow.outputs, atol=1e-5, rtol=0)
    torch.testing.assert_close(fast.layer_inputs, slow.layer_inputs, atol=1e-5, rtol=0)
    for name in ("hidden", "cell"):
        a, b = getattr(fast, name), getattr(slow, name)
        assert (a is None) == (b is None) == (name == "cell" and cell != "lstm")
        if a is not None:
            torch.testing.assert_close(a * real, b * real, atol=1e-5, rtol=0)
    assert list(fast.gates) == list(slow.gates)
    for name in fast.gates:
        torch.testing.assert_close(
            fast.gates[name] * real, slow.gates[name] * real, atol=1e-5, rtol=0
        )


def _valid(batch, lengths):
    return (torch.arange(batch.inputs.shape[1]) < lengths.unsqueeze(1)).float()


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_gates_equal_manual_recomputation(cell):
    model, task, batch = make(cell, 1)
    fused, final = model.rnn(batch.inputs)
    result = probe(model, batch, task, jacobian=False)
    w_ih, w_hh = model.rnn.weight_ih_l0.detach(), model.rnn.weight_hh_l0.detach()
    b_ih, b_hh = model.rnn.bias_ih_l0.detach(), model.rnn.bias_hh_l0.detach()
    x = batch.inputs
    h_prev = torch.cat([torch.zeros_like(fused[:, :1]), fused[:, :-1]], dim=1).detach()
    H = model.hidden_size
    ih = x @ w_ih.T + b_ih
    hh = h_prev @ w_hh.T + b_hh
    if cell == "lstm":
        i, f, g, o = (ih + hh).split(H, dim=-1)
        expected = {
            "input": i.sigmoid(),
            "forget": f.sigmoid(),
            "cell_candidate": g.tanh(),
            "output": o.sigmoid(),
        }
        # the last cell state must equal the fused module's c_n
        np.testing.assert_allclose(result.cell[:, -1], final[1][0].detach().numpy(), atol=1e-5)
        # and h_t = o_t * tanh(c_t) at every step
        np.testing.assert_allclose(
            result.hidden, expected["output"].numpy() * np.tanh(result.cell), atol=1e-5
        )
    else:
        r = (ih[..., :H] + hh[..., :H]).sigmoid()
        z = (ih[..., H : 2 * H] + hh[..., H : 2 * H]).sigmoid()
        n = (ih[..., 2 * H :] + r * hh[..., 2 * H :]).tanh()
        expected = {"reset": r, "update": z, "candidate": n}
    assert set(result.gates) == set(expected)
    for name, value in expected.items():
        np.testing.assert_allclose(
            result.gates[name], value.detach().numpy(), atol=1e-5, err_msg=name
        )
    np.testing.assert_allclose(result.hidden, fused.detach().numpy(), atol=1e-5)


def test_vanilla_rnn_has_no_gates_and_no_cell():
    model, task, batch = make("rnn")
    result = probe(model, batch, task, jacobian=False)
    assert result.gates == {} and result.cell is None


@pytest.mark.parametrize("cell", CELLS)
def test_jacobian_norm_equals_autograd_jacobian(cell):
    model, task, batch = make(cell, 1, hidden=6, seq_len=8)
    result = probe(model, batch, task, jacobian=True)
    torch_cell = cell_copies(model)
    hs = torch.as_tensor(result.hidden)
    expected = np.zeros((JACOBIAN_EXAMPLES, batch.inputs.shape[1] - 1))
    for n in range(JACOBIAN_EXAMPLES):
        for t in range(batch.inputs.shape[1] - 1):
            x = batch.inputs[n, t + 1]
            if cell == "lstm":
                c = torch.as_tensor(result.cell[n, t])
                state = torch.cat([hs[n, t], c])
                fn = lambda s, x=x: torch.cat(torch_cell(x, (s[:6], s[6:])))  # noqa: E731
            else:
                state = hs[n, t]
                fn = lambda s, x=x: torch_cell(x, s)  # noqa: E731
            jac = torch.autograd.functional.jacobian(fn, state)
            expected[n, t] = torch.linalg.matrix_norm(jac, ord=2).item()
    np.testing.assert_allclose(result.jacobian_norm, expected.mean(axis=0), rtol=1e-4)


def test_spectrum_holds_each_gate_block_eigenvalues():
    model, task, batch = make("lstm", hidden=5)
    result = probe(model, batch, task, jacobian=False)
    weight = model.rnn.weight_hh_l0.detach().double().numpy()
    assert list(result.spectrum) == ["input", "forget", "cell_candidate", "output"]
    forget = np.sort_complex(np.linalg.eigvals(weight[5:10]))
    np.testing.assert_allclose(np.sort_complex(result.spectrum["forget"]), forget, atol=1e-10)
    assert result.spectral_radius == pytest.approx(
        max(abs(np.linalg.eigvals(weight[k * 5 : k * 5 + 5])).max() for k in range(4))
    )


def test_probe_changes_no_weights_grads_or_rng():
    model, task, batch = make("lstm", layers=2, dropout=0.5)
    model.train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    rng_before = torch.get_rng_state()
    probe(model, batch, task)
    assert model.training, "probe must restore training mode"
    assert all(p.grad is None for p in model.parameters())
    assert torch.equal(torch.get_rng_state(), rng_before)
    for name, value in model.state_dict().items():
        assert torch.equal(value, before[name]), name


def test_a_probe_without_the_spectrum_is_the_same_probe_without_eigenvalues():
    model, task, batch = make("lstm")
    full = probe(model, batch, task, jacobian=False)
    lean = probe(model, batch, task, jacobian=False, spectrum=False)
    assert lean.spectrum == {} and np.isnan(lean.spectral_radius)
    assert full.spectrum and np.isfinite(full.spectral_radius)
    for name in ("hidden", "cell", "grad_norm", "grad_norm_cell", "grad_gain", "predictions"):
        np.testing.assert_array_equal(getattr(lean, name), getattr(full, name), err_msg=name)
