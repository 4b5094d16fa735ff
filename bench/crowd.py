"""Benchmark: a class on one replica (2 cores), measured with protocol visitors (bench/protocol.py),
which speak Streamlit's websocket protocol without a browser, and a few Chromium visitors beside
them, held to the same rules.

- clicks: protocol and Chromium visitors click Train/Pause/Step/Reset at random, each click
  followed by waiting for its effect (button swapped, run paused, steps taken, count back to 0)
  and a pause to think; a click whose effect is not seen within LOST_S is lost. Latency is from
  the send (protocol) or the click (Chromium) to the drawing that shows the effect.
- capacity: two visitors train alone, then `visitors` visitors train at once: aggregate steps/s
  against the two, chart redraws/s per visitor, tick gaps (between drawings of a visitor's run).
- tax: one visitor trains on each Playground tab in turn: server CPU beyond the training steps
  over the CPU of those steps (the steps' CPU measured in this process on the same settings),
  and bytes per second: the messages as received and what the server put on the wire
  (permessage-deflate on, `ss` bytes_acked).
- first paint: the playground against a bare Streamlit app (a title, a button, one plotly chart)
  on the same machine, interleaved visits in fresh Chromium contexts: Train (the button) visible
  and the first chart drawn, from navigation; plus the first visit after each server start.

    OMP_NUM_THREADS=1 python -m bench.run --only crowd
    OMP_NUM_THREADS=1 python -m bench.crowd clicks --seconds 600   # one part, printed
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.browser import CHROMIUM, CHROMIUM_ARGS, Server, browser_available, cpu_seconds
from bench.common import descendants, median, section, verdict
from bench.liveview import step_cpu_seconds, wire_bytes
from bench.protocol import Visitor

TITLE = "A class on one replica: lost clicks, capacity, the page's own cost, first paint"
QUERY = "max_steps=100000"
LOST_S = 10.0  # a click whose effect has not shown by then is lost
THINK_S = (0.2, 1.5)
TABS = ("Training", "Memory", "Gradients")


def log(message: str) -> None:
    print(f"[bench] crowd: {message}", file=sys.stderr, flush=True)


def quantile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def server_cpu(server: Server) -> float:
    pid = server.process.pid
    return cpu_seconds([pid, *descendants(pid)])


async def open_all(url: str, count: int, prefix: str, batch: int = 4) -> list[Visitor]:
    """`count` protocol visitors, opened a few at a time (a class arrives over a minute)."""
    visitors = [Visitor(url, QUERY, f"{prefix}{i}") for i in range(count)]
    for start in range(0, count, batch):
        await asyncio.gather(*(v.open() for v in visitors[start : start + batch]))
    return visitors


# ---- clicks ------------------------------------------------------------------------------------
def next_click(rng: random.Random, training: bool) -> str:
    if training:
        return rng.choice(["train_stop", "train_stop", "step1", "step10", "reset"])
    return rng.choice(["train", "train", "step1", "step10", "reset"])


async def protocol_clicker(v: Visitor, deadline: float, rng: random.Random) -> list[dict]:
    results = []
    while time.monotonic() < deadline:
        name = next_click(rng, v.training)
        if not v.can_click(name):
            name = "reset"
        click = await v.click(name)
        seen = await v.wait(lambda c=click: c.seen is not None, LOST_S)
        results.append(
            {
                "who": v.name,
                "name": name,
                "lost": not seen,
                "s": click.seen - click.sent if seen else None,
            }
        )
        await asyncio.sleep(rng.uniform(*THINK_S))
    return results


EFFECT_JS = """([name, before]) => {
  const main = document.querySelector("[data-testid='stMain']");
  const m = main && /Step ([\\d,]+) \\/ [^\\n]*/.exec(main.innerText);
  if (!m) return false;
  const step = parseInt(m[1].replace(/,/g, ""), 10);
  const paused = m[0].includes("· paused");
  const train = document.querySelector(".st-key-controls .pg-slot-train");
  const label = train ? train.textContent : "";
  if (name === "Train") return label === "Pause";
  if (name === "Pause") return label === "Train" && paused;
  if (name.startsWith("Step ")) return label === "Train" && paused
    && step >= before + parseInt(name.slice(5), 10);
  // A Reset on a full server gets a place in the queue (the protocol visitor's rule too).
  const full = /The server is full/.test(main.innerText);
  if (name === "Reset") return label === "Train" && (step === 0 || full);
  return true;
}"""
# What a visitor saw when a click's effect never came: the status line, the Train slot's label,
# every message box.
SAW_JS = r"""() => {
  const main = document.querySelector("[data-testid='stMain']");
  const status = main && /Step [\d,]+ \/ [^\n]*/.exec(main.innerText);
  const train = document.querySelector(".st-key-controls .pg-slot-train");
  const boxes = document.querySelectorAll("[data-testid='stAlert']");
  const alerts = [...boxes].map((a) => a.innerText);
  return {status: status && status[0], train: train && train.textContent, alerts};
}"""
STEP_JS = """() => {
  const m = /Step ([\\d,]+) \\//.exec(document.querySelector("[data-testid='stMain']").innerText);
  return m ? parseInt(m[1].replace(/,/g, ""), 10) : -1;
}"""


async def chromium_clicker(browser, url: str, name: str, deadline: float, rng) -> list[dict]:
    context = await browser.new_context(viewport={"width": 1400, "height": 1200})
    page = await context.new_page()
    results = []
    try:
        await page.goto(f"{url}/?{QUERY}")
        await page.get_by_role("button", name="Train", exact=True).wait_for(timeout=120_000)
        while time.monotonic() < deadline:
            training = await page.get_by_role("button", name="Pause", exact=True).count() > 0
            label = {"train": "Train", "train_stop": "Pause", "step1": "Step 1"}.get(
                next_click(rng, training), "Reset"
            )
            label = "Step 10" if label == "Reset" and rng.random() < 0.3 else label
            before = await page.evaluate(STEP_JS)
            button = page.get_by_role("button", name=label, exact=True)
            if await button.count() == 0 or await button.is_disabled():
                await asyncio.sleep(0.2)
                continue
            sent = time.monotonic()
            await button.click()
            try:
                await page.wait_for_function(
                    EFFECT_JS, arg=[label, before], timeout=LOST_S * 1000, polling="raf"
                )
                results.append(
                    {"who": name, "name": label, "lost": False, "s": time.monotonic() - sent}
                )
            except Exception:  # noqa: BLE001 - a click whose effect never showed is the finding
                saw = await page.evaluate(SAW_JS)
                results.append({"who": name, "name": label, "lost": True, "s": None, "saw": saw})
            await asyncio.sleep(rng.uniform(*THINK_S))
    finally:
        await context.close()
    return results


async def _clicks(url: str, protocol: int, chromium: int, seconds: float, seed: int) -> dict:
    from playwright.async_api import async_playwright

    visitors = await open_all(url, protocol, "c")
    log(f"clicks: {protocol} protocol visitors open")
    deadline = time.monotonic() + seconds
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        tasks = [
            protocol_clicker(v, deadline, random.Random(seed * 100 + i))
            for i, v in enumerate(visitors)
        ] + [
            chromium_clicker(
                browser, url, f"chromium{i}", deadline, random.Random(seed * 100 + 50 + i)
            )
            for i in range(chromium)
        ]
        groups = await asyncio.gather(*tasks, return_exceptions=True)
        await browser.close()
    errors = [repr(g) for g in groups if isinstance(g, BaseException)]
    results = [r for g in groups if not isinstance(g, BaseException) for r in g]
    errors += [f"{v.name}: {e}" for v in visitors for e in v.errors]  # a closed socket too
    for v in visitors:
        await v.close()
    return {"results": results, "errors": errors}


def clicks_rows(outcome: dict) -> list[dict]:
    rows = []
    for kind in ("protocol", "chromium"):
        mine = [
            r for r in outcome["results"] if r["who"].startswith("chromium") == (kind == "chromium")
        ]
        times = [r["s"] for r in mine if not r["lost"]]
        rows.append(
            {
                "visitors": kind,
                "clicks": len(mine),
                "lost": sum(r["lost"] for r in mine),
                "median_s": median(times) if times else float("nan"),
                "p99_s": quantile(times, 0.99),
                "worst_s": max(times) if times else float("nan"),
            }
        )
    return rows


# ---- capacity ----------------------------------------------------------------------------------
async def train_window(server: Server, visitors: list[Visitor], seconds: float) -> dict:
    for v in visitors:
        await v.click("train")
    await asyncio.gather(*(v.wait(lambda v=v: v.training, 30) for v in visitors))
    await asyncio.sleep(3.0)  # ramp: every worker has had its first slices
    start, cpu0 = time.monotonic(), server_cpu(server)
    steps0 = [v.step for v in visitors]
    await asyncio.sleep(seconds)
    end, cpu1 = time.monotonic(), server_cpu(server)
    steps1 = [v.step for v in visitors]
    for v in visitors:
        await v.click("train_stop")
    await asyncio.gather(*(v.wait(lambda v=v: not v.training, 30) for v in visitors))
    return {
        "steps_per_s": [(b - a) / (end - start) for a, b in zip(steps0, steps1, strict=True)],
        "redraws_per_s": [redraws(v, start, end) for v in visitors],
        "gaps": [g for v in visitors for g in gaps(v.drawings, start, end)],
        "cpu_cores": (cpu1 - cpu0) / (end - start),
    }


def redraws(v: Visitor, start: float, end: float) -> float:
    """Chart redraws per second per chart of the open tab."""
    updates = sum(start <= t <= end for t in v.chart_updates)
    return updates / max(1, len(v.chart_ids)) / (end - start)


def gaps(times: list[float], start: float, end: float) -> list[float]:
    inside = [t for t in times if start <= t <= end]
    return [b - a for a, b in zip(inside, inside[1:], strict=False)]


async def _capacity(url: str, server: Server, count: int, seconds: float) -> dict:
    visitors = await open_all(url, count, "v")
    log(f"capacity: {count} visitors open")
    solo = await train_window(server, visitors[:2], seconds)
    log(f"capacity: two alone {sum(solo['steps_per_s']):.0f} steps/s")
    crowd = await train_window(server, visitors, seconds)
    log(f"capacity: {count} at once {sum(crowd['steps_per_s']):.0f} steps/s")
    errors = [e for v in visitors for e in v.errors if not e.startswith("closed")]
    for v in visitors:
        await v.close()
    return {"solo": solo, "crowd": crowd, "errors": errors}


def capacity_rows(outcome: dict) -> list[dict]:
    rows = []
    for label, window in (
        ("2 alone", outcome["solo"]),
        (f"{len(outcome['crowd']['steps_per_s'])} at once", outcome["crowd"]),
    ):
        rows.append(
            {
                "visitors": label,
                "steps_per_s": sum(window["steps_per_s"]),
                "slowest_visitor_steps_per_s": min(window["steps_per_s"]),
                "min_redraws_per_s": min(window["redraws_per_s"]),
                "p95_gap_s": quantile(window["gaps"], 0.95),
                "worst_gap_s": max(window["gaps"], default=float("nan")),
                "server_cores": window["cpu_cores"],
            }
        )
    return rows


# ---- the page's own cost -------------------------------------------------------------------------
async def _tax(url: str, server: Server, step_cpu: float, seconds: float) -> list[dict]:
    v = Visitor(url, QUERY, "tax")
    await v.open()
    rows = []
    for tab in TABS:
        await v.open_tab(tab)
        await v.click("train")
        await v.wait(lambda: v.training, 30)
        await asyncio.sleep(3.0)
        start, cpu0, wire0, bytes0, steps0 = (
            time.monotonic(),
            server_cpu(server),
            wire_bytes(server.port),
            v.bytes,
            v.step,
        )
        charts0 = sum(1 for _ in v.chart_updates)
        await asyncio.sleep(seconds)
        end, cpu1, wire1 = time.monotonic(), server_cpu(server), wire_bytes(server.port)
        steps = v.step - steps0
        training = steps * step_cpu
        rows.append(
            {
                "tab": tab,
                "steps_per_s": steps / (end - start),
                "redraws_per_s": (len(v.chart_updates) - charts0)
                / max(1, len(v.chart_ids))
                / (end - start),
                "ui_tax": ((cpu1 - cpu0) - training) / training if training else float("nan"),
                "received_kb_s": (v.bytes - bytes0) / 1000 / (end - start),
                "wire_kb_s": (wire1 - wire0) / 1000 / (end - start),
            }
        )
        log(f"tax: {rows[-1]}")
        await v.click("train_stop")
        await v.wait(lambda: not v.training, 30)
    await v.close()
    return rows


# ---- first paint ---------------------------------------------------------------------------------
BARE_APP = """import plotly.graph_objects as go
import streamlit as st

