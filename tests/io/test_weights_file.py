"""prune_core.io.weights_file: kernels read from a .keras file with h5py equal what Keras loads; bad files are
refused with a clear message."""

from __future__ import annotations

import subprocess
import sys
import zipfile

import keras
import numpy as np
import pytest

from prune_core.io import weights_file as wf
from prune_core.graph import kernels as model_kernels
from prune_core.io.data import BASELINE_PATH


def assert_same_kernels(found: dict, expected: dict) -> None:
    assert list(found) == list(expected)
    for name in expected:
        assert found[name].dtype == np.float32 and np.array_equal(found[name], expected[name]), name


def test_default_model_kernels_equal_keras():
    model = keras.saving.load_model(BASELINE_PATH, safe_mode=True, compile=False)
    found = wf.kernels_from_keras_file(BASELINE_PATH)
    assert_same_kernels(found, model_kernels(model))
    assert {n: k.shape for n, k in found.items()} == {"dense1": (784, 300), "dense2": (300, 100), "output": (100, 10)}


def test_sequential_with_conv_and_batchnorm_equals_keras(tmp_path):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(2, 3, name="c"),
                              keras.layers.BatchNormalization(), keras.layers.Conv2D(3, 3), keras.layers.Flatten(),
                              keras.layers.Dense(4, name="hidden"), keras.layers.Dense(3, name="out")])
    model.save(tmp_path / "seq.keras")
    assert_same_kernels(wf.kernels_from_keras_file(tmp_path / "seq.keras"), model_kernels(model))


def test_reading_does_not_import_tensorflow():
    code = (f"import sys; from prune_core.io import weights_file as wf; wf.kernels_from_keras_file({str(BASELINE_PATH)!r}); "
            "print('tensorflow' in sys.modules, 'keras' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_missing_file_is_refused(tmp_path):
    with pytest.raises(wf.WeightsFileError, match="nothing.keras does not exist"):
        wf.kernels_from_keras_file(tmp_path / "nothing.keras")


def test_non_zip_is_refused(tmp_path):
    path = tmp_path / "model.keras"
    path.write_text("this is not a model")
    with pytest.raises(wf.WeightsFileError, match=r"model.keras is not a .keras file \(not a zip archive\)"):
        wf.kernels_from_keras_file(path)


def test_oversized_file_is_refused_before_reading():
    size = BASELINE_PATH.stat().st_size
    with pytest.raises(wf.WeightsFileError, match=f"is {size:,} bytes, over the 1,000 bytes"):
        wf.kernels_from_keras_file(BASELINE_PATH, max_bytes=1000)


def test_too_many_weights_are_refused():
    with pytest.raises(wf.WeightsFileError, match="over 1,000 kernel weights"):
        wf.kernels_from_keras_file(BASELINE_PATH, max_params=1000)


def _rezip(tmp_path, drop: str = "", replace: dict | None = None):
    path = tmp_path / "edited.keras"
    with zipfile.ZipFile(BASELINE_PATH) as src, zipfile.ZipFile(path, "w") as dst:
        for name in src.namelist():
            if name != drop:
                dst.writestr(name, (replace or {}).get(name, src.read(name)))
    return path


def test_zip_without_weights_is_refused(tmp_path):
    with pytest.raises(wf.WeightsFileError, match="has no model.weights.h5"):
        wf.kernels_from_keras_file(_rezip(tmp_path, drop="model.weights.h5"))


def test_weights_that_are_not_hdf5_are_refused(tmp_path):
    with pytest.raises(wf.WeightsFileError, match="model.weights.h5 cannot be read"):
        wf.kernels_from_keras_file(_rezip(tmp_path, replace={"model.weights.h5": b"not hdf5" * 100}))


def test_a_layer_kind_it_does_not_read_is_refused(tmp_path):
    config = zipfile.ZipFile(BASELINE_PATH).read("config.json").replace(b'"Dense"', b'"SeparableConv2D"', 1)
    with pytest.raises(wf.WeightsFileError, match="SeparableConv2D layers, which are not read without Keras"):
        wf.kernels_from_keras_file(_rezip(tmp_path, replace={"config.json": config}))


def test_weight_keys_follow_keras_numbering():
    config = {"class_name": "Functional", "config": {"layers": [
        {"class_name": "InputLayer", "config": {"name": "x"}}, {"class_name": "Dense", "config": {"name": "a"}},
        {"class_name": "Conv2D", "config": {"name": "b"}}, {"class_name": "Dense", "config": {"name": "c"}}]}}
    assert wf.weight_keys(config) == [("x", "InputLayer", "input_layer"), ("a", "Dense", "dense"),
                                      ("b", "Conv2D", "conv2d"), ("c", "Dense", "dense_1")]
