"""Chart builders against real probes and histories: the expected traces, the probe's own numbers,
no NaN or inf where a person would read it, numpy arrays in every trace, and small JSON payloads."""

from __future__ import annotations

import dataclasses
import math
import re
from types import SimpleNamespace

import numpy as np
import plotly.graph_objects as go
import pytest

from core import TASKS, Experiment, ExperimentConfig
from core.trainer import History, ProbeRecord
from playground import charts

CELLS = ("rnn", "lstm", "gru")
KB = 1000


def run(cell="lstm", task="adding", steps=3, **settings):
    """An experiment after `steps` optimizer steps, probed twice so its probe log has records."""
    settings = {"seq_len": 20, "hidden": 8, "batch_size": 16, **settings}
    exp = Experiment(ExperimentConfig(cell=cell, task=task, **settings))
    exp.step(steps)
    exp.probe()
    exp.step(steps)
    return exp, exp.probe()


@pytest.fixture(scope="module")
def runs():
    return {cell: run(cell) for cell in CELLS}


def all_figures(exp, probe):
    return {
        "loss": charts.loss_figure(exp.history, exp.task),
        "metric": charts.metric_figure(exp.history, exp.task),
        "prediction": charts.prediction_figure(probe, exp.task, 1),
        "trajectory": charts.trajectory_figure(probe),
        "trajectory_3d": charts.trajectory_figure(probe, 3),
        "hidden_heatmap": charts.hidden_heatmap(probe, 1),
        "grad_norm": charts.grad_norm_figure(probe),
        "grad_history_heatmap": charts.grad_history_heatmap(exp.probe_log),
        "gates": charts.gates_figure(probe, 1),
        "spectrum": charts.spectrum_figure(probe),
        "spectral_radius": charts.spectral_radius_figure(exp.probe_log),
        "length_histogram": charts.length_histogram(probe),
        "race_loss": charts.race_loss_figure({"a": exp.history, "b": exp.history}, exp.task),
        "race_grad": charts.race_grad_figure({"a": probe}),
    }


# ---- checks shared by every figure ---------------------------------------------------------------
def readable_values(node, path=""):
    """Every string and number a person could read (titles, names, labels, layout numbers): all
    of the figure except the numpy data arrays, which carry NaN as gaps on purpose."""
    if isinstance(node, np.ndarray):
        if node.dtype.kind in "UO":
            yield from ((path, str(v)) for v in node.ravel())
        return
    if isinstance(node, dict):
        for key, value in node.items():
            yield from readable_values(value, f"{path}.{key}")
    elif isinstance(node, list | tuple):
        for index, value in enumerate(node):
            yield from readable_values(value, f"{path}[{index}]")
    else:
        yield path, node


def assert_clean(fig: go.Figure) -> None:
    """No 'nan'/'inf' text, no non-finite layout number, numeric trace data only as numpy."""
    spec = fig.to_plotly_json()
    for path, value in readable_values(spec):
        if isinstance(value, str):
            assert not re.search(r"\b(nan|inf)\b", value, re.IGNORECASE), f"{path}: {value!r}"
        elif isinstance(value, float):
            assert math.isfinite(value), f"{path} is {value}"
    for trace in spec["data"]:
        for key in ("x", "y", "z"):
            values = trace.get(key)
            if (
                isinstance(values, list)
                and values
                and all(isinstance(v, int | float) for v in values)
            ):
                pytest.fail(f"{trace['type']}.{key} is a list of numbers; pass a numpy array")
    assert "NaN" not in fig.to_json()


def assert_titled(fig: go.Figure) -> None:
    layout = fig.layout
    assert layout.title.text, "every chart has a title"
    assert layout.height and 200 <= layout.height <= 900
    if any(isinstance(trace, go.Scatter3d) for trace in fig.data):
        assert layout.scene.xaxis.title.text and layout.scene.zaxis.title.text
    else:
        assert layout.xaxis.title.text is not None and layout.yaxis.title.text is not None


def types(fig: go.Figure) -> list[str]:
    return [trace.type for trace in fig.data]


