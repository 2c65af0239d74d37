"""graph: the walker, the table of layer kinds, dependency groups, group scores, round_to, weight masks."""

import doctest
import subprocess
import sys

import keras
import numpy as np
import pytest

from prune_core import graph
from prune_core.graph import (
    KINDS, dependency_groups, group_scores, kernels, layers, output_layer_names, prunable_layers, round_units,
    weight_masks, zero_units)
from tests import model_zoo as zoo


def groups_by_name(model):
    return {g.name: g for g in dependency_groups(model)}


def summary(model):
    """{group: (size, producers, consumers, prunable)} for exact comparisons."""
    return {g.name: (g.size, g.producers, g.consumers, g.prunable) for g in dependency_groups(model)}


# --- the table and the walker --------------------------------------------------------------------

def test_import_needs_no_tensorflow():
    code = "import sys, prune_core.graph; print(sorted(m for m in ('tensorflow', 'keras') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_kinds_table_roles():
    expected = {"Dense": "prunable", "Conv1D": "prunable", "Conv2D": "prunable", "Conv3D": "prunable",
                "SeparableConv2D": "prunable", "Conv2DTranspose": "prunable", "DepthwiseConv2D": "follow",
                "ReLU": "follow", "Dropout": "follow", "MaxPooling2D": "follow", "GlobalAveragePooling2D": "follow",
                "ZeroPadding2D": "follow", "UpSampling2D": "follow", "BatchNormalization": "channel_params",
                "PReLU": "channel_params", "Add": "couple", "Multiply": "couple", "Maximum": "couple",
                "Concatenate": "concat", "Flatten": "reshape", "Reshape": "reshape", "InputLayer": "input",
                "LayerNormalization": "barrier", "GroupNormalization": "barrier"}
    assert {name: KINDS[name] for name in expected} == expected
    assert "GRU" not in KINDS and "Lambda" not in KINDS and "Embedding" not in KINDS
    assert set(KINDS.values()) == {"prunable", "follow", "channel_params", "couple", "concat", "reshape",
                                   "input", "barrier"}

    class MyDense(keras.layers.Dense):
        pass
    assert graph.kind(keras.layers.Dense(2)) == "prunable" and graph.kind(MyDense(2)) is None


def test_layers_walk_into_nested_models_in_topological_order():
    model, _ = zoo.nested_backbone()
    assert [layer.name for layer in layers(model)] == [
        "b_conv1", "b_bn1", "b_relu1", "b_conv2", "b_gap", "head", "drop", "out"]
    assert [layer.name for layer in prunable_layers(model)] == ["b_conv1", "b_conv2", "head", "out"]
    assert {n: k.shape for n, k in kernels(model).items()} == {
        "b_conv1": (3, 3, 3, 8), "b_conv2": (3, 3, 8, 16), "head": (16, 8), "out": (8, 3)}
    assert all(k.dtype == np.float32 for k in kernels(model).values())


def test_branches_are_walked_by_graph_not_by_layer_order():
    """A layer defined after its consumer in model.layers still comes before it in the walk."""
    inputs = keras.Input((4,))
    late = keras.layers.Dense(3, name="late")
    early = keras.layers.Dense(2, name="early")
    model = keras.Model(inputs, early(late(inputs)))
    assert [layer.name for layer in layers(model)] == ["late", "early"]
    assert summary(model) == {"late": (3, ("late",), ("early",), True), "early": (2, ("early",), (), False)}


def test_separable_kernel_is_the_pointwise_kernel():
    model, _ = zoo.separable()
    found = kernels(model)
    assert found["sep1"].shape == (1, 1, 16, 16) and found["sep2"].shape == (1, 1, 16, 12)
    assert graph.kernel_variable(model.get_layer("sep1")) is model.get_layer("sep1").pointwise_kernel


def test_refusals_of_the_walker():
    class Sub(keras.Model):
        def __init__(self):
            super().__init__()
            self.d = keras.layers.Dense(2)

        def call(self, x):
            return self.d(x)
    with pytest.raises(ValueError, match="subclassed model"):
        dependency_groups(Sub())
    with pytest.raises(ValueError, match="no defined input"):
        dependency_groups(keras.Sequential([keras.layers.Dense(2)]))
    inner_in = keras.Input((3,))
    inner = keras.Model(inner_in, keras.layers.Dense(4, name="fc")(inner_in), name="inner")
    inputs = keras.Input((3,))
    clash = keras.Model(inputs, keras.layers.Dense(2, name="fc")(inner(inputs)))
    with pytest.raises(ValueError, match="Two different layers are named 'fc'"):
        dependency_groups(clash)


