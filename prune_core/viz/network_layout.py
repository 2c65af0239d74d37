"""The geometry of the network picture, without plotly: which neurons and connections are drawn, and where.

For stacks of Dense layers (784-128-10, LeNet-300-100 784-300-100-10, uploaded Dense stacks up to
:data:`MAX_UNITS` units a layer). Layers are columns of neurons; a wide input (784 pixels) is shown as the
:data:`MAX_INPUTS` inputs with the largest total outgoing |w|. Every connection is drawn for small layers;
for large ones ``k`` per neuron (at most ``max_edges`` in all, so the browser stays fast): the ``k``
strongest incoming weights (``sample="strongest"``) or ``k`` spread evenly over the neuron's ranks by
|w|, strongest to weakest (``sample="spread"``: the faded share then tracks how much is pruned, which the
strongest alone hide — they are the last a magnitude rule takes). Which connections are drawn depends on
the dense weights only, so the picture keeps its lines as a slider moves and only their colours change.
``network.network_figure`` draws a :class:`NetworkLayout`.

>>> layout = network_layout({"h": np.ones((6, 4)), "out": np.ones((4, 2))}, max_edges=16)
>>> [(d.name, d.drawn, d.per_neuron) for d in layout.layers], layout.units
([('h', 8, 2), ('out', 8, None)], (4, 2))
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np

MAX_EDGES = 3000   # connections drawn in all: a few thousand lines keep the browser fast
MAX_INPUTS = 64    # a wider input layer (784 pixels) is shown as its strongest inputs
MAX_UNITS = 512    # neurons per layer that can be drawn legibly
SAMPLES = ("spread", "strongest")


@dataclass(frozen=True)
class LayerEdges:
    """The connections drawn into one Dense layer: kernel positions ``rows`` (inputs) → ``cols`` (neurons)."""

    name: str
    rows: np.ndarray
    cols: np.ndarray
    total: int                 # the layer's kernel weights
    per_neuron: int | None     # k connections per neuron; None: all of them, or the strongest overall (see complete)
    sources: int = 0           # inputs drawn for this layer (the previous column)
    neurons: int = 0           # the layer's neurons

    @property
    def drawn(self) -> int:
        return int(self.rows.size)

    @property
    def complete(self) -> bool:
        """Every connection between the drawn inputs and this layer's neurons is drawn."""
        return self.drawn == self.sources * self.neurons


@dataclass(frozen=True)
class NetworkLayout:
    """Which neurons and connections are drawn, and where — from the dense kernels only (computed once per model)."""

    names: tuple[str, ...]
    inputs: np.ndarray                 # the input indices drawn (column 0)
    n_inputs: int
    units: tuple[int, ...]             # neurons per layer
    layers: tuple[LayerEdges, ...]
    y: tuple[np.ndarray, ...]          # per column (inputs first): each drawn node's height in [0, 1]
    sample: str


