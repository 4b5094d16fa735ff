"""The waiting room: what the playground page shows while its run waits for memory.

`actions.training.build` puts a session whose run doesn't fit in the server's memory budget in the
governor's queue (playground/governor.py) and leaves the reason in `actions.training.queued()`.
This fragment asks again every QUEUE_POLL_SECONDS (keeping the session's place in the queue) and
redraws the whole page once the run is built.
"""

from __future__ import annotations

import streamlit as st

from playground import state
from playground.actions import training as actions

QUEUE_POLL_SECONDS = 2.0


def waiting_room() -> None:
    """Draw the queue message; ask for room again every QUEUE_POLL_SECONDS."""
    st.fragment(run_every=QUEUE_POLL_SECONDS)(_ask_again)()


def _ask_again() -> None:
    if actions.experiment() is None and actions.queued():
        actions.build(state.config())
    if actions.experiment() is not None:
        st.rerun()  # built: the whole page, with its buttons enabled
    if actions.queued():
        st.warning(actions.queued())
