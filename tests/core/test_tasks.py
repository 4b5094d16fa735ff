"""Tasks: shapes, seeding, masks, baselines, losses, bounds, CSV loading and the page helpers.

Every expected number is recomputed here independently (numpy or torch.nn.functional), never read
back from the code under test.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from core.config import FIELDS, ConfigError, ExperimentConfig
from core.model import SequenceModel
from core.tasks import (
    DATA_SETS,
    TASKS,
    VOWELS_PATH,
    Batch,
    CsvTable,
    CsvTask,
    DataError,
    TextTask,
    fill_in,
    generate_text,
    load_corpus,
    load_csv,
    load_vowels,
    make_task,
    parse_numbers,
    rollout,
    sequence_scale,
    speech_words,
)
from core.trainer import Experiment

CONFIGS = {
    "next_number": dict(task="next_number", seq_len=12),
    "next_number_geometric": dict(task="next_number", seq_len=12, sequence_kind="geometric"),
    "next_number_fibonacci": dict(task="next_number", seq_len=12, sequence_kind="fibonacci"),
    "next_number_ragged": dict(task="next_number", seq_len=12, min_len=4),
    "sine": dict(task="sine", seq_len=16),
    "sine_noisy": dict(task="sine", seq_len=16, noise=1.0),
    "adding": dict(task="adding", seq_len=16),
    "copy": dict(task="copy", n_symbols=3, lag=5, alphabet=6),
    "text": dict(task="text", seq_len=16),
    "text_ragged": dict(task="text", seq_len=16, min_len=5),
    "speech": dict(task="speech", seq_len=16, n_classes=5),
    "vowels": dict(task="vowels", seq_len=29),
    "sentiment": dict(task="sentiment", seq_len=16),
    "csv": dict(task="csv", seq_len=16),
    "csv_ragged": dict(task="csv", seq_len=16, min_len=4),
    # every built-in data set is a task of its own (core/tasks/series.py)
    **{data_set.name: dict(task=data_set.name, seq_len=16) for data_set in DATA_SETS},
}
RAGGED = ("next_number_ragged", "text_ragged", "speech", "vowels", "sentiment", "csv_ragged")


@pytest.fixture(scope="module")
def tasks() -> dict:
    return {key: make_task(ExperimentConfig(**kwargs)) for key, kwargs in CONFIGS.items()}


def sample(task, size=6, seed=0, split="train") -> Batch:
    return task.sample(size, np.random.default_rng(seed), split)


def real_steps(batch: Batch) -> torch.Tensor:
    """(N, L) bool: steps inside each sequence, computed from lengths alone."""
    n, length = batch.mask.shape
    if batch.lengths is None:
        return torch.ones(n, length, dtype=torch.bool)
    return torch.arange(length)[None, :] < batch.lengths[:, None]


# ---------------------------------------------------------------------------------------------
# Every task


def test_every_task_is_registered_and_covered():
    assert set(TASKS) == set(FIELDS["task"].options)
    assert {kwargs["task"] for kwargs in CONFIGS.values()} == set(TASKS)


@pytest.mark.parametrize("key", CONFIGS)
def test_attributes_are_filled(tasks, key):
    task = tasks[key]
    assert TASKS[task.name] is type(task)
    assert task.title and task.baseline_name
    assert len(task.explanation.split()) > 40 and "\n" not in task.explanation
    assert task.kind in ("regression", "classification")
    assert set(task.params) <= set(FIELDS) and task.params
    assert task.metric_name == ("accuracy" if task.kind == "classification" else "MSE")
    assert task.higher_is_better == (task.kind == "classification")
    assert task.input_size >= 1 and task.output_size >= 1
    assert math.isfinite(task.baseline) and math.isfinite(task.solved_at)
    assert not task.is_solved(task.baseline), "the trivial predictor must not count as solved"


@pytest.mark.parametrize("key", CONFIGS)
def test_shapes_and_dtypes(tasks, key):
    task = tasks[key]
    batch = sample(task, size=5)
    n, length, inputs = batch.inputs.shape
    assert (n, inputs) == (5, task.input_size)
    assert batch.inputs.dtype == torch.float32
    assert batch.mask.shape == (5, length) and batch.mask.dtype == torch.bool
    assert batch.mask.any(dim=1).all(), "every sequence has at least one scored step"
    if task.kind == "regression":
        assert batch.targets.shape == (5, length, task.output_size)
        assert batch.targets.dtype == torch.float32
    else:
        assert batch.targets.shape == (5, length) and batch.targets.dtype == torch.int64
        assert int(batch.targets.min()) >= 0 and int(batch.targets.max()) < task.output_size
    if batch.lengths is not None:
        assert batch.lengths.shape == (5,) and batch.lengths.dtype == torch.int64
        assert int(batch.lengths.min()) >= 1 and int(batch.lengths.max()) <= length
    assert torch.isfinite(batch.inputs).all()


@pytest.mark.parametrize("key", CONFIGS)
def test_same_seed_same_batch_other_seed_other_batch(tasks, key):
    task = tasks[key]
    first, again, other = sample(task, seed=3), sample(task, seed=3), sample(task, seed=4)
    for a, b in [(first.inputs, again.inputs), (first.targets, again.targets)]:
        assert torch.equal(a, b)
    assert torch.equal(first.mask, again.mask)
    assert (first.lengths is None) == (again.lengths is None)
    if first.lengths is not None:
        assert torch.equal(first.lengths, again.lengths)
    assert not torch.equal(first.inputs, other.inputs)


@pytest.mark.parametrize("key", CONFIGS)
def test_mask_and_padding_respect_lengths(tasks, key):
    task = tasks[key]
    batch = sample(task, size=64, seed=5)
    assert (batch.lengths is not None) == (key in RAGGED)
    real = real_steps(batch)
    assert not (batch.mask & ~real).any(), "a padded step is scored"
    assert (batch.inputs[~real] == 0).all()
    assert (batch.targets[~real] == 0).all()
    if batch.lengths is not None:
        assert len(set(batch.lengths.tolist())) > 1, "ragged batches have different lengths"


def trivial_predictions(task, batch: Batch) -> torch.Tensor:
    """Predictions of the trivial predictor each task names as its baseline, built from scratch."""
    name = task.name
    if name in ("next_number", "sine") or isinstance(task, CsvTask):  # also each data set's
        return batch.inputs.clone()  # repeat the last value
    if name == "adding":
        return torch.ones_like(batch.targets)
    # text and vowels guess their most common training label; speech's and sentiment's are uniform
    constant = getattr(task, "most_common", 0)
    return F.one_hot(torch.full(batch.mask.shape, constant), task.output_size).float()


@pytest.mark.parametrize("key", CONFIGS)
def test_declared_baseline_matches_trivial_predictor(tasks, key):
    task = tasks[key]
    batch = sample(task, size=1500, seed=11, split="val")
    predictions = trivial_predictions(task, batch)
    if task.kind == "regression":
        mask = batch.mask
        measured = float(((predictions - batch.targets)[mask] ** 2).mean())
        assert measured == pytest.approx(task.baseline, rel=0.15)
    else:
        hits = predictions.argmax(-1)[batch.mask] == batch.targets[batch.mask]
        measured = float(hits.float().mean())
        assert measured == pytest.approx(task.baseline, abs=0.04)
    assert task.metric(predictions, batch) == pytest.approx(measured, rel=1e-5)


@pytest.mark.parametrize("key", CONFIGS)
def test_loss_equals_functional_on_masked_steps(tasks, key):
    task = tasks[key]
    batch = sample(task, size=8, seed=2)
    torch.manual_seed(0)
    predictions = torch.randn(*batch.mask.shape, task.output_size)
    mask = batch.mask
    if task.kind == "regression":
        squared = (predictions - batch.targets) ** 2
        expected = squared[mask].sum() / (mask.sum() * task.output_size)
    else:
        log_p = F.log_softmax(predictions, dim=-1)
        picked = log_p.gather(-1, batch.targets.unsqueeze(-1)).squeeze(-1)
        expected = -(picked * mask).sum() / mask.sum()
        hits = (predictions.argmax(-1) == batch.targets) & mask
        assert task.metric(predictions, batch) == pytest.approx(float(hits.sum() / mask.sum()))
    assert float(task.loss(predictions, batch)) == pytest.approx(float(expected), rel=1e-5)


@pytest.mark.parametrize(
    "key", ["next_number", "sine", "copy", "text", "speech", "vowels", "sentiment", "csv"]
)
def test_unknown_split_is_refused(tasks, key):
    with pytest.raises(ValueError, match="unknown split 'test'; choose one of: train, val"):
        tasks[key].sample(2, np.random.default_rng(0), "test")


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(task="next_number", seq_len=2), "next_number needs seq_len of at least 3"),
        (
            dict(task="next_number", seq_len=10, min_len=11),
            r"min_len \(11\) must be at most seq_len",
        ),
        (dict(task="text", seq_len=10, min_len=20), r"min_len \(20\) must be at most seq_len"),
        (dict(task="speech", seq_len=5), "speech needs seq_len .* at least 8"),
        (dict(task="sentiment", seq_len=15), "sentiment needs seq_len of at least 16"),
        (dict(task="csv", csv_column=2), "csv_column 2 is out of range: the table has 2 numeric"),
    ],
)
def test_invalid_combinations_raise_config_error(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        make_task(ExperimentConfig(**kwargs))


def test_csv_series_too_short_for_the_window():
    config = ExperimentConfig(task="csv", seq_len=50, val_fraction=0.2)
    message = "validation part has 20, fewer than seq_len \\+ 1 = 51; lower seq_len to at most 19"
    with pytest.raises(ConfigError, match=message):
        make_task(config, np.arange(100.0))


def test_copy_bounds_come_from_the_config():
    with pytest.raises(ConfigError, match="alphabet must be between 2 and 32"):
        ExperimentConfig(task="copy", alphabet=1)
    with pytest.raises(ConfigError, match="n_symbols must be between 1 and 20"):
        ExperimentConfig(task="copy", n_symbols=0)


# ---------------------------------------------------------------------------------------------
# next_number and fill-in


def test_next_number_rules_hold_in_real_numbers(tasks):
    for key, kind in [("next_number", "arithmetic"), ("next_number_geometric", "geometric")]:
        values = sample(tasks[key], size=50).meta["values"]
        if kind == "arithmetic":
            steps = np.diff(values, axis=1)
            assert np.allclose(steps, steps[:, :1]) and (steps[:, 0] != 0).all()
        else:
            assert np.allclose(values[:, 1:] / values[:, :-1], values[:, 1:2] / values[:, :1])
    fib = sample(tasks["next_number_fibonacci"], size=50).meta["values"]
    assert np.allclose(fib[:, 2:], fib[:, 1:-1] + fib[:, :-2])


@pytest.mark.parametrize("key", ["next_number", "next_number_fibonacci", "next_number_ragged"])
def test_next_number_scaling_round_trip(tasks, key):
    batch = sample(tasks[key], size=40, seed=9)
    values, scale = batch.meta["values"], batch.meta["scale"]
    real = real_steps(batch).numpy()
    length = batch.mask.shape[1]
    inputs = batch.inputs[..., 0].double().numpy() * scale[:, None]
    targets = batch.targets[..., 0].double().numpy() * scale[:, None]
    assert np.allclose(inputs[real], values[:, :length][real], rtol=1e-6, atol=1e-6 * scale.max())
    assert np.allclose(targets[real], values[:, 1:][real], rtol=1e-6, atol=1e-6 * scale.max())
    # The scale is a random share (1/4 to 1) of the largest |input|: inputs reach 1 to 4.
    biggest = np.where(real, np.abs(batch.inputs[..., 0].numpy()), 0).max(axis=1)
    assert biggest.min() >= 1 - 1e-6 and biggest.max() <= 4 + 1e-5
    assert biggest.max() - biggest.min() > 1, "the shrink factor varies"
    assert not batch.mask[:, 0].any(), "the guess after a single number is not scored"


def test_sequence_scale():
    values = np.array([[1.0, -4.0, 2.0, 100.0], [0.0, 0.0, 0.0, 0.0]])
    assert sequence_scale(values).tolist() == [100.0, 1.0]
    assert sequence_scale(values, np.array([3, 2])).tolist() == [4.0, 1.0]


@pytest.mark.parametrize(
    "text, values, missing",
    [
        ("1, 2, 3, ?, 5", [1, 2, 3, None, 5], 3),
        ("  1 2 3  ", [1, 2, 3], None),
        ("-1.5;2e1,\t3 ?", [-1.5, 20, 3, None], 3),
    ],
)
def test_parse_numbers(text, values, missing):
    assert parse_numbers(text) == (values, missing)


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "type a few numbers separated by commas"),
        ("1, 2, ?, 4, ?", "use at most one '\\?', found 2"),
        ("1, ?, 3", "at least two numbers before the '\\?'"),
        ("7", "at least two numbers"),
        ("1, two, 3", "'two' is not a number"),
        ("1, 2, inf", "'inf' is not a finite number"),
        (", ".join(["1"] * 401), "at most 400 numbers"),
    ],
)
def test_parse_numbers_rejects_bad_text(text, message):
    with pytest.raises(ConfigError, match=message):
        parse_numbers(text)


def untrained(input_size: int, output_size: int, seed: int = 0) -> SequenceModel:
    torch.manual_seed(seed)
    return SequenceModel("lstm", input_size, 8, output_size)


def last_output(model: SequenceModel, values: list[float]) -> float:
    with torch.no_grad():
        return float(model(torch.tensor(values).reshape(1, -1, 1))[0, -1, 0])


def test_fill_in_scales_and_feeds_its_own_guess():
    """Mechanics only (an untrained model): the '?' gets the model's output after the numbers
    before it, and that guess is fed back in. Learning 1, 2, 3, ?, 5 -> 4 is a trainer test."""
    model = untrained(1, 1)
    model.train()
    result = fill_in(model, ExperimentConfig(task="next_number"), "10, 20, 30, ?, 50")
    guess_scaled = last_output(model, [0.2, 0.4, 0.6])
    next_scaled = last_output(model, [0.2, 0.4, 0.6, guess_scaled, 1.0])
    assert result.values == [10, 20, 30, None, 50] and result.missing_index == 3
    assert result.guess == pytest.approx(50 * guess_scaled, rel=1e-5)
    assert result.next_value == pytest.approx(50 * next_scaled, rel=1e-5)
    assert f"'?' with {round(result.guess, 1):g} and expects {round(result.next_value, 1):g}" in (
        result.message
    )
    assert model.training, "the model's training mode is restored"
    plain = fill_in(model, ExperimentConfig(task="next_number"), "-4 -2")
    assert plain.guess is None and plain.missing_index is None
    assert plain.next_value == pytest.approx(4 * last_output(model, [-1.0, -0.5]), rel=1e-5)


def test_fill_in_needs_a_next_number_run():
    with pytest.raises(ConfigError, match="fill-in needs a model trained on next_number"):
        fill_in(untrained(1, 1), ExperimentConfig(task="sine"), "1, 2, 3")


# ---------------------------------------------------------------------------------------------
# sine, csv and rollout


def test_sine_targets_are_the_next_clean_value(tasks):
    batch = sample(tasks["sine_noisy"], size=20)
    clean = batch.meta["clean"]
    assert np.allclose(batch.targets[..., 0].numpy(), clean[:, 1:], atol=1e-6)
    noise = batch.inputs[..., 0].numpy() - clean[:, :-1]
    assert 0.9 < noise.std() < 1.1, "input noise has the configured level"
    waves = (batch.meta["amplitude"] > 0).sum(axis=1)
    assert set(waves.tolist()) == {2, 3}


@pytest.mark.parametrize("key", ["sine", "csv"])
def test_rollout_feeds_back_its_predictions(tasks, key):
    task = tasks[key]
    batch = sample(task, size=4, split="val")
    model = untrained(1, 1, seed=1)
    forecast = rollout(model, batch, 3)
    assert forecast.shape == (4, 3) and forecast.dtype == np.float32
    context = batch.inputs
    for step in range(3):
        with torch.no_grad():
            expected = model(context)[:, -1, 0]
        assert np.allclose(forecast[:, step], expected.numpy(), atol=1e-5)
        context = torch.cat([context, expected.reshape(-1, 1, 1)], dim=1)
    # The first forecast is for the batch's last target, and future() gives the truth from there.
    truth = task.future(batch, 5)
    assert truth.shape == (4, 5)
    assert np.allclose(truth[:, 0], batch.targets[:, -1, 0].numpy(), atol=1e-6)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_ragged_rollout_equals_each_window_alone(tasks, cell):
    """Oracle: a ragged batch forecasts from each window's own end, exactly as that window would
    on its own (packing keeps the padding out of the state)."""
    task = tasks["csv_ragged"]
    batch = sample(task, size=6, seed=3, split="val")
    torch.manual_seed(2)
    model = SequenceModel(cell, 1, 8, 1)
    forecast = rollout(model, batch, 4)
    truth = task.future(batch, 4)
    for i, n in enumerate(batch.lengths.tolist()):
        alone = Batch(
            batch.inputs[i : i + 1, :n], batch.targets[i : i + 1, :n], batch.mask[i : i + 1, :n]
        )
        assert np.allclose(forecast[i], rollout(model, alone, 4)[0], atol=1e-5)
        start = batch.meta["starts"][i]
        assert np.allclose(truth[i], scaled(task)[start + n : start + n + 4])
        assert truth[i, 0] == pytest.approx(float(batch.targets[i, n - 1, 0]), abs=1e-6)


def test_csv_ragged_windows_stay_inside_their_part(tasks):
    task = tasks["csv_ragged"]
    series = scaled(task)
    for split, low, high in [("train", 0, task.split_at), ("val", task.split_at, len(series))]:
        batch = sample(task, size=400, seed=1, split=split)
        lengths, starts = batch.lengths.numpy(), batch.meta["starts"]
        assert lengths.min() >= 4 and lengths.max() <= 16 and len(set(lengths)) > 5
        assert (starts >= low).all() and (starts + lengths < high).all()
        for i in range(0, 400, 37):
            n, start = lengths[i], starts[i]
            assert np.allclose(batch.meta["levels"][i, : n + 1], task.raw[start : start + n + 1])
            if split == "val":
                window = series[start : start + n]
                assert np.allclose(batch.inputs[i, :n, 0].numpy(), window, atol=1e-6)
        if split == "train":  # blends of two training windows: never a validation value
            part = series[: task.split_at]
            real = batch.inputs[..., 0].numpy()[batch.mask.numpy()]
            assert part.min() - 1e-6 <= real.min() and real.max() <= part.max() + 1e-6


def test_csv_min_len_must_fit_seq_len():
    with pytest.raises(ConfigError, match="min_len"):
        make_task(ExperimentConfig(task="csv", seq_len=10, min_len=12))


def test_csv_splits_windows_by_time_and_normalises_on_training_part(tasks):
    task = tasks["csv"]
    assert task.method == "zscore", "auto keeps z-scores for the stationary demo"
    length = task.config.seq_len
    series = scaled(task)
    train, val = sample(task, size=500, split="train"), sample(task, size=500, split="val")
    assert (train.meta["starts"] + length < task.split_at).all()
    assert (val.meta["starts"] >= task.split_at).all()
    assert (val.meta["starts"] + length < len(series)).all()
    assert task.split_at == len(series) - round(0.2 * len(series))
    part = series[: task.split_at]
    assert part.mean() == pytest.approx(0.0, abs=1e-9) and part.std() == pytest.approx(1.0)
    real = val.inputs[0, :, 0].double().numpy() * val.meta["scale"] + val.meta["shift"]
    start = val.meta["starts"][0]
    assert np.allclose(real, task.raw[start : start + length], atol=1e-4)
    # Validation windows are the series itself; training windows are blends of two (mixup).
    assert np.allclose(
        val.inputs[:, :, 0].numpy(),
        series[val.meta["starts"][:, None] + np.arange(length)],
        atol=1e-6,
    )


def scaled(task: CsvTask) -> np.ndarray:
    """The series in model units for the global scalings: (raw - shift) / scale."""
    assert task.method in ("zscore", "minmax", "none")
    return (task.raw - task.shift) / task.scale


@pytest.mark.parametrize("method", ["minmax", "none"])
def test_csv_normalisations(method):
    series = np.sin(np.arange(200) / 5.0) * 3 + 10
    data = np.stack([np.arange(200.0), series], axis=1)
    task = CsvTask(ExperimentConfig(task="csv", normalise=method, csv_column=1), data)
    part = scaled(task)[: task.split_at]
    if method == "minmax":
        assert part.min() == pytest.approx(0.0) and part.max() == pytest.approx(1.0)
    else:
        assert np.array_equal(scaled(task), series)
    assert task.columns == ["column 1", "column 2"]
    assert task.normalisation_note.endswith("(your choice).")


def test_csv_task_reads_a_loaded_table():
    lines = ["day;temp;city"] + [f"{i};{10 + (i % 7)},5;Oslo" for i in range(120)]
    table = load_csv("\n".join(lines).encode())
    task = make_task(ExperimentConfig(task="csv", csv_column=1, seq_len=10), table)
    assert task.column_name == "temp"
    assert "city" in " ".join(task.notes)
    assert task.sample(3, np.random.default_rng(0)).inputs.shape == (3, 10, 1)


# ---------------------------------------------------------------------------------------------
# load_csv


def test_load_csv_reads_separators_encodings_and_notes():
    comma = load_csv(b"a,b\n1,2\n3,4\n" + b"5,6\n" * 10)
    assert comma.columns == ["a", "b"] and comma.values.shape == (12, 2)
    assert comma.values.dtype == np.float64 and comma.values[1].tolist() == [3.0, 4.0]
    tab = load_csv(b"x\ty\n" + b"1.5\t2\n" * 12)
    assert tab.columns == ["x", "y"] and tab.values[0].tolist() == [1.5, 2.0]
    latin = load_csv("température;vent\n".encode("latin-1") + b"1,5;2\n" * 12)
    assert latin.columns == ["température", "vent"] and latin.values[0].tolist() == [1.5, 2.0]
    headless = load_csv(b"1,2\n3,4\n" * 6)
    assert headless.columns == ["column 1", "column 2"] and len(headless.values) == 12
    messy = load_csv(b"date,v\n" + b"2024-01-01,1\n" * 12 + b"2024-01-02,\n2024-01-03,inf\n")
    assert messy.columns == ["v"] and len(messy.values) == 12
    assert any("dropped 2 rows" in note for note in messy.notes)
    assert any("not numeric: date" in note for note in messy.notes)


@pytest.mark.parametrize(
    "raw, kwargs, message",
    [
        (b"", {}, "the file is empty"),
        (b"  \n\n", {}, "the file is empty"),
        (b"a,b,c\n", {}, "header but no data rows"),
        (b"a,b\n1,2\n3,4\n", {}, "has 2 usable rows; at least 10 are needed"),
        (b"name,city\n" + b"ann,oslo\n" * 20, {}, "no numeric column found.*name, city"),
        (bytes(range(256)) * 4, {}, "not a text CSV file"),
        (b"a\n" + b"1\n" * 100, {"max_bytes": 50}, "the file is 202 bytes; the limit is 50 bytes"),
        (b"a\n" + b"1\n" * 100, {"max_rows": 50}, "more than 50 rows"),
        (b'a,b\n"1,2\n' + b"3,4\n" * 20, {}, "could not read the file as CSV"),
        (b"a,b\n" + b"1,2\n" * 5 + b"x,\n" * 20, {}, "no numeric column found"),
    ],
)
def test_load_csv_rejects_bad_files(raw, kwargs, message):
    with pytest.raises(DataError, match=message):
        load_csv(raw, **kwargs)


def test_csv_task_rejects_bad_arrays():
    with pytest.raises(DataError, match="missing or infinite"):
        CsvTask(ExperimentConfig(task="csv"), np.array([1.0, np.nan] * 100))
    with pytest.raises(DataError, match="1-D or 2-D"):
        CsvTask(ExperimentConfig(task="csv"), np.zeros((10, 2, 2)))


# ---------------------------------------------------------------------------------------------
# copy, text, speech


def test_copy_layout(tasks):
    task = tasks["copy"]
    batch = sample(task, size=10)
    k, lag, alphabet = 3, 5, 6
    assert batch.inputs.shape[1] == 2 * k + lag + 1
    symbols = torch.from_numpy(batch.meta["symbols"])
    channels = batch.inputs.argmax(-1)
    assert (batch.inputs.sum(-1) == 1).all(), "one-hot inputs"
    assert torch.equal(channels[:, :k], symbols)
    assert (channels[:, k : k + lag] == alphabet).all(), "blank while waiting"
    assert (channels[:, k + lag] == alphabet + 1).all(), "go marker"
    assert (channels[:, k + lag + 1 :] == alphabet).all()
    assert torch.equal(batch.targets[:, k + lag + 1 :], symbols)
    assert batch.mask.sum(dim=1).eq(k).all() and batch.mask[:, k + lag + 1 :].all()


def test_text_corpus_vocabulary_and_split(tasks):
    task: TextTask = tasks["text"]
    corpus = load_corpus()
    assert 20_000 <= len(corpus.encode()) <= 40_000
    assert task.vocabulary == "".join(sorted(set(corpus)))
    assert task.decode(task.encode(corpus[:500])) == corpus[:500]
    assert task.split_at == int(0.9 * len(corpus))
    length = task.config.seq_len
    train, val = sample(task, size=300, split="train"), sample(task, size=300, split="val")
    assert (train.meta["starts"] + length < task.split_at).all()
    assert (val.meta["starts"] >= task.split_at).all()
    start = int(val.meta["starts"][0])
    assert task.decode(val.inputs[0].argmax(-1)) == corpus[start : start + length]
    assert task.decode(val.targets[0]) == corpus[start + 1 : start + length + 1]


def test_generate_text_is_seeded_and_stays_in_vocabulary(tasks):
    task = tasks["text"]
    model = untrained(task.input_size, task.output_size)

    def write(seed, temperature=1.0, prompt="The rain €"):
        return generate_text(model, task, prompt, 60, temperature, np.random.default_rng(seed))

    text = write(0)
    assert len(text) == 60 and set(text) <= set(task.vocabulary)
    assert write(0) == text and write(1) != text
    greedy = write(0, temperature=0.0)
    assert greedy == write(7, temperature=0.0) and set(greedy) <= set(task.vocabulary)
    assert len(write(0, prompt="")) == 60
    with pytest.raises(ConfigError, match="temperature must be between 0 and 10"):
        write(0, temperature=-1.0)


def test_generate_text_continues_the_prompt(tasks):
    """Greedy generation equals the argmax of the model's output on prompt + text so far."""
    task = tasks["text"]
    model = untrained(task.input_size, task.output_size, seed=3)
    text = generate_text(model, task, "the ", 5, 0.0, np.random.default_rng(0))
    codes = list(task.encode("the "))
    for char in text:
        inputs = F.one_hot(torch.tensor(codes), task.input_size).float()[None]
        with torch.no_grad():
            assert task.vocabulary[int(model(inputs)[0, -1].argmax())] == char
        codes.append(task.index[char])


