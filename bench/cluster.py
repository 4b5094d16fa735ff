"""Benchmark 8: a classroom through nginx. Sticky replicas, a compressed first visit, failover.

`python -m bench.run --only cluster` starts `deploy.cluster.Cluster` (3 replicas on loopback
ports, nginx in front) and drives 6 visitors, each its own Chromium context, through nginx:

- first visit: bytes on the wire (CDP `Network.loadingFinished` encodedDataLength, headers
  included) for one fresh visitor through nginx and, for comparison, straight to a replica;
- stickiness: 3 visitors upload a CSV (sidebar uploader, task=csv), 3 download the Checkpoint
  and upload it again ("Take it home"). Every upload must succeed on the replica that holds the
  visitor's websocket; one upload replayed with another replica's cookie must get Streamlit's
  "400: Invalid session_id" (the failure stickiness prevents, so the check can tell);
- failover: all 6 train; the replica holding the most visitors is killed (SIGKILL). For each of
  its visitors: seconds until the browser's websocket is open again on a live replica, until the
  page is ready with the settings from its URL, and until it trains again (Train is clicked as
  soon as it shows). For the visitors on the other replicas: the longest gap between status-line
  changes in the 10 s after the kill against the same window before it;
- aggregate training steps/s of the 6 visitors on 3 replicas (before the kill) and on 1 replica
  (a second, fresh cluster). Every replica has PLAYGROUND_MAX_TRAINING=6, so no visitor ever
  waits for a training slot: the times are the failover's, and the two aggregates differ only in
  how the same 6 trainings are spread over processes;
- memory and CPU per replica: resident memory idle, with visitors, and CPU cores used while
  training, for sizing (docs/deploy.md).

The same harness (`open_visitor`, `upload_csv`, `checkpoint_round_trip`, `misrouted_upload`,
`kill_and_follow`) drives the lighter CI test, tests/deploy/test_cluster_browser.py.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.browser import (
    RECORDER,
    TRAIN,
    browser_available,
    click,
    cpu_seconds,
    launch,
    record,
    wait_ready,
    window_stats,
)
from bench.common import ROOT, descendants, median, rss_mb, section, skipped_section, verdict

ARTIFACTS = ROOT / "test-artifacts"
TITLE = "8. A classroom through nginx: sticky replicas, first visit, failover"
TARGETS = {"first_visit_mb": 3.0, "moved_training_s": 10.0, "survivor_extra_stall_s": 1.0}
SIDEBAR_FILE = "[data-testid='stSidebar'] input[type='file']"
MAIN_FILE = "[data-testid='stMain'] input[type='file']"
SIDEBAR_CHOICES = "[data-testid='stSidebar'] [data-testid='stSelectbox'] input"
CELL_TITLES = {"rnn": "Vanilla RNN (tanh)", "lstm": "LSTM", "gru": "GRU"}
# Small models: this measures routing, not training. Each visitor's settings differ, so the ones
# restored after a failover can be told apart.
VISITORS = [
    {"cell": "lstm", "task": "csv", "hidden": "12", "seq_len": "20"},
    {"cell": "gru", "task": "csv", "hidden": "14", "seq_len": "20"},
    {"cell": "rnn", "task": "csv", "hidden": "18", "seq_len": "20"},
    {"cell": "gru", "task": "sine", "hidden": "16", "seq_len": "20"},
    {"cell": "lstm", "task": "sine", "hidden": "20", "seq_len": "20"},
    {"cell": "rnn", "task": "sine", "hidden": "22", "seq_len": "20"},
]
COMMON = {"max_steps": "100000"}
ENV = {"PLAYGROUND_MAX_TRAINING": "6"}  # never a wait for a slot (see the docstring)

# Every websocket the page opens, with open and close times (browser epoch ms).
WS_RECORDER = r"""
(() => {
  if (window.__ws) return;
  const now = () => performance.timeOrigin + performance.now();
  const log = window.__ws = [];
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      const entry = {url: String(args[0]), created: now(), opened: null, closed: null};
      log.push(entry);
      this.addEventListener('open', () => { entry.opened = now(); });
      this.addEventListener('close', () => {
        entry.closed = now();
        // What the visitor sees a second into the outage: Streamlit's connection status lives
        // in its status widget (the app's CSS may hide that widget).
        setTimeout(() => {
          const status = document.querySelector('[data-testid="stConnectionStatus"]');
          entry.shown = {
            status: status ? status.innerText.trim().slice(0, 60) : null,
            visible: !!(status && status.offsetParent !== null),
            dialog: (document.querySelector('[role="dialog"]') || {}).innerText || null,
          };
        }, 1000);
      });
    }
  };
})();
"""


def log(message: str) -> None:
    print(f"[bench] cluster: {message}", file=sys.stderr, flush=True)


def query(params: dict[str, str]) -> str:
    return "?" + urllib.parse.urlencode({**params, **COMMON})


# ---- one visitor -------------------------------------------------------------------------------
@dataclass
class Visitor:
    """One browser context through nginx (one Streamlit session at a time), with what the
    network saw: the replica behind each websocket handshake and each upload's answer."""

    name: str
    params: dict[str, str]
    context: Any
    page: Any
    cdp: Any
    handshakes: dict[str, dict[str, Any]] = field(default_factory=dict)
    uploads: list[dict[str, Any]] = field(default_factory=list)
    url_before: str | None = None  # page.url just before a replica was killed
    ws_bytes: int = 0  # websocket payload received so far (server -> browser)

    def replicas(self) -> list[str]:
        """The replica behind each websocket handshake, oldest first."""
        done = sorted(
            (h for h in self.handshakes.values() if "replica" in h), key=lambda h: h["wall"]
        )
        return [h["replica"] for h in done]

    def replica(self) -> str | None:
        seen = self.replicas()
        return seen[-1] if seen else None

    def cookie(self, name: str) -> str | None:
        return next((c["value"] for c in self.context.cookies() if c["name"] == name), None)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.context.close()


