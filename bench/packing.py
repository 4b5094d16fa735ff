"""Benchmark 7: what packing buys on a ragged batch.

One training step (forward + backward + Adam) of the same model on the same ragged batch, run two
ways, interleaved and repeated: packed (`SequenceModel(x, lengths)`, no recurrent compute on
padding) and padded to the longest sequence (`SequenceModel(x)`, the loss still masked). Lengths are
uniform in [L/4, L], so about 3/8 of the padded batch is padding.
"""

from __future__ import annotations

import statistics
import time

import torch

from bench.common import section
from core.model import SequenceModel


def _step_seconds(model, optimizer, x, y, mask, lengths, repeats: int) -> float:
    started = time.process_time()
    for _ in range(repeats):
        optimizer.zero_grad(set_to_none=True)
        prediction = model(x, lengths)
        loss = ((prediction - y) ** 2)[mask].mean()
        loss.backward()
        optimizer.step()
    return (time.process_time() - started) / repeats


def measure(cell: str, hidden: int, length: int, batch: int, rounds: int, repeats: int) -> dict:
    generator = torch.Generator().manual_seed(0)
    lengths = torch.randint(length // 4, length + 1, (batch,), generator=generator)
    lengths[0] = length
    mask = torch.arange(length).unsqueeze(0) < lengths.unsqueeze(1)
    x = torch.randn(batch, length, 8, generator=generator) * mask.unsqueeze(-1)
    y = torch.randn(batch, length, 1, generator=generator)
    torch.manual_seed(0)
    model = SequenceModel(cell, 8, hidden, 1)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    packed, padded = [], []
    for _ in range(rounds):  # interleaved: both see the same machine load
        packed.append(_step_seconds(model, optimizer, x, y, mask, lengths, repeats))
        padded.append(_step_seconds(model, optimizer, x, y, mask, None, repeats))
    packed_s, padded_s = statistics.median(packed), statistics.median(padded)
    return {
        "config": f"{cell} h{hidden} T{length} b{batch}",
        "padding": f"{1 - float(mask.float().mean()):.0%}",
        "packed": f"{1 / packed_s:.1f}",
        "padded": f"{1 / padded_s:.1f}",
        "ratio": round(padded_s / packed_s, 2),
    }


def run(smoke: bool = False) -> dict:
    started = time.perf_counter()
    shapes = [("lstm", 16, 20, 8)] if smoke else [(c, 64, 100, 32) for c in ("rnn", "lstm", "gru")]
    rounds, repeats = (2, 2) if smoke else (5, 5)
    rows = [measure(*shape, rounds=rounds, repeats=repeats) for shape in shapes]
    return section(
        "packing",
        "7. Packed ragged batch against the same batch padded to the longest (steps/s, CPU time)",
        [
            ("config", "config"),
            ("padding", "padding share"),
            ("packed", "packed steps/s"),
            ("padded", "padded steps/s"),
            ("ratio", "packed speed-up"),
        ],
        rows,
        notes=[
            "A speed-up below 1 means packing's bookkeeping costs more than the padding it skips."
        ],
        seconds=time.perf_counter() - started,
    )
