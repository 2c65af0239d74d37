"""Physical removal of neurons/filters: the compact model predicts exactly what the masked model does."""

import doctest

import keras
import numpy as np
import pytest

from prune_core.graph import surgery
from prune_core.graph import prunable_layers
from prune_core.methods.masks import without_optimizer
from prune_core.train.models import build_model
from prune_core.graph.surgery import compact_model


def masked_reference(model, units):
    """Same architecture; removed units' kernels and biases zeroed, next prunable layer's inputs zeroed.

    The next layer's incoming rows are ``np.tile(removed, rows // C)``: Dense→Dense (one position),
    Conv→Conv (channel axis) and Conv→Flatten→Dense (channels-last: flat index = position*C + c).
    """
    clone = keras.models.clone_model(model)
    clone.set_weights(model.get_weights())
    layers = prunable_layers(clone)
    for layer, nxt in zip(layers, layers[1:]):
        if layer.name not in units:
            continue
        removed = ~np.asarray(units[layer.name], dtype=bool)
        kernel, bias = (np.array(w) for w in layer.get_weights())
        kernel[..., removed] = 0
        bias[removed] = 0
        layer.set_weights([kernel, bias])
        nxt_kernel, *rest = (np.array(w) for w in nxt.get_weights())
        rows = nxt_kernel.shape[-2]
        nxt_kernel[..., np.tile(removed, rows // removed.size), :] = 0
        nxt.set_weights([nxt_kernel, *rest])
    return clone


def random_units(model, rng, keep_fraction=0.6):
    """A random unit mask for every prunable layer but the output, never empty."""
    units = {}
    for layer in prunable_layers(model)[:-1]:
        mask = rng.random(layer.kernel.shape[-1]) < keep_fraction
        mask[rng.integers(mask.size)] = True
        units[layer.name] = mask
    return units


def randomize_biases(model, rng):
    """Non-zero biases, so a forgotten bias slice would show in the outputs."""
    for layer in prunable_layers(model):
        kernel, bias = layer.get_weights()
        layer.set_weights([kernel, rng.normal(0, 0.1, bias.shape).astype("float32")])


def assert_equivalent(model, units, x):
    compact = compact_model(model, units)
    expected = keras.ops.convert_to_numpy(masked_reference(model, units)(x, training=False))
    got = keras.ops.convert_to_numpy(compact(x, training=False))
    np.testing.assert_allclose(got, expected, atol=1e-5, rtol=0)
    return compact


def dense_net():
    return keras.Sequential([keras.Input((784,)),
                             keras.layers.Dense(32, activation="relu", name="d1"),
                             keras.layers.Dense(16, activation="relu", name="d2"),
                             keras.layers.Dense(10, activation="softmax", name="out")], name="mlp")


def test_dense_net_equivalence_and_shapes():
    rng = np.random.default_rng(0)
    model = dense_net()
    randomize_biases(model, rng)
    units = random_units(model, rng)
    compact = assert_equivalent(model, units, rng.random((64, 784), dtype=np.float32))
    k1, k2 = int(units["d1"].sum()), int(units["d2"].sum())
    assert isinstance(compact, keras.Sequential) and compact.name == "mlp"
    assert [layer.get_weights()[0].shape for layer in compact.layers] == [(784, k1), (k1, k2), (k2, 10)]
    assert compact.count_params() == 784 * k1 + k1 + k1 * k2 + k2 + k2 * 10 + 10
    np.testing.assert_array_equal(compact.get_layer("d1").get_weights()[1],
                                  model.get_layer("d1").get_weights()[1][units["d1"]])


def test_lenet5_equivalence_through_pool_and_flatten():
    rng = np.random.default_rng(1)
    model = build_model("lenet-5")
    randomize_biases(model, rng)
    units = random_units(model, rng)
    compact = assert_equivalent(model, units, rng.random((16, 28, 28), dtype=np.float32))
    kept = {name: int(m.sum()) for name, m in units.items()}
    assert compact.get_layer("conv2").kernel.shape == (5, 5, kept["conv1"], kept["conv2"])
    assert compact.get_layer("dense1").kernel.shape == (5 * 5 * kept["conv2"], kept["dense1"])
    assert compact.get_layer("output").kernel.shape == (kept["dense2"], 10)
    assert [type(layer).__name__ for layer in compact.layers] == [type(layer).__name__ for layer in model.layers]
    x = rng.random((4, 28, 28), dtype=np.float32)  # the compact model's config rebuilds it (save/export path)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(without_optimizer(compact)(x)), keras.ops.convert_to_numpy(compact(x)), atol=1e-6)


def test_flatten_positions_follow_channels_last_order():
    """Removing filter c of a 2×2×3 map drops flat rows (h*W + w)*C + c of the next Dense."""
    model = keras.Sequential([keras.Input((2, 2, 1)), keras.layers.Conv2D(3, 1, name="conv"),
                              keras.layers.Flatten(), keras.layers.Dense(2, name="out")])
    out_kernel = np.arange(24, dtype="float32").reshape(12, 2)
    model.get_layer("out").set_weights([out_kernel, np.zeros(2, "float32")])
    compact = compact_model(model, {"conv": np.array([True, False, True])})
    np.testing.assert_array_equal(compact.get_layer("out").get_weights()[0], out_kernel[[0, 2, 3, 5, 6, 8, 9, 11]])


def conv_bn_net():
    inputs = keras.Input((12, 12, 2), name="pixels")
    x = keras.layers.Conv2D(6, 3, name="c1")(inputs)
    x = keras.layers.BatchNormalization(name="bn1")(x)
    x = keras.layers.Activation("relu")(x)
    x = keras.layers.MaxPooling2D(2)(x)
    x = keras.layers.Dropout(0.3)(x)
    x = keras.layers.Conv2D(5, 3, activation="relu", padding="same", name="c2")(x)
    x = keras.layers.BatchNormalization(name="bn2")(x)
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dropout(0.5)(x)
    x = keras.layers.Dense(8, activation="relu", name="d1")(x)
    outputs = keras.layers.Dense(3, activation="softmax", name="out")(x)
    model = keras.Model(inputs, outputs, name="convbn")
    rng = np.random.default_rng(2)
    for name in ("bn1", "bn2"):  # non-trivial statistics, so a wrong slice changes the outputs
        bn = model.get_layer(name)
        bn.set_weights([rng.uniform(0.5, 2, w.shape).astype("float32") if i in (0, 3)
                        else rng.normal(0, 0.5, w.shape).astype("float32")
                        for i, w in enumerate(bn.get_weights())])
    randomize_biases(model, rng)
    return model


def test_conv_batchnorm_dropout_functional_equivalence():
    rng = np.random.default_rng(3)
    model = conv_bn_net()
    units = {"c1": np.array([1, 0, 1, 1, 0, 1], bool), "c2": np.array([0, 1, 1, 0, 1], bool),
             "d1": np.array([1, 1, 0, 1, 0, 1, 1, 0], bool)}
    compact = assert_equivalent(model, units, rng.random((8, 12, 12, 2), dtype=np.float32))
    assert not isinstance(compact, keras.Sequential) and compact.inputs[0].shape == (None, 12, 12, 2)
    np.testing.assert_array_equal(compact.get_layer("bn1").get_weights()[2],
                                  model.get_layer("bn1").get_weights()[2][units["c1"]])
    assert compact.get_layer("d1").kernel.shape == (5 * 5 * 3, 5)


def test_partial_masks_and_all_true_entries():
    rng = np.random.default_rng(4)
    model = conv_bn_net()
    only_c2 = {"c2": np.array([1, 0, 0, 0, 1], bool), "out": np.ones(3, bool), "c1": np.ones(6, bool)}
    compact = assert_equivalent(model, only_c2, rng.random((4, 12, 12, 2), dtype=np.float32))
    assert compact.get_layer("c1").filters == 6 and compact.get_layer("c2").filters == 2
    same = compact_model(model, {})
    assert same.count_params() == model.count_params()


def test_original_model_untouched():
    model = dense_net()
    before = [w.copy() for w in model.get_weights()]
    compact_model(model, {"d1": np.arange(32) % 2 == 0})
    assert model.get_layer("d1").units == 32
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_nested_sequential_is_inlined():
    rng = np.random.default_rng(5)
    inner = keras.Sequential([keras.Input((6,)), keras.layers.Dense(5, activation="relu", name="h1"),
                              keras.layers.Dense(4, activation="relu", name="h2")], name="body")
    inputs = keras.Input((6,))
    model = keras.Model(inputs, keras.layers.Dense(2, name="out")(inner(inputs)))
    randomize_biases(model, rng)
    compact = assert_equivalent(model, {"h1": np.array([1, 0, 1, 1, 0], bool), "h2": np.array([0, 1, 1, 1], bool)},
                                rng.random((5, 6), dtype=np.float32))
    assert [layer.name for layer in compact.layers][1:] == ["h1", "h2", "out"]


@pytest.mark.parametrize("units, message", [
    ({"d1": np.zeros(32, bool)}, "all 32 units of layer 'd1'"),
    ({"out": np.arange(10) > 0}, "output layer"),
    ({"nope": np.ones(3, bool)}, "'nope' is not a prunable"),
    ({"d2": np.ones(15, bool)}, r"shape \(15,\); expected \(16,\)"),
    ({"d2": np.full(16, 0.5)}, "must be boolean"),
])
def test_refusals(units, message):
    with pytest.raises(ValueError, match=message):
        compact_model(dense_net(), units)


def test_branches_compact_and_channel_mixing_layers_are_refused():
    """Branched models used to be refused; now an Add couples a and b into one group 'a'."""
    inputs = keras.Input((4,))
    a = keras.layers.Dense(3, name="a")(inputs)
    b = keras.layers.Dense(3, name="b")(inputs)
    branched = keras.Model(inputs, keras.layers.Dense(2, name="out")(keras.layers.Add()([a, b])))
    assert compact_model(branched, {}).count_params() == branched.count_params()
    small = compact_model(branched, {"a": np.array([True, False, True])})
    assert small.get_layer("b").units == 2 and small.get_layer("out").kernel.shape == (2, 2)
    layer_norm = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, name="h"),
                                   keras.layers.LayerNormalization(name="ln"), keras.layers.Dense(2, name="out")])
    with pytest.raises(ValueError, match="'ln'"):
        compact_model(layer_norm, {"h": np.array([True, False, True])})
    compact_model(layer_norm, {})  # nothing removed: any layer may sit in the chain