def _header(headers: dict[str, str], name: str) -> str | None:
    return next((v for k, v in headers.items() if k.lower() == name.lower()), None)


def frame_bytes(event: dict) -> int:
    """Payload bytes of a CDP webSocketFrameReceived event (binary frames come base64-encoded;
    Streamlit's are binary protobuf)."""
    data = event["response"].get("payloadData", "")
    return (
        len(data) * 3 // 4 - data.count("=") if event["response"].get("opcode") == 2 else len(data)
    )


def open_visitor(browser, base_url: str, name: str, params: dict[str, str]) -> Visitor:
    """A fresh context with the recorders, loading base_url + the visitor's settings."""
    context = browser.new_context(viewport={"width": 1400, "height": 1100}, accept_downloads=True)
    context.add_init_script(RECORDER)
    context.add_init_script(WS_RECORDER)
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    visitor = Visitor(name, params, context, page, cdp)

    def will_send(event: dict) -> None:
        visitor.handshakes.setdefault(event["requestId"], {})["wall"] = event["wallTime"]

    def answered(event: dict) -> None:
        replica = _header(event["response"].get("headers", {}), "X-Playground-Replica")
        visitor.handshakes.setdefault(event["requestId"], {"wall": time.time()})
        visitor.handshakes[event["requestId"]]["replica"] = replica or "?"

    def response(resp) -> None:
        if "/_stcore/upload_file/" in resp.url and resp.request.method == "PUT":
            visitor.uploads.append(
                {
                    "url": resp.url,
                    "status": resp.status,
                    "replica": resp.headers.get("x-playground-replica"),
                    "body": resp.text()[:200] if resp.status >= 400 else "",
                }
            )

    def frame(event: dict) -> None:
        visitor.ws_bytes += frame_bytes(event)

    cdp.on("Network.webSocketFrameReceived", frame)
    cdp.on("Network.webSocketWillSendHandshakeRequest", will_send)
    cdp.on("Network.webSocketHandshakeResponseReceived", answered)
    cdp.send("Network.enable")
    page.on("response", response)
    page.goto(base_url + query(params), wait_until="commit", timeout=120_000)
    return visitor


def open_visitors(browser, base_url: str, count: int, timeout: float = 240) -> list[Visitor]:
    """`count` visitors arriving together; returns once every page is ready."""
    visitors = [
        open_visitor(browser, base_url, f"v{i + 1}", VISITORS[i % len(VISITORS)])
        for i in range(count)
    ]
    for visitor in visitors:
        wait_ready(visitor.page, timeout)
    return visitors


def settings_shown(visitor: Visitor) -> dict[str, Any]:
    """Whether the page shows the visitor's settings: its URL query as before the kill (the app
    writes its settings back into the URL after every run, so a session that ignored the URL
    would change it) and its cell in the sidebar."""
    page = visitor.page
    before = urllib.parse.parse_qs(urllib.parse.urlparse(visitor.url_before or "").query)
    now = urllib.parse.parse_qs(urllib.parse.urlparse(page.url).query)
    values = page.locator(SIDEBAR_CHOICES).evaluate_all("inputs => inputs.map(i => i.value)")
    cell = CELL_TITLES.get(visitor.params["cell"], visitor.params["cell"])
    return {"url_matches": bool(before) and now == before, "sidebar_cell": cell in values}


