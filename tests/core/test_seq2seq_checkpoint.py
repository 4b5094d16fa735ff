"""Encoder-decoder checkpoints: a loaded run trains on exactly as the run that was saved would
have, a file of the other kind says where it belongs, and a tampered file is refused plainly."""

import io
import json
import pickle
import zipfile

import numpy as np
import pytest
import torch

from core.checkpoint import CheckpointError, checkpoint_bytes, load_checkpoint
from core.config import ExperimentConfig
from core.seq2seq import Seq2SeqConfig, Seq2SeqExperiment
from core.seq2seq_checkpoint import load_seq2seq_checkpoint, seq2seq_checkpoint_bytes
from core.trainer import Experiment

SMALL = dict(hidden=8, embed=4, max_groups=1, batch_size=8, val_every=4)


def trained(steps: int = 5, **changes) -> Seq2SeqExperiment:
    run = Seq2SeqExperiment(Seq2SeqConfig(**{**SMALL, **changes}))
    run.step(steps)
    return run


def payload_of(raw: bytes) -> dict:
    return torch.load(io.BytesIO(raw), weights_only=True)


def saved(payload: dict) -> bytes:
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    return buffer.getvalue()


@pytest.mark.parametrize(
    "changes",
    [
        dict(cell="gru", attention="dot"),
        dict(cell="lstm", attention="additive", seed=3),
        dict(cell="rnn", attention="none", seed=1),
        dict(cell="gru", attention="dot", optimizer="sgd", seed=2),
        dict(cell="lstm", attention="none", optimizer="rmsprop", seed=4),
    ],
    ids=lambda c: "-".join(map(str, c.values())),
)
def test_a_loaded_run_trains_on_exactly_as_one_trained_straight(changes):
    k, m = 7, 6
    straight = trained(k + m, **changes)
    loaded = load_seq2seq_checkpoint(seq2seq_checkpoint_bytes(trained(k, **changes)))["run"]
    assert loaded.steps_done == k and len(loaded.history) == k
    loaded.step(m)
    print(changes, "last losses", straight.history.train_loss[-1], loaded.history.train_loss[-1])
    assert loaded.history.train_loss == straight.history.train_loss  # bit for bit on the CPU
    np.testing.assert_array_equal(loaded.history.val_loss, straight.history.val_loss)
    for name, tensor in straight.model.state_dict().items():
        assert torch.equal(loaded.model.state_dict()[name], tensor), name


def test_labelled_runs_round_trip_with_settings_steps_and_history():
    runs = {"plain": trained(3, attention="none"), "attention": trained(5, attention="additive")}
    loaded = load_seq2seq_checkpoint(seq2seq_checkpoint_bytes(runs))
    assert list(loaded) == ["plain", "attention"]
    for label, run in runs.items():
        assert loaded[label].config == run.config
        assert loaded[label].steps_done == run.steps_done
        assert loaded[label].history.train_loss == run.history.train_loss
    fresh = load_seq2seq_checkpoint(seq2seq_checkpoint_bytes(trained(0)))["run"]
    assert fresh.steps_done == 0 and not fresh.optimizer.state  # no step yet, no slots


def test_a_file_of_the_other_kind_says_where_it_belongs():
    sequence = Experiment(ExperimentConfig(task="adding", seq_len=8, hidden=4))
    with pytest.raises(CheckpointError, match="Playground checkpoint.*Playground page"):
        load_seq2seq_checkpoint(checkpoint_bytes(sequence))
    with pytest.raises(CheckpointError, match="Translate checkpoint.*Translate page"):
        load_checkpoint(seq2seq_checkpoint_bytes(trained(1)))


def tampered(change) -> bytes:
    payload = payload_of(seq2seq_checkpoint_bytes(trained(3, cell="lstm", attention="additive")))
    change(payload)
    return saved(payload)


def with_meta(edit):
    def change(payload):
        meta = json.loads(payload["runs"])
        edit(meta["run"])
        payload["runs"] = json.dumps(meta)

    return change


def set_slot(name, value):
    def change(payload):
        payload["optimizer"]["run"]["readout.weight"][name] = value

    return change