def test_docstring_examples():
    assert doctest.testmod(surgery, raise_on_error=False).failed == 0


# --- every model of the zoo: prune 30% of units globally, masked == compact ----------------------

from prune_core.graph import (
    dependency_groups, group_scores, kernels, layers as graph_layers, output_layer_names, weight_masks, zero_units)
from prune_core.graph.surgery import compact  # noqa: E402
from tests import model_zoo as zoo  # noqa: E402


def global_units(model, fraction=0.3):
    """The ``fraction`` lowest-scored channels of all prunable groups (magnitude group scores), exactly
    that many; a group's last channel is skipped (the next lowest elsewhere goes instead)."""
    scores = group_scores(model, {n: np.abs(k) for n, k in kernels(model).items()}, dependency_groups(model))
    flat = np.concatenate(list(scores.values()))
    owner = np.repeat(np.arange(len(scores)), [s.size for s in scores.values()])
    left = np.array([s.size for s in scores.values()])
    removed = np.zeros(flat.size, bool)
    target = int(round(fraction * flat.size))
    for i in np.argsort(flat, kind="stable"):
        if removed.sum() == target:
            break
        if left[owner[i]] > 1:
            removed[i], left[owner[i]] = True, left[owner[i]] - 1
    bounds = np.cumsum([0] + [s.size for s in scores.values()])
    return {name: ~removed[a:b] for name, a, b in zip(scores, bounds[:-1], bounds[1:])}, target


