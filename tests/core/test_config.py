import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.config import COST_BUDGET, FIELDS, RUN_FIELDS, ConfigError, ExperimentConfig


def test_defaults_are_valid_and_within_bounds():
    config = ExperimentConfig()
    for name, field in RUN_FIELDS.items():
        assert field.check(getattr(config, name)) == getattr(config, name)
    assert FIELDS["classroom"].check(FIELDS["classroom"].default) is False


def test_every_setting_is_declared_once_with_its_type_default_and_bounds():
    """FIELDS is built from the dataclass's own declarations, classroom added as a link-only one:
    there is no second list of defaults to fall out of step."""
    import dataclasses

    declared = {f.name: f.default for f in dataclasses.fields(ExperimentConfig)}
    assert {name: f.default for name, f in RUN_FIELDS.items()} == declared
    assert set(FIELDS) - set(RUN_FIELDS) == {"classroom"} and FIELDS["classroom"].link_only
    assert FIELDS["task"].options[:2] == ("next_number", "sine")  # from the task registry
    for field in RUN_FIELDS.values():
        assert field.help and (
            field.options
            or (field.low is not None and field.high is not None)
            or field.kind is bool
        )


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"cell": "lstn"}, "unknown cell 'lstn'; choose one of: rnn, rnn_relu, lstm, gru"),
        ({"hidden": 0}, "hidden must be between 1 and 1024"),
        ({"hidden": 0.5}, "hidden must be a whole number"),
        ({"lr": math.nan}, "lr must be a finite number"),
        ({"layers": 1.5}, "layers must be a whole number"),
        ({"seq_len": "20"}, "seq_len must be a number"),
        ({"task": "chess"}, "unknown task 'chess'"),
    ],
)
def test_bad_values_raise_with_what_is_allowed(changes, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        ExperimentConfig(**changes)


def test_params_round_trip_only_non_defaults():
    config = ExperimentConfig(cell="gru", lr=0.003, seq_len=50, clip=0.0)
    params = config.to_params()
    assert params == {"cell": "gru", "lr": "0.003", "seq_len": "50", "clip": "0"}
    assert ExperimentConfig.from_params(params) == (config, [])


def test_from_params_repairs_and_reports():
    config, notices = ExperimentConfig.from_params(
        {
            "hidden": "99999",
            "lr": "abc",
            "cell": "lstn",
            "bogus": "1",
            "seed": ["1", "2"],
            "layers": "inf",
        }
    )
    assert config.hidden <= 512 and config.lr == 0.01 and config.cell == "lstm" and config.seed == 2
    assert config.layers == 3  # +inf clamps to the upper bound
    text = " | ".join(notices)
    for fragment in [
        "hidden must be between",
        "lr must be a number",
        "unknown cell",
        "unknown setting 'bogus'",
        "given 2 times",
    ]:
        assert fragment in text


def test_over_budget_runs_are_shrunk_with_a_notice():
    config, notices = ExperimentConfig.from_params(
        {"hidden": "1024", "seq_len": "400", "batch_size": "512"}
    )
    assert config.cost() <= COST_BUDGET
    assert any("lower the hidden size" in n for n in notices)
    with pytest.raises(ConfigError, match="too large"):
        ExperimentConfig(hidden=512, seq_len=400, batch_size=512).check_budget()
    with pytest.raises(ConfigError, match="above 512 are for GPU notebooks"):
        ExperimentConfig(hidden=1024, seq_len=10, batch_size=1).check_budget()
    ExperimentConfig(hidden=1024, seq_len=400, batch_size=512).check_budget(None)


text_values = st.one_of(
    st.text(max_size=120),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.integers(-(10**12), 10**12).map(str),
)


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from([*FIELDS, "junk", ""]),
        st.one_of(text_values, st.lists(text_values, max_size=3)),
        max_size=12,
    )
)
def test_from_params_always_yields_a_valid_config_that_round_trips(params):
    config, notices = ExperimentConfig.from_params(params)
    assert isinstance(config, ExperimentConfig)
    config.check_budget()
    assert ExperimentConfig.from_params(config.to_params()) == (config, [])
    assert all(isinstance(n, str) and len(n) < 600 for n in notices)
