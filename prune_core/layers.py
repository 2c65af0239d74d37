"""Which layers can be pruned, and their kernels as numpy arrays keyed by layer name.

Prunable: Dense and Conv2D kernels. Biases are never scored. The last prunable layer
(the classifier) may lose weights but never whole units.
"""

from __future__ import annotations

import numpy as np

PRUNABLE_TYPES = ("Dense", "Conv2D")


def prunable_layers(model) -> list:
    """Dense and Conv2D layers with a kernel, in model order (nested models flattened)."""
    found = []
    for layer in model.layers:
        if hasattr(layer, "layers") and not hasattr(layer, "kernel"):
            found.extend(prunable_layers(layer))
        elif type(layer).__name__ in PRUNABLE_TYPES and getattr(layer, "kernel", None) is not None:
            found.append(layer)
    return found


def output_layer_name(model) -> str | None:
    """Name of the last prunable layer (its units are the model's outputs: never neuron-pruned)."""
    layers = prunable_layers(model)
    return layers[-1].name if layers else None


def kernels(model) -> dict[str, np.ndarray]:
    """{layer name: kernel as float32 numpy} for every prunable layer, in model order."""
    return {layer.name: np.asarray(layer.kernel.numpy(), dtype=np.float32) for layer in prunable_layers(model)}
