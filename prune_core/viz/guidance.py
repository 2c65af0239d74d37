"""Guidance beside the coefficient slider: what a coefficient really prunes, per criterion, and what it costs.

"0.1–0.5 is typical" holds for magnitude only. The coefficient rule prunes where score < coefficient × max,
so on heavy-tailed scores (gradients: a few weights carry most of the loss's gradient) a small coefficient
already prunes most of a layer. These functions give the page the numbers to say so:

- :func:`coefficient_curve` — coefficient → sparsity (and measured accuracy) for the current criterion,
  through the same ``prune_core.select`` the Prune page calls; :func:`coefficient_curve_figure` draws it.
- :func:`matching_coefficient` / :func:`default_coefficients` — the coefficient (on the slider's 0.01 grid)
  whose sparsity matches magnitude's at its default 0.3, per criterion.
- :func:`heavy_tail_note` — one sentence, numbers from the scores, saying how heavy the tail is.
- :func:`collapse_warnings` — layers that keep under 1% of their weights, or pass no signal at all.
- :func:`class_accuracy_figure` — per-class accuracy, dense vs pruned, worst drop first
  (the table from ``metrics.class_accuracy_change``).

>>> scores = {"d": np.array([[0.1, 0.2, 0.3, 0.4], [0.5, 0.6, 0.7, 1.0]])}
>>> sparsity_at(None, scores, 0.35, kernels={"d": np.ones((2, 4))}, groups=[])
0.375
>>> matching_coefficient(None, scores, 0.5, kernels={"d": np.ones((2, 4))}, groups=[])
0.41

Timing (LeNet-300-100, 266,200 kernel weights, per-layer scope, CPU, 2 cores shared): sparsity of all 21
default points 2–6 ms for weights, ~12 ms for units; sparsity and accuracy of 11 points on the 2,000 bundled test
images 0.2–0.45 s (one scratch copy of the model, 20–40 ms a measured point); :func:`matching_coefficient` about
1 ms (two bisections), :func:`default_coefficients` for all nine criteria ~6 ms (weights), ~50 ms (units).

On the default model (LeNet-300-100, bundled MNIST, per-layer scope, weights) magnitude prunes 85.4% at 0.3; the
matching defaults are sensitivity 0.17, taylor 0.06, snip 0.04, wanda 0.19, synflow 0.27, random 0.85 (85.0–85.6%);
OBD's scores are so heavy-tailed that 0.01 already prunes 90.9% (0.005 would match: the 0.01 grid is too coarse).
"""

from __future__ import annotations

import math
from typing import Iterable, Mapping

import numpy as np

from ..graph import dependency_groups, kernel_variable, prunable_layers
from ..measure.preview import MaskedScratch
from ..methods.criteria import get_criterion, GradientCriterion
from ..methods.thresholds import check_fraction
from ..pruning import select
from ..spec import PruneSpec
from .figures import DENSE, house_layout, vline
from .fmt import percent

DEFAULT_COEFFICIENTS = tuple(round(0.05 * i, 2) for i in range(21))  # 0, 0.05, …, 1.0
STEP = 0.01  # the coefficient slider's step (RULES["coefficient"].step)
CURVE_COLUMNS = ("coefficient", "sparsity", "accuracy")
HEAVY_RATIO = 20.0  # largest / median score at or above which a layer's scores count as heavy-tailed
MIN_KEPT = 0.01     # collapse_warnings: a layer keeping under this share of its weights is close to collapse

SPARSITY_COLOUR = "#0d9488"    # teal: neither kept blue nor pruned orange
ACCURACY_COLOUR = "#7c3aed"    # violet: the pruned model's accuracy (orange is reserved for pruned *weights*)
CURRENT_COLOUR = "#111827"     # near-black dashed line: the slider's coefficient


# --- coefficient → sparsity (→ accuracy) ------------------------------------------------------------------

def _mask_set(model, scores, coefficient: float, *, criterion: str, scope: str, granularity: str, kernels, groups):
    """The MaskSet the Prune page gets at ``coefficient``: ``pc.select`` with the coefficient rule."""
    spec = PruneSpec(criterion=criterion, rule="coefficient", scope=scope, granularity=granularity,
                     value=float(coefficient))
    return select(model, spec, scores, kernels=kernels, groups=groups)


