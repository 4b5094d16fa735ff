"""Shared helpers: machine description, timing, statistics, and the section format."""

from __future__ import annotations

import datetime as _dt
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def one_thread() -> None:
    """One torch thread per training: the performance model the page uses (DESIGN.md)."""
    import torch

    torch.set_num_threads(1)


def machine() -> dict[str, Any]:
    """CPU model, cores, memory, library versions, git commit, date and the command."""
    import numpy
    import torch

    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory_gb = math.nan
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory_gb = int(line.split()[1]) / 1024**2
    except OSError:
        pass
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "usable_cores": usable,
        "memory_gb": round(memory_gb, 1),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": numpy.__version__,
        "torch_threads": torch.get_num_threads(),
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS", "unset"),
        "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none",
        "git": _git_revision(),
        "date": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": " ".join(["python", "-m", "bench.run", *sys.argv[1:]]),
    }


def _git_revision() -> str:
    try:
        rev = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=5,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True, timeout=5
        ).stdout.strip()
        return f"{rev}{' + uncommitted changes' if dirty else ''}" if rev else "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def timed(fn: Callable[[], Any]) -> dict[str, float]:
    """Wall and CPU seconds of one call. With one torch thread, CPU time is the work itself and is
    much less disturbed than wall time when other processes compete for the cores."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return {"wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu}


def rate(fn: Callable[[int], Any], steps: int) -> Callable[[], dict[str, float]]:
    """A runner for `interleave`: steps per wall second and per CPU second of `fn(steps)`."""

    def run() -> dict[str, float]:
        t = timed(lambda: fn(steps))
        return {"wall": steps / t["wall"], "cpu": steps / max(t["cpu"], 1e-9)}

    return run


def pick(samples: Sequence[dict[str, float]], key: str) -> list[float]:
    return [s[key] for s in samples]


def median(values: Sequence[float]) -> float:
    values = [v for v in values if v is not None and math.isfinite(v)]
    return statistics.median(values) if values else math.nan


def interleave(runners: dict[str, Callable[[], float]], repeats: int) -> dict[str, list[float]]:
    """Call each runner once per repetition, rotating the order so no variant always goes first
    (or always runs right after the same neighbour). Each runner returns one measurement."""
    names = list(runners)
    samples: dict[str, list[float]] = {name: [] for name in names}
    for rep in range(repeats):
        shift = rep % len(names)
        for name in names[shift:] + names[:shift]:
            samples[name].append(runners[name]())
    return samples


def paired_ratio(numerator: Sequence[float], denominator: Sequence[float]) -> float:
    """Median of per-repetition ratios: each pair ran back to back, so slow drifts cancel."""
    return median([a / b for a, b in zip(numerator, denominator, strict=True) if b > 0])


def log_log_slope(xs: Sequence[float], ys: Sequence[float]) -> float:
    """Least-squares slope of log(y) against log(x): 1 means linear growth."""
    points = [
        (math.log(x), math.log(y)) for x, y in zip(xs, ys, strict=True) if x > 0 and y and y > 0
    ]
    if len(points) < 2:
        return math.nan
    mx = sum(p[0] for p in points) / len(points)
    my = sum(p[1] for p in points) / len(points)
    sxx = sum((p[0] - mx) ** 2 for p in points)
    sxy = sum((p[0] - mx) * (p[1] - my) for p in points)
    return sxy / sxx if sxx else math.nan


def verdict(name: str, value: float, op: str, threshold: float, detail: str = "") -> dict[str, Any]:
    """One target check: met is True/False, or None when the value could not be measured."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        met = None
    elif op == ">=":
        met = value >= threshold
    elif op == "<=":
        met = value <= threshold
    else:
        raise ValueError(op)
    return {"target": f"{name} {op} {threshold:g}", "value": value, "met": met, "detail": detail}


def section(
    key: str,
    title: str,
    columns: list[tuple[str, str]],
    rows: list[dict[str, Any]],
    verdicts: list[dict[str, Any]] | None = None,
    notes: list[str] | None = None,
    extra: dict[str, Any] | None = None,
    seconds: float | None = None,
) -> dict[str, Any]:
    """A benchmark's result. `columns` are (key, header) pairs; rows are dicts keyed by column key."""
    return {
        "key": key,
        "title": title,
        "columns": [list(c) for c in columns],
        "rows": rows,
        "verdicts": verdicts or [],
        "notes": notes or [],
        "extra": extra or {},
        "seconds": None if seconds is None else round(seconds, 1),
        "date": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


def skipped_section(key: str, title: str, reason: str) -> dict[str, Any]:
    return section(
        key,
        title,
        [("status", "status"), ("reason", "reason")],
        [{"status": "skipped", "reason": reason}],
    )


def rss_mb(pid: int, children: bool = True) -> float:
    """Resident memory of `pid` (and, by default, all its descendants) in MB, from /proc."""
    pids = [pid] + (descendants(pid) if children else [])
    total_kb = 0
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total_kb += int(line.split()[1])
                    break
        except (OSError, ValueError):
            continue
    return total_kb / 1024


def descendants(pid: int) -> list[int]:
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        parents.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found
