"""Weights tab: eigenvalues of the recurrent weights and the spectral radius over training."""

from __future__ import annotations

import math

import numpy as np

from core.probes import Probe
from core.trainer import ProbeRecord
from playground.charts.style import (
    BASELINE_COLOR,
    GATE_COLORS,
    MAX_EIGENVALUES,
    MAX_HISTORY_POINTS,
    PALETTE,
    TRAIN_COLOR,
    Fig,
    f32,
    finish,
    fmt,
    hline,
    i32,
    message_figure,
    scatter,
    thin,
)


# ---- recurrent weights ---------------------------------------------------------------------------
def spectrum_figure(probe: Probe) -> Fig:
    """Eigenvalues of each recurrent gate block on the complex plane, with the unit circle."""
    angle = np.linspace(0, 2 * np.pi, 97)
    fig = Fig(
        scatter(
            x=f32(np.cos(angle)),
            y=f32(np.sin(angle)),
            name="unit circle",
            mode="lines",
            line=dict(color=BASELINE_COLOR, dash="dash", width=1),
            hoverinfo="skip",
        )
    )
    reach = 1.0
    for index, (name, values) in enumerate(probe.spectrum.items()):
        values = np.asarray(values)[:MAX_EIGENVALUES]
        values = values[np.isfinite(values)]
        if values.size:
            reach = max(reach, float(np.abs(values).max()))
        fig.add_trace(
            scatter(
                x=f32(values.real),
                y=f32(values.imag),
                name=name.replace("_", " "),
                mode="markers",
                marker=dict(
                    color=GATE_COLORS.get(name, PALETTE[index % len(PALETTE)]), size=6, opacity=0.75
                ),
            )
        )
    limit = 1.1 * reach
    title = f"Recurrent eigenvalues (spectral radius {fmt(_spectral_radius(probe), 3)})"
    fig = finish(fig, "spectrum", title, "real part", "imaginary part", height=360)
    fig.update_xaxes(range=[-limit, limit], zeroline=True)
    fig.update_yaxes(range=[-limit, limit], scaleanchor="x", scaleratio=1, zeroline=True)
    return fig


def _spectral_radius(probe: Probe) -> float:
    magnitudes = [np.abs(np.asarray(v)) for v in probe.spectrum.values() if np.size(v)]
    finite = [m[np.isfinite(m)] for m in magnitudes]
    finite = [m for m in finite if m.size]
    return float(max(m.max() for m in finite)) if finite else math.nan


def spectral_radius_figure(probe_log: list[ProbeRecord]) -> Fig:
    """The recurrent weights' spectral radius at each probe over training, with a dashed line at 1."""
    title, x_title, y_title = "Spectral radius over training", "training step", "spectral radius"
    if not probe_log:
        return message_figure("spectral_radius", title, "No probes yet.", x_title, y_title)
    measured = [r for r in probe_log if math.isfinite(r.spectral_radius)]  # NaN: not taken
    if not measured:
        return message_figure("spectral_radius", title, "No probes yet.", x_title, y_title)
    records = [measured[i] for i in thin(len(measured), MAX_HISTORY_POINTS)]
    steps = np.array([r.step for r in records])
    fig = Fig(
        scatter(
            x=i32(steps),
            y=f32([r.spectral_radius for r in records]),
            name="spectral radius",
            mode="lines+markers",
            line=dict(color=TRAIN_COLOR, width=2),
            marker=dict(size=4),
        )
    )
    fig.add_trace(
        hline(
            float(steps[0]),
            max(float(steps[-1]), float(steps[0]) + 1),
            1.0,
            "radius 1",
            BASELINE_COLOR,
        )
    )
    return finish(fig, "spectral_radius", title, x_title, y_title, yaxis_rangemode="tozero")
