"""prune_core.viz.guidance: the heavy-tail sentence, layer-collapse warnings and the per-class / curve figures.
Exact answers on tiny models and arrays (the numbers: tests/measure/test_guidance_numbers.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import prune_core as pc
from prune_core.graph import kernels as kernels_of
from prune_core.measure import guidance as numbers
from prune_core.methods.masks import MaskSet
from prune_core.viz import guidance, style
from tests.guidance_models import KERNELS, TEN, X, Y, chain_model, one_layer_model

BLUE, ORANGE = "#2563eb", "#f97316"  # kept / pruned: never a guidance series colour


# --- heavy_tail_note -------------------------------------------------------------------------------------

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
    assert dense.marker.color == style.DENSE
    assert pruned.marker.color == "#7c3aed" and pruned.marker.color not in (style.PRUNED, style.KEPT)
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
    curve = numbers.coefficient_curve(None, TEN, coefficients=(0, 0.5, 1), kernels=KERNELS)
    fig = guidance.coefficient_curve_figure(curve)
    assert [t.name for t in fig.data] == ["sparsity"] and not fig.layout.shapes
    assert list(fig.data[0].y) == pytest.approx([0.0, 40.0, 90.0])
