// The Network page's coefficient slider, its numbers and the network picture, redrawn in the browser on every move.
//
// Python (ui/network_live.py) sends, once per model and (criterion, granularity, connections drawn), the drawn
// neurons and connections and, from prune_core's masks at every slider position, the first position at which each
// connection is pruned and each neuron greyed (prune_core.viz.network_live), plus the page's numbers formatted at
// every position. A move compares the position with those indices and looks the numbers up, so what is drawn is
// exactly what the server would draw. When the slider rests (REST_MS), the value goes to Python as the state
// "values" ({coefficient, seq}); the server writes it to net_coefficient and the URL.
// Every text that can come from a user's file (layer names) is set with textContent, never as HTML.
// Helpers shared with the Prune view (el, svgEl, inflateBytes, nearest, wireSlider, schedule, KEPT…): live_common.js.

const BAR_FROM = 80;  // columns of this many neurons or more draw each as a short dash (prune_core.viz.network)

const u32 = async (b64) => new Uint32Array(await inflateBytes(b64));
const f32 = async (b64) => (b64 ? new Float32Array(await inflateBytes(b64)) : null);

const shown = (value) => Number(value).toFixed(2);
const at = (texts, i) => (Array.isArray(texts) ? texts[i] : texts);

// The packed arrays, inflated once per data.
async function unpack(data) {
  const columns = await Promise.all(data.columns.map(async (c) => ({
    ...c, y: await f32(c.y), from: await u32(c.from) })));
  const layers = await Promise.all(data.layers.map(async (l) => ({
    ...l, source: await u32(l.source), target: await u32(l.target), rows: await u32(l.rows), look: await u32(l.look),
    from: await u32(l.from), weight: await f32(l.weight), ratio: await f32(l.ratio) })));
  return { columns, layers };
}

// ------------------------------------------------------------------------------------------------- building
function build(root, data) {
  root.querySelector(":scope > .pe-net")?.remove();  // a previous view (not Streamlit's <style> beside it)
  const box = el("div", "pe-net");
  const scale = data.present ? 1.35 : 1;
  box.style.setProperty("--pe-scale", scale);
  const view = { data, box, scale, index: 0, seq: 0, metrics: [], drawn: null };
  box.appendChild(buildSlider(view));

  const metrics = el("div", "pe-net-metrics");
  for (const m of data.metrics) {
    const tile = el("div", "pe-net-metric");
    tile.title = m.help;
    tile.appendChild(el("div", "pe-net-metric-label", m.label));
    const value = el("div", "pe-net-metric-value", "");
    const sub = el("div", "pe-net-metric-sub", "");
    tile.append(value, sub);
    metrics.appendChild(tile);
    view.metrics.push({ m, value, sub });
  }
  box.appendChild(metrics);
  const figure = el("div", "pe-net-figure");
  view.heads = el("div", "pe-net-heads");
  view.svg = svgEl("svg", { role: "img", class: "pe-net-svg" });
  view.svg.setAttribute("aria-label", "The network: columns of neurons, lines for weights; pruned lines orange");
  view.tip = el("div", "pe-net-tip");
  figure.append(view.heads, view.svg, view.tip);
  box.appendChild(figure);
  box.appendChild(legend());
  root.appendChild(box);
  return view;
}

function legend() {
  const row = el("div", "pe-net-legend");
  for (const [name, cls] of [["kept connection", "kept"], ["pruned connection", "pruned"], ["neuron", "neuron"],
                             ["removed neuron (greyed)", "removed"]]) {
    const item = el("span", "pe-net-legend-item");
    item.append(el("span", `pe-net-swatch pe-net-swatch-${cls}`), document.createTextNode(name));
    row.appendChild(item);
  }
  return row;
}

function buildSlider(view) {
  const { data } = view;
  const wrap = el("div", "pe-slider pe-net-slider");  // pe-slider…: tests/browser.py's live_slider finds it too
  const id = `pe-net-${Math.random().toString(36).slice(2)}`;
  const label = el("label", "pe-slider-label pe-net-slider-label", data.label);
  label.htmlFor = id;
  label.title = data.help;
  const row = el("div", "pe-net-slider-row");
  const range = document.createElement("input");
  Object.assign(range, { type: "range", id, min: "0", max: String(data.grid.length - 1), step: "1",
                         className: "pe-net-range" });
  range.setAttribute("aria-describedby", `${id}-help`);
  const number = document.createElement("input");
  Object.assign(number, { type: "number", className: "pe-net-number", min: String(data.grid[0]),
                          max: String(data.grid[data.grid.length - 1]), step: String(data.step) });
  number.setAttribute("aria-label", `${data.label}: type a value`);
  row.append(range, number);
  const ends = el("div", "pe-net-slider-ends");
  ends.append(el("span", "", shown(data.grid[0])), el("span", "", shown(data.grid[data.grid.length - 1])));
  const help = el("div", "pe-net-help", data.help);
  help.id = `${id}-help`;
  wrap.append(label, row, ends, help);

  wireSlider(range, number, data.grid, () => view.index, (index) => {
    view.index = index;
    schedule(view);
  }, () => draw(view));
  view.range = range;
  view.number = number;
  return wrap;
}

