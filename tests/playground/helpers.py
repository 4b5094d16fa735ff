"""Shared by the page tests: open the app or one page under Streamlit's AppTest, read what it
drew (status line, charts by key) and the session's runs, whichever way the page stores them.

AppTest runs the script without a browser, so no ticker asks for the live panel's next drawing;
but a fragment's body runs inline on every page run, so each `at.run()` draws the run as it is.
Training happens in the run's worker thread (playground/live.py): `settle` and `wait_for_steps`
wait for it before drawing.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from streamlit.proto.WidgetStates_pb2 import WidgetState
from streamlit.testing.v1 import AppTest

from playground import live
from playground.charts import component

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "playground" / "app.py")


def open_app(**params: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    for key, value in params.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, at.exception
    return at


def page_script(module: str) -> str:
    """Source of a stand-alone AppTest script that renders one view's page()."""
    return (
        "import sys\nfrom pathlib import Path\nsys.path.insert(0, str(Path.cwd()))\n"
        "import torch\ntorch.set_num_threads(1)\n"
        "from playground import state\n"
        f"from playground.views import {module}\n"
        f"state.start_session()\n{module}.page()\n"
    )


def open_page(module: str) -> AppTest:
    at = AppTest.from_string(page_script(module), default_timeout=60).run()
    assert not at.exception, at.exception
    return at


def status_text(at: AppTest) -> str:
    return next(m.value for m in at.markdown if m.value.startswith("**Step "))


def figures(at: AppTest) -> dict[str, dict]:
    """The live charts on the page (as plotly's JSON), by the chart key the page gave them."""
    return {key: json.loads(text) for key, text in component.page_figures(at).items()}


def trace_names(figure: dict) -> list[str]:
    return [trace.get("name", "") for trace in figure["data"]]


def run_of(at: AppTest, page: str = "playground"):
    """The page's driver in the session's workspace (playground/drivers.py), or None."""
    return at.session_state["workspace"].get(page)


def experiment(at: AppTest):
    driver = run_of(at)
    return None if driver is None else driver.experiment


def running(at: AppTest, page: str = "playground") -> bool:
    return live.running(run_of(at, page))


def page_value(at: AppTest, page: str, name: str):
    return at.session_state["workspace"].get(f"{page}:{name}")


def settle(at: AppTest, page: str = "playground", timeout: float = 60.0) -> AppTest:
    """Wait until the page's run has taken the steps asked for (Step) and stopped, then draw."""
    driver = run_of(at, page)
    if driver is not None:
        assert live.settle(driver, timeout), f"the {page} run is still busy after {timeout} s"
    return at.run()


def wait_for_steps(at: AppTest, steps: int, page: str = "playground", timeout: float = 60.0):
    """Wait until the page's run has trained past `steps` (while it trains), then draw."""
    driver = run_of(at, page)
    deadline = time.monotonic() + timeout
    while driver.step < steps:
        assert time.monotonic() < deadline, f"the {page} run is at step {driver.step} of {steps}"
        time.sleep(0.01)
    return at.run()


# ---- a live panel's controls (playground/views/panel.py) ---------------------------------------
def panels(at: AppTest) -> dict[str, dict]:
    """{panel key: its data as drawn} of every live panel's controls on the page."""
    from playground.views import panel

    found = {}
    for element in at.get("bidi_component"):
        if element.proto.component_name == panel.NAME:
            data = json.loads(element.proto.json)
            found[data["key"]] = {"id": element.proto.id, **data}
    return found


def button(at: AppTest, slot: str) -> dict:
    """A live panel's button by its slot ("train", "step1", "race_train"...): label, name,
    disabled."""
    for data in panels(at).values():
        for spec in data["buttons"]:
            if spec["slot"] == slot:
                return spec
    raise KeyError(f"no live button {slot!r} on the page: {list(panels(at))}")


def labels(at: AppTest) -> list[str]:
    return [spec["label"] for data in panels(at).values() for spec in data["buttons"]]


def click(at: AppTest, name: str) -> AppTest:
    """Click the live button called `name` ("train", "train_stop", "step10", "reset"...) as the
    browser module does: the next click number of this page, in the panel's update event."""
    from streamlit.components.v2.bidi_component.main import _make_trigger_id

    key, data = next(
        (key, data)
        for key, data in panels(at).items()
        if any(spec["name"] == name for spec in data["buttons"])
    )
    try:
        handled = at.session_state[f"clicks_{key}"]
    except KeyError:  # no click handled yet
        handled = {}
    seq = (handled.get("seq", 0) if handled.get("page") == "apptest" else 0) + 1
    update = {"page": "apptest", "events": [{"seq": seq, "name": name}], "ask": seq}
    state = WidgetState(
        id=_make_trigger_id(data["id"], "events"),
        json_trigger_value=json.dumps([{"event": "update", "value": update}]),
    )
    states = at._tree.get_widget_states()  # AppTest has no element type for custom components
    states.widgets.append(state)
    return at._run(states)