# --- dependency groups, exact --------------------------------------------------------------------

def test_groups_mnist_convnet():
    model, _ = zoo.mnist_convnet()
    assert summary(model) == {"conv2d": (32, ("conv2d",), ("conv2d_1",), True),
                              "conv2d_1": (64, ("conv2d_1",), ("dense",), True),
                              "dense": (10, ("dense",), (), False)}
    assert groups_by_name(model)["dense"].reason == "reaches the model output"
    assert output_layer_names(model) == {"dense"}
    flat = [m for m in groups_by_name(model)["conv2d_1"].members if m.layer == "dense"]
    assert len(flat) == 1 and flat[0].axis == 0 and len(flat[0].positions) == 5 * 5 * 64
    assert flat[0].channels[:130:64] == (0, 0, 0) and flat[0].channels[:3] == (0, 1, 2)


def test_groups_concat_and_residual():
    model, _ = zoo.concat_branches()
    assert summary(model) == {"a": (8, ("a",), ("out",), True), "b": (8, ("b",), ("out",), True),
                              "out": (3, ("out",), (), False)}
    out_rows = {g.name: [m.positions for m in g.members if m.layer == "out"] for g in dependency_groups(model)}
    assert out_rows["a"] == [tuple(range(8))] and out_rows["b"] == [tuple(range(8, 16))]
    model, _ = zoo.residual_dense()
    assert summary(model) == {"stem": (8, ("stem", "fc2"), ("fc1", "out"), True),
                              "fc1": (12, ("fc1",), ("fc2",), True), "out": (3, ("out",), (), False)}


def test_resnet_residual_stream_is_one_group_with_several_producers():
    model, _ = zoo.resnet_blocks()
    assert summary(model) == {
        "stem": (8, ("stem", "b1c2"), ("b1c1", "b2c1", "b2proj"), True),
        "b1c1": (8, ("b1c1",), ("b1c2",), True),
        "b2c1": (16, ("b2c1",), ("b2c2",), True),
        "b2proj": (16, ("b2proj", "b2c2"), ("out",), True),  # Keras' own order: b2proj before b2c2
        "out": (4, ("out",), (), False)}
    stream = groups_by_name(model)["stem"]
    assert set(stream.layers) == {"stem", "stem_bn", "b1c2", "b1c2_bn", "b1c1", "b2c1", "b2proj"}
    assert {(m.layer, m.weight) for m in stream.members if m.layer.endswith("_bn")} == {
        (bn, w) for bn in ("stem_bn", "b1c2_bn") for w in ("gamma", "beta", "moving_mean", "moving_variance")}


def test_mobilenet_v2_groups():
    model, _ = zoo.mobilenet_v2()
    groups = groups_by_name(model)
    assert len(groups) == 26 and len(prunable_layers(model)) == 36
    assert [g.name for g in groups.values() if not g.prunable] == ["predictions"]
    assert groups["block_3_project"].producers == ("block_3_project", "block_4_project", "block_5_project")
    expand = groups["block_1_expand"]
    assert expand.size == 48 and expand.consumers == ("block_1_project",)
    assert {(m.layer, m.weight) for m in expand.members if "depthwise" in m.layer and "BN" not in m.layer} == {
        ("block_1_depthwise", "kernel")}  # MobileNetV2's depthwise convs have no bias
    assert sum(len(g.producers) for g in groups.values()) == 36  # every prunable layer produces one group


