"""Network page, live: the coefficient slider, the numbers beside the picture and the picture itself are one
Streamlit component (Components v2, ``ui/components/live_network.js``) that redraws every move in the browser.

Python sends it, once per model and (criterion, granularity, connections drawn), the drawn neurons and connections
(``prune_core.viz.network_layout``, as the server figure draws them) and prune_core's masks at every slider position
(:func:`prune_core.viz.network_live.network_table`: one ``select`` per position, the call a server rerun makes,
kept as the first position at which each line / neuron is pruned), with the page's numbers at each position
formatted here (:func:`ui.network.metric_row`). A move only looks them up: no server round trip, and exactly what
the server would show. When the slider rests the component sends its value; the callback writes it to
``net_coefficient`` (so the URL, Reset and values kept across pages work as with Streamlit's slider) and the
fragment reruns only to write the URL, mounting the very data of the previous run (a reference to the browser's copy
in Streamlit's message cache). Values the server sets (a link, Reset) reach the component with a new ``nonce``.

Where the server figure (``ui.network.figure``, plotly) is drawn instead: a conv net's first filters (the page's
"conv" view), Dense stacks of more than :data:`MAX_WEIGHTS` kernel weights (pruning at every position takes too long),
a rule whose pruning does not only grow with the slider (``network_table`` refuses it), and
``PRUNING_EXPLORER_NETWORK_LIVE=0`` (the server path on purpose: ``bench/bench_network.py`` measures both).
"""

from __future__ import annotations

import os

import numpy as np
import streamlit as st

from prune_core.measure import live
from prune_core.viz import network_live
from prune_core.viz.network_live import NetworkTable

from . import network as nu
from . import live_component, present
from .prune_session import Context

# Not style-isolated: its classes are all "pe-…", and the page's tests and tools read it like the rest of the DOM.
COMPONENT = live_component.register("live_network")
KEY = "net_live"  # the component's key (not a setting: its value is written to net_coefficient)
ENV = "PRUNING_EXPLORER_NETWORK_LIVE"  # "0": the server figure on every move (the path before the live view)
MAX_WEIGHTS = 3_000_000  # kernel weights above which pruning at every position takes too long (> ~10 s)
PROGRESS_ABOVE = 500_000  # kernel weights above which preparing the table shows its progress
LABEL = "Coefficient — prune where score < coefficient × the layer's largest score"
HELP = "One threshold per layer. Typical values are 0.1–0.5; at 0 nothing is pruned."
LAST_KEY = "net_live_last"  # the data the component was last mounted with
FROM_BROWSER_KEY = "net_live_from_browser"  # set by the callback: this run shows the value the browser already has
SHOWN_KEY = "net_live_shown"  # the value the browser shows, as far as the server knows
NONCE_KEY = "net_live_nonce"


def eligible(ctx: Context) -> bool:
    """Whether moves can be drawn in the browser (see the module's docstring for the cases not)."""
    if os.environ.get(ENV) == "0":
        return False
    return sum(int(np.size(k)) for k in ctx.kernels.values()) <= MAX_WEIGHTS


def payload(ctx: Context, all_scores: dict, criterion: str, granularity: str, sample: str, where=None) -> dict | None:
    """The component's data but the value, built once per model, data and settings (None: the rule cannot be drawn
    from one position per line; the page draws the server figure)."""
    cache = nu.model_cache(ctx.entry)
    key = ("live", ctx.dataset.key, criterion, granularity, sample, present.on())
    if key not in cache:
        weights = sum(int(np.size(k)) for k in ctx.kernels.values())
        try:
            cache[key] = build(ctx, all_scores, criterion, granularity, sample,
                               where=where if weights > PROGRESS_ABOVE else None)
        except ValueError:
            cache[key] = None
    return cache[key]


def build(ctx: Context, all_scores: dict, criterion: str, granularity: str, sample: str, where=None) -> dict:
    low, high, step = nu.coefficient_range()
    grid = live.slider_grid(low, high, step)
    layout = nu.layout(ctx, sample)
    bar = where.progress(0.0, text=f"Preparing the live view: pruning at each of the {len(grid)} slider positions "
                                   "once, so every move redraws at once…") if where is not None else None

    def progress(done: int, total: int) -> None:
        if bar is not None:
            bar.progress(done / total, text=f"Preparing the live view: slider position {done} of {total}…")

    table = network_live.network_table(
        layout, lambda c: nu.mask_set(ctx, all_scores, criterion, granularity, c), grid, progress=progress)
    if bar is not None:
        bar.empty()
    scores = all_scores[criterion]
    unit_scores = nu.unit_scores(ctx, all_scores, criterion) if granularity == "unit" else None
    columns = _columns(ctx, layout, table, scores, unit_scores)
    layers = _layers(ctx, layout, table, scores if granularity == "weight" else None)
    scale = present.on()
    return {
        "config": "|".join(map(str, (criterion, granularity, sample, scale, hash(str(table.sparsity.tolist()))))),
        "present": scale, "grid": grid.tolist(), "step": step, "label": LABEL, "help": HELP,
        "score": f"{nu.criterion_label(criterion)} score", "unit": granularity == "unit",
        "columns": columns, "layers": layers, "metrics": _metrics(ctx, layout, table),
        "image": list(ctx.image_shape) if ctx.image_shape and len(ctx.image_shape) == 2 else None,
    }


