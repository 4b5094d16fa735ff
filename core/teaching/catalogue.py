"""Named configs for the Learn page's "Show me" buttons: one per experiment of each claim
("claim:label") and a few plain ones (CONFIGS) that show an idea without a measured claim.
`config_for(name)` gives ExperimentConfig keyword arguments, max_steps being the step budget."""

from __future__ import annotations

from typing import Any

from core.teaching.claims import CLAIMS, get_claim

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
    """Every name config_for resolves: "claim:label" for each config of each claim, then the
    keys of CONFIGS."""
    labelled = [f"{key}:{label}" for key, claim in CLAIMS.items() for label in claim.configs]
    return labelled + list(CONFIGS)


def config_for(name: str) -> dict[str, Any]:
    """ExperimentConfig keyword arguments for one runnable config, by name: "claim:label" (one
    config of a claim, with the claim's step budget as max_steps) or a key of CONFIGS."""
    key, colon, label = name.partition(":")
    if colon:
        claim = get_claim(key)
        if claim.seq2seq:
            raise ValueError(f"claim {key!r} trains encoder-decoders; the Translate page runs it")
        if label not in claim.configs:
            raise ValueError(
                f"claim {key!r} has no config {label!r}; choose one of: {', '.join(claim.configs)}"
            )
        return {**claim.configs[label], "max_steps": claim.steps}
    if name not in CONFIGS:
        raise ValueError(f"unknown config {name!r}; choose one of: {', '.join(config_names())}")
    return dict(CONFIGS[name])
