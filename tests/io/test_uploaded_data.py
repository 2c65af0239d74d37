"""prune_core.io.uploaded_data: user .npz files (every refusal specific), MNIST reshaped for a model, 'no data'."""

from __future__ import annotations

import numpy as np
import pytest

from prune_core.io import data, uploaded_data
from tests import badfiles

CASES = badfiles.npz_cases()


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_npz_is_refused_with_its_message(case):
    with pytest.raises(data.DataFileError) as info:
        data.load_npz(case.data, **case.kwargs)
    assert case.expected in str(info.value)
    assert isinstance(info.value, ValueError)


def test_good_npz_with_integer_labels():
    arrays = badfiles.good_arrays()
    ds = data.load_npz(badfiles.npz_bytes(**arrays), input_shape=(4,), num_classes=3, name="mine.npz")
    assert ds.name == "mine.npz" and ds.input_shape == (4,) and ds.num_classes == 3
    assert ds.x_train.dtype == np.float32 and ds.y_train.dtype == np.int64
    np.testing.assert_array_equal(ds.x_test, arrays["x_test"])
    np.testing.assert_array_equal(ds.y_train, np.arange(12) % 3)
    assert ds.key.startswith("npz-") and data.has_samples(ds)
    assert ds.description == "mine.npz — 12 train / 6 test examples"  # a table of 4 features, not images


def test_one_hot_and_column_labels_become_indices_and_key_follows_content():
    arrays = badfiles.good_arrays()
    plain = data.load_npz(badfiles.npz_bytes(**arrays), input_shape=(4,), num_classes=3)
    hot = data.load_npz(badfiles.npz_bytes(**{**arrays, "y_train": np.eye(3)[arrays["y_train"]],
                                             "y_test": arrays["y_test"].reshape(-1, 1).astype(np.float32)}),
                        input_shape=(4,), num_classes=3)
    np.testing.assert_array_equal(hot.y_train, plain.y_train)
    np.testing.assert_array_equal(hot.y_test, plain.y_test)
    assert hot.key == plain.key  # same content after decoding → same cache key
    other = data.load_npz(badfiles.npz_bytes(**badfiles.good_arrays(seed=1)), input_shape=(4,), num_classes=3)
    assert other.key != plain.key


def test_without_model_info_classes_come_from_labels():
    ds = data.load_npz(badfiles.npz_bytes(**badfiles.good_arrays(classes=4)))
    assert ds.num_classes == 4 and ds.class_names == ("0", "1", "2", "3")


def test_uint8_images_are_used_as_given():
    arrays = {**badfiles.good_arrays(shape=(2, 2)), "x_train": np.full((12, 2, 2), 255, np.uint8)}
    ds = data.load_npz(badfiles.npz_bytes(**arrays), input_shape=(2, 2), num_classes=3)
    assert ds.x_train.dtype == np.float32 and ds.x_train.max() == 255.0


def test_wrong_shape_says_how_to_reshape_when_the_count_matches():
    arrays = {**badfiles.good_arrays(shape=(784,))}
    with pytest.raises(data.DataFileError, match=r"expects \(28, 28, 1\).*x.reshape\(-1, 28, 28, 1\)"):
        data.load_npz(badfiles.npz_bytes(**arrays), input_shape=(28, 28, 1), num_classes=3)


def test_mnist_shapes_and_reshape():
    assert data.is_mnist_shaped((28, 28), 10) and data.is_mnist_shaped((784,), 10)
    assert not data.is_mnist_shaped((784,), 5) and not data.is_mnist_shaped((28, 28, 3), 10)
    base = data.load_bundled()
    flat = data.reshape_for_input(base, (784,))
    chan = data.reshape_for_input(base, (28, 28, 1))
    assert flat.x_train.shape == (8000, 784) and chan.x_test.shape == (2000, 28, 28, 1)
    np.testing.assert_array_equal(flat.x_test[7], base.x_test[7].ravel())
    assert (flat.key, chan.key) == ("mnist-bundled@784", "mnist-bundled@28x28x1")
    assert data.reshape_for_input(base, (28, 28)) is base
    with pytest.raises(ValueError, match="cannot be reshaped"):
        data.reshape_for_input(base, (32, 32))


