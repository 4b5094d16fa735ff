"""A small classroom through nginx, in real Chromium: 2 replicas, 3 visitors.

The lighter CI version of `python -m bench.run --only cluster` (same harness, bench/cluster.py):
uploads (a CSV in the sidebar, a checkpoint downloaded from the page and uploaded again) reach
the replica that holds the visitor's session; the same upload sent to the other replica gets
Streamlit's "400: Invalid session_id", so the check can tell. Then one replica is killed: its
visitors reconnect on the live one with the settings from their URL and train again, and the
visitors on the live replica keep training. No timing targets here (those are in the bench).
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from bench.browser import PAUSE, record, wait_ready
from bench.cluster import (
    ENV,
    VISITORS,
    gaps,
    kill_and_follow,
    misrouted_upload,
    open_visitor,
    pick_victim,
    settings_shown,
    train_all,
    upload_all,
)
from deploy.cluster import Cluster, nginx_binary

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(nginx_binary() is None, reason="nginx is not installed (make nginx)"),
]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PICKED = [VISITORS[0], VISITORS[3], VISITORS[1]]  # csv, sine (checkpoint), csv


def test_uploads_stay_on_their_replica_and_a_killed_replicas_visitors_move(browser, tmp_path):
    ARTIFACTS.mkdir(exist_ok=True)
    folder = tmp_path
    env = {**ENV, "PLAYGROUND_IDLE_SECONDS": "0"}
    visitors = []
    began = time.perf_counter()

    def phase(name: str) -> None:  # where the time goes (pytest -s shows it)
        print(f"[cluster test] {name} at {time.perf_counter() - began:.1f} s", flush=True)

    with Cluster(2, env=env) as cluster:
        phase("2 replicas and nginx up")
        try:
            visitors = [
                open_visitor(browser, cluster.url, f"v{i + 1}", params)
                for i, params in enumerate(PICKED)
            ]
            for v in visitors:
                wait_ready(v.page, 120)
            phase("3 visitors ready")
            on = {v.name: v.replica() for v in visitors}
            assert set(on.values()) == {"r1", "r2"}, on  # first visits are spread

            upload_all(visitors, folder)  # a CSV, or the page's own checkpoint
            phase("uploads done")
            for v in visitors:
                assert v.uploads, v.name
                for upload in v.uploads:
                    assert upload["status"] in (200, 204), (v.name, upload)
                    assert upload["replica"] == on[v.name], (v.name, upload)
            other = {"r1": "r2", "r2": "r1"}[on["v1"]]
            status, body = misrouted_upload(visitors[0], cluster.url, other)
            assert status == 400 and "Invalid session_id" in body, (status, body)

            train_all(visitors)
            for v in visitors:  # everyone is counting steps before the kill
                main = v.page.get_by_test_id("stMain")
                main.get_by_role("button", name=PAUSE).wait_for(timeout=60_000)
                main.get_by_text(re.compile(r"Step [1-9][\d,]* /")).first.wait_for(timeout=60_000)
            phase("all training")
            victim = pick_victim(visitors)
            result = kill_and_follow(
                cluster, visitors, victim, timeout=90, snapshot=ARTIFACTS / "cluster-reconnect.png"
            )
            phase(f"killed {victim}; seconds after the kill: {result['times']}")
            moved = result["moved"]
            assert moved
            for v in moved:
                times = result["times"][v.name]
                for moment in ("closed", "reopened", "ready", "training"):
                    assert times[moment] is not None, (v.name, moment, times)
                assert v.replica() != victim and v.replica() in {"r1", "r2"}
                shown = settings_shown(v)
                assert shown["url_matches"] and shown["sidebar_cell"], (v.name, shown)
                v.page.screenshot(path=str(ARTIFACTS / f"cluster-moved-{v.name}.png"))
            survivors = [v for v in visitors if v not in moved]
            assert survivors
            v = survivors[0]
            v.page.wait_for_timeout(4_000)
            after = gaps(record(v.page), result["killed_at"], result["killed_at"] + 60_000)
            assert len(after) >= 3, after  # its status line kept changing after the kill
            for v in survivors:
                assert v.replicas() == [on[v.name]]  # never reconnected: one websocket throughout
        finally:
            for v in visitors:
                v.close()
            logs = [(r.name, r.log_path.read_text()) for r in cluster.members]
    for name, text in logs:
        assert "Traceback" not in text, f"{name}:\n{text[-3000:]}"
