"""Checkpoints of encoder-decoders (core/seq2seq.py): one file holds one or more labelled runs (the
Translate page saves its two, "plain" and "attention"), each with its settings, step count, the
state of its training-data stream, weights, optimizer state and history, so a loaded run trains on
exactly as it would have without the round trip.

The file is a `torch.save` zip like core/checkpoint.py's, and is read with the same order of checks
(its docstring): file and directory size, stored records named once, the pickle's opcodes (only
the callables checkpoints use; the settings read from them before anything is unpickled), the
records' total size against what those settings need, then `torch.load(weights_only=True)` of
exactly the checked records and a check of every value. A sequence model's checkpoint given here
(or one of these given to core.checkpoint) is refused by its format, saying where it belongs.

Layout (L = a run's label):
    format     SEQ2SEQ_FORMAT
    runs       JSON text: {L: {"config": {...}, "step": n, "data_stream": numpy PCG64 state}}
    weights    {L: {parameter name: float32 tensor}}
    optimizer  {L: {parameter name: {slot: float32 tensor}}}   e.g. Adam's step, exp_avg, exp_avg_sq
    history    {L: {"columns": History.COLUMNS, "values": float64 (rows, 8)}}
"""

from __future__ import annotations

import dataclasses
import functools
import io
import json
import math
import re
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import torch
from torch import nn

from core.checkpoint import (
    MAX_CHECKPOINT_BYTES,
    MAX_HISTORY_ROWS,
    MAX_STEP,
    SEQ2SEQ_FORMAT,
    SLACK_BYTES,
    CheckpointError,
    _check_history,
    _check_state,
    _check_step,
    _check_total,
    _load_payload,
    _read_header,
    _rebuilt_archive,
    _stored_records,
)
from core.config import ConfigError
from core.seq2seq import Seq2Seq, Seq2SeqConfig, Seq2SeqExperiment
from core.tasks.numbers import NumberWordsTask
from core.trainer import History, make_optimizer

MAX_RUNS = 4  # the page saves two
LABEL = re.compile(r"[a-z][a-z0-9_]{0,31}")
_KEYS = {"format", "runs", "weights", "optimizer", "history"}
_STREAM_WORDS = 2**128  # PCG64's state and increment are 128-bit numbers

Runs = dict[str, Seq2SeqExperiment]


def seq2seq_checkpoint_bytes(runs: Mapping[str, Seq2SeqExperiment] | Seq2SeqExperiment) -> bytes:
    """Serialise labelled runs (a lone experiment is labelled "run"). Raises CheckpointError when
    the file would be larger than load_seq2seq_checkpoint accepts (MAX_CHECKPOINT_BYTES)."""
    if isinstance(runs, Seq2SeqExperiment):
        runs = {"run": runs}
    _check_labels(list(runs))
    meta, weights, optimizer, history = {}, {}, {}, {}
    for label, run in runs.items():
        with run.lock:
            meta[label] = {
                "config": dataclasses.asdict(run.config),
                "step": run.steps_done,
                "data_stream": run.rng.bit_generator.state,
            }
            weights[label] = {
                k: v.detach().cpu().clone() for k, v in run.model.state_dict().items()
            }
            optimizer[label] = _optimizer_slots_of(run)
            history[label] = _history_table(run.history)
    payload = {
        "format": SEQ2SEQ_FORMAT,
        "runs": json.dumps(meta),  # in the runs' order: the page draws them so
        "weights": weights,
        "optimizer": optimizer,
        "history": history,
    }
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    if buffer.tell() > MAX_CHECKPOINT_BYTES:
        raise CheckpointError(
            f"these runs make a {buffer.tell() / 1e6:.1f} MB checkpoint; the limit is "
            f"{MAX_CHECKPOINT_BYTES / 1e6:.1f} MB (save fewer or smaller runs)"
        )
    return buffer.getvalue()


