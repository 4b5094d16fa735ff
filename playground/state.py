"""Per-visitor state: the one place that touches st.session_state and st.query_params.

A session holds its settings (`config`), classroom mode, the uploaded table and one-shot messages
in st.session_state, and its heavy runs in a `Workspace` that is emptied when the session sits
idle (playground/workspace.py): the playground's `TrainingDriver`, and one run per teaching page
("race", "sweep", "claim"), each with a flag saying whether it is training. The URL mirrors the
settings: read once when a session starts (core.links), rewritten whenever they change.
"""

from __future__ import annotations

from typing import Any

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from core import FIELDS, ConfigError, ExperimentConfig
from core.links import link_params, read_link, share_link
from playground import guard, live
from playground.markdown import plain_text
from playground.workspace import Workspace, new_workspace, watch_sessions

WIDGET_PREFIX = "w_"  # session keys of the settings widgets; cleared when a demo is loaded
PAGES = (
    "playground",
    "race",
    "sweep",
    "claim",
    "translate",
)  # the runs a session can have, one each

_DEFAULTS: dict[str, Any] = {
    "csv_table": None,
    "csv_name": "",
    "seen_uploads": {},  # uploader key -> file id of the last file read from it
    "flash": [],
    "demo": None,
    "goto_playground": False,
}


def start_session() -> None:
    """At the top of every full page run. On a session's first run, read the settings (and
    classroom mode) from the URL.

    Also makes sure every widget value a browser sends is checked (playground/guard.py)."""
    guard.install()
    ss = st.session_state
    if "config" in ss:
        return
    link = read_link({key: st.query_params.get_all(key) for key in st.query_params})
    ss.config = link.config
    ss.classroom = link.classroom
    ss.url_notices = link.notices
    ss.workspace = new_workspace()
    _watch_session(ss.workspace)
    for key, value in _DEFAULTS.items():
        ss[key] = value.copy() if isinstance(value, dict | list) else value


def _watch_session(ws: Workspace) -> None:
    """Let the workspace sweep release this session's runs soon after its tab is closed."""
    ctx = get_script_run_ctx()
    if ctx is not None:
        ws.session_id = ctx.session_id
        # Seen connected now, at its first run: a tab closed before the sweep's first look
        # (it looks every 5 s) was otherwise never seen open, so never released as closed.
        ws.seen_open = _session_is_open(ctx.session_id) is True
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
    return st.session_state.get("classroom", False)


def url_params() -> dict[str, str]:
    return link_params(config(), classroom())


def sync_url() -> None:
    """Write the settings into the URL when they differ from it (shareable at any moment)."""
    wanted = url_params()
    if st.query_params.to_dict() != wanted:
        st.query_params.from_dict(wanted)


def pop_url_notices() -> list[str]:
    notices, st.session_state.url_notices = st.session_state.get("url_notices", []), []
    return notices


def page_link(classroom: bool = False) -> str:
    """A link to this page with the current settings (relative when the address is unknown)."""
    base = (st.context.url or "").split("?")[0]
    return share_link(base, config(), classroom)


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


# ---- runs (in the workspace) --------------------------------------------------------------------
def workspace() -> Workspace:
    ss = st.session_state
    if "workspace" not in ss:  # a page run on its own (tests) skips start_session
        ss.workspace = new_workspace()
    return ss.workspace


def pop_released() -> str:
    """Once after the workspace was emptied: why ("idle" or "closed"); otherwise ""."""
    ws = workspace()
    return ws.reason if ws.pop_released() else ""


def owner() -> int:
    """This session's name for its memory reservations (playground/governor.py)."""
    return workspace().owner


def run(page: str) -> Any:
    """The page's run (a driver from playground/drivers.py), or None."""
    return workspace().get(_page(page))


def set_run(page: str, value: Any) -> None:
    """Replace the page's run (the old one's worker stops); it starts paused, and its cached
    figures go."""
    old = run(page)
    if old is not None and old is not value:
        old.close()
    workspace().put(_page(page), value)
    workspace().put(f"{page}:figures", {})
    workspace().put(f"{page}:generation", run_generation(page) + 1)


