"""What a visitor's clicks do. Every call into `core` that a visitor triggers goes through this
package (timer ticks go through playground/live.py), so a bad setting or file becomes a message on
the page instead of a traceback. Views import actions, never core (type hints aside).

- `training`: the playground's run: build, Train/Pause/Step/Reset, uploads, asking the model;
- `teaching`: the Learn page's claims, the Race and the Sweep.

Shared here: turning errors and visitor text into safe page text, and `button_action`.
"""

from __future__ import annotations

import functools
import logging
import re

from core import ConfigError
from core.tasks import DataError
from playground import state

LOG = logging.getLogger(__name__)

_MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")


def plain_text(text: str) -> str:
    """Escape Markdown so text a visitor controls (a link's keys, a CSV's column names) is shown
    literally: st.warning/st.error render Markdown, and a crafted link could otherwise put a
    clickable link of its own inside the page's message."""
    return _MARKDOWN_SPECIALS.sub(r"\\\1", text)


def describe_error(error: Exception) -> str:
    """One readable sentence for an error raised by core, safe to pass to st.error."""
    if isinstance(error, ConfigError | DataError | ValueError):
        return plain_text(str(error))
    LOG.exception("unexpected error in core")
    return plain_text(
        f"Something went wrong ({type(error).__name__}: {str(error)[:200]}). Try Reset."
    )


def button_action(callback):
    """Run a button's callback only in a full page run.

    Every button lives outside the live fragments, yet Streamlit 1.67 sometimes delivers a click
    to a timer-driven fragment run as well as to the full run the click requested, which would
    run the callback twice (two Step 10s, or a Train that undoes a Pause). The full run always
    follows, so the fragment-run copy is dropped.
    """

    @functools.wraps(callback)
    def run_in_full_page_run(*args, **kwargs):
        if state.in_fragment_run():
            return None
        return callback(*args, **kwargs)

    return run_in_full_page_run


def attempt(action, *args, fallback=None, prefix: str = ""):
    """`action(*args)`, or `fallback` with the error flashed as a message."""
    try:
        return action(*args)
    except Exception as error:  # noqa: BLE001 - any failure becomes a message on the page
        state.flash("error", prefix + describe_error(error))
        return fallback
