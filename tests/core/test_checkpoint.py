"""Checkpoints round-trip, and a hostile file is refused before it can cost memory.

Every crafted file is made here: compressed records (a decompression bomb), records larger than
the config needs, a huge zip directory, bogus steps and histories, wrong dtypes, code in pickles.
"""

import io
import json
import math
import os
import pickle
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
import torch

from core.checkpoint import (
    FORMAT,
    MAX_CHECKPOINT_BYTES,
    MAX_HISTORY_ROWS,
    MAX_STEP,
    MIB,
    CheckpointError,
    checkpoint_bytes,
    load_checkpoint,
)
from core.config import COST_BUDGET, MAX_INTERACTIVE_HIDDEN, ExperimentConfig
from core.memory import parameter_count
from core.tasks import TASKS, make_task
from core.trainer import Experiment, History

ROOT = Path(__file__).resolve().parents[2]


def trained(steps: int = 5) -> Experiment:
    exp = Experiment(
        ExperimentConfig(cell="lstm", task="adding", seq_len=10, hidden=6, batch_size=4)
    )
    exp.step(steps)
    return exp


def payload_of(raw: bytes) -> dict:
    return torch.load(io.BytesIO(raw), weights_only=True)


def saved(payload: dict) -> bytes:
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    return buffer.getvalue()


def test_checkpoint_round_trip_restores_weights_config_step_and_history():
    exp = trained()
    loaded = load_checkpoint(checkpoint_bytes(exp))
    assert loaded.config == exp.config and loaded.steps_done == 5
    for name, value in exp.model.state_dict().items():
        assert torch.equal(loaded.model.state_dict()[name], value)
    assert loaded.validate() == exp.validate()
    for column in History.COLUMNS:
        assert loaded.history.column(column).tolist() == pytest.approx(
            exp.history.column(column).tolist(), nan_ok=True
        ), column
    loaded.step(2)  # and it trains on from there
    assert loaded.history.step == [1, 2, 3, 4, 5, 6, 7]


def test_core_export_still_offers_the_checkpoint_functions():
    from core import export

    assert export.load_checkpoint is load_checkpoint and export.CheckpointError is CheckpointError
    assert export.checkpoint_bytes is checkpoint_bytes


def test_a_checkpoint_without_history_still_loads():
    payload = payload_of(checkpoint_bytes(trained()))
    del payload["history"]
    loaded = load_checkpoint(saved(payload))
    assert loaded.steps_done == 5 and len(loaded.history) == 0


def test_shape_mismatch_is_reported_clearly():
    payload = payload_of(checkpoint_bytes(trained()))
    payload["config"] = payload["config"].replace('"hidden": 6', '"hidden": 7')
    with pytest.raises(
        CheckpointError, match=r"has shape \(24, 2\), but the config needs \(28, 2\)"
    ):
        load_checkpoint(saved(payload))


class RunsCode:
    def __reduce__(self):
        return (os.system, ("echo pwned > /tmp/rnn-playground-pwned",))


def test_a_pickle_that_would_run_code_is_refused(tmp_path):
    if os.path.exists("/tmp/rnn-playground-pwned"):
        os.remove("/tmp/rnn-playground-pwned")
    payload = payload_of(checkpoint_bytes(trained()))
    payload["evil"] = RunsCode()
    with pytest.raises(CheckpointError, match=r"it calls '\w+ system'"):
        load_checkpoint(saved(payload))
    assert not os.path.exists("/tmp/rnn-playground-pwned")
    with pytest.raises(CheckpointError):
        load_checkpoint(pickle.dumps(RunsCode()))


class Allocates:
    def __reduce__(self):
        return (bytearray, (10**12,))  # allowed by torch's weights-only unpickler: 1 TB


def test_a_pickle_that_would_allocate_is_refused_before_it_is_unpickled():
    payload = payload_of(checkpoint_bytes(trained()))
    payload["state_dict"]["readout.bias"] = Allocates()
    with pytest.raises(CheckpointError, match=r"it calls '\w+ bytearray'"):
        load_checkpoint(saved(payload))


@pytest.mark.parametrize("raw", [b"", b"garbage" * 10, b"PK\x03\x04" + b"\x00" * 50])
def test_garbage_is_refused(raw):
    with pytest.raises(CheckpointError):
        load_checkpoint(raw)


def test_oversized_upload_is_refused_before_parsing():
    with pytest.raises(CheckpointError, match="the limit is"):
        load_checkpoint(b"\x00" * (MAX_CHECKPOINT_BYTES + 1))


