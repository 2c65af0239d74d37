"""Plotly figure builders: data in, ``go.Figure`` out (pure, testable, no Streamlit) — histograms, sparsity
bars, the weight mosaic, training history, and the retrain & compare charts (run history, sweeps,
sensitivity, iterative rounds, deploy ratios). Colours, template and layout defaults: ``style``; axis
helpers: ``axes``; the worked example's figures: ``example_figures``.
"""

from __future__ import annotations

import re

import numpy as np
import plotly.graph_objects as go

from ..io.history import pareto_front
from .axes import FULL_PERCENT, log_ticks, percent_axis, size_axis
from .fmt import percent
from .style import (DENSE, FLOOR, GRID, KEPT, LEGEND, MUTED, PRUNED, SERIES, WARN, hline, house_layout, title_layout,
                    vline)

def training_history(history: dict[str, list[float]], title: str | None = None) -> go.Figure:
    """Loss and accuracy per epoch (train solid, test dashed), accuracy on a second axis in %.

    A short run (≤ 3 epochs) still reads as a chart: big markers (test ones open), one tick per epoch, x and y
    ranges snug around the points. A single epoch draws no line, so its points carry their values, loss just
    left of the tick and accuracy just right of it. Only the per-epoch values in ``history`` are drawn.
    """
    epochs = list(range(1, len(history.get("loss", [])) + 1))
    short, single = len(epochs) <= 3, len(epochs) == 1
    data, loss_values, accuracy_values = [], [], []
    for key, name, colour, dash, axis in (
        ("loss", "train loss", SERIES[1], "solid", "y"), ("val_loss", "test loss", SERIES[1], "dash", "y"),
        ("accuracy", "train accuracy", SERIES[0], "solid", "y2"),
        ("val_accuracy", "test accuracy", SERIES[0], "dash", "y2"),
    ):
        if not history.get(key):
            continue
        percent = axis == "y2"
        values = [v * 100 for v in history[key]] if percent else [float(v) for v in history[key]]
        (accuracy_values if percent else loss_values).extend(values)
        xs = epochs[:len(values)]
        trace = dict(x=xs, y=values, name=name, yaxis=axis, line=dict(color=colour, dash=dash), customdata=xs,
                     mode="lines+markers", hovertemplate="epoch %{customdata}: %{y:" + (".2f}%" if percent else ".4f}")
                     + "<extra>" + name + "</extra>")
        if short:
            trace["marker"] = dict(size=10, symbol="circle-open" if key.startswith("val_") else "circle",
                                   line=dict(width=2))
        if single:  # side by side, each labelled: a dot plot of the one epoch
            trace.update(x=[e + (0.12 if percent else -0.12) for e in xs], mode="markers+text", cliponaxis=False,
                         text=[f"{v:.2f}%" if percent else f"{v:.3f}" for v in values],
                         textposition="middle right" if percent else "middle left", textfont=dict(color=colour))
        data.append(go.Scatter(**trace))
    xaxis = dict(title="epoch", dtick=1, tick0=1)
    yaxis = dict(title="loss (cross-entropy)")
    if short and epochs:
        xaxis.update(range=[0.3, len(epochs) + 0.7] if single else [0.75, len(epochs) + 0.25],
                     tickvals=epochs, ticktext=[str(e) for e in epochs])
        if loss_values:
            low, high = min(loss_values), max(loss_values)
            pad = max(0.15 * (high - low), 0.1 * abs(high), 1e-3)
            yaxis.update(range=[max(0.0, low - pad) if low >= 0 else low - pad, high + pad])
    yaxis2 = dict(title="accuracy", overlaying="y", side="right", showgrid=False,
                  **(percent_axis(accuracy_values, pad=0.15 if short else 0.08) if accuracy_values
                     else dict(ticksuffix="%")))
    layout = house_layout(title=title, xaxis=xaxis, yaxis=yaxis, yaxis2=yaxis2)
    return go.Figure(data=data, layout=layout)


