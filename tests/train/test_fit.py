"""Training: seeded training repeats its accuracy, bad settings are refused, fine-tuning keeps pruned weights at
exactly zero and is seeded, a shipped copy drops the optimizer."""

import numpy as np
import pytest

from prune_core.graph import kernels
from prune_core.io import data
from prune_core.measure import metrics
from prune_core.methods import masks
from prune_core.methods import masks as mk
from prune_core.train import fit, models
from tests.tiny import dense_net


@pytest.fixture(scope="module")
def small():
    ds = data.load_mnist("bundled")
    return ds.x_train[:1000], ds.y_train[:1000], ds.x_test[:500], ds.y_test[:500]


def test_seeded_one_epoch_training_repeats_its_accuracy(small):
    x, y, xt, yt = small
    accuracies, events = [], []
    for _ in range(2):
        model = models.build_model("mlp-128", seed=1)
        result = fit.train(model, x, y, epochs=1, batch_size=32, seed=1,
                              progress=lambda done, text: events.append((done, text)))
        accuracies.append(metrics.evaluate(model, xt, yt).accuracy)
        assert result.epochs == 1 and len(result.history["loss"]) == 1
    assert accuracies[0] == accuracies[1]
    assert accuracies[0] > 0.75  # 1,000 digits, one epoch: far above the 10% of chance
    assert events[-1][0] == 1.0 and events[-1][1].startswith("Epoch 1/1 done")
    # The wait before the first batch is said, not an empty "Starting…"
    assert events[0] == (0.0, "Epoch 1/1 · preparing the training step (the first batches take longest)…")


def test_training_rejects_bad_settings(small):
    x, y, _, _ = small
    with pytest.raises(ValueError):
        fit.train(models.build_model("mlp-128"), x, y, epochs=0)


def test_without_optimizer_keeps_weights_and_drops_state(small):
    x, y, xt, _ = small
    model = models.build_model("mlp-128")
    fit.train(model, x[:64], y[:64], epochs=1)
    clone = masks.without_optimizer(model)
    assert not getattr(clone, "compiled", False)
    np.testing.assert_allclose(metrics.predict_probabilities(clone, xt[:20]),
                               metrics.predict_probabilities(model, xt[:20]), atol=0)


def _data(n=256, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 6)).astype("float32")
    return x, (x[:, 0] > 0).astype("int64") + (x[:, 1] > 1).astype("int64")


def test_fine_tune_keeps_pruned_weights_exactly_zero():
    model = dense_net(3)
    original = [w.copy() for w in model.get_weights()]
    ms = mk.build_masks({n: np.abs(k) for n, k in kernels(model).items()}, "sparsity", 0.6)
    x, y = _data()
    tuned, result = fit.fine_tune(model, ms, x, y, epochs=1, batch_size=32, learning_rate=0.05, seed=0)
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
    tuned, _ = fit.fine_tune(model, ms, x, y, epochs=1, batch_size=32, learning_rate=0.05, seed=0)
    assert not tuned.get_layer("h").kernel.numpy()[:, ~units["h"]].any()
    assert not tuned.get_layer("h").bias.numpy()[~units["h"]].any()
    assert not tuned.get_layer("out").kernel.numpy()[~units["h"]].any()
    assert tuned.get_layer("out").kernel.numpy()[units["h"]].all()


def test_fine_tune_is_seeded():
    model = dense_net(5)
    ms = mk.build_masks({n: np.abs(k) for n, k in kernels(model).items()}, "sparsity", 0.5)
    x, y = _data(128)
    a, _ = fit.fine_tune(model, ms, x, y, epochs=1, batch_size=32, seed=7)
    b, _ = fit.fine_tune(model, ms, x, y, epochs=1, batch_size=32, seed=7)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        assert np.array_equal(wa, wb)
