// A live panel's buttons and its clock (playground/views/panel.py), in one element.
//
// Clicks: each click becomes an event {seq, name}, numbered in this page. Every request this
// element sends to the server carries all the events the server has not acknowledged yet, and
// every drawing from the server says up to which number it has handled them (`acked`). Streamlit
// merges requests that queue up behind a running script, keeping only the newest: since the
// newest holds every unacknowledged click, merging loses none, and the server handles each number
// once, in order. An event the server does not acknowledge within RESEND_MS is sent again.
//
// Clock: while the run is busy (`data.busy`), the element asks for the next drawing `data.every`
// ms after this one arrived, so one drawing at most is on its way and none overtakes another; if
// none comes back within RETRY_MS (a run that ended without drawing), it asks again.
//
// The buttons are the server's: their labels, whether they are enabled, which is focused. A button
// keeps its DOM element while its label changes (Train becomes Pause in the same place), so
// keyboard focus stays where it was.

const RESEND_MS = 1500;
const RETRY_MS = 3000;
const MAX_PENDING = 20; // a page that can't reach the server doesn't queue clicks without end
const page = Math.random().toString(36).slice(2, 12); // this page's name for its click numbers
const panels = new Map(); // key -> {seq, pending, timer, send}

function send(me, why) {
  clearTimeout(me.timer);
  me.asks = (me.asks || 0) + 1;
  try {
    me.send("update", { page, events: me.pending.slice(), ask: me.asks, why });
  } catch (error) {
    console.warn("playground controls: could not reach the server", error);
  }
  me.timer = setTimeout(() => send(me, "retry"), me.pending.length ? RESEND_MS : RETRY_MS);
}

function click(me, button) {
  if (button.disabled) return;
  me.pending.push({ seq: ++me.seq, name: button.dataset.name });
  me.pending = me.pending.slice(-MAX_PENDING);
  if (me.element) me.element.dataset.busy = "true"; // until a drawing acknowledges the click
  send(me, "click");
}

function bar(parent, data, me) {
  let group = parent.querySelector(":scope > .pg-controls");
  if (!group) {
    group = document.createElement("div");
    group.className = "pg-controls";
    group.setAttribute("role", "group");
    group.addEventListener("focusin", (event) => (me.focused = event.target));
    parent.appendChild(group);
  }
  group.setAttribute("aria-label", data.label);
  return group;
}

function drawButtons(group, data, me) {
  const slots = data.buttons.map((b) => b.slot);
  for (const old of [...group.children]) if (!slots.includes(old.dataset.slot)) old.remove();
  data.buttons.forEach((spec, index) => {
    let button = group.querySelector(`:scope > [data-slot="${spec.slot}"]`);
    if (!button) {
      button = document.createElement("button");
      button.type = "button";
      button.dataset.slot = spec.slot;
      button.addEventListener("click", () => click(me, button));
    }
    if (group.children[index] !== button) group.insertBefore(button, group.children[index] || null);
    button.dataset.name = spec.name;
    button.textContent = spec.label;
    button.disabled = Boolean(spec.disabled);
    button.className = `pg-button pg-slot-${spec.slot}` + (spec.primary ? " pg-primary" : "");
    if (spec.help) button.title = spec.help;
    else button.removeAttribute("title");
  });
}

// Focus: where the server asks (a demo just opened), else nowhere new; but a focused button that
// was just disabled hands focus to the fallback, instead of dropping it to the page.
function keepFocus(group, data, me) {
  const doc = group.ownerDocument;
  const free = !doc.activeElement || doc.activeElement === doc.body;
  const lost = me.focused && me.focused.disabled && group.contains(me.focused);
  const target = lost ? data.fallback : free ? data.focus : null;
  const button = target && group.querySelector(`:scope > [data-slot="${target}"]:not(:disabled)`);
  if (button && (free || lost)) button.focus({ preventScroll: true });
}

export function draw({ data, parentElement, setTriggerValue }) {
  let me = panels.get(data.key);
  if (!me) {
    me = { seq: 0, pending: [] };
    panels.set(data.key, me);
  }
  me.send = setTriggerValue;
  me.element = parentElement;
  if (data.acked && data.acked.page === page) {
    me.pending = me.pending.filter((event) => event.seq > data.acked.seq);
  }
  const group = bar(parentElement, data, me);
  drawButtons(group, data, me);
  keepFocus(group, data, me);
  // What tests and tools wait for: "false" once the run is idle and every click handled.
  parentElement.dataset.busy = String(Boolean(data.busy) || me.pending.length > 0);
  clearTimeout(me.timer);
  if (me.pending.length) me.timer = setTimeout(() => send(me, "resend"), RESEND_MS);
  else if (data.busy) me.timer = setTimeout(() => send(me, "tick"), data.every);
  return () => {
    if (!parentElement.isConnected) clearTimeout(me.timer);
  };
}
