"""Every claim of the seed as a measured experiment, in the order the Learn page tells them:
`CLAIMS` maps a key to a `runner.Claim`. The claims themselves live by theme in
core/teaching/memory.py and core/teaching/applications.py."""

from __future__ import annotations

from core.teaching import applications, memory
from core.teaching.runner import Claim

CLAIMS: dict[str, Claim] = {claim.key: claim for claim in memory.CLAIMS + applications.CLAIMS}
# Claims about encoder-decoders (core.seq2seq): the same runner runs them; the Learn page does not
# show them yet (it draws SequenceModel runs).
SEQ2SEQ_CLAIMS: dict[str, Claim] = {claim.key: claim for claim in applications.SEQ2SEQ_CLAIMS}


def get_claim(key: str) -> Claim:
    if key not in CLAIMS:
        raise ValueError(f"unknown claim {key!r}; choose one of: {', '.join(CLAIMS)}")
    return CLAIMS[key]