# ---- bogus values ------------------------------------------------------------------------------
@pytest.mark.parametrize("step", [-5, MAX_STEP + 1, 10**30, 2.5, "5", True, None])
def test_a_bogus_step_is_refused(step):
    payload = payload_of(checkpoint_bytes(trained()))
    payload["step"] = step
    payload.pop("history")
    with pytest.raises(CheckpointError, match="step"):
        load_checkpoint(saved(payload))


def rows_with(**changes):
    exp = trained()
    payload = payload_of(checkpoint_bytes(exp))
    values = payload["history"]["values"]
    for column, (row, value) in changes.items():
        values[row, History.COLUMNS.index(column)] = value
    return payload


@pytest.mark.parametrize(
    "payload_change",
    [
        lambda p: p["history"].update(values=p["history"]["values"].float()),
        lambda p: p["history"].update(columns=["step"]),
        lambda p: p["history"].update(values=torch.zeros(6, len(History.COLUMNS)).double()),
        lambda p: p.update(history=[1, 2, 3]),
        lambda p: p.update(step=3),  # five rows of history for three steps
    ],
)
def test_a_malformed_history_is_refused(payload_change):
    payload = payload_of(checkpoint_bytes(trained()))
    payload_change(payload)
    with pytest.raises(CheckpointError, match="history"):
        load_checkpoint(saved(payload))


@pytest.mark.parametrize(
    "changes",
    [
        {"step": (0, 0)},
        {"step": (1, 1)},  # not increasing
        {"step": (4, 9)},  # past the checkpoint's step
        {"step": (2, 3.5)},
        {"clipped": (0, 0.5)},
        {"train_loss": (0, math.inf)},
        {"lr": (0, -1.0)},
        {"seconds": (0, math.nan)},
    ],
)
def test_bogus_history_values_are_refused(changes):
    with pytest.raises(CheckpointError, match="history is not valid"):
        load_checkpoint(saved(rows_with(**changes)))


def test_weights_must_be_finite_float32_of_the_right_shape():
    payload = payload_of(checkpoint_bytes(trained()))
    name = "readout.bias"
    for bad, message in [
        (payload["state_dict"][name].double(), "float32"),
        (torch.full_like(payload["state_dict"][name], math.nan), "NaN"),
        # a view of a billion elements over 4 bytes: refused by its shape, never materialised
        (torch.zeros(1).expand(10**9), "shape"),
    ]:
        changed = {**payload, "state_dict": {**payload["state_dict"], name: bad}}
        with pytest.raises(CheckpointError, match=message):
            load_checkpoint(saved(changed))


def test_the_cost_budget_is_applied_before_the_weights_are_read():
    huge = ExperimentConfig(task="adding", hidden=1024, seq_len=200)
    payload = payload_of(checkpoint_bytes(trained()))
    payload["config"] = json.dumps(huge.to_dict())
    with pytest.raises(CheckpointError, match="settings can't be used here"):
        load_checkpoint(saved(payload), budget=COST_BUDGET)


# ---- hostile archives ---------------------------------------------------------------------------
def rezipped(
    raw: bytes,
    compression=zipfile.ZIP_STORED,
    extra: dict[str, int] | None = None,
    replace: dict[str, int] | None = None,
):
    """The checkpoint's records written again, compressed if asked; `replace`d records and
    `extra` ones are name -> that many zero bytes (written in 1 MiB chunks: no big buffer)."""
    out = io.BytesIO()
    replace = replace or {}
    with zipfile.ZipFile(io.BytesIO(raw)) as source, zipfile.ZipFile(out, "w") as target:
        prefix = source.namelist()[0].split("/")[0]
        for info in source.infolist():
            if info.filename.split("/", 1)[1] not in replace:
                target.writestr(info.filename, source.read(info), compress_type=compression)
        for name, size in ({**replace, **(extra or {})}).items():
            info = zipfile.ZipInfo(f"{prefix}/{name}")
            info.compress_type = compression
            with target.open(info, "w", force_zip64=True) as f:
                for start in range(0, size, MIB):
                    f.write(bytes(min(MIB, size - start)))
    return out.getvalue()


def test_compressed_records_are_refused():
    raw = rezipped(checkpoint_bytes(trained()), zipfile.ZIP_DEFLATED)
    with pytest.raises(CheckpointError, match="compressed records"):
        load_checkpoint(raw)


def test_records_larger_than_the_config_needs_are_refused():
    raw = rezipped(checkpoint_bytes(trained()), extra={"data/99": 2 * MIB})
    assert len(raw) < MAX_CHECKPOINT_BYTES
    with pytest.raises(CheckpointError, match="its settings need at most"):
        load_checkpoint(raw)


