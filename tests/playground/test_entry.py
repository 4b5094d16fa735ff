"""playground/__main__.py: `python -m playground --assets-only` puts plotly.js where the page
serves it from (the Docker image runs this at build time)."""

from __future__ import annotations

import subprocess
import sys

from bench.common import ROOT
from playground import plotly_live


def test_assets_only_installs_plotly_js_and_exits():
    target = plotly_live.STATIC_DIR / plotly_live.PLOTLY_FILE
    target.unlink(missing_ok=True)
    done = subprocess.run(
        [sys.executable, "-m", "playground", "--assets-only"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert target.read_bytes() == plotly_live.PLOTLY_SOURCE.read_bytes()
