"""Live Plotly charts drawn in place: one element per chart, redrawn with `Plotly.react`.

`st.plotly_chart` (Streamlit 1.67) puts a hash of the whole figure into the element id, so every
new figure unmounts the chart and mounts a new one that stays hidden until Plotly has drawn it
(DESIGN.md, "Live charts"). `plotly_live` is a Custom Component v2 instead: with its `key` the
element keeps its identity, each new figure arrives as new data for the same element, and the
browser module (`static/plotly_live.js`) calls `Plotly.react` on the same div.

What goes over the websocket, per chart and rerun (`encode`):
- `<u32 header length><JSON header><binary arrays>`. The header is `{key, hash, figure}` with the
  figure's data, layout and config as JSON, except that each numeric numpy array becomes
  `{dtype, bdata: [start, end], shape}`, a slice of the binary part (raw little-endian bytes,
  no base64). The browser hands plotly.js an ArrayBuffer per array; plotly.js 2.28+ decodes
  `{dtype, bdata}` itself.
- A figure the browser already has (same hash as the last one sent for this key) goes as the
  header `{key, hash, n}` alone; the browser redraws nothing. If it never got that figure (it
  merges updates that follow each other quickly) it asks for it (the `missing` trigger) and the
  next run sends it in full.

plotly.js is served offline from the app's static folder (`server.enableStaticServing`): the
copy in the plotly package is put there by `install_assets` (the server entry does it at start;
the first chart of a process does it too), never from a CDN. The JavaScript re-sent with every
update is a two-line loader (~150 bytes); the module it loads is a static file the browser caches.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import re
import shutil
import struct
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import plotly
import streamlit as st
from _plotly_utils.utils import PlotlyJSONEncoder

LOG = logging.getLogger(__name__)

NAME = "playground.plotly_live"
STATIC_DIR = Path(__file__).resolve().parents[1] / "static"
MODULE_FILE = "plotly_live.js"
MODULES = (MODULE_FILE, "controls.js")  # the browser modules in playground/static/
PLOTLY_FILE = "plotly.min.js"
PLOTLY_SOURCE = Path(plotly.__file__).resolve().parent / "package_data" / PLOTLY_FILE
DEFAULT_HEIGHT = 450  # plotly.js's own default
_SENT = "_plotly_live_sent"  # session_state: key -> Sent

# plotly.js typed-array codes (the same table as plotly's own JSON encoder).
DTYPES = {
    "int8": "i1",
    "uint8": "u1",
    "int16": "i2",
    "uint16": "u2",
    "int32": "i4",
    "uint32": "u4",
    "float32": "f4",
    "float64": "f8",
}
STREAMLIT_PLACEHOLDER = "#000001"  # the first colour of Streamlit's placeholder template
# Keys whose arrays plotly keeps as plain lists (plotly's `is_skipped_key`).
SKIPPED_KEYS = frozenset({"geojson", "layer", "layers", "range"})
# While a rerun is pending Streamlit fades stale elements to 0.33 opacity after 0.5 s; this keeps
# them as they are inside a `steady_container`.
STEADY_CSS = (
    "<style>.st-key-{key} [data-stale='true']"
    "{{opacity:1 !important;transition:none !important}}</style>"
)


# ---- the public call ----------------------------------------------------------------------------
def plotly_live(
    figure: Any, *, key: str, config: Mapping[str, Any] | None = None, height: int | None = None
) -> None:
    """Draw `figure` (a go.Figure or a dict with "data" and "layout") as the chart named `key`.

    The same `key` at every rerun keeps the same element and div in the browser; a new figure is
    drawn into it with Plotly.react, so zoom and the 3D camera follow `layout.uirevision`. A
    figure equal to the last one sent for `key` is not sent again. Pass a figure that is not
    changed in place afterwards: the same object passed again is taken as unchanged without
    being encoded. `height` defaults to the figure's layout height.
    """
    sent = st.session_state.setdefault(_SENT, {})
    config_text = json.dumps(dict(config or {}), sort_keys=True)
    last = sent.get(key) or Sent()
    if figure is last.figure and config_text == last.config:
        payload = token(key, last.digest, last.count)
        entry = replace(last, count=last.count + 1)
    else:
        spec, blobs, digest = figure_parts(figure, config)
        payload, keyframe = token(key, digest, last.count), last.keyframe
        if digest != last.digest:
            payload, keyframe = changed_payload(key, spec, blobs, digest, keyframe)
        entry = Sent(figure, config_text, digest, last.count + 1, keyframe)
    sent[key] = entry
    _component()(
        key=key,
        data=payload,
        height=height or figure_height(figure),
        on_missing_change=functools.partial(_forget, key),
    )


def steady_container(key: str = "live"):
    """`st.container(key=key)` whose elements never fade while a rerun is pending.

    For the live area (status line, charts): Streamlit 1.67 marks an element `data-stale="true"`
    until the running script re-sends it and fades it to 0.33 opacity; at several ticks a second
    that made the page flicker. `key` is a plain word: it becomes the CSS class `st-key-<key>`.
    """
    if not re.fullmatch(r"[A-Za-z0-9_-]+", key):
        raise ValueError(f"steady_container key {key!r}: use letters, digits, '_' or '-'")
    st.html(STEADY_CSS.format(key=key))
    return st.container(key=key)


# ---- payload ------------------------------------------------------------------------------------
def encode(figure: Any, key: str, config: Mapping[str, Any] | None = None) -> tuple[bytes, str]:
    """(payload, hash): the figure as `<u32 n><n bytes JSON header><binary arrays>`.

    The hash covers the figure and config (not the key): equal hashes mean the same drawing.
    """
    spec, blobs, digest = figure_parts(figure, config)
    return assemble({"key": key, "hash": digest}, spec, blobs), digest


def figure_parts(figure: Any, config: Mapping[str, Any] | None) -> tuple[dict, list[bytes], str]:
    """(spec, arrays, hash): the figure's JSON with each array a byte range of the arrays
    joined in order, the arrays' raw bytes, and the hash of both."""
    blobs: list[bytes] = []
    spec = _extract(figure_dict(figure), blobs, [0])
    _replace_placeholder_template(spec["layout"])
    spec["config"] = dict(config or {})
    text = _json(spec)
    digest = hashlib.blake2b(text + b"".join(blobs), digest_size=8).hexdigest()
    return spec, blobs, digest


