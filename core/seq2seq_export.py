"""A standalone training script for an encoder-decoder run (core/seq2seq.py), as core/export.py
writes one for a sequence model: it needs only torch and numpy, and is assembled the same way from
the engine's own source (the number-words generator of core/tasks/numbers.py, the Seq2Seq model,
its loss, greedy decoding and `train_step`, core.trainer's `make_optimizer`), so the script's
losses are the page's step for step on a CPU (tests/core/test_script_export.py runs it).

`--attention` picks the run: the Translate page's two networks differ only there.
"""

from __future__ import annotations

import dataclasses

from core import seq2seq as seq2seq_module
from core import trainer as trainer_module
from core.export import (
    SCRIPT_HEADER,
    _cell_module_code,
    _cell_override,
    _collect,
    _module_definitions_of_text,
)
from core.seq2seq import Seq2SeqConfig
from core.tasks import numbers as numbers_module

SCRIPT_MAIN = '''

# ---- training loop (as core.seq2seq.Seq2SeqExperiment._train_step) -------------------------------


def train(config, task, model, optimizer, steps: int, device: str) -> None:
    """`steps` optimizer steps on the seeded training stream; prints one JSON line per step."""
    rng = np.random.default_rng([config.seed, 1])  # the experiment's training-data stream
    for step in range(1, steps + 1):
        pairs = task.sample(config.batch_size, rng).to(device)
        result = train_step(model, optimizer, pairs, config.clip)
        if result.diverged:
            print(json.dumps({"step": step, "diverged": True}))
            return
        line = {"step": step, "loss": result.loss, "grad_norm": result.grad_norm}
        print(json.dumps(line), flush=True)


@torch.no_grad()
def evaluate(config, task, model, device: str) -> dict:
    """Teacher-forced loss and exact match of greedy answers on the fixed validation set."""
    rng = np.random.default_rng([config.seed, 2])  # the experiment's validation stream
    pairs = task.sample(VAL_BATCH, rng, split="val").to(device)
    model.eval()
    loss = float(sequence_loss(model(pairs)[0], pairs))
    exact = float(scores(greedy(model, pairs)[0], pairs)[1].mean())
    model.train()
    return {"val_loss": loss, "val_exact_match": exact}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=STEPS, help="optimizer steps")
    parser.add_argument(
        "--attention", choices=ATTENTIONS, default=CONFIG["attention"], help="how the decoder reads"
    )
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--save", help="write the trained state_dict to this file")
    args = parser.parse_args()
    config = SimpleNamespace(**{**CONFIG, "attention": args.attention})
    task = NumberWordsTask(config)
    torch.manual_seed(config.seed)  # before building the model: the same initial weights
    model = Seq2Seq(
        config.cell, task.input_size, task.output_size, config.hidden, config.embed, config.attention
    ).to(args.device)
    optimizer = make_optimizer(model, config)
    train(config, task, model, optimizer, args.steps, args.device)
    print(json.dumps(evaluate(config, task, model, args.device)))
    if args.save:
        torch.save(model.state_dict(), args.save)


if __name__ == "__main__":
    main()
'''

TRAINER_ROOTS = ["make_optimizer", "StepResult"]
ROOTS = ["NumberWordsTask", "Seq2Seq", "train_step", "sequence_loss", "greedy", "scores"]


def seq2seq_script(config: Seq2SeqConfig, steps: int = 1500) -> str:
    """A Python script (needs only torch and numpy) that rebuilds this encoder-decoder run: the
    number-words generator with the same seeded streams, the model with the same initialisation,
    the optimizer and clipping, and trains `steps` steps by default, printing one JSON line per
    step (`python run.py --steps 20 [--attention none]`). Raises ScriptError (core.export) when
    the code would need an import the script lacks."""
    provided = set(_module_definitions_of_text(SCRIPT_HEADER)) | set(TRAINER_ROOTS)
    modules = [numbers_module, seq2seq_module]
    code = _collect(modules, [*ROOTS, "VAL_BATCH"], _cell_override(config), provided)
    trainer_code = _collect(trainer_module, TRAINER_ROOTS, {}, provided)
    return "\n".join(
        [
            _docstring(config),
            SCRIPT_HEADER,
            _config_literal(config),
            f"STEPS = {int(steps)!r}",
            "\n\n# ---- optimizer and step result: from core/trainer.py ---------------------------\n",
            trainer_code,
            "\n\n# ---- data and model: from core/tasks/numbers.py and core/seq2seq.py -----------\n",
            _cell_module_code(config, provided) + code,
            SCRIPT_MAIN,
        ]
    )


def _config_literal(config: Seq2SeqConfig) -> str:
    """`CONFIG = {...}` as a Python literal, one setting per line."""
    items = "".join(
        f"    {name!r}: {value!r},\n" for name, value in dataclasses.asdict(config).items()
    )
    return f"\nCONFIG = {{\n{items}}}\n"


def _docstring(config: Seq2SeqConfig) -> str:
    return (
        f'"""rnn-playground encoder-decoder: {config.cell}, attention {config.attention}, '
        f"hidden {config.hidden}, numbers up to {config.max_groups} groups of three digits.\n\n"
        "Standalone: needs only torch and numpy. Rebuilds the number-words data generator, the\n"
        "encoder-decoder with its initialisation, the optimizer and gradient clipping from the\n"
        "playground's own code, and trains from the same seed, so the losses match the Translate\n"
        "page's step for step on a CPU. --attention none trains the page's other network.\n\n"
        "    python this_script.py --steps 200 [--attention none] [--device cuda] [--save model.pt]\n"
        '"""'
    )


__all__ = ["seq2seq_script"]
