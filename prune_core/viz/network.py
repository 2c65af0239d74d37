"""The network drawn as a plotly figure: an MLP's neurons as columns, its connections as lines, pruned ones
faded (pure, no Streamlit); a conv net's first filters as tiles. Which neurons and connections are drawn,
and where, is ``network_layout``'s job (no plotly there).

For stacks of Dense layers; a wide input is shown as its strongest inputs and large layers as a sample of
their connections (``network_layout``), chosen from the dense weights only, so the picture keeps its lines
as a slider moves and only their colours change.

Line colour is the weight's sign (teal positive, purple negative — never the kept-blue/pruned-orange of
the other charts), width its size within its layer; pruned connections are light grey, removed neurons
(all incoming weights pruned, or removed by unit pruning) greyed out. Edges go into a few traces by
colour and width (lines with None separators), not one trace per edge.

>>> rng = np.random.default_rng(0)
>>> kernels = {"h": rng.normal(size=(6, 4)), "out": rng.normal(size=(4, 2))}
>>> keep = {n: np.abs(k) >= 0.5 for n, k in kernels.items()}
>>> fig, summary = network_figure(kernels, keep, max_edges=16)
>>> summary.edges_drawn, summary.edges_pruned == sum(int((~keep[d.name][d.rows, d.cols]).sum()) for d in summary.layers)
(16, True)
>>> [(d.name, d.drawn, d.per_neuron) for d in summary.layers]
[('h', 8, 2), ('out', 8, None)]
"""

from __future__ import annotations

import html as _html
from dataclasses import dataclass, field
from typing import Mapping

import numpy as np
import plotly.graph_objects as go

from .network_layout import (MAX_EDGES, MAX_INPUTS, LayerEdges, NetworkLayout, network_layout, pruned_filters,
                             removed_neurons)
from .style import MUTED, SERIES, house_layout

POSITIVE = SERIES[0]  # teal
NEGATIVE = SERIES[1]  # violet: blue and orange stay reserved for kept/pruned
FADED = "rgba(203, 213, 225, 0.45)"  # a pruned connection: light grey
NEURON = "#334155"
REMOVED_FILL = "#e5e7eb"
REMOVED_LINE = "#9ca3af"
_WIDTHS = (0.4, 0.8, 1.6)       # weak, middle, strong (|w| within the layer's drawn edges)
_ALPHAS = (0.2, 0.42, 0.8)
_GOLDEN = 0.6180339887498949
BAR_FROM = 80     # columns of this many neurons or more draw each as a short dash (a greyed one shows as a gap)
BAR_PX = 11


@dataclass
class NetworkSummary:
    """What the figure shows: connections drawn and of those pruned (faded), neurons removed (greyed)."""

    edges_drawn: int
    edges_pruned: int
    edges_total: int
    inputs_shown: int
    inputs_total: int
    removed: dict[str, tuple[int, ...]]      # layer → indices of removed neurons
    inputs_unused: int                       # drawn inputs with every outgoing weight pruned (greyed too)
    layers: tuple[LayerEdges, ...] = field(default=())
    pruned_by_layer: dict[str, int] = field(default_factory=dict)

    @property
    def neurons_removed(self) -> int:
        return sum(len(v) for v in self.removed.values())


def _rgba(hex_colour: str, alpha: float) -> str:
    h = hex_colour.lstrip("#")
    return f"rgba({int(h[0:2], 16)}, {int(h[2:4], 16)}, {int(h[4:6], 16)}, {alpha})"


def _lines(x0, y0, x1, y1) -> tuple[list, list]:
    """Segment coordinates for one Scatter trace, each segment followed by None."""
    n = len(x0)
    xs = np.empty(3 * n, dtype=object)
    ys = np.empty(3 * n, dtype=object)
    xs[0::3], xs[1::3], xs[2::3] = np.round(x0, 4), np.round(x1, 4), None
    ys[0::3], ys[1::3], ys[2::3] = np.round(y0, 4), np.round(y1, 4), None
    return xs.tolist(), ys.tolist()