def assemble(head: dict, spec: dict, blobs: list[bytes]) -> bytes:
    header = _json({**head, "figure": spec})
    return struct.pack("<I", len(header)) + header + b"".join(blobs)


def _json(value: Any) -> bytes:
    return json.dumps(value, cls=PlotlyJSONEncoder, separators=(",", ":")).encode()


# An array sent as a patch keeps at least this many bytes of the one sent before.
MIN_KEPT_BYTES = 256


@dataclass(frozen=True)
class Keyframe:
    """A figure sent in full: what later patches are made against (its hash, arrays, layout)."""

    digest: str
    blobs: list[bytes]
    layout: bytes


@dataclass(frozen=True)
class Sent:
    """What a session last sent for a chart: the figure object, its config text and hash, how
    many payloads went for it, and the last figure sent in full."""

    figure: Any = None
    config: str | None = None
    digest: str | None = None
    count: int = 0
    keyframe: Keyframe | None = None


# A patch goes while it is under this share of the full figure; then the figure goes in full and
# becomes the keyframe. (A chart whose small arrays all change keeps patching: the layout and its
# template, most of its bytes, still go as "same".)
KEYFRAME_SHARE = 0.5


def changed_payload(
    key: str, spec: dict, blobs: list[bytes], digest: str, keyframe: Keyframe | None
) -> tuple[bytes, Keyframe]:
    """(payload, keyframe) for a figure that changed: a patch on the last keyframe while that
    stays small, else the figure in full, which becomes the keyframe.

    Patches are made against the keyframe, not the figure sent just before: the browser may
    skip updates that follow each other quickly and draw only the last, and a patch on a
    skipped figure could not be rebuilt."""
    layout = _json(spec["layout"])
    full = assemble({"key": key, "hash": digest}, spec, blobs)
    if keyframe is not None:
        changed = patch(key, spec, blobs, digest, keyframe, layout)
        if len(changed) < KEYFRAME_SHARE * len(full):
            return changed, keyframe
    return full, Keyframe(digest, blobs, layout)


