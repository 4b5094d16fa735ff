"""Benchmark 1: `Experiment.step` against a hand-written PyTorch loop and against the bare minimum.

The variants train the same model (built by `core.model.build_model` from the same seed) with Adam
and one torch thread:

- engine: `Experiment(config).step(N)`, exactly what the page calls (validation every `val_every`);
- engine, no validation: the same with `val_every=1000`, which isolates what validation costs;
- hand: the same work written out the way anyone would: sample from the task's own generator,
  zero_grad, forward (readout at every step), masked loss, backward, clip_grad_norm_, default
  Adam step, loss.item();
- bare: the least a training step can do: one prebuilt batch, one nn.RNN/LSTM/GRU call, the
  readout on the last step only, MSE, backward and the same fused Adam as the engine; no data,
  no clipping, no gradient norm, no host sync, no validation, no history.

Blocks of N steps alternate between the variants (rotating the order), repeated; each block gives
one steps/s sample in process CPU time (and wall time). Ratios are medians of per-repetition
ratios (blocks that ran back to back). A cProfile of the engine's step says where its time goes,
and a second table sets each task's data generation (`task.sample`) against a training step.

    python -m bench.run --only throughput
"""

from __future__ import annotations

import cProfile
import pstats
import time
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

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
from core import TASKS, Experiment, ExperimentConfig, build_model, make_task
from core.config import ConfigError

TARGET = 0.95  # engine / hand and engine / bare
SAMPLE_TARGET = 0.02  # task.sample at most 2% of a training step
CELLS = ("rnn", "lstm", "gru")
SHAPES = ((64, 50, 64), (128, 100, 32))  # (hidden, seq_len, batch)
SMOKE_SHAPES = ((8, 10, 8),)
PROPOSED_VAL_EVERY = 50  # the default recommended in RESULTS.md: validation at <= ~3% of a step


class HandLoop:
    """A plain PyTorch training loop over the same model, data stream and optimizer settings."""

    def __init__(self, config: ExperimentConfig) -> None:
        self.config = config
        self.task = make_task(config)
        torch.manual_seed(config.seed)
        self.model = build_model(config, self.task.input_size, self.task.output_size)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=config.lr)
        self.rng = np.random.default_rng([config.seed, 1])
        self.losses: list[float] = []

    def step(self, k: int) -> None:
        model, optimizer, clip = self.model, self.optimizer, self.config.clip
        for _ in range(k):
            batch = self.task.sample(self.config.batch_size, self.rng)
            optimizer.zero_grad(set_to_none=True)
            predictions = model(batch.inputs)
            mask = batch.mask
            loss = F.mse_loss(predictions[mask], batch.targets[mask])
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
            optimizer.step()
            self.losses.append(loss.item())


class BareLoop:
    """The bare minimum for the adding task: a prebuilt batch, one fused call, the readout on the
    last step only, MSE, backward, Adam (fused, as the engine's)."""

    def __init__(self, config: ExperimentConfig) -> None:
        task = make_task(config)
        torch.manual_seed(config.seed)
        model = build_model(config, task.input_size, task.output_size)
        self.rnn, self.readout = model.rnn, model.readout
        batch = task.sample(config.batch_size, np.random.default_rng([config.seed, 1]))
        self.inputs, self.targets = batch.inputs, batch.targets[:, -1]  # adding: the sum at the end
        self.optimizer = torch.optim.Adam(model.parameters(), lr=config.lr, fused=True)

    def step(self, k: int) -> None:
        for _ in range(k):
            self.optimizer.zero_grad(set_to_none=True)
            out, _ = self.rnn(self.inputs)
            loss = F.mse_loss(self.readout(out[:, -1]), self.targets)
            loss.backward()
            self.optimizer.step()