# Parameters of the compact model from the kept channel count of each group, counted by hand.
EXPECTED_PARAMS = {
    "mnist_convnet": lambda k: 10 * k["conv2d"] + 9 * k["conv2d"] * k["conv2d_1"] + k["conv2d_1"]
    + 250 * k["conv2d_1"] + 10,
    "concat_branches": lambda k: 7 * k["a"] + 7 * k["b"] + 3 * (k["a"] + k["b"]) + 3,
    "residual_dense": lambda k: 7 * k["stem"] + 2 * k["stem"] * k["fc1"] + k["fc1"] + k["stem"] + 3 * k["stem"] + 3,
    "resnet_blocks": lambda k: 32 * k["stem"] + 9 * k["stem"] * k["b1c1"] + 5 * k["b1c1"]
    + 9 * k["b1c1"] * k["stem"] + 5 * k["stem"] + 9 * k["stem"] * k["b2c1"] + 5 * k["b2c1"]
    + 9 * k["b2c1"] * k["b2proj"] + 5 * k["b2proj"] + k["stem"] * k["b2proj"] + 5 * k["b2proj"] + 4 * k["b2proj"] + 4,
    "dense_bn_layernorm": lambda k: 176 + 64 + 32 + 17 * k["mid"] + 3 * k["mid"] + 3,
    "conv1d_text": lambda k: 50 * k["emb"] + (3 * k["emb"] + 1) * k["conv"] + k["conv"] * k["fc"] + 3 * k["fc"] + 2,
    # GRU (reset_after): kernel pre×3u, recurrent u×3u, bias 2×3u
    "gru_model": lambda k: 40 * k["emb"] + (k["emb"] + 1) * k["pre"] + 3 * k["gru"] * (k["pre"] + k["gru"] + 2)
    + (k["gru"] + 1) * k["post"] + 3 * k["post"] + 3,
    "separable": lambda k: 28 * k["conv"] + 18 * k["conv"] + 2 * k["conv"] * k["sep1"] + 5 * k["sep1"]
    + 9 * k["sep1"] + k["sep1"] * k["sep2"] + k["sep2"] + 5 * k["sep2"] + 5,
    "nested_backbone": lambda k: 32 * k["b_conv1"] + 9 * k["b_conv1"] * k["b_conv2"] + k["b_conv2"]
    + k["b_conv2"] * k["head"] + 4 * k["head"] + 3,
    "conv_transpose": lambda k: 19 * k["down"] + 9 * k["down"] * k["up"] + k["up"] + 9 * k["up"] * k["conv"]
    + 4 * k["conv"] + 3,
    "conv3d_prelu_reshape": lambda k: 10 * k["c3a"] + 8 * k["c3a"] * k["c3b"] + k["c3b"] + k["c3b"] * k["fc"]
    + 17 * k["fc"] + 2,
    "squeeze_excite": lambda k: 28 * k["conv"] + 2 * k["conv"] * k["se_reduce"] + k["se_reduce"] + k["conv"]
    + k["conv"] * k["conv2"] + 4 * k["conv2"] + 3,
    "shared_dense": lambda k: 12 * k["pa"] + k["pa"] * k["shared"] + 3 * k["shared"] + 2,
}


