"""Prune page view: the value controls, and what one slider move computes and draws — masks by
``prune_core.select``, the headline numbers, sparsity bars, histograms (binned once, recounted per move),
the first layer's mosaic and the importance table."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import streamlit as st

import prune_core as pc
from prune_core.measure import metrics, preview
from prune_core.measure.metrics import float32_bytes, human_bytes, sparse_bytes
from prune_core.methods import masks
from prune_core.viz import figures
from prune_core.viz.fmt import percent

from .text import html, md
from .prune_labels import criterion_label, rule_choices, rule_label, slider_format, slider_range
from .prune_session import (Context, largest_layers, layer_label, layer_parameters, scratch, shape_text,
                      unit_scores_by_criterion)
from .prune_url import seed_slider, stored_value, table_key, value_key


def value_widget(container, label: str, rule: str, key: str):
    """The rule's value control: a select box for a rule with choices, else its slider (seeded from state)."""
    choices = rule_choices(rule)
    if choices:
        if st.session_state.get(key) not in choices:
            st.session_state[key] = pc.RULES[rule].default
        return container.selectbox(label, choices, key=key)
    low, high, step, default = slider_range(rule)
    return container.slider(label, low, high, step=step, key=seed_slider(key, default), format=slider_format(rule))


def spec_for(settings: dict, values) -> pc.PruneSpec:
    """The PruneSpec the controls describe (slider values converted from what they show to the rule's units)."""
    rule = pc.RULES[settings["rule"]]
    common = dict(criterion=settings["criterion"], granularity=settings["granularity"], rule=settings["rule"],
                  scope=settings["scope"], streams=bool(settings.get("streams")) and settings["granularity"] == "unit")
    if isinstance(values, dict):
        per_layer = {n: rule.from_display(v) for n, v in values.items()}
        return pc.PruneSpec(**common, value=rule.default, per_layer=per_layer)
    return pc.PruneSpec(**common, value=rule.from_display(values))


def mask_set_for(ctx: Context, scores: dict, settings: dict, values) -> masks.MaskSet:
    """The masks for the controls' settings, by ``prune_core.select`` on the scores computed once."""
    return pc.select(ctx.entry.model, spec_for(settings, values), scores[settings["criterion"]],
                     kernels=ctx.kernels, groups=ctx.groups)


def coverage_caption(ctx: Context, mask_set: masks.MaskSet) -> str:
    """One sentence, escaped (it can name custom layers from an uploaded file): the denominator of the
    sparsity — the kernel weights this run covers, as a share of all the model's parameters — and what is
    left out, with the reason. Computed once per model and set of scored kernels."""
    cache = st.session_state.setdefault("pr_coverage", {})
    key = (ctx.entry.weights_key, tuple(mask_set.kernels))
    if key not in cache:
        cache.clear()
        cache[key] = pc.coverage_sentence(pc.coverage(ctx.entry.model, mask_set.kernels))
    return md("Sparsity counts the kernel weights this run covers. " + cache[key])


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
    """Size estimate and test accuracy of the masked scratch model (no retraining), against the dense model; in
    streams mode of the compact model (the normalizations' statistics change: the masked one is not the truth)."""
    if mask_set.streams:
        pruned_model = pc.compact(ctx.entry.model, mask_set)
        sparse, which = sparse_bytes(pruned_model), "compact model (streams mode: it, not the masked one, is the truth)"
    else:
        held = scratch(ctx)
        pruned_model = held.load(mask_set)
        sparse, which = held.sparse_bytes(), "pruned model"
    # against the dense model under the same rule: at 0% pruned the change is exactly 0 (a dense model's own zeros,
    # e.g. fresh biases, are left out of both)
    dense_bytes = ctx.dense_sparse_bytes or float32_bytes(ctx.dense_params)
    size_delta = f"{sparse / dense_bytes - 1:+.1%} vs dense {human_bytes(dense_bytes)}"
    if not ctx.has_data:
        return Numbers(human_bytes(sparse), size_delta, "needs data", None,
                       "Add data for this model on the Model page to measure accuracy.", float("nan"))
    # the scratch copy is evaluated at every rest with new weights: Keras' traced predict step pays off (9 vs 16 ms)
    accuracy = metrics.evaluate(pruned_model, ctx.dataset.x_test, ctx.dataset.y_test,
                                compiled=not mask_set.streams).accuracy
    return Numbers(human_bytes(sparse), size_delta, f"{accuracy:.2%}",
                   f"{(accuracy - ctx.dense_accuracy) * 100:+.2f} pts vs dense",
                   f"Test accuracy of the {which} before any retraining, measured on "
                   f"{len(ctx.dataset.y_test):,} test {ctx.dataset.noun}; dense model {ctx.dense_accuracy:.2%}.",
                   accuracy)


def sparsity_figure(mask_set: masks.MaskSet):
    """Pruned share per layer: the house bars for a few layers; for many (> TABLE_ABOVE) one compact overview
    with a thin bar per layer. Shares are written with ``fmt.percent`` (never a rounded 100% or 0%)."""
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


