// The Prune page's sliders, numbers, sparsity bars and histograms, redrawn in the browser on every move.
//
// Python (ui/prune_live.py) sends, once per model and settings, prune_core's numbers at every slider position
// (prune_core.measure.live): kept weights per layer, thresholds, units removed, each histogram's kept count per
// bin (zlib + base64) and the caption under it. A move only looks those up and adds them, so what is drawn is
// exactly what the server would draw. When the slider rests (REST_MS), the values go to Python as the state
// "values" ({slider id: value shown}); the server then measures what needs the model (accuracy, size, tables).
// Every text that can come from a user's file (layer names) is set with textContent, never as HTML.
// Helpers shared with the Network view (el, svgEl, inflateBytes, nearest, wireSlider, schedule, KEPT…): live_common.js.

// prune_core.viz.fmt.percent: never "0.0%" or "100.0%" unless exactly so.
export function percent(x, digits = 1) {
  if (x === null || x === undefined || !isFinite(x)) return "–";
  const text = (x * 100).toFixed(digits) + "%";
  const step = Math.pow(10, -digits);
  if (x > 0 && text === (0).toFixed(digits) + "%") return "< " + step.toFixed(digits) + "%";
  if (x < 1 && text === (100).toFixed(digits) + "%") return "> " + (100 - step).toFixed(digits) + "%";
  return text;
}

const compact = new Intl.NumberFormat("en-US", { notation: "compact", maximumFractionDigits: 1 });

function shown(value, format) {
  return format === "%d%%" ? `${Math.round(value)}%` : Number(value).toFixed(2);
}

const inflate = async (b64) => new Uint32Array(await inflateBytes(b64));

function niceTicks(high, n = 4) {
  if (!(high > 0)) return [0];
  const raw = high / n;
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw);
  const ticks = [];
  for (let t = 0; t <= high + 1e-9; t += step) ticks.push(t);
  return ticks;
}

function linearTicks(low, high) {
  const span = high - low;
  const raw = span / 5;
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw);
  const ticks = [];
  for (let t = Math.ceil(low / step) * step; t <= high + 1e-12; t += step) {
    ticks.push([t, Number(t.toPrecision(6)).toString()]);
  }
  return ticks;
}

// ------------------------------------------------------------------------------------------------- building
function build(root, data) {
  root.querySelector(":scope > .pe-live")?.remove();  // a previous view (not Streamlit's <style> beside it)
  const box = el("div", "pe-live");
  const scale = data.present ? 1.35 : 1;
  box.style.setProperty("--pe-scale", scale);
  const view = { data, box, sliders: {}, bars: {}, hists: {}, index: {}, metrics: {}, binKept: null };

  const sliders = el("div", "pe-sliders");
  sliders.style.setProperty("--pe-columns", String(Math.min(data.sliders.length, 4)));
  for (const s of data.sliders) sliders.appendChild(buildSlider(view, s));
  box.appendChild(sliders);

  const metrics = el("div", "pe-metrics");
  for (const [key, label, help] of data.metrics) {
    const tile = el("div", "pe-metric");
    tile.title = help;
    tile.appendChild(el("div", "pe-metric-label", label));
    const value = el("div", "pe-metric-value", "");
    const sub = el("div", "pe-metric-sub", "");
    tile.append(value, sub);
    metrics.appendChild(tile);
    view.metrics[key] = { value, sub };
  }
  box.appendChild(metrics);
  if (data.note) box.appendChild(el("p", "pe-caption", data.note));

  box.appendChild(el("h5", "pe-heading", "Sparsity per layer"));
  const bars = el("div", "pe-bars");
  bars.setAttribute("role", "img");
  bars.setAttribute("aria-label", "Share of each layer's kernel weights that is pruned");
  for (const layer of data.layers) {
    const row = el("div", "pe-bar-row");
    const name = el("div", "pe-bar-name", layer.name);
    name.title = layer.name;
    const track = el("div", "pe-bar-track");
    const pruned = el("div", "pe-bar-pruned");
    const kept = el("div", "pe-bar-kept");
    track.append(pruned, kept);
    const text = el("div", "pe-bar-text", "");
    row.append(name, track, text);
    bars.appendChild(row);
    view.bars[layer.name] = { pruned, kept, text };
  }
  box.appendChild(bars);
  box.appendChild(legend());
  box.appendChild(el("p", "pe-caption", "Share of each layer's kernel weights that is pruned."));

  if (data.hists.length) {
    box.appendChild(el("h5", "pe-heading", "Per-layer distribution"));
    const tiles = el("div", "pe-tiles");
    for (const h of data.hists) tiles.appendChild(buildHist(view, h, scale));
    box.appendChild(tiles);
    box.appendChild(el("p", "pe-caption", data.hist_caption));
  }
  root.appendChild(box);
  return view;
}

