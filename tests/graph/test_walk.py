"""graph.walk: the walker (nested models, graph order, refusals), dependency groups found exactly, and
unknown kinds reported, never pruned."""

import keras
import numpy as np
import pytest

from prune_core import graph
from prune_core.graph import (
    dependency_groups, kernels, layers, output_layer_names, prunable_layers, weight_masks, zero_units)
from tests import model_zoo as zoo


def groups_by_name(model):
    return {g.name: g for g in dependency_groups(model)}


def summary(model):
    """{group: (size, producers, consumers, prunable)} for exact comparisons."""
    return {g.name: (g.size, g.producers, g.consumers, g.prunable) for g in dependency_groups(model)}


# --- the walker ---------------------------------------------------------------------------------

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
    assert summary(zoo.conv1d_text()[0]) == {"emb": (16, ("emb",), ("conv",), True),
                                             "conv": (32, ("conv",), ("fc",), True),
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
    (lambda: _after_hidden(lambda: keras.layers.Bidirectional(keras.layers.GRU(3), name="bi"), (5, 4)),
     "feeds Bidirectional 'bi', a wrapper whose forward and backward layers' units are concatenated"),
    (lambda: _after_hidden(lambda: keras.layers.SimpleRNN(3, activation="sigmoid", name="rnn"), (5, 4)),
     "feeds SimpleRNN 'rnn', which uses the activation 'sigmoid', which does not map 0 to 0"),
    (lambda: zoo.dense_bn_layernorm()[0], "feeds LayerNormalization 'ln', whose mean and variance"),
    (lambda: _after_hidden(lambda: keras.layers.Lambda(lambda t: t * 2, name="double")),
     "feeds Lambda 'double' (a layer kind the graph does not know)"),
    (lambda: _after_hidden(lambda: keras.layers.GroupNormalization(2, axis=1, name="gn"), (4, 6)),
     "feeds GroupNormalization 'gn', which normalises groups along axis 1"),
    (lambda: _after_hidden(lambda: keras.layers.Softmax(name="sm")), "feeds Softmax 'sm', which applies softmax"),
    (lambda: _after_hidden(lambda: keras.layers.Dense(3, name="next"),
                           hidden=keras.layers.Dense(8, activation="softmax", name="hidden")),
     "is produced by Dense 'hidden', which applies softmax across the channels"),
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
    np.testing.assert_allclose(keras.ops.convert_to_numpy(small(x)), keras.ops.convert_to_numpy(model(x)), rtol=1e-5, atol=1e-6)


def test_a_softmax_activation_layer_after_the_head_keeps_it_the_output_layer():
    inputs = keras.Input((5,))
    x = keras.layers.Dense(6, activation="relu", name="hidden")(inputs)
    x = keras.layers.Dense(3, name="logits")(x)
    model = keras.Model(inputs, keras.layers.Activation("softmax", name="probs")(x))
    assert output_layer_names(model) == {"logits"}
    assert summary(model) == {"hidden": (6, ("hidden",), ("logits",), True), "logits": (3, ("logits",), (), False)}
    assert groups_by_name(model)["logits"].reason == "reaches the model output"
