"""prune_core.deploy.flatbuffer: which kernels a .tflite file runs sparse, densified or dense, read from the
flatbuffer — by the converter's own rule, on both sides of its threshold, in float32 and int8."""

from __future__ import annotations

import numpy as np
import pytest

from prune_core import deploy

pytestmark = pytest.mark.tf_only  # TFLite/LiteRT conversion and measurement are TensorFlow's own


def dense_with(kernel: np.ndarray):
    """Input(in) → Dense fc (this kernel) → Dense out(4)."""
    import keras

    model = keras.Sequential([keras.Input((kernel.shape[0],)), keras.layers.Dense(kernel.shape[1], name="fc"),
                              keras.layers.Dense(4, name="out")])
    model.get_layer("fc").set_weights([kernel.astype(np.float32), np.full(kernel.shape[1], 0.1, np.float32)])
    return model


def scattered(share: float, seed: int = 0, shape=(64, 64)) -> np.ndarray:
    rng = np.random.default_rng(seed)
    kernel = rng.normal(size=shape) + 3.0  # no accidental zeros
    kernel[rng.random(shape) < share] = 0.0
    return kernel


def blocked(share: float, block: int, seed: int = 0, shape=(64, 64)) -> np.ndarray:
    """Zeros in whole 1×block blocks along the input axis (rows of the Keras kernel)."""
    rng = np.random.default_rng(seed)
    kernel = rng.normal(size=shape) + 3.0
    zero = rng.random((shape[0] // block, shape[1])) < share
    kernel[np.repeat(zero, block, axis=0)] = 0.0
    return kernel


def statuses(model, **kwargs) -> dict:
    converted = deploy.to_tflite(model, **kwargs)
    assert converted.ok, converted.reason
    found = deploy.operators(converted.data, [layer.name for layer in model.layers])
    return {k.layer: k.status for k in found.kernels}, found


@pytest.mark.parametrize("share, expected", [(0.2, "dense"), (0.5, "densified"), (0.93, "densified"),
                                             (0.95, "densified"), (0.985, "sparse"), (0.99, "sparse")])
def test_scattered_zeros_densified_below_the_threshold_sparse_above(share, expected):
    kernel = scattered(share)
    found, ops = statuses(dense_with(kernel))
    assert found == {"fc": expected, "out": "dense"}
    assert ops.densify == (expected == "densified") and ops.sparse == (expected == "sparse")
    assert deploy.predicted_sparse(kernel) == (expected == "sparse")  # the rule the module explains


def test_threshold_sits_where_the_rule_puts_it():
    """Either side of s³ = 0.9 (~96.5% scattered zeros), on kernels whose block share is known exactly."""
    threshold = deploy.scattered_threshold()
    assert 0.965 < threshold < 0.966
    for share in (0.955, 0.975):
        kernel = scattered(share, seed=3, shape=(128, 64))
        zeros, blocked_share = deploy.block_sparsity(kernel)
        found, _ = statuses(dense_with(kernel))
        assert found["fc"] == ("sparse" if blocked_share / zeros > 0.9 else "densified")
        assert (found["fc"] == "sparse") == (share > threshold)


def test_one_by_four_blocks_stay_sparse_at_sixty_percent_in_float_but_not_in_int8():
    kernel = blocked(0.6, 4)
    x = np.random.default_rng(0).normal(size=(64, 64)).astype(np.float32)
    assert statuses(dense_with(kernel))[0]["fc"] == "sparse"
    assert statuses(dense_with(kernel), calibration=deploy.representative(x, 32))[0]["fc"] == "densified"
    assert statuses(dense_with(blocked(0.6, 16)), calibration=deploy.representative(x, 32))[0]["fc"] == "sparse"
    assert not deploy.predicted_sparse(kernel, int8=True) and deploy.predicted_sparse(blocked(0.6, 16), int8=True)
