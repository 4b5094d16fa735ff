"""Benchmark: the live view in a real browser, measured the way issue 12 states its goals.

For each setting of `server.enableWebsocketCompression` (off, then on) the benchmark starts a
fresh server the way `make run` does (`python -m playground` once that entry exists, else
`streamlit run playground/app.py`) and drives Debian Chromium through Playwright:
- first visit after the server start, then a later visit (a new browser context: empty cache):
  navigation -> the Train button and the first chart fully drawn, in the browser's clock; HTTP
  bytes and requests of the load (Chromium's encodedDataLength, until ready + 2 s) and the
  largest files;
- while the default run trains in the later visitor's session, a window on each of the Training,
  Memory and Gradients tabs:
  * visible share: 100 ms samples in which every chart of the tab is drawn (has traces), not
    hidden, and opaque (smallest ancestor opacity >= 0.9; Streamlit fades pending elements to
    0.33). A chart missing from the page counts as not drawn; the per-chart share is the measure
    of the team's smoke hook (only charts present count);
  * chart redraws per second per chart (Plotly `plotly_afterplot` events / charts on the tab);
  * status-line updates per second (changes of its step number);
  * websocket bytes per second: the messages the page received (CDP
    Network.webSocketFrameReceived, sizes after decompression) and what the server sent on the
    wire (tcp_info bytes_acked of the server's connections, from `ss`; compression included);
  * server CPU per tick with the training steps taken out: (server CPU - steps x CPU per step) /
    ticks, the CPU per step measured in this process on the same settings beforehand;
  and a screenshot of each tab at the end of its window (bench/out/liveview-<tab>.png).

    OMP_NUM_THREADS=1 python -m bench.run --only liveview
"""

from __future__ import annotations

import base64
import os
import re
import subprocess
import sys
import time
from typing import Any

from bench.browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    PAUSE,
    RECORDER,
    TRAIN,
    Server,
    browser_available,
    browser_pids,
    click,
    cpu_seconds,
    record,
    window_stats,
)
from bench.common import ROOT, descendants, median, section, skipped_section, verdict

TITLE = "Live view: charts on screen, redraw rate, bandwidth, first load"
QUERY = "?max_steps=100000"
TABS = ("Training", "Memory", "Gradients")
VIEWPORT = {"width": 1440, "height": 1800}  # tall enough for every chart of a tab
SHOTS = ROOT / "bench" / "out"  # screenshots (git-ignored)
SETTLE_SECONDS = 3.0  # after a tab switch, at least, before the window
WINDOW_SECONDS = 8.0
TARGETS = {
    "visible_share": (">=", 0.98),
    "chart_redraws_per_s": (">=", 5.0),
    "status_per_s": (">=", 5.0),
    "ws_kb_per_s": ("<=", 150.0),
    "first_load_mb": ("<=", 6.0),
    "cold_ready_s": ("<=", 4.0),
    "warm_ready_s": ("<=", 2.5),
}

# Every 100 ms for `ms`: for each Plotly chart in view (shadow roots too), is it drawn (has
# traces), not hidden, and opaque? One list of booleans per sample. The same test as the team's
# smoke hook (/work/shared/hooks/smoke_browser.py).
VISIBLE_JS = """(ms) => new Promise(done => {
  const all = (root, out) => { root.querySelectorAll('*').forEach(n => n.shadowRoot && all(n.shadowRoot, out));
    root.querySelectorAll('.js-plotly-plot').forEach(p => out.push(p)); return out; };
  const up = n => n.parentElement || (n.getRootNode && n.getRootNode().host) || null;
  const frames = [], t0 = performance.now();
  const id = setInterval(() => {
    frames.push(all(document, []).filter(p => { const r = p.getBoundingClientRect();
        return r.bottom > 0 && r.top < innerHeight && r.width > 0; }).map(p => {
      let op = 1, hidden = false;
      for (let n = p; n && n !== document.documentElement; n = up(n)) { if (!(n instanceof Element)) continue;
        const st = getComputedStyle(n); op = Math.min(op, parseFloat(st.opacity));
        if (st.display === 'none' || st.visibility === 'hidden') hidden = true; }
      return op >= 0.9 && !hidden && p.querySelectorAll('.trace, .hm, image, .gl-container').length > 0; }));
    if (performance.now() - t0 >= ms) { clearInterval(id); done(frames); }
  }, 100);
})"""

