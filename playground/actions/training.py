"""The playground's run: build it from the settings, Train/Pause/Step/Reset, load a Learn demo,
read uploads, and ask the trained model (fill in a number, forecast, write text, read a typed
sentence word by word).

The run is a `TrainingDriver` (playground/drivers.py) kept in the session's workspace as the
"playground" run; it trains in a worker of playground/live.py. The buttons' callbacks only tell
the worker what to do, so a click never waits for training.
"""

from __future__ import annotations

import dataclasses
import math
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np

from core import ConfigError, Experiment, ExperimentConfig
from core.bag_of_words import bag_of_words
from core.checkpoint import CheckpointError, load_checkpoint
from core.config import COST_BUDGET
from core.forecast import Forecast, forecast_example, load_smoothing, references, summary
from core.forecast import verdict as forecast_verdict
from core.ngram import ngram_reference, text_reference
from core.ngram import summary as text_summary
from core.speakers import SpeakerReferences, speaker_references
from core.tasks import (
    SentimentTask,
    TextTask,
    VowelsTask,
    fill_in,
    generate_text,
    load_csv,
    read_sentence,
)
from core.teaching import config_for
from playground import governor, live, state
from playground.actions import (
    LOG,
    attempt,
    describe_error,
    give_back,
    keep,
    make_room,
    plain_text,
)
from playground.drivers import TrainingDriver
from playground.words.learn import DEMOS

PAGE = "playground"
# Settings a running experiment can take on between steps; any other change needs a Reset.
LIVE_SETTINGS = ("lr", "clip", "max_steps")


def driver() -> TrainingDriver | None:
    return state.run(PAGE)


def experiment() -> Experiment | None:
    current = driver()
    return None if current is None else current.experiment


def build(config: ExperimentConfig) -> bool:
    """Make a fresh run for `config` (with the uploaded table for csv), once the server's memory
    governor has room for it; otherwise the session waits in its queue (`queued()`)."""
    data = state.csv_table() if config.task == "csv" else None
    try:
        waiting = make_room(PAGE, [config], data, governor.PAGE_BYTES, shrinkable=True)
        if waiting:
            state.set_page_value(PAGE, "queued", waiting)
            return False
        exp = Experiment(config, data=data)
    except Exception as error:  # noqa: BLE001 - any failure becomes a message on the page
        give_back(PAGE)
        state.set_page_value(PAGE, "error", describe_error(error))
        state.set_page_value(PAGE, "queued", "")
        return False
    keep(PAGE, TrainingDriver(exp, config.max_steps))
    state.set_page_value(PAGE, "error", "")
    state.set_page_value(PAGE, "queued", "")
    return True


def queued() -> str:
    """Why the playground's run waits for memory, or "" when it doesn't."""
    return state.page_value(PAGE, "queued", "")


def build_error() -> str:
    return state.page_value(PAGE, "error", "")


def pending_changes(exp: Experiment, config: ExperimentConfig) -> list[str]:
    """Settings that differ from the running experiment and need a Reset to apply."""
    changed = [
        f.name
        for f in dataclasses.fields(config)
        if f.name not in LIVE_SETTINGS and getattr(config, f.name) != getattr(exp.config, f.name)
    ]
    if config.task == "csv" and exp.data is not state.csv_table():
        changed.append("uploaded data")
    return changed


def apply_settings(config: ExperimentConfig) -> list[str]:
    """Bring the run in line with the settings; return the changes waiting for Reset.

    Learning rate, clipping and the step budget apply to the next step. Structural changes
    rebuild the run at once while it has not trained yet; after that they wait for Reset, so
    runs never mix.
    """
    current = driver()
    if current is None:
        # Retry a failed build only when its inputs changed (settings or uploaded table); a
        # build waiting for memory asks again at every run (its place in the queue is kept).
        attempt_key = (config, id(state.csv_table()))
        retry = state.page_value(PAGE, "failed_build") != attempt_key or queued()
        if retry and not build(config):
            state.set_page_value(PAGE, "failed_build", None if queued() else attempt_key)
        return []
    exp = current.experiment
    pending = pending_changes(exp, config)
    if pending and exp.steps_done == 0 and not state.running(PAGE):
        build(config)
        return []
    if (config.lr, config.clip) != (exp.config.lr, exp.config.clip):
        exp.update(lr=config.lr, clip=config.clip)
    current.max_steps = config.max_steps
    return pending


# ---- buttons (on_click callbacks: they run before the page is drawn) ------------------------
def start_training() -> None:
    """Train: start (or continue) the run; rebuild first if settings changed before any step."""
    if state.running(PAGE):
        return  # idempotent: a repeated click must not toggle anything
    config = state.config()
    current = driver()
    fresh = current is None or current.experiment.steps_done == 0
    if fresh and (current is None or pending_changes(current.experiment, config)):
        if not build(config):
            return
        current = driver()
    if current.experiment.diverged:
        return  # the page already says why and what to do
    if current.remaining <= 0:
        state.flash("info", "The step budget is used up: raise it in the sidebar, or press Reset.")
        return
    state.set_running(PAGE, True)


