import numpy as np
import pytest

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
