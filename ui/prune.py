"""Prune page adapter: cached scores, per-session scratch model, widget state and URL round-trip."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from prune_core import data, importance, masks, preview
from prune_core.layers import kernels as model_kernels
from prune_core.layers import output_layer_name, prunable_layers

from . import state

CRITERIA = {
    "magnitude": "Magnitude |w|",
    "sensitivity": "Sensitivity |∂L/∂w|",
    "taylor": "Taylor |w·∂L/∂w|",
    "random": "Random (baseline)",
}
GRANULARITIES = {"weight": "Individual weights", "unit": "Whole neurons / filters"}
RULES = {"coefficient": "coefficient × max score", "sparsity": "target sparsity (%)", "std": "quality × σ"}
SCOPES = {"layer": "Per layer", "global": "Global (one threshold for all layers)"}
VIEWS = {"weights": "Weight values", "scores": "Importance scores"}
# slider (min, max, step, default) per rule; sparsity is shown in %.
SLIDER = {"coefficient": (0.0, 1.0, 0.01, 0.30), "sparsity": (0.0, 100.0, 1.0, 50.0), "std": (0.0, 3.0, 0.05, 1.0)}
SCORE_BATCHES = 4


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


@st.cache_data(max_entries=16, show_spinner=False)
def _all_scores(weights_key: str, data_key: str, criteria: tuple, _model, _x, _y) -> dict:
    """The criteria's per-weight scores, computed once per (weights, data) — never per slider move."""
    return importance.all_weight_scores(_model, _x, _y, criteria=criteria, batches=SCORE_BATCHES)


def available_criteria(ctx: Context) -> list[str]:
    """Sensitivity and Taylor need training data (gradients); magnitude and random never do."""
    return list(CRITERIA) if ctx.has_data else [c for c in CRITERIA if c not in importance.NEEDS_DATA]


def all_scores(ctx: Context) -> dict:
    ds = ctx.dataset
    with st.spinner("Scoring every weight (magnitude, gradients over 4 batches of 128 digits)…"):
        return _all_scores(ctx.entry.weights_key, ds.key, tuple(available_criteria(ctx)), ctx.entry.model,
                           ds.x_train, ds.y_train)


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
                   dense_params=numbers["params"], image_shape=shape, has_data=state.has_data())


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
    for key, options in (("criterion", CRITERIA), ("granularity", GRANULARITIES), ("rule", RULES),
                         ("scope", SCOPES), ("view", VIEWS)):
        if q.get(key) in options:
            st.session_state[f"pr_{key}"] = q[key]
    if q.get("same") in ("0", "1"):
        st.session_state["pr_same"] = q["same"] == "1"
    rule = st.session_state.get("pr_rule", "coefficient")
    low, high, _, _ = SLIDER[rule]
    for part in q.get("v", "").split(","):
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


def write_url(settings: dict, values: dict[str, float] | float) -> None:
    if isinstance(values, dict):
        v = ",".join(f"{name}:{value:g}" for name, value in values.items())
    else:
        v = f"{values:g}"
    params = {"criterion": settings["criterion"], "granularity": settings["granularity"], "rule": settings["rule"],
              "scope": settings["scope"], "same": "1" if settings["same"] else "0", "view": settings["view"], "v": v}
    if dict(st.query_params) != params:
        st.query_params.from_dict(params)


# --- the computation behind one slider move (all numbers from prune_core) -----------------------

def to_rule_value(rule: str, slider_value: float) -> float:
    return slider_value / 100.0 if rule == "sparsity" else slider_value


def mask_set_for(ctx: Context, scores: dict, settings: dict, values) -> masks.MaskSet:
    """Build the masks for the chosen criterion/granularity/rule/scope and slider values."""
    criterion, rule = settings["criterion"], settings["rule"]
    weight_scores = scores[criterion]
    if isinstance(values, dict):
        value = {n: to_rule_value(rule, v) for n, v in values.items()}
    else:
        value = to_rule_value(rule, values)
    if settings["granularity"] == "unit":
        units = importance.unit_scores(weight_scores, criterion, ctx.output_layer)
        if isinstance(value, dict):
            value = {n: v for n, v in value.items() if n in units}
        built = masks.build_masks(units, rule, value, scope=settings["scope"], granularity="unit",
                                  weights=ctx.kernels, output_layer=ctx.output_layer)
    else:
        std_weights = ctx.kernels if criterion == "magnitude" else None
        built = masks.build_masks(weight_scores, rule, value, scope=settings["scope"], granularity="weight",
                                  weights=std_weights)
    return masks.effective_masks(ctx.entry.model, built)


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
                                 title=layer_label(ctx, name), thresholds=lines)
        return result
    keep = mask_set.units if granularity == "unit" else mask_set.kernels

    def score_bins() -> dict:
        values = importance.unit_scores(scores[criterion], criterion, ctx.output_layer) \
            if granularity == "unit" else scores[criterion]
        return {n: preview.log_score_bins(v) for n, v in values.items()}

    all_bins = _held(held, ("bins", criterion, granularity), score_bins)
    for name, binned in all_bins.items():
        hist = preview.split_counts(binned, keep[name])
        zeros = hist.zero_kept + hist.zero_pruned
        threshold = mask_set.thresholds.get(name)
        title = layer_label(ctx, name) + (f" · {zeros:,} scores are exactly 0 (not drawn)" if zeros else "")
        result[name] = _draw(held, (criterion, granularity, name), hist, title=title, log_x=True,
                             thresholds=(threshold,) if threshold else (),
                             x_title=f"{CRITERIA[criterion]} score (log scale)")
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
    """Layers that get a slider: all prunable layers, or the hidden ones for neuron/filter pruning."""
    return [n for n in ctx.names if granularity == "weight" or n != ctx.output_layer]


def unit_scores_by_criterion(ctx: Context, scores: dict) -> dict:
    return {c: importance.unit_scores(s, c, ctx.output_layer) for c, s in scores.items()}


def layer_label(ctx: Context, name: str) -> str:
    shape = "×".join(str(d) for d in ctx.kernels[name].shape)
    return f"{name} ({shape})"