# ---- uploads -----------------------------------------------------------------------------------
def write_csv(folder: Path) -> Path:
    path = folder / "classroom.csv"
    rows = "\n".join(f"{i},{(i * 7) % 13 / 4:.2f}" for i in range(300))
    path.write_text(f"hour,level\n{rows}\n")
    return path


def upload_evidence(visitor: Visitor) -> dict[str, Any]:
    """What a visitor's page showed when an upload's answer did not come: each upload's HTTP
    answer, the uploaders' file lists, every message box, whether a script run was still going,
    and the websockets (so a failure in CI says where the upload stopped)."""
    page = visitor.page

    def texts(selector: str) -> list[str]:
        with contextlib.suppress(Exception):
            return page.locator(selector).evaluate_all("els => els.map(e => e.innerText)")
        return ["(could not read)"]

    return {
        "visitor": visitor.name,
        "replica": visitor.replica(),
        "uploads": visitor.uploads,
        "uploaders": texts("[data-testid='stFileUploader']"),
        "alerts": texts("[data-testid='stAlert'], [data-testid='stException']"),
        "running": texts("[data-testid='stStatusWidget']"),
        "websockets": visitor.replicas(),
    }


def wait_for_answer(visitor: Visitor, text: str, timeout: float) -> None:
    """Wait for `text` after an upload; on a timeout fail with the page's evidence, saved beside
    a screenshot in test-artifacts/."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        visitor.page.get_by_text(text).first.wait_for(timeout=timeout * 1000)
    except PlaywrightTimeout:
        ARTIFACTS.mkdir(exist_ok=True)
        with contextlib.suppress(Exception):
            visitor.page.screenshot(path=str(ARTIFACTS / f"upload-{visitor.name}.png"))
        evidence = json.dumps(upload_evidence(visitor), default=str)[:3000]
        raise AssertionError(f"no {text!r} within {timeout:.0f} s: {evidence}") from None


def upload_csv(visitor: Visitor, path: Path, timeout: float = 60) -> None:
    """The sidebar's CSV uploader (task=csv): wait until the page says it uses the file."""
    visitor.page.locator(SIDEBAR_FILE).set_input_files(str(path))
    wait_for_answer(visitor, f"Using {path.name}", timeout)


def checkpoint_round_trip(visitor: Visitor, folder: Path, timeout: float = 60) -> Path:
    """Step 10, download the page's Checkpoint (.pt), upload it again under "Take it home";
    wait until the page says it loaded it. Returns the downloaded file."""
    page = visitor.page
    click(page, re.compile(r"^Step 10$"), timeout)
    page.get_by_text(re.compile(r"Step 1\d /")).first.wait_for(timeout=timeout * 1000)
    page.get_by_text("Take it home: checkpoint, script, history").click()
    button = page.get_by_role("button", name="Checkpoint (.pt)", exact=True)
    button.wait_for(timeout=timeout * 1000)
    with page.expect_download(timeout=timeout * 1000) as download:
        button.click()
    path = folder / f"{visitor.name}-{download.value.suggested_filename}"
    download.value.save_as(path)
    page.locator(MAIN_FILE).set_input_files(str(path))
    wait_for_answer(visitor, f"Loaded {path.name}", timeout)
    return path


