"""Take it home: download buttons for the trained checkpoint, a standalone PyTorch script and
the history as CSV (made by playground/actions/exports.py), and the checkpoint uploader that
continues a run.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from core.checkpoint import MAX_CHECKPOINT_BYTES
from core.export import ScriptError
from playground import state
from playground.actions import describe_error, exports
from playground.actions import training as actions


def render_downloads(experiment) -> None:
    """Download buttons for `experiment`: checkpoint (.pt), standalone script (.py), history (.csv)."""
    if experiment is None:
        return
    stem = exports.file_stem(experiment)
    st.markdown(
        "**Take it home.** The checkpoint holds the weights, the settings as JSON and the "
        "history (`core.checkpoint.load_checkpoint` reads it). The script needs only PyTorch and NumPy and "
        "rebuilds the data, model and training loop from these settings: "
        "`python run.py --steps 200`. The CSV has one row per training step."
    )
    columns = st.columns(3)
    columns[0].download_button(
        "Checkpoint (.pt)",
        data=exports.checkpoint_file(experiment),
        file_name=f"{stem}.pt",
        mime="application/octet-stream",
        key="download_checkpoint",
        on_click="ignore",
        width="stretch",
    )
    with columns[1]:
        script_button(
            lambda: exports.script_text(experiment),
            f"rnn_{experiment.config.cell}_{experiment.config.task}.py",
            "download_script",
        )
    columns[2].download_button(
        "History (.csv)",
        data=exports.history_file(experiment),
        file_name=f"{stem}.csv",
        mime="text/csv",
        key="download_history",
        on_click="ignore",
        width="stretch",
        disabled=not len(experiment.history),
    )


def script_button(write: Callable[[], str], file_name: str, key: str) -> None:
    """The "Standalone script (.py)" download, or why the script can't be written."""
    try:
        script = write()
    except ScriptError as error:  # a run the exporter can't express: its message says why
        st.info(str(error))
    except Exception as error:  # noqa: BLE001 - the rest of the page must still draw
        st.info(f"The script could not be written: {describe_error(error)}")
    else:
        st.download_button(
            "Standalone script (.py)",
            data=script,
            file_name=file_name,
            mime="text/x-python",
            key=key,
            on_click="ignore",
            width="stretch",
        )


UPLOAD_GENERATION = "checkpoint_upload_generation"
UPLOAD_LIMIT = f"Only those are read, never code; up to {MAX_CHECKPOINT_BYTES // 2**20} MB."
UPLOAD_HELP = (
    "A checkpoint downloaded from this page (with its weights, settings and history). "
    + UPLOAD_LIMIT
)


def uploader_key(name: str = "checkpoint_upload") -> str:
    """The checkpoint uploader's key: a new one after each file, so Streamlit drops the file's
    bytes (up to MAX_CHECKPOINT_BYTES per session) once it has been read."""
    return f"{name}_{st.session_state.get(f'{name}_generation', 0)}"


def render_checkpoint_upload(
    load: Callable[[bytes, str], None] | None = None,
    name: str = "checkpoint_upload",
    help: str = UPLOAD_HELP,
) -> None:
    """Continue from a checkpoint downloaded earlier (its settings and weights replace this run).
    `load(raw, file name)` is the page's action (default: the Playground's); `name` keys the
    uploader, so each page has its own."""
    key = uploader_key(name)
    upload = st.file_uploader(
        "Continue from a checkpoint (.pt)",
        type=["pt"],
        key=key,
        # The same MiB figure as .streamlit/config.toml's server.maxUploadSize, which the
        # browser's own uploader shows (tests/core/test_checkpoint.py checks they agree).
        help=help,
    )
    if state.is_new_upload(key, upload):
        raw, file_name = upload.getvalue(), upload.name
        generation = f"{name}_generation"
        st.session_state[generation] = st.session_state.get(generation, 0) + 1
        (load or actions.upload_checkpoint)(raw, file_name)
        del raw
        st.rerun()  # the settings were drawn with the old values; the uploader starts empty
