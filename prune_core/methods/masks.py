"""Masks from scores and thresholds, and applying them to a copy of a model.

score → threshold → mask → apply. True in a mask = kept. Masks are dicts keyed by layer name.

>>> keep_mask(np.array([0.5, 0.3, 0.6, 0.2, 0.4]), 0.3).tolist()
[True, True, True, False, True]
>>> ms = build_masks({"d": np.array([[0.5, 0.3], [0.6, 0.2]])}, "coefficient", 0.6)
>>> ms.kernels["d"].tolist(), ms.overall_sparsity
([[True, False], [True, False]], 0.5)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

import numpy as np

from ..graph import dependency_graph, layers, weight_masks, weight_targets
from ..graph.kinds import weights_by_id
from . import thresholds as th
from .rules import get_rule

GRANULARITIES = ("weight", "unit")


def keep_mask(scores, threshold: float) -> np.ndarray:
    """True where score >= threshold (kept); a weight is pruned where its score is strictly below."""
    return np.asarray(scores) >= threshold


@dataclass
class MaskSet:
    """Keep masks for a model's kernels (True = kept), keyed by weight target (a prunable layer's name, or a
    nested kernel's path such as ``mha/query``; :mod:`prune_core.graph.targets`), in model order.

    ``kernels``: kernel-shaped bool arrays; ``units``: bool vectors over the channels of dependency
    groups (unit granularity only; a group is named after its first producing layer, so a chain layer's
    units are keyed by the layer's name; groups reaching the output never appear); ``heads``: {MultiHeadAttention
    name: bool vector of num_heads} (head granularity; its kernels and ``extra`` biases already hold the heads'
    slices, see :mod:`prune_core.graph.heads`); ``streams``: the units are groups of the streams-mode graph
    (:func:`prune_core.graph.dependency_graph`; the compact model is then the truth); ``thresholds``: the
    threshold per scored layer or group; ``extra``: {layer: {weight: mask}} for the other weights removed
    units take with them (filled by :func:`effective_masks`). Layers absent from ``kernels`` are left
    untouched.
    """

    kernels: dict[str, np.ndarray]
    units: dict[str, np.ndarray] = field(default_factory=dict)
    thresholds: dict[str, float] = field(default_factory=dict)
    granularity: str = "weight"
    extra: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    effective: bool = False  # already expanded by effective_masks (expanding again changes nothing)
    heads: dict[str, np.ndarray] = field(default_factory=dict)
    streams: bool = False

    def kept_counts(self) -> dict[str, int]:
        return {n: int(np.count_nonzero(m)) for n, m in self.kernels.items()}

    def total_counts(self) -> dict[str, int]:
        return {n: int(m.size) for n, m in self.kernels.items()}

    def layer_sparsity(self) -> dict[str, float]:
        """Fraction of each layer's kernel entries that are pruned."""
        kept, total = self.kept_counts(), self.total_counts()
        return {n: (1.0 - kept[n] / total[n]) if total[n] else 0.0 for n in self.kernels}

    @property
    def kept(self) -> int:
        return sum(self.kept_counts().values())

    @property
    def total(self) -> int:
        return sum(self.total_counts().values())

    @property
    def overall_sparsity(self) -> float:
        """Fraction of all masked kernel entries that are pruned (0 for an empty set)."""
        total = self.total
        return 1.0 - self.kept / total if total else 0.0

    @property
    def unit_counts(self) -> tuple[int, int]:
        """(kept, total) neurons/channels over the groups this set prunes by unit (``units``), or attention heads
        (``heads``); (0, 0) for weight masks. Groups that cannot lose units (the output's) are not in the total.

        >>> MaskSet(kernels={}, units={"d1": np.array([True, False, False, True])}, granularity="unit").unit_counts
        (2, 4)
        """
        vectors = list(self.units.values()) or list(self.heads.values())
        return sum(int(np.count_nonzero(v)) for v in vectors), sum(int(np.size(v)) for v in vectors)

    def table(self):
        """pandas DataFrame: layer, kept, total, sparsity, threshold, units_kept, units_total."""
        import pandas as pd

        kept, total, sparsity = self.kept_counts(), self.total_counts(), self.layer_sparsity()
        rows = []
        for name in self.kernels:
            units = self.units.get(name)
            rows.append({"layer": name, "kept": kept[name], "total": total[name], "sparsity": sparsity[name],
                         "threshold": self.thresholds.get(name, float("nan")),
                         "units_kept": int(np.count_nonzero(units)) if units is not None else None,
                         "units_total": int(units.size) if units is not None else None})
        return pd.DataFrame(rows, columns=["layer", "kept", "total", "sparsity", "threshold",
                                           "units_kept", "units_total"])


