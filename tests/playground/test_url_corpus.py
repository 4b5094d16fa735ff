"""A generated corpus of hostile and broken links: the page opens with a notice and valid settings.

Each case sets the URL's query parameters (repeated keys as lists, as a browser would send them)
and runs the whole page under AppTest. The page must raise nothing, show every notice that
`ExperimentConfig.from_params` produced as a "From the link: ..." warning (at least one for a bad
link, none for a good one), and keep a valid, in-budget config in session state whose experiment
was built or whose problem is shown as a plain error.

Speed: every case is a fresh session (the URL is read only when a session starts), but the
component-manifest scan AppTest does on each new instance (about 0.3 s, the same result every
time) is done once and shared, and charts are drawn once per distinct resulting config (later
cases with the same config open on the chart-free Cell tab); what is left is one page run per
case.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlencode

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest

from core.config import COST_BUDGET, FIELDS, RUN_FIELDS, ConfigError, ExperimentConfig
from core.links import config_from_link, read_link
from playground import governor
from playground.actions import plain_text
from tests.playground.helpers import (
    click,
    figures,
    settle,
)

APP = str(Path(__file__).resolve().parents[2] / "playground" / "app.py")
NOTICE_PREFIX = "From the link: "
# A Markdown link, bold or an HTML tag that was not escaped (a backslash before it escapes it).
UNESCAPED_MARKUP = re.compile(r"(?<!\\)\]\(|(?<!\\)\*\*|(?<!\\)<[a-z/]")


@dataclass(frozen=True)
class Link:
    id: str
    params: dict[str, str | list[str]] = field(hash=False)
    bad: bool  # the link is wrong somewhere: at least one notice must be shown


# ---- the corpus -------------------------------------------------------------------------------
NUMERIC = [name for name, f in RUN_FIELDS.items() if f.choices is None]
CHOICE = [name for name, f in RUN_FIELDS.items() if f.choices is not None]
NON_FINITE = ["nan", "NaN", "inf", "-inf", "+inf", "Infinity", "-Infinity", "1e309", "-nan"]
JUNK = ["abc", "0x1F", "1,5", "1.2.3", "12abc", "true", "None", "[1]", "{}", "1e", "--1", "½"]
LONG = "9" * 10_240  # 10 KB


def _below(name: str) -> str:
    f = FIELDS[name]
    return str(f.low - 1) if f.kind is int or f.low <= 0 else repr(f.low / 10)


def _above(name: str) -> str:
    f = FIELDS[name]
    return str(int(f.high) * 10 + 1) if f.kind is int else repr(f.high * 10)


def generated() -> list[Link]:
    links: list[Link] = []

    def add(id: str, bad: bool, **params: str | list[str]) -> None:
        links.append(Link(id, params, bad))

    # Every numeric field: below, above, one non-finite spelling, one junk text, empty.
    for i, name in enumerate(NUMERIC):
        add(f"{name}-below", True, **{name: _below(name)})
        add(f"{name}-above", True, **{name: _above(name)})
        add(f"{name}-nonfinite", True, **{name: NON_FINITE[i % len(NON_FINITE)]})
        add(f"{name}-junk", True, **{name: JUNK[i % len(JUNK)]})
        add(f"{name}-empty", True, **{name: ""})
        if FIELDS[name].kind is int:
            add(f"{name}-fraction", True, **{name: str(FIELDS[name].low + 1.5)})
    # Every choice field: wrong case, unknown, empty, a number, a look-alike, surrounding junk.
    for name in CHOICE:
        first = FIELDS[name].options[0]
        add(f"{name}-upper", True, **{name: first.upper()})
        add(f"{name}-unknown", True, **{name: "chess"})
        add(f"{name}-empty", True, **{name: ""})
        add(f"{name}-number", True, **{name: "3"})
        add(f"{name}-cyrillic", True, **{name: first.replace("a", "а").replace("e", "е") + "е"})
        add(f"{name}-quoted", True, **{name: f'"{first}"'})

    # Special numbers.
    add("negzero-hidden", True, hidden="-0")
    add("negzero-dropout", False, dropout="-0")
    add("negzero-clip", False, clip="-0.0")
    add("negzero-seed", False, seed="-0")
    add("exp-lr-1e308", True, lr="1e308")
    add("exp-lr-underflow", True, lr="1e-400")
    add("exp-hidden-9e99", True, hidden="9e99")
    add("exp-seed-1e18", True, seed="1e18")
    add("exp-max_steps-1e5", False, max_steps="1e5")
    add("exp-batch-3.2e1", False, batch_size="3.2e1")
    add("exp-noise-huge-digits", True, noise="1" + "0" * 90)
    add("int-as-float-text", False, seq_len="40.0")
    add("underscored-number", False, max_steps="1_000")
    add("leading-zeros", False, hidden="0048")
    add("padded-number", False, hidden=" 48 ")
    add("padded-choice", False, cell="\tgru\n")
    add("hex-float", True, lr="0x1p-3")

    # Unknown keys.
    for i, key in enumerate(
        [
            "bogus",
            "Cell",
            "cell ",
            " cell",
            "HIDDEN",
            "__proto__",
            "constructor",
            "hidden[]",
            "lr;drop table",
            "../../etc/passwd",
            "learning_rate",
            "x" * 10_240,
            "🦄",
            "قيمة",
            "\u202eevil",
            "<script>alert(1)</script>",
            "%63ell",
        ]
    ):
        add(f"unknown-key-{i}", True, **{key: "1"})
    add("unknown-and-good", True, bogus="1", cell="gru", task="sine")
    add("many-unknown-keys", True, **{f"k{i}": str(i) for i in range(60)})

    # Very long strings.
    add("long-hidden", True, hidden=LONG)
    add("long-cell", True, cell="lstm" * 2560)
    add("long-lr", True, lr="0." + "0" * 10_000 + "1")
    add("long-task-with-good-others", True, task="x" * 10_240, hidden="64")
    add("hundred-digit-value-is-ok", False, hidden="0" * 98 + "48")
    add("hundred-and-one-chars", True, hidden="0" * 99 + "48")

    # Unicode, emoji, right-to-left, control characters.
    add("emoji-cell", True, cell="🙂")
    add("emoji-hidden", True, hidden="🔥")
    add("rtl-task", True, task="سين")
    add("rtl-override", True, cell="\u202emtsl")
    add("zero-width-space", True, cell="ls\u200btm")
    add("combining-marks", True, cell="lśtm")
    add("fullwidth-letters", True, cell="ｌｓｔｍ")
    add("fullwidth-digits", False, hidden="４８")
    add("arabic-indic-digits", False, hidden="٤٨")
    add("arabic-decimal-separator", True, lr="٠٫٠١")
    add("nul-char", True, cell="\x00lstm")
    add("newline-inside", True, hidden="4\n8")
    add("bell-and-escape", True, task="\x07\x1b[31msine")
    add("surrogate-free-astral", True, task="𝓈𝒾𝓃ℯ")

    # Percent-encoding leftovers and URL syntax inside values.
    add("pct-in-choice", True, cell="%6Cstm")
    add("pct-space", True, hidden="32%20")
    add("pct-percent", True, lr="0.01%")
    add("pct-double", True, task="sine%2526")
    add("ampersand-inside", True, task="sine&cell=gru")
    add("equals-inside", True, hidden="32=64")
    add("plus-sign", True, hidden="1+2")
    add("question-mark", True, cell="?gru")
    add("hash-fragment", True, cell="gru#top")
    add("space-separated", True, hidden="3 2")

    # Empty values.
    add("all-empty", True, cell="", hidden="", lr="", task="")
    add("empty-key", True, **{"": "1"})

    # Repeated keys.
    add("repeat-seed", True, seed=["1", "2"])
    add("repeat-cell", True, cell=["gru", "rnn"])
    add("repeat-last-bad", True, hidden=["32", "abc"])
    add("repeat-first-bad", True, hidden=["abc", "32"])
    add("repeat-empty-then-good", True, task=["", "sine"])
    add("repeat-five-times", True, lr=["0.1"] * 5)
    add("repeat-many", True, seed=[str(i) for i in range(50)])
    add("repeat-classroom", True, classroom=["1", "0"], cell="gru")

    # Classroom links.
    add("classroom-odd-value", True, classroom="maybe")
    add("classroom-with-bad-cell", True, classroom="1", cell="lstn")
    add("classroom-long", True, classroom="1" * 10_240)

    # Over the cost budget (batch x seq_len x gates x (hidden^2 + 64 hidden) x layers).
    add("budget-max-everything", True, hidden="1024", seq_len="400", batch_size="512", layers="3")
    add("budget-hidden-seq", True, hidden="1024", seq_len="400")
    add("budget-hidden-batch", True, hidden="1024", batch_size="512")
    add("budget-rnn-max", True, cell="rnn", hidden="1024", seq_len="400", batch_size="512")
    add(
        "budget-gru-layers",
        True,
        cell="gru",
        hidden="512",
        seq_len="200",
        layers="3",
        batch_size="128",
    )
    add("budget-over-by-clamping", True, hidden="1e9", seq_len="1e9", batch_size="1e9")
    add("budget-with-junk", True, hidden="1024", seq_len="400", batch_size="512", bogus="x")
    add("budget-speech", True, task="speech", hidden="1024", seq_len="400", batch_size="512")

    # Cross-field settings a link can carry (each value valid on its own).
    add("min_len-over-seq_len", True, min_len="400")
    add("next_number-seq_len-2", True, seq_len="2")
    add("csv-column-out-of-range", True, task="csv", csv_column="7")
    add("dropout-with-one-layer", False, dropout="0.5")

    # Good links: nothing to report.
    add("good-empty", False)
    add("good-gru-sine", False, cell="gru", task="sine", hidden="48", lr="0.003")
    add("good-copy", False, task="copy", lag="5", n_symbols="3", alphabet="6")
    add("good-text", False, task="text", seq_len="64", cell="lstm")
    add("good-speech", False, task="speech", n_classes="6")
    add("good-csv", False, task="csv", seq_len="30", normalise="minmax")
    add("good-lr-trailing-zeros", False, lr="0.0100")
    add(
        "good-all-fields",
        False,
        **ExperimentConfig(
            cell="gru",
            hidden=16,
            layers=2,
            dropout=0.1,
            init="orthogonal",
            init_gain=0.9,
            task="adding",
            seq_len=25,
            optimizer="sgd",
            lr=0.05,
            momentum=0.5,
            clip=2.0,
            batch_size=16,
            seed=7,
            max_steps=300,
        ).to_params(),
    )
    return links


CORPUS = generated()
IDS = [link.id for link in CORPUS]
assert len(IDS) == len(set(IDS)), "duplicate case ids"


# ---- running a case ---------------------------------------------------------------------------
_SHARED: dict[str, object] = {}
_DRAWN: set[ExperimentConfig] = set()  # settings whose charts a case has drawn
_OPEN: list[int] = []  # the memory owners of the sessions a case opened


@pytest.fixture(autouse=True)
def _close_tabs():
    """A case's sessions end with it, as a closed tab's do (the server releases their memory).

    Otherwise a session's reservation in the server's memory governor lasts until the garbage
    collector finds its run; 264 cases in a row then filled the budget whenever no full
    collection happened to run, and a case found "The server is full"."""
    yield
    while _OPEN:
        governor.GOVERNOR.release(_OPEN.pop())


def open_page(params: dict[str, str | list[str]], tab: str | None = None) -> AppTest:
    """A fresh session on the page with these query parameters (and this tab open), run once."""
    at = AppTest.from_file(APP, default_timeout=60)
    if tab is not None:
        at.session_state["view"] = tab
    manager = _SHARED.get("components")
    if manager is not None and hasattr(at, "_bidi_component_manager"):
        at._bidi_component_manager = manager  # the same installed-components scan every time
    for key, value in params.items():
        at.query_params[key] = value
    at.run()
    if manager is None:
        _SHARED["components"] = getattr(at, "_bidi_component_manager", None)
    _OPEN.append(at.session_state["workspace"].owner)
    return at


def as_sent(params: dict[str, str | list[str]]) -> dict[str, list[str]]:
    """The parameters the script sees: encoded into a query string and parsed back, as Streamlit
    does."""
    return parse_qs(urlencode(params, doseq=True), keep_blank_values=True)


def test_the_corpus_is_large_and_covers_every_field():
    assert len(CORPUS) >= 200
    assert sum(link.bad for link in CORPUS) >= 180
    bad_fields = {key for link in CORPUS if link.bad for key in link.params if key in FIELDS}
    assert bad_fields == set(FIELDS)


@pytest.mark.parametrize("link", CORPUS, ids=IDS)
def test_a_link_opens_the_page_with_notices_and_valid_settings(link: Link):
    expected = read_link(as_sent(link.params))
    expected_config, expected_notices = expected.config, expected.notices
    # 264 links come down to about 80 distinct settings: the charts of each are drawn once (the
    # Training tab); for settings already drawn, the page opens on the Cell tab, which has no
    # charts, and the links' own part (notices, repairs, the build) is checked as before.
    repeat = expected_config in _DRAWN
    at = open_page(link.params, tab="Cell" if repeat else None)
    assert not at.exception, [e.value for e in at.exception]
    if not repeat and at.session_state["workspace"].get("playground") is not None:
        assert figures(at), "the Training tab draws its charts"
        _DRAWN.add(expected_config)
    shown = [w.value for w in at.warning if w.value.startswith(NOTICE_PREFIX)]
    # Shown literally: Markdown in text the link controls is escaped (plain_text).
    assert shown == [f"{NOTICE_PREFIX}{plain_text(notice)}." for notice in expected_notices]
    if link.bad:
        assert shown, "a bad link must be reported"
    else:
        assert not shown, shown
    for notice in shown:
        assert "Traceback" not in notice, notice
        assert not UNESCAPED_MARKUP.search(re.sub(r"`[^`]*`", "", notice)), notice
    for notice in expected_notices:
        assert len(notice) < 400, notice

    config = at.session_state["config"]
    assert isinstance(config, ExperimentConfig)
    assert config == expected_config
    config.check_budget()
    assert config_from_link(config.to_params()) == (config, [])

    # Even settings valid one by one but not together fall back to ones the task accepts.
    exp = at.session_state["workspace"].get("playground").experiment
    assert exp is not None and exp.config == config, [e.value for e in at.error]
    assert any(m.value.startswith("**Step 0 /") for m in at.markdown)


def test_a_bad_link_still_trains():
    at = open_page({"cell": "lstn", "hidden": "-5", "lr": "nan", "bogus": "1", "seq_len": LONG})
    settle(click(at, "step1"))
    assert not at.exception
    assert at.session_state["workspace"].get("playground").experiment.steps_done == 1
    # Notices are shown once, when the link is opened, not on every later run.
    assert not [w for w in at.warning if w.value.startswith(NOTICE_PREFIX)]


def test_text_from_a_link_is_shown_as_text_not_markup():
    at = open_page({"[Log in](https://evil.example)": "1", "cell": "**bold**"})
    shown = [w.value for w in at.warning if w.value.startswith(NOTICE_PREFIX)]
    assert len(shown) == 2
    for notice in shown:
        plain = re.sub(r"`[^`]*`", "", notice)  # a code span shows its content literally
        assert not UNESCAPED_MARKUP.search(plain), notice


# ---- properties of the parser the page relies on ---------------------------------------------
# tests/core/test_config.py already checks from_params over dicts keyed by the real field names;
# these add what a link can carry beyond that: any key text, and whole query strings.
ANY_TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=60)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(ANY_TEXT, st.one_of(ANY_TEXT, st.lists(ANY_TEXT, max_size=3)), max_size=8))
def test_from_params_names_every_unknown_key(params):
    config, notices = ExperimentConfig.from_params(params)
    config.check_budget()
    text = "\n".join(notices)
    for key, value in params.items():
        if key not in FIELDS and value != []:
            assert f"unknown setting '{key[:40]}'" in text


@settings(max_examples=200, deadline=None)
@given(st.text(string.printable + "%&=+;é🙂", max_size=200))
def test_any_query_string_parses_to_a_valid_config(query):
    params = parse_qs(query, keep_blank_values=True)
    config, notices = ExperimentConfig.from_params(params)
    assert isinstance(config, ExperimentConfig)
    assert config.cost() <= COST_BUDGET
    assert all(isinstance(n, str) and 0 < len(n) < 600 for n in notices)


def _field_value(name: str):
    f = FIELDS[name]
    if f.choices is not None:
        return st.sampled_from(f.options)
    if f.kind is int:
        return st.integers(int(f.low), int(f.high))
    return st.floats(f.low, f.high, allow_nan=False)


VALID_CONFIGS = st.builds(ExperimentConfig, **{name: _field_value(name) for name in RUN_FIELDS})


@settings(max_examples=300, deadline=None)
@given(VALID_CONFIGS)
def test_every_valid_config_survives_a_trip_through_a_link(config):
    """A share link (to_params, URL-encoded, parsed back) reproduces the config exactly, or for a
    run too large for the page (over the cost budget or the interactive hidden cap), says so and
    shrinks it."""
    received = parse_qs(urlencode(config.to_params()), keep_blank_values=True)
    parsed, notices = ExperimentConfig.from_params(received)
    try:
        config.check_budget()
    except ConfigError:
        parsed.check_budget()  # too large for the page: made smaller, and the link says how
        assert any("hidden" in n for n in notices)
    else:
        assert (parsed, notices) == (config, [])
