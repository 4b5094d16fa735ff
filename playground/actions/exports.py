"""Take it home: what the download buttons hand out (checkpoint, standalone script, history).

The checkpoint and the CSV are made only when clicked: Streamlit calls a download button's data
callable on its own thread (`checkpoint_bytes` holds the experiment's lock), so a live training
page pays nothing per tick. Those callables hold the experiment only weakly: Streamlit keeps them
until the session's next run, and a strong reference would keep a released model alive. The
script depends on the config alone and is cached per config.
"""

from __future__ import annotations

import functools
import weakref
from collections.abc import Callable

from core import Experiment, ExperimentConfig
from core.checkpoint import checkpoint_bytes
from core.export import standalone_script

GONE = b"This run was released after the page sat unused. Reload the page and train again.\n"


@functools.lru_cache(maxsize=16)
def _script_for(config: ExperimentConfig) -> str:
    return standalone_script(config)


def script_text(experiment: Experiment) -> str:
    """The standalone script for this run (raises ScriptError when it can't be written)."""
    if experiment.data is not None:  # an uploaded table: embedded, not cached
        return standalone_script(experiment.config, experiment.data)
    return _script_for(experiment.config)


def history_csv(experiment: Experiment) -> str:
    with experiment.lock:
        return experiment.history.to_csv()


def file_stem(experiment: Experiment) -> str:
    config = experiment.config
    return f"rnn_{config.cell}_{config.task}_step{experiment.steps_done}"


def made_later(experiment: Experiment, make: Callable) -> Callable[[], bytes | str]:
    """A data callable for a download button that doesn't keep `experiment` alive."""
    ref = weakref.ref(experiment)

    def data():
        alive = ref()
        return GONE if alive is None else make(alive)

    return data


def checkpoint_file(experiment: Experiment) -> Callable[[], bytes]:
    return made_later(experiment, checkpoint_bytes)


def history_file(experiment: Experiment) -> Callable[[], bytes | str]:
    return made_later(experiment, history_csv)