// The picture: one <line> per drawn connection (pruned ones in a group beneath the kept), one circle or dash per
// neuron. Positions follow the width (relayout); a move only changes the lines and neurons whose state changed.
function buildPicture(view, arrays) {
  const { svg, heads } = view;
  const { columns, layers } = arrays;
  view.arrays = arrays;
  const pruned = svgEl("g", { class: "pe-net-edges-pruned" });
  const kept = svgEl("g", { class: "pe-net-edges-kept" });
  const nodes = svgEl("g", { class: "pe-net-nodes" });
  const labels = svgEl("g", { class: "pe-net-labels" });
  svg.append(pruned, kept, nodes, labels);
  view.groups = { pruned, kept };
  view.edges = layers.map((l, c) => {
    const lines = [];
    for (let e = 0; e < l.count; e++) {
      const line = svgEl("line", {});
      line.dataset.layer = String(c);
      line.dataset.edge = String(e);
      lines.push(line);
      kept.appendChild(line);
    }
    return { lines, state: new Int8Array(l.count).fill(-1) };
  });
  view.nodes = columns.map((col, c) => {
    const bars = col.count >= BAR_FROM;
    const items = [];
    for (let j = 0; j < col.count; j++) {
      const node = svgEl(bars ? "line" : "circle", {});
      node.dataset.column = String(c);
      node.dataset.node = String(j);
      items.push(node);
      nodes.appendChild(node);
    }
    return { items, bars, state: new Int8Array(col.count).fill(-1) };
  });
  view.outputLabels = [];
  const last = columns[columns.length - 1];
  if (last.labels) {
    for (let j = 0; j < last.count; j++) {
      const text = svgEl("text", { class: "pe-net-output-label", "dominant-baseline": "middle" });
      text.textContent = String(j);
      labels.appendChild(text);
      view.outputLabels.push(text);
    }
  }
  view.headItems = columns.map((col) => {
    const head = el("div", "pe-net-head");
    head.append(el("div", "pe-net-head-name", col.name), el("div", "pe-net-head-sub", col.sub));
    heads.appendChild(head);
    return head;
  });
  svg.addEventListener("mousemove", (e) => hover(view, e));
  svg.addEventListener("mouseleave", () => { view.tip.style.display = "none"; });
  relayout(view);
  new ResizeObserver(() => relayout(view)).observe(view.box);
}

function relayout(view) {
  const { svg, arrays } = view;
  const width = Math.max(320, Math.round(view.box.clientWidth || 700));
  if (width === view.width) return;
  view.width = width;
  const scale = view.scale;
  const height = Math.round(560 * scale);
  const M = { l: 18, r: arrays.columns[arrays.columns.length - 1].labels ? 34 : 18, t: 12, b: 12 };
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("width", String(width));
  svg.setAttribute("height", String(height));
  const spacing = (width - M.l - M.r) / (arrays.columns.length - 1);
  const x = (c) => M.l + c * spacing;
  const y = (v) => M.t + (1 - v) * (height - M.t - M.b);
  arrays.columns.forEach((col, c) => {
    const size = Math.min(13, Math.max(3, (0.8 * (height - 120)) / Math.max(col.count, 1)));  // network._node_size
    const { items, bars } = view.nodes[c];
    for (let j = 0; j < col.count; j++) {
      const yj = y(col.y[j]);
      if (bars) {
        items[j].setAttribute("x1", x(c) - 5.5); items[j].setAttribute("x2", x(c) + 5.5);
        items[j].setAttribute("y1", yj); items[j].setAttribute("y2", yj);
      } else {
        items[j].setAttribute("cx", x(c)); items[j].setAttribute("cy", yj); items[j].setAttribute("r", size / 2);
      }
    }
    const head = view.headItems[c];  // the first left-aligned at its column, the last right-aligned, others centred
    const last = c === arrays.columns.length - 1;
    head.style.left = last ? "" : `${c === 0 ? 0 : x(c)}px`;
    head.style.right = last ? "0px" : "";
    head.style.maxWidth = `${Math.max(60, c === 0 || last ? spacing / 2 + M.r : spacing - 8)}px`;
  });
  arrays.layers.forEach((l, c) => {
    const from = arrays.columns[c], to = arrays.columns[c + 1];
    const { lines } = view.edges[c];
    for (let e = 0; e < l.count; e++) {
      lines[e].setAttribute("x1", x(c)); lines[e].setAttribute("y1", y(from.y[l.source[e]]));
      lines[e].setAttribute("x2", x(c + 1)); lines[e].setAttribute("y2", y(to.y[l.target[e]]));
    }
  });
  const last = arrays.columns[arrays.columns.length - 1];
  view.outputLabels.forEach((text, j) => {
    text.setAttribute("x", x(arrays.columns.length - 1) + 12);
    text.setAttribute("y", y(last.y[j]));
  });
}

