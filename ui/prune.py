"""Prune page adapter: cached scores, per-session scratch model, widget state and URL round-trip."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

import prune_core as pc
from prune_core.io import data
from prune_core.methods import masks, signals
from prune_core.measure import preview
from prune_core.viz.fmt import percent
from prune_core.graph import kernels as model_kernels
from prune_core.graph import output_layer_name, prunable_layers
from prune_core.measure.metrics import float32_bytes, human_bytes, sparse_bytes

from . import state
from .text import html, md

GRANULARITIES = {"weight": "Individual weights", "unit": "Whole neurons / filters"}
SCOPES = {"layer": "Per layer", "global": "Global (one threshold for all layers)"}
VIEWS = {"weights": "Weight values", "scores": "Importance scores"}
SCORE_BATCHES = 4


def criterion_label(name: str) -> str:
    """The registered criterion's label ('Magnitude |w|'); the name itself for one no longer registered."""
    return pc.CRITERIA[name].label if name in pc.CRITERIA else name


def rule_label(name: str) -> str:
    return pc.RULES[name].label if name in pc.RULES else name


def criterion_help() -> str:
    """One line per registered criterion: its explanation and citation (for the radio's help)."""
    return "\n\n".join(f"**{c.label}** — {c.explanation}" + (f" ({c.citation})" if c.citation else "")
                        for c in pc.CRITERIA.values())


def rule_help() -> str:
    return "\n\n".join(f"**{r.label}** — {r.explanation}" for r in pc.RULES.values())


def rule_names() -> list[str]:
    return list(pc.RULES)


def slider_range(rule: str) -> tuple[float, float, float, float]:
    """(min, max, step, default) of ``rule``'s slider, in the units it shows (sparsity in %)."""
    return pc.RULES[rule].slider


def slider_format(rule: str) -> str:
    return pc.RULES[rule].display_format


def rule_choices(rule: str) -> list | None:
    """The allowed values of a rule whose value is not a number on a slider (N:M: "2:4", …), else None."""
    choices = pc.RULES[rule].choices
    return list(choices) if choices else None


def value_widget(container, label: str, rule: str, key: str):
    """The rule's value control: a select box for a rule with choices, else its slider (seeded from state)."""
    choices = rule_choices(rule)
    if choices:
        if st.session_state.get(key) not in choices:
            st.session_state[key] = pc.RULES[rule].default
        return container.selectbox(label, choices, key=key)
    low, high, step, default = slider_range(rule)
    return container.slider(label, low, high, step=step, key=seed_slider(key, default), format=slider_format(rule))


def granularity_for(rule: str, granularity: str) -> tuple[str, str | None]:
    """(granularity to prune with, a note when the rule cannot prune the chosen one)."""
    allowed = pc.RULES[rule].granularities
    if granularity in allowed:
        return granularity, None
    return allowed[0], (f"{rule_label(rule)} works on individual weights (its blocks run along each neuron's "
                        "inputs), so this preview prunes weights.")


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


@st.cache_data(max_entries=32, show_spinner=False)
def _scores(weights_key: str, data_key: str, names: tuple, _model, _ds) -> dict:
    """{criterion: {layer: scores}} for ``names``, computed once per (weights, data) — never per slider move."""
    return pc.methods.criteria.score_many(_model, names, _ds if data.has_samples(_ds) else None, batches=SCORE_BATCHES)


def available_criteria(ctx: Context) -> list[str]:
    """Every registered criterion; those that need labelled data only when the model has data."""
    return [n for n, c in pc.CRITERIA.items() if ctx.has_data or not c.needs_data]


def score_group(criterion: str) -> tuple[str, ...]:
    """What is computed together with ``criterion``: every gradient criterion shares one backward pass."""
    chosen = pc.CRITERIA[criterion]
    if isinstance(chosen, pc.GradientCriterion):  # per-example (Fisher) passes are slower: only with their own
        return tuple(n for n, c in pc.CRITERIA.items()
                     if isinstance(c, pc.GradientCriterion) and c.fisher == chosen.fisher)
    return (criterion,)


