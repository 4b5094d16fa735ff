"""Taking a run home: checkpoints (state_dict + config as JSON), history as CSV, and a standalone
training script.

Checkpoints live in core/checkpoint.py (re-exported here, so `core.export.load_checkpoint` keeps
working). `standalone_script` writes a torch-and-numpy-only script that reproduces the run from
its config.
"""

from __future__ import annotations

import ast
import inspect
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np

from core import cells as cells_module
from core import model as model_module
from core import tasks as task_module
from core import trainer as trainer_module
from core.cells import get_cell
from core.checkpoint import (
    FORMAT,
    MAX_CHECKPOINT_BYTES,
    CheckpointError,
    checkpoint_bytes,
    load_checkpoint,
)
from core.config import ConfigError, ExperimentConfig
from core.tasks import base as task_base

# ---- standalone script -------------------------------------------------------------------------
# The script is assembled from the engine's own source (inspect.getsource), so the data generator,
# model, initialisation, optimizer and the optimizer step it contains are the code that trained the
# run, not a second copy. Only the loop around `core.trainer.optimizer_step` and the command line
# are written here, and the cell's registry entry is reduced to the facts the model reads;
# tests/core/test_script_export.py runs the script and checks its losses against Experiment's.

SCRIPT_HEADER = '''\
from __future__ import annotations

import argparse
import csv
import functools
import io
import json
import math
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any, ClassVar

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import clip_grads_with_norm_, get_total_norm
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence


class ConfigError(ValueError):
    """A setting is out of range; the message says what is allowed."""
'''

SCRIPT_MAIN = '''

# ---- training loop (as core.trainer.Experiment._train_step, around its optimizer_step) ------------


def train(config, task, model, optimizer, steps: int, device: str) -> None:
    """`steps` optimizer steps on the seeded training stream; prints one JSON line per step."""
    rng = np.random.default_rng([config.seed, 1])  # the trainer's training-data stream
    for step in range(1, steps + 1):
        batch = task.sample(config.batch_size, rng).to(device)
        result = optimizer_step(model, optimizer, task, batch, config.clip)
        if result.diverged:
            print(json.dumps({"step": step, "diverged": True}))
            return
        line = {"step": step, "loss": result.loss, "grad_norm": result.grad_norm}
        print(json.dumps(line), flush=True)


@torch.no_grad()
def evaluate(config, task, model, device: str) -> dict:
    """Loss and metric on the trainer's fixed validation set (stream 2)."""
    size = task.val_size or VAL_BATCH  # a fixed test set is scored whole
    batch = task.sample(size, np.random.default_rng([config.seed, 2]), split="val").to(device)
    model.eval()
    predictions = model(batch.inputs, batch.lengths)
    model.train()
    return {"val_loss": float(task.loss(predictions, batch)), "val_metric": task.metric(predictions, batch)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=CONFIG["max_steps"], help="optimizer steps")
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--save", help="write the trained state_dict to this file")
    args = parser.parse_args()
    config = SimpleNamespace(**CONFIG)
    task = TASK_CLASS(config, DATA)
    torch.manual_seed(config.seed)  # before building the model: the same initial weights
    model = build_model(config, task.input_size, task.output_size).to(args.device)
    optimizer = make_optimizer(model, config)
    train(config, task, model, optimizer, args.steps, args.device)
    print(json.dumps(evaluate(config, task, model, args.device)))
    if args.save:
        torch.save(model.state_dict(), args.save)


if __name__ == "__main__":
    main()
'''

MAX_EMBEDDED_VALUES = 500_000  # an uploaded CSV is written into the script; keep the file sane


class ScriptError(ValueError):
    """The run can't be written as a standalone script; the message says why."""


@dataclass
class _Definition:
    """A top-level statement of a module: its source lines and the top-level names it uses.
    `order` is (index of its module in the list `_collect` reads, first line)."""

    order: tuple[int, int]
    module: str
    source: str
    uses: set[str]


