"""Plotly figure builders: data in, ``go.Figure`` out (pure, testable, no Streamlit).

Colours are fixed across the product: kept = blue, pruned = orange, dense baseline = grey. Blue and orange
are reserved for kept/pruned: every other series takes a colour from ``SERIES`` (teal, violet, pink, olive,
magenta, green, charcoal); a round below tolerance is a crimson cross, an allowed floor a near-black dotted line.
"""

from __future__ import annotations

import re

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
from ..io.history import pareto_front
from .fmt import percent

KEPT = "#2563eb"
PRUNED = "#f97316"
DENSE = "#6b7280"
ACCENT = "#10b981"
# No blue and no orange here (reserved for kept/pruned); hues at least ~40° from both, told apart by lightness too.
SERIES = ["#0d9488", "#7c3aed", "#db2777", "#65a30d", "#a21caf", "#15803d", "#262626"]
WARN = "#be123c"  # crimson: a round below tolerance
FLOOR = "#111827"  # near-black, dotted: the allowed floor (dense − drop); distinct from every series colour
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


# Below the plot, at the bottom of the figure: the modebar (top right, on hover) can never cover it, and the
# margin grows to fit it (``yref="container"`` keeps it clear of the x-axis title at any height).
LEGEND = dict(orientation="h", yref="container", yanchor="bottom", y=0, xanchor="left", x=0)


def title_layout(title: str) -> dict:
    """A chart title, left-aligned."""
    return dict(text=title, x=0, font=dict(size=15))


def vline(x: float, colour: str = "#111827") -> dict:
    """A dashed vertical line at data x spanning the plot (cheaper than Figure.add_vline)."""
    return dict(type="line", x0=x, x1=x, y0=0, y1=1, xref="x", yref="paper",
                line=dict(color=colour, dash="dash", width=1.5))


def base_layout(fig: go.Figure, *, title: str | None = None, height: int = 320) -> go.Figure:
    """The house style: white background, light grid, compact margins, legend below the plot."""
    fig.update_layout(**house_layout(title=title, height=height))
    return fig


# --- axes: ticks chosen from the data, so labels are distinct and readable --------------------------------

def _nice_step(raw: float) -> float:
    """The smallest of 1, 2, 5 × 10^k that is ≥ raw (raw > 0)."""
    power = 10.0 ** np.floor(np.log10(raw))
    for m in (1.0, 2.0, 5.0, 10.0):
        if m * power >= raw * (1 - 1e-9):
            return float(f"{m * power:.12g}")
    return float(10 * power)


def percent_axis(values, *, ticks: int = 5, pad: float = 0.08, min_span: float = 1.0) -> dict:
    """Axis settings for values already in % (0–100): a range snug around the values, a 1-2-5 ``dtick`` giving
    about ``ticks`` ticks, and a ``tickformat`` with just enough decimals that no two labels read the same.

    ``values``: every number the axis must show (points and reference lines; None and NaN are ignored).
    A span under ``min_span`` points is widened around its middle, so one value still gets an axis.

    >>> axis = percent_axis([96.1, 97.4])
    >>> axis
    {'range': [95.996, 97.504], 'dtick': 0.5, 'tick0': 0, 'tickformat': '.1f', 'ticksuffix': '%'}
    >>> percent_tick_labels(axis)
    ['96.0%', '96.5%', '97.0%', '97.5%']
    """
    finite = [float(v) for v in values if v is not None and np.isfinite(v)]
    low, high = (min(finite), max(finite)) if finite else (0.0, 100.0)
    if high - low < min_span:
        middle = (low + high) / 2
        low, high = middle - min_span / 2, middle + min_span / 2
    margin = (high - low) * pad
    low, high = low - margin, high + margin
    step = _nice_step((high - low) / ticks)
    if finite and min(finite) >= 0 and low < 0:
        low = max(low, -0.5 * step)  # no tick below 0% on an axis of shares
    decimals = max(0, int(-np.floor(np.log10(step) + 1e-9)))
    return dict(range=[round(low, 6), round(high, 6)], dtick=step, tick0=0, tickformat=f".{decimals}f",
                ticksuffix="%")


