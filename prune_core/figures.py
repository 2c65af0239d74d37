"""Plotly figure builders: data in, ``go.Figure`` out (pure, testable, no Streamlit).

Colours are fixed across the product: kept = blue, pruned = orange, dense baseline = grey.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio

KEPT = "#2563eb"
PRUNED = "#f97316"
DENSE = "#6b7280"
ACCENT = "#10b981"
SERIES = ["#2563eb", "#f97316", "#10b981", "#a855f7", "#ef4444", "#0ea5e9", "#eab308", "#64748b"]
FONT = dict(family='"Source Sans", sans-serif', size=12, color="#262730")  # the app's own font
MUTED = "#808495"  # tick labels and axis titles, as Streamlit draws them
GRID = "#e6eaf1"
# A small house template, used with ``st.plotly_chart(..., theme=None)`` so every chart looks the same
# (Streamlit's theme merge on each redraw costs the Prune page's histograms tens of ms in the browser).
# Plotly's built-in "plotly_white" is large, and resolving it costs ~10 ms per figure on the server.
TEMPLATE = "pruning_explorer"
_AXIS = dict(automargin=True, gridcolor=GRID, zerolinecolor=GRID, linecolor=GRID, ticks="", tickfont=dict(color=MUTED, size=12),
             title=dict(font=dict(color=MUTED, size=14)))
pio.templates[TEMPLATE] = go.layout.Template(layout=dict(
    paper_bgcolor="white", plot_bgcolor="white", font=FONT, colorway=SERIES, xaxis=_AXIS, yaxis=_AXIS,
    title=dict(font=dict(size=15, color="#1f2937")), hoverlabel=dict(font=dict(family=FONT["family"]))))


LEGEND = dict(orientation="h", yanchor="bottom", y=1.02, xanchor="right", x=1)  # on top, right-aligned


def title_layout(title: str) -> dict:
    """A chart title, left-aligned."""
    return dict(text=title, x=0, font=dict(size=15))


def vline(x: float, colour: str = "#111827") -> dict:
    """A dashed vertical line at data x spanning the plot (cheaper than Figure.add_vline)."""
    return dict(type="line", x0=x, x1=x, y0=0, y1=1, xref="x", yref="paper",
                line=dict(color=colour, dash="dash", width=1.5))


def base_layout(fig: go.Figure, *, title: str | None = None, height: int = 320) -> go.Figure:
    """The house style: white background, light grid, compact margins, legend on top."""
    fig.update_layout(**house_layout(title=title, height=height))
    return fig


def training_history(history: dict[str, list[float]], title: str | None = None) -> go.Figure:
    """Loss and accuracy per epoch (train solid, test dashed), accuracy on a second axis in %."""
    fig = go.Figure()
    epochs = list(range(1, len(history.get("loss", [])) + 1))
    for key, name, colour, dash, axis in (
        ("loss", "train loss", KEPT, "solid", "y"), ("val_loss", "test loss", KEPT, "dash", "y"),
        ("accuracy", "train accuracy", ACCENT, "solid", "y2"), ("val_accuracy", "test accuracy", ACCENT, "dash", "y2"),
    ):
        if history.get(key):
            values = [v * 100 for v in history[key]] if axis == "y2" else history[key]
            fig.add_trace(go.Scatter(x=epochs, y=values, name=name, mode="lines+markers", yaxis=axis,
                                     line=dict(color=colour, dash=dash)))
    fig.update_layout(xaxis=dict(title="epoch", dtick=1), yaxis=dict(title="loss (cross-entropy)"),
                      yaxis2=dict(title="accuracy", overlaying="y", side="right", showgrid=False, ticksuffix="%", tickformat=".0f"))
    return base_layout(fig, title=title)


def accuracy_steps(dense: float, pruned: float, final: float, height: int = 320) -> go.Figure:
    """Three bars: dense, pruned before retraining, after retraining (test accuracy in %)."""
    labels = ["dense", "pruned, before retraining", "after retraining"]
    values = [100 * dense, 100 * pruned, 100 * final]
    data = [go.Bar(x=labels, y=values, marker_color=[DENSE, PRUNED, KEPT], text=[f"{v:.2f}%" for v in values],
                   textposition="outside", hovertemplate="%{x}: %{y:.2f}%<extra></extra>")]
    low = max(0.0, min(values) - 10)
    layout = house_layout(height=height, showlegend=False,
                          yaxis=dict(title="test accuracy", ticksuffix="%", range=[low, 100.5]))
    return go.Figure(data=data, layout=layout)


def house_layout(*, title: str | None = None, height: int = 320, **extra) -> dict:
    """The house layout as a dict for ``go.Figure(layout=...)`` — building figures in one constructor
    call is several times faster than ``update_layout``, which matters on every slider move."""
    layout = dict(template=TEMPLATE, height=height, margin=dict(l=10, r=10, t=40 if title else 10, b=10),
                  legend=LEGEND)
    if title:
        layout["title"] = title_layout(title)
    layout.update(extra)
    return layout


def split_histogram_figure(hist, *, title: str | None = None, thresholds: tuple[float, ...] = (),
                           x_title: str = "weight value", log_x: bool = False, log_y: bool = False,
                           height: int = 260) -> go.Figure:
    """Stacked bars of kept (blue) and pruned (orange) counts per bin, threshold(s) as dashed lines.

    ``hist`` is a ``preview.SplitHistogram``; pass ``thresholds=(-t, t)`` for magnitude. With ``log_x``
    the edges are log10 values and thresholds are given in score units.
    """
    edges = np.asarray(hist.edges, dtype=float)
    centers = (edges[:-1] + edges[1:]) / 2  # with log_x the edges are already log10 values
    widths = np.diff(edges).tolist()
    data = [go.Bar(x=centers.tolist(), y=np.asarray(counts).tolist(), width=widths, name=name,
                   marker=dict(color=colour, line=dict(width=0)),
                   hovertemplate="%{x:.4g}: %{y:,}<extra>" + name + "</extra>")
            for counts, name, colour in ((hist.kept, "kept", KEPT), (hist.pruned, "pruned", PRUNED))]
    if log_x:  # bars on a log10 axis drawn linearly, ticks labelled as powers of ten
        low, high = int(np.floor(edges[0])), int(np.ceil(edges[-1]))
        ticks = list(range(low, high + 1, max(1, (high - low) // 6)))
        xaxis = dict(title=x_title, tickvals=ticks, ticktext=[f"1e{k}" for k in ticks])
    else:
        xaxis = dict(title=x_title)
    layout = house_layout(title=title, height=height, barmode="stack", bargap=0,
                          shapes=threshold_lines(thresholds, log_x), xaxis=xaxis,
                          legend={**LEGEND, "traceorder": "normal"},  # "kept, pruned", as everywhere else
                          yaxis=dict(title="count", type="log" if log_y else "linear"))
    return go.Figure(data=data, layout=layout)


def threshold_lines(thresholds: tuple[float, ...], log_x: bool = False) -> list[dict]:
    """Dashed vertical lines at the thresholds (log10 positions on a log axis; non-positive ones dropped)."""
    if log_x:
        thresholds = tuple(float(np.log10(t)) for t in thresholds if t > 0)
    return [vline(t) for t in thresholds]


def update_split_histogram(fig: go.Figure, hist, *, title: str | None = None, thresholds: tuple[float, ...] = (),
                           log_x: bool = False) -> go.Figure:
    """Give a figure from :func:`split_histogram_figure` new counts, thresholds and title, in place.

    Same bins only. About five times cheaper than building the figure again, which matters when it
    is redrawn on every slider move.
    """
    with fig.batch_update():
        fig.data[0].y = np.asarray(hist.kept).tolist()
        fig.data[1].y = np.asarray(hist.pruned).tolist()
        fig.layout.shapes = threshold_lines(thresholds, log_x)
        fig.layout.title = title_layout(title) if title else None
    return fig


def sparsity_bars(layers: list[str], sparsity: list[float], height: int = 260) -> go.Figure:
    """Per-layer sparsity as horizontal bars in % (pruned share in orange, kept share in blue)."""
    pruned = [100 * s for s in sparsity]
    data = [go.Bar(y=layers, x=pruned, orientation="h", name="pruned", marker_color=PRUNED,
                   text=[f"{p:.1f}%" for p in pruned], textposition="inside", insidetextanchor="start",
                   hovertemplate="%{y}: %{x:.1f}% pruned<extra></extra>"),
            go.Bar(y=layers, x=[100 - p for p in pruned], orientation="h", name="kept", marker_color=KEPT,
                   hovertemplate="%{y}: %{x:.1f}% kept<extra></extra>")]
    layout = house_layout(height=max(height, 60 + 40 * len(layers)), barmode="stack",
                          xaxis=dict(title="share of the layer's weights (%)", range=[0, 100]),
                          yaxis=dict(autorange="reversed"))
    return go.Figure(data=data, layout=layout)


def mosaic_image(mosaic, scale: int = 3):
    """The unit mosaic as an RGB uint8 image (red +, blue −, white = pruned or gap), upscaled ``scale``×.

    A picture is ~20× smaller to send than a heatmap of 28k values, which matters on every slider move.

    >>> mosaic_image(np.array([[1.0, -1.0, np.nan]]), scale=1).tolist()
    [[[178, 24, 43], [33, 102, 172], [255, 255, 255]]]
    """
    mosaic = np.asarray(mosaic, dtype=np.float32)
    finite = np.isfinite(mosaic)
    limit = float(np.abs(mosaic[finite]).max()) if finite.any() and np.abs(mosaic[finite]).max() > 0 else 1.0
    t = np.clip(np.where(finite, mosaic, 0.0) / limit, -1.0, 1.0)[..., None]  # −1 … 1
    white = np.array([255.0, 255.0, 255.0])
    red, blue = np.array([178.0, 24.0, 43.0]), np.array([33.0, 102.0, 172.0])
    rgb = np.where(t >= 0, white + (red - white) * t, white + (blue - white) * (-t))
    rgb[~finite] = white
    image = np.rint(rgb).astype(np.uint8)
    return image.repeat(scale, axis=0).repeat(scale, axis=1)


def hline(y: float, colour: str = "#111827") -> dict:
    """A dashed horizontal line at data y spanning the plot (cheaper than Figure.add_hline)."""
    return dict(type="line", x0=0, x1=1, y0=y, y1=y, xref="paper", yref="y",
                line=dict(color=colour, dash="dash", width=1.5))


EXAMPLE_SCORE_LABELS = {"l1": "L1 term", "sensitivity": "sensitivity"}


def example_scores_figure(table, threshold: float, criterion: str, height: int = 340) -> go.Figure:
    """The worked example's scores as bars (kept blue, pruned orange), the threshold as a labelled dashed line.

    ``table`` has columns ``weight``, ``score`` and ``pruned`` (bool), as ``example.apply_coefficient_rule``
    returns it; bars keep the table's order. The y-axis always reaches above the threshold, so the line is
    visible even when it lies above every score (coefficient > 1, or an explicit maximum).
    """
    label = EXAMPLE_SCORE_LABELS.get(criterion, criterion)
    weights = [str(w) for w in table["weight"]]
    scores = [float(s) for s in table["score"]]
    pruned = [bool(p) for p in table["pruned"]]
    data = []
    for name, colour, want in (("kept", KEPT, False), ("pruned", PRUNED, True)):
        rows = [(w, s) for w, s, p in zip(weights, scores, pruned) if p == want]
        # An empty trace drops out of the legend; a None point keeps "kept"/"pruned" both explained.
        data.append(go.Bar(x=[w for w, _ in rows] or [None], y=[s for _, s in rows] or [None], name=name,
                           marker_color=colour,
                           text=[f"{s:.4g}" for _, s in rows], textposition="outside", cliponaxis=False,
                           hovertemplate="%{x}: " + label + " %{y:.4g} (" + name + ")<extra></extra>"))
    top = max(scores + [threshold]) if scores else max(threshold, 1.0)
    layout = house_layout(
        height=height, barmode="overlay", bargap=0.35, showlegend=True, margin=dict(l=10, r=110, t=30, b=10),
        xaxis=dict(title="weight", type="category", categoryorder="array", categoryarray=weights),
        yaxis=dict(title=f"score ({label})", range=[0, (top or 1.0) * 1.18], rangemode="tozero"),
        shapes=[hline(threshold)],
        annotations=[dict(x=1, xref="paper", y=threshold, yref="y", xanchor="left", yanchor="middle",
                          text=f" threshold {threshold:.4g}", showarrow=False, font=dict(size=12, color="#111827"))])
    return go.Figure(data=data, layout=layout)


# --- retrain & compare: run history, sweeps, sensitivity, iterative rounds ---------------------------

MODE_COLOURS = {"oneshot": SERIES[0], "gradual": SERIES[2], "iterative": SERIES[3], "dense": DENSE}
SIZE_AXES = {"nonzero_params": "nonzero parameters", "gzip_kb": "gzip of the .keras file (kB)",
             "params": "parameters"}


def _rows(data) -> list[dict]:
    """Records as a list of dicts, from a list of dicts or a DataFrame (e.g. ``RunStore.list``)."""
    if hasattr(data, "to_dict"):
        return data.to_dict("records")
    return [dict(r) for r in data]


def _get(row: dict, key: str):
    """row[key], or row[a][b] for a dotted key (records nest, ``RunStore.list`` flattens)."""
    if key in row:
        return row[key]
    head, _, tail = key.partition(".")
    inner = row.get(head)
    return inner.get(tail) if isinstance(inner, dict) and tail else None


def _size_value(row: dict, x: str, prefix: str = ""):
    if x == "gzip_kb":
        value = _get(row, prefix + "gzip_bytes")
        return None if value is None else float(value) / 1000.0
    value = _get(row, prefix + x)
    return None if value is None else float(value)


def _finite(value) -> bool:
    import math

    return value is not None and isinstance(value, (int, float)) and math.isfinite(value)


def accuracy_size_figure(runs, *, x: str = "nonzero_params", dense: dict | None = None, group: str = "mode",
                         title: str | None = None, height: int = 380) -> go.Figure:
    """Final test accuracy (%) against model size on a log x axis, one colour per ``group`` value (mode),
    the dense baseline as a grey star with a dashed accuracy line, and the Pareto frontier (smallest size
    for the accuracy, dense included) as a dotted staircase.

    ``runs``: run records (``RunResult.to_record()``, ``RunStore.records``) or ``RunStore.list``'s frame,
    with ``final_accuracy`` and ``nonzero_params`` / ``gzip_bytes``. ``x``: "nonzero_params", "gzip_kb" or
    "params". ``dense``: {"accuracy", "nonzero_params", "gzip_bytes", …}; default: the last run's ``dense``.
    """
    import pandas as pd

    from .history import pareto_front

    if x not in SIZE_AXES:
        raise ValueError(f"Unknown size axis {x!r}; choose one of {', '.join(SIZE_AXES)}.")
    rows = _rows(runs)
    if dense is None:
        for row in reversed(rows):
            if _finite(_get(row, "dense.accuracy")) or _finite(_get(row, "dense_accuracy")):
                dense = {"accuracy": _get(row, "dense.accuracy") if _finite(_get(row, "dense.accuracy"))
                         else _get(row, "dense_accuracy"),
                         **{k: _get(row, f"dense.{k}") for k in ("nonzero_params", "gzip_bytes", "params")}}
                break
    points = []
    for row in rows:
        size, accuracy = _size_value(row, x), _get(row, "final_accuracy")
        if _finite(size) and _finite(accuracy) and size > 0:
            points.append({"size": size, "accuracy": 100 * float(accuracy), "group": str(_get(row, group) or "run"),
                           "label": str(_get(row, "label") or ""), "run_id": _get(row, "run_id"),
                           "sparsity": _get(row, "sparsity")})
    data = []
    groups = list(dict.fromkeys(p["group"] for p in points))
    for i, name in enumerate(groups):
        mine = [p for p in points if p["group"] == name]
        text = [(f"#{p['run_id']} " if p["run_id"] is not None else "") + p["label"] for p in mine]
        data.append(go.Scatter(
            x=[p["size"] for p in mine], y=[p["accuracy"] for p in mine], mode="markers", name=name, text=text,
            marker=dict(size=10, color=MODE_COLOURS.get(name, SERIES[i % len(SERIES)]), line=dict(width=1, color="white")),
            hovertemplate="%{text}<br>%{y:.2f}% at %{x:,.4g}<extra>" + name + "</extra>"))
    shapes = []
    dense_size = _size_value(dense, x, "") if dense else None
    if dense and _finite(dense.get("accuracy")):
        shapes.append(hline(100 * float(dense["accuracy"]), DENSE))
        if _finite(dense_size) and dense_size > 0:
            points.append({"size": dense_size, "accuracy": 100 * float(dense["accuracy"]), "group": "dense"})
            data.append(go.Scatter(x=[dense_size], y=[100 * float(dense["accuracy"])], mode="markers", name="dense",
                                   marker=dict(symbol="star", size=15, color=DENSE),
                                   hovertemplate="dense: %{y:.2f}% at %{x:,.4g}<extra></extra>"))
    if len(points) >= 2:
        front = pareto_front(pd.DataFrame(points), "size", "accuracy")
        data.append(go.Scatter(x=front["size"].tolist(), y=front["accuracy"].tolist(), mode="lines",
                               name="Pareto frontier", line=dict(color="#111827", dash="dot", width=1.5, shape="hv"),
                               hoverinfo="skip"))
    layout = house_layout(title=title, height=height, shapes=shapes,
                          xaxis=dict(title=SIZE_AXES[x] + " (log scale)", type="log"),
                          yaxis=dict(title="test accuracy", ticksuffix="%"))
    return go.Figure(data=data, layout=layout)


def criteria_sweep_figure(sweep, *, dense_accuracy: float | None = None, show_pruned: bool = True,
                          title: str | None = None, height: int = 380) -> go.Figure:
    """Accuracy (%) against sparsity (%), one colour per criterion: after fine-tuning solid, before it
    (pruned only) dashed, the dense accuracy as a grey dashed line.

    ``sweep``: ``sweeps.criteria_sweep``'s frame (criterion, sparsity, pruned_accuracy, final_accuracy).
    """
    rows = _rows(sweep)
    data = []
    for i, criterion in enumerate(dict.fromkeys(r["criterion"] for r in rows)):
        mine = sorted((r for r in rows if r["criterion"] == criterion), key=lambda r: r["sparsity"])
        colour = SERIES[i % len(SERIES)]
        xs = [100 * r["sparsity"] for r in mine]
        data.append(go.Scatter(x=xs, y=[100 * r["final_accuracy"] for r in mine], mode="lines+markers",
                               name=f"{criterion}", legendgroup=criterion, line=dict(color=colour),
                               hovertemplate="%{x:.0f}% sparse: %{y:.2f}%<extra>" + criterion + " · fine-tuned</extra>"))
        if show_pruned:
            data.append(go.Scatter(x=xs, y=[100 * r["pruned_accuracy"] for r in mine], mode="lines+markers",
                                   name=f"{criterion} (no retraining)", legendgroup=criterion,
                                   line=dict(color=colour, dash="dash", width=1.5), marker=dict(size=5),
                                   hovertemplate="%{x:.0f}% sparse: %{y:.2f}%<extra>" + criterion
                                   + " · pruned only</extra>"))
    shapes = [hline(100 * dense_accuracy, DENSE)] if _finite(dense_accuracy) else []
    layout = house_layout(title=title, height=height, shapes=shapes,
                          xaxis=dict(title="sparsity of prunable weights", ticksuffix="%"),
                          yaxis=dict(title="test accuracy", ticksuffix="%"))
    return go.Figure(data=data, layout=layout)


def layer_sensitivity_figure(scan, *, dense_accuracy: float | None = None, max_drop: float | None = None,
                             title: str | None = None, height: int = 380) -> go.Figure:
    """Test accuracy (%) against the sparsity (%) of one layer pruned alone: a line per layer; the dense
    accuracy as a grey dashed line and, with ``max_drop``, the allowed floor (dense − drop) dotted.

    ``scan``: ``sweeps.layer_sensitivity``'s frame (layer, sparsity, accuracy).
    """
    rows = _rows(scan)
    data = []
    for i, layer in enumerate(dict.fromkeys(r["layer"] for r in rows)):
        mine = sorted((r for r in rows if r["layer"] == layer), key=lambda r: r["sparsity"])
        data.append(go.Scatter(x=[100 * r["sparsity"] for r in mine], y=[100 * r["accuracy"] for r in mine],
                               mode="lines+markers", name=str(layer), line=dict(color=SERIES[i % len(SERIES)]),
                               hovertemplate="%{x:.0f}% of " + str(layer) + " pruned: %{y:.2f}%<extra></extra>"))
    shapes = _dense_and_floor(dense_accuracy, max_drop)
    layout = house_layout(title=title, height=height, shapes=shapes,
                          xaxis=dict(title="sparsity of this layer alone", ticksuffix="%"),
                          yaxis=dict(title="test accuracy", ticksuffix="%"))
    return go.Figure(data=data, layout=layout)


def _dense_and_floor(dense_accuracy: float | None, drop: float | None) -> list[dict]:
    """Reference lines in %: the dense accuracy (grey, dashed) and, given a drop, the floor below it (dotted)."""
    if not _finite(dense_accuracy):
        return []
    shapes = [hline(100 * dense_accuracy, DENSE)]
    if _finite(drop):
        floor = hline(100 * (dense_accuracy - drop), PRUNED)
        floor["line"]["dash"] = "dot"
        shapes.append(floor)
    return shapes


def iterative_rounds_figure(rounds, *, dense_accuracy: float | None = None, tolerance: float | None = None,
                            title: str | None = None, height: int = 340) -> go.Figure:
    """Iterative pruning round by round: accuracy (%) against the sparsity (%) held, after fine-tuning
    (blue line, round numbers on the markers) and right after pruning (orange); a round that fell below
    the tolerance is a red cross. Dense accuracy dashed grey; the floor (dense − tolerance) dotted.

    ``rounds``: ``RunResult.rounds`` (round, sparsity, pruned_accuracy, accuracy, within_tolerance) —
    call it again after each ``on_round`` for a live chart.
    """
    rows = _rows(rounds)
    xs = [100 * r["sparsity"] for r in rows]
    data = [
        go.Scatter(x=xs, y=[100 * r["accuracy"] for r in rows], mode="lines+markers+text", name="after fine-tuning",
                   text=[str(r["round"]) for r in rows], textposition="top center", line=dict(color=KEPT),
                   hovertemplate="round %{text}: %{x:.1f}% sparse, %{y:.2f}%<extra>after fine-tuning</extra>"),
        go.Scatter(x=xs, y=[100 * r["pruned_accuracy"] for r in rows], mode="markers", name="right after pruning",
                   marker=dict(color=PRUNED, size=8),
                   hovertemplate="%{x:.1f}% sparse: %{y:.2f}%<extra>right after pruning</extra>"),
    ]
    failed = [r for r in rows if not r.get("within_tolerance", True)]
    if failed:
        data.append(go.Scatter(x=[100 * r["sparsity"] for r in failed], y=[100 * r["accuracy"] for r in failed],
                               mode="markers", name="below tolerance",
                               marker=dict(symbol="x", size=13, color="#ef4444"),
                               hovertemplate="%{x:.1f}% sparse: %{y:.2f}%<extra>below tolerance</extra>"))
    shapes = _dense_and_floor(dense_accuracy, tolerance)
    layout = house_layout(title=title, height=height, shapes=shapes,
                          xaxis=dict(title="sparsity of prunable weights", ticksuffix="%"),
                          yaxis=dict(title="test accuracy", ticksuffix="%"))
    return go.Figure(data=data, layout=layout)


# --- worked example: both criteria side by side -------------------------------------------------------------

def example_side_by_side_figure(results, height: int = 360) -> go.Figure:
    """The worked example's columns as bar charts next to each other, each with its own threshold line.

    ``results``: {criterion: (table, threshold)} in display order, ``table`` as for
    :func:`example_scores_figure` (weight, score, pruned). Kept bars blue, pruned orange, the same legend for
    both; every panel's y-axis reaches above its threshold.
    """
    from plotly.subplots import make_subplots

    names = list(results)
    titles = [f"{EXAMPLE_SCORE_LABELS.get(c, c)} · threshold {float(results[c][1]):.4g}" for c in names]
    fig = make_subplots(rows=1, cols=max(len(names), 1), subplot_titles=titles, horizontal_spacing=0.12)
    shapes, ranges = [], {}
    for col, criterion in enumerate(names, start=1):
        table, threshold = results[criterion]
        label = EXAMPLE_SCORE_LABELS.get(criterion, criterion)
        weights = [str(w) for w in table["weight"]]
        scores = [float(s) for s in table["score"]]
        pruned = [bool(p) for p in table["pruned"]]
        for name, colour, want in (("kept", KEPT, False), ("pruned", PRUNED, True)):
            rows = [(w, s) for w, s, p in zip(weights, scores, pruned) if p == want]
            fig.add_trace(go.Bar(x=[w for w, _ in rows] or [None], y=[s for _, s in rows] or [None], name=name,
                                 marker_color=colour, legendgroup=name, showlegend=col == 1,
                                 text=[f"{s:.4g}" for _, s in rows], textposition="outside", cliponaxis=False,
                                 hovertemplate="%{x}: " + label + " %{y:.4g} (" + name + ")<extra></extra>"),
                          row=1, col=col)
        suffix = "" if col == 1 else str(col)
        shapes.append(dict(type="line", x0=0, x1=1, y0=float(threshold), y1=float(threshold),
                           xref=f"x{suffix} domain", yref=f"y{suffix}", line=dict(color="#111827", dash="dash", width=1.5)))
        top = max(scores + [float(threshold)]) if scores else max(float(threshold), 1.0)
        ranges[col] = (weights, [0, (top or 1.0) * 1.2], label)
    layout = house_layout(height=height, barmode="overlay", bargap=0.35, showlegend=True,
                          margin=dict(l=10, r=10, t=72, b=10), shapes=shapes, legend=dict(LEGEND, y=1.16))
    fig.update_layout(**layout)
    for col, (weights, yrange, label) in ranges.items():
        fig.update_xaxes(type="category", categoryorder="array", categoryarray=weights, row=1, col=col)
        fig.update_yaxes(title_text=f"score ({label})", range=yrange, row=1, col=col)
    fig.update_annotations(font=dict(size=14, color="#1f2937"))
    return fig


LATENCY_COLOUR = "#a855f7"  # deploy ratios: latency (purple) and file size (sky); kept/pruned colours stay reserved
SIZE_COLOUR = "#0ea5e9"


def deploy_ratios_figure(rows, *, title: str | None = None, height: int | None = None) -> go.Figure:
    """Each export's TFLite latency and file size as a ratio to the dense float32 file: two horizontal bars per
    export (latency purple, size sky blue), the dense level (1×) as a dashed grey line; shorter is better.

    ``rows``: ``DeployReport.rows`` or their records (name, latency_ratio, size_ratio, reason). An export that
    did not convert (or a Keras-only row) is listed with "no TFLite file" and no bars.
    """
    rows = [r if isinstance(r, dict) else r.to_record() for r in rows]
    names = [str(r["name"]) for r in rows]

    def bar(key, label, colour):
        values = [r.get(key) for r in rows]
        text = [f"{v:.2f}×" if v is not None else "no TFLite file" for v in values]
        return go.Bar(y=names, x=[v if v is not None else 0 for v in values], orientation="h", name=label,
                      marker_color=colour, text=text, textposition="outside", cliponaxis=False,
                      hovertemplate="%{y}: %{text} the dense file's " + label.split(" ")[0] + "<extra></extra>")

    data = [bar("latency_ratio", "latency (batch 1, one thread)", LATENCY_COLOUR),
            bar("size_ratio", "size of the .tflite file", SIZE_COLOUR)]
    biggest = max([1.0] + [r.get(k) or 0 for r in rows for k in ("latency_ratio", "size_ratio")])
    layout = house_layout(title=title, height=height or 90 + 46 * len(rows), barmode="group", bargap=0.25,
                          shapes=[vline(1.0, DENSE)],
                          xaxis=dict(title="× the dense float32 file (shorter is better)",
                                     range=[0, biggest * 1.18], ticksuffix="×"),
                          yaxis=dict(autorange="reversed"), legend={**LEGEND, "traceorder": "normal"})
    return go.Figure(data=data, layout=layout)


def sparsity_overview(layers: list[str], sparsity: list[float], *, row_px: int = 17) -> go.Figure:
    """Every layer's pruned share in one compact chart, for models with many layers (ResNet50: 54): one thin
    orange bar per layer on a light full-width track, the share written at the right (``fmt.percent``:
    never "100.0%" while weights are kept), height growing with the layer count. One trace plus the track
    keeps the figure small to resend on every slider move.

    >>> fig = sparsity_overview(["a", "b"], [0.5, 1 - 1e-6])
    >>> list(fig.data[1].x), list(fig.data[1].text)
    ([50.0, 100.0], ['50.0%', '> 99.9%'])
    """
    from .fmt import percent

    names = [str(n) for n in layers]
    pruned = [round(100 * float(s), 3) for s in sparsity]
    track = go.Bar(y=names, x=[100] * len(names), orientation="h", marker_color=GRID, hoverinfo="skip",
                   showlegend=False)
    bars = go.Bar(y=names, x=pruned, orientation="h", name="pruned", marker_color=PRUNED,
                  text=[percent(s) for s in sparsity], textposition="outside", cliponaxis=False,
                  textfont=dict(color="#1f2937", size=11), hovertemplate="%{y}: %{text} pruned<extra></extra>")
    layout = house_layout(height=70 + row_px * len(names), barmode="overlay", bargap=0.25, showlegend=False,
                          margin=dict(l=10, r=56, t=10, b=10),
                          xaxis=dict(title="share of the layer's weights pruned", range=[0, 100], side="top",
                                     tickvals=[0, 25, 50, 75, 100], ticktext=["0%", "25%", "50%", "75%", "100%"]),
                          yaxis=dict(autorange="reversed", type="category", automargin=True,
                                     tickfont=dict(size=11, color=MUTED)))
    return go.Figure(data=[track, bars], layout=layout)
