"""Benchmark 6: peak memory of one session at the largest configurations the cost budget allows,
and the calibration of `core.memory.estimate` (what the server's memory governor reserves per run).

Each configuration runs in its own fresh Python process (`python -m bench.memory --child JSON`):
import core, warm up with a tiny run, build `Experiment(config)` (the page's default budget,
`core.config.COST_BUDGET`), run 20 optimizer steps and 3 probes with the Jacobian on, then report
its peak resident set (VmHWM from /proc/self/status, the per-process high-water mark;
`resource.getrusage` ru_maxrss is inherited across fork + exec on Linux, so a child of a large
parent would report the parent's peak).
The first shapes sit on the budget's edge in different directions: the widest and deepest net with
a batch of 1, long sequences with a wide batch, and so on. The calibration shapes add ordinary
runs of every cell and task. For each, "run growth" (peak minus the warmed-up RSS before the build)
is what the run added, "kept" what it still held at the end, "live" what it held after
`malloc_trim(0)` returned the allocator's free pages, and the estimate is `core.memory.estimate`.
The notes give the factors a least-squares refit of the estimate's terms would choose.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from bench.common import ROOT, section, verdict

TARGET_MB = 500
STEPS, PROBES = 20, 3
GATES = {"rnn": 1, "rnn_relu": 1, "gru": 3, "lstm": 4}


def _per_sequence_step(cell: str, hidden: int, layers: int) -> int:
    return GATES[cell] * (hidden * hidden + hidden * 64) * layers


def edge(
    cell: str,
    hidden: int,
    layers: int = 1,
    batch: int | None = None,
    seq_len: int | None = None,
    task: str = "adding",
) -> dict[str, Any] | None:
    """A config on the budget's edge: give batch (longest seq_len that fits) or seq_len (largest batch)."""
    from core.config import COST_BUDGET, FIELDS

    per = _per_sequence_step(cell, hidden, layers)
    if seq_len is None:
        seq_len = min(int(FIELDS["seq_len"].high), COST_BUDGET // (batch * per))
    if batch is None:
        batch = min(int(FIELDS["batch_size"].high), COST_BUDGET // (seq_len * per))
    if seq_len < 2 or batch < 1:
        return None
    return {
        "cell": cell,
        "hidden": hidden,
        "layers": layers,
        "batch_size": batch,
        "seq_len": seq_len,
        "task": task,
    }


def configs(smoke: bool) -> list[dict[str, Any]]:
    if smoke:
        return [
            {
                "cell": "lstm",
                "hidden": 8,
                "layers": 1,
                "batch_size": 4,
                "seq_len": 10,
                "task": "adding",
            }
        ]
    candidates = [
        # hidden is capped at MAX_INTERACTIVE_HIDDEN (512) for interactive runs since the first
        # run of this benchmark found 3 x 1024-unit LSTMs at 840 MB.
        edge("lstm", 512, layers=3, batch=1),  # most parameters: weights + grads + 2 Adam buffers
        edge("gru", 512, layers=3, batch=1),
        edge("lstm", 512, layers=1, batch=1),  # widest single layer, longest T that fits
        edge("lstm", 64, layers=1, batch=512),  # widest batch
        edge("lstm", 64, layers=1, seq_len=400),  # longest sequence
        edge("rnn", 64, layers=1, seq_len=400),
    ]
    return [c for c in candidates if c] + CALIBRATION


def _shape(cell, hidden, layers, batch, seq_len, task="adding", **extra) -> dict[str, Any]:
    return {
        "cell": cell,
        "hidden": hidden,
        "layers": layers,
        "batch_size": batch,
        "seq_len": seq_len,
        "task": task,
        **extra,
    }


# Ordinary runs for the estimate's fit: every cell and task, small to large, Jacobian on and off.
CALIBRATION = [
    _shape("lstm", 32, 1, 32, 20, "next_number"),
    _shape("lstm", 16, 1, 64, 100, "sine"),
    _shape("gru", 128, 2, 32, 50, "copy"),
    _shape("rnn", 512, 3, 4, 113),
    _shape("lstm", 256, 2, 4, 100, "text"),
    _shape("gru", 96, 1, 64, 60, "speech"),
    _shape("rnn_relu", 256, 1, 16, 200, "adding"),
    _shape("lstm", 128, 3, 8, 100, "adding", optimizer="sgd"),
    _shape("gru", 256, 2, 4, 100, "adding"),
    _shape("lstm", 384, 2, 2, 120, "copy"),
]


def child(spec: dict[str, Any]) -> dict[str, Any]:
    """Runs inside the measured process."""

    def peak_mb() -> float:
        # VmHWM, the peak resident set of this process's own memory map. ru_maxrss would do on a
        # process started from a small parent, but Linux carries the parent's peak RSS across
        # fork + exec into it, so a child of the (torch-loaded) benchmark runner starts high.
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    import contextlib
    import ctypes
    import gc

    import torch

    torch.set_num_threads(1)
    from core import Experiment, ExperimentConfig
    from core.memory import estimate

    def rss_mb() -> float:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def trim() -> None:
        gc.collect()
        with contextlib.suppress(OSError, AttributeError):  # glibc only
            ctypes.CDLL("libc.so.6").malloc_trim(0)

    out: dict[str, Any] = {"rss_import_mb": peak_mb()}
    steps, probes = spec.pop("_steps", STEPS), spec.pop("_probes", PROBES)
    # val_every=1000: validation still runs after step 1 (so its memory counts) and is timed once
    # on its own below, instead of at steps 10 and 20 too, which at batch 1 took most of the time.
    config = ExperimentConfig(**spec, val_every=1000)
    # A tiny run of the same cell and task first: a server has its kernels and libraries warm.
    warm = Experiment(config.replace(hidden=4, layers=1, seq_len=8, batch_size=2))
    warm.step(2)
    warm.probe()
    del warm
    trim()
    out["rss_warm_mb"] = rss_mb()
    out["estimate_mb"] = estimate(config).total_mb
    clock = time.process_time  # CPU seconds: two children share the cores, other jobs too
    start = clock()
    exp = Experiment(config)
    out["build_s"] = clock() - start
    out["rss_built_mb"] = peak_mb()
    exp.step(1)
    start = clock()
    exp.step(steps - 1)
    out["step_s"] = (clock() - start) / max(1, steps - 1)
    start = clock()
    exp.validate()
    out["validate_s"] = clock() - start
    out["rss_steps_mb"] = peak_mb()
    start = clock()
    jacobian = None
    for _ in range(probes):
        jacobian = exp.probe(jacobian=True).jacobian_norm
    out["probe_s"] = (clock() - start) / max(1, probes)
    out["jacobian_computed"] = jacobian is not None
    out["peak_mb"] = peak_mb()
    out["kept_mb"] = rss_mb() - out["rss_warm_mb"]
    trim()
    out["live_mb"] = rss_mb() - out["rss_warm_mb"]
    out["params"] = exp.parameter_count()
    out["cost_m"] = config.cost() / 1e6
    return out


def measure(spec: dict[str, Any], timeout: float = 300) -> dict[str, Any]:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    row: dict[str, Any] = {
        "shape": f"{spec['cell']} h{spec['hidden']} x{spec['layers']} b{spec['batch_size']} T{spec['seq_len']}"
        + (f" ({spec['task']})" if spec.get("task", "adding") != "adding" else ""),
        **{k: v for k, v in spec.items() if not k.startswith("_")},
    }
    try:
        done = subprocess.run(
            [sys.executable, "-m", "bench.memory", "--child", json.dumps(spec)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return {**row, "error": f"timed out after {timeout:.0f} s"}
    if done.returncode != 0:
        return {**row, "error": (done.stderr.strip().splitlines() or ["failed"])[-1][:300]}
    row.update(json.loads(done.stdout.strip().splitlines()[-1]))
    row["over_mb"] = max(0.0, row["peak_mb"] - TARGET_MB)
    row["session_mb"] = row["peak_mb"] - row["rss_import_mb"]
    row["growth_mb"] = row["peak_mb"] - row["rss_warm_mb"]
    row["estimate_ratio"] = row["estimate_mb"] / max(row["growth_mb"], 1.0)
    return row


COLUMNS = [
    ("shape", "config (cell, hidden x layers, batch, T)"),
    ("cost_m", "cost (M MACs, budget 400)"),
    ("params", "parameters"),
    ("rss_import_mb", "RSS after import MB"),
    ("rss_built_mb", "after build MB"),
    ("rss_steps_mb", "after 20 steps MB"),
    ("peak_mb", "peak (after 3 probes) MB"),
    ("over_mb", "over 500 MB by"),
    ("session_mb", "session (peak - import) MB"),
    ("growth_mb", "run growth (peak - warm) MB"),
    ("kept_mb", "kept at end MB"),
    ("live_mb", "live after trim MB"),
    ("estimate_mb", "core.memory estimate MB"),
    ("estimate_ratio", "estimate / growth"),
    ("step_s", "CPU s per step"),
    ("validate_s", "CPU s per validation"),
    ("probe_s", "CPU s per probe (jacobian on)"),
    ("jacobian_computed", "jacobian computed"),
    ("error", "error"),
]


def run(smoke: bool = False) -> dict[str, Any]:
    started = time.perf_counter()
    specs = configs(smoke)
    if smoke:
        specs = [{**s, "_steps": 2, "_probes": 1} for s in specs]
    # Two at a time on the two cores (one torch thread each); peak RSS is per process.
    with ThreadPoolExecutor(max_workers=1 if smoke else 2) as pool:
        rows = list(pool.map(measure, specs))
    edges = rows[: len(rows) - (0 if smoke else len(CALIBRATION))]
    verdicts = [
        verdict(
            f"peak RSS MB, {r['shape']}",
            r.get("peak_mb"),
            "<=",
            TARGET_MB,
            f"over by {r['over_mb']:.0f} MB" if r.get("over_mb") else "",
        )
        for r in edges
    ]
    measured = [r for r in rows if "growth_mb" in r]
    if measured:
        verdicts.append(
            verdict(
                "smallest estimate / measured run growth (the governor never under-reserves)",
                min(r["estimate_ratio"] for r in measured),
                ">=",
                1.0,
            )
        )
    from core.config import COST_BUDGET
    from core.trainer import PROBE_BATCH, VAL_BATCH

    notes = [
        f"Each row is a fresh process: import, Experiment(config) under COST_BUDGET={COST_BUDGET:,}, "
        f"{STEPS} steps, {PROBES} probes with jacobian=True; peak = VmHWM (the process's own high-water "
        "mark; ru_maxrss inherits the parent's peak across fork+exec on Linux). 'session' is peak "
        "minus the RSS right after importing torch and core: what one more session costs a server "
        "process that already has them loaded.",
        f"Validation runs on {VAL_BATCH} sequences and the probe on {PROBE_BATCH}, whatever the training "
        "batch, so at batch 1 the cost budget does not bound them: see the CPU s per validation and "
        "per probe columns (one page tick waits for a whole probe). The child runs with "
        "val_every=1000: validation still runs after step 1, so its memory is in the peak, and is "
        "timed once on its own; the step time excludes it.",
        calibration_note(measured),
    ]
    return section(
        "memory",
        "6. Memory: peak RSS of one session at the budget's edge",
        COLUMNS,
        rows,
        verdicts,
        notes,
        seconds=time.perf_counter() - started,
    )


def calibration_note(rows: list[dict[str, Any]]) -> str:
    """The factors a non-negative least-squares fit of the estimate's terms to the measured run
    growth would choose, scaled so that no shape is under-estimated."""
    import numpy as np

    from core import ExperimentConfig
    from core.memory import FIXED_BYTES, MB, raw_terms
    from core.tasks import make_task

    names = ["weights", "evaluation", "training", "jacobian"]
    features, targets = [], []
    for row in rows:
        spec = {k: row[k] for k in ("cell", "hidden", "layers", "batch_size", "seq_len", "task")}
        spec.update({k: row[k] for k in ("optimizer",) if k in row})
        config = ExperimentConfig(**spec)
        task = make_task(config)
        raw = raw_terms(config, task.input_size, task.output_size)
        features.append([raw[n] / MB for n in names] + [1.0])
        targets.append(row["growth_mb"])
    if len(rows) < len(names) + 1:
        return "Calibration: too few shapes measured for a fit."
    factors = _nonnegative_lstsq(np.array(features), np.array(targets))
    fitted = np.array(features) @ factors
    scale = max(1.0, float(np.max(np.array(targets) / np.maximum(fitted, 1e-9))))
    factors = factors * scale
    parts = ", ".join(f"{n} x{f:.2f}" for n, f in zip(names, factors[:-1], strict=True))
    return (
        f"Calibration: a non-negative least-squares fit of run growth to the estimate's terms, "
        f"scaled by {scale:.2f} so that no shape is under-estimated, gives {parts}, fixed "
        f"{factors[-1]:.0f} MB (core/memory.py uses its own factors, fixed "
        f"{FIXED_BYTES / MB:.0f} MB: compare the 'estimate / growth' column)."
    )


def _nonnegative_lstsq(a, b):
    """Least squares with every coefficient >= 0: refit without the negative ones until none is."""
    import numpy as np

    keep = np.ones(a.shape[1], dtype=bool)
    coefficients = np.zeros(a.shape[1])
    while keep.any():
        solution, *_ = np.linalg.lstsq(a[:, keep], b, rcond=None)
        if (solution >= 0).all():
            coefficients[keep] = solution
            break
        keep[np.flatnonzero(keep)[solution < 0]] = False
    return coefficients


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        print(json.dumps(child(json.loads(sys.argv[2]))))
    else:
        print(
            "usage: python -m bench.memory --child JSON  (run the benchmark with python -m bench.run)"
        )
