"""The bundled Fashion-MNIST subset: class counts, pixels, a stable stratified split, and the loader's name."""

import numpy as np
import pytest

from prune_core.io import data


@pytest.fixture(scope="module")
def fashion():
    return data.load_dataset("fashion")


def test_class_counts_and_shapes(fashion):
    assert fashion.x_train.shape == (8000, 28, 28) and fashion.x_test.shape == (2000, 28, 28)
    assert np.bincount(fashion.y_train, minlength=10).tolist() == [800] * 10
    assert np.bincount(fashion.y_test, minlength=10).tolist() == [200] * 10
    assert fashion.x_train.dtype == np.float32 and fashion.y_train.dtype == np.int64
    assert fashion.x_train.min() == 0.0 and fashion.x_train.max() == 1.0
    assert fashion.num_classes == 10 and fashion.class_names[0] == "T-shirt/top" and fashion.class_names[9] == "Ankle boot"
    assert fashion.key == "fashion-bundled" and "Fashion-MNIST" in fashion.name
    assert "fashion-mnist 1.1.0" in fashion.source


def test_the_bundle_has_no_empty_or_duplicate_images():
    with np.load(data.FASHION_PATH) as npz:
        images, labels = npz["images"], npz["labels"]
    assert images.shape == (10000, 28, 28) and images.dtype == np.uint8
    assert np.bincount(labels, minlength=10).tolist() == [1000] * 10
    assert len({row.tobytes() for row in images}) == 10000  # exact duplicates were dropped
    assert images.reshape(10000, -1).max(axis=1).min() > 0  # no empty (all-zero) entries


def test_stable_split(fashion):
    # The same arrays on every load and every machine: this hash pins the bundle and the split (seed 0).
    assert data.content_hash(fashion.x_train, fashion.y_train, fashion.x_test, fashion.y_test) == \
        "98fddb819614218c6bd43793"
    again = data.load_fashion()
    np.testing.assert_array_equal(again.x_test, fashion.x_test)
    train = {x.tobytes() for x in fashion.x_train}
    assert not any(x.tobytes() in train for x in fashion.x_test)  # no image in both splits


def test_load_dataset_sources():
    assert data.load_dataset("bundled").key == "mnist-bundled"
    assert data.load_dataset("fashion-bundled").key == "fashion-bundled"
    with pytest.raises(ValueError, match="Unknown data source"):
        data.load_dataset("cifar")
    with pytest.raises(ValueError, match="Unknown MNIST source"):
        data.load_mnist("fashion")  # load_mnist is MNIST only, as before


def test_cli_experiment_on_fashion(capsys):
    import json

    from prune_core import cli

    code = cli.main(["experiment", "--model", "mlp-128", "--data", "fashion", "--train-epochs", "1",
                     "--rule", "sparsity", "--value", "0.5", "--fine-tune-epochs", "0", "--json"])
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert report["data"]["key"] == "fashion-bundled" and report["data"]["name"] == "Bundled Fashion-MNIST subset"
    assert (report["data"]["train"], report["data"]["test"]) == (8000, 2000)
    assert report["dense_accuracy"] > 0.5  # 10 classes: well above chance after one epoch


def test_model_page_trains_on_fashion_and_says_so():
    from tests.apptest import page_test
    from ui import jobs

    at = page_test("model").run()
    assert not at.exception
    (choice,) = [r for r in at.radio if r.label == "Data"]
    assert "fashion" in choice.options or any("Fashion" in o for o in choice.options)
    choice.set_value("fashion")
    (epochs,) = [n for n in at.number_input if n.label == "Epochs"]
    epochs.set_value(1)
    (train,) = [b for b in at.button if b.label == "Train"]
    train.click().run()
    assert not at.exception
    at.session_state[jobs.KEY].wait(300)
    at.run()
    at.run()  # adopt the finished model, then draw with it
    assert not at.exception
    entry = at.session_state["model_entry"]
    assert entry.data_key == "fashion-bundled" and entry.origin == "trained"
    badge = [c.value for c in at.caption if "**Data:**" in c.value]
    assert badge and "Fashion" in badge[0] and "MNIST subset —" in badge[0]
    assert [r for r in at.radio if r.label == "Data"][0].value == "fashion"  # the choice is remembered
