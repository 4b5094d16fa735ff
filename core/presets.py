"""One-click experiments that reproduce the seed's claims, each with the numbers that confirm it.

`PRESETS` maps a key to a `Preset`: one or more configs (label -> ExperimentConfig fields, several
when the claim is a comparison), a step budget, `measure` (trained experiments -> the claim's
numbers) and `verdict` (numbers -> does the claim hold, in one readable sentence). `CONFIGS` holds
the few plain configs the Learn page shows without a measured claim. This module owns every
experiment config the pages offer: `config_for("vanishing:rnn")` or `config_for("bptt")` gives one
by name, as ExperimentConfig keyword arguments.

Two ways to run a preset, both bounded and cancellable:

>>> result = run_preset("long_memory")          # blocking; callbacks for progress and Stop
>>> result.ok, result.summary, result.numbers["lstm_mse"]

>>> run = PresetRun("long_memory")               # for a UI timer: one bounded chunk per tick
>>> while not run.done:
...     run.advance(50)                          # trains the current config up to 50 steps
>>> run.result()

Budgets are tuned to finish in 5-30 s on one CPU core with the fixed seeds below; the slow tests in
tests/core/test_presets.py run every preset and assert its numbers.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from core.config import ExperimentConfig
from core.tasks import fill_in, generate_text, load_corpus, rollout
from core.trainer import Experiment

Experiments = dict[str, Experiment]
Numbers = dict[str, Any]  # the claim's numbers (floats, counts, flags) and examples (strings)

CHUNK = 50  # steps per advance() in run_preset: Stop answers within a fraction of a second


@dataclass(frozen=True)
class Preset:
    """One claim of the seed as an experiment.

    configs: label -> ExperimentConfig keyword arguments; trained in order, each for `steps`.
    measure: trained experiments (label -> Experiment) -> numbers (see each preset's keys).
    verdict: numbers -> (the claim holds, one sentence with the numbers).
    show: what the page should draw, from: loss, grad_per_step, grad_norm, params, fill_in,
        rollout, generate, trajectories.
    """

    key: str
    title: str
    claim: str
    expect: str
    configs: dict[str, dict[str, Any]]
    steps: int
    measure: Callable[[Experiments], Numbers]
    verdict: Callable[[Numbers], tuple[bool, str]]
    show: tuple[str, ...] = ("loss",)

    def experiment_configs(self) -> dict[str, ExperimentConfig]:
        return {label: ExperimentConfig(**params) for label, params in self.configs.items()}

    def check(self, experiments: Experiments) -> tuple[bool, str]:
        """(ok, summary) for trained experiments: measure, then judge."""
        return self.verdict(self.measure(experiments))


@dataclass
class Progress:
    """Where a preset run stands: the config being trained and the share of all steps done."""

    label: str
    step: int
    steps: int
    fraction: float
    seconds: float


@dataclass
class PresetResult:
    """Trained experiments and the claim's outcome. `stopped`: cancelled before the budget ran out,
    so nothing was measured (numbers empty, ok False)."""

    key: str
    experiments: Experiments
    numbers: Numbers
    ok: bool
    summary: str
    seconds: float
    stopped: bool = False


# ---- running ---------------------------------------------------------------------------------


def get_preset(key: str) -> Preset:
    if key not in PRESETS:
        raise ValueError(f"unknown preset {key!r}; choose one of: {', '.join(PRESETS)}")
    return PRESETS[key]


class PresetRun:
    """A preset's experiments, trained one after another in bounded chunks.

    Each config gets `steps` optimizer steps (a run that diverges stops early: that is an outcome,
    not an error). Nothing runs in the background; `advance` returns after at most k steps.
    """

    def __init__(self, key: str, steps: int | None = None) -> None:
        self.preset = get_preset(key)
        self.steps = int(steps or self.preset.steps)
        self.experiments: Experiments = {
            label: Experiment(config) for label, config in self.preset.experiment_configs().items()
        }
        self.seconds = 0.0  # training time spent in advance()

    def _finished(self, experiment: Experiment) -> bool:
        return experiment.diverged or experiment.steps_done >= self.steps

    @property
    def current(self) -> str | None:
        """Label of the config being trained, or None when all are done."""
        return next((k for k, e in self.experiments.items() if not self._finished(e)), None)

    @property
    def done(self) -> bool:
        return self.current is None

    def advance(self, k: int = CHUNK) -> Progress:
        """Train the current config for up to k steps; return where the run stands."""
        label = self.current
        if label is not None:
            experiment = self.experiments[label]
            started = time.perf_counter()
            experiment.step(min(int(k), self.steps - experiment.steps_done))
            self.seconds += time.perf_counter() - started
        return self.progress(label)

    def progress(self, label: str | None = None) -> Progress:
        """Progress of config `label` (default: the one being trained) and of the whole run."""
        label = label or self.current or list(self.experiments)[-1]
        # A diverged run counts as complete: it will take no more steps.
        done = sum(
            self.steps if self._finished(e) else e.steps_done for e in self.experiments.values()
        )
        total = self.steps * len(self.experiments)
        step = self.experiments[label].steps_done
        return Progress(label, step, self.steps, done / total, self.seconds)

    def result(self) -> PresetResult:
        """Measure and judge if every config is trained; otherwise a 'stopped' result."""
        if not self.done:
            progress = self.progress()
            summary = (
                f"Stopped while training '{progress.label}' (step {progress.step} of "
                f"{self.steps}, {progress.fraction:.0%} of the preset); run it to the end to "
                "test the claim."
            )
            return PresetResult(
                self.preset.key, self.experiments, {}, False, summary, self.seconds, True
            )
        numbers = self.preset.measure(self.experiments)
        ok, summary = self.preset.verdict(numbers)
        return PresetResult(self.preset.key, self.experiments, numbers, ok, summary, self.seconds)


def run_preset(
    key: str,
    steps: int | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    chunk: int = CHUNK,
) -> PresetResult:
    """Train every config of preset `key` (each for `steps`, default the preset's budget), then
    measure and judge the claim. `should_stop()` is asked before each chunk of `chunk` steps;
    `on_progress(Progress)` is called after each."""
    run = PresetRun(key, steps)
    while not run.done:
        if should_stop is not None and should_stop():
            break
        progress = run.advance(chunk)
        if on_progress is not None:
            on_progress(progress)
    return run.result()


# ---- shared measurements -----------------------------------------------------------------------


def grad_ratio(experiment: Experiment) -> float:
    """grad_norm[0] / grad_norm[-1] on the probe batch: the loss's gradient with respect to the first
    hidden state over that of the last (tiny: vanishing; huge: exploding). 0 when it underflows."""
    grad = experiment.probe(jacobian=False).grad_norm
    return float(grad[0] / grad[-1])


def orders_apart(small: float, large: float) -> float:
    """log10(large / small), with an underflowed 0 counted as float32's smallest normal number."""
    return math.log10(max(large, 1e-38) / max(small, 1e-38))


def steps_to_solve(experiment: Experiment) -> float:
    """First validated step whose metric counts as solved, NaN if none."""
    steps, _, metric = experiment.history.validations()
    solved = [s for s, m in zip(steps, metric, strict=True) if experiment.task.is_solved(float(m))]
    return float(solved[0]) if solved else math.nan


def fresh(experiment: Experiment) -> Experiment:
    """The same run before training: same config and seed give the same initial weights."""
    return Experiment(experiment.config)


def compare_cells(experiments: Experiments) -> Numbers:
    """Cells trained on one task, side by side (long_memory, gru_vs_lstm).

    Per cell: `{cell}_loss`, the task's metric as `{cell}_mse` or `{cell}_accuracy` (for MSE tasks
    the same number as the loss), `{cell}_solved_at` (steps_to_solve), `{cell}_params` and
    `{cell}_recurrent_params`. For the task: `baseline_mse` or `baseline_accuracy` and
    `solved_at` (the metric that counts as solved). With both an LSTM and a GRU:
    `recurrent_share`, the GRU's recurrent parameters over the LSTM's.
    """
    task = next(iter(experiments.values())).task
    metric = task.metric_name.lower()  # "mse" or "accuracy"
    numbers: Numbers = {f"baseline_{metric}": task.baseline, "solved_at": task.solved_at}
    for cell, experiment in experiments.items():
        numbers[f"{cell}_loss"], numbers[f"{cell}_{metric}"] = experiment.validate()
        numbers[f"{cell}_solved_at"] = steps_to_solve(experiment)
        numbers[f"{cell}_params"] = experiment.parameter_count()
        numbers[f"{cell}_recurrent_params"] = experiment.model.parameter_count(recurrent_only=True)
    if "gru" in experiments and "lstm" in experiments:
        share = numbers["gru_recurrent_params"] / numbers["lstm_recurrent_params"]
        numbers["recurrent_share"] = share
    return numbers


def _solved_text(steps: float) -> str:
    return "not within the budget" if math.isnan(steps) else f"at step {steps:.0f}"


# ---- 1. next number ------------------------------------------------------------------------------

FILL_IN_TEXT = "1, 2, 3, ?, 5"


def _next_number_measure(experiments: Experiments) -> Numbers:
    experiment = experiments["lstm"]
    answer = fill_in(experiment.model, experiment.config, FILL_IN_TEXT)
    return {
        "guess": answer.guess,
        "next": answer.next_value,
        "val_mse": experiment.validate()[0],
        "baseline_mse": experiment.task.baseline,
    }


def _next_number_verdict(n: Numbers) -> tuple[bool, str]:
    ok = abs(n["guess"] - 4) <= 0.5 and abs(n["next"] - 6) <= 0.5
    return ok, (
        f"The LSTM fills {FILL_IN_TEXT} with {n['guess']:.2f} and expects {n['next']:.2f} next "
        f"(claim: 4 and 6, each within 0.5); validation MSE {n['val_mse']:.5f} against "
        f"{n['baseline_mse']:.4f} for repeating the last number."
    )


# ---- 2. vanishing gradients -----------------------------------------------------------------------

ADDING_50 = dict(task="adding", seq_len=50, hidden=32, forget_bias=1.0, val_every=25, seed=0)


def _vanishing_measure(experiments: Experiments) -> Numbers:
    rnn, lstm = experiments["rnn"], experiments["lstm"]
    numbers = {"rnn_ratio": grad_ratio(rnn), "lstm_ratio": grad_ratio(lstm)}
    numbers["orders_apart"] = orders_apart(numbers["rnn_ratio"], numbers["lstm_ratio"])
    numbers["rnn_mse"], numbers["lstm_mse"] = rnn.validate()[0], lstm.validate()[0]
    return numbers


def _vanishing_verdict(n: Numbers) -> tuple[bool, str]:
    ok = n["orders_apart"] >= 4 and n["lstm_ratio"] >= 1e-3
    return ok, (
        f"Gradient at step 0 relative to step 49: RNN {n['rnn_ratio']:.1e}, LSTM "
        f"{n['lstm_ratio']:.1e}, {n['orders_apart']:.0f} orders of magnitude apart (claim: at "
        f"least 4, LSTM above 1e-3). Validation MSE: RNN {n['rnn_mse']:.3f}, "
        f"LSTM {n['lstm_mse']:.4f}."
    )


# ---- 3. long memory --------------------------------------------------------------------------------


def _long_memory_verdict(n: Numbers) -> tuple[bool, str]:
    ok = n["lstm_mse"] <= 0.01 and n["gru_mse"] <= 0.01 and n["rnn_mse"] >= 0.1
    return ok, (
        f"Validation MSE after the budget: LSTM {n['lstm_mse']:.4f} (solved "
        f"{_solved_text(n['lstm_solved_at'])}), GRU {n['gru_mse']:.4f} (solved "
        f"{_solved_text(n['gru_solved_at'])}), vanilla RNN {n['rnn_mse']:.3f} against the "
        f"{n['baseline_mse']:.3f} of always answering 1.0 (claim: LSTM and GRU at most 0.01, "
        "RNN at least 0.1)."
    )


# ---- 4. GRU against LSTM -----------------------------------------------------------------------------

COPY_3 = dict(
    task="copy", n_symbols=3, lag=10, alphabet=8, hidden=32, lr=0.01, val_every=25, seed=0
)


def _gru_vs_lstm_verdict(n: Numbers) -> tuple[bool, str]:
    solved = n["solved_at"]
    ok = n["lstm_accuracy"] >= solved and n["gru_accuracy"] >= solved
    return ok, (
        f"GRU: {n['gru_recurrent_params']:,} recurrent parameters ({n['gru_params']:,} in all), "
        f"accuracy {n['gru_accuracy']:.3f}, loss {n['gru_loss']:.3f}, solved "
        f"{_solved_text(n['gru_solved_at'])}. LSTM: {n['lstm_recurrent_params']:,} "
        f"({n['lstm_params']:,}), accuracy {n['lstm_accuracy']:.3f}, loss {n['lstm_loss']:.3f}, "
        f"solved {_solved_text(n['lstm_solved_at'])}. The GRU has "
        f"{n['recurrent_share']:.2f} of the LSTM's recurrent parameters (claim: both reach "
        f"{solved:.0%} recall accuracy)."
    )


# ---- 5. exploding gradients ------------------------------------------------------------------------

EXPLODING = dict(
    cell="rnn",
    task="sine",
    seq_len=50,
    hidden=32,
    init="scaled",
    init_gain=3.0,  # spectral radius about 3: each step back multiplies the gradient up
    optimizer="sgd",  # Adam rescales every step and would hide the blow-up
    lr=0.1,
    momentum=0.9,
    val_every=25,
    seed=0,
)


def _exploding_measure(experiments: Experiments) -> Numbers:
    clipped = experiments["clipped"]
    numbers: Numbers = {
        "initial_ratio": grad_ratio(fresh(clipped)),
        "baseline_mse": clipped.task.baseline,
    }
    for label, experiment in experiments.items():
        numbers[f"{label}_max_grad_norm"] = float(np.max(experiment.history.grad_norm))
        numbers[f"{label}_diverged"] = experiment.diverged
        numbers[f"{label}_steps"] = experiment.steps_done
        numbers[f"{label}_mse"] = math.inf if experiment.diverged else experiment.validate()[0]
    numbers["clipped_fraction"] = clipped.history.clipped_fraction()
    return numbers


def _exploding_verdict(n: Numbers) -> tuple[bool, str]:
    unclipped_failed = n["unclipped_diverged"] or n["unclipped_mse"] >= n["baseline_mse"]
    clipped_learned = not n["clipped_diverged"] and n["clipped_mse"] <= 0.5 * n["baseline_mse"]
    ok = n["initial_ratio"] >= 100 and n["unclipped_max_grad_norm"] >= 1e3
    ok = ok and unclipped_failed and clipped_learned
    without = (
        f"diverged at step {n['unclipped_steps'] + 1}"
        if n["unclipped_diverged"]
        else f"ended at validation MSE {n['unclipped_mse']:.3f}"
    )
    return ok, (
        f"At the start the gradient at step 0 is {n['initial_ratio']:.1e} times the one at step "
        f"49. Without clipping the gradient norm reached {n['unclipped_max_grad_norm']:.1e} and "
        f"training {without}. With clipping at 1 ({n['clipped_fraction']:.0%} of steps clipped) it "
        f"reached validation MSE {n['clipped_mse']:.3f}, against {n['baseline_mse']:.3f} for "
        "repeating the last value (claim: unclipped diverges or ends above that baseline, clipped "
        "ends below half of it)."
    )


# ---- 6. forecasting --------------------------------------------------------------------------------


def _forecast_measure(experiments: Experiments) -> Numbers:
    experiment = experiments["lstm"]
    batch, horizon = experiment.val_batch, experiment.config.horizon
    truth = experiment.task.future(batch, horizon)  # (N, horizon) clean values
    forecast = rollout(experiment.model, batch, horizon)
    last_seen = batch.inputs[:, -1, 0].cpu().numpy()[:, None]  # the naive forecast
    return {
        "horizon": horizon,
        "rollout_mse": float(np.mean((forecast - truth) ** 2)),
        "repeat_last_mse": float(np.mean((last_seen - truth) ** 2)),
        "zero_mse": float(np.mean(truth**2)),
        "one_step_mse": experiment.validate()[0],
    }


def _forecast_verdict(n: Numbers) -> tuple[bool, str]:
    ok = n["rollout_mse"] <= 0.25 * n["repeat_last_mse"] and n["rollout_mse"] < n["zero_mse"]
    return ok, (
        f"Forecasting {n['horizon']} steps ahead on its own predictions, the LSTM's MSE is "
        f"{n['rollout_mse']:.3f}, against {n['repeat_last_mse']:.3f} for repeating the last value "
        f"and {n['zero_mse']:.3f} for predicting the mean (claim: at most a quarter of the "
        f"first, below the second); one step ahead it is {n['one_step_mse']:.4f}."
    )


# ---- 7. text -----------------------------------------------------------------------------------------

TEXT_PROMPT = "the "
TEXT_LENGTH = 400
TEXT_TEMPERATURE = 0.5


def words_of(text: str) -> list[str]:
    """Lower-case space-separated tokens with everything but letters and apostrophes removed."""
    tokens = (re.sub(r"[^a-z']", "", token) for token in text.lower().split())
    return [token for token in tokens if token]


def word_fraction(text: str, vocabulary: set[str]) -> float:
    """Share of the text's tokens that are words of `vocabulary` (0 for no tokens)."""
    tokens = words_of(text)
    return sum(token in vocabulary for token in tokens) / len(tokens) if tokens else 0.0


def _text_measure(experiments: Experiments) -> Numbers:
    experiment = experiments["lstm"]
    task, rng = experiment.task, np.random.default_rng(experiment.config.seed)
    vocabulary = set(words_of(load_corpus()))
    sample = generate_text(experiment.model, task, TEXT_PROMPT, TEXT_LENGTH, TEXT_TEMPERATURE, rng)
    # Reference: characters drawn independently with the corpus's letter frequencies.
    counts = np.bincount(task.codes[: task.split_at], minlength=len(task.vocabulary))
    unigram = task.decode(rng.choice(len(counts), size=TEXT_LENGTH, p=counts / counts.sum()))
    return {
        "accuracy": experiment.validate()[1],
        "baseline_accuracy": task.baseline,
        "word_fraction": word_fraction(sample, vocabulary),
        "unigram_word_fraction": word_fraction(unigram, vocabulary),
        "sample": sample,
    }


def _text_verdict(n: Numbers) -> tuple[bool, str]:
    ok = n["accuracy"] >= n["baseline_accuracy"] + 0.2 and n["word_fraction"] >= 0.6
    ok = ok and n["word_fraction"] >= n["unigram_word_fraction"] + 0.3
    return ok, (
        f"{n['word_fraction']:.0%} of the generated words are words of the corpus (text drawn "
        f"letter by letter with the corpus's letter frequencies: "
        f"{n['unigram_word_fraction']:.0%}); next-character accuracy {n['accuracy']:.3f} against "
        f"{n['baseline_accuracy']:.3f} for always guessing a space (claim: at least 60% words, "
        "30 points above the letter-frequency text, accuracy 0.2 above the baseline)."
    )


# ---- 8. speech ----------------------------------------------------------------------------------------

SPEECH_BATCH = 128  # sequences for the hidden-state measurements (fit and held-out)


def final_hidden(experiment: Experiment, stream: int) -> tuple[np.ndarray, np.ndarray]:
    """(hidden (N, H) at each word's last frame, labels (N,)) of a fixed validation batch drawn
    from stream `stream` (4 and up: the trainer uses 1-3)."""
    rng = np.random.default_rng([experiment.config.seed, stream])
    batch = experiment.task.sample(SPEECH_BATCH, rng, split="val")
    probed = experiment.probe(batch=batch, jacobian=False)
    last = probed.lengths - 1
    return probed.hidden[np.arange(len(last)), last], np.asarray(batch.meta["labels"])


def centroid_accuracy(experiment: Experiment) -> float:
    """Nearest-class-mean classifier on final hidden states: means from one batch, scored on
    another. High when the trajectories of different words end in different places."""
    fit_h, fit_y = final_hidden(experiment, 4)
    test_h, test_y = final_hidden(experiment, 5)
    classes = np.unique(fit_y)
    centroids = np.stack([fit_h[fit_y == c].mean(axis=0) for c in classes])
    distances = ((test_h[:, None, :] - centroids[None]) ** 2).sum(axis=-1)
    return float(np.mean(classes[distances.argmin(axis=1)] == test_y))


def separation(experiment: Experiment) -> float:
    """Mean distance between class means of final hidden states over the mean distance of a state
    to its own class mean (above 1: classes are apart more than they are spread)."""
    hidden, labels = final_hidden(experiment, 5)
    classes = np.unique(labels)
    centroids = np.stack([hidden[labels == c].mean(axis=0) for c in classes])
    within = np.mean(
        [
            np.linalg.norm(hidden[labels == c] - centroids[i], axis=1).mean()
            for i, c in enumerate(classes)
        ]
    )
    pairs = [(i, j) for i in range(len(classes)) for j in range(i + 1, len(classes))]
    between = np.mean([np.linalg.norm(centroids[i] - centroids[j]) for i, j in pairs])
    return float(between / within)


def _speech_measure(experiments: Experiments) -> Numbers:
    experiment = experiments["lstm"]
    untrained = fresh(experiment)
    return {
        "accuracy": experiment.validate()[1],
        "chance": experiment.task.baseline,
        "centroid_accuracy": centroid_accuracy(experiment),
        "untrained_centroid_accuracy": centroid_accuracy(untrained),
        "separation": separation(experiment),
        "untrained_separation": separation(untrained),
    }


def _speech_verdict(n: Numbers) -> tuple[bool, str]:
    ok = n["accuracy"] >= 4 * n["chance"] and n["centroid_accuracy"] >= 4 * n["chance"]
    ok = ok and n["separation"] >= 2 * n["untrained_separation"]
    return ok, (
        f"Word accuracy {n['accuracy']:.3f} against chance {n['chance']:.3f}. The final hidden "
        f"states alone classify {n['centroid_accuracy']:.3f} of new words by nearest class mean "
        f"(untrained network: {n['untrained_centroid_accuracy']:.3f}); classes sit "
        f"{n['separation']:.1f} times further apart than they spread (untrained: "
        f"{n['untrained_separation']:.1f}). Claim: accuracies at least 4x chance, separation at "
        "least doubled by training."
    )


# ---- the presets -----------------------------------------------------------------------------------

PRESETS: dict[str, Preset] = {
    preset.key: preset
    for preset in [
        Preset(
            key="next_number",
            title="Next number",
            claim="An LSTM trained on arithmetic sequences works out the rule of a new sequence, "
            "so it can fill a gap and continue it.",
            expect="The loss falls far below the 'repeat the last number' line within a few "
            "hundred steps. Typing 1, 2, 3, ?, 5 gives about 4 for the gap and about 6 next: "
            "the network has learned to add the step it infers from the numbers it has read.",
            configs={
                # Short sequences: a typed 5-number sequence looks like training data.
                "lstm": dict(
                    cell="lstm",
                    task="next_number",
                    seq_len=10,
                    hidden=32,
                    lr=0.01,
                    val_every=25,
                    seed=0,
                ),
            },
            steps=600,
            measure=_next_number_measure,
            verdict=_next_number_verdict,
            show=("loss", "fill_in"),
        ),
        Preset(
            key="vanishing",
            title="Vanishing gradients",
            claim="In a vanilla RNN the gradient shrinks with every step back in time, so early "
            "inputs cannot be learned from; an LSTM keeps it alive.",
            expect="On the gradient-per-time-step chart (log scale) the RNN's curve drops by many "
            "orders of magnitude toward step 0 and its loss stays at the 0.167 line. The LSTM's "
            "curve is just as steep until it finds the trick (around step 500); then its cell "
            "state carries the gradient back and the curve flattens.",
            configs={
                "rnn": dict(cell="rnn", lr=0.02, **ADDING_50),
                "lstm": dict(cell="lstm", lr=0.02, **ADDING_50),
            },
            steps=700,
            measure=_vanishing_measure,
            verdict=_vanishing_verdict,
            show=("grad_per_step", "loss"),
        ),
        Preset(
            key="long_memory",
            title="Long memory",
            claim="Gated cells (LSTM, GRU) carry a number across 50 steps; a vanilla RNN cannot.",
            expect="In the adding problem the answer depends on a number seen up to 50 steps "
            "earlier. All three start on the 0.167 line (always answering 1.0). The GRU drops "
            "below 0.01 after a few hundred steps, the LSTM a little later; the vanilla RNN stays "
            "near the line, because its gradient never reaches the first marked number.",
            configs={
                "rnn": dict(cell="rnn", lr=0.02, **ADDING_50),
                "lstm": dict(cell="lstm", lr=0.02, **ADDING_50),
                "gru": dict(cell="gru", lr=0.01, **ADDING_50),
            },
            steps=600,
            measure=compare_cells,
            verdict=_long_memory_verdict,
            show=("loss", "grad_per_step"),
        ),
        Preset(
            key="gru_vs_lstm",
            title="GRU against LSTM",
            claim="A GRU, with three gate blocks to the LSTM's four, learns as well with 3/4 of the "
            "recurrent parameters.",
            expect="Both cells learn to recall three symbols after a pause of ten steps, with the "
            "same settings; their loss curves fall at about the same time and both end near "
            "100% accuracy. The parameter counts show the GRU's recurrent part is exactly 3/4 of "
            "the LSTM's. (On a CPU PyTorch's GRU still runs slower per step than its LSTM.)",
            configs={
                "lstm": dict(cell="lstm", **COPY_3),
                "gru": dict(cell="gru", **COPY_3),
            },
            steps=1200,
            measure=compare_cells,
            verdict=_gru_vs_lstm_verdict,
            show=("loss", "params"),
        ),
        Preset(
            key="exploding",
            title="Exploding gradients",
            claim="Recurrent weights that are too large make the gradient explode back through "
            "time; clipping its norm keeps training stable.",
            expect="The recurrent weights start three times too large, so the gradient grows "
            "about a million-fold from the last step back to the first. With plain SGD and no "
            "clipping, a few such steps throw the weights so far that training blows up after "
            "a few dozen steps. The same run with the gradient norm clipped at 1 takes only "
            "bounded steps and goes on to learn the waves.",
            configs={
                "unclipped": dict(clip=0.0, **EXPLODING),
                "clipped": dict(clip=1.0, **EXPLODING),
            },
            steps=400,
            measure=_exploding_measure,
            verdict=_exploding_verdict,
            show=("grad_norm", "loss", "grad_per_step"),
        ),
        Preset(
            key="forecast",
            title="Forecasting",
            claim="An LSTM trained on noisy waves forecasts the clean wave several steps ahead.",
            expect="The one-step predictions soon follow the smooth wave through the noise. The "
            "forecast feeds the network's own outputs back in for 10 steps; its error stays "
            "several times below repeating the last value, because the network has picked up "
            "the waves' speeds and phases.",
            configs={
                "lstm": dict(
                    cell="lstm",
                    task="sine",
                    seq_len=50,
                    noise=0.1,
                    horizon=10,
                    hidden=32,
                    lr=0.01,
                    val_every=25,
                    seed=0,
                ),
            },
            steps=1000,
            measure=_forecast_measure,
            verdict=_forecast_verdict,
            show=("loss", "rollout"),
        ),
        Preset(
            key="text",
            title="Writing text",
            claim="A character-level LSTM trained on the corpus starts writing its words.",
            expect="Accuracy climbs well past always guessing a space. Sampled text turns from "
            "letter soup into mostly real words from the corpus within a few hundred steps, "
            "with the grammar still loose. Low temperature repeats common phrases; high "
            "temperature invents words.",
            configs={
                "lstm": dict(
                    cell="lstm",
                    task="text",
                    seq_len=50,
                    hidden=64,
                    lr=0.01,
                    val_every=50,
                    seed=0,
                ),
            },
            steps=500,
            measure=_text_measure,
            verdict=_text_verdict,
            show=("loss", "generate"),
        ),
        Preset(
            key="speech",
            title="Recognising words",
            claim="An LSTM classifies synthetic spoken words, and its hidden state takes a "
            "different path for each word.",
            expect="Accuracy rises far above chance (one in eight) within a hundred steps. In the "
            "hidden-state trajectories, paths of the same word end close together and paths of "
            "different words end apart; before training they are mixed together much more.",
            configs={
                "lstm": dict(
                    cell="lstm",
                    task="speech",
                    n_classes=8,
                    noise=0.5,
                    seq_len=40,
                    hidden=32,
                    lr=0.01,
                    val_every=25,
                    seed=0,
                ),
            },
            steps=200,
            measure=_speech_measure,
            verdict=_speech_verdict,
            show=("loss", "trajectories"),
        ),
    ]
}


# ---- simple configs ------------------------------------------------------------------------------

# Ideas the Learn page demonstrates without a measured claim: name -> ExperimentConfig keyword
# arguments, max_steps being the budget (a minute or two on one core).
CONFIGS: dict[str, dict[str, Any]] = {
    # The gradient per time step falls off from the scored last step back toward step 0.
    "bptt": dict(cell="rnn", task="adding", seq_len=20, hidden=32, lr=0.01, max_steps=1500),
    # Gates tab: input gate opens on the symbols, forget gate holds through the pause.
    "lstm_gates": dict(
        cell="lstm",
        task="copy",
        n_symbols=4,
        lag=10,
        alphabet=8,
        hidden=64,
        lr=0.01,
        max_steps=2000,
    ),
    # Batches of 4 to 24 numbers, packed so padding never enters the state or the loss.
    "variable_length": dict(
        cell="lstm",
        task="next_number",
        seq_len=24,
        min_len=4,
        hidden=32,
        lr=0.01,
        max_steps=1500,
    ),
}


def config_names() -> list[str]:
    """Every name config_for resolves: "preset:label" for each config of each preset, then the
    keys of CONFIGS."""
    labelled = [f"{key}:{label}" for key, preset in PRESETS.items() for label in preset.configs]
    return labelled + list(CONFIGS)


def config_for(name: str) -> dict[str, Any]:
    """ExperimentConfig keyword arguments for one runnable config, by name: "preset:label" (one
    config of a preset, with the preset's step budget as max_steps) or a key of CONFIGS."""
    key, colon, label = name.partition(":")
    if colon:
        preset = get_preset(key)
        if label not in preset.configs:
            raise ValueError(
                f"preset {key!r} has no config {label!r}; choose one of: {', '.join(preset.configs)}"
            )
        return {**preset.configs[label], "max_steps": preset.steps}
    if name not in CONFIGS:
        raise ValueError(f"unknown config {name!r}; choose one of: {', '.join(config_names())}")
    return dict(CONFIGS[name])