def pause_training() -> None:
    state.set_running(PAGE, False)


def step(k: int) -> None:
    """Step k: pause training if it runs, then take k steps (in the worker) and probe."""
    current = driver()
    if current is None or current.experiment.diverged:
        return
    if live.running(current):  # a Step queued behind another is kept: pausing would drop it
        live.pause(current)
    live.request(current, k)


def reset() -> None:
    """Fresh weights and history from the current settings (rebuilding if they changed)."""
    state.set_demo(None)
    build(state.config())


def load_demo(name: str) -> None:
    """Put a Learn demo's settings in place, build it, start training, and go to the playground."""
    try:
        config = ExperimentConfig(**config_for(DEMOS[name].config))
    except ConfigError as error:
        state.flash("error", str(error))
        return
    state.set_config(config)
    state.forget_widgets()
    state.set_demo(name)
    if build(config):
        state.set_running(PAGE, True)
    state.request_playground()


def demo_matches(name: str, exp: Experiment) -> bool:
    """Whether the run still has the demo's settings (the live ones may have been changed)."""
    params = config_for(DEMOS[name].config)
    return all(
        getattr(exp.config, key) == value
        for key, value in params.items()
        if key not in LIVE_SETTINGS
    )


# ---- uploads ------------------------------------------------------------------------------------
def upload_csv(raw: bytes, name: str) -> None:
    """Parse an uploaded file; keep the table in the session or explain what is wrong."""
    table = attempt(load_csv, raw, prefix=f"Could not use {plain_text(name)}: ")
    if table is None:
        return
    column = table.series_column()
    state.set_csv_table(table, name, column)
    if column:
        skipped = ", ".join(table.columns[:column])
        state.flash(
            "info",
            plain_text(
                f"{name}: {skipped} steps evenly from row to row (a time axis, not a series), so "
                f"the forecast starts on {table.columns[column]}. Pick another in Column."
            ),
        )
    for note in table.notes:
        state.flash("info", plain_text(f"{name}: {note}"))


def upload_checkpoint(raw: bytes, name: str) -> None:
    """Continue from an uploaded checkpoint: its settings and weights replace the current run.

    Loaded with weights_only (no code runs), size-limited, shapes checked against its settings,
    held to the same cost budget as any link, and given room by the memory governor before any
    tensor is read; a bad file becomes a message."""
    data = state.csv_table()
    owner = state.owner()

    def reserve(config: ExperimentConfig) -> None:  # after every check, before the build
        admission = governor.admit(owner, PAGE, [config], data, governor.PAGE_BYTES)
        if not admission.admitted:
            raise CheckpointError(governor.full_message(admission) + " Upload the file again then.")

    exp = attempt(
        lambda: load_checkpoint(raw, data=data, budget=COST_BUDGET, reserve=reserve),
        prefix=f"Could not use {plain_text(name)}: ",
    )
    if exp is None:
        if experiment() is None:
            give_back(PAGE)
        return
    state.set_config(exp.config)
    state.forget_widgets()
    state.set_demo(None)
    keep(PAGE, TrainingDriver(exp, exp.config.max_steps))
    config = exp.config
    state.flash(
        "success",
        f"Loaded {plain_text(name)}: {config.cell} on {config.task}, {config.hidden} hidden units, "
        f"at step {exp.steps_done:,}. Press Train to continue (the optimizer starts afresh"
        + (")." if len(exp.history) else ", and the loss history starts here)."),
    )


# ---- asking the trained model -----------------------------------------------------------------
def fill_in_answer(exp: Experiment, text: str) -> tuple[str, str]:
    """("success", the model's answer) or ("warning", why the text can't be used)."""
    try:
        with exp.lock:
            return "success", fill_in(exp.model, exp.config, text).message
    except Exception as error:  # noqa: BLE001 - mostly ConfigError: what was typed is not valid
        return "warning", describe_error(error)


def forecast(exp: Experiment, example: int) -> Forecast:
    """One probe sequence's context, the model's free-running forecast, the truth, and the
    reference forecasts, in the series' units."""
    return forecast_example(exp, example)


def forecast_references(exp: Experiment) -> list[tuple[str, float]]:
    """The linear AR's (and a seasonal naive's, and Holt-Winters') one-step validation loss, for
    the loss chart (the task's own baseline line is already repeat-the-last-value)."""
    scores = references(exp)
    lines = [(f"linear AR({scores.order})", scores.linear)]
    if scores.season:
        lines.append((f"seasonal naive ({scores.season})", scores.seasonal))
    if math.isfinite(scores.ets):
        lines.append(("Holt-Winters", scores.ets))
    return lines


