"""ui.prune_view: histogram counts recounted only when a layer's mask or bins change."""

import numpy as np

from prune_core.measure import preview
from ui import prune_view


def test_split_counts_are_held_until_the_layer_mask_or_its_bins_change():
    values = np.array([-1.0, -0.5, 0.2, 0.9, 1.0, 0.1])
    binned = preview.bin_values(values, preview.weight_edges(values, bins=4))
    held, keep = {}, np.array([True, False, True, True, False, True])
    first = prune_view.split_counts(held, ("weights", "d"), binned, keep)
    assert (first.kept.tolist(), first.pruned.tolist()) == ([1, 0, 2, 1], [0, 1, 0, 1])
    assert prune_view.split_counts(held, ("weights", "d"), binned, keep.copy()) is first  # same mask: not recounted
    keep[0] = False
    moved = prune_view.split_counts(held, ("weights", "d"), binned, keep)
    assert (moved.kept.tolist(), moved.pruned.tolist()) == ([0, 0, 2, 1], [1, 1, 0, 1])
    rebinned = preview.bin_values(values, preview.weight_edges(values, bins=2))
    again = prune_view.split_counts(held, ("weights", "d"), rebinned, keep)
    assert (again.kept.tolist(), again.pruned.tolist()) == ([0, 3], [2, 1])