class _NameUses(ast.NodeVisitor):
    """Names a statement reads, skipping annotations (never evaluated under
    `from __future__ import annotations`)."""

    def __init__(self) -> None:
        self.names: set[str] = set()

    def visit_Name(self, node: ast.Name) -> None:
        self.names.add(node.id)

    def visit_arg(self, node: ast.arg) -> None:
        pass

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        for child in [
            *node.decorator_list,
            *node.args.defaults,
            *node.args.kw_defaults,
            *node.body,
        ]:
            if child is not None:
                self.visit(child)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self.visit(node.value)


# CPython 3.11.7's parser keeps its recursion depth in state shared by all threads: a parse while
# another thread compiles (Streamlit compiles the page script for every session's run) can fail
# with "SystemError: AST constructor recursion depth mismatch", as it did twice in 10-minute soak
# tests. So each module is parsed once per process, and a parse that hits the race is retried.
_PARSE_LOCK = threading.Lock()
_PARSE_TRIES = 5


def _parse(module: ModuleType) -> tuple[str, ast.Module]:
    """The module's source and its syntax tree, parsed once (modules don't change while running)."""
    with _PARSE_LOCK:
        if module.__name__ not in _PARSED:
            source = inspect.getsource(module)
            for attempt in range(_PARSE_TRIES):
                try:
                    _PARSED[module.__name__] = (source, ast.parse(source))
                    break
                except SystemError:
                    if attempt == _PARSE_TRIES - 1:
                        raise
        return _PARSED[module.__name__]


_PARSED: dict[str, tuple[str, ast.Module]] = {}


def _module_definitions(
    module: ModuleType, index: int = 0
) -> tuple[dict[str, _Definition], dict[str, str]]:
    """(name -> definition, imported name -> module it comes from) for a module's top level;
    `index` is the module's place in the list `_collect` reads, for the order of the output."""
    source, tree = _parse(module)
    lines = source.splitlines()
    definitions: dict[str, _Definition] = {}
    imports: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            for alias in node.names:
                origin = node.module if isinstance(node, ast.ImportFrom) else alias.name
                imports[alias.asname or alias.name.split(".")[0]] = origin or ""
            continue
        names = _bound_names(node)
        if not names:
            continue
        start = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
        visitor = _NameUses()
        visitor.visit(node)
        text = "\n".join(lines[start - 1 : node.end_lineno])
        for name in names:
            definitions[name] = _Definition(
                (index, start), module.__name__, text, visitor.names - {name}
            )
    return definitions, imports


def _bound_names(node: ast.stmt) -> list[str]:
    if isinstance(node, ast.FunctionDef | ast.ClassDef):
        return [node.name]
    if isinstance(node, ast.Assign):  # `x = ...` and `a, b = ...` (PAD, BOS, EOS = 0, 1, 2)
        targets = [e for t in node.targets for e in (t.elts if isinstance(t, ast.Tuple) else [t])]
        return [t.id for t in targets if isinstance(t, ast.Name)]
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return [node.target.id]
    return []


def _collect(
    modules: ModuleType | Sequence[ModuleType],
    roots: list[str],
    overrides: dict[str, str],
    provided: set[str],
) -> str:
    """Source of `roots` and everything they use from `modules`, in the modules' order (the list's,
    then each module's own), so a module's definitions come after those of the modules before it.

    modules: one module, or several that import from each other (core.tasks.base, then the task
    modules); a name one of them imports from another is resolved to that definition.
    overrides: name -> replacement source (say, the corpus embedded instead of read from disk).
    provided: names the script defines elsewhere (header imports, other modules' definitions).
    Raises ScriptError when the code needs an import the script does not have (pandas, core).
    """
    if isinstance(modules, ModuleType):
        modules = [modules]
    definitions: dict[str, _Definition] = {}
    imports: dict[str, str] = {}
    for index, module in enumerate(modules):
        module_definitions, module_imports = _module_definitions(module, index)
        definitions.update(module_definitions)
        imports.update(module_imports)
    chosen: set[str] = set()
    pending = list(roots)
    while pending:
        name = pending.pop()
        if name in chosen or name in overrides:
            chosen.add(name)
            continue
        if name in definitions:
            chosen.add(name)
            pending.extend(definitions[name].uses)
        elif name in imports and name not in provided:
            root = definitions.get(roots[0])
            where = root.module if root else modules[0].__name__
            raise ScriptError(
                f"the standalone script can't include {where}.{roots[0]}: it needs "
                f"{imports[name]} ({name}), which the script does not import"
            )
    blocks = {definitions[n].order: definitions[n].source for n in chosen if n not in overrides}
    parts = [blocks[order] for order in sorted(blocks)]
    parts += [overrides[n] for n in sorted(chosen & set(overrides))]
    return "\n\n\n".join(parts)


