"""The experiment's settings: one flat, frozen dataclass and the one schema of its fields.

Every field is declared once in `FIELDS` with its type, default and bounds (or choices). The same
schema validates notebook use (`ExperimentConfig(...)` raises `ConfigError` on a bad value), parses
URL query parameters (`from_params` clamps, replaces and reports, never raises) and writes them back
(`to_params`, only the fields that differ from the defaults, so links stay short).

The config is flat rather than split into model/task/train parts because the URL is flat: one name
per setting, one place to look it up.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from core.cells import CELL_NAMES, get_cell

INIT_NAMES = ("default", "orthogonal", "identity", "scaled")
OPTIMIZER_NAMES = ("adam", "sgd", "rmsprop")
SEQUENCE_KINDS = ("arithmetic", "geometric", "fibonacci")
NORMALISATIONS = ("auto", "zscore", "minmax", "none", "diff", "window", "relative")

# batch x seq_len x gates x (hidden^2 + 64 hidden) x layers: rough multiply-adds of one forward step.
# 400M keeps one training step near a quarter second on one CPU core and one session under 500 MB.
# The page and URL parsing enforce it; a notebook may pass `budget=None` to `Experiment`.
COST_BUDGET = 400_000_000
# A 1024-unit, 3-layer LSTM holds 21M parameters: weights, gradients and Adam's buffers alone pass
# 300 MB (bench/RESULTS.md, memory). Interactive runs stop at 512 units.
MAX_INTERACTIVE_HIDDEN = 512


class ConfigError(ValueError):
    """A setting is out of range or unknown; the message says what is allowed."""


@dataclass(frozen=True)
class Field:
    """One setting: its type, default, and either bounds (numbers) or choices (names)."""

    name: str
    kind: type
    default: Any
    low: float | None = None
    high: float | None = None
    # The allowed names, or a function giving them (for a registry that imports this module).
    choices: tuple[str, ...] | Callable[[], tuple[str, ...]] | None = None
    help: str = ""
    link_only: bool = False  # a setting of the link (the page), not of the run

    @property
    def options(self) -> tuple[str, ...] | None:
        """The allowed names (None for numbers and flags)."""
        return self.choices() if callable(self.choices) else self.choices

    def check(self, value: Any) -> Any:
        """Return `value` converted to this field's type, or raise ConfigError saying what is allowed."""
        if self.choices is not None:
            if not isinstance(value, str) or value not in self.options:
                raise ConfigError(
                    f"unknown {self.name} {value!r}; choose one of: {', '.join(self.options)}"
                )
            return value
        if self.kind is bool:
            if isinstance(value, bool):
                return value
            raise ConfigError(f"{self.name} must be true or false, got {value!r}")
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{self.name} must be a number, got {value!r}")
        if not math.isfinite(value):
            raise ConfigError(f"{self.name} must be a finite number, got {value!r}")
        if self.kind is int and value != int(value):
            raise ConfigError(f"{self.name} must be a whole number, got {value!r}")
        value = self.kind(value)
        if not (self.low <= value <= self.high):
            raise ConfigError(
                f"{self.name} must be between {self.low:g} and {self.high:g}, got {value!r}"
            )
        return value

    def parse(self, text: str) -> Any:
        """Parse a URL string into this field's type; raise ConfigError when it can't be."""
        text = text.strip()
        if self.choices is not None:
            return text
        if self.kind is bool:
            lowered = text.lower()
            if lowered in ("1", "true", "yes", "on"):
                return True
            if lowered in ("0", "false", "no", "off"):
                return False
            raise ConfigError(f"{self.name} must be true or false, got {text[:40]!r}")
        try:
            number = float(text)
        except ValueError:
            raise ConfigError(f"{self.name} must be a number, got {text[:40]!r}") from None
        if self.kind is int and math.isfinite(number) and number == int(number):
            return int(number)
        return number

    def clamp(self, value: Any) -> Any:
        """Nearest allowed value to a parsed number (NaN and non-numbers give the default)."""
        if self.choices is not None or self.kind is bool:
            return self.default
        if not isinstance(value, int | float) or math.isnan(value):
            return self.default
        value = min(max(value, self.low), self.high)
        return int(round(value)) if self.kind is int else float(value)

    def format(self, value: Any) -> str:
        if self.kind is bool:
            return "1" if value else "0"
        if self.kind is float:
            # repr is the shortest text that parses back to the same float: links round-trip exactly.
            return str(int(value)) if value == int(value) else repr(value)
        return str(value)