MOSAIC_SCALE = 2  # px per weight: 476 px wide for 8 × 28×28 tiles, drawn at its own width (never resized per move)


def mosaic(ctx: Context, mask_set: masks.MaskSet) -> Mosaic | None:
    """The first layer's first 32 neurons' kept inputs as a picture, or None for non-image inputs. Cheap on big
    models: one slice of one kernel (None at once for a conv first layer)."""
    first = ctx.names[0]
    tiles = preview.first_layer_units(ctx.kernels[first], mask_set.kernels[first], ctx.image_shape) \
        if ctx.image_shape else None
    if tiles is None:
        return None
    units = min(32, ctx.kernels[first].shape[1])
    if not mask_set.kernels[first][:, :units].any():
        return Mosaic(md(first), None, units)
    return Mosaic(md(first), figures.mosaic_image(tiles, scale=MOSAIC_SCALE), units)


def importance_table(ctx: Context, scores: dict, settings: dict, mask_set: masks.MaskSet,
                     only: list[str] | None = None):
    """Weight mode: the 5 lowest and highest weights per layer; unit mode: one row per neuron/filter (with more
    than TABLE_ABOVE groups: the 5 lowest and highest neurons/filters per layer).

    The rows depend on the scores only, so they are found once per model, data and criterion; a slider move
    only fills in the status column (the search over 23M ResNet50 weights took 0.2 s per move).
    """
    criterion = settings["criterion"]
    shown = {c: s for c, s in scores.items() if c != "random" or c == criterion}
    held = histogram_cache(ctx)
    if settings["granularity"] == "unit":
        groups = tuple(g.name for g in ctx.groups if g.prunable)  # streams mode has other groups
        by_criterion = cached(held, ("unit scores", tuple(shown), groups), lambda: unit_scores_by_criterion(ctx, shown))
        table = preview.unit_table(by_criterion, criterion, mask_set.units)
        table = preview.extreme_units(table, n=5) if len(mask_set.units) > TABLE_ABOVE else table
        return _only(table, only)

    def rows():
        table = preview.extreme_entries(ctx.kernels, shown, criterion, keep=None, n=5)
        flat = [int(np.ravel_multi_index(ast_tuple(p), ctx.kernels[layer].shape))
                for layer, p in zip(table["layer"], table["position"])]
        return table, np.asarray(flat, dtype=np.int64)

    table, flat = cached(held, ("extremes", criterion, tuple(shown)), rows)
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


def candidate_matches(held: state.Candidate, settings: dict, values) -> bool:
    """Whether the held candidate is what the controls show now (the view does not count)."""
    def same_settings(a: dict) -> dict:
        return {k: a.get(k) for k in ("criterion", "granularity", "rule", "scope", "same")}

    return same_settings(held.settings) == same_settings(settings) and held.values == values


@dataclass
class HistogramSource:
    """One per-layer histogram as the page draws it: its values binned once, which mask splits it (a layer's
    ``"kernels"`` mask or a group's ``"units"``), its title and axis, and where its threshold lines go
    (``"pm"``: ±t on weight values, ``"one"``: t on the score axis, ``"none"``)."""

    binned: preview.Binned
    source: str
    title: str
    x_title: str
    log_x: bool
    lines: str

    def thresholds(self, threshold: float | None) -> tuple:
        if self.lines == "pm" and threshold is not None:
            return (-threshold, threshold)
        return (threshold,) if self.lines == "one" and threshold else ()


def histogram_sources(ctx: Context, scores: dict, settings: dict, only: list[str] | None = None) -> dict:
    """{name: HistogramSource} in model order — weight values (threshold at ±t for magnitude) or importance scores
    on a log axis (per group under whole neurons/filters); ``only``: just these layers. Binned once per session,
    model and view. Titles are plain text (a caller escapes them for where it draws)."""
    criterion, granularity, view = settings["criterion"], settings["granularity"], settings["view"]
    held = histogram_cache(ctx)
    wanted = set(ctx.names if only is None else only)
    result = {}
    if view == "weights":
        lines = "pm" if criterion == "magnitude" and granularity == "weight" else "none"
        for name in [n for n in ctx.names if n in wanted]:
            binned = cached(held, ("bins", "weights", name),
                           lambda: preview.bin_values(ctx.kernels[name], preview.weight_edges(ctx.kernels[name])))
            result[name] = HistogramSource(binned, "kernels", layer_label(ctx, name, "weight"), "weight value",
                                           False, lines)
        return result

    def score_bins() -> dict:
        values = pc.CRITERIA[criterion].unit_scores(ctx.entry.model, scores[criterion], groups=ctx.groups) \
            if granularity == "unit" else scores[criterion]
        return {n: preview.log_score_bins(v) for n, v in values.items()}

    groups = tuple(g.name for g in ctx.groups if g.prunable) if granularity == "unit" else ()  # streams: other groups
    all_bins = cached(held, ("bins", criterion, granularity, groups), score_bins)
    source = "units" if granularity == "unit" else "kernels"
    for name, binned in all_bins.items():
        if name not in wanted:
            continue
        zeros = int(binned.total[len(binned.edges) - 1])
        note = f" · {zeros:,} scores are exactly 0 (not drawn)" if zeros else ""
        result[name] = HistogramSource(binned, source, layer_label(ctx, name, "weight") + note,
                                       f"{criterion_label(criterion)} score (log scale)", True, "one")
    return result


