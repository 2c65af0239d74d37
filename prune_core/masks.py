"""Masks from scores and thresholds; applying them; keeping pruned weights at zero while training.

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
    """({layer: keep mask}, {layer: threshold}) for any score arrays (kernels or unit vectors).

    The sparsity rule uses the exact-count selection (per layer, or over all layers for global scope).
    """
    th.check_rule(rule)
    th.check_scope(scope)
    if rule != "sparsity":
        thresholds = th.thresholds_for(scores, rule, value, scope=scope, weights=weights)
        return {n: keep_mask(s, thresholds[n]) for n, s in scores.items()}, thresholds
    if not scores:
        return {}, {}
    if scope == "global":
        if isinstance(value, Mapping):
            raise ValueError("Global scope takes one value for all layers, not one per layer.")
        masks, cut = th.global_sparsity_select(scores, value)
        return masks, {n: cut for n in scores}
    values = th._per_layer_value(value, list(scores))
    selected = {n: th.sparsity_select(s, values[n]) for n, s in scores.items()}
    return {n: m for n, (m, _) in selected.items()}, {n: t for n, (_, t) in selected.items()}


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


# --- histograms that follow the threshold without re-binning -------------------------------------

@dataclass(frozen=True)
class Histogram:
    """Bin ``edges`` (bins + 1) and per-bin counts of kept and pruned entries."""

    edges: np.ndarray
    kept: np.ndarray
    pruned: np.ndarray


def score_histograms(scores: Mapping[str, np.ndarray], bins: int = 60) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """{layer: (counts, edges)}: np.histogram of each layer's scores over [min, max], ``bins`` bins.

    Compute once per score set; :func:`split_histograms` then splits the counts for any threshold.
    """
    result = {}
    for name, s in scores.items():
        s = np.asarray(s)
        lo, hi = (float(np.min(s)), float(np.max(s))) if s.size else (0.0, 1.0)
        counts, edges = np.histogram(s, bins=bins, range=(lo, hi if hi > lo else lo + 1.0))
        result[name] = (counts, edges)
    return result


def split_histogram(counts: np.ndarray, edges: np.ndarray, threshold: float, pruned: int) -> Histogram:
    """Split binned counts into kept / pruned, given the threshold and how many entries are pruned.

    Every rule prunes the lowest scores (all scores below the threshold, plus tied ones at the
    cut for exact counts), so bins left of the threshold's bin are pruned, bins right of it kept,
    and the threshold's bin holds the rest of the pruned entries.

    >>> h = split_histogram(np.array([2, 3, 5]), np.array([0., 1., 2., 3.]), 1.5, 4)
    >>> h.pruned.tolist(), h.kept.tolist()
    ([2, 2, 0], [0, 1, 5])
    """
    counts = np.asarray(counts)
    b = int(np.clip(np.searchsorted(edges, threshold, side="right") - 1, 0, counts.size - 1))
    pruned_counts = np.zeros_like(counts)
    pruned_counts[:b] = counts[:b]
    pruned_counts[b] = np.clip(pruned - counts[:b].sum(), 0, counts[b])
    return Histogram(edges=edges, kept=counts - pruned_counts, pruned=pruned_counts)


def split_histograms(histograms: Mapping[str, tuple[np.ndarray, np.ndarray]], mask_set: "MaskSet") -> dict[str, Histogram]:
    """{layer: Histogram} for a MaskSet built from the scores behind ``histograms`` (unit masks for
    unit granularity). O(bins) per layer: nothing is re-binned when the threshold moves."""
    source = mask_set.units if mask_set.granularity == "unit" else mask_set.kernels
    result = {}
    for name, (counts, edges) in histograms.items():
        if name in source:
            mask = source[name]
            pruned = int(mask.size - np.count_nonzero(mask))
            result[name] = split_histogram(counts, edges, mask_set.thresholds[name], pruned)
    return result


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


# --- keeping zeros at zero while training ---------------------------------------------------------

_ENFORCER_CLASS = None


def _enforcer_class():
    """Build the Keras callback class on first use (keeps ``import prune_core.masks`` free of TF)."""
    global _ENFORCER_CLASS
    if _ENFORCER_CLASS is not None:
        return _ENFORCER_CLASS
    import keras

    class MaskEnforcer(keras.callbacks.Callback):
        """Re-applies a MaskSet (kernels and removed units' biases) to the variables after every batch.

        In Keras 3 a ``kernel_constraint`` set after build does nothing, so the mask is multiplied
        into the variables themselves (at train begin, after each batch, at train end). Pass the
        effective masks (:func:`effective_masks`) for unit pruning.
        """

        def __init__(self, model, mask_set: MaskSet):
            super().__init__()
            _check_shapes(model, mask_set.kernels)
            biases = _bias_masks(model, mask_set)
            self.pairs = []
            for layer in prunable_layers(model):
                if layer.name in mask_set.kernels:
                    self.pairs.append((layer.kernel, mask_set.kernels[layer.name]))
                if layer.name in biases:
                    self.pairs.append((layer.bias, biases[layer.name]))
            self.pairs = [(v, keras.ops.convert_to_tensor(np.asarray(m, dtype=v.dtype))) for v, m in self.pairs]

        def enforce(self):
            for variable, mask in self.pairs:
                variable.assign(variable * mask)

        def on_train_begin(self, logs=None):
            self.enforce()

        def on_train_batch_end(self, batch, logs=None):
            self.enforce()

        def on_train_end(self, logs=None):
            self.enforce()

    _ENFORCER_CLASS = MaskEnforcer
    return MaskEnforcer


def __getattr__(name):  # ``masks.MaskEnforcer(model, mask_set)`` — the class, created lazily
    if name == "MaskEnforcer":
        return _enforcer_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def fine_tune(model, mask_set: MaskSet, x, y, *, epochs: int = 1, batch_size: int = 32,
              learning_rate: float = 1e-3, seed: int = 0, progress=None, validation=None, callbacks: list | None = None):
    """Masked fine-tuning: returns (new masked model, models.TrainResult); pruned weights stay 0.

    The caller's model is not touched. Unit masks are expanded to the next layer's inputs first.
    ``callbacks`` (Keras callbacks, e.g. a per-epoch logger) run after the mask enforcer.
    """
    from .models import train

    effective = effective_masks(model, mask_set)
    tuned = apply_masks(model, effective)
    result = train(tuned, x, y, epochs=epochs, batch_size=batch_size, learning_rate=learning_rate, seed=seed,
                   validation=validation, progress=progress,
                   callbacks=[_enforcer_class()(tuned, effective), *(callbacks or [])])
    return tuned, result
