"""The Learn page: the ideas behind recurrent networks, each with its demos and measured claims.

Under each idea: "Show me" buttons (words.learn.DEMOS) that load a config of core.teaching into
the playground, and, for the demos taken from a measured claim (core.teaching.CLAIMS) and the
claims the idea names itself (the translation claim), that claim's "Check the claim" box
(views/claims.py).
"""

from __future__ import annotations

import streamlit as st

from core.teaching import get_claim
from playground.actions import training as actions
from playground.views import claims
from playground.views.common import flashes
from playground.words.learn import CONCEPTS, DEMOS, Concept

INTRO = (
    "Each section explains one idea in a few sentences. The **Show me** buttons under it load a "
    "ready-made experiment into the playground and start training, so you can watch the idea "
    "happen; the blue box there says what to look for. Where the idea makes a claim, **Check the "
    "claim** trains the networks right here, usually in 5 to 20 seconds, and tests the claim "
    "with numbers."
)


def page() -> None:
    with st.container(width=900):  # prose reads better in a column than across a wide page
        flashes()
        concepts()


def claims_of(concept: Concept) -> list[str]:
    """Keys of the measured claims the concept's demos come from, then those it names, in order,
    each once."""
    keys: list[str] = []
    for name in concept.demos:
        key, colon, _ = DEMOS[name].config.partition(":")
        if colon and key not in keys:
            keys.append(key)
    return keys + [key for key in concept.claims if key not in keys]


def concepts() -> None:
    st.title("Learn: how recurrent networks remember", anchor=False)
    st.markdown(INTRO)
    shown: set[str] = set()  # each claim once, under the first idea that uses it
    for number, concept in enumerate(CONCEPTS, start=1):
        st.header(f"{number}. {concept.title}")
        st.markdown(concept.text)
        columns = st.columns(len(concept.demos)) if concept.demos else []
        for column, name in zip(columns, concept.demos, strict=True):
            demo = DEMOS[name]
            with column:
                st.button(
                    f"Show me: {demo.label}",
                    key=f"demo_{number}_{name}",
                    on_click=actions.load_demo,
                    args=(name,),
                    width="stretch",
                )
                st.caption(demo.expect)
        for key in claims_of(concept):
            if key not in shown:
                shown.add(key)
                claims.box(get_claim(key))
        st.divider()
