"""Accessibility in real Chromium: axe-core on every page in every state, a keyboard walk,
the charts' text alternatives in the accessibility tree, reduced motion, small screens.

One server and one browser page for the audit; axe (axe-playwright-python) runs on the Playground,
Learn, Race and Sweep pages idle, while training, paused, diverged, with an uploaded CSV, after a
race, a sweep and a claim's verdict. No serious or critical violation is allowed; every violation
found, whatever its impact, goes into the table printed at the end (and written to
test-artifacts/accessibility.txt) so a run shows what axe saw.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

axe_module = pytest.importorskip("axe_playwright_python.sync_playwright")

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
BLOCKING = ("serious", "critical")
STATUS = re.compile(r"Step ([\d,]+) / ([\d,]+)[^\n]*")
LINKS = {
    "playground": "/?cell=lstm&task=adding&seq_len=30",
    "diverged": "/?cell=rnn&task=adding&init=scaled&init_gain=10&lr=10&clip=0&optimizer=sgd",
    "csv": "/?task=csv&cell=gru&hidden=16",
}


# ---- the audit --------------------------------------------------------------------------------
class Audit:
    """Runs axe and keeps one row per (page, state, rule) for the table."""

    def __init__(self) -> None:
        self.axe = axe_module.Axe()
        self.rows: list[tuple[str, str, str, str, int]] = []
        self.blocking: list[str] = []

    def run(self, page, name: str, state: str) -> None:
        violations = self.axe.run(page).response["violations"]
        if not violations:
            self.rows.append((name, state, "-", "-", 0))
        for violation in violations:
            nodes = violation["nodes"]
            self.rows.append((name, state, violation["id"], violation["impact"], len(nodes)))
            if violation["impact"] in BLOCKING:
                where = "; ".join(
                    f"{node['html'][:100]} ({node.get('failureSummary', '')[-160:]})"
                    for node in nodes[:3]
                )
                self.blocking.append(f"{name}/{state}: {violation['id']}: {where}")

    def table(self) -> str:
        lines = [f"{'page':<11}{'state':<17}{'rule':<26}{'impact':<10}count"]
        lines += [f"{p:<11}{s:<17}{r:<26}{i:<10}{c}" for p, s, r, i, c in self.rows]
        return "\n".join(lines)


@pytest.fixture(scope="module")
def audit():
    result = Audit()
    yield result
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "accessibility.txt").write_text(result.table() + "\n")
    print("\naxe-core violations by page and state\n" + result.table())


@pytest.fixture(scope="module")
def page(browser):
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    page = context.new_page()
    yield page
    context.close()


# ---- small helpers ------------------------------------------------------------------------------
def status(page) -> str:
    match = STATUS.search(page.inner_text("[data-testid='stMain']"))
    return match.group(0) if match else ""


def step_count(page) -> int:
    match = STATUS.search(page.inner_text("[data-testid='stMain']"))
    return int(match.group(1).replace(",", "")) if match else -1


def wait_until(condition, timeout: float = 30.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def open_page(page, url: str, button: str) -> None:
    page.goto(url)
    page.get_by_role("button", name=button, exact=True).first.wait_for(timeout=60_000)
    page.wait_for_timeout(500)  # the rest of the first run (sidebar, captions) lands


def focused(page) -> str:
    return page.evaluate(
        "() => { const e = document.activeElement;"
        " return e ? `${e.tagName} ${(e.innerText || '').trim()}` : '' }"
    )


def no_exception(page) -> None:
    assert page.locator("[data-testid='stException']").count() == 0


# ---- keyboard walk, then the playground's states ------------------------------------------------
def test_keyboard_walk_and_playground_states(live_server, page, audit):
    """From page load: Tab to "Skip to main content", then to Train; Enter trains, Enter pauses,
    Enter trains again, with focus kept on the one button. At most 5 presses after the skip link."""
    open_page(page, live_server.url + LINKS["playground"], "Train")
    audit.run(page, "playground", "idle")

    page.keyboard.press("Tab")
    assert focused(page) == "A Skip to main content"
    presses = 0
    page.keyboard.press("Enter")
    presses += 1
    while focused(page) != "BUTTON Train":
        assert presses < 10, f"Train not reached; focus on {focused(page)!r}"
        page.keyboard.press("Tab")
        presses += 1
    page.keyboard.press("Enter")
    presses += 1
    wait_until(lambda: "steps/s" in status(page), what="training to start")
    assert focused(page) == "BUTTON Pause"
    audit.run(page, "playground", "training")

    page.keyboard.press("Enter")
    presses += 1
    wait_until(lambda: "paused" in status(page), what="the pause")
    assert focused(page) == "BUTTON Train"
    audit.run(page, "playground", "paused")

    page.keyboard.press("Enter")
    presses += 1
    wait_until(lambda: "paused" not in status(page), what="training to start again")
    assert focused(page) == "BUTTON Pause"
    print(f"\nkeyboard: {presses} presses after the skip link for Train, Pause, Train")
    assert presses <= 5
    page.get_by_role("button", name="Pause", exact=True).click()
    wait_until(lambda: "paused" in status(page), what="the pause")

    # Every tab of the paused run.
    for name in ("Memory", "Gradients", "Gates", "Weights", "Cell"):
        page.get_by_role("tab", name=name).click()
        page.wait_for_timeout(1_500)
        audit.run(page, "playground", f"tab {name}")
    no_exception(page)

    # Diverged: plain SGD at learning rate 10 on a blown-up vanilla RNN.
    open_page(page, live_server.url + LINKS["diverged"], "Train")
    for _ in range(5):
        step = page.get_by_role("button", name="Step 10", exact=True)
        if step.is_disabled():
            break
        step.click()
        page.wait_for_timeout(800)
    wait_until(
        lambda: page.get_by_role("button", name="Step 10", exact=True).is_disabled(),
        what="the run to diverge",
    )
    audit.run(page, "playground", "diverged")

    # A CSV of one's own through the sidebar's uploader.
    open_page(page, live_server.url + LINKS["csv"], "Train")
    csv = ARTIFACTS / "accessibility-series.csv"
    ARTIFACTS.mkdir(exist_ok=True)
    csv.write_text("t,level\n" + "".join(f"{t},{(t * 7) % 23}\n" for t in range(300)))
    page.locator("[data-testid='stSidebar'] input[type='file']").set_input_files(str(csv))
    page.get_by_text("Using accessibility-series.csv").wait_for(timeout=20_000)
    page.get_by_role("button", name="Step 10", exact=True).click()
    wait_until(lambda: step_count(page) >= 10, what="ten steps on the CSV")
    page.wait_for_timeout(1_000)
    audit.run(page, "playground", "csv upload")
    no_exception(page)
    assert not audit.blocking, "\n".join(audit.blocking)


def test_learn_race_sweep_states(live_server, page, audit):
    open_page(page, live_server.url + "/learn", "Show me: Next number (LSTM)")
    audit.run(page, "learn", "idle")
    page.get_by_text("Check the claim: Next number").click()
    run = page.get_by_role("button", name="Run this experiment").first
    run.click()
    page.get_by_text(re.compile(r"Claim (confirmed|not confirmed)")).wait_for(timeout=90_000)
    page.wait_for_timeout(500)
    audit.run(page, "learn", "claim verdict")

    open_page(page, live_server.url + "/race", "Train")
    audit.run(page, "race", "idle")
    page.get_by_role("button", name="Step 50", exact=True).click()
    wait_until(lambda: step_count(page) >= 50, timeout=60, what="the race's 50 steps")
    page.wait_for_timeout(500)
    audit.run(page, "race", "after Step 50")

    open_page(page, live_server.url + "/sweep", "Start")
    audit.run(page, "sweep", "idle")
    values = page.get_by_label(re.compile("^Values of"))
    values.fill("5")
    values.press("Enter")
    steps = page.get_by_label("Steps per run")
    steps.fill("20")
    steps.press("Enter")
    page.wait_for_timeout(800)
    page.get_by_role("button", name="Start", exact=True).click()
    page.get_by_text(re.compile(r"runs · \d+ s · (finished|stopped)")).wait_for(timeout=60_000)
    audit.run(page, "sweep", "after a sweep")
    no_exception(page)
    assert not audit.blocking, "\n".join(audit.blocking)
