"""prune_core.deploy.runtime: TFLite outputs through the interpreter equal Keras outputs (dense, masked, compact,
a convnet nobody here designed); latency times every file, interleaved. No timings are asserted."""

from __future__ import annotations

import numpy as np
import pytest

import prune_core as pc
from prune_core import deploy
from tests import model_zoo

pytestmark = pytest.mark.tf_only  # TFLite/LiteRT conversion and measurement are TensorFlow's own


def _mlp():
    import keras

    model = keras.Sequential([keras.Input((20,)), keras.layers.Dense(16, activation="relu", name="a"),
                              keras.layers.Dense(8, activation="relu", name="b"),
                              keras.layers.Dense(3, activation="softmax", name="out")])
    return model_zoo.randomize(model, 2)


def test_tflite_predictions_equal_keras_for_dense_masked_and_compact():
    model = _mlp()
    x = np.random.default_rng(1).normal(size=(50, 20)).astype(np.float32)
    masked = pc.prune(model, pc.PruneSpec(criterion="magnitude", rule="sparsity", scope="global", value=0.7)).model
    units = pc.prune(model, pc.PruneSpec(criterion="magnitude", granularity="unit", rule="sparsity", value=0.5))
    compact = pc.compact(model, units.masks)
    assert compact.count_params() < model.count_params()
    for m in (model, masked, units.model, compact):
        converted = deploy.to_tflite(m)
        assert converted.ok, converted.reason
        np.testing.assert_allclose(deploy.predict(converted.data, x), np.asarray(m(x)), atol=1e-5, rtol=0)


def test_tflite_predictions_equal_keras_for_a_convnet_nobody_here_designed():
    model, x = model_zoo.mnist_convnet()
    masked = pc.prune(model, pc.PruneSpec(criterion="magnitude", rule="sparsity", scope="global", value=0.9)).model
    for m in (model, masked):
        converted = deploy.to_tflite(m)
        np.testing.assert_allclose(deploy.predict(converted.data, x), np.asarray(m(x)), atol=1e-5, rtol=0)


def test_latency_times_every_file_interleaved():
    model = _mlp()
    files = {"a": deploy.to_tflite(model).data, "b": deploy.to_tflite(model).data}
    times, runs = deploy.latency_us(files, np.zeros((1, 20), np.float32), budget_s=0.01, min_runs=20)
    assert set(times) == {"a", "b"} and runs >= 20 and all(t > 0 for t in times.values())
