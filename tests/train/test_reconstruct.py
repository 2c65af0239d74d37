"""Layer-wise reconstruction: the closed form on a 2×3 case, a lower output error than plain masking (exact and
SparseGPT paths, Dense and Conv2D), zeros held, the caller's model untouched, and one-shot runs recording it."""

import keras
import numpy as np
import pytest

import prune_core as pc
from prune_core.methods import masks as mk
from prune_core.train import reconstruct as rc
from prune_core.experiments import runs
from prune_core.methods.signals import capture_inputs

W = np.array([[1.0, -2.0, 0.5], [0.5, 1.0, -1.0]], dtype=np.float32)   # Dense 2 -> 3
X = np.array([[1.0, 2.0], [0.0, 1.0], [2.0, -1.0], [1.0, 1.0]], dtype=np.float32)


def dense_model(w=W):
    import keras
    inputs = keras.Input(shape=(w.shape[0],))
    model = keras.Model(inputs, keras.layers.Dense(w.shape[1], use_bias=False, name="d")(inputs))
    model.get_layer("d").kernel.assign(w)
    return model


def test_closed_form_on_a_2x3_case():
    keep = np.array([[True, False, True], [False, True, True]])  # column 0 keeps input 0, column 1 input 1
    ms = mk.MaskSet(kernels={"d": keep})
    model = dense_model()
    new, report = rc.reconstruct(model, ms, X, batches=1, batch_size=4, damping=0.0)
    got = new.get_layer("d").kernel.numpy()
    # by hand: column j minimises ‖X w_j − X_K ŵ_K‖², ŵ_K = (X_Kᵀ X_K)⁻¹ X_Kᵀ X w_j; H = XᵀX/4 = [[1.5, .25], [.25, 1.75]]
    H = X.T.astype(np.float64) @ X / 4
    assert H.tolist() == [[1.5, 0.25], [0.25, 1.75]]
    expected = np.zeros((2, 3))
    expected[0, 0] = (H @ W[:, 0])[0] / H[0, 0]      # (1.5·1 + .25·.5) / 1.5 = 1.08333…
    expected[1, 1] = (H @ W[:, 1])[1] / H[1, 1]      # (.25·−2 + 1.75·1) / 1.75 = 0.714285…
    expected[:, 2] = W[:, 2]                          # nothing pruned in column 2: unchanged
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    assert expected[0, 0] == pytest.approx(1.625 / 1.5) and expected[1, 1] == pytest.approx(1.25 / 1.75)
    for j, rows in ((0, [0]), (1, [1])):   # the same as least squares on X
        solution = np.linalg.lstsq(X[:, rows].astype(np.float64), X.astype(np.float64) @ W[:, j], rcond=None)[0]
        np.testing.assert_allclose(got[rows, j], solution, rtol=1e-6)
    assert report.after["d"] < report.before["d"] and report.method == {"d": "exact"}
    assert np.array_equal(model.get_layer("d").kernel.numpy(), W)  # the caller's model is untouched


def output_error(model, new, layer, x):
    seen = {}
    capture_inputs(new, x, {layer: lambda a: seen.setdefault("x", a)})
    inputs = seen["x"]
    return inputs, np.linalg.norm(keras.ops.convert_to_numpy(model.get_layer(layer)(inputs) - new.get_layer(layer)(inputs)))


@pytest.fixture(scope="module")
def mlp():
    import keras
    keras.utils.set_random_seed(1)
    inputs = keras.Input(shape=(16,))
    h = keras.layers.Dense(12, activation="relu", name="h")(inputs)
    model = keras.Model(inputs, keras.layers.Dense(4, activation="softmax", name="out")(h))
    x = np.random.default_rng(0).normal(size=(256, 16)).astype(np.float32)
    return model, x


@pytest.mark.parametrize("budget, method", [(rc.EXACT_BUDGET, "exact"), (0, "sparsegpt")])
def test_reconstruction_lowers_the_output_error_against_plain_masking(mlp, budget, method):
    model, x = mlp
    result = pc.prune(model, pc.PruneSpec(rule="sparsity", value=0.6))
    new, report = rc.reconstruct(model, result.masks, x, batches=2, batch_size=128, exact_budget=budget)
    assert report.method == {"h": method, "out": method} and report.examples == 256
    inputs, after = output_error(model, new, "h", x)
    plain = np.linalg.norm(keras.ops.convert_to_numpy(model.get_layer("h")(inputs) - result.model.get_layer("h")(inputs)))
    assert after < plain
    for name in ("h", "out"):
        assert report.after[name] < report.before[name]
        kernel = new.get_layer(name).kernel.numpy()
        assert not kernel[~result.masks.kernels[name]].any()  # pruned weights are exactly zero
    np.testing.assert_array_equal(new.get_layer("h").bias.numpy(), model.get_layer("h").bias.numpy())


