"""The Learn page's words: every demo names a config core.teaching owns, every idea has a demo
or a claim to run, and every claim can be reached from an idea."""

from core import ExperimentConfig
from core.teaching import CLAIMS, CONFIGS, SEQ2SEQ_CLAIMS, config_for, config_names
from playground.words.learn import CONCEPTS, DEMOS


def test_every_demo_is_a_valid_config_and_every_claim_is_reachable():
    demos = [name for concept in CONCEPTS for name in concept.demos]
    assert sorted(demos) == sorted(DEMOS)  # every demo shown, each under one concept
    assert all(concept.demos or concept.claims for concept in CONCEPTS)  # a way to try each idea
    named = [key for concept in CONCEPTS for key in concept.claims]
    assert sorted(named) == sorted(SEQ2SEQ_CLAIMS)  # the claims no demo loads, each named once
    for name, demo in DEMOS.items():
        assert demo.config in config_names(), (name, demo.config)
        ExperimentConfig(**config_for(demo.config)).check_budget()
        assert demo.label and demo.expect
    used = {DEMOS[name].config for name in demos}
    assert set(CONFIGS) <= used  # no plain config in core without a demo
    assert {name.partition(":")[0] for name in used} >= set(CLAIMS)
    for key, claim in CLAIMS.items():  # every config of every claim opens from its idea
        for label in claim.configs:
            assert f"{key}:{label}" in used
