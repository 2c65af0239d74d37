"""Attention heads as dependency groups: find every MultiHeadAttention, mask heads, score them, and rebuild
the model with fewer heads.

A head ``h`` of a MultiHeadAttention is the set of weight slices that go together (Keras' EinsumDense
layouts): ``[:, h, :]`` of the query, key and value kernels (D, heads, key_dim / value_dim) and of the gate
kernel when ``use_gate``; ``[h, :]`` of their biases (heads, dim); ``[h, :, :]`` of the output kernel
(heads, value_dim, out). The output bias belongs to no head. Zeroing a head's slices makes its value (and
so its contribution) exactly zero, so the masked model computes what the model with that head removed
computes (the invariant the tests check).

Head masks are ``{mha layer name: bool vector of num_heads}`` (True = kept). Every layer keeps at least one
head: a vector with no True keeps its best-scored head (the units' rule in :mod:`prune_core.pruning`).

Masks are expressed with the weight targets' keys (:mod:`prune_core.graph.targets`): kernels under
``mha/query``, ``mha/key``, ``mha/value``, ``mha/attention_output`` (``mha/gate``), and the q/k/v(/gate)
biases in ``extra`` keyed by the same target path (``{"mha/query": {"bias": mask}}``).

>>> import keras, numpy as np
>>> inputs = keras.Input((5, 8))
>>> x = keras.layers.MultiHeadAttention(num_heads=2, key_dim=4, name="mha")(inputs, inputs)
>>> model = keras.Model(inputs, keras.layers.Dense(2, name="out")(x))
>>> [(a.name, a.num_heads, a.key_dim, a.value_dim) for a in attention_layers(model).values()]
[('mha', 2, 4, 4)]
>>> kernels, extra = head_weight_masks(model, {"mha": np.array([True, False])})
>>> sum(int((~m).sum()) for m in kernels.values()) + sum(int((~m).sum()) for w in extra.values() for m in w.values())
140
>>> compact_heads(model, {"mha": np.array([True, False])}).get_layer("mha").num_heads
1
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np

from .dependency import layers as graph_layers, weight_targets

# role → (the MultiHeadAttention attribute holding the EinsumDense, heads axis of its kernel, of its bias or
# None when the bias is not per head)
MEMBERS: dict[str, tuple[str, int, int | None]] = {
    "query": ("_query_dense", 1, 0),
    "key": ("_key_dense", 1, 0),
    "value": ("_value_dense", 1, 0),
    "gate": ("_gate_dense", 1, 0),
    "attention_output": ("_output_dense", 0, None),
}


@dataclass(frozen=True, eq=False)
class Member:
    """One EinsumDense of a head group: its ``role`` ("query", ...), weight-target ``key``, the ``layer``, and
    the heads axis of its kernel and bias (None: the bias is not per head)."""

    role: str
    key: str
    layer: object
    kernel_axis: int
    bias_axis: int | None

    def variable(self, short: str):
        return next((v for v in self.layer.weights if str(v.name).rsplit("/", 1)[-1] == short), None)


@dataclass(frozen=True, eq=False)
class AttentionLayer:
    """A MultiHeadAttention of the layer graph: ``name``, ``layer``, ``num_heads``, ``key_dim``,
    ``value_dim`` and its head ``members``."""

    name: str
    layer: object
    num_heads: int
    key_dim: int
    value_dim: int
    members: tuple[Member, ...]

    def head_params(self) -> int:
        """Parameters one head holds (kernel slices, per-head biases)."""
        total = 0
        for m in self.members:
            total += int(np.prod(m.variable("kernel").shape)) // self.num_heads
            bias = m.variable("bias")
            if m.bias_axis is not None and bias is not None:
                total += int(np.prod(bias.shape)) // self.num_heads
        return total


def _is_mha(layer) -> bool:
    import keras
    return isinstance(layer, keras.layers.MultiHeadAttention)


def attention_layers(model) -> dict[str, AttentionLayer]:
    """{name: AttentionLayer} for every built MultiHeadAttention in the layer graph (nested
    Functional/Sequential models walked into), in topological order; {} for a model without one."""
    keys = {id(t.layer): t.key for t in weight_targets(model)}
    found = {}
    for layer in graph_layers(model):
        if not _is_mha(layer) or not layer.built:
            continue
        members = [Member(m.role, keys[id(m.layer)], m.layer, m.kernel_axis, m.bias_axis)
                   for m in attention_layers_of(layer) if id(m.layer) in keys]
        found[layer.name] = AttentionLayer(layer.name, layer, int(layer.num_heads), int(layer.key_dim),
                                           int(layer.value_dim), tuple(members))
    return found


def _check_heads(attention: Mapping[str, AttentionLayer], heads: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    checked = {}
    for name, keep in heads.items():
        if name not in attention:
            known = ", ".join(attention) or "none"
            raise ValueError(f"{name!r} is not a MultiHeadAttention layer of this model (attention layers: {known}).")
        keep = np.asarray(keep, dtype=bool)
        if keep.shape != (attention[name].num_heads,):
            raise ValueError(f"The head mask for {name!r} must be a vector of {attention[name].num_heads} "
                             f"(its num_heads); got shape {keep.shape}.")
        checked[name] = keep
    return checked


def head_scores(model, weight_scores: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """{mha: float vector of num_heads}: a head's importance is the **sum of the weight scores over its
    members** — its slices of the query/key/value (and gate) kernels along the heads axis and its rows of the
    output kernel. ``weight_scores`` are kernel-shaped, keyed by weight target (any criterion's
    ``scores``), so every criterion that scores the attention kernels ranks heads; with magnitude scores a
    head's score is the L1 norm of its kernel slices. Biases carry no score. Members a criterion did not
    score are left out of the sum; a layer with no scored member is left out of the result.

    >>> import keras
    >>> inputs = keras.Input((3, 4))
    >>> model = keras.Model(inputs, keras.layers.MultiHeadAttention(2, 2, name="mha")(inputs, inputs))
    >>> ones = {k: np.ones(v.shape) for k, v in __import__("prune_core").graph.kernels(model).items()}
    >>> head_scores(model, ones)["mha"].tolist()    # q, k, v: 4·2 each, output: 2·4 per head
    [32.0, 32.0]
    """
    result = {}
    for name, att in attention_layers(model).items():
        total, scored = np.zeros(att.num_heads, dtype=np.float64), False
        for m in att.members:
            if m.key not in weight_scores:
                continue
            s = np.asarray(weight_scores[m.key], dtype=np.float64)
            axes = tuple(i for i in range(s.ndim) if i != m.kernel_axis)
            total += s.sum(axis=axes)
            scored = True
        if scored:
            result[name] = total
    return result


def magnitude_head_scores(model) -> dict[str, np.ndarray]:
    """:func:`head_scores` with magnitude scores (|w|): the default ranking where no scores are given."""
    from .dependency import kernels
    return head_scores(model, {k: np.abs(v) for k, v in kernels(model).items()})


def at_least_one_head(model, heads: Mapping[str, np.ndarray],
                      scores: Mapping[str, np.ndarray] | None = None) -> dict[str, np.ndarray]:
    """``heads`` checked against the model, where a layer with every head removed keeps its best-scored head
    (``scores``: {mha: vector}; magnitude head scores when None)."""
    attention = attention_layers(model)
    checked = _check_heads(attention, heads)
    empty = [n for n, k in checked.items() if not k.any()]
    if empty:
        scores = magnitude_head_scores(model) if scores is None else scores
        for name in empty:
            keep = np.zeros(attention[name].num_heads, dtype=bool)
            keep[int(np.argmax(np.asarray(scores.get(name, np.zeros(keep.size)))))] = True
            checked[name] = keep
    return checked


def head_weight_masks(model, heads: Mapping[str, np.ndarray], scores: Mapping[str, np.ndarray] | None = None
                      ) -> tuple[dict[str, np.ndarray], dict[str, dict[str, np.ndarray]]]:
    """(kernels, extra) for a :class:`prune_core.methods.masks.MaskSet` removing heads: ``kernels``
    {target key: kernel-shaped keep mask} for every member of each layer in ``heads`` (False on the removed
    heads' slices), ``extra`` {target key: {"bias": mask}} for the per-head biases (q/k/v/gate). Removing one
    head of a self-attention layer on width D zeroes D·key_dim·2 + D·value_dim + 2·key_dim + value_dim +
    value_dim·D entries. A layer with every head removed keeps its best-scored head (see
    :func:`at_least_one_head`)."""
    attention = attention_layers(model)
    heads = at_least_one_head(model, heads, scores)
    kernels, extra = {}, {}
    for name, keep in heads.items():
        for m in attention[name].members:
            kernel = m.variable("kernel")
            kernels[m.key] = _along(keep, tuple(kernel.shape), m.kernel_axis)
            bias = m.variable("bias")
            if bias is not None and m.bias_axis is not None:
                extra[m.key] = {"bias": _along(keep, tuple(bias.shape), m.bias_axis)}
    return kernels, extra


def _along(keep: np.ndarray, shape: tuple[int, ...], axis: int) -> np.ndarray:
    view = [1] * len(shape)
    view[axis] = keep.size
    return np.broadcast_to(keep.reshape(view), shape).copy()


def compact_heads(model, heads: Mapping[str, np.ndarray], scores: Mapping[str, np.ndarray] | None = None):
    """A new keras.Model where each MultiHeadAttention named in ``heads`` has only its kept heads
    (``num_heads`` = kept count; ``key_dim``/``value_dim`` unchanged) with the kept slices of its weights;
    every other layer and weight is identical. Functional and Sequential models only (rebuilt with
    ``keras.models.clone_model``, nested models included); ValueError for a subclassed model. A layer with
    every head removed keeps its best-scored head. The caller's model is not touched."""
    import keras
    from keras.src.models.functional import Functional

    if not isinstance(model, (Functional, keras.Sequential)):
        raise ValueError(f"Heads can be removed physically from Functional or Sequential models only; "
                         f"{type(model).__name__!r} is a subclassed model (its call() cannot be rebuilt).")
    attention = attention_layers(model)
    heads = at_least_one_head(model, heads, scores)
    by_id = {id(a.layer): a for a in attention.values()}
    pairs = []

    def clone(layer):
        config = layer.get_config()
        att = by_id.get(id(layer))
        if att is not None and att.name in heads:
            if getattr(layer, "quantization_mode", None) or any(getattr(m.layer, "lora_enabled", False)
                                                                for m in att.members):
                raise ValueError(f"{layer.name!r} is quantized or LoRA-enabled; its heads cannot be removed.")
            config["num_heads"] = int(heads[att.name].sum())
        new = type(layer).from_config(config)
        pairs.append((layer, new))
        return new

    small = keras.models.clone_model(model, clone_function=clone, recursive=True)
    for old, new in pairs:
        att = by_id.get(id(old))
        if att is None or att.name not in heads:
            new.set_weights(old.get_weights())
            continue
        keep = np.flatnonzero(heads[att.name])
        new_members = {m.role: m for m in attention_layers_of(new)}
        for m in att.members:
            target = new_members[m.role]
            for short in ("kernel", "bias"):
                source = m.variable(short)
                if source is None:
                    continue
                value = np.asarray(source.numpy())
                axis = m.kernel_axis if short == "kernel" else m.bias_axis
                if axis is not None:
                    value = np.take(value, keep, axis=axis)
                target.variable(short).assign(value)
    return small


def attention_layers_of(layer) -> tuple[Member, ...]:
    """The head members of one built MultiHeadAttention ``layer`` (keys are the sub-layers' names)."""
    members = []
    for role, (attr, kernel_axis, bias_axis) in MEMBERS.items():
        sub = getattr(layer, attr, None)
        if sub is not None:
            members.append(Member(role, f"{layer.name}/{sub.name}", sub, kernel_axis, bias_axis))
    return tuple(members)