def run_generation(page: str) -> int:
    """How many times the page's run was replaced: a live panel that finds another count than
    the full page run that drew it redraws the whole page (the run was rebuilt by a click)."""
    return workspace().get(f"{_page(page)}:generation", 0)


def running(page: str) -> bool:
    """Whether the page's run is training (its button shows Pause)."""
    return live.running(run(page))


def set_running(page: str, value: bool) -> None:
    """Train (True) or Pause (False) the page's run, if it has one."""
    driver = run(page)
    if driver is not None:
        (live.start if value else live.pause)(driver)


def page_value(page: str, name: str, default: Any = None) -> Any:
    """A small per-page value kept with the run (an error, a result, a failed build)."""
    return workspace().get(f"{_page(page)}:{name}", default)


def set_page_value(page: str, name: str, value: Any) -> None:
    workspace().put(f"{_page(page)}:{name}", value)


def cached(page: str, name: str, version: Any, build):
    """The value (a figure, a text) stored as `name` for `version`; rebuilt when it changes."""
    figures = workspace().get(f"{_page(page)}:figures")
    if figures is None:
        figures = {}
        workspace().put(f"{page}:figures", figures)
    if name not in figures or figures[name][0] != version:
        figures[name] = (version, build())
    return figures[name][1]


def _page(page: str) -> str:
    if page not in PAGES:
        raise KeyError(f"unknown page {page!r}; choose one of: {', '.join(PAGES)}")
    return page


# ---- uploaded table ---------------------------------------------------------------------------
def csv_table():
    return st.session_state.get("csv_table")


def csv_name() -> str:
    return st.session_state.get("csv_name", "")


def set_csv_table(table, name: str, column: int = 0) -> None:
    """Use `table` (None: the demo series); the Column picker starts again at `column`, since the
    old choice named another table's column."""
    ss = st.session_state
    ss.csv_table = table
    ss.csv_name = name
    ss.pop(widget_key("csv_column"), None)
    if ss.config.csv_column != column:
        ss.config = ss.config.replace(csv_column=column)


def is_new_upload(uploader: str, upload) -> bool:
    """True once for each file put in the uploader keyed `uploader` (so a file, even a bad one,
    is read once and not again at every rerun while it sits in the widget)."""
    seen = st.session_state.setdefault("seen_uploads", {})
    if upload is None or seen.get(uploader) == upload.file_id:
        return False
    seen[uploader] = upload.file_id
    return True


def count_drawing() -> int:
    """A number that grows with every drawing of a live panel in this session."""
    count = st.session_state.get("drawings", 0) + 1
    st.session_state["drawings"] = count
    return count


def clicks_handled(panel: str) -> dict[str, Any]:
    """{"page": the browser page's name, "seq": its last click handled} for a panel's controls
    (playground/views/panel.py)."""
    return st.session_state.get(f"clicks_{panel}", {"page": "", "seq": 0})


def set_clicks_handled(panel: str, handled: dict[str, Any]) -> None:
    st.session_state[f"clicks_{panel}"] = handled


def swapped(pair: str, shown: str) -> bool:
    """Whether the start/stop pair `pair` now shows another button than at its last drawing."""
    last = st.session_state.get(f"shown_{pair}")
    st.session_state[f"shown_{pair}"] = shown
    return last is not None and last != shown


# ---- one-shot messages, demos, navigation -----------------------------------------------------
def flash(kind: str, text: str) -> None:
    """Queue a message ("error", "warning", "info", "success") for the next full page run."""
    st.session_state.setdefault("flash", []).append((kind, text))


def pop_flash() -> list[tuple[str, str]]:
    messages, st.session_state.flash = st.session_state.get("flash", []), []
    return messages


def demo() -> str | None:
    """The Learn demo the playground was loaded with (a key of words.learn.DEMOS), or None."""
    return st.session_state.get("demo")


def set_demo(name: str | None) -> None:
    st.session_state.demo = name


def request_playground() -> None:
    st.session_state.goto_playground = True


def pop_playground_request() -> bool:
    wanted = st.session_state.get("goto_playground", False)
    st.session_state.goto_playground = False
    return wanted
