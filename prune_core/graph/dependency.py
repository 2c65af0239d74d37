"""The one walker over a Keras graph, the one table of layer kinds, and dependency groups.

A **dependency group** (Torch-Pruning's DepGraph idea) is the set of weight slices that must go
together when one unit goes: a Dense/conv output column and its bias, the BatchNormalization /
PReLU / DepthwiseConv entries of that channel, the next layers' input rows/channels that read it
(through pooling, padding, Flatten/Reshape blocks and Concatenate offsets), and, through Add /
Multiply / ... (whose inputs share channel indices), every other layer writing the same channels:
a ResNet stage's residual stream is one group with several producers.

How it is computed: every channel of every tensor is labelled with an *atom*. A prunable layer's
output channels get fresh atoms (the same atoms for every call of a shared layer); a model input or
the output of a layer the table does not know gets fresh *fixed* atoms (they can never be removed).
Channel-following layers pass the labels on; Add & co. unite the labels of their inputs position by
position; Concatenate concatenates them; Flatten/Reshape tile them (channels-last flat index
``(h*W + w)*C + c``). A group is a set of producers linked by united atoms; each united class of
atoms is one of its channels. A group is not prunable when one of its channels reaches a model
output, feeds a layer kind the table does not know (or a known kind in a configuration it cannot
slice), or is united with fixed atoms; ``Group.reason`` says which, in plain words.

Nested Functional/Sequential models are walked into (their layers appear in ``layers(model)`` as if
the model were flat); a subclassed model nested inside is opaque (an unknown layer); a top-level
subclassed model, an unbuilt Sequential, or two layers with one name are refused with a ValueError.

TensorFlow/Keras is imported inside functions only.

>>> import keras, numpy as np
>>> inputs = keras.Input((6,))
>>> a = keras.layers.Dense(8, name="a")(inputs)
>>> b = keras.layers.Dense(8, name="b")(inputs)
>>> model = keras.Model(inputs, keras.layers.Dense(3, name="out")(keras.layers.Concatenate()([a, b])))
>>> [(g.name, g.size, g.consumers, g.prunable) for g in dependency_groups(model)]
[('a', 8, ('out',), True), ('b', 8, ('out',), True), ('out', 3, (), False)]
>>> masks = weight_masks(model, {"a": np.arange(8) < 4})
>>> sorted(masks), sorted(masks["out"]), int((~masks["out"]["kernel"]).sum())
(['a', 'out'], ['kernel'], 12)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# --- the one table of layer kinds ----------------------------------------------------------------

_PRUNABLE = ("Dense", "Conv1D", "Conv2D", "Conv3D", "SeparableConv1D", "SeparableConv2D",
             "Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose")
_FOLLOW = ("Activation", "ReLU", "LeakyReLU", "ELU", "Softmax", "Dropout", "SpatialDropout1D",
           "SpatialDropout2D", "SpatialDropout3D", "GaussianNoise", "GaussianDropout", "AlphaDropout",
           "ActivityRegularization", "Identity", "RepeatVector",
           "MaxPooling1D", "MaxPooling2D", "MaxPooling3D", "AveragePooling1D", "AveragePooling2D",
           "AveragePooling3D", "GlobalMaxPooling1D", "GlobalMaxPooling2D", "GlobalMaxPooling3D",
           "GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalAveragePooling3D",
           "ZeroPadding1D", "ZeroPadding2D", "ZeroPadding3D", "Cropping1D", "Cropping2D", "Cropping3D",
           "UpSampling1D", "UpSampling2D", "UpSampling3D", "DepthwiseConv1D", "DepthwiseConv2D")

KINDS: dict[str, str] = {
    **{name: "prunable" for name in _PRUNABLE},
    **{name: "follow" for name in _FOLLOW},
    "BatchNormalization": "channel_params", "PReLU": "channel_params",
    **{name: "couple" for name in ("Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum")},
    "Concatenate": "concat",
    "Flatten": "reshape", "Reshape": "reshape",
    "InputLayer": "input",
    # Known, but a removed channel would change the others: groups feeding them stay whole.
    "LayerNormalization": "barrier", "GroupNormalization": "barrier", "UnitNormalization": "barrier",
}
"""Keras class name → role. Roles:

- ``prunable``: a kernel whose output units can be removed and whose input rows/channels follow
  their input (SeparableConv: the pointwise kernel is the pruned one, its depthwise kernel follows).
- ``follow``: the output channels are the input channels, one by one (activations, dropout, pooling,
  padding/cropping/upsampling, global pooling, DepthwiseConv with ``depth_multiplier=1``, whose
  kernel and bias are sliced with the channel).
- ``channel_params``: like follow, with per-channel parameters sliced (BatchNormalization on the
  channel axis, PReLU).
- ``couple``: all inputs share channel indices (Add, Subtract, Multiply, Average, Maximum, Minimum).
- ``concat``: each input's channels at their offset (Concatenate on the last axis; on another axis
  its inputs share channel indices, as in ``couple``).