# First moments (performance.now(), ms since navigation) at which the Train button shows and at
# which a chart is drawn, checked at every DOM change.
FIRSTS = r"""
(() => {
  const firsts = window.__firsts = {train: null, chart: null};
  const charts = (root, out) => { root.querySelectorAll('*').forEach(n => n.shadowRoot && charts(n.shadowRoot, out));
    root.querySelectorAll('.js-plotly-plot').forEach(p => out.push(p)); return out; };
  const check = () => {
    const t = performance.now();
    if (firsts.train === null && [...document.querySelectorAll('[data-testid="stMain"] button')]
        .some(b => b.innerText.trim() === 'Train')) firsts.train = t;
    if (firsts.chart === null && charts(document, [])
        .some(p => p.querySelector('.trace, .hm, image, .gl-container'))) firsts.chart = t;
  };
  new MutationObserver(check).observe(document, {subtree: true, childList: true});
})();
"""


def log(message: str) -> None:
    print(f"[bench] liveview: {message}", file=sys.stderr, flush=True)


def start_command() -> list[str]:
    """How `make run` starts the page: the preloading entry module once it exists."""
    if (ROOT / "playground" / "__main__.py").exists():
        return [sys.executable, "-m", "playground"]
    return []  # Server's default: streamlit run playground/app.py


class Network:
    """Chromium's network log for one page (CDP): HTTP bytes per request, websocket messages."""

    def __init__(self, context, page) -> None:
        self.cdp = context.new_cdp_session(page)
        self.urls: dict[str, str] = {}
        self.sizes: dict[str, int] = {}
        self.ws_bytes = 0
        self.ws_messages = 0
        self.cdp.on("Network.responseReceived", self._response)
        self.cdp.on("Network.loadingFinished", self._finished)
        self.cdp.on("Network.webSocketFrameReceived", self._frame)
        self.cdp.send("Network.enable")

    def _response(self, event: dict) -> None:
        self.urls[event["requestId"]] = event["response"]["url"]

    def _finished(self, event: dict) -> None:
        self.sizes[event["requestId"]] = int(event.get("encodedDataLength", 0))

    def _frame(self, event: dict) -> None:
        response = event["response"]
        payload = response.get("payloadData", "")
        # Binary frames (Streamlit's protobuf messages) come base64-encoded.
        size = len(base64.b64decode(payload)) if response.get("opcode") == 2 else len(payload)
        self.ws_bytes += size
        self.ws_messages += 1

    def http_bytes(self) -> int:
        return sum(self.sizes.values())

    def largest(self, count: int = 5) -> list[tuple[str, int]]:
        named = [(self.urls.get(rid, rid), size) for rid, size in self.sizes.items()]
        named.sort(key=lambda pair: -pair[1])
        return [(url.rsplit("/", 1)[-1].split("?")[0] or url, size) for url, size in named[:count]]


