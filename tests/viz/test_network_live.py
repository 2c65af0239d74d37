"""prune_core.viz.network_live: the live Network view's table equals prune_core's masks and the server figure's numbers
at every slider position — exact, for weights and whole neurons."""

import numpy as np
import pytest

import prune_core as pc
from prune_core.measure.live import slider_grid
from prune_core.methods.masks import MaskSet
from prune_core.viz import network as nw
from prune_core.viz import network_layout as nl
from prune_core.viz import network_live as nv

GRID = slider_grid(0.0, 1.0, 0.01)


def lenet():
    from prune_core.io.data import BASELINE_PATH
    from prune_core.io.weights_file import kernels_from_keras_file

    return kernels_from_keras_file(BASELINE_PATH)


def check_every_position(kernels, masks_at, layout, unit=False):
    """The table's per-line indices and per-position numbers against the masks themselves (numpy) at every position,
    and against the server figure's NetworkSummary at a few."""
    table = nv.network_table(layout, masks_at, GRID)
    names = list(layout.names)
    for i, c in enumerate(GRID):
        mask_set = masks_at(float(c))
        keep = mask_set.kernels
        pruned = 0
        for drawn, first in zip(layout.layers, table.edge_from):
            expected = ~keep[drawn.name][drawn.rows, drawn.cols]
            assert np.array_equal(first <= i, expected), (drawn.name, c)
            pruned += int(expected.sum())
        assert table.edges_pruned[i] == pruned
        assert np.array_equal(table.node_from[0] <= i, ~keep[names[0]][layout.inputs].any(axis=1))
        removed = 0
        for name, first in zip(names, table.node_from[1:]):
            gone = ~keep[name].any(axis=0)
            if unit and name in mask_set.units:
                gone |= ~mask_set.units[name]
            assert np.array_equal(first <= i, gone), (name, c)
            removed += int(gone.sum())
        assert table.neurons_removed[i] == removed
        kept = sum(int(m.sum()) for m in keep.values())
        assert table.sparsity[i] == 1.0 - kept / sum(m.size for m in keep.values()) == mask_set.overall_sparsity
        if i in (0, 13, 30, 61, 100):
            _, summary = nw.network_figure(kernels, keep, mask_set.units or None, layout=layout)
            assert (summary.edges_pruned, summary.neurons_removed, summary.inputs_unused) == \
                (table.edges_pruned[i], table.neurons_removed[i], table.inputs_unused[i])
    return table


def test_lenet_weights_every_position_equals_the_masks_and_the_figure():
    kernels = lenet()
    scores = {n: np.abs(k) for n, k in kernels.items()}
    rule = pc.get_rule("coefficient")
    layout = nl.network_layout(kernels)

    def masks_at(c):
        return MaskSet(kernels=rule.select(scores, c, scope="layer")[0])

    table = check_every_position(kernels, masks_at, layout)
    assert table.edges_pruned[0] == 0 and table.edges_pruned[-1] > 2900  # at 1.0 only each layer's largest stays
    assert len(np.unique(table.edges_pruned)) > 50  # the picture changes along the slider
    # numpy alone, the rule as the page states it: prune where |w| < c × the layer's largest |w|
    dense1 = layout.layers[0]
    a = np.abs(kernels[dense1.name])
    for i in (10, 30, 77):
        assert np.array_equal(table.edge_from[0] <= i, a[dense1.rows, dense1.cols] < GRID[i] * a.max())


def test_whole_neurons_every_position_equals_select():
    from tests.tiny import tiny_net

    model = tiny_net(hidden=12)
    kernels = {n: np.asarray(model.get_layer(n).kernel) for n in ("h", "out")}
    layout = nl.network_layout(kernels, max_edges=40)  # sampled: 3 lines per hidden neuron, 30 of 36 into out

    def masks_at(c):
        spec = pc.PruneSpec(criterion="magnitude", granularity="unit", rule="coefficient", scope="layer", value=c)
        return pc.select(model, spec)

    table = check_every_position(kernels, masks_at, layout, unit=True)
    assert table.neurons_removed[-1] > 0 and table.neurons_removed[0] == 0


def test_a_rule_that_keeps_again_is_refused():
    kernels = {"h": np.array([[0.9, -0.1], [0.2, 0.5]]), "out": np.array([[1.0], [0.3]])}

    def masks_at(c):  # prunes at 0.5 only
        return MaskSet(kernels={n: np.ones_like(k, dtype=bool) if c != 0.5 else np.zeros_like(k, dtype=bool)
                                for n, k in kernels.items()})

    with pytest.raises(ValueError, match="kept at a larger one"):
        nv.network_table(nl.network_layout(kernels), masks_at, np.array([0.0, 0.5, 1.0]))


def test_edge_styles_are_the_figures_ends_signs_and_buckets():
    rng = np.random.default_rng(3)
    kernels = {"a": rng.normal(size=(100, 40)), "b": rng.normal(size=(40, 10))}
    layout = nl.network_layout(kernels, max_edges=300, max_inputs=20)
    styles = nv.edge_styles(layout, kernels)
    first = layout.layers[0]
    assert np.array_equal(layout.inputs[styles[0].source], first.rows)  # column 0 counts the drawn inputs
    assert np.array_equal(styles[1].source, layout.layers[1].rows)
    w = kernels["b"][layout.layers[1].rows, layout.layers[1].cols]
    assert np.array_equal(styles[1].negative, w < 0)
    assert np.array_equal(styles[1].strength, np.minimum((np.abs(w) / np.abs(w).max() * 3).astype(int), 2))
