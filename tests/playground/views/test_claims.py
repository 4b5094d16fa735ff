"""A claim's box on the Learn page under AppTest: it runs live, each cell's line says when it is
decided, and the verdict comes with its numbers and charts; Stop keeps a stopped result."""

from __future__ import annotations

import time

import pytest

from core.teaching import CLAIMS, Claim
from playground.actions import teaching
from tests.playground.helpers import (
    button,
    click,
    figures,
    open_page,
    page_value,
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


def _short(claim: Claim) -> Claim:
    from dataclasses import replace

    return replace(claim, steps=300, check_every=0, settle=())


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
