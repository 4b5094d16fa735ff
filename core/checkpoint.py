"""Checkpoints: a run's weights, settings (as JSON), step count and history in one `torch.save`
file, and loading one that a stranger sent without letting it cost more than the run it describes.

A checkpoint is a zip archive. `torch.load` inflates every record before anything can be checked,
so a small file of compressed records (a decompression bomb) or of many directory entries pointing
at the same bytes could take gigabytes. `load_checkpoint` therefore works in this order, and
materialises no tensor until the archive has passed:

1. size of the file (MAX_CHECKPOINT_BYTES) and of its zip directory;
2. the directory, read with `zipfile`: every record stored (not compressed), each name once;
3. the pickle's opcodes (`pickletools`; nothing is executed): it may call only what this page's
   checkpoints call (torch's weights-only unpickler still allows bytearray(n), for one); the
   config and step read from them, the cost budget, and the tensor shapes the config needs
   (built on the meta device);
4. the records' total size against what those tensors and a history of that many steps take, plus
   a small slack;
5. only then `torch.load(weights_only=True)` of a copy of exactly the checked records, and checks
   of every value: names, shapes, float32, finite, a non-negative whole `step`, a well-formed
   history.

core/seq2seq_checkpoint.py writes the Translate page's encoder-decoders with the same checks; a
file of one kind given to the other's loader is refused by its format, saying what it is.
"""

from __future__ import annotations

import io
import json
import math
import pickletools
import zipfile
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from core.config import FIELDS, ConfigError, ExperimentConfig
from core.memory import parameter_shapes
from core.tasks import make_task
from core.trainer import Experiment, History

FORMAT = "rnn-playground-checkpoint/1"
SEQ2SEQ_FORMAT = "rnn-playground-seq2seq-checkpoint/1"  # core/seq2seq_checkpoint.py's
# What a file of the other kind is, and where it belongs (a clear message, not a shape error).
KINDS = {
    FORMAT: "a Playground checkpoint (one sequence model): upload it on the Playground page, "
    "or load it with core.checkpoint.load_checkpoint",
    SEQ2SEQ_FORMAT: "a Translate checkpoint (encoder-decoders): upload it on the Translate page, "
    "or load it with core.seq2seq_checkpoint.load_seq2seq_checkpoint",
}
MIB = 2**20
# The largest run the page allows (an LSTM, 512 units, 3 layers, on the text task: 5.33M weights,
# 21 MB) with a full history (MAX_HISTORY_ROWS x 8 float64 columns, 6.4 MB) fits with room to
# spare. Whole MiB, because .streamlit/config.toml's server.maxUploadSize (in MiB) must match.
MAX_CHECKPOINT_BYTES = 32 * MIB
MAX_STEP = 10**9  # a sane bound for a step count (a notebook could train past max_steps)
MAX_HISTORY_ROWS = int(FIELDS["max_steps"].high)  # checkpoint_bytes keeps at most the last rows
MAX_DIRECTORY_BYTES = 64 * 1024  # a real checkpoint's zip directory is ~2 KB
MAX_PICKLE_BYTES = 256 * 1024  # the pickle holds names, shapes and the config: ~3 KB
SLACK_BYTES = 512 * 1024  # pickle, version records and alignment padding
_KEYS = {"format", "config", "step", "state_dict", "history"}
# What the pickle of a checkpoint calls: GLOBAL's arguments, "module name". Anything else (and
# STACK_GLOBAL or the extension registry, which torch.save never writes) is refused unread.
ALLOWED_GLOBALS = {
    "torch._utils _rebuild_tensor_v2",
    "torch FloatStorage",
    "torch DoubleStorage",
    "collections OrderedDict",
}
CALLABLE_OPCODES = {"GLOBAL", "STACK_GLOBAL", "INST", "EXT1", "EXT2", "EXT4"}
# History columns every step fills (validation columns are NaN between validations).
ALWAYS_SET = ("step", "train_loss", "grad_norm", "clipped", "lr", "seconds")


class CheckpointError(ValueError):
    """The checkpoint can't be used; the message says why."""


