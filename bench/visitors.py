"""Benchmark 4: many visitors. 8 browser sessions train at once on the 2 cores.

Each session is its own browser context (its own Streamlit session, its own Experiment). For each
training cap (env PLAYGROUND_MAX_TRAINING, read by playground/live.py at server start) the
benchmark starts a fresh server, opens the sessions, clicks Train in each, and measures a window of
about 25 s: steps/s per session from the status line, the longest stall between status changes,
whether the "waiting for a free training slot" message showed, the server's peak RSS (process
and children, from /proc) and the CPU the server and the browser used. Two sessions training side
by side on the first server give the baseline for the aggregate throughput.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from typing import Any

from bench.browser import (
    PAUSE,
    TRAIN,
    Server,
    browser_available,
    browser_pids,
    click,
    cpu_seconds,
    launch,
    new_sessions,
    record,
    window_stats,
)
from bench.common import descendants, median, rss_mb, section, skipped_section, verdict

TITLE = "4. Many visitors: 8 sessions training at once"
QUERY = "?max_steps=100000"
SESSIONS = 8
CAPS = (4, 2, 8)  # the page's default (4) first: its server also runs the 2-session baseline
TARGETS = {"aggregate_ratio": 0.8, "stall_s": 1.0, "rss_mb": 1500}


class RssSampler(threading.Thread):
    def __init__(self, pid: int, every: float = 0.5) -> None:
        super().__init__(daemon=True)
        self.pid, self.every, self.peak = pid, every, 0.0
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            self.peak = max(self.peak, rss_mb(self.pid))
            self._halt.wait(self.every)

    def stop(self) -> float:
        self._halt.set()
        self.join(5)
        self.peak = max(self.peak, rss_mb(self.pid))
        return self.peak


def log(message: str) -> None:
    print(f"[bench] visitors: {message}", file=sys.stderr, flush=True)


def measure_training(
    server: Server, pages: list, seconds: float, ramp: float = 3.0, pause: bool = False
) -> dict[str, Any]:
    """Click Train on `pages`, measure `seconds` after a ramp-up; with `pause`, click Pause after."""
    pid = server.process.pid
    sampler = RssSampler(pid)
    sampler.start()
    try:
        for page in pages:
            click(page, TRAIN)
        time.sleep(ramp)
        server_pids = [pid, *descendants(pid)]
        chrome = browser_pids()
        cpu0 = (cpu_seconds(server_pids), cpu_seconds(chrome))
        start = time.time() * 1000
        time.sleep(seconds)
        end = time.time() * 1000
        cpu1 = (cpu_seconds(server_pids), cpu_seconds(chrome))
        records = [record(page) for page in pages]
        for page in pages if pause else []:
            with contextlib.suppress(Exception):  # a session that can't pause is closed anyway
                click(page, PAUSE, timeout=15)
    finally:
        peak = sampler.stop()
    stats = [window_stats(rec, start, end) for rec in records]
    speeds = [s["steps_per_s"] or 0.0 for s in stats]
    wall = (end - start) / 1000
    return {
        "sessions": len(pages),
        "per_session": stats,
        "aggregate_sps": sum(speeds),
        "min_sps": min(speeds),
        "median_sps": median(speeds),
        "max_sps": max(speeds),
        "worst_stall_s": max(s["longest_stall_s"] or 0.0 for s in stats),
        "median_redraws_per_s": median([s["redraws_per_s"] for s in stats]),
        "waited_sessions": sum(1 for s in stats if s["waited"]),
        "peak_rss_mb": peak,
        "server_cores": (cpu1[0] - cpu0[0]) / wall,
        "server_cpu_ms_per_redraw": 1000
        * (cpu1[0] - cpu0[0])
        / wall
        / max(sum(s["redraws_per_s"] for s in stats), 1e-9),
        "browser_cores": (cpu1[1] - cpu0[1]) / wall,
        "load_average": os.getloadavg()[0],
    }


def run_cap(
    browser, cap: int, sessions: int, seconds: float, baseline_seconds: float | None
) -> list[dict]:
    """A fresh server with this cap; `sessions` sessions load together. With `baseline_seconds`,
    two of them first train alone side by side (the others sit idle: no timer, no server work)."""
    server = Server(env={"PLAYGROUND_MAX_TRAINING": str(cap)})
    rows = []
    opened = []
    try:
        server.start()
        log(f"cap {cap}: server healthy in {server.healthy - server.started:.1f} s")
        began = time.time()
        opened = new_sessions(browser, server.url + QUERY, sessions)
        loaded = time.time() - began
        log(f"cap {cap}: {sessions} sessions loaded in {loaded:.1f} s")
        pages = [page for _, page, _ in opened]
        if baseline_seconds:
            rows.append(
                {
                    "cap": cap,
                    "group": "2 solo sessions side by side",
                    "load_s": None,
                    **measure_training(server, pages[:2], baseline_seconds, pause=True),
                }
            )
            time.sleep(2.0)  # let the paused pair settle
        rows.append(
            {
                "cap": cap,
                "group": f"{sessions} sessions",
                "load_s": loaded,
                **measure_training(server, pages, seconds),
            }
        )
        log(f"cap {cap}: done")
    finally:
        for context, _, _ in opened:
            context.close()
        server.stop()
    return rows


COLUMNS = [
    ("cap", "PLAYGROUND_MAX_TRAINING"),
    ("group", "sessions"),
    ("aggregate_sps", "aggregate steps/s"),
    ("ratio", "aggregate / 2 solo"),
    ("min_sps", "slowest session steps/s"),
    ("median_sps", "median session steps/s"),
    ("max_sps", "fastest session steps/s"),
    ("worst_stall_s", "longest stall s"),
    ("median_redraws_per_s", "median redraws/s"),
    ("waited_sessions", "sessions shown 'waiting for a slot'"),
    ("peak_rss_mb", "server peak RSS MB"),
    ("server_cores", "server CPU (cores)"),
    ("server_cpu_ms_per_redraw", "server CPU ms per redraw"),
    ("browser_cores", "browser CPU (cores)"),
    ("load_s", "all sessions loaded s"),
    ("load_average", "load avg (1 min)"),
]


def run(smoke: bool = False) -> dict[str, Any]:
    reason = browser_available()
    if reason:
        return skipped_section("visitors", TITLE, reason)
    from playwright.sync_api import sync_playwright

    started = time.perf_counter()
    caps = CAPS[:1] if smoke else CAPS
    sessions = 3 if smoke else SESSIONS
    seconds = 5.0 if smoke else 20.0
    baseline_seconds = 5.0 if smoke else 15.0
    # Seconds; further caps are skipped (and said so) once the benchmark has taken this long, so
    # `make bench` stays near 10 minutes on busy cores. BENCH_VISITORS_BUDGET=900 runs every cap.
    budget = float(os.environ.get("BENCH_VISITORS_BUDGET", "200"))
    skipped: list[int] = []
    rows: list[dict[str, Any]] = []
    with sync_playwright() as pw:
        browser = launch(pw)
        try:
            for i, cap in enumerate(caps):
                if rows and time.perf_counter() - started > budget:
                    skipped.append(cap)
                    continue
                rows += run_cap(
                    browser,
                    cap,
                    sessions,
                    seconds,
                    baseline_seconds=(baseline_seconds if i == 0 else None),
                )
        finally:
            browser.close()
    baseline = next(r for r in rows if r["group"].startswith("2 solo"))["aggregate_sps"]
    for r in rows:
        r["ratio"] = r["aggregate_sps"] / baseline if baseline else None
    many = [r for r in rows if not r["group"].startswith("2 solo")]
    best = max(many, key=lambda r: (r["worst_stall_s"] <= TARGETS["stall_s"], r["ratio"] or 0))
    verdicts = []
    for r in many:
        verdicts += [
            verdict(
                f"aggregate / 2 solo, cap {r['cap']}", r["ratio"], ">=", TARGETS["aggregate_ratio"]
            ),
            verdict(
                f"longest stall s, cap {r['cap']}", r["worst_stall_s"], "<=", TARGETS["stall_s"]
            ),
            verdict(
                f"server peak RSS MB, cap {r['cap']}", r["peak_rss_mb"], "<=", TARGETS["rss_mb"]
            ),
        ]
    per_session = []
    for r in rows:
        for i, s in enumerate(r["per_session"]):
            per_session.append({"cap": r["cap"], "group": r["group"], "session": i + 1, **s})
    notes = [
        "One Chromium, one context per session; each cap is a fresh server, and its sessions open "
        "together; on the first server two of them first train alone side by side (the baseline) "
        f"while the others sit idle. Measured over "
        f"{seconds:.0f} s ({baseline_seconds:.0f} s for the 2-session baseline) after a 3 s ramp-up. Steps/s per session come from the status line's step "
        "number; a stall is the longest gap between status-line changes.",
        f"Best cap here: {best['cap']} (aggregate {best['aggregate_sps']:.0f} steps/s, "
        f"{best['ratio']:.2f}x the 2-session baseline, longest stall {best['worst_stall_s']:.2f} s).",
        *(
            [
                f"Caps {', '.join(map(str, skipped))} skipped: the benchmark had used its {budget:.0f} s."
            ]
            if skipped
            else []
        ),
        "The browser runs on the same 2 cores as the server (see the CPU columns), and other jobs "
        "share them too (load average column): aggregate numbers are what the server got, not what it "
        "could get alone.",
    ]
    return section(
        "visitors",
        TITLE,
        COLUMNS,
        [{k: v for k, v in r.items() if k != "per_session"} for r in rows],
        verdicts,
        notes,
        extra={
            "per_session": per_session,
            "tables": [
                {
                    "title": "Per session",
                    "columns": [
                        ["cap", "cap"],
                        ["group", "group"],
                        ["session", "session"],
                        ["steps_per_s", "steps/s"],
                        ["redraws_per_s", "redraws/s"],
                        ["longest_stall_s", "longest stall s"],
                        ["waits", "waiting spells"],
                    ],
                    "rows": per_session,
                }
            ],
        },
        seconds=time.perf_counter() - started,
    )
