"""L1 regularization: the penalty survives copies and is stripped; L1 training piles weights up at zero."""

import numpy as np
import pytest

from prune_core.graph import kernels
from prune_core.methods import masks as mk
from prune_core.train import fit, regularize
from tests.tiny import same_weights, tiny_data, tiny_net


@pytest.fixture
def data():
    return tiny_data()


def test_with_l1_survives_copies_and_is_stripped():
    import keras
    model = tiny_net()
    regularized = regularize.with_l1(model, 0.01)
    assert regularize.has_l1(regularized) and not regularize.has_l1(model)
    assert regularize.has_l1(mk.copy_model(regularized))  # masks.copy_model goes through the config
    penalty = float(sum(keras.ops.convert_to_numpy(loss) for loss in regularized.losses))
    assert penalty == pytest.approx(0.01 * sum(np.abs(k).sum() for k in kernels(model).values()), rel=1e-5)
    plain = regularize.without_l1(regularized)
    assert not regularize.has_l1(plain) and same_weights(plain, model)


def test_l1_training_piles_weights_up_at_zero(data):
    model = tiny_net(hidden=16)
    plain, _ = fit.train_model(model, data, epochs=5, learning_rate=3e-3, l1=0.0)
    sparse, _ = fit.train_model(model, data, epochs=5, learning_rate=3e-3, l1=0.1)
    assert not regularize.has_l1(sparse)
    assert regularize.near_zero_fraction(plain) == 0.0
    assert regularize.near_zero_fraction(sparse) > 0.04  # recorded below 1e-3: 10 of 144 weights (TF), 7 (torch)
    assert regularize.near_zero_fraction(sparse, 1e-2) > 3 * regularize.near_zero_fraction(plain, 1e-2)
