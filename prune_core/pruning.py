"""The one place that goes score → threshold → mask → apply, for a :class:`PruneSpec`.

:func:`select` turns scores into a :class:`MaskSet` (the Prune page calls it on every slider move with
scores it computed once); :func:`prune` scores, selects and applies; :func:`compact` removes pruned
units physically. The caller's model is never touched.

>>> import keras
>>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, name="h"), keras.layers.Dense(2, name="out")])
>>> result = prune(model, PruneSpec(rule="sparsity", value=0.5, scope="global"))
>>> result.sparsity, result.masks.kept, result.masks.total
(0.5, 9, 18)
>>> result.coverage.total, round(result.model_sparsity, 3)
(23, 0.391)
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Mapping

import numpy as np

from .graph import dependency_groups, kernels as model_kernels, round_units, weight_targets
from .graph.coverage import Coverage, coverage, coverage_sentence
from .graph.heads import compact_heads, head_scores, head_weight_masks
from .graph.surgery import compact_model
from .methods import masks as mk, normalize
from .methods.criteria import get_criterion
from .methods.rules import get_rule
from .spec import PruneSpec

HELD_SCORE = np.float32(-1.0)  # below every real score: what was pruned before is pruned first


@dataclass
class PruneResult:
    """What :func:`prune` returns: ``masks`` (a :class:`MaskSet`, True = kept, removed units' incoming
    rows included), ``model`` (a masked copy), ``table`` (per kernel: kept, total, sparsity, threshold,
    units kept / total; ``table.attrs["coverage"]`` is the coverage sentence), ``coverage`` (which share of
    the model's parameters the run covers, and the rest by reason), ``sparsity`` (of the covered kernel
    weights: ``masks.total`` is its denominator) and the validated ``spec``."""

    spec: PruneSpec
    masks: mk.MaskSet
    model: Any
    table: Any
    coverage: Coverage | None = None

    @property
    def sparsity(self) -> float:
        """Pruned share of the covered kernel weights (``masks.total``; see ``coverage`` for the rest)."""
        return self.masks.overall_sparsity

    @property
    def model_sparsity(self) -> float:
        """Pruned share of ALL the model's parameters (``coverage.total``: biases, normalization, ... included)."""
        total = self.coverage.total if self.coverage is not None else self.masks.total
        return (self.masks.total - self.masks.kept) / total if total else 0.0


def scores(model, spec: PruneSpec, data=None) -> dict[str, np.ndarray]:
    """{layer: kernel-shaped scores} by the spec's criterion (data criteria need ``data``)."""
    spec = spec.validate()
    return get_criterion(spec.criterion).scores(model, data, seed=spec.seed, batches=spec.batches,
                                                 batch_size=spec.batch_size)


def select(model, spec: PruneSpec, weight_scores: Mapping[str, np.ndarray] | None = None, data=None, *,
           kernels: Mapping[str, np.ndarray] | None = None, output_layer: str | None = None,
           previous: mk.MaskSet | None = None, groups=None) -> mk.MaskSet:
    """The MaskSet ``spec`` gives on ``model``: from ``weight_scores`` (kernel-shaped, computed once by the
    caller) or scored here. Entries pruned in ``previous`` are pruned first (so gradual masks only grow).

    Unit granularity prunes dependency groups (:mod:`prune_core.graph`): the criterion scores each group's
    channels, the rule chooses among the prunable groups (those reaching the output, or touching a layer
    kind the graph does not know, stay whole), and the removed channels take every weight they touch: the
    producers' columns, biases and per-channel parameters, and the input rows of every layer that reads
    them. Each group keeps at least its best channel (so a global count can fall short by one per emptied
    group). ``per_layer`` is keyed by group name (a chain layer's group is named after the layer); values for
    prunable layers whose units cannot be removed are ignored. ``output_layer`` is unused (kept for callers).
    """
    spec = spec.validate()
    criterion, rule = get_criterion(spec.criterion), get_rule(spec.rule)
    if weight_scores is None:
        weight_scores = scores(model, spec, data)
    if spec.granularity == "head":
        return select_heads(model, spec, weight_scores, previous=previous)
    scales = {}
    if spec.granularity == "unit":
        groups = dependency_groups(model, streams=spec.streams) if groups is None else groups
        scored = criterion.unit_scores(model, weight_scores, groups=groups, seed=spec.seed)
        held = previous.units if previous is not None else {}
        raw = dict(scored)
        if spec.scope == "global" and spec.normalize != "none":  # comparable across groups; order inside kept
            scales = {n: normalize.scale(spec.normalize, s) for n, s in scored.items()}
            scored = {n: np.asarray(s, dtype=np.float64) / scales[n] for n, s in scored.items()}
    else:
        scored = dict(weight_scores)
        held = previous.kernels if previous is not None else {}
    scored = {n: np.where(held[n], s, HELD_SCORE) if n in held else s for n, s in scored.items()}
    if spec.per_layer and spec.granularity == "unit":
        known = set(weight_scores)
        spec = replace(spec, per_layer={n: v for n, v in spec.per_layer.items() if n in scored or n not in known})
    value = spec.values_for(list(scored))
    if spec.granularity == "weight":
        weights = (model_kernels(model) if kernels is None else kernels) if criterion.spread_from_weights else None
        views = matrix_views(model, scored)
        keep, cuts = rule.select(_viewed(scored, views), value, scope=spec.scope, weights=_viewed(weights, views))
        keep = {n: np.reshape(m, np.shape(scored[n])) for n, m in keep.items()}
        return mk.MaskSet(kernels=keep, thresholds=cuts, granularity="weight")
    keep, cuts = rule.select(scored, value, scope=spec.scope)
    cuts = {n: t * scales.get(n, 1.0) for n, t in cuts.items()}  # back in each group's own units
    keep = {n: _at_least_one(m, scored[n]) for n, m in keep.items()}
    if spec.min_keep and spec.scope == "global":  # per layer, each group's share is the user's own choice
        keep = {n: m | _floor(raw[n], spec.min_keep, held.get(n)) for n, m in keep.items()}
    if spec.round_to > 1:
        keep = {n: round_units(m, scored[n], spec.round_to) for n, m in keep.items()}
    return mk.effective_masks(model, mk.MaskSet(kernels={}, units=keep, thresholds=cuts, granularity="unit",
                                                 streams=spec.streams))


