"""Benchmark: every Learn claim in a real browser, seconds from the click to its verdict.

For each claim (core.teaching.CLAIMS in the page's order, then the translation claim of
SEQ2SEQ_CLAIMS, last on the page too) and each round, a fresh session opens
the Learn page in Debian Chromium, opens the claim's box, clicks "Run this experiment" like a
visitor, and waits until the verdict ("Claim confirmed" or "Claim not confirmed this time") is on
screen. Recorded: wall-clock seconds from the click, the verdict, and the sentence with the numbers
the page shows. Rounds are interleaved (every claim once, then again), so load drifts hit every
claim alike; the table gives each round and the median. Goal: every median within 20 s on a
2-core machine at load <= 3.
"""

from __future__ import annotations

import os
import re
import statistics
import time
from typing import Any

from bench.browser import Server, browser_available, launch
from bench.common import section, skipped_section, verdict

TITLE = "Learn: seconds from a claim's click to its verdict, in Chromium"
GOAL_SECONDS = 20.0
TIMEOUT_SECONDS = 120.0


def run_claim_in_browser(browser, url: str, key: str, title: str) -> dict[str, Any]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    try:
        page.goto(url + "learn", timeout=120_000)
        page.get_by_text(f"Check the claim: {title}").first.click(timeout=120_000)
        button = page.locator(f".st-key-claim_{key} button")
        button.wait_for(timeout=60_000)
        clicked = time.perf_counter()
        button.click()
        verdict_text = page.locator('[data-testid="stAlert"]').filter(
            has_text=re.compile(r"Claim (not )?confirmed")
        )
        try:
            verdict_text.first.wait_for(timeout=TIMEOUT_SECONDS * 1000)
        except Exception:  # noqa: BLE001 - record what the page showed instead
            alerts = page.locator('[data-testid="stAlert"]').all_inner_texts()
            raise RuntimeError(f"no verdict in {TIMEOUT_SECONDS:.0f} s; alerts: {alerts}") from None
        seconds = time.perf_counter() - clicked
        message = verdict_text.first.inner_text()
        return {
            "seconds": seconds,
            "confirmed": message.startswith("Claim confirmed"),
            "shown": " ".join(message.split()),
        }
    except Exception as error:  # noqa: BLE001 - a claim that never answers is a result too
        return {"seconds": None, "confirmed": False, "shown": f"no verdict: {error}"[:300]}
    finally:
        context.close()


def measure(rounds: int = 3, keys: list[str] | None = None) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    from core.teaching import CLAIMS, SEQ2SEQ_CLAIMS, get_claim

    keys = keys or [*CLAIMS, *SEQ2SEQ_CLAIMS]
    results: dict[str, list[dict[str, Any]]] = {key: [] for key in keys}
    load = os.getloadavg()
    with sync_playwright() as pw, Server() as server:
        browser = launch(pw)
        # A first visit warms the server (imports, first page run) and is not counted.
        warm = browser.new_page()
        warm.goto(server.url + "learn", timeout=180_000)
        warm.get_by_text("Learn: how recurrent networks remember").wait_for(timeout=180_000)
        warm.close()
        for _ in range(rounds):
            for key in keys:
                results[key].append(
                    run_claim_in_browser(browser, server.url, key, get_claim(key).title)
                )
        browser.close()
    return {"results": results, "load_at_start": [round(x, 2) for x in load]}


def run(smoke: bool = False) -> dict[str, Any]:
    reason = browser_available()
    if reason:
        return skipped_section("claims", TITLE, reason)
    started = time.perf_counter()
    measured = measure(rounds=1 if smoke else 3, keys=["next_number"] if smoke else None)
    rows, verdicts = [], []
    for key, runs in measured["results"].items():
        times = [r["seconds"] for r in runs]
        finished = [t for t in times if t is not None]
        median = statistics.median(finished) if len(finished) == len(times) else None
        rows.append(
            {
                "claim": key,
                "runs_s": " / ".join("–" if t is None else f"{t:.1f}" for t in times),
                "median_s": median,
                "confirmed": all(r["confirmed"] for r in runs),
                # A round without a verdict says why (a timeout, a notice instead of a verdict).
                "shown": next((r for r in runs if r["seconds"] is None), runs[-1])["shown"][:400],
            }
        )
        verdicts.append(verdict(f"{key}: click -> verdict, median s", median, "<=", GOAL_SECONDS))
    return section(
        "claims",
        TITLE,
        [
            ("claim", "claim"),
            ("runs_s", "seconds per round"),
            ("median_s", "median (s)"),
            ("confirmed", "confirmed"),
            ("shown", "what the page says (last round, or the round without a verdict)"),
        ],
        rows,
        notes=[
            "`python -m bench.run --only claims`. Fresh session per click; rounds interleaved; "
            f"load average at start {measured['load_at_start']}."
        ],
        verdicts=verdicts,
        seconds=time.perf_counter() - started,
    )