def named(fig: go.Figure, prefix: str):
    return [trace for trace in fig.data if (trace.name or "").startswith(prefix)]


# ---- every builder, every cell -------------------------------------------------------------------
@pytest.mark.parametrize("cell", CELLS)
def test_every_builder_gives_a_clean_titled_figure(runs, cell):
    exp, probe = runs[cell]
    for name, fig in all_figures(exp, probe).items():
        assert isinstance(fig, go.Figure), name
        assert_titled(fig)
        assert_clean(fig)
        assert fig.layout.template.layout.paper_bgcolor == "white", name


def test_captions_cover_every_chart():
    builders = [
        "loss_figure",
        "metric_figure",
        "prediction_figure",
        "rollout_figure",
        "trajectory_figure",
        "hidden_heatmap",
        "grad_norm_figure",
        "grad_history_heatmap",
        "gates_figure",
        "spectrum_figure",
        "spectral_radius_figure",
        "length_histogram",
        "race_loss_figure",
        "race_grad_figure",
        "sweep_figure",
    ]
    for builder in builders:
        assert callable(getattr(charts, builder))
        caption = charts.CAPTIONS[builder.removesuffix("_figure")]
        assert 20 < len(caption) < 400 and caption.endswith(".")


def test_template_is_slim():
    assert len(go.Figure(layout=dict(template=charts.TEMPLATE)).to_json()) < 2 * KB


# ---- loss and metric -----------------------------------------------------------------------------
def test_loss_figure_draws_history_and_reference_lines(runs):
    exp, _ = runs["lstm"]
    fig = charts.loss_figure(exp.history, exp.task)
    assert types(fig) == ["scatter"] * 5
    assert fig.layout.yaxis.type == "log"
    train, _, validation = fig.data[:3]
    np.testing.assert_allclose(train.x, exp.history.step)
    np.testing.assert_allclose(train.y, exp.history.train_loss, rtol=1e-6)
    steps, val_loss, _ = exp.history.validations()
    np.testing.assert_allclose(validation.x, steps)
    np.testing.assert_allclose(validation.y, val_loss, rtol=1e-6)
    (baseline,) = named(fig, "baseline")
    (solved,) = named(fig, "solved")
    np.testing.assert_allclose(baseline.y, [exp.task.baseline] * 2, rtol=1e-6)
    np.testing.assert_allclose(solved.y, [exp.task.solved_at] * 2, rtol=1e-6)
    assert exp.task.baseline_name in baseline.hovertemplate


def test_loss_figure_survives_nan_inf_zero_and_empty_history():
    task = SimpleNamespace(
        kind="regression",
        metric_name="MSE",
        higher_is_better=False,
        baseline=0.2,
        baseline_name="guess",
        solved_at=0.01,
        output_size=1,
    )
    history = History()
    values = [1.0, math.nan, math.inf, 0.0, -1.0, 1e30, 0.5, 0.25]
    for step, value in enumerate(values, start=1):
        history.step.append(step)
        history.train_loss.append(value)
        history.val_loss.append(value if step % 2 else math.nan)
        history.val_metric.append(value if step % 2 else math.nan)
    fig = charts.loss_figure(history, task)
    assert_clean(fig)
    train = fig.data[0].y
    assert np.isnan(train[[1, 2, 3, 4]]).all()  # NaN, inf, 0 and negatives are gaps on a log axis
    assert np.isfinite(train[[0, 5, 6, 7]]).all()
    assert_clean(charts.metric_figure(history, task))
    empty = charts.loss_figure(History(), task)
    assert len(empty.data) == 0 and empty.layout.annotations
    assert_clean(empty)
    assert len(charts.metric_figure(History(), task).data) == 0


def test_smoothed_loss_bridges_bad_steps():
    history = synthetic_history(500)
    history.train_loss[100:103] = [math.nan, math.inf, 0.0]
    task = TASKS["adding"](ExperimentConfig(task="adding"))
    smooth = charts.loss_figure(history, task).data[1].y
    assert np.isfinite(smooth).all()
    assert smooth[-1] < smooth[0] / 100  # it follows the trend (1 down to 1e-3)


