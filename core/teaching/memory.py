"""Claims about memory and gradients: the next-number puzzle, a network without memory against one
with it, vanishing and exploding gradients, long memory in gated cells, and the GRU against the
LSTM.

Each claim is an experiment (`runner.Claim`): its configs, a `measure` that reads the trained
experiments and a `verdict` that says in one sentence, with the numbers, whether the claim holds.
The thresholds hold on seeds 0-4 with margin (tests/core/teaching/test_claims.py prints the
per-seed figures); the Learn page runs seed 0.
"""

from __future__ import annotations

import math

import numpy as np

from core.tasks import fill_in
from core.teaching.measures import (
    compare_cells,
    fresh,
    grad_ratio,
    orders_apart,
    recent_grad_ratio,
    solved_text,
)
from core.teaching.runner import Claim, Experiments, Numbers

# ---- 1. next number ------------------------------------------------------------------------------

FILL_IN_TEXT = "1, 2, 3, ?, 5"
FILL_IN_TOLERANCE = 0.25  # the run stops at the first check within it: "about 4" must be close


def _next_number_measure(experiments: Experiments) -> Numbers:
    experiment = experiments["lstm"]
    with experiment.lock:
        answer = fill_in(experiment.model, experiment.config, FILL_IN_TEXT)
    return {
        "guess": answer.guess,
        "next": answer.next_value,
        "val_mse": experiment.validate()[0],
        "baseline_mse": experiment.task.baseline,
        "steps": experiment.steps_done,
    }


def _next_number_verdict(n: Numbers) -> tuple[bool, str]:
    ok = abs(n["guess"] - 4) <= FILL_IN_TOLERANCE and abs(n["next"] - 6) <= FILL_IN_TOLERANCE
    return ok, (
        f"After {n['steps']} steps the LSTM fills {FILL_IN_TEXT} with {n['guess']:.2f} and "
        f"expects {n['next']:.2f} next (claim: 4 and 6, each within {FILL_IN_TOLERANCE}); "
        f"validation MSE "
        f"{n['val_mse']:.5f} against {n['baseline_mse']:.4f} for repeating the last number."
    )


# ---- 1b. no memory: each input on its own ----------------------------------------------------------

# Twenty steps: the last input, all a model without memory sees, rarely holds a marked number.
ADDING_20 = dict(task="adding", seq_len=20, hidden=32, lr=0.02, val_every=25, seed=0)
AT_BASELINE = 0.8  # "stays at its baseline": validation MSE at least this share of the baseline's


def _independent_measure(experiments: Experiments) -> Numbers:
    numbers = compare_cells(experiments)
    grad = experiments["feedforward"].probe(jacobian=False).grad_norm  # ||dLoss/dh_t|| per step
    numbers["feedforward_grad_before_last"] = float(np.max(grad[:-1]))
    numbers["feedforward_grad_last"] = float(grad[-1])
    return numbers


def _independent_verdict(n: Numbers) -> tuple[bool, str]:
    at_baseline = n["feedforward_mse"] >= AT_BASELINE * n["baseline_mse"]
    ok = n["lstm_mse"] <= n["solved_at"] and at_baseline and n["feedforward_grad_before_last"] == 0
    return ok, (
        f"The LSTM solved it {solved_text(n['lstm_solved_at'])} (validation MSE "
        f"{n['lstm_mse']:.4f}); after as many steps, {n['feedforward_steps']}, the no-memory model "
        f"is at {n['feedforward_mse']:.3f}, against {n['baseline_mse']:.3f} for always answering "
        f"1.0. Its gradient reaches only the last step ({n['feedforward_grad_last']:.2e}); at "
        f"every earlier step it is exactly {n['feedforward_grad_before_last']:g} (claim: LSTM at "
        f"most {n['solved_at']:g}, no memory at least {AT_BASELINE:.0%} of the baseline, with no "
        "gradient before the last step)."
    )


# ---- 2. vanishing gradients -----------------------------------------------------------------------

# One setting for every cell of the memory claims: only the cell differs.
ADDING_50 = dict(
    task="adding", seq_len=50, hidden=32, lr=0.02, forget_bias=1.0, val_every=25, seed=0
)


