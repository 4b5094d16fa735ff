"""Entry point: `streamlit run playground/app.py`. Page setup and navigation; nothing else."""

from __future__ import annotations

import sys
from pathlib import Path

# `streamlit run` puts playground/ on the path, not the project root that holds core/.
ROOT = str(Path(__file__).resolve().parents[1])
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

import streamlit as st  # noqa: E402

PAGE_CSS = (Path(__file__).parent / "static" / "page.css").read_text()

st.set_page_config(page_title="RNN playground", page_icon="🔁", layout="wide")
st.html(f"<style>{PAGE_CSS}</style>")  # the status widget, contrast, reduced motion: see the file

# The first visit after a server start imports PyTorch (seconds on a busy machine): say so rather
# than show a blank page. Later runs find the modules loaded and skip the spinner.
with st.spinner("Starting the playground: loading PyTorch..."):
    import torch
    import torch._dynamo  # noqa: F401 - torch.optim imports it on first use; pay for it here, once

    from playground import actions, governor, live, state, workspace
    from playground.views import learn, race, sweep, train, translate

# One thread per training: sessions share the cores instead of fighting over them.
torch.set_num_threads(1)
live.freeze_startup_objects()
governor.limit_arenas()

state.start_session()
for notice in state.pop_rejected_widgets():  # a modified browser (playground/guard.py)
    st.warning(f"Ignored a value sent for {actions.plain_text(notice)}; kept the last good one.")
released = state.pop_released()
if released == "idle":
    minutes = round(workspace.idle_seconds_from_env() / 60)
    st.info(
        f"This page sat unused for over {minutes} minutes, so its model was let go to make room "
        "for other visitors. Your settings are kept: press Train or Step to start a fresh run."
    )
elif released:
    st.info(
        "This page lost its connection to the server for a while, so its model was let go to "
        "make room for other visitors. Your settings are kept: press Train or Step to start a "
        "fresh run."
    )

playground_page = st.Page(train.page, title="Playground", default=True)
learn_page = st.Page(learn.page, title="Learn", url_path="learn")
race_page = st.Page(race.page, title="Race", url_path="race")
sweep_page = st.Page(sweep.page, title="Sweep", url_path="sweep")
translate_page = st.Page(translate.page, title="Translate", url_path="translate")
navigation = st.navigation(
    [playground_page, learn_page, race_page, sweep_page, translate_page],
    position="hidden" if state.classroom() else "top",
)
if state.pop_playground_request():  # a Learn button loaded a demo
    state.set_page_value("playground", "focus", True)  # keyboard focus then goes to its Pause
    st.switch_page(playground_page, query_params=state.url_params())
if not state.classroom():
    # Below 768 px Streamlit folds the top navigation into the closed sidebar: on a phone these
    # links (shown only there, page.css) keep Learn, Race, Sweep and Translate one tap away.
    with st.container(key="phone_nav", horizontal=True):
        for page in (playground_page, learn_page, race_page, sweep_page, translate_page):
            st.page_link(page)
navigation.run()
state.sync_url()
