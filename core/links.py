"""Settings from a shared link: whatever the link says, a usable config and a short list of notices.

`ExperimentConfig.from_params` repairs each value on its own (types, bounds, the cost budget).
Some values are fine alone but not together, or not with the data: `min_len` above `seq_len`, a
`csv_column` the table doesn't have, a `seq_len` too long for the series. `config_from_link` also
tries the task on the result and, when the task refuses it, puts the task's own settings back to
their defaults, the fewest that make it work, saying which. A link is anyone's text, so the
notices are capped.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from core.config import FIELDS, ConfigError, ExperimentConfig
from core.tasks import TASKS, make_task

MAX_NOTICES = 6
CLASSROOM = FIELDS["classroom"]  # a link-only setting: the page shows only Train/Pause, Reset


@dataclass
class Link:
    """What a shared link asks for: the run's settings, classroom mode, and what was repaired."""

    config: ExperimentConfig
    classroom: bool = False
    notices: list[str] = field(default_factory=list)


def read_link(params: Mapping[str, str | list[str]], data: Any = None) -> Link:
    """Settings and classroom mode from URL parameters; never raises (see config_from_link)."""
    params = dict(params)
    raw = params.pop(CLASSROOM.name, None)
    notices: list[str] = []
    if isinstance(raw, list | tuple):
        if len(raw) > 1:
            notices.append(f"'{CLASSROOM.name}' was given {len(raw)} times; the last one is used")
        raw = raw[-1] if raw else None
    classroom = CLASSROOM.default
    if raw is not None:
        try:
            classroom = CLASSROOM.parse(str(raw)[:100])
        except ConfigError as error:
            notices.append(f"{error}; using {CLASSROOM.format(CLASSROOM.default)}")
    config, more = config_from_link(params, data)
    return Link(config, classroom, cap(notices + more))


def link_params(config: ExperimentConfig, classroom: bool = False) -> dict[str, str]:
    """Query parameters of a link to these settings: only what differs from the defaults."""
    params = config.to_params()
    if classroom != CLASSROOM.default:
        params[CLASSROOM.name] = CLASSROOM.format(classroom)
    return params


def share_link(base_url: str, config: ExperimentConfig, classroom: bool = False) -> str:
    """The address that opens the page with these settings (and classroom mode)."""
    query = urlencode(link_params(config, classroom))
    return base_url + (f"?{query}" if query else "")


def config_from_link(
    params: Mapping[str, str | list[str]], data: Any = None
) -> tuple[ExperimentConfig, list[str]]:
    """A usable config from URL parameters (never raises) and at most MAX_NOTICES notices.

    `data` is the csv task's table (None: the demo series), as the page will use it."""
    config, notices = ExperimentConfig.from_params(params)
    config = fit_task(config, notices, data)
    return config, cap(notices)


def task_problem(config: ExperimentConfig, data: Any = None) -> str | None:
    """Why the task refuses `config` (None when it accepts it)."""
    try:
        make_task(config, data)
    except ConfigError as error:
        return str(error)
    return None


def fit_task(config: ExperimentConfig, notices: list[str], data: Any = None) -> ExperimentConfig:
    """`config` if its task accepts it; otherwise the same with the fewest task settings reset."""
    problem = task_problem(config, data)
    if problem is None:
        return config
    changed = [
        name for name in TASKS[config.task].params if getattr(config, name) != FIELDS[name].default
    ]
    # One setting back to its default, then two, ... then all of them.
    for size in range(1, len(changed) + 1):
        for names in itertools.combinations(changed, size):
            trial = config.replace(**{name: FIELDS[name].default for name in names})
            if task_problem(trial, data) is None:
                shown = ", ".join(
                    f"{name}={FIELDS[name].format(FIELDS[name].default)}" for name in names
                )
                notices.append(f"{problem}; using {shown} instead")
                return trial
    notices.append(f"{problem}; using the default settings for {config.task}")
    defaults = ExperimentConfig(task=config.task)
    return defaults if task_problem(defaults, data) is None else ExperimentConfig()


def cap(notices: list[str], limit: int = MAX_NOTICES) -> list[str]:
    """The first `limit - 1` notices and a count of the rest, when there are more than `limit`."""
    if len(notices) <= limit:
        return notices
    return [
        *notices[: limit - 1],
        f"{len(notices) - limit + 1} more problems in the link were fixed the same way",
    ]