@pytest.mark.parametrize("name", list(zoo.ZOO))
def test_zoo_global_30_percent_masked_equals_compact(name):
    model, x = zoo.ZOO[name]()
    dense_params = model.count_params()
    units, n_removed = global_units(model)
    assert sum(int((~m).sum()) for m in units.values()) == n_removed > 0 and all(m.any() for m in units.values())
    outputs = output_layer_names(model)
    before = {(layer.name, w.name): w.numpy().copy() for layer in graph_layers(model) for w in layer.weights}

    masks = weight_masks(model, units)
    small, report = compact(model, units)
    assert report.left_masked == {} and report.removed == {n: (int(m.sum()), m.size) for n, m in units.items()
                                                           if not m.all()}
    zero_units(model, units)

    # Only the chosen groups' weights changed, and exactly the entries weight_masks marks False.
    zeroed = 0
    for layer in graph_layers(model):
        for w in layer.weights:
            new, old = w.numpy(), before[(layer.name, w.name)]
            mask = masks.get(layer.name, {}).get(w.name)
            if mask is None:
                assert np.array_equal(new, old), f"{layer.name}/{w.name} changed outside every chosen group"
                continue
            assert np.array_equal(new[mask], old[mask]) and not new[~mask].any()
            zeroed += int((new != old).sum())
    assert zeroed == sum(int((~m).sum()) for weights in masks.values() for m in weights.values())

    expected = keras.ops.convert_to_numpy(model(x, training=False))
    got = keras.ops.convert_to_numpy(small(x, training=False))
    assert got.shape == expected.shape
    assert np.abs(got - expected).max() <= 1e-5 * np.abs(expected).max()
    assert small.count_params() < dense_params
    if name in EXPECTED_PARAMS:
        kept = {g.name: int(units[g.name].sum()) if g.name in units else g.size for g in dependency_groups(model)}
        assert small.count_params() == EXPECTED_PARAMS[name](kept)
    for out in outputs:  # the output layer keeps its units and its bias
        np.testing.assert_array_equal(small.get_layer(out).get_weights()[-1], before[(out, "bias")])


