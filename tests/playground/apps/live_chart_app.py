"""A page of live charts for tests/playground/test_plotly_live.py: a `run_every` fragment redraws,
at every run, one chart of each kind the playground draws through `plotly_live`.

Query parameters: `delay` (seconds each run waits before drawing, to make runs slow enough for
Streamlit's stale fade to show), `every` (the fragment's timer, seconds) and `static` (any value:
draw with plotly's `staticPlot`, as the playground does while training).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = str(Path(__file__).resolve().parents[3])
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

import numpy as np  # noqa: E402
import plotly.graph_objects as go  # noqa: E402
import streamlit as st  # noqa: E402
from plotly.subplots import make_subplots  # noqa: E402

from playground.plotly_live import plotly_live, steady_container  # noqa: E402

st.set_page_config(page_title="live charts", layout="wide")
delay = float(st.query_params.get("delay", "0"))
every = float(st.query_params.get("every", "0.2"))
config = {"staticPlot": True} if st.query_params.get("static") else {"displaylogo": False}
KINDS = ("lines", "heatmap", "subplots", "scatter3d", "bars")


def lines(n: int) -> go.Figure:
    x = np.arange(1, 20 * n + 1, dtype=np.float32)
    fig = go.Figure(go.Scatter(x=x, y=np.exp(-x / 50).astype(np.float32) + 1e-3, name="loss"))
    fig.update_layout(height=260, uirevision="lines", yaxis_type="log", title=f"lines {n}")
    return fig


def heatmap(n: int) -> go.Figure:
    z = np.sin(np.outer(np.arange(16), np.arange(40)) / (4 + n % 7)).astype(np.float32)
    fig = go.Figure(go.Heatmap(z=z, colorscale="RdBu_r", zmid=0))
    return fig.update_layout(height=260, uirevision="heatmap", title=f"heatmap {n}")


def subplots(n: int) -> go.Figure:
    fig = make_subplots(rows=1, cols=2)
    t = np.arange(50, dtype=np.float32)
    fig.add_trace(go.Scatter(x=t, y=np.cos(t / 5 + n).astype(np.float32)), row=1, col=1)
    fig.add_trace(go.Heatmap(z=np.outer(t[:8], t[:8] + n).astype(np.float32)), row=1, col=2)
    return fig.update_layout(height=260, uirevision="subplots", title=f"subplots {n}")


def scatter3d(n: int) -> go.Figure:
    t = np.linspace(0, 6, 200, dtype=np.float32) + n / 10
    fig = go.Figure(go.Scatter3d(x=np.cos(t), y=np.sin(t), z=t, mode="lines"))
    return fig.update_layout(height=300, uirevision="scatter3d", title=f"3D {n}")


def bars(n: int) -> go.Figure:
    fig = go.Figure(go.Bar(x=np.arange(8), y=(np.arange(8) + n) % 5))
    fig.add_trace(go.Histogram(x=np.random.default_rng(n).normal(size=200)))
    return fig.update_layout(height=260, uirevision="bars", title=f"bars {n}")


DRAW = {"lines": lines, "heatmap": heatmap, "subplots": subplots, "scatter3d": scatter3d}
DRAW["bars"] = bars
# The same figure at every run: the browser must keep it drawn without redrawing it.
STILL = "still"


@st.fragment(run_every=every)
def live() -> None:
    st.session_state.runs = st.session_state.get("runs", 0) + 1
    runs = st.session_state.runs
    with steady_container("live"):
        st.markdown(f"Run {runs}")
        time.sleep(delay)
        left, right = st.columns(2)
        for i, kind in enumerate(KINDS):
            with left if i % 2 == 0 else right:
                plotly_live(DRAW[kind](runs), key=f"chart_{kind}", config=config)
        with right:
            still = st.session_state.setdefault(STILL, lines(1).update_layout(title="still"))
            plotly_live(still, key=f"chart_{STILL}")
    # Outside the steady container: Streamlit's stale fade shows here (the tests' control).
    st.caption(f"Faded while a run is pending {runs}")


live()
