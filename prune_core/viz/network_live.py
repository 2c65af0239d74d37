"""The network picture at every position of the coefficient slider, computed once, so a browser can redraw a move
without the server (the Network page's live view, ``ui/components/live_network.js``).

:func:`network_table` asks for the masks at each slider position — the ``prune_core.select`` call a server rerun
makes — and keeps, for every connection and neuron the picture draws (:class:`~.network_layout.NetworkLayout`), the
first position at which it is pruned / removed, plus what the page's numbers need at each position (drawn
connections pruned, neurons removed, overall sparsity). Pruning by the coefficient rule ("prune where score <
coefficient × the layer's largest score", per layer, weights or whole neurons) only grows as the coefficient grows,
so one index per line is the whole story; the table checks that and refuses a non-monotone rule. A browser then
only compares a position with those indices, so what it draws is prune_core's own masks, exactly (no float
comparison in JavaScript: a score ratio is sent for the hover text only).

:func:`edge_styles` gives each drawn line's place and look as :func:`~.network.network_figure` draws it (the
column it starts in, its sign, and its strength bucket within its layer's drawn lines).

>>> import numpy as np
>>> from prune_core.methods.masks import MaskSet
>>> from prune_core.viz.network_layout import network_layout
>>> kernels = {"h": np.array([[0.9, -0.1], [0.2, 0.5]]), "out": np.array([[1.0], [0.3]])}
>>> def masks_at(c):  # the coefficient rule on |w|, per layer
...     return MaskSet(kernels={n: np.abs(k) >= c * np.abs(k).max() for n, k in kernels.items()})
>>> table = network_table(network_layout(kernels), masks_at, np.array([0.0, 0.5, 1.0]))
>>> [f.tolist() for f in table.edge_from], table.edges_pruned.tolist()  # 3: never pruned
([[3, 1, 1, 2], [3, 1]], [0, 3, 4])
>>> [f.tolist() for f in table.node_from], table.neurons_removed.tolist()
([[3, 2], [3, 2], [3]], [0, 0, 1])
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..methods import masks as mk
from .network_layout import NetworkLayout, removed_neurons


@dataclass
class NetworkTable:
    """prune_core's masks at every slider position (``grid``), as the picture needs them.

    ``edge_from[l][e]``: the first position at which drawn edge e of layer l (``layout.layers[l]``) is pruned
    (``len(grid)``: never); ``node_from[c][j]``: the first position at which node j of column c is greyed (column
    0 the drawn inputs: every outgoing weight pruned; then each layer's neurons: removed, or every incoming weight
    pruned — :func:`~.network_layout.removed_neurons`). Per position: ``edges_pruned`` (drawn edges pruned),
    ``neurons_removed`` (as ``NetworkSummary.neurons_removed``), ``inputs_unused`` and ``sparsity``
    (``MaskSet.overall_sparsity``: all the model's masked kernel weights, not only those drawn).
    """

    grid: np.ndarray
    edge_from: list[np.ndarray]
    node_from: list[np.ndarray]
    edges_pruned: np.ndarray
    neurons_removed: np.ndarray
    inputs_unused: np.ndarray
    sparsity: np.ndarray


def network_table(layout: NetworkLayout, masks_at: Callable[[float], mk.MaskSet], grid: np.ndarray,
                  progress: Callable[[int, int], None] | None = None) -> NetworkTable:
    """Run ``masks_at(value)`` at every grid position and keep what the picture draws (see :class:`NetworkTable`).

    Raises ValueError when a line is pruned at one position and kept again at a larger one (a rule whose pruning
    does not only grow with the slider cannot be told by one index per line); ``progress(done, total)`` is called
    after each position.
    """
    grid = np.asarray(grid, dtype=float)
    count = len(grid)
    names = list(layout.names)
    edges = [np.zeros((count, e.drawn), dtype=bool) for e in layout.layers]
    nodes = [np.zeros((count, len(layout.inputs)), dtype=bool)] + [np.zeros((count, u), dtype=bool)
                                                                   for u in layout.units]
    edges_pruned = np.zeros(count, dtype=np.int64)
    neurons_removed = np.zeros(count, dtype=np.int64)
    inputs_unused = np.zeros(count, dtype=np.int64)
    sparsity = np.zeros(count, dtype=np.float64)
    for i, value in enumerate(grid):
        mask_set = masks_at(float(value))
        keep = {n: np.asarray(mask_set.kernels[n], dtype=bool) for n in names}
        for layer, drawn in enumerate(layout.layers):
            edges[layer][i] = ~keep[drawn.name][drawn.rows, drawn.cols]
        nodes[0][i] = ~keep[names[0]][layout.inputs].any(axis=1)
        removed = removed_neurons(keep, mask_set.units or None, names)
        for c, name in enumerate(names, start=1):
            nodes[c][i] = removed[name]
        edges_pruned[i] = sum(int(e[i].sum()) for e in edges)
        neurons_removed[i] = sum(int(r.sum()) for r in removed.values())
        inputs_unused[i] = int(nodes[0][i].sum())
        sparsity[i] = mask_set.overall_sparsity
        if progress is not None:
            progress(i + 1, count)
    return NetworkTable(grid=grid, edge_from=[_first(e) for e in edges], node_from=[_first(n) for n in nodes],
                        edges_pruned=edges_pruned, neurons_removed=neurons_removed, inputs_unused=inputs_unused,
                        sparsity=sparsity)


def _first(states: np.ndarray) -> np.ndarray:
    """Per column of ``states`` (positions × items, True = pruned): the first position that is True (the number of
    positions where none is); ValueError where an item is True at one position and False at a later one.

    >>> _first(np.array([[False, False], [True, False], [True, False]])).tolist()
    [1, 3]
    """
    if states.shape[0] > 1 and np.any(states[:-1] & ~states[1:]):
        raise ValueError("A connection or neuron pruned at one slider position is kept at a larger one: this rule "
                         "cannot be drawn from one position per line.")
    return np.where(states.any(axis=0), states.argmax(axis=0), states.shape[0]).astype(np.int64)


@dataclass(frozen=True)
class EdgeStyles:
    """One layer's drawn lines as :func:`~.network.network_figure` draws them: ``source``/``target`` the node
    indices in the columns before and after (column 0 counts the drawn inputs), ``negative`` the weight's sign,
    ``strength`` 0/1/2 (weak, middle, strong: |w| within the layer's drawn lines, in thirds)."""

    source: np.ndarray
    target: np.ndarray
    negative: np.ndarray
    strength: np.ndarray


def edge_styles(layout: NetworkLayout, kernels) -> list[EdgeStyles]:
    """Per layer of ``layout``, its drawn lines' ends, signs and strength buckets (see :class:`EdgeStyles`).

    >>> from prune_core.viz.network_layout import network_layout
    >>> kernels = {"h": np.array([[0.9, -0.1], [0.2, 0.5]]), "out": np.array([[1.0], [-0.3]])}
    >>> s = edge_styles(network_layout(kernels), kernels)
    >>> s[0].strength.tolist(), s[1].negative.tolist()
    ([2, 0, 0, 1], [False, True])
    """
    styles = []
    for c, drawn in enumerate(layout.layers):
        weights = np.asarray(kernels[drawn.name], dtype=np.float64)[drawn.rows, drawn.cols]
        strength = np.abs(weights) / (np.abs(weights).max() or 1.0)
        source = np.searchsorted(layout.inputs, drawn.rows) if c == 0 else np.asarray(drawn.rows)
        styles.append(EdgeStyles(source=source.astype(np.int64), target=np.asarray(drawn.cols, dtype=np.int64),
                                 negative=weights < 0, strength=np.minimum((strength * 3).astype(int), 2)))
    return styles