def metric_references(exp: Experiment) -> list[tuple[str, float]]:
    """The classical methods' scores on the run's own test set, for the metric chart: for
    "who is speaking?", 1-NN with DTW, 1-NN Euclidean and the per-frame model with no memory;
    for sentiment, bag-of-words where order decides and on the rest; for text, the n-gram model
    (quick: computed here). They take a second or more,
    so they are computed in the background and the chart draws them once they are ready ([]
    until then): no page waits for them."""
    if isinstance(exp.task, SentimentTask):
        return _bag_of_words_lines(exp.config)
    if isinstance(exp.task, TextTask):
        reference = ngram_reference(exp)
        return [(f"{reference.name} model", reference.accuracy)]
    if not isinstance(exp.task, VowelsTask):
        return []
    if not _SPEAKER_REFERENCES:
        _SPEAKER_REFERENCES.append(_BACKGROUND.submit(_speaker_references_or_none))
    future = _SPEAKER_REFERENCES[0]
    found = future.result() if future.done() else None
    return found.named() if found else []


def _speaker_references_or_none() -> SpeakerReferences | None:
    try:
        return speaker_references()
    except Exception:  # noqa: BLE001 - the chart goes without its lines; the log says why
        LOG.exception("the speaker references could not be computed")
        return None


_BACKGROUND = ThreadPoolExecutor(max_workers=1, thread_name_prefix="references")
# statsmodels takes about a second to import: start it now, so the first forecast doesn't wait.
_BACKGROUND.submit(load_smoothing)
_SPEAKER_REFERENCES: list[Future] = []  # started by the first page that needs them
_BAG_OF_WORDS: dict[int, Future] = {}  # per seed (its split is all the reference reads)


def _bag_of_words_lines(config: ExperimentConfig) -> list[tuple[str, float]]:
    if config.seed not in _BAG_OF_WORDS:
        if len(_BAG_OF_WORDS) >= 64:  # seeds come from links: keep the table small
            _BAG_OF_WORDS.clear()
        _BAG_OF_WORDS[config.seed] = _BACKGROUND.submit(_bag_of_words_or_none, config)
    future = _BAG_OF_WORDS[config.seed]
    found = future.result() if future.done() else None
    return found.named() if found else []


def _bag_of_words_or_none(config: ExperimentConfig):
    try:
        return bag_of_words(config)
    except Exception:  # noqa: BLE001 - the chart goes without its lines; the log says why
        LOG.exception("the bag-of-words reference could not be computed")
        return None


def text_references(exp: Experiment) -> list[tuple[str, float]]:
    """The n-gram model's validation loss (nats per character), for the text task's loss chart."""
    reference = ngram_reference(exp)
    return [(f"{reference.name} model", reference.loss)]


def text_notices(exp: Experiment) -> list[tuple[str, str]]:
    """What the page says under the text the network writes: the n-gram model against the
    network on the validation text, and which won."""
    return [("info", text_summary(text_reference(exp)))]


def forecast_notices(exp: Experiment) -> list[tuple[str, str]]:
    """What the page says under a forecast: a built-in series' source and licence, how the
    series was scaled and fitted (csv), which
    forecast wins on validation and, when the network does worse than repeating the last value,
    what to try. Total: any series gets sentences, never an exception."""
    notes = [("caption", note) for note in getattr(exp.task, "fit_notes", ())]
    data_set = getattr(exp.task, "data_set", None)
    if data_set is not None:  # a built-in series: where it comes from, beside its chart
        notes.insert(0, ("caption", f"{data_set.title}. {data_set.credit}."))
    note = getattr(exp.task, "normalisation_note", "")
    if note:
        notes.append(("caption", note))
    if exp.steps_done:
        scores = references(exp)
        notes.append(("info", summary(scores)))
        warning = forecast_verdict(exp, scores)
        if warning:
            notes.append(("warning", warning))
    return notes


def write_text(exp: Experiment, prompt: str, temperature: float, length: int = 240) -> str:
    """Text the model writes after `prompt`; the same weights write the same text."""
    rng = np.random.default_rng(exp.config.seed)
    with exp.lock:
        return generate_text(exp.model, exp.task, prompt, length, temperature, rng)


def read_typed_sentence(
    exp: Experiment, text: str
) -> tuple[str, list[str], list[float]] | tuple[str, str]:
    """("success", words, probability positive after each word) for a typed sentence, or
    ("warning", why it can't be read: unknown words are named)."""
    try:
        with exp.lock:
            words, positive = read_sentence(exp.model, exp.task, text)
        return "success", words, [float(p) for p in positive]
    except Exception as error:  # noqa: BLE001 - mostly ConfigError: what was typed is not valid
        return "warning", describe_error(error)
