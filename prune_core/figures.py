"""Plotly figure builders: data in, ``go.Figure`` out (pure, testable, no Streamlit).

Colours are fixed across the product: kept = blue, pruned = orange, dense baseline = grey.
"""

from __future__ import annotations

import plotly.graph_objects as go

KEPT = "#2563eb"
PRUNED = "#f97316"
DENSE = "#6b7280"
ACCENT = "#10b981"
SERIES = ["#2563eb", "#f97316", "#10b981", "#a855f7", "#ef4444", "#0ea5e9", "#eab308", "#64748b"]
FONT = dict(family="Inter, system-ui, sans-serif", size=13, color="#1f2937")


def base_layout(fig: go.Figure, *, title: str | None = None, height: int = 320) -> go.Figure:
    """The house style: white background, light grid, compact margins, legend on top."""
    fig.update_layout(
        template="plotly_white", font=FONT, height=height, margin=dict(l=10, r=10, t=40 if title else 10, b=10),
        title=dict(text=title, x=0, font=dict(size=15)) if title else None,
        legend=dict(orientation="h", yanchor="bottom", y=1.02, xanchor="right", x=1),
    )
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


def _centers(edges):
    import numpy as np

    edges = np.asarray(edges, dtype=float)
    return (edges[:-1] + edges[1:]) / 2, np.diff(edges)


def split_histogram_figure(hist, *, title: str | None = None, thresholds: tuple[float, ...] = (),
                           x_title: str = "weight value", log_x: bool = False, log_y: bool = False,
                           height: int = 260) -> go.Figure:
    """Stacked bars of kept (blue) and pruned (orange) counts per bin, threshold(s) as dashed lines.

    ``hist`` is a ``preview.SplitHistogram``; pass ``thresholds=(-t, t)`` for magnitude.
    """
    import numpy as np

    centers, widths = _centers(hist.edges)
    if log_x:
        centers = np.sqrt(np.asarray(hist.edges[:-1]) * np.asarray(hist.edges[1:]))
    fig = go.Figure()
    for counts, name, colour in ((hist.kept, "kept", KEPT), (hist.pruned, "pruned", PRUNED)):
        fig.add_trace(go.Bar(x=centers, y=counts, width=None if log_x else widths, name=name,
                             marker=dict(color=colour, line=dict(width=0)),
                             hovertemplate="%{x:.4g}: %{y:,} weights<extra>" + name + "</extra>"))
    for t in thresholds:
        fig.add_vline(x=t, line=dict(color="#111827", dash="dash", width=1.5))
    fig.update_layout(barmode="stack", bargap=0 if not log_x else 0.05,
                      xaxis=dict(title=x_title, type="log" if log_x else "linear"),
                      yaxis=dict(title="count", type="log" if log_y else "linear"), showlegend=True)
    return base_layout(fig, title=title, height=height)


def sparsity_bars(layers: list[str], sparsity: list[float], height: int = 260) -> go.Figure:
    """Per-layer sparsity as horizontal bars in % (pruned share in orange, kept share in blue)."""
    pruned = [100 * s for s in sparsity]
    fig = go.Figure()
    fig.add_trace(go.Bar(y=layers, x=pruned, orientation="h", name="pruned", marker_color=PRUNED,
                         text=[f"{p:.1f}%" for p in pruned], textposition="inside", insidetextanchor="start",
                         hovertemplate="%{y}: %{x:.1f}% pruned<extra></extra>"))
    fig.add_trace(go.Bar(y=layers, x=[100 - p for p in pruned], orientation="h", name="kept", marker_color=KEPT,
                         hovertemplate="%{y}: %{x:.1f}% kept<extra></extra>"))
    fig.update_layout(barmode="stack", xaxis=dict(title="share of the layer's weights (%)", range=[0, 100]),
                      yaxis=dict(autorange="reversed"))
    return base_layout(fig, height=max(height, 60 + 40 * len(layers)))


def unit_mosaic(mosaic, height: int = 330) -> go.Figure:
    """First-layer units as images of their incoming weights (red +, blue −, blank = pruned)."""
    import numpy as np

    limit = float(np.nanmax(np.abs(mosaic))) if np.isfinite(mosaic).any() else 1.0
    fig = go.Figure(go.Heatmap(z=mosaic, colorscale="RdBu_r", zmid=0, zmin=-limit, zmax=limit,
                               colorbar=dict(title="weight", thickness=12),
                               hovertemplate="weight %{z:.3f}<extra></extra>"))
    fig.update_layout(xaxis=dict(visible=False), yaxis=dict(visible=False, autorange="reversed", scaleanchor="x"),
                      plot_bgcolor="#ffffff")
    return base_layout(fig, height=height)
