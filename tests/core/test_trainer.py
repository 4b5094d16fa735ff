import math
import subprocess
import sys

import numpy as np
import pytest
import torch

from core.config import ConfigError, ExperimentConfig
from core.model import build_model
from core.tasks import TASKS, make_task
from core.trainer import Experiment, History, make_optimizer, optimizer_step, training_loss


def small(**changes):
    base = dict(cell="gru", task="adding", seq_len=12, hidden=8, batch_size=8, val_every=5)
    return ExperimentConfig(**{**base, **changes})


def test_step_runs_exactly_k_steps_and_records_history():
    exp = Experiment(small())
    metrics = exp.step(7)
    assert metrics["step"] == 7 == exp.steps_done == len(exp.history)
    assert exp.history.step == list(range(1, 8))
    steps, val_loss, _ = exp.history.validations()
    assert list(steps) == [1, 5]  # first step, then every val_every
    assert metrics["val_loss"] == pytest.approx(val_loss[-1])
    assert math.isfinite(metrics["train_loss"]) and metrics["steps_per_second"] > 0
    assert exp.step(0)["step"] == 7


@pytest.mark.parametrize("optimizer", ["adam", "sgd", "rmsprop"])
def test_same_seed_gives_bitwise_identical_losses(optimizer):
    runs = [Experiment(small(optimizer=optimizer, seed=3)) for _ in range(2)]
    for exp in runs:
        exp.step(15)
    assert runs[0].history.train_loss == runs[1].history.train_loss
    other = Experiment(small(optimizer=optimizer, seed=4))
    other.step(15)
    assert other.history.train_loss != runs[0].history.train_loss


def test_reset_restarts_the_identical_run():
    exp = Experiment(small())
    exp.step(10)
    first = list(exp.history.train_loss)
    exp.reset()
    assert exp.steps_done == 0 and len(exp.history) == 0
    exp.step(10)
    assert exp.history.train_loss == first


def test_learning_rate_and_clip_change_between_steps():
    exp = Experiment(small(clip=0.0))
    exp.step(2)
    exp.update(lr=0.5, clip=1e-6)
    exp.step(3)
    assert exp.history.lr == [0.01, 0.01, 0.5, 0.5, 0.5]
    assert exp.optimizer.param_groups[0]["lr"] == 0.5
    assert exp.history.clipped == [False, False, True, True, True]
    assert exp.metrics()["clipped_fraction"] == pytest.approx(0.6)


def test_clipping_scales_the_update_to_the_threshold():
    exp = Experiment(small(optimizer="sgd", momentum=0.0, lr=1.0, clip=0.01))
    before = [p.detach().clone() for p in exp.model.parameters()]
    exp.step(1)
    moved = torch.sqrt(
        sum(
            ((p.detach() - b) ** 2).sum()
            for p, b in zip(exp.model.parameters(), before, strict=True)
        )
    )
    assert exp.history.grad_norm[0] > 0.01 and moved.item() == pytest.approx(0.01, rel=1e-4)


def test_divergence_is_caught_and_reset_recovers():
    exp = Experiment(
        small(
            cell="rnn",
            init="scaled",
            init_gain=10.0,
            lr=10.0,
            clip=0.0,
            optimizer="sgd",
            momentum=0.0,
        )
    )
    metrics = exp.step(200)
    assert metrics["diverged"] and exp.diverged
    assert "exploding gradients" in metrics["message"] and "clipping" in metrics["message"]
    stopped_at = exp.steps_done
    assert exp.step(5)["step"] == stopped_at  # no more steps while diverged
    assert all(math.isfinite(v) for v in exp.history.train_loss)
    exp.reset()
    assert not exp.diverged and exp.step(1)["step"] == 1


def test_over_budget_config_is_refused_unless_budget_is_lifted():
    config = ExperimentConfig(cell="lstm", hidden=1024, seq_len=400, batch_size=64, task="adding")
    with pytest.raises(ConfigError, match="lower the hidden size"):
        Experiment(config)