def _vanishing_measure(experiments: Experiments) -> Numbers:
    rnn, lstm = experiments["rnn"], experiments["lstm"]
    numbers = {"rnn_ratio": recent_grad_ratio(rnn), "lstm_ratio": recent_grad_ratio(lstm)}
    numbers["orders_apart"] = orders_apart(numbers["rnn_ratio"], numbers["lstm_ratio"])
    numbers["rnn_mse"], numbers["lstm_mse"] = rnn.validate()[0], lstm.validate()[0]
    numbers["steps"] = max(rnn.steps_done, lstm.steps_done)
    return numbers


def _vanishing_verdict(n: Numbers) -> tuple[bool, str]:
    ok = n["orders_apart"] >= 2 and n["lstm_ratio"] >= 1e-3 and n["lstm_mse"] <= 0.01
    return ok, (
        f"After {n['steps']} steps, the gradient reaching step 0 is {n['rnn_ratio']:.0e} of the "
        f"one at step 49 in the vanilla RNN and {n['lstm_ratio']:.0e} in the LSTM: "
        f"{n['orders_apart']:.1f} orders of magnitude apart (claim: at least 2, with the LSTM's "
        f"at least 1e-3 once it has learned). Validation MSE: RNN {n['rnn_mse']:.3f}, "
        f"LSTM {n['lstm_mse']:.4f}."
    )


# ---- 3. long memory --------------------------------------------------------------------------------


def _long_memory_verdict(n: Numbers) -> tuple[bool, str]:
    ok = n["lstm_mse"] <= 0.01 and n["gru_mse"] <= 0.01 and n["rnn_mse"] >= 0.1
    return ok, (
        f"The GRU solved it {solved_text(n['gru_solved_at'])} (validation MSE "
        f"{n['gru_mse']:.4f}) and the LSTM {solved_text(n['lstm_solved_at'])} "
        f"({n['lstm_mse']:.4f}); after as many steps, {n['rnn_steps']}, the vanilla RNN is at "
        f"{n['rnn_mse']:.3f}, against {n['baseline_mse']:.3f} for always answering 1.0 (claim: "
        "LSTM and GRU at most 0.01, RNN at least 0.1)."
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
        f"accuracy {n['gru_accuracy']:.3f}, solved {solved_text(n['gru_solved_at'])}. "
        f"LSTM: {n['lstm_recurrent_params']:,} ({n['lstm_params']:,}), accuracy "
        f"{n['lstm_accuracy']:.3f}, solved {solved_text(n['lstm_solved_at'])}. The GRU has "
        f"{n['recurrent_share']:.2f} of the LSTM's recurrent parameters (claim: both reach "
        f"{solved:.0%} recall accuracy)."
    )


# ---- 5. exploding gradients ------------------------------------------------------------------------

CLIP = 0.25
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
        f"training {without}. With clipping at {CLIP} ({n['clipped_fraction']:.0%} of steps clipped) it "
        f"reached validation MSE {n['clipped_mse']:.3f} in {n['clipped_steps']} steps, against "
        f"{n['baseline_mse']:.3f} for repeating the last value (claim: unclipped diverges or ends "
        "above that baseline, clipped ends below half of it)."
    )


