"""Physical unit/channel removal: a new, smaller model instead of a masked one (reads the model's
``DependencyGraph``).

``units`` maps a dependency group's name (``graph.dependency_groups``; for a layer in a plain chain,
the layer's name) to a boolean vector over the group's channels, True = kept. For every group with
removed channels the new model drops exactly the weight slices ``graph.weight_masks`` marks False:
the producers' output columns/filters and biases, per-channel parameters (BatchNormalization, PReLU,
DepthwiseConv kernel and bias, SeparableConv depthwise kernel), and the consumers' input rows /
channels (through Concatenate offsets and Flatten/Reshape blocks, channels-last flat index
``(h*W + w)*C + c``). Its predictions equal those of the model masked by ``graph.zero_units`` up to
float rounding.

Any Sequential or Functional graph is rebuilt: each layer from its config (units/filters and Reshape
targets changed), called on the new tensors following the original nodes, then given its sliced
weights. Nested Functional/Sequential models are inlined, so the result is flat; a Sequential chain
stays a Sequential. The original model is not modified.

>>> import keras, numpy as np
>>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, name="hidden"),
...                           keras.layers.Dense(2, name="out")])
>>> small = compact_model(model, {"hidden": np.array([True, False, True])})
>>> small.get_layer("hidden").units, tuple(small.get_layer("out").kernel.shape)
(2, (2, 2))
>>> inputs = keras.Input((4,))
>>> x = keras.layers.Dense(3, name="a")(inputs)
>>> y = keras.layers.Add()([x, keras.layers.Dense(3, name="b")(x)])
>>> small, report = compact(keras.Model(inputs, keras.layers.Dense(2, name="out")(y)),
...                         {"a": np.array([True, False, True])})
>>> report.removed, tuple(small.get_layer("b").kernel.shape)
({'a': (2, 3)}, (2, 2))
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .dependency import dependency_graph
from .kinds import CHANNEL_SIZE_KEY, PRODUCER_ROLES, kind, producer_size, size_key, weights_by_id
from .units import check_removable, resolve_units
from .walk import graph_of, interpret


@dataclass
class CompactReport:
    """What ``compact`` did: groups physically shrunk, groups left as they were (masked) and why."""
    removed: dict[str, tuple[int, int]] = field(default_factory=dict)   # group -> (kept, total)
    left_masked: dict[str, str] = field(default_factory=dict)          # group -> reason
    params_before: int = 0
    params_after: int = 0

    def lines(self) -> list[str]:
        """Plain-words summary, one line per group."""
        out = [f"{name}: kept {kept} of {total} channels" for name, (kept, total) in self.removed.items()]
        out += [f"{name}: left masked, not removed ({why})" for name, why in self.left_masked.items()]
        out.append(f"parameters: {self.params_before:,} → {self.params_after:,}")
        return out


def compact(model, units, *, strict: bool = False, streams: bool = False):
    """(smaller model, CompactReport) with the channels marked False in ``units`` removed.

    ``units``: {group name (or one of its producers' names): bool vector over the group's channels}.
    Unknown names, wrong lengths and non-boolean masks raise ``ValueError``. A group that cannot
    lose channels (not prunable, or every channel removed) raises with ``strict=True``; otherwise it
    is left as it is (its weights copied, so a masked model stays masked) and listed in
    ``report.left_masked`` with the reason. ``streams``: group by the streams-mode graph
    (``dependency.dependency_graph``); the result is then the truth the masked model only approximates.
    """
    import keras

    walk = dependency_graph(model, streams=streams).walk
    resolved = resolve_units(walk.groups, units)
    by_name = {group.name: group for group in walk.groups}
    apply, report = {}, CompactReport(params_before=int(model.count_params()))
    for name, mask in resolved.items():
        if mask.all():
            continue
        problem = check_removable(by_name[name], mask)
        if problem:
            if strict:
                raise ValueError(problem)
            report.left_masked[name] = problem
            continue
        apply[name] = mask
        report.removed[name] = (int(mask.sum()), int(mask.size))

    axes = walk.axis_keeps(apply)
    atom_keep = walk.atom_keep(apply)
    builder = _Builder(model, walk, axes, atom_keep)
    small = builder.build(keras)
    report.params_after = int(small.count_params())
    return small, report


def compact_model(model, units: dict[str, np.ndarray], *, streams: bool = False):
    """A new Keras model with the units marked False in ``units`` physically removed.

    ``units``: {group name: bool vector}, True = kept; groups not named keep everything. Raises
    ``ValueError`` for unknown names, wrong vector lengths, removing every unit of a group, and
    groups that cannot lose units (the output layer, or a group that reaches a layer kind the graph
    does not handle; the message names it).
    """
    return compact(model, units, strict=True, streams=streams)[0]


def kept_counts(units: dict[str, np.ndarray]) -> dict[str, tuple[int, int]]:
    """{layer: (kept, total)} for a unit-mask dict, e.g. for a 'removed 12 of 32 neurons' line.

    >>> kept_counts({"dense1": np.array([True, False, True])})
    {'dense1': (2, 3)}
    """
    return {name: (int(np.count_nonzero(m)), int(np.size(m))) for name, m in units.items()}


# --- rebuilding ----------------------------------------------------------------------------------

class _Builder:
    def __init__(self, model, walk, axes, atom_keep):
        self.model, self.walk, self.axes, self.atom_keep = model, walk, axes, atom_keep
        self.new: dict[str, object] = {}

    def layer(self, old):
        """The new layer for ``old`` (one per name, shared calls share it)."""
        if old.name in self.new:
            return self.new[old.name]
        config = old.get_config()
        cls = type(old).__name__
        if kind(old) in PRODUCER_ROLES and kind(old) != "attention" and old.name in self.walk.producers:
            kept = int(self.atom_keep[self.walk.producers[old.name]].sum())
            if kept != producer_size(old):
                config = {**config, size_key(old): kept}
        if kind(old) == "attention" and old.name in self.walk.producers:
            kept = int(self.atom_keep[self.walk.producers[old.name]].sum())
            query = self.walk.reads.get(old.name)
            width = int(self.atom_keep[query[:int(old._query_dense.kernel.shape[0])]].sum()) if query is not None else kept
            if kept != width or config.get("output_shape") is not None:
                config = {**config, "output_shape": (kept,)}
        if cls in CHANNEL_SIZE_KEY and old.name in self.walk.reads:
            config = {**config, CHANNEL_SIZE_KEY[cls]: int(self.atom_keep[self.walk.reads[old.name]].sum())}
        if kind(old) == "prunable" and int(config.get("groups", 1)) > 1:
            atoms = self.walk.producers[old.name]
            config = {**config, "groups": int(config["groups"]) * int(self.atom_keep[atoms].sum()) // atoms.size}
        if kind(old) == "group_norm" and old.name in self.walk.reads and int(config["groups"]) != -1:
            atoms = self.walk.reads[old.name]
            kept = int(self.atom_keep[atoms].sum())
            config = {**config, "groups": int(config["groups"]) * kept // atoms.size}
        if cls == "Reshape" and old.name in self.walk.reshapes:
            _, out_atoms = self.walk.reshapes[old.name]
            target = tuple(config["target_shape"])
            if target[-1] != -1:
                config = {**config, "target_shape": (*target[:-1], int(self.atom_keep[out_atoms].sum()))}
        try:
            new = type(old).from_config(config)
        except Exception as error:  # e.g. a Lambda refused outside safe mode
            if old.weights:
                raise ValueError(f"Cannot rebuild layer {old.name!r} ({cls}) from its config: {error}") from error
            new = old  # weightless and unchanged: sharing it is harmless
        self.new[old.name] = new
        return new

    def weights(self, old) -> list[np.ndarray]:
        sliced = []
        cuts = self.axes.get(old.name, {})
        ids = {id(v): wid for wid, v in weights_by_id(old).items()}
        for w in old.weights:
            value = np.asarray(w.numpy())
            for axis, keep in cuts.get(ids.get(id(w)), {}).items():
                if not keep.all():
                    value = np.compress(keep, value, axis=axis)
            sliced.append(value)
        return sliced

    def _call(self, op, node, ins, values, scope):
        import keras
        from keras import tree

        args, kwargs = node.arguments.fill_in(values)
        if not isinstance(op, keras.layers.Layer):
            return tree.flatten(op(*args, **kwargs))
        new = self.layer(op)
        training = next((n.arguments.kwargs["training"] for _, n in reversed(scope)
                         if n.arguments.kwargs.get("training") is not None), None)
        if training is not None and "training" not in kwargs and getattr(new, "_call_has_training_arg", False):
            kwargs = {**kwargs, "training": training}  # `backbone(x, training=False)` survives inlining
        return tree.flatten(new(*args, **kwargs))

    def _is_chain(self) -> bool:
        walk = self.walk
        names = [op.name for op, _, _ in walk.calls]
        if len(walk.input_ids) != 1 or len(walk.output_ids) != 1 or len(set(names)) != len(names):
            return False
        previous = walk.input_ids
        for op, ins, outs in walk.calls:
            if ins != previous or len(outs) != 1 or not hasattr(op, "weights"):
                return False
            previous = outs
        return previous == walk.output_ids

    def build(self, keras):
        from keras import tree

        model, walk = self.model, self.walk
        graph = graph_of(model)
        inputs = [keras.Input(batch_shape=tuple(t.shape), dtype=t.dtype, name=t._keras_history[0].name)
                  for t in graph.inputs]
        if isinstance(model, keras.Sequential) and self._is_chain():
            new_layers = [self.layer(op) for op, _, _ in walk.calls]
            small = keras.Sequential([inputs[0], *new_layers], name=model.name)
        else:
            outputs = interpret(model, inputs, self._call)
            small = keras.Model(tree.pack_sequence_as(graph._inputs_struct, inputs),
                                tree.pack_sequence_as(graph._outputs_struct, outputs), name=model.name)
        for name, old in walk.layers.items():
            if old.weights and self.new[name] is not old:
                self.new[name].set_weights(self.weights(old))
        return small
