"""The teaching pages' clicks: a Learn claim's run, the cell race and the memory sweep.

Each page keeps one run in the session's workspace ("claim", "race", "sweep"), wrapped in its
driver (playground/drivers.py), which trains in a worker of playground/live.py. Finished claim
results are kept per claim, so each Learn box shows its own verdict.
"""

from __future__ import annotations

from typing import Any

from core import ConfigError, ExperimentConfig, Probe
from core.cells import CLASSIC_CELLS
from core.forecast import Forecast, forecast_example
from core.tasks import fill_in, generate_text
from core.teaching import Claim, ClaimResult, ClaimRun, Race, Sweep, get_claim
from core.teaching.applications import LENGTH_BUCKETS, TEXT_PROMPT
from core.teaching.race import DEFAULTS as RACE_DEFAULTS
from playground import live, state
from playground.actions import attempt, describe_error, keep, make_room, translation
from playground.drivers import ClaimDriver, RaceDriver, SweepDriver

RACE_CELLS = CLASSIC_CELLS


# ---- Learn: check a claim ---------------------------------------------------------------------
def start_claim(key: str) -> None:
    claim = attempt(get_claim, key)
    waiting = None if claim is None else attempt(make_room, "claim", *_room(claim))
    if waiting:
        state.flash("warning", waiting)
    if waiting != "":
        return
    run = attempt(lambda: ClaimRun(claim))
    if run is None:
        return
    keep("claim", ClaimDriver(run))
    state.set_page_value("claim", "key", key)
    results = claim_results()
    results.pop(key, None)
    state.set_running("claim", True)


def _room(claim: Claim) -> tuple:
    """make_room's configs, data and extra bytes for the claim's runs: the governor estimates
    SequenceModel configs; encoder-decoders get the Translate page's flat reservation."""
    if claim.seq2seq:
        return [], None, translation.RESERVED_BYTES
    return claim.experiment_configs().values(), None, 0


def stop_claim() -> None:
    state.set_running("claim", False)
    finish_claim()


def finish_claim() -> None:
    """Measure and judge (or record that it was stopped); keep the result, drop the run."""
    driver: ClaimDriver | None = state.run("claim")
    if driver is None:
        return
    claim_results()[driver.run.claim.key] = driver.run.result()
    state.set_run("claim", None)
    state.set_page_value("claim", "key", None)


def active_claim() -> str | None:
    return state.page_value("claim", "key")


def claim_results() -> dict[str, ClaimResult]:
    results = state.page_value("claim", "results")
    if results is None:
        results = {}
        state.set_page_value("claim", "results", results)
    return results


def result_probes(result: ClaimResult) -> dict[str, Probe]:
    """label -> probe of each experiment that did not diverge (the same sequences for all)."""
    return {
        label: e.probe(jacobian=False) for label, e in result.experiments.items() if not e.diverged
    }


def result_by_length(result: ClaimResult) -> dict[str, list[float]]:
    """label -> exact match per sentence-length bucket (LENGTH_BUCKETS), as the translation
    claim measured them."""
    return {
        label: [result.numbers[f"{label}_{bucket}"] for bucket, _, _ in LENGTH_BUCKETS]
        for label in result.experiments
    }


def result_rollout(result: ClaimResult) -> Forecast:
    """The first validation sequence's forecast by the claim's experiment, with the references."""
    exp = next(iter(result.experiments.values()))
    return forecast_example(exp, 0, batch=exp.val_batch)


def result_text(result: ClaimResult, temperature: float) -> str:
    import numpy as np

    exp = next(iter(result.experiments.values()))
    with exp.lock:
        rng = np.random.default_rng(exp.config.seed)
        return TEXT_PROMPT + generate_text(exp.model, exp.task, TEXT_PROMPT, 300, temperature, rng)


def result_fill_in(result: ClaimResult, text: str) -> tuple[str, str]:
    exp = next(iter(result.experiments.values()))
    try:
        with exp.lock:
            return "success", fill_in(exp.model, exp.config, text).message
    except Exception as error:  # noqa: BLE001
        return "warning", describe_error(error)


# ---- Race -------------------------------------------------------------------------------------
def race_config(values: dict[str, Any]) -> tuple[ExperimentConfig | None, str]:
    """The race's base config from its settings, or None and why it can't be used."""
    try:
        settings = {name: RACE_DEFAULTS[name] for name in ("lr", "val_every")}
        config = ExperimentConfig(**settings, **values)
        config.check_budget()
    except (ConfigError, ValueError, TypeError) as error:
        return None, describe_error(error)
    return config, ""


def race_driver() -> RaceDriver | None:
    return state.run("race")


def new_race(config: ExperimentConfig) -> RaceDriver | None:
    """A new race, once the memory governor has room for its runs (else None, and the
    page says how many are ahead: a later click asks again)."""
    configs = [config.replace(cell=cell) for cell in RACE_CELLS]
    waiting = attempt(make_room, "race", configs)
    state.set_page_value("race", "queued", waiting or "")
    if waiting is None or waiting:
        return None
    race = attempt(lambda: Race(config, RACE_CELLS, steps=config.max_steps))
    driver = None if race is None else RaceDriver(race)
    keep("race", driver)
    return driver


def race_queued() -> str:
    """Why a new race waits for memory, or "" when it doesn't."""
    return state.page_value("race", "queued", "")


def _race_for(config: ExperimentConfig) -> RaceDriver | None:
    driver = race_driver()
    if driver is None or driver.race.base_config != config or driver.race.done:
        driver = new_race(config)
    return driver


def start_race(config: ExperimentConfig) -> None:
    """Train: continue this race, or start a new one when the settings changed or it finished."""
    if _race_for(config) is not None:
        state.set_running("race", True)


def pause_race() -> None:
    state.set_running("race", False)


def step_race(config: ExperimentConfig, k: int) -> None:
    """Step k: pause the race if it runs, then every cell takes k steps (in the worker)."""
    driver = _race_for(config)
    if driver is not None:
        if live.running(driver):  # a Step queued behind another is kept: pausing would drop it
            live.pause(driver)
        live.request(driver, k)


# ---- Sweep ------------------------------------------------------------------------------------
def sweep_driver() -> SweepDriver | None:
    return state.run("sweep")


def start_sweep(plan: dict[str, Any] | None) -> None:
    if plan is None:
        return
    try:
        sweep = Sweep(**plan)
    except (ConfigError, ValueError) as error:
        state.set_page_value("sweep", "error", describe_error(error))
        return
    # One run at a time: room for the largest; a later click asks again.
    configs = [sweep.config_for(cell, value) for cell, value in sweep.plan]
    waiting = attempt(make_room, "sweep", configs, None, 0, True)
    if waiting is None or waiting:
        state.set_page_value("sweep", "error", waiting or "")
        return
    state.set_page_value("sweep", "error", "")
    keep("sweep", SweepDriver(sweep))
    state.set_running("sweep", True)


def cancel_sweep() -> None:
    driver = sweep_driver()
    if driver is not None and not driver.sweep.done:
        sweep = driver.sweep
        sweep.stop(f"cancelled after {len(sweep.points)} of {sweep.total_runs} runs")
    state.set_running("sweep", False)


def sweep_error() -> str:
    return state.page_value("sweep", "error", "")
