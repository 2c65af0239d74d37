"""prune_core.methods.normalize and the global-units floor: scales per group, the floor's count, the spec's checks,
and a floor that never brings back a channel pruned before (gradual masks only grow)."""

import numpy as np
import pytest

import prune_core as pc
from prune_core.methods import normalize
from prune_core.pruning import _floor


def test_each_normaliser_divides_by_one_number_of_the_group():
    s = np.array([0.5, 1.5, 4.0])
    assert {n: normalize.scale(n, s) for n in normalize.NORMALIZERS} == {"none": 1.0, "mean": 2.0, "max": 4.0,
                                                                         "sum": 6.0}
    assert normalize.scale("mean", np.zeros(3)) == 1.0  # never a division by zero


def test_the_floor_keeps_a_groups_best_and_never_what_was_pruned_before():
    scores = np.array([5.0, 1.0, 4.0, 3.0, 2.0, 0.5, 0.1, 0.2, 0.3, 0.4, 9.0])
    assert np.flatnonzero(_floor(scores, 0.2)).tolist() == [0, 2, 10]  # ceil(2.2) = 3 best
    held = np.ones(11, bool)
    held[10] = False  # pruned in an earlier step
    assert np.flatnonzero(_floor(scores, 0.2, held)).tolist() == [0, 2, 3]


def test_the_spec_checks_and_records_them():
    with pytest.raises(ValueError, match="Unknown normalisation 'median'; choose one of none, mean, max, sum."):
        pc.PruneSpec(normalize="median").validate()
    with pytest.raises(ValueError, match=r"min_keep is the share of each group's channels always kept: a number in "
                                         r"\[0, 1\); got 1.0."):
        pc.PruneSpec(min_keep=1.0).validate()
    assert pc.PruneSpec(granularity="unit", scope="global").to_dict()["normalize"] == "mean"
    assert "normalize" not in pc.PruneSpec(granularity="unit", scope="layer").to_dict()
