"""Chart builders: pure functions from core objects (History, Probe, ProbeRecord, Task) to figures.

This module owns how the playground draws: one slim template, one colour per cell, the caption
under each chart (`CAPTIONS`, keyed by the builder's name without `_figure`), and the caps that
keep a figure's JSON small enough to redraw several times a second. No Streamlit here.

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

import math
import warnings

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core.probes import Probe
from core.tasks import Task
from core.trainer import History, ProbeRecord

MAX_HISTORY_POINTS = 1000  # per history trace; a 100k-step run still draws in ~10 KB per trace
MAX_SEQUENCE_POINTS = 400  # per trajectory trace (seq_len can be 400)
MAX_UNITS = 64  # rows of a units x time heatmap; larger layers show their most active units
MAX_HEATMAP_CELLS = 6400  # per heatmap panel; longer sequences are strided in time
MAX_GATE_UNITS = 32  # the gates chart has up to five panels: fewer rows keep it near 60 KB
MAX_GATE_CELLS = 8000  # over all gate panels together
MAX_RECORDS = 120  # training-step rows of the gradient-history heatmap
MAX_TEXT_STEPS = 60  # characters shown by the text task's prediction chart
MAX_EIGENVALUES = 1024  # per gate block
TINY = 1e-12  # floor for values on log axes: an exact zero gradient is drawn, not dropped

HEIGHT = 320

# Cell colours avoid the colours that carry meaning elsewhere: green = solved, red = validation or
# prediction, grey = baseline.
CELL_COLORS = {"rnn": "#1f77b4", "rnn_relu": "#17becf", "lstm": "#9467bd", "gru": "#ff7f0e"}
PALETTE = ("#1f77b4", "#ff7f0e", "#9467bd", "#17becf", "#8c564b", "#e377c2", "#bcbd22", "#2ca02c")
TRAIN_COLOR = "#1f77b4"
VAL_COLOR = "#d62728"
INPUT_COLOR = "#9aa5b1"
TARGET_COLOR = "#1b2a3a"
PREDICTION_COLOR = "#d62728"
BASELINE_COLOR = "#7b8794"
SOLVED_COLOR = "#2ca02c"
GATE_COLORS = {
    "hidden": "#1f77b4",
    "input": "#1f77b4",
    "forget": "#2ca02c",
    "cell_candidate": "#9467bd",
    "output": "#ff7f0e",
    "reset": "#d62728",
    "update": "#2ca02c",
    "candidate": "#9467bd",
}
LOG_AXIS = dict(type="log", exponentformat="power")  # 10⁻⁶, not "1μ"
DIVERGING = "RdBu_r"  # red positive, blue negative, white at zero
SEQUENTIAL = "Viridis"

# Sigmoid gates live in 0..1, tanh ones in -1..1; fixed ranges make frames comparable over training.
GATE_RANGES = {
    "input": (0.0, 1.0),
    "forget": (0.0, 1.0),
    "output": (0.0, 1.0),
    "reset": (0.0, 1.0),
    "update": (0.0, 1.0),
    "cell_candidate": (-1.0, 1.0),
    "candidate": (-1.0, 1.0),
}

_AXIS = dict(
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
        xaxis=_AXIS,
        yaxis=_AXIS,
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

CAPTIONS = {
    "loss": (
        "Training loss (thin: every step; bold: smoothed) and validation loss (dots) on a log "
        "scale. Watch it fall below the grey dashed line, the score of a trivial guess; the green "
        "dashed line, where shown, is where the task counts as solved."
    ),
    "metric": (
        "The task's own score on the validation set, with the trivial baseline and the solved "
        "threshold. A flat curve at the baseline means the network has not found the pattern yet."
    ),
    "prediction": (
        "What the network answers for one example of the probe batch, next to the right answer. "
        "Early in training the guesses hug the baseline; they sharpen as the loss falls."
    ),
    "rollout": (
        "The network forecasts beyond what it has seen by feeding its own guesses back in. "
        "Errors compound with every step, so the forecast drifts from the truth further out."
    ),
    "trajectory": (
        "Each line is one sequence's hidden state moving through time, flattened onto its main "
        "directions (PCA); colour is the time step. Sequences that need different answers should "
        "end in different places."
    ),
    "hidden_heatmap": (
        "Every hidden unit (rows) at every time step (columns) for one sequence. Units that stay "
        "the same colour for many steps are holding a memory."
    ),
    "grad_norm": (
        "How strongly the loss depends on the hidden state at each time step (log scale): "
        "backpropagation through time carries the error back from the end. A curve that drops "
        "by orders of magnitude towards early steps is a vanishing gradient; the orange line is "
        "the per-step factor, and below 1 it shrinks the signal at every step."
    ),
    "grad_history_heatmap": (
        "The gradient-per-time-step curve, one row per probe over training. Dark bands on the "
        "left mean early steps get almost no learning signal (vanishing); bright bands that grow "
        "mean exploding gradients."
    ),
    "gates": (
        "The gates for one sequence, units by time: 0 means closed, 1 means open. An LSTM that "
        "remembers keeps its forget gate near 1 and its input gate shut between the important steps."
    ),
    "spectrum": (
        "Eigenvalues of the recurrent weight matrix with the unit circle. Outside the circle, "
        "repeated multiplication tends to blow signals up; well inside it, they fade away."
    ),
    "spectral_radius": (
        "The largest eigenvalue magnitude of the recurrent weights over training. Far above 1 "
        "risks exploding gradients; far below 1 makes memories (and gradients) vanish quickly."
    ),
    "length_histogram": (
        "How long the sequences in the probe batch are. Shorter sequences are padded, and the "
        "padding is ignored by the loss and left out of every chart."
    ),
    "race_loss": (
        "Validation loss of each cell type trained on the same task and data (log scale). The "
        "cell that drops below the baseline first has the memory this task needs."
    ),
    "race_grad": (
        "Gradient per time step for each cell type. Gated cells (LSTM, GRU) usually keep the "
        "curve flatter, so early steps still receive a learning signal."
    ),
    "sweep": (
        "Final score of each cell as the memory demand grows. Where a curve crosses the dashed "
        "threshold is how far back that cell can remember."
    ),
}


# ---- small helpers -------------------------------------------------------------------------------
def _f32(values) -> np.ndarray:
    """float32 copy with inf turned into NaN (Plotly cannot draw inf)."""
    array = np.array(values, dtype=np.float64, copy=True)
    array[~np.isfinite(array)] = np.nan
    return array.astype(np.float32)


def _positive(values) -> np.ndarray:
    """float32 for a log axis: non-positive and non-finite values become gaps."""
    array = _f32(values)
    array[~(array > 0)] = np.nan
    return array


def _floored(values) -> np.ndarray:
    """float32 for a log axis where zero is meaningful: clip at TINY, keep NaN as a gap."""
    array = _f32(values)
    return np.where(np.isnan(array), np.nan, np.maximum(array, TINY)).astype(np.float32)


def _i32(values) -> np.ndarray:
    return np.asarray(values, dtype=np.int32)


def _fmt(value: float, digits: int = 3) -> str:
    """Number for titles and labels; never prints 'nan' or 'inf'."""
    return f"{value:.{digits}g}" if value is not None and math.isfinite(value) else "n/a"


def _thin(count: int, cap: int) -> np.ndarray:
    """Indices of at most `cap` evenly spread items out of `count`, first and last included."""
    if count <= cap:
        return np.arange(count)
    return np.unique(np.linspace(0, count - 1, cap).round().astype(np.int64))


def _example(probe: Probe, example: int) -> int:
    """A valid sequence index: the page's slider may outlive a smaller batch."""
    return int(min(max(example, 0), probe.hidden.shape[0] - 1))


