"""Masks: building them from scores, applying them without touching the original."""

import keras
import numpy as np
import pytest

from prune_core.methods import masks as mk
from prune_core.graph import kernels
from tests.tiny import dense_net


# --- pure numpy ----------------------------------------------------------------------------------

def test_keep_mask_is_score_at_least_threshold():
    assert mk.keep_mask(np.array([0.5, 0.3, 0.6, 0.2, 0.4]), 0.4).tolist() == [True, False, True, False, True]


def test_build_masks_weight_granularity_and_counts():
    scores = {"a": np.array([[0.5, 0.3], [0.6, 0.2]]), "b": np.array([1.0, 4.0, 2.0])}
    ms = mk.build_masks(scores, "coefficient", 0.5)
    assert ms.kernels["a"].tolist() == [[True, True], [True, False]]  # threshold 0.3
    assert ms.kernels["b"].tolist() == [False, True, True]             # threshold 2.0
    assert ms.thresholds == pytest.approx({"a": 0.3, "b": 2.0})
    assert ms.kept_counts() == {"a": 3, "b": 2} and ms.total_counts() == {"a": 4, "b": 3}
    assert ms.layer_sparsity() == pytest.approx({"a": 0.25, "b": 1 / 3})
    assert (ms.kept, ms.total) == (5, 7) and ms.overall_sparsity == pytest.approx(2 / 7)
    table = ms.table()
    assert table["layer"].tolist() == ["a", "b"] and table["kept"].tolist() == [3, 2]
    assert table["sparsity"].tolist() == pytest.approx([0.25, 1 / 3])


def test_build_masks_global_sparsity_is_an_exact_count():
    scores = {"a": np.array([1.0, 1.0, 5.0]), "b": np.array([1.0, 2.0, 3.0])}
    ms = mk.build_masks(scores, "sparsity", 0.5, scope="global")  # 3 of 6, ties by position
    assert ms.kernels["a"].tolist() == [False, False, True] and ms.kernels["b"].tolist() == [False, True, True]
    assert ms.overall_sparsity == 0.5
    per_layer = mk.build_masks(scores, "sparsity", {"a": 1.0, "b": 0.0})
    assert per_layer.layer_sparsity() == {"a": 1.0, "b": 0.0}


def test_build_masks_std_uses_signed_weights_when_given():
    w = {"a": np.array([0.0, 3.0, -3.0, 0.0])}
    ms = mk.build_masks({"a": np.abs(w["a"])}, "std", 1.0, weights=w)
    assert ms.kernels["a"].tolist() == [False, True, True, False]


def test_build_masks_unit_granularity_skips_output_layer():
    w = {"h": np.ones((2, 3)), "out": np.ones((3, 2))}
    unit = {"h": np.array([3.0, 1.0, 2.0]), "out": np.array([0.0, 9.0])}
    ms = mk.build_masks(unit, "coefficient", 0.5, granularity="unit", weights=w, output_layer="out")
    assert list(ms.units) == ["h"] and ms.units["h"].tolist() == [True, False, True]
    assert ms.kernels["h"].tolist() == [[True, False, True]] * 2 and "out" not in ms.kernels
    assert ms.granularity == "unit"


def test_build_masks_argument_errors():
    with pytest.raises(ValueError, match="needs the kernels"):
        mk.build_masks({"h": np.ones(3)}, "sparsity", 0.5, granularity="unit")
    with pytest.raises(ValueError, match="vector of length 3"):
        mk.build_masks({"h": np.ones(2)}, "sparsity", 0.5, granularity="unit", weights={"h": np.ones((2, 3))})
    with pytest.raises(ValueError, match="granularity"):
        mk.build_masks({"h": np.ones(3)}, "sparsity", 0.5, granularity="filter")
    with pytest.raises(ValueError, match="coefficient must be"):
        mk.build_masks({"h": np.ones(3)}, "coefficient", 1.5)


# --- Keras: tiny models built here ---------------------------------------------------------------

def conv_net(seed=0):
    import keras
    keras.utils.set_random_seed(seed)
    L = keras.layers
    inputs = keras.Input(shape=(8, 8, 1))
    x = L.Conv2D(3, 3, activation="relu", name="c1")(inputs)          # 6x6x3
    x = L.BatchNormalization(name="bn")(x)
    x = L.MaxPooling2D(2, name="pool")(x)                              # 3x3x3
    x = L.Conv2D(4, 2, activation="relu", name="c2")(x)               # 2x2x4
    x = L.Dropout(0.5, name="drop")(x)
    x = L.Flatten(name="flat")(x)                                      # 16
    outputs = L.Dense(3, activation="softmax", name="out")(x)
    model = keras.Model(inputs, outputs)
    rng = np.random.default_rng(seed)
    bn = model.get_layer("bn")
    bn.set_weights([rng.uniform(0.5, 2, 3), rng.normal(size=3), rng.normal(size=3), rng.uniform(0.5, 2, 3)])
    for name in ("c1", "c2", "out"):
        model.get_layer(name).bias.assign(rng.normal(size=model.get_layer(name).bias.shape).astype("float32"))
    return model


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def test_apply_masks_returns_new_model_and_leaves_original_untouched():
    model = dense_net()
    before = [w.copy() for w in model.get_weights()]
    scores = {n: np.abs(k) for n, k in kernels(model).items()}
    ms = mk.build_masks(scores, "sparsity", 0.5)
    masked = mk.apply_masks(model, ms)
    assert masked is not model
    for a, b in zip(before, model.get_weights()):
        assert np.array_equal(a, b)
    for name, kernel in kernels(masked).items():
        assert np.array_equal(kernel, kernels(model)[name] * ms.kernels[name])
        assert np.count_nonzero(kernel) == ms.kept_counts()[name]
    # biases are not pruned at weight granularity
    assert np.array_equal(masked.get_layer("h").bias.numpy(), model.get_layer("h").bias.numpy())


