"""Running a claim: its experiments trained side by side in bounded chunks, each stopping as soon
as its outcome is decided.

>>> run = ClaimRun("long_memory")            # for a UI timer: one bounded chunk per tick
>>> while not run.done:
...     run.advance(50)                       # every undecided experiment takes up to 50 steps
>>> run.result().ok, run.result().summary

>>> run_claim("long_memory", seed=3).numbers  # blocking, the same claim from another seed

Decided means: an experiment listed in `Claim.settle` stops once its task counts as solved (the
gated cells of a memory claim), every experiment stops at the step budget or when it diverges, and
the whole run stops as soon as the claim's verdict holds at one of its checks (every
`Claim.check_every` steps): then the control (say the vanilla RNN) has trained exactly as many
steps as the slowest settled cell needed. A run that reaches the budget without the verdict
holding is judged as it stands: "not confirmed this time".

`advance(k, workers=n)` trains up to n experiments at once in threads (torch releases the GIL in
its kernels; each thread uses the caller's torch thread count, one on the server).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from core.config import ExperimentConfig
from core.trainer import Experiment

Experiments = dict[str, Experiment]
Numbers = dict[str, Any]  # the claim's numbers (floats, counts, flags) and examples (strings)

CHUNK = 50  # steps per advance() in run_claim: Stop answers within a fraction of a second
# A settling experiment stops once this many validations in a row count as solved: one lucky
# validation is not a learned task, and the measures read the last few observations.
SETTLE_VALIDATIONS = 3
TRAINING_POOL = ThreadPoolExecutor(max_workers=4, thread_name_prefix="claim")


@dataclass(frozen=True)
class Claim:
    """One claim of the seed as an experiment.

    configs: label -> ExperimentConfig keyword arguments, trained side by side.
    steps: the step budget of each experiment.
    measure: experiments (label -> Experiment) -> numbers (see each claim's keys).
    verdict: numbers -> (the claim holds, one sentence with the numbers).
    settle: labels whose training stops once their task counts as solved.
    check_every: steps between tries of the verdict while training (0: only at the budget).
    observe: probe every active experiment at each check (Experiment.observe), for measures that
        read the last few observations.
    show: what the page draws afterwards: loss, grad_per_step, grad_norm, params, fill_in,
        rollout, generate, trajectories; for encoder-decoders loss, grad_norm, exact_by_length.
    config_type, experiment_type: what a config's keyword arguments build, and what trains it
        (core.seq2seq's Seq2SeqConfig and Seq2SeqExperiment for the translation claim).
    """

    key: str
    title: str
    claim: str
    expect: str
    configs: dict[str, dict[str, Any]]
    steps: int
    measure: Callable[[Experiments], Numbers]
    verdict: Callable[[Numbers], tuple[bool, str]]
    settle: tuple[str, ...] = ()
    check_every: int = 0
    observe: bool = False
    show: tuple[str, ...] = ("loss",)
    config_type: type = ExperimentConfig
    experiment_type: type = Experiment

    def experiment_configs(self, seed: int | None = None) -> dict[str, ExperimentConfig]:
        """label -> config; `seed` replaces every config's seed (claims are tested on several)."""
        changes = {} if seed is None else {"seed": int(seed)}
        return {
            label: self.config_type(**{**params, **changes})
            for label, params in self.configs.items()
        }

    @property
    def seq2seq(self) -> bool:
        """Its runs are encoder-decoders: no SequenceModel probe, forecast or sampling applies."""
        return self.experiment_type is not Experiment


@dataclass
class Progress:
    """Where a claim run stands: steps of each experiment and the share of the budget used."""

    steps: dict[str, int]
    budget: int
    fraction: float
    seconds: float
    decided: dict[str, str] = field(default_factory=dict)  # label -> why it stopped


@dataclass
class ClaimResult:
    """Trained experiments and the claim's outcome. `stopped`: cancelled before it was decided,
    so nothing was measured (numbers empty, ok False)."""

    key: str
    experiments: Experiments
    numbers: Numbers
    ok: bool
    summary: str
    seconds: float
    stopped: bool = False


class ClaimRun:
    """A claim's experiments, trained side by side in bounded chunks (see the module docstring).
    Nothing runs in the background: `advance` returns after at most k steps per experiment."""

    def __init__(self, claim: Claim, steps: int | None = None, seed: int | None = None) -> None:
        self.claim = claim
        self.steps = int(steps or claim.steps)
        self.experiments: Experiments = {
            label: claim.experiment_type(config)
            for label, config in claim.experiment_configs(seed).items()
        }
        self.decided: dict[str, str] = {}  # label -> "solved", "budget" or "diverged"
        self.seconds = 0.0  # wall time spent in advance()
        self._verdict: tuple[Numbers, bool, str] | None = None
        self._checked_at = 0

    # ---- state ----------------------------------------------------------------------------
    @property
    def active(self) -> list[str]:
        """Labels still training."""
        return [label for label in self.experiments if label not in self.decided]

    @property
    def done(self) -> bool:
        confirmed = self._verdict is not None and self._verdict[1]
        return confirmed or not self.active

    @property
    def remaining(self) -> int:
        """Steps the furthest-behind active experiment may still take."""
        if self.done:
            return 0
        return max(self.steps - self.experiments[label].steps_done for label in self.active)

    def progress(self) -> Progress:
        steps = {label: e.steps_done for label, e in self.experiments.items()}
        used = sum(self.steps if label in self.decided else s for label, s in steps.items())
        fraction = 1.0 if self.done else used / (self.steps * len(steps))
        return Progress(steps, self.steps, fraction, self.seconds, dict(self.decided))

    # ---- training -------------------------------------------------------------------------
    def advance(self, k: int = CHUNK, workers: int = 1) -> Progress:
        """Train every active experiment up to k more steps (up to `workers` at once), stopping at
        each check on the way (checks fall on the same steps whatever k is) to observe, settle
        what is decided and try the verdict; returns early once the claim is decided."""
        started = time.perf_counter()
        left = max(1, int(k))
        while left > 0 and self.active and not self.done:
            chunk = left
            if self.claim.check_every:
                chunk = min(chunk, self._checked_at + self.claim.check_every - self._furthest())
            self._train(self.active, chunk, workers)
            left -= chunk
            self._after_chunk()
        self.seconds += time.perf_counter() - started
        return self.progress()

    def _furthest(self) -> int:
        return max(e.steps_done for e in self.experiments.values())

    def _after_chunk(self) -> None:
        labels = self.active
        due = bool(self.claim.check_every) and (
            self._furthest() - self._checked_at >= self.claim.check_every
        )
        if due:
            self._checked_at = self._furthest()
            for label in labels if self.claim.observe else ():
                self.experiments[label].observe()
        self._settle(labels)
        if due or not self.active:
            numbers = self.claim.measure(self.experiments)
            ok, summary = self.claim.verdict(numbers)
            self._verdict = (numbers, ok, summary)

    def _train(self, labels: list[str], k: int, workers: int) -> None:
        jobs = [
            (self.experiments[label], min(k, self.steps - self.experiments[label].steps_done))
            for label in labels
        ]
        if workers > 1 and len(jobs) > 1:
            list(TRAINING_POOL.map(lambda job: job[0].step(job[1]), jobs))
        else:
            for experiment, count in jobs:
                experiment.step(count)

    def _settle(self, labels: list[str]) -> None:
        for label in labels:
            experiment = self.experiments[label]
            if experiment.diverged:
                self.decided[label] = "diverged"
            elif experiment.steps_done >= self.steps:
                self.decided[label] = "budget"
            elif label in self.claim.settle and solved_lately(experiment):
                self.decided[label] = "solved"

    # ---- outcome --------------------------------------------------------------------------
    def result(self) -> ClaimResult:
        """The claim's outcome once decided; otherwise a 'stopped' result."""
        key = self.claim.key
        if not self.done or self._verdict is None:
            progress = self.progress()
            summary = (
                f"Stopped at step {max(progress.steps.values()):,} of {self.steps:,} "
                f"({progress.fraction:.0%} of the experiment); run it to the end to test the claim."
            )
            return ClaimResult(key, self.experiments, {}, False, summary, self.seconds, True)
        numbers, ok, summary = self._verdict
        return ClaimResult(key, self.experiments, numbers, ok, summary, self.seconds)


def run_claim(
    claim: Claim,
    steps: int | None = None,
    seed: int | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    chunk: int = CHUNK,
    workers: int = 1,
) -> ClaimResult:
    """Train a claim's experiments until decided (see ClaimRun), then return the outcome.
    `should_stop()` is asked before each chunk; `on_progress(Progress)` is called after each."""
    run = ClaimRun(claim, steps, seed)
    while not run.done:
        if should_stop is not None and should_stop():
            break
        progress = run.advance(chunk, workers)
        if on_progress is not None:
            on_progress(progress)
    return run.result()


def solved_lately(experiment: Experiment) -> bool:
    """Its last SETTLE_VALIDATIONS validations all count as solved."""
    _, _, metric = experiment.history.validations()
    recent = metric[-SETTLE_VALIDATIONS:]
    return len(recent) == SETTLE_VALIDATIONS and all(
        experiment.task.is_solved(float(m)) for m in recent
    )
