"""Shared by the chart tests: small trained runs, every figure of one, and the checks every
figure must pass (no NaN or inf where a person reads, numpy arrays in every trace, a title)."""

from __future__ import annotations

import math
import re

import numpy as np
import plotly.graph_objects as go
import pytest

from core import Experiment, ExperimentConfig
from core.trainer import History
from playground import charts as _charts

CELLS = ("rnn", "lstm", "gru")


KB = 1000


def run(cell="lstm", task="adding", steps=3, **settings):
    """An experiment after `steps` optimizer steps, observed twice so its probe log has records."""
    settings = {"seq_len": 20, "hidden": 8, "batch_size": 16, **settings}
    exp = Experiment(ExperimentConfig(cell=cell, task=task, **settings))
    exp.step(steps)
    exp.observe()
    exp.step(steps)
    return exp, exp.observe(jacobian=True)


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


def synthetic_history(steps: int, val_every: int = 10) -> History:
    rng = np.random.default_rng(0)
    history = History()
    loss = np.geomspace(1, 1e-3, steps) * rng.uniform(0.5, 2, steps)
    for step in range(1, steps + 1):
        validated = step % val_every == 0 or step == 1
        value = float(loss[step - 1])
        history.add(step, value, value if validated else math.nan, value if validated else math.nan)
    return history


SUFFIXES = ("_figure", "_heatmap", "_histogram")


class _Validated:
    """playground.charts with every builder's result (a plain-dict Fig) turned into a go.Figure:
    plotly validates every property on the way in, so a typo in a builder fails here."""

    def __getattr__(self, name: str):
        value = getattr(_charts, name)
        if callable(value) and name.endswith(SUFFIXES):
            return lambda *args, **kwargs: go.Figure(value(*args, **kwargs))
        return value


charts = _Validated()
