"""Translate page: the attention map, the encoder's gradient per word, exact match by sentence
length and the two runs' losses (plain: no attention; attention: with it)."""

from __future__ import annotations

import numpy as np

from core.trainer import History
from playground.charts.style import (
    LOG_AXIS,
    MAX_HISTORY_POINTS,
    PALETTE,
    SEQUENTIAL,
    Fig,
    bar,
    f32,
    finish,
    heatmap,
    i32,
    message_figure,
    positive,
    scatter,
    smooth_log,
    thin,
)

RUN_NAMES = {"plain": "without attention", "attention": "with attention"}
RUN_COLORS = {"plain": PALETTE[1], "attention": PALETTE[0]}
RUN_DASHES = {"plain": "dash", "attention": "solid"}


def shown_symbol(symbol: str) -> str:
    """The end marker in words: plotly reads "</s>" in a label as an HTML tag and drops it."""
    return "end" if symbol == "</s>" else symbol


def attention_heatmap(words: list[str], symbols: list[str], weights: np.ndarray | None) -> Fig:
    """Rows: the symbols the decoder wrote; columns: the words it read; colour: the weight."""
    key, title = "attention", "Where the decoder looks while writing each digit"
    if weights is None:
        message = "This network has no attention: it reads only the encoder's last state."
        return message_figure(key, title, message, "word read", "digit written")
    fig = Fig(
        heatmap(
            z=f32(weights),
            x=[f"{k + 1}. {w}" for k, w in enumerate(words)],
            y=[f"{k + 1}. {shown_symbol(s)}" for k, s in enumerate(symbols)],
            zmin=0.0,
            zmax=1.0,
            colorscale=SEQUENTIAL,
            colorbar=dict(title=dict(text="weight")),
        )
    )
    # Category axes: plotly read labels such as "1. 3" as numbers and dropped rows' names.
    return finish(
        fig,
        key,
        title,
        "word read",
        "digit written",
        xaxis=dict(type="category"),
        yaxis=dict(type="category", autorange="reversed"),
    )


def encoder_grad_figure(grad_norms: dict[str, np.ndarray]) -> Fig:
    """‖∂L/∂h_s‖ at each encoder step s for each run, on one log axis."""
    fig = Fig()
    for label, values in grad_norms.items():
        fig.add_trace(
            scatter(
                x=i32(np.arange(1, len(values) + 1)),
                y=positive(values),
                name=RUN_NAMES[label],
                mode="lines+markers",
                line=dict(color=RUN_COLORS[label], dash=RUN_DASHES[label], width=2),
            )
        )
    return finish(
        fig,
        "encoder_grad",
        "Gradient reaching each word of the sentence",
        "word position s",
        "‖∂L/∂h<sub>s</sub>‖ (log scale)",
        yaxis=LOG_AXIS,
        showlegend=True,
    )


def exact_by_length_figure(by_length: dict[str, list[float]], buckets: list[str]) -> Fig:
    """Exact-match accuracy per sentence-length bucket, one bar per run."""
    fig = Fig()
    for label, values in by_length.items():
        fig.add_trace(
            bar(
                x=buckets,
                y=f32(values),
                name=RUN_NAMES[label],
                marker=dict(
                    color=RUN_COLORS[label], pattern=dict(shape="" if label == "attention" else "/")
                ),
            )
        )
    return finish(
        fig,
        "exact_by_length",
        "Whole answers right, by sentence length",
        "sentence length",
        "exact match",
        yaxis=dict(range=[0, 1.05]),
        barmode="group",
        showlegend=True,
    )


def translate_loss_figure(histories: dict[str, History]) -> Fig:
    """Training loss of each run (smoothed), log scale."""
    fig = Fig()
    for label, history in histories.items():
        step, loss = history.columns("step", "train_loss")
        if not len(step):
            continue
        keep = thin(len(step), MAX_HISTORY_POINTS)  # as the playground's loss chart does
        fig.add_trace(
            scatter(
                x=i32(step[keep]),
                y=positive(smooth_log(loss, at=keep)),
                name=RUN_NAMES[label],
                mode="lines",
                line=dict(color=RUN_COLORS[label], dash=RUN_DASHES[label], width=2),
            )
        )
    return finish(
        fig,
        "translate_loss",
        "Training loss",
        "step",
        "cross-entropy (log scale)",
        yaxis=LOG_AXIS,
        showlegend=True,
    )
