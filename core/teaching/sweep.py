"""The memory sweep: how far back each cell can remember.

The task says what to stretch (`Task.memory_setting`: the copy task's lag, the adding problem's
length) and which values to try by default (`Task.memory_values`). Every (value, cell) pair is a
fresh run from the same base config and seed with a step budget; a run stops early once it has
counted as solved at three validations in a row, so the budget can be generous where a cell
learns and costs only where it fails. The result is a curve of success (0: no better than the
task's trivial guess, 1: perfect; `Task.success`) against the setting per cell, and `reach()`, the
longest value each cell solved.

Bounded and cancellable: the sweep stops when its training time reaches `max_seconds` or when
`should_stop()` says so, and says why in `stopped_reason`. `advance(k, workers=2)` trains two
runs at once in threads.

>>> sweep = Sweep("copy", values=(5, 10, 20), steps_per_run=600, max_seconds=60)
>>> for point in sweep.run(should_stop=lambda: False):
...     print(point.cell, point.value, point.success, point.solved)
>>> sweep.conclusion()
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from core.cells import CELLS as REGISTRY
from core.cells import CLASSIC_CELLS
from core.config import ExperimentConfig
from core.tasks import make_task
from core.teaching.runner import TRAINING_POOL, solved_lately
from core.trainer import Experiment

CELLS = CLASSIC_CELLS
CHUNK = 50  # steps between checks of the clock and of should_stop
STEPS_PER_RUN = 800  # enough for every cell to reach its plateau on the default values


@dataclass(frozen=True)
class SweepPoint:
    """One finished run.

    success: 0..1, `Task.success` of the final validation metric (0: no better than the trivial
        guess, 1: perfect). solved: the task's own threshold (copy accuracy >= 0.95, adding MSE
        <= 0.01). metric: the task's metric on the validation set. steps: trained (fewer than the
        budget when it solved early).
    """

    cell: str
    value: int
    success: float
    solved: bool
    metric: float
    steps: int
    seconds: float


class Sweep:
    """Runs every (value, cell) pair: values outer, cells inner, so curves grow together."""

    def __init__(
        self,
        task: str,
        cells: Iterable[str] = CELLS,
        values: Iterable[int] | None = None,
        steps_per_run: int = STEPS_PER_RUN,
        base_config: ExperimentConfig | None = None,
        max_seconds: float = 120.0,
    ) -> None:
        base = (base_config or ExperimentConfig(hidden=32, lr=0.02)).replace(task=task)
        self.task = make_task(base)
        if self.task.memory_setting is None:
            raise ValueError(f"the {task} task has no memory setting to sweep; try adding or copy")
        self.setting = self.task.memory_setting
        self.cells = tuple(cells)
        chosen = self.task.memory_values if values is None else values
        self.values = tuple(int(v) for v in chosen)
        self.steps_per_run = int(steps_per_run)
        self.max_seconds = float(max_seconds)
        # Validation decides when a run has learned: every 25 steps.
        self.base_config = base.replace(val_every=25)
        self.plan = [(cell, value) for value in self.values for cell in self.cells]
        for cell, value in self.plan:  # refuse bad values (too long, over budget) up front
            self.config_for(cell, value).check_budget()
        self.points: list[SweepPoint] = []
        self.seconds = 0.0  # wall time spent training so far
        self.stopped_reason = ""
        self._running: dict[int, Experiment] = {}  # plan index -> its run, while it trains
        self._next = 0  # the next plan index to start

    def config_for(self, cell: str, value: int) -> ExperimentConfig:
        return self.base_config.replace(cell=cell, **{self.setting: value})

    @property
    def total_runs(self) -> int:
        return len(self.plan)

    @property
    def done(self) -> bool:
        return bool(self.stopped_reason) or len(self.points) == len(self.plan)

    def progress(self) -> float:
        """Share of all planned steps done, 0..1 (a run that solved early counts as whole)."""
        current = sum(e.steps_done for e in self._running.values())
        total = self.steps_per_run * len(self.plan)
        return min(1.0, (len(self.points) * self.steps_per_run + current) / total) if total else 1.0

    def stop(self, reason: str = "stopped") -> None:
        self.stopped_reason = self.stopped_reason or reason
        self._running.clear()

    def advance(self, k: int = CHUNK, workers: int = 1) -> list[SweepPoint]:
        """Train up to `workers` runs for up to k steps each; return the points that finished.
        Stops the sweep (see `stopped_reason`) once the training time reaches max_seconds."""
        if self.done:
            return []
        if self.seconds >= self.max_seconds:
            self.stop(
                f"time budget of {self.max_seconds:g} s used up after {len(self.points)} of "
                f"{len(self.plan)} runs"
            )
            return []
        while len(self._running) < max(1, workers) and self._next < len(self.plan):
            cell, value = self.plan[self._next]
            self._running[self._next] = Experiment(self.config_for(cell, value))
            self._next += 1
        started = time.perf_counter()
        runs = list(self._running.values())
        steps = [min(int(k), self.steps_per_run - e.steps_done) for e in runs]
        if len(runs) > 1:
            list(TRAINING_POOL.map(lambda job: job[0].step(job[1]), zip(runs, steps, strict=True)))
        else:
            runs[0].step(steps[0])
        self.seconds += time.perf_counter() - started
        return [self._finish(index) for index in list(self._running) if self._finished(index)]

    def _finished(self, index: int) -> bool:
        experiment = self._running[index]
        return (
            experiment.diverged
            or experiment.steps_done >= self.steps_per_run
            or solved_lately(experiment)
        )

    def _finish(self, index: int) -> SweepPoint:
        experiment = self._running.pop(index)
        cell, value = self.plan[index]
        metric = math.nan if experiment.diverged else experiment.validate()[1]
        point = SweepPoint(
            cell,
            value,
            experiment.task.success(metric),
            not math.isnan(metric) and experiment.task.is_solved(metric),
            metric,
            experiment.steps_done,
            sum(experiment.history.seconds),
        )
        self.points.append(point)
        return point

    def run(
        self, should_stop: Callable[[], bool] | None = None, chunk: int = CHUNK, workers: int = 1
    ) -> Iterator[SweepPoint]:
        """Yield each finished run's point; `should_stop()` is asked before every chunk of steps."""
        while not self.done:
            if should_stop is not None and should_stop():
                self.stop(f"stopped after {len(self.points)} of {len(self.plan)} runs")
                return
            yield from self.advance(chunk, workers)

    def curves(self) -> dict[str, tuple[list[int], list[float]]]:
        """cell -> (values, successes) of the finished runs, sorted by value."""
        curves: dict[str, tuple[list[int], list[float]]] = {cell: ([], []) for cell in self.cells}
        for point in sorted(self.points, key=lambda p: p.value):
            curves[point.cell][0].append(point.value)
            curves[point.cell][1].append(point.success)
        return curves

    def reach(self) -> dict[str, int | None]:
        """cell -> the longest value it solved, None if it solved none (finished runs only)."""
        reach: dict[str, int | None] = dict.fromkeys(self.cells)
        for point in self.points:
            if point.solved and (reach[point.cell] is None or point.value > reach[point.cell]):
                reach[point.cell] = point.value
        return reach

    def conclusion(self) -> str:
        """One sentence: how far each cell remembered, furthest first."""
        reach = self.reach()
        ordered = sorted(
            self.cells, key=lambda c: -1 if reach[c] is None else reach[c], reverse=True
        )
        parts = []
        for cell in ordered:
            if reach[cell] is None:
                parts.append(f"{REGISTRY[cell].label} solved none of them")
            else:
                parts.append(
                    f"{REGISTRY[cell].label} remembered up to {self.setting} {reach[cell]}"
                )
        tried = ", ".join(str(v) for v in self.values)
        return f"Of {self.setting} {tried}: " + "; ".join(parts) + "."
