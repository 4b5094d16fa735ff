"""The cell race: the no-memory model, rnn, lstm and gru trained side by side on identical data,
seed and step budget.

Each cell gets its own `Experiment` built from the same base config with only `cell` changed, so
every experiment draws the same training batches (the trainer seeds its data stream from the
config's seed alone) and differences come from the cell. `step(k)` advances every cell by the same
k steps and records the wall time each one took:

>>> race = Race(ExperimentConfig(task="adding", seq_len=50, lr=0.01), steps=600)
>>> while not race.done:
...     race.step(50)
>>> race.metrics()["gru"]["val_loss"], race.wall_seconds, race.parameter_counts()
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Mapping
from typing import Any

from core.cells import CELLS as REGISTRY
from core.cells import CLASSIC_CELLS
from core.config import ExperimentConfig
from core.probes import Probe
from core.teaching.measures import steps_to_solve
from core.trainer import Experiment, History

CELLS = CLASSIC_CELLS
# The Race page's defaults: the adding problem short enough that a vanilla RNN learns part of it
# while LSTM and GRU solve it and the no-memory model can't begin (bench/race_defaults.py measures
# seeds 0-4; tests/core/teaching/test_race.py checks the ranking). Learning rate as the page sets.
DEFAULTS = dict(task="adding", seq_len=10, hidden=32, max_steps=400, lr=0.01, val_every=25)
PART_SUCCESS = 0.2  # a cell this far from the baseline towards perfect (Task.success) learned part
MAX_CHUNK = 1000  # steps per cell in one step() call: keeps one call bounded
# What a per-cell override may change: the model and its optimizer, never the data.
OVERRIDABLE = (
    "hidden",
    "layers",
    "dropout",
    "init",
    "init_gain",
    "forget_bias",
    "optimizer",
    "lr",
    "momentum",
    "weight_decay",
    "clip",
)


class Race:
    """One Experiment per cell with identical task, data seed and step budget.

    base_config: everything but the cell. steps: the step budget per cell (default
    base_config.max_steps). overrides: optional cell -> config changes (say a smaller learning rate
    for one cell); never the task or seed, which must stay shared.
    """

    def __init__(
        self,
        base_config: ExperimentConfig,
        cells: Iterable[str] = CELLS,
        steps: int | None = None,
        overrides: Mapping[str, Mapping[str, Any]] | None = None,
        data: Any = None,
    ) -> None:
        self.base_config = base_config
        self.cells = tuple(cells)
        if not self.cells:
            raise ValueError(f"a race needs at least one cell; choose from: {', '.join(REGISTRY)}")
        self.steps = int(steps or base_config.max_steps)
        self.experiments: dict[str, Experiment] = {
            cell: Experiment(self._config(cell, (overrides or {}).get(cell, {})), data=data)
            for cell in self.cells
        }
        self.wall_seconds = dict.fromkeys(self.cells, 0.0)

    def _config(self, cell: str, changes: Mapping[str, Any]) -> ExperimentConfig:
        refused = sorted(set(changes) - set(OVERRIDABLE))
        if refused:
            raise ValueError(
                f"a race override may not change {', '.join(refused)}: every cell sees the same "
                f"data; overridable: {', '.join(OVERRIDABLE)}"
            )
        return self.base_config.replace(cell=cell, **changes)

    @property
    def steps_done(self) -> int:
        """Steps every cell has completed (a diverged cell stops early and is not waited for)."""
        running = [e.steps_done for e in self.experiments.values() if not e.diverged]
        return min(running) if running else max(e.steps_done for e in self.experiments.values())

    @property
    def remaining(self) -> int:
        return max(0, self.steps - self.steps_done)

    @property
    def done(self) -> bool:
        return self.remaining == 0 or all(e.diverged for e in self.experiments.values())

    def step(self, k: int = 1) -> dict[str, dict[str, Any]]:
        """Advance every cell by min(k, remaining budget, MAX_CHUNK) steps; return `metrics()`."""
        k = max(0, min(int(k), self.remaining, MAX_CHUNK))
        for cell, experiment in self.experiments.items():
            started = time.perf_counter()
            experiment.step(k)
            self.wall_seconds[cell] += time.perf_counter() - started
        return self.metrics()

    def metrics(self) -> dict[str, dict[str, Any]]:
        """cell -> the experiment's metrics plus wall_seconds and parameters."""
        counts = self.parameter_counts()
        return {
            cell: {
                **e.metrics(),
                "wall_seconds": self.wall_seconds[cell],
                "parameters": counts[cell],
            }
            for cell, e in self.experiments.items()
        }

    def probes(self, jacobian: bool = False) -> dict[str, Probe]:
        """cell -> Probe of its fixed probe batch (the same sequences for every cell)."""
        return {cell: e.probe(jacobian=jacobian) for cell, e in self.experiments.items()}

    def histories(self) -> dict[str, History]:
        return {cell: e.history for cell, e in self.experiments.items()}

    def parameter_counts(self, recurrent_only: bool = False) -> dict[str, int]:
        """cell -> trainable parameters (all, or only the recurrent layers')."""
        return {
            cell: e.model.parameter_count(recurrent_only=recurrent_only)
            for cell, e in self.experiments.items()
        }

    def reset(self) -> None:
        """Start every cell again from its initial weights and the start of the data stream."""
        for experiment in self.experiments.values():
            experiment.reset()
        self.wall_seconds = dict.fromkeys(self.cells, 0.0)

    def seconds_per_step(self) -> dict[str, float]:
        """cell -> wall seconds per training step so far (NaN before the first step)."""
        return {
            cell: self.wall_seconds[cell] / e.steps_done if e.steps_done else math.nan
            for cell, e in self.experiments.items()
        }

    def conclusion(self) -> str:
        """One sentence from the numbers: who solved the task and when, who learned part of it,
        who stayed at the baseline, then the ranking those give (worst < best; ≈ within a tier)."""
        task = next(iter(self.experiments.values())).task
        solved, partly, not_at_all = [], [], []
        for cell, experiment in self.experiments.items():
            step, metric = steps_to_solve(experiment), experiment.metrics()["val_metric"]
            if not math.isnan(step):
                solved.append((step, cell))
            elif task.success(metric) >= PART_SUCCESS:
                partly.append((task.success(metric), cell))
            else:
                not_at_all.append(cell)
        solved.sort()
        partly.sort(reverse=True)
        parts = []
        if solved:
            steps = [f"{_name(cell)} at step {step:.0f}" for step, cell in solved]
            parts.append(f"Solved first by {steps[0]}" + "".join(f", then {s}" for s in steps[1:]))
        else:
            verb = "solved" if self.done else "has solved"
            parts.append(
                f"None {verb} it in {self.steps_done:,} steps" + ("" if self.done else " yet")
            )
        if partly:
            parts.append(f"{self._scores([c for _, c in partly])} learned part of it")
        if not_at_all:
            parts.append(
                f"{self._scores(not_at_all)} stayed at the baseline ({task.baseline_name} scores "
                f"{task.baseline:.3g})"
            )
        # Worst to best: the baseline tier, each partial learner, the tier that solved it.
        groups = [" ≈ ".join(_name(cell) for cell in not_at_all)] if not_at_all else []
        groups += [_name(cell) for _, cell in reversed(partly)]
        if solved:
            groups.append(" ≈ ".join(_name(cell) for _, cell in reversed(solved)))
        text = "; ".join(parts) + "."
        if len(groups) > 1:
            when = "after" if self.done else "so far, after"
            text += f" Ranking {when} {self.steps_done:,} steps: " + " < ".join(groups) + "."
        return text

    def _scores(self, cells: list[str]) -> str:
        """Say, "RNN (validation MSE 0.0164)"; several cells share one parenthesis."""
        metric = next(iter(self.experiments.values())).task.metric_name
        if len(cells) == 1:
            value = self.experiments[cells[0]].metrics()["val_metric"]
            return f"{_name(cells[0])} (validation {metric} {value:.3g})"
        scores = ", ".join(
            f"{_name(cell)} {self.experiments[cell].metrics()['val_metric']:.3g}" for cell in cells
        )
        return f"{_and(cells)} (validation {metric}: {scores})"


def _name(cell: str) -> str:
    return REGISTRY[cell].label


def _and(cells: list[str]) -> str:
    names = [_name(cell) for cell in cells]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