function legend() {
  const row = el("div", "pe-legend");
  for (const [name, colour] of [["kept", KEPT], ["pruned", PRUNED]]) {
    const item = el("span", "pe-legend-item");
    const swatch = el("span", "pe-swatch");
    swatch.style.background = colour;
    item.append(swatch, document.createTextNode(name));
    row.appendChild(item);
  }
  return row;
}

function buildSlider(view, s) {
  const { data } = view;
  const wrap = el("div", "pe-slider");
  const id = `pe-${Math.random().toString(36).slice(2)}`;
  const label = el("label", "pe-slider-label", s.label);
  label.htmlFor = id;
  const row = el("div", "pe-slider-row");
  const range = document.createElement("input");
  range.type = "range";
  range.id = id;
  range.min = "0";
  range.max = String(data.grid.length - 1);
  range.step = "1";
  range.className = "pe-range";
  range.dataset.slider = s.id;
  const number = document.createElement("input");
  number.type = "number";
  number.className = "pe-number";
  number.min = String(data.grid[0]);
  number.max = String(data.grid[data.grid.length - 1]);
  number.step = String(data.step);
  number.setAttribute("aria-label", `${s.label}: type a value`);
  const unit = el("span", "pe-unit", data.format === "%d%%" ? "%" : "");
  row.append(range, number, unit);
  const ends = el("div", "pe-slider-ends");
  ends.append(el("span", "", shown(data.grid[0], data.format)),
              el("span", "", shown(data.grid[data.grid.length - 1], data.format)));
  wrap.append(label, row, ends);

  wireSlider(range, number, data.grid, () => view.index[s.id], (index) => {
    view.index[s.id] = index;
    schedule(view);
  }, () => draw(view));
  view.sliders[s.id] = { range, number };
  return wrap;
}

const W = 430, H = 250, M = { l: 58, r: 14, t: 10, b: 44 };

function buildHist(view, h, scale) {
  const tile = el("div", "pe-tile");
  tile.style.width = `${Math.round(W * scale)}px`;
  tile.appendChild(el("div", "pe-tile-title", h.title));
  const svg = svgEl("svg", { viewBox: `0 0 ${W} ${H}`, width: "100%", role: "img" });
  svg.setAttribute("aria-label", `Histogram of ${h.name}: kept and pruned counts per bin`);
  const edges = h.edges;
  const x0 = edges[0], x1 = edges[edges.length - 1];
  const sx = (x) => M.l + ((x - x0) / (x1 - x0 || 1)) * (W - M.l - M.r);
  const ymax = Math.max(1, ...h.bin_total.slice(0, edges.length - 1));
  const yTicks = niceTicks(ymax);
  const top = Math.max(ymax, yTicks[yTicks.length - 1]);
  const sy = (y) => H - M.b - (y / top) * (H - M.t - M.b);
  const grid = svgEl("g", { class: "pe-grid" });
  for (const t of yTicks) {
    grid.appendChild(svgEl("line", { x1: M.l, x2: W - M.r, y1: sy(t), y2: sy(t) }));
    const label = svgEl("text", { x: M.l - 6, y: sy(t) + 4, "text-anchor": "end", class: "pe-tick" });
    label.textContent = compact.format(t);
    grid.appendChild(label);
  }
  const xTicks = h.xticks || linearTicks(x0, x1);
  for (const [t, text] of xTicks) {
    const label = svgEl("text", { x: sx(t), y: H - M.b + 16, "text-anchor": "middle", class: "pe-tick" });
    label.textContent = text;
    grid.appendChild(label);
  }
  const xTitle = svgEl("text", { x: (M.l + W - M.r) / 2, y: H - 6, "text-anchor": "middle", class: "pe-axis" });
  xTitle.textContent = h.x_title;
  const yTitle = svgEl("text", { x: 14, y: (M.t + H - M.b) / 2, "text-anchor": "middle", class: "pe-axis",
                                 transform: `rotate(-90 14 ${(M.t + H - M.b) / 2})` });
  yTitle.textContent = "count";
  grid.append(xTitle, yTitle);
  svg.appendChild(grid);
  const bins = edges.length - 1;
  const kept = [], pruned = [];
  const bars = svgEl("g", {});
  for (let b = 0; b < bins; b++) {
    const left = sx(edges[b]), width = Math.max(0.5, sx(edges[b + 1]) - left);
    const k = svgEl("rect", { x: left, width, fill: KEPT });
    const p = svgEl("rect", { x: left, width, fill: PRUNED });
    const tip = svgEl("title", {});
    p.appendChild(tip);
    bars.append(k, p);
    kept.push(k); pruned.push({ rect: p, tip });
  }
  svg.appendChild(bars);
  const lines = [0, 1].map(() => svgEl("line", { y1: M.t, y2: H - M.b, class: "pe-threshold" }));
  for (const line of lines) svg.appendChild(line);
  tile.appendChild(svg);
  tile.appendChild(legend());
  const caption = el("p", "pe-tile-caption", "");
  tile.appendChild(caption);
  view.hists[h.name] = { h, sx, sy, kept, pruned, lines, caption, x0, x1, tile };
  return tile;
}

