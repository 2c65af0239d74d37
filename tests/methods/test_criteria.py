"""The issue-12 criteria, exact values on tiny models: Wanda (|w|·‖x‖), OBD (½·Fisher·w²), SNIP (|g·w| at init),
SynFlow (saliency and its iterative order), the shuffled control; registry entries."""

import numpy as np
import pytest

import prune_core as pc
from prune_core.measure import preview
from prune_core.methods import criteria, signals as imp
from prune_core.methods.criteria import score_many, shuffle_within, wanda_scores

W1 = np.array([[1.0, -2.0, 0.5], [-1.0, 3.0, 2.0]], dtype=np.float32)      # 2 -> 3, relu
W2 = np.array([[0.5, -1.0], [2.0, 0.25], [-0.5, 1.0]], dtype=np.float32)   # 3 -> 2, softmax


def two_layer(w1=W1, w2=W2):
    import keras
    inputs = keras.Input(shape=(w1.shape[0],))
    h = keras.layers.Dense(w1.shape[1], activation="relu", use_bias=False, name="h")(inputs)
    out = keras.layers.Dense(w2.shape[1], activation="softmax", use_bias=False, name="out")(h)
    model = keras.Model(inputs, out)
    model.get_layer("h").kernel.assign(w1)
    model.get_layer("out").kernel.assign(w2)
    return model


def one_layer(w):
    import keras
    inputs = keras.Input(shape=(w.shape[0],))
    model = keras.Model(inputs, keras.layers.Dense(w.shape[1], activation="softmax", use_bias=False, name="d")(inputs))
    model.get_layer("d").kernel.assign(w)
    return model


X = np.array([[3.0, 0.0], [4.0, 1.0], [0.0, -2.0]], dtype=np.float32)
Y = np.array([0, 1, 1])


