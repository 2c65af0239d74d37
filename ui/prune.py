"""Prune page adapter: cached scores, per-session scratch model, widget state and URL round-trip."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

import prune_core as pc
from prune_core import data, importance, masks, preview
from prune_core.layers import kernels as model_kernels
from prune_core.layers import output_layer_name, prunable_layers
from prune_core.metrics import float32_bytes, human_bytes, sparse_bytes

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
    return pc.criteria.score_many(_model, names, _ds if data.has_samples(_ds) else None, batches=SCORE_BATCHES)


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


def all_scores(ctx: Context, criterion: str) -> dict:
    """{criterion: scores} for magnitude (the weight view and the table need it) and ``criterion``'s group.

    Gradient criteria are computed only when chosen (4 batches of 128 examples, memory-bounded micro-batches).
    """
    ds, entry = ctx.dataset, ctx.entry
    result = dict(_scores(entry.weights_key, ds.key, ("magnitude",), entry.model, ds))
    group = score_group(criterion)
    if group != ("magnitude",):
        needs_data = any(pc.CRITERIA[n].needs_data for n in group)
        what = f"gradients over {SCORE_BATCHES} batches of 128 training examples" if needs_data else "every weight"
        with st.spinner(f"Scoring by {', '.join(criterion_label(n) for n in group)} ({what})…"):
            result.update(_scores(entry.weights_key, ds.key, group, entry.model, ds))
    return result


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

def slider_key(rule: str, layer: str | None) -> str:
    return f"pr_v_{rule}_{layer or '_all'}"


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
                st.session_state[slider_key(rule, name)] = value
        elif layer in names:
            st.session_state[slider_key(rule, layer)] = value


def carry_per_layer(criterion: str, rule: str, values: dict[str, float]) -> None:
    """Set this page's settings to per-layer ``values`` (in the rule's own units) for ``criterion``, weight
    granularity: what another page (Sensitivity) hands over before switching here."""
    st.session_state.update(pr_criterion=criterion, pr_rule=rule, pr_scope="layer", pr_same=False,
                            pr_granularity="weight")
    shown = pc.RULES[rule]
    for layer, value in values.items():
        st.session_state[slider_key(rule, layer)] = float(round(shown.to_display(value)))


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
    from prune_core import metrics

    pruned_model = scratch(ctx).load(mask_set)
    sparse, dense_bytes = sparse_bytes(pruned_model), float32_bytes(ctx.dense_params)
    size_delta = f"{sparse / dense_bytes - 1:+.1%} vs dense {human_bytes(dense_bytes)}"
    if not ctx.has_data:
        return Numbers(human_bytes(sparse), size_delta, "needs data", None,
                       "Add data for this model on the Model page to measure accuracy.", float("nan"))
    accuracy = metrics.evaluate(pruned_model, ctx.dataset.x_test, ctx.dataset.y_test).accuracy
    return Numbers(human_bytes(sparse), size_delta, f"{accuracy:.2%}",
                   f"{(accuracy - ctx.dense_accuracy) * 100:+.2f} pts vs dense",
                   f"Measured on {len(ctx.dataset.y_test):,} test images; dense model {ctx.dense_accuracy:.2%}.",
                   accuracy)


def sparsity_figure(mask_set: masks.MaskSet):
    from prune_core import figures

    sparsity = mask_set.layer_sparsity()
    return figures.sparsity_bars([html(n) for n in sparsity], list(sparsity.values()))


def mosaic(ctx: Context, mask_set: masks.MaskSet):
    """(first layer's name, image) of what its first 32 neurons still see, or None for non-image inputs."""
    from prune_core import figures

    first = ctx.names[0]
    tiles = preview.first_layer_units(ctx.kernels[first], mask_set.kernels[first], ctx.image_shape) \
        if ctx.image_shape else None
    return None if tiles is None else (md(first), figures.mosaic_image(tiles))


def importance_table(ctx: Context, scores: dict, settings: dict, mask_set: masks.MaskSet):
    """Weight mode: the 5 lowest and highest weights per layer; unit mode: one row per neuron/filter."""
    criterion = settings["criterion"]
    shown = {c: s for c, s in scores.items() if c != "random" or c == criterion}
    if settings["granularity"] == "unit":
        return preview.unit_table(unit_scores_by_criterion(ctx, shown), criterion, mask_set.units)
    return importance.extreme_entries(ctx.kernels, shown, criterion, keep=mask_set.kernels, n=5)


def candidate_text(held: state.Candidate) -> str:
    s = held.settings
    return (f"Candidate ready: {held.sparsity:.1%} sparse, {_accuracy_text(held.pruned_accuracy)} test accuracy "
            f"before retraining ({md(criterion_label(s['criterion']))}, {md(rule_label(s['rule']))}).")


def _accuracy_text(value: float) -> str:
    return "unmeasured (no data)" if value is None or value != value else f"{value:.2%}"


def layer_histograms(ctx: Context, scores: dict, settings: dict, mask_set: masks.MaskSet) -> dict:
    """{layer: figure} — weight values (threshold at ±t for magnitude) or importance scores on a log axis.

    Bins and figures are made once per session, model and view; a slider move only recounts
    (``np.bincount``) and gives the held figures new bars and threshold lines.
    """
    criterion, granularity, view = settings["criterion"], settings["granularity"], settings["view"]
    held = _histogram_cache(ctx)
    result = {}
    if view == "weights":
        for name in ctx.names:
            threshold = mask_set.thresholds.get(name)
            lines = (-threshold, threshold) if criterion == "magnitude" and granularity == "weight" \
                and threshold is not None else ()
            binned = _held(held, ("bins", "weights", name),
                           lambda: preview.bin_values(ctx.kernels[name], preview.weight_edges(ctx.kernels[name])))
            result[name] = _draw(held, ("weights", name), preview.split_counts(binned, mask_set.kernels[name]),
                                 title=html(layer_label(ctx, name)), thresholds=lines)
        return result
    keep = mask_set.units if granularity == "unit" else mask_set.kernels

    def score_bins() -> dict:
        values = pc.CRITERIA[criterion].unit_scores(ctx.entry.model, scores[criterion], groups=ctx.groups) \
            if granularity == "unit" else scores[criterion]
        return {n: preview.log_score_bins(v) for n, v in values.items()}

    all_bins = _held(held, ("bins", criterion, granularity), score_bins)
    for name, binned in all_bins.items():
        hist = preview.split_counts(binned, keep[name])
        zeros = hist.zero_kept + hist.zero_pruned
        threshold = mask_set.thresholds.get(name)
        title = html(layer_label(ctx, name)) + (f" · {zeros:,} scores are exactly 0 (not drawn)" if zeros else "")
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
    from prune_core import figures

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


def slider_label(ctx: Context, name: str) -> str:
    """The layer's label for a widget, escaped (layer names come from uploaded files)."""
    return md(layer_label(ctx, name))


def layer_label(ctx: Context, name: str) -> str:
    """'dense1 (784×300)'; a group of several layers: 'conv2_block1_0_conv + 2 more (256 channels)'."""
    group = next((g for g in ctx.groups if g.name == name and len(g.producers) > 1), None)
    if group is not None:
        return f"{name} + {len(group.producers) - 1} more ({group.size} channels)"
    shape = "×".join(str(d) for d in ctx.kernels[name].shape)
    return f"{name} ({shape})"
