"""What every page draws the same way: a chart with its caption and text alternative, the live
area, the example picker, numbers and clocks in status lines, keyboard focus on a button."""

from __future__ import annotations

import html
import math
from collections.abc import Callable
from typing import Any

import streamlit as st

from playground import live, state
from playground.actions import describe_error
from playground.charts.component import plotly_live, steady_container
from playground.words.captions import CAPTIONS

# Focuses the button in `.st-key-<data>` once nothing else has focus. For up to 2 s: the button
# can arrive a moment after this element, and the one that had focus may be disabled only then.
FOCUS_JS = """export default function({data, parentElement}) {
  const page = parentElement.ownerDocument;
  let tries = 0;
  const go = () => {
    const button = page.querySelector(`.st-key-${data} button:not(:disabled)`);
    const free = !page.activeElement || page.activeElement === page.body;
    if (button && free) button.focus();
    else if (page.activeElement !== button && ++tries < 40) setTimeout(go, 50);
  };
  go();
}"""

# Streamlit 1.67 disables a tab while its panel is stale, i.e. from the moment it is chosen until
# the rerun that draws it arrives; the browser then drops focus to the page, so the arrow keys stop
# working after one press. When a tab loses focus that way (it lost its tabindex), focus goes back
# to the selected tab as soon as it is enabled, unless the visitor has moved on meanwhile.
TAB_FOCUS_JS = """export default function({parentElement}) {
  const page = parentElement.ownerDocument;
  if (page.defaultView.playgroundTabFocus) return;
  page.defaultView.playgroundTabFocus = true;
  page.addEventListener("focusout", (event) => {
    const tab = event.target.closest && event.target.closest("[data-testid='stTab']");
    const disabled = tab && (!tab.hasAttribute("tabindex") || tab.ariaDisabled === "true");
    if (!disabled || event.relatedTarget) return;
    const list = tab.closest("[role='tablist']");
    let tries = 0;
    const restore = () => {
      if (page.activeElement && page.activeElement !== page.body) return;
      const selected = list.querySelector("[aria-selected='true']:not([aria-disabled='true'])");
      if (selected && list.isConnected) selected.focus({preventScroll: true});
      else if (++tries < 200) setTimeout(restore, 50);
    };
    setTimeout(restore, 0);
  }, true);
}"""

# The same config while training and paused: charts are redrawn in place, so zoom, hover and the
# 3D camera survive redraws (layout.uirevision); plotly's staticPlot drew 3D scenes blank.
PLOTLY_CONFIG = {"displaylogo": False}


def chart(
    page: str,
    name: str,
    build: Callable[[], Any],
    version: Any,
    key: str | None = None,
    alt: Callable[[], str] | None = None,
) -> None:
    """Draw the figure `build()` makes, rebuilt only when `version` changes (in between the browser
    is told it is unchanged and redraws nothing), with the caption for `name` and, for screen
    readers, the sentence `alt()` gives (playground/charts/describe.py), kept current with it.
    A failing builder becomes a notice on the page, never a traceback."""
    key = key or f"chart_{name}"
    try:
        figure = state.cached(page, key, version, build)
        text = state.cached(page, f"{key}:alt", version, alt) if alt else ""
    except Exception as error:  # noqa: BLE001
        st.warning(f"This chart could not be drawn: {describe_error(error)}")
        return
    plotly_live(figure, key=key, config=PLOTLY_CONFIG)
    if text:
        st.markdown(f'<p class="sr-only">{html.escape(text)}</p>', unsafe_allow_html=True)
    st.caption(CAPTIONS[name])


def flashes() -> None:
    """The one-shot messages the last click queued (state.flash), on whichever page is open."""
    for kind, text in state.pop_flash():
        getattr(st, kind)(text)


def live_area(key: str = "live"):
    """The container of a page's live part (status line, charts): it never fades while the
    next tick is pending."""
    return steady_container(key)


def example_picker(count: int, key: str = "example") -> int:
    """Which sequence of the probe batch the charts show."""
    return st.slider(
        "Example sequence",
        0,
        max(count - 1, 1),
        key=key,
        help="which sequence of the fixed probe batch the charts show",
    )


def number(value: float | None) -> str:
    return "–" if value is None or not math.isfinite(value) else f"{value:.4g}"


def pace_phrase(driver, stopped: str, unit: str = "steps/s") -> str:
    """How a run is going, for its status line: waiting for a slot, its speed, or `stopped`."""
    if live.running(driver) and driver.live.waiting:
        return "waiting for a free training slot…"
    if live.running(driver):
        speed = driver.pace.steps_per_second()
        return f"{speed:,.0f} {unit}" if speed == speed else "starting…"
    return stopped


def clock(seconds: float) -> str:
    return f"{int(seconds) // 60}:{int(seconds) % 60:02d}"


def progress_bar(done: float, total: float, text: str | None = None) -> None:
    """A progress bar that can't fail: any count (negative, past the end, NaN) is clamped."""
    share = done / total if total and math.isfinite(done / total) else 0.0
    st.progress(min(max(share, 0.0), 1.0), text=text)


def start_stop(
    container,
    running: bool,
    key: str,
    labels: tuple[str, str],
    actions: tuple[Callable, Callable],
    start_args: tuple = (),
    disabled: bool = False,
    help: str | None = None,
    focus: bool = False,
) -> None:
    """A start/stop pair in one place (Train/Pause, Run/Stop): two buttons with their own keys,
    `key` while stopped and `key`_stop while running.

    A click means what its button said when it was clicked: a Pause pressed just as the run
    finished must not start it again, as one button whose action changed with its label would.
    Keyboard focus follows the click to the button that takes the old one's place (Enter pauses
    what Enter started), and to the button drawn now if `focus`."""
    shown = pair_button(key, running)
    container.button(
        labels[running],
        key=shown,
        on_click=actions[running],
        args=() if running else start_args,
        type="primary",
        disabled=disabled,
        help=help,
        width="stretch",
    )
    if state.swapped(key, shown) or focus:
        focus_button(shown)


def pair_button(key: str, running: bool) -> str:
    """The key of the button a start/stop pair shows: `key` while stopped, `key`_stop while
    running."""
    return f"{key}_stop" if running else key


def focus_button(key: str) -> None:
    """Put keyboard focus on the button keyed `key` when nothing else has it: after a page change
    (a Learn demo opening the playground) focus would otherwise fall to the page body, far from
    the control of what just started. Draw it in one run only; its element is hidden (page.css)."""
    component = st.components.v2.component("playground.focus", js=FOCUS_JS, isolate_styles=False)
    component(data=key, key=f"focus_{key}")


def keep_tab_focus() -> None:
    """Keep keyboard focus on a tab bar across the rerun that a tab change starts (TAB_FOCUS_JS);
    once per page is enough. Its element is hidden (page.css)."""
    component = st.components.v2.component(
        "playground.tab_focus", js=TAB_FOCUS_JS, isolate_styles=False
    )
    component(key="focus_tabs")
