"""Accessibility in real Chromium: axe-core on every page in every state, a keyboard walk, the
charts' text alternatives in the accessibility tree, reduced motion, small screens.

One server and one browser page for the audit. axe (axe-playwright-python) runs on the
Playground, Learn, Race and Sweep pages idle, while training, paused, on each tab, diverged, with
an uploaded CSV, after a claim's verdict, a race and a sweep. No serious or critical violation is
allowed; every violation found, whatever its impact, goes into the table printed at the end of
the module (run pytest with -s to see it) and written to test-artifacts/accessibility.txt.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from tests.playground.status_line import settled, status, step_count

pytestmark = pytest.mark.browser

axe_playwright = pytest.importorskip("axe_playwright_python.sync_playwright")

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
BLOCKING = ("serious", "critical")
LINKS = {
    "playground": "/?cell=lstm&task=adding&seq_len=30",
    "diverged": "/?cell=rnn&task=adding&init=scaled&init_gain=10&lr=10&clip=0&optimizer=sgd",
    "csv": "/?task=csv&cell=gru&hidden=16",
}
LOSS_ALT = re.compile(r"Loss chart: training loss \S+ at step \d+")
# Every running CSS animation and transition: [kind, property or name, duration in ms].
ANIMATIONS = """() => document.getAnimations().map(a => [
  a.constructor.name, a.animationName || a.transitionProperty || '',
  Number(a.effect.getTiming().duration) || 0])"""


# ---- the audit ----------------------------------------------------------------------------------
class Audit:
    """Runs axe and keeps one row per (page, state, rule) for the table."""

    def __init__(self) -> None:
        self.axe = axe_playwright.Axe()
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
        lines = [f"{'page':<11}{'state':<17}{'rule':<28}{'impact':<10}nodes"]
        lines += [f"{p:<11}{s:<17}{r:<28}{i:<10}{c}" for p, s, r, i, c in self.rows]
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
def wait_until(condition, timeout: float = 30.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def open_page(page, url: str, button: str) -> None:
    page.goto(url)
    page.get_by_role("button", name=button, exact=True).first.wait_for(timeout=60_000)
    page.wait_for_timeout(500)  # the rest of the first run (sidebar, captions) lands


def idle(page) -> None:
    """Wait until no script run is in progress (a paused page), so a control focused next is the
    one the page keeps, not one a run still in flight is about to redraw."""
    page.locator("[data-testid='stApp'][data-test-script-state='notRunning']").wait_for(
        timeout=30_000
    )


def focus_moves_to(page, expected: str) -> None:
    """Train and Pause are two buttons in one place: focus is handed to the one that appears."""
    wait_until(lambda: focused(page) == expected, timeout=5.0, what=f"focus on {expected!r}")


def focused(page) -> str:
    """The focused element as 'TAG text', e.g. 'BUTTON Pause'."""
    return page.evaluate(
        "() => { const e = document.activeElement;"
        " return e ? `${e.tagName} ${(e.innerText || '').trim()}` : '' }"
    )


def press(page, key: str = "Enter", wait: int = 0) -> None:
    page.keyboard.press(key)
    if wait:
        page.wait_for_timeout(wait)  # the tab bar redraws before the next arrow key


def screen_reader_text(page) -> str:
    """What the accessibility tree holds for the main area (Chromium's, as a screen reader gets
    it): names and text of every node, the visually hidden ones included."""
    return page.locator("[data-testid='stMain']").aria_snapshot()


def alternatives(page) -> list[str]:
    """The charts' text alternatives on the page, each checked to be out of sight (1 x 1 px)."""
    found = []
    for element in page.locator("p.sr-only").all():
        box = element.bounding_box()
        assert box is None or (box["width"] <= 1 and box["height"] <= 1), box
        found.append(element.text_content())
    return found


def no_exception(page) -> None:
    assert page.locator("[data-testid='stException']").count() == 0


