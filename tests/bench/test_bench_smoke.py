"""The benchmark harness runs end to end at tiny sizes and produces well-formed results.

No thresholds: this checks the harness (bench/), not the speed. Browser benchmarks are not run here.
"""

from __future__ import annotations

import json
import math

import pytest

from bench import gpu
from bench.run import BROWSER, ORDER, render, run_benchmarks, write

CORE = [name for name in ORDER if name not in BROWSER]


@pytest.fixture(scope="module")
def sections():
    return run_benchmarks(CORE, smoke=True, log=lambda *a, **k: None)


def test_every_core_benchmark_produces_a_section(sections):
    assert list(sections) == CORE
    for name, sec in sections.items():
        assert not sec.get("error"), sec["notes"]
        assert sec["key"] == name and sec["title"] and sec["rows"]
        assert sec["verdicts"] == []  # smoke: no thresholds
        keys = [key for key, _ in sec["columns"]]
        for row in sec["rows"]:
            assert set(keys) <= set(row) | {"error"}, (name, set(keys) - set(row))


@pytest.mark.parametrize(
    "name, numeric",
    [
        (
            "throughput",
            ["engine_sps_cpu", "engine_noval_sps_cpu", "hand_sps_cpu", "ratio_cpu", "ratio_wall"],
        ),
        ("probe", ["step_ms", "probe_ms", "probe_ratio", "probe_jac_ms"]),
        ("memory", ["rss_import_mb", "peak_mb", "session_mb", "step_s", "probe_s"]),
    ],
)
def test_rows_hold_positive_finite_numbers(sections, name, numeric):
    for row in sections[name]["rows"]:
        assert "error" not in row, row
        for key in numeric:
            assert isinstance(row[key], float) and math.isfinite(row[key]) and row[key] > 0, (
                key,
                row,
            )


def test_throughput_profile_accounts_for_the_whole_step(sections):
    profile = sections["throughput"]["extra"]["profile"]
    assert profile["ms_per_step"] > 0
    assert sum(b["share"] for b in profile["buckets"]) == pytest.approx(1.0)


def test_gpu_section_skips_cleanly_without_cuda(sections, monkeypatch):
    monkeypatch.setattr(gpu.torch.cuda, "is_available", lambda: False)
    sec = gpu.run(smoke=True)
    assert sec["rows"] == [
        {"status": "skipped", "reason": "no GPU: torch.cuda.is_available() is False"}
    ]


def test_gpu_comparison_code_runs_on_cpu():
    row = gpu.measure("gru", hidden=8, seq_len=6, batch=4, device="cpu", steps=2, repeats=1)
    assert (
        row["device"] == "cpu" and row["raw_sps"] > 0 and row["ratio"] > 0 and row["probe_ms"] > 0
    )


def test_results_render_and_serialise(sections, tmp_path):
    from bench.common import machine

    results = {"machine": machine(), "smoke": True, "sections": sections}
    write(results, tmp_path)
    loaded = json.loads((tmp_path / "results.json").read_text())
    assert set(loaded["sections"]) == set(CORE)
    text = (tmp_path / "RESULTS.md").read_text()
    assert text == render(results)
    for sec in sections.values():
        assert sec["title"] in text
