"""prune_core.measure.guidance: coefficient → sparsity curves, matched default coefficients and the tail table.
Exact answers on tiny models and arrays."""

from __future__ import annotations

import numpy as np
import pytest

import prune_core as pc
from prune_core.graph import kernels as kernels_of
from prune_core.io.data import BASELINE_PATH
from prune_core.measure import guidance
from tests.guidance_models import KERNELS, TEN, X, Y, chain_model, one_layer_model


# --- coefficient_curve ---------------------------------------------------------------------------------

def test_curve_exact_sparsity_and_accuracy_on_a_tiny_model():
    model = one_layer_model()
    scores = pc.CRITERIA["magnitude"].scores(model)
    curve = guidance.coefficient_curve(model, scores, coefficients=(1.0, 0.5, 0.2, 0, 0.2), x_test=X, y_test=Y)
    assert list(curve.columns) == ["coefficient", "sparsity", "accuracy"]
    # cut = c × 3: 0.6 prunes 0.5 and 0.2 (both inputs still reach their class); 1.5 keeps only the 3, so
    # (0, 1) gives equal logits and argmax says class 0; 3.0 keeps the 3 (not strictly below)
    assert curve.values.tolist() == [[0.0, 0.0, 1.0], [0.2, 0.5, 1.0], [0.5, 0.75, 0.5], [1.0, 0.75, 0.5]]


def test_curve_without_data_has_nan_accuracy_and_copies_no_model():
    scores = {"d": np.array([[1.0, 2.0], [3.0, 4.0]])}
    curve = guidance.coefficient_curve(None, scores, coefficients=(0, 0.5, 1), kernels={"d": np.ones((2, 2))},
                                       groups=[])
    assert curve["sparsity"].tolist() == [0.0, 0.25, 0.75]
    assert curve["accuracy"].isna().all()


def test_curve_reuses_a_given_scratch():
    from prune_core.measure.preview import MaskedScratch

    model = one_layer_model()
    scratch = MaskedScratch(model)
    curve = guidance.coefficient_curve(model, pc.CRITERIA["magnitude"].scores(model), coefficients=(0.5,),
                                       x_test=X, y_test=Y, scratch=scratch)
    assert curve["accuracy"].tolist() == [0.5]


def test_curve_rejects_a_coefficient_outside_0_1():
    with pytest.raises(ValueError, match="coefficient"):
        guidance.coefficient_curve(None, {"d": np.ones((2, 2))}, coefficients=(1.5,), kernels={"d": np.ones((2, 2))})


@pytest.mark.parametrize("scope", ["layer", "global"])
@pytest.mark.parametrize("granularity", ["weight", "unit"])
def test_sparsity_is_monotone_in_the_coefficient(scope, granularity):
    model = chain_model()
    rng = np.random.default_rng(1)
    scores = {n: rng.lognormal(sigma=2.0, size=k.shape).astype(np.float32)
              for n, k in kernels_of(model).items()}
    curve = guidance.coefficient_curve(model, scores, coefficients=np.linspace(0, 1, 101), scope=scope,
                                       granularity=granularity)
    sparsity = curve["sparsity"].to_numpy()
    assert sparsity[0] == 0.0
    assert np.all(np.diff(sparsity) >= 0)
    assert sparsity[-1] > 0.5


def test_curve_on_the_default_model_matches_select():
    import keras

    model = keras.saving.load_model(BASELINE_PATH, safe_mode=True, compile=False)
    scores = pc.CRITERIA["magnitude"].scores(model)
    kernels = kernels_of(model)
    curve = guidance.coefficient_curve(model, scores, coefficients=(0.3,), kernels=kernels)
    direct = pc.select(model, pc.PruneSpec(criterion="magnitude", rule="coefficient", scope="layer",
                                           granularity="weight", value=0.3), scores, kernels=kernels)
    assert curve["sparsity"].tolist() == [direct.overall_sparsity]
    assert curve["sparsity"].iloc[0] == pytest.approx(0.8539, abs=1e-4)
    # default_coefficients keeps magnitude's own value, and a copy of magnitude matches it exactly
    found = guidance.default_coefficients(model, {"magnitude": scores, "shuffled": scores}, kernels=kernels)
    assert found == {"magnitude": 0.3, "shuffled": 0.3}


# --- matching_coefficient / default_coefficients ------------------------------------------------------------


@pytest.mark.parametrize("target, expected", [
    (0.42, 0.41),   # 0.4 (4 pruned) is closest: reached first at c = 0.41 (cut 4.1)
    (0.48, 0.51),   # 0.5 is closest: 5 pruned once the cut passes 5
    (0.45, 0.41),   # equally close to 0.4 and 0.5: the lower sparsity
    (0.0, 0.0),
    (1.0, 0.91),    # the most the rule prunes is 9 of 10 (the maximum stays), first at c = 0.91
])
def test_matching_coefficient_hits_known_targets(target, expected):
    assert guidance.matching_coefficient(None, TEN, target, kernels=KERNELS, groups=[]) == expected
    assert guidance.sparsity_at(None, TEN, expected, kernels=KERNELS) == pytest.approx(
        {0.41: 0.4, 0.51: 0.5, 0.0: 0.0, 0.91: 0.9}[expected])


def test_matching_coefficient_on_a_coarser_grid():
    assert guidance.matching_coefficient(None, TEN, 0.42, kernels=KERNELS, step=0.1) == 0.5


def test_default_coefficients_match_magnitude_at_its_default():
    # magnitude |w| = 1..10 prunes 1 and 2 at 0.3 (cut 3): 20%; squared scores 1, 4, …, 100 prune two once the
    # cut 100c passes 4: c = 0.05
    kernels = {"d": -np.arange(1.0, 11.0).reshape(2, 5)}
    by_criterion = {"magnitude": np.abs(kernels["d"]), "sensitivity": kernels["d"] ** 2}
    by_criterion = {n: {"d": s} for n, s in by_criterion.items()}
    assert guidance.default_coefficients(None, by_criterion, kernels=kernels) == {"magnitude": 0.3, "sensitivity": 0.05}
    assert guidance.default_coefficients(None, by_criterion, reference_coefficient=0.55, kernels=kernels) == {
        "magnitude": 0.55, "sensitivity": 0.26}  # 5 pruned: 100c > 25


def test_default_coefficients_score_the_reference_when_missing():
    model = one_layer_model()  # |w| = 3, 0.5, 0.2, 1: at 0.3 (cut 0.9) 0.5 and 0.2 go: 50%
    heavy = {"out": np.array([[100.0, 1.0], [2.0, 3.0]])}
    assert guidance.default_coefficients(model, {"taylor": heavy}) == {"taylor": 0.03}
    with pytest.raises(ValueError, match="needs training data"):
        guidance.default_coefficients(model, {"taylor": heavy}, reference="sensitivity")


# --- tail_table ------------------------------------------------------------------------------------------

def test_tail_table_numbers():
    table = guidance.tail_table({"a": np.array([1.0, 2.0, 3.0, 1000.0]), "z": np.zeros(3),
                                 "b": np.array([0.0, 0.0, 5.0])}, coefficient=0.1)
    assert table.values.tolist() == [["a", 1000.0, 2.5, 400.0, 0.75], ["z", 0.0, 0.0, 1.0, 0.0],
                                     ["b", 5.0, 0.0, float("inf"), 2 / 3]]