def test_groups_text_separable_transpose_conv3d_se_shared():
    assert summary(zoo.conv1d_text()[0]) == {"conv": (32, ("conv",), ("fc",), True),
                                             "fc": (16, ("fc",), ("out",), True), "out": (2, ("out",), (), False)}
    assert summary(zoo.separable()[0]) == {"conv": (8, ("conv",), ("sep1",), True),
                                           "sep1": (16, ("sep1",), ("sep2",), True),
                                           "sep2": (12, ("sep2",), ("out",), True), "out": (5, ("out",), (), False)}
    sep = groups_by_name(zoo.separable()[0])["conv"]
    pointwise = next(m for m in sep.members if m.weight == "pointwise_kernel")
    assert pointwise.positions == tuple(range(16)) and pointwise.channels == tuple(np.repeat(np.arange(8), 2))
    transpose = groups_by_name(zoo.conv_transpose()[0])
    assert [(m.layer, m.weight, m.axis) for m in transpose["up"].members] == [
        ("up", "kernel", 2), ("up", "bias", 0), ("conv", "kernel", 2)]
    assert ("up", "kernel", 3) in [(m.layer, m.weight, m.axis) for m in transpose["down"].members]
    conv3d = groups_by_name(zoo.conv3d_prelu_reshape()[0])
    assert [(m.layer, m.weight, m.axis) for m in conv3d["c3a"].members] == [
        ("c3a", "kernel", 4), ("c3a", "bias", 0), ("prelu", "alpha", 3), ("c3b", "kernel", 3)]
    assert summary(zoo.squeeze_excite()[0])["conv"] == (16, ("conv", "se_expand"), ("se_reduce", "conv2"), True)
    assert summary(zoo.shared_dense()[0]) == {"pa": (6, ("pa", "pb"), ("shared",), True),
                                              "shared": (8, ("shared",), ("out",), True),
                                              "out": (2, ("out",), (), False)}


# --- unknown kinds: reported, never pruned -------------------------------------------------------

def _after_hidden(make_layer, input_shape=(6,), hidden=None):
    inputs = keras.Input(input_shape)
    x = (hidden or keras.layers.Dense(8, name="hidden"))(inputs)
    x = make_layer()(x)
    x = keras.layers.Flatten()(x) if len(input_shape) > 1 else x
    return keras.Model(inputs, keras.layers.Dense(2, name="out")(x))


@pytest.mark.parametrize("build, words", [
    (lambda: zoo.gru_model()[0], "feeds GRU 'gru' (a layer kind the graph does not know)"),
    (lambda: zoo.dense_bn_layernorm()[0], "feeds LayerNormalization 'ln', whose mean and variance"),
    (lambda: _after_hidden(lambda: keras.layers.Lambda(lambda t: t * 2, name="double")),
     "feeds Lambda 'double' (a layer kind the graph does not know)"),
    (lambda: _after_hidden(lambda: keras.layers.GroupNormalization(2, name="gn")), "feeds GroupNormalization 'gn'"),
    (lambda: _after_hidden(lambda: keras.layers.Softmax(name="sm")), "feeds Softmax 'sm', which applies softmax"),
    (lambda: _after_hidden(lambda: keras.layers.Dense(3, name="next"),
                           hidden=keras.layers.Dense(8, activation="softmax", name="hidden")),
     "is produced by Dense 'hidden', which applies softmax across the channels"),
    (lambda: _after_hidden(lambda: keras.layers.Conv2D(4, 1, groups=2, name="grouped"), (5, 5, 2),
                           keras.layers.Conv2D(8, 1, name="hidden")),
     "feeds Conv2D 'grouped', which is a grouped convolution (groups=2)"),
    (lambda: _after_hidden(lambda: keras.layers.DepthwiseConv2D(3, depth_multiplier=2, name="dw2"), (5, 5, 2),
                           keras.layers.Conv2D(8, 1, name="hidden")),
     "feeds DepthwiseConv2D 'dw2', which has depth_multiplier=2"),
    (lambda: _after_hidden(lambda: keras.layers.BatchNormalization(axis=1, name="bn_rows"), (5, 4),
                           keras.layers.Dense(8, name="hidden")),
     "feeds BatchNormalization 'bn_rows', which normalises over axis 1"),
    (lambda: _after_hidden(lambda: keras.layers.Conv2D(4, 1, data_format="channels_first", name="cf"), (5, 5, 2),
                           keras.layers.Conv2D(8, 1, name="hidden")),
     "feeds Conv2D 'cf', which uses data_format='channels_first'"),
    (lambda: _after_hidden(lambda: keras.layers.Reshape((2, 4), name="fold")),
     "feeds Reshape 'fold', which moves channels off the last axis"),
])
def test_unknown_kinds_are_reported_not_pruned(build, words):
    model = build()
    hidden = next(g for g in dependency_groups(model) if g.name in ("hidden", "pre", "h"))
    assert not hidden.prunable and words in hidden.reason
    with pytest.raises(ValueError, match="cannot lose units"):
        weight_masks(model, {hidden.name: np.arange(hidden.size) > 0})
    from prune_core.graph.surgery import compact
    small, report = compact(model, {hidden.name: np.arange(hidden.size) > 0})
    assert list(report.left_masked) == [hidden.name] and words in report.left_masked[hidden.name]
    assert report.removed == {} and small.count_params() == model.count_params()


