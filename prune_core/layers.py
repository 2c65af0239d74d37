"""Which layers can be pruned, and their kernels as numpy arrays keyed by layer name.

A thin face over :mod:`prune_core.graph`, which holds the one walker and the one table of layer kinds:
prunable kernels are Dense, Conv1D/2D/3D (and transposed), and SeparableConv's pointwise kernel, in
topological order, nested models walked into. Biases are never scored. Units are removed by dependency
group (``graph.dependency_groups``); a group that reaches the model output is never unit-pruned.
"""

from __future__ import annotations

from .graph import KINDS, kernel_variable, kernels, prunable_layers

__all__ = ["PRUNABLE_TYPES", "kernel_variable", "kernels", "output_layer_name", "prunable_layers"]
PRUNABLE_TYPES = tuple(name for name, role in KINDS.items() if role == "prunable")


def output_layer_name(model) -> str | None:
    """Name of the last prunable layer (the classifier: its units are the model's outputs)."""
    layers = prunable_layers(model)
    return layers[-1].name if layers else None