def measure(
    config: ExperimentConfig, repeats: int, block_seconds: float, min_steps: int = 3
) -> dict[str, Any]:
    engine = Experiment(config)
    engine_noval = Experiment(config.replace(val_every=1000))
    engine_val50 = Experiment(config.replace(val_every=PROPOSED_VAL_EVERY))
    hand = HandLoop(config)
    bare = BareLoop(config)
    for variant in (
        engine.step,
        engine_noval.step,
        engine_val50.step,
        hand.step,
        bare.step,
    ):  # warm-up: allocator, first validation
        variant(2)
    per_step = 1.0 / rate(hand.step, 3)()["cpu"]
    # A multiple of val_every, so every engine block holds the same number of validations.
    val_every = config.val_every
    steps = max(min_steps, min(400, round(block_seconds / per_step)))
    if steps >= val_every:
        steps = val_every * round(steps / val_every)
    samples = interleave(
        {
            "engine": rate(engine.step, steps),
            "engine_noval": rate(engine_noval.step, steps),
            "engine_val50": rate(engine_val50.step, steps),
            "hand": rate(hand.step, steps),
            "bare": rate(bare.step, steps),
        },
        repeats,
    )
    row: dict[str, Any] = {
        "cell": config.cell,
        "hidden": config.hidden,
        "seq_len": config.seq_len,
        "batch": config.batch_size,
        "block_steps": steps,
    }
    for clock in ("cpu", "wall"):
        engine_s, noval_s, hand_s, bare_s = (
            pick(samples[k], clock) for k in ("engine", "engine_noval", "hand", "bare")
        )
        row[f"engine_sps_{clock}"] = median(engine_s)
        row[f"engine_noval_sps_{clock}"] = median(noval_s)
        row[f"hand_sps_{clock}"] = median(hand_s)
        row[f"bare_sps_{clock}"] = median(bare_s)
        row[f"ratio_{clock}"] = paired_ratio(engine_s, hand_s)
        row[f"ratio_noval_{clock}"] = paired_ratio(noval_s, hand_s)
        row[f"ratio_bare_{clock}"] = paired_ratio(engine_s, bare_s)

    # Blocks hold 0 or 1 validations at val_every=50, so a median would pick the cheap blocks:
    # use the amortised rate over all blocks (total steps / total CPU time) for both sides.
    def amortised(name: str) -> float:
        return len(samples[name]) / sum(1 / s["cpu"] for s in samples[name])

    row["engine_val50_sps_cpu"] = amortised("engine_val50")
    row["ratio_val50_cpu"] = amortised("engine_val50") / amortised("hand")
    row["ratio"] = row["ratio_cpu"]
    return row


# Where the engine's step time goes: (label, match on (file suffix, function name)).
PROFILE_BUCKETS = [
    # last_step: the readout at the last step only (adding); forward: at every step
    ("forward, training (fused RNN + readout)", ("core/model.py", ("forward", "last_step"))),
    ("loss, training", ("core/tasks/base.py", ("loss_on",))),
    ("backward", ("torch/_tensor.py", "backward")),
    ("optimizer.step (Adam)", ("torch/optim/adam.py", "step")),
    ("zero_grad", ("torch/optim/optimizer.py", "zero_grad")),
    ("grad norm (get_total_norm)", ("torch/nn/utils/clip_grad.py", "_get_total_norm")),
    ("clip (clip_grads_with_norm_)", ("torch/nn/utils/clip_grad.py", "_clip_grads_with_norm_")),
    ("data: task.sample", ("core/tasks/", "sample")),  # every task module
    ("data: Batch.to(device)", ("core/tasks/base.py", "to")),
    (
        "validation (Experiment.validate: forward+loss+metric on 128)",
        ("core/trainer.py", "validate"),
    ),
    ("history (_record)", ("core/trainer.py", "_record")),
    ("metrics() once per step(k) call", ("core/trainer.py", "metrics")),
]


def _bucket_seconds(stats, suffix: str, func: str | tuple[str, ...]) -> float:
    """Cumulative seconds of `func` (or any of several) in files ending with `suffix` (a suffix
    ending in / is a folder)."""
    funcs = (func,) if isinstance(func, str) else func

    def matches(path: str) -> bool:
        path = path.replace("\\", "/")
        return (path.rpartition("/")[0] + "/" if suffix.endswith("/") else path).endswith(suffix)

    return sum(v[3] for k, v in stats.items() if matches(k[0]) and k[2] in funcs)