def sparsity_at(model, scores: Mapping[str, np.ndarray], coefficient: float, *, criterion: str = "magnitude",
                scope: str = "layer", granularity: str = "weight", kernels=None, groups=None) -> float:
    """Overall sparsity of the prunable kernels (the Prune page's number) at ``coefficient``.

    ``kernels`` and ``groups`` are what the page already holds (``layers.kernels(model)``,
    ``graph.dependency_groups(model)``); pass them so nothing is walked or copied per call. With weight
    granularity and both given, ``model`` may be None.
    """
    return float(_mask_set(model, scores, coefficient, criterion=criterion, scope=scope, granularity=granularity,
                           kernels=kernels, groups=groups).overall_sparsity)


def coefficient_curve(model, scores: Mapping[str, np.ndarray], *, coefficients: Iterable[float] = DEFAULT_COEFFICIENTS,
                      criterion: str = "magnitude", scope: str = "layer", granularity: str = "weight",
                      x_test=None, y_test=None, kernels=None, groups=None, scratch=None):
    """DataFrame[coefficient, sparsity, accuracy]: for each coefficient (sorted, duplicates dropped) the
    overall sparsity ``pc.select`` gives on ``scores`` (the criterion's kernel-shaped scores, computed once)
    and, with ``x_test``/``y_test``, the test accuracy of the masked model (a fraction; NaN without data).

    Accuracy is measured on one scratch copy of ``model`` (``preview.MaskedScratch``, reset and masked per
    point); pass the page's own ``scratch`` to skip even that copy. ``criterion`` matters for unit granularity
    (its unit scores) and is otherwise only recorded in the spec. 0.2–0.45 s for 11 points on 2,000 MNIST test
    images (LeNet-300-100, CPU); sparsity alone well under 1 ms a point.
    """
    import pandas as pd


    values = sorted({round(check_fraction(c, "coefficient"), 6) for c in coefficients})
    measure = x_test is not None and y_test is not None
    if measure and scratch is None:
        scratch = MaskedScratch(model)
    rows = []
    for c in values:
        mask_set = _mask_set(model, scores, c, criterion=criterion, scope=scope, granularity=granularity,
                             kernels=kernels, groups=groups)
        accuracy = scratch.evaluate(mask_set, x_test, y_test).accuracy if measure else float("nan")
        rows.append({"coefficient": c, "sparsity": float(mask_set.overall_sparsity), "accuracy": float(accuracy)})
    return pd.DataFrame(rows, columns=list(CURVE_COLUMNS))


def matching_coefficient(model, scores: Mapping[str, np.ndarray], target_sparsity: float, *,
                         criterion: str = "magnitude", scope: str = "layer", granularity: str = "weight",
                         kernels=None, groups=None, step: float = STEP) -> float:
    """The coefficient on the slider's grid (0, ``step``, …, 1) whose sparsity is closest to ``target_sparsity``:
    of two sparsities equally close the lower, and of the coefficients giving it the smallest (the same masks).

    Sparsity is monotone non-decreasing in the coefficient (the cut c × max only rises), so bisections find the
    first grid point reaching a sparsity in ~7 ``select`` calls each (about 15 in all).
    """
    target = check_fraction(target_sparsity, "target sparsity")
    points = int(round(1.0 / step))
    grid = [round(i * step, 10) for i in range(points + 1)]
    known: dict[int, float] = {}

    def at(i: int) -> float:
        if i not in known:
            known[i] = sparsity_at(model, scores, grid[i], criterion=criterion, scope=scope,
                                   granularity=granularity, kernels=kernels, groups=groups)
        return known[i]

    def first_reaching(value: float) -> int:  # the first i with at(i) >= value (at(points) >= value)
        low, high = 0, points
        while low < high:
            middle = (low + high) // 2
            if at(middle) >= value:
                high = middle
            else:
                low = middle + 1
        return low

    if at(points) < target:
        best = at(points)
    else:
        i = first_reaching(target)
        best = at(i - 1) if i > 0 and abs(at(i - 1) - target) <= abs(at(i) - target) else at(i)
    return grid[first_reaching(best)]