st.title("A bare app")
st.button("Train", type="primary")
st.plotly_chart(go.Figure(go.Scatter(y=[3, 1, 2])))
"""

PAINT_JS = """() => {
  const all = (root, out) => {
    root.querySelectorAll('*').forEach((n) => n.shadowRoot && all(n.shadowRoot, out));
    root.querySelectorAll('.js-plotly-plot').forEach((p) => out.push(p));
    return out;
  };
  return all(document, []).some((p) => p.querySelectorAll('.trace, .scatterlayer path').length > 0);
}"""


def paint_visit(browser, url: str) -> dict[str, float]:
    """Navigation -> Train visible, and -> a chart with drawn traces (browser clock, ms)."""
    context = browser.new_context(viewport={"width": 1400, "height": 1200})
    page = context.new_page()
    try:
        page.goto(url, wait_until="commit")
        start = page.evaluate("() => performance.timeOrigin")
        page.get_by_role("button", name="Train", exact=True).first.wait_for(timeout=120_000)
        button = page.evaluate("() => performance.timeOrigin + performance.now()") - start
        page.wait_for_function(PAINT_JS, timeout=120_000, polling="raf")
        chart = page.evaluate("() => performance.timeOrigin + performance.now()") - start
        return {"button_s": button / 1000, "chart_s": chart / 1000}
    finally:
        context.close()


def first_paint(visits: int = 5) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as folder:
        bare = Path(folder) / "bare.py"
        bare.write_text(BARE_APP)
        from bench.browser import streamlit_executable

        servers = {
            "playground": Server(),
            "bare": Server(command=[streamlit_executable(), "run", str(bare)]),
            "playground (python -m playground)": Server(
                command=[sys.executable, "-m", "playground"]
            ),
        }
        found: dict[str, list[dict]] = {name: [] for name in servers}
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            first = {}
            for name, server in servers.items():
                server.start()
                first[name] = paint_visit(browser, server.url + "?" + QUERY)
            for _ in range(visits):
                for name in ("playground", "bare"):
                    found[name].append(paint_visit(browser, servers[name].url + "?" + QUERY))
            browser.close()
        for server in servers.values():
            server.stop()
    return {"first": first, "visits": found}


def paint_rows(outcome: dict) -> list[dict]:
    rows = []
    for name in ("playground", "bare"):
        visits = outcome["visits"][name]
        rows.append(
            {
                "app": name,
                "button_s": median([v["button_s"] for v in visits]),
                "chart_s": median([v["chart_s"] for v in visits]),
            }
        )
    for name, visit in outcome["first"].items():
        rows.append({"app": f"first visit after start: {name}", **visit})
    return rows


# ---- the section ---------------------------------------------------------------------------------
def measure(parts: set[str], smoke: bool, seconds: dict[str, float]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    if "tax" in parts:
        step_cpu = step_cpu_seconds("?" + QUERY)
        with Server() as server:
            found["tax"] = asyncio.run(_tax(server.url, server, step_cpu, seconds["tax"]))
    if "capacity" in parts:
        with Server() as server:
            count = 4 if smoke else 16
            found["capacity"] = asyncio.run(
                _capacity(server.url, server, count, seconds["capacity"])
            )
    if "clicks" in parts:
        with Server() as server:
            protocol, chromium = (2, 1) if smoke else (16, 2)
            found["clicks"] = asyncio.run(
                _clicks(server.url.rstrip("/"), protocol, chromium, seconds["clicks"], seed=0)
            )
    if "paint" in parts:
        found["paint"] = first_paint(2 if smoke else 5)
    return found


def report(found: dict[str, Any], elapsed: float) -> dict[str, Any]:
    rows, verdicts, notes = [], [], []
    if "clicks" in found:
        click_rows = clicks_rows(found["clicks"])
        all_times = [r["s"] for r in found["clicks"]["results"] if not r["lost"]]
        lost = sum(r["lost"] for r in found["clicks"]["results"])
        verdicts += [
            verdict("clicks lost", lost, "<=", 0),
            verdict("click to effect p99 s", quantile(all_times, 0.99), "<=", 1.0),
            verdict("clicks in all", len(found["clicks"]["results"]), ">=", 2000),
        ]
        rows += [{"part": "clicks", **r} for r in click_rows]
        notes += [f"click errors: {e}" for e in found["clicks"]["errors"][:20]]
        lost_examples = [r for r in found["clicks"]["results"] if r["lost"]][:10]
        notes += [f"lost: {json.dumps(r, default=str)}" for r in lost_examples]
    if "capacity" in found:
        cap = capacity_rows(found["capacity"])
        crowd = found["capacity"]["crowd"]
        verdicts += [
            verdict(
                "aggregate steps/s / two alone",
                cap[1]["steps_per_s"] / cap[0]["steps_per_s"],
                ">=",
                0.8,
            ),
            verdict("every visitor's chart redraws/s", min(crowd["redraws_per_s"]), ">=", 2.0),
            verdict("p95 tick gap s", quantile(crowd["gaps"], 0.95), "<=", 1.0),
        ]
        rows += [{"part": "capacity", **r} for r in cap]
    if "tax" in found:
        verdicts += [
            verdict("UI tax, worst tab", max(r["ui_tax"] for r in found["tax"]), "<=", 0.1),
            verdict("wire KB/s, worst tab", max(r["wire_kb_s"] for r in found["tax"]), "<=", 30),
        ]
        rows += [{"part": "tax", **r} for r in found["tax"]]
    if "paint" in found:
        paint = paint_rows(found["paint"])
        verdicts += [
            verdict(
                "Train visible / bare app", paint[0]["button_s"] / paint[1]["button_s"], "<=", 1.2
            ),
            verdict("first chart / bare app", paint[0]["chart_s"] / paint[1]["chart_s"], "<=", 1.2),
        ]
        rows += [{"part": "paint", **r} for r in paint]
    columns = sorted({k for r in rows for k in r} - {"part"})
    return section(
        "crowd",
        TITLE,
        [("part", "part"), *[(c, c) for c in columns]],
        rows,
        verdicts,
        notes,
        extra={"raw": {k: v for k, v in found.items() if k != "clicks"}},
        seconds=elapsed,
    )


def run(smoke: bool = False, parts: str = "tax,capacity,clicks,paint") -> dict[str, Any]:
    reason = browser_available()
    if reason:
        from bench.common import skipped_section

        return skipped_section("crowd", TITLE, reason)
    seconds = (
        {"tax": 4.0, "capacity": 5.0, "clicks": 20.0}
        if smoke
        else {"tax": 12.0, "capacity": 20.0, "clicks": 600.0}
    )
    started = time.monotonic()
    found = measure(set(parts.split(",")), smoke, seconds)
    return report(found, time.monotonic() - started)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("parts", nargs="?", default="tax,capacity,clicks,paint")
    parser.add_argument("--seconds", type=float, default=None, help="the click soak's length")
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args(argv)
    seconds = {"tax": 12.0, "capacity": 20.0, "clicks": args.seconds or 600.0}
    if args.smoke:
        seconds = {"tax": 4.0, "capacity": 5.0, "clicks": args.seconds or 20.0}
    started = time.monotonic()
    found = measure(set(args.parts.split(",")), args.smoke, seconds)
    result = report(found, time.monotonic() - started)
    print(json.dumps({k: result[k] for k in ("rows", "verdicts", "notes")}, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
