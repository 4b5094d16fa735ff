"""Sidebar settings: small functions, each drawing one group of widgets and returning its values.

Every widget is keyed by its config field (`state.seed_widget`), so it starts from the current
settings (URL or preset) and then keeps the visitor's choice. Only the chosen task's own
parameters are shown (`Task.params`).
"""

from __future__ import annotations

import functools
from typing import Any

import streamlit as st

from core import CELLS, FIELDS, TASKS, ExperimentConfig
from core.tasks import demo_series
from playground import state
from playground.actions import plain_text
from playground.actions import training as actions

LR_OPTIONS = (1e-4, 3e-4, 1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
CLIP_OPTIONS = (0.0, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 100.0)
HIDDEN_OPTIONS = (1, 2, 4, 8, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024)
BATCH_OPTIONS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)

LABELS = {
    "seq_len": "Sequence length",
    "min_len": "Shortest sequence (0: all full length)",
    "lag": "Lag (quiet steps)",
    "n_symbols": "Symbols to remember",
    "alphabet": "Alphabet size",
    "noise": "Noise",
    "horizon": "Forecast horizon",
    "sequence_kind": "Kind of sequence",
    "n_classes": "Words",
    "csv_column": "Column",
    "normalise": "Scaling",
    "val_fraction": "Validation share",
}
# Sliders read better than number boxes for short ranges; step sizes for float fields.
SLIDER_FIELDS = {
    "seq_len",
    "lag",
    "n_symbols",
    "alphabet",
    "n_classes",
    "horizon",
    "noise",
    "val_fraction",
    "layers",
    "forget_bias",
}
FLOAT_STEPS = {
    "noise": 0.05,
    "val_fraction": 0.05,
    "init_gain": 0.1,
    "forget_bias": 0.1,
    "momentum": 0.05,
}


def sidebar(config: ExperimentConfig) -> ExperimentConfig:
    """Draw every settings group in the sidebar; return the settings they describe."""
    with st.sidebar:
        values = task_controls(config)
        values |= model_controls(config)
        values |= training_controls(config)
    return config.replace(**values)


def task_controls(config: ExperimentConfig) -> dict[str, Any]:
    st.header("Task")
    task_name = choice("task", config, "What to learn", {n: t.title for n, t in TASKS.items()})
    values: dict[str, Any] = {"task": task_name}
    task = TASKS[task_name]
    if task_name == "csv":
        csv_upload()  # first: a new file's columns must be known when the Column picker is drawn
    for name in task.params:
        if name == "csv_column":
            values[name] = csv_column(config)
        else:
            values[name] = field_widget(name, config, LABELS.get(name, name))
    return values


def model_controls(config: ExperimentConfig) -> dict[str, Any]:
    st.header("Model")
    cell = choice("cell", config, "Cell", {name: c.title for name, c in CELLS.items()})
    values: dict[str, Any] = {"cell": cell}
    values["hidden"] = stepped_slider("hidden", config, "Hidden units", HIDDEN_OPTIONS)
    values["layers"] = field_widget("layers", config, "Layers")
    with st.expander("Initialisation"):
        values["init"] = field_widget("init", config, "Recurrent weights")
        if values["init"] != "default":
            values["init_gain"] = field_widget("init_gain", config, "Gain")
        if "forget" in CELLS[cell].gate_names:
            values["forget_bias"] = field_widget("forget_bias", config, "Forget-gate bias")
    return values


def training_controls(config: ExperimentConfig) -> dict[str, Any]:
    st.header("Training")
    values: dict[str, Any] = {"optimizer": field_widget("optimizer", config, "Optimizer")}
    values["lr"] = stepped_slider("lr", config, "Learning rate", LR_OPTIONS)
    values["clip"] = stepped_slider(
        "clip", config, "Gradient clipping", CLIP_OPTIONS, lambda v: "off" if v == 0 else f"{v:g}"
    )
    values["batch_size"] = stepped_slider("batch_size", config, "Batch size", BATCH_OPTIONS)
    values["seed"] = field_widget("seed", config, "Seed")
    values["max_steps"] = field_widget("max_steps", config, "Step budget")
    st.caption(
        "Learning rate, clipping and the step budget apply while training runs; the "
        "other settings start a new run when you press Reset."
    )
    return values


# ---- widget builders --------------------------------------------------------------------------
def choice(name: str, config: ExperimentConfig, label: str, titles: dict[str, str]) -> str:
    key = state.seed_widget(name, getattr(config, name))
    return st.selectbox(
        label, list(titles), format_func=titles.get, key=key, help=FIELDS[name].help
    )


def field_widget(name: str, config: ExperimentConfig, label: str) -> Any:
    """A widget for any config field, chosen from its schema (choices, int or float bounds)."""
    field = FIELDS[name]
    key = state.seed_widget(name, getattr(config, name))
    if field.options is not None:
        return st.selectbox(label, field.options, key=key, help=field.help)
    if field.kind is int:
        low, high = int(field.low), int(field.high)
        if name in SLIDER_FIELDS:
            return st.slider(label, low, high, key=key, help=field.help)
        return st.number_input(label, low, high, step=1, key=key, help=field.help)
    low, high, step = float(field.low), float(field.high), FLOAT_STEPS.get(name, 0.1)
    if name in SLIDER_FIELDS:
        return st.slider(label, low, high, step=step, key=key, help=field.help)
    return st.number_input(label, low, high, step=step, key=key, help=field.help)


def stepped_slider(name: str, config: ExperimentConfig, label: str, options, fmt=None) -> Any:
    """A select-slider over round values; a value from a link that isn't one of them is kept."""
    key = state.seed_widget(name, getattr(config, name))
    values = sorted(set(options) | {state.widget_value(name)})
    return st.select_slider(
        label, values, key=key, help=FIELDS[name].help, format_func=fmt or (lambda v: f"{v:g}")
    )


@functools.cache
def demo_columns() -> list[str]:
    return [f"{name} (demo series)" for name in demo_series().columns]


def csv_column(config: ExperimentConfig) -> int:
    table = state.csv_table()
    names = table.columns if table is not None else demo_columns()
    # The settings as they are now: an upload earlier in this run may have picked the column.
    key = state.seed_widget("csv_column", state.config().csv_column)
    count = max(len(names), state.widget_value("csv_column") + 1)
    auto = names[table.series_column()] if table is not None else names[0]

    def label(i: int) -> str:
        if i < 0:
            return f"auto: {auto}"
        return names[i] if i < len(names) else f"column {i} (not in the file)"

    return st.selectbox(
        "Column", [-1, *range(count)], key=key, help=FIELDS["csv_column"].help, format_func=label
    )


def csv_upload() -> None:
    """File uploader for the csv task; a new file is parsed once and kept in the session."""
    upload = st.file_uploader(
        "Your CSV file (one row per time step)", type=["csv", "txt", "tsv"], key="csv_upload"
    )
    if state.is_new_upload("csv_upload", upload):
        actions.upload_csv(upload.getvalue(), upload.name)
    if state.csv_table() is None:
        st.caption("No file yet: a built-in year of hourly weather is used.")
    else:
        names = ", ".join(state.csv_table().columns)[:120]
        st.caption(plain_text(f"Using {state.csv_name()}: {names}"))
        st.button("Use the demo series instead", on_click=state.set_csv_table, args=(None, ""))