- ``reshape``: Flatten and Reshape (a removed channel removes its block of flat features).
- ``barrier``: known layers that mix channels (LayerNormalization over the channels: its mean and
  variance include every channel, so the masked and the compact model would differ; GroupNormalization;
  UnitNormalization): what feeds them stays whole, what they output starts afresh.
- ``input``: InputLayer.

Any other class (GRU, attention, Lambda, Embedding, keras.ops in a graph, custom layers) is unknown:
the channels it reads stay whole and its outputs cannot be removed.
"""

# The weights each kind may carry; anything more (LoRA, quantized kernels) cannot be sliced.
_WEIGHTS = {
    **{name: {"kernel", "bias"} for name in _PRUNABLE},
    "SeparableConv1D": {"depthwise_kernel", "pointwise_kernel", "bias"},
    "SeparableConv2D": {"depthwise_kernel", "pointwise_kernel", "bias"},
    "DepthwiseConv1D": {"kernel", "bias"}, "DepthwiseConv2D": {"kernel", "bias"},
    "BatchNormalization": {"gamma", "beta", "moving_mean", "moving_variance"},
    "PReLU": {"alpha"},
}

_ELEMENTWISE = frozenset({
    "linear", "relu", "relu6", "leaky_relu", "elu", "selu", "celu", "gelu", "silu", "swish", "hard_silu",
    "hard_swish", "mish", "sigmoid", "hard_sigmoid", "log_sigmoid", "sparse_sigmoid", "tanh", "hard_tanh",
    "tanh_shrink", "hard_shrink", "soft_shrink", "softplus", "softsign", "sparse_plus", "squareplus",
    "exponential", "threshold"})
_MIXING = frozenset({"softmax", "log_softmax", "glu", "sparsemax"})

_BARRIER_WHY = {
    "LayerNormalization": "whose mean and variance include every channel, so removing one changes the others",
    "GroupNormalization": "which normalises channels in groups, so removing one changes its group's statistics",
    "UnitNormalization": "which divides by the norm over the channels, so removing one changes the others",
}


def kind(layer) -> str | None:
    """The layer's role in ``KINDS`` (Keras' own classes only; a subclass is unknown), or None."""
    cls = type(layer)
    if not cls.__module__.startswith("keras."):
        return None
    return KINDS.get(cls.__name__)


def _activation_rule(layer) -> str | None:
    """Why the layer's own activation mixes its output channels (softmax & co.), or None."""
    activation = layer.get_config().get("activation")
    if activation is None or activation in _ELEMENTWISE:
        return None
    if activation in _MIXING:
        return f"applies {activation} across the channels"
    return f"uses an activation the graph does not know ({activation!r})"


def _describe(op) -> str:
    return f"{type(op).__name__} {op.name!r}"


def _unit_rule(layer, role: str, rank: int | None) -> str | None:
    """Why a layer of a known kind cannot carry removed channels in its configuration (None: it can)."""
    cls = type(layer).__name__
    config = layer.get_config()
    if config.get("data_format") == "channels_first":
        return "uses data_format='channels_first' (only channels-last tensors are handled)"
    extra = {w.name for w in layer.weights} - _WEIGHTS.get(cls, set())
    if extra:
        return f"has weights the graph cannot slice ({', '.join(sorted(extra))})"
    if role == "prunable" and config.get("groups", 1) != 1:
        return f"is a grouped convolution (groups={config['groups']})"
    if cls.startswith("DepthwiseConv") and config.get("depth_multiplier", 1) != 1:
        return f"has depth_multiplier={config['depth_multiplier']} (several outputs per input channel)"
    if cls == "Activation":
        return _activation_rule(layer)
    if cls in ("BatchNormalization", "Softmax") and rank:
        axes = config["axis"] if isinstance(config["axis"], (list, tuple)) else [config["axis"]]
        on_channels = [int(a) % rank == rank - 1 for a in axes]
        if cls == "BatchNormalization" and on_channels != [True]:
            return f"normalises over axis {config['axis']}, not the channels (last axis)"
        if cls == "Softmax" and any(on_channels):
            return "applies softmax across the channels"
    return None


# --- walking the graph ---------------------------------------------------------------------------

def _graph_of(model):
    """The Functional graph behind a Sequential or Functional model, or a ValueError."""
    import keras
    from keras.src.models.functional import Functional

    if isinstance(model, keras.Sequential):
        graph = getattr(model, "_functional", None)
        if graph is None:
            raise ValueError(f"The Sequential model {model.name!r} has no defined input yet; build it with an "
                             "Input layer or call it once before pruning units.")
        return graph
    if isinstance(model, Functional):
        return model
    raise ValueError(f"{model.name!r} is a subclassed model ({type(model).__name__}): it has no layer graph the "
                     "walker can read. Rebuild it with the Functional or Sequential API.")


