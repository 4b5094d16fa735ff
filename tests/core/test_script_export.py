"""The standalone script reproduces the engine's run: same data, weights, optimizer and clipping."""

import ast
import json
import subprocess
import sys

import numpy as np
import pytest

from core.config import ExperimentConfig
from core.export import ScriptError, _collect, standalone_script
from core.seq2seq import Seq2SeqConfig, Seq2SeqExperiment
from core.seq2seq_export import seq2seq_script
from core.trainer import Experiment

STEPS = 20

CASES = {
    "gru-next_number-ragged": dict(
        cell="gru", task="next_number", min_len=5, sequence_kind="fibonacci"
    ),
    "rnn-copy-sgd": dict(cell="rnn", task="copy", optimizer="sgd", clip=0.5),
    "lstm-text-2layers-dropout": dict(
        cell="lstm", task="text", layers=2, dropout=0.3, min_len=10, seq_len=30
    ),
    "gru-speech-orthogonal": dict(
        cell="gru", task="speech", init="orthogonal", optimizer="rmsprop"
    ),
    "rnn_relu-sine-identity": dict(cell="rnn_relu", task="sine", init="identity", clip=0.5),
    "lstm-csv-ragged": dict(cell="lstm", task="csv", seq_len=30, min_len=8),
    "gru-airline": dict(cell="gru", task="airline"),  # a built-in series: csv on its table
    "gru-vowels-embedded": dict(cell="gru", task="vowels", seq_len=29),
    "lstm-sentiment": dict(cell="lstm", task="sentiment", seq_len=16),
    "feedforward-copy-2layers-dropout-ragged": dict(
        cell="feedforward", task="copy", layers=2, dropout=0.3, init="orthogonal"
    ),
}


