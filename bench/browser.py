"""Shared browser-benchmark machinery: a Streamlit server on a free port, Debian Chromium through
Playwright, and an in-page recorder that timestamps every redraw.

The recorder (injected before the page's own scripts) watches the DOM with a MutationObserver and
records, in the browser's clock (epoch milliseconds):
- steps: [time, N] each time the status line's "Step N / ..." changes;
- plots: the time of every Plotly `plotly_afterplot` event (any chart on the page);
- clicks: [time, label] of every button click (capture phase, so before Streamlit reacts);
- labels: [time, label] each time the primary (Train/Pause) button's label changes;
- waits: [start, end] spans during which the status line says it is waiting for a training slot.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from bench.common import ROOT

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking"]
APP = "playground/app.py"
TRAIN = re.compile(r"^Train$")
PAUSE = re.compile(r"^(Pause|Stop)$")

RECORDER = r"""
(() => {
  if (window.__bench) return;
  const now = () => performance.timeOrigin + performance.now();
  const rec = window.__bench = {steps: [], plots: [], clicks: [], labels: [], waits: [], charts: 0};
  const stepRe = /Step ([\d,]+) \//;
  const seen = new WeakSet();
  let statusEl = null, lastStep = null, lastLabel = null, waiting = false;
  function findStatus() {
    for (const el of document.querySelectorAll('[data-testid="stMarkdownContainer"]')) {
      if (stepRe.test(el.textContent)) return el;
    }
    return null;
  }
  function check() {
    const t = now();
    if (!statusEl || !statusEl.isConnected || !stepRe.test(statusEl.textContent)) statusEl = findStatus();
    if (statusEl) {
      const text = statusEl.textContent;
      const n = parseInt(text.match(stepRe)[1].replace(/,/g, ''), 10);
      if (n !== lastStep) { lastStep = n; rec.steps.push([t, n]); }
      const w = /waiting for a free training slot/i.test(text);
      if (w && !waiting) rec.waits.push([t, null]);
      if (!w && waiting) rec.waits[rec.waits.length - 1][1] = t;
      waiting = w;
    }
    // a live panel's start/stop button (static/controls.js), else Streamlit's own primary one
    const primary = document.querySelector('.pg-button.pg-primary')
      || document.querySelector('[data-testid="stBaseButton-primary"]');
    const label = primary ? primary.innerText.trim() : null;
    if (label !== lastLabel) { lastLabel = label; rec.labels.push([t, label]); }
    const plots = document.querySelectorAll('.js-plotly-plot');
    rec.charts = plots.length;
    for (const gd of plots) {
      if (!seen.has(gd) && typeof gd.on === 'function') {
        seen.add(gd);
        gd.on('plotly_afterplot', () => rec.plots.push(now()));
      }
    }
  }
  new MutationObserver(check).observe(document, {subtree: true, childList: true, characterData: true});
  document.addEventListener('click', (e) => {
    const b = e.target && e.target.closest ? e.target.closest('button') : null;
    rec.clicks.push([now(), b ? b.innerText.trim() : '']);
  }, true);
})();
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def browser_available() -> str | None:
    """None when the browser benchmarks can run, else the reason they can't."""
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} not found (make chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed"
    if not (ROOT / APP).exists():
        return f"{APP} does not exist yet"
    return None


class Server:
    """`streamlit run playground/app.py` on a free port, one torch/OMP thread, started and stopped
    by us (by its own pid only). The one way the benchmarks, the soak and the browser tests start
    the page. `log_path`: where its output goes (kept); default a temporary file removed by stop().
    """

    def __init__(
        self,
        env: dict[str, str] | None = None,
        log_path: Path | None = None,
        command: list[str] | None = None,
    ) -> None:
        # `command`: what starts the page, before the port and address flags; default
        # `streamlit run playground/app.py`.
        self.command = command or [streamlit_executable(), "run", APP]
        self.port = free_port()
        self.env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", **(env or {})}
        self.keep_log = log_path is not None
        # The server outlives this call; the file is closed (and a temporary one removed) in stop().
        if log_path is None:
            self.log = tempfile.NamedTemporaryFile(  # noqa: SIM115
                "w+", prefix="bench-streamlit-", suffix=".log", delete=False
            )
        else:
            self.log = log_path.open("w+")  # noqa: SIM115
        self.process: subprocess.Popen | None = None
        self.started = self.healthy = 0.0

    @property
    def log_path(self) -> Path:
        return Path(self.log.name)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def start(self, timeout: float = 120) -> Server:
        command = [
            *self.command,
            "--server.port",
            str(self.port),
            "--server.address",
            "127.0.0.1",
            "--server.headless",
            "true",
            "--browser.gatherUsageStats",
            "false",
        ]
        self.started = time.time()
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT
        )
        deadline = self.started + timeout
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"streamlit exited with {self.process.returncode}: {self.tail()}"
                )
            try:
                with urllib.request.urlopen(self.url + "_stcore/health", timeout=1) as response:
                    if response.read().strip() == b"ok":
                        self.healthy = time.time()
                        return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"streamlit not healthy after {timeout:.0f} s: {self.tail()}")

    def tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(Path(self.log.name).read_text().splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.log.close()
        if not self.keep_log:
            Path(self.log.name).unlink(missing_ok=True)

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def streamlit_executable() -> str:
    streamlit = Path(sys.executable).with_name("streamlit")
    return str(streamlit) if streamlit.exists() else "streamlit"


def launch(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def open_session(browser, url: str, timeout: float = 120):
    """Start loading `url` in a fresh context (= a fresh Streamlit session) with the recorder;
    returns (context, page, start time) without waiting for the app."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.add_init_script(RECORDER)
    page = context.new_page()
    start = time.time()
    page.goto(url, wait_until="commit", timeout=timeout * 1000)
    return context, page, start


def wait_ready(page, timeout: float = 180) -> None:
    """Until the status line and the Train button show (the first script run is done)."""
    page.get_by_text(re.compile(r"Step [\d,]+ /")).first.wait_for(timeout=timeout * 1000)
    page.get_by_test_id("stMain").get_by_role("button", name=TRAIN).wait_for(timeout=timeout * 1000)


def new_session(browser, url: str, timeout: float = 180):
    """A fresh session, loaded until ready. Returns (context, page, seconds from navigation)."""
    context, page, start = open_session(browser, url, timeout)
    wait_ready(page, timeout)
    return context, page, time.time() - start


def new_sessions(browser, url: str, count: int, timeout: float = 240):
    """`count` sessions loading at the same time (as visitors arriving together would)."""
    opened = [open_session(browser, url, timeout) for _ in range(count)]
    for _, page, _ in opened:
        wait_ready(page, timeout)
    return [(context, page, None) for context, page, _ in opened]


def record(page) -> dict[str, Any]:
    return page.evaluate("() => JSON.parse(JSON.stringify(window.__bench))")


def browser_now(page) -> float:
    return page.evaluate("() => performance.timeOrigin + performance.now()")


def click(page, name: re.Pattern, timeout: float = 60) -> None:
    """Click the button labelled `name` as a user would (a real mouse click), once it exists.
    force=True skips Playwright's wait for the element to stop moving: the page redraws 4 times a
    second while training, and on busy cores that wait alone took seconds."""
    # Scoped to the main area: Streamlit's own header shows a "Stop" button while a script runs.
    button = page.get_by_test_id("stMain").get_by_role("button", name=name)
    button.wait_for(timeout=timeout * 1000)
    button.click(timeout=timeout * 1000, force=True)


def last_click(rec: dict[str, Any], label: re.Pattern) -> float | None:
    times = [t for t, text in rec["clicks"] if label.match(text or "")]
    return times[-1] if times else None


def step_at(steps: list[list[float]], t: float) -> float | None:
    """The step number the page showed at browser time t (None before the first one)."""
    shown = None
    for when, n in steps:
        if when > t:
            break
        shown = n
    return shown


def window_stats(rec: dict[str, Any], start: float, end: float) -> dict[str, Any]:
    """Steps/s, redraws/s (status changes and Plotly afterplot events) and the longest gap between
    status changes, between browser times start and end (ms)."""
    seconds = (end - start) / 1000
    changes = [t for t, _ in rec["steps"] if start < t <= end]
    first, last = step_at(rec["steps"], start), step_at(rec["steps"], end)
    edges = [start, *changes, end]
    gaps = [b - a for a, b in zip(edges, edges[1:], strict=False)]
    plots = [t for t in rec["plots"] if start < t <= end]
    return {
        "seconds": seconds,
        "steps_per_s": (last - first) / seconds if first is not None and last is not None else None,
        "redraws_per_s": len(changes) / seconds,
        "afterplot_per_s": len(plots) / seconds,
        "charts": rec.get("charts", 0),
        "longest_stall_s": max(gaps) / 1000 if gaps else None,
        "waited": any(w[0] <= end and (w[1] is None or w[1] >= start) for w in rec["waits"]),
        "waits": len(rec["waits"]),
    }


def cpu_seconds(pids: list[int]) -> float:
    """utime + stime of these processes in seconds (from /proc/<pid>/stat)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            continue
    return total / tick


def browser_pids() -> list[int]:
    """Chromium processes started under this benchmark process (via Playwright's driver)."""
    from bench.common import descendants

    found = []
    for pid in descendants(os.getpid()):
        try:
            name = Path(f"/proc/{pid}/comm").read_text().strip()
        except OSError:
            continue
        if "chrom" in name:
            found.append(pid)
    return found