def accuracy_steps(dense: float, pruned: float, final: float, height: int = 320, *,
                   pruned_label: str = "pruned, before retraining") -> go.Figure:
    """Three bars: dense, pruned before retraining (or ``pruned_label``: e.g. "one-shot reference" for a gradual
    run), after retraining (test accuracy in %, axis 0–100%)."""
    labels = ["dense", pruned_label, "after retraining"]
    values = [100 * dense, 100 * pruned, 100 * final]
    data = [go.Bar(x=["dense", pruned_label.replace(", ", ",<br>", 1) if ", " in pruned_label
                      else pruned_label.replace(" ", "<br>", 1), "after<br>retraining"], y=values, customdata=labels,
                   marker_color=[DENSE, SERIES[1], SERIES[0]], text=[f"{v:.2f}%" for v in values],
                   textposition="outside", cliponaxis=False, hovertemplate="%{customdata}: %{y:.2f}%<extra></extra>")]
    layout = house_layout(height=height, showlegend=False,
                          yaxis=dict(title="test accuracy", range=[0, 109], **FULL_PERCENT))
    return go.Figure(data=data, layout=layout)


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
    if log_x:  # hover in score units, not log10 units (same bins on every update: set once)
        hover = dict(customdata=(10.0 ** centers).tolist(), hovertemplate="%{customdata:.3g}: %{y:,}<extra>")
    else:
        hover = dict(hovertemplate="%{x:.4g}: %{y:,}<extra>")
    data = [go.Bar(x=centers.tolist(), y=np.asarray(counts).tolist(), width=widths, name=name,
                   marker=dict(color=colour, line=dict(width=0)),
                   **{**hover, "hovertemplate": hover["hovertemplate"] + name + "</extra>"})
            for counts, name, colour in ((hist.kept, "kept", KEPT), (hist.pruned, "pruned", PRUNED))]
    if log_x:  # bars on a log10 axis drawn linearly; labelled ticks inside the bins' range, even under a decade
        low, high = float(edges[0]), float(edges[-1])
        ticks, labels = log_ticks(low, high, min_ticks=3, max_ticks=7)
        xaxis = dict(title=x_title, range=[low, high], tickvals=ticks, ticktext=labels)
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


def _wrap_name(name: str, width: int = 18) -> str:
    """A long layer name broken into lines of about ``width`` characters after _ / . - (plotly's <br>)."""
    if len(name) <= width:
        return name
    lines, line = [], ""
    for part in re.split(r"(?<=[_/.\-])", name):
        if line and len(line) + len(part) > width:
            lines.append(line)
            line = ""
        line += part
    lines.append(line)
    return "<br>".join(lines)


def sparsity_bars(layers: list[str], sparsity: list[float], height: int = 260) -> go.Figure:
    """Per-layer sparsity as horizontal bars in % (pruned share in orange, kept share in blue), layer names on
    the y axis (long ones wrapped) and each layer's pruned share written just right of its bar."""
    pruned = [100 * s for s in sparsity]
    names = [str(n) for n in layers]
    rows = [_wrap_name(n) for n in names]
    data = [go.Bar(y=rows, x=pruned, orientation="h", name="pruned", marker_color=PRUNED, customdata=names,
                   hovertemplate="%{customdata}: %{x:.1f}% pruned<extra></extra>"),
            go.Bar(y=rows, x=[100 - p for p in pruned], orientation="h", name="kept", marker_color=KEPT,
                   customdata=names, text=[f"{p:.1f}%" for p in pruned], textposition="outside", cliponaxis=False,
                   textfont=dict(color=PRUNED), hovertemplate="%{customdata}: %{x:.1f}% kept<extra></extra>")]
    lines = sum(r.count("<br>") + 1 for r in rows)
    layout = house_layout(height=max(height, 80 + 28 * lines + 12 * len(rows)), barmode="stack",
                          xaxis=dict(title="share of the layer's weights", range=[0, 114], **FULL_PERCENT),
                          yaxis=dict(autorange="reversed", type="category", automargin=True),
                          legend={**LEGEND, "traceorder": "normal"})
    return go.Figure(data=data, layout=layout)


POSITIVE = np.array([27.0, 120.0, 55.0])   # green (PRGn), for positive weights in the mosaic
NEGATIVE = np.array([118.0, 42.0, 131.0])  # purple, for negative ones: no kept blue, no pruned orange


def mosaic_image(mosaic, scale: int = 3):
    """The unit mosaic as an RGB uint8 image (green +, purple −, white = pruned or gap), upscaled ``scale``×.

    A picture is ~20× smaller to send than a heatmap of 28k values, which matters on every slider move.

    >>> mosaic_image(np.array([[1.0, -1.0, np.nan]]), scale=1).tolist()
    [[[27, 120, 55], [118, 42, 131], [255, 255, 255]]]
    """
    mosaic = np.asarray(mosaic, dtype=np.float32)
    finite = np.isfinite(mosaic)
    limit = float(np.abs(mosaic[finite]).max()) if finite.any() and np.abs(mosaic[finite]).max() > 0 else 1.0
    t = np.clip(np.where(finite, mosaic, 0.0) / limit, -1.0, 1.0)[..., None]  # −1 … 1
    white = np.array([255.0, 255.0, 255.0])
    rgb = np.where(t >= 0, white + (POSITIVE - white) * t, white + (NEGATIVE - white) * (-t))
    rgb[~finite] = white
    image = np.rint(rgb).astype(np.uint8)
    return image.repeat(scale, axis=0).repeat(scale, axis=1)


