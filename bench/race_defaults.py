"""The Race at its page defaults (core.teaching.race.DEFAULTS) on seeds 0-4: each cell's final
validation metric, seconds, and the conclusion sentence the page shows.

    OMP_NUM_THREADS=1 python -m bench.race_defaults [task seq_len hidden steps]
"""

from __future__ import annotations

import sys
import time

from core.config import ExperimentConfig
from core.teaching import Race
from core.teaching.race import CELLS, DEFAULTS


def race_at(seed: int, **changes) -> Race:
    config = ExperimentConfig(**{**DEFAULTS, **changes}, seed=seed)
    race = Race(config, CELLS, steps=config.max_steps)
    while not race.done:
        race.step(100)
    return race


def main(changes: dict, seeds=range(5)) -> None:
    for seed in seeds:
        started = time.perf_counter()
        race = race_at(seed, **changes)
        metrics = race.metrics()
        figures = "  ".join(f"{c} {metrics[c]['val_metric']:.4g}" for c in race.cells)
        seconds = time.perf_counter() - started
        print(f"seed {seed}: {figures}  ({seconds:.1f} s)\n  {race.conclusion()}", flush=True)


if __name__ == "__main__":
    names = ("task", "seq_len", "hidden", "max_steps")
    given = dict(zip(names, sys.argv[1:], strict=False))
    main({k: v if k == "task" else int(v) for k, v in given.items()})
