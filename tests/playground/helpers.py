"""Shared by the page tests: open the app or one page under Streamlit's AppTest, read what it
drew (status line, charts by key) and the session's runs, whichever way the page stores them.

AppTest runs the script without a browser and does not fire `run_every` timers, but a fragment's
body runs inline on every page run, so each `at.run()` while training is one live tick.
"""

from __future__ import annotations

import json
from pathlib import Path

from streamlit.testing.v1 import AppTest

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
    return bool(at.session_state["workspace"].get(f"{page}:running"))


def page_value(at: AppTest, page: str, name: str):
    return at.session_state["workspace"].get(f"{page}:{name}")
