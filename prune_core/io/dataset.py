"""A dataset as prune_core passes it around: train/test arrays, labels and what a person needs to know about them
(shared by the shipped datasets, :mod:`prune_core.io.data`, and a user's own, :mod:`prune_core.io.uploaded_data`)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np

MNIST_CLASSES = tuple(str(d) for d in range(10))


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
    def noun(self) -> str:
        """What one sample is called: "images" for image data (2-D or more per sample, or MNIST and
        Fashion-MNIST flattened for an MLP), "examples" for a table of features."""
        image = len(self.input_shape) >= 2 or self.key.startswith(("mnist", "fashion"))
        return "images" if image else "examples"

    @property
    def description(self) -> str:
        """One line for the UI, e.g. 'Bundled MNIST subset — 8,000 train / 2,000 test images'."""
        return f"{self.name} — {len(self.y_train):,} train / {len(self.y_test):,} test {self.noun}"


def as_arrays(data) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(x_train, y_train, x_test, y_test) from a Dataset or a 4-tuple; ValueError otherwise."""
    if all(hasattr(data, a) for a in ("x_train", "y_train", "x_test", "y_test")):
        return data.x_train, data.y_train, data.x_test, data.y_test
    if isinstance(data, (tuple, list)) and len(data) == 4:
        return tuple(data)
    raise ValueError("data must be a prune_core.io.data.Dataset or a tuple (x_train, y_train, x_test, y_test).")


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


def content_hash(*arrays: np.ndarray) -> str:
    """A short hash of the arrays' bytes, for cache keys."""
    digest = hashlib.blake2b(digest_size=12)
    for array in arrays:
        digest.update(str(array.shape).encode())
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()
