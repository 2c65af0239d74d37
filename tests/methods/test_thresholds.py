"""Threshold rules: exact answers on hand-computed arrays (prune where score < threshold)."""

import math

import numpy as np
import pytest

from prune_core.methods import thresholds as th
from prune_core.methods.masks import keep_mask

S = np.array([0.5, 0.3, 0.6, 0.2, 0.4])  # the w1–w5 magnitudes


# --- coefficient × max -----------------------------------------------------------------------

@pytest.mark.parametrize("coefficient, threshold, kept", [
    (0.0, 0.0, [True, True, True, True, True]),      # 0 prunes nothing
    (0.5, 0.3, [True, True, True, False, True]),     # 0.3 itself is kept (strict <)
    (0.7, 0.42, [True, False, True, False, False]),
    (1.0, 0.6, [False, False, True, False, False]),  # 1 keeps only the maximum
])
def test_coefficient_threshold_exact(coefficient, threshold, kept):
    t = th.coefficient_threshold(S, coefficient)
    assert t == pytest.approx(threshold, abs=1e-12)
    assert keep_mask(S, t).tolist() == kept


def test_coefficient_one_keeps_all_tied_maxima():
    assert keep_mask(np.array([1.0, 3.0, 3.0]), th.coefficient_threshold([1.0, 3.0, 3.0], 1)).tolist() == [False, True, True]


@pytest.mark.parametrize("bad", [-0.1, 1.0000001, 2, float("nan"), float("inf"), "half", None])
def test_coefficient_out_of_range_raises_clearly(bad):
    with pytest.raises(ValueError, match="coefficient must be"):
        th.coefficient_threshold(S, bad)


def test_nan_scores_raise():
    with pytest.raises(ValueError, match="NaN"):
        th.coefficient_threshold([0.1, float("nan")], 0.5)
    with pytest.raises(ValueError, match="NaN"):
        th.sparsity_mask(np.array([0.1, float("nan"), 0.3]), 0.5)
    with pytest.raises(ValueError, match="empty"):
        th.coefficient_threshold([], 0.5)


def test_all_equal_scores():
    s = np.full(4, 2.0)
    assert th.coefficient_threshold(s, 0.5) == 1.0 and keep_mask(s, 1.0).all()
    assert keep_mask(s, th.coefficient_threshold(s, 1.0)).all()  # all are maximal
    assert th.sparsity_mask(s, 0.5).tolist() == [False, False, True, True]
    assert th.std_threshold(s, 3.0) == 0.0 and keep_mask(s, 0.0).all()


# --- exact-count sparsity ---------------------------------------------------------------------

@pytest.mark.parametrize("n, sparsity, k", [(10, 0.25, 3), (10, 0.05, 1), (3, 0.5, 2), (4, 0.5, 2),
                                            (7, 0.0, 0), (7, 1.0, 7), (10, 0.3, 3)])
def test_prune_count_rounds_half_up(n, sparsity, k):
    assert th.prune_count(n, sparsity) == k


@pytest.mark.parametrize("sparsity, kept, threshold", [
    (0.0, [True] * 5, 0.2),
    (0.2, [True, True, True, False, True], 0.3),
    (0.4, [True, False, True, False, True], 0.4),
    (0.8, [False, False, True, False, False], 0.6),
])
def test_sparsity_mask_and_threshold_exact(sparsity, kept, threshold):
    assert th.sparsity_mask(S, sparsity).tolist() == kept
    assert th.sparsity_threshold(S, sparsity) == threshold
    assert keep_mask(S, threshold).tolist() == kept  # no ties here: the threshold reproduces the mask


def test_sparsity_one_prunes_everything_with_a_finite_threshold():
    assert not th.sparsity_mask(S, 1.0).any()
    t = th.sparsity_threshold(S, 1.0)
    assert math.isfinite(t) and t > 0.6 and not keep_mask(S, t).any()


def test_sparsity_ties_broken_by_flat_index():
    assert th.sparsity_mask(np.array([1, 0, 1, 0, 1]), 0.6).tolist() == [False, False, True, False, True]
    assert th.sparsity_mask(np.ones((2, 2)), 0.25).tolist() == [[False, True], [True, True]]
    assert th.sparsity_mask(np.array([[2.0, 1.0], [1.0, 1.0]]), 0.5).tolist() == [[True, False], [False, True]]