def test_a_record_named_twice_is_refused():
    raw = checkpoint_bytes(trained())
    with zipfile.ZipFile(io.BytesIO(raw)) as source:
        first = source.infolist()[0].filename
    with pytest.warns(UserWarning, match="Duplicate name"):
        twice = rezipped(raw, extra={first.split("/", 1)[1]: 10})
    with pytest.raises(CheckpointError, match="appears twice"):
        load_checkpoint(twice)


def test_a_huge_zip_directory_is_refused():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for index in range(3000):
            archive.writestr(f"archive/x{index:05d}", b"")
    with pytest.raises(CheckpointError, match="zip directory"):
        load_checkpoint(out.getvalue())


BOMB_CHILD = """
import sys
from pathlib import Path
def status(name):
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(name + ":"):
            return int(line.split()[1]) / 1024
from core.checkpoint import CheckpointError, load_checkpoint
raw = Path(sys.argv[1]).read_bytes()
before = status("VmRSS")
Path("/proc/self/clear_refs").write_text("5")  # reset the high-water mark
try:
    load_checkpoint(raw)
    print("LOADED")
except CheckpointError as error:
    print("REFUSED", error)
print("GROWTH_MB", status("VmHWM") - before)
"""


@pytest.mark.skipif(not Path("/proc/self/clear_refs").exists(), reason="needs Linux /proc")
def test_a_decompression_bomb_costs_under_50_mb(tmp_path):
    """The 1.9 MB file of issue 13 took 1,908 MB; in this one the first weight's record inflates
    to 128 MB (0.1 MB on disk), and torch.load reads a record whole."""
    bomb = tmp_path / "bomb.pt"
    bomb.write_bytes(
        rezipped(checkpoint_bytes(trained()), zipfile.ZIP_DEFLATED, replace={"data/0": 128 * MIB})
    )
    assert bomb.stat().st_size < 2 * MIB
    done = subprocess.run(
        [sys.executable, "-c", BOMB_CHILD, str(bomb)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    lines = done.stdout.splitlines()
    assert any(line.startswith("REFUSED") for line in lines), done.stdout + done.stderr
    growth = float(next(line for line in lines if line.startswith("GROWTH_MB")).split()[1])
    print(f"peak RSS growth while refusing a 128 MB bomb: {growth:.1f} MB")
    assert growth < 50


# ---- the largest run the page allows -------------------------------------------------------------
def largest_parameter_count() -> tuple[int, str]:
    """The most weights any task can have at the interactive limit (hidden 512, 3 layers), with
    the task settings that make its input and output widest."""
    widest = {"alphabet": 32, "n_classes": 10}
    best = (0, "")
    for task in TASKS:
        config = ExperimentConfig(
            cell="lstm", task=task, hidden=MAX_INTERACTIVE_HIDDEN, layers=3, **widest
        )
        sizes = make_task(config)
        count = parameter_count(config, sizes.input_size, sizes.output_size)
        best = max(best, (count, task))
    return best


def test_upload_limit_fits_the_largest_run_with_a_full_history_and_matches_the_server():
    count, task = largest_parameter_count()
    history = MAX_HISTORY_ROWS * len(History.COLUMNS) * 8
    assert 4 * count + history + 1 * MIB < MAX_CHECKPOINT_BYTES, (count, task)
    settings = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert settings["server"]["maxUploadSize"] * MIB == MAX_CHECKPOINT_BYTES


@pytest.mark.slow
def test_the_largest_allowed_run_round_trips_with_a_full_history():
    config = ExperimentConfig(cell="lstm", task="text", hidden=512, layers=3, batch_size=1)
    config = config.replace(seq_len=min(113, config.seq_len))
    config.check_budget()
    exp = Experiment(config)
    exp.step(1)
    history = exp.history
    for name in History.COLUMNS:  # a run that used every step of the largest budget
        setattr(history, name, getattr(history, name) * MAX_HISTORY_ROWS)
    history.step = list(range(1, MAX_HISTORY_ROWS + 1))
    exp.steps_done = MAX_HISTORY_ROWS
    raw = checkpoint_bytes(exp)
    print(f"largest checkpoint: {len(raw) / 1e6:.1f} MB, limit {MAX_CHECKPOINT_BYTES / 1e6:.1f} MB")
    assert len(raw) <= MAX_CHECKPOINT_BYTES
    loaded = load_checkpoint(raw, budget=COST_BUDGET)
    assert loaded.steps_done == MAX_HISTORY_ROWS and len(loaded.history) == MAX_HISTORY_ROWS
    for name, value in exp.model.state_dict().items():
        assert torch.equal(loaded.model.state_dict()[name], value)


def test_format_constant_is_what_files_carry():
    assert payload_of(checkpoint_bytes(trained()))["format"] == FORMAT