def checkpoint_bytes(experiment: Experiment) -> bytes:
    """Serialise weights, config (JSON text), step count and history (the last MAX_HISTORY_ROWS
    steps as one float64 tensor (rows, len(History.COLUMNS)))."""
    with experiment.lock:
        history = experiment.history
        rows = [
            np.asarray(getattr(history, name)[-MAX_HISTORY_ROWS:], dtype=np.float64)
            for name in History.COLUMNS
        ]
        values = np.column_stack(rows) if len(history) else np.zeros((0, len(History.COLUMNS)))
        payload = {
            "format": FORMAT,
            "config": json.dumps(experiment.config.to_dict(), sort_keys=True),
            "step": experiment.steps_done,
            "history": {"columns": list(History.COLUMNS), "values": torch.from_numpy(values)},
            "state_dict": {
                k: v.detach().cpu().clone() for k, v in experiment.model.state_dict().items()
            },
        }
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    return buffer.getvalue()


def load_checkpoint(
    raw: bytes,
    data: Any = None,
    device: str | None = None,
    budget: int | None = None,
    reserve: Callable[[ExperimentConfig], None] | None = None,
) -> Experiment:
    """Rebuild an Experiment from `checkpoint_bytes` output. Raises CheckpointError, never runs code.

    `budget`: the cost limit the rebuilt run must meet (None, the default for notebooks: none; the
    page passes COST_BUDGET, so an uploaded file can't start a run larger than a link could).
    `reserve(config)`: called once every check has passed, just before the run is built (the page
    asks its memory governor for room there); it may raise CheckpointError to stop."""
    if len(raw) > MAX_CHECKPOINT_BYTES:
        raise CheckpointError(
            f"checkpoint is {len(raw) / 1e6:.1f} MB; the limit is {MAX_CHECKPOINT_BYTES / 1e6:.1f} MB"
        )
    records = _stored_records(raw)
    header = _read_header(raw, records, FORMAT, {"config": str, "step": object})
    config = _config_from(header.get("config"))
    step = _check_step(header.get("step", 0))  # bounds the history; checked again once loaded
    try:
        config.check_budget(budget)
        task = make_task(config, data)
    except ConfigError as error:
        raise CheckpointError(f"the checkpoint's settings can't be used here: {error}") from None
    shapes = parameter_shapes(config, task.input_size, task.output_size)
    needed = sum(4 * math.prod(shape) for shape in shapes.values())
    history_bytes = min(step, MAX_HISTORY_ROWS) * len(History.COLUMNS) * 8
    _check_total(records, needed + history_bytes + SLACK_BYTES)
    payload = _load_payload(_rebuilt_archive(raw, records), FORMAT, _KEYS)
    if payload.get("config") != header.get("config") or _check_step(payload.get("step", 0)) != step:
        raise CheckpointError("not a playground checkpoint (its records contradict each other)")
    state = _check_state(payload.get("state_dict"), shapes)
    history = _check_history(payload.get("history"), step)
    if reserve is not None:
        reserve(config)
    try:
        experiment = Experiment(config, data=data, device=device, budget=budget)
    except ConfigError as error:
        raise CheckpointError(f"the checkpoint's settings can't be used here: {error}") from None
    with experiment.lock:
        experiment.model.load_state_dict(state)
        experiment.steps_done = step
        if history is not None:
            experiment.history = history
    return experiment


# ---- 1-2: the archive's directory ----------------------------------------------------------------
def _stored_records(raw: bytes) -> list[zipfile.ZipInfo]:
    """The zip directory's entries, refused unless every record is stored and named once."""
    if not raw.startswith(b"PK"):
        raise CheckpointError("not a playground checkpoint (not a zip archive)")
    # zipfile reads the whole central directory into memory and makes an object per entry: bound
    # its size first, read from the same end-of-archive record zipfile itself uses.
    end = zipfile._EndRecData(io.BytesIO(raw))
    if end is None:
        raise CheckpointError("not a playground checkpoint (no zip directory)")
    if end[zipfile._ECD_SIZE] > MAX_DIRECTORY_BYTES:
        raise CheckpointError(
            f"not a playground checkpoint (its zip directory is {end[zipfile._ECD_SIZE]:,} bytes)"
        )
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            records = archive.infolist()
    except (zipfile.BadZipFile, ValueError, EOFError, OSError) as error:
        raise CheckpointError(f"not a playground checkpoint ({error})") from None
    names = [record.filename for record in records]
    if len(set(names)) != len(names):
        raise CheckpointError("not a playground checkpoint (a record name appears twice)")
    for record in records:
        if record.compress_type != zipfile.ZIP_STORED or record.compress_size != record.file_size:
            raise CheckpointError(
                "the checkpoint holds compressed records; checkpoints from this page never do, "
                "and a compressed one could inflate to any size"
            )
    return records


