"""The charts' shared look and helpers: one slim template, colours, caps and the small functions
every builder uses to encode arrays compactly and finish a figure.

Every builder follows the same rules:
- data go into traces as numpy arrays (float32 / int32): Plotly encodes those as compact base64
  typed arrays instead of long JSON lists;
- NaN (padding past a sequence's end, steps without validation) becomes a gap, never text; inf,
  and zero or negative values on log axes, become gaps too;
- points per trace and cells per heatmap are capped (the MAX_* constants);
- `layout.uirevision` is set, so zoom and legend clicks survive live redraws.

Shapes: N = sequences in the probe batch, L = length, H = hidden units.
"""

from __future__ import annotations

import functools
import math
import re
import warnings
from typing import Any

import numpy as np
import plotly.graph_objects as go

from core.cells import CELLS, CLASSIC_CELLS
from core.probes import Probe

MAX_HISTORY_POINTS = 600  # per history trace: more than a half-width chart has pixels for
MAX_SEQUENCE_POINTS = 400  # per trajectory trace (seq_len can be 400)
MAX_UNITS = 64  # rows of a units x time heatmap; larger layers show their most active units
MAX_HEATMAP_CELLS = 6400  # per heatmap panel; longer sequences are strided in time
MAX_GATE_UNITS = 32  # the gates chart has up to five panels: fewer rows keep it near 60 KB
MAX_GATE_CELLS = 8000  # over all gate panels together
MAX_RECORDS = 120  # training-step rows of the gradient-history heatmap
MAX_TEXT_STEPS = 60  # characters shown by the text task's prediction chart
MAX_EIGENVALUES = 1024  # per gate block
HEIGHT = 320
# Colours from Okabe and Ito's palette, which stays distinguishable under the common colour-vision
# deficiencies; every line that carries meaning also differs by dash or marker, so nothing is told
# by colour alone. Cells: one colour and one dash each.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")
DASHES = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot")
# The classic three keep the first colours; variants follow in registry order.
CELL_ORDER = (*CLASSIC_CELLS, *(name for name in CELLS if name not in CLASSIC_CELLS))
CELL_COLORS = {cell: PALETTE[i] for i, cell in enumerate(CELL_ORDER)}
CELL_DASHES = {cell: DASHES[i] for i, cell in enumerate(CELL_ORDER)}
TRAIN_COLOR = "#0072B2"
VAL_COLOR = "#D55E00"
INPUT_COLOR = "#8a96a3"
TARGET_COLOR = "#1b2a3a"
PREDICTION_COLOR = "#D55E00"
BASELINE_COLOR = "#5f6b7a"  # dashed
SOLVED_COLOR = "#009E73"  # dotted
GATE_COLORS = {
    "hidden": "#0072B2",
    "input": "#0072B2",
    "forget": "#009E73",
    "cell_candidate": "#CC79A7",
    "output": "#E69F00",
    "reset": "#D55E00",
    "update": "#009E73",
    "candidate": "#CC79A7",
}
MARKERS = ("circle", "square", "diamond", "triangle-up", "x", "star")
LOG_AXIS = dict(type="log", exponentformat="power")  # 10⁻⁶, not "1μ"
DIVERGING = "RdBu_r"  # red positive, blue negative, white at zero
SEQUENTIAL = "Viridis"
# Each gate's activation range from the cell registry (sigmoid 0..1, tanh -1..1): fixed colour
# ranges make frames comparable over training.
GATE_RANGES = {gate.name: (gate.low, gate.high) for cell in CELLS.values() for gate in cell.gates}
AXIS = dict(
    gridcolor="#EBF0F8",
    linecolor="#C8D4E3",
    zerolinecolor="#DFE8F3",
    ticks="",
    automargin=True,
    title=dict(standoff=6),
)
# The stock "plotly_white" template adds ~6 KB to every figure's JSON, mostly per-trace-type
# defaults we never use; at several figures x 4 redraws/s that alone would eat the bandwidth budget.
TEMPLATE = go.layout.Template(
    layout=dict(
        font=dict(size=12, color="#2a3f5f"),
        paper_bgcolor="white",
        plot_bgcolor="white",
        colorway=list(PALETTE),
        hovermode="closest",
        xaxis=AXIS,
        yaxis=AXIS,
        scene=dict(
            xaxis=dict(backgroundcolor="white", gridcolor="#DFE8F3", showbackground=True),
            yaxis=dict(backgroundcolor="white", gridcolor="#DFE8F3", showbackground=True),
            zaxis=dict(backgroundcolor="white", gridcolor="#DFE8F3", showbackground=True),
        ),
        # Title at the top, legend in rows between it and the plot; both push the plot down, so
        # they never overlap, even in a narrow column where the legend wraps.
        title=dict(
            x=0.01,
            y=1,
            yref="container",
            yanchor="top",
            automargin=True,
            pad=dict(t=8),
            font=dict(size=14),
        ),
        margin=dict(l=55, r=20, t=30, b=45),
        legend=dict(
            orientation="h", yanchor="bottom", y=1.02, xanchor="left", x=0, font=dict(size=11)
        ),
    )
)
TEMPLATE_JSON = TEMPLATE.to_plotly_json()  # what a Fig's layout carries


