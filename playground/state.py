"""Per-visitor state: the one place that touches st.session_state and st.query_params.

A session holds its settings (`config`), the uploaded table and one-shot messages in
st.session_state, and its heavy run (at most one `Experiment` built from the settings, whether it
is training, the last good probe, cached figures) in a `Workspace` that is emptied when the
session sits idle (playground/workspace.py). The URL mirrors the settings: read once when a
session starts, rewritten whenever the settings change.
"""

from __future__ import annotations

from typing import Any

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from core import FIELDS, ConfigError, ExperimentConfig
from core.links import config_from_link
from playground import guard
from playground.live import Pace
from playground.workspace import Workspace, new_workspace, watch_sessions

WIDGET_PREFIX = "w_"  # session keys of the settings widgets; cleared when a preset is loaded
CLASSROOM_PARAM = "classroom"

_DEFAULTS: dict[str, Any] = {
    "csv_table": None,
    "csv_name": "",
    "seen_uploads": {},  # uploader key -> file id of the last file read from it
    "flash": [],
    "preset": None,
    "goto_playground": False,
}


def start_session() -> None:
    """On a session's first run, read the settings (and classroom mode) from the URL.

    Also makes sure every widget value a browser sends is checked (playground/guard.py)."""
    guard.install()
    ss = st.session_state
    if "config" in ss:
        return
    params = {key: st.query_params.get_all(key) for key in st.query_params}
    classroom = params.pop(CLASSROOM_PARAM, ["0"])[-1].strip().lower() in ("1", "true", "yes")
    config, notices = config_from_link(params)
    ss.config = config
    ss.classroom = classroom
    ss.url_notices = notices
    ss.workspace = new_workspace()
    _watch_session(ss.workspace)
    for key, value in _DEFAULTS.items():
        ss[key] = value.copy() if isinstance(value, dict | list) else value


def _watch_session(ws: Workspace) -> None:
    """Let the workspace sweep release this session's run soon after its tab is closed."""
    ctx = get_script_run_ctx()
    if ctx is not None:
        ws.session_id = ctx.session_id
    watch_sessions(_session_is_open, float(st.get_option("server.disconnectedSessionTTL")))


def _session_is_open(session_id: str) -> bool | None:
    """Whether Streamlit lists the session as connected (thread-safe; None without a runtime)."""
    from streamlit.runtime import Runtime

    if not Runtime.exists():
        return None
    is_open = Runtime.instance().is_active_session(session_id)
    return is_open if isinstance(is_open, bool) else None  # AppTest's runtime is a mock


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
    """Give a settings widget its starting value (once; then it keeps the visitor's choice).

    A stored value that its config field would refuse (a wrong type, out of range: something
    other code put in the session state) is replaced by `value`, with a notice. Values from the
    browser were checked against the widget itself on arrival (playground/guard.py)."""
    key = widget_key(name)
    field = FIELDS.get(name)
    if key in st.session_state and field is not None:
        try:
            field.check(st.session_state[key])
        except ConfigError as error:
            from playground.actions import plain_text  # actions imports this module

            flash("warning", plain_text(f"{str(error)[:200]}; using {field.format(value)}."))
            del st.session_state[key]
    if key not in st.session_state:
        st.session_state[key] = value
    return key


def widget_value(name: str) -> Any:
    return st.session_state[widget_key(name)]


def pop_rejected_widgets() -> list[str]:
    """Notices about widget values the browser sent that didn't fit their widget (once each)."""
    return st.session_state.pop(guard.REJECTED_KEY, [])


def forget_widgets() -> None:
    """Drop the settings widgets' values so they are seeded again from `config`."""
    for key in [k for k in st.session_state if str(k).startswith(WIDGET_PREFIX)]:
        del st.session_state[key]


# ---- the experiment (in the workspace) ---------------------------------------------------------
# What a run starts with, and after an idle session's workspace was emptied.
_RUN_DEFAULTS = {
    "experiment": lambda: None,
    "experiment_error": str,
    "failed_build": lambda: None,
    "queued": str,  # why the run waits for memory (playground/governor.py); "" when it doesn't
    "running": bool,
    "probe": lambda: None,
    "jacobian_at": float,
    "figures": dict,
    "pace": Pace,
}
_MISSING = object()


def workspace() -> Workspace:
    ss = st.session_state
    if "workspace" not in ss:  # a page run on its own (tests) skips start_session
        ss.workspace = new_workspace()
    return ss.workspace


def _run_value(key: str) -> Any:
    value = workspace().get(key, _MISSING)
    if value is _MISSING:
        value = _RUN_DEFAULTS[key]()
        workspace().put(key, value)
    return value


def pop_released() -> str:
    """Once after the workspace was emptied: why ("idle" or "closed"); otherwise ""."""
    ws = workspace()
    return ws.reason if ws.pop_released() else ""


def owner() -> int:
    """This session's name for its memory reservations (playground/governor.py)."""
    return workspace().owner


def experiment():
    return _run_value("experiment")


def set_experiment(exp, error: str = "", queued: str = "") -> None:
    workspace().put("experiment", exp)
    workspace().put("experiment_error", error)
    workspace().put("queued", queued)
    forget_run()


def queued() -> str:
    """The message for a run waiting for memory, or "" when it isn't."""
    return _run_value("queued")


def experiment_error() -> str:
    return _run_value("experiment_error")


def failed_build():
    return _run_value("failed_build")


def set_failed_build(attempt) -> None:
    workspace().put("failed_build", attempt)


def forget_run() -> None:
    """Clear what belongs to one run: probe, figures, speed; stop training."""
    for key in ("running", "probe", "jacobian_at", "figures", "pace"):
        workspace().put(key, _RUN_DEFAULTS[key]())


def running() -> bool:
    return _run_value("running")


def set_running(value: bool) -> None:
    workspace().put("running", value)
    if not value:
        pace().pause()


def pace() -> Pace:
    return _run_value("pace")


def probe():
    return _run_value("probe")


def set_probe(value) -> None:
    workspace().put("probe", value)


def jacobian_at() -> float:
    return _run_value("jacobian_at")


def set_jacobian_at(value: float) -> None:
    workspace().put("jacobian_at", value)


def cached(name: str, version: Any, build):
    """The value (a figure, a text) stored as `name` for `version`; rebuilt when the version changes."""
    figures = _run_value("figures")
    if name not in figures or figures[name][0] != version:
        figures[name] = (version, build())
    return figures[name][1]


# ---- uploaded table ---------------------------------------------------------------------------
def csv_table():
    return st.session_state.csv_table


def csv_name() -> str:
    return st.session_state.csv_name


def set_csv_table(table, name: str) -> None:
    """Use `table` (None: the demo series); the Column picker starts again at the first column,
    since the old choice named another table's column."""
    ss = st.session_state
    ss.csv_table = table
    ss.csv_name = name
    ss.pop(widget_key("csv_column"), None)
    if ss.config.csv_column:
        ss.config = ss.config.replace(csv_column=0)


def is_new_upload(uploader: str, upload) -> bool:
    """True once for each file put in the uploader keyed `uploader` (so a file, even a bad one,
    is read once and not again at every rerun while it sits in the widget)."""
    seen = st.session_state.seen_uploads
    if upload is None or seen.get(uploader) == upload.file_id:
        return False
    seen[uploader] = upload.file_id
    return True


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
