"""prune_core.measure.live: the table of every slider position equals prune_core.select at that position."""

from dataclasses import replace

import numpy as np
import pytest

import prune_core as pc
from prune_core.graph import kernels
from prune_core.measure import live, preview
from prune_core.methods import masks as mk
from tests.tiny import tiny_net


def test_grid_is_the_sliders_positions_rounded():
    assert live.slider_grid(0.0, 100.0, 1.0).tolist() == list(range(101))
    grid = live.slider_grid(0.0, 1.0, 0.01)
    assert grid[30] == 0.3 and grid[7] == 0.07 and len(grid) == 101  # not 0.30000000000000004
    assert live.nearest_position(grid, 0.304) == 30 and live.nearest_position(grid, -1) == 0


def test_a_hand_made_rule_gives_its_counts_at_every_position():
    w = np.array([0.1, -0.2, 0.4, -0.8, 0.0])
    edges = np.array([-1.0, 0.0, 1.0])

    def masks_at(c):
        return mk.MaskSet(kernels={"d": np.abs(w) >= c * 0.8}, thresholds={"d": c * 0.8})

    table = live.slider_table(masks_at, np.array([0.0, 0.25, 0.5, 1.0]),
                              {"d": live.Histogram(preview.bin_values(w, edges))})
    assert table.kept["d"].tolist() == [5, 3, 2, 1]  # |w| >= 0, 0.2, 0.4, 0.8
    assert table.totals == {"d": 5}
    assert table.thresholds["d"].tolist() == [0.0, 0.2, 0.4, 0.8]
    # bins [-1, 0) and [0, 1]: -0.2, -0.8 | 0.1, 0.4, 0.0; the last column counts undrawable values (none here)
    assert table.bin_kept["d"].tolist() == [[2, 3, 0], [2, 1, 0], [1, 1, 0], [1, 0, 0]]
    assert table.units_kept is None


@pytest.mark.parametrize("rule, scope, granularity", [("coefficient", "layer", "weight"),
                                                      ("sparsity", "global", "weight"),
                                                      ("std", "layer", "weight"),
                                                      ("sparsity", "global", "unit"),
                                                      ("coefficient", "layer", "unit")])
def test_every_position_equals_select_there(rule, scope, granularity):
    model = tiny_net(hidden=16)
    spec = pc.PruneSpec(criterion="magnitude", granularity=granularity, rule=rule, scope=scope)
    scores = {n: np.abs(k) for n, k in kernels(model).items()}
    low, high, step, _ = pc.RULES[rule].slider
    grid = live.slider_grid(low, high, step)

    def masks_at(shown):
        return pc.select(model, replace(spec, value=pc.RULES[rule].from_display(shown)),
                         scores)

    first = next(iter(scores))
    binned = preview.bin_values(kernels(model)[first], preview.weight_edges(kernels(model)[first]))
    seen = []
    table = live.slider_table(masks_at, grid, {first: live.Histogram(binned, "kernels")},
                              progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (len(grid), len(grid)) and len(seen) == len(grid)
    for i in (0, 1, len(grid) // 3, len(grid) // 2, len(grid) - 1):
        expected = masks_at(grid[i])
        assert {n: int(table.kept[n][i]) for n in table.kept} == expected.kept_counts()
        split = preview.split_counts(binned, expected.kernels[first])
        assert table.bin_kept[first][i, :-1].tolist() == split.kept.tolist()
        if granularity == "unit":
            assert (int(table.units_kept[i]), table.units_total) == expected.unit_counts


def test_packed_counts_round_trip_and_refuse_what_does_not_fit():
    counts = np.array([[0, 1, 2**32 - 1], [7, 0, 0]])
    assert live.unpacked(live.packed(counts), (2, 3)).tolist() == counts.tolist()
    with pytest.raises(ValueError):
        live.packed(np.array([-1]))
