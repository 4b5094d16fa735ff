// Draws the charts of playground/plotly_live.py: one div per chart, redrawn in place with
// Plotly.react, so a chart is never replaced (and never blank) while the model trains.
//
// A payload is <u32 header length, little-endian><JSON header><binary arrays>. The header is
// {key, hash, figure: {data, layout, config}}; in the figure a typed array is
// {dtype, bdata: [start, end], shape?}, a byte range of the binary part. Without `figure` the
// server means "the figure you last got for this key" (it skips unchanged figures). With `base`
// the figure is a change to the last one sent in full (the keyframe, whose hash is `base`; the
// browser may have skipped the patches between): an array with `keep: [i, n]` begins
// with the first n bytes of that figure's i-th array, and its byte range holds the rest; a
// layout "same" is that figure's layout.

const version = new URL(import.meta.url).search;
// key -> {keyframe, last}: the last figure received in full (patches are made against it) and
// the last figure drawn (what a hash-only update means), each as a full payload.
const received = new Map();
const asking = new Map(); // key -> timer of a pending request for a missing figure
// How long a chart waits for a figure it missed before asking the server for it. While the model
// trains the next tick brings a new figure anyway, and each request is one more run of the live
// fragment: under load those runs crowd the visitor's clicks (a click sent with one lands in it).
const MISSING_WAIT_MS = 1500;
let plotly = null;

// Charts never fade while a rerun is pending (Streamlit fades stale elements to 0.33).
const style = document.createElement("style");
style.textContent =
  ".stElementContainer[data-stale='true']:has(.plotly-live)" +
  "{opacity:1 !important;transition:none !important}";
document.head.appendChild(style);

function loadPlotly() {
  plotly ??= new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = new URL("plotly.min.js" + version, import.meta.url).href;
    script.onload = () => resolve(window.Plotly);
    script.onerror = () => {
      plotly = null;
      reject(new Error("plotly.js did not load from " + script.src));
    };
    document.head.appendChild(script);
  });
  return plotly;
}

function parse(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const length = view.getUint32(0, true);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(4, 4 + length)));
  return { header, body: bytes.subarray(4 + length) };
}

function arrays(node, out = []) {
  if (Array.isArray(node)) node.forEach((item) => arrays(item, out));
  else if (node && typeof node === "object") {
    if (typeof node.dtype === "string" && Array.isArray(node.bdata)) out.push(node);
    else for (const key in node) arrays(node[key], out);
  }
  return out;
}

// A patch (header.base) and the full payload it applies to -> the full payload it stands for.
function rebuild(header, body, last) {
  const old = arrays(last.header.figure).map((n) => last.body.subarray(n.bdata[0], n.bdata[1]));
  const parts = [];
  let offset = 0;
  for (const node of arrays(header.figure)) {
    const kept = node.keep ? old[node.keep[0]].subarray(0, node.keep[1]) : new Uint8Array(0);
    const rest = body.subarray(node.bdata[0], node.bdata[1]);
    parts.push(kept, rest);
    node.bdata = [offset, offset + kept.length + rest.length];
    offset = node.bdata[1];
    delete node.keep;
  }
  if (header.figure.layout === "same") header.figure.layout = last.header.figure.layout;
  delete header.base;
  const text = new TextEncoder().encode(JSON.stringify(header));
  const full = new Uint8Array(4 + text.length + offset);
  new DataView(full.buffer).setUint32(0, text.length, true);
  full.set(text, 4);
  let at = 4 + text.length;
  for (const part of parts) {
    full.set(part, at);
    at += part.length;
  }
  return full;
}

// Typed-array placeholders -> one ArrayBuffer each, which plotly.js decodes itself.
function attach(node, body) {
  if (Array.isArray(node)) {
    node.forEach((item) => attach(item, body));
  } else if (node && typeof node === "object") {
    if (typeof node.dtype === "string" && Array.isArray(node.bdata)) {
      node.bdata = body.slice(node.bdata[0], node.bdata[1]).buffer;
    } else {
      for (const key in node) attach(node[key], body);
    }
  }
}

function chartDiv(parent) {
  let div = parent.querySelector(":scope > .plotly-live");
  if (!div) {
    div = document.createElement("div");
    div.className = "plotly-live";
    div.style.width = "100%";
    parent.appendChild(div);
    // Column widths change without a window resize (sidebar, layout): follow the div itself.
    div.observer = new ResizeObserver(() => {
      if (div._fullLayout && window.Plotly) window.Plotly.Plots.resize(div);
    });
    div.observer.observe(div);
  }
  return div;
}

// Streamlit calls a component's cleanup when it unmounts, and also when an update arrived while
// the previous draw was still loading the module: only the first case may free the chart.
function cleanupFor(div) {
  return () => {
    if (div.isConnected) return;
    div.observer.disconnect();
    if (window.Plotly) window.Plotly.purge(div); // frees the WebGL context of 3D charts
  };
}

// A figure this page never got (Streamlit merged its update into a later one, or dropped it when
// a new run started): ask for it (the server sends it in full next run) unless a full figure for
// this chart arrives within MISSING_WAIT_MS.
function askLater(key, hash, setTriggerValue) {
  if (asking.has(key)) return;
  asking.set(
    key,
    setTimeout(() => {
      asking.delete(key);
      try {
        setTriggerValue("missing", hash);
      } catch (error) {
        console.warn("plotly_live", key, "could not ask for its figure", error);
      }
    }, MISSING_WAIT_MS),
  );
}

export function draw({ data, parentElement, setTriggerValue }) {
  const div = chartDiv(parentElement);
  const cleanup = cleanupFor(div);
  let { header, body } = parse(data);
  div.dataset.key = header.key;
  const kept = received.get(header.key) || {};
  if (header.base) {
    const base = kept.keyframe && parse(kept.keyframe);
    if (!base || base.header.hash !== header.base) {
      askLater(header.key, header.hash, setTriggerValue);
      return cleanup;
    }
    data = rebuild(header, body, base);
    ({ header, body } = parse(data));
    received.set(header.key, { keyframe: kept.keyframe, last: data });
  } else if (header.figure) {
    const full = data.slice();
    received.set(header.key, { keyframe: full, last: full });
  } else {
    const last = [kept.last, kept.keyframe].map((bytes) => bytes && parse(bytes))
      .find((figure) => figure && figure.header.hash === header.hash);
    if (!last) {
      askLater(header.key, header.hash, setTriggerValue);
      return cleanup;
    }
    ({ header, body } = last);
  }
  if (header.figure) {
    clearTimeout(asking.get(header.key));
    asking.delete(header.key);
  }
  if (div.dataset.hash === header.hash) return cleanup; // drawn already
  div.dataset.hash = header.hash;
  const figure = header.figure;
  attach(figure, body);
  div.style.height = (figure.layout.height || 450) + "px";
  loadPlotly()
    .then((Plotly) => Plotly.react(div, figure.data, figure.layout, figure.config))
    .catch((error) => {
      delete div.dataset.hash; // the next update tries again
      div.title = "This chart could not be drawn: " + error.message;
      console.error("plotly_live", header.key, error);
    });
  return cleanup;
}
