"""The checkpoint uploader: its limit matches the server's, it forgets a file once read, and a
checkpoint with a bogus step is refused or shown without breaking the page."""

from __future__ import annotations

import io
import tomllib
from pathlib import Path

import pytest
import torch
from streamlit.testing.v1 import AppTest

from core import Experiment, ExperimentConfig
from core.checkpoint import MAX_CHECKPOINT_BYTES, MIB, checkpoint_bytes
from tests.playground.helpers import (
    click,
    experiment,
    settle,
)

ROOT = Path(__file__).resolve().parents[3]
APP = str(ROOT / "playground" / "app.py")


def open_app() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["task"] = "sine"
    return at.run()


def uploader(at: AppTest):
    return next(u for u in at.get("file_uploader") if u.key.startswith("checkpoint_upload"))


def with_step(step) -> bytes:
    exp = Experiment(ExperimentConfig(cell="gru", task="adding", seq_len=12, hidden=8))
    exp.step(2)
    payload = torch.load(io.BytesIO(checkpoint_bytes(exp)), weights_only=True)
    payload["step"] = step
    payload.pop("history")
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    return buffer.getvalue()


def test_the_help_text_states_the_servers_upload_limit():
    at = open_app()
    settings = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    limit = settings["server"]["maxUploadSize"]
    assert limit * MIB == MAX_CHECKPOINT_BYTES
    assert f"up to {limit} MB" in uploader(at).proto.help


def test_the_uploader_forgets_a_file_once_it_is_read():
    at = open_app()
    first = uploader(at).key
    uploader(at).upload("run.pt", with_step(2), "application/octet-stream").run()
    assert not at.exception and any("step 2" in s.value for s in at.success)
    assert uploader(at).key != first and uploader(at).value is None


@pytest.mark.parametrize("step", [-5, 10**12, "7"])
def test_a_bogus_step_is_refused_with_a_message(step):
    at = open_app()
    uploader(at).upload("bogus.pt", with_step(step), "application/octet-stream").run()
    assert not at.exception
    assert any("bogus" in e.value and "step" in e.value for e in at.error)
    assert at.session_state["config"].task == "sine", "the current run is kept"


def test_a_step_past_the_budget_shows_and_trains_on():
    at = open_app()
    uploader(at).upload("late.pt", with_step(500_000), "application/octet-stream").run()
    assert not at.exception and not at.error
    status = next(m.value for m in at.markdown if m.value.startswith("**Step "))
    assert status.startswith("**Step 500,000 / 2,000**")
    settle(click(at, "step1"))
    assert not at.exception
    assert experiment(at).steps_done == 500_001


def test_a_translate_checkpoint_says_where_it_belongs():
    from core.seq2seq import Seq2SeqConfig, Seq2SeqExperiment
    from core.seq2seq_checkpoint import seq2seq_checkpoint_bytes

    at = open_app()
    run = Seq2SeqExperiment(Seq2SeqConfig(hidden=4, embed=2, max_groups=1))
    raw = seq2seq_checkpoint_bytes({"plain": run})
    uploader(at).upload("words.pt", raw, "application/octet-stream").run()
    assert not at.exception
    assert any("words" in e.value and "Translate page" in e.value for e in at.error)
    assert at.session_state["config"].task == "sine", "the current run is kept"
