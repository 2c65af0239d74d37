"""The house style of every chart: the colour palette, the plotly template, layout defaults and reference lines.

Colours are fixed across the product: kept = blue, pruned = orange, dense baseline = grey. Blue and orange
are reserved for kept/pruned: every other series takes a colour from ``SERIES`` (teal, violet, pink, olive,
magenta, green, charcoal); a round below tolerance is a crimson cross, an allowed floor a near-black dotted line.
Importing this module registers the ``TEMPLATE`` with plotly.
"""

from __future__ import annotations

import plotly.graph_objects as go
import plotly.io as pio

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


def hline(y: float, colour: str = "#111827") -> dict:
    """A dashed horizontal line at data y spanning the plot (cheaper than Figure.add_hline)."""
    return dict(type="line", x0=0, x1=1, y0=y, y1=y, xref="paper", yref="y",
                line=dict(color=colour, dash="dash", width=1.5))