# ---- figures as plain dicts ------------------------------------------------------------------------
# Builders return a `Fig`: plotly's figure format as plain dicts and numpy arrays. plotly's own
# Fig validates every property as it is set, which cost 40-450 ms per chart here, several
# charts a tick; a Fig costs next to nothing. The tests wrap each one in Fig, which
# validates it fully (tests/playground/charts/helpers.py), so a typo still fails there.


class Fig(dict):
    """{"data": [trace, ...], "layout": {...}} with the few Fig methods the builders use."""

    def __init__(self, data: Any = None, layout: dict | None = None) -> None:
        traces = [] if data is None else [data] if isinstance(data, dict) else list(data)
        super().__init__(data=traces, layout=dict(layout or {}))

    @property
    def data(self) -> list[dict]:
        return self["data"]

    @property
    def layout(self) -> dict:
        return self["layout"]

    def add_trace(self, trace: dict, row: int | None = None, col: int | None = None) -> Fig:
        if row is not None and row > 1:  # one column of subplots: row r uses axes x<r>, y<r>
            trace = {**trace, "xaxis": f"x{row}", "yaxis": f"y{row}"}
        self.data.append(trace)
        return self

    def add_traces(self, traces: list[dict]) -> Fig:
        self.data.extend(traces)
        return self

    def update_layout(self, **changes: Any) -> Fig:
        _merge(self.layout, _nested(changes))
        return self

    def update_xaxes(self, row: int | None = None, col: int = 1, **changes: Any) -> Fig:
        return self._update_axes("x", row, changes)

    def update_yaxes(self, row: int | None = None, col: int = 1, **changes: Any) -> Fig:
        return self._update_axes("y", row, changes)

    def _update_axes(self, letter: str, row: int | None, changes: dict) -> Fig:
        names = [k for k in self.layout if re.fullmatch(f"{letter}axis\\d*", k)] or [
            f"{letter}axis"
        ]
        if row is not None:
            names = [f"{letter}axis" if row == 1 else f"{letter}axis{row}"]
        for name in names:
            _merge(self.layout.setdefault(name, {}), _nested(changes))
        return self

    def add_annotation(self, **annotation: Any) -> Fig:
        self.layout.setdefault("annotations", []).append(annotation)
        return self

    def add_vline(self, x: float, line: dict) -> Fig:
        shape = dict(type="line", x0=x, x1=x, xref="x", y0=0, y1=1, yref="paper", line=line)
        self.layout.setdefault("shapes", []).append(shape)
        return self


def _nested(changes: dict) -> dict:
    """plotly's "magic underscores" for the containers the builders use: xaxis_title_text ->
    {"xaxis": {"title": {"text": ...}}}."""
    out: dict = {}
    for key, value in changes.items():
        head, _, rest = key.partition("_")
        if rest and head in _CONTAINERS:
            _merge(out, {head: _nested({rest: value})})
        else:
            _merge(out, {key: value})
    return out