def test_speech_labels_lengths_and_features(tasks):
    task = tasks["speech"]
    batch = sample(task, size=64, seed=8)
    length = task.config.seq_len
    lengths = batch.lengths
    assert int(lengths.min()) >= math.ceil(0.6 * length) and int(lengths.max()) <= length
    last = torch.arange(length)[None, :] == (lengths - 1)[:, None]
    assert torch.equal(batch.mask, last), "only the last real frame is scored"
    labels = torch.from_numpy(batch.meta["labels"])
    assert torch.equal(batch.targets[batch.mask], labels)
    real = real_steps(batch)
    for row in range(4):
        frames = batch.inputs[row][real[row]].double()
        assert float(frames.mean()) == pytest.approx(0.0, abs=1e-5)
        assert float(frames.std(unbiased=False)) == pytest.approx(1.0, abs=1e-3)


def test_speech_words_are_fixed_distinct_and_shared_by_every_run():
    words = speech_words()
    speech_words.cache_clear()
    assert speech_words() == words, "the words come from a fixed seed"
    assert len(words) == 10 and len(set(words)) == 10
    assert all(2 <= len(word.sounds) <= 4 for word in words)
    small = make_task(ExperimentConfig(task="speech", n_classes=3, seed=1))
    large = make_task(ExperimentConfig(task="speech", n_classes=10, seed=2))
    assert small.words == large.words[:3] and small.output_size == 3
    # Batches from different seeds share the words: a word's average spectrum in one batch
    # identifies the same word in another.
    quiet = make_task(ExperimentConfig(task="speech", n_classes=4, noise=0.0, seq_len=16))
    a, b = sample(quiet, size=80, seed=1), sample(quiet, size=80, seed=2)
    centres = torch.stack([average_spectrum(a)[a.meta["labels"] == c].mean(0) for c in range(4)])
    nearest = torch.cdist(average_spectrum(b), centres).argmin(dim=1)
    assert (nearest.numpy() == b.meta["labels"]).mean() > 0.9