def _real_length(probe: Probe, example: int) -> int:
    return int(min(max(probe.lengths[example], 0), probe.hidden.shape[1]))


def _cell_color(name: str, index: int) -> str:
    return CELL_COLORS.get(name, PALETTE[index % len(PALETTE)])


def _finish(
    fig: go.Figure, key: str, title: str, x_title: str, y_title: str, height: int = HEIGHT, **layout
) -> go.Figure:
    """The shared look: slim template, short title, axis titles, and zoom kept across redraws."""
    fig.update_layout(
        template=TEMPLATE,
        title=dict(text=title),
        height=height,
        uirevision=key,
        xaxis_title_text=x_title,
        yaxis_title_text=y_title,
    )
    fig.update_layout(**layout)  # after, so a builder can override any of the above
    return fig


def _message_figure(key: str, title: str, message: str, x_title: str, y_title: str) -> go.Figure:
    """An empty chart with a sentence in the middle, for 'nothing to show yet'."""
    fig = go.Figure()
    fig.add_annotation(
        text=message, showarrow=False, xref="paper", yref="paper", x=0.5, y=0.5, font=dict(size=13)
    )
    fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False)
    fig.update_yaxes(showticklabels=False, showgrid=False, zeroline=False)
    return _finish(fig, key, title, x_title, y_title)


def _hline(
    x0: float, x1: float, y: float, name: str, color: str, yaxis: str = "y", hover: str = ""
) -> go.Scatter:
    """A dashed horizontal reference line as a two-point trace: it has a legend entry and works on
    log axes, where shapes would need log-transformed coordinates. `hover` explains it."""
    return go.Scatter(
        x=np.array([x0, x1], dtype=np.float32),
        y=np.array([y, y], dtype=np.float32),
        mode="lines",
        name=name,
        yaxis=yaxis,
        line=dict(color=color, dash="dash", width=1.5),
        hovertemplate=f"{hover or name}<extra></extra>",
    )


def _select_units(states: np.ndarray, cap: int) -> np.ndarray:
    """(L, H) -> indices of at most `cap` units, the ones that vary most over time, in order."""
    size = states.shape[1]
    if size <= cap:
        return np.arange(size)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an all-padding unit is expected
        variance = np.nanvar(states, axis=0)
    variance = np.nan_to_num(variance, nan=-1.0)
    return np.sort(np.argsort(-variance, kind="stable")[:cap])


def _symmetric_limit(values: np.ndarray) -> float:
    """Colour range around zero: 1 for bounded (tanh-like) states, else the largest magnitude."""
    finite = np.abs(values[np.isfinite(values)])
    if finite.size == 0:
        return 1.0
    largest = float(finite.max())
    return 1.0 if largest <= 1.0 else largest


def _unit_axis(units: np.ndarray, total: int) -> tuple[np.ndarray | list[str], dict, str]:
    """y values, axis settings and axis title for a units x time heatmap."""
    if len(units) == total:
        return _i32(units), {}, "unit"
    # A subset: categories keep rows evenly spaced while the labels give the real unit numbers.
    return (
        [str(u) for u in units],
        dict(type="category"),
        f"unit ({len(units)} most active of {total})",
    )


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - np.max(logits, axis=-1, keepdims=True)
    weights = np.exp(shifted)
    return weights / weights.sum(axis=-1, keepdims=True)


def _labels(meta: dict, count: int, keys: tuple[str, ...], prefix: str) -> list[str]:
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


# ---- loss and metric -----------------------------------------------------------------------------
def metric_matches_loss(task: Task) -> bool:
    """True when the task's metric is its loss (MSE regression): then the baseline and solved lines
    go on the loss chart and a separate metric chart would repeat it."""
    return task.kind == "regression" and task.metric_name == "MSE"


