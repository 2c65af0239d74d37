import time

import numpy as np
import pytest

from prune_core.io import data

BUNDLED_COUNTS = [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978]


@pytest.fixture(scope="module")
def bundled():
    return data.load_mnist("bundled")


def test_bundled_shapes_dtypes_and_range(bundled):
    assert bundled.x_train.shape == (8000, 28, 28) and bundled.x_test.shape == (2000, 28, 28)
    assert bundled.x_train.dtype == np.float32 and bundled.y_train.dtype == np.int64
    assert bundled.x_train.min() == 0.0 and bundled.x_train.max() == 1.0
    assert bundled.input_shape == (28, 28) and bundled.num_classes == 10
    assert bundled.key == "mnist-bundled" and "Bundled" in bundled.name


def test_bundled_pixels_are_exact_uint8_levels(bundled):
    levels = bundled.x_test * 255.0
    np.testing.assert_allclose(levels, np.rint(levels), atol=1e-4)


def test_bundled_split_is_stratified(bundled):
    total = np.bincount(bundled.y_train, minlength=10) + np.bincount(bundled.y_test, minlength=10)
    assert total.tolist() == BUNDLED_COUNTS
    assert np.bincount(bundled.y_test, minlength=10).tolist() == [round(c * 0.2) for c in BUNDLED_COUNTS]


def test_same_split_on_two_loads(bundled):
    again = data.load_mnist("bundled")
    np.testing.assert_array_equal(again.x_train, bundled.x_train)
    np.testing.assert_array_equal(again.y_test, bundled.y_test)
    assert data.content_hash(again.x_test) == data.content_hash(bundled.x_test)


def test_train_and_test_do_not_overlap(bundled):
    train = {data.content_hash(x) for x in bundled.x_train[:2000]}
    test = {data.content_hash(x) for x in bundled.x_test}
    # The npm subset has a handful of exact duplicate digits; the split itself must not copy images.
    assert len(train & test) <= 5


def test_full_raises_clear_error_offline(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.setattr(data, "_network_reachable", lambda host, timeout: False)
    with pytest.raises(data.DataUnavailableError, match="full MNIST is not available"):
        data.load_mnist("full")


def test_auto_falls_back_to_bundled_quickly(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.setattr(data, "FULL_MNIST_URL_HOST", "10.255.255.1")  # unroutable: would hang without a timeout
    monkeypatch.setattr(data.socket, "create_connection", _refuse_after(0.05))
    started = time.perf_counter()
    ds = data.load_mnist("auto", timeout=0.5)
    assert ds.key == "mnist-bundled"
    assert time.perf_counter() - started < 5


def _refuse_after(seconds):
    def connect(address, timeout=None):
        time.sleep(seconds)
        raise OSError("network unreachable")
    return connect


def test_full_uses_keras_cache_when_present(tmp_path, monkeypatch):
    cache = tmp_path / "datasets"
    cache.mkdir()
    rng = np.random.default_rng(0)
    arrays = dict(x_train=rng.integers(0, 256, (60, 28, 28), dtype=np.uint8), y_train=rng.integers(0, 10, 60, dtype=np.uint8),
                  x_test=rng.integers(0, 256, (10, 28, 28), dtype=np.uint8), y_test=rng.integers(0, 10, 10, dtype=np.uint8))
    np.savez(cache / "mnist.npz", **arrays)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    ds = data.load_mnist("auto")
    assert ds.key == "mnist-full" and ds.name == "Full MNIST"
    np.testing.assert_array_equal(ds.y_test, arrays["y_test"].astype(np.int64))
    assert ds.x_train[3, 4, 5] == np.float32(arrays["x_train"][3, 4, 5] / 255.0)


def test_unknown_source_is_refused():
    with pytest.raises(ValueError, match="Unknown MNIST source"):
        data.load_mnist("imagenet")


def test_stratified_split_exact():
    labels = np.array([0] * 10 + [1] * 5)
    train, test = data.stratified_split(labels, 0.2, seed=3)
    assert len(test) == 3 and np.bincount(labels[test]).tolist() == [2, 1]
    assert sorted(np.concatenate([train, test]).tolist()) == list(range(15))