def test_long_history_is_capped():
    history = History()
    count = 100_000
    history.step = list(range(1, count + 1))
    history.train_loss = list(np.geomspace(1, 1e-3, count))
    history.val_loss = [v if i % 10 == 0 else math.nan for i, v in enumerate(history.train_loss)]
    history.val_metric = history.val_loss
    task = TASKS["adding"](ExperimentConfig(task="adding"))
    fig = charts.loss_figure(history, task)
    assert all(len(trace.x) <= charts.MAX_HISTORY_POINTS for trace in fig.data)
    assert fig.data[0].x[-1] == count  # the newest step is always drawn
    assert len(fig.to_json()) < 60 * KB


def test_classification_loss_has_uniform_guess_and_metric_has_task_lines():
    if "copy" not in TASKS:
        pytest.skip("copy task not available")
    exp, _ = run("gru", "copy", lag=3, n_symbols=3)
    assert not charts.metric_matches_loss(exp.task)
    loss = charts.loss_figure(exp.history, exp.task)
    (uniform,) = named(loss, "uniform guess")
    np.testing.assert_allclose(uniform.y, [math.log(exp.task.output_size)] * 2, rtol=1e-6)
    metric = charts.metric_figure(exp.history, exp.task)
    assert metric.layout.yaxis.type != "log"
    np.testing.assert_allclose(named(metric, "baseline")[0].y, [exp.task.baseline] * 2, rtol=1e-6)
    np.testing.assert_allclose(named(metric, "solved")[0].y, [exp.task.solved_at] * 2, rtol=1e-6)


# ---- predictions ---------------------------------------------------------------------------------
TASK_SETTINGS = {
    "next_number": dict(seq_len=10, min_len=4),
    "sine": dict(seq_len=20),
    "adding": dict(seq_len=20),
    "copy": dict(lag=3, n_symbols=3),
    "text": dict(seq_len=30, min_len=10),
    "speech": dict(seq_len=16),
    "csv": dict(seq_len=20),
}
EXPECTED_PREDICTION_TRACES = {
    "next_number": ["scatter"] * 3,
    "sine": ["scatter"] * 3,
    "csv": ["scatter"] * 3,
    "adding": ["scatter"] * 4,
    "copy": ["heatmap"],
    "text": ["bar"],
    "speech": ["bar"],
}


@pytest.mark.parametrize("task_name", list(TASK_SETTINGS))
def test_prediction_figure_per_task(task_name):
    if task_name not in TASKS:
        pytest.skip(f"task {task_name!r} not available yet")
    exp, probe = run("lstm", task_name, steps=2, **TASK_SETTINGS[task_name])
    for example in (0, 3, 999):  # 999: an out-of-range slider value is clamped, not an error
        fig = charts.prediction_figure(probe, exp.task, example)
        assert types(fig) == EXPECTED_PREDICTION_TRACES[task_name]
        assert_titled(fig)
        assert_clean(fig)
        assert len(fig.to_json()) < 30 * KB


def test_adding_prediction_shows_the_marked_numbers_and_the_answer(runs):
    exp, probe = runs["gru"]
    fig = charts.prediction_figure(probe, exp.task, 2)
    numbers, marked, target, guess = fig.data
    np.testing.assert_allclose(numbers.y, probe.inputs[2, :, 0])
    np.testing.assert_array_equal(marked.x, np.flatnonzero(probe.inputs[2, :, 1]))
    np.testing.assert_allclose(target.y, [probe.targets[2, -1, 0]], rtol=1e-6)
    np.testing.assert_allclose(guess.y, [probe.predictions[2, -1, 0]], rtol=1e-6)


def test_speech_probabilities_sum_to_one_and_mark_the_true_word():
    if "speech" not in TASKS:
        pytest.skip("speech task not available")
    exp, probe = run("gru", "speech", seq_len=16, n_classes=5)
    fig = charts.prediction_figure(probe, exp.task, 4)
    (bars,) = fig.data
    assert len(bars.y) == 5
    assert math.isclose(float(np.sum(bars.y)), 1.0, rel_tol=1e-5)
    truth = int(probe.meta["labels"][4])
    assert bars.marker.color[truth] == charts.SOLVED_COLOR
    assert list(bars.x) == probe.meta["class_names"]