def profile_engine(config: ExperimentConfig, steps: int) -> dict[str, Any]:
    """cProfile of `Experiment.step(steps)`: milliseconds per step and share of the step per part.

    The parts are disjoint: validation calls forward and loss too, so a second profile of exactly
    as many bare `validate()` calls is subtracted from the forward and loss parts."""
    exp = Experiment(config)
    exp.step(2)
    profiler = cProfile.Profile()
    profiler.enable()
    exp.step(steps)
    profiler.disable()
    stats = pstats.Stats(
        profiler
    ).stats  # (file, line, func) -> (cc, nc, tottime, cumtime, callers)
    step_key = next(k for k in stats if k[0].endswith("core/trainer.py") and k[2] == "step")
    total = stats[step_key][3]
    validations = sum(
        v[1] for k, v in stats.items() if k[0].endswith("core/trainer.py") and k[2] == "validate"
    )
    inside_validation = {"forward": 0.0, "loss": 0.0}
    if validations:
        val_profiler = cProfile.Profile()
        val_profiler.enable()
        for _ in range(validations):
            exp.validate()
        val_profiler.disable()
        val_stats = pstats.Stats(val_profiler).stats
        inside_validation = {
            "forward": _bucket_seconds(val_stats, "core/model.py", "forward"),
            "loss": _bucket_seconds(val_stats, "core/tasks/base.py", "loss_on"),
        }
    buckets = []
    for label, (suffix, func) in PROFILE_BUCKETS:
        seconds = _bucket_seconds(stats, suffix, func)
        if suffix == "core/model.py":
            seconds -= inside_validation["forward"]
        if suffix == "core/tasks/base.py" and func == ("loss_on",):
            seconds -= inside_validation["loss"]
        buckets.append(
            {"part": label, "ms_per_step": 1000 * seconds / steps, "share": seconds / total}
        )
    accounted = sum(b["share"] for b in buckets) * total
    buckets.append(
        {
            "part": "other (Python glue, .item(), lock, timers)",
            "ms_per_step": 1000 * (total - accounted) / steps,
            "share": (total - accounted) / total,
        }
    )
    return {
        "config": f"{config.cell} hidden {config.hidden}, T {config.seq_len}, batch {config.batch_size}",
        "steps": steps,
        "validations": validations,
        "ms_per_step": 1000 * total / steps,
        "buckets": buckets,
    }


COLUMNS = [
    ("cell", "cell"),
    ("hidden", "hidden"),
    ("seq_len", "T"),
    ("batch", "batch"),
    ("block_steps", "steps/block"),
    ("engine_sps_cpu", "engine steps/s"),
    ("engine_noval_sps_cpu", "engine, no validation steps/s"),
    ("hand_sps_cpu", "hand loop steps/s"),
    ("ratio_cpu", "engine / hand"),
    ("bare_sps_cpu", "bare minimum steps/s"),
    ("ratio_bare_cpu", "engine / bare"),
    ("ratio_noval_cpu", "engine no-val / hand"),
    ("ratio_val50_cpu", f"engine val_every={PROPOSED_VAL_EVERY} / hand (amortised)"),
    ("ratio_wall", "engine / hand (wall clock)"),
    ("ratio_noval_wall", "engine no-val / hand (wall clock)"),
    ("ratio_bare_wall", "engine / bare (wall clock)"),
]

SAMPLE_COLUMNS = [
    ["task", "task"],
    ["shape", "hidden, T, batch"],
    ["sample_ms", "task.sample ms"],
    ["step_ms", "training step ms"],
    ["share", "sample / step"],
]