@pytest.mark.parametrize("sparsity", [0.0, 0.1, 0.37, 0.5, 0.9, 1.0])
def test_sparsity_mask_matches_stable_sort_reference_with_many_ties(sparsity):
    scores = np.random.default_rng(3).integers(0, 7, size=(50, 40)).astype(np.float32)
    k = th.prune_count(scores.size, sparsity)
    reference = np.ones(scores.size, dtype=bool)
    reference[np.argsort(scores.ravel(), kind="stable")[:k]] = False
    assert np.array_equal(th.sparsity_mask(scores, sparsity).ravel(), reference)


@pytest.mark.parametrize("bad", [-0.01, 1.5, float("nan")])
def test_sparsity_out_of_range_raises(bad):
    with pytest.raises(ValueError, match="sparsity must be between 0 and 1"):
        th.sparsity_mask(S, bad)


# --- σ rule (Han et al. 2015) -----------------------------------------------------------------

def test_std_threshold_exact():
    w = np.array([0.0, 3.0, -3.0, 0.0])  # std = sqrt(4.5)
    t = th.std_threshold(w, 1.0)
    assert t == pytest.approx(math.sqrt(4.5), abs=1e-12)
    assert keep_mask(np.abs(w), t).tolist() == [False, True, True, False]
    assert th.std_threshold([1.0, -1.0, 1.0, -1.0], 0.5) == 0.5
    assert th.std_threshold(w, 0.0) == 0.0


@pytest.mark.parametrize("bad", [-1.0, float("nan"), float("inf"), "x"])
def test_std_quality_validated(bad):
    with pytest.raises(ValueError, match="quality factor"):
        th.std_threshold(S, bad)


# --- scope: per layer vs global ----------------------------------------------------------------

TWO = {"a": np.array([1.0, 2.0]), "b": np.array([4.0, 8.0])}


def test_coefficient_per_layer_vs_global():
    assert th.thresholds_for(TWO, "coefficient", 0.5) == {"a": 1.0, "b": 4.0}
    assert th.thresholds_for(TWO, "coefficient", 0.5, scope="global") == {"a": 4.0, "b": 4.0}
    assert th.thresholds_for(TWO, "coefficient", {"a": 1.0, "b": 0.25}) == {"a": 2.0, "b": 2.0}


def test_sparsity_per_layer_vs_global():
    per = th.thresholds_for(TWO, "sparsity", 0.5)
    assert per == {"a": 2.0, "b": 8.0}
    masks = th.global_sparsity_masks(TWO, 0.5)
    assert masks["a"].tolist() == [False, False] and masks["b"].tolist() == [True, True]
    assert th.thresholds_for(TWO, "sparsity", 0.5, scope="global") == {"a": 4.0, "b": 4.0}


def test_global_sparsity_ties_across_layers_in_layer_order():
    masks = th.global_sparsity_masks({"a": np.ones(2), "b": np.ones((1, 2))}, 0.75)
    assert masks["a"].tolist() == [False, False] and masks["b"].tolist() == [[False, True]]


def test_std_per_layer_vs_global():
    w = {"a": np.array([1.0, -1.0]), "b": np.array([3.0, -3.0])}
    assert th.thresholds_for(w, "std", 1.0) == {"a": 1.0, "b": 3.0}
    glob = th.thresholds_for(w, "std", 1.0, scope="global")
    assert glob["a"] == glob["b"] == pytest.approx(math.sqrt(5.0), abs=1e-12)
    # scores are |w| but the spread comes from the signed weights when given
    scores = {n: np.abs(v) for n, v in w.items()}
    assert th.thresholds_for(scores, "std", 1.0, weights=w) == {"a": 1.0, "b": 3.0}
    assert th.thresholds_for(scores, "std", 1.0) == {"a": 0.0, "b": 0.0}  # std of the |w| scores