def _check_granularity(granularity: str) -> str:
    if granularity not in GRANULARITIES:
        raise ValueError(f"Unknown granularity {granularity!r}; choose 'weight' or 'unit'.")
    return granularity


def score_masks(scores: Mapping[str, np.ndarray], rule: str, value, *, scope: str = "layer",
                weights: Mapping[str, np.ndarray] | None = None) -> tuple[dict, dict]:
    """({layer: keep mask}, {layer: threshold}) for any score arrays (kernels or unit vectors), by the
    registered rule ``rule`` (:data:`prune_core.methods.rules.RULES`)."""
    th.check_scope(scope)
    return get_rule(rule).select(scores, value, scope=scope, weights=weights)


def build_masks(scores: Mapping[str, np.ndarray], rule: str, value, *, scope: str = "layer",
                granularity: str = "weight", weights: Mapping[str, np.ndarray] | None = None,
                output_layer: str | None = None) -> MaskSet:
    """A MaskSet from scores with one threshold rule.

    granularity "weight": ``scores`` are kernel-shaped; the std rule uses ``weights`` when given
    (pass the kernels with magnitude scores: quality × std(w) against |w|), else the scores' std.
    granularity "unit": ``scores`` are unit vectors (from ``importance.unit_scores``); ``weights``
    (the kernels, required) give the kernel shapes; a removed unit removes its kernel column/filter.
    ``output_layer`` is never unit-pruned (it is dropped from unit scores if present).

    >>> ms = build_masks({"h": np.array([3., 1., 2.])}, "sparsity", 1/3, granularity="unit",
    ...                  weights={"h": np.ones((2, 3))})
    >>> ms.units["h"].tolist(), ms.kernels["h"].tolist()
    ([True, False, True], [[True, False, True], [True, False, True]])
    """
    _check_granularity(granularity)
    if granularity == "weight":
        masks, thresholds = score_masks(scores, rule, value, scope=scope, weights=weights)
        return MaskSet(kernels=masks, thresholds=thresholds, granularity="weight")
    if weights is None:
        raise ValueError("Unit pruning needs the kernels (weights=...) to shape the kernel masks.")
    unit_scores = {n: np.asarray(s) for n, s in scores.items() if n != output_layer}
    for name, s in unit_scores.items():
        if name not in weights:
            raise ValueError(f"No kernel given for layer {name!r}.")
        if s.ndim != 1 or s.size != np.shape(weights[name])[-1]:
            raise ValueError(f"Unit scores for {name!r} must be a vector of length {np.shape(weights[name])[-1]}.")
    units, thresholds = score_masks(unit_scores, rule, value, scope=scope)
    kernels = {n: np.broadcast_to(u, np.shape(weights[n])).copy() for n, u in units.items()}
    return MaskSet(kernels=kernels, units=units, thresholds=thresholds, granularity="unit")


# --- from unit masks to every weight they touch (the dependency graph) ----------------------------

def effective_masks(model, mask_set: MaskSet) -> MaskSet:
    """The MaskSet as ``apply_masks`` really applies it.

    Weight granularity: unchanged. Unit granularity (``units`` keyed by dependency group, see
    :mod:`prune_core.graph`): every kernel's mask (every weight target's: the removed units' columns, and
    the input rows/channels of the layers that read them, found through the graph; all True elsewhere), and in ``extra`` the
    other weights the groups touch (biases, BatchNorm and PReLU parameters, depthwise kernels). Its
    sparsities are then exactly the zeros the masked model holds.
    """
    if mask_set.effective:
        return mask_set
    kernels = {n: np.asarray(m, dtype=bool).copy() for n, m in mask_set.kernels.items()}
    extra = {n: dict(w) for n, w in mask_set.extra.items()}
    if mask_set.units:
        touched = weight_masks(model, mask_set.units, streams=mask_set.streams)
        _check_shapes(model, kernels)
        ordered, covered = {}, set()
        graph = dependency_graph(model, streams=mask_set.streams)
        for target in weight_targets(model):  # every kernel, so sparsities count over all of them
            own = touched.get(target.top, {})
            wid = graph.weight_id(target) if own else None
            base = kernels.get(target.key, np.ones(target.shape, dtype=bool))
            ordered[target.key] = base & own[wid] if wid in own else base
            if wid in own:
                covered.add((target.top, wid))
        kernels = ordered
        for name, weights in touched.items():
            for weight, mask in weights.items():
                if (name, weight) in covered:
                    continue
                extra.setdefault(name, {})[weight] = extra.get(name, {}).get(weight, True) & mask
    return MaskSet(kernels=kernels, units=dict(mask_set.units), thresholds=dict(mask_set.thresholds),
                   granularity=mask_set.granularity, extra=extra, effective=True, heads=dict(mask_set.heads),
                   streams=mask_set.streams)


