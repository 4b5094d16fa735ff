"""Taking a run home: checkpoints (state_dict + config as JSON) and history as CSV.

Checkpoints load with `torch.load(..., weights_only=True)`, so a file that tries to run code is
refused, and every tensor is checked against the model the config describes.
"""

from __future__ import annotations

import io
import json
from typing import Any

import torch

from core.config import ConfigError, ExperimentConfig
from core.trainer import Experiment

MAX_CHECKPOINT_BYTES = 50_000_000
FORMAT = "rnn-playground-checkpoint/1"


class CheckpointError(ValueError):
    """The checkpoint can't be used; the message says why."""


def checkpoint_bytes(experiment: Experiment) -> bytes:
    """Serialise weights, config (JSON text) and step count."""
    with experiment.lock:
        payload = {
            "format": FORMAT,
            "config": json.dumps(experiment.config.to_dict(), sort_keys=True),
            "step": experiment.steps_done,
            "state_dict": {k: v.detach().cpu() for k, v in experiment.model.state_dict().items()},
        }
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    return buffer.getvalue()


def load_checkpoint(raw: bytes, data: Any = None, device: str | None = None) -> Experiment:
    """Rebuild an Experiment from `checkpoint_bytes` output. Raises CheckpointError, never runs code."""
    if len(raw) > MAX_CHECKPOINT_BYTES:
        raise CheckpointError(
            f"checkpoint is {len(raw) / 1e6:.1f} MB; the limit is {MAX_CHECKPOINT_BYTES / 1e6:.0f} MB"
        )
    try:
        payload = torch.load(io.BytesIO(raw), map_location="cpu", weights_only=True)
    except Exception as error:  # unpickling refuses anything but tensors and plain containers
        raise CheckpointError(f"not a playground checkpoint, or it holds code: {error}".split("\n")[0]) from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(f"not a playground checkpoint (expected format {FORMAT!r})")
    try:
        config = ExperimentConfig(**json.loads(payload["config"]))
    except (TypeError, ValueError, KeyError) as error:
        raise CheckpointError(f"the checkpoint's config is invalid: {error}") from None
    experiment = Experiment(config, data=data, device=device, budget=None)
    _load_state(experiment, payload.get("state_dict"))
    experiment.steps_done = int(payload.get("step", 0))
    return experiment


def _load_state(experiment: Experiment, state: Any) -> None:
    expected = experiment.model.state_dict()
    if not isinstance(state, dict) or set(state) != set(expected):
        raise CheckpointError("the checkpoint's weights do not match its config (different tensor names)")
    for name, tensor in state.items():
        if not isinstance(tensor, torch.Tensor) or tensor.shape != expected[name].shape:
            shape = tuple(tensor.shape) if isinstance(tensor, torch.Tensor) else type(tensor).__name__
            raise CheckpointError(
                f"weight {name} has shape {shape}, but the config needs {tuple(expected[name].shape)}"
            )
        if not torch.isfinite(tensor).all():
            raise CheckpointError(f"weight {name} holds NaN or infinite values")
    experiment.model.load_state_dict(state)


__all__ = ["CheckpointError", "ConfigError", "checkpoint_bytes", "load_checkpoint"]