def test_exact_is_at_least_as_good_as_sparsegpt(mlp):
    model, x = mlp
    masks = pc.prune(model, pc.PruneSpec(rule="sparsity", value=0.5)).masks
    exact = rc.reconstruct(model, masks, x, exact_budget=rc.EXACT_BUDGET)[1]
    approx = rc.reconstruct(model, masks, x, exact_budget=0)[1]
    assert exact.after["h"] <= approx.after["h"] + 1e-9


def test_conv2d_reconstruction_uses_im2col_patches():
    import keras
    keras.utils.set_random_seed(2)
    inputs = keras.Input(shape=(8, 8, 3))
    c = keras.layers.Conv2D(4, 3, strides=2, padding="same", name="c")(inputs)
    out = keras.layers.Dense(2, activation="softmax", name="o")(keras.layers.Flatten()(c))
    model = keras.Model(inputs, out)
    x = np.random.default_rng(1).normal(size=(32, 8, 8, 3)).astype(np.float32)
    result = pc.prune(model, pc.PruneSpec(rule="sparsity", value=0.5))
    new, report = rc.reconstruct(model, result.masks, x, batches=1, batch_size=32)
    after = np.linalg.norm(keras.ops.convert_to_numpy(model.get_layer("c")(x)) - keras.ops.convert_to_numpy(new.get_layer("c")(x)))
    plain = np.linalg.norm(keras.ops.convert_to_numpy(model.get_layer("c")(x)) - keras.ops.convert_to_numpy(result.model.get_layer("c")(x)))
    assert after < plain and report.after["c"] < report.before["c"]
    # the report's relative error is the measured one (undamped H from the same patches)
    rel = after / np.linalg.norm(keras.ops.convert_to_numpy(model.get_layer("c")(x)) - model.get_layer("c").bias.numpy())
    assert report.after["c"] == pytest.approx(rel, rel=1e-3)


def test_unsupported_layers_are_left_masked_and_listed():
    import keras
    inputs = keras.Input(shape=(6, 6, 2))
    c = keras.layers.Conv2DTranspose(3, 2, name="t")(inputs)
    model = keras.Model(inputs, keras.layers.Dense(2, name="o")(keras.layers.Flatten()(c)))
    result = pc.prune(model, pc.PruneSpec(rule="sparsity", value=0.5))
    new, report = rc.reconstruct(model, result.masks, np.ones((4, 6, 6, 2), np.float32), batches=1, batch_size=4)
    assert "Conv2DTranspose is not reconstructed" in report.skipped["t"] and "o" in report.after
    np.testing.assert_array_equal(new.get_layer("t").kernel.numpy(), result.model.get_layer("t").kernel.numpy())


def test_oneshot_run_records_accuracy_before_and_after_reconstruction(mlp):
    model, x = mlp
    y = np.argmax(model.predict(x, verbose=0), axis=1)  # the dense model's own labels: 100% dense accuracy
    masks = pc.prune(model, pc.PruneSpec(rule="sparsity", value=0.7)).masks
    result = runs.run_oneshot(model, masks, (x, y, x, y), epochs=0, reconstruct=True, latency_repeats=0)
    assert result.dense_accuracy == 1.0
    assert result.reconstructed_accuracy == result.final_accuracy > result.pruned_accuracy
    assert result.settings["reconstruct"] is True and "reconstructed" in result.label
    assert set(result.reconstruction["after"]) == {"h", "out"}
    assert result.to_record()["reconstructed_accuracy"] == result.reconstructed_accuracy
    with pytest.raises(ValueError, match="would undo the reconstruction"):
        runs.run_oneshot(model, masks, (x, y, x, y), epochs=1, reconstruct=True, retrain="rewind-weights",
                         rewind_weights=model.get_weights())


def run_page_and_wait(at):
    from tests.apptest import job_result

    at.button[0].click().run()
    assert not at.exception
    return job_result(at)


def test_retrain_page_reconstructs_with_zero_epochs_and_offers_the_strategies(tmp_path, monkeypatch):
    from tests.apptest import page_test

    monkeypatch.setenv("PRUNING_EXPLORER_DATA_DIR", str(tmp_path))
    at = page_test("retrain").run()
    assert not at.exception
    retrain = next(b for b in at.selectbox if b.label == "Retraining")
    assert retrain.options == ["Fine-tune", "Learning-rate rewinding", "Weight rewinding"]
    assert next(b for b in at.selectbox if b.label == "Learning rate").value == "auto"  # the rate by sparsity
    next(c for c in at.checkbox if c.label.startswith("Reconstruct")).check()
    at.number_input[0].set_value(0)
    result = run_page_and_wait(at)
    assert result.settings["reconstruct"] is True and result.settings["epochs"] == 0
    assert result.final_accuracy == result.reconstructed_accuracy > result.pruned_accuracy
    assert any(c.value.startswith("Layer-wise reconstruction: test accuracy") for c in at.caption)
