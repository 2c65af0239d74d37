"""The Prune page's attention-heads section (a model with MultiHeadAttention only): the heads heatmap under the
chosen criterion, a slider removing each layer's lowest-scored heads, and the measured accuracy as heads go.
Numbers from ``prune_core.measure.heads``, figures from ``prune_core.viz.heads``; layout only here."""

from __future__ import annotations

import streamlit as st

from prune_core.graph import attention_layers
from prune_core.measure import heads as mh
from prune_core.viz.heads import heads_curve_figure, heads_heatmap

from . import widgets
from .errors import guarded
from .prune_labels import criterion_label
from .prune_session import Context
from .prune_view import TILE_WIDTH
from .text import md

CACHE = "pr_heads_cache"  # {(weights, criterion): (head table, removal curve or None)}; one model at a time


def has_heads(ctx: Context) -> bool:
    """Whether the model has a MultiHeadAttention (computed once per model)."""
    cache = st.session_state.setdefault("pr_heads_found", {})
    if ctx.entry.weights_key not in cache:
        cache.clear()
        cache[ctx.entry.weights_key] = bool(attention_layers(ctx.entry.model))
    return cache[ctx.entry.weights_key]


def _measured(ctx: Context, scores: dict, criterion: str):
    """(head table, removal curve) for this model and criterion, computed once; the curve shows its progress."""
    cache = st.session_state.setdefault(CACHE, {})
    key = (ctx.entry.weights_key, criterion)
    if key not in cache:
        cache.clear()
        table = mh.head_table(ctx.entry.model, scores[criterion])
        steps = None
        if ctx.has_data:
            bar = st.progress(0.0, text="Measuring test accuracy as heads are removed…")
            steps = mh.removal_curve(ctx.entry.model, table, ctx.dataset.x_test, ctx.dataset.y_test,
                                     progress=lambda f, text: bar.progress(f, text=text))
            bar.empty()
        cache[key] = (table, steps)
    return cache[key]


def curve_caption(steps, dense_accuracy: float) -> str:
    """The curve's caption: the measured numbers in one sentence, then how to read the chart."""
    return md(mh.removal_sentence(steps, dense_accuracy) + " The grey dashed line is the dense model; each point "
              "zeroes the removed heads exactly, as the compact model would compute.")


@st.fragment
@guarded("drawing the attention heads")
def section(ctx: Context, scores: dict, criterion: str) -> None:
    """The heatmap, its slider, the curve and one sentence with the numbers."""
    table, steps = _measured(ctx, scores, criterion)
    st.markdown("##### Attention heads")
    most = min(len(v) for v in table.values()) - 1
    per_layer = 0
    if most > 0:
        per_layer = st.slider("Heads removed per attention layer (the lowest-scored)", 0, most, 0, step=1,
                              key="pr_heads_removed")
    keep = mh.lowest_heads(table, per_layer)
    row = st.container(horizontal=True, gap="medium")  # side by side where the width allows, stacked at 900 px
    heatmap = row.container(width=TILE_WIDTH)
    curve = row.container(width=TILE_WIDTH) if steps else None
    with heatmap:
        widgets.chart(heads_heatmap(table, keep), key="heads-heatmap")
        st.caption(md(f"One row per attention layer, one cell per head: darker is more important under "
                      f"{criterion_label(criterion)} (the sum of the head's query, key, value and output weight "
                      "scores), relative to the layer's most important head (the colours span the shares shown); an orange frame marks the heads the slider removes."))
    if curve is not None:
        with curve:
            widgets.chart(heads_curve_figure(steps, ctx.dense_accuracy, per_layer), key="heads-curve")
            st.caption(curve_caption(steps, ctx.dense_accuracy))
    elif not ctx.has_data:
        st.caption("Add data on the Model page to measure the accuracy as heads are removed.")