def _smooth_log(values: np.ndarray) -> np.ndarray:
    """Trailing moving average of log10(values) over ~2% of the run, i.e. a geometric mean: on a
    log axis it tracks the typical loss, and one spike does not lift the curve for long."""
    window = int(np.clip(len(values) // 50, 1, 200))
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.log10(values.astype(np.float64))
    finite = np.isfinite(logs)
    sums = np.concatenate([[0.0], np.cumsum(np.where(finite, logs, 0.0))])
    counts = np.concatenate([[0], np.cumsum(finite)])
    end = np.arange(1, len(values) + 1)
    start = np.maximum(end - window, 0)
    seen = counts[end] - counts[start]
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = (sums[end] - sums[start]) / seen
    return _f32(np.where(seen > 0, 10.0**mean, np.nan))


def _reference_lines(task: Task, x0: float, x1: float, on_loss: bool) -> list[go.Scatter]:
    """Baseline and solved lines in the units of the chart they go on."""
    if on_loss and not metric_matches_loss(task):
        if task.kind == "classification" and task.output_size > 1:
            # Cross-entropy of a uniform guess over the classes: the loss of knowing nothing.
            chance = math.log(task.output_size)
            hover = f"loss of a uniform guess over {task.output_size} classes: {_fmt(chance)}"
            return [
                _hline(x0, x1, chance, f"uniform guess {_fmt(chance)}", BASELINE_COLOR, hover=hover)
            ]
        return []
    # Short legend names keep the legend to one row in a narrow column; the hover says more.
    relation = "≥" if task.higher_is_better else "≤"
    baseline, solved = task.baseline, task.solved_at
    lines = []
    for value, name, color, hover in (
        (
            baseline,
            f"baseline {_fmt(baseline)}",
            BASELINE_COLOR,
            f"baseline: {task.baseline_name} scores {_fmt(baseline)}",
        ),
        (
            solved,
            f"solved {relation} {_fmt(solved)}",
            SOLVED_COLOR,
            f"solved when {task.metric_name} {relation} {_fmt(solved)}",
        ),
    ):
        if value is not None and math.isfinite(value) and (value > 0 or not on_loss):
            lines.append(_hline(x0, x1, value, name, color, hover=hover))
    return lines


def loss_figure(history: History, task: Task) -> go.Figure:
    """Train loss (raw, thin, and smoothed) and validation loss per step, log y, with the task's
    baseline and solved lines when its metric is the loss (else a uniform-guess line for
    classification; show `metric_figure` for the accuracy lines)."""
    if len(history) == 0:
        return _message_figure(
            "loss", "Loss", "Press Train or Step to start.", "training step", "loss"
        )
    steps = history.column("step")
    train = _positive(history.column("train_loss"))
    smooth = _smooth_log(train)
    keep = _thin(len(steps), MAX_HISTORY_POINTS)
    val_steps, val_loss, _ = history.validations()
    keep_val = _thin(len(val_steps), MAX_HISTORY_POINTS)
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=_i32(steps[keep]),
            y=train[keep],
            name="train",
            mode="lines",
            line=dict(color=TRAIN_COLOR, width=1),
            opacity=0.35,
        )
    )
    fig.add_trace(
        go.Scatter(
            x=_i32(steps[keep]),
            y=smooth[keep],
            name="smoothed",
            mode="lines",
            line=dict(color=TRAIN_COLOR, width=2),
        )
    )
    fig.add_trace(
        go.Scatter(
            x=_i32(val_steps[keep_val]),
            y=_positive(val_loss[keep_val]),
            name="validation",
            mode="lines+markers",
            line=dict(color=VAL_COLOR, width=1.5),
            marker=dict(size=5),
        )
    )
    fig.add_traces(_reference_lines(task, 0.0, max(float(steps[-1]), 1.0), on_loss=True))
    return _finish(fig, "loss", "Loss", "training step", "loss (log scale)", yaxis=LOG_AXIS)


def metric_figure(history: History, task: Task) -> go.Figure:
    """Validation metric per step with the baseline and solved lines; log y for errors (lower is
    better), linear from zero for scores like accuracy."""
    title = f"Validation {task.metric_name}"
    steps, _, metric = history.validations()
    if len(steps) == 0:
        return _message_figure(
            "metric", title, "No validation yet.", "training step", task.metric_name
        )
    keep = _thin(len(steps), MAX_HISTORY_POINTS)
    log = not task.higher_is_better
    values = _positive(metric[keep]) if log else _f32(metric[keep])
    fig = go.Figure(
        go.Scatter(
            x=_i32(steps[keep]),
            y=values,
            name=task.metric_name,
            mode="lines+markers",
            line=dict(color=VAL_COLOR, width=1.5),
            marker=dict(size=5),
        )
    )
    fig.add_traces(_reference_lines(task, 0.0, max(float(steps[-1]), 1.0), on_loss=False))
    axis = dict(yaxis=LOG_AXIS) if log else dict(yaxis_rangemode="tozero")
    return _finish(fig, "metric", title, "training step", task.metric_name, **axis)


# ---- predictions ---------------------------------------------------------------------------------
def prediction_figure(probe: Probe, task: Task, example: int = 0) -> go.Figure:
    """The model's output for one sequence of the probe batch in the task's own form: next_number,
    sine and csv overlay the series with the guesses (in real units where the task scaled them);
    adding highlights the marked numbers and the final sum; copy shows symbol rows; text the next
    character guesses; speech the class probabilities. Unknown tasks get a generic overlay."""
    example = _example(probe, example)
    builder = _PREDICTION_BUILDERS.get(task.name)
    if builder is None:
        builder = _classification_overlay if task.kind == "classification" else _regression_overlay
    return builder(probe, task, example)


def _channel(array: np.ndarray, example: int, length: int) -> np.ndarray:
    """First channel of (N, L, C) or the (N, L) array itself, over the real steps."""
    values = array[example, :length]
    return values[:, 0] if values.ndim == 2 else values


def _per_example(value, example: int, default: float) -> float:
    """A meta entry that is either one number for the batch or one per sequence."""
    if value is None:
        return default
    array = np.asarray(value, dtype=np.float64)
    number = float(array.reshape(-1)[example] if array.ndim else array)
    return number if math.isfinite(number) else default


def _series(probe: Probe, example: int, length: int) -> tuple[np.ndarray, ...]:
    """(inputs, targets, predictions) of one sequence over its real steps, in real units when the
    task's meta has a scale and shift (real = value * scale + shift); unscored steps are NaN."""
    scale = _per_example(probe.meta.get("scale"), example, 1.0)
    shift = _per_example(probe.meta.get("shift"), example, 0.0)
    mask = probe.mask[example, :length].astype(bool)
    inputs = _channel(probe.inputs, example, length) * scale + shift
    targets = np.where(mask, _channel(probe.targets, example, length) * scale + shift, np.nan)
    guesses = np.where(mask, _channel(probe.predictions, example, length) * scale + shift, np.nan)
    return _f32(inputs), _f32(targets), _f32(guesses)


