"""Network page adapter: which view fits the current model, its controls' state, and the figures from prune_core.

Every number comes from ``prune_core``: the masks from ``pc.select`` (coefficient rule, per layer), the
figure and its counts from ``prune_core.viz.network`` (the live view's, at every slider position, from
``prune_core.viz.network_live``: ``ui.network_live``). Scores are the Prune page's (``ui.prune.all_scores``,
computed once per model). Settings keys: ``net_criterion``, ``net_granularity``, ``net_coefficient``,
``net_edges``; on the first visit they start from the Prune page's criterion, granularity and shared
coefficient when those are set.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

import prune_core as pc
from prune_core.methods import masks
from prune_core.viz import network, network_layout
from prune_core.viz.fmt import percent

from . import prune_labels, prune_session, prune_url
from . import state
from .text import html, md

GRANULARITIES = {"weight": "Individual weights", "unit": "Whole neurons"}
SAMPLES = {"spread": "A spread of strengths", "strongest": "The strongest"}
DEFAULTS = {"net_criterion": "magnitude", "net_granularity": "weight", "net_coefficient": 0.3,
            "net_edges": "spread"}
CACHE_KEY = "net_cache"  # not a setting: per-model layouts, layer kinds, unit scores
SEEDED_KEY = "net_seeded"  # not a setting: the Prune page's settings were offered once


@dataclass
class View:
    """What the page can draw for the current model: ``kind`` "dense" (the network), "conv" (the first
    Conv2D layer's filters) or "none"; ``message``: why the network itself is not drawn (user words)."""

    kind: str
    ctx: prune_session.Context | None = None
    message: str = ""
    conv_layer: str | None = None


def model_cache(entry: state.ModelEntry) -> dict:
    """This session's cache for the current model (layouts, layer kinds, unit scores, the live view's data)."""
    held = st.session_state.get(CACHE_KEY)
    if not held or held[0] != entry.weights_key:
        held = (entry.weights_key, {})
        st.session_state[CACHE_KEY] = held
    return held[1]


def context() -> prune_session.Context | None:
    """The Prune page's Context for the current model, without measuring accuracy (this page shows none)."""
    from prune_core.graph import kernels as model_kernels
    from prune_core.graph import output_layer_name, prunable_layers

    entry = state.current_model()
    ds = state.dataset()
    cache = model_cache(entry)
    if "layers" not in cache:
        cache["layers"] = [(layer.name, type(layer).__name__) for layer in prunable_layers(entry.model)]
    if not cache["layers"]:
        return None
    shape = ds.input_shape if len(ds.input_shape) == 2 else None
    return prune_session.Context(entry=entry, dataset=ds, kernels=model_kernels(entry.model),
                      names=[n for n, _ in cache["layers"]], output_layer=output_layer_name(entry.model),
                      dense_accuracy=float("nan"), dense_params=0, image_shape=shape, has_data=state.has_data(),
                      groups=prune_session.model_groups(entry))


def kinds(ctx: prune_session.Context) -> dict[str, str]:
    return dict(model_cache(ctx.entry)["layers"])


def view() -> View:
    """Which view fits the current model."""
    ctx = context()
    if ctx is None:
        return View("none", message="This model has no Dense or Conv2D layer, so there is no network to draw. "
                                    "Load another on the Model page.")
    layer_kinds = kinds(ctx)
    try:
        network_layout.check_dense_stack(ctx.kernels, layer_kinds, ctx.groups)
        return View("dense", ctx)
    except ValueError as exc:
        message = md(exc)
    conv = next((n for n in ctx.names if layer_kinds.get(n) == "Conv2D"), None)
    if conv is not None:
        return View("conv", ctx, message=message, conv_layer=conv)
    return View("none", ctx, message=message + " This page draws Dense stacks (MLPs) and the first-layer filters of "
                                               "Conv2D networks; the Prune page works on every model.")


def seed_settings(ctx: prune_session.Context) -> None:
    """Once per session: the controls start from the Prune page's criterion, granularity and (one shared,
    per-layer) coefficient when the Prune page has set them; otherwise from the defaults."""
    if not st.session_state.get(SEEDED_KEY):
        st.session_state[SEEDED_KEY] = True
        prune = st.session_state
        if prune.get("pr_criterion") in prune_session.available_criteria(ctx):
            prune.setdefault("net_criterion", prune["pr_criterion"])
        if prune.get("pr_granularity") in GRANULARITIES:
            prune.setdefault("net_granularity", prune["pr_granularity"])
        if prune.get("pr_rule", "coefficient") == "coefficient" and prune.get("pr_scope", "layer") == "layer" \
                and prune.get("pr_same"):
            shared = prune.get(prune_url.value_key(prune.get("net_granularity", "weight"), "coefficient", None))
            if isinstance(shared, (int, float)) and 0.0 <= shared <= 1.0:
                prune.setdefault("net_coefficient", float(shared))
    if st.session_state.get("net_criterion") not in prune_session.available_criteria(ctx):
        st.session_state["net_criterion"] = DEFAULTS["net_criterion"]
    for key in ("net_granularity", "net_coefficient", "net_edges"):
        st.session_state.setdefault(key, DEFAULTS[key])


def reset() -> None:
    """Every Network control back to its default (an ``on_click`` callback)."""
    from . import settings

    settings.forget("net_")
    st.session_state.update(DEFAULTS)
    st.session_state[SEEDED_KEY] = True


criterion_label = prune_labels.criterion_label
criterion_help = prune_labels.criterion_help
available_criteria = prune_session.available_criteria


def coefficient_range() -> tuple[float, float, float]:
    low, high, step, _ = prune_labels.slider_range("coefficient")
    return low, high, step


def scores(ctx: prune_session.Context, criterion: str, where=None) -> dict:
    """{criterion: kernel-shaped scores}, the Prune page's (computed once per model and data)."""
    return prune_session.all_scores(ctx, criterion, where=where)


def spec(criterion: str, granularity: str, coefficient: float) -> pc.PruneSpec:
    """The PruneSpec the controls describe: the coefficient rule, one threshold per layer."""
    return pc.PruneSpec(criterion=criterion, granularity=granularity, rule="coefficient", scope="layer",
                        value=pc.RULES["coefficient"].from_display(coefficient))


def mask_set(ctx: prune_session.Context, all_scores: dict, criterion: str, granularity: str,
             coefficient: float) -> masks.MaskSet:
    return pc.select(ctx.entry.model, spec(criterion, granularity, coefficient), all_scores[criterion],
                     kernels=ctx.kernels, groups=ctx.groups)


def unit_scores(ctx: prune_session.Context, all_scores: dict, criterion: str) -> dict:
    cache = model_cache(ctx.entry)
    key = ("unit scores", ctx.dataset.key, criterion)
    if key not in cache:
        cache[key] = pc.CRITERIA[criterion].unit_scores(ctx.entry.model, all_scores[criterion], groups=ctx.groups)
    return cache[key]


def layout(ctx: prune_session.Context, sample: str) -> network_layout.NetworkLayout:
    cache = model_cache(ctx.entry)
    key = ("layout", sample)
    if key not in cache:
        cache[key] = network_layout.network_layout(ctx.kernels, sample=sample)
    return cache[key]


def figure(ctx: prune_session.Context, all_scores: dict, criterion: str, granularity: str, mask: masks.MaskSet,
           sample: str):
    """(figure, NetworkSummary) of the network with ``mask``."""
    names = list(ctx.kernels)
    per_unit = unit_scores(ctx, all_scores, criterion) if granularity == "unit" else None
    return network.network_figure(
        ctx.kernels, mask.kernels, mask.units or None, {n: all_scores[criterion][n] for n in names},
        unit_scores=per_unit, layout=layout(ctx, sample), labels={n: html(n) for n in names},
        score_label=f"{criterion_label(criterion)} score", image_shape=ctx.image_shape)


@dataclass
class Metric:
    label: str
    value: str
    delta: str | None
    help: str


def metrics(summary: network.NetworkSummary, mask: masks.MaskSet) -> list[Metric]:
    """The four numbers beside the figure: connections drawn, of those pruned, neurons removed, sparsity."""
    hidden = sum(int(mask.kernels[n].shape[-1]) for n in list(mask.kernels)[:-1])
    return metric_row(summary.edges_drawn, summary.edges_total, summary.edges_pruned, summary.neurons_removed,
                      hidden, mask.overall_sparsity)


def metric_row(drawn: int, total: int, pruned: int, removed: int, hidden: int, sparsity: float,
               faded: str = "light grey") -> list[Metric]:
    """The four numbers from prune_core's counts (the server figure's, or the live view's at each position)."""
    share = pruned / drawn if drawn else 0.0
    return [
        Metric("Connections drawn", f"{drawn:,}", f"of {total:,}",
               f"Lines in the picture, of the model's {total:,} kernel weights: the rest are left out "
               "so the browser stays fast."),
        Metric("Pruned (faded)", f"{pruned:,}", f"{percent(share)} of those drawn",
               f"Drawn connections whose weight this setting prunes; they are drawn in {faded}."),
        Metric("Neurons removed", f"{removed:,}", f"of {hidden:,} hidden",
               "Neurons removed by whole-neuron pruning, or with every incoming weight pruned; drawn greyed out. "
               "Output neurons are never removed."),
        Metric("Overall sparsity", percent(sparsity), None,
               "Share of all the model's kernel weights (not only those drawn) that this setting prunes."),
    ]


def caption(summary: network.NetworkSummary, sample: str) -> str:
    """One sentence under the network figure saying what is drawn."""
    return _caption(summary.layers, summary.inputs_shown, summary.inputs_total, sample,
                    "teal positive, purple negative, thicker for larger |w|, light grey once pruned")


def live_caption(drawn: network_layout.NetworkLayout, sample: str) -> str:
    """The same sentence under the live view (kept blue, pruned orange, as on the Prune page)."""
    return _caption(drawn.layers, len(drawn.inputs), drawn.n_inputs, sample,
                    "blue while kept, faded orange once pruned, thicker and darker for larger |w|; a removed neuron "
                    "is grey")


def _caption(layers, shown: int, total: int, sample: str, colours: str) -> str:
    inputs = (f"the {shown:,} of {total:,} inputs with the largest total |w|" if shown < total
              else f"all {total:,} inputs")
    parts = []
    for layer in layers:
        if layer.per_neuron is not None:
            parts.append(f"{md(layer.name)} {layer.per_neuron} per neuron")
        elif layer.complete:
            parts.append(f"{md(layer.name)} all")
        else:
            parts.append(f"{md(layer.name)} {layer.drawn:,} in all")
    which = "the strongest" if sample == "strongest" else "spread from strongest to weakest"
    return (f"Columns are layers, left to right ({inputs}); each line is a weight — {colours}. Lines drawn: "
            f"{', '.join(parts)} ({which}); hover a neuron or a line for its weight and score.")


def filter_metrics(ctx: prune_session.Context, layer: str, mask: masks.MaskSet) -> list[Metric]:
    """The numbers beside a conv net's filters: filters pruned (every weight) and overall sparsity."""
    gone = network_layout.pruned_filters(mask.kernels[layer])
    return [Metric("Filters pruned", f"{int(gone.sum()):,}", f"of {gone.size:,} in the first Conv2D layer",
                   "Filters of the first Conv2D layer with every weight pruned; their tiles are blanked."),
            Metric("Overall sparsity", percent(mask.overall_sparsity), None,
                   "Share of all the model's kernel weights that this setting prunes.")]


def filters(ctx: prune_session.Context, layer: str, mask: masks.MaskSet):
    """(figure, caption) of a conv net's first Conv2D layer's filters under ``mask``."""
    kernel, keep = ctx.kernels[layer], mask.kernels[layer]
    fig = network.first_filters_figure(kernel, keep)
    gone = network_layout.pruned_filters(keep)
    shown = min(kernel.shape[-1], 64)
    more = f" (the first {shown} of {kernel.shape[-1]})" if shown < kernel.shape[-1] else ""
    text = (f"Each tile is one filter of {md(layer)}{more}: its {kernel.shape[0]}×{kernel.shape[1]} weights averaged "
            f"over {kernel.shape[2]} input channel(s), pruned weights as 0 (teal positive, purple negative); "
            f"{int(gone[:shown].sum())} filter(s) with every weight pruned are blanked.")
    return fig, text
