"""Benchmark 2: what one `Experiment.probe()` costs next to one training step, as T grows.

Every cell, hidden 64, training batch 32 (task adding), the probe on the engine's fixed probe batch
(`core.trainer.PROBE_BATCH` sequences). The training step is timed over a short block with
validation off (val_every=1000) and divided, so it is one optimizer step; probe(jacobian=False),
probe(jacobian=True), probe(jacobian=False, spectrum=False) and the eigenvalues alone
(`recurrent_spectrum`, which depends on the weights only, not on T) are timed one call each. The
five are interleaved per repetition.
Growth with T is the least-squares slope of log(time) against log(T): 1 is linear.

    python -m bench.run --only probe
"""

from __future__ import annotations

import time
from typing import Any

from bench.common import (
    interleave,
    log_log_slope,
    median,
    one_thread,
    pick,
    section,
    timed,
    verdict,
)
from core import Experiment, ExperimentConfig
from core.cells import CELL_NAMES
from core.probes import JACOBIAN_BUDGET, recurrent_spectrum
from core.trainer import PROBE_BATCH

TARGET = 1.5  # probe(jacobian=False) in training steps, every cell and T
CELLS = CELL_NAMES
LENGTHS = (10, 50, 100, 400)
HIDDEN, BATCH = 64, 32


def measure(cell: str, seq_len: int, hidden: int, batch: int, repeats: int) -> dict[str, Any]:
    config = ExperimentConfig(
        cell=cell, task="adding", hidden=hidden, seq_len=seq_len, batch_size=batch, val_every=1000
    )
    exp = Experiment(config, budget=None)  # lstm at T 400, batch 32 is just over COST_BUDGET
    exp.step(2)
    exp.probe(jacobian=False)
    jac = exp.probe(jacobian=True)
    per_step = timed(lambda: exp.step(2))["cpu"] / 2
    block = max(1, min(20, round(0.25 / max(per_step, 1e-6))))
    samples = interleave(
        {
            "step": lambda: {k: v / block for k, v in timed(lambda: exp.step(block)).items()},
            "probe": lambda: timed(lambda: exp.probe(jacobian=False)),
            "probe_jac": lambda: timed(lambda: exp.probe(jacobian=True)),
            "probe_lean": lambda: timed(lambda: exp.probe(jacobian=False, spectrum=False)),
            "spectrum": lambda: timed(lambda: recurrent_spectrum(exp.model)),
        },
        repeats,
    )
    row: dict[str, Any] = {"cell": cell, "seq_len": seq_len}
    for clock, suffix in (("cpu", ""), ("wall", "_wall")):
        step_ms = 1000 * median(pick(samples["step"], clock))
        probe_ms = 1000 * median(pick(samples["probe"], clock))
        jac_ms = 1000 * median(pick(samples["probe_jac"], clock))
        spectrum_ms = 1000 * median(pick(samples["spectrum"], clock))
        lean_ms = 1000 * median(pick(samples["probe_lean"], clock))
        row.update(
            {
                f"step_ms{suffix}": step_ms,
                f"probe_ms{suffix}": probe_ms,
                f"probe_ratio{suffix}": probe_ms / step_ms,
                f"spectrum_ms{suffix}": spectrum_ms,
                f"probe_ratio_no_spectrum{suffix}": lean_ms / step_ms,
                f"probe_jac_ms{suffix}": jac_ms,
                f"probe_jac_ratio{suffix}": jac_ms / step_ms,
            }
        )
    row["jacobian_computed"] = jac.jacobian_norm is not None
    return row


COLUMNS = [
    ("cell", "cell"),
    ("seq_len", "T"),
    ("step_ms", "train step ms"),
    ("probe_ms", "probe ms (jacobian=False)"),
    ("probe_ratio", "probe / step ratio"),
    ("spectrum_ms", "eigenvalues alone ms"),
    ("probe_ratio_no_spectrum", "probe(spectrum=False) / step"),
    ("probe_jac_ms", "probe ms (jacobian=True)"),
    ("probe_jac_ratio", "probe+jacobian / step ratio"),
    ("jacobian_computed", "jacobian computed"),
    ("probe_ratio_wall", "probe / step (wall clock)"),
]


def run(smoke: bool = False) -> dict[str, Any]:
    one_thread()
    started = time.perf_counter()
    cells = ("lstm",) if smoke else CELLS
    lengths = (5, 10) if smoke else LENGTHS
    hidden, batch = (8, 8) if smoke else (HIDDEN, BATCH)
    rows = []
    for cell in cells:
        for seq_len in lengths:
            repeats = 1 if smoke else 5
            rows.append(measure(cell, seq_len, hidden, batch, repeats))
    slopes = []
    for cell in cells:
        mine = [r for r in rows if r["cell"] == cell]
        with_jac = [r for r in mine if r["jacobian_computed"]]
        slopes.append(
            {
                "cell": cell,
                "step_slope": log_log_slope(
                    [r["seq_len"] for r in mine], [r["step_ms"] for r in mine]
                ),
                "probe_slope": log_log_slope(
                    [r["seq_len"] for r in mine], [r["probe_ms"] for r in mine]
                ),
                "probe_jac_slope": log_log_slope(
                    [r["seq_len"] for r in with_jac], [r["probe_jac_ms"] for r in with_jac]
                ),
                "jac_lengths": ", ".join(str(r["seq_len"]) for r in with_jac) or "none",
            }
        )
    verdicts = [
        verdict(
            f"probe(jacobian=False) / step, {r['cell']} T{r['seq_len']}",
            r["probe_ratio"],
            "<=",
            TARGET,
        )
        for r in rows
    ]
    for s in slopes:
        verdicts.append(
            verdict(
                f"probe growth with T (log-log slope), {s['cell']}",
                s["probe_slope"],
                "<=",
                1.2,
                "about 1 means linear",
            )
        )
    notes = [
        f"hidden {hidden}, training batch {batch}, probe batch {PROBE_BATCH} (the engine's fixed probe "
        "batch), task adding, one torch thread; medians of 5 interleaved repetitions. "
        "Times are the process's CPU time (one thread: the work itself, little disturbed by other "
        "jobs on the shared cores); the wall-clock ratio is shown for comparison.",
        "The probe's eigenvalues (float64 LAPACK, one set per gate block of the last layer's "
        "recurrent weight) cost the same at every T, so they weigh most at small T; "
        "probe(spectrum=False) skips them (a page can refresh them less often, as it does the "
        "Jacobian) and shows what the instrumented pass itself costs.",
        f"The Jacobian part is skipped (jacobian_norm None) when 4 examples x T x state^2 exceeds "
        f"JACOBIAN_BUDGET={JACOBIAN_BUDGET:,}; for LSTM the state is [h; c] (2 x hidden), so it stops "
        "above T of about 120 at hidden 64.",
    ]
    return section(
        "probe",
        "2. Probe cost: one probe() vs one training step",
        COLUMNS,
        rows,
        verdicts,
        notes,
        extra={
            "slopes": slopes,
            "tables": [
                {
                    "title": "Growth with T: least-squares slope of log(ms) on log(T) (1 = linear)",
                    "columns": [
                        ["cell", "cell"],
                        ["step_slope", "train step"],
                        ["probe_slope", "probe (jacobian=False)"],
                        ["probe_jac_slope", "probe (jacobian=True)"],
                        ["jac_lengths", "T with jacobian"],
                    ],
                    "rows": slopes,
                }
            ],
        },
        seconds=time.perf_counter() - started,
    )
