"""Benchmark: the encoder-decoder's training step against a bare PyTorch loop, and its probe's cost.

Per cell and attention (none, dot, additive), hidden 64, embedding 32, batch 64, numbers up to
999 999 999 (up to 17 words in, 10 symbols out):

- engine: `Seq2SeqExperiment(config).step(N)`, as a notebook or the claim calls it, with
  validation off (val_every=1000) and at the claim's val_every=100 (greedy decoding of 256 pairs);
- bare: one prebuilt batch, the same modules written out by hand (packed encoder, teacher-forced
  decoder, attention, readout), cross-entropy, backward, fused Adam; no fresh data, no gradient
  norm, no clipping, no host sync, no history. Its first loss is checked against the engine's
  on the same weights and batch, so both do the same work.
- step alone: the engine's `train_step` (gradient norm, clipping, .item(), fused Adam) on the
  bare loop's prebuilt batch: what the engine costs apart from drawing a batch every step;
- probe: `Seq2SeqExperiment.probe()` (encoder unrolled step by step, autograd to every h_s) on
  the fixed 16-pair probe batch, against one engine step.

Blocks alternate between the variants (bench.common.interleave); ratios are medians of
per-repetition ratios in process CPU time.

    python -m bench.run --only seq2seq
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from bench.common import (
    interleave,
    median,
    one_thread,
    paired_ratio,
    pick,
    rate,
    section,
    timed,
    verdict,
)
from core.seq2seq import Seq2SeqConfig, Seq2SeqExperiment, sequence_loss, train_step

STEP_TARGET = 0.95  # engine / bare, steps per second
PROBE_TARGET = 1.5  # probe in training steps
CELLS = ("rnn", "lstm", "gru")
ATTENTIONS = ("none", "dot", "additive")
HIDDEN, EMBED, BATCH, GROUPS = 64, 32, 64, 3
SMOKE = dict(hidden=8, embed=4, batch_size=8, max_groups=1)


class BareLoop:
    """The least an encoder-decoder step can do, on the engine model's own modules and weights."""

    def __init__(self, experiment: Seq2SeqExperiment) -> None:
        self.model = experiment.model
        self.pairs = experiment.task.sample(experiment.config.batch_size, np.random.default_rng(7))
        self.optimizer = torch.optim.Adam(
            self.model.parameters(), lr=experiment.config.lr, fused=True
        )

    def loss(self) -> torch.Tensor:
        m, p = self.model, self.pairs
        packed = pack_padded_sequence(
            m.source_embedding(p.source), p.source_lengths, batch_first=True, enforce_sorted=False
        )
        memory, state = m.encoder(packed)
        memory, _ = pad_packed_sequence(memory, batch_first=True)
        out, _ = m.decoder(m.target_embedding(p.decoder_in), state)
        if m.attention is not None:
            if m.attention.kind == "dot":
                scores = out @ memory.transpose(1, 2) / math.sqrt(memory.shape[-1])
            else:
                keys = m.attention.key(memory).unsqueeze(1)
                scores = m.attention.score(torch.tanh(m.attention.query(out).unsqueeze(2) + keys))
                scores = scores.squeeze(-1)
            scores = scores.masked_fill((p.source == 0).unsqueeze(1), float("-inf"))
            context = torch.softmax(scores, -1) @ memory
            out = torch.tanh(m.combine(torch.cat([out, context], -1)))
        mask = p.target_mask
        return F.cross_entropy(m.readout(out)[mask], p.decoder_out[mask])

    def step(self, k: int) -> None:
        for _ in range(k):
            self.optimizer.zero_grad(set_to_none=True)
            self.loss().backward()
            self.optimizer.step()


def same_work(config: Seq2SeqConfig) -> float:
    """|engine loss - bare loss| on one batch and the same weights (0 up to rounding)."""
    experiment = Seq2SeqExperiment(config)
    bare = BareLoop(experiment)
    with torch.no_grad():
        engine_loss = float(sequence_loss(experiment.model(bare.pairs)[0], bare.pairs))
        return abs(engine_loss - float(bare.loss()))