def held_zeros(model) -> MaskSet:
    """The mask a pruned model already holds: every weight target's zeros pruned, the rest kept (a run's saved model,
    to fine-tune further with its zeros held). Its ``overall_sparsity`` is the model's prunable sparsity.

    >>> import keras
    >>> m = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2, name="d")])
    >>> _ = m.layers[0].kernel.assign(np.array([[0.0, 1.0], [2.0, 0.0]], dtype="float32"))
    >>> held = held_zeros(m)
    >>> held.kernels["d"].tolist(), held.overall_sparsity
    ([[False, True], [True, False]], 0.5)
    """
    return MaskSet(kernels={target.key: np.asarray(target.value()) != 0 for target in weight_targets(model)})


def _layers_by_name(model) -> dict:
    return {layer.name: layer for layer in layers(model)}


def copy_model(model):
    """A new model with the same architecture and weights (the caller's model is not touched)."""
    clone = type(model).from_config(model.get_config())
    clone.set_weights(model.get_weights())
    return clone


def without_optimizer(model):
    """An uncompiled copy with the same weights: what to save or ship (no optimizer state)."""
    clone = type(model).from_config(model.get_config())  # clone_model would copy the compile state
    clone.set_weights(model.get_weights())
    return clone


def _check_shapes(model, kernels: Mapping[str, np.ndarray]) -> None:
    shapes = {target.key: target.shape for target in weight_targets(model)}
    for name, mask in kernels.items():
        if name not in shapes:
            raise ValueError(f"The masks name a layer {name!r} that is not a prunable layer of this model.")
        if tuple(np.shape(mask)) != shapes[name]:
            raise ValueError(f"Mask for {name!r} has shape {np.shape(mask)}, the kernel {shapes[name]}.")


def masked_variables(model, mask_set: MaskSet) -> list[tuple[object, np.ndarray]]:
    """(variable, keep mask) for every weight ``mask_set`` masks: kernels (every weight target, see
    :mod:`prune_core.graph.targets`) and, for removed units, the ``extra`` weights (pass an effective MaskSet,
    see :func:`effective_masks`). ``extra`` is keyed by graph layer name, or by a nested weight target's path
    (``mha/query``: a MultiHeadAttention projection's bias, for heads; :mod:`prune_core.graph.heads`)."""
    _check_shapes(model, mask_set.kernels)
    pairs = []
    found = _layers_by_name(model)
    for target in weight_targets(model):
        if target.key in mask_set.kernels:
            pairs.append((target.variable, np.asarray(mask_set.kernels[target.key], dtype=bool)))
        found.setdefault(target.key, target.layer)  # nested targets by path (graph layer names win)
    for name, weights in mask_set.extra.items():
        if name not in found:
            raise ValueError(f"The masks name a layer {name!r} that is not a layer of this model.")
        variables = weights_by_id(found[name])
        for weight, mask in weights.items():
            pairs.append((variables[weight], np.asarray(mask, dtype=bool)))
    return pairs


def zero_masked(model, mask_set: MaskSet) -> None:
    """Zero, in place, the masked kernel entries and the ``extra`` weights of removed units of ``model``."""
    for variable, mask in masked_variables(model, mask_set):
        variable.assign(np.asarray(variable.numpy()) * mask)


def apply_masks(model, mask_set: MaskSet):
    """A NEW model with masked kernel entries set to zero; the caller's model is untouched.

    Removed units (unit granularity) also lose their bias and the next layer's incoming
    rows/channels, so the result computes exactly what the physically smaller network would.
    """
    masked = copy_model(model)
    zero_masked(masked, effective_masks(model, mask_set))
    return masked