def _overlay(
    steps: np.ndarray,
    series: tuple[np.ndarray, ...],
    shift: int,
    sparse: bool,
    names: tuple[str, str, str] = ("input", "target", "prediction"),
) -> go.Figure:
    """Input line, target and prediction; `shift` moves targets and predictions to the step whose
    value they are (1 for next-value tasks)."""
    inputs, targets, guesses = series
    mode = "markers" if sparse else "lines+markers"
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=_i32(steps),
            y=inputs,
            name=names[0],
            mode="lines+markers",
            line=dict(color=INPUT_COLOR, width=1.5),
            marker=dict(size=4),
        )
    )
    for values, name, color, dash, symbol in (
        (targets, names[1], TARGET_COLOR, "solid", "circle-open"),
        (guesses, names[2], PREDICTION_COLOR, "dot", "diamond"),
    ):
        fig.add_trace(
            go.Scatter(
                x=_i32(steps + shift),
                y=values,
                name=name,
                mode=mode,
                line=dict(color=color, width=1.5, dash=dash),
                marker=dict(size=7, symbol=symbol),
            )
        )
    return fig


def _regression_overlay(probe: Probe, task: Task, example: int) -> go.Figure:
    """Generic regression: input, target and prediction at the step where each is given."""
    length = _real_length(probe, example)
    scored = int(probe.mask[example, :length].sum())
    # Few scored steps (one answer at the end) read better as dots than as a broken line.
    sparse = scored <= max(3, length // 5)
    fig = _overlay(np.arange(length), _series(probe, example, length), 0, sparse)
    return _finish(fig, "prediction", f"Prediction, sequence {example}", "time step", "value")


def _next_value_prediction(probe: Probe, task: Task, example: int) -> go.Figure:
    """next_number, sine, csv: target t is the value at step t+1, so targets and guesses are drawn
    at t+1, on top of the series they predict; real units (the task's scale and shift undone)."""
    length = _real_length(probe, example)
    series = _series(probe, example, length)
    _, targets, guesses = series
    if task.name == "next_number":
        names, y_title = ("numbers", "next number", "network's guess"), "number"
    else:
        names = (
            "input",
            "next value (clean)" if task.name == "sine" else "next value",
            "prediction",
        )
        y_title = str(getattr(task, "column_name", "value"))
    fig = _overlay(np.arange(length), series, 1, sparse=length <= 3, names=names)
    answered = np.flatnonzero(np.isfinite(guesses) & np.isfinite(targets))
    title = f"Sequence {example}"
    if answered.size and task.name == "next_number":
        last = answered[-1]
        title += (
            f": next is {_fmt(float(targets[last]), 4)}, "
            f"network says {_fmt(float(guesses[last]), 4)}"
        )
    elif answered.size:
        error = float(np.mean((guesses[answered] - targets[answered]) ** 2))
        title += f": mean squared error {_fmt(error)}"
    return _finish(fig, "prediction", title, "time step", y_title)


def _answer_step(probe: Probe, example: int, length: int) -> int:
    """The last scored step of a sequence (where a one-answer task asks for its answer)."""
    scored = np.flatnonzero(probe.mask[example, :length])
    return int(scored[-1]) if scored.size else max(length - 1, 0)


def _adding_prediction(probe: Probe, task: Task, example: int) -> go.Figure:
    """The numbers, the two marked ones highlighted, and the final target next to the guess."""
    length = _real_length(probe, example)
    steps = np.arange(length)
    values = _f32(probe.inputs[example, :length, 0])
    marked = probe.inputs[example, :length, 1] > 0.5
    answer = _answer_step(probe, example, length)
    target = float(probe.targets[example, answer, 0])
    guess = float(probe.predictions[example, answer, 0])
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=_i32(steps),
            y=values,
            name="numbers",
            mode="markers",
            marker=dict(color=INPUT_COLOR, size=5),
        )
    )
    fig.add_trace(
        go.Scatter(
            x=_i32(steps[marked]),
            y=values[marked],
            name="marked",
            mode="markers",
            marker=dict(color="#ff7f0e", size=11, symbol="circle-open", line=dict(width=2.5)),
        )
    )
    for value, name, color, symbol in (
        (target, "target sum", TARGET_COLOR, "star"),
        (guess, "prediction", PREDICTION_COLOR, "diamond"),
    ):
        fig.add_trace(
            go.Scatter(
                x=_i32([answer]),
                y=_f32([value]),
                name=f"{name} {_fmt(value, 3)}",
                mode="markers",
                marker=dict(color=color, size=13, symbol=symbol),
            )
        )
    title = f"Sequence {example}: sum {_fmt(target)}, predicted {_fmt(guess)}"
    return _finish(fig, "prediction", title, "time step", "value")


def _copy_prediction(probe: Probe, task: Task, example: int) -> go.Figure:
    """Three symbol rows over time: input (symbols, then ▶ for go), target and prediction on the
    recall steps; a wrong guess is marked ✗. Symbols are letters, blank is '·'."""
    length = _real_length(probe, example)
    steps = np.arange(length)
    alphabet = int(getattr(task, "alphabet", probe.predictions.shape[-1] - 1))
    names = [chr(ord("A") + k) if k < 26 else str(k) for k in range(alphabet)] + ["·", "▶"]
    inputs = probe.inputs[example, :length]
    input_row = np.where(inputs.max(axis=-1) > 0.5, inputs.argmax(axis=-1), alphabet)
    mask = probe.mask[example, :length].astype(bool)
    target_row = probe.targets[example, :length].astype(np.int64)
    guess_row = probe.predictions[example, :length].argmax(axis=-1)
    rows = np.stack([input_row, np.where(mask, target_row, -1), np.where(mask, guess_row, -1)])
    text = [
        ["" if s < 0 or s == alphabet else names[min(s, len(names) - 1)] for s in r] for r in rows
    ]
    wrong = mask & (guess_row != target_row)
    for step in np.flatnonzero(wrong):
        text[2][step] = names[min(guess_row[step], len(names) - 1)] + " ✗"
    # Colour only real symbols; blank, go and unscored cells stay white.
    z = np.where((rows >= 0) & (rows < alphabet), rows, np.nan).astype(np.float32)
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=_i32(steps),
            y=["input", "target", "predicted"],
            text=text,
            texttemplate="%{text}",
            zmin=0,
            zmax=max(alphabet - 1, 1),
            colorscale="Turbo",
            showscale=False,
            hovertemplate="t=%{x} %{y}: %{text}<extra></extra>",
            xgap=1,
            ygap=3,
        )
    )
    accuracy = float((guess_row == target_row)[mask].mean()) if mask.any() else math.nan
    title = f"Copy, sequence {example}: {_fmt(100 * accuracy, 3)}% recalled"
    fig = _finish(fig, "prediction", title, "time step", "", height=260)
    fig.update_yaxes(autorange="reversed", showgrid=False)
    fig.update_xaxes(showgrid=False)
    return fig


