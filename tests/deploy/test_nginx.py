"""deploy/cluster.py's nginx config: it validates (`nginx -t`), the committed sample is what the
generator writes, and a real nginx in front of stand-in replicas routes as designed.

The stand-ins are tiny HTTP servers on loopback ports that answer with their own name, so the
routing rules can be checked in a second without Streamlit: a first visit gets a cookie naming
the replica that served it; the cookie keeps a visitor there; a dead replica's visitors move to a
live one and the cookie follows them, so they stay put after the first replica comes back.
"""

from __future__ import annotations

import gzip
import http.server
import re
import shutil
import subprocess
import tempfile
import threading
import time
import tomllib
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from deploy.cluster import (
    BROTLI_MODULE,
    COOKIE,
    MAX_BODY,
    ROOT,
    check_config,
    free_port,
    nginx_binary,
    nginx_config,
    prepare_prefix,
)

needs_nginx = pytest.mark.skipif(
    nginx_binary() is None, reason="nginx is not installed (make nginx, or apt-get install nginx)"
)
SAMPLE = ROOT / "deploy" / "nginx.conf"
SCRIPT = "x" * 5000  # compressible, over the 256-byte minimum


def test_committed_sample_is_the_generator_output():
    """deploy/nginx.conf is `python -m deploy.cluster --print-config`, byte for byte."""
    expected = nginx_config([8501, 8502, 8503], 8500, brotli=True)
    assert SAMPLE.read_text() == expected, (
        "regenerate: python -m deploy.cluster --print-config > deploy/nginx.conf"
    )


def test_body_limit_covers_streamlits_upload_limit():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    upload_mb = config["server"]["maxUploadSize"]
    assert int(MAX_BODY.rstrip("m")) > upload_mb
    ingress = (ROOT / "deploy" / "k8s" / "ingress.yaml").read_text()
    assert f'proxy-body-size: "{MAX_BODY}"' in ingress


@needs_nginx
@pytest.mark.parametrize("brotli", [True, False])
@pytest.mark.parametrize("replicas", [1, 3])
def test_generated_config_passes_nginx_t(tmp_path, replicas, brotli):
    if brotli and not BROTLI_MODULE.exists():
        pytest.skip("Debian's libnginx-mod-http-brotli-filter is not installed")
    config = tmp_path / "nginx.conf"
    config.write_text(nginx_config([9101 + i for i in range(replicas)], 9100, brotli=brotli))
    checked = check_config(config, tmp_path)
    assert checked.returncode == 0, checked.stderr


@needs_nginx
def test_committed_sample_passes_nginx_t(tmp_path):
    if not BROTLI_MODULE.exists():
        pytest.skip("the sample loads Debian's brotli module, which is not installed")
    checked = check_config(SAMPLE, tmp_path)
    assert checked.returncode == 0, checked.stderr


@needs_nginx
def test_a_broken_config_fails_nginx_t(tmp_path):
    """The check can fail: an unknown directive is refused."""
    config = tmp_path / "nginx.conf"
    config.write_text(nginx_config([9101], 9100).replace("gzip on;", "gzip on; gzipp on;"))
    assert check_config(config, tmp_path).returncode != 0


# ---- a real nginx in front of stand-in replicas -------------------------------------------------
class StandIn:
    """A loopback HTTP server that says which replica it is and counts what it served."""

    def __init__(self, name: str, port: int) -> None:
        self.name, self.port, self.hits, self.seen = name, port, 0, {}
        self.server: http.server.ThreadingHTTPServer | None = None

    def start(self) -> None:
        stand_in = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):  # noqa: N802 - the http.server API
                stand_in.hits += 1
                stand_in.seen = {k.lower(): v for k, v in self.headers.items()}
                if self.path.startswith("/static/"):
                    body, kind = SCRIPT.encode(), "application/javascript"
                elif self.path == "/_stcore/health":
                    body, kind = b"ok", "text/plain"
                else:
                    body, kind = stand_in.name.encode(), "text/plain"
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                if self.path.startswith("/static/"):
                    self.send_header("Cache-Control", "public, immutable, max-age=31536000")
                self.end_headers()
                self.wfile.write(body)

            def do_PUT(self):  # noqa: N802
                length = int(self.headers.get("Content-Length", 0))
                self.rfile.read(length)
                body = f"{stand_in.name} {length}".encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


class Front:
    """nginx with the generated config in front of the stand-ins."""

    def __init__(self, prefix: Path, stand_ins: list[StandIn]) -> None:
        self.port = free_port()
        prepare_prefix(prefix)
        config = prefix / "nginx.conf"
        config.write_text(nginx_config([s.port for s in stand_ins], self.port, workers="1"))
        self.process = subprocess.Popen(
            [nginx_binary(), "-p", str(prefix), "-e", "stderr", "-c", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.time() + 20
        while True:
            try:
                self.get("/_stcore/health")
                break
            except OSError:
                if self.process.poll() is not None or time.time() > deadline:
                    raise RuntimeError(self.process.stderr.read().decode()) from None
                time.sleep(0.05)

    def get(self, path: str, cookie: str | None = None, headers: dict | None = None):
        """(status, body, headers) of one request with the replica cookie `cookie`."""
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}", headers=headers or {}
        )
        if cookie:
            request.add_header("Cookie", f"{COOKIE}={cookie}")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.read(), response.headers
        except urllib.error.HTTPError as error:
            return error.code, error.read(), error.headers

    def put(self, path: str, size: int, cookie: str) -> int:
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}", data=b"0" * size, method="PUT"
        )
        request.add_header("Cookie", f"{COOKIE}={cookie}")
        try:
            with urllib.request.urlopen(request, timeout=20) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