def _check_total(records: list[zipfile.ZipInfo], allowed: int) -> None:
    total = sum(record.file_size for record in records)
    if total > allowed:
        raise CheckpointError(
            f"the checkpoint's records hold {total / 1e6:.1f} MB, but its settings need at most "
            f"{allowed / 1e6:.1f} MB"
        )


# ---- 3: config and step from the pickle's opcodes -------------------------------------------------
def _read_header(
    raw: bytes, records: list[zipfile.ZipInfo], expected: str, keys: dict[str, type]
) -> dict[str, Any]:
    """'format' and `keys` (name -> type of its value) as the pickle writes them, without
    unpickling anything; a file whose format is not `expected` is refused, saying what it is.

    The pickle writes each top-level key's string and then its value; the first string (or whole
    number, for 'step') after each key is taken. load_checkpoint later compares them with the
    real payload, so a pickle that says one thing here and another when loaded is refused."""
    pickles = [r for r in records if r.filename.endswith("/data.pkl")]
    if len(pickles) != 1:
        raise CheckpointError("not a playground checkpoint (no data.pkl record)")
    if pickles[0].file_size > MAX_PICKLE_BYTES:
        raise CheckpointError("not a playground checkpoint (its pickle record is too large)")
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            data = archive.read(pickles[0])
    except (zipfile.BadZipFile, ValueError, EOFError, OSError) as error:
        raise CheckpointError(f"not a playground checkpoint ({error})") from None
    wanted = {"format": str, **keys}
    found: dict[str, Any] = {}
    key = None
    try:
        for opcode, arg, _ in pickletools.genops(data):
            if opcode.name in ("BINPUT", "LONG_BINPUT", "PUT", "MEMOIZE"):
                continue
            # torch's weights-only unpickler still calls a few builtins (bytearray(10**10) would
            # allocate 10 GB): only the callables a checkpoint of this page uses may appear.
            if opcode.name in CALLABLE_OPCODES and arg not in ALLOWED_GLOBALS:
                raise CheckpointError(
                    f"not a playground checkpoint (it calls {str(arg)[:60]!r}, which checkpoints "
                    "of this page never do)"
                )
            if key is not None and key not in found and isinstance(arg, wanted[key]):
                found[key] = arg
            key = arg if isinstance(arg, str) and arg in wanted else None
    except CheckpointError:
        raise
    except (ValueError, EOFError, UnicodeDecodeError) as error:
        raise CheckpointError(f"not a playground checkpoint ({error})") from None
    _check_format(found.get("format"), expected)
    return found


def _check_format(found: Any, expected: str) -> None:
    if found == expected:
        return
    if found in KINDS:
        raise CheckpointError(f"this file is {KINDS[found]}")
    raise CheckpointError(f"not a playground checkpoint (expected format {expected!r})")


def _config_from(text: Any) -> ExperimentConfig:
    if not isinstance(text, str) or len(text) > 20_000:
        raise CheckpointError("the checkpoint's config is missing or too long")
    try:
        values = json.loads(text)
        if not isinstance(values, dict):
            raise TypeError("not a JSON object")
        return ExperimentConfig(**values)
    except (TypeError, ValueError) as error:
        raise CheckpointError(f"the checkpoint's config is invalid: {error}") from None


def _check_step(step: Any) -> int:
    if type(step) is not int or not 0 <= step <= MAX_STEP:
        raise CheckpointError(
            f"the checkpoint's step count must be a whole number from 0 to {MAX_STEP:,}; "
            f"got {str(step)[:40]}"
        )
    return step