def load_seq2seq_checkpoint(
    raw: bytes,
    device: str | None = None,
    check: Callable[[dict[str, Seq2SeqConfig]], None] | None = None,
    reserve: Callable[[dict[str, Seq2SeqConfig]], None] | None = None,
) -> Runs:
    """The labelled runs of `seq2seq_checkpoint_bytes` output, ready to train on. Raises
    CheckpointError, never runs code.

    `check(configs)`: called as soon as the settings are read, before any tensor is (the page
    refuses settings it can't show); `reserve(configs)`: once every check has passed, just before
    the runs are built (the page asks its memory governor for room). Either may raise
    CheckpointError to stop."""
    if len(raw) > MAX_CHECKPOINT_BYTES:
        raise CheckpointError(
            f"checkpoint is {len(raw) / 1e6:.1f} MB; the limit is {MAX_CHECKPOINT_BYTES / 1e6:.1f} MB"
        )
    records = _stored_records(raw)
    header = _read_header(raw, records, SEQ2SEQ_FORMAT, {"runs": str})
    meta = _meta_from(header.get("runs"))
    configs = {label: _config_from(entry.get("config")) for label, entry in meta.items()}
    steps = {label: _check_step(entry.get("step", 0)) for label, entry in meta.items()}
    if check is not None:
        check(configs)
    shapes = {label: _weight_shapes(config) for label, config in configs.items()}
    _check_total(records, _bytes_needed(configs, shapes, steps) + SLACK_BYTES)
    payload = _load_payload(_rebuilt_archive(raw, records), SEQ2SEQ_FORMAT, _KEYS)
    if payload.get("runs") != header.get("runs"):
        raise CheckpointError("not a playground checkpoint (its records contradict each other)")
    weights, optimizer, history = (
        _per_run(payload.get(name), configs, name) for name in ("weights", "optimizer", "history")
    )
    checked = {}
    for label, config in configs.items():
        checked[label] = (
            _check_state(weights[label], shapes[label]),
            _check_optimizer(optimizer[label], shapes[label], config),
            _check_history(history[label], steps[label]),
            _stream_from(meta[label].get("data_stream")),
        )
    if reserve is not None:
        reserve(configs)
    return {
        label: _rebuilt(configs[label], steps[label], *checked[label], device) for label in configs
    }


# ---- writing ----------------------------------------------------------------------------------
def _optimizer_slots_of(run: Seq2SeqExperiment) -> dict[str, dict[str, torch.Tensor]]:
    """The optimizer's per-parameter state by parameter name (empty before the first step)."""
    slots = {}
    for name, parameter in run.model.named_parameters():
        state = run.optimizer.state.get(parameter, {})
        slots[name] = {k: v.detach().cpu().clone() for k, v in state.items()}
    return slots


def _history_table(history: History) -> dict[str, Any]:
    rows = [
        np.asarray(getattr(history, name)[-MAX_HISTORY_ROWS:], dtype=np.float64)
        for name in History.COLUMNS
    ]
    values = np.column_stack(rows) if len(history) else np.zeros((0, len(History.COLUMNS)))
    return {"columns": list(History.COLUMNS), "values": torch.from_numpy(values)}


# ---- reading: settings ------------------------------------------------------------------------
def _check_labels(labels: list[Any]) -> None:
    if not 1 <= len(labels) <= MAX_RUNS:
        raise CheckpointError(f"a checkpoint holds 1 to {MAX_RUNS} runs, not {len(labels)}")
    for label in labels:
        if not isinstance(label, str) or not LABEL.fullmatch(label):
            raise CheckpointError(
                f"run label {str(label)[:40]!r} is not a lower-case name of up to 32 letters, "
                "digits and underscores"
            )


def _meta_from(text: Any) -> dict[str, dict[str, Any]]:
    if not isinstance(text, str) or len(text) > 4_000 * MAX_RUNS:
        raise CheckpointError("the checkpoint's settings are missing or too long")
    try:
        meta = json.loads(text)
    except ValueError as error:
        raise CheckpointError(f"the checkpoint's settings are invalid: {error}") from None
    if not isinstance(meta, dict) or not all(isinstance(v, dict) for v in meta.values()):
        raise CheckpointError("the checkpoint's settings are not one entry per run")
    _check_labels(list(meta))
    return meta


def _config_from(values: Any) -> Seq2SeqConfig:
    try:
        if not isinstance(values, dict):
            raise TypeError("not a JSON object")
        config = Seq2SeqConfig(**values)
        make_optimizer(nn.Linear(1, 1), config)  # the optimizer is a plain string setting
        return config
    except (TypeError, ValueError) as error:  # ConfigError is a ValueError
        raise CheckpointError(f"the checkpoint's config is invalid: {error}") from None


def _weight_shapes(config: Seq2SeqConfig) -> dict[str, tuple[int, ...]]:
    """Every weight's shape for these settings, from a model built on the meta device (no memory)."""
    sizes = NumberWordsTask
    with torch.device("meta"):
        model = Seq2Seq(
            config.cell,
            sizes.input_size,
            sizes.output_size,
            config.hidden,
            config.embed,
            config.attention,
        )
    return {name: tuple(t.shape) for name, t in model.state_dict().items()}


