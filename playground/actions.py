"""What the visitor's clicks do: build, train, step, reset, load a preset, read a CSV, one live tick.

Every call into `core` that a visitor can trigger goes through here, so a bad setting or file
becomes a message (`state.flash` or the experiment error) instead of a traceback.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import re
import time

from core import ConfigError, Experiment, ExperimentConfig
from core.checkpoint import CheckpointError, load_checkpoint
from core.config import COST_BUDGET
from core.presets import config_for
from core.tasks import DataError, load_csv
from playground import governor, live, state
from playground.content import DEMOS

LOG = logging.getLogger(__name__)

# Settings a running experiment can take on between steps; any other change needs a Reset.
LIVE_SETTINGS = ("lr", "clip", "max_steps")
PLAYGROUND_SLOT = "playground"  # the session's memory reservation for its playground run


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


def build(config: ExperimentConfig) -> bool:
    """Make a fresh Experiment for `config` (with the uploaded table for csv), once the server's
    memory governor has room for it; otherwise the session waits in its queue (`state.queued`)."""
    data = state.csv_table() if config.task == "csv" else None
    state.set_experiment(None)  # the old run goes first: its memory counts for the new one
    try:
        admission = governor.admit(
            state.owner(), PLAYGROUND_SLOT, [config], data, extra=governor.PAGE_BYTES
        )
    except Exception as error:  # noqa: BLE001 - an unusable config is reported like below
        state.set_experiment(None, describe_error(error))
        return False
    if not admission.admitted:
        smaller = governor.smaller_that_fits(config, admission.free, data, governor.PAGE_BYTES)
        state.set_experiment(None, queued=governor.full_message(admission, smaller))
        return False
    try:
        exp = Experiment(config, data=data)
    except Exception as error:  # noqa: BLE001 - any failure becomes a message on the page
        governor.GOVERNOR.release(state.owner(), PLAYGROUND_SLOT)
        state.set_experiment(None, describe_error(error))
        return False
    governor.GOVERNOR.hold(state.owner(), PLAYGROUND_SLOT, exp)
    state.set_experiment(exp)
    return True


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
    """Bring the experiment in line with the settings; return the changes waiting for Reset.

    Learning rate and clipping apply to the next step. Structural changes rebuild the experiment
    at once while it has not trained yet; after that they wait for Reset, so runs never mix.
    """
    exp = state.experiment()
    if exp is None:
        # Retry a failed build only when its inputs changed (settings or uploaded table); a
        # build waiting for memory asks again at every run (its place in the queue is kept).
        attempt = (config, id(state.csv_table()))
        if (state.failed_build() != attempt or state.queued()) and not build(config):
            state.set_failed_build(None if state.queued() else attempt)
        return []
    pending = pending_changes(exp, config)
    if pending and exp.steps_done == 0 and not state.running():
        build(config)
        return []
    if (config.lr, config.clip) != (exp.config.lr, exp.config.clip):
        exp.update(lr=config.lr, clip=config.clip)
    return pending


# ---- buttons (on_click callbacks: they run before the page is drawn) ------------------------
def button_action(callback):
    """Run a button's callback only in a full page run.

    Every button lives outside the live fragment, yet Streamlit 1.67 sometimes delivers a click
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


@button_action
def start_training() -> None:
    """Train: start (or continue) the run; rebuild first if settings changed before any step."""
    if state.running():
        return  # idempotent: a repeated click must not toggle anything
    exp = state.experiment()
    config = state.config()
    if exp is None or (exp.steps_done == 0 and pending_changes(exp, config)):
        if not build(config):
            return
        exp = state.experiment()
    if exp.diverged:
        return  # the page already says why and what to do
    if exp.steps_done >= config.max_steps:
        state.flash("info", "The step budget is used up: raise it in the sidebar, or press Reset.")
        return
    state.set_running(True)


@button_action
def pause_training() -> None:
    state.set_running(False)


@button_action
def step(k: int) -> None:
    """Run k steps now (while paused or training), then re-probe."""
    exp = state.experiment()
    if exp is None or exp.diverged:
        return
    if not live.try_acquire_slot(wait=live.STEP_SLOT_WAIT_SECONDS):
        state.flash("warning", "All training slots are busy; try again in a moment.")
        return
    try:
        with exp.lock:
            exp.step(k)
            if not exp.diverged:
                state.set_probe(exp.probe(jacobian=True))
                state.set_jacobian_at(time.perf_counter())
    except Exception as error:  # noqa: BLE001
        state.flash("error", describe_error(error))
    finally:
        live.release_slot()
    if exp.diverged:
        state.set_running(False)


@button_action
def reset() -> None:
    """Fresh weights and history from the current settings (rebuilding if they changed)."""
    state.set_preset(None)
    build(state.config())