def test_next_value_prediction_is_in_real_units():
    if "next_number" not in TASKS:
        pytest.skip("next_number task not available")
    exp, probe = run("lstm", "next_number", seq_len=8)
    fig = charts.prediction_figure(probe, exp.task, 0)
    numbers, targets, _ = fig.data
    real = probe.meta["values"][0]
    np.testing.assert_allclose(numbers.y, real[:8], rtol=1e-5, atol=1e-4)
    np.testing.assert_array_equal(targets.x, np.arange(1, 9))  # drawn at the step they predict
    scored = np.isfinite(targets.y)
    np.testing.assert_allclose(targets.y[scored], real[1:][scored], rtol=1e-5, atol=1e-4)


def test_unknown_task_falls_back_to_a_generic_chart(runs):
    _, probe = runs["rnn"]
    regression = SimpleNamespace(name="mystery", kind="regression")
    assert types(charts.prediction_figure(probe, regression)) == ["scatter"] * 3
    classification = SimpleNamespace(name="mystery", kind="classification")
    labels = dataclasses.replace(
        probe,
        targets=np.zeros(probe.mask.shape, dtype=np.int64),
        predictions=np.random.default_rng(0).normal(size=(*probe.mask.shape, 3)),
    )
    fig = charts.prediction_figure(labels, classification)
    assert types(fig) == ["scatter", "scatter"]
    assert_clean(fig)


def test_rollout_figure_with_and_without_truth():
    context = np.sin(np.arange(30) / 3)
    forecast = np.sin(np.arange(30, 40) / 3)
    truth = forecast.copy()
    truth[-3:] = np.nan  # past the end of the data
    fig = charts.rollout_figure(context, forecast, truth)
    assert [t.name for t in fig.data] == ["context", "truth", "forecast"]
    np.testing.assert_array_equal(fig.data[2].x, np.arange(29, 40))  # joined to the context
    assert_clean(fig)
    assert [t.name for t in charts.rollout_figure(context[:, None], forecast).data] == [
        "context",
        "forecast",
    ]


# ---- hidden state --------------------------------------------------------------------------------
def explained_percentages(titles: list[str]) -> list[float]:
    return [float(re.search(r"\(([\d.]+)%\)", title).group(1)) for title in titles]


@pytest.mark.parametrize("cell", CELLS)
def test_trajectory_has_one_line_per_sequence(runs, cell):
    _, probe = runs[cell]
    count, length, _ = probe.hidden.shape
    fig = charts.trajectory_figure(probe)
    assert types(fig) == ["scatter"] * count
    assert all(len(trace.x) == length for trace in fig.data)
    np.testing.assert_array_equal(fig.data[0].marker.color, np.arange(length))
    assert fig.data[0].marker.coloraxis == "coloraxis"
    shares = explained_percentages([fig.layout.xaxis.title.text, fig.layout.yaxis.title.text])
    assert shares[0] >= shares[1] and sum(shares) <= 100.5
    xs = np.concatenate([t.x for t in fig.data])
    ys = np.concatenate([t.y for t in fig.data])
    assert abs(xs.mean()) < 1e-4 and xs.var() >= ys.var()  # centred; PC1 carries the most variance
    fig3 = charts.trajectory_figure(probe, 3)
    assert types(fig3) == ["scatter3d"] * count
    scene = fig3.layout.scene
    titles = [scene.xaxis.title.text, scene.yaxis.title.text, scene.zaxis.title.text]
    assert sum(explained_percentages(titles)) <= 100.5


def test_trajectory_projection_matches_numpy_pca(runs):
    _, probe = runs["gru"]
    states = probe.hidden.reshape(-1, probe.hidden.shape[-1]).astype(np.float64)
    centred = states - states.mean(axis=0)
    _, singular, vt = np.linalg.svd(centred, full_matrices=False)
    expected = centred @ vt[0]
    drawn = np.concatenate([trace.x for trace in charts.trajectory_figure(probe).data])
    sign = np.sign(expected @ drawn)  # a principal direction's sign is arbitrary
    np.testing.assert_allclose(drawn, sign * expected, atol=1e-5)


