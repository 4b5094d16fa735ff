"""Per-visitor state: the one place that touches st.session_state and st.query_params.

A session holds its settings (`config`), at most one `Experiment` built from them, whether it is
training, the last good probe, cached figures, the uploaded table and one-shot messages. The URL
mirrors the settings: read once when a session starts, rewritten whenever the settings change.
"""

from __future__ import annotations

from typing import Any

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from core import ExperimentConfig
from playground.live import Pace

WIDGET_PREFIX = "w_"  # session keys of the settings widgets; cleared when a preset is loaded
CLASSROOM_PARAM = "classroom"

_DEFAULTS: dict[str, Any] = {
    "experiment": None,
    "experiment_error": "",
    "failed_build": None,
    "running": False,
    "probe": None,
    "jacobian_at": 0.0,
    "figures": {},
    "csv_table": None,
    "csv_name": "",
    "last_upload": "",
    "flash": [],
    "preset": None,
    "goto_playground": False,
}


def start_session() -> None:
    """On a session's first run, read the settings (and classroom mode) from the URL."""
    ss = st.session_state
    if "config" in ss:
        return
    params = {key: st.query_params.get_all(key) for key in st.query_params}
    classroom = params.pop(CLASSROOM_PARAM, ["0"])[-1].strip().lower() in ("1", "true", "yes")
    config, notices = ExperimentConfig.from_params(params)
    ss.config = config
    ss.classroom = classroom
    ss.url_notices = notices
    ss.pace = Pace()
    for key, value in _DEFAULTS.items():
        ss[key] = value.copy() if isinstance(value, dict | list) else value


# ---- settings and URL ------------------------------------------------------------------------
def config() -> ExperimentConfig:
    return st.session_state.config


def set_config(new: ExperimentConfig) -> None:
    st.session_state.config = new


def classroom() -> bool:
    return st.session_state.classroom


def url_params() -> dict[str, str]:
    params = config().to_params()
    if classroom():
        params[CLASSROOM_PARAM] = "1"
    return params


def sync_url() -> None:
    """Write the settings into the URL when they differ from it (shareable at any moment)."""
    wanted = url_params()
    if st.query_params.to_dict() != wanted:
        st.query_params.from_dict(wanted)


def pop_url_notices() -> list[str]:
    notices, st.session_state.url_notices = st.session_state.url_notices, []
    return notices


def page_url() -> str:
    """The address of this page, for the copy-link box (falls back to a relative link)."""
    url = st.context.url or ""
    return url.split("?")[0]


# ---- widgets ----------------------------------------------------------------------------------
def widget_key(name: str) -> str:
    return WIDGET_PREFIX + name


def seed_widget(name: str, value: Any) -> str:
    """Give a settings widget its starting value (once; then it keeps the visitor's choice)."""
    key = widget_key(name)
    if key not in st.session_state:
        st.session_state[key] = value
    return key


def widget_value(name: str) -> Any:
    return st.session_state[widget_key(name)]


def forget_widgets() -> None:
    """Drop the settings widgets' values so they are seeded again from `config`."""
    for key in [k for k in st.session_state if str(k).startswith(WIDGET_PREFIX)]:
        del st.session_state[key]


# ---- the experiment ---------------------------------------------------------------------------
def experiment():
    return st.session_state.experiment


def set_experiment(exp, error: str = "") -> None:
    ss = st.session_state
    ss.experiment = exp
    ss.experiment_error = error
    forget_run()


def experiment_error() -> str:
    return st.session_state.experiment_error


def failed_build():
    return st.session_state.failed_build


def set_failed_build(attempt) -> None:
    st.session_state.failed_build = attempt


def forget_run() -> None:
    """Clear what belongs to one run: probe, figures, speed; stop training."""
    ss = st.session_state
    ss.running = False
    ss.probe = None
    ss.jacobian_at = 0.0
    ss.figures = {}
    ss.pace = Pace()


def running() -> bool:
    return st.session_state.running


def set_running(value: bool) -> None:
    st.session_state.running = value
    if not value:
        st.session_state.pace.pause()


def pace() -> Pace:
    return st.session_state.pace


def probe():
    return st.session_state.probe


def set_probe(value) -> None:
    st.session_state.probe = value


def jacobian_at() -> float:
    return st.session_state.jacobian_at


def set_jacobian_at(value: float) -> None:
    st.session_state.jacobian_at = value


def cached(name: str, version: Any, build):
    """The value (a figure, a text) stored as `name` for `version`; rebuilt when the version changes."""
    figures = st.session_state.figures
    if name not in figures or figures[name][0] != version:
        figures[name] = (version, build())
    return figures[name][1]


# ---- uploaded table ---------------------------------------------------------------------------
def csv_table():
    return st.session_state.csv_table


def csv_name() -> str:
    return st.session_state.csv_name


def set_csv_table(table, name: str) -> None:
    st.session_state.csv_table = table
    st.session_state.csv_name = name


def last_upload() -> str:
    return st.session_state.last_upload


def set_last_upload(file_id: str) -> None:
    st.session_state.last_upload = file_id


def in_fragment_run() -> bool:
    """True while Streamlit reruns only a fragment (the live panel), not the whole page."""
    ctx = get_script_run_ctx()
    return bool(ctx is not None and ctx.fragment_ids_this_run)


# ---- one-shot messages, presets, navigation -----------------------------------------------------
def flash(kind: str, text: str) -> None:
    """Queue a message ("error", "warning", "info", "success") for the next full page run."""
    st.session_state.flash.append((kind, text))


def pop_flash() -> list[tuple[str, str]]:
    messages, st.session_state.flash = st.session_state.flash, []
    return messages


def preset() -> tuple[str, str] | None:
    return st.session_state.preset


def set_preset(value: tuple[str, str] | None) -> None:
    st.session_state.preset = value


def request_playground() -> None:
    st.session_state.goto_playground = True


def pop_playground_request() -> bool:
    wanted, st.session_state.goto_playground = st.session_state.goto_playground, False
    return wanted
