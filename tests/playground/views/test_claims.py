"""A claim's box on the Learn page under AppTest: it runs live, each cell's line says when it is
decided, and the verdict comes with its numbers and charts; Stop keeps a stopped result. The
translation claim (encoder-decoders) runs from the same box, with charts of its own."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest

from core.teaching import CLAIMS, SEQ2SEQ_CLAIMS, Claim
from playground.actions import teaching
from playground.views import claims, learn
from tests.playground.helpers import (
    button,
    click,
    figures,
    open_page,
    page_value,
    run_of,
    running,
    settle,
)


def test_a_claim_runs_live_and_shows_its_verdict(monkeypatch):
    short = {key: _short(claim) for key, claim in CLAIMS.items()}
    monkeypatch.setattr(teaching, "get_claim", short.__getitem__)
    at = open_page("learn")
    at.button(key="claim_vanishing").click().run()
    assert running(at, "claim") and button(at, "claim_vanishing")["label"] == "Stop"
    assert at.button(key="claim_long_memory").disabled  # one claim at a time
    lines = [b.proto.text for b in at.get("progress")]
    assert any("**rnn** step" in line and "**lstm** step" in line for line in lines)
    settle(at, "claim")  # the worker trains the claim's runs until they are decided
    at.run()  # the live panel finds the run ended and draws the page with the verdict
    assert not at.exception, at.exception
    result = page_value(at, "claim", "results")["vanishing"]
    assert not result.stopped and "orders of magnitude" in result.summary
    verdicts = [m.value for m in (*at.success, *at.error) if "Claim" in m.value]
    assert verdicts and "the gradient reaching step 0" in verdicts[0]
    shown = figures(at)
    assert {"claim_vanishing_loss", "claim_vanishing_grad"} <= set(shown)
    assert [t["name"] for t in shown["claim_vanishing_grad"]["data"]][:2] == ["rnn", "lstm"]


def test_stop_keeps_a_stopped_result():
    at = open_page("learn")
    at.button(key="claim_long_memory").click().run()
    click(at, "claim_long_memory_stop")
    assert not at.exception and not running(at, "claim")
    assert page_value(at, "claim", "results")["long_memory"].stopped
    assert any("Stopped at step" in w.value for w in at.warning)


def test_the_translation_claim_starts_from_the_learn_page_and_draws_both_networks():
    at = open_page("learn")
    assert "Check the claim: Translation and attention" in [e.label for e in at.expander]
    at.button(key="claim_translation").click().run()
    assert not at.exception, at.exception
    assert running(at, "claim") and button(at, "claim_translation")["label"] == "Stop"
    driver = run_of(at, "claim")
    drawn, deadline = driver.live.version, time.monotonic() + 60
    # A few steps, not the 1500 of the claim, and a slice finished since the last drawing.
    while driver.step < 20 or driver.live.version == drawn:
        assert time.monotonic() < deadline, driver.run.progress()
        time.sleep(0.05)
    at.run()
    assert not at.exception, at.exception
    lines = [b.proto.text for b in at.get("progress")]
    assert any("**plain** step" in line and "**attention** step" in line for line in lines)
    live_chart = figures(at)["claim_live_translation"]
    assert [t["name"] for t in live_chart["data"]] == ["without attention", "with attention"]
    click(at, "claim_translation_stop")
    assert not at.exception and not running(at, "claim")
    assert page_value(at, "claim", "results")["translation"].stopped


def test_a_translation_verdict_draws_its_charts_and_skips_sequence_model_views(monkeypatch):
    # Every view asked for: those reading a SequenceModel's probe must be left out, not fail.
    claim = replace(_short(SEQ2SEQ_CLAIMS["translation"], steps=100), show=tuple(claims.DRAW))
    for module in (teaching, learn):  # the run and the box that draws its result
        monkeypatch.setattr(module, "get_claim", {**CLAIMS, "translation": claim}.__getitem__)
    at = open_page("learn")
    at.button(key="claim_translation").click().run()
    settle(at, "claim")
    at.run()
    assert not at.exception, at.exception
    result = page_value(at, "claim", "results")["translation"]
    assert not result.stopped and "exact-match accuracy by sentence length" in result.summary
    assert not [w.value for w in at.warning]  # a view that could not be drawn says so there
    shown = figures(at)
    assert {"claim_translation_loss", "claim_translation_by_length"} <= set(shown)
    assert not {"claim_translation_grad", "claim_translation_trajectories"} & set(shown)
    bars = shown["claim_translation_by_length"]["data"]
    assert [b["name"] for b in bars] == ["without attention", "with attention"]
    by_length = teaching.result_by_length(result)
    print("exact match by length after 100 steps:", by_length)
    for bar, label in zip(bars, ("plain", "attention"), strict=True):
        assert list(bar["y"]) == pytest.approx(by_length[label], abs=1e-6)


def _short(claim: Claim, steps: int = 300) -> Claim:
    return replace(claim, steps=steps, check_every=0, settle=())


@pytest.mark.slow
def test_the_no_memory_claim_holds_through_the_page_within_20_seconds():
    at = open_page("learn")
    started = time.perf_counter()
    at.button(key="claim_independent").click().run()
    settle(at, "claim")
    at.run()
    seconds = time.perf_counter() - started
    result = page_value(at, "claim", "results")["independent"]
    print(f"independent through the page: {seconds:.1f} s; {result.summary}")
    assert not at.exception and result.ok and seconds <= 20, result.summary
    shown = figures(at)
    assert {"claim_independent_loss", "claim_independent_grad"} <= set(shown)