_CONTAINERS = {"xaxis", "yaxis", "title", "legend", "scene", "margin", "font", "coloraxis"}


def _merge(target: dict, changes: dict) -> None:
    """Deep update: nested dicts are merged, anything else replaced."""
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = dict(value) if isinstance(value, dict) else value


def _trace(kind: str):
    def make(**props: Any) -> dict:
        return {"type": kind, **props}  # None props are dropped on the way out (component.py)

    make.__name__ = kind
    make.__doc__ = f"A plotly {kind} trace as a dict."
    return make


scatter = _trace("scatter")
scatter3d = _trace("scatter3d")
heatmap = _trace("heatmap")
bar = _trace("bar")
histogram = _trace("histogram")


@functools.cache
def subplot_rows(rows: int, titles: tuple[str, ...], vertical_spacing: float) -> dict:
    """The layout plotly's make_subplots gives one column of `rows` panels (axis domains, titles),
    as a dict, made once per shape."""
    from plotly.subplots import make_subplots

    fig = make_subplots(
        rows=rows,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=vertical_spacing,
        subplot_titles=list(titles),
    )
    return fig.layout.to_plotly_json()


# ---- small helpers -------------------------------------------------------------------------------
def f32(values) -> np.ndarray:
    """float32 copy with inf turned into NaN (Plotly cannot draw inf)."""
    array = np.array(values, dtype=np.float64, copy=True)
    array[~np.isfinite(array)] = np.nan
    return array.astype(np.float32)


def positive(values) -> np.ndarray:
    """float32 for a log axis: non-positive and non-finite values become gaps."""
    array = f32(values)
    array[~(array > 0)] = np.nan
    return array


def i32(values) -> np.ndarray:
    return np.asarray(values, dtype=np.int32)


def fmt(value: float, digits: int = 3) -> str:
    """Number for titles and labels; never prints 'nan' or 'inf'."""
    return f"{value:.{digits}g}" if value is not None and math.isfinite(value) else "n/a"


def thin(count: int, cap: int) -> np.ndarray:
    """Indices of at most `cap` evenly spread items out of `count`, first and last included.

    Every stride-th item, the stride a power of two: as a run grows, the items kept stay the same
    until the stride doubles, so a live chart's next figure repeats most of the last one, which
    the websocket's compression (permessage-deflate) then sends as a back-reference. Evenly
    spread but shifting indices (linspace) cost 3-4x the bytes on the wire."""
    if count <= cap:
        return np.arange(count)
    stride = 1 << math.ceil(math.log2(count / max(cap - 1, 1)))
    keep = np.arange(0, count, stride)
    return keep if keep[-1] == count - 1 else np.append(keep, count - 1)


def clamp_example(probe: Probe, example: int) -> int:
    """A valid sequence index: the page's slider may outlive a smaller batch."""
    return int(min(max(example, 0), probe.hidden.shape[0] - 1))


def real_length(probe: Probe, example: int) -> int:
    return int(min(max(probe.lengths[example], 0), probe.hidden.shape[1]))


def cell_color(name: str, index: int) -> str:
    return CELL_COLORS.get(name, PALETTE[index % len(PALETTE)])


def cell_dash(name: str, index: int) -> str:
    return CELL_DASHES.get(name, DASHES[index % len(DASHES)])


def finish(
    fig: Fig, key: str, title: str, x_title: str, y_title: str, height: int = HEIGHT, **layout
) -> Fig:
    """The shared look: slim template, short title, axis titles, and zoom kept across redraws."""
    fig.update_layout(
        template=TEMPLATE_JSON,
        title=dict(text=title),
        height=height,
        uirevision=key,
        xaxis_title_text=x_title,
        yaxis_title_text=y_title,
    )
    fig.update_layout(**layout)  # after, so a builder can override any of the above
    return fig


def message_figure(key: str, title: str, message: str, x_title: str, y_title: str) -> Fig:
    """An empty chart with a sentence in the middle, for 'nothing to show yet'."""
    fig = Fig()
    fig.add_annotation(
        text=message, showarrow=False, xref="paper", yref="paper", x=0.5, y=0.5, font=dict(size=13)
    )
    fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False)
    fig.update_yaxes(showticklabels=False, showgrid=False, zeroline=False)
    return finish(fig, key, title, x_title, y_title)


