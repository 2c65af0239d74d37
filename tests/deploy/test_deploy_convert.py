"""prune_core.deploy.convert: .keras bytes load with safe_mode (no optimizer, no training L1), the compact model
is smaller and equivalent, TFLite bytes carry the TFLite identifier and compute the same outputs, a failed
conversion gives a reason, not an exception; block sparsity counts whole blocks."""

from __future__ import annotations

import numpy as np
import pytest

from prune_core.deploy import convert
from prune_core.methods import masks as mk
from prune_core.train import regularize

pytestmark = pytest.mark.tf_only  # TFLite/LiteRT conversion and measurement are TensorFlow's own


def tiny_net(seed=0):
    import keras
    keras.utils.set_random_seed(seed)
    inputs = keras.Input(shape=(6,), name="features")
    x = keras.layers.Dense(8, activation="relu", name="h")(inputs)
    return keras.Model(inputs, keras.layers.Dense(3, activation="softmax", name="out")(x))


@pytest.fixture(scope="module")
def model():
    return tiny_net()


@pytest.fixture(scope="module")
def sample():
    return np.random.default_rng(0).normal(size=(16, 6)).astype("float32")


def load(data: bytes, tmp_path, name="m.keras"):
    import keras
    path = tmp_path / name
    path.write_bytes(data)
    return keras.saving.load_model(path, safe_mode=True)


def test_keras_bytes_load_with_safe_mode_and_no_optimizer(model, sample, tmp_path):
    import keras
    pruned = mk.apply_masks(model, mk.build_masks({"h": np.abs(model.get_layer("h").kernel.numpy())},
                                                  "sparsity", 0.5))
    pruned.compile(optimizer=keras.optimizers.Adam(), loss="sparse_categorical_crossentropy")
    loaded = load(convert.keras_bytes(pruned), tmp_path)
    assert getattr(loaded, "optimizer", None) is None
    assert np.count_nonzero(loaded.get_layer("h").kernel.numpy()) == 24
    np.testing.assert_allclose(loaded(sample).numpy(), pruned(sample).numpy(), rtol=0, atol=0)


def test_keras_bytes_strip_the_training_l1(model, tmp_path):
    loaded = load(convert.keras_bytes(regularize.with_l1(model, 0.01)), tmp_path)
    assert not regularize.has_l1(loaded)


def test_compact_bytes_are_a_smaller_equivalent_model(model, sample, tmp_path):
    units = {"h": np.array([True, False] * 4)}
    masked = mk.apply_masks(model, mk.MaskSet(kernels={"h": np.broadcast_to(units["h"], (6, 8)).copy()},
                                              units=units, granularity="unit"))
    small = load(convert.compact_bytes(masked, units), tmp_path)
    assert small.get_layer("h").units == 4 and small.count_params() == 6 * 4 + 4 + 4 * 3 + 3
    np.testing.assert_allclose(small(sample).numpy(), masked(sample).numpy(), atol=1e-6)


@pytest.mark.filterwarnings("ignore:.*tf.lite.Interpreter is deprecated:UserWarning")
def test_tflite_bytes_start_with_the_identifier_and_compute_the_same(model, sample):
    result = convert.tflite_bytes(model)
    assert result.ok and result.reason == "" and result.method == "TFLiteConverter.from_keras_model"
    assert result.data[4:8] == convert.TFLITE_IDENTIFIER and result.size == len(result.data)
    import tensorflow as tf
    if not hasattr(tf.lite, "Interpreter"):  # deprecated in TF 2.20+, may be gone later
        pytest.skip("tf.lite.Interpreter is not available to run the file")
    interpreter = tf.lite.Interpreter(model_content=result.data)
    interpreter.allocate_tensors()
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], sample[:1])
    interpreter.invoke()
    out = interpreter.get_tensor(interpreter.get_output_details()[0]["index"])
    np.testing.assert_allclose(out, model(sample[:1]).numpy(), atol=1e-6)


def test_tflite_failure_gives_a_reason_not_an_exception(model, monkeypatch):
    import tensorflow as tf

    def refuse(*args, **kwargs):
        raise RuntimeError("op not supported\nsecond line")

    monkeypatch.setattr(tf.lite.TFLiteConverter, "from_keras_model", staticmethod(refuse))
    monkeypatch.setattr(tf.lite.TFLiteConverter, "from_saved_model", staticmethod(refuse))
    result = convert.tflite_bytes(model)
    assert not result.ok and result.data is None and result.size == 0
    assert result.reason == ("TensorFlow Lite could not convert this model — from_keras_model: RuntimeError: op not "
                             "supported second line; from_saved_model: RuntimeError: op not supported second line")


def test_block_sparsity_counts_whole_blocks():
    kernel = np.ones((8, 2))
    kernel[0:4, 0] = 0          # one whole 1×4 block of output 0
    kernel[5, 1] = 0            # a lone zero
    zeros, blocked_share = convert.block_sparsity(kernel, 4)
    assert zeros == 5 / 16 and blocked_share == 4 / 16
