"""Benchmark 5: `Experiment.step` on CUDA against a raw cuDNN loop, and the probe's time on GPU.

rnn, lstm and gru at hidden 1024, T 256, batch 256 (task adding), `Experiment(config, device="cuda",
budget=None)` against a bare `nn.LSTM`/`nn.GRU` + `nn.Linear` loop with Adam and clip_grad_norm_
on the same data generator. Blocks of steps alternate, each ending with torch.cuda.synchronize().
Without a GPU the section is a single 'skipped' row.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from bench.common import (
    interleave,
    median,
    one_thread,
    paired_ratio,
    section,
    skipped_section,
    verdict,
)
from core import Experiment, ExperimentConfig, make_task

TARGET = 0.9
PROBE_TARGET = 2.0  # probe(jacobian=False) in training steps (validation off)
SHAPE = (1024, 256, 256)  # hidden, seq_len, batch


class RawLoop:
    """The loop a cuDNN user writes: no history, no validation, no host syncs inside the block;
    the readout on the last step only (adding's loss reads nothing else) and fused Adam, as the
    engine's."""

    def __init__(self, config: ExperimentConfig, device: torch.device) -> None:
        self.config, self.device = config, device
        self.task = make_task(config)
        torch.manual_seed(config.seed)
        module = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}[config.cell]
        self.rnn = module(self.task.input_size, config.hidden, batch_first=True).to(device)
        self.readout = nn.Linear(config.hidden, self.task.output_size).to(device)
        self.params = list(self.rnn.parameters()) + list(self.readout.parameters())
        self.optimizer = torch.optim.Adam(self.params, lr=config.lr, fused=True)
        self.rng = np.random.default_rng([config.seed, 1])

    def step(self, k: int) -> None:
        for _ in range(k):
            batch = self.task.sample(self.config.batch_size, self.rng).to(self.device)
            self.optimizer.zero_grad(set_to_none=True)
            out, _ = self.rnn(batch.inputs)
            loss = F.mse_loss(self.readout(out[:, -1]), batch.targets[:, -1])
            loss.backward()
            torch.nn.utils.clip_grad_norm_(self.params, self.config.clip)
            self.optimizer.step()


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _block(step, steps: int, device: torch.device):
    def run() -> float:
        _sync(device)
        start = time.perf_counter()
        step(steps)
        _sync(device)
        return steps / (time.perf_counter() - start)

    return run


def _timed(fn, device: torch.device):
    def run() -> float:
        _sync(device)
        start = time.perf_counter()
        fn()
        _sync(device)
        return time.perf_counter() - start

    return run


def measure(
    cell: str,
    hidden: int,
    seq_len: int,
    batch: int,
    device: str | torch.device,
    steps: int,
    repeats: int,
) -> dict[str, Any]:
    device = torch.device(device)
    config = ExperimentConfig(
        cell=cell, task="adding", hidden=hidden, seq_len=seq_len, batch_size=batch
    )
    engine = Experiment(config, device=device, budget=None)
    engine_noval = Experiment(config.replace(val_every=1000), device=device, budget=None)
    raw = RawLoop(config, device)
    for variant in (engine.step, engine_noval.step, raw.step):
        variant(3)
    _sync(device)
    samples = interleave(
        {
            "engine": _block(engine.step, steps, device),
            "engine_noval": _block(engine_noval.step, steps, device),
            "raw": _block(raw.step, steps, device),
            "probe": _timed(lambda: engine.probe(jacobian=False), device),
            "probe_jac": _timed(lambda: engine.probe(jacobian=True), device),
        },
        repeats,
    )
    return {
        "cell": cell,
        "hidden": hidden,
        "seq_len": seq_len,
        "batch": batch,
        "device": torch.cuda.get_device_name(device) if device.type == "cuda" else str(device),
        "engine_sps": median(samples["engine"]),
        "engine_noval_sps": median(samples["engine_noval"]),
        "raw_sps": median(samples["raw"]),
        "ratio": paired_ratio(samples["engine"], samples["raw"]),
        "ratio_noval": paired_ratio(samples["engine_noval"], samples["raw"]),
        "probe_ms": 1000 * median(samples["probe"]),
        "probe_jac_ms": 1000 * median(samples["probe_jac"]),
        "probe_ratio": median(samples["probe"]) * median(samples["engine_noval"]),
    }


COLUMNS = [
    ("cell", "cell"),
    ("hidden", "hidden"),
    ("seq_len", "T"),
    ("batch", "batch"),
    ("device", "device"),
    ("engine_sps", "engine steps/s"),
    ("engine_noval_sps", "engine, no validation steps/s"),
    ("raw_sps", "raw cuDNN loop steps/s"),
    ("ratio", "engine / raw"),
    ("ratio_noval", "engine no-val / raw"),
    ("probe_ms", "probe ms (jacobian=False)"),
    ("probe_jac_ms", "probe ms (jacobian=True)"),
    ("probe_ratio", "probe / step"),
]
TITLE = "5. GPU: Experiment.step on CUDA vs a raw cuDNN loop"


def run(smoke: bool = False) -> dict[str, Any]:
    one_thread()
    if not torch.cuda.is_available():
        return skipped_section("gpu", TITLE, "no GPU: torch.cuda.is_available() is False")
    started = time.perf_counter()
    hidden, seq_len, batch = (64, 16, 16) if smoke else SHAPE
    rows = [
        measure(cell, hidden, seq_len, batch, "cuda", 3 if smoke else 20, 2 if smoke else 5)
        for cell in ("rnn", "lstm", "gru")
    ]
    verdicts = [
        verdict(f"engine/raw {r['cell']} on {r['device']}", r["ratio"], ">=", TARGET) for r in rows
    ]
    verdicts += [
        verdict(f"probe/step {r['cell']} on {r['device']}", r["probe_ratio"], "<=", PROBE_TARGET)
        for r in rows
    ]
    notes = [
        f"GPU: {torch.cuda.get_device_name(0)}; torch {torch.__version__}, cuDNN "
        f"{torch.backends.cudnn.version()}; blocks of steps interleaved, 5 repetitions, medians.",
        "The engine reads loss and gradient norm with .item() every step (a host sync) and validates "
        "every val_every steps; the raw loop never syncs inside a block.",
    ]
    return section(
        "gpu", TITLE, COLUMNS, rows, verdicts, notes, seconds=time.perf_counter() - started
    )