def all_scores(ctx: Context, criterion: str, where=None) -> dict:
    """{criterion: scores} for magnitude (the weight view and the table need it) and ``criterion``'s group.

    Gradient criteria are computed only when chosen (4 batches of 128 examples, memory-bounded micro-batches);
    while they are, a status box in ``where`` (an ``st.empty`` at the top of the page) says so, then goes.
    """
    ds, entry = ctx.dataset, ctx.entry
    result = dict(_scores(entry.weights_key, ds.key, ("magnitude",), entry.model, ds))
    group = score_group(criterion)
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
    layers = prunable_layers(entry.model)
    if not layers:
        return None
    numbers = state.measure(entry, ds)
    shape = ds.input_shape if len(ds.input_shape) == 2 else None
    return Context(entry=entry, dataset=ds, kernels=model_kernels(entry.model), names=[l.name for l in layers],
                   output_layer=output_layer_name(entry.model), dense_accuracy=numbers["accuracy"],
                   dense_params=numbers["params"], image_shape=shape, has_data=state.has_data(),
                   groups=model_groups(entry))


def model_groups(entry: state.ModelEntry) -> list:
    """The model's dependency groups, walked once per session and model."""
    from prune_core.graph import dependency_groups

    held = st.session_state.get("pr_groups")
    if not held or held[0] != entry.weights_key:
        held = (entry.weights_key, dependency_groups(entry.model))
        st.session_state["pr_groups"] = held
    return held[1]


def scratch(ctx: Context) -> preview.MaskedScratch:
    """One scratch copy per session and model, reused by every slider move."""
    key = ("pr_scratch", ctx.entry.weights_key)
    held = st.session_state.get("pr_scratch")
    if not held or held[0] != key:
        held = (key, preview.MaskedScratch(ctx.entry.model))
        st.session_state["pr_scratch"] = held
    return held[1]


# --- settings <-> URL query parameters --------------------------------------------------------

def value_key(granularity: str, rule: str, layer: str | None) -> str:
    """The session-state key of one value: each (granularity, rule) keeps its own, per layer (None: the
    shared control of global scope / 'same value for all layers').

    >>> value_key("unit", "sparsity", "dense1"), value_key("weight", "coefficient", None)
    ('pr_v_unit_sparsity_dense1', 'pr_v_weight_coefficient__all')
    """
    return f"pr_v_{granularity}_{rule}_{layer or '_all'}"


def effective_granularity(rule: str, granularity: str) -> str:
    return granularity_for(rule, granularity)[0] if rule in pc.RULES else granularity


def seed_slider(key: str, default) -> str:
    """Give a keyed widget its default through session state (so URL-restored values win); returns the key."""
    st.session_state.setdefault(key, default)
    return key


def restore_from_url(names: list[str]) -> None:
    """Once per session and model: seed the widgets from the URL, so a demo link reopens the same view."""
    marker = ("pr_restored", tuple(names))
    if st.session_state.get("pr_restored") == marker:
        return
    st.session_state["pr_restored"] = marker
    q = st.query_params
    for key, options in (("criterion", pc.CRITERIA), ("granularity", GRANULARITIES), ("rule", pc.RULES),
                         ("scope", SCOPES), ("view", VIEWS)):
        if q.get(key) in options:
            st.session_state[f"pr_{key}"] = q[key]
    if q.get("same") in ("0", "1"):
        st.session_state["pr_same"] = q["same"] == "1"
    rule = st.session_state.get("pr_rule", "coefficient")
    granularity = effective_granularity(rule, st.session_state.get("pr_granularity", "weight"))
    low, high, _, _ = slider_range(rule)
    choices = rule_choices(rule)
    for part in q.get("v", "").split(","):
        if choices:  # "2:4" or "dense1=2:4" (a choice holds ':' itself)
            layer, _, text = part.rpartition("=")
            if text not in choices:
                continue
            value = text
        else:
            layer, _, text = part.rpartition(":")
            try:
                value = float(text)
            except ValueError:
                continue
            if not low <= value <= high:
                continue
        if not layer:  # one value: the shared slider and every layer's slider
            for name in [None, *names]:
                st.session_state[value_key(granularity, rule, name)] = value
        elif layer in names:
            st.session_state[value_key(granularity, rule, layer)] = value
    new_table_revision()


