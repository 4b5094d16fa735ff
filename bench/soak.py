"""Soak test: simulated visitors use one local server for a while; errors, memory and response.

`make soak` (or `python -m bench.soak --seconds 600`) starts `streamlit run playground/app.py` on a
free port and drives 8 visitors, each its own Chromium browser context (its own Streamlit
session), from one headless Chromium. Each visitor loops until the time is up: open the page with
random valid settings (a new session), Train for a few seconds, Pause, Step 1, change the learning
rate with the sidebar slider, Reset. It records:

- errors: exception boxes on the page, pages that don't load, clicks that get no response, and
  tracebacks in the server log;
- the server's resident memory (VmRSS of the streamlit process, /proc/<pid>/status) every 10 s;
  growth compares the median of the last minute with the median of the minute after warm-up
  (WARM_UP: imports, first sessions, and Streamlit's pool of closed sessions filling up);
- responsiveness: seconds from a Train (or Step 1) click until the step counter changes, and a
  last check at the end that every visitor's session still responds.

The visitors' browser shares the machine with the server; the report gives the CPU each used, so
a starved browser can be told from a slow server. Clicks are DOM click events (`press`).

It prints a summary and writes bench/SOAK.md. Not part of CI: it takes the whole duration.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import os
import platform
import random
import re
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

from bench.browser import Server

ROOT = Path(__file__).resolve().parents[1]
REPORT = ROOT / "bench" / "SOAK.md"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking"]
STATUS = re.compile(r"Step ([\d,]+) / ([\d,]+)")
MAIN = "[data-testid='stMain']"
EXCEPTION = "[data-testid='stException']"
WAITING = "waiting for a free training slot"

RSS_EVERY = 10.0
# Every visitor loop opens a new session and Streamlit keeps a closed one for
# server.disconnectedSessionTTL (120 s), so the number of sessions in memory only levels off after
# that plus one loop (about 70 s). Growth measured from the first minute counted that fill-up.
WARM_UP = 200.0
WINDOW = 60.0  # medians over a minute: one 10 s sample moves by tens of MB with the collector
LOAD_TIMEOUT = 60.0
RESPONSE_TIMEOUT = 30.0  # a click that changes nothing on the page for this long is an error
ACTION_TIMEOUT = 60.0  # Playwright's wait for a button to be clickable, text to show
TARGETS = {"memory_growth_percent": 10.0, "max_response_s": RESPONSE_TIMEOUT}

# Small models on light tasks: the point is many sessions over time, not big computations.
CELLS = ("rnn", "rnn_relu", "lstm", "gru")
TASKS = ("next_number", "sine", "adding", "copy")
HIDDEN = ("8", "16", "24", "32", "48")
SEQ_LEN = ("10", "20", "30")
LR = ("0.001", "0.003", "0.01", "0.03")


@dataclass
class Visitor:
    name: str
    loops: int = 0
    responses: list[float] = field(default_factory=list)  # Train/Step click -> new step count
    loads: list[float] = field(default_factory=list)  # goto -> Train button visible
    errors: list[str] = field(default_factory=list)
    waited: int = 0  # times the "waiting for a free training slot" message was seen
    final_response: float | None = None


# ---- server and memory ------------------------------------------------------------------------
def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_stall_seconds() -> float:
    """Seconds in which some runnable task waited for a CPU (/proc/pressure/cpu), NaN if absent."""
    try:
        line = Path("/proc/pressure/cpu").read_text().splitlines()[0]
    except OSError:
        return float("nan")
    return int(line.rsplit("total=", 1)[1]) / 1e6


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds the process has used (/proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def harness_cpu_seconds(exclude: int) -> float:
    """CPU seconds used so far by this process's descendants (Playwright's driver, Chromium),
    leaving out the server: to tell a slow server from a starved browser."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents[int(entry.name)] = int(fields[1])
    total = 0.0
    for pid in parents:
        ancestor = parents.get(pid)
        while ancestor and ancestor not in (os.getpid(), exclude):
            ancestor = parents.get(ancestor)
        if ancestor == os.getpid() and pid != exclude:
            with contextlib.suppress(OSError):
                total += cpu_seconds(pid)
    return total


async def sample_rss(pid: int, started: float, samples: list[tuple[float, float]], stop) -> None:
    while not stop.is_set():
        samples.append((time.monotonic() - started, rss_mb(pid)))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), RSS_EVERY)
    samples.append((time.monotonic() - started, rss_mb(pid)))