def test_trajectory_does_not_mirror_between_redraws(runs):
    _, probe = runs["lstm"]
    nudged = dataclasses.replace(probe, hidden=probe.hidden * 1.001 + 1e-4)
    before = charts.trajectory_figure(probe).data[0]
    after = charts.trajectory_figure(nudged).data[0]
    np.testing.assert_allclose(before.x, after.x, atol=1e-2)
    np.testing.assert_allclose(before.y, after.y, atol=1e-2)


def test_ragged_trajectories_stop_where_sequences_end(runs):
    _, probe = runs["lstm"]
    lengths = np.array([3, 20, 7, 1] * 4)
    hidden = probe.hidden.copy()
    hidden[np.arange(20)[None, :] >= lengths[:, None]] = np.nan
    ragged = dataclasses.replace(probe, hidden=hidden, lengths=lengths)
    fig = charts.trajectory_figure(ragged)
    assert [len(trace.x) for trace in fig.data] == list(lengths)
    assert all(np.isfinite(trace.x).all() and np.isfinite(trace.y).all() for trace in fig.data)
    assert_clean(fig)
    heat = charts.hidden_heatmap(ragged, example=0)
    assert heat.data[0].z.shape == (8, 3)
    assert_clean(charts.gates_figure(ragged, example=2))
    histogram = charts.length_histogram(ragged)
    np.testing.assert_array_equal(histogram.data[0].x, lengths)


@pytest.mark.parametrize("hidden", [1, 2])
def test_trajectory_pads_missing_components_for_tiny_layers(hidden):
    _, probe = run("rnn", hidden=hidden, steps=1)
    for dims in (2, 3):
        fig = charts.trajectory_figure(probe, dims)
        assert len(fig.data) == probe.hidden.shape[0]
        assert_clean(fig)
    fig = charts.trajectory_figure(probe, 3)
    assert "(0%)" in fig.layout.scene.zaxis.title.text


def test_hidden_heatmap_shows_units_by_time(runs):
    _, probe = runs["rnn"]
    fig = charts.hidden_heatmap(probe, 2)
    (heat,) = fig.data
    np.testing.assert_allclose(heat.z, probe.hidden[2].T, rtol=1e-6)
    assert (heat.zmin, heat.zmax) == (-1, 1)


def test_hidden_heatmap_range_widens_for_relu():
    _, probe = run("rnn_relu", steps=1)
    loud = dataclasses.replace(probe, hidden=np.abs(probe.hidden) * 5 + 0.5)  # ReLU is unbounded
    (heat,) = charts.hidden_heatmap(loud).data
    assert heat.zmax > 1 and heat.zmin == -heat.zmax  # still centred on zero
    assert_clean(charts.trajectory_figure(probe))


def test_wide_layers_show_their_most_active_units():
    _, probe = run("gru", hidden=100, seq_len=6, steps=1)
    fig = charts.hidden_heatmap(probe)
    assert len(fig.data[0].y) == charts.MAX_UNITS
    assert fig.layout.yaxis.type == "category"
    assert "of 100" in fig.layout.yaxis.title.text
    gates = charts.gates_figure(probe)
    assert all(len(trace.y) == charts.MAX_GATE_UNITS for trace in gates.data)


# ---- gradients -----------------------------------------------------------------------------------
@pytest.mark.parametrize("cell", CELLS)
def test_grad_norm_figure_matches_the_probe(runs, cell):
    _, probe = runs[cell]
    fig = charts.grad_norm_figure(probe)
    np.testing.assert_allclose(fig.data[0].y, probe.grad_norm, rtol=1e-6)
    assert fig.layout.yaxis.type == "log"
    cell_traces = named(fig, "‖∂L/∂c")
    assert len(cell_traces) == (cell == "lstm")
    if cell == "lstm":
        np.testing.assert_allclose(cell_traces[0].y, probe.grad_norm_cell, rtol=1e-6)
    (factor,) = named(fig, "per-step factor")
    assert factor.yaxis == "y2"
    np.testing.assert_allclose(factor.y, probe.jacobian_norm, rtol=1e-6)
    (one,) = named(fig, "factor = 1")
    assert list(one.y) == [1, 1] and one.line.dash == "dash"