def carry_per_layer(criterion: str, rule: str, values: dict[str, float]) -> None:
    """Set this page's settings to per-layer ``values`` (in the rule's own units) for ``criterion``, weight
    granularity: what another page (Sensitivity) hands over before switching here."""
    st.session_state.update(pr_criterion=criterion, pr_rule=rule, pr_scope="layer", pr_same=False,
                            pr_granularity="weight")
    shown = pc.RULES[rule]
    for layer, value in values.items():
        st.session_state[value_key("weight", rule, layer)] = float(round(shown.to_display(value)))
    new_table_revision()


def _url_value(value) -> str:
    return value if isinstance(value, str) else f"{value:g}"


def write_url(settings: dict, values: dict[str, float] | float) -> None:
    if isinstance(values, dict):
        sep = "=" if rule_choices(settings["rule"]) else ":"
        v = ",".join(f"{name}{sep}{_url_value(value)}" for name, value in values.items())
    else:
        v = _url_value(values)
    params = {"criterion": settings["criterion"], "granularity": settings["granularity"], "rule": settings["rule"],
              "scope": settings["scope"], "same": "1" if settings["same"] else "0", "view": settings["view"], "v": v}
    from . import present

    params.update(present.url_params())  # a reload stays in presenter mode
    if dict(st.query_params) != params:
        st.query_params.from_dict(params)


# --- the computation behind one slider move (all numbers from prune_core) -----------------------

def spec_for(settings: dict, values) -> pc.PruneSpec:
    """The PruneSpec the controls describe (slider values converted from what they show to the rule's units)."""
    rule = pc.RULES[settings["rule"]]
    common = dict(criterion=settings["criterion"], granularity=settings["granularity"], rule=settings["rule"],
                  scope=settings["scope"])
    if isinstance(values, dict):
        per_layer = {n: rule.from_display(v) for n, v in values.items()}
        return pc.PruneSpec(**common, value=rule.default, per_layer=per_layer)
    return pc.PruneSpec(**common, value=rule.from_display(values))


def mask_set_for(ctx: Context, scores: dict, settings: dict, values) -> masks.MaskSet:
    """The masks for the controls' settings, by ``prune_core.select`` on the scores computed once."""
    return pc.select(ctx.entry.model, spec_for(settings, values), scores[settings["criterion"]],
                     kernels=ctx.kernels, groups=ctx.groups)


@dataclass
class Numbers:
    """The headline numbers under the sliders, formatted (labels, values, deltas) for st.metric."""

    size: str
    size_delta: str
    accuracy: str
    accuracy_delta: str | None
    accuracy_help: str
    pruned_accuracy: float


def numbers(ctx: Context, mask_set: masks.MaskSet) -> Numbers:
    """Size estimate and test accuracy of the masked scratch model (no retraining), against the dense model."""
    from prune_core.measure import metrics

    pruned_model = scratch(ctx).load(mask_set)
    sparse, dense_bytes = sparse_bytes(pruned_model), float32_bytes(ctx.dense_params)
    size_delta = f"{sparse / dense_bytes - 1:+.1%} vs dense {human_bytes(dense_bytes)}"
    if not ctx.has_data:
        return Numbers(human_bytes(sparse), size_delta, "needs data", None,
                       "Add data for this model on the Model page to measure accuracy.", float("nan"))
    accuracy = metrics.evaluate(pruned_model, ctx.dataset.x_test, ctx.dataset.y_test).accuracy
    return Numbers(human_bytes(sparse), size_delta, f"{accuracy:.2%}",
                   f"{(accuracy - ctx.dense_accuracy) * 100:+.2f} pts vs dense",
                   f"Test accuracy of the pruned model before any retraining, measured on "
                   f"{len(ctx.dataset.y_test):,} test {ctx.dataset.noun}; dense model {ctx.dense_accuracy:.2%}.",
                   accuracy)


def sparsity_figure(mask_set: masks.MaskSet):
    """Pruned share per layer: the house bars for a few layers; for many (> TABLE_ABOVE) one compact overview
    with a thin bar per layer. Shares are written with ``fmt.percent`` (never a rounded 100% or 0%)."""
    from prune_core.viz import figures

    sparsity = mask_set.layer_sparsity()
    names, shares = [html(n) for n in sparsity], list(sparsity.values())
    if len(names) > TABLE_ABOVE:
        return figures.sparsity_overview(names, shares)
    fig = figures.sparsity_bars(names, shares)
    texts = [percent(v) for v in shares]
    for trace in fig.data:  # the share written beside each bar: no "100.0%" while weights are kept
        if trace.text is not None and len(trace.text) == len(texts):
            trace.text = texts
    return fig


