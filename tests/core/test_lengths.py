"""Variable-length batches: a padded, packed batch must behave exactly like each sequence alone."""

import pytest
import torch
from torch.nn.utils.rnn import pack_padded_sequence

from core.model import SequenceModel

CELLS = ["rnn", "rnn_relu", "lstm", "gru"]


def ragged_batch(seed=0, batch=5, max_len=11, features=3):
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, max_len, features, generator=generator)
    lengths = torch.randint(2, max_len + 1, (batch,), generator=generator)
    lengths[0] = max_len
    for i, n in enumerate(lengths):
        x[i, n:] = 0.0  # padding, as the tasks produce it
    y = torch.randn(batch, max_len, 2, generator=generator)
    return x, y, lengths


def per_sequence_loss(pred, y, n):
    return ((pred[:n] - y[:n]) ** 2).mean()


@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("cell", CELLS)
def test_packed_batch_equals_each_sequence_alone(cell, layers):
    torch.manual_seed(1)
    model = SequenceModel(cell, 3, 7, 2, num_layers=layers)
    x, y, lengths = ragged_batch()
    packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
    _, batch_state = model.rnn(packed)
    batch_pred = model(x, lengths)
    for i, n in enumerate(lengths.tolist()):
        alone_out, alone_state = model.rnn(x[i : i + 1, :n])
        alone_pred = model.readout(alone_out)[0]
        torch.testing.assert_close(batch_pred[i, :n], alone_pred, atol=1e-5, rtol=0)
        # outputs past the end are the readout of zeros: the padding never reached the state
        torch.testing.assert_close(
            batch_pred[i, n:],
            model.readout.bias.expand(len(batch_pred[i, n:]), 2),
            atol=1e-6,
            rtol=0,
        )
        for got, want in zip(_states(batch_state), _states(alone_state), strict=True):
            torch.testing.assert_close(got[:, i], want[:, 0], atol=1e-5, rtol=0)
        # per-sequence loss and its gradient with respect to every weight
        loss_batch = per_sequence_loss(batch_pred[i], y[i], n)
        loss_alone = per_sequence_loss(alone_pred, y[i], n)
        torch.testing.assert_close(loss_batch, loss_alone, atol=1e-5, rtol=0)
        grads_batch = torch.autograd.grad(loss_batch, list(model.parameters()), retain_graph=True)
        grads_alone = torch.autograd.grad(loss_alone, list(model.parameters()))
        for gb, ga in zip(grads_batch, grads_alone, strict=True):
            torch.testing.assert_close(gb, ga, atol=1e-5, rtol=1e-4)


def _states(state):
    return state if isinstance(state, tuple) else (state,)


@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("cell", CELLS)
def test_last_step_of_a_packed_batch_equals_each_sequence_alone(cell, layers):
    torch.manual_seed(2)
    model = SequenceModel(cell, 3, 7, 2, num_layers=layers)
    x, _, lengths = ragged_batch(seed=1)
    garbage = x.clone()
    for i, n in enumerate(lengths.tolist()):
        garbage[i, n:] = 50.0  # padding content must not matter
    last = model.last_step(garbage, lengths)
    for i, n in enumerate(lengths.tolist()):
        alone = model.readout(model.rnn(x[i : i + 1, :n])[0][:, -1])
        torch.testing.assert_close(last[i : i + 1], alone, atol=1e-5, rtol=0)
