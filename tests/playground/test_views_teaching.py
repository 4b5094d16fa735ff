"""The teaching pages under AppTest: Race, Sweep, the Learn page's experiments, downloads, lengths.

AppTest does not fire `run_every` timers, but a fragment's body runs inline on every page run, so
each `at.run()` while running is one live tick.
"""

from __future__ import annotations

import json

from streamlit.testing.v1 import AppTest

from core import Experiment, ExperimentConfig
from core.export import checkpoint_bytes, load_checkpoint


def _page_script(module: str) -> str:
    """Source of a stand-alone AppTest script that renders one view's page()."""
    return (
        "import sys\nfrom pathlib import Path\nsys.path.insert(0, str(Path.cwd()))\n"
        "import torch\ntorch.set_num_threads(1)\n"
        "from playground import state\n"
        f"from playground.views import {module}\n"
        f"state.start_session()\n{module}.page()\n"
    )


def open_page(module: str) -> AppTest:
    at = AppTest.from_string(_page_script(module), default_timeout=60).run()
    assert not at.exception, at.exception
    return at


def figures(at: AppTest) -> dict[str, dict]:
    return {
        element.proto.id.rsplit("-", 1)[-1]: json.loads(element.proto.spec)
        for element in at.get("plotly_chart")
    }


def test_race_steps_three_cells_and_trains_live():
    at = open_page("race")
    at.selectbox(key="race_task").select("adding")
    at.number_input(key="race_seq_len").set_value(10)
    at.number_input(key="race_steps").set_value(60)
    at.run()
    at.button(key="race_step").click().run()
    assert not at.exception, at.exception
    race = at.session_state["workspace"].get("race_race")
    assert race.steps_done == 50
    loss = figures(at)["race_loss"]
    validation = [t["name"] for t in loss["data"] if t.get("name") in ("rnn", "lstm", "gru")]
    assert validation == ["rnn", "lstm", "gru"]
    assert len(figures(at)["race_grad"]["data"]) == 3
    table = at.dataframe[0].value
    assert list(table["cell"]) == ["rnn", "lstm", "gru"]
    assert (table["wall time (s)"] > 0).all() and (table["parameters"] > 0).all()
    # Train ticks once per page run (the fragment runs inline) and stops at the budget.
    at.button(key="race_train").click().run()
    for _ in range(5):
        if not at.session_state["workspace"].get("race_running"):
            break
        at.run()
    assert not at.exception, at.exception
    assert race.done and not at.session_state["workspace"].get("race_running")
    assert at.button(key="race_train").disabled  # finished: only a new race trains again


def test_race_pause_and_bad_settings():
    at = open_page("race")
    at.number_input(key="race_seq_len").set_value(10)
    at.number_input(key="race_steps").set_value(5000)
    at.run()
    at.button(key="race_train").click().run()
    assert at.session_state["workspace"].get("race_running")
    at.button(key="race_pause").click().run()
    assert not at.session_state["workspace"].get("race_running")
    assert not at.exception


def test_sweep_runs_to_the_end_and_plots():
    at = open_page("sweep")
    at.multiselect(key="sweep_cells").set_value(["rnn", "gru"])
    at.text_input(key="sweep_values_adding").input("4, 6").run()
    at.number_input(key="sweep_steps").set_value(20).run()
    at.button(key="sweep_start").click().run()
    for _ in range(30):
        if not at.session_state["workspace"].get("sweep_running"):
            break
        at.run()
    assert not at.exception, at.exception
    sweep = at.session_state["workspace"].get("sweep_sweep")
    assert sweep.done and len(sweep.points) == 4
    traces = [t["name"] for t in figures(at)["sweep_chart"]["data"]]
    assert "rnn" in traces and "gru" in traces
    assert len(at.dataframe[0].value) == 4


def test_sweep_bad_values_and_cancel():
    at = open_page("sweep")
    at.text_input(key="sweep_values_adding").input("4, x").run()
    assert any("whole numbers" in e.value for e in at.error)
    at.text_input(key="sweep_values_adding").input("10, 20").run()
    at.number_input(key="sweep_steps").set_value(3000).run()
    at.button(key="sweep_start").click().run()
    assert at.session_state["workspace"].get("sweep_running")
    at.button(key="sweep_cancel").click().run()
    assert not at.session_state["workspace"].get("sweep_running")
    assert "cancelled" in at.session_state["workspace"].get("sweep_sweep").stopped_reason
    assert not at.exception


def test_learn_preset_runs_live_and_shows_its_verdict(monkeypatch):
    from core.presets import PRESETS, PresetRun
    from playground.views import presets

    monkeypatch.setattr(presets, "PresetRun", lambda key: PresetRun(key, steps=15))
    at = open_page("learn")
    assert len(at.expander) >= len(PRESETS)
    at.button(key="preset_run_start_vanishing").click().run()
    assert at.session_state["workspace"].get("preset_run_running")
    for _ in range(20):
        if not at.session_state["workspace"].get("preset_run_running"):
            break
        at.run()
    assert not at.exception, at.exception
    result = at.session_state["workspace"].get("preset_run_results")["vanishing"]
    assert not result.stopped and "orders of magnitude" in result.summary
    verdicts = [m.value for m in (*at.success, *at.error) if "Claim" in m.value]
    assert verdicts and "Gradient at step 0" in verdicts[0]
    shown = figures(at)
    assert {"preset_run_vanishing_loss", "preset_run_vanishing_grad_per_step"} <= set(shown)
    assert len(shown["preset_run_vanishing_grad_per_step"]["data"]) == 2


