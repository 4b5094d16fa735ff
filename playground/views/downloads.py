"""Take it home: the trained checkpoint, a standalone PyTorch script and the history as CSV.

`render_downloads(experiment)` draws three download buttons. The checkpoint and the CSV are made
only when clicked (Streamlit calls the data callable on its own thread; `checkpoint_bytes` holds
the experiment's lock), so a live training page pays nothing per tick. Those callables hold the
experiment only weakly: Streamlit keeps them until the session's next run, and a strong reference
would keep an idle session's released model alive. The script depends on the config alone and is
cached per config.
"""

from __future__ import annotations

import functools
import weakref

import streamlit as st

from core import ExperimentConfig
from core.checkpoint import MAX_CHECKPOINT_BYTES, checkpoint_bytes
from core.export import ScriptError, standalone_script
from playground import state
from playground.actions import describe_error
from playground.actions import training as actions


@functools.lru_cache(maxsize=16)
def _script_for(config: ExperimentConfig) -> str:
    return standalone_script(config)


def script_text(experiment) -> str:
    """The standalone script for this run (raises ScriptError when it can't be written)."""
    if experiment.data is not None:  # an uploaded table: embedded, not cached
        return standalone_script(experiment.config, experiment.data)
    return _script_for(experiment.config)


def history_csv(experiment) -> str:
    with experiment.lock:
        return experiment.history.to_csv()


def file_stem(experiment) -> str:
    config = experiment.config
    return f"rnn_{config.cell}_{config.task}_step{experiment.steps_done}"


GONE = b"This run was released after the page sat unused. Reload the page and train again.\n"


def _made_later(experiment, make):
    """A data callable for a download button that doesn't keep `experiment` alive."""
    ref = weakref.ref(experiment)

    def data():
        alive = ref()
        return GONE if alive is None else make(alive)

    return data


def render_downloads(experiment) -> None:
    """Download buttons for `experiment`: checkpoint (.pt), standalone script (.py), history (.csv)."""
    if experiment is None:
        return
    stem = file_stem(experiment)
    st.markdown(
        "**Take it home.** The checkpoint holds the weights, the settings as JSON and the "
        "history (`core.checkpoint.load_checkpoint` reads it). The script needs only PyTorch and NumPy and "
        "rebuilds the data, model and training loop from these settings: "
        "`python run.py --steps 200`. The CSV has one row per training step."
    )
    columns = st.columns(3)
    columns[0].download_button(
        "Checkpoint (.pt)",
        data=_made_later(experiment, checkpoint_bytes),
        file_name=f"{stem}.pt",
        mime="application/octet-stream",
        key="download_checkpoint",
        on_click="ignore",
        width="stretch",
    )
    with columns[1]:
        try:
            script = script_text(experiment)
        except ScriptError as error:
            st.info(str(error))
        except Exception as error:  # noqa: BLE001 - the rest of the page must still draw
            st.info(f"The script could not be written: {describe_error(error)}")
        else:
            st.download_button(
                "Standalone script (.py)",
                data=script,
                file_name=f"rnn_{experiment.config.cell}_{experiment.config.task}.py",
                mime="text/x-python",
                key="download_script",
                on_click="ignore",
                width="stretch",
            )
    columns[2].download_button(
        "History (.csv)",
        data=_made_later(experiment, history_csv),
        file_name=f"{stem}.csv",
        mime="text/csv",
        key="download_history",
        on_click="ignore",
        width="stretch",
        disabled=not len(experiment.history),
    )


UPLOAD_GENERATION = "checkpoint_upload_generation"


def uploader_key() -> str:
    """The checkpoint uploader's key: a new one after each file, so Streamlit drops the file's
    bytes (up to MAX_CHECKPOINT_BYTES per session) once it has been read."""
    return f"checkpoint_upload_{st.session_state.get(UPLOAD_GENERATION, 0)}"


def render_checkpoint_upload() -> None:
    """Continue from a checkpoint downloaded earlier (its settings and weights replace this run)."""
    key = uploader_key()
    upload = st.file_uploader(
        "Continue from a checkpoint (.pt)",
        type=["pt"],
        key=key,
        # The same MiB figure as .streamlit/config.toml's server.maxUploadSize, which the
        # browser's own uploader shows (tests/core/test_checkpoint.py checks they agree).
        help="A checkpoint downloaded from this page (with its weights, settings and history). "
        f"Only those are read, never code; up to {MAX_CHECKPOINT_BYTES // 2**20} MB.",
    )
    if state.is_new_upload(key, upload):
        raw, name = upload.getvalue(), upload.name
        st.session_state[UPLOAD_GENERATION] = st.session_state.get(UPLOAD_GENERATION, 0) + 1
        actions.upload_checkpoint(raw, name)
        del raw
        st.rerun()  # the sidebar was drawn with the old settings; the uploader starts empty