def load_preset(name: str) -> None:
    """Put a Learn demo's settings in place, build it, start training, and go to the playground."""
    demo = DEMOS[name]
    try:
        config = ExperimentConfig(**config_for(demo.config))
    except ConfigError as error:
        state.flash("error", str(error))
        return
    state.set_config(config)
    state.forget_widgets()
    state.set_preset((name, demo.expect))
    if build(config):
        state.set_running(True)
    state.request_playground()


def upload_csv(raw: bytes, name: str) -> None:
    """Parse an uploaded file; keep the table in the session or explain what is wrong."""
    try:
        table = load_csv(raw)
    except Exception as error:  # noqa: BLE001 - DataError and anything else a file can provoke
        state.flash("error", f"Could not use {plain_text(name)}: {describe_error(error)}")
        return
    state.set_csv_table(table, name)
    for note in table.notes:
        state.flash("info", plain_text(f"{name}: {note}"))


def upload_checkpoint(raw: bytes, name: str) -> None:
    """Continue from an uploaded checkpoint: its settings and weights replace the current run.

    Loaded with weights_only (no code runs), size-limited, shapes checked against its settings,
    and held to the same cost budget as any link; a bad file becomes a message."""
    data = state.csv_table()
    owner = state.owner()

    def reserve(config: ExperimentConfig) -> None:  # after every check, before the build
        admission = governor.admit(owner, PLAYGROUND_SLOT, [config], data, governor.PAGE_BYTES)
        if not admission.admitted:
            raise CheckpointError(governor.full_message(admission) + " Upload the file again then.")

    try:
        exp = load_checkpoint(raw, data=data, budget=COST_BUDGET, reserve=reserve)
    except Exception as error:  # noqa: BLE001 - CheckpointError and anything a file can provoke
        state.flash("error", f"Could not use {plain_text(name)}: {describe_error(error)}")
        if governor.GOVERNOR.reserved(owner, PLAYGROUND_SLOT) and state.experiment() is None:
            governor.GOVERNOR.release(owner, PLAYGROUND_SLOT)
        return
    governor.GOVERNOR.hold(owner, PLAYGROUND_SLOT, exp)
    state.set_config(exp.config)
    state.forget_widgets()
    state.set_preset(None)
    state.set_experiment(exp)
    config = exp.config
    state.flash(
        "success",
        f"Loaded {plain_text(name)}: {config.cell} on {config.task}, {config.hidden} hidden units, "
        f"at step {exp.steps_done:,}. Press Train to continue (the optimizer starts afresh"
        + (")." if len(exp.history) else ", and the loss history starts here)."),
    )


# ---- one live tick ---------------------------------------------------------------------------
def want_jacobian() -> bool:
    return time.perf_counter() - state.jacobian_at() >= live.JACOBIAN_EVERY_SECONDS


def tick(exp: Experiment) -> str:
    """Advance a running experiment by one tick's worth of steps and re-probe it.

    Returns "stepped", "waiting" (no free training slot), or "stopped" (budget reached or
    diverged; training is switched off and the caller redraws the whole page).
    """
    config = state.config()
    pace = state.pace()
    pace.tick_started(time.perf_counter())
    remaining = config.max_steps - exp.steps_done
    if remaining <= 0 or exp.diverged:
        state.set_running(False)
        return "stopped"
    if not live.try_acquire_slot(wait=live.SLOT_WAIT_SECONDS):
        pace.pause()
        return "waiting"
    jacobian = want_jacobian()
    try:
        k = pace.next_k(remaining)
        with exp.lock:  # one lock over step + probe: an overlapping run can't change weights
            started = time.perf_counter()
            exp.step(k)
            stepped = time.perf_counter()
            if not exp.diverged:
                state.set_probe(_keep_jacobian(exp.probe(jacobian=jacobian), state.probe()))
            probed = time.perf_counter()
    finally:
        live.release_slot()
    if jacobian:
        state.set_jacobian_at(probed)
        probe_seconds = state.pace().probe_seconds  # a jacobian tick is not the usual cost
    else:
        probe_seconds = probed - stepped
    pace.record(k, stepped - started, probe_seconds)
    pace.mark(exp.steps_done)
    if exp.diverged or exp.steps_done >= config.max_steps:
        state.set_running(False)
        return "stopped"
    return "stepped"


def _keep_jacobian(probe, previous):
    """Between Jacobian refreshes, show the last one (at most ~2 s old) instead of none."""
    if probe.jacobian_norm is None and previous is not None:
        old = previous.jacobian_norm
        if old is not None and old.shape == (max(len(probe.grad_norm) - 1, 0),):
            probe.jacobian_norm = old
    return probe


def current_probe(exp: Experiment):
    """The probe to draw: the last good one, refreshed when paused and out of date."""
    probe = state.probe()
    if exp.diverged or (state.running() and probe is not None):
        return probe
    if probe is None or probe.step != exp.steps_done:
        try:
            with exp.lock:
                probe = exp.probe(jacobian=True)
        except Exception as error:  # noqa: BLE001
            state.flash("error", describe_error(error))
            return state.probe()
        state.set_probe(probe)
        state.set_jacobian_at(time.perf_counter())
    return probe