def sampling_share(task: str, hidden: int, seq_len: int, batch: int, repeats: int) -> dict:
    """task.sample against one whole training step (rnn, the cheapest step: the strictest ratio),
    both in process CPU time, interleaved; medians."""
    extra = {"min_len": seq_len // 2} if task in ("next_number", "text", "csv") else {}
    config = ExperimentConfig(
        cell="rnn", task=task, hidden=hidden, seq_len=seq_len, batch_size=batch, val_every=1000
    )
    try:
        exp = Experiment(config.replace(**extra), budget=None)
    except ConfigError:  # a task with bounds of its own (sentiment: its longest sentence)
        seq_len = ExperimentConfig(task=task).seq_len
        exp = Experiment(config.replace(seq_len=seq_len, **extra), budget=None)
    rng = np.random.default_rng(0)
    exp.step(2)
    block = max(2, min(50, round(0.1 / max(timed(lambda: exp.step(2))["cpu"] / 2, 1e-6))))
    samples = interleave(
        {
            "sample": lambda: timed(lambda: [exp.task.sample(batch, rng) for _ in range(block)]),
            "step": lambda: timed(lambda: exp.step(block)),
        },
        repeats,
    )
    sample_ms = 1000 * median(pick(samples["sample"], "cpu")) / block
    step_ms = 1000 * median(pick(samples["step"], "cpu")) / block
    return {
        "task": task + (" (ragged)" if extra else ""),
        "shape": f"{hidden}, {seq_len}, {batch}",
        "sample_ms": sample_ms,
        "step_ms": step_ms,
        "share": sample_ms / step_ms,
    }


def run(smoke: bool = False) -> dict[str, Any]:
    one_thread()
    started = time.perf_counter()
    shapes = SMOKE_SHAPES if smoke else SHAPES
    repeats = 2 if smoke else 5
    block_seconds = 0.02 if smoke else 0.3
    rows = []
    for hidden, seq_len, batch in shapes:
        for cell in CELLS:
            config = ExperimentConfig(
                cell=cell, task="adding", hidden=hidden, seq_len=seq_len, batch_size=batch, seed=0
            )
            rows.append(measure(config, repeats, block_seconds, min_steps=2 if smoke else 5))
    worst = min(rows, key=lambda r: r["ratio"])
    worst_config = ExperimentConfig(
        cell=worst["cell"],
        task="adding",
        hidden=worst["hidden"],
        seq_len=worst["seq_len"],
        batch_size=worst["batch"],
    )
    profile = profile_engine(worst_config, 10 if smoke else max(50, worst["block_steps"]))
    verdicts = []
    for r in rows:
        shape = f"{r['cell']} h{r['hidden']} T{r['seq_len']} b{r['batch']}"
        verdicts.append(verdict(f"engine/hand {shape}", r["ratio"], ">=", TARGET))
        verdicts.append(verdict(f"engine/bare {shape}", r["ratio_bare_cpu"], ">=", TARGET))
    sampling = [
        sampling_share(task, hidden, seq_len, batch, 2 if smoke else 5)
        for hidden, seq_len, batch in shapes
        for task in TASKS
    ]
    verdicts += [
        verdict(f"task.sample / step, {r['task']} ({r['shape']})", r["share"], "<=", SAMPLE_TARGET)
        for r in sampling
    ]
    val_default = ExperimentConfig().val_every
    notes = [
        f"{repeats} repetitions of interleaved blocks of about {block_seconds} s; steps/s are medians, "
        "ratios are medians of per-repetition ratios. Task adding, Adam lr 0.01, clip 1.0, one torch "
        "thread. Steps/s and the verdict use the process's CPU time (one thread: the work itself); "
        "the wall-clock ratios are shown too and scatter more because other jobs share the 2 cores.",
        "The bare loop is the floor from the issue: a prebuilt batch, the fused module, the readout "
        "on the last step only, MSE, backward, fused Adam. The engine also draws a fresh batch "
        "every step, takes the gradient norm, clips, reads loss and norm back (.item()), validates "
        "and records history; engine / bare is what all of that costs.",
        "The hand loop uses torch's default (single-tensor) Adam and the readout at every step; the "
        "engine uses fused Adam and, on adding, the readout only at the last step, so engine / hand "
        "can exceed 1.",
        f"The engine validates every val_every={val_default} steps (the default) on a fixed set of "
        "128 sequences; the no-validation column sets val_every=1000, so the gap between the two "
        "ratios is what validation costs.",
        f"cProfile of the engine's step on the worst ratio ({profile['config']}): see the profile table.",
    ]
    return section(
        "throughput",
        "1. Training throughput: Experiment.step vs a hand-written PyTorch loop",
        COLUMNS,
        rows,
        verdicts,
        notes,
        extra={
            "profile": profile,
            "sampling": sampling,
            "tables": [
                {
                    "title": f"Where the engine's step goes (cProfile, {profile['config']}, "
                    f"{profile['steps']} steps, {profile['ms_per_step']:.1f} ms/step under the profiler)",
                    "columns": [
                        ["part", "part"],
                        ["ms_per_step", "ms per step"],
                        ["share", "share"],
                    ],
                    "rows": profile["buckets"],
                },
                {
                    "title": "Data generation: task.sample against one training step (rnn, "
                    "process CPU time, interleaved, medians)",
                    "columns": SAMPLE_COLUMNS,
                    "rows": sampling,
                },
            ],
        },
        seconds=time.perf_counter() - started,
    )
