"""Physical removal of neurons/filters: the compact model predicts exactly what the masked model does."""

import doctest

import keras
import numpy as np
import pytest

from prune_core import surgery
from prune_core.layers import prunable_layers
from prune_core.models import build_model, without_optimizer
from prune_core.surgery import compact_model


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
    expected = np.asarray(masked_reference(model, units)(x, training=False))
    got = np.asarray(compact(x, training=False))
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
    np.testing.assert_allclose(without_optimizer(compact)(x), compact(x), atol=1e-6)


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