@pytest.mark.parametrize(
    "change, message",
    [
        (with_meta(lambda run: run["config"].update(hidden=9)), "shape|need"),
        (with_meta(lambda run: run["config"].update(cell="lstn")), "config is invalid.*lstn"),
        (with_meta(lambda run: run["config"].update(optimizer="adamw")), "unknown optimizer"),
        (with_meta(lambda run: run["config"].update(colour=1)), "config is invalid"),
        (with_meta(lambda run: run.update(step=-2)), "step count"),
        (with_meta(lambda run: run["data_stream"].update(bit_generator="MT19937")), "PCG64"),
        (with_meta(lambda run: run["data_stream"]["state"].update(inc=2**200)), "PCG64"),
        (with_meta(lambda run: run.update(step=2)), "history.*at most 2 rows"),
        (set_slot("exp_avg", torch.zeros(3, 3)), "exp_avg has shape"),
        (set_slot("exp_avg", torch.full((13, 8), float("nan"))), "NaN"),
        (set_slot("step", torch.tensor(2.5)), "not a step count"),
        (set_slot("momentum_buffer", torch.zeros(13, 8)), "not adam's"),
        (lambda p: p["weights"]["run"].pop("readout.bias"), "different tensor names"),
        (lambda p: p["history"].pop("run"), "not one entry per run"),
        (lambda p: p.update(extra=torch.zeros(1)), "unknown entries: extra"),
    ],
)
def test_a_tampered_file_is_refused_with_a_message(change, message):
    with pytest.raises(CheckpointError, match=message):
        load_seq2seq_checkpoint(tampered(change))


def test_code_garbage_and_compressed_records_are_refused(tmp_path):
    class RunsCode:
        def __reduce__(self):
            return (print, ("pwned",))

    with pytest.raises(CheckpointError, match="calls .*print"):
        load_seq2seq_checkpoint(saved({"format": "x", "runs": RunsCode()}))
    for raw in (b"", b"not a zip", pickle.dumps([1, 2])):
        with pytest.raises(CheckpointError, match="not a playground checkpoint"):
            load_seq2seq_checkpoint(raw)
    raw = seq2seq_checkpoint_bytes(trained(1))
    source, out = zipfile.ZipFile(io.BytesIO(raw)), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for record in source.infolist():
            target.writestr(record.filename, source.read(record))
    with pytest.raises(CheckpointError, match="compressed records"):
        load_seq2seq_checkpoint(out.getvalue())


def test_records_larger_than_the_settings_need_are_refused():
    payload = payload_of(seq2seq_checkpoint_bytes(trained(2)))
    payload["history"]["run"]["values"] = torch.zeros((2, 8), dtype=torch.float64)
    payload["weights"]["run"]["readout.weight"] = torch.zeros(2_000_000)  # 8 MB in a 10 kB run
    with pytest.raises(CheckpointError, match="records hold 8.*need at most"):
        load_seq2seq_checkpoint(saved(payload))


def test_check_sees_the_settings_before_any_tensor_is_read_and_can_refuse(monkeypatch):
    from core import seq2seq_checkpoint

    seen = []

    def refuse(configs):
        seen.append({label: c.hidden for label, c in configs.items()})
        raise CheckpointError("not on this page")

    def no_tensors(*args):
        raise AssertionError("a tensor was read before the check")

    monkeypatch.setattr(seq2seq_checkpoint, "_load_payload", no_tensors)
    with pytest.raises(CheckpointError, match="not on this page"):
        load_seq2seq_checkpoint(seq2seq_checkpoint_bytes(trained(1)), check=refuse)
    assert seen == [{"run": 8}]


def test_writing_a_file_too_large_to_load_is_refused(monkeypatch):
    from core import seq2seq_checkpoint

    monkeypatch.setattr(seq2seq_checkpoint, "MAX_CHECKPOINT_BYTES", 10_000)
    with pytest.raises(CheckpointError, match="limit is 0.0 MB"):
        seq2seq_checkpoint_bytes(trained(1))


@pytest.mark.parametrize("labels", [[], ["a", "b", "c", "d", "e"], ["Bad Label"]])
def test_labels_are_checked(labels):
    runs = {label: trained(0) for label in labels}
    with pytest.raises(CheckpointError, match="runs|label"):
        seq2seq_checkpoint_bytes(runs)


def test_the_translate_pages_largest_runs_with_full_histories_round_trip_under_the_limit():
    from core.checkpoint import MAX_CHECKPOINT_BYTES

    config = Seq2SeqConfig(val_every=100, cell="lstm", attention="additive", hidden=128)
    config = config.replace(max_groups=4)
    runs = {"plain": Seq2SeqExperiment(config.replace(attention="none"))}
    runs["attention"] = Seq2SeqExperiment(config)
    for run in runs.values():
        run.step(1)
        for step in range(2, 5001):  # the page's longest run: 5000 steps
            run.history.add(step, 1.0, grad_norm=1.0, lr=0.01, seconds=0.01)
        run.steps_done = 5000
    raw = seq2seq_checkpoint_bytes(runs)
    print(f"largest page checkpoint: {len(raw) / 1e6:.1f} MB")
    assert len(raw) < MAX_CHECKPOINT_BYTES / 4
    loaded = load_seq2seq_checkpoint(raw)
    assert [len(run.history) for run in loaded.values()] == [5000, 5000]
