"""prune_core.viz.guidance: coefficient → sparsity curves, matched default coefficients, the heavy-tail sentence,
layer-collapse warnings and the per-class / curve figures. Exact answers on tiny models and arrays."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import prune_core as pc
from prune_core.viz import figures, guidance
from prune_core.graph import kernels as kernels_of
from prune_core.io.data import BASELINE_PATH
from prune_core.methods.masks import MaskSet

BLUE, ORANGE = "#2563eb", "#f97316"  # kept / pruned: never a guidance series colour


def one_layer_model():
    """Input(2) → Dense(2, softmax) with kernel [[3, 0.5], [0.2, 1]], no bias: x=(1,0) → class 0, (0,1) → class 1."""
    import keras

    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2, activation="softmax", use_bias=False,
                                                                    name="out")])
    model.get_layer("out").set_weights([np.array([[3.0, 0.5], [0.2, 1.0]], dtype=np.float32)])
    return model


def chain_model(seed: int = 0):
    import keras

    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="relu", name="h"),
                              keras.layers.Dense(3, activation="relu", name="g"), keras.layers.Dense(2, name="out")])
    rng = np.random.default_rng(seed)
    model.set_weights([rng.normal(size=w.shape).astype(np.float32) for w in model.get_weights()])
    return model


X = np.array([[1.0, 0.0], [0.0, 1.0]], dtype=np.float32)
Y = np.array([0, 1])


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

TEN = {"d": np.arange(1.0, 11.0).reshape(2, 5)}  # scores 1..10: at c, the scores below 10c are pruned
KERNELS = {"d": np.ones((2, 5))}


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


# --- heavy_tail_note -------------------------------------------------------------------------------------

def test_tail_table_numbers():
    table = guidance.tail_table({"a": np.array([1.0, 2.0, 3.0, 1000.0]), "z": np.zeros(3),
                                 "b": np.array([0.0, 0.0, 5.0])}, coefficient=0.1)
    assert table.values.tolist() == [["a", 1000.0, 2.5, 400.0, 0.75], ["z", 0.0, 0.0, 1.0, 0.0],
                                     ["b", 5.0, 0.0, float("inf"), 2 / 3]]


def test_heavy_tail_note_for_gradient_scores():
    scores = {"dense1": np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 2060.0]),
              "dense2": np.array([1.0, 2.0, 3.0])}
    assert guidance.heavy_tail_note(scores, criterion="taylor") == (
        "Gradient scores are heavy-tailed: in dense1 the largest score is 375× the median, so 0.1 × max already lies "
        "above 90.0% of the scores — a weight's gradient is its input times its unit's error, both mostly near zero "
        "(blank pixels, examples already classified right), so a few weights get nearly all of it, and the "
        "coefficient is a share of that maximum, not of the weights.")


def test_heavy_tail_note_for_magnitude_and_other_criteria():
    scores = {"dense1": np.array([0.5, 1.0, 2.0, 4.0]), "dense2": np.array([1.0, 1.0, 2.0, 5.0, 9.0])}
    assert guidance.heavy_tail_note(scores, criterion="magnitude") == (
        "Magnitude scores are not heavy-tailed: the largest score is at most 4.5× the median (in dense2), and "
        "0.1 × max lies above 0.0% of the scores there.")
    heavy = {"dense1": np.array([0.0, 0.0, 0.0, 1.0, 2.0]), "dense2": np.array([1.0, 2.0])}
    assert guidance.heavy_tail_note(heavy, criterion="wanda", coefficient=0.3) == (
        "Wanda scores are heavy-tailed: in dense1 at least half of the scores are exactly 0 (60.0%, the median is 0), "
        "so 0.3 × max already lies above 60.0% of the scores — a few weights score far above the rest, and the "
        "coefficient is a share of that maximum, not of the weights.")
    # the threshold is the ratio itself: 20× is heavy, just under is not
    assert "are heavy-tailed" in guidance.heavy_tail_note({"d": np.array([1.0, 1.0, 20.0])})
    assert guidance.heavy_tail_note({"d": np.array([1.0, 1.0, 19.9])}).startswith(
        "These scores are not heavy-tailed: the largest score is at most 20× the median (in d)")


# --- collapse_warnings -----------------------------------------------------------------------------------

def keeping(count: int, shape=(100, 100)) -> np.ndarray:
    keep = np.zeros(int(np.prod(shape)), dtype=bool)
    keep[:count] = True
    return keep.reshape(shape)


def test_collapse_thresholds_are_exact():
    assert guidance.collapse_warnings(MaskSet(kernels={"dense2": keeping(99)})) == [
        "dense2 keeps 0.99% of its weights (99 of 10,000): the layer is close to collapse — every prediction goes "
        "through 99 connections."]
    assert guidance.collapse_warnings(MaskSet(kernels={"dense2": keeping(100)})) == []   # exactly 1%
    assert guidance.collapse_warnings(MaskSet(kernels={"dense2": keeping(101)})) == []
    assert guidance.collapse_warnings(MaskSet(kernels={"d": keeping(1, (300, 1000))})) == [
        "d keeps < 0.1% of its weights (1 of 300,000): the layer is close to collapse — every prediction goes "
        "through 1 connection."]
    assert guidance.collapse_warnings(MaskSet(kernels={"d": keeping(40)}), min_kept=0.005) == [
        "d keeps 0.4% of its weights (40 of 10,000): the layer is close to collapse — every prediction goes "
        "through 40 connections."]


def test_collapse_zero_kept_and_units_removed():
    masks = MaskSet(kernels={"a": keeping(5000), "b": keeping(0, (3, 4)), "c": keeping(0, (4, 2))},
                    units={"c": np.zeros(2, dtype=bool)}, granularity="unit")
    assert guidance.collapse_warnings(masks) == [
        "b keeps none of its 12 weights (every weight is pruned): the layer is cut off — no signal passes through "
        "it, so every prediction is the same whatever the input.",
        "c keeps none of its 8 weights (all 2 of its units are removed): the layer is cut off — no signal passes "
        "through it, so every prediction is the same whatever the input."]


def test_collapse_where_the_signal_stops():
    model = chain_model()
    h = np.ones((4, 3), bool)
    h[:, 0] = False                        # unit 0 of h receives no input
    g = np.zeros((3, 3), bool)
    g[0, :] = True                         # g reads only h's unit 0
    out = np.ones((3, 2), bool)
    masks = MaskSet(kernels={"h": h, "g": g, "out": out})
    assert guidance.collapse_warnings(masks, model=model, min_kept=0.0) == [
        "g keeps 3 of its 9 weights, but every one of them reads a unit of h that receives no input: no signal "
        "passes through g, so every prediction is the same whatever the input."]
    g[1, 2] = True                         # one live connection: the signal passes
    assert guidance.collapse_warnings(MaskSet(kernels={"h": h, "g": g, "out": out}), model=model, min_kept=0) == []
    # without the model only the counts are checked
    assert guidance.collapse_warnings(masks, min_kept=0.0) == []


def test_collapse_on_select_masks_with_groups():
    from prune_core.graph import dependency_groups

    model = chain_model()
    groups = dependency_groups(model)
    masks = pc.select(model, pc.PruneSpec(rule="coefficient", value=0.0), kernels=kernels_of(model))
    assert guidance.collapse_warnings(masks, model=model, groups=groups) == []
    masks = pc.select(model, pc.PruneSpec(rule="coefficient", value=1.0), kernels=kernels_of(model))
    # each layer keeps its largest weight only: 1 of 12, 1 of 9, 1 of 6 — all under 20%
    assert guidance.collapse_warnings(masks, model=model, groups=groups, min_kept=0.2) == [
        f"{name} keeps {share} of its weights (1 of {total}): the layer is close to collapse — every prediction goes "
        f"through 1 connection." for name, share, total in (("h", "8.3%", 12), ("g", "11.1%", 9), ("out", "16.7%", 6))]


# --- figures ---------------------------------------------------------------------------------------------

def change_table():
    return pd.DataFrame({"class": ["zero", "one", "two", "three"], "count": [10, 30, 20, 5],
                         "dense": [0.9, 0.95, 0.8, 1.0], "pruned": [0.85, 0.65, 0.5, 1.0],
                         "change": [-0.05, -0.30, -0.30, 0.0]})


def test_class_accuracy_figure_order_colours_and_axis():
    fig = guidance.class_accuracy_figure(change_table())
    dense, pruned = fig.data
    assert (dense.name, pruned.name) == ("dense", "pruned")
    assert dense.marker.color == figures.DENSE
    assert pruned.marker.color == "#7c3aed" and pruned.marker.color not in (figures.PRUNED, figures.KEPT)
    # worst drop first; equal drops: the class with more test images first
    assert list(dense.x) == ["one", "two", "zero", "three"] == list(fig.layout.xaxis.categoryarray)
    assert list(dense.y) == pytest.approx([95.0, 80.0, 90.0, 100.0])
    assert list(pruned.y) == pytest.approx([65.0, 50.0, 85.0, 100.0])
    assert tuple(fig.layout.yaxis.range) == (0, 100) and fig.layout.yaxis.ticksuffix == "%"
    assert fig.layout.barmode == "group"


def test_class_accuracy_figure_from_metrics_table():
    from prune_core.measure import metrics

    model = one_layer_model()
    pruned = pc.prune(model, pc.PruneSpec(rule="coefficient", value=0.5)).model  # keeps only the 3
    table = metrics.class_accuracy_change(model, pruned, X, Y, class_names=["cat", "dog"])
    fig = guidance.class_accuracy_figure(table)
    assert list(fig.data[0].x) == ["dog", "cat"]
    assert list(fig.data[1].y) == [0.0, 100.0] and list(fig.data[0].y) == [100.0, 100.0]


def test_class_accuracy_figure_leaves_a_class_without_samples_empty():
    table = change_table()
    table.loc[3, ["dense", "pruned", "change"]] = np.nan
    fig = guidance.class_accuracy_figure(table)
    assert list(fig.data[0].x)[-1] == "three" and fig.data[0].y[-1] is None


def test_coefficient_curve_figure():
    curve = pd.DataFrame({"coefficient": [0.0, 0.5, 1.0], "sparsity": [0.0, 0.6, 0.9],
                          "accuracy": [0.98, 0.7, 0.1]})
    fig = guidance.coefficient_curve_figure(curve, current=0.3)
    assert [t.name for t in fig.data] == ["sparsity", "test accuracy"]
    assert list(fig.data[0].y) == pytest.approx([0.0, 60.0, 90.0])
    assert list(fig.data[1].y) == pytest.approx([98.0, 70.0, 10.0])
    colours = [t.line.color for t in fig.data]
    assert colours == [guidance.SPARSITY_COLOUR, guidance.ACCURACY_COLOUR]
    assert not {c.lower() for c in colours} & {BLUE, ORANGE}
    (line,) = fig.layout.shapes
    assert (line.x0, line.x1, line.line.dash) == (0.3, 0.3, "dash")
    assert tuple(fig.layout.yaxis.range) == (0, 100) and tuple(fig.layout.xaxis.range) == (0, 1)


def test_coefficient_curve_figure_without_accuracy_or_current():
    curve = guidance.coefficient_curve(None, TEN, coefficients=(0, 0.5, 1), kernels=KERNELS)
    fig = guidance.coefficient_curve_figure(curve)
    assert [t.name for t in fig.data] == ["sparsity"] and not fig.layout.shapes
    assert list(fig.data[0].y) == pytest.approx([0.0, 40.0, 90.0])