def average_spectrum(batch: Batch) -> torch.Tensor:
    """(N, bins): each example's frames averaged over its real steps."""
    return batch.inputs.sum(dim=1) / batch.lengths[:, None]


def test_csv_demo_has_two_columns():
    table = make_task(ExperimentConfig(task="csv")).columns
    assert table == ["temperature", "humidity"]
    assert isinstance(load_csv(b"v\n" + b"1\n" * 20), CsvTable)


# ---------------------------------------------------------------------------------------------
# vowels (JapaneseVowels, the shipped data set)

# Test utterances per speaker, as the archive describes its split (24 to 88 each).
VOWELS_TEST_COUNTS = [31, 35, 88, 44, 29, 24, 40, 50, 29]


def test_vowels_file_is_the_archives_data_set():
    vowels = load_vowels()
    assert vowels.frames.shape == (640, 29, 12) and vowels.frames.dtype == np.float64
    assert vowels.lengths.min() == 7 and vowels.lengths.max() == 29
    assert np.bincount(vowels.speakers[:270]).tolist() == [30] * 9
    assert np.bincount(vowels.speakers[270:]).tolist() == VOWELS_TEST_COUNTS
    beyond = np.arange(29)[None, :] >= vowels.lengths[:, None]
    assert (vowels.frames[beyond] == 0).all() and (vowels.frames[~beyond] != 0).any(axis=1).all()
    # The first frame of the first training utterance, as written in JapaneseVowels_TRAIN.ts.
    assert vowels.frames[0, 0, :2].tolist() == [1.860936, -0.207383]
    assert vowels.speakers[0] == 0


