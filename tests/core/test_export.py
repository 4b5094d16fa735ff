import io
import os
import pickle

import pytest
import torch

from core.config import ExperimentConfig
from core.export import CheckpointError, checkpoint_bytes, load_checkpoint
from core.trainer import Experiment


def trained():
    exp = Experiment(
        ExperimentConfig(cell="lstm", task="adding", seq_len=10, hidden=6, batch_size=4)
    )
    exp.step(5)
    return exp


def test_checkpoint_round_trip_restores_weights_config_and_step():
    exp = trained()
    loaded = load_checkpoint(checkpoint_bytes(exp))
    assert loaded.config == exp.config and loaded.steps_done == 5
    for name, value in exp.model.state_dict().items():
        assert torch.equal(loaded.model.state_dict()[name], value)
    assert loaded.validate() == exp.validate()


def test_shape_mismatch_is_reported_clearly():
    exp = trained()
    raw = checkpoint_bytes(exp)
    payload = torch.load(io.BytesIO(raw), weights_only=True)
    payload["config"] = payload["config"].replace('"hidden": 6', '"hidden": 7')
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    with pytest.raises(
        CheckpointError, match=r"has shape \(24, 2\), but the config needs \(28, 2\)"
    ):
        load_checkpoint(buffer.getvalue())


class RunsCode:
    def __reduce__(self):
        return (os.system, ("echo pwned > /tmp/rnn-playground-pwned",))


def test_a_pickle_that_would_run_code_is_refused(tmp_path):
    if os.path.exists("/tmp/rnn-playground-pwned"):
        os.remove("/tmp/rnn-playground-pwned")
    buffer = io.BytesIO()
    torch.save({"format": "rnn-playground-checkpoint/1", "evil": RunsCode()}, buffer)
    with pytest.raises(CheckpointError, match="not a playground checkpoint, or it holds code"):
        load_checkpoint(buffer.getvalue())
    assert not os.path.exists("/tmp/rnn-playground-pwned")
    with pytest.raises(CheckpointError):
        load_checkpoint(pickle.dumps(RunsCode()))


@pytest.mark.parametrize("raw", [b"", b"garbage" * 10, b"PK\x03\x04" + b"\x00" * 50])
def test_garbage_is_refused(raw):
    with pytest.raises(CheckpointError):
        load_checkpoint(raw)


def test_oversized_upload_is_refused_before_parsing():
    with pytest.raises(CheckpointError, match="the limit is"):
        load_checkpoint(b"\x00" * 50_000_001)
