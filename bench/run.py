"""Run the benchmarks and write bench/RESULTS.md and bench/results.json.

    python -m bench.run                       # everything (about 15 minutes on 2 cores)
    python -m bench.run --only throughput,probe
    python -m bench.run --only cluster        # 3 replicas behind nginx, 6 visitors (needs nginx)
    python -m bench.run --smoke               # tiny sizes, core benchmarks only, < 60 s, for CI

A full or `--only` run merges its sections into bench/results.json (sections not rerun keep their
own date) and re-renders bench/RESULTS.md. `--smoke` prints the tables and writes files only when
`--out DIR` is given, so it never overwrites the real results.
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import os
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from bench.common import machine, section

BENCH_DIR = Path(__file__).resolve().parent
BENCHMARKS = {
    "throughput": "bench.throughput",
    "probe": "bench.probe_cost",
    "seq2seq": "bench.seq2seq",
    "page": "bench.page",
    "liveview": "bench.liveview",
    "visitors": "bench.visitors",
    "gpu": "bench.gpu",
    "memory": "bench.memory",
    "packing": "bench.packing",
    "claims": "bench.claims",
    "cluster": "bench.cluster",
    "forecast": "bench.forecast",
    "realdata": "bench.realdata",
    "hostile": "bench.hostile",
    "crowd": "bench.crowd",
}
ORDER = [
    "throughput",
    "probe",
    "seq2seq",
    "page",
    "liveview",
    "visitors",
    "gpu",
    "memory",
    "packing",
    "claims",
    "cluster",
    "forecast",
    "realdata",
    "hostile",
    "crowd",
]
BROWSER = {"page", "liveview", "visitors", "claims", "cluster", "hostile", "crowd"}


def run_benchmarks(
    names: list[str], smoke: bool, log=print, done=None
) -> dict[str, dict[str, Any]]:
    """Run the named benchmarks in-process; a failing one becomes an 'error' section.
    `done(sections)` is called after each one (the runner writes the files as it goes)."""
    sections: dict[str, dict[str, Any]] = {}
    for name in names:
        log(f"[bench] {name} ...", flush=True)
        started = time.perf_counter()
        try:
            module = importlib.import_module(BENCHMARKS[name])
            result = module.run(smoke=smoke)
        except Exception as error:  # keep going: one broken benchmark must not hide the others
            result = section(
                name,
                f"{name}: failed",
                [("error", "error")],
                [{"error": f"{type(error).__name__}: {error}"}],
                notes=["```\n" + traceback.format_exc()[-3000:] + "```"],
                seconds=time.perf_counter() - started,
            )
            result["error"] = True
        if smoke:  # tiny sizes say nothing about the targets
            result["verdicts"] = []
        sections[name] = result
        log(f"[bench] {name} done in {time.perf_counter() - started:.1f} s", flush=True)
        if done is not None:
            done(sections)
    return sections


# ---- rendering -------------------------------------------------------------------------------


def fmt(key: str, value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "–"
        if key.endswith("share"):
            return f"{100 * value:.1f}%"
        if "ratio" in key or key.endswith("_x"):
            return f"{value:.2f}"
        magnitude = abs(value)
        if magnitude >= 100:
            return f"{value:.0f}"
        if magnitude >= 10:
            return f"{value:.1f}"
        if magnitude >= 0.1:
            return f"{value:.2f}"
        return f"{value:.3g}"
    if isinstance(value, list | tuple):
        return ", ".join(fmt(key, v) for v in value)
    return str(value).replace("|", "\\|").replace("\n", " ")


def table(columns: list[list[str]], rows: list[dict[str, Any]]) -> list[str]:
    lines = ["| " + " | ".join(header for _, header in columns) + " |"]
    lines.append("|" + "---|" * len(columns))
    for row in rows:
        lines.append("| " + " | ".join(fmt(key, row.get(key)) for key, _ in columns) + " |")
    return lines


def mark(met: bool | None) -> str:
    return {True: "met", False: "**missed**", None: "not measured"}[met]


def render(results: dict[str, Any]) -> str:
    info = results["machine"]
    lines = [
        "# Benchmark results",
        "",
        "Written by `make bench` (`OMP_NUM_THREADS=1 python -m bench.run`); do not edit by hand. "
        "These machines are shared and noisy: every comparison below ran side by side, interleaved "
        "and repeated in one run, so read the ratios rather than the absolute times.",
        "",
        "## Machine",
        "",
        "| | |",
        "|---|---|",
    ]
    for key in (
        "cpu",
        "cores",
        "usable_cores",
        "memory_gb",
        "load_average",
        "python",
        "torch",
        "numpy",
        "torch_threads",
        "omp_num_threads",
        "cuda",
        "git",
        "date",
        "command",
    ):
        lines.append(f"| {key} | {fmt(key, info.get(key))} |")
    sections = [results["sections"][k] for k in ORDER if k in results["sections"]]
    lines += ["", "## Targets", "", "| benchmark | target | value | result |", "|---|---|---|---|"]
    for sec in sections:
        for v in sec["verdicts"]:
            lines.append(
                f"| {sec['key']} | {fmt('', v['target'])} | {fmt('', v['value'])} | {mark(v['met'])}"
                + (f" ({fmt('', v['detail'])})" if v.get("detail") else "")
                + " |"
            )
    for sec in sections:
        lines += ["", f"## {sec['title']}", ""]
        lines.append(
            f"_Measured {sec['date']}"
            + (f", took {sec['seconds']} s_" if sec.get("seconds") else "_")
        )
        lines.append("")
        lines += table(sec["columns"], sec["rows"])
        for extra in sec.get("extra", {}).get("tables", []):
            lines += ["", f"**{extra['title']}**", ""]
            lines += table(extra["columns"], extra["rows"])
        if sec["notes"]:
            lines.append("")
            lines += [f"- {note}" if not note.startswith("```") else note for note in sec["notes"]]
    return "\n".join(lines) + "\n"


def _json_default(value: Any) -> Any:
    try:
        return float(value)
    except (TypeError, ValueError):
        return str(value)


def _clean(value: Any) -> Any:
    """NaN is not JSON: write null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def write(results: dict[str, Any], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(
        json.dumps(_clean(results), indent=1, default=_json_default) + "\n"
    )
    (out / "RESULTS.md").write_text(render(results))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.run", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--only", help=f"comma-separated subset of: {','.join(ORDER)}")
    parser.add_argument(
        "--smoke", action="store_true", help="tiny sizes, no browser, no thresholds"
    )
    parser.add_argument("--out", type=Path, help="folder for RESULTS.md and results.json")
    args = parser.parse_args(argv)
    if args.only:
        names = [n.strip() for n in args.only.split(",") if n.strip()]
        unknown = [n for n in names if n not in BENCHMARKS]
        if unknown:
            parser.error(
                f"unknown benchmark(s) {', '.join(unknown)}; choose from {', '.join(ORDER)}"
            )
        names = [n for n in ORDER if n in names]
    else:
        names = [n for n in ORDER if not (args.smoke and n in BROWSER)]
    if args.smoke:
        names = [n for n in names if n not in BROWSER]
    if os.environ.get("OMP_NUM_THREADS") != "1":
        print("[bench] note: OMP_NUM_THREADS is not 1; `make bench` sets it", file=sys.stderr)

    results: dict[str, Any] = {"machine": machine(), "smoke": args.smoke, "sections": {}}
    out = args.out or (None if args.smoke else BENCH_DIR)
    if out is not None and (out / "results.json").exists() and not args.smoke:
        try:
            previous = json.loads((out / "results.json").read_text())
            results["sections"].update(previous.get("sections", {}))
        except (OSError, ValueError):
            pass

    def save(sections: dict[str, Any]) -> None:
        results["sections"].update(sections)
        if out is not None:
            write(results, out)

    fresh = run_benchmarks(names, args.smoke, done=save)
    if out is not None:
        print(f"[bench] wrote {out / 'RESULTS.md'} and {out / 'results.json'}")
    else:
        print(render({**results, "sections": fresh}))
    failed = [name for name, sec in fresh.items() if sec.get("error")]
    if failed:
        print(f"[bench] failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
