"""What a visitor's clicks do. Every call into `core` that a visitor triggers goes through this
package (training itself runs in playground/live.py's workers), so a bad setting or file becomes a message on
the page instead of a traceback. Views import actions, never core (type hints aside).

- `training`: the playground's run: build, Train/Pause/Step/Reset, uploads, asking the model;
- `teaching`: the Learn page's claims, the Race and the Sweep;
- `translation`: the Translate page's two encoder-decoders, and their checkpoint and script;
- `exports`: what the Playground's download buttons hand out.

Shared here: turning errors and visitor text into safe page text, and asking the server's memory
governor for room before a run is built (`make_room`, `keep`).
"""

from __future__ import annotations

import logging

from core import ConfigError
from core.tasks import DataError
from playground import governor, state
from playground.markdown import plain_text

LOG = logging.getLogger(__name__)


def describe_error(error: Exception) -> str:
    """One readable sentence for an error raised by core, safe to pass to st.error."""
    if isinstance(error, ConfigError | DataError | ValueError):
        return plain_text(str(error))
    LOG.exception("unexpected error in core")
    return plain_text(
        f"Something went wrong ({type(error).__name__}: {str(error)[:200]}). Try Reset."
    )


def attempt(action, *args, fallback=None, prefix: str = ""):
    """`action(*args)`, or `fallback` with the error flashed as a message."""
    try:
        return action(*args)
    except Exception as error:  # noqa: BLE001 - any failure becomes a message on the page
        state.flash("error", prefix + describe_error(error))
        return fallback


def make_room(
    page: str,
    configs,
    data=None,
    extra: int = 0,
    one_at_a_time: bool = False,
    shrinkable: bool = False,
) -> str:
    """Ask the memory governor (playground/governor.py) for room for the page's next run.

    The page's old run goes first, since its memory counts for the new one. Returns "" when
    admitted, else what the visitor is told (the request keeps its place in the queue; asking
    again later either gets in or keeps waiting); `shrinkable` (one config) adds the largest
    hidden size that would fit now. Raises what `core.memory.estimate` raises for settings it
    can't use."""
    configs = list(configs)
    state.set_run(page, None)
    admission = governor.admit(state.owner(), page, configs, data, extra, one_at_a_time)
    if admission.admitted:
        return ""
    smaller = None
    if shrinkable:
        smaller = governor.smaller_that_fits(configs[0], admission.free, data, extra)
    return governor.full_message(admission, smaller)


def keep(page: str, run) -> None:
    """Make `run` the page's run; its memory reservation ends when the run is dropped (at once
    for None: a build that failed)."""
    if run is None:
        give_back(page)
    else:
        governor.GOVERNOR.hold(state.owner(), page, run)
    state.set_run(page, run)


def give_back(page: str) -> None:
    """End the page's reservation at once (a build that failed after it was admitted)."""
    governor.GOVERNOR.release(state.owner(), page)
