"""`python -m playground [streamlit options]`: the playground's server, PyTorch loaded before it.

`streamlit run playground/app.py` imports PyTorch in the first visitor's first script run, so
that visitor waits for it ("loading PyTorch", 11.8 s on a busy machine). This entry imports
torch, `core` and the pages first, puts plotly.js into playground/static/, then runs Streamlit's
own command line in the same process (`streamlit.web.cli.main`, the function behind the
`streamlit` command), so every script run finds them loaded:

    python -m playground --server.port 8501     # = streamlit run playground/app.py --server.port 8501
    python -m playground --assets-only          # only copy plotly.js (the Docker image, at build)
"""

from __future__ import annotations

import sys
from pathlib import Path

APP = Path(__file__).resolve().parent / "app.py"


def preload() -> None:
    """Import what every script run needs, once, before the server takes visitors."""
    import torch
    import torch._dynamo  # noqa: F401 - torch.optim imports it on first use

    torch.set_num_threads(1)  # one thread per training: sessions share the cores

    import core  # noqa: F401
    from playground.views import learn, race, sweep, train  # noqa: F401 - the pages' imports


def main(argv: list[str]) -> None:
    from playground import plotly_live

    plotly_live.install_assets()
    if argv == ["--assets-only"]:
        return
    preload()
    from streamlit.web import cli

    sys.argv = ["streamlit", "run", str(APP), *argv]
    cli.main(prog_name="streamlit")


if __name__ == "__main__":
    main(sys.argv[1:])