def setting(default: Any, low=None, high=None, choices=None, help: str = "") -> Any:
    """Declare one setting of ExperimentConfig: its default, bounds (numbers) or choices (names)
    and a help text. The type comes from the annotation; `FIELDS` is built from these."""
    metadata = {"low": low, "high": high, "choices": choices, "help": help}
    return dataclasses.field(default=default, metadata=metadata)


_TASK_NAMES: list[str] = []  # filled by core/tasks/__init__.py (`register_tasks`), which imports us


def register_tasks(names) -> None:
    """The task registry's names become the `task` setting's choices (core.tasks calls this as it
    is imported; `import core` always imports both)."""
    _TASK_NAMES[:] = names


def _task_names() -> tuple[str, ...]:
    return tuple(_TASK_NAMES)


@dataclass(frozen=True)
class ExperimentConfig:
    """Everything that defines a run: each setting declared once, here, with its default and
    bounds. Invalid values raise ConfigError on construction."""

    # model
    cell: str = setting("lstm", choices=CELL_NAMES, help="recurrent cell")
    hidden: int = setting(32, 1, 1024, help="hidden units per layer")
    layers: int = setting(1, 1, 3, help="stacked recurrent layers")
    dropout: float = setting(0.0, 0.0, 0.9, help="dropout between layers (needs 2+ layers)")
    init: str = setting("default", choices=INIT_NAMES, help="recurrent weight initialisation")
    init_gain: float = setting(1.0, 0.01, 10.0, help="gain for orthogonal/identity/scaled init")
    forget_bias: float = setting(1.0, 0.0, 1.0, help="LSTM forget-gate bias at init (0 or 1)")
    # task
    task: str = setting("next_number", choices=_task_names, help="what the model learns")
    seq_len: int = setting(20, 2, 400, help="time steps per sequence")
    min_len: int = setting(
        0,
        0,
        400,
        help="shortest sequence for ragged tasks (0: all full length)",
    )
    lag: int = setting(10, 0, 200, help="copy task: steps to wait before recalling")
    n_symbols: int = setting(4, 1, 20, help="copy task: how many symbols to remember")
    alphabet: int = setting(8, 2, 32, help="copy task: distinct symbols")
    noise: float = setting(0.1, 0.0, 2.0, help="noise level (sine, speech)")
    horizon: int = setting(10, 1, 100, help="sine/csv: steps predicted ahead in the rollout")
    sequence_kind: str = setting("arithmetic", choices=SEQUENCE_KINDS, help="next_number family")
    n_classes: int = setting(4, 2, 10, help="speech: number of words")
    csv_column: int = setting(
        -1, -1, 1000, help="csv: which numeric column (-1: the first that is not a time axis)"
    )
    normalise: str = setting(
        "auto", choices=NORMALISATIONS, help="csv: scaling (auto: chosen from the series)"
    )
    val_fraction: float = setting(
        0.2,
        0.05,
        0.5,
        help="csv: last part of the series kept for validation",
    )
    # training
    optimizer: str = setting("adam", choices=OPTIMIZER_NAMES, help="update rule")
    lr: float = setting(0.01, 1e-5, 10.0, help="learning rate")
    momentum: float = setting(0.9, 0.0, 0.999, help="SGD momentum")
    weight_decay: float = setting(0.0, 0.0, 0.1, help="L2 weight decay")
    clip: float = setting(1.0, 0.0, 100.0, help="gradient-norm clipping threshold (0: off)")
    batch_size: int = setting(32, 1, 512, help="sequences per optimizer step")
    # 50, not 10: a validation pass is a forward over the 128-sequence validation set, about
    # 128 / (3 x batch_size) training steps; every 10 steps it cost 4-15% of training at
    # batch 32-64 (bench/RESULTS.md), every 50 steps it costs 1-3%.
    val_every: int = setting(50, 1, 1000, help="steps between validation passes")
    max_steps: int = setting(2000, 1, 100_000, help="step budget for a run")
    seed: int = setting(0, 0, 2**31 - 1, help="seeds weights and data")

    def __post_init__(self) -> None:
        for name, field in RUN_FIELDS.items():
            object.__setattr__(self, name, field.check(getattr(self, name)))

    def check_budget(self, budget: int | None = COST_BUDGET) -> None:
        """Raise ConfigError when one step would cost more than `budget` (None: no limit)."""
        if budget is None:
            return
        if self.hidden > MAX_INTERACTIVE_HIDDEN:
            raise ConfigError(
                f"hidden sizes above {MAX_INTERACTIVE_HIDDEN} are for GPU notebooks "
                f"(Experiment(..., budget=None)); got {self.hidden}: lower the hidden size"
            )
        if self.cost() > budget:
            raise ConfigError(self.cost_message(budget))

    def replace(self, **changes: Any) -> ExperimentConfig:
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def cost(self) -> int:
        """Rough multiply-adds of one training step; the budget keeps one step interactive."""
        gates = get_cell(self.cell).gate_count
        per_step = gates * (self.hidden * self.hidden + self.hidden * 64) * self.layers
        return self.batch_size * self.seq_len * per_step

    def cost_message(self, budget: int = COST_BUDGET) -> str:
        return (
            f"this run is too large for the playground: batch_size x seq_len x hidden^2 comes to "
            f"{self.cost() / 1e6:.0f}M operations per step (the limit is {budget / 1e6:.0f}M); "
            "lower the hidden size, the sequence length or the batch size"
        )

    def to_params(self) -> dict[str, str]:
        """Query parameters for a link: only the fields that differ from their defaults."""
        return {
            name: field.format(getattr(self, name))
            for name, field in RUN_FIELDS.items()
            if getattr(self, name) != field.default
        }

    @classmethod
    def from_params(
        cls, params: Mapping[str, str | list[str]]
    ) -> tuple[ExperimentConfig, list[str]]:
        """Build a config from URL parameters. Never raises: bad values are clamped or replaced by
        defaults, unknown keys ignored, and each such repair is described in the returned notices."""
        values: dict[str, Any] = {}
        notices: list[str] = []
        for key, raw in params.items():
            shown_key = str(key)[:40]
            if isinstance(raw, list | tuple):
                if not raw:
                    continue
                if len(raw) > 1:
                    notices.append(
                        f"'{shown_key}' was given {len(raw)} times; the last one is used"
                    )
                raw = raw[-1]
            field = FIELDS.get(key)
            if field is not None and field.link_only:
                continue  # the page's setting, read by core.links
            if field is None:
                notices.append(f"unknown setting '{shown_key}' was ignored")
                continue
            values[key] = _repair(field, str(raw), notices)
        return _fit_budget(values, notices), notices


