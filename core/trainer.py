"""The experiment: model, optimizer, data stream and history of one run, advanced in bounded steps.

`Experiment.step(k)` runs k optimizer steps and returns; it never loops forever, sleeps or starts a
thread, so a UI can call it from a timer. Every `step()` and `probe()` holds the experiment's own
lock: two overlapping script runs of one Streamlit session must not let an optimizer step change
weights while a probe's backward pass reads them.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch.nn.utils import clip_grads_with_norm_, get_total_norm

from core.config import COST_BUDGET, ExperimentConfig
from core.model import SequenceModel, build_model
from core.probes import Probe, probe
from core.tasks import Batch, Task, make_task

VAL_BATCH = 128  # sequences in the fixed validation set
PROBE_BATCH = 16  # sequences in the fixed batch the probe looks at
_SEED_LOCK = threading.Lock()  # weight init uses torch's global RNG; sessions share the process


@dataclass
class History:
    """Per-step record of a run, as columns. Validation columns are NaN between validations.

    The lists only grow (`add`); to change a column, assign a new list (`columns` caches floats
    of what it has read)."""

    step: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_metric: list[float] = field(default_factory=list)
    grad_norm: list[float] = field(default_factory=list)
    clipped: list[bool] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    _buffers: dict[str, tuple] = field(default_factory=dict, init=False, repr=False, compare=False)

    COLUMNS = (
        "step",
        "train_loss",
        "val_loss",
        "val_metric",
        "grad_norm",
        "clipped",
        "lr",
        "seconds",
    )

    def add(
        self,
        step: int,
        train_loss: float,
        val_loss: float = math.nan,
        val_metric: float = math.nan,
        grad_norm: float = math.nan,
        clipped: bool = False,
        lr: float = math.nan,
        seconds: float = math.nan,
    ) -> None:
        """Record one step: every column, `seconds` last (see `__len__`)."""
        self.step.append(step)
        self.train_loss.append(train_loss)
        self.val_loss.append(val_loss)
        self.val_metric.append(val_metric)
        self.grad_norm.append(grad_norm)
        self.clipped.append(clipped)
        self.lr.append(lr)
        self.seconds.append(seconds)

    def __len__(self) -> int:
        # `seconds` is appended last (`add`): a reader in another thread, while a step is being
        # recorded, sees every column at least this long.
        return len(self.seconds)

    def column(self, name: str) -> np.ndarray:
        """One column as floats (safe while training goes on)."""
        return self.columns(name)[0]

    def columns(self, *names: str) -> list[np.ndarray]:
        """Columns as floats, all of one length even while training appends to them.

        Read-only views of a float buffer that grows with the run: a live page reads the history
        at every drawing, and converting whole lists cost 13 ms a drawing at 100k steps."""
        rows = len(self)
        return [self._floats(name, rows) for name in names]

    def _floats(self, name: str, rows: int) -> np.ndarray:
        values = getattr(self, name)
        buffer, filled, source = self._buffers.get(name, (None, 0, None))
        if source is not values or filled > len(values):  # a new list (a loaded checkpoint)
            buffer, filled = None, 0
        if buffer is None or len(buffer) < rows:
            grown = np.empty(max(1024, 2 * rows))
            grown[:filled] = buffer[:filled] if buffer is not None else []
            buffer = grown
        # Earlier entries never change (only `add` writes, by appending), so only the new tail
        # is converted. Several threads may call this; each keeps a consistent (buffer, filled).
        if rows > filled:
            buffer[filled:rows] = values[filled:rows]
            self._buffers[name] = (buffer, rows, values)
        view = buffer[:rows]
        view.flags.writeable = False
        return view

    def validations(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(steps, val_loss, val_metric) at the steps where validation ran."""
        step, loss, metric = self.columns("step", "val_loss", "val_metric")
        keep = ~np.isnan(loss)
        return step[keep], loss[keep], metric[keep]

    def clipped_fraction(self) -> float:
        return float(np.mean(self.clipped)) if self.clipped else 0.0

    def to_csv(self) -> str:
        lines = [",".join(self.COLUMNS)]
        rows = len(self)
        columns = [getattr(self, name)[:rows] for name in self.COLUMNS]
        for row in zip(*columns, strict=True):
            lines.append(",".join(_csv_value(v) for v in row))
        return "\n".join(lines) + "\n"


def _csv_value(value: Any) -> str:
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, float):
        return "" if math.isnan(value) else repr(value)
    return str(value)


@dataclass
class ProbeRecord:
    """The small part of a probe kept for charts over training time."""

    step: int
    grad_norm: np.ndarray
    spectral_radius: float
    loss: float


class StepLoop:
    """The step loop every experiment shares (Experiment, core.seq2seq's Seq2SeqExperiment): it
    needs `lock`, `diverged`, `_train_step()` and `metrics()`."""

    def step(self, k: int = 1) -> dict[str, Any]:
        """Run up to k optimizer steps (fewer if training diverges); return the latest metrics."""
        with self.lock:
            for _ in range(max(0, int(k))):
                if self.diverged:
                    break
                self._train_step()
            return self.metrics()