// -------------------------------------------------------------------------------------------------- drawing
function positionOf(view, sliderId) {
  return view.index[sliderId] ?? 0;
}

function draw(view) {
  const { data } = view;
  for (const s of data.sliders) {
    const i = positionOf(view, s.id);
    const { range, number } = view.sliders[s.id];
    range.disabled = number.disabled = Boolean(data.frozen);  // the first visit's preview, before the model loads
    range.value = String(i);
    range.setAttribute("aria-valuetext", shown(data.grid[i], data.format));
    if (view.box.getRootNode().activeElement !== number) {  // not while the user types in it
      number.value = data.format === "%d%%" ? String(Math.round(data.grid[i])) : Number(data.grid[i]).toFixed(2);
    }
  }
  let kept = 0, total = 0;
  for (const layer of data.layers) {
    const i = positionOf(view, layer.slider);
    const k = layer.kept[i];
    kept += k; total += layer.total;
    const share = layer.total ? 1 - k / layer.total : 0;  // MaskSet.layer_sparsity, the same float operations
    const bar = view.bars[layer.name];
    bar.pruned.style.width = `${share * 100}%`;
    bar.kept.style.width = `${(1 - share) * 100}%`;
    bar.text.textContent = percent(share);
  }
  const m = view.metrics;
  if (m.kept) { m.kept.value.textContent = count(kept); m.kept.sub.textContent = `of ${count(total)}`; }
  if (m.overall) m.overall.value.textContent = percent(total ? 1 - kept / total : 0);  // MaskSet.overall_sparsity
  if (m.units && data.units) {
    const i = positionOf(view, data.units.slider);
    m.units.value.textContent = data.units.share[i];
    m.units.sub.textContent = data.units.count[i];
  }
  if (view.binKept) for (const h of data.hists) drawHist(view, view.hists[h.name], positionOf(view, h.slider));
  view.box.dataset.kept = String(kept);  // what a test reads back: the numbers drawn
  view.box.dataset.positions = data.sliders.map((s) => `${s.id}=${positionOf(view, s.id)}`).join(",");
}

function drawHist(view, hist, i) {
  const { h, sx, sy, kept, pruned, lines, caption, x0, x1, tile } = hist;
  const bins = h.edges.length - 1;
  const row = view.binKept[h.name].subarray(i * (bins + 1), (i + 1) * (bins + 1));
  for (let b = 0; b < bins; b++) {
    const k = row[b], all = h.bin_total[b];
    const yk = sy(k), ya = sy(all);
    kept[b].setAttribute("y", yk);
    kept[b].setAttribute("height", Math.max(0, sy(0) - yk));
    pruned[b].rect.setAttribute("y", ya);
    pruned[b].rect.setAttribute("height", Math.max(0, yk - ya));
    pruned[b].tip.textContent = `${count(k)} kept, ${count(all - k)} pruned`;
  }
  const t = h.thresholds[i];
  let at = [];
  if (t !== null && t !== undefined && isFinite(t)) {
    if (h.lines === "pm") at = [-t, t];
    else if (h.lines === "one" && t > 0) at = [h.log ? Math.log10(t) : t];
  }
  lines.forEach((line, j) => {
    const x = at[j];
    const inside = x !== undefined && x >= x0 && x <= x1;
    line.style.display = inside ? "" : "none";
    if (inside) { line.setAttribute("x1", sx(x)); line.setAttribute("x2", sx(x)); }
  });
  caption.textContent = h.captions[i];
  tile.dataset.binKept = Array.from(row.subarray(0, bins)).join(",");  // what a test reads back: the counts drawn
}

function send(view) {
  const values = {};
  for (const s of view.data.sliders) values[s.id] = view.data.grid[positionOf(view, s.id)];
  view.setStateValue("values", values);
}

function apply(view, values) {
  for (const s of view.data.sliders) {
    const value = values && values[s.id];
    view.index[s.id] = value === undefined || value === null ? 0 : nearest(view.data.grid, Number(value));
  }
}

// ----------------------------------------------------------------------------------------------- the entry
export default function (component) {
  const { data, parentElement, setStateValue } = component;
  let view = parentElement.__peView;
  if (!view || view.data.config !== data.config) {
    if (view) clearTimeout(view.timer);
    view = build(parentElement, data);
    parentElement.__peView = view;
    view.nonce = data.nonce;
    apply(view, data.values);
    Promise.all(data.hists.map(async (h) => [h.name, await inflate(h.bin_kept)])).then((pairs) => {
      view.binKept = Object.fromEntries(pairs);
      draw(view);
      view.box.dataset.ready = "1";
    });
  } else if (view.nonce !== data.nonce) {  // the server set the values (a link, Reset, another page)
    view.nonce = data.nonce;
    clearTimeout(view.timer);
    apply(view, data.values);
  }
  view.data = data;
  view.setStateValue = setStateValue;
  draw(view);
}
