"""The Playground page under AppTest: buttons, settings, links, Train/Pause, divergence, slots."""

from __future__ import annotations

import time

from playground import live
from tests.playground.helpers import (
    button,
    click,
    experiment,
    labels,
    open_app,
    run_of,
    running,
    settle,
    status_text,
    wait_for_steps,
)


def test_first_visit_shows_buttons_and_status():
    at = open_app()
    assert labels(at)[:4] == ["Train", "Step 1", "Step 10", "Reset"]
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
    assert experiment(at).config.cell == "gru"
    assert at.query_params["cell"] in ("gru", ["gru"])


def test_step_buttons_advance_the_step_count():
    at = open_app()
    settle(click(at, "step1"))
    assert status_text(at).startswith("**Step 1 / 2,000**")
    settle(click(at, "step10"))
    assert status_text(at).startswith("**Step 11 / 2,000**")
    assert not at.exception


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
    settle(click(at, "step1"))
    assert not at.exception


def test_classroom_link_hides_controls():
    at = open_app(classroom="1", cell="gru")
    assert labels(at) == ["Train", "Reset"]
    assert not at.sidebar.selectbox
    assert at.session_state["config"].cell == "gru"


def test_lr_change_applies_without_reset_but_cell_change_waits():
    at = open_app(task="adding", seq_len="20")
    settle(click(at, "step1"))
    at.select_slider(key="w_lr").set_value(0.001).run()
    exp = experiment(at)
    assert exp.config.lr == 0.001 and exp.steps_done == 1
    at.selectbox(key="w_cell").select("gru").run()
    assert any("press Reset" in w.value for w in at.warning)
    assert experiment(at).config.cell == "lstm"
    click(at, "reset")
    assert experiment(at).config.cell == "gru"
    assert not any("press Reset" in w.value for w in at.warning)


def test_divergence_pauses_with_a_message_and_reset_recovers():
    # With Adam the tanh RNN saturates instead of overflowing; plain SGD blows up within 10 steps.
    at = open_app(
        cell="rnn", task="adding", init="scaled", init_gain="10", lr="10", clip="0", optimizer="sgd"
    )
    settle(click(at, "train"))  # the worker stops where training diverged
    exp = experiment(at)
    assert exp.diverged and not running(at)
    assert any("diverged" in e.value for e in at.error)
    probe = run_of(at).probe
    assert probe is not None and probe.step < exp.steps_done + 1  # the last good one is kept
    assert not at.exception
    assert button(at, "train")["label"] == "Train"
    assert button(at, "step10")["disabled"]
    click(at, "reset")
    assert not experiment(at).diverged
    assert not at.error and not at.exception


def test_train_runs_in_the_worker_and_pause_stops():
    at = open_app(task="adding", seq_len="20")
    click(at, "train")
    assert running(at)
    assert button(at, "train")["label"] == "Pause"  # Train's place, a button of its own
    wait_for_steps(at, 5)
    assert status_text(at).split(" / ")[0] != "**Step 0"
    settle(click(at, "train_stop"))
    assert not running(at)
    assert button(at, "train")["label"] == "Train"
    paused_at = experiment(at).steps_done
    time.sleep(0.3)
    assert experiment(at).steps_done == paused_at  # nothing trains after Pause
    assert status_text(at).startswith(f"**Step {paused_at:,} ")


def test_step_while_training_pauses_then_steps():
    at = open_app(task="adding", seq_len="20")
    click(at, "train")
    wait_for_steps(at, 5)
    settle(click(at, "step10"))
    assert not running(at) and button(at, "train")["label"] == "Train"
    steps = experiment(at).steps_done
    time.sleep(0.3)
    assert experiment(at).steps_done == steps


def test_busy_server_shows_waiting_for_a_slot():
    taken = live.SLOTS.acquire(live.SLOTS.count)
    try:
        at = open_app(task="adding", seq_len="20")
        click(at, "train")
        driver = run_of(at)
        deadline = time.monotonic() + 10
        while not driver.live.waiting and time.monotonic() < deadline:
            time.sleep(0.01)
        at.run()
        assert "waiting for a free training slot" in status_text(at)
        assert experiment(at).steps_done == 0
    finally:
        live.SLOTS.release(taken)
    wait_for_steps(at, 1)
    assert "waiting" not in status_text(at)


def test_fixing_unusable_settings_enables_the_buttons():
    at = open_app(task="csv", csv_column="5")  # the demo series has one column
    # A link falls back to settings that work, and says so...
    assert any("out of range" in w.value and "instead" in w.value for w in at.warning)
    assert not at.error and not button(at, "train")["disabled"]
    # ...while settings chosen in the sidebar that don't fit together are explained and block
    # training until they are fixed.
    at.number_input(key="w_min_len").set_value(at.session_state["config"].seq_len + 1).run()
    assert any("must be at most seq" in e.value for e in at.error)
    assert button(at, "train")["disabled"] and button(at, "step1")["disabled"]
    at.number_input(key="w_min_len").set_value(0).run()
    assert not at.exception and not at.error
    assert not button(at, "train")["disabled"] and not button(at, "step1")["disabled"]
