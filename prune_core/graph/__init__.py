"""The model as a dependency graph: the one table of layer kinds, the walker, dependency groups, unit masks,
and surgery (the physically smaller model). Imports nothing else of prune_core.

>>> from prune_core import graph
>>> sorted(k for k, role in graph.KINDS.items() if role == "prunable")[:3]
['Conv1D', 'Conv1DTranspose', 'Conv2D']
"""

from .dependency import (KINDS, PRUNABLE_TYPES, Group, Member, check_removable, dependency_groups, group_scores,
                         kernel_variable, kernels, kind, layers, output_layer_name, output_layer_names,
                         prunable_layers, resolve_units, round_units, weight_masks, zero_units)

__all__ = ["KINDS", "PRUNABLE_TYPES", "Group", "Member", "check_removable", "dependency_groups", "group_scores",
           "kernel_variable", "kernels", "kind", "layers", "output_layer_name", "output_layer_names",
           "prunable_layers", "resolve_units", "round_units", "weight_masks", "zero_units"]