def test_history_csv_has_one_row_per_step():
    exp = Experiment(small())
    exp.step(6)
    lines = exp.history.to_csv().strip().split("\n")
    assert lines[0] == "step,train_loss,val_loss,val_metric,grad_norm,clipped,lr,seconds"
    assert len(lines) == 7
    assert float(lines[3].split(",")[1]) == exp.history.train_loss[2]


def test_observe_records_grad_norm_over_training_and_probe_records_nothing():
    exp = Experiment(small())
    exp.observe()
    exp.step(3)
    exp.probe()  # a read: no side effect
    exp.observe()
    assert [r.step for r in exp.probe_log] == [0, 3]
    assert exp.probe_log[1].grad_norm.shape == (12,)


def test_core_never_imports_streamlit_or_plotly():
    code = "import sys, core, core.export; print(sorted(m for m in sys.modules if m.split('.')[0] in ('streamlit', 'plotly')))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


def test_notebook_snippet_from_the_readme_runs():
    exp = Experiment(ExperimentConfig(cell="lstm", task="adding", seq_len=50, hidden=64, seed=0))
    exp.step(3)
    p = exp.probe()
    assert p.hidden.shape == (16, 50, 64) and p.grad_norm.shape == (50,)
    assert np.isfinite(p.grad_norm).all()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a GPU")
def test_cuda_training_matches_shapes():
    exp = Experiment(small(), device="cuda")
    exp.step(3)
    assert exp.probe().grad_norm.shape == (12,)


@pytest.mark.slow
def test_lstm_solves_next_number_within_a_small_budget():
    exp = Experiment(ExperimentConfig(cell="lstm", task="next_number", seed=0))
    for _ in range(10):
        metrics = exp.step(100)
        if metrics["solved"]:
            break
    print(
        f"next_number solved at step {metrics['step']}: val MSE {metrics['val_metric']:.5f} (solved_at {exp.task.solved_at:.5f})"
    )
    assert metrics["solved"] and metrics["step"] <= 1000
    assert metrics["val_metric"] <= exp.task.solved_at < exp.task.baseline


# ---- the readout only where the loss reads ------------------------------------------------------


def ragged_adding_batch(task, seed=0):
    """An adding batch whose sequences end early, the sum read at each one's last real step."""
    batch = task.sample(6, np.random.default_rng(seed))
    length = batch.inputs.shape[1]
    batch.lengths = torch.tensor([length, 3, length - 2, 5, 2, length])
    batch.inputs *= (torch.arange(length) < batch.lengths[:, None]).unsqueeze(-1)
    batch.mask[:] = False
    batch.mask[torch.arange(6), batch.lengths - 1] = True
    return batch