def test_vowels_inputs_are_scaled_by_the_training_split_alone(tasks):
    task, vowels = tasks["vowels"], load_vowels()
    real = np.arange(29)[None, :] < vowels.lengths[:, None]
    train_frames = vowels.frames[:270][real[:270]]
    expected = (vowels.frames - train_frames.mean(0)) / train_frames.std(0) * real[..., None]
    np.testing.assert_allclose(task.frames, expected, atol=1e-5)
    scaled_train = task.frames[:270][real[:270]]
    np.testing.assert_allclose(scaled_train.mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(scaled_train.std(0), 1, atol=1e-4)


def test_vowels_validation_is_the_whole_test_split_once(tasks):
    task, vowels = tasks["vowels"], load_vowels()
    val = sample(task, size=370, seed=7, split="val")
    assert np.bincount(val.meta["labels"]).tolist() == VOWELS_TEST_COUNTS
    assert sorted(val.lengths.tolist()) == sorted(vowels.lengths[270:].tolist())
    assert torch.equal(val.targets[val.mask], torch.from_numpy(val.meta["labels"]))
    train = sample(task, size=2000, seed=7)
    assert np.bincount(train.meta["labels"], minlength=9).min() > 150  # drawn from all 9
    sums = {round(float(x), 3) for x in train.inputs.sum(dim=(1, 2))}
    assert sums <= {round(float(x), 3) for x in torch.from_numpy(task.frames[:270]).sum((1, 2))}
    assert task.baseline == pytest.approx(31 / 370)
    assert Experiment(ExperimentConfig(task="vowels")).val_batch.size == 370


def test_vowels_seq_len_caps_the_frames_heard():
    task = make_task(ExperimentConfig(task="vowels", seq_len=10))
    batch = sample(task, size=64, seed=1)
    assert batch.inputs.shape == (64, 10, 12)
    assert int(batch.lengths.max()) == 10 and int(batch.lengths.min()) >= 7
    ends = batch.mask.float().argmax(dim=1)
    assert torch.equal(ends, batch.lengths - 1)


def test_a_damaged_vowels_file_is_refused_in_words(tmp_path):
    vowels = load_vowels()
    good = dict(
        frames=np.zeros((int(vowels.lengths.sum()), 12), np.int32),
        lengths=vowels.lengths,
        speakers=vowels.speakers + 1,
        n_train=np.array(270),
    )
    cases = {
        "n_train": (dict(n_train=np.array(300)), "300 for training"),
        "frames": (dict(frames=np.zeros((10, 12), np.int32)), "frames of shape"),
        "speakers": (dict(speakers=np.ones(640, np.int8)), "30 utterances by each"),
        "labels": (dict(speakers=vowels.speakers), "speaker labels outside 1-9"),
        "values": (dict(frames=np.full_like(good["frames"], np.nan, float)), "not finite"),
        "lengths": (dict(lengths=vowels.lengths + 5), "utterances of 12-34 frames"),
    }
    for name, (change, message) in cases.items():
        path = tmp_path / f"{name}.npz"
        np.savez(path, **{**good, **change})
        with pytest.raises(DataError, match=message):
            load_vowels.__wrapped__(path)
    with pytest.raises(DataError, match="can't read the JapaneseVowels file"):
        load_vowels.__wrapped__(tmp_path / "missing.npz")


def test_every_shipped_data_file_names_its_source_and_licence():
    readme = (VOWELS_PATH.parent / "README.md").read_text()
    sections = {part.split("\n", 1)[0].strip(): part for part in readme.split("\n## ")[1:]}
    # sections named after one file; the built-in series share a table (tests/core/test_series.py)
    sections = {name: part for name, part in sections.items() if " " not in name}
    shipped = {p.name for p in VOWELS_PATH.parent.iterdir() if p.suffix in (".npz", ".txt")}
    assert shipped == set(sections), "every data file has its own section, and only those"
    for name, section in sections.items():
        assert "**Source:**" in section and "**Licence:**" in section, name