# ---- one visitor --------------------------------------------------------------------------------
def random_settings(rng: random.Random) -> dict[str, str]:
    return {
        "cell": rng.choice(CELLS),
        "task": rng.choice(TASKS),
        "hidden": rng.choice(HIDDEN),
        "seq_len": rng.choice(SEQ_LEN),
        "lr": rng.choice(LR),
        "seed": str(rng.randrange(1000)),
        "max_steps": "100000",
    }


def status_line(page):
    return page.locator(f"{MAIN} [data-testid='stMarkdownContainer']", has_text=STATUS).first


async def step_count(page) -> int:
    match = STATUS.search(await status_line(page).inner_text())
    return int(match.group(1).replace(",", "")) if match else -1


async def wait_for_new_count(page, before: int, visitor: Visitor, timeout: float) -> float | None:
    """Seconds until the step counter differs from `before`, or None after `timeout`."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        text = await status_line(page).inner_text()
        if WAITING in text:
            visitor.waited += 1
        match = STATUS.search(text)
        if match and int(match.group(1).replace(",", "")) != before:
            return time.monotonic() - started
        await asyncio.sleep(0.2)
    return None


def button(page, name: str):
    return page.get_by_role("button", name=name, exact=True)


async def press(page, name: str) -> None:
    """Click a button by dispatching the DOM click event once it is visible and enabled.

    Playwright's own click also waits for the button to stay put over two animation frames; with
    8 pages drawing charts on a busy machine, the browser's frames can be seconds apart and that
    wait times out although the page works. The server sees the same click either way.
    """
    target = button(page, name)
    await target.wait_for(state="visible")
    await page.wait_for_function(
        """name => [...document.querySelectorAll('button')].some(
            b => b.innerText.trim() === name && !b.disabled)""",
        arg=name,
    )
    await target.dispatch_event("click")


async def click_and_time(page, name: str, visitor: Visitor, what: str) -> bool:
    before = await step_count(page)
    await press(page, name)
    seconds = await wait_for_new_count(page, before, visitor, RESPONSE_TIMEOUT)
    if seconds is None:
        visitor.errors.append(f"{what}: no new step count within {RESPONSE_TIMEOUT:.0f} s")
        return False
    visitor.responses.append(seconds)
    return True


async def check_page(page, visitor: Visitor, where: str) -> bool:
    if await page.locator(EXCEPTION).count():
        text = (await page.locator(EXCEPTION).first.inner_text())[:200]
        visitor.errors.append(f"exception box after {where}: {text!r}")
        return False
    return True


async def one_loop(page, url: str, rng: random.Random, visitor: Visitor) -> None:
    params = random_settings(rng)
    stage = "load"
    try:
        started = time.monotonic()
        await page.goto(f"{url}/?{urlencode(params)}", timeout=LOAD_TIMEOUT * 1000)
        await button(page, "Train").wait_for(timeout=LOAD_TIMEOUT * 1000)
        visitor.loads.append(time.monotonic() - started)
        if not await check_page(page, visitor, stage):
            return
        stage = "Train"
        if not await click_and_time(page, "Train", visitor, stage):
            return
        await asyncio.sleep(rng.uniform(2.0, 6.0))
        stage = "Pause"
        await press(page, "Pause")
        await button(page, "Train").wait_for()
        stage = "Step 1"
        if not await click_and_time(page, "Step 1", visitor, stage):
            return
        stage = "learning rate"
        lr = page.get_by_role("slider", name="Learning rate")
        await lr.focus()
        await page.keyboard.press(rng.choice(["ArrowLeft", "ArrowRight"]))
        await asyncio.sleep(1.0)
        stage = "Reset"
        await press(page, "Reset")
        await page.get_by_text("Step 0 /").first.wait_for()
        if await check_page(page, visitor, stage):
            visitor.loops += 1
    except Exception as error:  # noqa: BLE001 - a failure is a result: note it, load a new page
        lines = [line.strip() for line in str(error).splitlines() if line.strip()]
        detail = " / ".join(lines[:1] + lines[-1:] if len(lines) > 1 else lines)[:240]
        visitor.errors.append(f"{stage} ({params['cell']}/{params['task']}): {detail}")


async def run_visitor(browser, url: str, index: int, deadline: float, seed: int) -> Visitor:
    visitor = Visitor(f"visitor {index + 1}")
    rng = random.Random(seed * 100 + index)
    context = await browser.new_context(viewport={"width": 1280, "height": 1000})
    context.set_default_timeout(ACTION_TIMEOUT * 1000)
    page = await context.new_page()
    await asyncio.sleep(index * 2.0)  # stagger arrivals
    try:
        while time.monotonic() < deadline:
            await one_loop(page, url, rng, visitor)
        # Last check: this visitor's session still answers a Train click.
        try:
            train = button(page, "Train")
            if not await train.count():  # the last loop ended early: start from a fresh load
                await page.goto(f"{url}/?{urlencode(random_settings(rng))}")
                await train.wait_for(timeout=LOAD_TIMEOUT * 1000)
            before = await step_count(page)
            await press(page, "Train")
            visitor.final_response = await wait_for_new_count(
                page, before, visitor, RESPONSE_TIMEOUT
            )
            if visitor.final_response is None:
                visitor.errors.append("final check: no response to Train")
            await check_page(page, visitor, "final check")
        except Exception as error:  # noqa: BLE001
            visitor.errors.append(f"final check: {type(error).__name__}")
    finally:
        await context.close()
    return visitor


# ---- the whole soak ---------------------------------------------------------------------------
async def soak(seconds: float, visitors: int, seed: int) -> dict:
    from playwright.async_api import async_playwright

    load_start = os.getloadavg()
    stall_start = cpu_stall_seconds()
    log = Path(tempfile.mkdtemp(prefix="soak-")) / "server.log"
    server = Server(log_path=log).start(timeout=60)
    url = server.url.rstrip("/")
    pid = server.process.pid
    samples: list[tuple[float, float]] = []
    stop = asyncio.Event()
    try:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            started = time.monotonic()
            sampler = asyncio.create_task(sample_rss(pid, started, samples, stop))
            deadline = started + seconds
            results = await asyncio.gather(
                *(run_visitor(browser, url, i, deadline, seed) for i in range(visitors))
            )
            elapsed = time.monotonic() - started
            server_cpu = cpu_seconds(pid)
            stalled = cpu_stall_seconds() - stall_start
            client_cpu = harness_cpu_seconds(pid)
            stop.set()
            await sampler
            await browser.close()
        alive = server.process.poll() is None
    finally:
        server.stop()
    server_log = log.read_text(errors="replace")
    return {
        "seconds": seconds,
        "elapsed": elapsed,
        "load_start": load_start,
        "server_cpu": server_cpu,
        "stalled": stalled,
        "client_cpu": client_cpu,
        "visitors": results,
        "samples": samples,
        "server_alive": alive,
        "tracebacks": server_log.count("Traceback"),
        "log_tail": server_log[-1500:] if "Traceback" in server_log else "",
        "log_path": str(log),
    }


def window_median(samples: list[tuple[float, float]], start: float, end: float) -> float:
    """Median RSS of the samples taken from `start` to `end` seconds (the nearest one if none)."""
    inside = [rss for t, rss in samples if start <= t <= end]
    if not inside:
        inside = [min(samples, key=lambda sample: abs(sample[0] - start))[1]]
    return statistics.median(inside)


def summarise(result: dict) -> dict:
    visitors: list[Visitor] = result["visitors"]
    samples = result["samples"]
    warm_at = min(WARM_UP, result["seconds"] / 2)
    start_rss = samples[0][1]
    end_at = samples[-1][0]
    warm_rss = window_median(samples, warm_at, warm_at + WINDOW)
    end_rss = window_median(samples, end_at - WINDOW, end_at)
    responses = [r for v in visitors for r in v.responses]
    loads = [x for v in visitors for x in v.loads]
    errors = [f"{v.name}: {e}" for v in visitors for e in v.errors]
    if not result["server_alive"]:
        errors.append("server: the process died")
    if result["tracebacks"]:
        errors.append(f"server log: {result['tracebacks']} traceback(s)")
    growth = 100.0 * (end_rss - warm_rss) / warm_rss
    finals = [v.final_response for v in visitors]
    summary = {
        "loops": sum(v.loops for v in visitors),
        "errors": errors,
        "rss_start": start_rss,
        "rss_warm": warm_rss,
        "rss_end": end_rss,
        "rss_peak": max(rss for _, rss in samples),
        "warm_at": warm_at,
        "growth": growth,
        "responses": len(responses),
        "response_median": statistics.median(responses) if responses else float("nan"),
        "response_p95": quantile(responses, 0.95),
        "response_max": max(responses, default=float("nan")),
        "load_median": statistics.median(loads) if loads else float("nan"),
        "load_max": max(loads, default=float("nan")),
        "waited": sum(v.waited for v in visitors),
        "all_responsive": all(f is not None for f in finals),
        "final_max": max((f for f in finals if f is not None), default=float("nan")),
    }
    summary["passed"] = (
        not errors
        and growth < TARGETS["memory_growth_percent"]
        and summary["all_responsive"]
        and summary["response_max"] < TARGETS["max_response_s"]
    )
    return summary


def quantile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def render(result: dict, summary: dict, command: str) -> str:
    visitors: list[Visitor] = result["visitors"]
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    load_start = ", ".join(f"{x:.1f}" for x in result["load_start"])
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown",
    )
    verdict = "PASS" if summary["passed"] else "FAIL"
    lines = [
        "# Soak test",
        "",
        f"`{command}` on {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC: {len(visitors)} visitors "
        f"for {result['elapsed']:.0f} s against one local server "
        f"(PLAYGROUND_MAX_TRAINING={os.environ.get('PLAYGROUND_MAX_TRAINING', '4 (default)')}).",
        f"Machine: {cpu}, {os.cpu_count()} cores; load average before the run {load_start}, "
        f"at the end {load}; Python {platform.python_version()}. The visitors' Chromium runs on "
        f"the same machine as the server. The server used {result['server_cpu']:.0f} CPU seconds "
        f"({result['server_cpu'] / result['elapsed']:.2f} cores on average), the visitors' browser "
        f"{result['client_cpu']:.0f} CPU seconds ({result['client_cpu'] / result['elapsed']:.2f} "
        f"cores). Some task was waiting for a CPU {100 * result['stalled'] / result['elapsed']:.0f}% "
        "of the time (/proc/pressure/cpu).",
        "",
        f"**{verdict}**: errors {len(summary['errors'])} (target 0), memory growth after warm-up "
        f"{summary['growth']:+.1f}% (target < {TARGETS['memory_growth_percent']:.0f}%), "
        f"slowest response {summary['response_max']:.1f} s (limit {TARGETS['max_response_s']:.0f} s), "
        f"every session responsive at the end: {'yes' if summary['all_responsive'] else 'no'}.",
        "",
        "| measure | value |",
        "|---|---|",
        f"| visitor loops completed (load, Train, Pause, Step, lr, Reset) | {summary['loops']} |",
        f"| errors | {len(summary['errors'])} |",
        f"| server RSS at start | {summary['rss_start']:.0f} MB |",
        f"| server RSS after warm-up (median, {summary['warm_at']:.0f}-{summary['warm_at'] + WINDOW:.0f} s) "
        f"| {summary['rss_warm']:.0f} MB |",
        f"| server RSS at the end (median of the last {WINDOW:.0f} s) | {summary['rss_end']:.0f} MB |",
        f"| server RSS peak | {summary['rss_peak']:.0f} MB |",
        f"| memory growth after warm-up | {summary['growth']:+.1f}% |",
        f"| click-to-new-step responses measured | {summary['responses']} |",
        f"| response median / p95 / max | {summary['response_median']:.2f} / "
        f"{summary['response_p95']:.2f} / {summary['response_max']:.2f} s |",
        f"| page load median / max | {summary['load_median']:.1f} / {summary['load_max']:.1f} s |",
        f"| 'waiting for a free training slot' seen (polls) | {summary['waited']} |",
        f"| final Train check, slowest | {summary['final_max']:.2f} s |",
        f"| tracebacks in the server log | {result['tracebacks']} |",
        "",
        "Per visitor: loops, responses, slowest response, errors.",
        "",
        "| visitor | loops | responses | slowest | errors |",
        "|---|---|---|---|---|",
    ]
    for v in visitors:
        slowest = f"{max(v.responses):.2f} s" if v.responses else "–"
        lines.append(f"| {v.name} | {v.loops} | {len(v.responses)} | {slowest} | {len(v.errors)} |")
    lines += ["", "Server RSS every 10 s (seconds: MB):", ""]
    lines.append(", ".join(f"{t:.0f}: {rss:.0f}" for t, rss in result["samples"]))
    if summary["errors"]:
        lines += ["", "Errors:", ""]
        lines += [f"- {error}" for error in summary["errors"][:50]]
    if result["log_tail"]:
        lines += ["", "Server log tail:", "", "```", result["log_tail"], "```"]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=600.0, help="duration (default 600)")
    parser.add_argument("--visitors", type=int, default=8, help="simulated visitors (default 8)")
    parser.add_argument("--seed", type=int, default=0, help="seeds the visitors' choices")
    parser.add_argument("--out", type=Path, default=REPORT, help="report file (bench/SOAK.md)")
    args = parser.parse_args(argv)
    if not Path(CHROMIUM).exists():
        print(f"{CHROMIUM} is missing (make chromium)", file=sys.stderr)
        return 2
    command = "python -m bench.soak" + "".join(f" {a}" for a in (argv or sys.argv[1:]))
    print(f"soak: {args.visitors} visitors for {args.seconds:.0f} s ...", flush=True)
    result = asyncio.run(soak(args.seconds, args.visitors, args.seed))
    summary = summarise(result)
    report = render(result, summary, command)
    args.out.write_text(report)
    print(report)
    print(f"written to {args.out}; server log {result['log_path']}")
    return 0 if summary["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