def network_figure(kernels: Mapping[str, np.ndarray], keep: Mapping[str, np.ndarray],
                   unit_keep: Mapping[str, np.ndarray] | None = None, scores: Mapping[str, np.ndarray] | None = None,
                   *, unit_scores: Mapping[str, np.ndarray] | None = None, max_edges: int = MAX_EDGES,
                   max_inputs: int = MAX_INPUTS, sample: str = "spread", layout: NetworkLayout | None = None,
                   labels: Mapping[str, str] | None = None, score_label: str = "score",
                   image_shape: tuple | None = None, title: str | None = None,
                   height: int = 640) -> tuple[go.Figure, NetworkSummary]:
    """The network as a plotly figure, and what it shows (:class:`NetworkSummary`).

    ``keep``: kernel masks (True = kept, a ``MaskSet.kernels``); ``unit_keep``: {layer: bool per neuron}
    (a unit-granularity ``MaskSet.units``); ``scores``/``unit_scores``: the criterion's kernel-shaped and
    per-neuron scores, for the hover text. ``layout``: from :func:`network_layout` (pass it to skip that work
    on a slider move). ``labels``: {layer: name as shown}, already escaped for HTML (names are escaped
    here when absent); ``image_shape``: (28, 28) names the input pixels by row and column.
    """
    if layout is None:
        layout = network_layout(kernels, max_edges=max_edges, max_inputs=max_inputs, sample=sample)
    names = list(layout.names)
    labels = {n: (labels or {}).get(n) or _html.escape(str(n), quote=True) for n in names}
    score_label = _html.escape(score_label)
    removed = removed_neurons(keep, unit_keep, names)
    columns = len(names) + 1

    line_groups: dict[tuple, list] = {}
    hover_traces: list[go.Scatter] = []
    pruned_by_layer = {}
    for c, edges in enumerate(layout.layers):
        name = edges.name
        kernel = np.asarray(kernels[name], dtype=np.float64)
        kept = np.asarray(keep[name], dtype=bool)[edges.rows, edges.cols]
        weights = kernel[edges.rows, edges.cols]
        pruned_by_layer[name] = int((~kept).sum())
        src_y = layout.y[c][np.searchsorted(layout.inputs, edges.rows)] if c == 0 else layout.y[c][edges.rows]
        dst_y = layout.y[c + 1][edges.cols]
        strength = np.abs(weights) / (np.abs(weights).max() or 1.0)
        bucket = np.minimum((strength * 3).astype(int), 2)
        for state_kept, state in ((False, "pruned"), (True, "kept")):
            chosen = kept == state_kept
            if not state_kept:
                line_groups.setdefault(("pruned",), []).append((src_y[chosen], dst_y[chosen], c))
            else:
                for sign in (1, -1):
                    for b in range(3):
                        pick = chosen & (bucket == b) & ((weights >= 0) if sign > 0 else (weights < 0))
                        line_groups.setdefault((sign, b), []).append((src_y[pick], dst_y[pick], c))
            if not chosen.any():
                continue
            t = 0.3 + 0.4 * ((np.arange(int(chosen.sum())) * _GOLDEN) % 1.0)
            hx = c + t
            hy = src_y[chosen] + (dst_y[chosen] - src_y[chosen]) * t
            cells = [edges.rows[chosen], edges.cols[chosen], np.round(weights[chosen], 6)]
            source = "input" if c == 0 else f"{labels[names[c - 1]]} neuron"
            template = (f"<b>{labels[name]}</b><br>{source} %{{customdata[0]}} → neuron %{{customdata[1]}}"
                        f"<br>weight %{{customdata[2]:.4f}}")
            if scores is not None and name in scores:
                cells.append(np.asarray(scores[name], dtype=np.float64)[edges.rows, edges.cols][chosen])
                template += f"<br>{score_label} %{{customdata[3]:.3g}}"
            template += f"<br>{state}<extra></extra>"
            hover_traces.append(go.Scatter(
                x=np.round(hx, 4), y=np.round(hy, 4), mode="markers", showlegend=False, name=f"{name} {state}",
                marker=dict(size=7, color="rgba(0,0,0,0)"), customdata=np.column_stack(cells),
                hovertemplate=template, meta=dict(layer=name, state=state)))

    data = []
    legend_done = set()
    order = [("pruned",)] + [(s, b) for b in range(3) for s in (1, -1)]
    for key in order:
        parts = line_groups.get(key, [])
        y0 = np.concatenate([p[0] for p in parts]) if parts else np.empty(0)
        y1 = np.concatenate([p[1] for p in parts]) if parts else np.empty(0)
        x0 = np.concatenate([np.full(len(p[0]), float(p[2])) for p in parts]) if parts else np.empty(0)
        if key == ("pruned",):
            colour, width, legend, group = FADED, _WIDTHS[0], "pruned connection", "pruned"
        else:
            sign, b = key
            colour = _rgba(POSITIVE if sign > 0 else NEGATIVE, _ALPHAS[b])
            width = _WIDTHS[b]
            legend = "positive weight" if sign > 0 else "negative weight"
            group = legend
        xs, ys = _lines(x0, y0, x0 + 1.0, y1)
        show = group not in legend_done and key != ("pruned",) and key[1] == 2
        if show:
            legend_done.add(group)
        data.append(go.Scatter(x=xs, y=ys, mode="lines", line=dict(color=colour, width=width), hoverinfo="skip",
                               name=legend, legendgroup=group, showlegend=show,
                               meta=dict(edges="pruned" if key == ("pruned",) else "kept", count=len(y0))))

    # The faded lines are too faint for a legend sample: a legend-only entry draws it thicker.
    data.append(go.Scatter(x=[None], y=[None], mode="lines", line=dict(color="rgba(203, 213, 225, 0.95)", width=3),
                           name="pruned connection (faded)", legendgroup="pruned", hoverinfo="skip"))
    node_x, node_y, node_text, node_size, node_gone, node_count = [], [], [], [], [], []
    first = np.asarray(kernels[names[0]], dtype=np.float64)
    first_keep = np.asarray(keep[names[0]], dtype=bool)
    inputs_unused = 0
    for i, row in enumerate(layout.inputs):
        used = int(first_keep[row].sum())
        gone = used == 0
        inputs_unused += gone
        where = ""
        if image_shape and len(image_shape) == 2 and image_shape[0] * image_shape[1] == layout.n_inputs:
            where = f" (pixel row {row // image_shape[1]}, column {row % image_shape[1]})"
        node_text.append(f"<b>input {row}</b>{where}<br>outgoing weights kept: {used:,} of {first.shape[1]:,}"
                         f"<br>Σ|w| out = {np.abs(first[row]).sum():.3g}" + ("<br>every outgoing weight pruned"
                                                                             if gone else ""))
        node_gone.append(gone)
    node_x += [0.0] * len(layout.inputs)
    node_y += layout.y[0].tolist()
    node_size += [_node_size(len(layout.inputs), height)] * len(layout.inputs)
    node_count += [len(layout.inputs)] * len(layout.inputs)
    for c, name in enumerate(names, start=1):
        kernel = np.asarray(kernels[name], dtype=np.float64)
        mask = np.asarray(keep[name], dtype=bool)
        kept_in = mask.sum(axis=0)
        sums = np.abs(kernel).sum(axis=0)
        is_output = c == len(names)
        for j in range(kernel.shape[1]):
            gone = bool(removed[name][j])
            text = (f"<b>{labels[name]}</b> {'output' if is_output else 'neuron'} {j} of {kernel.shape[1]:,}"
                    f"<br>{'removed' if gone else 'kept'}<br>incoming weights kept: {int(kept_in[j]):,} of "
                    f"{kernel.shape[0]:,}<br>Σ|w| in = {sums[j]:.3g}")
            if unit_scores is not None and name in unit_scores:
                text += f"<br>{score_label} (neuron) {float(np.asarray(unit_scores[name])[j]):.3g}"
            elif scores is not None and name in scores:
                text += f"<br>Σ {score_label} in = {float(np.asarray(scores[name])[:, j].sum()):.3g}"
            node_text.append(text)
            node_gone.append(gone)
        node_x += [float(c)] * kernel.shape[1]
        node_y += layout.y[c].tolist()
        node_size += [_node_size(kernel.shape[1], height)] * kernel.shape[1]
        node_count += [kernel.shape[1]] * kernel.shape[1]
    node_gone = np.asarray(node_gone, dtype=bool)
    node_x, node_y, node_size, node_count = (np.asarray(v) for v in (node_x, node_y, node_size, node_count))
    bars = node_count >= BAR_FROM
    texts = np.asarray(node_text, dtype=object)
    for gone, legend, fill in ((False, "neuron", NEURON), (True, "removed neuron (greyed)", REMOVED_FILL)):
        if (node_gone == gone).any():  # legend-only: a circle reads better there than a faint dash
            data.append(go.Scatter(x=[None], y=[None], mode="markers", name=legend, legendgroup=legend,
                                   marker=dict(size=9, color=fill, line=dict(color=REMOVED_LINE if gone else "white",
                                                                             width=1)), hoverinfo="skip"))
        for bar in (False, True):
            pick = (node_gone == gone) & (bars == bar)
            if not pick.any():
                continue
            if bar:
                marker = dict(symbol="line-ew", size=BAR_PX, line=dict(color=fill if gone else NEURON, width=1.4))
            else:
                marker = dict(size=node_size[pick], color=fill, line=dict(color=REMOVED_LINE if gone else "white",
                                                                          width=0.8))
            data.append(go.Scatter(x=node_x[pick], y=np.round(node_y[pick], 4), mode="markers", name=legend,
                                   legendgroup=legend, hovertext=texts[pick].tolist(), hoverinfo="text",
                                   showlegend=False, marker=marker,
                                   meta=dict(nodes="removed" if gone else "kept", bars=bar)))
    outputs = layout.units[-1]
    if outputs <= 20:  # name the outputs (class indices) beside their nodes
        data.append(go.Scatter(x=[float(len(names))] * outputs, y=np.round(layout.y[-1], 4).tolist(),
                               mode="markers+text", marker=dict(size=_node_size(outputs, height) + 4,
                                                                color="rgba(0,0,0,0)"),
                               text=[str(j) for j in range(outputs)], textposition="middle right",
                               textfont=dict(size=11, color=MUTED), hoverinfo="skip", showlegend=False,
                               name="output labels"))
    data += hover_traces

    heads = [f"<b>inputs</b><br>{len(layout.inputs):,} of {layout.n_inputs:,}" if len(layout.inputs) < layout.n_inputs
             else f"<b>inputs</b><br>{layout.n_inputs:,}"]
    heads += [f"<b>{labels[n]}</b><br>{u:,} {'outputs' if i == len(names) - 1 else 'neurons'}"
              for i, (n, u) in enumerate(zip(names, layout.units))]
    fig = go.Figure(data=data, layout=house_layout(
        title=title, height=height, hovermode="closest", showlegend=True,
        xaxis=dict(range=[-0.2, columns - 0.8 + (0.12 if layout.units[-1] <= 20 else 0)], tickvals=list(range(columns)),
                   ticktext=heads, showgrid=False, zeroline=False, fixedrange=True, tickfont=dict(size=12, color=MUTED)),
        yaxis=dict(range=[-0.03, 1.03], visible=False, fixedrange=True),
        margin=dict(l=10, r=10, t=40 if title else 20, b=10)))
    summary = NetworkSummary(
        edges_drawn=sum(e.drawn for e in layout.layers), edges_pruned=sum(pruned_by_layer.values()),
        edges_total=sum(e.total for e in layout.layers), inputs_shown=len(layout.inputs),
        inputs_total=layout.n_inputs, removed={n: tuple(np.flatnonzero(removed[n]).tolist()) for n in names},
        inputs_unused=int(inputs_unused), layers=layout.layers, pruned_by_layer=pruned_by_layer)
    return fig, summary