def test_grad_norm_figure_floors_zeros_and_keeps_nan_gaps(runs):
    _, probe = runs["rnn"]
    grad = probe.grad_norm.copy()
    grad[:3] = [0.0, np.nan, np.inf]
    fig = charts.grad_norm_figure(dataclasses.replace(probe, grad_norm=grad, jacobian_norm=None))
    y = fig.data[0].y
    assert y[0] == pytest.approx(charts.TINY) and np.isnan(y[1]) and np.isnan(y[2])
    assert len(fig.data) == 1
    assert_clean(fig)


def test_grad_history_heatmap_pads_ragged_records():
    records = [
        ProbeRecord(
            step=10 * i, grad_norm=np.geomspace(1e-6, 1, 5 + i), spectral_radius=1.0, loss=1
        )
        for i in range(4)
    ]
    records[1].grad_norm[2] = 0.0
    fig = charts.grad_history_heatmap(records)
    (heat,) = fig.data
    assert heat.z.shape == (4, 8)
    np.testing.assert_array_equal(heat.y, [0, 10, 20, 30])
    np.testing.assert_allclose(heat.z[3], np.log10(records[3].grad_norm), rtol=1e-5)
    assert np.isnan(heat.z[0, 5:]).all()  # shorter records are padded with gaps
    assert heat.zmax - heat.zmin <= 10 + 1e-6  # an exact zero does not stretch the colours
    assert_clean(fig)
    empty = charts.grad_history_heatmap([])
    assert len(empty.data) == 0 and empty.layout.annotations


# ---- gates and weights ---------------------------------------------------------------------------
def test_gates_figure_per_cell(runs):
    _, lstm = runs["lstm"]
    fig = charts.gates_figure(lstm, 1)
    assert types(fig) == ["heatmap"] * 5
    assert [a.text for a in fig.layout.annotations] == [
        "input",
        "forget",
        "cell candidate",
        "output",
        "cell state",
    ]
    np.testing.assert_allclose(fig.data[1].z, lstm.gates["forget"][1].T, rtol=1e-6)
    assert (fig.layout.coloraxis.cmin, fig.layout.coloraxis.cmax) == (0, 1)
    assert (fig.layout.coloraxis2.cmin, fig.layout.coloraxis2.cmax) == (-1, 1)
    assert fig.data[0].coloraxis == "coloraxis" and fig.data[2].coloraxis == "coloraxis2"
    _, gru = runs["gru"]
    assert types(charts.gates_figure(gru)) == ["heatmap"] * 3
    _, rnn = runs["rnn"]
    vanilla = charts.gates_figure(rnn)
    assert len(vanilla.data) == 0
    assert vanilla.layout.annotations[0].text == "vanilla RNN has no gates"