def percent_tick_labels(axis: dict) -> list[str]:
    """The tick labels an axis from :func:`percent_axis` shows (what plotly draws, for tests and checks)."""
    low, high = axis["range"]
    step, decimals = axis["dtick"], int(axis["tickformat"][1:-1])
    first, last = int(np.ceil(low / step - 1e-9)), int(np.floor(high / step + 1e-9))
    return [f"{k * step:.{decimals}f}{axis.get('ticksuffix', '')}" for k in range(first, last + 1)]


FULL_PERCENT = dict(tickvals=[0, 20, 40, 60, 80, 100], ticktext=[f"{v}%" for v in (0, 20, 40, 60, 80, 100)])


def _number_text(value: float) -> str:
    """A tick value with at most 3 significant figures and no float noise: 0.002, 50, 1e-05 → 1e-5."""
    text = f"{value:.3g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        text = f"{mantissa}e{int(exponent)}"
    return text


def _exponent_text(value: float) -> str:
    """2e-3, 1e-6, 5e4, 1 (up to 3 significant figures, no zero-padded exponent)."""
    mantissa, exponent = f"{value:.2e}".split("e")
    return f"{float(mantissa):g}" + (f"e{int(exponent)}" if int(exponent) else "")


def plain_units(value: float, unit: str = "") -> str:
    """Counts as 950, 20k, 1.5M, 2G; with ``unit="B"`` bytes as 950 B, 20 kB, 1.5 MB, 2 GB.

    >>> [plain_units(v) for v in (500, 2000, 50_000, 1_000_000)], plain_units(20_000, "B")
    (['500', '2k', '50k', '1M'], '20 kB')
    """
    for factor, prefix in ((1e9, "G"), (1e6, "M"), (1e3, "k"), (1.0, "")):
        if abs(value) >= factor or factor == 1.0:
            number = _number_text(value / factor)
            if unit:
                return f"{number} {prefix}{unit}"
            return number + prefix
    return str(value)  # pragma: no cover


def log_ticks(low: float, high: float, *, min_ticks: int = 3, max_ticks: int = 8, label=None) -> tuple[list, list]:
    """Tick positions (log10 units) and labels for a log axis spanning 10**low … 10**high.

    Decades when there are at least ``min_ticks`` of them (thinned to ``max_ticks``), else 1-2-5 steps, else
    1…9 per decade, else round values at an even step with as many digits as it takes to tell them apart — so
    an axis always has labelled ticks, also across less than one decade. ``label(value)`` writes a label
    (default: 0.002 / 5e-5 style, see :func:`_number_text`).

    >>> log_ticks(-3.0, -1.3)[1]
    ['0.001', '0.002', '0.005', '0.01', '0.02', '0.05']
    """
    label = label or _number_text
    eps = 1e-9

    def at(mantissas):
        found = [k + float(np.log10(m)) for k in range(int(np.floor(low)), int(np.ceil(high)) + 1) for m in mantissas]
        return [t for t in found if low - eps <= t <= high + eps]

    def done(positions):
        values = [_round_sig(float(10 ** t)) for t in positions]
        if label is _number_text and not all(1e-3 <= v < 1e4 for v in values):
            return [float(t) for t in positions], [_exponent_text(v) for v in values]  # one style per axis
        return [float(t) for t in positions], [label(v) for v in values]

    decades = at((1,))
    if len(decades) > max_ticks:
        stride = int(np.ceil(len(decades) / max_ticks))
        decades = [t for t in decades if round(t) % stride == 0]
    if len(decades) >= min_ticks:
        return done(decades)
    steps = at((1, 2, 5))
    if min_ticks <= len(steps) <= max_ticks:
        return done(steps)
    if len(decades) >= 2:
        return done(decades)
    if len(steps) >= 2:
        return done(steps)
    ones = at(range(1, 10))
    if len(ones) >= 2:
        return done(ones)
    # Inside one step of 1…9: evenly spaced round values (a 1-2-5 step in value units), at least two.
    lo, hi = float(10 ** low), float(10 ** high)
    if not hi > lo:  # one value (a constant score): one tick at it
        return [float(low)], [_number_text(lo)]
    step = _nice_step((hi - lo) / 3)
    for _ in range(60):
        first, last = int(np.ceil(lo / step - eps)), int(np.floor(hi / step + eps))
        if last - first >= 1:
            break
        step = float(f"{step * (0.4 if f'{step:e}'[0] == '5' else 0.5):.12g}")  # next smaller: 5 → 2 → 1 → 0.5
    values = [k * step for k in range(first, last + 1)]
    decimals = max(0, int(-np.floor(np.log10(step) + 1e-9)))
    if 1e-4 <= max(values) < 1e5:
        texts = [f"{v:.{decimals}f}" for v in values]
    else:
        digits = int(np.floor(np.log10(max(values)))) - int(np.floor(np.log10(step) + 1e-9)) + 1
        texts = [f"{v:.{max(digits, 1) - 1}e}" for v in values]
        texts = [f"{t.split('e')[0]}e{int(t.split('e')[1])}" for t in texts]  # 5.0118e-10, 5.0119e-10
    return [float(np.log10(v)) for v in values], texts