def run_script(source: str, tmp_path, steps: int = STEPS, *options: str) -> list[dict]:
    path = tmp_path / "run.py"
    path.write_text(source)
    # One process per script (about 2 s each, mostly importing torch).
    # -I and a cwd outside the repo: `core` can't be imported, so the script must stand alone.
    out = subprocess.run(
        [sys.executable, "-I", str(path), "--steps", str(steps), *options],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return [json.loads(line) for line in out.stdout.splitlines()]


def assert_matches_engine(config: ExperimentConfig, lines: list[dict], data=None) -> None:
    experiment = Experiment(config, data=data)
    experiment.step(STEPS)
    losses = [line["loss"] for line in lines if "loss" in line]
    assert len(losses) == STEPS
    np.testing.assert_allclose(losses, experiment.history.train_loss, rtol=0, atol=1e-6)
    np.testing.assert_allclose(
        [line["grad_norm"] for line in lines if "loss" in line],
        experiment.history.grad_norm,
        rtol=1e-5,
    )
    val_loss, val_metric = experiment.validate()
    assert lines[-1]["val_loss"] == pytest.approx(val_loss, abs=1e-6)
    assert lines[-1]["val_metric"] == pytest.approx(val_metric, abs=1e-6)


def imported_modules(source: str) -> set[str]:
    return {
        alias.name.split(".")[0]
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in (
            node.names if isinstance(node, ast.Import) else [ast.alias(node.module or "")]
        )
    }


STANDALONE = {
    "__future__",
    "argparse",
    "collections",
    "contextlib",
    "csv",
    "dataclasses",
    "functools",
    "io",
    "json",
    "math",
    "numpy",
    "pathlib",
    "re",
    "torch",
    "types",
    "typing",
}


@pytest.mark.parametrize("name", list(CASES))
def test_script_losses_match_the_engine(name, tmp_path):
    config = ExperimentConfig(**CASES[name], seed=3)
    source = standalone_script(config)
    assert imported_modules(source) <= STANDALONE
    assert_matches_engine(config, run_script(source, tmp_path))


SEQ2SEQ_CASES = {
    "gru-dot": (dict(cell="gru", attention="dot"), "dot"),
    "lstm-additive-3groups": (dict(cell="lstm", attention="additive", max_groups=3), "additive"),
    # The page's other network: the attention run's script with --attention none.
    "rnn-none-sgd": (dict(cell="rnn", attention="dot", optimizer="sgd", clip=0.5), "none"),
}


@pytest.mark.parametrize("name", list(SEQ2SEQ_CASES))
def test_seq2seq_script_losses_match_the_experiment(name, tmp_path):
    settings, attention = SEQ2SEQ_CASES[name]
    config = Seq2SeqConfig(**settings, hidden=16, embed=8, batch_size=16, seed=3)
    source = seq2seq_script(config)
    assert imported_modules(source) <= STANDALONE
    lines = run_script(source, tmp_path, STEPS, "--attention", attention)
    experiment = Seq2SeqExperiment(config.replace(attention=attention))
    experiment.step(STEPS)
    losses = [line["loss"] for line in lines if "loss" in line]
    print(
        name, "first-step loss: script", losses[0], "experiment", experiment.history.train_loss[0]
    )
    assert losses[0] == pytest.approx(experiment.history.train_loss[0], abs=1e-6)
    np.testing.assert_allclose(losses, experiment.history.train_loss, rtol=0, atol=1e-5)
    val_loss, exact = experiment.validate()
    assert lines[-1]["val_loss"] == pytest.approx(val_loss, abs=1e-5)
    assert lines[-1]["val_exact_match"] == pytest.approx(exact, abs=1e-6)


def test_seq2seq_script_runs_the_experiments_own_step_and_model():
    import inspect

    from core.seq2seq import Seq2Seq, train_step
    from core.tasks.numbers import NumberWordsTask

    source = seq2seq_script(Seq2SeqConfig(cell="lstm"))
    for engine in (train_step, Seq2Seq, NumberWordsTask):
        assert inspect.getsource(engine) in source
    assert "loss.backward()" not in source.split("def train(")[1]  # no hand-written copy


def test_csv_script_embeds_the_uploaded_series(tmp_path):
    series = np.cumsum(np.random.default_rng(0).normal(size=(300, 2)), axis=0)
    config = ExperimentConfig(cell="lstm", task="csv", seq_len=20, csv_column=1, seed=1)
    source = standalone_script(config, data=series)
    assert "pandas" not in source and "pd." not in source
    assert_matches_engine(config, run_script(source, tmp_path), data=series)


def test_csv_script_without_upload_embeds_no_data():
    source = standalone_script(ExperimentConfig(task="csv"))
    assert "DATA = None" in source and "def demo_series" in source


def test_oversized_or_misplaced_data_is_refused():
    with pytest.raises(ScriptError, match="embeds at most"):
        standalone_script(ExperimentConfig(task="csv"), data=np.zeros((600_000, 1)))
    with pytest.raises(ScriptError, match="only be embedded for the csv task"):
        standalone_script(ExperimentConfig(task="sine"), data=np.zeros((100, 1)))


def test_code_needing_an_unavailable_import_is_refused(tmp_path, monkeypatch):
    (tmp_path / "fake_tasks.py").write_text(
        "import pandas as pd\n\n\ndef helper():\n    return pd.DataFrame()\n\n\n"
        "class FakeTask:\n    def sample(self):\n        return helper()\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    import fake_tasks

    with pytest.raises(ScriptError, match="needs pandas"):
        _collect(fake_tasks, ["FakeTask"], {}, {"np", "torch"})


def test_a_parse_that_hits_the_thread_race_is_retried_and_kept(monkeypatch):
    """CPython 3.11.7's parser can fail with SystemError while another thread compiles."""
    import ast

    from core import export
    from core.tasks import adding

    real_parse, calls = ast.parse, []

    def flaky(source):
        calls.append(1)
        if len(calls) <= 2:
            raise SystemError("AST constructor recursion depth mismatch (before=54, after=43)")
        return real_parse(source)

    monkeypatch.setattr(export.ast, "parse", flaky)
    monkeypatch.setattr(export, "_PARSED", {})
    source, tree = export._parse(adding)
    assert len(calls) == 3 and "class AddingTask" in source
    assert export._parse(adding)[1] is tree and len(calls) == 3  # parsed once per process


def test_script_runs_the_trainers_own_optimizer_step():
    import inspect

    from core.trainer import optimizer_step, training_loss

    source = standalone_script(ExperimentConfig(cell="gru", task="adding"))
    assert inspect.getsource(optimizer_step) in source
    assert inspect.getsource(training_loss) in source
    assert "loss.backward()" not in source.split("def train(")[1]  # no hand-written copy