def test_global_std_equals_concatenated_std():
    rng = np.random.default_rng(0)
    arrays = [rng.normal(size=(30, 7)).astype(np.float32), rng.normal(2, 3, size=3_000_000).astype(np.float32)]
    expected = np.std(np.concatenate([a.ravel() for a in arrays]).astype(np.float64))
    assert th.global_std(arrays) == pytest.approx(expected, rel=1e-9)


def test_scope_argument_errors():
    with pytest.raises(ValueError, match="one value for all layers"):
        th.thresholds_for(TWO, "coefficient", {"a": 0.1, "b": 0.2}, scope="global")
    with pytest.raises(ValueError, match="No threshold value given for layer"):
        th.thresholds_for(TWO, "coefficient", {"a": 0.1})
    with pytest.raises(ValueError, match="Unknown threshold rule"):
        th.thresholds_for(TWO, "median", 0.1)
    with pytest.raises(ValueError, match="Unknown scope"):
        th.thresholds_for(TWO, "coefficient", 0.1, scope="model")


def test_select_returns_mask_and_smallest_kept_score_in_one_pass():
    keep, t = th.sparsity_select(np.array([[1.0, 0.0], [1.0, 2.0]]), 0.5)
    assert keep.tolist() == [[False, False], [True, True]] and t == 1.0   # tie at 1.0: index 0 pruned
    masks, t = th.global_sparsity_select({"a": np.array([0.5, 0.3]), "b": np.array([0.6, 0.2, 0.4])}, 0.4)
    assert masks["a"].tolist() == [True, False] and masks["b"].tolist() == [True, False, True] and t == 0.4
    assert th.sparsity_select(S, 0.0)[1] == 0.2


@pytest.mark.parametrize("sparsity", [0.0, 0.23, 0.5, 0.77, 1.0])
def test_global_selection_matches_stable_sort_of_the_concatenation(sparsity):
    rng = np.random.default_rng(5)
    scores = {"a": rng.integers(0, 5, size=(7, 9)).astype(np.float32), "b": rng.integers(0, 5, size=40).astype(np.float32),
              "c": rng.integers(0, 5, size=(2, 3, 4, 5)).astype(np.float32)}
    flat = np.concatenate([s.ravel() for s in scores.values()])
    reference = np.ones(flat.size, dtype=bool)
    reference[np.argsort(flat, kind="stable")[:th.prune_count(flat.size, sparsity)]] = False
    masks, t = th.global_sparsity_select(scores, sparsity)
    assert np.array_equal(np.concatenate([m.ravel() for m in masks.values()]), reference)
    assert all(masks[n].shape == s.shape for n, s in scores.items())
    if 0 < sparsity < 1:
        assert t == flat[reference].min()


@pytest.mark.parametrize("sparsity", [0.0004, 0.37, 0.5, 0.9, 0.9999])
def test_large_inputs_take_the_narrowed_path_and_stay_exact(sparsity):
    """≥ 1M scores use the sampled bracket + partial partition; same answer as a stable sort, ties included."""
    rng = np.random.default_rng(7)
    a = np.round(rng.standard_normal(700_000).astype(np.float32), 2)  # many exact ties
    b = np.round(rng.exponential(size=(600, 1000)).astype(np.float32), 3)
    assert a.size + b.size >= th.NARROWING_MIN_SIZE
    flat = np.concatenate([a, b.ravel()])
    k = th.prune_count(flat.size, sparsity)
    expected = np.ones(flat.size, dtype=bool)
    expected[np.argsort(flat, kind="stable")[:k]] = False
    masks, threshold = th.global_sparsity_select({"a": a, "b": b}, sparsity)
    np.testing.assert_array_equal(np.concatenate([masks["a"].ravel(), masks["b"].ravel()]), expected)
    assert threshold == float(np.sort(flat)[k])
    keep, t = th.sparsity_select(b, sparsity)
    ref = np.ones(b.size, dtype=bool)
    ref[np.argsort(b.ravel(), kind="stable")[:th.prune_count(b.size, sparsity)]] = False
    np.testing.assert_array_equal(keep.ravel(), ref)


def test_large_inputs_with_nan_are_refused():
    a = np.random.default_rng(0).random(1_100_000).astype(np.float32)
    a[12345] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        th.sparsity_select(a, 0.5)