@functools.lru_cache(maxsize=8)
def _slot_names(optimizer: str, momentum: float) -> tuple[set[str], set[str]]:
    """(slots shaped like their parameter, scalar slots) the optimizer keeps after one step, read
    off a one-weight model so the list stays torch's own."""
    config = Seq2SeqConfig(optimizer=optimizer, momentum=momentum)
    model = nn.Linear(1, 1, bias=False)
    step = make_optimizer(model, config)
    model.weight.grad = torch.ones_like(model.weight)
    step.step()
    state = step.state[model.weight]
    return {k for k, v in state.items() if v.dim()}, {k for k, v in state.items() if not v.dim()}


def _bytes_needed(configs, shapes, steps) -> int:
    total = 0
    for label, config in configs.items():
        shaped, scalars = _slot_names(config.optimizer, config.momentum)
        weights = sum(4 * math.prod(shape) for shape in shapes[label].values())
        total += weights * (1 + len(shaped)) + 4 * len(scalars) * len(shapes[label])
        total += min(steps[label], MAX_HISTORY_ROWS) * len(History.COLUMNS) * 8
    return total


# ---- reading: values --------------------------------------------------------------------------
def _per_run(entry: Any, configs: dict[str, Seq2SeqConfig], name: str) -> dict[str, Any]:
    if not isinstance(entry, dict) or set(entry) != set(configs):
        raise CheckpointError(f"the checkpoint's {name} are not one entry per run")
    return entry


def _check_optimizer(
    slots: Any, shapes: dict[str, tuple[int, ...]], config: Seq2SeqConfig
) -> dict[str, dict[str, torch.Tensor]]:
    """Per parameter, nothing (before the first step) or exactly the optimizer's slots: the
    shaped ones as the weight, the scalar ones (a step count) whole and in range."""
    parameters = {name: shape for name, shape in shapes.items()}
    if not isinstance(slots, dict) or set(slots) != set(parameters):
        raise CheckpointError("the checkpoint's optimizer state does not match its weights")
    shaped, scalars = _slot_names(config.optimizer, config.momentum)
    for name, state in slots.items():
        if not isinstance(state, dict) or (state and set(state) != shaped | scalars):
            raise CheckpointError(
                f"the optimizer state of {name} is not {config.optimizer}'s "
                f"({', '.join(sorted(shaped | scalars))})"
            )
        if not state:
            continue
        _check_state(
            state,
            {**{k: parameters[name] for k in shaped}, **{k: () for k in scalars}},
            f"optimizer state of {name}:",
        )
        for key in scalars:
            value = float(state[key])
            if value != round(value) or not 0 <= value <= MAX_STEP:
                raise CheckpointError(f"the optimizer's {key} for {name} is not a step count")
    return slots


def _stream_from(state: Any) -> dict[str, Any]:
    """The training-data stream's PCG64 state, checked field by field."""
    inner = state.get("state") if isinstance(state, dict) else None
    fields = [
        isinstance(state, dict)
        and set(state) == {"bit_generator", "state", "has_uint32", "uinteger"},
        isinstance(state, dict) and state.get("bit_generator") == "PCG64",
        isinstance(inner, dict) and set(inner) == {"state", "inc"},
        isinstance(inner, dict)
        and all(type(inner.get(k)) is int and 0 <= inner[k] < _STREAM_WORDS for k in inner),
        isinstance(state, dict) and state.get("has_uint32") in (0, 1),
        isinstance(state, dict)
        and type(state.get("uinteger")) is int
        and 0 <= state["uinteger"] < 2**32,
    ]
    if not all(fields):
        raise CheckpointError("the checkpoint's data-stream state is not a numpy PCG64 state")
    return state


def _rebuilt(config, step, weights, slots, history, stream, device) -> Seq2SeqExperiment:
    try:
        run = Seq2SeqExperiment(config, device=device)
    except (ConfigError, ValueError) as error:
        raise CheckpointError(f"the checkpoint's settings can't be used here: {error}") from None
    with run.lock:
        run.model.load_state_dict(weights)
        names = [name for name, _ in run.model.named_parameters()]
        saved = run.optimizer.state_dict()
        saved["state"] = {i: slots[name] for i, name in enumerate(names) if slots[name]}
        run.optimizer.load_state_dict(saved)
        run.rng.bit_generator.state = stream
        run.steps_done = step
        if history is not None:
            run.history = history
    return run


__all__ = [
    "MAX_RUNS",
    "SEQ2SEQ_FORMAT",
    "CheckpointError",
    "load_seq2seq_checkpoint",
    "seq2seq_checkpoint_bytes",
]
