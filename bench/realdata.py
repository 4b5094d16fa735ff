"""Benchmark: the built-in real series (core/tasks/series.py) at the defaults, against every
reference on the same validation windows.

For each data set, `ExperimentConfig(task=name, seed=seed)` trains its default step budget
(max_steps) on seeds 0-4; the table gives the network's one-step validation MSE over each
reference's (persistence, the linear AR, seasonal naive where the data set has a season,
Holt-Winters, and the best of them), in the task's model units; below 1 the network is better.
"worst" is the largest ratio over the seeds. Also the seconds each run took (one torch thread).

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
REFERENCES = ("persistence", "linear", "seasonal", "ets", "best")


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
        "ets": scores.ets,
        "best": scores.best()[1],
    }
    row = {key: scores.network / value for key, value in values.items()}
    row["seconds"] = seconds
    row["winner"] = "network" if scores.network < scores.best()[1] else scores.best()[0]
    return row


GOAL = 1.1  # the goal: within 1.1x of the best reference, persistence included
COLUMNS = [
    ("data_set", "data set"),
    ("rows", "rows"),
    ("seq_len", "seq_len"),
    ("scaling", "scaling"),
    ("persistence", "network / persistence"),
    ("linear", "/ linear AR"),
    ("seasonal", "/ seasonal naive"),
    ("ets", "/ Holt-Winters"),
    ("best", "/ best reference"),
    ("winner", "winner (worst seed)"),
    ("seconds", "s per run"),
]


def rows(steps: int | None, seeds: tuple[int, ...]) -> list[dict]:
    """One row per data set: each ratio as "worst (every seed)", the worst seed's winner."""
    table = []
    for data_set in DATA_SETS:
        runs = [ratios(data_set.name, seed, steps) for seed in seeds]
        task = Experiment(ExperimentConfig(task=data_set.name)).task
        worst = max(runs, key=lambda run: run["best"])
        row = {key: _cell([run[key] for run in runs]) for key in REFERENCES}
        row |= {
            "data_set": data_set.name,
            "rows": len(task.raw),
            "seq_len": task.config.seq_len,
            "scaling": task.method,
            "winner": worst["winner"],
            "seconds": round(max(run["seconds"] for run in runs), 1),
            "worst_best": worst["best"],
        }
        table.append(row)
        print(row, file=sys.stderr, flush=True)
    return table


def _cell(values: list[float]) -> str:
    """worst seed (all seeds)"""
    if all(math.isnan(v) for v in values):
        return "-"
    shown = ", ".join(f"{v:.2f}" for v in values)
    return f"{max(values):.2f} ({shown})"


def run(smoke: bool = False) -> dict:
    from bench.common import section, verdict

    started = time.perf_counter()
    one_thread()
    table = rows(200 if smoke else None, (0, 1) if smoke else SEEDS)
    verdicts = [  # none in a smoke run: too few steps to judge
        verdict(
            f"{r['data_set']}: network / best reference, worst seed", r["worst_best"], "<=", GOAL
        )
        for r in ([] if smoke else table)
    ]
    return section(
        "realdata",
        "Built-in real series at the defaults: the network over each reference, seeds 0-4",
        COLUMNS,
        table,
        verdicts,
        notes=[
            "Ratios are one-step validation MSE over the reference's, on the same validation "
            "windows, in model units; below 1 the network is better. Each cell: the worst seed, "
            "then every seed.",
        ],
        seconds=time.perf_counter() - started,
    )


if __name__ == "__main__":
    result = run(smoke="--smoke" in sys.argv)
    keys = [key for key, _ in COLUMNS]
    print("| " + " | ".join(header for _, header in COLUMNS) + " |")
    print("|" + "---|" * len(keys))
    for row in result["rows"]:
        print("| " + " | ".join(str(row[key]) for key in keys) + " |")
