"""The Learn page: the ideas behind recurrent networks, each with buttons that load a live demo."""

from __future__ import annotations

import streamlit as st

from playground import actions, content
from playground.views import presets


def page() -> None:
    with st.container(width=900):  # prose reads better in a column than across a wide page
        concepts()
        presets.render()  # the seed's claims as one-click experiments (core.presets.PRESETS)


def concepts() -> None:
    st.title("Learn: how recurrent networks remember")
    st.markdown(
        "Each section explains one idea in a few sentences. The buttons under it load a "
        "ready-made experiment into the playground and start training, so you can watch the idea "
        "happen; the blue box there says what to look for."
    )
    for number, concept in enumerate(content.CONCEPTS, start=1):
        st.subheader(f"{number}. {concept.title}")
        st.markdown(concept.text)
        columns = st.columns(len(concept.presets))
        for column, name in zip(columns, concept.presets, strict=True):
            with column:
                st.button(
                    f"Show me: {content.PRESET_LABELS[name]}",
                    key=f"preset_{number}_{name}",
                    on_click=actions.load_preset,
                    args=(name,),
                    width="stretch",
                )
                st.caption(content.PRESETS[name][1])
        st.divider()
