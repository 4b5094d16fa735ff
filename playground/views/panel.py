"""A live panel's controls: its buttons and its clock in one element (static/controls.js).

Every page that trains (Playground, Race, Sweep, a Learn claim) draws its run in a fragment whose
first element is `controls(...)`. The buttons are drawn from the server's state at every drawing,
so the button on screen is the one the server drew last; a click is an event numbered by the
page, sent again until the server acknowledges it, and handled here exactly once and in order
(`handle_clicks`), however Streamlit batches or merges the requests that carry it. While the run is
busy, the element asks for the next drawing a moment after each one arrives.

A click means what its button said when the page drew it: the actions of one drawing are the
ones its clicks run, and a click on a button the server has since disabled does nothing.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import streamlit as st

from playground import live, state
from playground.charts.component import loader_component

NAME = "playground.controls"
MODULE = "controls.js"
MAX_EVENTS = 20  # what a page may send at once (controls.js MAX_PENDING); more is not a page's


@dataclass(frozen=True)
class Button:
    """One button of a panel. `slot`: its place (Train and Pause share one, so focus stays);
    `name`: what a click on it is called; `action`: what the click does."""

    slot: str
    name: str
    label: str
    action: Callable[[], Any]
    primary: bool = False
    disabled: bool = False
    help: str = ""

    def spec(self) -> dict[str, Any]:
        return {
            "slot": self.slot,
            "name": self.name,
            "label": self.label,
            "primary": self.primary,
            "disabled": self.disabled,
            "help": self.help,
        }


def start_stop(
    slot: str,
    running: bool,
    labels: tuple[str, str],
    actions: tuple[Callable, Callable],
    disabled: bool = False,
    help: str = "",
) -> Button:
    """The button of a start/stop pair (Train/Pause, Run/Stop) in one place: `slot` while stopped
    and `slot`_stop while running, so a Pause clicked just as the run finished can't start it
    again."""
    return Button(
        slot,
        f"{slot}_stop" if running else slot,
        labels[running],
        actions[running],
        primary=True,
        disabled=disabled,
        help=help,
    )


def controls(
    key: str,
    buttons: list[Button],
    busy: bool,
    label: str = "Training controls",
    focus: str | None = None,
    fallback: str | None = None,
) -> None:
    """Draw the buttons and the clock. `busy`: ask for the next drawing; `focus`: the slot that
    takes keyboard focus if nothing has it; `fallback`: the slot that takes it from a focused
    button that is disabled now (a diverged run's Step)."""
    actions = {b.name: b.action for b in buttons if not b.disabled}
    data = {
        "key": key,
        "label": label,
        "buttons": [b.spec() for b in buttons],
        "busy": busy,
        "every": live.DRAW_EVERY_MS,
        "n": state.count_drawing(),  # a new value each drawing: every one reaches the browser
        "acked": state.clicks_handled(key),
        "focus": focus,
        "fallback": fallback,
    }
    _component()(
        data=data,
        key=key,
        on_update_change=functools.partial(handle_clicks, key, actions),
    )


def handle_clicks(key: str, actions: dict[str, Callable[[], Any]]) -> None:
    """Run each click the page sent that was not handled yet, in order (before the page is
    drawn again). A request without new clicks is the clock asking for a drawing."""
    update = (st.session_state.get(key) or {}).get("update")
    page, events = _read(update)
    if page is None:
        return
    handled = state.clicks_handled(key)
    last = handled["seq"] if handled["page"] == page else 0
    for seq, name in events:
        if seq <= last:
            continue
        last = seq
        action = actions.get(name)
        if action is not None:
            action()
    state.set_clicks_handled(key, {"page": page, "seq": last})


def _read(update: Any) -> tuple[str | None, list[tuple[int, str]]]:
    """(page, [(seq, name)] in order) from what a browser sent, or (None, []) for anything else:
    a modified browser can send any JSON here."""
    if not isinstance(update, dict) or not isinstance(update.get("page"), str):
        return None, []
    events = update.get("events")
    if not isinstance(events, list):
        return None, []
    clicks = []
    for event in events[-MAX_EVENTS:]:
        if not isinstance(event, dict):
            continue
        seq, name = event.get("seq"), event.get("name")
        if isinstance(seq, int) and not isinstance(seq, bool) and isinstance(name, str):
            clicks.append((seq, name))
    return update["page"][:40], sorted(clicks)


@functools.cache
def _component():
    return loader_component(NAME, MODULE)
