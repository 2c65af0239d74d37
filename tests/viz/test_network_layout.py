"""prune_core.viz.network_layout: which inputs, neurons and connections the network picture draws — exact answers."""

import numpy as np
import pytest

from prune_core.viz import network_layout as nl


# A 3-4-2 stack with known weights: every connection fits (12 + 8 = 20 edges).
H = np.array([[0.9, -0.1, 0.4, -0.7],
              [0.2, 0.8, -0.3, 0.05],
              [-0.6, 0.3, 0.1, 0.5]])


def test_strongest_k_per_neuron():
    w = np.array([[0.1, -0.9, 0.3],
                  [0.5, 0.2, -0.3],   # column 2: 0.3 ties with row 0's; the lower row wins
                  [-0.7, 0.8, 0.0],
                  [0.6, -0.1, 0.05]])
    rows, cols, k = nl.edges_for(w, np.arange(4), 7, "strongest")  # 7 // 3 neurons = 2 per neuron
    assert k == 2
    assert sorted(zip(cols.tolist(), rows.tolist())) == [(0, 2), (0, 3), (1, 0), (1, 2), (2, 0), (2, 1)]


def test_spread_takes_every_rank_band_from_strongest_to_weakest():
    w = np.array([[5.0], [-1.0], [4.0], [2.0], [-3.0]])  # ranks by |w|: rows 0, 2, 4, 3, 1
    rows, _, k = nl.edges_for(w, np.arange(5), 3, "spread")
    assert k == 3 and sorted(rows.tolist()) == [0, 1, 4]  # strongest, middle, weakest
    rows, _, _ = nl.edges_for(w, np.arange(5), 2, "strongest")
    assert sorted(rows.tolist()) == [0, 2]


def test_all_edges_for_small_layers_and_a_top_budget_when_not_even_one_per_neuron_fits():
    rows, cols, k = nl.edges_for(H, np.arange(3), 12)
    assert k is None and rows.size == 12
    rows, cols, k = nl.edges_for(H, np.arange(3), 3, "strongest")  # 4 neurons, budget 3: strongest 3 overall
    assert k is None and sorted(zip(rows.tolist(), cols.tolist())) == [(0, 0), (0, 3), (1, 1)]


def test_max_edges_is_respected_and_shared_smallest_layer_first():
    rng = np.random.default_rng(0)
    kernels = {"d1": rng.normal(size=(784, 300)), "d2": rng.normal(size=(300, 100)), "out": rng.normal(size=(100, 10))}
    layout = nl.network_layout(kernels, max_edges=3000)
    drawn = {e.name: (e.drawn, e.per_neuron) for e in layout.layers}
    assert drawn == {"out": (1000, None), "d1": (900, 3), "d2": (1100, 11)}
    assert [(e.name, e.sources, e.neurons, e.complete) for e in layout.layers] == [
        ("d1", 64, 300, False), ("d2", 300, 100, False), ("out", 100, 10, True)]
    assert len(layout.inputs) == nl.MAX_INPUTS
    for budget in (3, 50, 777):
        assert sum(e.drawn for e in nl.network_layout(kernels, max_edges=budget).layers) <= budget
    with pytest.raises(ValueError, match="at least one per layer"):
        nl.network_layout(kernels, max_edges=2)


def test_strongest_inputs_by_total_outgoing_weight():
    w = np.zeros((10, 2))
    w[[7, 2, 9], 0] = [3.0, -2.0, 1.0]
    assert nl.strongest_inputs(w, 3).tolist() == [2, 7, 9]
    assert nl.strongest_inputs(w, 20).tolist() == list(range(10))
