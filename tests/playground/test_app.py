"""The playground page under Streamlit's AppTest: widgets, stepping, charts, links, divergence.

AppTest runs the script without a browser and does not fire `run_every` timers, so training is
driven with the Step buttons (the live fragment's body still runs inline on every page run).
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from core import ExperimentConfig
from playground import content, plotly_live

APP = str(Path(__file__).resolve().parents[2] / "playground" / "app.py")


def open_app(**params: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=30)
    for key, value in params.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception
    return at


def status_text(at: AppTest) -> str:
    return next(m.value for m in at.markdown if m.value.startswith("**Step "))


def charts_by_key(at: AppTest) -> dict[str, dict]:
    """Plotly figures on the page, by the chart key the page gave them."""
    return {key: json.loads(text) for key, text in plotly_live.page_figures(at).items()}


def trace_names(figure: dict) -> list[str]:
    return [trace.get("name", "") for trace in figure["data"]]


@pytest.fixture(scope="module")
def stepped() -> AppTest:
    """LSTM on the adding problem after ten steps (shared by the read-only chart tests)."""
    at = open_app(cell="lstm", task="adding", seq_len="30")
    at.button(key="step10").click().run()
    assert not at.exception
    return at


def test_first_visit_shows_buttons_and_status():
    at = open_app()
    labels = [button.label for button in at.button]
    assert labels[:4] == ["Train", "Step 1", "Step 10", "Reset"]
    assert status_text(at).startswith("**Step 0 / 2,000**")
    assert not at.error


def test_widgets_change_the_config():
    at = open_app()
    at.selectbox(key="w_cell").select("gru").run()
    at.selectbox(key="w_task").select("copy").run()
    at.slider(key="w_lag").set_value(5).run()
    at.select_slider(key="w_lr").set_value(0.003).run()
    config = at.session_state["config"]
    assert (config.cell, config.task, config.lag, config.lr) == ("gru", "copy", 5, 0.003)
    # The copy task's own settings are shown, another task's are not.
    keys = {slider.key for slider in at.slider}
    assert "w_lag" in keys and "w_noise" not in keys
    # Never trained, so the experiment was rebuilt for the new settings at once.
    assert at.session_state["workspace"].get("experiment").config.cell == "gru"
    assert at.query_params["cell"] in ("gru", ["gru"])


def test_step_buttons_advance_the_step_count():
    at = open_app()
    at.button(key="step1").click().run()
    assert status_text(at).startswith("**Step 1 / 2,000**")
    at.button(key="step10").click().run()
    assert status_text(at).startswith("**Step 11 / 2,000**")
    assert not at.exception


def test_training_tab_charts(stepped):
    figures = charts_by_key(stepped)
    assert {"chart_loss", "chart_grad_norm", "chart_prediction"} <= set(figures)
    assert {"train", "validation"} <= set(trace_names(figures["chart_loss"]))
    grad = figures["chart_grad_norm"]
    assert any("∂L/∂h" in name for name in trace_names(grad))
    assert grad["layout"]["yaxis"]["type"] == "log"
    assert figures["chart_prediction"]["data"]


@pytest.mark.parametrize(
    ("tab", "keys"),
    [
        ("Memory", {"chart_trajectory_2d", "chart_trajectory_3d", "chart_hidden_heatmap"}),
        ("Gradients", {"chart_grad_norm_tab", "chart_grad_history_heatmap"}),
        ("Gates", {"chart_gates"}),
        ("Weights", {"chart_spectrum", "chart_spectral_radius"}),
    ],
)
def test_each_tab_draws_its_charts(stepped, tab, keys):
    stepped.session_state["view"] = tab
    stepped.run()
    assert not stepped.exception
    figures = charts_by_key(stepped)
    assert keys <= set(figures)
    for key in keys:
        assert figures[key]["data"], key
    if tab == "Memory":
        types = {trace["type"] for trace in figures["chart_trajectory_3d"]["data"]}
        assert "scatter3d" in types


@pytest.mark.parametrize("task", ["next_number", "sine", "copy", "text", "speech", "csv"])
def test_every_task_trains_and_draws(task):
    at = open_app(task=task, seq_len="24", hidden="16")
    at.button(key="step1").click().run()
    assert not at.exception and not at.error
    assert {"chart_loss", "chart_grad_norm", "chart_prediction"} <= set(charts_by_key(at))
    for tab in ("Memory", "Gates"):
        at.session_state["view"] = tab
        at.run()
        assert not at.exception and not at.error
    if task in ("sine", "csv"):
        at.session_state["view"] = "Training"
        at.run()
        assert "chart_rollout" in charts_by_key(at)
    if task == "text":
        at.session_state["view"] = "Training"
        at.run()
        assert any(t.value.startswith("The ") for t in at.text)


def test_csv_windows_of_ragged_length():
    """A shortest length for the csv task: a control, ragged windows, a histogram, a forecast."""
    at = open_app(task="csv", seq_len="24", min_len="6", hidden="8")
    assert at.number_input(key="w_min_len").value == 6
    at.button(key="step1").click().run()
    assert not at.exception and not at.error
    assert "chart_rollout" in charts_by_key(at)
    at.session_state["view"] = "Memory"
    at.run()
    histogram = charts_by_key(at)["chart_length_histogram"]
    x = histogram["data"][0]["x"]  # plotly writes numpy arrays as base64 typed arrays
    lengths = np.frombuffer(base64.b64decode(x["bdata"]), x["dtype"]) if "bdata" in x else x
    assert min(lengths) >= 6 and max(lengths) <= 24 and len(set(lengths)) > 1


@pytest.mark.parametrize("cell", ["rnn", "rnn_relu", "gru"])
def test_every_cell_draws_every_tab(cell):
    at = open_app(cell=cell, task="adding", seq_len="20", hidden="16")
    at.button(key="step1").click().run()
    for tab in ("Training", "Memory", "Gradients", "Gates", "Weights", "Cell"):
        at.session_state["view"] = tab
        at.run()
        assert not at.exception and not at.error, tab
    assert len(at.latex) == len(content.EQUATIONS[cell])


def test_cell_tab_shows_equations_and_parameter_count(stepped):
    stepped.session_state["view"] = "Cell"
    stepped.run()
    exp = stepped.session_state["workspace"].get("experiment")
    assert len(stepped.latex) == len(content.EQUATIONS["lstm"])
    assert any(f"{exp.parameter_count():,} parameters" in h.value for h in stepped.subheader)
    stepped.session_state["view"] = "Training"


def test_parameter_count_formula_matches_pytorch():
    from core import Experiment

    for cell in ("rnn", "lstm", "gru"):
        exp = Experiment(ExperimentConfig(cell=cell, task="adding", hidden=16, layers=2))
        assert exp.parameter_count() == content.parameter_count(cell, 2, 16, 2, 1)


def test_query_params_restore_settings():
    at = open_app(cell="gru", task="sine", hidden="48", lr="0.003", seq_len="40", noise="0.2")
    config = at.session_state["config"]
    assert (config.cell, config.task, config.hidden, config.lr) == ("gru", "sine", 48, 0.003)
    assert at.selectbox(key="w_cell").value == "gru"
    assert at.slider(key="w_seq_len").value == 40
    assert at.select_slider(key="w_hidden").value == 48
    assert not at.warning


def test_invalid_query_params_warn_without_exception():
    at = open_app(cell="lstn", hidden="-5", lr="nan", bogus="1", seq_len="x" * 300)
    assert not at.exception
    text = " ".join(w.value for w in at.warning)
    assert "lstn" in text and "bogus" in text
    config = at.session_state["config"]
    assert config.cell == "lstm" and config.hidden == 1
    at.button(key="step1").click().run()
    assert not at.exception


def test_classroom_link_hides_controls():
    at = open_app(classroom="1", cell="gru")
    assert [button.label for button in at.button] == ["Train", "Reset"]
    assert not at.sidebar.selectbox
    assert at.session_state["config"].cell == "gru"


def test_lr_change_applies_without_reset_but_cell_change_waits():
    at = open_app(task="adding", seq_len="20")
    at.button(key="step1").click().run()
    at.select_slider(key="w_lr").set_value(0.001).run()
    exp = at.session_state["workspace"].get("experiment")
    assert exp.config.lr == 0.001 and exp.steps_done == 1
    at.selectbox(key="w_cell").select("gru").run()
    assert any("press Reset" in w.value for w in at.warning)
    assert at.session_state["workspace"].get("experiment").config.cell == "lstm"
    at.button(key="reset").click().run()
    assert at.session_state["workspace"].get("experiment").config.cell == "gru"
    assert not any("press Reset" in w.value for w in at.warning)


def test_divergence_pauses_with_a_message_and_reset_recovers():
    # With Adam the tanh RNN saturates instead of overflowing; plain SGD blows up within 10 steps.
    at = open_app(
        cell="rnn", task="adding", init="scaled", init_gain="10", lr="10", clip="0", optimizer="sgd"
    )
    at.button(key="train").click().run()
    for _ in range(5):
        if at.session_state["workspace"].get("experiment").diverged:
            break
        at.button(key="step10").click().run()
    exp = at.session_state["workspace"].get("experiment")
    assert exp.diverged and not at.session_state["workspace"].get("running")
    assert any("diverged" in e.value for e in at.error)
    probe = at.session_state["workspace"].get("probe")
    assert probe is not None and probe.step < exp.steps_done + 1  # the last good one is kept
    assert not at.exception
    assert at.button(key="train").label == "Train"
    assert at.button(key="step10").disabled
    at.button(key="reset").click().run()
    assert not at.session_state["workspace"].get("experiment").diverged
    assert not at.error and not at.exception


def test_train_runs_a_tick_and_pause_stops():
    at = open_app(task="adding", seq_len="20")
    at.button(key="train").click().run()
    assert at.session_state["workspace"].get("running")
    assert at.button(key="pause").label == "Pause"
    assert (
        at.session_state["workspace"].get("experiment").steps_done > 0
    )  # the live panel ticked once
    at.button(key="pause").click().run()
    assert not at.session_state["workspace"].get("running")
    assert at.button(key="train").label == "Train"


def test_next_number_fill_in():
    at = open_app(task="next_number")
    at.button(key="step10").click().run()
    assert any("fills the '?'" in s.value for s in at.success)
    at.text_input(key="fill_in").input("1, 2").run()
    at.text_input(key="fill_in").input("one, two").run()
    assert any("not a number" in w.value for w in at.warning)
    assert not at.exception


def test_csv_upload_errors_are_messages_and_good_files_are_used():
    at = open_app(task="csv", seq_len="20")
    assert not at.exception
    at.file_uploader(key="csv_upload").upload(
        "broken.csv", b"\x00\x01\x02garbage", "text/csv"
    ).run()
    assert any("Could not use broken\\.csv" in e.value for e in at.error)  # escaped Markdown
    assert not at.exception
    assert at.session_state["csv_table"] is None
    rows = "\n".join(f"{i},{(i * 7) % 13}.5" for i in range(200))
    at.file_uploader(key="csv_upload").set_value(
        ("series.csv", f"day,value\n{rows}".encode(), "text/csv")
    )
    at.run()
    assert not at.exception
    assert at.session_state["csv_table"].columns == ["day", "value"]
    # The Column picker shows the new file's columns in the same run as the upload.
    assert at.selectbox(key="w_csv_column").options == ["day", "value"]
    # Never trained: the experiment switched to the uploaded table at once.
    assert at.session_state["workspace"].get("experiment").data is at.session_state["csv_table"]
    at.button(key="step1").click().run()
    assert status_text(at).startswith("**Step 1 /")


def learn_page_script() -> None:
    """Stand-alone script for AppTest: the Learn page alone (function pages can't be switched to)."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path.cwd()))
    from playground import state
    from playground.views import learn

    state.start_session()
    learn.page()


def test_learn_page_buttons_load_presets():
    from core.presets import config_for

    at = AppTest.from_function(learn_page_script, default_timeout=30).run()
    assert not at.exception
    assert len(at.subheader) == len(content.CONCEPTS)
    at.button(key="preset_4_vanishing_rnn").click().run()
    assert not at.exception
    config = at.session_state["config"]
    assert config == ExperimentConfig(**config_for("vanishing:rnn"))
    assert config == ExperimentConfig(**config_for(content.DEMOS["vanishing_rnn"].config))
    assert at.session_state["preset"] == ("vanishing_rnn", content.DEMOS["vanishing_rnn"].expect)
    assert at.session_state["workspace"].get("running") and at.session_state["goto_playground"]


def test_presets_are_valid_configs():
    """Every concept's demo names a config that core/presets.py owns, and that config is valid."""
    from core.presets import CONFIGS, PRESETS, config_for, config_names

    demos = [name for concept in content.CONCEPTS for name in concept.demos]
    assert sorted(demos) == sorted(content.DEMOS)  # every demo shown, each under one concept
    assert all(concept.demos for concept in content.CONCEPTS)  # each idea has a way to try it
    for name, demo in content.DEMOS.items():
        assert demo.config in config_names(), (name, demo.config)
        params = config_for(demo.config)
        ExperimentConfig(**params).check_budget()
        assert demo.label and demo.expect
    used = {content.DEMOS[name].config for name in demos}
    assert set(CONFIGS) <= used  # no plain config in core without a demo
    assert {name.partition(":")[0] for name in used} >= set(PRESETS)  # every claim is reachable


def test_busy_server_shows_waiting_for_a_slot():
    from playground import live

    taken = 0
    while live.TRAINING_SLOTS.acquire(blocking=False):
        taken += 1
    try:
        at = open_app(task="adding", seq_len="20")
        at.button(key="train").click().run()
        assert "waiting for a free training slot" in status_text(at)
        assert at.session_state["workspace"].get("experiment").steps_done == 0
    finally:
        for _ in range(taken):
            live.TRAINING_SLOTS.release()
    at.run()
    assert at.session_state["workspace"].get("experiment").steps_done > 0


def test_pace_fills_the_tick_budget():
    from playground.live import MAX_STEPS_PER_TICK, Pace

    pace = Pace()
    pace.record(steps=10, step_seconds=0.05, probe_seconds=0.02)  # measured: 5 ms a step
    pace.record(steps=10, step_seconds=0.05, probe_seconds=0.02)
    k = pace.next_k(remaining=10_000)
    assert 15 <= k <= 40  # ~0.15 s of steps at ~5-7 ms each
    assert pace.next_k(remaining=3) == 3  # never past the budget
    fast = Pace(seconds_per_step=1e-6)
    assert fast.next_k(10_000) == MAX_STEPS_PER_TICK
    slow = Pace(seconds_per_step=5.0)
    assert slow.next_k(10_000) == 1  # at least one step, even for a huge model


def test_fixing_unusable_settings_enables_the_buttons():
    at = open_app(task="csv", csv_column="5")  # the demo series has one column
    # A link falls back to settings that work, and says so...
    assert any("out of range" in w.value and "instead" in w.value for w in at.warning)
    assert not at.error and not at.button(key="train").disabled
    # ...while settings chosen in the sidebar that don't fit together are explained and block
    # training until they are fixed.
    at.number_input(key="w_min_len").set_value(at.session_state["config"].seq_len + 1).run()
    assert any("must be at most seq" in e.value for e in at.error)
    assert at.button(key="train").disabled and at.button(key="step1").disabled
    at.number_input(key="w_min_len").set_value(0).run()
    assert not at.exception and not at.error
    assert not at.button(key="train").disabled and not at.button(key="step1").disabled


def checkpoint_uploader(at: AppTest):
    """The checkpoint uploader (its key changes after each file it reads)."""
    return next(u for u in at.get("file_uploader") if u.key.startswith("checkpoint_upload"))


def test_checkpoint_upload_continues_a_run_and_refuses_bad_files():
    import io
    import pickle

    import torch

    from core import Experiment
    from core.export import checkpoint_bytes

    source = Experiment(ExperimentConfig(cell="gru", task="adding", seq_len=12, hidden=24, seed=3))
    source.step(5)
    at = open_app(task="sine")
    uploader = checkpoint_uploader(at)
    uploader.upload("run.pt", checkpoint_bytes(source), "application/octet-stream").run()
    assert not at.exception and not at.error
    assert any("step 5" in s.value for s in at.success)
    exp = at.session_state["workspace"].get("experiment")
    assert exp.steps_done == 5 and exp.config == source.config
    for name, tensor in source.model.state_dict().items():
        assert torch.equal(exp.model.state_dict()[name], tensor)
    assert at.session_state["w_cell"] == "gru" and at.session_state["w_task"] == "adding"
    at.button(key="step1").click().run()
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
        assert at.session_state["workspace"].get("experiment") is exp, "the run is kept"


def test_file_names_and_columns_are_shown_as_text_not_markup():
    at = open_app(task="csv", seq_len="20")
    rows = "\n".join(f"{i},{i % 5}" for i in range(100))
    evil = "[log in](https://evil.example)"
    at.file_uploader(key="csv_upload").upload(
        f"{evil}.csv", f"t,{evil}\n{rows}".encode(), "text/csv"
    )
    at.run()
    assert not at.exception
    shown = [c.value for c in at.caption] + [i.value for i in at.info]
    assert any("evil" in text for text in shown)
    for text in shown:
        assert "](" not in text.replace("\\]\\(", ""), text  # every bracket escaped
    at.file_uploader(key="csv_upload").upload(f"{evil}.csv", b"\x00garbage", "text/csv").run()
    assert any("evil" in e.value and "](" not in e.value.replace("\\]\\(", "") for e in at.error)
