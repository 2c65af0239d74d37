"""Training with masks: pruned weights held at exactly zero, L1 regularization, per-epoch logging.

- :class:`MaskEnforcer` (a Keras callback) re-applies a MaskSet after every batch; :func:`fine_tune`
  trains a masked copy with it. In Keras 3 a ``kernel_constraint`` set after build does nothing, so the
  mask is multiplied into the variables themselves.
- :func:`with_l1` / :func:`without_l1`: an L1 penalty λ·Σ|w| on every prunable kernel. Keras 3 ignores a
  ``kernel_regularizer`` assigned after a layer is built, so the model is rebuilt from its config with
  the regularizer in each kernel layer's config and the weights copied over; every copy made on the way
  (``masks.copy_model``) keeps it, and :func:`without_l1` strips it, so a saved model carries no
  training-only settings. The reported training loss then includes the penalty.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from ..graph import kernels, prunable_layers, PRUNABLE_TYPES
from ..io.data import as_arrays
from ..methods.masks import apply_masks, effective_masks, masked_variables, MaskSet
from ..methods.thresholds import check_non_negative
from .models import train

NEAR_ZERO = 1e-3
OnEpoch = Callable[[int, dict], None]


_ENFORCER_CLASS = None


def _enforcer_class():
    """Build the Keras callback class on first use (keeps ``import prune_core.methods.masks`` free of TF)."""
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
            self.pairs = [(v, keras.ops.convert_to_tensor(np.asarray(m, dtype=v.dtype)))
                          for v, m in masked_variables(model, mask_set)]

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


def __getattr__(name):  # ``training.MaskEnforcer(model, mask_set)`` — the class, created lazily
    if name == "MaskEnforcer":
        return _enforcer_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def fine_tune(model, mask_set: MaskSet, x, y, *, epochs: int = 1, batch_size: int = 32,
              learning_rate: float = 1e-3, seed: int = 0, progress=None, validation=None, callbacks: list | None = None):
    """Masked fine-tuning: returns (new masked model, models.TrainResult); pruned weights stay 0.

    The caller's model is not touched. Unit masks are expanded to the next layer's inputs first.
    ``callbacks`` (Keras callbacks, e.g. a per-epoch logger) run after the mask enforcer.
    """
    effective = effective_masks(model, mask_set)
    tuned = apply_masks(model, effective)
    result = train(tuned, x, y, epochs=epochs, batch_size=batch_size, learning_rate=learning_rate, seed=seed,
                   validation=validation, progress=progress,
                   callbacks=[_enforcer_class()(tuned, effective), *(callbacks or [])])
    return tuned, result


# --- L1 -------------------------------------------------------------------------------------------

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


def epoch_logger(on_epoch: OnEpoch | None, extra: dict | None = None, offset: int = 0):
    """A Keras callback calling ``on_epoch(offset + epoch, logs as floats + extra)`` after every epoch."""
    import keras

    class _EpochLog(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if on_epoch:
                on_epoch(offset + epoch, {**{k: float(v) for k, v in (logs or {}).items()}, **(extra or {})})

    return _EpochLog()


def train_model(model, data, *, epochs: int = 1, batch_size: int = 32, learning_rate: float = 1e-3, seed: int = 0,
                l1: float = 0.0, progress=None, on_epoch: OnEpoch | None = None):
    """Train a COPY of ``model`` (optionally with the L1 penalty λ = ``l1``): (new model, TrainResult).

    ``data`` is a Dataset or (x_train, y_train, x_test, y_test); the test split is the validation.
    The returned model has no regularizer attached. The Model page trains its baselines with it.
    """
    x, y, x_test, y_test = as_arrays(data)
    trained = with_l1(model, l1)
    result = train(trained, x, y, epochs=epochs, batch_size=batch_size, learning_rate=learning_rate, seed=seed,
                   validation=(x_test, y_test), progress=progress, callbacks=[epoch_logger(on_epoch)])
    return without_l1(trained), result
