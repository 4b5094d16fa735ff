"""The Translate page's clicks: two encoder-decoders, one without attention and one with it, trained
side by side on the same number-words batches, and a visitor's phrase translated by both.

The run is a TranslationDriver in the session's workspace ("translate"), trained in a worker of
playground/live.py like the Race's. Every call into core goes through here, so a bad setting or
phrase becomes a message on the page.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from core.cells import CLASSIC_CELLS, RECURRENT_CELLS
from core.checkpoint import CheckpointError
from core.config import ConfigError
from core.seq2seq import ATTENTIONS, Seq2SeqConfig, Seq2SeqExperiment, Translation
from core.seq2seq_checkpoint import load_seq2seq_checkpoint, seq2seq_checkpoint_bytes
from core.seq2seq_export import seq2seq_script
from core.seq2seq_probe import Seq2SeqProbe
from core.teaching.applications import LENGTH_BUCKETS
from playground import governor, live, state
from playground.actions import attempt, describe_error, give_back, keep, make_room
from playground.actions.exports import made_later
from playground.live import TEACHING_SLICE_SECONDS, Live, Pace
from playground.markdown import plain_text

PAGE = "translate"
CELLS = tuple(c for c in CLASSIC_CELLS if c in RECURRENT_CELLS)  # a sentence needs memory
KINDS = tuple(kind for kind in ATTENTIONS if kind != "none")  # the second run's attention
LABELS = ("plain", "attention")  # the run without attention, the run with it
EDGES = [low for _, low, _ in LENGTH_BUCKETS] + [LENGTH_BUCKETS[-1][2]]
# What the page's settings can be (the widgets' bounds; an uploaded checkpoint is held to them).
HIDDEN_RANGE = (4, 128)
GROUPS_RANGE = (1, 4)
STEPS_RANGE = (100, 5000)
PAGE_SETTINGS = ("cell", "attention", "hidden", "max_groups", "seed")  # the rest stay default
WIDGETS = {  # the settings widget of each page setting
    "cell": "translate_cell",
    "attention": "translate_attention",
    "hidden": "translate_hidden",
    "max_groups": "translate_groups",
    "seed": "translate_seed",
}
BUCKETS = [f"{name} ({low}-{high - 1} words)" for name, low, high in LENGTH_BUCKETS]  # chart labels
# Both runs at the page's largest sizes (hidden 128, max_groups 4) grew the process by 41 MB after
# 100 steps, a probe and a validation each; asked of the memory governor as a flat reservation.
RESERVED_BYTES = 64 * 2**20


@dataclass
class TranslationDriver:
    """Both runs, stepped in turn, then probed and scored by sentence length (for the charts)."""

    runs: dict[str, Seq2SeqExperiment]
    steps: int
    pace: Pace = field(default_factory=lambda: Pace(longest_slice=TEACHING_SLICE_SECONDS))
    workers: int = 1
    live: Live = field(default_factory=Live)
    probes: dict[str, Seq2SeqProbe] = field(default_factory=dict)
    by_length: dict[str, list[float]] = field(default_factory=dict)
    scores: dict[str, dict[str, float]] = field(default_factory=dict)

    @property
    def config(self) -> Seq2SeqConfig:
        return self.runs["attention"].config

    @property
    def remaining(self) -> int:
        return max(0, self.steps - self.step)

    @property
    def experiments(self) -> list[Seq2SeqExperiment]:
        return list(self.runs.values())

    @property
    def step(self) -> int:
        return min(run.steps_done for run in self.runs.values())

    def advance(self, k: int, workers: int = 1) -> None:
        for run in self.runs.values():
            run.step(k)

    def observe(self) -> None:
        # New dicts, swapped in whole: the page reads these while the worker observes.
        probes, by_length, scores = {}, {}, {}
        for label, run in self.runs.items():
            if run.diverged:
                continue
            probes[label] = run.probe()
            scores[label] = run.evaluate(EDGES)
            by_length[label] = scores[label].pop("by_length")
        self.probes, self.by_length, self.scores = probes, by_length, scores

    def close(self) -> None:
        live.close(self)


def config_from(values: dict[str, Any]) -> tuple[Seq2SeqConfig | None, str]:
    """The attention run's config from the page's settings, or None and why it can't be used."""
    try:
        return Seq2SeqConfig(val_every=100, **values), ""
    except (ConfigError, ValueError, TypeError) as error:
        return None, describe_error(error)


def driver() -> TranslationDriver | None:
    return state.run(PAGE)


def new_run(config: Seq2SeqConfig, steps: int) -> TranslationDriver | None:
    """Both runs from `config`, once the memory governor has room (else None: the page says why)."""
    waiting = attempt(make_room, PAGE, [], None, RESERVED_BYTES)
    state.set_page_value(PAGE, "queued", waiting or "")
    if waiting is None or waiting:
        return None

    def build() -> TranslationDriver:
        plain = config.replace(attention="none")
        runs = {"plain": Seq2SeqExperiment(plain), "attention": Seq2SeqExperiment(config)}
        return TranslationDriver(runs, steps)

    made = attempt(build)
    keep(PAGE, made)
    return made


def queued() -> str:
    return state.page_value(PAGE, "queued", "")


def _run_for(config: Seq2SeqConfig, steps: int) -> TranslationDriver | None:
    current = driver()
    if (
        current is None
        or current.config != config
        or current.steps != steps
        or not current.remaining
    ):
        current = new_run(config, steps)
    return current