def _is_graph_model(op) -> bool:
    import keras
    from keras.src.models.functional import Functional

    return isinstance(op, Functional) or (isinstance(op, keras.Sequential)
                                          and getattr(op, "_functional", None) is not None)


def _interpret(model, inputs: list, call, scope: tuple = ()) -> list:
    """Run ``call(op, node, inputs, values, scope)`` over the graph in topological order.

    Nested Functional/Sequential models are walked into (``scope`` names the models around a
    layer). ``inputs`` are the values for ``model.inputs``; returns the values of its outputs.
    """
    graph = _graph_of(model)
    values = {id(tensor): value for tensor, value in zip(graph.inputs, inputs)}
    rank = {id(op): i for i, op in enumerate(graph.operations)}  # model.layers order within a depth
    for depth in sorted(graph._nodes_by_depth, reverse=True):
        for node in sorted(graph._nodes_by_depth[depth], key=lambda n: rank.get(id(n.operation), -1)):
            op = node.operation
            if op is None or node.is_input:
                continue
            if any(id(x) not in values for x in node.input_tensors):
                continue  # not computable from these inputs (Keras skips such nodes too)
            args = [values[id(x)] for x in node.input_tensors]
            if _is_graph_model(op):
                outputs = _interpret(op, args, call, scope + ((op, node),))
            else:
                outputs = call(op, node, args, values, scope)
            for tensor, value in zip(node.outputs, outputs):
                values[id(tensor)] = value
    missing = [t.name for t in graph.outputs if id(t) not in values]
    if missing:
        raise ValueError(f"The outputs of {model.name!r} are not connected to its inputs ({', '.join(missing)}).")
    return [values[id(tensor)] for tensor in graph.outputs]


class _UnionFind:
    def __init__(self):
        self.parent: list[int] = []

    def new(self, n: int) -> np.ndarray:
        start = len(self.parent)
        self.parent.extend(range(start, start + n))
        return np.arange(start, start + n, dtype=np.int64)

    def find(self, a: int) -> int:
        parent = self.parent
        root = a
        while parent[root] != root:
            root = parent[root]
        while parent[a] != root:
            parent[a], a = root, parent[a]
        return root

    def union(self, a: np.ndarray, b: np.ndarray) -> None:
        for x, y in zip(a.tolist(), b.tolist()):
            rx, ry = self.find(x), self.find(y)
            if rx != ry:
                self.parent[max(rx, ry)] = min(rx, ry)

    def roots(self) -> np.ndarray:
        parent = np.asarray(self.parent, dtype=np.int64)
        while True:
            nxt = parent[parent]
            if np.array_equal(nxt, parent):
                return parent
            parent = nxt


@dataclass
class _Value:
    """A tensor during the walk: the atom of each index of its last axis (None: unknown size)."""
    atoms: np.ndarray | None
    shape: tuple


