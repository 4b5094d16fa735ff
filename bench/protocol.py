"""A visitor that speaks Streamlit's websocket protocol: no browser, so that this 2-core machine
measures the server rather than Chromium.

It does what the browser does for this app and nothing more:
- opens `/_stcore/stream` and asks for the page (a `rerun_script` BackMsg with the URL's query);
- reads the ForwardMsgs: the live panel's controls (the `playground.controls` component's data:
  buttons, `busy`, the clicks handled so far), the status line ("Step n / m ..."), the charts;
- clicks as static/controls.js does: a numbered event in the controls' trigger, resent with every
  request until a drawing acknowledges it;
- keeps the clock: while the run is busy it asks for the next drawing `every` ms after each one
  arrived, and again after RETRY_MS when none came.

A click counts as seen once a drawing has acknowledged it and shows its effect (`Effect`): the
button swapped, the run paused, the steps taken or the count back at 0.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import zlib
from dataclasses import dataclass, field
from typing import Any

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

CONTROLS = "playground.controls"
CHART = "playground.plotly_live"
STATUS = re.compile(r"\*\*Step ([\d,]+) / ([\d,]+)\*\*")
RESEND_S = 1.5  # static/controls.js RESEND_MS
RETRY_S = 3.0  # static/controls.js RETRY_MS


def trigger_id(component_id: str, event: str = "events") -> str:
    """The widget id a custom component's trigger is sent under (Streamlit's own helper)."""
    from streamlit.components.v2.bidi_component.main import _make_trigger_id

    return _make_trigger_id(component_id, event)


def browser_deflate():
    """permessage-deflate as Chromium offers it: no limit on the server's window (32 KB), where
    the `websockets` library's own default asks for 4 KB."""
    from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory

    return ClientPerMessageDeflateFactory(client_max_window_bits=True)


@dataclass
class Click:
    seq: int
    name: str
    sent: float
    step_before: int
    seen: float | None = None  # when a drawing first showed its effect


@dataclass
class Panel:
    """The last drawing of the live panel's controls."""

    id: str = ""
    fragment: str = ""
    data: dict = field(default_factory=dict)

    def button(self, slot: str) -> dict | None:
        return next((b for b in self.data.get("buttons", []) if b["slot"] == slot), None)

    def acked(self, page: str) -> int:
        acked = self.data.get("acked") or {}
        return acked.get("seq", 0) if acked.get("page") == page else 0


