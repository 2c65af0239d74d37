"""Prune page context: what the page needs about the current model, computed once per model (kernels,
dependency groups, the dense numbers), the scores cached per (weights, data), the per-session scratch model,
and the labels of layers and groups."""

from __future__ import annotations

from dataclasses import dataclass, replace

import streamlit as st

import prune_core as pc
from prune_core.graph import dependency_groups, output_layer_name, weight_targets
from prune_core.graph import layers as graph_layers
from prune_core.graph.kinds import STREAM_NORMS
from prune_core.graph import kernels as model_kernels
from prune_core.io import data
from prune_core.measure import preview
from prune_core.methods import criteria

from . import state
from .text import md
from .prune_labels import criterion_label


SCORE_BATCHES = 4
HISTOGRAMS_DEFAULT = 6  # histograms drawn at first on a big model: its largest layers


@dataclass
class Context:
    """What the page needs about the current model, computed once per model (not per slider move)."""

    entry: state.ModelEntry
    dataset: data.Dataset
    kernels: dict
    names: list
    output_layer: str
    dense_accuracy: float
    dense_params: int
    image_shape: tuple | None
    has_data: bool = True
    groups: list = None  # the model's dependency groups (prune_core.graph), walked once per model
    dense_sparse_bytes: int = 0  # the dense model under the same storage rule as the pruned one (its own zeros out)


@st.cache_data(max_entries=32, show_spinner=False)
def _scores(weights_key: str, data_key: str, names: tuple, _model, _ds) -> dict:
    """{criterion: {layer: scores}} for ``names``, computed once per (weights, data) — never per slider move."""
    return criteria.score_many(_model, names, _ds if data.has_samples(_ds) else None, batches=SCORE_BATCHES)


def available_criteria(ctx: Context) -> list[str]:
    """Every registered criterion; those that need labelled data only when the model has data."""
    return [n for n, c in pc.CRITERIA.items() if ctx.has_data or not c.needs_data]


def all_scores(ctx: Context, criterion: str, where=None) -> dict:
    """{criterion: scores} for magnitude (the weight view and the table need it) and ``criterion``'s group.

    Gradient criteria are computed only when chosen (4 batches of 128 examples, memory-bounded micro-batches);
    while they are, a status box in ``where`` (an ``st.empty`` at the top of the page) says so, then goes.
    """
    ds, entry = ctx.dataset, ctx.entry
    result = dict(_scores(entry.weights_key, ds.key, ("magnitude",), entry.model, ds))
    group = pc.scored_together(criterion)
    if group != ("magnitude",):
        needs_data = any(pc.CRITERIA[n].needs_data for n in group)
        what = (f"gradients over {SCORE_BATCHES} batches of 128 training {ds.noun}" if needs_data
                else "every weight")
        label = f"Scoring by {', '.join(criterion_label(n) for n in group)} ({what})…"
        slot = where if where is not None else st.empty()
        with slot.container():
            with st.status(label, expanded=False):
                result.update(_scores(entry.weights_key, ds.key, group, entry.model, ds))
        slot.empty()
    return result


def data_words(ctx: Context) -> str:
    """What the gradients are averaged over, in words: "128 training images (Bundled MNIST subset)"."""
    return f"128 training {ctx.dataset.noun} ({md(ctx.dataset.name)})"


def context() -> Context | None:
    entry = state.current_model()
    ds = state.dataset()
    names = [target.key for target in weight_targets(entry.model)]  # every kernel: attention, Embedding, RNN too
    if not names:
        return None
    numbers = state.measure(entry, ds)
    shape = ds.input_shape if len(ds.input_shape) == 2 else None
    return Context(entry=entry, dataset=ds, kernels=model_kernels(entry.model), names=names,
                   output_layer=output_layer_name(entry.model), dense_accuracy=numbers["accuracy"],
                   dense_params=numbers["params"], image_shape=shape, has_data=state.has_data(),
                   groups=model_groups(entry), dense_sparse_bytes=numbers.get("sparse_bytes", 0))


def model_groups(entry: state.ModelEntry, streams: bool = False) -> list:
    """The model's dependency groups (``streams``: of the streams-mode graph), walked once per session and model."""
    key = (entry.weights_key, streams)
    held = st.session_state.setdefault("pr_groups", {})
    if key not in held:
        if not any(k[0] == entry.weights_key for k in held):
            held.clear()  # another model: its groups go
        held[key] = dependency_groups(entry.model, streams=streams)
    return held[key]