def test_learn_preset_stop_and_open_in_playground():
    from playground import content

    at = open_page("learn")
    at.button(key="preset_run_start_long_memory").click().run()
    at.button(key="preset_run_stop_long_memory").click().run()
    assert not at.exception
    assert at.session_state["workspace"].get("preset_run_results")["long_memory"].stopped
    assert any("Stopped while training" in w.value for w in at.warning)
    # The idea's "Show me" button opens one of the experiment's configs in the playground.
    at.button(key="preset_2_memory_gru").click().run()
    assert not at.exception
    config = at.session_state["config"]
    assert (config.cell, config.task, config.seq_len, config.max_steps) == (
        "gru",
        "adding",
        50,
        600,
    )
    assert at.session_state["preset"] == ("memory_gru", content.DEMOS["memory_gru"].expect)
    assert at.session_state["workspace"].get("running") and at.session_state["goto_playground"]


def test_learn_page_shows_each_idea_with_its_demos_and_claims():
    """One set of demos: each concept's "Show me" buttons, each measured experiment once, under
    the idea its demos belong to; no experiment box of its own elsewhere."""
    from core.presets import PRESETS, config_for
    from playground import content
    from playground.views import learn

    placed = [key for concept in content.CONCEPTS for key in learn.experiments_of(concept)]
    assert sorted(placed) == sorted(PRESETS)  # every claim under exactly one idea
    at = open_page("learn")
    labels = [e.label for e in at.expander]
    assert labels == [f"Check the claim: {PRESETS[key].title}" for key in placed]
    shown = [b for b in at.button if b.label.startswith("Show me: ")]
    assert len(shown) == len(content.DEMOS)
    keys = {b.key for b in shown}
    for number, concept in enumerate(content.CONCEPTS, start=1):
        assert {f"preset_{number}_{name}" for name in concept.demos} <= keys
    # Every config of every measured experiment can be opened from its idea.
    configs = {content.DEMOS[name].config for name in content.DEMOS}
    for key, preset in PRESETS.items():
        for label in preset.configs:
            assert f"{key}:{label}" in configs
            assert config_for(f"{key}:{label}")["max_steps"] == preset.steps


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
    from playground.views import downloads

    exp = Experiment(ExperimentConfig(task="adding", seq_len=8, hidden=8))
    exp.step(3)
    raw = checkpoint_bytes(exp)
    assert raw and load_checkpoint(raw).steps_done == 3
    assert "def main" in downloads.script_text(exp)
    assert len(downloads.history_csv(exp).splitlines()) == 4  # header + 3 steps


def test_script_error_becomes_a_notice(monkeypatch):
    from core.export import ScriptError
    from playground.views import downloads

    def refuse(experiment):
        raise ScriptError("this run can't be written as a script")

    monkeypatch.setattr(downloads, "script_text", refuse)
    at = AppTest.from_function(_downloads_script, default_timeout=30).run()
    assert not at.exception
    assert any("can't be written" in i.value for i in at.info)
    assert len(at.get("download_button")) == 2


def _lengths_script() -> None:
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path.cwd()))
    from core import Experiment, ExperimentConfig
    from playground.views import lengths

    for task in ("speech", "adding"):
        exp = Experiment(ExperimentConfig(task=task, seq_len=20, hidden=8))
        lengths.render_lengths(exp.probe(jacobian=False), exp.task, key=f"lengths_{task}")


def test_length_histogram_only_for_ragged_batches():
    at = AppTest.from_function(_lengths_script, default_timeout=30).run()
    assert not at.exception, at.exception
    assert list(figures(at)) == ["lengths_speech"]
    assert any("packed" in m.value for m in at.markdown)


def _downloads_script_failing() -> None:
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path.cwd()))
    from core import Experiment, ExperimentConfig
    from playground.views import downloads

    def broken(experiment):
        raise SystemError("AST constructor recursion depth mismatch")  # seen once in the soak

    original, downloads.script_text = downloads.script_text, broken
    try:  # AppTest shares this process's modules: put the real one back
        exp = Experiment(ExperimentConfig(task="adding", seq_len=8, hidden=8))
        downloads.render_downloads(exp)
    finally:
        downloads.script_text = original


def test_a_failing_script_export_is_a_message_and_the_other_downloads_stay():
    at = AppTest.from_function(_downloads_script_failing, default_timeout=30).run()
    assert not at.exception
    assert any("could not be written" in info.value for info in at.info)
    labels = [button.proto.label for button in at.get("download_button")]
    assert labels == ["Checkpoint (.pt)", "History (.csv)"]
