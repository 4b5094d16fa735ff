"""The memory sweep: how far back each cell can remember, with a fixed step budget per run.

For `copy` the swept setting is the lag (blank steps between seeing and recalling the symbols), for
`adding` it is seq_len (how far apart the two marked numbers can be). Every (value, cell) pair is a
fresh run of `steps_per_run` steps from the same base config and seed; the result is a curve of
success against the setting per cell, where the vanilla RNN falls off first.

Bounded and cancellable: the sweep stops when its training time reaches `max_seconds` or when
`should_stop()` says so, and says why in `stopped_reason`.

>>> sweep = Sweep("copy", values=(5, 10, 20), steps_per_run=300, max_seconds=60)
>>> for point in sweep.run(should_stop=lambda: False):
...     print(point.cell, point.value, point.success, point.solved)
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from core.config import ExperimentConfig
from core.trainer import Experiment

SWEPT = {"copy": "lag", "adding": "seq_len"}  # task -> the setting the sweep varies
# With 500 steps per run (hidden 32, lr 0.01) adding shows the order clearly: the RNN fails from
# seq_len 20, the LSTM at 80, the GRU solves all four.
DEFAULT_VALUES = {"copy": (2, 5, 10, 20), "adding": (10, 20, 40, 80)}
CELLS = ("rnn", "lstm", "gru")
CHUNK = 50  # steps between checks of the clock and of should_stop


@dataclass(frozen=True)
class SweepPoint:
    """One finished run.

    success: 0..1 for both tasks: 0 is no better than the trivial guess, 1 is perfect. Copy:
        (accuracy - 1/alphabet) / (1 - 1/alphabet); adding: 1 - MSE / 0.167, the share of the
        'always answer 1.0' error removed. Clipped to [0, 1].
    solved: the task's own threshold (copy accuracy >= 0.95, adding MSE <= 0.01).
    metric: the task's metric on the validation set (copy accuracy, adding MSE).
    """

    cell: str
    value: int
    success: float
    solved: bool
    metric: float
    steps: int
    seconds: float


class Sweep:
    """Runs every (value, cell) pair in turn: values outer, cells inner, so curves grow together."""

    def __init__(
        self,
        task: str,
        cells: Iterable[str] = CELLS,
        values: Iterable[int] | None = None,
        steps_per_run: int = 300,
        base_config: ExperimentConfig | None = None,
        max_seconds: float = 120.0,
    ) -> None:
        if task not in SWEPT:
            raise ValueError(f"unknown sweep task {task!r}; choose one of: {', '.join(SWEPT)}")
        self.task, self.setting = task, SWEPT[task]
        self.cells = tuple(cells)
        self.values = tuple(int(v) for v in (DEFAULT_VALUES[task] if values is None else values))
        self.steps_per_run = int(steps_per_run)
        self.max_seconds = float(max_seconds)
        # Validation only matters at the end of a run; validating less often saves time.
        base = (base_config or ExperimentConfig()).replace(task=task)
        self.base_config = base.replace(
            val_every=min(1000, max(base.val_every, self.steps_per_run))
        )
        self.plan = [(cell, value) for value in self.values for cell in self.cells]
        for cell, value in self.plan:  # refuse bad values (too long, over budget) up front
            self.config_for(cell, value).check_budget()
        self.points: list[SweepPoint] = []
        self.seconds = 0.0  # training time so far
        self.stopped_reason = ""
        self._experiment: Experiment | None = None

    def config_for(self, cell: str, value: int) -> ExperimentConfig:
        return self.base_config.replace(cell=cell, **{self.setting: value})

    @property
    def total_runs(self) -> int:
        return len(self.plan)

    @property
    def done(self) -> bool:
        return bool(self.stopped_reason) or len(self.points) == len(self.plan)

    def progress(self) -> float:
        """Share of all planned steps done, 0..1."""
        current = self._experiment.steps_done if self._experiment is not None else 0
        total = self.steps_per_run * len(self.plan)
        return (len(self.points) * self.steps_per_run + current) / total if total else 1.0

    def stop(self, reason: str = "stopped") -> None:
        self.stopped_reason = self.stopped_reason or reason
        self._experiment = None

    def advance(self, k: int = CHUNK) -> SweepPoint | None:
        """Train the current run for up to k steps; return its point if it has just finished.
        Stops the sweep (see `stopped_reason`) once the training time reaches max_seconds."""
        if self.done:
            return None
        if self.seconds >= self.max_seconds:
            self.stop(
                f"time budget of {self.max_seconds:g} s used up after {len(self.points)} of "
                f"{len(self.plan)} runs"
            )
            return None
        cell, value = self.plan[len(self.points)]
        started = time.perf_counter()
        if self._experiment is None:
            self._experiment = Experiment(self.config_for(cell, value))
        experiment = self._experiment
        experiment.step(min(int(k), self.steps_per_run - experiment.steps_done))
        self.seconds += time.perf_counter() - started
        if experiment.steps_done < self.steps_per_run and not experiment.diverged:
            return None
        return self._finish(cell, value, experiment)

    def _finish(self, cell: str, value: int, experiment: Experiment) -> SweepPoint:
        started = time.perf_counter()
        metric = math.nan if experiment.diverged else experiment.validate()[1]
        self.seconds += time.perf_counter() - started
        point = SweepPoint(
            cell,
            value,
            self._success(experiment, metric),
            not math.isnan(metric) and experiment.task.is_solved(metric),
            metric,
            experiment.steps_done,
            sum(experiment.history.seconds),
        )
        self.points.append(point)
        self._experiment = None
        return point

    def _success(self, experiment: Experiment, metric: float) -> float:
        if math.isnan(metric):
            return 0.0
        baseline = experiment.task.baseline
        if self.task == "copy":
            score = (metric - baseline) / (1.0 - baseline)
        else:
            score = 1.0 - metric / baseline
        return min(1.0, max(0.0, score))

    def run(
        self, should_stop: Callable[[], bool] | None = None, chunk: int = CHUNK
    ) -> Iterator[SweepPoint]:
        """Yield each finished run's point; `should_stop()` is asked before every chunk of steps."""
        while not self.done:
            if should_stop is not None and should_stop():
                self.stop(f"stopped after {len(self.points)} of {len(self.plan)} runs")
                return
            point = self.advance(chunk)
            if point is not None:
                yield point

    def curves(self) -> dict[str, tuple[list[int], list[float]]]:
        """cell -> (values, successes) of the finished runs, for a success-against-memory chart."""
        curves: dict[str, tuple[list[int], list[float]]] = {cell: ([], []) for cell in self.cells}
        for point in self.points:
            curves[point.cell][0].append(point.value)
            curves[point.cell][1].append(point.success)
        return curves