def _period(atoms: np.ndarray) -> int:
    n = atoms.size
    for p in range(1, n + 1):
        if n % p == 0 and np.array_equal(atoms, np.tile(atoms[:p], n // p)):
            return p
    return n


class _Walk:
    """One walk of a model: atoms, unions, and what each layer's weights read and write."""

    def __init__(self, model):
        import keras

        self.keras = keras
        self.model_name = model.name
        self.uf = _UnionFind()
        self.fixed: list[tuple[np.ndarray, str]] = []     # atoms that can never go, and where they come from
        self.blocked: list[tuple[np.ndarray, str]] = []   # atoms that must stay, and why
        self.output_atoms: list[np.ndarray] = []
        self.layers: dict[str, object] = {}               # name -> layer, first-call order
        self.scopes: dict[str, str] = {}                  # name -> "model/inner" where it was met
        self.producers: dict[str, np.ndarray] = {}        # prunable layer -> atoms of its output units
        self.reads: dict[str, np.ndarray] = {}            # layer -> atoms of the input channels its weights read
        self.reshapes: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # Reshape -> (input atoms, output atoms)
        self.calls: list[tuple] = []                      # (op, [input value ids], [output value ids])
        graph = _graph_of(model)
        inputs = [self._fresh(t.shape, f"the model input {t._keras_history[0].name!r}") for t in graph.inputs]
        self.input_ids = [id(v) for v in inputs]
        outputs = _interpret(model, inputs, self._call)
        self.output_ids = [id(v) for v in outputs]
        for value in outputs:
            if value.atoms is not None:
                self.output_atoms.append(value.atoms)
                self.blocked.append((value.atoms, "reaches the model output"))
        self._finish()

    # values ---------------------------------------------------------------------------------------
    def _fresh(self, shape, source: str) -> _Value:
        shape = tuple(shape)
        last = shape[-1] if len(shape) > 1 else None
        if last is None:
            return _Value(None, shape)
        atoms = self.uf.new(int(last))
        self.fixed.append((atoms, source))
        return _Value(atoms, shape)

    def _block(self, values, why: str) -> None:
        for value in values:
            if value.atoms is not None:
                self.blocked.append((value.atoms, why))

    def _read(self, layer, atoms: np.ndarray) -> None:
        """Record the input channels a layer's weights read; a shared layer's calls must agree."""
        seen = self.reads.get(layer.name)
        if seen is None:
            self.reads[layer.name] = atoms
        else:
            self.uf.union(seen, atoms)

    def _opaque(self, op, node, ins, why: str) -> list:
        self._block(ins, why)
        source = f"the output of {_describe(op)}"
        return [self._fresh(t.shape, source) for t in node.outputs]

    # one call -------------------------------------------------------------------------------------
    def _call(self, op, node, ins, values, scope):
        outs = self._dispatch(op, node, ins, scope)
        self.calls.append((op, [id(v) for v in ins], [id(v) for v in outs]))
        return outs

    def _register(self, layer, scope) -> None:
        where = "/".join([self.model_name] + [m.name for m, _ in scope])
        known = self.layers.get(layer.name)
        if known is None:
            self.layers[layer.name] = layer
            self.scopes[layer.name] = where
        elif known is not layer:
            raise ValueError(f"Two different layers are named {layer.name!r} (in {self.scopes[layer.name]!r} and "
                             f"in {where!r}); layer names must be unique across nested models. Rename one.")

    def _dispatch(self, op, node, ins, scope) -> list:
        keras = self.keras
        if not isinstance(op, keras.layers.Layer):
            return self._opaque(op, node, ins, f"feeds the operation {_describe(op)} (a kind the graph does not know)")
        self._register(op, scope)
        role = kind(op)
        if role is None:
            return self._opaque(op, node, ins, f"feeds {_describe(op)} (a layer kind the graph does not know)")
        if role == "barrier":
            return self._opaque(op, node, ins, f"feeds {_describe(op)}, {_BARRIER_WHY[type(op).__name__]}")
        rank = len(node.input_tensors[0].shape) if node.input_tensors else None
        why = _unit_rule(op, role, rank)
        out_shape = tuple(node.outputs[0].shape) if node.outputs else ()
        if role == "prunable":
            atoms = self.producers.get(op.name)
            if atoms is None:
                atoms = self.producers[op.name] = self.uf.new(int(kernel_variable(op).shape[_out_axis(op)]))
            if why:
                self._block(ins, f"feeds {_describe(op)}, which {why}")
                self.blocked.append((atoms, f"is produced by {_describe(op)}, which {why}"))
            elif ins[0].atoms is not None:
                self._read(op, ins[0].atoms)
            mixing = _activation_rule(op)
            if mixing:
                self.blocked.append((atoms, f"is produced by {_describe(op)}, which {mixing}"))
            return [_Value(atoms, out_shape)]
        if why and type(op).__name__ in ("Activation", "Softmax") and len(ins) == 1 and ins[0].atoms is not None:
            # softmax & co. keep one output per channel but mix them: nothing may go, yet the channels
            # still reach what follows (a Dense + softmax head is still the output layer)
            self._block(ins, f"feeds {_describe(op)}, which {why}")
            return [_Value(ins[0].atoms, out_shape)]
        if why:
            return self._opaque(op, node, ins, f"feeds {_describe(op)}, which {why}")
        if role in ("follow", "channel_params"):
            value = ins[0] if len(ins) == 1 else _Value(None, ())
            if value.atoms is None or len(node.outputs) != 1 or out_shape[-1] != value.shape[-1]:
                return self._opaque(op, node, ins, f"feeds {_describe(op)}, which changes the channel axis")
            if op.weights:
                self._read(op, value.atoms)
            return [_Value(value.atoms, out_shape)]
        if role == "couple" or (role == "concat" and not _concat_on_last(op, out_shape)):
            return [self._couple(op, node, ins, out_shape)]
        if role == "concat":
            if any(v.atoms is None for v in ins):
                return self._opaque(op, node, ins, f"feeds {_describe(op)} with an input of unknown size")
            return [_Value(np.concatenate([v.atoms for v in ins]), out_shape)]
        if role == "reshape":
            return [self._reshape(op, node, ins, out_shape)]
        return self._opaque(op, node, ins, f"feeds {_describe(op)} (a layer kind the graph does not know)")

    def _couple(self, op, node, ins, out_shape) -> _Value:
        last = out_shape[-1]
        if last is None or any(v.atoms is None for v in ins):
            return self._opaque(op, node, ins, f"feeds {_describe(op)} with an input of unknown size")[0]
        full = [v for v in ins if v.atoms.size == last]
        for v in ins:
            if v.atoms.size != last:  # broadcast over the channels (size 1): its one channel must stay
                self.blocked.append((v.atoms, f"is broadcast over the channels in {_describe(op)}"))
        for v in full[1:]:
            self.uf.union(full[0].atoms, v.atoms)
        return _Value(full[0].atoms, out_shape)

    def _reshape(self, op, node, ins, out_shape) -> _Value:
        if len(ins) != 1:
            return self._opaque(op, node, ins, f"feeds {_describe(op)} with several inputs")[0]
        (value,) = ins
        total_known = all(d is not None for d in value.shape[1:]) and all(d is not None for d in out_shape[1:])
        if value.atoms is None or not total_known:
            return self._opaque(op, node, ins, f"feeds {_describe(op)} with sizes unknown before the data")[0]
        last = int(out_shape[-1]) if len(out_shape) > 1 else 1
        period = _period(value.atoms)
        if len(out_shape) < 2 or last % period:
            return self._opaque(op, node, ins, f"feeds {_describe(op)}, which moves channels off the last axis")[0]
        atoms = np.tile(value.atoms[:period], last // period)
        if type(op).__name__ == "Reshape":
            seen = self.reshapes.get(op.name)
            if seen is not None and not (np.array_equal(seen[0], value.atoms) and np.array_equal(seen[1], atoms)):
                return self._opaque(op, node, ins, f"feeds {_describe(op)}, which is called on different tensors")[0]
            self.reshapes[op.name] = (value.atoms, atoms)
        return _Value(atoms, out_shape)

    # groups ---------------------------------------------------------------------------------------
    def _finish(self) -> None:
        self.root = root = self.uf.roots()
        n = root.size
        # Producers linked by shared roots form a group: a second union over roots.
        link = _UnionFind()
        link.new(n)
        for atoms in self.producers.values():
            r = root[atoms]
            link.union(np.full(r.size - 1, r[0]), r[1:])
        group_of_root = link.roots()
        fixed_source: dict[int, str] = {}
        for atoms, source in self.fixed:
            for r in np.unique(root[atoms]).tolist():
                fixed_source.setdefault(r, source)
        reasons: dict[int, list[str]] = {}
        for atoms, why in self.blocked:
            for r in np.unique(root[atoms]).tolist():
                reasons.setdefault(r, [])
                if why not in reasons[r]:
                    reasons[r].append(why)
        self.reaches_output = set()
        for atoms in self.output_atoms:
            self.reaches_output.update(np.unique(root[atoms]).tolist())

        # channel index of each root inside its group, groups in order of their first producer
        self.channel = np.full(n, -1, dtype=np.int64)
        self.group_index = np.full(n, -1, dtype=np.int64)
        order: dict[int, dict] = {}
        for name, atoms in self.producers.items():
            g = int(group_of_root[root[atoms[0]]])
            info = order.setdefault(g, {"name": name, "producers": [], "roots": []})
            info["producers"].append(name)
            for r in root[atoms].tolist():
                if self.channel[r] < 0:
                    self.channel[r] = len(info["roots"])
                    info["roots"].append(r)
        infos = list(order.values())
        for index, info in enumerate(infos):
            self.group_index[np.asarray(info["roots"], dtype=np.int64)] = index
        members: list[list[Member]] = [[] for _ in infos]
        for layer_name, weight, axis, atoms in self.weight_axes():
            r = self.root[atoms]
            where = self.group_index[r]
            for index in np.unique(where[where >= 0]).tolist():
                inside = np.flatnonzero(where == index)
                members[index].append(Member(layer_name, weight, axis, tuple(inside.tolist()),
                                             tuple(self.channel[r[inside]].tolist())))
        consumers: list[list[str]] = [[] for _ in infos]
        for name, atoms in self.reads.items():
            if kind(self.layers[name]) == "prunable":
                where = self.group_index[self.root[atoms]]
                for index in np.unique(where[where >= 0]).tolist():
                    consumers[index].append(name)
        self.groups: list[Group] = []
        for index, info in enumerate(infos):
            why: list[str] = []
            if set(info["roots"]) & self.reaches_output:
                why.append("reaches the model output")  # the one reason that matters for an output group
            for r in ([] if why else info["roots"]):
                for w in reasons.get(r, []):
                    if w not in why:
                        why.append(w)
                if r in fixed_source:
                    w = f"shares channels with {fixed_source[r]}, which cannot lose channels"
                    if w not in why:
                        why.append(w)
            shown = why[:3] + ([f"and {len(why) - 3} more reasons"] if len(why) > 3 else [])
            self.groups.append(Group(name=info["name"], size=len(info["roots"]), producers=tuple(info["producers"]),
                                     consumers=tuple(consumers[index]), members=tuple(members[index]),
                                     prunable=not why, reason="; ".join(shown)))

    def weight_axes(self):
        """(layer, weight name, axis, atom of each index along that axis) for every sliced weight axis."""
        for name, atoms in self.producers.items():
            layer = self.layers[name]
            for w in layer.weights:
                if w.name in ("kernel", "pointwise_kernel"):
                    yield name, w.name, len(w.shape) + _out_axis(layer), atoms
                elif w.name == "bias":
                    yield name, "bias", 0, atoms
        for name in self.reads:
            yield from self._reads_axes(name)

    def _reads_axes(self, name: str):
        layer, atoms = self.layers[name], self.reads[name]
        cls = type(layer).__name__
        for w in layer.weights:
            shape = tuple(w.shape)
            if cls.startswith("SeparableConv"):
                if w.name == "depthwise_kernel":
                    yield name, w.name, len(shape) - 2, atoms
                elif w.name == "pointwise_kernel":
                    yield name, w.name, len(shape) - 2, np.repeat(atoms, shape[-2] // atoms.size)
            elif kind(layer) == "prunable":
                if w.name == "kernel":
                    yield name, w.name, len(shape) + _in_axis(layer), atoms
            elif cls.startswith("DepthwiseConv"):
                yield name, w.name, (len(shape) - 2 if w.name == "kernel" else 0), atoms
            elif cls == "PReLU":
                if shape[-1] == atoms.size and (atoms.size == 1 or shape[-1] != 1):
                    yield name, w.name, len(shape) - 1, atoms
            else:  # BatchNormalization: gamma, beta, moving_mean, moving_variance
                yield name, w.name, 0, atoms


def _out_axis(layer) -> int:
    """The kernel axis of the output units (negative): -2 for transposed convolutions, else -1."""
    return -2 if type(layer).__name__.endswith("Transpose") else -1


def _in_axis(layer) -> int:
    return -1 if type(layer).__name__.endswith("Transpose") else -2


def _concat_on_last(layer, out_shape) -> bool:
    return int(layer.axis) % len(out_shape) == len(out_shape) - 1


# --- public API ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Member:
    """One weight axis a group touches: along ``axis`` of ``layer``'s weight ``weight``, the entries
    at ``positions`` belong to the group's channels ``channels`` (same length)."""
    layer: str
    weight: str
    axis: int
    positions: tuple[int, ...]
    channels: tuple[int, ...]


@dataclass(frozen=True)
class Group:
    """One dependency group: channels that are removed together.

    ``name`` is its first producing prunable layer's name (a chain layer's group is named after the
    layer); ``size`` its channel count; ``producers`` the prunable layers whose output units are
    these channels; ``consumers`` the prunable layers whose input rows/channels read them;
    ``members`` every weight axis touched (see ``Member``); ``reason`` says, when ``prunable`` is
    False, why the group must stay whole.
    """
    name: str
    size: int
    producers: tuple[str, ...]
    consumers: tuple[str, ...]
    members: tuple[Member, ...]
    prunable: bool
    reason: str

    @property
    def layers(self) -> tuple[str, ...]:
        """Every layer with a weight in the group, in order of first appearance."""
        return tuple(dict.fromkeys(m.layer for m in self.members))


_WALKS: dict[int, tuple] = {}  # id(graph) -> (weakref to graph, weight count, walk)


def _walk(model) -> _Walk:
    """The walk of ``model``, computed once per model graph (a Functional graph cannot change; the
    weight count catches a later quantize() or LoRA). The walk holds no reference to the model."""
    import weakref

    graph = _graph_of(model)
    n_weights = len(graph.weights)
    cached = _WALKS.get(id(graph))
    if cached is not None and cached[0]() is graph and cached[1] == n_weights:
        return cached[2]
    walk = _Walk(model)
    key = id(graph)
    _WALKS[key] = (weakref.ref(graph, lambda _, key=key: _WALKS.pop(key, None)), n_weights, walk)
    return walk


def layers(model) -> list:
    """Every non-Input layer in topological order (first call), nested Functional/Sequential models
    walked into (they are not listed themselves)."""
    return [layer for layer in _walk(model).layers.values()]


def prunable_layers(model) -> list:
    """The layers whose kernel can be pruned (weight by weight), in topological order."""
    return [layer for layer in layers(model) if kind(layer) == "prunable"]


def kernel_variable(layer):
    """The prunable kernel variable: ``pointwise_kernel`` for SeparableConv, else ``kernel``."""
    if type(layer).__name__.startswith("SeparableConv"):
        return layer.pointwise_kernel
    return layer.kernel


def kernels(model) -> dict[str, np.ndarray]:
    """{layer name: kernel as float32 numpy} for every prunable layer, in topological order."""
    return {layer.name: np.asarray(kernel_variable(layer).numpy(), dtype=np.float32)
            for layer in prunable_layers(model)}


PRUNABLE_TYPES = tuple(name for name, role in KINDS.items() if role == "prunable")


def output_layer_name(model) -> str | None:
    """Name of the last prunable layer (the classifier: its units are the model's outputs)."""
    found = prunable_layers(model)
    return found[-1].name if found else None


def output_layer_names(model) -> set[str]:
    """Prunable layers whose output units reach a model output unchanged (never unit-pruned)."""
    walk = _walk(model)
    return {name for name, atoms in walk.producers.items()
            if set(walk.root[atoms].tolist()) & walk.reaches_output}


def dependency_groups(model) -> list[Group]:
    """All dependency groups (prunable or not), in topological order of their first producer.

    Every prunable layer is the producer of exactly one group.
    """
    return list(_walk(model).groups)


def group_scores(model, weight_scores, groups=None, *, reduce: str = "sum") -> dict[str, np.ndarray]:
    """{group name: float32 score per channel} for the prunable groups.

    A producer's score for one of its output units is the sum of its kernel-shaped scores over every
    kernel axis but the output-unit axis (summed in float64), exactly what a chain layer's unit score
    has always been. A channel's group score is the sum of that over the group's producers
    (``reduce="mean"``: the mean, so groups with many producers are not favoured in a global ranking).
    Consumers' input rows and per-channel parameters do not count.

    >>> import keras
    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2, name="h"), keras.layers.Dense(1, name="o")])
    >>> group_scores(model, {"h": np.array([[1., 2.], [3., 4.]]), "o": np.ones((2, 1))})
    {'h': array([4., 6.], dtype=float32)}
    """
    if reduce not in ("sum", "mean"):
        raise ValueError(f"reduce must be 'sum' or 'mean', not {reduce!r}.")
    if groups is None:
        groups = dependency_groups(model)
    found = {layer.name: layer for layer in prunable_layers(model)}
    result = {}
    for group in groups:
        if not group.prunable:
            continue
        total = np.zeros(group.size, dtype=np.float64)
        for name in group.producers:
            if name not in weight_scores:
                raise ValueError(f"No scores for layer {name!r}, a producer of group {group.name!r}.")
            s = np.asarray(weight_scores[name])
            axis = _out_axis(found[name])
            s = np.moveaxis(s, axis, -1) if axis != -1 else s
            unit = s.reshape(-1, s.shape[-1]).sum(axis=0, dtype=np.float64)
            member = next(m for m in group.members if m.layer == name and m.weight in ("kernel", "pointwise_kernel"))
            np.add.at(total, np.asarray(member.channels), unit[np.asarray(member.positions)])
        if reduce == "mean":
            total /= len(group.producers)
        result[group.name] = total.astype(np.float32)
    return result


def round_units(keep: np.ndarray, scores: np.ndarray, multiple: int) -> np.ndarray:
    """``keep`` with its kept count rounded to the nearest multiple of ``multiple`` (halves round up).

    At least one multiple is kept, and never more than the largest multiple the group holds;
    channels are added from the best-scored removed ones and taken away from the worst-scored kept
    ones (ties: lower index is better). Unchanged when ``multiple`` is 1, nothing is removed, or the
    group is smaller than ``multiple``.

    >>> round_units(np.array([1, 1, 1, 0, 0, 0], bool), np.array([6., 5, 4, 3, 2, 1]), 2).tolist()
    [True, True, True, True, False, False]
    """
    keep = np.asarray(keep, dtype=bool).copy()
    scores = np.asarray(scores, dtype=np.float64)
    if keep.shape != scores.shape or keep.ndim != 1:
        raise ValueError(f"keep {keep.shape} and scores {scores.shape} must be vectors of one length.")
    if int(multiple) != multiple or multiple < 1:
        raise ValueError(f"round_to must be a whole number >= 1, not {multiple!r}.")
    multiple, size, kept = int(multiple), keep.size, int(keep.sum())
    if multiple == 1 or kept == size or size < multiple:
        return keep
    target = (kept + multiple // 2) // multiple * multiple
    target = min(max(target, multiple), size // multiple * multiple)
    # rank: best first (higher score, then lower index)
    rank = np.lexsort((np.arange(size), -scores))
    if target > kept:
        add = [i for i in rank if not keep[i]][:target - kept]
        keep[add] = True
    elif target < kept:
        drop = [i for i in rank[::-1] if keep[i]][:kept - target]
        keep[drop] = False
    return keep


def resolve_units(groups, units) -> dict[str, np.ndarray]:
    """{group name: bool vector} from ``units`` keyed by group name (or by another producer of the
    group, which must then agree), checked; all-True entries are kept. ValueError for unknown names,
    wrong lengths, non-boolean values."""
    by_name = {g.name: g for g in groups}
    alias = {p: g for g in groups for p in g.producers}
    resolved: dict[str, np.ndarray] = {}
    for name, mask in units.items():
        group = by_name.get(name) or alias.get(name)
        if group is None:
            prunable = [g.name for g in groups if g.prunable]
            raise ValueError(f"{name!r} is not a prunable layer or group of this model; prunable groups: "
                             f"{', '.join(prunable) or 'none'}.")
        mask = np.asarray(mask)
        if mask.shape != (group.size,):
            raise ValueError(f"The unit mask for {name!r} has shape {mask.shape}; expected ({group.size},).")
        if mask.dtype != bool:
            if not np.isin(mask, (0, 1)).all():
                raise ValueError(f"The unit mask for {name!r} must be boolean (True = kept).")
            mask = mask.astype(bool)
        if group.name in resolved and not np.array_equal(resolved[group.name], mask):
            raise ValueError(f"{name!r} and another key give different masks for group {group.name!r} "
                             f"({', '.join(group.producers)}); key it once, by {group.name!r}.")
        resolved[group.name] = mask
    return resolved


def check_removable(group: Group, mask: np.ndarray) -> str | None:
    """Why ``mask`` (some False) cannot be applied to ``group``, or None."""
    if not group.prunable:
        if "reaches the model output" in group.reason:
            which = (f"Layer {group.name!r} is the output layer" if len(group.producers) == 1 else
                     f"Group {group.name!r} ({', '.join(group.producers)}) reaches the model output")
            return f"{which}: its units are the model's outputs and cannot be removed."
        return f"Group {group.name!r} ({', '.join(group.producers)}) cannot lose units: it {group.reason}."
    if not mask.any():
        what = (f"units of layer {group.name!r}" if len(group.producers) == 1 else
                f"channels of group {group.name!r} ({', '.join(group.producers)})")
        return f"Removing all {group.size} {what} would disconnect the model; keep at least one."
    return None


def _checked(model, units, groups):
    """(walk, {group name: mask}) with every removal allowed, or a ValueError."""
    walk = _walk(model)
    groups = walk.groups if groups is None else groups
    resolved = resolve_units(groups, units)
    by_name = {g.name: g for g in groups}
    for name, mask in resolved.items():
        if not mask.all():
            problem = check_removable(by_name[name], mask)
            if problem:
                raise ValueError(problem)
    return walk, resolved


def _atom_keep(walk: _Walk, resolved: dict[str, np.ndarray]) -> np.ndarray:
    """Kept flag of every root/atom, from group masks."""
    index = {g.name: i for i, g in enumerate(walk.groups)}
    removed_root = np.zeros(walk.root.size, dtype=bool)
    for name, mask in resolved.items():
        roots = np.flatnonzero(walk.group_index == index[name])
        removed_root[roots] = ~mask[walk.channel[roots]]
    return ~removed_root[walk.root]


def _axis_keeps(walk: _Walk, resolved, only_touched: bool = True) -> dict[str, dict[str, dict[int, np.ndarray]]]:
    """{layer: {weight: {axis: kept vector}}} for the weights the named groups touch."""
    keep = _atom_keep(walk, resolved)
    index = {walk.groups[i].name: i for i in range(len(walk.groups))}
    named = np.zeros(len(walk.groups) + 1, dtype=bool)
    named[[index[n] for n in resolved]] = True
    out: dict[str, dict[str, dict[int, np.ndarray]]] = {}
    for layer, weight, axis, atoms in walk.weight_axes():
        if only_touched and not named[walk.group_index[walk.root[atoms]]].any():
            continue
        out.setdefault(layer, {}).setdefault(weight, {})[axis] = keep[atoms]
    return out


def _full_mask(shape: tuple, axes: dict[int, np.ndarray]) -> np.ndarray:
    mask = np.ones(shape, dtype=bool)
    for axis, vec in axes.items():
        view = [1] * len(shape)
        view[axis] = shape[axis]
        mask &= vec.reshape(view)
    return mask


def weight_masks(model, units, groups=None) -> dict[str, dict[str, np.ndarray]]:
    """{layer: {weight name: bool mask of the weight's full shape, True = kept}} for every weight the
    groups named in ``units`` touch: producers' output columns and biases, per-channel parameters
    (BatchNormalization gamma/beta/moving statistics, PReLU alpha, DepthwiseConv kernel/bias),
    consumers' input rows/channels (through Concatenate offsets and Flatten/Reshape blocks:
    channels-last flat index ``(h*W + w)*C + c``).

    ``units``: {group name: bool vector over its channels, True = kept}. ValueError for unknown
    names, wrong lengths, groups that are not prunable and removing every channel of a group.
    """
    walk, resolved = _checked(model, units, groups)
    return _weight_masks(walk, resolved)


def _weight_masks(walk: _Walk, resolved) -> dict[str, dict[str, np.ndarray]]:
    masks: dict[str, dict[str, np.ndarray]] = {}
    for layer_name, weights in _axis_keeps(walk, resolved).items():
        layer = walk.layers[layer_name]
        shapes = {w.name: tuple(w.shape) for w in layer.weights}
        masks[layer_name] = {w: _full_mask(shapes[w], a) for w, a in weights.items()}
    return masks


def zero_units(model, units, groups=None) -> None:
    """In place: multiply every ``weight_masks`` mask into the model's variables."""
    walk, resolved = _checked(model, units, groups)
    for layer_name, weights in _weight_masks(walk, resolved).items():
        layer = walk.layers[layer_name]
        variables = {w.name: w for w in layer.weights}
        for weight, mask in weights.items():
            variable = variables[weight]
            value = np.asarray(variable.numpy())
            variable.assign(np.where(mask, value, np.zeros_like(value)))
