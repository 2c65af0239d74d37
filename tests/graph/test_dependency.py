"""graph.dependency: the DependencyGraph built once per model, group scores, weight masks, zeroing."""

import doctest
import subprocess
import sys

import keras
import numpy as np
import pytest

from prune_core import graph
from prune_core.graph import dependency_groups, group_scores, kernels, layers, round_units, weight_masks, zero_units
from tests import model_zoo as zoo


def test_import_needs_no_tensorflow():
    code = "import sys, prune_core.graph; print(sorted(m for m in ('tensorflow', 'keras') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# --- scores, round_to ----------------------------------------------------------------------------

def test_group_scores_match_unit_scores_for_single_producers_and_sum_several():
    model, _ = zoo.resnet_blocks()
    scores = {n: np.abs(k) for n, k in kernels(model).items()}
    found = group_scores(model, scores)
    assert list(found) == ["stem", "b1c1", "b2c1", "b2proj"]  # the output group is not scored

    def unit(s):  # the chain criterion's unit score, as importance computes it
        return s.reshape(-1, s.shape[-1]).sum(axis=0, dtype=np.float64).astype(np.float32)
    np.testing.assert_array_equal(found["b1c1"], unit(scores["b1c1"]))
    np.testing.assert_allclose(found["stem"], unit(scores["stem"]) + unit(scores["b1c2"]), rtol=1e-6)
    mean = group_scores(model, scores, reduce="mean")
    np.testing.assert_allclose(mean["b2proj"], (unit(scores["b2c2"]) + unit(scores["b2proj"])) / 2, rtol=1e-6)
    with pytest.raises(ValueError, match="No scores for layer 'b1c2'"):
        group_scores(model, {n: s for n, s in scores.items() if n != "b1c2"})


def test_group_scores_of_transposed_and_separable_producers():
    model, _ = zoo.conv_transpose()
    scores = {n: np.abs(k) for n, k in kernels(model).items()}
    up = scores["up"]  # (3, 3, 5 outputs, 6 inputs)
    np.testing.assert_allclose(group_scores(model, scores)["up"], up.sum(axis=(0, 1, 3)), rtol=1e-6)
    model, _ = zoo.separable()
    scores = {n: np.abs(k) for n, k in kernels(model).items()}
    np.testing.assert_allclose(group_scores(model, scores)["sep1"], scores["sep1"].sum(axis=(0, 1, 2)), rtol=1e-6)


def test_round_to_8_on_mobilenet_gives_multiples_of_8():
    from prune_core.graph.surgery import compact
    model, _ = zoo.mobilenet_v2()
    groups = dependency_groups(model)
    scores = group_scores(model, {n: np.abs(k) for n, k in kernels(model).items()}, groups)
    units = {}
    for g in groups:
        if g.prunable and g.size >= 8:
            keep = scores[g.name] >= np.quantile(scores[g.name], 0.4)
            units[g.name] = round_units(keep, scores[g.name], 8)
    assert units and all(m.sum() % 8 == 0 and m.sum() >= 8 for m in units.values())
    small, report = compact(model, units)
    assert all(kept % 8 == 0 for kept, _ in report.removed.values())
    assert all(layer.filters % 8 == 0 for layer in small.layers if isinstance(layer, keras.layers.Conv2D))


# --- weight masks --------------------------------------------------------------------------------

def test_sibling_branch_is_never_touched():
    """Pruning 4 of a's 8 units zeroes a's columns and out's rows 0-3 of a: nothing of b."""
    model, x = zoo.concat_branches()
    before = {layer.name: [w.numpy().copy() for w in layer.weights] for layer in layers(model)}
    units = {"a": np.array([1, 0, 1, 0, 1, 0, 1, 0], bool)}
    masks = weight_masks(model, units)
    assert set(masks) == {"a", "out"} and set(masks["out"]) == {"kernel"}
    assert (~masks["out"]["kernel"]).sum() == 4 * 3 and (~masks["a"]["kernel"]).sum() == 4 * 6
    zero_units(model, units)
    for w, old in zip(model.get_layer("b").weights, before["b"]):
        assert np.count_nonzero(w.numpy() != old) == 0
    out_kernel = model.get_layer("out").kernel.numpy()
    assert np.count_nonzero(out_kernel != before["out"][0]) == 12
    assert not out_kernel[[1, 3, 5, 7]].any() and out_kernel[8:].all()
    np.testing.assert_array_equal(model.get_layer("out").bias.numpy(), before["out"][1])


def test_weight_masks_through_flatten_follow_channels_last_order():
    model = keras.Sequential([keras.Input((2, 2, 1)), keras.layers.Conv2D(3, 1, name="conv"),
                              keras.layers.Flatten(), keras.layers.Dense(2, name="out")])
    masks = weight_masks(model, {"conv": np.array([True, False, True])})
    assert np.flatnonzero(~masks["out"]["kernel"][:, 0]).tolist() == [1, 4, 7, 10]


def test_batchnorm_parameters_are_masked_with_their_channel():
    model, _ = zoo.resnet_blocks()
    keep = np.ones(8, bool)
    keep[[2, 5]] = False
    masks = weight_masks(model, {"b1c1": keep})
    assert set(masks) == {"b1c1", "b1c1_bn", "b1c2"}
    assert set(masks["b1c1_bn"]) == {"gamma", "beta", "moving_mean", "moving_variance"}
    assert all(m.tolist() == keep.tolist() for m in masks["b1c1_bn"].values())
    assert (~masks["b1c2"]["kernel"]).sum() == 3 * 3 * 2 * 8


def test_docstring_examples():
    assert doctest.testmod(graph, raise_on_error=False).failed == 0


def test_masked_model_is_clean_after_batchnorm():
    """Zeroed column, bias and BN gamma/beta/statistics: the removed channel is exactly 0 after BN."""
    model, x = zoo.resnet_blocks()
    keep = np.ones(8, bool)
    keep[[1, 6]] = False
    zero_units(model, {"b1c1": keep})
    probe = keras.Model(model.inputs[0], model.get_layer("b1c1_bn").output)
    after_bn = keras.ops.convert_to_numpy(probe(x, training=False))
    assert not after_bn[..., ~keep].any() and after_bn[..., keep].any()




# --- the DependencyGraph, built once -------------------------------------------------------------

def test_dependency_graph_is_built_once_per_model():
    model, _ = zoo.concat_branches()
    built = graph.dependency_graph(model)
    assert isinstance(built, graph.DependencyGraph)
    assert graph.dependency_graph(model) is built
    assert [g.name for g in built.groups] == ["a", "b", "out"]
    assert list(built.layers) == [layer.name for layer in layers(model)]
    assert [layer.name for layer in built.prunable_layers()] == ["a", "b", "out"]
    assert built.output_layer_name() == "out" and built.output_layer_names() == {"out"}
    assert dependency_groups(model) == built.groups and dependency_groups(model) is not built.groups


def test_clear_cache_builds_a_new_graph_with_the_same_groups():
    model, _ = zoo.concat_branches()
    first = graph.dependency_graph(model)
    graph.clear_cache()
    second = graph.dependency_graph(model)
    assert second is not first and second.groups == first.groups
    assert graph.dependency_graph(model) is second


def test_a_new_graph_after_sequential_add_or_lora():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, name="h")])
    first = graph.dependency_graph(model)
    model.add(keras.layers.Dense(2, name="o"))
    second = graph.dependency_graph(model)
    assert second is not first and [g.name for g in second.groups] == ["h", "o"]
    model.get_layer("o").enable_lora(1)  # two more weights: the graph is walked again
    assert graph.dependency_graph(model) is not second
