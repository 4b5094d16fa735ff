"""What the model answers: one builder per task kind (a task names its kind in
`Task.prediction_chart`), and the free-running forecast."""

from __future__ import annotations

import math

import numpy as np

from core.forecast import Forecast
from core.probes import Probe
from core.tasks import Task
from playground.charts.style import (
    BASELINE_COLOR,
    INPUT_COLOR,
    MAX_TEXT_STEPS,
    PALETTE,
    PREDICTION_COLOR,
    SOLVED_COLOR,
    TARGET_COLOR,
    Fig,
    bar,
    clamp_example,
    class_labels,
    f32,
    finish,
    fmt,
    heatmap,
    i32,
    real_length,
    scatter,
    softmax,
)


# ---- predictions ---------------------------------------------------------------------------------
def prediction_figure(probe: Probe, task: Task, example: int = 0) -> Fig:
    """The model's output for one sequence of the probe batch in the task's own form: next_number,
    sine and csv overlay the series with the guesses (in real units where the task scaled them);
    adding highlights the marked numbers and the final sum; copy shows symbol rows; text the next
    character guesses; speech the class probabilities; sentiment the running verdict across the
    words. Unknown tasks get a generic overlay."""
    example = clamp_example(probe, example)
    builder = _PREDICTION_BUILDERS.get(task.prediction_chart)
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
    return f32(inputs), f32(targets), f32(guesses)