def _embedded_data(task_name: str, data: Any) -> str:
    """`DATA = ...` for the script: None, or the user's CSV table written out in full."""
    if data is None:
        return "DATA = None"
    if task_name != "csv":
        raise ScriptError(f"data can only be embedded for the csv task, not {task_name!r}")
    columns = list(getattr(data, "columns", []))
    values = np.asarray(getattr(data, "values", data), dtype=np.float64)
    if values.size > MAX_EMBEDDED_VALUES:
        raise ScriptError(
            f"the table has {values.size:,} values; a standalone script embeds at most "
            f"{MAX_EMBEDDED_VALUES:,}: export a smaller table or use the checkpoint instead"
        )
    if not columns:
        return f"DATA = np.array({values.tolist()!r})"
    return f"DATA = CsvTable({columns!r}, np.array({values.tolist()!r}), [])"


def _embedded_vowels() -> str:
    """`load_vowels` with the JapaneseVowels data written in (integer millionths, as in the
    file), so the script needs no data file."""
    vowels = task_module.load_vowels()
    real = np.arange(vowels.frames.shape[1])[None, :] < vowels.lengths[:, None]
    millionths = np.round(vowels.frames[real] * 1e6).astype(np.int64).ravel().tolist()
    return (
        "def load_vowels() -> Vowels:\n"
        '    """The JapaneseVowels data set (core/data/japanese_vowels.npz), embedded."""\n'
        f"    lengths = np.array({vowels.lengths.tolist()!r})\n"
        f"    speakers = np.array({vowels.speakers.tolist()!r})\n"
        f"    flat = np.array({millionths!r}, dtype=np.float64).reshape(-1, 12) / 1e6\n"
        "    frames = np.zeros((len(lengths), 29, 12))\n"
        "    frames[np.arange(29)[None, :] < lengths[:, None]] = flat\n"
        "    return Vowels(frames, lengths, speakers)"
    )


def standalone_script(config: ExperimentConfig, data: Any = None) -> str:
    """A Python script (needs only torch and numpy) that rebuilds this run: the task's data
    generator with the same seeded streams, the model with the same initialisation, the optimizer
    and clipping, and trains, printing one JSON line per step (`python run.py --steps 20`).

    `data`: the csv task's table (a CsvTable or array), written into the script; without it the
    csv task uses its built-in demo series. Raises ScriptError when the run can't be exported.
    """
    task_class = task_module.TASKS.get(config.task)
    if task_class is None:
        raise ScriptError(
            f"unknown task {config.task!r}; choose one of: {', '.join(task_module.TASKS)}"
        )
    if getattr(task_class, "data_set", None) is not None:  # a built-in series: csv on its table
        task_class, data = task_module.CsvTask, task_class.data_set.table()
    header_names = set(_module_definitions_of_text(SCRIPT_HEADER))
    overrides = {
        "load_corpus": "def load_corpus() -> str:\n"
        '    """The corpus the run was trained on, embedded."""\n'
        f"    return {task_module.load_corpus()!r}"
    }
    is_csv = task_class is task_module.CsvTask
    if config.task == "vowels":
        overrides["load_vowels"] = _embedded_vowels()
    extra = ["CsvTable"] if is_csv else ["Vowels"] if config.task == "vowels" else []
    roots = [task_class.__name__, "Batch", *extra]
    task_code = _collect(_task_modules(), roots, overrides, header_names)
    model_code = _cell_module_code(config, header_names) + _collect(
        model_module, ["build_model"], _cell_override(config), header_names
    )
    trainer_code = _collect(
        trainer_module, ["make_optimizer", "optimizer_step", "VAL_BATCH"], {}, header_names
    )
    return "\n".join(
        [
            _script_docstring(config),
            SCRIPT_HEADER,
            _config_literal(config),
            "\n# ---- data: from core/tasks/ ---------------------------------------------------\n",
            task_code,
            f"\n\nTASK_CLASS = {task_class.__name__}",
            _embedded_data("csv" if is_csv else config.task, data),
            "\n\n# ---- model: from core/model.py ------------------------------------------------\n",
            model_code,
            "\n\n# ---- optimizer and step: from core/trainer.py ---------------------------------\n",
            trainer_code,
            SCRIPT_MAIN,
        ]
    )