_KINDS = {"str": str, "int": int, "float": float, "bool": bool}

# The one schema: every setting of a run (from the dataclass above) and the link-only ones.
FIELDS: dict[str, Field] = {
    f.name: Field(f.name, _KINDS[f.type], f.default, **f.metadata)
    for f in dataclasses.fields(ExperimentConfig)
}
FIELDS["classroom"] = Field(
    "classroom",
    bool,
    False,
    help="the page shows only Train/Pause and Reset, for a projector",
    link_only=True,
)
RUN_FIELDS = {name: field for name, field in FIELDS.items() if not field.link_only}


def _repair(field: Field, raw: str, notices: list[str]) -> Any:
    if len(raw) > 100:
        notices.append(f"{field.name}: value too long; using {field.format(field.default)}")
        return field.default
    try:
        return field.check(field.parse(raw))
    except ConfigError as error:
        try:
            parsed = field.parse(raw)
        except ConfigError:
            parsed = None
        fixed = field.clamp(parsed)
        notices.append(f"{error}; using {field.format(fixed)}")
        return fixed


def _fit_budget(values: dict[str, Any], notices: list[str]) -> ExperimentConfig:
    """Construct the config; if it is over the cost budget, halve batch, then length, then hidden."""
    over_budget = None
    if values.get("hidden", 0) > MAX_INTERACTIVE_HIDDEN:
        notices.append(
            f"hidden must be at most {MAX_INTERACTIVE_HIDDEN} here; using {MAX_INTERACTIVE_HIDDEN}"
        )
        values["hidden"] = MAX_INTERACTIVE_HIDDEN
    for attempt in range(64):
        try:
            config = ExperimentConfig(**values)
            config.check_budget()
        except ConfigError as error:
            over_budget = over_budget or str(error)
            # Round-robin halving keeps the run's shape recognisable.
            for offset in range(3):
                name = ("batch_size", "seq_len", "hidden")[(attempt + offset) % 3]
                current = values.get(name, FIELDS[name].default)
                if current >= 2 * FIELDS[name].low and current > 2:
                    values[name] = current // 2
                    break
            continue
        if over_budget:
            shrunk = ", ".join(
                f"{n}={getattr(config, n)}" for n in ("batch_size", "seq_len", "hidden")
            )
            notices.append(f"{over_budget}; reduced to {shrunk}")
        return config
    return ExperimentConfig()