class Experiment(StepLoop):
    """One training run. Notebook use:

    >>> exp = Experiment(ExperimentConfig(cell="lstm", task="adding", seq_len=50, hidden=64))
    >>> exp.step(200)          # 200 optimizer steps, returns the latest metrics
    >>> exp.probe().grad_norm  # (L,) gradient magnitude per time step
    """

    def __init__(
        self,
        config: ExperimentConfig,
        data: Any = None,
        device: str | torch.device | None = None,
        budget: int | None = COST_BUDGET,
    ) -> None:
        config.check_budget(budget)
        self.config = config
        self.data = data
        self.device = torch.device(device or "cpu")
        self.lock = threading.RLock()
        self.task: Task = make_task(config, data)
        self.reset()

    # ---- lifecycle -------------------------------------------------------------------------
    def reset(self) -> None:
        """Fresh weights, optimizer, data stream and history from the same config and seed."""
        with self.lock:
            config = self.config
            with _SEED_LOCK:
                torch.manual_seed(config.seed)
                self.model: SequenceModel = build_model(
                    config, self.task.input_size, self.task.output_size
                )
            self.model.to(self.device)
            self.optimizer = make_optimizer(self.model, config)
            # Separate streams: training data, validation set, probe batch.
            self.rng = np.random.default_rng([config.seed, 1])
            self.val_batch = self._fixed_batch(self.task.val_size or VAL_BATCH, 2)
            self.probe_batch = self._fixed_batch(PROBE_BATCH, 3)
            self.history = History()
            self.probe_log: list[ProbeRecord] = []
            self.steps_done = 0
            self.diverged = False
            self.message = ""
            self._last_val = (math.nan, math.nan)

    def _fixed_batch(self, size: int, stream: int) -> Batch:
        rng = np.random.default_rng([self.config.seed, stream])
        return self.task.sample(size, rng, split="val").to(self.device)

    def update(self, lr: float | None = None, clip: float | None = None) -> None:
        """Change learning rate or clipping between steps; the next step uses them."""
        with self.lock:
            changes = {k: v for k, v in (("lr", lr), ("clip", clip)) if v is not None}
            self.config = self.config.replace(**changes)
            for group in self.optimizer.param_groups:
                group["lr"] = self.config.lr

    # ---- training ----------------------------------------------------------------------------
    def _train_step(self) -> None:
        started = time.perf_counter()
        batch = self.task.sample(self.config.batch_size, self.rng).to(self.device)
        result = optimizer_step(self.model, self.optimizer, self.task, batch, self.config.clip)
        if result.diverged:
            self._diverge(result.loss, result.grad_norm)
            return
        self.steps_done += 1
        if self.steps_done % self.config.val_every == 0 or self.steps_done == 1:
            self._last_val = self.validate()
        else:
            self._last_val = (math.nan, math.nan)
        self._record(result.loss, result.grad_norm, result.clipped, time.perf_counter() - started)

    def _record(self, loss: float, grad_norm: float, clipped: bool, seconds: float) -> None:
        val_loss, val_metric = self._last_val
        self.history.add(
            self.steps_done, loss, val_loss, val_metric, grad_norm, clipped, self.config.lr, seconds
        )

    def _diverge(self, loss: float, grad_norm: float) -> None:
        self.diverged = True
        what = "loss" if not math.isfinite(loss) else "gradient norm"
        self.message = (
            f"Training diverged at step {self.steps_done + 1}: the {what} became "
            f"{loss if what == 'loss' else grad_norm}. This is what exploding gradients look like: "
            "repeated multiplication through time (or too large a step) blew the numbers up. "
        )
        if self.config.clip == 0:
            self.message += (
                "Turn on gradient clipping (1.0 is a good start) or lower the learning rate"
            )
        else:
            self.message += (
                f"Lower the learning rate (now {self.config.lr:g}) or the clipping threshold"
            )
        if self.config.init == "scaled" and self.config.init_gain > 1:
            self.message += f", or use a recurrent gain below 1 (now {self.config.init_gain:g})"
        self.message += ", then press Reset."

    @torch.no_grad()
    def validate(self) -> tuple[float, float]:
        """(loss, metric) on the fixed validation set, in eval mode."""
        was_training = self.model.training
        self.model.eval()
        try:
            batch = self.val_batch
            predictions = self.model(batch.inputs, batch.lengths)
            return float(self.task.loss(predictions, batch)), self.task.metric(predictions, batch)
        finally:
            self.model.train(was_training)

    def metrics(self) -> dict[str, Any]:
        """The latest numbers: step, losses, metric, gradient norm, clipped fraction, speed."""
        history = self.history
        steps, val_loss, val_metric = history.validations()
        recent = history.seconds[-50:]
        return {
            "step": self.steps_done,
            "train_loss": history.train_loss[-1] if len(history) else math.nan,
            "val_loss": float(val_loss[-1]) if len(steps) else math.nan,
            "val_metric": float(val_metric[-1]) if len(steps) else math.nan,
            "grad_norm": history.grad_norm[-1] if len(history) else math.nan,
            "clipped_fraction": history.clipped_fraction(),
            "steps_per_second": len(recent) / sum(recent) if recent else math.nan,
            "solved": bool(len(steps)) and self.task.is_solved(float(val_metric[-1])),
            "diverged": self.diverged,
            "message": self.message,
        }

    # ---- looking inside ----------------------------------------------------------------------
    def probe(
        self, batch: Batch | None = None, jacobian: bool = True, spectrum: bool = True
    ) -> Probe:
        """Instrumented pass over the fixed probe batch (or `batch`); changes nothing.
        jacobian, spectrum: compute jacobian_norm and the eigenvalues (see core.probes.Probe)."""
        with self.lock:
            return probe(
                self.model,
                batch or self.probe_batch,
                self.task,
                jacobian=jacobian,
                step=self.steps_done,
                spectrum=spectrum,
            )

    def observe(self, jacobian: bool = False, spectrum: bool = True) -> Probe:
        """Probe the fixed batch and keep its summary in `probe_log` (the gradient history over
        training); a diverged run is not recorded. Returns the probe. Without `spectrum` the
        record's spectral_radius is NaN (a live page takes the eigenvalues less often)."""
        with self.lock:
            result = self.probe(jacobian=jacobian, spectrum=spectrum)
            if not self.diverged:
                record = ProbeRecord(
                    self.steps_done, result.grad_norm, result.spectral_radius, result.loss
                )
                self.probe_log.append(record)
                del self.probe_log[:-500]  # bounded memory for long runs
            return result

    def parameter_count(self) -> int:
        return self.model.parameter_count()