def _metrics(ctx: Context, layout, table: NetworkTable) -> list[dict]:
    """The page's numbers (``ui.network.metric_row``) at every position: label, help, and the value and the line
    under it — one text when it does not change with the slider, else one per position."""
    drawn = sum(e.drawn for e in layout.layers)
    total = sum(e.total for e in layout.layers)
    hidden = sum(layout.units[:-1])
    rows = [nu.metric_row(drawn, total, int(table.edges_pruned[i]), int(table.neurons_removed[i]), hidden,
                          float(table.sparsity[i])) for i in range(len(table.grid))]

    def one_or_all(texts: list) -> str | list | None:
        return texts[0] if all(t == texts[0] for t in texts) else texts

    return [{"label": first.label, "help": first.help, "value": one_or_all([r[m].value for r in rows]),
             "delta": one_or_all([r[m].delta for r in rows])} for m, first in enumerate(rows[0])]


def _columns(ctx: Context, layout, table: NetworkTable, scores: dict, unit_scores: dict | None) -> list[dict]:
    """Per column (inputs, then each layer): heading, node heights, the position each node greys at, hover numbers."""
    names = list(layout.names)
    first = np.abs(np.asarray(ctx.kernels[names[0]], dtype=np.float64))
    shown, total = len(layout.inputs), layout.n_inputs
    columns = [{"name": "inputs", "sub": f"{shown:,} of {total:,}" if shown < total else f"{total:,}",
                "count": shown, "y": live.packed_floats(layout.y[0]), "from": live.packed(table.node_from[0]),
                "index": [int(i) for i in layout.inputs], "sum": _rounded(first[layout.inputs].sum(axis=1)),
                "ratio": None}]
    for c, name in enumerate(names, start=1):
        kernel = np.abs(np.asarray(ctx.kernels[name], dtype=np.float64))
        units = layout.units[c - 1]
        ratio = None
        if unit_scores is not None and name in unit_scores:
            u = np.asarray(unit_scores[name], dtype=np.float64)
            ratio = _rounded(u / (u.max() or 1.0))
        output = c == len(names)
        columns.append({"name": name, "sub": f"{units:,} {'outputs' if output else 'neurons'}", "count": units,
                        "y": live.packed_floats(layout.y[c]), "from": live.packed(table.node_from[c]),
                        "sum": _rounded(kernel.sum(axis=0)), "ratio": ratio,
                        "score": _rounded(np.asarray(scores[name], dtype=np.float64).sum(axis=0)),
                        "labels": output and units <= 20})
    return columns


def _layers(ctx: Context, layout, table: NetworkTable, scores: dict | None) -> list[dict]:
    """Per layer, its drawn lines: ends, look (sign × strength), weight, score ratio (weights only), first position
    pruned; packed (zlib + base64) for the browser."""
    result = []
    for drawn, style, pruned_from in zip(layout.layers, network_live.edge_styles(layout, ctx.kernels),
                                         table.edge_from):
        weights = np.asarray(ctx.kernels[drawn.name], dtype=np.float64)[drawn.rows, drawn.cols]
        ratio = None
        if scores is not None:
            s = np.asarray(scores[drawn.name], dtype=np.float64)
            ratio = live.packed_floats(s[drawn.rows, drawn.cols] / (s.max() or 1.0))
        result.append({"name": drawn.name, "count": drawn.drawn, "source": live.packed(style.source),
                       "target": live.packed(style.target), "rows": live.packed(drawn.rows),
                       "look": live.packed(style.strength + 3 * style.negative), "from": live.packed(pruned_from),
                       "weight": live.packed_floats(weights), "ratio": ratio})
    return result


def _rounded(values: np.ndarray) -> list[float]:
    """Three significant digits, as the server figure's hover text shows them (``:.3g``)."""
    return [float(f"{v:.3g}") for v in np.asarray(values, dtype=np.float64)]


def mount(data: dict) -> float:
    """Mount the component with ``data`` and the coefficient held in ``net_coefficient``; returns that value.

    A rerun the component itself asked for (its slider rested) mounts the very data of the previous run: the browser
    already shows that value, and the same message goes as a reference to the copy the browser holds. Any other run
    sends the value held now, with a new nonce when the browser may show another one (a link, Reset)."""
    value = float(st.session_state.get("net_coefficient", nu.DEFAULTS["net_coefficient"]))
    last = st.session_state.get(LAST_KEY)
    same = last is not None and last["config"] == data["config"]
    if st.session_state.pop(FROM_BROWSER_KEY, False) and same:
        mounted = last
    else:
        nonce = st.session_state.get(NONCE_KEY, 0)
        if not same or st.session_state.get(SHOWN_KEY) != value:
            nonce += 1
            st.session_state[NONCE_KEY] = nonce
            st.session_state[SHOWN_KEY] = value
        mounted = dict(data, values={"coefficient": value}, nonce=nonce)
    st.session_state[LAST_KEY] = mounted
    COMPONENT(key=KEY, data=mounted, on_values_change=take_values)
    return value


def take_values() -> None:
    """The component's callback: its value (from the browser, so checked) into ``net_coefficient``."""
    state = st.session_state.get(KEY)
    sent = getattr(state, "values", None) if not isinstance(state, dict) else state.get("values")
    value = sent.get("coefficient") if isinstance(sent, dict) else None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        return
    low, high, _ = nu.coefficient_range()
    value = min(max(float(value), low), high)
    st.session_state["net_coefficient"] = value
    st.session_state[SHOWN_KEY] = value
    st.session_state[FROM_BROWSER_KEY] = True