def test_concat_sibling_kept_whole_in_the_compact_model():
    model, x = zoo.concat_branches()
    units = {"a": np.array([1, 0, 1, 0, 1, 0, 1, 0], bool)}
    small = compact_model(model, units)
    np.testing.assert_array_equal(small.get_layer("b").kernel.numpy(), model.get_layer("b").kernel.numpy())
    np.testing.assert_array_equal(small.get_layer("out").kernel.numpy(),
                                  model.get_layer("out").kernel.numpy()[[0, 2, 4, 6, *range(8, 16)]])
    assert small.count_params() == 7 * 4 + 7 * 8 + 12 * 3 + 3 == 123


def test_compact_report_and_lenient_groups():
    inputs = keras.Input((6,))
    x = keras.layers.LayerNormalization(name="ln")(keras.layers.Dense(12, activation="tanh", name="pre")(inputs))
    x = keras.layers.Dense(16, activation="relu", name="post")(x)
    model = keras.Model(inputs, keras.layers.Dense(3, name="out")(x))
    units = {"pre": np.arange(12) > 2, "post": np.arange(16) % 2 == 0}
    with pytest.raises(ValueError, match="feeds LayerNormalization 'ln'"):
        compact_model(model, units)
    small, report = compact(model, units)
    assert report.removed == {"post": (8, 16)} and list(report.left_masked) == ["pre"]
    assert report.params_before == model.count_params() and report.params_after == small.count_params()
    assert report.lines()[0] == "post: kept 8 of 16 channels" and "left masked" in report.lines()[1]
    assert small.get_layer("pre").units == 12 and small.get_layer("post").units == 8


def test_compact_of_nested_and_shared_models_round_trips_through_config():
    for build in (zoo.nested_backbone, zoo.shared_dense, zoo.mobilenet_v2):
        model, x = build()
        units, _ = global_units(model)
        small = compact_model(model, units)
        again = keras.Model.from_config(small.get_config())
        again.set_weights(small.get_weights())
        np.testing.assert_allclose(keras.ops.convert_to_numpy(again(x)), keras.ops.convert_to_numpy(small(x)), rtol=1e-6, atol=1e-6)


def test_inlined_backbone_keeps_its_training_false():
    """`backbone(x, training=False)`: after inlining, its layers are called with training=False (Keras
    3.15 lets an outer training=True win over a nested call's flag, so outputs agree either way)."""
    b_in = keras.Input((6, 6, 2))
    x = keras.layers.Conv2D(6, 3, name="b_conv")(b_in)
    x = keras.layers.BatchNormalization(name="b_bn")(x)
    backbone = keras.Model(b_in, keras.layers.GlobalAveragePooling2D()(x), name="backbone")
    inputs = keras.Input((6, 6, 2))
    model = zoo.randomize(keras.Model(inputs, keras.layers.Dense(2, name="out")(backbone(inputs, training=False))))
    units = {"b_conv": np.array([1, 0, 1, 1, 0, 1], bool)}
    small = compact_model(model, units)
    zero_units(model, units)
    x = np.random.default_rng(0).random((4, 6, 6, 2), dtype=np.float32)
    assert small.get_layer("b_bn")._inbound_nodes[0].arguments.kwargs.get("training") is False
    for training in (False, True):
        np.testing.assert_allclose(keras.ops.convert_to_numpy(small(x, training=training)), keras.ops.convert_to_numpy(model(x, training=training)),
                                   rtol=1e-5, atol=1e-6)