@dataclass
class StepResult:
    """What one optimizer step saw: the batch loss, the total gradient norm before clipping,
    whether clipping scaled the gradient, and whether training diverged (then nothing changed)."""

    loss: float
    grad_norm: float
    clipped: bool
    diverged: bool


def training_loss(model: SequenceModel, task: Task, batch: Batch) -> torch.Tensor:
    """The batch loss, with the readout applied only where the loss reads: at each sequence's last
    valid step for sequence-to-one tasks (task.reads == "last", whose mask selects exactly that
    step), at every step otherwise. Both give the same loss and gradients (tests/core/
    test_trainer.py checks them against the full readout); the first skips N x (L - 1) readouts."""
    if task.reads == "last":
        return task.loss_on(model.last_step(batch.inputs, batch.lengths), batch.targets[batch.mask])
    return task.loss(model(batch.inputs, batch.lengths), batch)


def optimizer_step(
    model: SequenceModel, optimizer: torch.optim.Optimizer, task: Task, batch: Batch, clip: float
) -> StepResult:
    """One optimizer step on a batch already drawn: zero the gradients, loss, backward, total
    gradient norm, divergence check, clipping (clip > 0: scale the gradient to norm `clip` when it
    is larger), update. A non-finite loss or gradient norm leaves the weights as they were.
    The exported standalone script runs this very function (core/export.py)."""
    optimizer.zero_grad(set_to_none=True)
    loss = training_loss(model, task, batch)
    loss.backward()
    grads = [p.grad for p in model.parameters() if p.grad is not None]
    total_norm = get_total_norm(grads)
    loss_value, norm_value = loss.item(), total_norm.item()
    if not (math.isfinite(loss_value) and math.isfinite(norm_value)):
        return StepResult(loss_value, norm_value, False, True)
    clipped = 0 < clip < norm_value
    if clipped:
        clip_grads_with_norm_(model.parameters(), clip, total_norm)
    optimizer.step()
    return StepResult(loss_value, norm_value, clipped, False)


def make_optimizer(model: torch.nn.Module, config: ExperimentConfig) -> torch.optim.Optimizer:
    """The optimizer `config` names, over the model's parameters (already on their device)."""
    params = model.parameters()
    if config.optimizer == "adam":
        # Fused Adam updates every parameter in one kernel: on one CPU thread it took 120 us a
        # step at hidden 64 where the default single-tensor loop took 350-400 and foreach 285-345.
        fused = next(model.parameters()).device.type in ("cpu", "cuda")
        return torch.optim.Adam(params, lr=config.lr, weight_decay=config.weight_decay, fused=fused)
    if config.optimizer == "sgd":
        return torch.optim.SGD(
            params, lr=config.lr, momentum=config.momentum, weight_decay=config.weight_decay
        )
    if config.optimizer == "rmsprop":
        return torch.optim.RMSprop(params, lr=config.lr, weight_decay=config.weight_decay)
    raise ValueError(f"unknown optimizer {config.optimizer!r}; choose one of: adam, sgd, rmsprop")
