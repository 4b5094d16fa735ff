"""Variable-length sequences on the page: the probe batch's length histogram and what padding and
packing mean. Drawn only when the batch is ragged."""

from __future__ import annotations

import numpy as np
import streamlit as st

from playground import charts


def is_ragged(probe) -> bool:
    lengths = getattr(probe, "lengths", None)
    return lengths is not None and np.asarray(lengths).size > 0 and np.ptp(lengths) > 0


def render_lengths(probe, task, key: str = "chart_length_histogram") -> bool:
    """Length histogram plus a short explanation; returns whether anything was drawn."""
    if probe is None or not is_ragged(probe):
        return False
    lengths = np.asarray(probe.lengths)
    st.plotly_chart(charts.length_histogram(probe), key=key, theme=None)
    st.caption(charts.CAPTIONS["length_histogram"])
    name = getattr(task, "title", "this task")
    st.markdown(
        f"In {name} the sequences differ in length (here {lengths.min()} to {lengths.max()} "
        "steps). To train them together, the batch is **padded** with zeros to the longest one, "
        "and **packed** (`pack_padded_sequence`) so the recurrent layer stops at each sequence's "
        "own end: padding costs no computation, never leaks into the hidden state, and the loss "
        "skips it."
    )
    return True