def test_keras_ops_in_the_graph_are_unknown():
    inputs = keras.Input((4,))
    x = keras.layers.Dense(6, name="hidden")(inputs)
    model = keras.Model(inputs, keras.layers.Dense(2, name="out")(x * 2.0))
    hidden = groups_by_name(model)["hidden"]
    assert not hidden.prunable and "feeds the operation Multiply" in hidden.reason


def test_group_united_with_the_model_input_is_not_prunable():
    inputs = keras.Input((4,), name="pixels")
    x = keras.layers.Add()([inputs, keras.layers.Dense(4, name="res")(inputs)])
    model = keras.Model(inputs, keras.layers.Dense(2, name="out")(x))
    res = groups_by_name(model)["res"]
    assert not res.prunable and res.reason == "shares channels with the model input 'pixels', which cannot lose channels"


def test_concatenate_on_another_axis_couples_its_inputs():
    inputs = keras.Input((3, 4))
    a = keras.layers.Dense(5, name="a")(inputs)
    b = keras.layers.Dense(5, name="b")(inputs)
    x = keras.layers.Concatenate(axis=1)([a, b])
    model = keras.Model(inputs, keras.layers.Dense(2, name="out")(keras.layers.Flatten()(x)))
    assert summary(model)["a"] == (5, ("a", "b"), ("out",), True)


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


def test_docstring_examples():
    assert doctest.testmod(graph, raise_on_error=False).failed == 0


def test_masked_model_is_clean_after_batchnorm():
    """Zeroed column, bias and BN gamma/beta/statistics: the removed channel is exactly 0 after BN."""
    model, x = zoo.resnet_blocks()
    keep = np.ones(8, bool)
    keep[[1, 6]] = False
    zero_units(model, {"b1c1": keep})
    probe = keras.Model(model.inputs[0], model.get_layer("b1c1_bn").output)
    after_bn = np.asarray(probe(x, training=False))
    assert not after_bn[..., ~keep].any() and after_bn[..., keep].any()


def test_walk_is_cached_per_graph_and_follows_sequential_add():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, name="h")])
    assert not groups_by_name(model)["h"].prunable
    assert dependency_groups(model) == dependency_groups(model)
    model.add(keras.layers.Dense(2, name="o"))
    assert groups_by_name(model)["h"].prunable and groups_by_name(model)["h"].consumers == ("o",)


def test_unknown_spatial_sizes_still_group_through_global_pooling():
    inputs = keras.Input((None, None, 3))
    x = keras.layers.Conv2D(6, 3, name="conv")(inputs)
    x = keras.layers.GlobalAveragePooling2D()(x)
    model = keras.Model(inputs, keras.layers.Dense(2, name="out")(x))
    assert summary(model)["conv"] == (6, ("conv",), ("out",), True)
    from prune_core.graph.surgery import compact_model
    small = compact_model(model, {"conv": np.arange(6) < 4})
    x = np.random.default_rng(0).random((2, 7, 9, 3), dtype=np.float32)
    zero_units(model, {"conv": np.arange(6) < 4})
    np.testing.assert_allclose(np.asarray(small(x)), np.asarray(model(x)), rtol=1e-5, atol=1e-6)


def test_a_softmax_activation_layer_after_the_head_keeps_it_the_output_layer():
    inputs = keras.Input((5,))
    x = keras.layers.Dense(6, activation="relu", name="hidden")(inputs)
    x = keras.layers.Dense(3, name="logits")(x)
    model = keras.Model(inputs, keras.layers.Activation("softmax", name="probs")(x))
    assert output_layer_names(model) == {"logits"}
    assert summary(model) == {"hidden": (6, ("hidden",), ("logits",), True), "logits": (3, ("logits",), (), False)}
    assert groups_by_name(model)["logits"].reason == "reaches the model output"
