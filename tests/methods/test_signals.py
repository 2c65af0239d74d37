"""Importance scores: exact values against hand-computed gradients on a tiny softmax net."""

import numpy as np
import pytest

from prune_core.measure import preview
from prune_core.methods import criteria, signals as imp
from prune_core.methods.criteria import CRITERIA

W1 = np.array([[0.5, -0.2], [-0.3, 0.8], [0.1, 0.4]], dtype=np.float32)   # 3 -> 2 (linear)
W2 = np.array([[1.0, -1.0, 0.5], [-0.5, 0.25, 2.0]], dtype=np.float32)   # 2 -> 3 (softmax)


def tiny_net():
    import keras
    inputs = keras.Input(shape=(3,))
    h = keras.layers.Dense(2, use_bias=False, name="h")(inputs)
    out = keras.layers.Dense(3, activation="softmax", use_bias=False, name="out")(h)
    model = keras.Model(inputs, out)
    model.get_layer("h").kernel.assign(W1)
    model.get_layer("out").kernel.assign(W2)
    return model


def data(n=10):
    rng = np.random.default_rng(0)
    return rng.normal(size=(n, 3)).astype(np.float32), rng.integers(0, 3, size=n)


def hand_gradients(x, y):
    """dL/dW for L = mean cross-entropy of softmax(x W1 W2), by hand."""
    h = x @ W1
    z = h @ W2
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    delta = (p - np.eye(3)[y]) / len(x)   # dL/dz
    return x.T @ (delta @ W2.T), h.T @ delta


def test_magnitude_is_abs_weight():
    scores = criteria.weight_scores(tiny_net(), "magnitude")
    assert list(scores) == ["h", "out"]
    assert np.array_equal(scores["h"], np.abs(W1)) and scores["out"].dtype == np.float32


@pytest.mark.parametrize("batches, batch_size", [(1, 10), (3, 3)])
def test_sensitivity_and_taylor_match_hand_computed_gradients(batches, batch_size):
    x, y = data()
    model = tiny_net()
    expected_s = [np.zeros_like(W1), np.zeros_like(W2)]
    expected_t = [np.zeros_like(W1), np.zeros_like(W2)]
    index_sets = imp.sample_batches(len(x), batches, batch_size, seed=4)
    assert len(index_sets) == batches
    for index in index_sets:
        for i, (g, w) in enumerate(zip(hand_gradients(x[index], y[index]), (W1, W2))):
            expected_s[i] += np.abs(g) / batches
            expected_t[i] += np.abs(w * g) / batches
    sens = criteria.weight_scores(model, "sensitivity", x, y, batches=batches, batch_size=batch_size, seed=4)
    taylor = criteria.weight_scores(model, "taylor", x, y, batches=batches, batch_size=batch_size, seed=4)
    for i, name in enumerate(["h", "out"]):
        np.testing.assert_allclose(sens[name], expected_s[i], rtol=1e-4, atol=1e-7)
        np.testing.assert_allclose(taylor[name], expected_t[i], rtol=1e-4, atol=1e-7)


def test_sample_batches_fixed_and_without_replacement():
    a = imp.sample_batches(10, 3, 4, seed=1)
    assert [len(b) for b in a] == [4, 4, 2]                         # only 10 examples
    assert sorted(np.concatenate(a).tolist()) == list(range(10))
    assert all(np.array_equal(p, q) for p, q in zip(a, imp.sample_batches(10, 3, 4, seed=1)))
    assert not all(np.array_equal(p, q) for p, q in zip(a, imp.sample_batches(10, 3, 4, seed=2)))


def test_data_criteria_without_data_raise_a_clear_error():
    for criterion in ("sensitivity", "taylor"):
        with pytest.raises(ValueError, match=f"The {criterion} criterion needs training data"):
            criteria.weight_scores(tiny_net(), criterion)
    with pytest.raises(ValueError, match="needs training data"):
        criteria.all_weight_scores(tiny_net(), criteria=("magnitude", "taylor"))
    with pytest.raises(ValueError, match="Unknown importance criterion"):
        criteria.weight_scores(tiny_net(), "hessian")


def test_random_is_seeded_uniform():
    model = tiny_net()
    a, b = criteria.weight_scores(model, "random", seed=3), criteria.weight_scores(model, "random", seed=3)
    c = criteria.weight_scores(model, "random", seed=4)
    assert a["h"].shape == (3, 2) and a["out"].shape == (2, 3) and a["h"].dtype == np.float32
    assert all(np.array_equal(a[n], b[n]) for n in a) and not np.array_equal(a["h"], c["h"])
    assert all(((s >= 0) & (s < 1)).all() for s in a.values())