def softmax(z):
    e = np.exp(z - z.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


# --- Wanda ---------------------------------------------------------------------------------------------------

def test_wanda_on_a_2x3_kernel_with_given_activations():
    model = two_layer()
    scores = pc.CRITERIA["wanda"].scores(model, (X, Y), batches=1, batch_size=3)
    # ‖X_0‖ = √(9 + 16 + 0) = 5, ‖X_1‖ = √(0 + 1 + 4) = √5: row i of |W1| times the norm of input i
    np.testing.assert_allclose(scores["h"], [[5.0, 10.0, 2.5], [np.sqrt(5), 3 * np.sqrt(5), 2 * np.sqrt(5)]],
                               rtol=1e-6)
    hidden = np.maximum(X @ W1, 0)  # the second layer sees the first layer's relu outputs
    np.testing.assert_allclose(scores["out"], np.abs(W2) * np.linalg.norm(hidden, axis=0)[:, None], rtol=1e-6)


def test_wanda_broadcasts_channel_norms_over_a_conv_kernel():
    kernel = np.arange(1, 1 + 2 * 2 * 2 * 3, dtype=np.float32).reshape(2, 2, 2, 3)
    scores = wanda_scores(kernel, np.array([2.0, 0.5]))
    assert np.array_equal(scores[:, :, 0, :], kernel[:, :, 0, :] * 2) and np.array_equal(scores[:, :, 1, :],
                                                                                          kernel[:, :, 1, :] * 0.5)
    with pytest.raises(ValueError, match="do not fit"):
        wanda_scores(kernel, np.ones(3))


def test_wanda_per_output_prunes_within_each_unit():
    model = two_layer()
    result = pc.prune(model, pc.PruneSpec(criterion="wanda", rule="per-output", value=0.5), (X, Y))
    # one of the two inputs of every h unit goes: the lower of 5|w0j| and √5|w1j|
    assert result.masks.kernels["h"].tolist() == [[True, True, False], [False, False, True]]


# --- OBD -----------------------------------------------------------------------------------------------------

def test_obd_is_half_empirical_fisher_times_w_squared():
    w = np.array([[0.5, -0.25], [1.0, 0.75]], dtype=np.float32)
    model = one_layer(w)
    scores = pc.CRITERIA["obd"].scores(model, (X, Y), batches=1, batch_size=3)
    # by hand: ℓ_n = −log softmax(x_n W)[y_n], ∂ℓ_n/∂W = x_n ⊗ (p_n − e_{y_n}); F = mean_n of its square
    p = softmax(X.astype(np.float64) @ w)
    per_example = np.einsum("ni,nj->nij", X, p - np.eye(2)[Y])
    fisher = np.mean(per_example ** 2, axis=0)
    np.testing.assert_allclose(scores["d"], 0.5 * fisher * w.astype(np.float64) ** 2, rtol=1e-5)
    # the Fisher is not the squared mean gradient (what sensitivity² would give)
    assert not np.allclose(fisher, per_example.mean(axis=0) ** 2)


def test_obd_averages_the_fisher_over_batches():
    w = np.array([[0.5, -0.25], [1.0, 0.75]], dtype=np.float32)
    x = np.concatenate([X, -X]).astype(np.float32)
    y = np.concatenate([Y, 1 - Y])
    scores = pc.CRITERIA["obd"].scores(one_layer(w), (x, y), batches=2, batch_size=3, seed=1)
    expected = np.zeros((2, 2))
    for index in imp.sample_batches(len(x), 2, 3, seed=1):
        g = np.einsum("ni,nj->nij", x[index], softmax(x[index].astype(np.float64) @ w) - np.eye(2)[y[index]])
        expected += 0.5 * np.mean(g ** 2, axis=0) * w.astype(np.float64) ** 2 / 2
    np.testing.assert_allclose(scores["d"], expected, rtol=1e-5)


# --- SNIP ----------------------------------------------------------------------------------------------------

def test_snip_equals_abs_gradient_times_weight_at_init():
    import keras
    keras.utils.set_random_seed(3)
    inputs = keras.Input(shape=(2,))
    model = keras.Model(inputs, keras.layers.Dense(2, activation="softmax", use_bias=False, name="d")(inputs))
    w = model.get_layer("d").kernel.numpy().astype(np.float64)  # untrained, Glorot-initialised
    scores = pc.CRITERIA["snip"].scores(model, (X, Y), batches=1, batch_size=3)
    g = X.T.astype(np.float64) @ (softmax(X @ w) - np.eye(2)[Y]) / 3  # ∂(mean loss)/∂W on the one batch
    np.testing.assert_allclose(scores["d"], np.abs(g * w), rtol=1e-5)


# --- SynFlow -------------------------------------------------------------------------------------------------

def test_synflow_saliency_on_a_linearised_two_layer_net():
    model = two_layer()
    saliency = imp.synflow_saliency(model)
    # R = 1ᵀ|W1||W2|1 for an all-ones input (relu passes positives, softmax dropped):
    # ∂R/∂W1_ij = Σ_k |W2_jk|, ∂R/∂W2_jk = Σ_i |W1_ij|
    a1, a2 = np.abs(W1), np.abs(W2)
    np.testing.assert_allclose(saliency["h"], a1 * a2.sum(axis=1)[None, :], rtol=1e-6)
    np.testing.assert_allclose(saliency["out"], a2 * a1.sum(axis=0)[:, None], rtol=1e-6)


def test_synflow_order_prunes_what_the_iterations_prune():
    model = two_layer()
    order = imp.synflow_order(model, iterations=1, max_sparsity=0.5)
    saliency = imp.synflow_saliency(model)
    flat = np.concatenate([saliency["h"].ravel(), saliency["out"].ravel()])
    first = np.lexsort((np.arange(12), flat))[:6]  # round 1: the 6 lowest of 12 saliencies
    scores = np.concatenate([order["h"].ravel(), order["out"].ravel()])
    assert (scores[first] < 1).all() and (np.delete(scores, first) >= 1).all()
    keep = pc.prune(model, pc.PruneSpec(criterion="synflow", rule="sparsity", value=0.5, scope="global"),
                    weight_scores=order).masks.kernels
    pruned = np.flatnonzero(~np.concatenate([keep["h"].ravel(), keep["out"].ravel()]))
    assert sorted(pruned.tolist()) == sorted(first.tolist())


def test_synflow_needs_no_data_and_ranks_every_weight():
    model = two_layer()
    scores = pc.CRITERIA["synflow"].scores(model)
    assert set(scores) == {"h", "out"} and all(s.shape == k.shape for s, k in zip(scores.values(), (W1, W2)))
    assert all((s >= 0).all() for s in scores.values())


# --- shuffled control ----------------------------------------------------------------------------------------

def test_shuffled_keeps_the_base_criterion_per_layer_sparsity_under_global_scope():
    import keras
    keras.utils.set_random_seed(0)
    inputs = keras.Input(shape=(20,))
    h = keras.layers.Dense(30, activation="relu", name="h")(inputs)
    model = keras.Model(inputs, keras.layers.Dense(5, activation="softmax", name="out")(h))
    spec = dict(rule="sparsity", value=0.8, scope="global")
    base = pc.prune(model, pc.PruneSpec(criterion="magnitude", **spec)).masks
    shuffled = pc.prune(model, pc.PruneSpec(criterion="shuffled", **spec)).masks
    assert base.kept_counts() == shuffled.kept_counts()
    assert not np.array_equal(base.kernels["h"], shuffled.kernels["h"])
    scores = score_many(model, ["magnitude", "shuffled"])
    for name in scores["magnitude"]:
        assert sorted(scores["magnitude"][name].ravel()) == sorted(scores["shuffled"][name].ravel())
    assert all(np.array_equal(a, b) for a, b in zip(shuffle_within(scores["magnitude"], 4).values(),
                                                    shuffle_within(scores["magnitude"], 4).values()))


def test_shuffled_controls_of_other_criteria_register_on_demand():
    try:
        control = pc.methods.criteria.shuffled("snip")
        assert control.name == "shuffled-snip" and control.needs_data and "shuffled-snip" in pc.CRITERIA
        assert pc.methods.criteria.shuffled("snip") is control
    finally:
        pc.unregister_criterion("shuffled-snip")


# --- the registry --------------------------------------------------------------------------------------------

def test_every_new_criterion_is_registered_with_its_explanation_and_citation():
    expected_data = {"wanda": True, "obd": True, "snip": True, "synflow": False, "shuffled": False}
    for name, needs in expected_data.items():
        c = pc.CRITERIA[name]
        assert c.label and c.explanation and c.citation and c.needs_data is needs
    assert isinstance(pc.CRITERIA["obd"], pc.GradientCriterion) and pc.CRITERIA["obd"].fisher
    with pytest.raises(ValueError, match="The wanda criterion needs training data"):
        pc.CRITERIA["wanda"].scores(two_layer())