def _node_size(n: int, height: int) -> float:
    return float(np.clip(0.8 * (height - 120) / max(n, 1), 3.0, 13.0))


def first_filters_figure(kernel: np.ndarray, keep: np.ndarray, *, max_filters: int = 64, columns: int = 8,
                         title: str | None = None, tile_px: int = 54) -> go.Figure:
    """A conv layer's filters as small images: one tile per output filter (the kernel averaged over its input
    channels, pruned weights as 0), teal positive, purple negative; a filter whose every weight is pruned
    is blanked (grey) and labelled "pruned". At most ``max_filters`` tiles, ``columns`` a row.
    """
    kernel = np.asarray(kernel, dtype=np.float64)
    keep = np.asarray(keep, dtype=bool)
    if kernel.ndim != 4 or keep.shape != kernel.shape:
        raise ValueError(f"A Conv2D kernel (height, width, in, out) and a mask of its shape are needed, not "
                         f"{'×'.join(map(str, kernel.shape))}.")
    kh, kw, _, cout = kernel.shape
    shown = min(cout, max_filters)
    cols = min(columns, shown)
    rows = -(-shown // cols)
    mean = (kernel * keep).mean(axis=2)  # (kh, kw, cout)
    gone = pruned_filters(keep)
    z = np.full((rows * (kh + 1) - 1, cols * (kw + 1) - 1), np.nan)
    hover = np.full(z.shape, "", dtype=object)
    annotations, shapes = [], []
    for f in range(shown):
        r0, c0 = (f // cols) * (kh + 1), (f % cols) * (kw + 1)
        if gone[f]:
            shapes.append(dict(type="rect", x0=c0 - 0.5, x1=c0 + kw - 0.5, y0=r0 - 0.5, y1=r0 + kh - 0.5,
                               fillcolor="#f1f5f9", line=dict(color="#cbd5e1", width=1), layer="below"))
            annotations.append(dict(x=c0 + (kw - 1) / 2, y=r0 + (kh - 1) / 2, text="pruned", showarrow=False,
                                    font=dict(size=10, color=MUTED)))
            continue
        z[r0:r0 + kh, c0:c0 + kw] = mean[:, :, f]
        for i in range(kh):
            for j in range(kw):
                hover[r0 + i, c0 + j] = f"filter {f}<br>row {i}, column {j}<br>mean weight {mean[i, j, f]:.4f}"
    finite = np.abs(z[np.isfinite(z)])
    limit = float(finite.max()) if finite.size and finite.max() > 0 else 1.0
    zlist = [[None if not np.isfinite(v) else round(float(v), 6) for v in row] for row in z]
    heat = go.Heatmap(z=zlist, hovertext=hover.tolist(), hoverinfo="text", hoverongaps=False, zmin=-limit,
                      zmax=limit, zmid=0, colorscale=[[0, NEGATIVE], [0.5, "#f8fafc"], [1, POSITIVE]],
                      colorbar=dict(title=dict(text="mean<br>weight", side="top"), thickness=12, len=0.9),
                      xgap=0, ygap=0)
    height = max(140, rows * tile_px + (60 if title else 40))
    fig = go.Figure(data=[heat], layout=house_layout(
        title=title, height=height, shapes=shapes, annotations=annotations,
        xaxis=dict(visible=False, scaleanchor="y", constrain="domain", fixedrange=True),
        yaxis=dict(visible=False, autorange="reversed", constrain="domain", fixedrange=True),
        margin=dict(l=10, r=10, t=40 if title else 20, b=10)))
    return fig
