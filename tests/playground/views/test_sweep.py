"""The Sweep page under AppTest: runs to the end, plots, says how far each cell reached."""

from __future__ import annotations

from tests.playground.helpers import (
    click,
    figures,
    open_page,
    run_of,
    running,
    settle,
)


def test_sweep_runs_to_the_end_plots_and_concludes():
    at = open_page("sweep")
    at.multiselect(key="sweep_cells").set_value(["rnn", "gru"])
    at.text_input(key="sweep_values_adding").input("4, 6").run()
    at.number_input(key="sweep_steps").set_value(20).run()
    settle(click(at, "sweep_start"), "sweep")
    assert not at.exception, at.exception
    sweep = run_of(at, "sweep").sweep
    assert sweep.done and len(sweep.points) == 4
    traces = [t["name"] for t in figures(at)["chart_sweep"]["data"]]
    assert "rnn" in traces and "gru" in traces
    assert list(at.dataframe[0].value["cell"]) == ["Vanilla RNN (tanh)", "GRU"] * 2
    result = next(m.value for m in at.markdown if m.value.startswith("**Result:**"))
    assert result == f"**Result:** {sweep.conclusion()}" and "seq_len 4, 6" in result


def test_sweep_bad_values_and_cancel():
    at = open_page("sweep")
    at.text_input(key="sweep_values_adding").input("4, x").run()
    assert any("whole numbers" in e.value for e in at.error)
    at.text_input(key="sweep_values_adding").input("10, 20").run()
    at.number_input(key="sweep_steps").set_value(3000).run()
    click(at, "sweep_start")
    assert running(at, "sweep")
    click(at, "sweep_cancel")
    assert not running(at, "sweep")
    assert "cancelled" in run_of(at, "sweep").sweep.stopped_reason
    assert not at.exception


def test_the_default_values_come_from_the_task():
    from core import CELLS as REGISTRY
    from core import TASKS

    at = open_page("sweep")
    assert at.text_input(key="sweep_values_adding").value == ", ".join(
        str(v) for v in TASKS["adding"].memory_values
    )
    # Titles, not code names; and not the copy task, whose long lags don't fit the page's budget.
    assert at.selectbox(key="sweep_task").options == [TASKS["adding"].title]
    cells = at.multiselect(key="sweep_cells")
    assert "feedforward" in cells.value and REGISTRY["feedforward"].title in cells.options
