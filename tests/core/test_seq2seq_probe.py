"""The encoder-decoder's probe against oracles: the fused packed encoder for its states, and
torch.nn.*Cell loops with retain_grad and autograd for ||dLoss/dh_s||."""

from __future__ import annotations

from functools import partial

import numpy as np
import pytest
import torch
from torch import nn

from core.cells import CLASSIC_CELLS, RECURRENT_CELLS
from core.seq2seq import ATTENTIONS, Seq2Seq, Seq2SeqConfig, Seq2SeqExperiment, sequence_loss
from core.seq2seq_probe import probe, unroll_encoder
from core.tasks.numbers import SYMBOLS, WORDS, make_pairs

ORACLES = {
    "rnn": nn.RNNCell,
    "rnn_relu": partial(nn.RNNCell, nonlinearity="relu"),
    "lstm": nn.LSTMCell,
    "gru": nn.GRUCell,
}
VALUES = np.array([312, 5, 1005, 70, 999999, 20013])


def build(cell, attention, seed=0):
    torch.manual_seed(seed)
    model = Seq2Seq(cell, len(WORDS), len(SYMBOLS), 9, 5, attention)
    return model, make_pairs(VALUES)


def oracle_norms(model, pairs):
    """(N, S) ||dLoss/dh_s|| from an nn.*Cell loop holding copies of the encoder's weights."""
    cell = ORACLES[model.cell.name](model.encoder.input_size, model.hidden_size)
    with torch.no_grad():
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            getattr(cell, name).copy_(getattr(model.encoder, f"{name}_l0"))
    x = model.source_embedding(pairs.source)
    h = torch.zeros(pairs.size, model.hidden_size)
    c = torch.zeros_like(h)
    hs, cs = [], []
    for t in range(x.shape[1]):
        if model.cell.has_cell_state:
            h, c = cell(x[:, t], (h, c))
        else:
            h = cell(x[:, t], h)
        h.retain_grad()
        hs.append(h)
        cs.append(c)
    lengths = pairs.source_lengths
    valid = (torch.arange(x.shape[1]) < lengths[:, None]).unsqueeze(-1)
    memory = torch.stack(hs, 1) * valid
    rows, last = torch.arange(pairs.size), lengths - 1
    state = torch.stack(hs, 1)[rows, last][None]
    if model.cell.has_cell_state:
        state = (state, torch.stack(cs, 1)[rows, last][None])
    logits, _, _ = model.decode(pairs.decoder_in, state, memory, pairs.source != 0)
    sequence_loss(logits, pairs).backward()
    norms = torch.stack([h.grad.norm(dim=-1) for h in hs], 1).numpy()
    return np.where(valid[..., 0].numpy(), norms, np.nan)


@pytest.mark.parametrize("cell", [c for c in CLASSIC_CELLS if c in RECURRENT_CELLS])
def test_unrolled_encoder_equals_the_packed_fused_one(cell):
    model, pairs = build(cell, "none")
    _, outputs, state = unroll_encoder(model, pairs.source, pairs.source_lengths)
    fused_outputs, fused_state = model.encode(pairs.source, pairs.source_lengths)
    torch.testing.assert_close(outputs, fused_outputs, atol=1e-5, rtol=0)
    for mine, theirs in zip(
        state if cell == "lstm" else [state],
        fused_state if cell == "lstm" else [fused_state],
        strict=True,
    ):
        torch.testing.assert_close(mine, theirs, atol=1e-5, rtol=0)


def test_every_registered_cell_has_a_torch_oracle():
    assert set(ORACLES) == set(RECURRENT_CELLS), "give the new cell its torch.nn.*Cell oracle here"


@pytest.mark.parametrize("attention", ATTENTIONS)
@pytest.mark.parametrize("cell", RECURRENT_CELLS)
def test_encoder_gradient_norms_match_autograd_through_torch_cells(cell, attention):
    model, pairs = build(cell, attention)
    result = probe(model, pairs)
    assert all(p.grad is None for p in model.parameters()), "the probe leaves .grad alone"
    assert model.training, "and the training mode"
    expected = oracle_norms(model, pairs)
    np.testing.assert_allclose(result.grad_norms, expected, rtol=1e-4, atol=1e-7)
    counts = (~np.isnan(expected)).sum(0)
    np.testing.assert_allclose(result.grad_norm, np.nansum(expected, 0) / counts, rtol=1e-4)
    model.eval()
    assert result.loss == pytest.approx(sequence_loss(model(pairs)[0], pairs).item(), rel=1e-5)


def test_without_attention_only_the_final_state_is_read():
    """Without attention, the last word's gradient is everything the decoder sends back; with
    attention, the loss reads every word's output directly as well."""
    model, pairs = build("gru", "none")
    plain = probe(model, pairs)
    assert plain.attention is None
    model, pairs = build("gru", "dot")
    attended = probe(model, pairs)
    assert attended.attention.shape == (
        pairs.size,
        pairs.decoder_in.shape[1],
        pairs.source.shape[1],
    )
    by_end = attended.grad_by_position()
    lengths = pairs.source_lengths.numpy()
    assert np.isnan(by_end[1, 1:]).all() and by_end[0, 0] == attended.grad_norms[0, lengths[0] - 1]


def test_experiment_probe_changes_nothing():
    experiment = Seq2SeqExperiment(Seq2SeqConfig(hidden=8, batch_size=8))
    experiment.step(2)
    before = [p.detach().clone() for p in experiment.model.parameters()]
    state = experiment.rng.bit_generator.state
    result = experiment.observe()
    assert (
        experiment.probe_log[-1][0] == 2
        and len(result.grad_norm) == experiment.probe_batch.source.shape[1]
    )
    assert state == experiment.rng.bit_generator.state
    for old, new in zip(before, experiment.model.parameters(), strict=True):
        assert torch.equal(old, new)