def default_coefficients(model, scores_by_criterion: Mapping[str, Mapping[str, np.ndarray]], *,
                         reference: str = "magnitude", reference_coefficient: float = 0.3, scope: str = "layer",
                         granularity: str = "weight", kernels=None, groups=None) -> dict[str, float]:
    """{criterion: coefficient} for every criterion in ``scores_by_criterion``: the coefficient whose sparsity
    is closest to what ``reference`` prunes at ``reference_coefficient`` (the reference keeps its own value).

    When the reference's scores are not given they are computed (it must need no data: magnitude does not).
    """
    ref_scores = scores_by_criterion.get(reference)
    if ref_scores is None:
        chosen = get_criterion(reference)
        if chosen.needs_data:
            raise ValueError(f"Give the scores of {reference!r}: it needs training data to be scored.")
        ref_scores = chosen.scores(model)
    common = dict(scope=scope, granularity=granularity, kernels=kernels, groups=groups)
    target = sparsity_at(model, ref_scores, reference_coefficient, criterion=reference, **common)
    return {name: float(reference_coefficient) if name == reference else
            matching_coefficient(model, s, target, criterion=name, **common)
            for name, s in scores_by_criterion.items()}


# --- why a small coefficient prunes so much ------------------------------------------------------------

def _ratio_text(ratio: float) -> str:
    return f"{ratio:,.0f}" if ratio >= 10 else f"{ratio:.1f}"


def tail_table(scores: Mapping[str, np.ndarray], coefficient: float = 0.1):
    """DataFrame[layer, max, median, ratio, below]: per layer the largest and median score, their ratio
    (inf where the median is 0) and the share of scores strictly below ``coefficient`` × max (what the
    coefficient rule with per-layer scope prunes there).

    >>> tail_table({"d": np.array([0.0, 1.0, 2.0, 100.0])}).values.tolist()
    [['d', 100.0, 1.5, 66.66666666666667, 0.75]]
    """
    import pandas as pd

    rows = []
    for name, s in scores.items():
        s = np.asarray(s, dtype=np.float64).ravel()
        if not s.size:
            continue
        top, median = float(s.max()), float(np.median(s))
        ratio = top / median if median > 0 else (math.inf if top > 0 else 1.0)
        rows.append({"layer": name, "max": top, "median": median, "ratio": ratio,
                     "below": float(np.mean(s < coefficient * top))})
    return pd.DataFrame(rows, columns=["layer", "max", "median", "ratio", "below"])


GRADIENT_WHY = ("a weight's gradient is its input times its unit's error, both mostly near zero (blank pixels, "
                "examples already classified right), so a few weights get nearly all of it")
OTHER_WHY = "a few weights score far above the rest"


def _subject(criterion: str | None) -> tuple[str, str]:
    """(how the sentence names the scores, why a few stand out) for a registered criterion name."""
    if criterion is None:
        return "These scores", OTHER_WHY

    chosen = get_criterion(criterion)
    if isinstance(chosen, GradientCriterion):
        return "Gradient scores", GRADIENT_WHY
    return f"{chosen.label.split(' ')[0]} scores", OTHER_WHY


def heavy_tail_note(scores: Mapping[str, np.ndarray], *, criterion: str | None = None, coefficient: float = 0.1,
                    heavy_ratio: float = HEAVY_RATIO) -> str:
    """One plain sentence, numbers from ``scores`` ({layer: scores}), on how far the largest score stands above
    the rest: the layer with the largest max/median ratio is named, with the share of its scores strictly below
    ``coefficient`` × max (what the coefficient rule prunes there, per-layer scope). At a ratio of ``heavy_ratio`` or
    more the scores are called heavy-tailed, with the reason (for a gradient ``criterion``: why gradients are).

    >>> heavy_tail_note({"dense1": np.array([1.0, 2.0, 3.0, 4.0, 500.0])}, criterion="sensitivity").split(" — ")[0]
    'Gradient scores are heavy-tailed: in dense1 the largest score is 167× the median, so 0.1 × max already lies above 80.0% of the scores'
    >>> heavy_tail_note({"a": np.array([1.0, 2.0, 3.0, 4.0]), "b": np.array([1.0, 1.0, 3.0])}, criterion="magnitude")
    'Magnitude scores are not heavy-tailed: the largest score is at most 3.0× the median (in b), and 0.1 × max lies above 0.0% of the scores there.'
    """
    subject, why = _subject(criterion)
    table = tail_table(scores, coefficient)
    if table.empty:
        return f"{subject}: there are no scores to describe."
    row = table.iloc[int(np.argmax(table["ratio"].to_numpy()))]
    c, below = f"{coefficient:g}", percent(row["below"])
    if row["ratio"] >= heavy_ratio:
        if math.isinf(row["ratio"]):
            zeros = float(np.mean(np.asarray(scores[row["layer"]]) == 0))
            size = f"at least half of the scores are exactly 0 ({percent(zeros)}, the median is 0)"
        else:
            size = f"the largest score is {_ratio_text(row['ratio'])}× the median"
        return (f"{subject} are heavy-tailed: in {row['layer']} {size}, so {c} × max already lies above {below} of "
                f"the scores — {why}, and the coefficient is a share of that maximum, not of the weights.")
    return (f"{subject} are not heavy-tailed: the largest score is at most {_ratio_text(row['ratio'])}× the median "
            f"(in {row['layer']}), and {c} × max lies above {below} of the scores there.")