// -------------------------------------------------------------------------------------------------- drawing
function draw(view) {
  const { data } = view;
  const i = view.index;
  view.range.value = String(i);
  view.range.setAttribute("aria-valuetext", shown(data.grid[i]));
  if (view.box.getRootNode().activeElement !== view.number) view.number.value = shown(data.grid[i]);
  for (const { m, value, sub } of view.metrics) {
    value.textContent = at(m.value, i);
    sub.textContent = at(m.delta, i) ?? "";
  }
  view.box.dataset.position = String(i);
  view.box.dataset.coefficient = shown(data.grid[i]);
  if (!view.arrays) return;
  let prunedLines = 0, greyed = 0;
  view.arrays.layers.forEach((l, c) => {
    const { lines, state } = view.edges[c];
    for (let e = 0; e < l.count; e++) {
      const now = l.from[e] <= i ? 1 : 0;
      prunedLines += now;
      if (state[e] === now) continue;
      state[e] = now;
      const line = lines[e];
      line.setAttribute("class", now ? "pe-net-pruned" : `pe-net-kept pe-net-k${l.look[e] % 3}`);
      (now ? view.groups.pruned : view.groups.kept).appendChild(line);
    }
  });
  view.arrays.columns.forEach((col, c) => {
    const { items, bars, state } = view.nodes[c];
    for (let j = 0; j < col.count; j++) {
      const now = col.from[j] <= i ? 1 : 0;
      if (c > 0) greyed += now;
      if (state[j] === now) continue;
      state[j] = now;
      items[j].setAttribute("class", `${now ? "pe-net-removed" : "pe-net-neuron"}${bars ? " pe-net-bar" : ""}`);
    }
  });
  view.box.dataset.pruned = String(prunedLines);  // what a test reads back: the state drawn
  view.box.dataset.removed = String(greyed);
}

function hover(view, event) {
  const target = event.target;
  const { tip } = view;
  let text = null;
  if (target.dataset.edge !== undefined) text = edgeText(view, Number(target.dataset.layer), Number(target.dataset.edge));
  else if (target.dataset.node !== undefined) {
    text = nodeText(view, Number(target.dataset.column), Number(target.dataset.node));
  }
  if (text === null) { tip.style.display = "none"; return; }
  tip.textContent = text;
  tip.style.display = "block";
  const box = view.svg.getBoundingClientRect();
  const left = event.clientX - box.left + 14;
  tip.style.left = `${Math.min(left, box.width - tip.offsetWidth - 4)}px`;
  tip.style.top = `${event.clientY - box.top + 14}px`;
}

function edgeText(view, c, e) {
  const { columns, layers } = view.arrays;
  const l = layers[c];
  const source = c === 0 ? `input ${columns[0].index[l.source[e]]}` : `${columns[c].name} neuron ${l.source[e]}`;
  const lines = [l.name, `${source} → neuron ${l.target[e]}`, `weight ${l.weight[e].toFixed(4)}`];
  if (l.ratio) lines.push(`${view.data.score} ${l.ratio[e].toFixed(3)} × the layer's largest`);
  lines.push(l.from[e] <= view.index ? "pruned" : "kept");
  return lines.join("\n");
}

function nodeText(view, c, j) {
  const { columns } = view.arrays;
  const col = columns[c];
  const gone = col.from[j] <= view.index;
  if (c === 0) {
    const row = col.index[j];
    const image = view.data.image;
    const where = image ? ` (pixel row ${Math.floor(row / image[1])}, column ${row % image[1]})` : "";
    return [`input ${row}${where}`, `Σ|w| out = ${col.sum[j]}`].concat(gone ? ["every outgoing weight pruned"] : [])
      .join("\n");
  }
  const output = c === columns.length - 1;
  const lines = [`${col.name} · ${output ? "output" : "neuron"} ${j} of ${count(col.count)}`, gone ? "removed" : "kept",
                 `Σ|w| in = ${col.sum[j]}`];
  if (col.ratio) lines.push(`${view.data.score} (neuron) ${col.ratio[j]} × the layer's largest`);
  else lines.push(`Σ ${view.data.score} in = ${col.score[j]}`);
  return lines.join("\n");
}

function send(view) {
  view.seq += 1;  // every rest is news to the server, also back to a value it held before a Reset
  view.setStateValue("values", { coefficient: view.data.grid[view.index], seq: view.seq });
}

// ----------------------------------------------------------------------------------------------- the entry
export default function (component) {
  const { data, parentElement, setStateValue } = component;
  let view = parentElement.__peNetView;
  if (!view || view.data.config !== data.config) {
    if (view) clearTimeout(view.timer);
    view = build(parentElement, data);
    parentElement.__peNetView = view;
    view.nonce = data.nonce;
    view.index = nearest(data.grid, Number(data.values.coefficient));
    unpack(data).then((arrays) => {
      buildPicture(view, arrays);
      draw(view);
      view.box.dataset.ready = "1";
    });
  } else if (view.nonce !== data.nonce) {  // the server set the value (a link, Reset, another page)
    view.nonce = data.nonce;
    clearTimeout(view.timer);
    view.index = nearest(data.grid, Number(data.values.coefficient));
  }
  view.data = data;
  view.setStateValue = setStateValue;
  draw(view);
}
