"""Every claim of the seed as a measured experiment, in the order the Learn page tells them:
`CLAIMS` maps a key to a `runner.Claim` on SequenceModel runs, `SEQ2SEQ_CLAIMS` those on
encoder-decoders (core.seq2seq), and `get_claim` finds either. The claims themselves live by
theme in core/teaching/memory.py and core/teaching/applications.py."""

from __future__ import annotations

from core.teaching import applications, memory
from core.teaching.runner import Claim

CLAIMS: dict[str, Claim] = {claim.key: claim for claim in memory.CLAIMS + applications.CLAIMS}
# Claims about encoder-decoders (core.seq2seq): the same runner runs them. Kept apart because the
# playground's "Show me" configs (catalogue.py) and SequenceModel probes don't apply to them.
SEQ2SEQ_CLAIMS: dict[str, Claim] = {claim.key: claim for claim in applications.SEQ2SEQ_CLAIMS}


def get_claim(key: str) -> Claim:
    """A claim of either kind by key."""
    claim = CLAIMS.get(key) or SEQ2SEQ_CLAIMS.get(key)
    if claim is None:
        known = ", ".join([*CLAIMS, *SEQ2SEQ_CLAIMS])
        raise ValueError(f"unknown claim {key!r}; choose one of: {known}")
    return claim
