"""The Prune page's guidance (issue 16): what the coefficient does with the current criterion's scores, each
criterion's default coefficient (the one that prunes what magnitude prunes at 0.3), layer-collapse warnings
and the per-class cost — every number from ``prune_core.measure.guidance`` and ``prune_core.measure.metrics``, the words and
figures from ``prune_core.viz.guidance``."""

from __future__ import annotations

import streamlit as st

from prune_core.measure import guidance as numbers
from prune_core.viz import guidance
from prune_core.viz.fmt import percent

from . import prune_labels, prune_session, prune_url, prune_view
from .text import html, md

REFERENCE = ("magnitude", 0.3)  # the criterion and coefficient every other criterion's default is matched to
CURVE_POINTS = tuple(round(0.05 * i, 2) for i in range(21))
MEASURED_POINTS = tuple(round(0.1 * i, 1) for i in range(11))  # accuracy at these (one masked copy, ~0.3 s)
LAST_CRITERION = "pr_guide_last_criterion"  # not a setting: the criterion of the previous run


def _cache(ctx) -> dict:
    held = prune_view.histogram_cache(ctx)  # dropped with the model or the data, like the histograms
    return held.setdefault("guide", {})


def reference_sparsity(ctx, scores: dict, scope: str) -> float:
    """What magnitude prunes at 0.3 with this scope (weights): the sparsity every default matches."""
    cache = _cache(ctx)
    key = ("reference", scope)
    if key not in cache:
        name, coefficient = REFERENCE
        cache[key] = numbers.sparsity_at(ctx.entry.model, scores[name], coefficient, criterion=name, scope=scope,
                                          kernels=ctx.kernels, groups=ctx.groups)
    return cache[key]


def criterion_default(ctx, scores: dict, criterion: str, scope: str) -> float:
    """The coefficient (0.01 grid) at which ``criterion`` prunes what magnitude prunes at 0.3 (weights)."""
    cache = _cache(ctx)
    key = ("default", criterion, scope)
    if key not in cache:
        if criterion == REFERENCE[0]:
            cache[key] = REFERENCE[1]
        else:
            cache[key] = numbers.matching_coefficient(
                ctx.entry.model, scores[criterion], reference_sparsity(ctx, scores, scope), criterion=criterion,
                scope=scope, kernels=ctx.kernels, groups=ctx.groups)
    return cache[key]


def follow_criterion(ctx, scores: dict, settings: dict) -> float | None:
    """When the criterion changed and the coefficient values still hold the previous criterion's default, give
    them this criterion's default (so sensitivity does not start at magnitude's 0.3 and prune 95%). Returns
    the current criterion's default (weights, coefficient rule), else None. Values a user set are left alone."""
    criterion, last = settings["criterion"], st.session_state.get(LAST_CRITERION)
    st.session_state[LAST_CRITERION] = criterion
    if settings["rule"] != "coefficient" or settings["granularity"] != "weight":
        return None
    scope = settings["scope"]
    new = criterion_default(ctx, scores, criterion, scope)
    if last is None and "v" not in st.query_params:  # first run, values not from a link: untouched if at 0.3
        old = REFERENCE[1]
    else:
        old = _cache(ctx).get(("default", last, scope)) if last and last != criterion else None
    if old is None or old == new:
        return new
    keys = [prune_url.value_key("weight", "coefficient", name) for name in [None, *ctx.names]]
    held = [st.session_state.get(k, REFERENCE[1]) for k in keys]  # a slider not drawn yet starts at 0.3
    if all(abs(float(v) - old) < 1e-9 for v in held):
        for k in keys:
            st.session_state[k] = new
    return new


def default_text(ctx, scores: dict, settings: dict, default: float | None) -> str | None:
    """One line under the controls: this criterion's default and why (None for magnitude or other rules)."""
    if default is None or settings["criterion"] == REFERENCE[0]:
        return None
    criterion, scope = settings["criterion"], settings["scope"]

    def sparsity(coefficient: float) -> str:
        return percent(numbers.sparsity_at(ctx.entry.model, scores[criterion], coefficient, criterion=criterion,
                                            scope=scope, kernels=ctx.kernels, groups=ctx.groups))

    return (f"Default coefficient for {md(prune_labels.criterion_label(criterion))}: **{default:.2f}** — it prunes "
            f"{sparsity(default)}, as magnitude does at 0.3 "
            f"({percent(reference_sparsity(ctx, scores, scope))}); "
            f"the same 0.3 would prune {sparsity(0.3)}.")


