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