def patch(
    key: str, spec: dict, blobs: list[bytes], digest: str, last: Keyframe, layout: bytes
) -> bytes:
    """The figure as a change to the keyframe `last`: each array that begins like the old array
    at its place keeps those bytes (`keep: [index, bytes]`) and brings only the rest, and an
    unchanged layout (with its template, most of a chart's JSON) goes as "same". A live history
    chart changes only at its end, so a tick sends the points since the keyframe; the browser
    rebuilds the figure from the keyframe it has (static/plotly_live.js) or, if it lacks it,
    asks for the figure in full. `spec`'s array placeholders are rewritten."""
    specs = list(_array_specs(spec))
    if len(specs) != len(blobs):  # an array plotly keeps as a list: no patch for this figure
        return assemble({"key": key, "hash": digest}, spec, blobs)
    if layout == last.layout:
        spec = {**spec, "layout": "same"}
    old = last.blobs
    sent, offset = [], 0
    for index, (node, blob) in enumerate(zip(specs, blobs, strict=True)):
        kept = _common_prefix(old[index], blob) if index < len(old) else 0
        if kept >= MIN_KEPT_BYTES:
            node["keep"] = [index, kept]
            blob = blob[kept:]
        node["bdata"] = [offset, offset + len(blob)]
        offset += len(blob)
        sent.append(blob)
    return assemble({"key": key, "hash": digest, "base": last.digest}, spec, sent)


def _array_specs(node: Any):
    """The typed-array placeholders of a spec, in the order of their bytes."""
    if isinstance(node, dict):
        if isinstance(node.get("bdata"), list) and "dtype" in node:
            yield node
            return
        for value in node.values():
            yield from _array_specs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _array_specs(value)


def _common_prefix(a: bytes, b: bytes) -> int:
    n = min(len(a), len(b))
    if n == 0:
        return 0
    differ = np.flatnonzero(np.frombuffer(a, np.uint8, n) != np.frombuffer(b, np.uint8, n))
    return int(differ[0]) if differ.size else n


def token(key: str, digest: str, count: int = 0) -> bytes:
    """The payload for a figure the browser already has: the header without the figure.

    `count` (sends so far for this key) makes each token differ from the one before. The browser
    may merge quickly following updates and draw only the last one; a figure it never saw then
    arrives as a token, and it asks for the figure again. An update equal to the previous one would
    not reach it at all (Streamlit keeps the element as it is), so it could never ask.
    """
    header = json.dumps({"key": key, "hash": digest, "n": count}, separators=(",", ":")).encode()
    return struct.pack("<I", len(header)) + header


def decode(payload: bytes) -> tuple[dict, bytes]:
    """(header, binary part) of a payload; what the browser module does, for tests and tools."""
    (length,) = struct.unpack_from("<I", payload)
    return json.loads(payload[4 : 4 + length]), payload[4 + length :]


def apply_patch(payload: bytes, last: bytes) -> bytes:
    """The full payload a patch stands for, given the full payload it applies to: what the browser
    module's `rebuild` does, for tests and tools."""
    header, body = decode(payload)
    old_header, old_body = decode(last)
    if header.pop("base") != old_header["hash"]:
        raise ValueError("the patch is for another figure")
    if header["figure"]["layout"] == "same":
        header["figure"]["layout"] = old_header["figure"]["layout"]
    old = [old_body[n["bdata"][0] : n["bdata"][1]] for n in _array_specs(old_header["figure"])]
    parts, offset = [], 0
    for node in _array_specs(header["figure"]):
        index, kept = node.pop("keep", (0, 0))
        part = old[index][:kept] + body[node["bdata"][0] : node["bdata"][1]]
        node["bdata"] = [offset, offset + len(part)]
        offset += len(part)
        parts.append(part)
    return assemble({k: v for k, v in header.items() if k != "figure"}, header["figure"], parts)


