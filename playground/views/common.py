"""What every page draws the same way: a chart with its caption, the example picker, numbers and
clocks in status lines."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import streamlit as st

from playground import state
from playground.actions import describe_error
from playground.words.captions import CAPTIONS

PLOTLY_CONFIG = {"displaylogo": False}
# While training, each chart is replaced several times a second, so hover and zoom would vanish
# at the next redraw anyway; a static plot skips building its interaction layers and draws faster.
LIVE_PLOTLY_CONFIG = {"staticPlot": True}


def chart(
    page: str,
    name: str,
    build: Callable[[], Any],
    version: Any,
    key: str | None = None,
    caption: str | None = None,
) -> None:
    """Draw the figure `build()` makes, rebuilt only when `version` changes (in between the same
    figure is re-sent, which the browser does not redraw), with the caption for `name`.
    A failing builder becomes a notice on the page, never a traceback."""
    key = key or f"chart_{name}"
    try:
        figure = state.cached(page, key, version, build)
    except Exception as error:  # noqa: BLE001
        st.warning(f"This chart could not be drawn: {describe_error(error)}")
        return
    config = LIVE_PLOTLY_CONFIG if state.running(page) else PLOTLY_CONFIG
    st.plotly_chart(figure, theme=None, key=key, config=config)
    st.caption(caption or CAPTIONS[name])


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


def clock(seconds: float) -> str:
    return f"{int(seconds) // 60}:{int(seconds) % 60:02d}"


def progress_bar(done: float, total: float, text: str | None = None) -> None:
    """A progress bar that can't fail: any count (negative, past the end, NaN) is clamped."""
    share = done / total if total and math.isfinite(done / total) else 0.0
    st.progress(min(max(share, 0.0), 1.0), text=text)