def measure(config: Seq2SeqConfig, repeats: int, steps: int) -> dict[str, Any]:
    engine = Seq2SeqExperiment(config.replace(val_every=1000))
    engine_val = Seq2SeqExperiment(config.replace(val_every=100))
    bare = BareLoop(Seq2SeqExperiment(config))
    alone = Seq2SeqExperiment(config)

    def step_alone(k: int) -> None:
        for _ in range(k):
            train_step(alone.model, alone.optimizer, bare.pairs, config.clip)

    for runner in (engine.step, engine_val.step, bare.step, step_alone):
        runner(2)
    engine.probe()
    samples = interleave(
        {
            "engine": rate(engine.step, steps),
            "engine_val": rate(engine_val.step, 100 if steps >= 50 else steps),
            "bare": rate(bare.step, steps),
            "alone": rate(step_alone, steps),
            "step": lambda: {k: v / steps for k, v in timed(lambda: engine.step(steps)).items()},
            "probe": lambda: timed(engine.probe),
        },
        repeats,
    )
    engine_s, val_s, bare_s, alone_s = (
        pick(samples[k], "cpu") for k in ("engine", "engine_val", "bare", "alone")
    )
    step_s, probe_s = pick(samples["step"], "cpu"), pick(samples["probe"], "cpu")
    return {
        "cell": config.cell,
        "attention": config.attention,
        "engine_sps": median(engine_s),
        "bare_sps": median(bare_s),
        "ratio": paired_ratio(engine_s, bare_s),
        "ratio_val100": paired_ratio(val_s, bare_s),
        "ratio_alone": paired_ratio(alone_s, bare_s),
        "step_ms": 1000 * median(step_s),
        "probe_ms": 1000 * median(probe_s),
        "probe_steps": median([p / s for p, s in zip(probe_s, step_s, strict=True)]),
        "loss_gap": same_work(config),
    }


COLUMNS = [
    ("cell", "cell"),
    ("attention", "attention"),
    ("engine_sps", "engine steps/s"),
    ("bare_sps", "bare steps/s"),
    ("ratio", "engine / bare"),
    ("ratio_val100", "engine val_every=100 / bare"),
    ("ratio_alone", "train_step on the bare batch / bare"),
    ("step_ms", "step ms"),
    ("probe_ms", "probe ms"),
    ("probe_steps", "probe / step"),
    ("loss_gap", "|loss engine - bare|"),
]


def run(smoke: bool = False) -> dict[str, Any]:
    one_thread()
    started = time.perf_counter()
    base = Seq2SeqConfig(hidden=HIDDEN, embed=EMBED, batch_size=BATCH, max_groups=GROUPS)
    if smoke:
        base = base.replace(**SMOKE)
    repeats, steps = (2, 3) if smoke else (5, 30)
    shapes = (
        [("gru", "none"), ("gru", "dot")] if smoke else [(c, a) for c in CELLS for a in ATTENTIONS]
    )
    rows = [
        measure(base.replace(cell=cell, attention=attention), repeats, steps)
        for cell, attention in shapes
    ]
    verdicts = []
    for r in rows:
        name = f"{r['cell']} {r['attention']}"
        verdicts.append(verdict(f"seq2seq engine/bare {name}", r["ratio"], ">=", STEP_TARGET))
        verdicts.append(verdict(f"seq2seq probe/step {name}", r["probe_steps"], "<=", PROBE_TARGET))
    notes = [
        f"hidden {base.hidden}, embedding {base.embed}, batch {base.batch_size}, max_groups "
        f"{base.max_groups}; {repeats} repetitions of interleaved blocks of {steps} steps; process "
        "CPU time, one torch thread.",
        "The bare loop runs the engine model's own modules on one prebuilt batch; the engine also "
        "draws a fresh batch every step, takes the gradient norm, clips, reads loss and norm back "
        "and records history. val_every=100 adds greedy decoding of the 256-pair validation set.",
    ]
    return section(
        "seq2seq",
        "Encoder-decoder: training step vs a bare PyTorch loop, probe vs step",
        COLUMNS,
        rows,
        verdicts,
        notes,
        seconds=time.perf_counter() - started,
    )
