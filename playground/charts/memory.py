"""Memory tab: hidden-state trajectories (PCA), the units x time heatmap, and sequence lengths."""

from __future__ import annotations

import math

import numpy as np

from core.probes import Probe
from playground.charts.style import (
    DIVERGING,
    MAX_HEATMAP_CELLS,
    MAX_SEQUENCE_POINTS,
    MAX_UNITS,
    SEQUENTIAL,
    TRAIN_COLOR,
    Fig,
    clamp_example,
    f32,
    finish,
    heatmap,
    histogram,
    i32,
    message_figure,
    real_length,
    scatter,
    scatter3d,
    select_units,
    symmetric_limit,
    thin,
    unit_axis,
    units_by_time,
)


# ---- hidden state --------------------------------------------------------------------------------
def _pca(rows: np.ndarray, dims: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(components (H, dims), explained variance % (dims,), mean (H,)) of the rows (M, H).
    Missing directions (H or rank below dims) are zero columns with 0%."""
    mean = rows.mean(axis=0)
    fit = rows[thin(len(rows), 4000)] - mean  # a spread subset bounds the SVD's cost
    _, singular, vt = np.linalg.svd(fit, full_matrices=False)
    # SVD may return either sign of a direction; fix it (largest loading positive) so a live
    # chart does not mirror itself between two redraws of almost the same states.
    largest = vt[np.arange(len(vt)), np.abs(vt).argmax(axis=1)]
    vt = vt * np.where(largest < 0, -1.0, 1.0)[:, None]
    variance = singular**2
    total = variance.sum()
    explained = 100 * variance / total if total > 0 else np.zeros_like(variance)
    components = np.zeros((rows.shape[1], dims))
    found = min(dims, vt.shape[0])
    components[:, :found] = vt[:found].T
    padded = np.zeros(dims)
    padded[:found] = explained[:found]
    return components, padded, mean


def trajectory_figure(probe: Probe, dims: int = 2) -> Fig:
    """Hidden states of every sequence projected on the first 2 (or 3) principal components,
    fitted over all real steps of the probe batch; one line per sequence, markers coloured by
    time step on one shared colour bar; each line stops where its sequence ends."""
    dims = 3 if dims == 3 else 2
    hidden = probe.hidden.astype(np.float64)
    count, length, size = hidden.shape
    flat = hidden.reshape(-1, size)
    real = np.isfinite(flat).all(axis=1)
    if not real.any():
        return message_figure(
            "trajectory", "Hidden-state trajectories", "No real steps.", "PC1", "PC2"
        )
    components, explained, mean = _pca(flat[real], dims)
    titles = [f"PC{k + 1} ({explained[k]:.0f}%)" for k in range(dims)]
    fig = Fig()
    for index in range(count):
        steps = np.flatnonzero(np.isfinite(hidden[index]).all(axis=1))
        steps = steps[thin(len(steps), MAX_SEQUENCE_POINTS)]
        coords = f32((hidden[index, steps] - mean) @ components)
        common = dict(
            mode="lines+markers",
            name=f"sequence {index}",
            showlegend=False,
            # WebGL (3D) lines ignore alpha, so they get a solid light grey instead.
            line=dict(color="#c3cad4" if dims == 3 else "rgba(90,100,120,0.35)", width=1.5),
            marker=dict(color=i32(steps), coloraxis="coloraxis", size=2.5 if dims == 3 else 6),
            hovertemplate=f"sequence {index}, t=%{{marker.color}}<extra></extra>",
        )
        if dims == 3:
            fig.add_trace(scatter3d(x=coords[:, 0], y=coords[:, 1], z=coords[:, 2], **common))
        else:
            fig.add_trace(scatter(x=coords[:, 0], y=coords[:, 1], **common))
    fig.update_layout(
        coloraxis=dict(
            colorscale=SEQUENTIAL,
            cmin=0,
            cmax=max(length - 1, 1),
            colorbar=dict(title=dict(text="t"), thickness=12),
        )
    )
    title = f"Hidden-state trajectories ({sum(explained):.0f}% of variance shown)"
    if dims == 3:
        fig.update_layout(
            scene=dict(
                xaxis_title=titles[0],
                yaxis_title=titles[1],
                zaxis_title=titles[2],
                aspectmode="cube",
            ),
            margin=dict(l=0, r=0, t=40, b=10),
        )
        return finish(fig, "trajectory", title, titles[0], titles[1], height=420)
    return finish(fig, "trajectory", title, titles[0], titles[1])


def hidden_heatmap(probe: Probe, example: int = 0) -> Fig:
    """h_t of one sequence as units x time, diverging colours centred on 0; the range is -1..1 for
    tanh-bounded cells and the largest magnitude otherwise (ReLU)."""
    example = clamp_example(probe, example)
    length = real_length(probe, example)
    states = probe.hidden[example, :length]
    units = select_units(states, MAX_UNITS)
    steps = thin(length, max(MAX_HEATMAP_CELLS // max(len(units), 1), 2))
    z = units_by_time(states, units, steps)
    limit = symmetric_limit(z)
    y, axis, y_title = unit_axis(units, states.shape[1])
    fig = Fig(
        heatmap(
            z=z,
            x=i32(steps),
            y=y,
            zmin=-limit,
            zmax=limit,
            colorscale=DIVERGING,
            colorbar=dict(title=dict(text="h"), thickness=12),
            hovertemplate="t=%{x} unit %{y}: %{z:.2f}<extra></extra>",
        )
    )
    fig.update_yaxes(showgrid=False, **axis)
    fig.update_xaxes(showgrid=False)
    x_title = "time step"
    words = probe.meta.get("words")  # a task read word by word: the axis names its words
    if isinstance(words, list) and example < len(words):
        ticks = [str(words[example][int(t)]) for t in steps if t < len(words[example])]
        tickvals = [int(t) for t in steps[: len(ticks)]]  # a list: the layout takes no typed array
        fig.update_xaxes(tickmode="array", tickvals=tickvals, ticktext=ticks)
        x_title = "word"
    return finish(fig, "hidden_heatmap", f"Hidden state, sequence {example}", x_title, y_title)


# ---- batch shape ---------------------------------------------------------------------------------
def length_histogram(probe: Probe) -> Fig:
    """How many sequences of the probe batch have each length."""
    lengths = i32(probe.lengths)
    title = (
        f"Sequence lengths ({lengths.min()} to {lengths.max()})"
        if lengths.size
        else "Sequence lengths"
    )
    # Bins of whole steps, widened so a batch spread over 400 steps still gets about 20 bars.
    width = (
        max(1, math.ceil((int(lengths.max()) - int(lengths.min()) + 1) / 20)) if lengths.size else 1
    )
    start = float(lengths.min()) - 0.5 if lengths.size else 0.0
    fig = Fig(
        histogram(
            x=lengths,
            xbins=dict(start=start, size=width),
            name="sequences",
            marker=dict(color=TRAIN_COLOR),
            opacity=0.8,
        )
    )
    return finish(fig, "length_histogram", title, "length (steps)", "sequences", bargap=0.1)
