"""The Learn page under AppTest: each idea with its demos and claims; a demo opens the playground."""

from __future__ import annotations

from core import ExperimentConfig
from core.teaching import CLAIMS, SEQ2SEQ_CLAIMS, config_for, get_claim
from playground.views import learn
from playground.words.learn import CONCEPTS, DEMOS
from tests.playground.helpers import open_page, running


def test_learn_page_shows_each_idea_with_its_demos_and_claims():
    """One set of demos: each concept's "Show me" buttons, each claim once, under the idea its
    demos belong to; headings in order (h1, then h2 per idea)."""
    placed = [key for concept in CONCEPTS for key in learn.claims_of(concept)]
    assert sorted(placed) == sorted([*CLAIMS, *SEQ2SEQ_CLAIMS])  # each claim under one idea
    at = open_page("learn")
    assert len(at.header) == len(CONCEPTS) and not at.subheader
    labels = [e.label for e in at.expander]
    assert labels == [f"Check the claim: {get_claim(key).title}" for key in placed]
    shown = [b for b in at.button if b.label.startswith("Show me: ")]
    assert len(shown) == len(DEMOS)
    keys = {b.key for b in shown}
    for number, concept in enumerate(CONCEPTS, start=1):
        assert {f"demo_{number}_{name}" for name in concept.demos} <= keys


def test_a_demo_button_loads_its_config_and_opens_the_playground_training():
    at = open_page("learn")
    at.button(key="demo_4_vanishing_rnn").click().run()
    assert not at.exception
    config = at.session_state["config"]
    assert config == ExperimentConfig(**config_for("vanishing:rnn"))
    assert config == ExperimentConfig(**config_for(DEMOS["vanishing_rnn"].config))
    assert at.session_state["demo"] == "vanishing_rnn"
    assert running(at) and at.session_state["goto_playground"]
