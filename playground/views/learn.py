"""The Learn page: the ideas behind recurrent networks, each with its demos and measured claims.

Under each idea: "Show me" buttons (content.DEMOS) that load a config of core/presets.py into the
playground, and, for the demos taken from a measured experiment (core.presets.PRESETS), that
experiment's "Check the claim" box. Every config comes from core/presets.py.
"""

from __future__ import annotations

import streamlit as st

from core.presets import PRESETS
from playground import actions, content
from playground.views import presets


def page() -> None:
    with st.container(width=900):  # prose reads better in a column than across a wide page
        concepts()


def experiments_of(concept: content.Concept) -> list[str]:
    """Keys of the measured experiments the concept's demos come from, in order, each once."""
    keys: list[str] = []
    for name in concept.demos:
        key, colon, _ = content.DEMOS[name].config.partition(":")
        if colon and key not in keys:
            keys.append(key)
    return keys


def concepts() -> None:
    st.title("Learn: how recurrent networks remember")
    st.markdown(
        "Each section explains one idea in a few sentences. The **Show me** buttons under it load "
        "a ready-made experiment into the playground and start training, so you can watch the "
        "idea happen; the blue box there says what to look for. Where the idea makes a claim, "
        "**Check the claim** trains the networks right here (about a minute on one core) and "
        "tests the claim with numbers."
    )
    shown: set[str] = set()  # each measured experiment once, under the first idea that uses it
    for number, concept in enumerate(content.CONCEPTS, start=1):
        st.subheader(f"{number}. {concept.title}")
        st.markdown(concept.text)
        columns = st.columns(len(concept.demos))
        for column, name in zip(columns, concept.demos, strict=True):
            demo = content.DEMOS[name]
            with column:
                st.button(
                    f"Show me: {demo.label}",
                    key=f"preset_{number}_{name}",
                    on_click=actions.load_preset,
                    args=(name,),
                    width="stretch",
                )
                st.caption(demo.expect)
        for key in experiments_of(concept):
            if key not in shown:
                shown.add(key)
                presets.experiment(PRESETS[key])
        st.divider()
