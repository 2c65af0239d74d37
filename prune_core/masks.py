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

from . import thresholds as th
from .layers import prunable_layers

GRANULARITIES = ("weight", "unit")
# Layers a unit (channel) passes through unchanged on its way to the next prunable layer.
PASS_THROUGH = ("Dropout", "SpatialDropout2D", "MaxPooling2D", "AveragePooling2D", "BatchNormalization",
                "Activation", "ReLU", "LeakyReLU", "ELU", "GlobalAveragePooling2D", "GlobalMaxPooling2D",
                "GaussianNoise", "GaussianDropout", "LayerNormalization", "ZeroPadding2D")


def keep_mask(scores, threshold: float) -> np.ndarray:
    """True where score >= threshold (kept); a weight is pruned where its score is strictly below."""
    return np.asarray(scores) >= threshold


@dataclass
class MaskSet:
    """Keep masks for a model's prunable layers (True = kept), keyed by layer name in model order.

    ``kernels``: kernel-shaped bool arrays; ``units``: bool vectors over output units (unit
    granularity only; the output layer never appears); ``thresholds``: the threshold per layer.
    Layers absent from ``kernels`` are left untouched.
    """

    kernels: dict[str, np.ndarray]
    units: dict[str, np.ndarray] = field(default_factory=dict)
    thresholds: dict[str, float] = field(default_factory=dict)
    granularity: str = "weight"

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
    registered rule ``rule`` (:data:`prune_core.rules.RULES`)."""
    from .rules import get_rule

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


# --- from unit masks to the next layer's incoming rows / channels --------------------------------

def _flat_layers(model) -> list:
    found = []
    for layer in model.layers:
        if hasattr(layer, "layers") and not hasattr(layer, "kernel"):
            found.extend(_flat_layers(layer))
        else:
            found.append(layer)
    return found


def incoming_masks(model, units: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """{next prunable layer: kernel mask} removing the inputs fed by removed units.

    Follows a chain of layers in model order: Dense → Dense (rows), Conv2D → Conv2D (input channels,
    across pooling / dropout / batch norm), Conv2D → Flatten → Dense (channels-last flat positions,
    index (h·W + w)·C + c). Where the path cannot be followed (another layer type in between, shapes
    that do not match) nothing is added: a removed unit with zero kernel and bias still outputs
    activation(0), which is 0 for ReLU/linear/tanh.
    """
    result: dict[str, np.ndarray] = {}
    layers = _flat_layers(model)
    for i, layer in enumerate(layers):
        if layer.name not in units:
            continue
        channel = np.asarray(units[layer.name], dtype=bool)
        if getattr(layer, "data_format", "channels_last") != "channels_last":
            continue
        flattened = False
        for nxt in layers[i + 1:]:
            kind = type(nxt).__name__
            if kind in ("Dense", "Conv2D"):
                kernel_shape = tuple(nxt.kernel.shape)
                n_in = kernel_shape[-2]
                if kind == "Dense" and flattened and n_in % channel.size == 0:
                    rows = np.tile(channel, n_in // channel.size)
                elif not flattened and n_in == channel.size:
                    rows = channel
                else:
                    break
                shape = (1,) * (len(kernel_shape) - 2) + (n_in, 1)
                mask = np.broadcast_to(rows.reshape(shape), kernel_shape)
                result[nxt.name] = result[nxt.name] & mask if nxt.name in result else mask.copy()
                break
            if kind == "Flatten":
                flattened = True
            elif kind not in PASS_THROUGH and kind != "InputLayer":
                break
    return result


def effective_masks(model, mask_set: MaskSet) -> MaskSet:
    """The MaskSet with removed units' incoming rows/channels in the next layer also masked.

    Its sparsities are what ``apply_masks`` really produces.
    """
    kernels = {n: m.copy() for n, m in mask_set.kernels.items()}
    if mask_set.units:
        shapes = {layer.name: tuple(layer.kernel.shape) for layer in prunable_layers(model)}
        for name, rows in incoming_masks(model, mask_set.units).items():
            base = kernels.get(name, np.ones(shapes[name], dtype=bool))
            kernels[name] = base & rows
        kernels = {n: kernels[n] for n in shapes if n in kernels}  # model order
    return MaskSet(kernels=kernels, units=dict(mask_set.units), thresholds=dict(mask_set.thresholds),
                   granularity=mask_set.granularity)


def copy_model(model):
    """A new model with the same architecture and weights (the caller's model is not touched)."""
    clone = type(model).from_config(model.get_config())
    clone.set_weights(model.get_weights())
    return clone


def _bias_masks(model, mask_set: MaskSet) -> dict[str, np.ndarray]:
    return {layer.name: np.asarray(mask_set.units[layer.name], dtype=bool) for layer in prunable_layers(model)
            if layer.name in mask_set.units and getattr(layer, "bias", None) is not None}


def _check_shapes(model, kernels: Mapping[str, np.ndarray]) -> None:
    shapes = {layer.name: tuple(layer.kernel.shape) for layer in prunable_layers(model)}
    for name, mask in kernels.items():
        if name not in shapes:
            raise ValueError(f"The masks name a layer {name!r} that is not a prunable layer of this model.")
        if tuple(np.shape(mask)) != shapes[name]:
            raise ValueError(f"Mask for {name!r} has shape {np.shape(mask)}, the kernel {shapes[name]}.")


def zero_masked(model, mask_set: MaskSet) -> None:
    """Zero, in place, the masked kernel entries and removed units' biases of ``model``."""
    _check_shapes(model, mask_set.kernels)
    biases = _bias_masks(model, mask_set)
    for layer in prunable_layers(model):
        if layer.name in mask_set.kernels:
            layer.kernel.assign(np.asarray(layer.kernel.numpy()) * mask_set.kernels[layer.name])
        if layer.name in biases:
            layer.bias.assign(np.asarray(layer.bias.numpy()) * biases[layer.name])


def apply_masks(model, mask_set: MaskSet):
    """A NEW model with masked kernel entries set to zero; the caller's model is untouched.

    Removed units (unit granularity) also lose their bias and the next layer's incoming
    rows/channels, so the result computes exactly what the physically smaller network would.
    """
    masked = copy_model(model)
    zero_masked(masked, effective_masks(model, mask_set))
    return masked