CLAIMS = [
    Claim(
        key="next_number",
        title="Next number",
        claim="An LSTM trained on arithmetic sequences works out the rule of a new sequence, so it "
        "can fill a gap and continue it.",
        expect="The loss falls far below the 'repeat the last number' line within a few hundred "
        "steps. Typing 1, 2, 3, ?, 5 gives about 4 for the gap and about 6 next: the network has "
        "learned to add the step it infers from the numbers it has read.",
        # Short sequences: a typed 5-number sequence looks like training data.
        configs={
            "lstm": dict(
                cell="lstm", task="next_number", seq_len=10, hidden=32, lr=0.01, val_every=25
            )
        },
        steps=600,
        measure=_next_number_measure,
        verdict=_next_number_verdict,
        check_every=50,
        show=("loss", "fill_in"),
    ),
    Claim(
        key="independent",
        title="Each input on its own",
        claim="Traditional networks treat each input independently: without a hidden state, a "
        "network can't use what came before, where a recurrent one can.",
        expect="Both learn the adding problem (20 steps, two of them marked; the answer is the sum "
        "of the marked numbers). The LSTM drops below 0.01 within a few hundred steps. The "
        "no-memory network sees only the last step, which rarely holds a marked number, so it "
        "stays on the 0.167 line of always answering 1.0. On the gradient-per-step chart its "
        "gradient exists at the last step only: nothing earlier can change its answer.",
        configs={
            "feedforward": dict(cell="feedforward", **ADDING_20),
            "lstm": dict(cell="lstm", **ADDING_20),
        },
        steps=1000,
        measure=_independent_measure,
        verdict=_independent_verdict,
        settle=("lstm",),
        check_every=25,
        show=("loss", "grad_per_step"),
    ),
    Claim(
        key="vanishing",
        title="Vanishing gradients",
        claim="In a vanilla RNN the gradient shrinks with every step back in time, so early inputs "
        "cannot be learned from; an LSTM keeps it alive.",
        expect="On the gradient-per-time-step chart (log scale) the RNN's curve drops by many "
        "orders of magnitude toward step 0 and its loss stays at the 0.167 line. The LSTM's curve "
        "is just as steep until it finds the trick (a few hundred steps in); then its cell state "
        "carries the gradient back and the curve flattens.",
        configs={"rnn": dict(cell="rnn", **ADDING_50), "lstm": dict(cell="lstm", **ADDING_50)},
        steps=1500,
        measure=_vanishing_measure,
        verdict=_vanishing_verdict,
        settle=("lstm",),
        check_every=25,
        observe=True,
        show=("grad_per_step", "loss"),
    ),
    Claim(
        key="long_memory",
        title="Long memory",
        claim="Gated cells (LSTM, GRU) carry a number across 50 steps; a vanilla RNN cannot.",
        expect="In the adding problem the answer depends on a number seen up to 50 steps "
        "earlier. All three start on the 0.167 line (always answering 1.0). The GRU drops below "
        "0.01 after a couple of hundred steps, the LSTM later; the vanilla RNN, trained as long, "
        "stays near the line, because its gradient never reaches the first marked number.",
        configs={cell: dict(cell=cell, **ADDING_50) for cell in ("rnn", "lstm", "gru")},
        steps=1500,
        measure=compare_cells,
        verdict=_long_memory_verdict,
        settle=("lstm", "gru"),
        check_every=25,
        show=("loss", "grad_per_step"),
    ),
    Claim(
        key="gru_vs_lstm",
        title="GRU against LSTM",
        claim="A GRU, with three gate blocks to the LSTM's four, learns as well with 3/4 of the "
        "recurrent parameters.",
        expect="Both cells learn to recall three symbols after a pause of ten steps, with the "
        "same settings; their loss curves fall at about the same time and both end near 100% "
        "accuracy. The parameter counts show the GRU's recurrent part is exactly 3/4 of the "
        "LSTM's. (On a CPU PyTorch's GRU still runs slower per step than its LSTM.)",
        configs={"lstm": dict(cell="lstm", **COPY_3), "gru": dict(cell="gru", **COPY_3)},
        steps=2000,  # the LSTM needed 875-1150 steps on seeds 0-4 here
        measure=compare_cells,
        verdict=_gru_vs_lstm_verdict,
        settle=("lstm", "gru"),
        check_every=25,
        show=("loss", "params"),
    ),
    Claim(
        key="exploding",
        title="Exploding gradients",
        claim="Recurrent weights that are too large make the gradient explode back through time; "
        "clipping its norm keeps training stable.",
        expect="The recurrent weights start three times too large, so the gradient grows about a "
        "million-fold from the last step back to the first. With plain SGD and no clipping, a few "
        "such steps throw the weights so far that training blows up after a few dozen steps. The "
        "same run with the gradient norm clipped at 0.25 takes only bounded steps and goes on to "
        "learn the waves.",
        configs={
            "unclipped": dict(clip=0.0, **EXPLODING),
            # Clipped at 0.25, a step moves the weights at most 0.025: small enough to learn on
            # every seed 0-7 here (at 1 one seed of five never settled).
            "clipped": dict(clip=CLIP, **EXPLODING),
        },
        steps=1000,
        measure=_exploding_measure,
        verdict=_exploding_verdict,
        check_every=50,
        show=("grad_norm", "loss", "grad_per_step"),
    ),
]
