"""Every builder: a clean, titled figure with a caption, a slim template, small JSON payloads."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import pytest

from core.trainer import ProbeRecord
from playground.charts import style
from playground.words.captions import CAPTIONS
from tests.playground.charts.helpers import (
    CELLS,
    KB,
    all_figures,
    assert_clean,
    assert_titled,
    charts,
    run,
    synthetic_history,
)


@pytest.mark.parametrize("cell", CELLS)
def test_every_builder_gives_a_clean_titled_figure(runs, cell):
    exp, probe = runs[cell]
    for name, fig in all_figures(exp, probe).items():
        assert isinstance(fig, go.Figure), name
        assert_titled(fig)
        assert_clean(fig)
        assert fig.layout.template.layout.paper_bgcolor == "white", name


SUFFIXES = ("_figure", "_heatmap", "_histogram")


def test_every_builder_has_a_caption_and_every_caption_a_builder():
    """Builders are found, not listed: each public `<name>_figure|_heatmap|_histogram` of the
    package has the caption CAPTIONS[<name>], and no caption is left without a builder."""
    builders = [
        name
        for name in charts.__all__
        if name.endswith(SUFFIXES) and callable(getattr(charts, name))
    ]
    names = {
        builder.removesuffix(suffix)
        for builder in builders
        for suffix in SUFFIXES
        if builder.endswith(suffix)
    }
    assert len(builders) >= 16 and names == set(CAPTIONS)
    for name in names:
        assert 20 < len(CAPTIONS[name]) < 700 and CAPTIONS[name].endswith("."), name


def test_the_package_exports_every_public_builder_of_its_modules():
    import inspect
    import pkgutil

    exported = set(charts.__all__)
    for module_info in pkgutil.iter_modules(charts.__path__):
        if module_info.name == "style":  # shared helpers, not builders
            continue
        module = __import__(f"playground.charts.{module_info.name}", fromlist=["_"])
        for name, value in inspect.getmembers(module, inspect.isfunction):
            if value.__module__ == module.__name__ and name.endswith(SUFFIXES):
                assert name in exported, f"{module.__name__}.{name} is not exported"


def test_template_is_slim():
    assert len(go.Figure(layout=dict(template=style.TEMPLATE)).to_json()) < 2 * KB


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


def test_smooth_log_at_kept_points_equals_the_full_curve_there():
    rng = np.random.default_rng(0)
    values = np.exp(rng.normal(size=5000))
    values[[10, 11, 400]] = [np.nan, np.inf, 0.0]  # bad steps the chart bridges
    for count in (1, 7, 600, 5000):
        keep = style.thin(count, 600)
        np.testing.assert_array_equal(
            style.smooth_log(values[:count], at=keep), style.smooth_log(values[:count])[keep]
        )
