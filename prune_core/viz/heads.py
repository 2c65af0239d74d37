"""Attention heads, drawn: the heads heatmap (attention layers × heads, colour = importance, removed heads
framed in orange) and the accuracy as heads are removed. The numbers come from :mod:`prune_core.measure.heads`.

>>> import numpy as np
>>> fig = heads_heatmap({"mha0": np.array([1.0, 4.0]), "mha1": np.array([2.0, 4.0])},
...                     {"mha0": np.array([False, True]), "mha1": np.array([True, True])})
>>> [list(row) for row in fig.data[0].z], fig.data[1].x, fig.data[1].y
([[0.25, 1.0], [0.5, 1.0]], ('head 0',), ('mha0',))
"""

from __future__ import annotations

from typing import Mapping

import numpy as np
import plotly.graph_objects as go

from .style import DENSE, PRUNED, SERIES, hline, house_layout

# Light to dark teal: importance is not kept/pruned, so it never takes their blue or orange.
IMPORTANCE_SCALE = [[0.0, "#f0fdfa"], [0.5, "#5eead4"], [1.0, "#0f766e"]]


def heads_heatmap(scores: Mapping[str, np.ndarray], keep: Mapping[str, np.ndarray] | None = None, *,
                  height: int | None = None) -> go.Figure:
    """Layers (rows, in model order) × heads (columns); colour and text = the head's importance as a share of its
    layer's largest (each row reads on its own scale), an orange frame on every removed head (``keep`` False)."""
    layers = list(scores)
    width = max(len(v) for v in scores.values())
    z = np.full((len(layers), width), np.nan)
    raw = np.full((len(layers), width), np.nan)
    for i, name in enumerate(layers):
        vector = np.asarray(scores[name], dtype=np.float64)
        top = float(np.max(np.abs(vector))) or 1.0
        z[i, :len(vector)], raw[i, :len(vector)] = vector / top, vector
    heads = [f"head {h}" for h in range(width)]
    # The colour range starts at the smallest share shown (rounded down to 5%), so heads within a few percent of
    # each other are told apart; the colour bar's ticks and each cell's text say the true shares.
    low = float(np.floor(np.nanmin(z) * 20) / 20) if np.isfinite(np.nanmin(z)) else 0.0
    low = min(max(low, 0.0), 0.95)
    text = [["" if np.isnan(v) else f"{v:.1%}" for v in row] for row in z]
    cells = go.Heatmap(z=_cells(z), x=heads, y=layers, customdata=_cells(raw), colorscale=IMPORTANCE_SCALE,
                       zmin=low, zmax=1, text=text, texttemplate="%{text}", textfont=dict(size=12), xgap=2, ygap=2, colorbar=dict(title=dict(text="share of<br>layer's top"), tickformat=".0%",
                                                     thickness=12),
                       hovertemplate="%{y} · %{x}<br>importance %{customdata:.4g} (%{z:.0%} of the layer's top)"
                                     "<extra></extra>")
    removed = [(f"head {h}", name) for name in layers for h, kept in enumerate((keep or {}).get(name, ())) if not kept]
    crosses = go.Scatter(x=[h for h, _ in removed], y=[n for _, n in removed], mode="markers", name="removed",
                         marker=dict(symbol="square-open", size=34, line=dict(width=3, color=PRUNED), color=PRUNED),
                         hovertemplate="%{y} · %{x}: removed<extra></extra>", showlegend=bool(removed))
    layout = house_layout(height=height or 90 + 46 * len(layers), xaxis=dict(side="top", showgrid=False),
                          yaxis=dict(autorange="reversed", showgrid=False), margin=dict(l=10, r=10, t=30, b=40))
    return go.Figure(data=[cells, crosses], layout=layout)


def _cells(matrix: np.ndarray) -> list[list]:
    """Plain lists (JSON numbers, None for an empty cell): a few dozen cells, readable in the page's JSON."""
    return [[None if np.isnan(v) else float(v) for v in row] for row in matrix]


def heads_curve_figure(steps, dense_accuracy: float, current: int | None = None, *, height: int = 300) -> go.Figure:
    """Test accuracy (y) against heads removed (x, share of all heads), the dense accuracy as a grey dashed line;
    ``current``: the per-layer count shown in the heatmap, ringed."""
    x = [s.share for s in steps]
    y = [s.accuracy for s in steps]
    text = [f"{s.removed} of {s.total} heads ({s.per_layer} per layer)" for s in steps]
    line = go.Scatter(x=x, y=y, mode="lines+markers", name="masked model", text=text, line=dict(color=SERIES[0]),
                      hovertemplate="%{text}<br>test accuracy %{y:.2%}<extra></extra>")
    data = [line]
    if current is not None and 0 <= current < len(steps):
        data.append(go.Scatter(x=[x[current]], y=[y[current]], mode="markers", name="shown above",
                               marker=dict(size=14, color="rgba(0,0,0,0)", line=dict(width=2, color=SERIES[1])),
                               hoverinfo="skip"))
    layout = house_layout(height=height, shapes=[hline(dense_accuracy, DENSE)],
                          xaxis=dict(title=dict(text="heads removed (share of all heads)"), tickformat=".0%"),
                          yaxis=dict(title=dict(text="test accuracy"), tickformat=".0%"))
    return go.Figure(data=data, layout=layout)