@dataclass
class Mosaic:
    """What the first layer's first neurons still see: the picture, or a sentence when nothing is left."""

    layer: str            # escaped for Markdown
    image: object | None  # RGB array; None when every drawn input is pruned
    units: int            # how many neurons are drawn


def mosaic(ctx: Context, mask_set: masks.MaskSet) -> Mosaic | None:
    """The first layer's first 32 neurons' kept inputs as a picture, or None for non-image inputs. Cheap on big
    models: one slice of one kernel (None at once for a conv first layer)."""
    from prune_core.viz import figures

    first = ctx.names[0]
    tiles = preview.first_layer_units(ctx.kernels[first], mask_set.kernels[first], ctx.image_shape) \
        if ctx.image_shape else None
    if tiles is None:
        return None
    units = min(32, ctx.kernels[first].shape[1])
    if not mask_set.kernels[first][:, :units].any():
        return Mosaic(md(first), None, units)
    return Mosaic(md(first), figures.mosaic_image(tiles), units)


def importance_table(ctx: Context, scores: dict, settings: dict, mask_set: masks.MaskSet,
                     only: list[str] | None = None):
    """Weight mode: the 5 lowest and highest weights per layer; unit mode: one row per neuron/filter (with more
    than TABLE_ABOVE groups: the 5 lowest and highest neurons/filters per layer).

    The rows depend on the scores only, so they are found once per model, data and criterion; a slider move
    only fills in the status column (the search over 23M ResNet50 weights took 0.2 s per move).
    """
    import numpy as np

    criterion = settings["criterion"]
    shown = {c: s for c, s in scores.items() if c != "random" or c == criterion}
    held = _histogram_cache(ctx)
    if settings["granularity"] == "unit":
        by_criterion = _held(held, ("unit scores", tuple(shown)), lambda: unit_scores_by_criterion(ctx, shown))
        table = preview.unit_table(by_criterion, criterion, mask_set.units)
        table = preview.extreme_units(table, n=5) if len(mask_set.units) > TABLE_ABOVE else table
        return _only(table, only)

    def rows():
        table = preview.extreme_entries(ctx.kernels, shown, criterion, keep=None, n=5)
        flat = [int(np.ravel_multi_index(ast_tuple(p), ctx.kernels[layer].shape))
                for layer, p in zip(table["layer"], table["position"])]
        return table, np.asarray(flat, dtype=np.int64)

    table, flat = _held(held, ("extremes", criterion, tuple(shown)), rows)
    if only is not None:  # a big model: the picked layers' rows (540 styled rows cost ~190 KB per move)
        picked = table["layer"].isin(only).to_numpy()
        table, flat = table[picked], flat[picked]
    table = table.copy()
    table["status"] = [("kept" if mask_set.kernels[layer].ravel()[i] else "pruned") if layer in mask_set.kernels
                       else "" for layer, i in zip(table["layer"], flat)]
    return table.reset_index(drop=True)


def _only(table, layers: list[str] | None):
    return table if layers is None or table.empty else table[table["layer"].isin(layers)].reset_index(drop=True)


def ast_tuple(text: str) -> tuple[int, ...]:
    """'(3, 7)' (a position column entry) → (3, 7)."""
    return tuple(int(part) for part in text.strip("()").split(",") if part.strip())


def candidate_text(held: state.Candidate) -> str:
    return f"Candidate ready: {_candidate_summary(held)}."


def _candidate_summary(held: state.Candidate) -> str:
    s = held.settings
    return (f"{percent(held.sparsity)} sparse, {_accuracy_text(held.pruned_accuracy)} test accuracy before "
            f"retraining — {md(criterion_label(s['criterion']))}, {md(GRANULARITIES.get(s['granularity'], ''))}, "
            f"{md(rule_label(s['rule']))}")