def wire_bytes(port: int) -> int:
    """Bytes the server has sent and had acknowledged on its open TCP connections (`ss`)."""
    try:
        out = subprocess.run(
            ["ss", "-tinH", "state", "established", f"( sport = :{port} )"],
            capture_output=True,
            text=True,
            timeout=5,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return 0
    return sum(int(n) for n in re.findall(r"bytes_acked:(\d+)", out))


def step_cpu_seconds(query: str = QUERY, steps: int = 200) -> float:
    """CPU seconds per optimizer step of the settings the page trains, one torch thread."""
    import torch

    from core import Experiment, ExperimentConfig

    torch.set_num_threads(1)
    params = dict(pair.split("=", 1) for pair in query.lstrip("?").split("&") if pair)
    config, _ = ExperimentConfig.from_params(params)
    exp = Experiment(config)
    exp.step(20)  # warm-up
    started = time.process_time()
    exp.step(steps)
    return (time.process_time() - started) / steps


def visit(browser, url: str) -> tuple[Any, Any, Network, dict[str, Any]]:
    """Open `url` in a fresh context; wait for the Train button and a drawn chart. Returns the
    context, page, its network log and the first-load figures."""
    context = browser.new_context(viewport=VIEWPORT)
    context.add_init_script(RECORDER)
    context.add_init_script(FIRSTS)
    page = context.new_page()
    network = Network(context, page)
    page.goto(url, wait_until="commit", timeout=180_000)
    page.wait_for_function(
        "() => window.__firsts && window.__firsts.train !== null && window.__firsts.chart !== null",
        polling=50,
        timeout=180_000,
    )
    firsts = page.evaluate("() => window.__firsts")
    page.wait_for_timeout(2000)  # late chunks of the first load
    sizes = network.largest()
    return (
        context,
        page,
        network,
        {
            "train_s": firsts["train"] / 1000,
            "chart_s": firsts["chart"] / 1000,
            "ready_s": max(firsts["train"], firsts["chart"]) / 1000,
            "http_mb": network.http_bytes() / 1e6,
            "requests": len(network.sizes),
            "largest": ", ".join(f"{name} {size / 1e6:.2f} MB" for name, size in sizes),
        },
    )


DRAWN_JS = """() => [...document.querySelectorAll('.js-plotly-plot')].filter(p =>
  p.getBoundingClientRect().width > 0 && p.querySelector('.trace, .hm, image, .gl-container')).length"""


def settle(page, timeout: float = 30.0) -> None:
    """After a tab switch: at least SETTLE_SECONDS, and until the most charts seen drawn at once
    has not grown for 2 s (a busy browser can take longer than that to show a tab)."""
    started = time.time()
    most, grown = 0, started
    while time.time() - started < timeout:
        drawn = page.evaluate(DRAWN_JS)
        if drawn > most:
            most, grown = drawn, time.time()
        if most and time.time() - grown >= 2.0 and time.time() - started >= SETTLE_SECONDS:
            return
        page.wait_for_timeout(250)


def tab_window(page, network: Network, server: Server, step_cpu: float, seconds: float) -> dict:
    """Measure `seconds` of training on the open tab."""
    server_pids = [server.process.pid, *descendants(server.process.pid)]
    chrome = browser_pids()
    page.evaluate("1")  # deliver pending network events before reading the counters
    ws0, wire0 = network.ws_bytes, wire_bytes(server.port)
    cpu0, chrome0 = cpu_seconds(server_pids), cpu_seconds(chrome)
    start = page.evaluate("() => performance.timeOrigin + performance.now()")
    frames = page.evaluate(VISIBLE_JS, int(seconds * 1000))
    end = page.evaluate("() => performance.timeOrigin + performance.now()")
    ws1, wire1 = network.ws_bytes, wire_bytes(server.port)
    cpu1, chrome1 = cpu_seconds(server_pids), cpu_seconds(chrome)
    wall = (end - start) / 1000
    rec = record(page)
    stats = window_stats(rec, start, end)
    charts = max((len(f) for f in frames), default=0)
    ticks = stats["redraws_per_s"] * wall
    steps = (stats["steps_per_s"] or 0.0) * wall
    return {
        "charts": charts,
        "visible_share": sum(len(f) == charts and all(f) for f in frames) / max(len(frames), 1),
        "hook_share": sum(all(f) for f in frames if f) / max(sum(1 for f in frames if f), 1),
        "per_chart_share": sum(sum(f) for f in frames) / max(charts * len(frames), 1),
        "chart_redraws_per_s": stats["afterplot_per_s"] / max(charts, 1),
        "status_per_s": stats["redraws_per_s"],
        "steps_per_s": stats["steps_per_s"],
        "longest_stall_s": stats["longest_stall_s"],
        "ws_kb_per_s": (ws1 - ws0) / wall / 1000,
        "wire_kb_per_s": (wire1 - wire0) / wall / 1000,
        "server_cores": (cpu1 - cpu0) / wall,
        "server_ms_per_tick": 1000 * ((cpu1 - cpu0) - steps * step_cpu) / ticks if ticks else None,
        "browser_cores": (chrome1 - chrome0) / wall,
    }


def measure(compression: bool, step_cpu: float, seconds: float, tabs: tuple[str, ...]) -> dict:
    from playwright.sync_api import sync_playwright

    env = {"STREAMLIT_SERVER_ENABLE_WEBSOCKET_COMPRESSION": "true" if compression else "false"}
    out: dict[str, Any] = {"compression": compression}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        server = Server(env=env, command=start_command() or None)
        try:
            server.start(timeout=180)
            out["health_s"] = server.healthy - server.started
            context, _, _, cold = visit(browser, server.url + QUERY)
            context.close()
            out.update({f"cold_{k}": v for k, v in cold.items()})
            log(f"compression {compression}: first visit ready in {cold['ready_s']:.1f} s")
            context, page, network, warm = visit(browser, server.url + QUERY)
            out.update({f"warm_{k}": v for k, v in warm.items()})
            click(page, TRAIN)
            for tab in tabs:
                page.get_by_role("tab", name=tab, exact=True).click()
                settle(page)
                out[tab] = tab_window(page, network, server, step_cpu, seconds)
                log(f"compression {compression}: {tab} {out[tab]}")
                SHOTS.mkdir(parents=True, exist_ok=True)  # mid-training, every chart in view
                page.screenshot(path=str(SHOTS / f"liveview-{tab.lower()}.png"))
            click(page, PAUSE)
            context.close()
        finally:
            server.stop()
            browser.close()
    return out


ROWS = [
    ("visible_share", "charts all drawn and opaque (share of 100 ms samples)"),
    ("per_chart_share", "each chart drawn and opaque (share of chart-samples)"),
    ("hook_share", "all charts present drawn and opaque (smoke hook's measure)"),
    ("charts", "charts on the tab"),
    ("chart_redraws_per_s", "chart redraws per second, per chart (plotly_afterplot)"),
    ("status_per_s", "status-line updates per second"),
    ("steps_per_s", "training steps per second"),
    ("longest_stall_s", "longest gap between status updates (s)"),
    ("ws_kb_per_s", "websocket messages received, KB/s (decompressed)"),
    ("wire_kb_per_s", "server -> browser on the wire, KB/s"),
    ("server_cores", "server CPU while training (cores)"),
    ("server_ms_per_tick", "server CPU per tick, training steps excluded (ms)"),
    ("browser_cores", "browser CPU while training (cores)"),
]
LOAD_ROWS = [
    ("health_s", "server start -> health endpoint (s)"),
    ("cold_ready_s", "first visitor after start: navigation -> Train + first chart (s)"),
    ("cold_train_s", "first visitor: navigation -> Train button (s)"),
    ("warm_ready_s", "later visitor: navigation -> Train + first chart (s)"),
    ("warm_http_mb", "first load: HTTP bytes transferred (MB, empty cache)"),
    ("warm_requests", "first load: HTTP requests"),
    ("warm_largest", "first load: largest files"),
]


def _goal(key: str) -> str:
    if key not in TARGETS:
        return ""
    op, value = TARGETS[key]
    return f"{'≥' if op == '>=' else '≤'} {value:g}"


def run(smoke: bool = False) -> dict[str, Any]:
    reason = browser_available()
    if reason:
        return skipped_section("liveview", TITLE, reason)
    started = time.perf_counter()
    step_cpu = step_cpu_seconds()
    log(f"CPU per training step {1000 * step_cpu:.2f} ms")
    seconds = 3.0 if smoke else WINDOW_SECONDS
    settings = (False,) if smoke else (False, True)
    results = [measure(c, step_cpu, seconds, TABS) for c in settings]
    columns = [("metric", "measurement")]
    for result in results:
        name = f"compression {'on' if result['compression'] else 'off'}"
        columns += [(f"{name} {tab}", f"{tab} ({name})") for tab in TABS]
    columns.append(("target", "target"))
    rows = []
    for key, label in ROWS:
        row = {"metric": label, "target": _goal(key)}
        for result in results:
            name = f"compression {'on' if result['compression'] else 'off'}"
            for tab in TABS:
                row[f"{name} {tab}"] = result[tab].get(key)
        rows.append(row)
    load_columns = [("metric", "measurement")]
    load_columns += [
        (f"c{i}", f"compression {'on' if r['compression'] else 'off'}")
        for i, r in enumerate(results)
    ]
    load_columns.append(("target", "target"))
    load_rows = []
    for key, label in LOAD_ROWS:
        goal = _goal("first_load_mb" if key == "warm_http_mb" else key)
        row = {"metric": label, "target": goal}
        for i, result in enumerate(results):
            row[f"c{i}"] = result.get(key)
        load_rows.append(row)
    verdicts = []
    off = results[0]
    for key in ("visible_share", "chart_redraws_per_s", "status_per_s"):
        op, goal = TARGETS[key]
        worst = (min if op == ">=" else max)(off[tab][key] or 0.0 for tab in TABS)
        verdicts.append(verdict(f"{key} (worst tab)", worst, op, goal))
    best_ws = min(r[tab]["wire_kb_per_s"] for r in results for tab in TABS)
    verdicts.append(
        verdict(
            "wire KB/s per training visitor (worst tab)",
            max(results[-1][tab]["wire_kb_per_s"] for tab in TABS),
            "<=",
            TARGETS["ws_kb_per_s"][1],
            f"lowest tab {best_ws:.0f}",
        )
    )
    verdicts.append(verdict("first load MB", off["warm_http_mb"], "<=", 6.0))
    verdicts.append(verdict("first visitor ready s", off["cold_ready_s"], "<=", 4.0))
    verdicts.append(verdict("later visitor ready s", off["warm_ready_s"], "<=", 2.5))
    notes = [
        f"Start command: {' '.join(start_command()) or 'streamlit run playground/app.py'}; URL "
        f"{QUERY}; viewport {VIEWPORT['width']}x{VIEWPORT['height']}; windows of {seconds:g} s "
        f"after {SETTLE_SECONDS:g} s on each tab; CPU per training step {1000 * step_cpu:.2f} ms.",
        f"Load average when done: {', '.join(f'{x:.1f}' for x in os.getloadavg())} on "
        f"{os.cpu_count()} cores (other jobs share this machine).",
        "Server CPU per tick: median over tabs "
        + ", ".join(
            f"{'on' if r['compression'] else 'off'} "
            f"{median([r[t]['server_ms_per_tick'] for t in TABS]):.0f} ms"
            for r in results
        ),
    ]
    return section(
        "liveview",
        TITLE,
        columns,
        rows,
        verdicts,
        notes,
        extra={
            "raw": results,
            "tables": [{"title": "First load", "columns": load_columns, "rows": load_rows}],
        },
        seconds=time.perf_counter() - started,
    )


if __name__ == "__main__":  # python -m bench.liveview: print the section
    import json

    print(json.dumps(run(smoke="--smoke" in sys.argv), indent=1, default=str))