def hline(
    x0: float,
    x1: float,
    y: float,
    name: str,
    color: str,
    yaxis: str = "y",
    hover: str = "",
    dash: str = "dash",
) -> dict:
    """A horizontal reference line as a two-point trace: it has a legend entry and works on log
    axes, where shapes would need log-transformed coordinates. `hover` explains it."""
    return scatter(
        x=np.array([x0, x1], dtype=np.float32),
        y=np.array([y, y], dtype=np.float32),
        mode="lines",
        name=name,
        yaxis=yaxis,
        line=dict(color=color, dash=dash, width=1.5),
        hovertemplate=f"{hover or name}<extra></extra>",
    )


def select_units(states: np.ndarray, cap: int) -> np.ndarray:
    """(L, H) -> indices of at most `cap` units, the ones that vary most over time, in order."""
    size = states.shape[1]
    if size <= cap:
        return np.arange(size)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an all-padding unit is expected
        variance = np.nanvar(states, axis=0)
    variance = np.nan_to_num(variance, nan=-1.0)
    return np.sort(np.argsort(-variance, kind="stable")[:cap])


def symmetric_limit(values: np.ndarray) -> float:
    """Colour range around zero: 1 for bounded (tanh-like) states, else the largest magnitude."""
    finite = np.abs(values[np.isfinite(values)])
    if finite.size == 0:
        return 1.0
    largest = float(finite.max())
    return 1.0 if largest <= 1.0 else largest


def unit_axis(units: np.ndarray, total: int) -> tuple[np.ndarray | list[str], dict, str]:
    """y values, axis settings and axis title for a units x time heatmap."""
    if len(units) == total:
        return i32(units), {}, "unit"
    # A subset: categories keep rows evenly spaced while the labels give the real unit numbers.
    return (
        [str(u) for u in units],
        dict(type="category"),
        f"unit ({len(units)} most active of {total})",
    )


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - np.max(logits, axis=-1, keepdims=True)
    weights = np.exp(shifted)
    return weights / weights.sum(axis=-1, keepdims=True)


def class_labels(meta: dict, count: int, keys: tuple[str, ...], prefix: str) -> list[str]:
    """Names for `count` classes from the first sequence of names in the task's meta under one of
    `keys` (a string counts as a sequence of characters), else prefix + number."""
    for key in keys:
        names = meta.get(key)
        if isinstance(names, str | list | tuple) or (
            isinstance(names, np.ndarray) and names.ndim == 1
        ):
            names = [str(name) for name in names]
            if len(names) >= count:
                return names
    return [f"{prefix}{k}" for k in range(count)]


def smooth_log(values: np.ndarray, at: np.ndarray | None = None) -> np.ndarray:
    """Trailing moving average of log10(values) over ~2% of the run, i.e. a geometric mean: on a
    log axis it tracks the typical loss, and one spike does not lift the curve for long.

    `at`: the indices wanted (a chart's thinned points); the window still spans every value, but
    only these are averaged, which halves a live loss chart's cost on a long run."""
    window = int(np.clip(len(values) // 50, 1, 200))
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.log10(values.astype(np.float64))
    finite = np.isfinite(logs)
    sums = np.concatenate([[0.0], np.cumsum(np.where(finite, logs, 0.0))])
    counts = np.concatenate([[0], np.cumsum(finite)])
    end = np.arange(1, len(values) + 1) if at is None else np.asarray(at) + 1
    start = np.maximum(end - window, 0)
    seen = counts[end] - counts[start]
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = (sums[end] - sums[start]) / seen
    return f32(np.where(seen > 0, 10.0**mean, np.nan))


def units_by_time(states: np.ndarray, units: np.ndarray, steps: np.ndarray) -> np.ndarray:
    """(L, H) states -> (units, steps) float32 grid for a heatmap."""
    return f32(states[np.ix_(steps, units)].T)