def curve(ctx, scores: dict, settings: dict):
    """coefficient → sparsity (21 points) and measured accuracy (11 points) for the current criterion, computed
    once per criterion, granularity and scope (one masked copy of the model; ~0.3 s on LeNet-300-100)."""
    import pandas as pd

    criterion, granularity, scope = settings["criterion"], settings["granularity"], settings["scope"]
    cache = _cache(ctx)
    key = ("curve", criterion, granularity, scope)
    if key not in cache:
        common = dict(criterion=criterion, scope=scope, granularity=granularity, kernels=ctx.kernels,
                      groups=ctx.groups)
        sparsity = numbers.coefficient_curve(ctx.entry.model, scores[criterion], coefficients=CURVE_POINTS, **common)
        if ctx.has_data:
            measured = numbers.coefficient_curve(ctx.entry.model, scores[criterion], coefficients=MEASURED_POINTS,
                                                  x_test=ctx.dataset.x_test, y_test=ctx.dataset.y_test,
                                                  scratch=prune_session.scratch(ctx), **common)
            sparsity = sparsity.drop(columns="accuracy").merge(measured[["coefficient", "accuracy"]],
                                                               on="coefficient", how="left")
        cache[key] = pd.DataFrame(sparsity)
    return cache[key]


def curve_figure(ctx, scores: dict, settings: dict, current: float | None):
    figure = guidance.coefficient_curve_figure(curve(ctx, scores, settings), current=current, height=260)
    return figure.update_traces(connectgaps=True)  # accuracy is measured at every other point


def curve_caption(settings: dict, current: float | None) -> str:
    where = "the same coefficient in every layer" if settings["scope"] == "layer" else "one global threshold"
    marker = f"; the dashed line is the current {current:.2f}" if current is not None else ""
    return (f"Share pruned (teal) and test accuracy before retraining (violet, measured every 0.1) against the "
            f"coefficient, with {where}{marker}.")


def tail_note(ctx, scores: dict, settings: dict) -> str:
    """The heavy-tail sentence of the criterion's scores, found once per model, data and criterion (it read every
    score at every slider rest)."""
    criterion = settings["criterion"]
    return prune_view.cached(prune_view.histogram_cache(ctx), ("tail note", criterion),
                             lambda: md(guidance.heavy_tail_note(scores[criterion], criterion=criterion)))


def collapse(ctx, mask_set) -> list[str]:
    """Warnings for layers that keep under 1% of their weights or pass no signal (escaped for st.warning)."""
    return [md(w) for w in guidance.collapse_warnings(mask_set, model=ctx.entry.model, groups=ctx.groups)]


def collapse_summary(warnings: list[str], mask_set) -> str | None:
    """One line instead of many warnings (None when they are few enough to show one by one)."""
    return guidance.collapse_summary(warnings, len(mask_set.kernels))


def per_class(ctx, mask_set):
    """(figure, caption) of test accuracy per class, dense against pruned before retraining, worst drop first."""
    from prune_core.measure import metrics

    cache = _cache(ctx)
    if "dense_classes" not in cache:
        cache["dense_classes"] = metrics.class_accuracy(ctx.entry.model, ctx.dataset.x_test, ctx.dataset.y_test)
    dense = cache["dense_classes"]
    pruned = metrics.class_accuracy(prune_session.scratch(ctx).load(mask_set), ctx.dataset.x_test, ctx.dataset.y_test,
                                    num_classes=len(dense.counts))
    table = metrics.class_change_table(dense, pruned, ctx.dataset.class_names)
    worst = table.iloc[0]
    if worst["change"] >= 0:
        text = "No class loses accuracy at these settings."
    else:
        text = (f"Class {md(worst['class'])} suffers first: "
                f"{100 * worst['change']:+.1f} pts ({100 * worst['dense']:.1f}% → {100 * worst['pruned']:.1f}%).")
    shown = table.assign(**{"class": [html(c) for c in table["class"]]})  # names may come from an upload
    return guidance.class_accuracy_figure(shown, height=280), (
        f"Test accuracy per class, dense (grey) and pruned before retraining (violet), worst drop first. {text}")

