"""Every kernel a weight-granularity run scores — a *weight target* — wherever it sits in the model.

A target is one kernel-like variable: a Dense/Conv kernel (SeparableConv's pointwise kernel), an
EinsumDense kernel (so MultiHeadAttention's query/key/value/output projections), an Embedding table, a
GRU/LSTM/SimpleRNN cell's ``kernel`` and ``recurrent_kernel``; in the layer graph or nested inside any
layer (MultiHeadAttention, RNN, Bidirectional, TimeDistributed, a subclassed layer). Biases,
normalization parameters and depthwise kernels are not targets (depthwise kernels go with their channel
in unit mode).

Keys: a graph layer that is itself prunable (Dense, Conv*) keeps its name as key, as unit mode knows it;
a nested one is keyed by its path below the graph layer (``mha/query``, ``block/dense``); a top-level
EinsumDense or Embedding by its name; a recurrent cell's two kernels by the RNN's path and the weight
(``gru/kernel``, ``gru/recurrent_kernel``, ``bi/forward_gru/kernel``).

**Input (contraction) axis**, along which N:M and block rules run, per kind: Dense and recurrent kernels
axis 0 (rows are inputs); Conv kernels the input-channel axis (-2; -1 for transposed convolutions);
Embedding the vocabulary axis (0: the input is a one-hot token); EinsumDense the kernel axes its
equation contracts with the input (``matrix_shape`` views the kernel as (inputs, outputs)).

>>> import keras
>>> from prune_core.graph import weight_targets
>>> inputs = keras.Input((5, 8))
>>> x = keras.layers.MultiHeadAttention(num_heads=2, key_dim=4, name="mha")(inputs, inputs)
>>> x = keras.layers.GRU(3, name="gru")(x)
>>> model = keras.Model(inputs, keras.layers.Dense(2, name="out")(x))
>>> [(t.key, t.shape) for t in weight_targets(model)]  # doctest: +NORMALIZE_WHITESPACE
[('mha/query', (8, 2, 4)), ('mha/key', (8, 2, 4)), ('mha/value', (8, 2, 4)),
 ('mha/attention_output', (2, 4, 8)), ('gru/kernel', (8, 9)), ('gru/recurrent_kernel', (3, 9)), ('out', (3, 2))]
>>> weight_targets(model)[3].matrix_shape
(8, 8)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .kinds import PRUNABLE_TYPES, kernel_variable, kind, short_name

KERNEL_WEIGHTS: dict[str, tuple[str, ...]] = {
    **{name: ("kernel",) for name in PRUNABLE_TYPES},
    "SeparableConv1D": ("pointwise_kernel",), "SeparableConv2D": ("pointwise_kernel",),
    "EinsumDense": ("kernel",),
    "Embedding": ("embeddings",),
    "GRUCell": ("kernel", "recurrent_kernel"), "LSTMCell": ("kernel", "recurrent_kernel"),
    "SimpleRNNCell": ("kernel", "recurrent_kernel"),
}
"""Keras class name → the weights of that class that are targets (Keras' own classes only)."""

INPUT_AXIS_WORDS: dict[str, str] = {
    "Dense": "input rows (axis 0)",
    "Conv": "input channels (axis -2; -1 for transposed convolutions)",
    "EinsumDense": "the axes its equation contracts with the input",
    "Embedding": "the vocabulary (axis 0: the input is a one-hot token)",
    "recurrent": "input rows of kernel and of recurrent_kernel (axis 0)",
}
"""Per kind, along which axis N:M and block rules group weights (for the page and the docs)."""


@dataclass(frozen=True, eq=False)
class Target:
    """One kernel-like variable: its ``key``, the ``layer`` that owns it, the ``weight`` name in that layer
    and the graph layer it sits in (``top``, a name)."""

    key: str
    layer: object
    weight: str
    top: str

    @property
    def variable(self):
        """The Keras variable (never a computed tensor: a LoRA-enabled Dense is not a target)."""
        if kind(self.layer) == "prunable":
            return kernel_variable(self.layer)
        return next(v for v in self.layer.weights if short_name(v) == self.weight)

    @property
    def kind(self) -> str:
        """The owning layer's Keras class name ("Dense", "EinsumDense", "GRUCell", ...)."""
        return type(self.layer).__name__

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(int(d) for d in self.variable.shape)

    @property
    def matrix_shape(self) -> tuple[int, ...] | None:
        """(inputs, outputs) to view the kernel with for N:M and block rules when its input axis is not the
        usual one (EinsumDense); None where the usual layout holds (input axis -2)."""
        if self.kind != "EinsumDense":
            return None
        return einsum_matrix_shape(self.layer.equation, self.shape)

    def value(self) -> np.ndarray:
        """The kernel as float32 numpy."""
        return np.asarray(self.variable.numpy(), dtype=np.float32)


def einsum_matrix_shape(equation: str, shape: tuple[int, ...]) -> tuple[int, int] | None:
    """(inputs, outputs) of an EinsumDense kernel: the product of the axes the equation contracts with the
    input, then of the rest — when the contracted axes come first in the kernel (as in every
    MultiHeadAttention projection); None otherwise.

    >>> einsum_matrix_shape("abc,cde->abde", (64, 4, 16)), einsum_matrix_shape("abcd,cde->abe", (4, 16, 64))
    ((64, 64), (64, 64))
    >>> einsum_matrix_shape("ab,bc->ac", (8, 3)), einsum_matrix_shape("abc,dc->abd", (5, 8)) is None
    ((8, 3), True)
    """
    inputs, rest = equation.replace(" ", "").split(",")
    kernel, output = rest.split("->")
    contracted = [i for i, letter in enumerate(kernel) if letter in inputs and letter not in output]
    if not contracted or contracted != list(range(len(contracted))):
        return None
    n_in = int(np.prod(shape[:len(contracted)]))
    return n_in, int(np.prod(shape)) // max(n_in, 1)


def _children(layer) -> list:
    """The layers directly inside ``layer`` (an MHA's projections, an RNN's cell, Bidirectional's two
    layers, a subclassed layer's own sub-layers)."""
    flatten = getattr(layer, "_flatten_layers", None)
    return list(flatten(include_self=False, recursive=False)) if flatten is not None else []


def _own(layer) -> bool:
    return type(layer).__module__.startswith("keras.")


def _leaf_targets(layer, path: str, top: str) -> list[Target]:
    """The targets ``layer`` itself owns, keyed under ``path``."""
    cls = type(layer).__name__
    if not _own(layer) or cls not in KERNEL_WEIGHTS or getattr(layer, "lora_enabled", False):
        return []
    names = {short_name(v) for v in layer.weights}
    weights = [w for w in KERNEL_WEIGHTS[cls] if w in names]
    if len(weights) == 1 and len(KERNEL_WEIGHTS[cls]) == 1:
        return [Target(path, layer, weights[0], top)]
    return [Target(f"{path}/{w}", layer, w, top) for w in weights]


def _nested_targets(layer, path: str, top: str, seen: set[int]) -> list[Target]:
    found = []
    for child in _children(layer):
        if id(child) in seen:
            continue
        seen.add(id(child))
        is_cell = child is getattr(layer, "cell", None)  # an RNN's cell: keyed by the RNN's path
        child_path = path if is_cell else f"{path}/{child.name}"
        found += _leaf_targets(child, child_path, top)
        found += _nested_targets(child, child_path, top, seen)
    return found


def targets_of(graph_layers) -> list[Target]:
    """Every target of the given graph layers (in their order, nested ones after their graph layer's own).
    ValueError when two targets would share a key."""
    found: list[Target] = []
    seen: set[int] = set()
    for layer in graph_layers:
        if id(layer) in seen:
            continue
        seen.add(id(layer))
        if kind(layer) == "prunable" and not getattr(layer, "lora_enabled", False):
            found.append(Target(layer.name, layer, short_name(kernel_variable(layer)), layer.name))
            continue
        found += _leaf_targets(layer, layer.name, layer.name)
        found += _nested_targets(layer, layer.name, layer.name, seen)
    keys = [t.key for t in found]
    twice = sorted({k for k in keys if keys.count(k) > 1})
    if twice:
        raise ValueError(f"Two kernels of this model share the name {twice[0]!r}; rename a layer to prune it.")
    return found