def _visible_char(char: str) -> str:
    return {" ": "␣", "\n": "↵", "\t": "⇥"}.get(char, char)


def _text_prediction(probe: Probe, task: Task, example: int) -> go.Figure:
    """Per step (the last MAX_TEXT_STEPS): the true next character (axis labels), the model's
    guess (bar text) and the probability it gave the guess (bar height); green right, red wrong."""
    length = _real_length(probe, example)
    scored = np.flatnonzero(probe.mask[example, :length])[-MAX_TEXT_STEPS:]
    probs = _softmax(probe.predictions[example, scored].astype(np.float64))
    guess = probs.argmax(axis=-1)
    target = probe.targets[example, scored].astype(np.int64)
    vocabulary = getattr(task, "vocabulary", None)
    if vocabulary is None or len(vocabulary) < probs.shape[-1]:
        vocabulary = _labels(probe.meta, probs.shape[-1], ("vocabulary", "vocab", "chars"), "#")
    chars = [_visible_char(c) for c in vocabulary]
    right = guess == target
    fig = go.Figure(
        go.Bar(
            x=_i32(scored),
            y=_f32(probs[np.arange(len(scored)), guess]),
            text=[chars[g] for g in guess],
            textposition="outside",
            marker=dict(color=np.where(right, SOLVED_COLOR, PREDICTION_COLOR)),
            customdata=[chars[t] for t in target],
            hovertemplate="t=%{x}: guess %{text} (p=%{y:.2f}), true %{customdata}<extra></extra>",
            name="guess",
        )
    )
    fig.update_xaxes(tickmode="array", tickvals=_i32(scored), ticktext=[chars[t] for t in target])
    accuracy = float(right.mean()) if len(right) else math.nan
    title = f"Next character, sequence {example}: {_fmt(100 * accuracy, 3)}% right"
    x_title = "true next character (bars: the guess, green when right)"
    fig = _finish(fig, "prediction", title, x_title, "probability of the guess")
    fig.update_yaxes(range=[0, 1.15])
    return fig


def _speech_prediction(probe: Probe, task: Task, example: int) -> go.Figure:
    """Class probabilities at the last real step, the true class in green."""
    length = _real_length(probe, example)
    answer = _answer_step(probe, example, length)
    probs = _softmax(probe.predictions[example, answer].astype(np.float64))
    truth = int(probe.targets[example, answer])
    names = _labels(probe.meta, len(probs), ("class_names", "words", "labels"), "class ")
    names = names[: len(probs)]
    guess = int(probs.argmax())
    colors = np.full(len(probs), INPUT_COLOR, dtype=object)
    colors[guess] = PREDICTION_COLOR  # a wrong guess shows red, unless the true word paints it over
    colors[truth] = SOLVED_COLOR
    fig = go.Figure(
        go.Bar(
            x=names,
            y=_f32(probs),
            marker=dict(color=colors),
            name="probability",
            hovertemplate="%{x}: %{y:.2f}<extra></extra>",
        )
    )
    verdict = "right" if guess == truth else "wrong"
    title = f"Sequence {example}: said {names[truth]}, heard {names[guess]} ({verdict})"
    fig = _finish(
        fig, "prediction", title, "word (green: the one said; red: a wrong guess)", "probability"
    )
    fig.update_yaxes(range=[0, 1.05])
    return fig


def _classification_overlay(probe: Probe, task: Task, example: int) -> go.Figure:
    """Fallback for classification: target class and the model's guess on each scored step."""
    length = _real_length(probe, example)
    scored = np.flatnonzero(probe.mask[example, :length])
    guess = probe.predictions[example, scored].argmax(axis=-1)
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=_i32(scored),
            y=_i32(probe.targets[example, scored]),
            name="target",
            mode="markers",
            marker=dict(color=TARGET_COLOR, size=9),
        )
    )
    fig.add_trace(
        go.Scatter(
            x=_i32(scored),
            y=_i32(guess),
            name="prediction",
            mode="markers",
            marker=dict(color=PREDICTION_COLOR, size=9, symbol="x"),
        )
    )
    return _finish(fig, "prediction", f"Prediction, sequence {example}", "time step", "class")


_PREDICTION_BUILDERS = {
    "next_number": _next_value_prediction,
    "sine": _next_value_prediction,
    "csv": _next_value_prediction,
    "adding": _adding_prediction,
    "copy": _copy_prediction,
    "text": _text_prediction,
    "speech": _speech_prediction,
}


def rollout_figure(
    context: np.ndarray,
    forecast: np.ndarray,
    truth: np.ndarray | None = None,
    y_title: str = "value",
) -> go.Figure:
    """The seen context, the model's free-running forecast after it, and the true continuation
    (NaN past the data's end is a gap). Arrays are 1-D (or (T, 1)), all in the same units; steps
    are counted from the start of the context."""
    context = _f32(np.ravel(context))
    forecast = _f32(np.ravel(forecast))
    start = len(context)
    ahead = np.arange(start, start + len(forecast))
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=_i32(np.arange(start)),
            y=context,
            name="context",
            mode="lines",
            line=dict(color=INPUT_COLOR, width=2),
        )
    )
    if truth is not None:
        truth = _f32(np.ravel(truth))
        fig.add_trace(
            go.Scatter(
                x=_i32(np.arange(start, start + len(truth))),
                y=truth,
                name="truth",
                mode="lines",
                line=dict(color=TARGET_COLOR, width=2),
            )
        )
    # Start the forecast line at the last seen value so it visibly continues the context.
    joint_x = np.concatenate([[start - 1], ahead]) if start else ahead
    joint_y = np.concatenate([context[-1:], forecast]) if start else forecast
    fig.add_trace(
        go.Scatter(
            x=_i32(joint_x),
            y=_f32(joint_y),
            name="forecast",
            mode="lines+markers",
            line=dict(color=PREDICTION_COLOR, width=2, dash="dot"),
            marker=dict(size=5),
        )
    )
    if start:
        fig.add_vline(x=start - 0.5, line=dict(color=BASELINE_COLOR, dash="dot", width=1))
    title = f"Forecast, {len(forecast)} steps ahead"
    return _finish(fig, "rollout", title, "time step", y_title)


