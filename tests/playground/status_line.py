"""The page's status line ("Step 1,545 / 2,000 · train loss … · paused · …") as the Chromium tests
read it."""

from __future__ import annotations

import re

STATUS = re.compile(r"Step ([\d,]+) / ([\d,]+)[^\n]*")
MAIN = "[data-testid='stMain']"


def status(page) -> str:
    match = STATUS.search(page.inner_text(MAIN))
    return match.group(0) if match else ""


def step_count(page) -> int:
    match = STATUS.search(page.inner_text(MAIN))
    return int(match.group(1).replace(",", "")) if match else -1


def paused_count(page, timeout: float = 10.0) -> int:
    """The step count once the status line says "paused"."""
    page.wait_for_function(
        "() => document.querySelector(\"[data-testid='stMain']\").innerText.includes('· paused')",
        timeout=timeout * 1000,
    )
    return step_count(page)


# ---- waiting for what the page shows, never for a fixed time ------------------------------------
STEP_JS = """() => {
  const main = document.querySelector("[data-testid='stMain']");
  const match = main && /Step ([\\d,]+) \\/ /.exec(main.innerText);
  return match ? parseInt(match[1].replace(/,/g, ""), 10) : -1;
}"""

# The panel's controls element says data-busy="false" once its run is idle and every click it
# sent has been handled (static/controls.js); the script run that drew it must also have ended, or
# the status line below the controls may still be on its way.
IDLE_JS = """(panel) => {
  const box = document.querySelector(`.st-key-${panel} [data-busy]`);
  const app = document.querySelector("[data-testid='stApp']");
  return Boolean(box) && box.dataset.busy === "false"
    && app.dataset.testScriptState === "notRunning";
}"""

CHARTS_JS = """(count) => {
  const all = (root, out) => {
    root.querySelectorAll('*').forEach((n) => n.shadowRoot && all(n.shadowRoot, out));
    root.querySelectorAll('.js-plotly-plot').forEach((p) => out.push(p));
    return out;
  };
  const drawn = all(document, []).filter(
    (p) => p.querySelectorAll('.trace, .hm, image, .gl-container').length > 0);
  return drawn.length >= count;
}"""


def wait_step_above(page, step: int, timeout: float = 30.0) -> int:
    """The step count once the status line shows more than `step`."""
    page.wait_for_function(f"() => ({STEP_JS})() > {int(step)}", timeout=timeout * 1000)
    return step_count(page)


def settled(page, panel: str = "controls", timeout: float = 30.0) -> int:
    """The step count once the panel's run is idle, every click handled and drawn."""
    page.wait_for_function(IDLE_JS, arg=panel, timeout=timeout * 1000)
    return step_count(page)


def charts_drawn(page, count: int, timeout: float = 30.0) -> None:
    """Wait until at least `count` Plotly charts on the page hold drawn traces."""
    page.wait_for_function(CHARTS_JS, arg=count, timeout=timeout * 1000)