def layer_histograms(ctx: Context, scores: dict, settings: dict, mask_set: masks.MaskSet,
                     only: list[str] | None = None) -> dict:
    """{layer: figure} of :func:`histogram_sources`. The figures are made once per session, model and view; a
    slider move only recounts (``np.bincount``) and gives the held figures new bars and threshold lines."""
    held = histogram_cache(ctx)
    result = {}
    for name, hist in histogram_sources(ctx, scores, settings, only).items():
        keep = (mask_set.units if hist.source == "units" else mask_set.kernels)[name]
        key = ("weights", name) if settings["view"] == "weights" else \
            (settings["criterion"], settings["granularity"], name)
        result[name] = _draw(held, key, split_counts(held, key, hist.binned, keep), title=html(hist.title),
                             thresholds=hist.thresholds(mask_set.thresholds.get(name)), log_x=hist.log_x,
                             x_title=hist.x_title)
    return result


def split_counts(held: dict, key: tuple, binned, keep) -> preview.SplitHistogram:
    """``preview.split_counts``, counted again only when the layer's mask (or its bins) changed: a values-table edit
    on a ResNet-50 changes one layer, while six of the largest are drawn (their recount was ~30% of an edit)."""
    last = held.get(("counts",) + key)
    if last is None or last[0] is not binned or not np.array_equal(last[1], keep):
        last = (binned, np.array(keep, dtype=bool), preview.split_counts(binned, keep))
        held[("counts",) + key] = last
    return last[2]


def histogram_cache(ctx: Context) -> dict:
    """This session's bins and figures for the current model and data (dropped when either changes)."""
    key = (ctx.entry.weights_key, ctx.dataset.key)
    held = st.session_state.get("pr_histograms")
    if not held or held[0] != key:
        held = (key, {})
        st.session_state["pr_histograms"] = held
    return held[1]


def cached(cache: dict, key: tuple, make):
    if key not in cache:
        cache[key] = make()
    return cache[key]


def _draw(cache: dict, key: tuple, hist: preview.SplitHistogram, *, title: str, thresholds: tuple,
          log_x: bool = False, x_title: str = "weight value"):
    """The held figure for ``key`` with new counts, or a new one the first time."""
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
    time.sleep(seconds)


TILE_WIDTH = 430  # px: a histogram's tile; one per row at 900 px, two at 1400, three at 1920


TABLE_ABOVE = 8  # more prunable layers (or groups) than this: per-layer values in a table, not sliders


SHOW_LAYERS_KEY = "pr_show_layers"


def uses_table(layers: list[str]) -> bool:
    return len(layers) > TABLE_ABOVE


def values_table(ctx: Context, layers: list[str], granularity: str, rule: str) -> dict:
    """Per-layer values in an editable table (layer, shape, parameters, value): {layer: value shown}.

    The values live under :func:`value_key` like the sliders' (so the URL, Apply and the Sensitivity page
    see one place); the table is drawn from them and what is edited is written back.
    """
    import pandas as pd

    choices = rule_choices(rule)
    low, high, step, _ = slider_range(rule)
    frame = pd.DataFrame({"layer": layers,
                          "shape": [shape_text(ctx, n, granularity) for n in layers],
                          "parameters": [layer_parameters(ctx, n, granularity) for n in layers],
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
    """The layer's numeric threshold and pruned share, for the line under its histogram (name escaped)."""
    kept = int(mask_set.kernels[name].sum()) if name in mask_set.kernels else None
    total = mask_set.kernels[name].size if name in mask_set.kernels else None
    text = threshold_text(settings, mask_set.thresholds.get(name), kept, total)
    return f"{md(name)}: {text}" if text else ""


def threshold_text(settings: dict, threshold: float | None, kept: int | None, total: int | None) -> str:
    """'threshold ±0.0423 (|w| below it is pruned) · 30.0% pruned, 164,640 of 235,200 weights kept' — the
    words under a histogram, from the layer's threshold and kept count (the live view has them per position)."""
    parts = []
    if threshold is not None and threshold == threshold:
        what = "unit score" if settings["granularity"] == "unit" else "score"
        if pc.RULES[settings["rule"]].local_pattern:  # the layer's "threshold" is its lowest kept score
            parts.append(f"lowest kept {what} {threshold:.3g}")
        elif settings["criterion"] == "magnitude" and settings["granularity"] == "weight":
            parts.append(f"threshold ±{threshold:.3g} (|w| below it is pruned)")
        else:
            parts.append(f"threshold {threshold:.3g} ({what} below it is pruned)")
    if kept is not None:
        pruned = (1.0 - kept / total) if total else 0.0  # MaskSet.layer_sparsity
        parts.append(f"{percent(pruned)} pruned, {kept:,} of {total:,} weights kept")
    return " · ".join(parts)