def misrouted_upload(visitor: Visitor, base_url: str, replica: str) -> tuple[int, str]:
    """Replay the visitor's last upload URL with a cookie that routes it to `replica` (the XSRF
    token is the visitor's own): what a load balancer without stickiness would do."""
    upload = visitor.uploads[-1]
    xsrf = visitor.cookie("_streamlit_xsrf") or ""
    path = urllib.parse.urlparse(upload["url"]).path
    boundary = "classroomboundary"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="x.csv"\r\n'
        f"Content-Type: text/csv\r\n\r\nhour,level\n1,2\n\r\n--{boundary}--\r\n"
    ).encode()
    request = urllib.request.Request(
        base_url.rstrip("/") + path,
        data=body,
        method="PUT",
        headers={
            "Cookie": f"_streamlit_xsrf={xsrf}; rnnpg_replica={replica}",
            "X-Xsrftoken": xsrf,
            "Content-Type": f"multipart/form-data; boundary={boundary}",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read(200).decode(errors="replace")
    except urllib.error.HTTPError as error:
        return error.code, error.read(300).decode(errors="replace")


# ---- first visit -------------------------------------------------------------------------------
def first_visit(browser, url: str, settle: float = 3.0) -> dict[str, Any]:
    """Bytes on the wire for one fresh visitor: HTTP (headers included) and websocket payloads."""
    context = browser.new_context(viewport={"width": 1400, "height": 1100})
    try:
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        finished: dict[str, int] = {}
        encodings: dict[str, str] = {}
        frames = [0]

        def on_response(event: dict) -> None:
            encodings[event["requestId"]] = (
                _header(event["response"].get("headers", {}), "Content-Encoding") or "none"
            )

        def on_frame(event: dict) -> None:
            frames[0] += frame_bytes(event)

        cdp.on("Network.responseReceived", on_response)
        cdp.on(
            "Network.loadingFinished",
            lambda e: finished.__setitem__(e["requestId"], e["encodedDataLength"]),
        )
        cdp.on("Network.webSocketFrameReceived", on_frame)
        cdp.send("Network.enable")
        started = time.time()
        page.goto(url, wait_until="commit", timeout=120_000)
        wait_ready(page, 180)
        ready = time.time() - started
        page.wait_for_timeout(settle * 1000)  # lazy chunks (charts) arrive after the status line
        compressed = sum(n for r, n in finished.items() if encodings.get(r, "none") != "none")
        return {
            "http_mb": sum(finished.values()) / 1e6,
            "requests": len(finished),
            "compressed_mb": compressed / 1e6,
            "websocket_mb": frames[0] / 1e6,
            "ready_s": ready,
        }
    finally:
        context.close()


def nginx_cpu(cluster, browser) -> tuple[dict[str, Any], float]:
    """One first visit through nginx, and the CPU seconds nginx (all its processes) spent."""
    pids = [cluster.nginx.pid, *descendants(cluster.nginx.pid)]
    before = cpu_seconds(pids)
    visit = first_visit(browser, cluster.url)
    return visit, cpu_seconds(pids) - before


# ---- training windows --------------------------------------------------------------------------
def replica_pids(cluster) -> dict[str, list[int]]:
    return {
        r.name: [r.process.pid, *descendants(r.process.pid)] for r in cluster.members if r.alive()
    }


def train_all(visitors: list[Visitor]) -> None:
    for visitor in visitors:
        click(visitor.page, TRAIN)


def measure_window(cluster, visitors: list[Visitor], seconds: float) -> dict[str, Any]:
    """Steps/s per visitor and CPU cores per replica over the next `seconds`."""
    pids = replica_pids(cluster)
    cpu0 = {name: cpu_seconds(p) for name, p in pids.items()}
    visitors[0].page.evaluate("1")  # deliver the CDP events so far
    ws0 = sum(v.ws_bytes for v in visitors)
    start = time.time() * 1000
    time.sleep(seconds)
    end = time.time() * 1000
    cpu1 = {name: cpu_seconds(p) for name, p in pids.items()}
    visitors[0].page.evaluate("1")
    ws1 = sum(v.ws_bytes for v in visitors)
    stats = [window_stats(record(v.page), start, end) for v in visitors]
    speeds = [s["steps_per_s"] or 0.0 for s in stats]
    wall = (end - start) / 1000
    return {
        "aggregate_sps": sum(speeds),
        "min_sps": min(speeds),
        "worst_stall_s": max(s["longest_stall_s"] or 0.0 for s in stats),
        "replica_cores": {n: (cpu1[n] - cpu0[n]) / wall for n in cpu0},
        "rss_mb": {r.name: rss_mb(r.process.pid) for r in cluster.members if r.alive()},
        "ws_kb_per_s_per_visitor": (ws1 - ws0) / 1000 / ((end - start) / 1000) / len(visitors),
        "start": start,
        "end": end,
    }


def gaps(rec: dict[str, Any], start: float, end: float) -> list[float]:
    """Seconds between status-line changes in [start, end] (browser ms), the window's edges
    included: a page that never changed in it shows one gap as long as the window."""
    times = [start, *(t for t, _ in rec["steps"] if start < t < end), end]
    return [(b - a) / 1000 for a, b in zip(times, times[1:], strict=False)]


# ---- failover ----------------------------------------------------------------------------------
def pick_victim(visitors: list[Visitor]) -> str:
    """The replica holding the most visitors (first by name on a tie)."""
    counts: dict[str, int] = {}
    for v in visitors:
        counts[v.replica()] = counts.get(v.replica(), 0) + 1
    return max(sorted(counts), key=lambda name: counts[name])


def shown_since(changes: list[list[Any]], since: float, value: Any) -> list[float]:
    """Times from `since` on at which the page showed `value`, from the recorder's list of
    changes; `since` itself when the value shown then still holds. A visitor killed at step 0
    sees "Step 0" again on its new replica, which is no change for the recorder to note."""
    later = [(t, shown) for t, shown in changes if t >= since]
    if not later:  # nothing changed since: the last change is what the page shows
        return [since] if changes and changes[-1][1] == value else []
    return [t for t, shown in later if shown == value]


def kill_and_follow(
    cluster,
    visitors: list[Visitor],
    victim: str,
    timeout: float = 60,
    train: bool = True,
    snapshot: Path | None = None,
) -> dict[str, Any]:
    """SIGKILL replica `victim`; follow its visitors until each has a new websocket on a live
    replica, a ready page, and (with `train`) steps counting again after a Train click.
    Times are seconds after the kill; None when it did not happen within `timeout`.
    `snapshot`: a screenshot of the first moved visitor while it is disconnected."""
    moved = [v for v in visitors if v.replica() == victim]
    for v in visitors:
        v.url_before = v.page.url
    killed_at = time.time() * 1000
    cluster.replica(victim).kill()
    follow = {
        v.name: {"closed": None, "reopened": None, "ready": None, "training": None} for v in moved
    }
    clicked: dict[str, float] = {}
    deadline = time.time() + timeout
    while time.time() < deadline and any(
        f["training" if train else "ready"] is None for f in follow.values()
    ):
        for v in moved:
            f = follow[v.name]
            if f["training" if train else "ready"] is not None:
                continue
            sockets = v.page.evaluate("() => window.__ws")
            closes = [s["closed"] for s in sockets if s["closed"] and s["closed"] >= killed_at]
            opens = [s["opened"] for s in sockets if s["opened"] and s["created"] >= killed_at]
            f["closed"] = f["closed"] or (min(closes) if closes else None)
            f["reopened"] = f["reopened"] or (min(opens) if opens else None)
            if f["reopened"] is None:
                if snapshot is not None and f["closed"] is not None:
                    with contextlib.suppress(Exception):
                        v.page.screenshot(path=str(snapshot))
                    snapshot = None
                continue
            rec = record(v.page)
            if f["ready"] is None:
                fresh = shown_since(rec["steps"], f["reopened"], 0)
                labels = shown_since(rec["labels"], f["reopened"], "Train")
                if fresh and labels:
                    f["ready"] = max(fresh[0], labels[0])
            if f["ready"] is not None and train:
                if v.name not in clicked:
                    with contextlib.suppress(Exception):
                        click(v.page, TRAIN, timeout=10)
                        clicked[v.name] = time.time() * 1000
                else:
                    moving = [t for t, n in rec["steps"] if t >= clicked[v.name] and n > 0]
                    if moving:
                        f["training"] = moving[0]
                    elif time.time() * 1000 - clicked[v.name] > 5000:
                        del clicked[v.name]  # a click lost in a rerun: click again
        time.sleep(0.2)
    for v in moved:
        sockets = v.page.evaluate("() => window.__ws")
        shown = [s["shown"] for s in sockets if s.get("shown") and s["closed"] >= killed_at]
        follow[v.name]["shown"] = shown[0] if shown else None
    to_s = {
        name: {
            **{k: (t - killed_at) / 1000 if t else None for k, t in f.items() if k != "shown"},
            "shown": f["shown"],
        }
        for name, f in follow.items()
    }
    return {"killed_at": killed_at, "victim": victim, "moved": moved, "times": to_s}


def upload_all(visitors: list[Visitor], folder: Path) -> None:
    """CSV visitors upload a CSV; the others download their checkpoint and upload it again."""
    csv_path = write_csv(folder)
    for v in visitors:
        if v.params["task"] == "csv":
            upload_csv(v, csv_path)
        else:
            checkpoint_round_trip(v, folder)


def survivor_rows(visitors: list[Visitor], failover: dict, window: float) -> list[dict]:
    """Gaps between status-line changes of the visitors not moved, `window` s before and after."""
    killed_at = failover["killed_at"]
    rows = []
    for v in visitors:
        if v in failover["moved"]:
            continue
        rec = record(v.page)
        normal = gaps(rec, killed_at - window * 1000, killed_at)
        after = gaps(rec, killed_at, killed_at + window * 1000)
        rows.append(
            {
                "visitor": v.name,
                "replica": v.replica(),
                "median_gap_s": median(normal[1:-1]),
                "longest_before_s": max(normal),
                "longest_after_s": max(after),
                "changes_after": len(after) - 1,
            }
        )
    return rows


def visitor_row(v: Visitor) -> dict[str, Any]:
    return {
        "visitor": v.name,
        "settings": " ".join(f"{k}={val}" for k, val in v.params.items()),
        "replicas": " -> ".join(v.replicas()),
        "handshakes": len(v.replicas()),
        "uploads": len(v.uploads),
        "upload_statuses": ", ".join(str(u["status"]) for u in v.uploads),
        "upload_replicas_match": all(u["replica"] == v.replicas()[0] for u in v.uploads),
        **settings_shown(v),
    }


# ---- memory a replica holds per model at the size limit ----------------------------------------
HELD_MODELS = 4


def held_memory_child() -> dict[str, Any]:
    """In a fresh process: build, train 5 steps and probe HELD_MODELS experiments of the widest
    config the budget allows (LSTM 512 x 3), keeping them all, as a replica keeps its visitors'
    runs; resident MB after each (after gc and malloc_trim, so transient peaks don't count)."""
    import ctypes
    import gc

    import torch

    from bench.memory import edge
    from core import Experiment, ExperimentConfig

    torch.set_num_threads(1)
    libc = ctypes.CDLL("libc.so.6")

    def resident() -> float:
        gc.collect()
        libc.malloc_trim(0)
        return rss_mb(os.getpid(), children=False)

    spec = edge("lstm", 512, layers=3, batch=1)
    base, held, after = resident(), [], []
    for _ in range(HELD_MODELS):
        exp = Experiment(ExperimentConfig(**spec, val_every=1000))
        exp.step(5)
        held.append((exp, exp.probe(jacobian=False)))
        after.append(resident() - base)
    return {
        "config": spec,
        "held_mb": after,
        "marginal_mb": (after[-1] - after[0]) / (HELD_MODELS - 1),
    }


def held_memory() -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-m", "bench.cluster", "--held"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    if result.returncode != 0:
        raise RuntimeError(result.stderr[-2000:])
    return json.loads(result.stdout.strip().splitlines()[-1])


# ---- the benchmark -----------------------------------------------------------------------------
def classroom_phase(browser, replicas: int, folder: Path, smoke: bool) -> dict[str, Any]:
    """First visit, 6 visitors with uploads, training window, failover, on one fresh cluster."""
    from deploy.cluster import Cluster

    out: dict[str, Any] = {}
    count = 3 if smoke else len(VISITORS)
    window = 5.0 if smoke else 10.0
    ARTIFACTS.mkdir(exist_ok=True)
    with Cluster(replicas, env=ENV) as cluster:
        idle = {r.name: rss_mb(r.process.pid) for r in cluster.members}
        log(f"{replicas} replicas and nginx up at {cluster.url}")
        out["first_visit"], out["nginx_cpu_cold_s"] = nginx_cpu(cluster, browser)
        _, out["nginx_cpu_warm_s"] = nginx_cpu(cluster, browser)
        out["first_visit_direct"] = first_visit(browser, cluster.members[0].url)
        log(f"first visit: {out['first_visit']}, direct: {out['first_visit_direct']}")
        began = time.time()
        visitors = open_visitors(browser, cluster.url, count)
        out["load_s"] = time.time() - began
        try:
            upload_all(visitors, folder)
            log(f"{count} visitors loaded in {out['load_s']:.1f} s, uploads done")
            with_visitors = {r.name: rss_mb(r.process.pid) for r in cluster.members}
            stuck = next(v for v in visitors if v.uploads)
            other = next(r.name for r in cluster.members if r.name != stuck.replica())
            out["misrouted"] = misrouted_upload(stuck, cluster.url, other)
            train_all(visitors)
            time.sleep(3.0)  # ramp-up
            out["before"] = measure_window(cluster, visitors, window)
            victim = pick_victim(visitors)
            failover = kill_and_follow(
                cluster, visitors, victim, snapshot=ARTIFACTS / "cluster-reconnect.png"
            )
            time.sleep(max(0.0, failover["killed_at"] / 1000 + window - time.time()))
            out["survivors"] = survivor_rows(visitors, failover, window)
            out["failover"] = failover
            out["visitors"] = [visitor_row(v) for v in visitors]
            out["memory"] = {"idle": idle, "with_visitors": with_visitors}
            out["victim"] = victim
        finally:
            for v in visitors:
                v.close()
    return out


def aggregate_phase(browser, replicas: int, smoke: bool) -> dict[str, Any]:
    """The same visitors on `replicas` replicas: one arrives first (the replica's memory with
    PyTorch loaded and one session), then the rest; all train."""
    from deploy.cluster import Cluster

    count = 3 if smoke else len(VISITORS)
    with Cluster(replicas, env=ENV) as cluster:
        visitors = open_visitors(browser, cluster.url, 1)
        try:
            time.sleep(2.0)
            first = sum(rss_mb(r.process.pid) for r in cluster.members)
            visitors += [
                open_visitor(browser, cluster.url, f"v{i + 1}", VISITORS[i])
                for i in range(1, count)
            ]
            for v in visitors:
                wait_ready(v.page, 240)
            train_all(visitors)
            time.sleep(3.0)
            window = measure_window(cluster, visitors, 5.0 if smoke else 15.0)
            total = sum(window["rss_mb"].values())
            return {
                **window,
                "rss_one_visitor_mb": first,
                "per_visitor_mb": (total - first) / (count - 1),
            }
        finally:
            for v in visitors:
                v.close()


def run(smoke: bool = False) -> dict[str, Any]:
    reason = browser_available()
    if reason:
        return skipped_section("cluster", TITLE, reason)
    from deploy.cluster import nginx_binary

    if nginx_binary() is None:
        return skipped_section("cluster", TITLE, "nginx is not installed (apt-get install nginx)")
    from playwright.sync_api import sync_playwright

    started = time.perf_counter()
    replicas = 2 if smoke else 3
    with tempfile.TemporaryDirectory(prefix="bench-cluster-") as tmp, sync_playwright() as pw:
        browser = launch(pw)
        try:
            main = classroom_phase(browser, replicas, Path(tmp), smoke)
            single = aggregate_phase(browser, 1, smoke)
        finally:
            browser.close()
    main["held"] = None if smoke else held_memory()
    return report(main, single, replicas, smoke, time.perf_counter() - started)


def report(main, single, replicas: int, smoke: bool, seconds: float) -> dict[str, Any]:
    visit, direct = main["first_visit"], main["first_visit_direct"]
    times = main["failover"]["times"]
    moved_training = [t["training"] for t in times.values()]
    worst_moved = max((t for t in moved_training if t is not None), default=None)
    if any(t is None for t in moved_training):
        worst_moved = None
    extra = [
        s["longest_after_s"] - s["longest_before_s"]
        for s in main["survivors"]
        if s["longest_after_s"] is not None and s["longest_before_s"] is not None
    ]
    worst_extra = max(extra) if extra else None
    multi = main["before"]
    rows = [
        {"measure": "first visit through nginx, MB on the wire", "value": visit["http_mb"]},
        {"measure": "first visit straight to a replica, MB", "value": direct["http_mb"]},
        {"measure": "first visit requests", "value": visit["requests"]},
        {
            "measure": "nginx CPU s per first visit: cold cache (compresses) / warm",
            "value": f"{main['nginx_cpu_cold_s']:.2f} / {main['nginx_cpu_warm_s']:.3f}",
        },
        {
            "measure": "first visit websocket payload MB (either way)",
            "value": visit["websocket_mb"],
        },
        {"measure": "first visit ready s (through nginx, cold cache)", "value": visit["ready_s"]},
        {"measure": f"{len(main['visitors'])} visitors loaded together s", "value": main["load_s"]},
        {
            "measure": "upload replayed with another replica's cookie: status",
            "value": main["misrouted"][0],
        },
        {"measure": "killed replica", "value": main["victim"]},
        {"measure": "moved visitors", "value": len(times)},
        {"measure": "moved: worst s until trains again", "value": worst_moved},
        {"measure": "survivors: worst extra stall s", "value": worst_extra},
        {
            "measure": f"aggregate steps/s, {len(main['visitors'])} visitors on {replicas} replicas",
            "value": multi["aggregate_sps"],
        },
        {
            "measure": f"aggregate steps/s, {len(main['visitors'])} visitors on 1 replica",
            "value": single["aggregate_sps"],
        },
        {
            "measure": f"replica CPU cores while training ({replicas} replicas, each)",
            "value": ", ".join(f"{n} {c:.2f}" for n, c in sorted(multi["replica_cores"].items())),
        },
        {
            "measure": "replica CPU cores while training (1 replica)",
            "value": ", ".join(f"{c:.2f}" for c in single["replica_cores"].values()),
        },
        {
            "measure": "replica RSS MB: idle / with visitors / training",
            "value": "; ".join(
                f"{n} {main['memory']['idle'][n]:.0f} / {main['memory']['with_visitors'][n]:.0f}"
                f" / {multi['rss_mb'].get(n, float('nan')):.0f}"
                for n in sorted(main["memory"]["idle"])
            ),
        },
        {
            "measure": "websocket kB/s per training visitor (server to browser)",
            "value": multi["ws_kb_per_s_per_visitor"],
        },
        {
            "measure": "1 replica RSS MB: one visitor / all visitors training",
            "value": f"{single['rss_one_visitor_mb']:.0f} / {sum(single['rss_mb'].values()):.0f}",
        },
        {
            "measure": "RSS MB per further visitor (these small models)",
            "value": single["per_visitor_mb"],
        },
        {
            "measure": f"resident MB held per run at the size limit (LSTM 512 x 3, {HELD_MODELS} kept"
            "; first, then each further)",
            "value": (
                f"{main['held']['held_mb'][0]:.0f}, {main['held']['marginal_mb']:.0f}"
                if main.get("held")
                else None
            ),
        },
    ]
    moved_rows = [
        {
            "visitor": name,
            **t,
            "shown": (
                "nothing (no dialog; status widget hidden)"
                if not t["shown"] or not (t["shown"]["visible"] or t["shown"]["dialog"])
                else f"{t['shown']['status'] or ''} {t['shown']['dialog'] or ''}".strip()
            ),
            "status_text": (t["shown"] or {}).get("status"),
        }
        for name, t in times.items()
    ]
    verdicts = [
        verdict("first visit MB through nginx", visit["http_mb"], "<=", TARGETS["first_visit_mb"]),
        verdict("moved visitor trains again s", worst_moved, "<=", TARGETS["moved_training_s"]),
        verdict(
            "survivors' extra stall s",
            worst_extra,
            "<=",
            TARGETS["survivor_extra_stall_s"],
            "longest gap in the 10 s after the kill minus the longest in the 10 s before",
        ),
    ]
    statuses = [v["upload_statuses"] for v in main["visitors"]]
    notes = [
        f"{replicas} replicas (PLAYGROUND_MAX_TRAINING=6 each: nobody waits for a slot) behind deploy/cluster.py's nginx, "
        "all on 127.0.0.1; one Chromium, one context per visitor, on the same 2 cores.",
        "Uploads per visitor (HTTP status): " + "; ".join(statuses) + ". Every upload answered by "
        "the replica holding the visitor's websocket: "
        + ("yes" if all(v["upload_replicas_match"] for v in main["visitors"]) else "**no**")
        + f". The replayed, misrouted upload got {main['misrouted'][0]}: "
        + main["misrouted"][1][:80].replace("\n", " "),
        "Moved visitors: seconds after the SIGKILL until the old websocket closed, a new one "
        "opened (through nginx, on a live replica), the page showed a fresh session (step 0, "
        "Train), and steps counted again after the harness clicked Train.",
        "Aggregate steps/s with 2 cores: this measures the overhead of more processes, not "
        "capacity (report only).",
    ]
    return section(
        "cluster",
        TITLE,
        [("measure", "measure"), ("value", "value")],
        rows,
        verdicts,
        notes,
        extra={
            "visitors": main["visitors"],
            "survivors": main["survivors"],
            "moved": moved_rows,
            "tables": [
                {
                    "title": "Visitors",
                    "columns": [
                        ["visitor", "visitor"],
                        ["settings", "settings"],
                        ["replicas", "replica per websocket"],
                        ["upload_statuses", "upload statuses"],
                        ["url_matches", "URL as before the kill"],
                        ["sidebar_cell", "sidebar shows its cell"],
                    ],
                    "rows": main["visitors"],
                },
                {
                    "title": "Moved visitors (seconds after the kill)",
                    "columns": [
                        ["visitor", "visitor"],
                        ["closed", "websocket closed"],
                        ["reopened", "new websocket open"],
                        ["ready", "fresh session ready"],
                        ["training", "training again"],
                        ["status_text", "Streamlit's connection status (DOM)"],
                        ["shown", "what the visitor sees 1 s in"],
                    ],
                    "rows": moved_rows,
                },
                {
                    "title": "Survivors: gaps between status-line changes (s)",
                    "columns": [
                        ["visitor", "visitor"],
                        ["replica", "replica"],
                        ["median_gap_s", "median gap before"],
                        ["longest_before_s", "longest, 10 s before the kill"],
                        ["longest_after_s", "longest, 10 s after"],
                        ["changes_after", "changes after"],
                    ],
                    "rows": main["survivors"],
                },
            ],
        },
        seconds=seconds,
    )


if __name__ == "__main__" and "--held" in sys.argv:  # the child of held_memory()
    print(json.dumps(held_memory_child()))
elif __name__ == "__main__":  # a quick look without writing bench's files: python -m bench.cluster
    from bench.common import machine
    from bench.run import render

    result = run(smoke="--smoke" in sys.argv)
    print(render({"machine": machine(), "sections": {"cluster": result}}))