def page_figures(app_test: Any) -> dict[str, str]:
    """{key: figure as plotly's own JSON text} of the plotly_live charts on an AppTest page.

    For tests: what `st.plotly_chart`'s `spec` held. An unchanged figure goes to the browser as a
    hash only, so the figure is the one this session last sent for the key (same hash).
    """
    import plotly.io as pio

    elements = [e for e in app_test.get("bidi_component") if e.proto.component_name == NAME]
    texts = {}
    for element in elements:
        header, _ = decode(element.proto.bytes)
        last = app_test.session_state[_SENT][header["key"]]
        figure, digest = last.figure, last.digest
        assert digest == header["hash"], f"{header['key']}: the page shows another figure"
        texts[header["key"]] = pio.to_json(figure, validate=False)
    return texts


def figure_dict(figure: Any) -> dict:
    """{"data": [...], "layout": {...}} of a go.Figure or a mapping, numpy arrays left as they are.

    A go.Figure's own `to_dict()` deep-copies and base64-encodes every array; its `_data` and
    `_layout` (read, not changed) give the same content without either.
    """
    if hasattr(figure, "_data") and hasattr(figure, "_layout"):
        return {"data": figure._data, "layout": figure._layout}
    if isinstance(figure, Mapping) and "data" in figure:
        data = [_plain(trace) for trace in figure["data"]]
        return {"data": data, "layout": _plain(figure.get("layout") or {})}
    raise TypeError(
        f"plotly_live draws a plotly Figure or a dict with 'data' and 'layout', "
        f"not {type(figure).__name__}"
    )


def figure_height(figure: Any) -> int:
    layout = figure_dict(figure)["layout"]
    height = layout.get("height") if isinstance(layout, Mapping) else None
    return int(height) if height else DEFAULT_HEIGHT


def _replace_placeholder_template(layout: dict) -> None:
    """Importing Streamlit makes its own template plotly's default: colours #000001, #000002...
    that only `st.plotly_chart` swaps for theme colours. A figure made with that default gets
    plotly's own default template here instead of drawing near-black."""
    template = layout.get("template")
    colorway = template.get("layout", {}).get("colorway") if isinstance(template, dict) else None
    if colorway and colorway[0] == STREAMLIT_PLACEHOLDER:
        layout["template"] = _plotly_template()


@functools.cache
def _plotly_template() -> dict:
    import plotly.io as pio

    return pio.templates["plotly"].to_plotly_json()


def _plain(node: Any) -> Any:
    return node.to_plotly_json() if hasattr(node, "to_plotly_json") else node


def _extract(node: Any, blobs: list[bytes], offset: list[int]) -> Any:
    """A copy of `node` with each numeric numpy array moved into `blobs` (see `encode`).

    Keys set to None are left out: for plotly None means "not set", as go.Figure treats it, but
    plotly.js given `"marker": null` throws and the chart stays blank."""
    if isinstance(node, np.ndarray):
        return _typed_array(node, blobs, offset)
    if isinstance(node, Mapping):
        return {
            k: v if k in SKIPPED_KEYS else _extract(v, blobs, offset)
            for k, v in node.items()
            if v is not None
        }
    if isinstance(node, list | tuple):
        return [_extract(v, blobs, offset) for v in node]
    return node


def _typed_array(array: np.ndarray, blobs: list[bytes], offset: list[int]) -> Any:
    array = _narrow(array)
    code = DTYPES.get(array.dtype.name)
    if code is None or array.size == 0 or array.ndim > 3:
        return array  # text, dates, booleans: PlotlyJSONEncoder writes a list
    raw = np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<")).tobytes()
    start = offset[0]
    blobs.append(raw)
    offset[0] += len(raw)
    spec: dict[str, Any] = {"dtype": code, "bdata": [start, offset[0]]}
    if array.ndim > 1:
        spec["shape"] = ",".join(str(n) for n in array.shape)
    return spec


# float64 goes as float32 when every finite value's size is within this range: half the bytes,
# and 7 significant digits are more than a chart can show. Gradients far smaller (a vanishing
# gradient of 1e-50) keep 64 bits, so a log axis still shows them rather than 0.
FLOAT32_RANGE = (1e-30, 1e30)


