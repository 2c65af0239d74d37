"""Training with masks: pruned weights stay exactly zero, fine-tuning is seeded, L1 piles weights up at zero."""

import numpy as np
import pytest

from prune_core.methods import masks as mk
from prune_core.train import training
from prune_core.graph import kernels
from tests.tiny import dense_net, same_weights, tiny_data, tiny_net


@pytest.fixture
def data():
    return tiny_data()


def test_mask_enforcer_is_a_keras_callback():
    import keras
    from prune_core.train.training import MaskEnforcer
    model = dense_net()
    ms = mk.build_masks({n: np.abs(k) for n, k in kernels(model).items()}, "sparsity", 0.5)
    assert isinstance(MaskEnforcer(model, ms), keras.callbacks.Callback)


def _data(n=256, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 6)).astype("float32")
    return x, (x[:, 0] > 0).astype("int64") + (x[:, 1] > 1).astype("int64")


def test_fine_tune_keeps_pruned_weights_exactly_zero():
    model = dense_net(3)
    original = [w.copy() for w in model.get_weights()]
    ms = mk.build_masks({n: np.abs(k) for n, k in kernels(model).items()}, "sparsity", 0.6)
    x, y = _data()
    tuned, result = training.fine_tune(model, ms, x, y, epochs=1, batch_size=32, learning_rate=0.05, seed=0)
    assert result.epochs == 1 and len(result.history["loss"]) == 1
    for name, kernel in kernels(tuned).items():
        assert np.all(kernel[~ms.kernels[name]] == 0.0)            # exactly zero
        assert np.any(kernel[ms.kernels[name]] != kernels(model)[name][ms.kernels[name]])  # the rest trained
    for a, b in zip(original, model.get_weights()):
        assert np.array_equal(a, b)


def test_fine_tune_after_unit_removal_keeps_bias_and_incoming_rows_zero():
    model = dense_net(4, activation="sigmoid")  # sigmoid(0) = 0.5: removed units would get gradients
    units = {"h": np.array([False, True, True, False])}
    ms = mk.MaskSet(kernels={"h": np.broadcast_to(units["h"], (6, 4)).copy()}, units=units, granularity="unit")
    x, y = _data(seed=1)
    tuned, _ = training.fine_tune(model, ms, x, y, epochs=1, batch_size=32, learning_rate=0.05, seed=0)
    assert not tuned.get_layer("h").kernel.numpy()[:, ~units["h"]].any()
    assert not tuned.get_layer("h").bias.numpy()[~units["h"]].any()
    assert not tuned.get_layer("out").kernel.numpy()[~units["h"]].any()
    assert tuned.get_layer("out").kernel.numpy()[units["h"]].all()


def test_fine_tune_is_seeded():
    model = dense_net(5)
    ms = mk.build_masks({n: np.abs(k) for n, k in kernels(model).items()}, "sparsity", 0.5)
    x, y = _data(128)
    a, _ = training.fine_tune(model, ms, x, y, epochs=1, batch_size=32, seed=7)
    b, _ = training.fine_tune(model, ms, x, y, epochs=1, batch_size=32, seed=7)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        assert np.array_equal(wa, wb)


# --- L1 -------------------------------------------------------------------------------------------------

def test_with_l1_survives_copies_and_is_stripped():
    import keras
    model = tiny_net()
    regularized = training.with_l1(model, 0.01)
    assert training.has_l1(regularized) and not training.has_l1(model)
    assert training.has_l1(mk.copy_model(regularized))  # masks.copy_model goes through the config
    penalty = float(sum(keras.ops.convert_to_numpy(loss) for loss in regularized.losses))
    assert penalty == pytest.approx(0.01 * sum(np.abs(k).sum() for k in kernels(model).values()), rel=1e-5)
    plain = training.without_l1(regularized)
    assert not training.has_l1(plain) and same_weights(plain, model)


def test_l1_training_piles_weights_up_at_zero(data):
    model = tiny_net(hidden=16)
    plain, _ = training.train_model(model, data, epochs=5, learning_rate=3e-3, l1=0.0)
    sparse, _ = training.train_model(model, data, epochs=5, learning_rate=3e-3, l1=0.1)
    assert not training.has_l1(sparse)
    assert training.near_zero_fraction(plain) == 0.0
    assert training.near_zero_fraction(sparse) > 0.05  # recorded: 10 of 144 weights below 1e-3
    assert training.near_zero_fraction(sparse, 1e-2) > 3 * training.near_zero_fraction(plain, 1e-2)


