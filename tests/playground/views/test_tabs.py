"""The Playground page's tabs under AppTest: every tab, task and cell draws its charts."""

from __future__ import annotations

import base64

import numpy as np
import pytest

from core import CELLS, TASKS
from playground.words import cells as cell_words
from tests.playground.helpers import (
    click,
    experiment,
    figures,
    open_app,
    settle,
    trace_names,
)


@pytest.fixture(scope="module")
def stepped():
    """LSTM on the adding problem after ten steps (shared by the read-only chart tests)."""
    at = open_app(cell="lstm", task="adding", seq_len="30")
    settle(click(at, "step10"))
    assert not at.exception
    return at


def test_training_tab_charts(stepped):
    shown = figures(stepped)
    assert {"chart_loss", "chart_grad_norm", "chart_prediction"} <= set(shown)
    assert {"train", "validation"} <= set(trace_names(shown["chart_loss"]))
    grad = shown["chart_grad_norm"]
    assert any("∂L/∂h" in name for name in trace_names(grad))
    assert grad["layout"]["yaxis"]["type"] == "log"
    assert shown["chart_prediction"]["data"]


@pytest.mark.parametrize(
    ("tab", "keys"),
    [
        ("Memory", {"chart_trajectory_2d", "chart_trajectory_3d", "chart_hidden"}),
        ("Gradients", {"chart_grad_norm_tab", "chart_grad_history"}),
        ("Gates", {"chart_gates"}),
        ("Weights", {"chart_spectrum", "chart_spectral_radius"}),
    ],
)
def test_each_tab_draws_its_charts(stepped, tab, keys):
    stepped.session_state["view"] = tab
    stepped.run()
    assert not stepped.exception
    shown = figures(stepped)
    assert keys <= set(shown)
    for key in keys:
        assert shown[key]["data"], key
    if tab == "Memory":
        types = {trace["type"] for trace in shown["chart_trajectory_3d"]["data"]}
        assert "scatter3d" in types


@pytest.mark.parametrize("task", [t for t in TASKS if t != "adding"])  # adding: the fixture
def test_every_task_trains_and_draws(task):
    at = open_app(task=task, seq_len="24", hidden="16")
    settle(click(at, "step1"))
    assert not at.exception and not at.error
    assert {"chart_loss", "chart_grad_norm", "chart_prediction"} <= set(figures(at))
    for tab in ("Memory", "Gates"):
        at.session_state["view"] = tab
        at.run()
        assert not at.exception and not at.error
    if TASKS[task].ask == "forecast":  # sine, csv and each built-in series
        at.session_state["view"] = "Training"
        at.run()
        assert "chart_rollout" in figures(at)
    if task == "text":
        at.session_state["view"] = "Training"
        at.run()
        assert any(t.value.startswith("The ") for t in at.text)


def test_a_built_in_series_is_picked_and_shows_its_source_and_every_reference():
    at = open_app(task="airline", hidden="8")
    assert at.selectbox(key="w_task").value == "airline"
    assert "w_csv_column" not in [box.key for box in at.selectbox]  # no upload, no Column
    settle(click(at, "step10"))
    assert not at.exception and not at.error
    assert {"seasonal naive (12)", "Holt-Winters"} <= set(trace_names(figures(at)["chart_rollout"]))
    captions = " ".join(c.value for c in at.caption)
    assert "Source: Box & Jenkins" in captions and "Licence:" in captions
    assert any(" wins" in info.value for info in at.info), "who won, in words"


def test_text_shows_the_n_gram_beside_the_network_and_who_won():
    at = open_app(task="text", hidden="16")
    settle(click(at, "step10"))
    assert not at.exception and not at.error
    shown = figures(at)
    gram = [name for name in trace_names(shown["chart_metric"]) if "-gram model" in name]
    assert gram, "the n-gram's accuracy on the metric chart"
    assert any("-gram model" in name for name in trace_names(shown["chart_loss"]))
    said = [info.value for info in at.info if "bits per character" in info.value]
    assert said and " wins" in said[0], "who won, in words"


def test_csv_windows_of_ragged_length():
    """A shortest length for the csv task: a control, ragged windows, a histogram, a forecast."""
    at = open_app(task="csv", seq_len="24", min_len="6", hidden="8")
    assert at.number_input(key="w_min_len").value == 6
    settle(click(at, "step1"))
    assert not at.exception and not at.error
    assert "chart_rollout" in figures(at)
    at.session_state["view"] = "Memory"
    at.run()
    histogram = figures(at)["chart_length"]
    x = histogram["data"][0]["x"]  # plotly writes numpy arrays as base64 typed arrays
    lengths = np.frombuffer(base64.b64decode(x["bdata"]), x["dtype"]) if "bdata" in x else x
    assert min(lengths) >= 6 and max(lengths) <= 24 and len(set(lengths)) > 1


@pytest.mark.parametrize("cell", [c for c in CELLS if c != "lstm"])  # lstm: the test above
def test_every_cell_draws_every_tab(cell):
    at = open_app(cell=cell, task="adding", seq_len="20", hidden="16")
    settle(click(at, "step1"))
    for tab in ("Training", "Memory", "Gradients", "Gates", "Weights", "Cell"):
        at.session_state["view"] = tab
        at.run()
        assert not at.exception and not at.error, tab
    assert len(at.latex) == len(cell_words.EQUATIONS[cell])


def test_cell_tab_shows_equations_and_parameter_count(stepped):
    stepped.session_state["view"] = "Cell"
    stepped.run()
    exp = experiment(stepped)
    assert len(stepped.latex) == len(cell_words.EQUATIONS["lstm"])
    assert any(f"{exp.parameter_count():,} parameters" in h.value for h in stepped.header)
    stepped.session_state["view"] = "Training"


def test_next_number_fill_in():
    at = open_app(task="next_number")
    settle(click(at, "step10"))
    assert any("fills the '?'" in s.value for s in at.success)
    at.text_input(key="fill_in").input("1, 2").run()
    at.text_input(key="fill_in").input("one, two").run()
    assert any("not a number" in w.value for w in at.warning)
    assert not at.exception


def test_sentiment_shows_the_verdict_word_by_word_and_reads_a_typed_review():
    at = open_app(task="sentiment", seq_len="16", hidden="16")
    settle(click(at, "step10"))
    shown = figures(at)
    prediction, typed = shown["chart_prediction"], shown["chart_verdict"]
    words = list(experiment(at).probe_batch.meta["words"][0])
    assert prediction["layout"]["xaxis"]["ticktext"] == words
    # Plain lists: the browser decodes typed arrays in traces only (a layout one drew no words).
    assert prediction["layout"]["xaxis"]["tickvals"] == list(range(len(words)))
    assert typed["layout"]["xaxis"]["ticktext"] == [
        "the",
        "plot",
        "was",
        "good",
        "at",
        "first",
        "but",
        "dull",
    ]
    assert "verdict" in trace_names(typed)
    at.text_input(key="read_sentence").input("the film was not bad").run()
    assert figures(at)["chart_verdict"]["layout"]["xaxis"]["ticktext"][-2:] == ["not", "bad"]
    at.text_input(key="read_sentence").input("the film was marvellous").run()
    assert any("never seen 'marvellous'" in w.value for w in at.warning)
    assert not at.exception
    at.session_state["view"] = "Memory"
    at.run()
    heatmap = figures(at)["chart_hidden"]
    assert set(heatmap["layout"]["xaxis"]["ticktext"]) <= set(words)
    assert isinstance(heatmap["layout"]["xaxis"]["tickvals"], list)
    assert not at.exception
