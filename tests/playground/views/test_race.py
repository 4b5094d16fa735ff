"""The Race page under AppTest: three cells step together, train live, conclude in words."""

from __future__ import annotations

from tests.playground.helpers import (
    button,
    click,
    figures,
    open_page,
    run_of,
    running,
    settle,
)


def test_race_steps_three_cells_trains_live_and_concludes():
    at = open_page("race")
    at.selectbox(key="race_task").select("adding")
    at.number_input(key="race_seq_len").set_value(10)
    at.number_input(key="race_steps").set_value(60)
    at.run()
    settle(click(at, "race_step"), "race")
    assert not at.exception, at.exception
    race = run_of(at, "race").race
    assert race.steps_done == 50
    loss = figures(at)["chart_race_loss"]
    validation = [t["name"] for t in loss["data"] if t.get("name") in race.cells]
    assert validation == ["rnn", "lstm", "gru", "feedforward"]
    assert len([t for t in figures(at)["chart_race_grad"]["data"] if t["name"] in race.cells]) == 4
    table = at.dataframe[0].value
    assert list(table["cell"]) == ["Vanilla RNN (tanh)", "LSTM", "GRU", "No memory (feed-forward)"]
    assert (table["wall time (s)"] > 0).all() and (table["ms per step"] > 0).all()
    assert any(m.value.startswith("**So far:**") for m in at.markdown)
    # Train trains in the worker and stops at the budget.
    settle(click(at, "race_train"), "race")
    assert not at.exception, at.exception
    assert race.done and not running(at, "race")
    result = next(m.value for m in at.markdown if m.value.startswith("**Result:**"))
    assert "60 steps" in result
    # Train stays usable: after a finished race it starts a new one with the same settings.
    assert not button(at, "race_train")["disabled"]
    click(at, "race_train")
    assert run_of(at, "race").race is not race and running(at, "race")


def test_race_pause_and_bad_settings():
    at = open_page("race")
    at.number_input(key="race_seq_len").set_value(10)
    at.number_input(key="race_steps").set_value(5000)
    at.run()
    click(at, "race_train")
    assert running(at, "race") and button(at, "race_train")["label"] == "Pause"
    click(at, "race_train_stop")
    assert not running(at, "race")
    at.number_input(key="race_hidden").set_value(256)
    at.number_input(key="race_seq_len").set_value(200).run()
    assert not at.exception


def test_race_opens_at_its_teaching_defaults_with_task_titles():
    from core import TASKS
    from core.teaching.race import DEFAULTS

    at = open_page("race")
    picker = at.selectbox(key="race_task")
    assert picker.value == DEFAULTS["task"] == "adding"
    assert TASKS["next_number"].title in picker.options and "next_number" not in picker.options
    assert at.number_input(key="race_seq_len").value == DEFAULTS["seq_len"]
    assert at.number_input(key="race_steps").value == DEFAULTS["max_steps"]
    assert "no memory" in at.title[0].value