# --- layer collapse -------------------------------------------------------------------------------------

def _share_text(share: float, limit: float) -> str:
    """The kept share with enough decimals that a share under ``limit`` never reads as the limit."""
    text = percent(share, 1)
    return percent(share, 2) if share < limit and text == percent(limit, 1) else text


def collapse_warnings(mask_set, *, min_kept: float = MIN_KEPT, model=None, groups=None) -> list[str]:
    """One warning per layer of ``mask_set`` (a :class:`MaskSet`) that is cut off or close to collapse:

    - it keeps none of its kernel weights (all pruned, e.g. every unit removed): no signal passes;
    - it keeps some, but under ``min_kept`` of them (strictly under: exactly 1% is no warning);
    - with ``model`` (its dependency ``groups`` optional): it keeps weights, but every kept one reads a unit
      upstream that receives no input itself, so no signal passes (named once, where the signal stops).

    >>> from prune_core.methods.masks import MaskSet
    >>> keep = np.zeros((100, 300), bool); keep[0, :120] = True
    >>> collapse_warnings(MaskSet(kernels={"dense2": keep}))
    ['dense2 keeps 0.4% of its weights (120 of 30,000): the layer is close to collapse — every prediction goes through 120 connections.']
    """
    out = []
    dead_signal = _signal_stops(model, mask_set, groups) if model is not None else {}
    for name, mask in mask_set.kernels.items():
        mask = np.asarray(mask, dtype=bool)
        kept, total = int(np.count_nonzero(mask)), int(mask.size)
        if not total:
            continue
        units = mask_set.units.get(name)
        if kept == 0:
            how = (f"all {np.size(units):,} of its units are removed" if units is not None and not np.any(units)
                   else "every weight is pruned")
            out.append(f"{name} keeps none of its {total:,} weights ({how}): the layer is cut off — no signal "
                       f"passes through it, so every prediction is the same whatever the input.")
        elif kept / total < min_kept:
            out.append(f"{name} keeps {_share_text(kept / total, min_kept)} of its weights ({kept:,} of {total:,}): "
                       f"the layer is close to collapse — every prediction goes through {kept:,} "
                       f"connection{'' if kept == 1 else 's'}.")
        elif name in dead_signal:
            upstream = ", ".join(dead_signal[name])
            out.append(f"{name} keeps {kept:,} of its {total:,} weights, but every one of them reads a unit of "
                       f"{upstream} that receives no input: no signal passes through {name}, so every prediction "
                       f"is the same whatever the input.")
    return out


def _signal_stops(model, mask_set, groups=None) -> dict[str, list[str]]:
    """{layer: upstream layers} for each prunable layer that keeps weights but none reading a live input,
    while some of its inputs are alive (the layer where the signal stops, not those after it).

    A unit is live when one of its kept incoming weights reads a live input; the model's inputs are live;
    inputs coming from a group that may not be pruned (it reaches the output, or touches an unknown layer
    kind) count as live. Units are followed through the dependency groups (``graph.dependency_groups``)."""
    groups = dependency_groups(model) if groups is None else groups
    layers = {layer.name: layer for layer in prunable_layers(model)}
    live: dict[str, np.ndarray] = {}   # group name -> live flag per channel
    stops: dict[str, list[str]] = {}
    for name, layer in layers.items():
        if name not in mask_set.kernels:
            continue
        keep = np.asarray(mask_set.kernels[name], dtype=bool)
        transposed = type(layer).__name__.endswith("Transpose")
        in_axis = keep.ndim - 1 if transposed else keep.ndim - 2
        out_axis = keep.ndim - 2 if transposed else keep.ndim - 1
        weight = kernel_variable(layer).name.rsplit("/", 1)[-1]
        alive = np.ones(keep.shape[in_axis], dtype=bool)
        dead_from: dict[int, str] = {}
        for group in groups:
            if group.name not in live:
                continue
            for m in group.members:
                if m.layer == name and m.weight == weight and m.axis == in_axis:
                    flags = live[group.name][np.asarray(m.channels)]
                    positions = np.asarray(m.positions)
                    alive[positions[~flags]] = False
                    for p in positions[~flags]:
                        dead_from.setdefault(int(p), group.name)
        shape = [1] * keep.ndim
        shape[in_axis] = alive.size
        signal = keep & alive.reshape(shape)
        if keep.any() and alive.any() and not signal.any():
            rows = np.flatnonzero(np.moveaxis(keep, in_axis, 0).reshape(alive.size, -1).any(axis=1))
            stops[name] = list(dict.fromkeys(dead_from[int(r)] for r in rows if int(r) in dead_from))
        unit_live = np.moveaxis(signal, out_axis, -1).reshape(-1, keep.shape[out_axis]).any(axis=0)
        for group in groups:
            if not group.prunable or name not in group.producers:
                continue
            for m in group.members:
                if m.layer == name and m.weight == weight and m.axis == out_axis:
                    flags = live.setdefault(group.name, np.zeros(group.size, dtype=bool))
                    np.logical_or.at(flags, np.asarray(m.channels), unit_live[np.asarray(m.positions)])
    return stops