@pytest.mark.parametrize("case", ["adding", "adding_ragged", "speech"])
@pytest.mark.parametrize("cell", ["rnn", "rnn_relu", "lstm", "gru"])
def test_last_step_readout_gives_the_full_readout_loss_and_gradients(cell, case):
    task_name = case.split("_")[0]
    config = ExperimentConfig(cell=cell, task=task_name, seq_len=11, hidden=7, layers=2)
    task = make_task(config)
    assert task.reads == "last"
    torch.manual_seed(0)
    model = build_model(config, task.input_size, task.output_size)
    model.eval()  # no dropout: both passes see the same network
    if case == "adding_ragged":
        batch = ragged_adding_batch(task)
    else:
        batch = task.sample(6, np.random.default_rng(1))
    params = list(model.parameters())
    fast = training_loss(model, task, batch)
    fast_grads = torch.autograd.grad(fast, params)
    full = task.loss(model(batch.inputs, batch.lengths), batch)  # readout at every step
    full_grads = torch.autograd.grad(full, params)
    torch.testing.assert_close(fast, full, atol=1e-6, rtol=0)
    for a, b in zip(fast_grads, full_grads, strict=True):
        torch.testing.assert_close(a, b, atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("name", list(TASKS))
def test_each_task_declares_which_steps_its_loss_reads(name):
    """A sequence-to-one task's mask is exactly each sequence's last valid step; the others'
    readout runs everywhere, so their masks may be anything."""
    # seq_len 24: fits the shortest built-in series (123 values)
    task = make_task(ExperimentConfig(task=name, seq_len=24, min_len=12))
    assert task.reads in ("every", "last")
    expected_last = {"adding", "speech", "vowels", "sentiment"}
    assert (task.reads == "last") == (name in expected_last)
    for seed in range(3):
        batch = task.sample(16, np.random.default_rng(seed))
        if task.reads == "last":
            length = batch.inputs.shape[1]
            ends = batch.lengths if batch.lengths is not None else torch.full((16,), length)
            want = torch.arange(length) == (ends - 1)[:, None]
            assert torch.equal(batch.mask, want)


# ---- one optimizer step -------------------------------------------------------------------------


def test_optimizer_step_is_the_experiments_step():
    """Driving optimizer_step by hand on the training stream reproduces Experiment.step exactly."""
    exp = Experiment(small(seed=2))
    model = build_model(exp.config, exp.task.input_size, exp.task.output_size)
    model.load_state_dict(exp.model.state_dict())
    optimizer = make_optimizer(model, exp.config)
    rng = np.random.default_rng([exp.config.seed, 1])
    exp.step(5)
    results = [
        optimizer_step(model, optimizer, exp.task, exp.task.sample(8, rng), exp.config.clip)
        for _ in range(5)
    ]
    assert [r.loss for r in results] == exp.history.train_loss
    assert [r.grad_norm for r in results] == exp.history.grad_norm
    assert [r.clipped for r in results] == exp.history.clipped


def test_optimizer_step_leaves_the_weights_alone_when_the_loss_is_not_finite():
    exp = Experiment(small())
    batch = exp.task.sample(8, np.random.default_rng(0))
    batch.inputs[0, 0, 0] = float("nan")
    before = [p.detach().clone() for p in exp.model.parameters()]
    result = optimizer_step(exp.model, exp.optimizer, exp.task, batch, clip=1.0)
    assert result.diverged and not result.clipped and not math.isfinite(result.loss)
    for p, b in zip(exp.model.parameters(), before, strict=True):
        assert torch.equal(p, b)
    assert not exp.optimizer.state  # Adam never stepped


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_fused_adam_follows_the_single_tensor_adam(cell):
    """Adam's fused implementation is faster on one CPU thread (bench/throughput.py) and gives
    the same training within float tolerance."""
    config = small(cell=cell, task="next_number", seq_len=15, clip=0.0, weight_decay=0.01)
    runs = []
    for fused in (True, False):
        exp = Experiment(config)
        if not fused:
            exp.optimizer = torch.optim.Adam(
                exp.model.parameters(),
                lr=config.lr,
                weight_decay=config.weight_decay,
                foreach=False,
            )
        else:
            assert exp.optimizer.defaults["fused"]
        exp.step(30)
        runs.append(exp)
    np.testing.assert_allclose(
        runs[0].history.train_loss, runs[1].history.train_loss, rtol=1e-4, atol=1e-6
    )
    for a, b in zip(runs[0].model.parameters(), runs[1].model.parameters(), strict=True):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-4)


def test_history_columns_follow_appends_and_new_lists():
    """columns() converts only what was added since it last looked; it must still equal a full
    conversion after appends, past its buffer's first size, and after a list is replaced."""
    history = History()
    rng = np.random.default_rng(0)
    for size in (0, 1, 5, 1023, 1024, 1025, 3000):
        while len(history) < size:
            history.add(len(history), float(rng.random()), val_loss=float(rng.random()))
        for name in History.COLUMNS:
            got = history.column(name)
            np.testing.assert_array_equal(got, np.asarray(getattr(history, name), dtype=float))
            assert not got.flags.writeable  # a caller cannot change the cache behind its back
    history.train_loss = [2.0] * len(history)  # a loaded checkpoint replaces the lists
    np.testing.assert_array_equal(history.column("train_loss"), np.full(len(history), 2.0))
