// Shared by the live views (live_prune.js, live_network.js): ui/live_component.py puts this script before each
// view's own (a component's inline script cannot import a file), so both draw, unpack and take keys the same way.

const SVG = "http://www.w3.org/2000/svg";
const KEPT = "#2563eb";
const PRUNED = "#f97316";
const REST_MS = 150;

const count = (n) => Math.round(n).toLocaleString("en-US");

function el(tag, cls, text) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text !== undefined) node.textContent = text;
  return node;
}

function svgEl(tag, attrs) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  return node;
}

// prune_core.measure.live.packed: zlib, then base64.
async function inflateBytes(b64) {
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate"));
  return await new Response(stream).arrayBuffer();
}

function nearest(grid, value) {
  let best = 0;
  for (let i = 1; i < grid.length; i++) if (Math.abs(grid[i] - value) < Math.abs(grid[best] - value)) best = i;
  return best;
}

// A live slider's habits: the range's own arrows and Home/End, Page Up/Down a tenth of the range, a typed value
// snapped to the nearest step (an empty or unreadable one is redrawn as it was). `index()` is the position now;
// `set(i)` moves to a position within the grid.
function wireSlider(range, number, grid, index, set, redraw) {
  const move = (i) => set(Math.max(0, Math.min(grid.length - 1, i)));
  range.addEventListener("input", () => move(Number(range.value)));
  range.addEventListener("keydown", (e) => {
    if (e.key === "PageUp" || e.key === "PageDown") {
      e.preventDefault();
      const page = Math.max(1, Math.round((grid.length - 1) / 10));
      move(index() + (e.key === "PageUp" ? page : -page));
    }
  });
  const typed = () => {
    const value = Number(number.value);
    if (number.value === "" || !isFinite(value)) { redraw(); return; }
    move(nearest(grid, value));
  };
  number.addEventListener("change", typed);
  number.addEventListener("keydown", (e) => { if (e.key === "Enter") typed(); });
}

// After a move: redraw at the next frame, and send the values once the slider has rested REST_MS. `draw(view)` and
// `send(view)` are each view's own (its script follows this one in the same module).
function schedule(view) {
  if (!view.frame) {
    view.frame = requestAnimationFrame(() => { view.frame = 0; draw(view); });
  }
  clearTimeout(view.timer);
  view.timer = setTimeout(() => send(view), REST_MS);
}
