"""The numbers behind the coefficient slider's guidance: what a coefficient really prunes, per criterion.

The coefficient rule prunes where score < coefficient × max, so on heavy-tailed scores (gradients: a few
weights carry most of the loss's gradient) a small coefficient already prunes most of a layer. These
functions compute it; ``viz.guidance`` words and draws it.

- :func:`sparsity_at` / :func:`coefficient_curve` — coefficient → sparsity (and measured accuracy) for the
  current criterion, through the same ``prune_core.select`` the Prune page calls.
- :func:`matching_coefficient` / :func:`default_coefficients` — the coefficient (on the slider's 0.01 grid)
  whose sparsity matches magnitude's at its default 0.3, per criterion.
- :func:`tail_table` — per layer, how far the largest score stands above the median.
- :func:`signal_stops` — layers that keep weights, none of which reads a live input.

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
from ..methods.criteria import get_criterion
from ..methods.thresholds import check_fraction
from ..pruning import select
from ..spec import PruneSpec
from .preview import MaskedScratch

DEFAULT_COEFFICIENTS = tuple(round(0.05 * i, 2) for i in range(21))  # 0, 0.05, …, 1.0
STEP = 0.01  # the coefficient slider's step (RULES["coefficient"].step)
CURVE_COLUMNS = ("coefficient", "sparsity", "accuracy")


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


# --- how heavy the tail is ---------------------------------------------------------------------------------

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


# --- where the signal stops -----------------------------------------------------------------------------

def signal_stops(model, mask_set, groups=None) -> dict[str, list[str]]:
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