class Visitor:
    """One protocol visitor on `url` (http://host:port) with the page's query string."""

    def __init__(
        self, url: str, query: str = "max_steps=100000", name: str = "p0", compress: bool = True
    ) -> None:
        self.compress = compress  # permessage-deflate, as a browser asks for it
        self.url = url.rstrip("/")
        self.query = query
        self.name = name
        self.page = f"proto-{name}"
        self.ws = None
        self.panel = Panel()
        self.step = -1
        self.paused = True
        self.status_text = ""
        self.seq = 0
        self.asks = 0
        self.pending: list[dict] = []  # clicks not acknowledged yet
        self.clicks: list[Click] = []
        self.sticky: dict[str, tuple[str, str, Any]] = {}  # widget id -> (field, value, fragment)
        self.steps: list[tuple[float, int]] = []  # (time, step) at each change of the count
        self.drawings: list[float] = []  # times the controls were drawn
        self.chart_updates: list[float] = []
        self.chart_ids: set[str] = set()
        self.tabs: tuple[str, str] | None = None  # (the tab bar's widget id, its fragment)
        self.bytes = 0
        self.deflated = 0  # the same frames through one running deflate stream (wire estimate)
        self._deflate = zlib.compressobj(6, zlib.DEFLATED, -15)
        self.errors: list[str] = []
        self.running_script = False
        self._timer: asyncio.TimerHandle | None = None
        self._auto: dict[str, asyncio.TimerHandle] = {}  # fragment -> its run_every timer
        self.queued = False  # the page shows the waiting room's message
        self._reader: asyncio.Task | None = None
        self._changed = asyncio.Event()
        self.opened_at = 0.0

    # ---- connection ----------------------------------------------------------------------
    async def open(self, timeout: float = 120.0) -> float:
        """Connect and ask for the page; seconds until its Train button arrived."""
        ws_url = self.url.replace("http://", "ws://") + "/_stcore/stream"
        self.opened_at = time.monotonic()
        self.ws = await websockets.connect(
            ws_url,
            subprotocols=["streamlit"],
            max_size=None,
            ping_interval=None,  # a browser sends no pings of its own (it answers the server's)
            compression=None,
            extensions=[browser_deflate()] if self.compress else None,
        )
        self._reader = asyncio.create_task(self._read())
        await self._send(fragment="")
        await self.wait(lambda: self.panel.button("train") is not None, timeout)
        return time.monotonic() - self.opened_at

    async def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        for timer in self._auto.values():
            timer.cancel()
        if self._reader is not None:
            self._reader.cancel()
        if self.ws is not None:
            await self.ws.close()

    async def wait(self, predicate, timeout: float) -> bool:
        """Wait until `predicate()` holds after some drawing; False on timeout."""
        deadline = time.monotonic() + timeout
        while not predicate():
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), left)
            except TimeoutError:
                return predicate()
        return True

    # ---- what the page shows ---------------------------------------------------------------
    @property
    def training(self) -> bool:
        button = self.panel.button("train")
        return button is not None and button["name"] == "train_stop"

    def effect_seen(self, click: Click) -> bool:
        """Whether the last drawing acknowledged `click` and shows what it does."""
        if self.panel.acked(self.page) < click.seq:
            return False
        if click.name == "train":
            return self.training
        if click.name == "train_stop":
            return not self.training and self.paused
        if click.name.startswith("step"):
            k = int(click.name[4:])
            return not self.training and self.step >= click.step_before + k
        if click.name == "reset":  # a fresh run, or a place in the queue for one (a full server)
            return not self.training and (self.step == 0 or self.queued)
        return True

    # ---- clicks and the clock -------------------------------------------------------------
    def can_click(self, name: str) -> bool:
        for button in self.panel.data.get("buttons", []):
            if button["name"] == name:
                return not button.get("disabled")
        return False

    async def click(self, name: str) -> Click:
        self.seq += 1
        click = Click(self.seq, name, time.monotonic(), self.step)
        self.clicks.append(click)
        self.pending.append({"seq": click.seq, "name": name})
        await self._send_events()
        return click

    async def open_tab(self, label: str, timeout: float = 30.0) -> bool:
        """Open the Playground tab called `label`, as a click on it does; True once the page
        drew the tab's charts."""
        if self.tabs is None:
            return False
        tab_id, fragment = self.tabs
        self.sticky[tab_id] = ("string_value", label, fragment)
        drawn = len(self.drawings)
        self.chart_ids.clear()
        await self._send(fragment=fragment)
        return await self.wait(lambda: len(self.drawings) > drawn, timeout)

    async def _send_events(self) -> None:
        self.asks += 1
        value = {"page": self.page, "events": list(self.pending), "ask": self.asks}
        trigger = (trigger_id(self.panel.id), [{"event": "update", "value": value}])
        await self._send(fragment=self.panel.fragment, trigger=trigger)
        self._schedule(RESEND_S if self.pending else RETRY_S)

    async def _send(self, fragment: str, trigger: tuple[str, Any] | None = None) -> None:
        msg = BackMsg()
        rerun = msg.rerun_script
        rerun.query_string = self.query
        rerun.page_script_hash = ""
        rerun.fragment_id = fragment
        for widget_id, (kind, value, _) in self.sticky.items():
            state = rerun.widget_states.widgets.add()
            state.id = widget_id
            setattr(state, kind, value)
        if trigger is not None:
            # The component's own state goes with its trigger, as the browser sends it: without
            # it the server reads the component's value as None on the first event.
            state = rerun.widget_states.widgets.add()
            state.id = self.panel.id
            state.json_value = "{}"
            state = rerun.widget_states.widgets.add()
            state.id = trigger[0]
            state.json_trigger_value = json.dumps(trigger[1])
        try:
            await self.ws.send(msg.SerializeToString())
        except websockets.ConnectionClosed as error:
            self.errors.append(f"send: {error}")

    def _schedule(self, seconds: float) -> None:
        if self._timer is not None:
            self._timer.cancel()
        loop = asyncio.get_running_loop()
        self._timer = loop.call_later(seconds, lambda: asyncio.ensure_future(self._send_events()))

    # ---- reading --------------------------------------------------------------------------
    async def _read(self) -> None:
        try:
            async for frame in self.ws:
                self.bytes += len(frame)
                self.deflated += len(self._deflate.compress(frame))
                self.deflated += len(self._deflate.flush(zlib.Z_SYNC_FLUSH))
                msg = ForwardMsg()
                msg.ParseFromString(frame)
                self._take(msg)
        except websockets.ConnectionClosed as error:
            self.errors.append(f"closed: {error}")
        except asyncio.CancelledError:
            raise
        except Exception as error:  # noqa: BLE001 - a broken message is a finding, not a crash
            self.errors.append(f"{type(error).__name__}: {error}")

    def _take(self, msg: ForwardMsg) -> None:
        kind = msg.WhichOneof("type")
        if kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
            self._element(msg.delta.new_element, msg.delta.fragment_id)
        elif kind == "delta" and msg.delta.WhichOneof("type") == "add_block":
            block = msg.delta.add_block
            if block.WhichOneof("type") == "tab_container" and block.tab_container.id:
                self.tabs = (block.tab_container.id, msg.delta.fragment_id)
        elif kind == "script_finished":
            self._drawn()
        elif kind == "auto_rerun":  # a fragment with run_every (the waiting room): as the browser
            self._auto_rerun(msg.auto_rerun.fragment_id, msg.auto_rerun.interval)
        elif kind == "stop_auto_rerun":
            for fragment in msg.stop_auto_rerun.fragment_ids:
                timer = self._auto.pop(fragment, None)
                if timer is not None:
                    timer.cancel()
        elif kind == "session_event" and msg.session_event.WhichOneof("type") == (
            "script_compilation_exception"
        ):
            self.errors.append("script compilation exception")

    def _auto_rerun(self, fragment: str, interval: float) -> None:
        old = self._auto.pop(fragment, None)
        if old is not None:
            old.cancel()

        def again() -> None:
            asyncio.ensure_future(self._send(fragment=fragment))
            self._auto[fragment] = loop.call_later(interval, again)

        loop = asyncio.get_running_loop()
        self._auto[fragment] = loop.call_later(interval, again)

    def _element(self, element, fragment: str) -> None:
        now = time.monotonic()
        which = element.WhichOneof("type")
        if which == "bidi_component":
            component = element.bidi_component
            if component.component_name == CONTROLS:
                data = json.loads(component.json)
                if data.get("key") == "controls":
                    self.panel = Panel(component.id, fragment, data)
                    self._controls_drawn(now)
            elif component.component_name == CHART:
                self.chart_updates.append(now)
                self.chart_ids.add(component.id)
        elif which == "markdown":
            match = STATUS.search(element.markdown.body)
            if match:
                step = int(match.group(1).replace(",", ""))
                self.status_text = element.markdown.body
                self.queued = False  # a run is drawn: out of the queue
                self.paused = "· paused" in element.markdown.body
                if step != self.step:
                    self.steps.append((now, step))
                    self.step = step
        elif which == "alert" and "server is full" in element.alert.body.lower():
            self.queued = True
        elif which == "exception":
            self.errors.append(f"exception on the page: {element.exception.message[:200]}")
        elif which == "tab_container" or which is None:
            pass

    def _controls_drawn(self, now: float) -> None:
        self.drawings.append(now)
        acked = self.panel.acked(self.page)
        self.pending = [event for event in self.pending if event["seq"] > acked]
        if self.pending:
            self._schedule(RESEND_S)
        elif self.panel.data.get("busy"):
            self._schedule(self.panel.data.get("every", 250) / 1000)
        elif self._timer is not None:
            self._timer.cancel()

    def _drawn(self) -> None:
        """A script run ended: everything it drew is on screen; note the clicks it shows."""
        now = time.monotonic()
        for click in self.clicks:
            if click.seen is None and self.effect_seen(click):
                click.seen = now
        self._changed.set()