@pytest.mark.parametrize("cell", CELLS)
def test_spectrum_figure_draws_each_block_and_the_unit_circle(runs, cell):
    _, probe = runs[cell]
    fig = charts.spectrum_figure(probe)
    circle, *blocks = fig.data
    assert circle.name == "unit circle"
    np.testing.assert_allclose(np.hypot(circle.x, circle.y), 1, rtol=1e-6)
    assert len(blocks) == len(probe.spectrum)
    for trace, values in zip(blocks, probe.spectrum.values(), strict=True):
        np.testing.assert_allclose(trace.x, values.real, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(trace.y, values.imag, rtol=1e-5, atol=1e-6)
    assert fig.layout.yaxis.scaleanchor == "x"
    assert f"{probe.spectral_radius:.3g}" in fig.layout.title.text


def test_spectral_radius_figure(runs):
    exp, _ = runs["gru"]
    fig = charts.spectral_radius_figure(exp.probe_log)
    np.testing.assert_allclose(fig.data[0].y, [r.spectral_radius for r in exp.probe_log], rtol=1e-6)
    assert list(fig.data[1].y) == [1, 1]
    diverged = [ProbeRecord(1, np.ones(3), math.nan, math.nan), ProbeRecord(2, np.ones(3), 2.0, 1)]
    assert_clean(charts.spectral_radius_figure(diverged))
    assert len(charts.spectral_radius_figure([]).data) == 0


def test_spectrum_title_survives_nan_weights(runs):
    _, probe = runs["rnn"]
    broken = dataclasses.replace(probe, spectrum={"hidden": np.full(8, np.nan + 0j)})
    fig = charts.spectrum_figure(broken)
    assert "n/a" in fig.layout.title.text
    assert_clean(fig)


# ---- comparing cells -----------------------------------------------------------------------------
def test_race_figures_use_one_colour_per_cell(runs):
    histories = {cell: runs[cell][0].history for cell in CELLS}
    probes = {cell: runs[cell][1] for cell in CELLS}
    task = runs["rnn"][0].task
    loss = charts.race_loss_figure(histories, task)
    for cell in CELLS:
        colours = {trace.line.color for trace in loss.data if trace.legendgroup == cell}
        assert colours == {charts.CELL_COLORS[cell]}
    grad = charts.race_grad_figure(probes)
    assert [trace.name for trace in grad.data] == list(CELLS)
    assert [trace.line.color for trace in grad.data] == [charts.CELL_COLORS[c] for c in CELLS]
    np.testing.assert_allclose(grad.data[1].y, probes["lstm"].grad_norm, rtol=1e-6)
    assert_clean(loss)
    assert_clean(grad)


def test_sweep_figure_sorts_points_and_draws_the_threshold():
    results = {"rnn": [(20, 0.3), (5, 0.9), (10, math.nan)], "lstm": [(5, 1.0), (20, 0.97)]}
    fig = charts.sweep_figure(results, "lag", "accuracy", 0.95)
    rnn, lstm, threshold = fig.data
    np.testing.assert_array_equal(rnn.x, [5, 10, 20])
    assert rnn.line.color == charts.CELL_COLORS["rnn"]
    np.testing.assert_array_equal(threshold.x, [5, 20])
    assert fig.layout.title.text == "Accuracy by lag"
    assert_clean(fig)
    assert len(charts.sweep_figure({}, "lag", "accuracy", None).data) == 0


# ---- bandwidth -----------------------------------------------------------------------------------
CHEAP_CAP = 60 * KB
HEAVY_CAP = 150 * KB
CHEAP = {
    "loss",
    "metric",
    "prediction",
    "grad_norm",
    "spectral_radius",
    "length_histogram",
    "race_loss",
    "race_grad",
}


def synthetic_history(steps: int, val_every: int = 10) -> History:
    rng = np.random.default_rng(0)
    history = History()
    loss = np.geomspace(1, 1e-3, steps) * rng.uniform(0.5, 2, steps)
    for step in range(1, steps + 1):
        validated = step % val_every == 0 or step == 1
        history.step.append(step)
        history.train_loss.append(float(loss[step - 1]))
        history.val_loss.append(float(loss[step - 1]) if validated else math.nan)
        history.val_metric.append(float(loss[step - 1]) if validated else math.nan)
    return history


@pytest.mark.parametrize("cell", ("lstm", "gru"))
def test_json_sizes_for_a_typical_run(cell):
    """hidden 64, seq_len 50, a probe batch of 16, 500 steps of history, 100 probe records."""
    exp, probe = run(cell, seq_len=50, hidden=64, batch_size=16, steps=1)
    exp.history = synthetic_history(500)
    exp.probe_log = [
        ProbeRecord(5 * i, probe.grad_norm * (1 + i / 100), 1.0, 1.0) for i in range(100)
    ]
    sizes = {name: len(fig.to_json()) for name, fig in all_figures(exp, probe).items()}
    print(cell, {name: f"{size / KB:.1f} KB" for name, size in sizes.items()})
    for name, size in sizes.items():
        cap = CHEAP_CAP if name in CHEAP else HEAVY_CAP
        assert size < cap, f"{name}: {size / KB:.1f} KB"
