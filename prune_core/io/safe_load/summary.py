"""What the app shows of a loaded model: one row per layer, and its headline facts."""

from __future__ import annotations

import numpy as np

from ...graph import layers, prunable_layers, PRUNABLE_TYPES


SUMMARY_COLUMNS = ("layer", "type", "output shape", "params", "prunable", "what pruning does")


def _shape(shape) -> str:
    if shape is None:
        return ""
    try:
        return "(" + ", ".join("None" if d is None else str(int(d)) for d in shape) + ")"
    except TypeError:
        return str(shape)


def model_summary(model):
    """One row per layer: layer, type, output shape, params, prunable, and what pruning does to it.

    Dense and Conv2D kernels are prunable; every other layer (and every bias) is kept as is.
    """
    import pandas as pd

    prunable = {layer.name for layer in prunable_layers(model)}
    rows = []
    for layer in layers(model):
        if type(layer).__name__ == "InputLayer":
            continue
        try:
            out = _shape(layer.output.shape)
        except Exception:  # layers inside a nested model may have no single symbolic output
            out = ""
        params = int(sum(int(np.prod(w.shape)) for w in layer.weights))
        is_prunable = layer.name in prunable
        action = "kernel weights pruned (bias kept)" if is_prunable else "kept as is"
        rows.append({"layer": layer.name, "type": type(layer).__name__, "output shape": out, "params": params,
                     "prunable": is_prunable, "what pruning does": action})
    return pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))


def model_facts(model) -> dict:
    """Headline facts: input shape (without batch), output units, total params, prunable layer names,
    the final activation if it is a known one."""
    in_shape = tuple(int(d) for d in model.inputs[0].shape[1:] if d is not None)
    out_shape = model.outputs[0].shape
    units = int(out_shape[-1]) if len(out_shape) >= 2 and out_shape[-1] is not None else 0
    last = prunable_layers(model)[-1] if prunable_layers(model) else None
    activation = getattr(getattr(last, "activation", None), "__name__", None) if last is not None else None
    return {"input_shape": in_shape, "output_units": units,
            "params": int(sum(int(np.prod(w.shape)) for w in model.weights)),
            "prunable": [layer.name for layer in prunable_layers(model)],
            "prunable_types": PRUNABLE_TYPES, "final_activation": activation}