# --- figures --------------------------------------------------------------------------------------------

def class_accuracy_figure(change_frame, *, title: str | None = None, height: int = 320, pruned_label: str = "pruned"):
    """Grouped bars per class: dense (grey) and pruned (violet) test accuracy in %, worst drop first, y 0–100%.

    ``change_frame``: the table of ``metrics.class_accuracy_change`` (class, count, dense, pruned, change);
    it is re-sorted here (change ascending, then count descending) so any order draws the same.
    """
    import plotly.graph_objects as go


    frame = change_frame.sort_values(["change", "count"], ascending=[True, False], kind="stable")
    names = [str(c) for c in frame["class"]]

    def percents(column):
        return [None if not np.isfinite(v) else 100.0 * float(v) for v in frame[column]]

    change = [None if not np.isfinite(v) else 100.0 * float(v) for v in frame["change"]]
    counts = [int(c) for c in frame["count"]]
    custom = [[ch, n] for ch, n in zip(change, counts)]
    hover = ("class %{x}: %{y:.1f}%<br>" + pruned_label +
             " − dense: %{customdata[0]:+.1f} points · %{customdata[1]} test samples")
    data = [go.Bar(x=names, y=percents(column), name=label, marker_color=colour, customdata=custom,
                   hovertemplate=f"{hover}<extra>{label}</extra>")
            for column, label, colour in (("dense", "dense", DENSE), ("pruned", pruned_label, ACCURACY_COLOUR))]
    layout = house_layout(title=title, height=height, barmode="group", bargap=0.25,
                          xaxis=dict(title="class (worst drop first)", type="category", categoryorder="array",
                                     categoryarray=names),
                          yaxis=dict(title="test accuracy", range=[0, 100], ticksuffix="%"))
    return go.Figure(data=data, layout=layout)


def coefficient_curve_figure(curve, current: float | None = None, *, title: str | None = None, height: int = 300):
    """Sparsity (teal) and, where measured, accuracy (violet) in % against the coefficient, on one 0–100% axis;
    ``current`` (the slider's coefficient) is a dashed vertical line. ``curve``: :func:`coefficient_curve`'s frame."""
    import plotly.graph_objects as go


    x = [float(c) for c in curve["coefficient"]]
    data = [go.Scatter(x=x, y=[100.0 * float(s) for s in curve["sparsity"]], name="sparsity", mode="lines+markers",
                       line=dict(color=SPARSITY_COLOUR),
                       hovertemplate="coefficient %{x:.2f}: %{y:.1f}% pruned<extra></extra>")]
    accuracy = [float(a) for a in curve["accuracy"]]
    if any(np.isfinite(a) for a in accuracy):
        data.append(go.Scatter(x=x, y=[100.0 * a if np.isfinite(a) else None for a in accuracy], name="test accuracy",
                               mode="lines+markers", line=dict(color=ACCURACY_COLOUR),
                               hovertemplate="coefficient %{x:.2f}: %{y:.1f}% accuracy<extra></extra>"))
    shapes = [vline(float(current), CURRENT_COLOUR)] if current is not None else []
    layout = house_layout(title=title, height=height, shapes=shapes,
                          xaxis=dict(title="coefficient (× the largest score)", range=[0, 1]),
                          yaxis=dict(title="sparsity / accuracy", range=[0, 100], ticksuffix="%"))
    return go.Figure(data=data, layout=layout)
