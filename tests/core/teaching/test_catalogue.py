"""Named configs for the Learn page's demos: every name resolves to a valid config."""

import pytest

from core.config import ExperimentConfig
from core.teaching import CLAIMS, CONFIGS, config_for, config_names


def test_config_for_resolves_every_name_to_a_valid_config():
    names = config_names()
    assert len(names) == sum(len(c.configs) for c in CLAIMS.values()) + len(CONFIGS)
    for name in names:
        ExperimentConfig(**config_for(name)).check_budget()
    vanishing = CLAIMS["vanishing"]
    assert config_for("vanishing:rnn") == {**vanishing.configs["rnn"], "max_steps": vanishing.steps}
    assert config_for("bptt") == CONFIGS["bptt"] and config_for("bptt") is not CONFIGS["bptt"]
    with pytest.raises(ValueError, match="no config 'gru'"):
        config_for("vanishing:gru")
    with pytest.raises(ValueError, match="unknown claim"):
        config_for("nope:rnn")
    with pytest.raises(ValueError, match="trains encoder-decoders; the Translate page runs it"):
        config_for("translation:plain")  # the playground can't hold a Seq2SeqExperiment
    with pytest.raises(ValueError, match="unknown config 'vanishing'"):
        config_for("vanishing")  # a claim needs one of its configs named