# ---- the playground -----------------------------------------------------------------------------
def test_playground_by_keyboard_in_every_state(live_server, page, audit):
    """From page load: Tab to "Skip to main content", then to Train; Enter trains, Enter pauses,
    Enter trains again, with focus kept on the one button (at most 5 presses after the skip
    link). Step, Reset and the tabs by keyboard keep focus too. axe on every state and tab; the
    loss chart's text alternative is in the accessibility tree and follows training."""
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
    focus_moves_to(page, "BUTTON Pause")
    first = next(filter(LOSS_ALT.match, alternatives(page)), None)
    assert first, alternatives(page)
    assert LOSS_ALT.search(screen_reader_text(page)), "the loss sentence is not in the tree"
    audit.run(page, "playground", "training")
    wait_until(
        lambda: next(filter(LOSS_ALT.match, alternatives(page))) != first,
        what="the loss chart's text alternative to follow training",
    )

    page.keyboard.press("Enter")
    presses += 1
    wait_until(lambda: "paused" in status(page), what="the pause")
    focus_moves_to(page, "BUTTON Train")
    audit.run(page, "playground", "paused")

    page.keyboard.press("Enter")
    presses += 1
    wait_until(lambda: "paused" not in status(page), what="training to start again")
    focus_moves_to(page, "BUTTON Pause")
    print(f"\nkeyboard: {presses} presses after the skip link for Train, Pause, Train")
    assert presses <= 5
    press(page, "Enter", 0)
    wait_until(lambda: "paused" in status(page), what="the pause")

    # Step 10 and Reset by keyboard: each keeps focus.
    steps = settled(page)
    page.get_by_role("button", name="Step 10", exact=True).focus()
    press(page)
    wait_until(lambda: step_count(page) == steps + 10, what="Step 10")
    assert focused(page) == "BUTTON Step 10"

    # The tabs by keyboard (arrow keys): focus stays on the tab bar; axe on each tab, and each
    # tab's charts have their text alternatives.
    idle(page)
    page.get_by_role("tab", name="Training").focus()
    expected = {
        "Memory": "Hidden-state trajectories of",
        "Gradients": "Gradient history from step",
        "Gates": "Gates of sequence 0",
        "Weights": "Recurrent eigenvalues: spectral radius",
        "Cell": None,
    }
    for name, alternative in expected.items():
        press(page, "ArrowRight", 300)
        wait_until(
            lambda n=name: page.get_by_role("tab", selected=True).inner_text() == n, what=name
        )
        idle(page)
        assert focused(page) == f"DIV {name}"
        if alternative:
            wait_until(
                lambda a=alternative: any(t.startswith(a) for t in alternatives(page)),
                what=f"the {name} tab's text alternatives",
            )
        audit.run(page, "playground", f"tab {name}")

    idle(page)
    page.get_by_role("button", name="Reset", exact=True).focus()
    press(page)
    wait_until(lambda: step_count(page) == 0, what="Reset")
    assert focused(page) == "BUTTON Reset"
    no_exception(page)

    # Diverged: plain SGD at learning rate 10 on a blown-up vanilla RNN.
    open_page(page, live_server.url + LINKS["diverged"], "Train")
    step = page.get_by_role("button", name="Step 10", exact=True)
    step.focus()
    for _ in range(5):  # by keyboard: when Step goes off, focus moves to Reset
        if step.is_disabled():
            break
        press(page, "Enter", 800)
    wait_until(step.is_disabled, what="the run to diverge")
    wait_until(lambda: focused(page) == "BUTTON Reset", what="focus on Reset")
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
    wait_until(
        lambda: any(t.startswith("Forecast chart:") for t in alternatives(page)),
        what="the forecast's text alternative",
    )
    audit.run(page, "playground", "csv upload")
    no_exception(page)
    assert not audit.blocking, "\n".join(audit.blocking)


# ---- Learn, Race, Sweep -------------------------------------------------------------------------
def test_learn_race_sweep_by_keyboard_in_every_state(live_server, page, audit):
    """A claim checked by keyboard keeps focus on its Run/Stop button; a "Show me" demo puts focus
    on the playground's Pause; Step 50 on the race and a short sweep by keyboard; axe throughout."""
    open_page(page, live_server.url + "/learn", "Show me: Next number (LSTM)")
    audit.run(page, "learn", "idle")
    page.locator("summary", has_text="Check the claim: Next number").focus()
    press(page, "Enter", 500)
    page.get_by_role("button", name="Run this experiment").first.focus()
    press(page)
    wait_until(
        lambda: focused(page) in ("BUTTON Stop", "BUTTON Run this experiment"),  # a fast machine
        timeout=5.0,
        what="focus on Stop",
    )
    page.get_by_text(re.compile(r"Claim (confirmed|not confirmed)")).wait_for(timeout=90_000)
    focus_moves_to(page, "BUTTON Run this experiment")
    assert any(t.startswith("Validation loss by cell") for t in alternatives(page))
    audit.run(page, "learn", "claim verdict")

    page.get_by_role("button", name="Show me: Next number (LSTM)").focus()
    press(page, "Enter", 0)
    page.get_by_role("button", name="Pause", exact=True).wait_for(timeout=30_000)
    wait_until(lambda: focused(page) == "BUTTON Pause", what="focus on the demo's Pause")
    press(page, "Enter", 0)
    wait_until(lambda: "paused" in status(page), what="the demo to pause")

    open_page(page, live_server.url + "/race", "Train")
    audit.run(page, "race", "idle")
    page.get_by_role("button", name="Step 50", exact=True).focus()
    press(page, "Enter", 0)
    wait_until(lambda: step_count(page) >= 50, timeout=60, what="the race's 50 steps")
    assert focused(page) == "BUTTON Step 50"
    wait_until(
        lambda: any(t.startswith("Gradient per time step by cell") for t in alternatives(page)),
        what="the race's text alternatives",
    )
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
    page.get_by_role("button", name="Start", exact=True).focus()
    press(page, "Enter", 0)  # Start goes disabled: focus moves to Cancel, and back at the end
    page.get_by_text(re.compile(r"runs · \d+ s · (finished|stopped)")).wait_for(timeout=60_000)
    wait_until(lambda: focused(page) == "BUTTON Start", what="focus back on Start")
    assert any(t.startswith("Success by") for t in alternatives(page))
    audit.run(page, "sweep", "after a sweep")
    no_exception(page)
    assert not audit.blocking, "\n".join(audit.blocking)