def _round_sig(value: float, digits: int = 6) -> float:
    return float(f"{value:.{digits}g}")


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


def accuracy_steps(dense: float, pruned: float, final: float, height: int = 320) -> go.Figure:
    """Three bars: dense, pruned before retraining, after retraining (test accuracy in %, axis 0–100%)."""
    labels = ["dense", "pruned, before retraining", "after retraining"]
    values = [100 * dense, 100 * pruned, 100 * final]
    data = [go.Bar(x=["dense", "pruned,<br>before retraining", "after<br>retraining"], y=values, customdata=labels,
                   marker_color=[DENSE, SERIES[1], SERIES[0]], text=[f"{v:.2f}%" for v in values],
                   textposition="outside", cliponaxis=False, hovertemplate="%{customdata}: %{y:.2f}%<extra></extra>")]
    layout = house_layout(height=height, showlegend=False,
                          yaxis=dict(title="test accuracy", range=[0, 109], **FULL_PERCENT))
    return go.Figure(data=data, layout=layout)


def house_layout(*, title: str | None = None, height: int = 320, **extra) -> dict:
    """The house layout as a dict for ``go.Figure(layout=...)`` — building figures in one constructor
    call is several times faster than ``update_layout``, which matters on every slider move."""
    # The top margin leaves the modebar (shown on hover, top right) a strip of its own above the plot.
    layout = dict(template=TEMPLATE, height=height, margin=dict(l=10, r=10, t=40 if title else 30, b=10),
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


def size_axis(sizes, x: str = "nonzero_params") -> dict:
    """A log size axis labelled in plain units at clean 1-2-5 ticks only (20k, 50k, 100k, 1M; kB/MB for
    ``x="gzip_kb"``, whose values are kB), with a range a little wider than the sizes. Empty: no settings."""
    finite = [float(v) for v in sizes if v is not None and np.isfinite(v) and v > 0]
    if not finite:
        return {}
    low, high = float(np.log10(min(finite))), float(np.log10(max(finite)))
    pad = max(0.08, 0.06 * (high - low))
    low, high = low - pad, high + pad
    scale, unit = (1000.0, "B") if x == "gzip_kb" else (1.0, "")
    ticks, labels = log_ticks(low, high, min_ticks=4, max_ticks=10, label=lambda v: plain_units(v * scale, unit))
    return dict(range=[round(low, 6), round(high, 6)], tickvals=[_round_sig(10 ** t) for t in ticks],
                ticktext=labels)


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
                          margin=dict(l=10, r=10, t=56, b=10), shapes=shapes, legend=LEGEND)
    fig.update_layout(**layout)
    for col, (weights, yrange, label) in ranges.items():
        fig.update_xaxes(type="category", categoryorder="array", categoryarray=weights, row=1, col=col)
        fig.update_yaxes(title_text=f"score ({label})", range=yrange, row=1, col=col)
    fig.update_annotations(font=dict(size=14, color="#1f2937"))
    return fig


LATENCY_COLOUR = SERIES[1]  # deploy ratios: latency (violet) and file size (teal); kept/pruned colours stay reserved
SIZE_COLOUR = SERIES[0]


def deploy_ratios_figure(rows, *, title: str | None = None, height: int | None = None) -> go.Figure:
    """Each export's TFLite latency and file size as a ratio to the dense float32 file: two horizontal bars per
    export (latency violet, size teal), the dense level (1×) as a dashed grey line; shorter is better.

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