def has_streams(ctx: Context) -> bool:
    """Whether the model normalises channels with LayerNormalization/RMSNormalization (streams mode can open it)."""
    return any(type(layer).__name__ in STREAM_NORMS for layer in graph_layers(ctx.entry.model))


def with_streams(ctx: Context, streams: bool) -> Context:
    """The context with the streams-mode groups when ``streams`` (the page's toggle), else as it is."""
    return replace(ctx, groups=model_groups(ctx.entry, True)) if streams else ctx


def scratch(ctx: Context) -> preview.MaskedScratch:
    """One scratch copy per session and model, reused by every slider move."""
    key = ("pr_scratch", ctx.entry.weights_key)
    held = st.session_state.get("pr_scratch")
    if not held or held[0] != key:
        held = (key, preview.MaskedScratch(ctx.entry.model))
        st.session_state["pr_scratch"] = held
    return held[1]


def slider_layers(ctx: Context, granularity: str) -> list[str]:
    """What gets a slider: every prunable layer, or for neuron/filter pruning every prunable dependency
    group (named after its first layer; a chain layer is its own group)."""
    if granularity == "weight":
        return list(ctx.names)
    return [g.name for g in ctx.groups if g.prunable]


def unprunable_groups(ctx: Context):
    """Layers whose units cannot be removed, and why in plain words (for the unit mode's note). The output
    layer alone (its units are the classes) goes without saying and is not listed."""
    import pandas as pd

    outputs = {ctx.output_layer}
    rows = [{"Layers": ", ".join(g.producers), "Channels": g.size, "Why they stay whole": g.reason}
            for g in ctx.groups if not g.prunable and set(g.producers) != outputs]
    return pd.DataFrame(rows, columns=["Layers", "Channels", "Why they stay whole"])


def unit_scores_by_criterion(ctx: Context, scores: dict) -> dict:
    return {c: pc.CRITERIA[c].unit_scores(ctx.entry.model, s, groups=ctx.groups) for c, s in scores.items()
            if c in pc.CRITERIA}


def slider_label(ctx: Context, name: str, granularity: str = "unit") -> str:
    """The layer's (neurons: its group's) label for a widget, escaped (layer names come from uploaded files)."""
    return md(layer_label(ctx, name, granularity))


def layer_label(ctx: Context, name: str, granularity: str = "unit") -> str:
    """'dense1 (784×300)'; for neurons/filters, a group of several layers: 'conv2_block1_0_conv + 2 more (256
    channels)' (a weight's layer is just the layer)."""
    group = next((g for g in ctx.groups if g.name == name and (len(g.producers) > 1 or name not in ctx.kernels)),
                 None) if granularity == "unit" else None
    if group is not None and len(group.producers) > 1:
        return f"{name} + {len(group.producers) - 1} more ({group.size} channels)"
    if group is not None:  # an RNN's units, an Embedding's width, an attention layer's output channels
        return f"{name} ({group.size} units)"
    shape = "×".join(str(d) for d in ctx.kernels[name].shape)
    return f"{name} ({shape})"


def layer_parameters(ctx: Context, name: str, granularity: str = "unit") -> int:
    """Kernel weights of a layer (weight granularity: that kernel only), or of a group's producing layers (every
    kernel a producer holds: an RNN's two, an attention layer's four)."""
    group = next((g for g in ctx.groups if g.name == name), None) if ctx.groups and granularity == "unit" else None
    producers = group.producers if group is not None else (name,)
    return int(sum(k.size for key, k in ctx.kernels.items() for p in producers if key == p or key.startswith(f"{p}/")))


def shape_text(ctx: Context, name: str, granularity: str) -> str:
    group = next((g for g in ctx.groups if g.name == name), None) if granularity == "unit" and ctx.groups else None
    if group is not None:
        more = f", {len(group.producers)} layers" if len(group.producers) > 1 else ""
        return f"{group.size} channels{more}"
    return "×".join(str(d) for d in ctx.kernels[name].shape)


def largest_layers(ctx: Context, n: int = HISTOGRAMS_DEFAULT) -> list[str]:
    """The ``n`` layers with the most kernel weights, in model order (ties: the earlier layer)."""
    by_size = sorted(ctx.names, key=lambda name: (-ctx.kernels[name].size, ctx.names.index(name)))[:n]
    return [name for name in ctx.names if name in by_size]
