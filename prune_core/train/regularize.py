"""L1 regularization for pruning: an L1 penalty λ·Σ|w| on every prunable kernel, and what it piles up at zero.

Keras 3 ignores a ``kernel_regularizer`` assigned after a layer is built, so :func:`with_l1` rebuilds the model from
its config with the regularizer in each kernel layer's config and copies the weights over; every copy made on the
way (``masks.copy_model``) keeps it, and :func:`without_l1` strips it, so a saved model carries no training-only
settings. The reported training loss then includes the penalty.
"""

from __future__ import annotations

import numpy as np

from ..graph import kernels, prunable_layers, PRUNABLE_TYPES
from ..methods.thresholds import check_non_negative

NEAR_ZERO = 1e-3


def check_l1(l1) -> float:
    """λ as a float >= 0 (finite); ValueError otherwise."""
    return check_non_negative(l1, "the L1 strength λ")


def _set_kernel_regularizer(config, serialized) -> None:
    """In place: every prunable layer's config (nested models included) gets ``serialized`` as the regularizer
    of its prunable kernel (``pointwise_regularizer`` for SeparableConv)."""
    if isinstance(config, dict):
        inner = config.get("config")
        if config.get("class_name") in PRUNABLE_TYPES and isinstance(inner, dict):
            key = "pointwise_regularizer" if "pointwise_regularizer" in inner else "kernel_regularizer"
            inner[key] = serialized
        for value in config.values():
            _set_kernel_regularizer(value, serialized)
    elif isinstance(config, list):
        for value in config:
            _set_kernel_regularizer(value, serialized)


def with_l1(model, l1: float):
    """A NEW model, same architecture and weights, with ``keras.regularizers.L1(l1)`` on every kernel
    (``l1 == 0``: no regularizer). Works where assigning ``layer.kernel_regularizer`` after build does not."""
    import keras

    l1 = check_l1(l1)
    config = model.get_config()
    _set_kernel_regularizer(config, keras.regularizers.serialize(keras.regularizers.L1(l1)) if l1 else None)
    rebuilt = type(model).from_config(config)
    rebuilt.set_weights(model.get_weights())
    return rebuilt


def without_l1(model):
    """A NEW model without kernel regularizers (what to keep and save after L1 training)."""
    return with_l1(model, 0.0)


def has_l1(model) -> bool:
    """True when some prunable layer carries a regularizer on its prunable kernel."""
    return any(getattr(layer, "kernel_regularizer", None) is not None
               or getattr(layer, "pointwise_regularizer", None) is not None for layer in prunable_layers(model))


def near_zero_fraction(model, tol: float = NEAR_ZERO) -> float:
    """Share of the prunable kernels' entries with |w| < ``tol`` (what L1 training piles up at zero)."""
    arrays = list(kernels(model).values())
    size = sum(a.size for a in arrays)
    return float(sum(int(np.count_nonzero(np.abs(a) < tol)) for a in arrays) / size) if size else 0.0