def _overlay(
    steps: np.ndarray,
    series: tuple[np.ndarray, ...],
    shift: int,
    sparse: bool,
    names: tuple[str, str, str] = ("input", "target", "prediction"),
) -> Fig:
    """Input line, target and prediction; `shift` moves targets and predictions to the step whose
    value they are (1 for next-value tasks)."""
    inputs, targets, guesses = series
    mode = "markers" if sparse else "lines+markers"
    fig = Fig()
    fig.add_trace(
        scatter(
            x=i32(steps),
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
            scatter(
                x=i32(steps + shift),
                y=values,
                name=name,
                mode=mode,
                line=dict(color=color, width=1.5, dash=dash),
                marker=dict(size=7, symbol=symbol),
            )
        )
    return fig


def _regression_overlay(probe: Probe, task: Task, example: int) -> Fig:
    """Generic regression: input, target and prediction at the step where each is given."""
    length = real_length(probe, example)
    scored = int(probe.mask[example, :length].sum())
    # Few scored steps (one answer at the end) read better as dots than as a broken line.
    sparse = scored <= max(3, length // 5)
    fig = _overlay(np.arange(length), _series(probe, example, length), 0, sparse)
    return finish(fig, "prediction", f"Prediction, sequence {example}", "time step", "value")


def _next_value_prediction(probe: Probe, task: Task, example: int) -> Fig:
    """Next-value tasks (next_number, sine, csv): target t is the value at step t+1, so targets and guesses are drawn
    at t+1, on top of the series they predict; real units (the task's scale and shift undone)."""
    length = real_length(probe, example)
    series = _series(probe, example, length)
    _, targets, guesses = series
    names = task.series_names
    y_title = str(getattr(task, "column_name", names[0]))
    fig = _overlay(np.arange(length), series, 1, sparse=length <= 3, names=names)
    answered = np.flatnonzero(np.isfinite(guesses) & np.isfinite(targets))
    title = f"Sequence {example}"
    if answered.size and task.ask == "fill_in":  # a puzzle: the last answer is the point
        last = answered[-1]
        title += (
            f": next is {fmt(float(targets[last]), 4)}, network says {fmt(float(guesses[last]), 4)}"
        )
    elif answered.size:
        error = float(np.mean((guesses[answered] - targets[answered]) ** 2))
        title += f": mean squared error {fmt(error)}"
    return finish(fig, "prediction", title, "time step", y_title)


def _answer_step(probe: Probe, example: int, length: int) -> int:
    """The last scored step of a sequence (where a one-answer task asks for its answer)."""
    scored = np.flatnonzero(probe.mask[example, :length])
    return int(scored[-1]) if scored.size else max(length - 1, 0)


def _adding_prediction(probe: Probe, task: Task, example: int) -> Fig:
    """The numbers, the two marked ones highlighted, and the final target next to the guess."""
    length = real_length(probe, example)
    steps = np.arange(length)
    values = f32(probe.inputs[example, :length, 0])
    marked = probe.inputs[example, :length, 1] > 0.5
    answer = _answer_step(probe, example, length)
    target = float(probe.targets[example, answer, 0])
    guess = float(probe.predictions[example, answer, 0])
    fig = Fig()
    fig.add_trace(
        scatter(
            x=i32(steps),
            y=values,
            name="numbers",
            mode="markers",
            marker=dict(color=INPUT_COLOR, size=5),
        )
    )
    fig.add_trace(
        scatter(
            x=i32(steps[marked]),
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
            scatter(
                x=i32([answer]),
                y=f32([value]),
                name=f"{name} {fmt(value, 3)}",
                mode="markers",
                marker=dict(color=color, size=13, symbol=symbol),
            )
        )
    title = f"Sequence {example}: sum {fmt(target)}, predicted {fmt(guess)}"
    return finish(fig, "prediction", title, "time step", "value")


def _copy_prediction(probe: Probe, task: Task, example: int) -> Fig:
    """Three symbol rows over time: input (symbols, then ▶ for go), target and prediction on the
    recall steps; a wrong guess is marked ✗. Symbols are letters, blank is '·'."""
    length = real_length(probe, example)
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
    fig = Fig(
        heatmap(
            z=z,
            x=i32(steps),
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
    title = f"Copy, sequence {example}: {fmt(100 * accuracy, 3)}% recalled"
    fig = finish(fig, "prediction", title, "time step", "", height=260)
    fig.update_yaxes(autorange="reversed", showgrid=False)
    fig.update_xaxes(showgrid=False)
    return fig


def _visible_char(char: str) -> str:
    return {" ": "␣", "\n": "↵", "\t": "⇥"}.get(char, char)


def _text_prediction(probe: Probe, task: Task, example: int) -> Fig:
    """Per step (the last MAX_TEXT_STEPS): the true next character (axis labels), the model's
    guess (bar text) and the probability it gave the guess (bar height); green right, red wrong."""
    length = real_length(probe, example)
    scored = np.flatnonzero(probe.mask[example, :length])[-MAX_TEXT_STEPS:]
    probs = softmax(probe.predictions[example, scored].astype(np.float64))
    guess = probs.argmax(axis=-1)
    target = probe.targets[example, scored].astype(np.int64)
    vocabulary = getattr(task, "vocabulary", None)
    if vocabulary is None or len(vocabulary) < probs.shape[-1]:
        vocabulary = class_labels(
            probe.meta, probs.shape[-1], ("vocabulary", "vocab", "chars"), "#"
        )
    chars = [_visible_char(c) for c in vocabulary]
    right = guess == target
    fig = Fig(
        bar(
            x=i32(scored),
            y=f32(probs[np.arange(len(scored)), guess]),
            text=[chars[g] for g in guess],
            textposition="outside",
            marker=dict(color=np.where(right, SOLVED_COLOR, PREDICTION_COLOR)),
            customdata=[chars[t] for t in target],
            hovertemplate="t=%{x}: guess %{text} (p=%{y:.2f}), true %{customdata}<extra></extra>",
            name="guess",
        )
    )
    fig.update_xaxes(
        tickmode="array", tickvals=[int(s) for s in scored], ticktext=[chars[t] for t in target]
    )
    accuracy = float(right.mean()) if len(right) else math.nan
    title = f"Next character, sequence {example}: {fmt(100 * accuracy, 3)}% right"
    x_title = "true next character (bars: the guess, green when right)"
    fig = finish(fig, "prediction", title, x_title, "probability of the guess")
    fig.update_yaxes(range=[0, 1.15])
    return fig


def _speech_prediction(probe: Probe, task: Task, example: int) -> Fig:
    """Class probabilities at the last real step, the true class in green."""
    length = real_length(probe, example)
    answer = _answer_step(probe, example, length)
    probs = softmax(probe.predictions[example, answer].astype(np.float64))
    truth = int(probe.targets[example, answer])
    names = class_labels(probe.meta, len(probs), ("class_names", "words", "labels"), "class ")
    names = names[: len(probs)]
    guess = int(probs.argmax())
    colors = np.full(len(probs), INPUT_COLOR, dtype=object)
    colors[guess] = PREDICTION_COLOR  # a wrong guess shows red, unless the true word paints it over
    colors[truth] = SOLVED_COLOR
    fig = Fig(
        bar(
            x=names,
            y=f32(probs),
            marker=dict(color=colors),
            name="probability",
            hovertemplate="%{x}: %{y:.2f}<extra></extra>",
        )
    )
    verdict = "right" if guess == truth else "wrong"
    if getattr(task, "class_noun", "word") == "speaker":
        title = f"Sequence {example}: {names[truth]} spoke, heard {names[guess]} ({verdict})"
        axis = "speaker (green: the one who spoke; red: a wrong guess)"
    else:
        title = f"Sequence {example}: said {names[truth]}, heard {names[guess]} ({verdict})"
        axis = "word (green: the one said; red: a wrong guess)"
    fig = finish(fig, "prediction", title, axis, "probability")
    fig.update_yaxes(range=[0, 1.05])
    return fig


def _sentiment_prediction(probe: Probe, task: Task, example: int) -> Fig:
    """The running verdict across one sentence of the probe batch, its words on the x axis."""
    length = real_length(probe, example)
    words = [str(word) for word in probe.meta["words"][example]][:length]
    positive = softmax(probe.predictions[example, :length].astype(np.float64))[:, 1]
    names = class_labels(probe.meta, 2, ("class_names",), "class ")
    truth, guess = int(probe.targets[example, length - 1]), int(positive[-1] >= 0.5)
    verdict = "right" if guess == truth else "wrong"
    order = " (order decides)" if probe.meta["order_decides"][example] else ""
    title = f"Sentence {example}{order}: {names[truth]}, read as {names[guess]} ({verdict})"
    return verdict_figure(words, positive, title)


def verdict_figure(words: list[str], positive: np.ndarray, title: str) -> Fig:
    """P(positive) after each word (a line across the words), with the undecided 0.5 line."""
    steps = i32(np.arange(len(words)))
    fig = Fig(
        scatter(
            x=steps,
            y=f32(positive),
            mode="lines+markers",
            name="verdict",
            line=dict(color=PREDICTION_COLOR, width=2),
            customdata=words,
            hovertemplate="after '%{customdata}': %{y:.2f} positive<extra></extra>",
        )
    )
    fig.add_trace(
        scatter(
            x=i32([0, max(len(words) - 1, 1)]),
            y=f32([0.5, 0.5]),
            mode="lines",
            name="undecided",
            line=dict(color=BASELINE_COLOR, dash="dash", width=1),
            hoverinfo="skip",
        )
    )
    # Plain lists: the page decodes typed arrays in traces only, not in the layout.
    fig.update_xaxes(tickmode="array", tickvals=list(range(len(words))), ticktext=words)
    x_title = "word (the verdict if the sentence stopped there)"
    fig = finish(fig, "verdict", title, x_title, "probability positive")
    fig.update_yaxes(range=[-0.03, 1.03])
    return fig


def _classification_overlay(probe: Probe, task: Task, example: int) -> Fig:
    """Fallback for classification: target class and the model's guess on each scored step."""
    length = real_length(probe, example)
    scored = np.flatnonzero(probe.mask[example, :length])
    guess = probe.predictions[example, scored].argmax(axis=-1)
    fig = Fig()
    fig.add_trace(
        scatter(
            x=i32(scored),
            y=i32(probe.targets[example, scored]),
            name="target",
            mode="markers",
            marker=dict(color=TARGET_COLOR, size=9),
        )
    )
    fig.add_trace(
        scatter(
            x=i32(scored),
            y=i32(guess),
            name="prediction",
            mode="markers",
            marker=dict(color=PREDICTION_COLOR, size=9, symbol="x"),
        )
    )
    return finish(fig, "prediction", f"Prediction, sequence {example}", "time step", "class")


_PREDICTION_BUILDERS = {
    "next_value": _next_value_prediction,
    "adding": _adding_prediction,
    "copy": _copy_prediction,
    "text": _text_prediction,
    "speech": _speech_prediction,
    "sentiment": _sentiment_prediction,
}


def rollout_figure(forecast: Forecast, y_title: str = "value") -> Fig:
    """The seen context, the model's free-running forecast after it, the true continuation (NaN
    past the data's end is a gap), and the references' forecasts: repeat the last value
    (dashed), the linear autoregression (dash-dot), with a season seasonal naive (long dash), and
    Holt-Winters (long dash-dot) where it was fitted. All in the series' units; steps counted from
    the start of the context (core.forecast.Forecast)."""
    context = f32(np.ravel(forecast.context))
    start = len(context)
    fig = Fig()
    fig.add_trace(
        scatter(
            x=i32(np.arange(start)),
            y=context,
            name="context",
            mode="lines",
            line=dict(color=INPUT_COLOR, width=2),
        )
    )
    truth = f32(np.ravel(forecast.truth))
    fig.add_trace(
        scatter(
            x=i32(np.arange(start, start + len(truth))),
            y=truth,
            name="truth",
            mode="lines",
            line=dict(color=TARGET_COLOR, width=2),
        )
    )
    styles = (
        (BASELINE_COLOR, "dash"),
        (PALETTE[0], "dashdot"),
        (PALETTE[1], "longdash"),
        (PALETTE[2], "longdashdot"),
    )
    lines = [("network", forecast.network, PREDICTION_COLOR, "dot", "diamond")] + [
        (name, values, color, dash, None)
        for (name, values), (color, dash) in zip(forecast.references(), styles, strict=False)
    ]
    for name, values, color, dash, symbol in lines:
        # Each forecast starts at the last seen value, so it visibly continues the context.
        values = f32(np.ravel(values))
        ahead = np.arange(start - 1, start + len(values)) if start else np.arange(len(values))
        joined = np.concatenate([context[-1:], values]) if start else values
        fig.add_trace(
            scatter(
                x=i32(ahead),
                y=f32(joined),
                name=name,
                mode="lines+markers" if symbol else "lines",
                line=dict(color=color, width=2 if symbol else 1.5, dash=dash),
                marker=dict(size=5, symbol=symbol) if symbol else None,
            )
        )
    if start:
        fig.add_vline(x=start - 0.5, line=dict(color=BASELINE_COLOR, dash="dot", width=1))
    title = f"Forecast, {len(forecast.network)} steps ahead, against simple forecasts"
    return finish(fig, "rollout", title, "time step", y_title)
