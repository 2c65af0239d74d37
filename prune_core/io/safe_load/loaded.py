"""Keras' own load (``safe_mode=True``, ``compile=False``; any failure becomes a :class:`ModelFileError`) and the
checks on the loaded model: one input and one output, finite weights, something to prune."""

from __future__ import annotations

import numpy as np

from ...graph import layers, prunable_layers
from .errors import _detail, _short, ModelFileError


def check_loaded(model, label: str) -> None:
    """Refuse models the app cannot use: several inputs/outputs, non-finite weights, nothing to prune."""
    inputs = getattr(model, "inputs", None)
    outputs = getattr(model, "outputs", None)
    if not inputs or not outputs:
        raise ModelFileError(f"The model in {label} has no defined input shape (it was saved before being built). "
                             "Build it (e.g. start it with keras.Input(shape=...)), save again and upload that file.")
    if len(inputs) != 1 or len(outputs) != 1:
        raise ModelFileError(f"The model in {label} has {len(inputs)} inputs and {len(outputs)} outputs; this app "
                             "works with one input and one output (a classifier).")
    for layer in _all_layers(model):
        for weight in layer.weights:
            values = np.asarray(weight)
            if not np.issubdtype(values.dtype, np.floating):
                continue
            nan, inf = int(np.isnan(values).sum()), int(np.isinf(values).sum())
            if nan or inf:
                what = " and ".join(x for x in (f"{nan:,} NaN" if nan else "", f"{inf:,} infinite" if inf else "") if x)
                part = _short(getattr(weight, "path", weight.name), 80)
                raise ModelFileError(
                    f"The model in {label} has {what} value{'s' * (nan + inf > 1)} in layer "
                    f"'{_short(layer.name, 40)}' (weight {part}). Training diverged or the file is damaged; "
                    "pruning needs finite weights. Retrain (e.g. with a lower learning rate) and upload again.")
    if not prunable_layers(model):
        kinds = sorted({type(layer).__name__ for layer in _all_layers(model)})
        raise ModelFileError(
            f"The model in {label} has no Dense or Conv2D layer, so there is nothing to prune (it has: "
            f"{', '.join(kinds) or 'no layers'}). Upload a model with Dense, Conv1D/2D/3D or SeparableConv layers.")


def _all_layers(model) -> list:
    """Every layer, nested models walked into (the one walker, ``graph.layers``)."""
    return layers(model)


def _keras_load(path: str, label: str):
    """keras.saving.load_model with safe_mode=True, compile=False; any failure becomes a ModelFileError."""
    import keras

    try:
        return keras.saving.load_model(path, safe_mode=True, compile=False)
    except ModelFileError:
        raise
    except MemoryError:
        raise
    except Exception as exc:  # Keras raises many types for a bad file; the message is what matters
        if type(exc).__name__ == "ResourceExhaustedError" or "OOM when allocating" in str(exc):
            raise MemoryError(_detail(exc)) from None
        raise ModelFileError(
            f"Keras could not build the model in {label} ({_detail(exc)}). The file passed the safety checks but "
            "does not load with this Keras version (3.x); save it again with Keras 3 and upload the new file."
        ) from None
