"""The encoder-decoder's probe: how strongly the loss reaches back to each word of the sentence.

The fused encoder hides its steps, so the probe runs the encoder's own weights step by step with the
registry's `Cell.step` (as `core.probes.unroll` does for SequenceModel), feeds the decoder exactly
as training does (teacher forcing), and asks autograd for dLoss/dh_s at every encoder step s: the
total derivative, through the final state and, with attention, through every encoder output.
Nothing changes: eval mode, `torch.autograd.grad` (leaves .grad alone), no RNG.
tests/core/test_seq2seq_probe.py checks it against torch.nn.*Cell loops with autograd.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from core.seq2seq import Seq2Seq, sequence_loss
from core.tasks.numbers import Pairs


@dataclass
class Seq2SeqProbe:
    """What one instrumented pass saw; numpy arrays on the CPU.

    lengths (N,): words per sentence. grad_norms (N, S): ||dLoss/dh_s|| per sentence, NaN past its
    end. grad_norm (S,): their mean over the sentences that reach step s. attention (N, T, S) or
    None: the teacher-forced attention weights. loss: the batch loss (the training loss)."""

    lengths: np.ndarray
    grad_norms: np.ndarray
    grad_norm: np.ndarray
    attention: np.ndarray | None
    loss: float
    step: int = 0

    def grad_by_position(self) -> np.ndarray:
        """(N, S) the same norms counted back from each sentence's last word (column 0: the last
        word), so sentences of different lengths line up at the end the decoder starts from."""
        flipped = np.full_like(self.grad_norms, np.nan)
        for row, length in enumerate(self.lengths):
            flipped[row, :length] = self.grad_norms[row, :length][::-1]
        return flipped


def unroll_encoder(model: Seq2Seq, source: torch.Tensor, lengths: torch.Tensor):
    """(steps: h_s per step, outputs (N, S, H) zero past each end, final state at each end)."""
    x = model.source_embedding(source)
    encoder, cell = model.encoder, model.cell
    projected = F.linear(x, encoder.weight_ih_l0, encoder.bias_ih_l0).unbind(1)
    h = x.new_zeros(source.shape[0], model.hidden_size)
    c = torch.zeros_like(h) if cell.has_cell_state else None
    hs, cs = [], []
    for x_proj in projected:
        h, c, _ = cell.step(x_proj, F.linear(h, encoder.weight_hh_l0, encoder.bias_hh_l0), h, c)
        hs.append(h)
        cs.append(c)
    hidden = torch.stack(hs, dim=1)
    valid = torch.arange(source.shape[1], device=source.device) < lengths.to(source.device)[:, None]
    rows, last = torch.arange(source.shape[0]), lengths.long() - 1
    final = hidden[rows, last].unsqueeze(0)
    if cell.has_cell_state:
        final = (final, torch.stack(cs, dim=1)[rows, last].unsqueeze(0))
    return hs, hidden * valid.unsqueeze(-1), final


def probe(model: Seq2Seq, pairs: Pairs, step: int = 0) -> Seq2SeqProbe:
    """One instrumented pass over `pairs`; see Seq2SeqProbe."""
    was_training = model.training
    model.eval()
    try:
        with torch.enable_grad():
            hs, outputs, state = unroll_encoder(model, pairs.source, pairs.source_lengths)
            logits, _, weights = model.decode(pairs.decoder_in, state, outputs, pairs.source != 0)
            loss = sequence_loss(logits, pairs)
            grads = torch.autograd.grad(loss, hs, allow_unused=True)
        norms = torch.stack(
            [
                torch.zeros(len(h)) if g is None else g.norm(dim=-1)
                for g, h in zip(grads, hs, strict=True)
            ],
            1,
        )
        return _assemble(norms, pairs, weights, loss, step)
    finally:
        model.train(was_training)


def _assemble(norms, pairs, weights, loss, step) -> Seq2SeqProbe:
    lengths = pairs.source_lengths.cpu().numpy()
    valid = np.arange(norms.shape[1]) < lengths[:, None]
    grad_norms = np.where(valid, norms.detach().cpu().numpy().astype(np.float64), np.nan)
    with np.errstate(invalid="ignore"):
        mean = np.nanmean(np.where(valid, grad_norms, np.nan), axis=0)
    return Seq2SeqProbe(
        lengths=lengths,
        grad_norms=grad_norms,
        grad_norm=mean,
        attention=None if weights is None else weights.detach().cpu().numpy(),
        loss=float(loss.detach()),
        step=step,
    )