# ---- hidden state --------------------------------------------------------------------------------
def _pca(rows: np.ndarray, dims: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(components (H, dims), explained variance % (dims,), mean (H,)) of the rows (M, H).
    Missing directions (H or rank below dims) are zero columns with 0%."""
    mean = rows.mean(axis=0)
    fit = rows[_thin(len(rows), 4000)] - mean  # a spread subset bounds the SVD's cost
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


def trajectory_figure(probe: Probe, dims: int = 2) -> go.Figure:
    """Hidden states of every sequence projected on the first 2 (or 3) principal components,
    fitted over all real steps of the probe batch; one line per sequence, markers coloured by
    time step on one shared colour bar; each line stops where its sequence ends."""
    dims = 3 if dims == 3 else 2
    hidden = probe.hidden.astype(np.float64)
    count, length, size = hidden.shape
    flat = hidden.reshape(-1, size)
    real = np.isfinite(flat).all(axis=1)
    if not real.any():
        return _message_figure(
            "trajectory", "Hidden-state trajectories", "No real steps.", "PC1", "PC2"
        )
    components, explained, mean = _pca(flat[real], dims)
    titles = [f"PC{k + 1} ({explained[k]:.0f}%)" for k in range(dims)]
    fig = go.Figure()
    for index in range(count):
        steps = np.flatnonzero(np.isfinite(hidden[index]).all(axis=1))
        steps = steps[_thin(len(steps), MAX_SEQUENCE_POINTS)]
        coords = _f32((hidden[index, steps] - mean) @ components)
        common = dict(
            mode="lines+markers",
            name=f"sequence {index}",
            showlegend=False,
            # WebGL (3D) lines ignore alpha, so they get a solid light grey instead.
            line=dict(color="#c3cad4" if dims == 3 else "rgba(90,100,120,0.35)", width=1.5),
            marker=dict(color=_i32(steps), coloraxis="coloraxis", size=2.5 if dims == 3 else 6),
            hovertemplate=f"sequence {index}, t=%{{marker.color}}<extra></extra>",
        )
        if dims == 3:
            fig.add_trace(go.Scatter3d(x=coords[:, 0], y=coords[:, 1], z=coords[:, 2], **common))
        else:
            fig.add_trace(go.Scatter(x=coords[:, 0], y=coords[:, 1], **common))
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
        return _finish(fig, "trajectory", title, titles[0], titles[1], height=420)
    return _finish(fig, "trajectory", title, titles[0], titles[1])


def _units_by_time(states: np.ndarray, units: np.ndarray, steps: np.ndarray) -> np.ndarray:
    """(L, H) states -> (units, steps) float32 grid for a heatmap."""
    return _f32(states[np.ix_(steps, units)].T)


def hidden_heatmap(probe: Probe, example: int = 0) -> go.Figure:
    """h_t of one sequence as units x time, diverging colours centred on 0; the range is -1..1 for
    tanh-bounded cells and the largest magnitude otherwise (ReLU)."""
    example = _example(probe, example)
    length = _real_length(probe, example)
    states = probe.hidden[example, :length]
    units = _select_units(states, MAX_UNITS)
    steps = _thin(length, max(MAX_HEATMAP_CELLS // max(len(units), 1), 2))
    z = _units_by_time(states, units, steps)
    limit = _symmetric_limit(z)
    y, axis, y_title = _unit_axis(units, states.shape[1])
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=_i32(steps),
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
    return _finish(fig, "hidden_heatmap", f"Hidden state, sequence {example}", "time step", y_title)


# ---- gradients -----------------------------------------------------------------------------------
def grad_norm_figure(probe: Probe) -> go.Figure:
    """‖∂L/∂h_t‖ per time step (log y), ‖∂L/∂c_t‖ for LSTM, and the per-step Jacobian norm
    ‖∂s_{t+1}/∂s_t‖ on a right-hand log axis (drawn between t and t+1) with a dashed line at 1."""
    steps = _i32(np.arange(len(probe.grad_norm)))
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=steps,
            y=_floored(probe.grad_norm),
            name="‖∂L/∂h<sub>t</sub>‖",
            mode="lines+markers",
            line=dict(color=TRAIN_COLOR, width=2),
            marker=dict(size=4),
        )
    )
    if probe.grad_norm_cell is not None:
        fig.add_trace(
            go.Scatter(
                x=steps,
                y=_floored(probe.grad_norm_cell),
                name="‖∂L/∂c<sub>t</sub>‖",
                mode="lines",
                line=dict(color=GATE_COLORS["forget"], width=2),
            )
        )
    layout = {}
    if probe.jacobian_norm is not None and len(probe.jacobian_norm):
        between = np.arange(len(probe.jacobian_norm), dtype=np.float32) + 0.5
        fig.add_trace(
            go.Scatter(
                x=between,
                y=_floored(probe.jacobian_norm),
                name="per-step factor",
                mode="lines",
                yaxis="y2",
                line=dict(color="#ff7f0e", width=1.5),
            )
        )
        fig.add_trace(_hline(0.0, float(len(steps) - 1), 1.0, "factor = 1", "#ff7f0e", "y2"))
        # Linear from zero: factors below 1 (vanishing) and above 1 (exploding) both stay readable.
        layout["yaxis2"] = dict(
            title=dict(text="per-step factor ‖∂s<sub>t+1</sub>/∂s<sub>t</sub>‖"),
            overlaying="y",
            side="right",
            rangemode="tozero",
            tickmode="auto",  # not synced to the left axis' ticks, which gives values like 1.016
            showgrid=False,
        )
    title, y_title = "Gradient per time step", "‖∂L/∂h<sub>t</sub>‖ (log scale)"
    return _finish(fig, "grad_norm", title, "time step t", y_title, yaxis=LOG_AXIS, **layout)


def grad_history_heatmap(probe_log: list[ProbeRecord]) -> go.Figure:
    """log10 ‖∂L/∂h_t‖ as time step (x) by training step (y), one row per probe record; records of
    different lengths are padded with NaN (drawn as gaps)."""
    x_title, y_title = "time step t", "training step"
    if not probe_log:
        return _message_figure(
            "grad_history_heatmap", "Gradient over training", "No probes yet.", x_title, y_title
        )
    records = [probe_log[i] for i in _thin(len(probe_log), MAX_RECORDS)]
    width = max(len(r.grad_norm) for r in records)
    grid = np.full((len(records), width), np.nan)
    for row, record in enumerate(records):
        grid[row, : len(record.grad_norm)] = record.grad_norm
    columns = _thin(width, max(MAX_HEATMAP_CELLS * 2 // len(records), 2))
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.log10(_floored(grid[:, columns]))
    finite = logs[np.isfinite(logs)]
    # At most ten decades of colour, so one exact-zero gradient does not wash out the rest.
    top = float(finite.max()) if finite.size else 0.0
    bottom = max(float(finite.min()), top - 10) if finite.size else -1.0
    fig = go.Figure(
        go.Heatmap(
            z=_f32(logs),
            x=_i32(columns),
            y=_i32([r.step for r in records]),
            zmin=bottom,
            zmax=max(top, bottom + 1e-6),
            colorscale=SEQUENTIAL,
            colorbar=dict(title=dict(text="log<sub>10</sub> ‖∂L/∂h<sub>t</sub>‖"), thickness=12),
            hovertemplate="t=%{x}, step %{y}: 10^%{z:.1f}<extra></extra>",
        )
    )
    fig.update_xaxes(showgrid=False)
    fig.update_yaxes(showgrid=False)
    return _finish(fig, "grad_history_heatmap", "Gradient over training", x_title, y_title)


# ---- gates ---------------------------------------------------------------------------------------
def _colorbar_at(fig: go.Figure, row: int) -> dict:
    """A colour bar beside subplot `row` (1-based); the subplot titles say what it measures."""
    axis = fig.layout["yaxis" if row == 1 else f"yaxis{row}"]
    low, high = axis.domain
    return dict(y=(low + high) / 2, len=high - low, thickness=10)


def gates_figure(probe: Probe, example: int = 0) -> go.Figure:
    """One units x time heatmap per gate of one sequence (LSTM input, forget, cell_candidate,
    output, plus the cell state; GRU reset, update, candidate). Sigmoid gates use 0..1, tanh ones
    -1..1, the cell state a symmetric range around 0. Vanilla RNN: a figure that says so."""
    if not probe.gates:
        return _message_figure("gates", "Gates", "vanilla RNN has no gates", "time step", "unit")
    example = _example(probe, example)
    length = _real_length(probe, example)
    panels = list(probe.gates.items())
    if probe.cell is not None:
        panels.append(("cell state", probe.cell))
    size = probe.hidden.shape[2]
    units = _select_units(probe.hidden[example, :length], MAX_GATE_UNITS)  # same rows everywhere
    steps = _thin(length, max(MAX_GATE_CELLS // (len(panels) * max(len(units), 1)), 2))
    y, axis, _ = _unit_axis(units, size)
    fig = make_subplots(
        rows=len(panels),
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.06,
        subplot_titles=[name.replace("_", " ") for name, _ in panels],
    )
    coloraxes: dict[str, dict] = {}
    for row, (name, values) in enumerate(panels, start=1):
        z = _units_by_time(values[example, :length], units, steps)
        low, high = GATE_RANGES.get(name, (None, None))
        if low is None:
            limit = _symmetric_limit(z)
            low, high, scale, key = -limit, limit, DIVERGING, "coloraxis3"
        elif low == 0:
            scale, key = SEQUENTIAL, "coloraxis"
        else:
            scale, key = DIVERGING, "coloraxis2"
        if key not in coloraxes:
            bar = _colorbar_at(fig, row)
            coloraxes[key] = dict(colorscale=scale, cmin=low, cmax=high, colorbar=bar)
        fig.add_trace(
            go.Heatmap(
                z=z,
                x=_i32(steps),
                y=y,
                coloraxis=key,
                name=name,
                hovertemplate=f"{name} t=%{{x}} unit %{{y}}: %{{z:.2f}}<extra></extra>",
            ),
            row=row,
            col=1,
        )
    fig.update_layout(**coloraxes)
    fig.update_yaxes(showgrid=False, **axis)
    fig.update_xaxes(showgrid=False)
    for annotation in fig.layout.annotations:
        annotation.font = dict(size=12)
    title = f"Gates, sequence {example}"
    if len(units) < size:
        title += f" ({len(units)} most active of {size} units)"
    fig = _finish(fig, "gates", title, "", "unit", height=90 + 120 * len(panels))
    fig.update_yaxes(title_text="unit")
    fig.update_xaxes(title_text="time step", row=len(panels), col=1)
    return fig


# ---- recurrent weights ---------------------------------------------------------------------------
def spectrum_figure(probe: Probe) -> go.Figure:
    """Eigenvalues of each recurrent gate block on the complex plane, with the unit circle."""
    angle = np.linspace(0, 2 * np.pi, 97)
    fig = go.Figure(
        go.Scatter(
            x=_f32(np.cos(angle)),
            y=_f32(np.sin(angle)),
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
            go.Scatter(
                x=_f32(values.real),
                y=_f32(values.imag),
                name=name.replace("_", " "),
                mode="markers",
                marker=dict(
                    color=GATE_COLORS.get(name, PALETTE[index % len(PALETTE)]), size=6, opacity=0.75
                ),
            )
        )
    limit = 1.1 * reach
    title = f"Recurrent eigenvalues (spectral radius {_fmt(_spectral_radius(probe), 3)})"
    fig = _finish(fig, "spectrum", title, "real part", "imaginary part", height=360)
    fig.update_xaxes(range=[-limit, limit], zeroline=True)
    fig.update_yaxes(range=[-limit, limit], scaleanchor="x", scaleratio=1, zeroline=True)
    return fig


def _spectral_radius(probe: Probe) -> float:
    magnitudes = [np.abs(np.asarray(v)) for v in probe.spectrum.values() if np.size(v)]
    finite = [m[np.isfinite(m)] for m in magnitudes]
    finite = [m for m in finite if m.size]
    return float(max(m.max() for m in finite)) if finite else math.nan


def spectral_radius_figure(probe_log: list[ProbeRecord]) -> go.Figure:
    """The recurrent weights' spectral radius at each probe over training, with a dashed line at 1."""
    title, x_title, y_title = "Spectral radius over training", "training step", "spectral radius"
    if not probe_log:
        return _message_figure("spectral_radius", title, "No probes yet.", x_title, y_title)
    records = [probe_log[i] for i in _thin(len(probe_log), MAX_HISTORY_POINTS)]
    steps = np.array([r.step for r in records])
    fig = go.Figure(
        go.Scatter(
            x=_i32(steps),
            y=_f32([r.spectral_radius for r in records]),
            name="spectral radius",
            mode="lines+markers",
            line=dict(color=TRAIN_COLOR, width=2),
            marker=dict(size=4),
        )
    )
    fig.add_trace(
        _hline(
            float(steps[0]),
            max(float(steps[-1]), float(steps[0]) + 1),
            1.0,
            "radius 1",
            BASELINE_COLOR,
        )
    )
    return _finish(fig, "spectral_radius", title, x_title, y_title, yaxis_rangemode="tozero")


# ---- batch shape ---------------------------------------------------------------------------------
def length_histogram(probe: Probe) -> go.Figure:
    """How many sequences of the probe batch have each length."""
    lengths = _i32(probe.lengths)
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
    fig = go.Figure(
        go.Histogram(
            x=lengths,
            xbins=dict(start=start, size=width),
            name="sequences",
            marker=dict(color=TRAIN_COLOR),
            opacity=0.8,
        )
    )
    return _finish(fig, "length_histogram", title, "length (steps)", "sequences", bargap=0.1)


# ---- comparing cells -----------------------------------------------------------------------------
def race_loss_figure(histories: dict[str, History], task: Task) -> go.Figure:
    """Each cell's validation loss (line) and smoothed training loss (faint), one colour per cell."""
    title, x_title, y_title = "Loss by cell", "training step", "loss (log scale)"
    if not any(len(h) for h in histories.values()):
        return _message_figure(
            "race_loss", title, "Press Train or Step to start.", x_title, y_title
        )
    fig = go.Figure()
    last = 1.0
    cap = MAX_HISTORY_POINTS // 2  # several cells share one figure's budget
    for index, (name, history) in enumerate(histories.items()):
        if not len(history):
            continue
        color = _cell_color(name, index)
        steps = history.column("step")
        last = max(last, float(steps[-1]))
        keep = _thin(len(steps), cap)
        smooth = _smooth_log(_positive(history.column("train_loss")))
        fig.add_trace(
            go.Scatter(
                x=_i32(steps[keep]),
                y=smooth[keep],
                name=f"{name} train",
                legendgroup=name,
                showlegend=False,
                mode="lines",
                line=dict(color=color, width=1),
                opacity=0.4,
            )
        )
        val_steps, val_loss, _ = history.validations()
        keep_val = _thin(len(val_steps), cap)
        fig.add_trace(
            go.Scatter(
                x=_i32(val_steps[keep_val]),
                y=_positive(val_loss[keep_val]),
                name=name,
                legendgroup=name,
                mode="lines+markers",
                line=dict(color=color, width=2),
                marker=dict(size=4),
            )
        )
    fig.add_traces(_reference_lines(task, 0.0, last, on_loss=True))
    return _finish(fig, "race_loss", title, x_title, y_title, yaxis=LOG_AXIS, showlegend=True)


def race_grad_figure(probes: dict[str, Probe]) -> go.Figure:
    """‖∂L/∂h_t‖ per time step for each cell, log y."""
    fig = go.Figure()
    for index, (name, probe) in enumerate(probes.items()):
        fig.add_trace(
            go.Scatter(
                x=_i32(np.arange(len(probe.grad_norm))),
                y=_floored(probe.grad_norm),
                name=name,
                mode="lines",
                line=dict(color=_cell_color(name, index), width=2),
            )
        )
    return _finish(
        fig,
        "race_grad",
        "Gradient per time step by cell",
        "time step t",
        "‖∂L/∂h<sub>t</sub>‖ (log scale)",
        yaxis=LOG_AXIS,
        showlegend=True,
    )


def sweep_figure(
    results: dict[str, list[tuple[float, float]]],
    x_label: str,
    y_label: str,
    threshold: float | None = None,
) -> go.Figure:
    """Score against memory demand (lag, length) per cell, points sorted by x, optional dashed
    threshold."""
    fig = go.Figure()
    xs: list[float] = []
    for index, (name, points) in enumerate(results.items()):
        pairs = np.array(sorted(points), dtype=np.float64).reshape(-1, 2)
        xs.extend(pairs[:, 0][np.isfinite(pairs[:, 0])])
        fig.add_trace(
            go.Scatter(
                x=_f32(pairs[:, 0]),
                y=_f32(pairs[:, 1]),
                name=name,
                mode="lines+markers",
                line=dict(color=_cell_color(name, index), width=2),
                marker=dict(size=7),
            )
        )
    if threshold is not None and math.isfinite(threshold) and xs:
        fig.add_trace(
            _hline(min(xs), max(xs), threshold, f"threshold {_fmt(threshold)}", SOLVED_COLOR)
        )
    title = f"{y_label} by {x_label}"
    return _finish(fig, "sweep", title[:1].upper() + title[1:], x_label, y_label)