@pytest.mark.parametrize("activation", ["relu", "sigmoid"])
def test_removing_dense_units_equals_physical_removal(activation):
    model = dense_net(1, activation)
    x = np.random.default_rng(1).normal(size=(20, 6)).astype("float32")
    units = {"h": np.array([True, False, True, False])}
    ms = mk.MaskSet(kernels={"h": np.broadcast_to(units["h"], (6, 4)).copy()}, units=units, granularity="unit")
    masked = mk.apply_masks(model, ms)
    w1, b1 = model.get_layer("h").get_weights()
    w2, b2 = model.get_layer("out").get_weights()
    keep = units["h"]
    z = x @ w1[:, keep] + b1[keep]
    hidden = np.maximum(z, 0) if activation == "relu" else 1 / (1 + np.exp(-z))
    expected = softmax(hidden @ w2[keep] + b2)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(masked(x)), expected, atol=1e-6)
    mw1, mb1 = masked.get_layer("h").get_weights()
    assert not mw1[:, ~keep].any() and not mb1[~keep].any()
    assert not masked.get_layer("out").kernel.numpy()[~keep].any()
    eff = mk.effective_masks(model, ms)
    assert eff.kernels["out"][~keep].sum() == 0 and eff.kernels["out"][keep].all()
    assert eff.layer_sparsity()["out"] == 0.5


def test_removing_filters_across_bn_pool_flatten_equals_physical_removal():
    import keras
    model = conv_net(2)
    x = np.random.default_rng(2).normal(size=(10, 8, 8, 1)).astype("float32")
    k1 = np.array([True, False, True])
    k2 = np.array([True, True, False, True])
    shapes = {n: k.shape for n, k in kernels(model).items()}
    ms = mk.build_masks({"c1": k1.astype(float), "c2": k2.astype(float)}, "coefficient", 1.0,
                        granularity="unit", weights={n: np.zeros(s) for n, s in shapes.items()}, output_layer="out")
    assert ms.units["c1"].tolist() == k1.tolist() and ms.units["c2"].tolist() == k2.tolist()
    masked = mk.apply_masks(model, ms)

    # the physically smaller network
    L = keras.layers
    inputs = keras.Input(shape=(8, 8, 1))
    h = L.Conv2D(2, 3, activation="relu", name="c1")(inputs)
    h = L.BatchNormalization(name="bn")(h)
    h = L.MaxPooling2D(2)(h)
    h = L.Conv2D(3, 2, activation="relu", name="c2")(h)
    h = L.Flatten()(h)
    small = keras.Model(inputs, L.Dense(3, activation="softmax", name="out")(h))
    w, b = model.get_layer("c1").get_weights()
    small.get_layer("c1").set_weights([w[..., k1], b[k1]])
    small.get_layer("bn").set_weights([p[k1] for p in model.get_layer("bn").get_weights()])
    w, b = model.get_layer("c2").get_weights()
    small.get_layer("c2").set_weights([w[:, :, k1][..., k2], b[k2]])
    w, b = model.get_layer("out").get_weights()
    flat_keep = np.tile(k2, 4)  # channels-last: flat index (h*W + w)*C + c over a 2x2 map
    small.get_layer("out").set_weights([w[flat_keep], b])

    np.testing.assert_allclose(keras.ops.convert_to_numpy(masked(x, training=False)), keras.ops.convert_to_numpy(small(x, training=False)), atol=1e-5)
    assert not masked.get_layer("c2").kernel.numpy()[:, :, 1, :].any()
    out_kernel = masked.get_layer("out").kernel.numpy()
    assert [i for i in range(16) if not out_kernel[i].any()] == [2, 6, 10, 14]


def test_mask_shape_mismatch_is_refused():
    with pytest.raises(ValueError, match="has shape"):
        mk.apply_masks(dense_net(), mk.MaskSet(kernels={"h": np.ones((4, 6), dtype=bool)}))
    with pytest.raises(ValueError, match="not a prunable layer"):
        mk.apply_masks(dense_net(), mk.MaskSet(kernels={"nope": np.ones(3, dtype=bool)}))


def test_build_masks_sparsity_thresholds_are_the_smallest_kept_scores():
    from prune_core.methods import thresholds as th
    scores = {"a": np.array([0.5, 0.3, 0.6, 0.2, 0.4]), "b": np.array([[0.1, 0.7], [0.05, 0.9]])}
    assert mk.build_masks(scores, "sparsity", 0.4).thresholds == th.thresholds_for(scores, "sparsity", 0.4) \
        == {"a": 0.4, "b": 0.7}
    assert mk.build_masks(scores, "sparsity", 0.4, scope="global").thresholds == {"a": 0.4, "b": 0.4}
