"""The model as a dependency graph: the one table of layer kinds (``kinds``), the walker (``walk``),
group types and unit masks (``units``), the ``DependencyGraph`` built once per model (``dependency``),
and surgery (the physically smaller model). Imports nothing else of prune_core.

>>> from prune_core import graph
>>> sorted(k for k, role in graph.KINDS.items() if role == "prunable")[:3]
['Conv1D', 'Conv1DTranspose', 'Conv2D']
"""

from .dependency import (DependencyGraph, clear_cache, dependency_graph, dependency_groups, group_scores, kernels,
                         layers, output_layer_name, output_layer_names, prunable_layers, weight_masks, weight_targets,
                         zero_units)
from .heads import AttentionLayer, attention_layers, compact_heads, head_scores, head_weight_masks
from .targets import KERNEL_WEIGHTS, Target, einsum_matrix_shape
from .kinds import KINDS, PRUNABLE_TYPES, kernel_variable, kind
from .units import Group, Member, check_removable, resolve_units, round_units

__all__ = ["KINDS", "PRUNABLE_TYPES", "DependencyGraph", "Group", "Member", "check_removable", "clear_cache",
           "dependency_graph", "dependency_groups", "group_scores", "kernel_variable", "kernels", "kind", "layers",
           "output_layer_name", "output_layer_names", "prunable_layers", "resolve_units", "round_units",
           "weight_masks", "weight_targets", "zero_units", "KERNEL_WEIGHTS", "Target",
           "einsum_matrix_shape", "AttentionLayer", "attention_layers", "compact_heads", "head_scores",
           "head_weight_masks"]
