"""The measured teaching experiments the Learn, Race and Sweep pages run, usable from a notebook:

- `CLAIMS` and `ClaimRun` / `run_claim`: each claim of the seed as an experiment with its verdict
  (core/teaching/memory.py, applications.py; the runner in runner.py); `SEQ2SEQ_CLAIMS`: the
  translation claim, on encoder-decoders (the Learn and Translate pages show it); `get_claim`
  finds a claim of either kind;
- `config_for` / `config_names`: the named configs behind the Learn page's "Show me" buttons;
- `Race`: the no-memory model, rnn, lstm and gru trained side by side on identical data;
- `Sweep`: how far back each cell can remember.
"""

from core.teaching.catalogue import CONFIGS, config_for, config_names
from core.teaching.claims import CLAIMS, SEQ2SEQ_CLAIMS, get_claim
from core.teaching.race import Race
from core.teaching.runner import Claim, ClaimResult, ClaimRun, Progress, run_claim
from core.teaching.sweep import Sweep, SweepPoint

__all__ = [
    "CLAIMS",
    "CONFIGS",
    "Claim",
    "ClaimResult",
    "ClaimRun",
    "Progress",
    "SEQ2SEQ_CLAIMS",
    "Race",
    "Sweep",
    "SweepPoint",
    "config_for",
    "config_names",
    "get_claim",
    "run_claim",
]
