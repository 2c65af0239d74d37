"""The worked example's figures: one criterion's scores with its threshold, and both criteria side by side
(kept blue, pruned orange, as everywhere)."""

from __future__ import annotations

import plotly.graph_objects as go

from .style import KEPT, LEGEND, PRUNED, hline, house_layout

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