def check_dense_stack(kernels: Mapping[str, np.ndarray], kinds: Mapping[str, str] | None = None,
                      groups=None, *, max_units: int = MAX_UNITS) -> list[str]:
    """The layer names, in order, when ``kernels`` are a chain of Dense layers that can be drawn; else a
    ValueError whose message says what the page supports. ``kinds``: {layer: class name}; ``groups``: the
    model's dependency groups (``prune_core.graph``), which show branches the kernel shapes cannot.

    >>> check_dense_stack({"a": np.ones((4, 3)), "b": np.ones((3, 2))})
    ['a', 'b']
    >>> check_dense_stack({"c": np.ones((3, 3, 1, 8))})
    Traceback (most recent call last):
    ...
    ValueError: The network view draws stacks of Dense layers (an MLP such as 784-300-100-10); layer 'c' is not Dense (its kernel is 3×3×1×8).
    """
    names = list(kernels)
    lead = "The network view draws stacks of Dense layers (an MLP such as 784-300-100-10)"
    if not names:
        raise ValueError(f"{lead}; this model has no Dense layer.")
    for name in names:
        kind = (kinds or {}).get(name, "Dense")
        shape = np.shape(kernels[name])
        if kind != "Dense":
            raise ValueError(f"{lead}; layer {name!r} is a {kind}.")
        if len(shape) != 2:
            raise ValueError(f"{lead}; layer {name!r} is not Dense (its kernel is {'×'.join(map(str, shape))}).")
    for before, after in zip(names, names[1:]):
        if np.shape(kernels[before])[1] != np.shape(kernels[after])[0]:
            raise ValueError(f"{lead}; layer {after!r} does not read {before!r} alone ({np.shape(kernels[before])[1]} "
                             f"outputs, {np.shape(kernels[after])[0]} inputs), so the layers are not one chain.")
    if groups is not None:
        by_name = {g.name: g for g in groups}
        for before, after in zip(names, names[1:]):
            group = by_name.get(before)
            if group is None or tuple(group.producers) != (before,) or tuple(group.consumers) != (after,):
                raise ValueError(f"{lead}; layer {before!r} feeds more than the next layer {after!r} (a branch or a "
                                 "shared channel), so the layers are not one chain.")
    for name in names:
        units = np.shape(kernels[name])[1]
        if units > max_units:
            raise ValueError(f"Layer {name!r} has {units:,} neurons: too many to draw legibly (up to {max_units:,} "
                             "per layer). The Prune page shows every layer of any model.")
    return names


def strongest_inputs(kernel: np.ndarray, n: int = MAX_INPUTS) -> np.ndarray:
    """The ``n`` inputs (rows) with the largest total outgoing |w|, in index order (ties: the lower index).

    >>> strongest_inputs(np.array([[1.0, 1.0], [0.1, 0.0], [-3.0, 0.0], [0.5, 0.5]]), 2).tolist()
    [0, 2]
    """
    rows = np.abs(np.asarray(kernel, dtype=np.float64)).sum(axis=1)
    if rows.size <= n:
        return np.arange(rows.size)
    return np.sort(np.argsort(-rows, kind="stable")[:n])


def _ranked(magnitude: np.ndarray, k: int, sample: str) -> np.ndarray:
    """Positions (along axis 0) of ``k`` of each column's entries: the strongest, or spread over the ranks."""
    order = np.argsort(-magnitude, axis=0, kind="stable")  # per column, strongest first; ties: lower index
    n = magnitude.shape[0]
    if sample == "strongest" or k >= n:
        picks = np.arange(min(k, n))
    else:
        picks = np.arange(k) * (n - 1) // max(k - 1, 1) if k > 1 else np.zeros(1, dtype=int)
    return order[picks]


