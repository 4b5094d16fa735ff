"""How much memory a run needs, from its config alone, before anything is built.

`parameter_shapes` builds the model on PyTorch's meta device (shapes, no storage), so the tensor
names and shapes come from the engine itself, not from a second copy of its formulas.
`estimate(config)` adds up what a resident run holds and the largest transient it causes:

- weights, their gradients and the optimizer's buffers (Adam: 2 per weight, SGD with momentum
  and RMSprop: 1), 4 bytes each, plus the optimizer step's temporaries;
- evaluation: a validation pass over VAL_BATCH sequences (or all of a task's fixed test set,
  `Task.val_size`) and the probe's unrolled graph over PROBE_BATCH sequences, whatever the
  training batch (at batch 1 these dominate);
- training: one step's graph over batch_size sequences;
- the probe's state-to-state Jacobians, when it computes them;
- a fixed allowance for the run's Python objects (task, history, probe results).

The activation terms count (sequences x T x min(L, 2) x (G + 3) x H) floats. Each term has a factor fitted
to the peak resident-set growth of real runs (bench/memory.py, "calibration", measures a grid of
shapes, refits and shows the measured/estimated ratio of each). The total is a peak, not an
average, on purpose: glibc keeps freed transients in its heap, so a run's resident memory stays
near its peak until the allocator is trimmed.
Shapes: T = seq_len, H = hidden, L = layers, G = gate blocks of the cell (rnn 1, gru 3, lstm 4).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from core.config import ExperimentConfig
from core.model import build_model, get_cell
from core.probes import JACOBIAN_BUDGET, JACOBIAN_EXAMPLES
from core.tasks import TASKS, make_task
from core.trainer import PROBE_BATCH, VAL_BATCH

FLOAT_BYTES = 4
MB = 2**20
OPTIMIZER_SLOTS = {"adam": 2, "sgd": 1, "rmsprop": 1}  # buffers per weight

# Fitted factors (bench/memory.py, calibration): multiples of each term's raw float count x 4 bytes.
WEIGHT_FACTOR = 1.25  # the optimizer step's temporaries come on top of the buffers
EVALUATION_FACTOR = 0.5
TRAIN_FACTOR = 1.0
JACOBIAN_FACTOR = 6.0
FIXED_BYTES = 24 * MB


@dataclass(frozen=True)
class MemoryEstimate:
    """Bytes one run needs, by part. `total` is what a server should reserve for it."""

    parameters: int  # count, not bytes
    weights: int  # weights + gradients + optimizer buffers
    evaluation: int  # validation pass + probe
    training: int
    jacobian: int
    fixed: int

    @property
    def total(self) -> int:
        return self.weights + self.evaluation + self.training + self.jacobian + self.fixed

    @property
    def total_mb(self) -> float:
        return self.total / MB


def parameter_shapes(
    config: ExperimentConfig, input_size: int, output_size: int
) -> dict[str, tuple[int, ...]]:
    """Name -> shape of every tensor in the model's state_dict, without allocating weights."""
    # init only changes values; "default" skips the costlier initialisers (no RNG is drawn on meta).
    with torch.device("meta"):
        model = build_model(config.replace(init="default"), input_size, output_size)
    return {name: tuple(tensor.shape) for name, tensor in model.state_dict().items()}


def parameter_count(config: ExperimentConfig, input_size: int, output_size: int) -> int:
    total = 0
    for shape in parameter_shapes(config, input_size, output_size).values():
        count = 1
        for size in shape:
            count *= size
        total += count
    return total


def estimate(config: ExperimentConfig, data: Any = None) -> MemoryEstimate:
    """What `Experiment(config, data)` will need at its peak (build, step, validate, probe).

    Builds the task (cheap: it knows its input and output sizes) but no model. Raises what
    `make_task` raises for a config or table it can't use."""
    task = make_task(config, data)
    return estimate_for_sizes(config, task.input_size, task.output_size)


def estimate_for_sizes(
    config: ExperimentConfig, input_size: int, output_size: int
) -> MemoryEstimate:
    raw = raw_terms(config, input_size, output_size)
    return MemoryEstimate(
        parameters=parameter_count(config, input_size, output_size),
        weights=int(WEIGHT_FACTOR * raw["weights"]),
        evaluation=int(EVALUATION_FACTOR * raw["evaluation"]),
        training=int(TRAIN_FACTOR * raw["training"]),
        jacobian=int(JACOBIAN_FACTOR * raw["jacobian"]),
        fixed=FIXED_BYTES,
    )


def raw_terms(config: ExperimentConfig, input_size: int, output_size: int) -> dict[str, int]:
    """Each term's bytes before its fitted factor (what bench/memory.py fits the factors to)."""
    slots = OPTIMIZER_SLOTS.get(config.optimizer, 2)
    if config.optimizer == "sgd" and config.momentum == 0:
        slots = 0
    gates = len(get_cell(config.cell).gate_names)
    # A pass keeps about (G + 3) x H floats per step of a layer (pre-activations, gates, states),
    # and at most two layers' worth at once (a layer's input and its output).
    per_sequence = config.seq_len * (
        min(config.layers, 2) * (gates + 3) * config.hidden + input_size + output_size + 1
    )
    validation = TASKS[config.task].val_size or VAL_BATCH  # a fixed test set is scored whole
    return {
        "weights": parameter_count(config, input_size, output_size) * (2 + slots) * FLOAT_BYTES,
        "evaluation": (validation + PROBE_BATCH) * per_sequence * FLOAT_BYTES,
        "training": config.batch_size * per_sequence * FLOAT_BYTES,
        "jacobian": jacobian_floats(config) * FLOAT_BYTES,
    }


def jacobian_floats(config: ExperimentConfig) -> int:
    """Floats the probe's state-to-state Jacobians pass through (0 when the probe skips them):
    for each example and step, a vector-Jacobian product per state unit over the cell's
    G x H pre-activations (jacrev under vmap keeps them all at once)."""
    state = config.hidden * (2 if get_cell(config.cell).has_cell_state else 1)
    examples = min(JACOBIAN_EXAMPLES, PROBE_BATCH)
    if config.seq_len < 2 or examples * config.seq_len * state * state > JACOBIAN_BUDGET:
        return 0
    gates = len(get_cell(config.cell).gate_names)
    return examples * config.seq_len * state * gates * config.hidden
