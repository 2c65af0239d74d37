"""The dependency graph of a model, built once (Torch-Pruning's ``DependencyGraph``): its layers, its
dependency groups, group scores and unit masks; ``dependency_graph(model)`` builds it or returns the one
already built for that model.

A **dependency group** (Torch-Pruning's DepGraph idea) is the set of weight slices that must go
together when one unit goes: a Dense/conv output column and its bias, the BatchNormalization /
PReLU / DepthwiseConv entries of that channel, the next layers' input rows/channels that read it
(through pooling, padding, Flatten/Reshape blocks and Concatenate offsets), and, through Add /
Multiply / ... (whose inputs share channel indices), every other layer writing the same channels:
a ResNet stage's residual stream is one group with several producers. How the groups are found is
``walk``'s job; the roles of layer classes are ``kinds``'; group types and mask checks are ``units``'.

The functions taking a model (``layers``, ``dependency_groups``, ``weight_masks``, ...) are the
library's face; each asks ``dependency_graph(model)``, so a model graph is walked once, whatever
is asked of it. The cache holds no reference to the model (a weak reference to its graph; the weight
count catches a later quantize() or LoRA); ``clear_cache()`` empties it.

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
>>> dependency_graph(model) is dependency_graph(model)
True
"""

from __future__ import annotations

import weakref

import numpy as np

from .kinds import kind, score_axes, weights_by_id
from .targets import Target, targets_of
from .units import Group, check_removable, full_mask, resolve_units
from .walk import Walk, graph_of


class DependencyGraph:
    """One model's layers and dependency groups, computed once from its graph.

    Holds the layers (not the model): ``layers`` {name: layer} in topological order (first call),
    nested Functional/Sequential models walked into; ``groups`` every dependency group (prunable or
    not) in topological order of its first producer; ``walk`` the walker's result (atoms and calls),
    which ``surgery`` reads to rebuild a smaller model.
    """

    def __init__(self, model, streams: bool = False):
        self.streams = streams
        self.walk = Walk(model, streams=streams)
        self._targets: list[Target] | None = None

    @property
    def layers(self) -> dict[str, object]:
        """{name: layer} for every non-Input layer, in topological order (first call)."""
        return self.walk.layers

    @property
    def groups(self) -> list[Group]:
        """Every dependency group; every prunable layer is the producer of exactly one."""
        return self.walk.groups

    def prunable_layers(self) -> list:
        """The layers whose kernel can be pruned (weight by weight), in topological order."""
        return [layer for layer in self.layers.values() if kind(layer) == "prunable"]

    def targets(self) -> list[Target]:
        """Every weight target (kernel-like variable, nested ones included), in model order; see ``targets``."""
        if self._targets is None:
            self._targets = targets_of(self.layers.values())
        return self._targets

    def kernels(self) -> dict[str, np.ndarray]:
        """{target key: kernel as float32 numpy} for every weight target, in model order (a prunable layer's
        key is its name)."""
        return {target.key: target.value() for target in self.targets()}

    def output_layer_name(self) -> str | None:
        """Name of the last prunable layer (the classifier: its units are the model's outputs)."""
        found = self.prunable_layers()
        return found[-1].name if found else None

    def output_layer_names(self) -> set[str]:
        """Prunable layers whose output units reach a model output unchanged (never unit-pruned)."""
        walk = self.walk
        return {name for name, atoms in walk.producers.items()
                if set(walk.root[atoms].tolist()) & walk.reaches_output}

    def group_scores(self, weight_scores, groups=None, *, reduce: str = "sum") -> dict[str, np.ndarray]:
        """{group name: float32 score per channel} for the prunable groups (see ``group_scores``)."""
        if reduce not in ("sum", "mean"):
            raise ValueError(f"reduce must be 'sum' or 'mean', not {reduce!r}.")
        if groups is None:
            groups = list(self.groups)
        keys = {(t.top, self.weight_id(t)): t.key for t in self.targets()}
        result = {}
        for group in groups:
            if not group.prunable:
                continue
            total = np.zeros(group.size, dtype=np.float64)
            for name in group.producers:
                for weight, axis in score_axes(self.layers[name]):
                    key = keys.get((name, weight))
                    if key not in weight_scores:
                        which = f" (its {weight} {key!r})" if key not in (None, name) else ""
                        raise ValueError(f"No scores for layer {name!r}{which}, a producer of group {group.name!r}.")
                    s = np.asarray(weight_scores[key])
                    unit = np.moveaxis(s, axis, -1).reshape(-1, s.shape[axis]).sum(axis=0, dtype=np.float64)
                    member = next(m for m in group.members if (m.layer, m.weight, m.axis) == (name, weight, axis))
                    np.add.at(total, np.asarray(member.channels), unit[np.asarray(member.positions)])
            if reduce == "mean":
                total /= len(group.producers)
            result[group.name] = total.astype(np.float32)
        return result

    def weight_id(self, target: Target) -> str | None:
        """The id (``kinds.weights_by_id``) of a target's variable within its graph layer, or None when the graph
        layer does not hold it directly (a kernel nested in a custom layer)."""
        top = self.layers.get(target.top)
        variable = target.variable
        found = weights_by_id(top) if top is not None else {}
        return next((wid for wid, v in found.items() if v is variable), None)

    def checked_units(self, units, groups=None) -> dict[str, np.ndarray]:
        """{group name: mask} from ``units`` with every removal allowed, or a ValueError."""
        groups = self.groups if groups is None else groups
        resolved = resolve_units(groups, units)
        by_name = {g.name: g for g in groups}
        for name, mask in resolved.items():
            if not mask.all():
                problem = check_removable(by_name[name], mask)
                if problem:
                    raise ValueError(problem)
        return resolved

    def weight_masks(self, units, groups=None) -> dict[str, dict[str, np.ndarray]]:
        """{layer: {weight name: bool mask of its full shape, True = kept}} (see ``weight_masks``)."""
        return self._masks(self.checked_units(units, groups))

    def zero_units(self, units, groups=None) -> None:
        """In place: multiply every ``weight_masks`` mask into the layers' variables."""
        for layer_name, weights in self._masks(self.checked_units(units, groups)).items():
            variables = weights_by_id(self.layers[layer_name])
            for weight, mask in weights.items():
                variable = variables[weight]
                value = np.asarray(variable.numpy())
                variable.assign(np.where(mask, value, np.zeros_like(value)))

    def _masks(self, resolved) -> dict[str, dict[str, np.ndarray]]:
        masks: dict[str, dict[str, np.ndarray]] = {}
        for layer_name, weights in self.walk.axis_keeps(resolved).items():
            shapes = {wid: tuple(v.shape) for wid, v in weights_by_id(self.layers[layer_name]).items()}
            masks[layer_name] = {w: full_mask(shapes[w], a) for w, a in weights.items()}
        return masks


