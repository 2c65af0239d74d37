"""The one place that goes score → threshold → mask → apply, for a :class:`PruneSpec`.

:func:`select` turns scores into a :class:`MaskSet` (the Prune page calls it on every slider move with
scores it computed once); :func:`prune` scores, selects and applies; :func:`compact` removes pruned
units physically. The caller's model is never touched.

>>> import keras
>>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, name="h"), keras.layers.Dense(2, name="out")])
>>> result = prune(model, PruneSpec(rule="sparsity", value=0.5, scope="global"))
>>> result.sparsity, result.masks.kept, result.masks.total
(0.5, 9, 18)
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Mapping

import numpy as np

from . import masks as mk
from .criteria import get_criterion
from .rules import get_rule
from .spec import PruneSpec

HELD_SCORE = np.float32(-1.0)  # below every real score: what was pruned before is pruned first


@dataclass
class PruneResult:
    """What :func:`prune` returns: ``masks`` (a :class:`MaskSet`, True = kept, removed units' incoming
    rows included), ``model`` (a masked copy), ``table`` (per layer: kept, total, sparsity, threshold,
    units kept / total), ``sparsity`` (overall, of the prunable kernel weights) and the validated ``spec``."""

    spec: PruneSpec
    masks: mk.MaskSet
    model: Any
    table: Any

    @property
    def sparsity(self) -> float:
        return self.masks.overall_sparsity


def scores(model, spec: PruneSpec, data=None) -> dict[str, np.ndarray]:
    """{layer: kernel-shaped scores} by the spec's criterion (data criteria need ``data``)."""
    spec = spec.validate()
    return get_criterion(spec.criterion).scores(model, data, seed=spec.seed, batches=spec.batches,
                                                 batch_size=spec.batch_size)


def select(model, spec: PruneSpec, weight_scores: Mapping[str, np.ndarray] | None = None, data=None, *,
           kernels: Mapping[str, np.ndarray] | None = None, output_layer: str | None = None,
           previous: mk.MaskSet | None = None) -> mk.MaskSet:
    """The MaskSet ``spec`` gives on ``model``: from ``weight_scores`` (kernel-shaped, computed once by the
    caller) or scored here. Unit granularity aggregates the scores per unit (the criterion says how),
    never prunes the output layer's units, and masks removed units' incoming rows in the layers that read
    them. Entries pruned in ``previous`` are pruned first (so gradual masks only grow)."""
    from .layers import kernels as model_kernels
    from .layers import output_layer_name

    spec = spec.validate()
    criterion, rule = get_criterion(spec.criterion), get_rule(spec.rule)
    if weight_scores is None:
        weight_scores = scores(model, spec, data)
    kernels = model_kernels(model) if kernels is None else kernels
    output = output_layer_name(model) if output_layer is None else output_layer
    if spec.granularity == "unit":
        scored = criterion.unit_scores(weight_scores, output_layer=output, seed=spec.seed)
        held = previous.units if previous is not None else {}
    else:
        scored = dict(weight_scores)
        held = previous.kernels if previous is not None else {}
    scored = {n: np.where(held[n], s, HELD_SCORE) if n in held else s for n, s in scored.items()}
    if spec.per_layer and spec.granularity == "unit":  # the output layer's units are never pruned
        spec = replace(spec, per_layer={n: v for n, v in spec.per_layer.items() if n != output})
    value = spec.values_for(list(scored))
    weights = kernels if spec.granularity == "weight" and criterion.spread_from_weights else None
    keep, cuts = rule.select(scored, value, scope=spec.scope, weights=weights)
    if spec.granularity == "weight":
        built = mk.MaskSet(kernels=keep, thresholds=cuts, granularity="weight")
    else:
        if spec.round_to > 1:
            keep = {n: round_units(m, scored[n], spec.round_to) for n, m in keep.items()}
        built = mk.MaskSet(kernels={n: np.broadcast_to(u, np.shape(kernels[n])).copy() for n, u in keep.items()},
                           units=keep, thresholds=cuts, granularity="unit")
    return mk.effective_masks(model, built)


def round_units(keep: np.ndarray, unit_scores: np.ndarray, multiple: int) -> np.ndarray:
    """Keep a multiple of ``multiple`` units (rounded up, at most all): the best-scored, ties to the lower index.

    >>> round_units(np.array([True, False, False, True, False]), np.array([5., 1., 3., 4., 2.]), 2).tolist()
    [True, False, False, True, False]
    >>> round_units(np.array([True, False, False, False, False]), np.array([5., 1., 3., 4., 2.]), 2).tolist()
    [True, False, False, True, False]
    """
    keep = np.asarray(keep, dtype=bool)
    count = int(np.count_nonzero(keep))
    target = min(keep.size, -(-max(count, 1) // multiple) * multiple)
    if target == count:
        return keep.copy()
    order = np.lexsort((np.arange(keep.size), -np.asarray(unit_scores, dtype=np.float64)))
    rounded = np.zeros(keep.size, dtype=bool)
    rounded[order[:target]] = True
    return rounded


def prune(model, spec: PruneSpec, data=None, *, weight_scores: Mapping[str, np.ndarray] | None = None) -> PruneResult:
    """Score ``model`` by ``spec`` (data criteria use ``data``, a :class:`prune_core.data.Dataset`),
    select the masks and apply them to a copy. The caller's model is never touched."""
    spec = spec.validate()
    mask_set = select(model, spec, weight_scores, data)
    return PruneResult(spec=spec, masks=mask_set, model=mk.apply_masks(model, mask_set), table=mask_set.table())


def compact(model, mask_set: mk.MaskSet):
    """The physically smaller keras.Model: units removed by a unit-granularity MaskSet (or {layer: keep})."""
    from .surgery import compact_model

    units = mask_set.units if isinstance(mask_set, mk.MaskSet) else dict(mask_set)
    if not units:
        raise ValueError("These masks remove no whole units (weight granularity), so nothing can be removed "
                         "physically; prune with granularity='unit' to get a smaller model.")
    return compact_model(model, units)