def stale_candidate_text(held: state.Candidate) -> str:
    return (f"The applied candidate ({_candidate_summary(held)}) differs from these settings — Apply again to use "
            "these.")


def candidate_matches(held: state.Candidate, settings: dict, values) -> bool:
    """Whether the held candidate is what the controls show now (the view does not count)."""
    def same_settings(a: dict) -> dict:
        return {k: a.get(k) for k in ("criterion", "granularity", "rule", "scope", "same")}

    return same_settings(held.settings) == same_settings(settings) and held.values == values


def _accuracy_text(value: float) -> str:
    return "unmeasured (no data)" if value is None or value != value else f"{value:.2%}"


def layer_histograms(ctx: Context, scores: dict, settings: dict, mask_set: masks.MaskSet,
                     only: list[str] | None = None) -> dict:
    """{layer: figure} — weight values (threshold at ±t for magnitude) or importance scores on a log axis;
    ``only``: just these layers (a big model's picked ones), in model order.

    Bins and figures are made once per session, model and view; a slider move only recounts
    (``np.bincount``) and gives the held figures new bars and threshold lines.
    """
    criterion, granularity, view = settings["criterion"], settings["granularity"], settings["view"]
    held = _histogram_cache(ctx)
    wanted = set(ctx.names if only is None else only)
    result = {}
    if view == "weights":
        for name in [n for n in ctx.names if n in wanted]:
            threshold = mask_set.thresholds.get(name)
            lines = (-threshold, threshold) if criterion == "magnitude" and granularity == "weight" \
                and threshold is not None else ()
            binned = _held(held, ("bins", "weights", name),
                           lambda: preview.bin_values(ctx.kernels[name], preview.weight_edges(ctx.kernels[name])))
            result[name] = _draw(held, ("weights", name), preview.split_counts(binned, mask_set.kernels[name]),
                                 title=html(layer_label(ctx, name, "weight")), thresholds=lines)
        return result
    keep = mask_set.units if granularity == "unit" else mask_set.kernels

    def score_bins() -> dict:
        values = pc.CRITERIA[criterion].unit_scores(ctx.entry.model, scores[criterion], groups=ctx.groups) \
            if granularity == "unit" else scores[criterion]
        return {n: preview.log_score_bins(v) for n, v in values.items()}

    all_bins = _held(held, ("bins", criterion, granularity), score_bins)
    for name, binned in all_bins.items():
        if name not in wanted:
            continue
        hist = preview.split_counts(binned, keep[name])
        zeros = hist.zero_kept + hist.zero_pruned
        threshold = mask_set.thresholds.get(name)
        title = html(layer_label(ctx, name, "weight")) + (f" · {zeros:,} scores are exactly 0 (not drawn)" if zeros else "")
        result[name] = _draw(held, (criterion, granularity, name), hist, title=title, log_x=True,
                             thresholds=(threshold,) if threshold else (),
                             x_title=f"{criterion_label(criterion)} score (log scale)")
    return result


def _histogram_cache(ctx: Context) -> dict:
    """This session's bins and figures for the current model and data (dropped when either changes)."""
    key = (ctx.entry.weights_key, ctx.dataset.key)
    held = st.session_state.get("pr_histograms")
    if not held or held[0] != key:
        held = (key, {})
        st.session_state["pr_histograms"] = held
    return held[1]


def _held(cache: dict, key: tuple, make):
    if key not in cache:
        cache[key] = make()
    return cache[key]


def _draw(cache: dict, key: tuple, hist: preview.SplitHistogram, *, title: str, thresholds: tuple,
          log_x: bool = False, x_title: str = "weight value"):
    """The held figure for ``key`` with new counts, or a new one the first time."""
    from prune_core.viz import figures

    fig = cache.get(("figure",) + key)
    if fig is None:
        fig = figures.split_histogram_figure(hist, title=title, thresholds=thresholds, log_x=log_x, x_title=x_title)
        cache[("figure",) + key] = fig
        return fig
    return figures.update_split_histogram(fig, hist, title=title, thresholds=thresholds, log_x=log_x)


