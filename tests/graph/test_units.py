"""graph.units: round_to and unit masks checked (keys, lengths, refusals)."""

import numpy as np
import pytest

from prune_core.graph import round_units, weight_masks
from tests import model_zoo as zoo


@pytest.mark.parametrize("kept, multiple, expected", [
    (5, 8, 8), (11, 8, 8), (12, 8, 16), (13, 8, 16), (27, 8, 24), (28, 8, 32), (31, 8, 32), (32, 8, 32),
    (3, 4, 4), (9, 4, 8), (1, 1, 1)])
def test_round_units_counts(kept, multiple, expected):
    size = 32 if multiple == 8 else 10
    scores = np.arange(size, 0, -1, dtype=float)  # channel 0 is best
    keep = np.arange(size) < kept
    got = round_units(keep, scores, multiple)
    assert got.sum() == expected
    np.testing.assert_array_equal(got, np.arange(size) < got.sum())  # the best-scored are kept


def test_round_units_keeps_best_scores_and_leaves_small_groups():
    scores = np.array([0.1, 0.9, 0.5, 0.7, 0.3, 0.8])
    keep = np.array([0, 1, 0, 1, 0, 0], bool)   # 2 kept: rounded to 4 → add the best removed: 0.8, 0.5
    assert round_units(keep, scores, 4).tolist() == [False, True, True, True, False, True]
    assert round_units(np.array([1, 0, 1], bool), np.ones(3), 8).tolist() == [True, False, True]
    with pytest.raises(ValueError, match="round_to"):
        round_units(keep, scores, 0)


@pytest.mark.parametrize("units, message", [
    ({"nope": np.ones(3, bool)}, "'nope' is not a prunable"),
    ({"a": np.ones(7, bool)}, r"shape \(7,\); expected \(8,\)"),
    ({"a": np.full(8, 0.5)}, "must be boolean"),
    ({"a": np.zeros(8, bool)}, "all 8 units of layer 'a'"),
    ({"out": np.array([True, False, True])}, "'out' is the output layer"),
])
def test_weight_masks_refusals(units, message):
    model, _ = zoo.concat_branches()
    with pytest.raises(ValueError, match=message):
        weight_masks(model, units)


def test_units_keyed_by_another_producer_of_the_group():
    model, _ = zoo.resnet_blocks()
    keep = np.arange(8) % 3 > 0
    assert weight_masks(model, {"b1c2": keep}).keys() == weight_masks(model, {"stem": keep}).keys()
    with pytest.raises(ValueError, match="different masks for group 'stem'"):
        weight_masks(model, {"stem": keep, "b1c2": ~keep | (np.arange(8) == 0)})
    with pytest.raises(ValueError, match="all 8 channels of group 'stem' \\(stem, b1c2\\)"):
        weight_masks(model, {"stem": np.zeros(8, bool)})