# ---- reduced motion -----------------------------------------------------------------------------
def animations(page, train: bool) -> list[list]:
    """Every running animation and transition, sampled while the mouse moves on and off a button
    and, when `train`, while training (the progress bar, tabs and charts' containers move)."""
    box = page.get_by_role("button", name="Reset", exact=True).bounding_box()
    if train:
        page.get_by_role("button", name="Train", exact=True).click()
    seen = []
    for _ in range(6):
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.wait_for_timeout(120)
        seen += page.evaluate(ANIMATIONS)
        page.mouse.move(5, 5)
        page.wait_for_timeout(120)
        seen += page.evaluate(ANIMATIONS)
    if train:
        page.get_by_role("button", name="Pause", exact=True).click()
    return seen


def test_reduced_motion_stops_every_animation(live_server, browser, page):
    """A visitor whose system asks for less motion sees no transition or animation that lasts,
    while training either; the same sampling on a default page finds some (the check can fail)."""
    context = browser.new_context(viewport={"width": 1440, "height": 1000}, reduced_motion="reduce")
    calm = context.new_page()
    try:
        open_page(calm, live_server.url + LINKS["playground"], "Train")
        assert calm.evaluate("matchMedia('(prefers-reduced-motion: reduce)').matches")
        reduced = animations(calm, train=True)
    finally:
        context.close()
    open_page(page, live_server.url + LINKS["playground"], "Train")
    default = animations(page, train=True)
    print(f"\nanimations sampled: {len(default)} by default, {len(reduced)} with reduced motion")
    assert any(duration > 1 for _, _, duration in default), default
    assert reduced and all(duration <= 1 for _, _, duration in reduced), [
        a for a in reduced if a[2] > 1
    ]


# ---- small screens ------------------------------------------------------------------------------
def test_show_me_labels_whole_and_phone_navigation(live_server, browser, page):
    """Every "Show me" label on Learn shows whole from 1280 to 1920 px wide (none ends in '…');
    on a phone (390 x 844) the Learn, Race and Sweep links are on screen without the sidebar."""
    open_page(page, live_server.url + "/learn", "Show me: Next number (LSTM)")
    labels = page.locator("button", has_text="Show me:").locator(
        "[data-testid='stMarkdownContainer']"
    )
    for width in (1280, 1600, 1920):
        page.set_viewport_size({"width": width, "height": 1000})
        page.wait_for_timeout(300)
        cut = labels.evaluate_all(
            "els => els.filter(e => e.scrollWidth > e.clientWidth + 1"
            " || getComputedStyle(e).textOverflow === 'ellipsis').map(e => e.innerText)"
        )
        assert labels.count() >= 10 and not cut, (width, cut)
    page.set_viewport_size({"width": 1440, "height": 1000})

    phone = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    small = phone.new_page()
    try:
        for path, button in (("/", "Train"), ("/learn", "Show me: Next number (LSTM)")):
            open_page(small, live_server.url + path, button)
            for name in ("Learn", "Race", "Sweep"):
                # On screen, not in the folded sidebar (which keeps its links off to the left).
                on_screen = small.get_by_role("link", name=name, exact=True).evaluate_all(
                    "links => links.map(a => a.getBoundingClientRect()).filter(r => r.width > 0"
                    " && r.x >= 0 && r.right <= innerWidth && r.y >= 0 && r.bottom <= innerHeight)"
                    ".length"
                )
                assert on_screen == 1, (path, name)
            small.screenshot(path=str(ARTIFACTS / f"phone-{path.strip('/') or 'playground'}.png"))
        small.locator(".st-key-phone_nav").get_by_role("link", name="Race").tap()
        small.get_by_role("heading", name="Cell race: no memory, RNN, LSTM and GRU").wait_for(
            timeout=30_000
        )
    finally:
        phone.close()
