"""Benchmark: the built-in real series (core/tasks/series.py) at the defaults, against every
reference on the same validation windows.

For each data set, `ExperimentConfig(task=name, seed=seed)` trains its default step budget
(max_steps) on seeds 0-4; the table gives the network's one-step validation MSE over each
reference's (persistence, the linear AR, seasonal naive where the data set has a season, and the
best of them), in the task's model units; below 1 the network is better. "worst" is the largest
ratio over the seeds. Also the seconds each run took (one torch thread).

    python -m bench.realdata            # every data set, seeds 0-4, max_steps each
    python -m bench.realdata --smoke    # 200 steps, seeds 0-1: a quick look
"""

from __future__ import annotations

import math
import sys
import time

from bench.common import one_thread
from core.config import ExperimentConfig
from core.forecast import references
from core.tasks import DATA_SETS
from core.trainer import Experiment

SEEDS = (0, 1, 2, 3, 4)
REFERENCES = ("persistence", "linear", "seasonal", "best")


def ratios(name: str, seed: int, steps: int | None) -> dict[str, float]:
    """network / each reference for one seed, and the run's seconds."""
    config = ExperimentConfig(task=name, seed=seed)
    experiment = Experiment(config)
    started = time.perf_counter()
    experiment.step(steps or config.max_steps)
    seconds = time.perf_counter() - started
    scores = references(experiment)
    values = {
        "persistence": scores.persistence,
        "linear": scores.linear,
        "seasonal": scores.seasonal if scores.season else math.nan,
        "best": scores.best()[1],
    }
    row = {key: scores.network / value for key, value in values.items()}
    row["seconds"] = seconds
    row["winner"] = "network" if scores.network < scores.best()[1] else scores.best()[0]
    return row


def table(steps: int | None, seeds: tuple[int, ...]) -> list[str]:
    lines = [
        "| data set | rows | seq_len | scaling | network / persistence | / linear AR | "
        "/ seasonal naive | / best reference | winner (worst seed) | s per run |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for data_set in DATA_SETS:
        runs = [ratios(data_set.name, seed, steps) for seed in seeds]
        task = Experiment(ExperimentConfig(task=data_set.name)).task
        worst = max(runs, key=lambda run: run["best"])
        cells = [_cell([run[key] for run in runs]) for key in REFERENCES]
        seconds = max(run["seconds"] for run in runs)
        lines.append(
            f"| {data_set.name} | {len(task.raw)} | {task.config.seq_len} | {task.method} | "
            + " | ".join(cells)
            + f" | {worst['winner']} | {seconds:.1f} |"
        )
        print(lines[-1], file=sys.stderr, flush=True)
    return lines


def _cell(values: list[float]) -> str:
    """worst seed (all seeds)"""
    if all(math.isnan(v) for v in values):
        return "-"
    shown = ", ".join(f"{v:.2f}" for v in values)
    return f"**{max(values):.2f}** ({shown})"


if __name__ == "__main__":
    one_thread()
    smoke = "--smoke" in sys.argv
    print("\n".join(table(200 if smoke else None, (0, 1) if smoke else SEEDS)))