_GRAPHS: dict[tuple, tuple] = {}  # (id(Functional graph), streams) -> (weakref to it, weight count, DependencyGraph)


def dependency_graph(model, *, streams: bool = False) -> DependencyGraph:
    """The ``DependencyGraph`` of ``model``, built once per model graph and returned again while the
    graph lives and its weight count is unchanged (a Functional graph cannot change; the weight count
    catches a later quantize() or LoRA; ``Sequential.add`` makes a new graph). ValueError for a
    subclassed model, an unbuilt Sequential or two layers with one name.

    ``streams=True``: LayerNormalization/RMSNormalization over the channels let channels through (sliced per
    channel) instead of keeping what feeds them whole, so a transformer's or ConvNeXt's residual stream is one
    prunable group. Removing stream channels then changes the normalization's statistics: the compact model
    (``surgery.compact(..., streams=True)``) is the truth, the masked one only an approximation."""
    graph = graph_of(model)
    n_weights = len(graph.weights)
    key = (id(graph), bool(streams))
    cached = _GRAPHS.get(key)
    if cached is not None and cached[0]() is graph and cached[1] == n_weights:
        return cached[2]
    built = DependencyGraph(model, streams=bool(streams))
    _GRAPHS[key] = (weakref.ref(graph, lambda _, key=key: _GRAPHS.pop(key, None)), n_weights, built)
    return built


def clear_cache() -> None:
    """Forget every built ``DependencyGraph`` (the next ``dependency_graph`` call walks afresh)."""
    _GRAPHS.clear()


# --- the same, one model at a time ---------------------------------------------------------------

def layers(model) -> list:
    """Every non-Input layer in topological order (first call), nested Functional/Sequential models
    walked into (they are not listed themselves)."""
    return list(dependency_graph(model).layers.values())


def prunable_layers(model) -> list:
    """The layers whose kernel can be pruned (weight by weight), in topological order."""
    return dependency_graph(model).prunable_layers()


def kernels(model) -> dict[str, np.ndarray]:
    """{target key: kernel as float32 numpy} for every weight target, in model order (see ``targets``)."""
    return dependency_graph(model).kernels()


def weight_targets(model) -> list[Target]:
    """Every weight target of ``model`` (kernel-like variable, nested ones included), in model order."""
    return dependency_graph(model).targets()


def output_layer_name(model) -> str | None:
    """Name of the last prunable layer (the classifier: its units are the model's outputs)."""
    return dependency_graph(model).output_layer_name()


def output_layer_names(model) -> set[str]:
    """Prunable layers whose output units reach a model output unchanged (never unit-pruned)."""
    return dependency_graph(model).output_layer_names()


def dependency_groups(model, *, streams: bool = False) -> list[Group]:
    """All dependency groups (prunable or not), in topological order of their first producer.

    Every prunable layer is the producer of exactly one group. ``streams``: see ``dependency_graph``.
    """
    return list(dependency_graph(model, streams=streams).groups)


def group_scores(model, weight_scores, groups=None, *, reduce: str = "sum", streams: bool = False
                 ) -> dict[str, np.ndarray]:
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
    return dependency_graph(model, streams=streams).group_scores(weight_scores, groups, reduce=reduce)


def weight_masks(model, units, groups=None, *, streams: bool = False) -> dict[str, dict[str, np.ndarray]]:
    """{layer: {weight name: bool mask of the weight's full shape, True = kept}} for every weight the
    groups named in ``units`` touch: producers' output columns and biases, per-channel parameters
    (BatchNormalization gamma/beta/moving statistics, PReLU alpha, DepthwiseConv kernel/bias),
    consumers' input rows/channels (through Concatenate offsets and Flatten/Reshape blocks:
    channels-last flat index ``(h*W + w)*C + c``).

    ``units``: {group name: bool vector over its channels, True = kept}. ValueError for unknown
    names, wrong lengths, groups that are not prunable and removing every channel of a group.
    """
    return dependency_graph(model, streams=streams).weight_masks(units, groups)


def zero_units(model, units, groups=None, *, streams: bool = False) -> None:
    """In place: multiply every ``weight_masks`` mask into the model's variables."""
    dependency_graph(model, streams=streams).zero_units(units, groups)