def cookie_set(headers) -> str | None:
    """The replica named by this response's Set-Cookie for our cookie, if any."""
    for value in headers.get_all("Set-Cookie") or []:
        match = re.match(rf"{COOKIE}=(\w*);", value)
        if match:
            return match.group(1)
    return None


@pytest.fixture
def front():
    # Not pytest's tmp_path: as root, nginx's workers run as `nobody` and must reach their temp
    # and cache folders, and pytest's folders sit under a private (0700) one.
    prefix = Path(tempfile.mkdtemp(prefix="test-nginx-"))
    stand_ins = [StandIn(f"r{i + 1}", free_port()) for i in range(3)]
    for s in stand_ins:
        s.start()
    nginx = Front(prefix, stand_ins)
    try:
        yield nginx, stand_ins
    finally:
        nginx.stop()
        for s in stand_ins:
            s.stop()
        shutil.rmtree(prefix, ignore_errors=True)


@needs_nginx
def test_first_visits_spread_and_get_a_cookie_naming_their_replica(front):
    nginx, _ = front
    served = []
    for _ in range(6):
        status, body, headers = nginx.get("/")
        assert status == 200
        assert cookie_set(headers) == body.decode() == headers["X-Playground-Replica"]
        served.append(body.decode())
    assert sorted(set(served)) == ["r1", "r2", "r3"], served  # round robin, not one replica


@needs_nginx
def test_the_cookie_keeps_a_visitor_on_its_replica(front):
    nginx, _ = front
    for _ in range(5):
        for name in ("r1", "r2", "r3"):
            status, body, headers = nginx.get("/_stcore/upload_file/s/f", cookie=name)
            assert (status, body.decode()) == (200, name)
            assert cookie_set(headers) is None  # already right: not set again
    # An unknown cookie value is a first visit: a real replica, and a cookie naming it.
    status, body, headers = nginx.get("/", cookie="r99")
    assert cookie_set(headers) == body.decode() in {"r1", "r2", "r3"}


@needs_nginx
def test_a_dead_replicas_visitors_move_and_stay_moved(front):
    nginx, stand_ins = front
    r2 = stand_ins[1]
    r2.stop()
    status, body, headers = nginx.get("/_stcore/health", cookie="r2")
    assert status == 200 and body == b"ok"
    moved_to = headers["X-Playground-Replica"]
    assert moved_to in {"r1", "r3"} and cookie_set(headers) == moved_to
    # The browser now sends the new cookie; r2 comes back, and the visitor stays where its
    # session now lives (its websocket and uploads must not go back to r2).
    r2.start()
    for _ in range(4):
        status, body, headers = nginx.get("/", cookie=moved_to)
        assert body.decode() == moved_to and cookie_set(headers) is None
    # r2 is back in its group after fail_timeout (5 s): visitors still pinned to it reach it.
    deadline = time.time() + 15
    while nginx.get("/", cookie="r2")[1] != b"r2":
        assert time.time() < deadline, "r2 never came back"
        time.sleep(0.5)


@needs_nginx
def test_static_files_are_compressed_once_per_encoding_and_cached(front):
    nginx, stand_ins = front
    path = "/static/js/app.0123abcd.js"
    variants = {"gzip": "gzip, deflate", "identity": ""}
    if BROTLI_MODULE.exists():
        variants["br"] = "gzip, deflate, br, zstd"  # Chromium's header: br wins over gzip
    before = sum(s.hits for s in stand_ins)
    for _ in range(3):
        for encoding, accept in variants.items():
            cookie = ("r1", "r2", "r3")[_]  # any visitor gets the one cached copy
            status, body, headers = nginx.get(
                path, cookie=cookie, headers={"Accept-Encoding": accept}
            )
            assert status == 200
            if encoding == "identity":
                assert body.decode() == SCRIPT and "Content-Encoding" not in headers
            else:
                assert headers["Content-Encoding"] == encoding and len(body) < len(SCRIPT) / 10
            if encoding == "gzip":
                assert gzip.decompress(body).decode() == SCRIPT
            assert "ETag" not in headers and "immutable" in headers["Cache-Control"]
    # Each encoding was fetched from a replica (and compressed) once, then came from the cache.
    assert sum(s.hits for s in stand_ins) - before == len(variants)


@needs_nginx
def test_websocket_headers_and_upload_size_pass_through(front):
    nginx, stand_ins = front
    nginx.get(
        "/_stcore/stream", cookie="r1", headers={"Upgrade": "websocket", "Connection": "Upgrade"}
    )
    assert stand_ins[0].seen["upgrade"] == "websocket"
    assert stand_ins[0].seen["connection"].lower() == "upgrade"
    nginx.get("/", cookie="r1")  # a plain request keeps the upstream connection reusable
    assert "upgrade" not in stand_ins[0].seen and stand_ins[0].seen.get("connection", "") == ""
    # Streamlit's own limit (the largest checkpoint) passes; past nginx's body limit is refused.
    upload = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())["server"]
    largest = upload["maxUploadSize"] * 2**20
    assert nginx.put("/_stcore/upload_file/s/f", largest, cookie="r2") == 200
    too_large = int(MAX_BODY.rstrip("m")) * 2**20 + 1_000_000
    assert nginx.put("/_stcore/upload_file/s/f", too_large, cookie="r2") == 413