def let_charts_go(seconds: float = 0.04) -> None:
    """Pause the script thread for a moment so the server's event loop sends the charts queued so far,
    and the browser draws them, before the next CPU-heavy step (the accuracy evaluation) competes
    with both for the GIL and the cores. ``bench.bench_slider``: 10 ms gave medians of 130–140 ms,
    40 ms gives 104–123 ms; the numbers below the charts arrive 30 ms later."""
    import time

    time.sleep(seconds)


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
    group = next((g for g in ctx.groups if g.name == name and len(g.producers) > 1), None) \
        if granularity == "unit" else None
    if group is not None:
        return f"{name} + {len(group.producers) - 1} more ({group.size} channels)"
    shape = "×".join(str(d) for d in ctx.kernels[name].shape)
    return f"{name} ({shape})"


# --- big models: a table of values instead of a row of sliders, histograms for picked layers -----------

TILE_WIDTH = 430  # px: a histogram's tile; one per row at 900 px, two at 1400, three at 1920
TABLE_ABOVE = 8  # more prunable layers (or groups) than this: per-layer values in a table, not sliders
HISTOGRAMS_DEFAULT = 6
SHOW_LAYERS_KEY = "pr_show_layers"
TABLE_REVISION_KEY = "pr_table_rev"  # not a setting: bumped when values are written from outside the table

# Rules whose pattern is local to each output unit or block: the layer's "threshold" is its lowest kept score.
LOCAL_RULES = ("nm", "block", "per-output")


def uses_table(layers: list[str]) -> bool:
    return len(layers) > TABLE_ABOVE


def new_table_revision() -> None:
    """Values were set from outside the table (a link, the Sensitivity page, a reset): the table's own edits,
    held by Streamlit under its key, must not be applied on top of them, so the next table gets a new key."""
    st.session_state[TABLE_REVISION_KEY] = st.session_state.get(TABLE_REVISION_KEY, 0) + 1


def table_key(granularity: str, rule: str) -> str:
    """The values table's widget key (not a setting: a data editor's state holds edits, not values)."""
    return f"pr_table_{granularity}_{rule}_{st.session_state.get(TABLE_REVISION_KEY, 0)}"


def layer_parameters(ctx: Context, name: str) -> int:
    """Kernel weights of a layer, or of a group's producing layers."""
    group = next((g for g in ctx.groups if g.name == name), None) if ctx.groups else None
    producers = group.producers if group is not None else (name,)
    return int(sum(ctx.kernels[p].size for p in producers if p in ctx.kernels))


def _shape_text(ctx: Context, name: str, granularity: str) -> str:
    group = next((g for g in ctx.groups if g.name == name), None) if granularity == "unit" and ctx.groups else None
    if group is not None:
        more = f", {len(group.producers)} layers" if len(group.producers) > 1 else ""
        return f"{group.size} channels{more}"
    return "×".join(str(d) for d in ctx.kernels[name].shape)


def stored_value(granularity: str, rule: str, layer: str | None):
    """A value as the controls hold it (the rule's default until set), in the units the control shows."""
    value = st.session_state.get(value_key(granularity, rule, layer))
    choices = rule_choices(rule)
    if choices:
        return value if value in choices else pc.RULES[rule].default
    low, high, _, default = slider_range(rule)
    try:
        value = float(value)
    except (TypeError, ValueError):
        return default
    return min(max(value, low), high) if value == value else default