def test_all_weight_scores_equals_one_at_a_time():
    x, y = data()
    model = tiny_net()
    every = criteria.all_weight_scores(model, x, y, batches=2, batch_size=4, seed=1)
    assert list(every) == list(CRITERIA)
    for criterion in CRITERIA:
        one = criteria.weight_scores(model, criterion, x, y, batches=2, batch_size=4, seed=1)
        assert all(np.array_equal(every[criterion][n], one[n]) for n in one)


def test_unit_scores_sum_incoming_and_omit_output_layer():
    scores = {"h": np.abs(W1), "out": np.abs(W2)}
    units = imp.unit_scores(scores, "magnitude")
    assert list(units) == ["h"]
    np.testing.assert_allclose(units["h"], [0.9, 1.4], rtol=1e-6)   # L1 norms of W1's columns
    assert list(imp.unit_scores(scores, "taylor", output_layer="h")) == ["out"]
    conv = {"c": np.arange(2 * 2 * 3 * 4, dtype=np.float32).reshape(2, 2, 3, 4), "out": np.ones((4, 2))}
    # filter f: sum over kh, kw, in of (12·(kh·2 + kw) + 4·in + f) = 12·(0+1+2+3)·3 + 4·(0+1+2)·4 + 12 f
    assert imp.unit_scores(conv, "magnitude")["c"].tolist() == [264.0, 276.0, 288.0, 300.0]


def test_random_unit_scores_drawn_per_unit_and_seeded():
    scores = {"h": np.ones((5, 4)), "out": np.ones((4, 2))}
    a = imp.unit_scores(scores, "random", seed=1)
    assert a["h"].shape == (4,) and np.array_equal(a["h"], imp.unit_scores(scores, "random", seed=1)["h"])
    assert np.array_equal(a["h"], np.random.default_rng(1).random(4, dtype=np.float32))


def test_extreme_entries_table():
    kernel = {"d": np.array([[0.3, -0.1], [-0.4, 0.2]]), "e": np.array([1.0, -1.0, 0.5])}
    scores = {"magnitude": {n: np.abs(k) for n, k in kernel.items()},
              "sensitivity": {"d": np.array([[4.0, 3.0], [2.0, 1.0]]), "e": np.array([0.0, 0.0, 1.0])}}
    keep = {"d": np.abs(kernel["d"]) >= 0.25, "e": np.array([True, True, False])}
    table = preview.extreme_entries(kernel, scores, "magnitude", keep, n=1)
    assert table.columns.tolist() == ["layer", "rank", "position", "weight", "|w|", "sensitivity", "score", "status"]
    assert table.values.tolist() == [
        ["d", "lowest", "(0, 1)", -0.1, 0.1, 3.0, 0.1, "pruned"],
        ["d", "highest", "(1, 0)", -0.4, 0.4, 2.0, 0.4, "kept"],
        ["e", "lowest", "(2,)", 0.5, 0.5, 1.0, 0.5, "pruned"],
        ["e", "highest", "(0,)", 1.0, 1.0, 0.0, 1.0, "kept"],   # tie |1| = |-1|: lower index first
    ]
    by_sens = preview.extreme_entries(kernel, scores, "sensitivity", n=2)
    assert by_sens[by_sens.layer == "e"]["position"].tolist() == ["(0,)", "(1,)", "(2,)", "(0,)"]
    assert set(by_sens["status"]) == {""}
    with pytest.raises(ValueError, match="No 'taylor' scores"):
        preview.extreme_entries(kernel, scores, "taylor")


def test_conv_net_scores_have_kernel_shapes_and_taylor_is_w_times_sensitivity():
    import keras
    keras.utils.set_random_seed(0)
    inputs = keras.Input(shape=(8, 8, 1))
    h = keras.layers.Conv2D(3, 3, activation="relu", name="c1")(inputs)
    h = keras.layers.MaxPooling2D(2)(h)
    h = keras.layers.Flatten()(h)
    model = keras.Model(inputs, keras.layers.Dense(4, activation="softmax", name="out")(h))
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(40, 8, 8, 1)).astype(np.float32), rng.integers(0, 4, size=40)
    every = criteria.all_weight_scores(model, x, y, batches=2, batch_size=16)
    assert {n: s.shape for n, s in every["sensitivity"].items()} == {"c1": (3, 3, 1, 3), "out": (27, 4)}
    for name, w in {"c1": model.get_layer("c1").kernel.numpy(), "out": model.get_layer("out").kernel.numpy()}.items():
        assert (every["sensitivity"][name] > 0).any()
        # w is fixed across batches, so mean |w·g| = |w| · mean |g|
        np.testing.assert_allclose(every["taylor"][name], np.abs(w) * every["sensitivity"][name], rtol=1e-5, atol=1e-9)
    assert imp.unit_scores(every["magnitude"], "magnitude")["c1"].shape == (3,)