# --- retrain & compare: run history, sweeps, sensitivity, iterative rounds ---------------------------

MODE_COLOURS = {"oneshot": SERIES[0], "gradual": SERIES[1], "iterative": SERIES[2], "dense": DENSE}
SIZE_AXES = {"nonzero_params": "nonzero parameters", "gzip_kb": "gzip of the .keras file",
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
    sizes = [p["size"] for p in points]
    accuracies = [p["accuracy"] for p in points] + ([100 * float(dense["accuracy"])] if shapes else [])
    layout = house_layout(title=title, height=height, shapes=shapes,
                          xaxis=dict(title=SIZE_AXES[x] + " (log scale)", type="log", **size_axis(sizes, x)),
                          yaxis=dict(title="test accuracy", **percent_axis(accuracies)))
    return go.Figure(data=data, layout=layout)


def sparse_updates_figure(events, *, title: str | None = None, height: int = 320) -> go.Figure:
    """Connections moved at each update of a sparse-training run (RigL / SET): one bar per update at its training
    step, the count written on it.

    >>> fig = sparse_updates_figure([{"step": 18, "moved": 2981}, {"step": 36, "moved": 2781}])
    >>> list(fig.data[0].x), list(fig.data[0].text)
    ([18, 36], ['2,981', '2,781'])
    """
    steps = [int(e["step"]) for e in events]
    counts = [int(e["moved"]) for e in events]
    data = [go.Bar(x=steps, y=counts, marker_color=SERIES[0], text=[f"{c:,}" for c in counts],
                   textposition="outside", cliponaxis=False, name="moved",
                   hovertemplate="step %{x}: %{y:,} connections moved<extra></extra>")]
    layout = house_layout(title=title, height=height, showlegend=False,
                          xaxis=dict(title="training step"),
                          yaxis=dict(title="connections moved", range=[0, max(counts + [1]) * 1.18]))
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
    accuracies = [100 * r[k] for r in rows for k in ("final_accuracy", "pruned_accuracy")
                  if k == "final_accuracy" or show_pruned] + [s["y0"] for s in shapes]
    layout = house_layout(title=title, height=height, shapes=shapes,
                          xaxis=dict(title="sparsity of prunable weights",
                                     **percent_axis([100 * r["sparsity"] for r in rows])),
                          yaxis=dict(title="test accuracy", **percent_axis(accuracies)))
    return go.Figure(data=data, layout=layout)


def layer_sensitivity_figure(scan, *, dense_accuracy: float | None = None, max_drop: float | None = None,
                             title: str | None = None, height: int = 380) -> go.Figure:
    """Test accuracy (%) against the sparsity (%) of one layer pruned alone: a line per layer; the dense
    accuracy as a grey dashed line and, with ``max_drop``, the allowed floor (dense − drop) black dotted.

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
                          xaxis=dict(title="sparsity of this layer alone",
                                     **percent_axis([100 * r["sparsity"] for r in rows])),
                          yaxis=dict(title="test accuracy",
                                     **percent_axis([100 * r["accuracy"] for r in rows] + [s["y0"] for s in shapes])))
    return go.Figure(data=data, layout=layout)


def _dense_and_floor(dense_accuracy: float | None, drop: float | None) -> list[dict]:
    """Reference lines in %: the dense accuracy (grey, dashed) and, given a drop, the floor below it (black,
    dotted)."""
    if not _finite(dense_accuracy):
        return []
    shapes = [hline(100 * dense_accuracy, DENSE)]
    if _finite(drop):
        floor = hline(100 * (dense_accuracy - drop), FLOOR)
        floor["line"]["dash"] = "dot"
        shapes.append(floor)
    return shapes


def iterative_rounds_figure(rounds, *, dense_accuracy: float | None = None, tolerance: float | None = None,
                            title: str | None = None, height: int = 340) -> go.Figure:
    """Iterative pruning round by round: accuracy (%) against the sparsity (%) held, after fine-tuning
    (teal line, round numbers on the markers) and right after pruning (violet dots); a round that fell below
    the tolerance is a crimson cross. Dense accuracy dashed grey; the floor (dense − tolerance) black dotted.

    ``rounds``: ``RunResult.rounds`` (round, sparsity, pruned_accuracy, accuracy, within_tolerance) —
    call it again after each ``on_round`` for a live chart.
    """
    rows = _rows(rounds)
    xs = [100 * r["sparsity"] for r in rows]
    data = [
        go.Scatter(x=xs, y=[100 * r["accuracy"] for r in rows], mode="lines+markers+text", name="after fine-tuning",
                   text=[str(r["round"]) for r in rows], textposition="top center", line=dict(color=SERIES[0]),
                   cliponaxis=False,
                   hovertemplate="round %{text}: %{x:.1f}% sparse, %{y:.2f}%<extra>after fine-tuning</extra>"),
        go.Scatter(x=xs, y=[100 * r["pruned_accuracy"] for r in rows], mode="markers", name="right after pruning",
                   marker=dict(color=SERIES[1], size=8),
                   hovertemplate="%{x:.1f}% sparse: %{y:.2f}%<extra>right after pruning</extra>"),
    ]
    failed = [r for r in rows if not r.get("within_tolerance", True)]
    if failed:
        data.append(go.Scatter(x=[100 * r["sparsity"] for r in failed], y=[100 * r["accuracy"] for r in failed],
                               mode="markers", name="below tolerance",
                               marker=dict(symbol="x", size=13, color=WARN),
                               hovertemplate="%{x:.1f}% sparse: %{y:.2f}%<extra>below tolerance</extra>"))
    shapes = _dense_and_floor(dense_accuracy, tolerance)
    accuracies = [100 * r[k] for r in rows for k in ("accuracy", "pruned_accuracy")] + [s["y0"] for s in shapes]
    layout = house_layout(title=title, height=height, shapes=shapes,
                          xaxis=dict(title="sparsity of prunable weights", **percent_axis(xs)),
                          yaxis=dict(title="test accuracy", **percent_axis(accuracies, pad=0.14)))
    return go.Figure(data=data, layout=layout)


# --- deploy -------------------------------------------------------------------------------------------------

LATENCY_COLOUR = SERIES[1]  # deploy ratios: latency (violet) and file size (teal); kept/pruned colours stay reserved
SIZE_COLOUR = SERIES[0]


def deploy_ratios_figure(rows, *, title: str | None = None, height: int | None = None) -> go.Figure:
    """Each export's TFLite latency and file size as a ratio to the dense float32 file: two horizontal bars per
    export (latency violet, size teal), the dense level (1×) as a dashed grey line; shorter is better.

    ``rows``: ``DeployReport.rows`` or their records (name, latency_ratio, size_ratio, reason, runtime). An export
    that did not convert (or a Keras-only row) is listed with "no TFLite file" and no bars. A file the fast runtime
    refused (``runtime`` not XNNPACK: the interpreter fell back to its built-in kernels) gets a hatched latency bar
    marked "built-in kernels": its time says as much about the runtime as about the model.

    >>> fig = deploy_ratios_figure([{"name": "dense", "latency_ratio": 1.0, "size_ratio": 1.0, "runtime": "XNNPACK"},
    ...     {"name": "pruned + int8", "latency_ratio": 1.87, "size_ratio": 0.1,
    ...      "runtime": "built-in kernels (XNNPACK could not prepare this file)"}])
    >>> list(fig.data[0].text), list(fig.data[0].marker.pattern.shape)
    (['1.00×', '1.87× · built-in kernels, not XNNPACK'], ['', '/'])
    """
    rows = [r if isinstance(r, dict) else r.to_record() for r in rows]
    names = [str(r["name"]) for r in rows]
    fallback = [bool(r.get("runtime")) and not str(r.get("runtime")).startswith("XNNPACK") for r in rows]

    def bar(key, label, colour, mark_fallback=False):
        values = [r.get(key) for r in rows]
        text = [f"{v:.2f}×" if v is not None else "no TFLite file" for v in values]
        marker = dict(color=colour)
        if mark_fallback:
            text = [t + (" · built-in kernels, not XNNPACK" if f and v is not None else "")
                    for t, f, v in zip(text, fallback, values)]
            marker["pattern"] = dict(shape=["/" if f else "" for f in fallback], fillmode="overlay", size=6)
        return go.Bar(y=names, x=[v if v is not None else 0 for v in values], orientation="h", name=label,
                      marker=marker, text=text, textposition="outside", cliponaxis=False,
                      hovertemplate="%{y}: %{text} the dense file's " + label.split(" ")[0] + "<extra></extra>")

    data = [bar("latency_ratio", "latency (batch 1, one thread)", LATENCY_COLOUR, mark_fallback=True),
            bar("size_ratio", "size of the .tflite file", SIZE_COLOUR)]
    biggest = max([1.0] + [r.get(k) or 0 for r in rows for k in ("latency_ratio", "size_ratio")])
    if any(fallback):  # room for the longer label
        biggest *= 1.35
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
