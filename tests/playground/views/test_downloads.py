"""Take it home under AppTest: downloads, and continuing from an uploaded checkpoint."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from core import Experiment, ExperimentConfig
from core.checkpoint import checkpoint_bytes, load_checkpoint
from tests.playground.helpers import (
    click,
    experiment,
    open_app,
    settle,
)


def checkpoint_uploader(at: AppTest):
    """The checkpoint uploader (its key changes after each file it reads)."""
    return next(u for u in at.get("file_uploader") if u.key.startswith("checkpoint_upload"))


def test_checkpoint_upload_continues_a_run_and_refuses_bad_files():
    import io
    import pickle

    import torch

    from core import Experiment
    from core.checkpoint import checkpoint_bytes

    source = Experiment(ExperimentConfig(cell="gru", task="adding", seq_len=12, hidden=24, seed=3))
    source.step(5)
    at = open_app(task="sine")
    uploader = checkpoint_uploader(at)
    uploader.upload("run.pt", checkpoint_bytes(source), "application/octet-stream").run()
    assert not at.exception and not at.error
    assert any("step 5" in s.value for s in at.success)
    exp = experiment(at)
    assert exp.steps_done == 5 and exp.config == source.config
    for name, tensor in source.model.state_dict().items():
        assert torch.equal(exp.model.state_dict()[name], tensor)
    assert at.session_state["w_cell"] == "gru" and at.session_state["w_task"] == "adding"
    settle(click(at, "step1"))
    assert exp.steps_done == 6 and not at.exception

    class RunsCode:
        def __reduce__(self):
            return (print, ("pwned",))

    buffer = io.BytesIO()
    torch.save({"format": "rnn-playground-checkpoint/1", "x": RunsCode()}, buffer)
    huge = Experiment(ExperimentConfig(task="adding", hidden=1024, seq_len=200), budget=None)
    for name, raw in [
        ("evil.pt", buffer.getvalue()),
        ("plain.pt", pickle.dumps([1, 2])),
        ("huge.pt", checkpoint_bytes(huge)),
    ]:
        checkpoint_uploader(at).upload(name, raw, "application/octet-stream").run()
        assert not at.exception
        assert any(name.split(".")[0] in e.value for e in at.error), name
        assert experiment(at) is exp, "the run is kept"


def _downloads_script() -> None:
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path.cwd()))
    from core import Experiment, ExperimentConfig
    from playground.views import downloads

    exp = Experiment(ExperimentConfig(task="adding", seq_len=8, hidden=8))
    exp.step(3)
    downloads.render_downloads(exp)


def test_download_buttons_and_their_data():
    at = AppTest.from_function(_downloads_script, default_timeout=30).run()
    assert not at.exception, at.exception
    buttons = at.get("download_button")
    assert [b.proto.label for b in buttons] == [
        "Checkpoint (.pt)",
        "Standalone script (.py)",
        "History (.csv)",
    ]
    from playground.actions import exports

    exp = Experiment(ExperimentConfig(task="adding", seq_len=8, hidden=8))
    exp.step(3)
    raw = checkpoint_bytes(exp)
    assert raw and load_checkpoint(raw).steps_done == 3
    assert "def main" in exports.script_text(exp)
    assert len(exports.history_csv(exp).splitlines()) == 4  # header + 3 steps


def test_script_error_becomes_a_notice(monkeypatch):
    from core.export import ScriptError
    from playground.actions import exports

    def refuse(experiment):
        raise ScriptError("this run can't be written as a script")

    monkeypatch.setattr(exports, "script_text", refuse)
    at = AppTest.from_function(_downloads_script, default_timeout=30).run()
    assert not at.exception
    assert any("can't be written" in i.value for i in at.info)
    assert len(at.get("download_button")) == 2


def _downloads_script_failing() -> None:
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path.cwd()))
    from core import Experiment, ExperimentConfig
    from playground.actions import exports
    from playground.views import downloads

    def broken(experiment):
        raise SystemError("AST constructor recursion depth mismatch")  # seen once in the soak

    original, exports.script_text = exports.script_text, broken
    try:  # AppTest shares this process's modules: put the real one back
        exp = Experiment(ExperimentConfig(task="adding", seq_len=8, hidden=8))
        downloads.render_downloads(exp)
    finally:
        exports.script_text = original


def test_a_failing_script_export_is_a_message_and_the_other_downloads_stay():
    at = AppTest.from_function(_downloads_script_failing, default_timeout=30).run()
    assert not at.exception
    assert any("could not be written" in info.value for info in at.info)
    labels = [button.proto.label for button in at.get("download_button")]
    assert labels == ["Checkpoint (.pt)", "History (.csv)"]