def edges_for(kernel: np.ndarray, rows: np.ndarray, budget: int, sample: str = "spread") -> tuple:
    """(rows, cols, k) of the connections drawn from the inputs ``rows`` into every neuron, at most
    ``budget``: all of them when they fit; else ``k = budget // neurons`` per neuron (strongest |w| or spread
    over the ranks); when not even one each fits, ``budget`` overall (k None).

    >>> w = np.array([[0.1, -0.9], [0.5, 0.2], [-0.3, 0.8]])
    >>> r, c, k = edges_for(w, np.arange(3), 4, "strongest")
    >>> sorted(zip(r.tolist(), c.tolist())), k
    ([(0, 1), (1, 0), (2, 0), (2, 1)], 2)
    """
    if sample not in SAMPLES:
        raise ValueError(f"Unknown sample {sample!r}; choose one of {', '.join(SAMPLES)}.")
    rows = np.asarray(rows, dtype=np.int64)
    sub = np.abs(np.asarray(kernel, dtype=np.float64)[rows])
    n_in, n_out = sub.shape
    if n_in * n_out <= budget:
        r, c = np.meshgrid(np.arange(n_in), np.arange(n_out), indexing="ij")
        return rows[r.ravel()], c.ravel(), None
    k = budget // n_out
    if k >= 1:
        picked = _ranked(sub, k, sample)                     # (k, n_out) positions into ``rows``
        cols = np.broadcast_to(np.arange(n_out), picked.shape)
        order = np.lexsort((picked.ravel(), cols.ravel()))   # by neuron, then input
        return rows[picked.ravel()[order]], cols.ravel()[order], int(k)
    flat = _ranked(sub.ravel()[:, None], budget, sample)[:, 0]
    flat = np.sort(flat)
    return rows[flat // n_out], flat % n_out, None


def network_layout(kernels: Mapping[str, np.ndarray], *, max_edges: int = MAX_EDGES, max_inputs: int = MAX_INPUTS,
                   sample: str = "spread") -> NetworkLayout:
    """Which neurons and connections to draw, and the nodes' heights (see the module docstring).

    The edge budget is shared out smallest layer first: a layer whose connections all fit its share gets
    them all and leaves the rest to the larger ones.
    """
    names = check_dense_stack(kernels)
    if max_edges < len(names):
        raise ValueError(f"max_edges must be at least one per layer ({len(names)}), not {max_edges}.")
    first = np.asarray(kernels[names[0]])
    inputs = strongest_inputs(first, max_inputs)
    sources = {names[0]: inputs}
    for before, name in zip(names, names[1:]):
        sources[name] = np.arange(np.shape(kernels[before])[1])
    full = {n: len(sources[n]) * np.shape(kernels[n])[1] for n in names}
    left, budgets = max_edges, {}
    for i, name in enumerate(sorted(names, key=lambda n: (full[n], names.index(n)))):
        share = left // (len(names) - i)
        budgets[name] = share
        left -= _drawn_count(full[name], int(np.shape(kernels[name])[1]), share)
    layers = []
    for name in names:
        r, c, k = edges_for(kernels[name], sources[name], budgets[name], sample)
        layers.append(LayerEdges(name=name, rows=r, cols=c, total=int(np.size(kernels[name])), per_neuron=k,
                                 sources=len(sources[name]), neurons=int(np.shape(kernels[name])[1])))
    units = tuple(int(np.shape(kernels[n])[1]) for n in names)
    heights = tuple(_heights(n) for n in (len(inputs), *units))
    return NetworkLayout(names=tuple(names), inputs=inputs, n_inputs=int(first.shape[0]), units=units,
                         layers=tuple(layers), y=heights, sample=sample)


def _drawn_count(full: int, neurons: int, budget: int) -> int:
    """How many connections :func:`edges_for` draws for a layer of ``full`` connections into ``neurons``."""
    if full <= budget:
        return full
    return (budget // neurons) * neurons if budget >= neurons else budget


def _heights(n: int) -> np.ndarray:
    """``n`` nodes from top to bottom, centred on 0.5: small columns get a fixed gap, large ones fill [0, 1]."""
    if n <= 1:
        return np.full(n, 0.5)
    gap = min(0.08, 1.0 / (n - 1))
    return 0.5 + gap * (n - 1) / 2 - gap * np.arange(n)


def removed_neurons(keep: Mapping[str, np.ndarray], unit_keep: Mapping[str, np.ndarray] | None,
                    names) -> dict[str, np.ndarray]:
    """{layer: bool per neuron, True = removed}: removed by unit pruning, or every incoming weight pruned.

    >>> removed_neurons({"h": np.array([[True, False], [False, False]])}, None, ["h"])["h"].tolist()
    [False, True]
    """
    result = {}
    for name in names:
        gone = ~np.asarray(keep[name], dtype=bool).any(axis=0)
        if unit_keep and name in unit_keep:
            gone |= ~np.asarray(unit_keep[name], dtype=bool)
        result[name] = gone
    return result


def pruned_filters(keep: np.ndarray) -> np.ndarray:
    """Per output filter of a conv kernel mask (kh, kw, cin, cout): True when every weight is pruned.

    >>> m = np.ones((3, 3, 1, 3), dtype=bool); m[..., 1] = False
    >>> pruned_filters(m).tolist()
    [False, True, False]
    """
    keep = np.asarray(keep, dtype=bool)
    return ~keep.reshape(-1, keep.shape[-1]).any(axis=0)