# ---- 5: loading exactly the checked records ---------------------------------------------------------
def _rebuilt_archive(raw: bytes, records: list[zipfile.ZipInfo]) -> bytes:
    """A fresh zip of the checked records alone. torch's own zip reader (miniz) could otherwise
    find a different directory in the same bytes (a second zip64 record) than zipfile did."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(raw)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as target,
    ):
        for record in records:
            try:
                target.writestr(record.filename, source.read(record))
            except (zipfile.BadZipFile, ValueError, EOFError, OSError) as error:
                raise CheckpointError(f"not a playground checkpoint ({error})") from None
    return out.getvalue()


def _load_payload(archive: bytes, expected: str, keys: set[str]) -> dict[str, Any]:
    try:
        payload = torch.load(io.BytesIO(archive), map_location="cpu", weights_only=True)
    except Exception as error:  # unpickling refuses anything but tensors and plain containers
        raise CheckpointError(
            f"not a playground checkpoint, or it holds code: {error}".split("\n")[0]
        ) from None
    if not isinstance(payload, dict):
        raise CheckpointError(f"not a playground checkpoint (expected format {expected!r})")
    _check_format(payload.get("format"), expected)
    unknown = set(payload) - keys
    if unknown:
        raise CheckpointError(
            f"not a playground checkpoint (unknown entries: {', '.join(sorted(map(str, unknown)))[:80]})"
        )
    return payload


def _check_state(
    state: Any, shapes: dict[str, tuple[int, ...]], what: str = "weight"
) -> dict[str, torch.Tensor]:
    if not isinstance(state, dict) or set(state) != set(shapes):
        raise CheckpointError(
            f"the checkpoint's {what}s do not match its config (different tensor names)"
        )
    for name, tensor in state.items():
        if not isinstance(tensor, torch.Tensor) or tuple(tensor.shape) != shapes[name]:
            shape = (
                tuple(tensor.shape) if isinstance(tensor, torch.Tensor) else type(tensor).__name__
            )
            raise CheckpointError(
                f"{what} {name} has shape {shape}, but the config needs {shapes[name]}"
            )
        if tensor.dtype != torch.float32 or tensor.layout != torch.strided:
            raise CheckpointError(f"{what} {name} is {tensor.dtype}; checkpoints hold float32")
        if not torch.isfinite(tensor).all():
            raise CheckpointError(f"{what} {name} holds NaN or infinite values")
    return state


def _check_history(history: Any, step: int) -> History | None:
    """A History from the checkpoint's table, or None for a checkpoint without one."""
    if history is None:
        return None
    columns = list(History.COLUMNS)
    values = history.get("values") if isinstance(history, dict) else None
    if (
        not isinstance(history, dict)
        or history.get("columns") != columns
        or not isinstance(values, torch.Tensor)
        or values.dtype != torch.float64
        or values.dim() != 2
        or values.shape[1] != len(columns)
        or values.shape[0] > min(step, MAX_HISTORY_ROWS)
    ):
        raise CheckpointError(
            f"the checkpoint's history is not a table of {len(columns)} columns and at most "
            f"{min(step, MAX_HISTORY_ROWS):,} rows (one per step)"
        )
    table = dict(zip(columns, values.numpy().T, strict=True))
    steps = table["step"]
    problems = [
        (not np.all(steps == np.round(steps)), "step numbers must be whole"),
        (len(steps) and not (steps.min() >= 1 and steps.max() <= step), "steps out of range"),
        (np.any(np.diff(steps) <= 0), "step numbers must increase"),
        (not np.isin(table["clipped"], (0.0, 1.0)).all(), "clipped must be 0 or 1"),
        (np.isinf(values.numpy()).any(), "infinite values"),
        (any(np.isnan(table[name]).any() for name in ALWAYS_SET), "missing values"),
        (np.any(table["lr"] <= 0) or np.any(table["seconds"] < 0), "negative rates or times"),
    ]
    for failed, problem in problems:
        if failed:
            raise CheckpointError(f"the checkpoint's history is not valid: {problem}")
    return History(
        step=[int(s) for s in steps],
        train_loss=table["train_loss"].tolist(),
        val_loss=table["val_loss"].tolist(),
        val_metric=table["val_metric"].tolist(),
        grad_norm=table["grad_norm"].tolist(),
        clipped=[bool(c) for c in table["clipped"]],
        lr=table["lr"].tolist(),
        seconds=table["seconds"].tolist(),
    )


__all__ = [
    "FORMAT",
    "KINDS",
    "SEQ2SEQ_FORMAT",
    "MAX_CHECKPOINT_BYTES",
    "CheckpointError",
    "checkpoint_bytes",
    "load_checkpoint",
]