def _cell_override(config: ExperimentConfig) -> dict[str, str]:
    """`get_cell` for the script: this run's registry entry (core/cells.py), reduced to its plain
    facts (`Cell.facts`), so the probe's machinery stays out of the script."""
    cell = get_cell(config.cell)
    arguments = "".join(f"        {name}={value!r},\n" for name, value in cell.facts().items())
    return {
        "get_cell": "def get_cell(name: str) -> SimpleNamespace:\n"
        '    """This run\'s cell, as core/cells.py\'s registry describes it."""\n'
        f"    return SimpleNamespace(\n        module={_module_name(cell.module)},\n"
        f"        module_kwargs={cell.module_kwargs!r},\n{arguments}    )"
    }


def _module_name(module: type) -> str:
    """How the script names the cell's module: torch's own as nn.X, the registry's by its class."""
    return f"nn.{module.__name__}" if module.__module__.startswith("torch") else module.__name__


def _cell_module_code(config: ExperimentConfig, provided: set[str]) -> str:
    """Source of the cell's module when it is core/cells.py's own (torch's needs none)."""
    module = get_cell(config.cell).module
    if module.__module__.startswith("torch"):
        return ""
    return _collect(cells_module, [module.__name__], {}, provided) + "\n\n\n"


def _task_modules() -> list[ModuleType]:
    """core.tasks.base first (the task modules import from it), then each task's own module."""
    modules = [task_base]
    for task_class in task_module.TASKS.values():
        module = inspect.getmodule(task_class)
        if module is not None and module not in modules:
            modules.append(module)
    return modules


def _config_literal(config: ExperimentConfig) -> str:
    """`CONFIG = {...}` as a Python literal, one setting per line."""
    items = "".join(f"    {name!r}: {value!r},\n" for name, value in config.to_dict().items())
    return f"\nCONFIG = {{\n{items}}}\n"


def _module_definitions_of_text(text: str) -> list[str]:
    """Names bound at the top level of a piece of source: imports, classes, functions."""
    names = []
    for node in ast.parse(text).body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            names += [a.asname or a.name.split(".")[0] for a in node.names]
        names += _bound_names(node)
    return names


def _script_docstring(config: ExperimentConfig) -> str:
    changed = ", ".join(f"{k}={v}" for k, v in config.to_params().items()) or "all defaults"
    return (
        f'"""rnn-playground run: {config.cell} on {config.task} ({changed}).\n\n'
        "Standalone: needs only torch and numpy. Rebuilds the task's data generator, the model with\n"
        "its initialisation, the optimizer and gradient clipping from the playground's own code, and\n"
        "trains from the same seed, so the losses match the playground's step for step on a CPU.\n\n"
        "    python this_script.py --steps 200 [--device cuda] [--save model.pt]\n"
        '"""'
    )


__all__ = [
    "FORMAT",
    "MAX_CHECKPOINT_BYTES",
    "CheckpointError",
    "ConfigError",
    "ScriptError",
    "checkpoint_bytes",
    "load_checkpoint",
    "standalone_script",
]