def start(config: Seq2SeqConfig, steps: int) -> None:
    """Train: go on with these runs, or start new ones when the settings changed or they ended."""
    current = _run_for(config, steps)
    if current is not None:
        live.start(current)


def pause() -> None:
    current = driver()
    if current is not None:
        live.pause(current)


def step(config: Seq2SeqConfig, steps: int, k: int) -> None:
    """Step k: pause if training, then both runs take k steps (in the worker)."""
    current = _run_for(config, steps)
    if current is not None:
        live.pause(current)
        live.request(current, k)


def reset(config: Seq2SeqConfig, steps: int) -> None:
    new_run(config, steps)


def translate(text: str) -> tuple[dict[str, Translation], str]:
    """Each run's translation of a typed phrase, or ({}, a plain message saying what is wrong)."""
    current = driver()
    if current is None:
        return {}, "Press Train or Step first: there is no network to ask yet."
    try:
        return {label: run.translate(text) for label, run in current.runs.items()}, ""
    except (ConfigError, ValueError) as error:
        return {}, describe_error(error)


# ---- take it home: checkpoint, script, and continuing from a checkpoint -------------------------
def file_stem(current: TranslationDriver) -> str:
    config = current.config
    return f"translate_{config.cell}_{config.attention}_step{current.step}"


def checkpoint_file(current: TranslationDriver) -> Callable[[], bytes]:
    """Both networks in one file, made when the button is clicked (core.seq2seq_checkpoint)."""
    return made_later(current, lambda alive: seq2seq_checkpoint_bytes(alive.runs))


@functools.lru_cache(maxsize=16)
def script_text(config: Seq2SeqConfig, steps: int) -> str:
    """The standalone script of the attention run; `--attention none` trains the plain one."""
    return seq2seq_script(config, steps)


def upload_checkpoint(raw: bytes, name: str, steps: int) -> None:
    """Continue from a checkpoint this page saved: both networks, their optimizers and data
    streams, so training goes on exactly where it stopped. Checked like any upload (weights only,
    size-limited, shapes against the settings), held to the page's own settings, and given room by
    the memory governor before it is built; a bad file becomes a message and the runs are kept."""
    owner = state.owner()

    def reserve(configs) -> None:  # after every check, before the build
        admission = governor.admit(owner, PAGE, [], None, RESERVED_BYTES)
        if not admission.admitted:
            raise CheckpointError(governor.full_message(admission) + " Upload the file again then.")

    runs = attempt(
        lambda: load_seq2seq_checkpoint(raw, check=check_page_settings, reserve=reserve),
        prefix=f"Could not use {plain_text(name)}: ",
    )
    if runs is None:
        if driver() is None:
            give_back(PAGE)
        return
    done = max(run.steps_done for run in runs.values())
    low, high = STEPS_RANGE
    target = steps if steps > done else max(low, min(high, done - done % 100 + 500))
    loaded = TranslationDriver({label: runs[label] for label in LABELS}, target)
    keep(PAGE, loaded)
    state.set_page_value(PAGE, "queued", "")  # a build that waited for memory is not wanted now
    config = loaded.config
    settings = {WIDGETS[name]: getattr(config, name) for name in PAGE_SETTINGS}
    state.set_page_value(PAGE, "settings", {**settings, "translate_steps": target})
    where = (
        f"Press Train to go on to step {target:,}."
        if loaded.remaining
        else "They have finished their steps; Train starts new networks."
    )
    state.flash(
        "success",
        f"Loaded {plain_text(name)}: {config.cell} networks, {config.hidden} hidden units, "
        f"{config.attention} attention, at step {loaded.step:,}. {where}",
    )


def loaded_settings() -> dict[str, Any]:
    """The settings widgets' values from the last loaded checkpoint, once (then {})."""
    values = state.page_value(PAGE, "settings") or {}
    state.set_page_value(PAGE, "settings", None)
    return values


def check_page_settings(configs: dict[str, Seq2SeqConfig]) -> None:
    """Refuse (CheckpointError) a checkpoint whose runs this page could not have made: the two
    labelled runs, the settings the page sets within its bounds, the rest at their defaults."""
    if set(configs) != set(LABELS):
        raise CheckpointError(
            f"this page's checkpoints hold the runs {' and '.join(LABELS)}; this one holds "
            f"{', '.join(sorted(configs))}"
        )
    config = configs["attention"]
    problems = []
    if config.cell not in CELLS:
        problems.append(f"cell {config.cell} (this page: {', '.join(CELLS)})")
    if config.attention not in KINDS:
        problems.append(f"attention {config.attention} (this page: {', '.join(KINDS)})")
    if not HIDDEN_RANGE[0] <= config.hidden <= HIDDEN_RANGE[1]:
        problems.append(
            f"{config.hidden} hidden units (this page: {HIDDEN_RANGE[0]}-{HIDDEN_RANGE[1]})"
        )
    page_made = config_from({name: getattr(config, name) for name in PAGE_SETTINGS})[0]
    if page_made is not None and page_made != config:
        problems += [
            f"{name} {getattr(config, name)} (this page: {getattr(page_made, name)})"
            for name in vars(config)
            if getattr(config, name) != getattr(page_made, name)
        ]
    if configs["plain"] != config.replace(attention="none"):
        problems.append("the plain run's settings differ from the attention run's")
    if problems:
        raise CheckpointError(
            "its settings are not ones this page sets: " + "; ".join(problems) + ". Load it in "
            "a notebook with core.seq2seq_checkpoint.load_seq2seq_checkpoint"
        )