def test_empty_dataset_means_no_data():
    ds = data.empty_dataset((5, 3), 7)
    assert ds.key == data.NO_DATA_KEY and ds.x_test.shape == (0, 5, 3) and ds.num_classes == 7
    assert not data.has_samples(ds) and not data.has_samples(None)


def test_labels_are_compared_in_their_own_dtype_and_printed_as_they_are():
    big = np.array([0, 1, 2**63 + 5], np.uint64)
    arrays = {**badfiles.good_arrays(n_train=3), "y_train": big}
    with pytest.raises(data.DataFileError, match="labels from 0 to 9223372036854775813,"):
        data.dataset_from_arrays(arrays, input_shape=(4,), num_classes=3)
    # without a model, a huge label is not taken as "that many classes"
    with pytest.raises(data.DataFileError, match="The labels go up to 9223372036854775813; without a model"):
        data.dataset_from_arrays(arrays)
    ok = data.dataset_from_arrays({**arrays, "y_train": np.array([0, 1, 2], np.uint64)}, num_classes=3)
    assert ok.y_train.dtype == np.int64 and ok.y_train.tolist() == [0, 1, 2]


def test_finite_check_runs_after_the_float32_cast():
    arrays = badfiles.good_arrays()
    fine = {**arrays, "x_train": arrays["x_train"].astype(np.float64) * 1e30}  # large but finite as float32
    assert np.isfinite(data.dataset_from_arrays(fine, input_shape=(4,), num_classes=3).x_train).all()
    over = {**arrays, "x_test": np.full((6, 4), 1e39)}  # finite float64, inf as float32
    with pytest.raises(data.DataFileError, match="x_test contains 24 NaN or infinite values as float32"):
        data.dataset_from_arrays(over, input_shape=(4,), num_classes=3)


def _token_model(vocabulary: int = 50):
    import keras

    keras.utils.set_random_seed(0)
    return keras.Sequential([keras.Input((6,)), keras.layers.Embedding(vocabulary, 4, name="tokens"),
                             keras.layers.Flatten(), keras.layers.Dense(3, activation="softmax", name="out")])


def test_token_ids_beyond_the_embedding_vocabulary_are_refused():
    model = _token_model(50)
    rng = np.random.default_rng(0)
    arrays = {"x_train": rng.integers(0, 50, (10, 6)) // 1, "y_train": np.arange(10) % 3,
              "x_test": rng.integers(0, 50, (4, 6)), "y_test": np.arange(4) % 3}
    ds = data.load_npz(badfiles.npz_bytes(**arrays), input_shape=(6,), num_classes=3)
    data.check_data_for_model(ds, model)  # in range: accepted
    bad = {**arrays, "x_test": np.where(np.arange(24).reshape(4, 6) == 5, 50, arrays["x_test"])}
    ds_bad = data.load_npz(badfiles.npz_bytes(**bad), input_shape=(6,), num_classes=3)
    with pytest.raises(data.DataFileError, match=r"x_test holds token ids from \d+ to 50, but the model's Embedding "
                                                 r"layer 'tokens' has a vocabulary of 50 \(ids 0–49\).*input_dim of at least 51"):
        data.check_data_for_model(ds_bad, model)
    arrays["x_train"][0, :2] = (0, 49)
    negative = {**arrays, "x_train": -arrays["x_train"] - 1}
    with pytest.raises(data.DataFileError, match="x_train holds token ids from -50 to -1"):
        data.check_data_for_model(data.load_npz(badfiles.npz_bytes(**negative), input_shape=(6,), num_classes=3), model)


def test_an_embedding_not_reading_the_input_is_not_checked():
    import keras

    inp = keras.Input((6,))
    ids = keras.layers.Dense(6, name="project")(inp)  # computed ids: the data's values are not token ids
    x = keras.layers.Flatten()(keras.layers.Embedding(5, 2, name="inner")(ids))
    model = keras.Model(inp, keras.layers.Dense(3, name="out")(x))
    ds = data.dataset_from_arrays({**badfiles.good_arrays(shape=(6,)), "x_train": np.full((12, 6), 99.0)},
                                  input_shape=(6,), num_classes=3)
    assert uploaded_data._embeddings_on_input(model) == []
    data.check_data_for_model(ds, model)
    assert [layer.name for layer in uploaded_data._embeddings_on_input(_token_model())] == ["tokens"]
