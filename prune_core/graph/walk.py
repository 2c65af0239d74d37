"""The one walker over a Keras graph: every channel of every tensor labelled with an *atom*.

A producer's output channels (a Dense/Conv layer's units, an RNN's units, an Embedding's width, an attention
layer's output channels) get fresh atoms (the same atoms for every call of a shared layer); a model input or the
output of a layer the table of kinds (``kinds.KINDS``) does not know gets fresh *fixed* atoms (they can never be
removed). Channel-following layers pass the labels on; Add & co. (and ``x + y`` in the graph) unite the labels of
their inputs position by position; Concatenate concatenates them; Flatten/Reshape tile them (channels-last flat
index ``(h*W + w)*C + c``); a GroupNormalization unites the channels of each of its groups, a grouped convolution
each group's input channels with its output filters. In streams mode (``Walk(model, streams=True)``)
LayerNormalization/RMSNormalization pass labels like BatchNormalization. A group is a set of producers linked by united
atoms; each united class of atoms is one of its channels. A group is not prunable when one of its
channels reaches a model output, feeds a layer kind the table does not know (or a known kind in a
configuration it cannot slice), or is united with fixed atoms; ``Group.reason`` says which.

Nested Functional/Sequential models are walked into; a subclassed model nested inside is opaque (an
unknown layer); a top-level subclassed model, an unbuilt Sequential, or two layers with one name are
refused with a ValueError. ``Walk`` is the walker's result; ``dependency.DependencyGraph`` is the
object the rest of the library holds. TensorFlow/Keras is imported inside functions only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .kinds import (BARRIER_WHY, PRODUCER_ROLES, STREAM_NORMS, WRAPPER_WHY, activation_rule, concat_on_last,
                    couples_as_op, describe, in_axis, kind, producer_axes, producer_size, stream_rule, unit_rule,
                    weights_by_id)
from .units import Group, Member


def graph_of(model):
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


def is_graph_model(op) -> bool:
    """Whether ``op`` is a nested Functional model or a built Sequential (walked into, not a layer)."""
    import keras
    from keras.src.models.functional import Functional

    return isinstance(op, Functional) or (isinstance(op, keras.Sequential)
                                          and getattr(op, "_functional", None) is not None)


def interpret(model, inputs: list, call, scope: tuple = ()) -> list:
    """Run ``call(op, node, inputs, values, scope)`` over the graph in topological order.

    Nested Functional/Sequential models are walked into (``scope`` names the models around a
    layer). ``inputs`` are the values for ``model.inputs``; returns the values of its outputs.
    """
    graph = graph_of(model)
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
            if is_graph_model(op):
                outputs = interpret(op, args, call, scope + ((op, node),))
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


class Walk:
    """One walk of a model: atoms, unions, and what each layer's weights read and write."""

    def __init__(self, model, streams: bool = False):
        import keras

        self.keras = keras
        self.streams = streams  # LayerNormalization/RMSNormalization pass channels (see kinds.STREAM_NORMS)
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
        graph = graph_of(model)
        inputs = [self._fresh(t.shape, f"the model input {t._keras_history[0].name!r}") for t in graph.inputs]
        self.input_ids = [id(v) for v in inputs]
        outputs = interpret(model, inputs, self._call)
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
        source = f"the output of {describe(op)}"
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
            if couples_as_op(op, node):
                return [self._couple(op, node, ins, tuple(node.outputs[0].shape))]
            return self._opaque(op, node, ins, f"feeds the operation {describe(op)} (a kind the graph does not know)")
        self._register(op, scope)
        role = kind(op)
        if role is None:
            wrapper = WRAPPER_WHY.get(type(op).__name__) if type(op).__module__.startswith("keras.") else None
            why = f"feeds {describe(op)}, {wrapper}" if wrapper else f"feeds {describe(op)} (a layer kind the graph does not know)"
            return self._opaque(op, node, ins, why)
        rank = len(node.input_tensors[0].shape) if node.input_tensors else None
        if role == "barrier" and self.streams and type(op).__name__ in STREAM_NORMS:
            why = stream_rule(op, rank) or unit_rule(op, "channel_params", rank)
            if why:
                return self._opaque(op, node, ins, f"feeds {describe(op)}, which {why}")
            role = "channel_params"
        if role == "barrier":
            return self._opaque(op, node, ins, f"feeds {describe(op)}, {BARRIER_WHY[type(op).__name__]}")
        why = unit_rule(op, role, rank)
        out_shape = tuple(node.outputs[0].shape) if node.outputs else ()
        if role in PRODUCER_ROLES:
            return self._produce(op, node, ins, role, why, out_shape)
        if role == "group_norm" and not why:
            return [self._group_norm(op, node, ins, out_shape)]
        if why and type(op).__name__ in ("Activation", "Softmax") and len(ins) == 1 and ins[0].atoms is not None:
            # softmax & co. keep one output per channel but mix them: nothing may go, yet the channels
            # still reach what follows (a Dense + softmax head is still the output layer)
            self._block(ins, f"feeds {describe(op)}, which {why}")
            return [_Value(ins[0].atoms, out_shape)]
        if why:
            return self._opaque(op, node, ins, f"feeds {describe(op)}, which {why}")
        if role in ("follow", "channel_params"):
            value = ins[0] if len(ins) == 1 else _Value(None, ())
            if value.atoms is None or len(node.outputs) != 1 or out_shape[-1] != value.shape[-1]:
                return self._opaque(op, node, ins, f"feeds {describe(op)}, which changes the channel axis")
            if op.weights:
                self._read(op, value.atoms)
            return [_Value(value.atoms, out_shape)]
        if role == "couple" or (role == "concat" and not concat_on_last(op, out_shape)):
            return [self._couple(op, node, ins, out_shape)]
        if role == "concat":
            if any(v.atoms is None for v in ins):
                return self._opaque(op, node, ins, f"feeds {describe(op)} with an input of unknown size")
            return [_Value(np.concatenate([v.atoms for v in ins]), out_shape)]
        if role == "reshape":
            return [self._reshape(op, node, ins, out_shape)]
        return self._opaque(op, node, ins, f"feeds {describe(op)} (a layer kind the graph does not know)")

    def _produce(self, op, node, ins, role, why, out_shape) -> list:
        """A producer's call: its output units get its atoms (the same for every call of a shared layer); its
        weights read the input channels (an Embedding reads token ids, not channels)."""
        atoms = self.producers.get(op.name)
        if atoms is None:
            atoms = self.producers[op.name] = self.uf.new(producer_size(op))
        if role == "recurrent" and len(ins) > 1 and not why:
            why = "is called with initial states or constants"
        groups = int(op.get_config().get("groups", 1)) if role == "prunable" else 1
        if why:
            self._block(ins, f"feeds {describe(op)}, which {why}")
        elif groups > 1:
            self._unite_groups(op, node, ins, atoms, groups)
        elif role == "attention":
            self._read_attention(op, node, ins, atoms)
        elif role != "embedding" and ins[0].atoms is not None:
            self._read(op, ins[0].atoms)
        if why:
            self.blocked.append((atoms, f"is produced by {describe(op)}, which {why}"))
        mixing = activation_rule(op) if role == "prunable" else None
        if mixing:
            self.blocked.append((atoms, f"is produced by {describe(op)}, which {mixing}"))
        if role == "attention":  # the attention scores, when returned, are no channels of anyone's
            return [_Value(atoms, out_shape)] + [self._fresh(t.shape, f"the attention scores of {describe(op)}")
                                                 for t in node.outputs[1:]]
        # an RNN with return_state also returns its last state(s): the same units
        return [_Value(atoms, tuple(t.shape)) for t in node.outputs] if node.outputs else [_Value(atoms, out_shape)]

    def _read_attention(self, op, node, ins, atoms) -> None:
        """A MultiHeadAttention's query, key and value kernels read the channels of its query, key (the value when
        not given) and value inputs: recorded as one read, query | key | value."""
        args, kwargs = node.arguments.args, node.arguments.kwargs

        def argument(index, name):
            return args[index] if len(args) > index else kwargs.get(name)

        query, value, key = argument(0, "query"), argument(1, "value"), argument(2, "key")
        key = value if key is None else key
        where = {id(t): i for i, t in enumerate(node.input_tensors)}
        parts = [ins[where[id(t)]] if id(t) in where else None for t in (query, key, value)]
        if any(part is None or part.atoms is None for part in parts):
            self._block(ins, f"feeds {describe(op)} with an input of unknown size")
            self.blocked.append((atoms, f"is produced by {describe(op)}, whose inputs have unknown sizes"))
            return
        self._read(op, np.concatenate([part.atoms for part in parts]))

    def _unite_groups(self, op, node, ins, atoms, groups: int) -> None:
        """A grouped convolution: group g's output filters read only group g's input channels, so the two
        are one channel of a dependency group (removed together; the kernel's input axis is not cut)."""
        if ins[0].atoms is None:
            self._block(ins, f"feeds {describe(op)} with an input of unknown size")
            self.blocked.append((atoms, f"is produced by {describe(op)}, whose input has an unknown size"))
            return
        for inside, outside in zip(ins[0].atoms.reshape(groups, -1), atoms.reshape(groups, -1)):
            block = np.concatenate([inside, outside])
            self.uf.union(np.full(block.size - 1, block[0]), block[1:])

    def _group_norm(self, op, node, ins, out_shape) -> _Value:
        """GroupNormalization: the channels of one of its groups are one channel of the dependency group
        (united), so only whole groups go; gamma and beta follow their channel."""
        (value,) = ins if len(ins) == 1 else (_Value(None, ()),)
        if value.atoms is None:
            return self._opaque(op, node, ins, f"feeds {describe(op)} with an input of unknown size")[0]
        groups = int(op.groups)
        if groups == -1 or groups == value.atoms.size:
            pass  # one channel per group (instance normalization): nothing to unite
        else:
            for block in value.atoms.reshape(groups, -1):
                self.uf.union(np.full(block.size - 1, block[0]), block[1:])
        if op.weights:
            self._read(op, value.atoms)
        return _Value(value.atoms, out_shape)

    def _couple(self, op, node, ins, out_shape) -> _Value:
        last = out_shape[-1]
        if last is None or any(v.atoms is None for v in ins):
            return self._opaque(op, node, ins, f"feeds {describe(op)} with an input of unknown size")[0]
        full = [v for v in ins if v.atoms.size == last]
        for v in ins:
            if v.atoms.size != last:  # broadcast over the channels (size 1): its one channel must stay
                self.blocked.append((v.atoms, f"is broadcast over the channels in {describe(op)}"))
        for v in full[1:]:
            self.uf.union(full[0].atoms, v.atoms)
        return _Value(full[0].atoms, out_shape)

    def _reshape(self, op, node, ins, out_shape) -> _Value:
        if len(ins) != 1:
            return self._opaque(op, node, ins, f"feeds {describe(op)} with several inputs")[0]
        (value,) = ins
        total_known = all(d is not None for d in value.shape[1:]) and all(d is not None for d in out_shape[1:])
        if value.atoms is None or not total_known:
            return self._opaque(op, node, ins, f"feeds {describe(op)} with sizes unknown before the data")[0]
        last = int(out_shape[-1]) if len(out_shape) > 1 else 1
        period = _period(value.atoms)
        if len(out_shape) < 2 or last % period:
            return self._opaque(op, node, ins, f"feeds {describe(op)}, which moves channels off the last axis")[0]
        atoms = np.tile(value.atoms[:period], last // period)
        if type(op).__name__ == "Reshape":
            seen = self.reshapes.get(op.name)
            if seen is not None and not (np.array_equal(seen[0], value.atoms) and np.array_equal(seen[1], atoms)):
                return self._opaque(op, node, ins, f"feeds {describe(op)}, which is called on different tensors")[0]
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
            if kind(self.layers[name]) in ("prunable", "recurrent", "attention"):
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
            for weight, axis, along in producer_axes(self.layers[name], atoms):
                yield name, weight, axis, along
        for name in self.reads:
            yield from self._reads_axes(name)

    def _reads_axes(self, name: str):
        layer, atoms = self.layers[name], self.reads[name]
        cls = type(layer).__name__
        if kind(layer) == "attention":  # atoms: query | key | value channels
            start, found = 0, weights_by_id(layer)
            for part in ("query", "key", "value"):
                size = int(found[f"{part}/kernel"].shape[0])
                yield name, f"{part}/kernel", 0, atoms[start:start + size]
                start += size
            return
        for wid, w in weights_by_id(layer).items():
            shape = tuple(w.shape)
            if cls.startswith("SeparableConv"):
                if wid == "depthwise_kernel":
                    yield name, wid, len(shape) - 2, atoms
                elif wid == "pointwise_kernel":
                    yield name, wid, len(shape) - 2, np.repeat(atoms, shape[-2] // atoms.size)
            elif kind(layer) == "prunable":
                if wid == "kernel":
                    yield name, wid, len(shape) + in_axis(layer), atoms
            elif kind(layer) == "recurrent":
                if wid == "kernel":
                    yield name, wid, 0, atoms
            elif cls.startswith("DepthwiseConv"):
                yield name, wid, (len(shape) - 2 if wid == "kernel" else 0), atoms
            elif cls == "PReLU":
                if shape[-1] == atoms.size and (atoms.size == 1 or shape[-1] != 1):
                    yield name, wid, len(shape) - 1, atoms
            else:  # BatchNormalization, GroupNorm, LayerNorm (streams), LayerScale: per-channel vectors
                yield name, wid, 0, atoms

    # masks ----------------------------------------------------------------------------------------
    def atom_keep(self, resolved: dict[str, np.ndarray]) -> np.ndarray:
        """Kept flag of every root/atom, from group masks ({group name: bool vector})."""
        index = {g.name: i for i, g in enumerate(self.groups)}
        removed_root = np.zeros(self.root.size, dtype=bool)
        for name, mask in resolved.items():
            roots = np.flatnonzero(self.group_index == index[name])
            removed_root[roots] = ~mask[self.channel[roots]]
        return ~removed_root[self.root]

    def axis_keeps(self, resolved, only_touched: bool = True) -> dict[str, dict[str, dict[int, np.ndarray]]]:
        """{layer: {weight: {axis: kept vector}}} for the weights the named groups touch."""
        keep = self.atom_keep(resolved)
        index = {self.groups[i].name: i for i in range(len(self.groups))}
        named = np.zeros(len(self.groups) + 1, dtype=bool)
        named[[index[n] for n in resolved]] = True
        out: dict[str, dict[str, dict[int, np.ndarray]]] = {}
        for layer, weight, axis, atoms in self.weight_axes():
            if only_touched and not named[self.group_index[self.root[atoms]]].any():
                continue
            out.setdefault(layer, {}).setdefault(weight, {})[axis] = keep[atoms]
        return out