def values_table(ctx: Context, layers: list[str], granularity: str, rule: str) -> dict:
    """Per-layer values in an editable table (layer, shape, parameters, value): {layer: value shown}.

    The values live under :func:`value_key` like the sliders' (so the URL, Apply and the Sensitivity page
    see one place); the table is drawn from them and what is edited is written back.
    """
    import pandas as pd

    choices = rule_choices(rule)
    low, high, step, _ = slider_range(rule)
    frame = pd.DataFrame({"layer": layers,
                          "shape": [_shape_text(ctx, n, granularity) for n in layers],
                          "parameters": [layer_parameters(ctx, n) for n in layers],
                          "value": [stored_value(granularity, rule, n) for n in layers]})
    label = rule_label(rule)
    if choices:
        value_column = st.column_config.SelectboxColumn("Value", options=choices, required=True,
                                                        help=f"{label}, per layer: click a cell to choose.")
    else:
        value_column = st.column_config.NumberColumn("Value", min_value=low, max_value=high, step=step,
                                                     format=slider_format(rule), required=True,
                                                     help=f"{label}, per layer: double-click a cell to type a value "
                                                          f"from {low:g} to {high:g}.")
    config = {"layer": st.column_config.TextColumn("Layer" if granularity == "weight" else "Group (first layer)",
                                                   disabled=True),
              "shape": st.column_config.TextColumn("Shape", disabled=True),
              "parameters": st.column_config.NumberColumn("Parameters", format="localized", disabled=True,
                                                          help="Kernel weights (Dense and Conv2D) of the layer."),
              "value": value_column}
    edited = st.data_editor(frame, key=table_key(granularity, rule), hide_index=True, width="stretch",
                            column_config=config, disabled=["layer", "shape", "parameters"], num_rows="fixed",
                            height=min(36 + 35 * len(layers), 360))
    values = {}
    for name, value in zip(layers, edited["value"]):
        if choices:
            value = value if value in choices else stored_value(granularity, rule, name)
        else:
            try:
                value = float(value)
            except (TypeError, ValueError):
                value = float("nan")
            value = min(max(value, low), high) if value == value else stored_value(granularity, rule, name)
        st.session_state[value_key(granularity, rule, name)] = value
        values[name] = value
    return values


def largest_layers(ctx: Context, n: int = HISTOGRAMS_DEFAULT) -> list[str]:
    """The ``n`` layers with the most kernel weights, in model order (ties: the earlier layer)."""
    by_size = sorted(ctx.names, key=lambda name: (-ctx.kernels[name].size, ctx.names.index(name)))[:n]
    return [name for name in ctx.names if name in by_size]


def histogram_layers(ctx: Context, container=None) -> list[str] | None:
    """With many layers: the layers whose histograms are drawn, picked by the user (default: the 6 largest);
    with few: None (every layer)."""
    if not uses_table(ctx.names):
        return None
    where = container or st
    held = st.session_state.get(SHOW_LAYERS_KEY)
    if not isinstance(held, list) or any(n not in ctx.names for n in held):
        st.session_state[SHOW_LAYERS_KEY] = largest_layers(ctx)
    labels = {n: layer_label(ctx, n, "weight") for n in ctx.names}
    picked = where.multiselect("Histograms of", ctx.names, key=SHOW_LAYERS_KEY, format_func=labels.get,
                               help=f"Which layers get a histogram (of {len(ctx.names)}); the chart on the right "
                                    "shows every layer's sparsity.",
                               placeholder="Pick layers to draw")
    return [n for n in ctx.names if n in picked]


def threshold_caption(ctx: Context, settings: dict, mask_set: masks.MaskSet, name: str) -> str:
    """The layer's numeric threshold and pruned share, for the line under its histogram."""
    threshold = mask_set.thresholds.get(name)
    pruned = mask_set.layer_sparsity().get(name, 0.0) if name in mask_set.kernels else None
    parts = []
    if threshold is not None and threshold == threshold:
        what = "unit score" if settings["granularity"] == "unit" else "score"
        if settings["rule"] in LOCAL_RULES:
            parts.append(f"lowest kept {what} {threshold:.3g}")
        elif settings["criterion"] == "magnitude" and settings["granularity"] == "weight":
            parts.append(f"threshold ±{threshold:.3g} (|w| below it is pruned)")
        else:
            parts.append(f"threshold {threshold:.3g} ({what} below it is pruned)")
    if pruned is not None:
        kept = int(mask_set.kernels[name].sum())
        parts.append(f"{percent(pruned)} pruned, {kept:,} of {mask_set.kernels[name].size:,} weights kept")
    return f"{md(name)}: " + " · ".join(parts) if parts else ""


DEFAULTS = {"pr_criterion": "magnitude", "pr_granularity": "weight", "pr_rule": "coefficient", "pr_scope": "layer",
            "pr_same": False, "pr_view": "weights"}


def reset_to_defaults() -> None:
    """Every Prune setting back to its default, the URL too; the values table starts fresh. An ``on_click``
    callback: it runs before the widgets are drawn, so they are given their defaults through session state
    (a deleted key alone would leave the browser showing the old choice)."""
    from . import settings

    settings.forget("pr_")
    st.session_state.update(DEFAULTS)
    new_table_revision()
    st.query_params.clear()
