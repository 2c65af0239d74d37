import numpy as np
import pytest

from prune_core.io import data
from prune_core.measure import metrics
from prune_core.train import models


@pytest.mark.parametrize("name, expected", [("mlp-128", 101_770), ("lenet-300-100", 266_610), ("lenet-5", 61_706)])
def test_parameter_counts(name, expected):
    assert models.build_model(name).count_params() == expected


def test_same_seed_same_initial_weights():
    a, b = models.build_model("mlp-128", seed=5), models.build_model("mlp-128", seed=5)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)
    c = models.build_model("mlp-128", seed=6)
    assert not np.array_equal(a.get_weights()[0], c.get_weights()[0])


def test_unknown_architecture():
    with pytest.raises(ValueError, match="Unknown architecture"):
        models.build_model("resnet-9000")


@pytest.fixture(scope="module")
def small():
    ds = data.load_mnist("bundled")
    return ds.x_train[:1000], ds.y_train[:1000], ds.x_test[:500], ds.y_test[:500]


def test_seeded_one_epoch_training_repeats_its_accuracy(small):
    x, y, xt, yt = small
    accuracies, events = [], []
    for _ in range(2):
        model = models.build_model("mlp-128", seed=1)
        result = models.train(model, x, y, epochs=1, batch_size=32, seed=1,
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
        models.train(models.build_model("mlp-128"), x, y, epochs=0)


def test_without_optimizer_keeps_weights_and_drops_state(small):
    x, y, xt, _ = small
    model = models.build_model("mlp-128")
    models.train(model, x[:64], y[:64], epochs=1)
    clone = models.without_optimizer(model)
    assert not getattr(clone, "compiled", False)
    np.testing.assert_allclose(metrics.predict_probabilities(clone, xt[:20]),
                               metrics.predict_probabilities(model, xt[:20]), atol=0)