def _floor(scores, min_keep: float, held=None) -> np.ndarray:
    """The top ``normalize.floor_count`` channels of a group by its own scores (never one pruned before)."""
    scores = np.asarray(scores, dtype=np.float64)
    if held is not None:
        scores = np.where(held, scores, -np.inf)
    count = min(normalize.floor_count(scores.size, min_keep), int(np.isfinite(scores).sum()))
    order = np.lexsort((np.arange(scores.size), -scores))[:count]
    out = np.zeros(scores.size, dtype=bool)
    out[order] = True
    return out


def select_heads(model, spec: PruneSpec, weight_scores: Mapping[str, np.ndarray], *,
                 previous: mk.MaskSet | None = None) -> mk.MaskSet:
    """Head granularity: the criterion's kernel scores summed per head (:func:`prune_core.graph.heads.head_scores`),
    the rule over those head vectors (scope layer or global), each attention layer keeping at least its best
    head, then every weight the removed heads hold (q/k/v kernel and bias slices, output rows). ``heads`` of the
    MaskSet is {attention layer: keep vector}; ``compact`` rebuilds the model with fewer heads."""
    spec = spec.validate()
    scored = head_scores(model, weight_scores)
    if not scored:
        raise ValueError("This model has no MultiHeadAttention layer whose kernels the criterion scores, so no "
                         "attention head can be pruned; choose granularity 'weight' or 'unit'.")
    held = previous.heads if previous is not None else {}
    scored = {n: np.where(held[n], s, HELD_SCORE) if n in held else s for n, s in scored.items()}
    keep, cuts = get_rule(spec.rule).select(scored, spec.values_for(list(scored)), scope=spec.scope)
    keep = {n: _at_least_one(m, scored[n]) for n, m in keep.items()}
    kernels, extra = head_weight_masks(model, keep, scored)
    return mk.MaskSet(kernels=kernels, extra=extra, heads=keep, thresholds=cuts, granularity="head", effective=True)


def matrix_views(model, names) -> dict[str, tuple[int, int]]:
    """{target: (inputs, outputs)} for the kernels whose input axis is not the usual -2 (EinsumDense: the axes
    its equation contracts), so N:M and block rules group weights along each kernel's real input axis."""
    if model is None:  # scores-only previews (no model): the usual layout
        return {}
    wanted = set(names)
    return {t.key: t.matrix_shape for t in weight_targets(model) if t.key in wanted and t.matrix_shape}


def _viewed(arrays, views):
    if arrays is None or not views:
        return arrays
    return {n: np.reshape(a, views[n]) if n in views else a for n, a in arrays.items()}


def _at_least_one(keep: np.ndarray, unit_scores: np.ndarray) -> np.ndarray:
    """``keep``, or when it removes every channel of its group, the best-scored channel kept (a group with
    no channel left would disconnect the model).

    >>> _at_least_one(np.array([False, False, False]), np.array([0.2, 0.9, 0.5])).tolist()
    [False, True, False]
    """
    keep = np.asarray(keep, dtype=bool)
    if keep.any() or keep.size == 0:
        return keep
    kept = np.zeros_like(keep)
    kept[int(np.argmax(np.asarray(unit_scores)))] = True
    return kept


def prune(model, spec: PruneSpec, data=None, *, weight_scores: Mapping[str, np.ndarray] | None = None) -> PruneResult:
    """Score ``model`` by ``spec`` (data criteria use ``data``, a :class:`prune_core.io.data.Dataset`),
    select the masks and apply them to a copy. The caller's model is never touched."""
    spec = spec.validate()
    mask_set = select(model, spec, weight_scores, data)
    covered = coverage(model, mask_set.kernels)
    table = mask_set.table()
    table.attrs["coverage"] = coverage_sentence(covered)
    return PruneResult(spec=spec, masks=mask_set, model=mk.apply_masks(model, mask_set), table=table,
                       coverage=covered)


def compact(model, mask_set: mk.MaskSet):
    """The physically smaller keras.Model: units removed by a unit-granularity MaskSet (or {layer: keep}), or
    attention heads removed by a head-granularity MaskSet (:func:`prune_core.graph.heads.compact_heads`)."""
    if isinstance(mask_set, mk.MaskSet) and mask_set.granularity == "head":
        return compact_heads(model, mask_set.heads)
    units = mask_set.units if isinstance(mask_set, mk.MaskSet) else dict(mask_set)
    if not units:
        raise ValueError("These masks remove no whole units (weight granularity), so nothing can be removed "
                         "physically; prune with granularity='unit' to get a smaller model.")
    return compact_model(model, units, streams=isinstance(mask_set, mk.MaskSet) and mask_set.streams)
