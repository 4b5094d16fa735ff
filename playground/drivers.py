"""Drivers: each adapts one kind of run to the live worker (playground/live.py) and holds what
the page draws from it, so a run's data flows one way: steps, then metrics, then the probe (in
the worker), then the figures and the page (in a script run, reading under the same locks).

No Streamlit here. A driver lives in the session's workspace for as long as its run does; when
the workspace drops it, `close()` stops its worker.
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass, field
from typing import Any

from core import Experiment, Probe
from core.teaching import ClaimRun, Race, Sweep
from playground import live
from playground.live import JACOBIAN_EVERY_SECONDS, TEACHING_SLICE_SECONDS, Live, Pace


@dataclass
class TrainingDriver:
    """The playground's run: an Experiment trained up to `max_steps`, its latest metrics and probe.

    The Jacobian (up to ~0.2 s for an LSTM) is taken at most every JACOBIAN_EVERY_SECONDS, and
    only while the page shows a chart of it (`JACOBIAN_VIEWS`); in between the probe carries
    the last one."""

    experiment: Experiment
    max_steps: int
    pace: Pace = field(default_factory=Pace)
    probe: Probe | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    jacobian_at: float = -math.inf
    workers: int = 1
    live: Live = field(default_factory=Live)
    observed: int = 0  # probes taken so far: what the page's figures are built for

    @property
    def remaining(self) -> int:
        if self.experiment.diverged:
            return 0
        return max(0, self.max_steps - self.experiment.steps_done)

    @property
    def experiments(self) -> list[Experiment]:
        return [self.experiment]

    @property
    def step(self) -> int:
        return self.experiment.steps_done

    def advance(self, k: int, workers: int = 1) -> None:
        self.metrics = self.experiment.step(k)

    def observe(self, jacobian: bool | None = None) -> None:
        """Probe the run (with a Jacobian when due or asked for) and keep it for drawing."""
        if self.experiment.diverged:
            return
        now = time.perf_counter()
        if jacobian is None:
            due = now - self.jacobian_at >= JACOBIAN_EVERY_SECONDS
            jacobian = due and self.live.view in JACOBIAN_VIEWS
        # The eigenvalues (3-4 ms for an LSTM at hidden 64, as much as the rest of the probe at
        # T 10) are refreshed with the Jacobian; in between the probe carries the last ones.
        spectrum = jacobian or self.probe is None
        probe = self.experiment.observe(jacobian=jacobian, spectrum=spectrum)
        if jacobian:
            self.jacobian_at = now
        elif self.probe is not None:
            carried = {"spectrum": self.probe.spectrum}
            if _same_length(self.probe, probe):
                carried["jacobian_norm"] = self.probe.jacobian_norm
            probe = dataclasses.replace(probe, **carried)
        self.probe = probe
        self.observed += 1
        self.metrics = self.experiment.metrics()

    def current(self) -> Probe | None:
        """The probe to draw. With the worker idle, one that is missing or out of date (a new
        run, a run loaded from a checkpoint) is taken now, with its Jacobian."""
        stale = self.probe is None or self.probe.step != self.experiment.steps_done
        if stale and self.live.thread is None and not self.experiment.diverged:
            with self.experiment.lock:
                self.observe(jacobian=True)
        return self.probe

    def close(self) -> None:
        live.close(self)


# The tabs whose charts draw the Jacobian's norm (views/tabs.py): elsewhere it is not taken.
JACOBIAN_VIEWS = frozenset({"Training", "Gradients"})


def _same_length(old: Probe, new: Probe) -> bool:
    return old.jacobian_norm is not None and len(old.grad_norm) == len(new.grad_norm)


@dataclass
class RaceDriver:
    """A cell race: every cell steps in turn (so each cell's wall time is its own), then all are
    probed on the same sequences."""

    race: Race
    pace: Pace = field(default_factory=Pace)
    probes: dict[str, Probe] = field(default_factory=dict)
    workers: int = 1
    live: Live = field(default_factory=Live)

    @property
    def remaining(self) -> int:
        return 0 if self.race.done else self.race.remaining

    @property
    def experiments(self) -> list[Experiment]:
        return list(self.race.experiments.values())

    @property
    def step(self) -> int:
        return self.race.steps_done

    def advance(self, k: int, workers: int = 1) -> None:
        self.race.step(k)

    def observe(self) -> None:
        self.probes = {
            cell: e.probe(jacobian=False)
            for cell, e in self.race.experiments.items()
            if not e.diverged
        }

    def close(self) -> None:
        live.close(self)


@dataclass
class SweepDriver:
    """A memory sweep: its runs, each a fresh Experiment, up to `workers` at a time."""

    sweep: Sweep
    pace: Pace = field(default_factory=lambda: Pace(longest_slice=TEACHING_SLICE_SECONDS))
    workers: int = 2
    live: Live = field(default_factory=Live)

    @property
    def remaining(self) -> int:
        if self.sweep.done:
            return 0
        return max(1, round((1.0 - self.sweep.progress()) * self.total))

    @property
    def total(self) -> int:
        return self.sweep.steps_per_run * self.sweep.total_runs

    @property
    def experiments(self) -> list[Experiment]:
        return []  # each run's Experiment holds its own lock while it steps

    @property
    def step(self) -> int:
        return round(self.sweep.progress() * self.total)

    def advance(self, k: int, workers: int = 1) -> None:
        self.sweep.advance(k, workers)

    def observe(self) -> None:
        pass

    def close(self) -> None:
        live.close(self)


@dataclass
class ClaimDriver:
    """A claim's experiments trained side by side, up to `workers` at once."""

    run: ClaimRun
    pace: Pace = field(default_factory=lambda: Pace(longest_slice=TEACHING_SLICE_SECONDS))
    workers: int = 2
    live: Live = field(default_factory=Live)

    @property
    def remaining(self) -> int:
        return self.run.remaining

    @property
    def experiments(self) -> list[Experiment]:
        # Not held by the worker: the run steps them in threads of its own, and each step() and
        # probe takes its experiment's own lock, which a lock held by the worker would block.
        return []

    @property
    def step(self) -> int:
        return max(e.steps_done for e in self.run.experiments.values())

    def advance(self, k: int, workers: int = 1) -> None:
        self.run.advance(k, workers)

    def observe(self) -> None:
        pass  # the run observes its experiments at its own checks

    def close(self) -> None:
        live.close(self)