def _narrow_float(array: np.ndarray) -> np.ndarray:
    size = np.abs(array[np.isfinite(array) & (array != 0)])
    if size.size and (size.min() < FLOAT32_RANGE[0] or size.max() > FLOAT32_RANGE[1]):
        return array
    return array.astype(np.float32)


def _narrow(array: np.ndarray) -> np.ndarray:
    """64-bit numbers as the smallest type that holds them (plotly.js has no 64-bit ints; see
    FLOAT32_RANGE for floats)."""
    if array.dtype == np.float64 and array.size:
        return _narrow_float(array)
    if array.dtype.kind not in "iu" or array.dtype.itemsize < 8 or array.size == 0:
        return array
    low, high = int(array.min()), int(array.max())
    names = ("int8", "int16", "int32") if array.dtype.kind == "i" else ("uint8", "uint16", "uint32")
    for name in names:
        info = np.iinfo(name)
        if info.min <= low and high <= info.max:
            return array.astype(name)
    return array


# ---- the component and its static files ----------------------------------------------------------
def _forget(key: str) -> None:
    """The browser lacks the figure last sent for `key`: send it in full at the next run."""
    st.session_state.get(_SENT, {}).pop(key, None)


@functools.cache
def _component():
    return st.components.v2.component(NAME, js=_loader_js(), isolate_styles=False)


def _loader_js(module: str = MODULE_FILE, entry: str = "draw") -> str:
    """The two lines re-sent with every update: import the static module (cached) and call its
    `entry`. The loader itself is a blob: URL, hence the absolute URL. (Streamlit takes a
    one-line string that contains a '/' for a file path: keep the newline.)"""
    return (
        "export default async function(c){\n"
        f"return (await import(new URL({json.dumps(module_url(module))},location.href)))"
        f".{entry}(c)}}"
    )


def loader_component(name: str, module: str):
    """A Custom Component v2 whose code is the static module `module` (playground/static/),
    loaded once by the browser; only a two-line loader goes with each update."""
    return st.components.v2.component(name, js=_loader_js(module), isolate_styles=False)


def module_url(module: str = MODULE_FILE) -> str:
    """Where the browser finds a module: the app's static folder, versioned for caching."""
    from streamlit import config

    base = (config.get_option("server.baseUrlPath") or "").strip("/")
    install_assets(_static_dir())
    return f"{'/' + base if base else ''}/app/static/{module}?v={asset_version(module)}"


@functools.cache
def asset_version(module: str = MODULE_FILE) -> str:
    """Changes with the module's code and the plotly.js version (cache busting)."""
    code = (STATIC_DIR / module).read_bytes()
    return hashlib.blake2b(code + plotly.__version__.encode(), digest_size=6).hexdigest()


def _static_dir() -> Path:
    """The static folder Streamlit serves: `static/` beside the main script."""
    from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

    ctx = get_script_run_ctx(suppress_warning=True)
    if ctx is None or not ctx.main_script_path:
        return STATIC_DIR
    return Path(ctx.main_script_path).resolve().parent / "static"


def install_assets(static_dir: Path = STATIC_DIR) -> None:
    """Put plotly.min.js (from the plotly package) and the module into `static_dir`, if missing
    or out of date. Idempotent and cheap when they are there; a read-only folder that already
    has them is fine (the Docker image installs them at build time)."""
    wanted = [(PLOTLY_SOURCE, static_dir / PLOTLY_FILE)]
    if static_dir.resolve() != STATIC_DIR:
        wanted += [(STATIC_DIR / name, static_dir / name) for name in MODULES]
    for source, target in wanted:
        if _same_file(source, target):
            continue
        try:
            static_dir.mkdir(parents=True, exist_ok=True)
            # copy2 keeps the package's modification time: browsers cache by Last-Modified.
            shutil.copy2(source, target)
        except OSError as error:
            LOG.error("could not put %s into %s: %s; charts cannot draw", source, static_dir, error)


def _same_file(source: Path, target: Path) -> bool:
    try:
        a, b = source.stat(), target.stat()
    except OSError:
        return False
    return a.st_size == b.st_size and int(a.st_mtime) == int(b.st_mtime)
