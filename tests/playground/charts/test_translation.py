"""Translate page charts: clean, titled figures from a real (briefly trained) pair of runs."""

from __future__ import annotations

import numpy as np
import pytest

from core.seq2seq import Seq2SeqConfig, Seq2SeqExperiment
from playground.charts import describe
from tests.playground.charts.helpers import assert_clean, assert_titled, charts

BUCKETS = ["short", "medium", "long"]


@pytest.fixture(scope="module")
def runs():
    made = {}
    for label, kind in (("plain", "none"), ("attention", "dot")):
        config = Seq2SeqConfig(attention=kind, hidden=8, embed=4, batch_size=8, max_groups=2)
        made[label] = Seq2SeqExperiment(config)
        made[label].step(3)
    return made


def test_figures_are_clean_and_titled(runs):
    answer = runs["attention"].translate("twelve thousand and five")
    by_length = {label: run.evaluate([1, 6, 12, 18])["by_length"] for label, run in runs.items()}
    assert np.isnan(by_length["plain"][2])  # no 12-word sentences below a million: a gap
    grads = {label: run.probe().grad_norm for label, run in runs.items()}
    histories = {label: run.history for label, run in runs.items()}
    figures = {
        "attention": charts.attention_heatmap(answer.words, answer.symbols, answer.attention),
        "no_attention": charts.attention_heatmap(["twelve"], ["1", "2", "</s>"], None),
        "exact_by_length": charts.exact_by_length_figure(by_length, BUCKETS),
        "encoder_grad": charts.encoder_grad_figure(grads),
        "translate_loss": charts.translate_loss_figure(histories),
    }
    for fig in figures.values():
        assert_titled(fig)
        assert_clean(fig)
    heat = figures["attention"].data[0]
    assert list(heat.x) == ["1. twelve", "2. thousand", "3. and", "4. five"]
    assert np.asarray(heat.z).shape == (len(answer.symbols), 4)
    marked = charts.attention_heatmap(["twelve"], ["1", "2", "</s>"], np.full((3, 1), 1.0))
    assert list(marked.data[0].y) == ["1. 1", "2. 2", "3. end"]  # plotly drops "</s>" as a tag
    layout = figures["attention"].layout
    assert layout.xaxis.type == layout.yaxis.type == "category"  # "1. 3" is a label, not 1.3
    assert "no attention" in figures["no_attention"].layout.annotations[0].text
    assert [t.name for t in figures["encoder_grad"].data] == ["without attention", "with attention"]
    text = describe.attention(answer.words, answer.symbols, answer.attention)
    assert text.startswith("Attention map: ") and "looks most at word" in text
    assert "not measured" in describe.exact_by_length(by_length, BUCKETS)
    assert "at the first word" in describe.encoder_grad(grads)
    assert "at step 3" in describe.translate_loss(histories)
