"""Model measurements: accuracy and loss, parameter counts, bytes on disk, latency.

>>> float32_bytes(1000)
4000
"""

from __future__ import annotations

import gzip
import os
import tempfile
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Evaluation:
    """Accuracy (fraction in [0, 1]) and mean cross-entropy loss on a split."""

    accuracy: float
    loss: float


def predict_probabilities(model, x: np.ndarray, batch_size: int = 1024) -> np.ndarray:
    """Softmax outputs for x, in batches, without compiling the model."""
    outputs = [np.asarray(model(x[i:i + batch_size], training=False)) for i in range(0, len(x), batch_size)]
    return np.concatenate(outputs) if outputs else np.zeros((0,))


def evaluate(model, x: np.ndarray, y: np.ndarray, batch_size: int = 1024) -> Evaluation:
    """Accuracy and cross-entropy of a softmax classifier on (x, y).

    Uses float64 for the loss so a 100%-pruned layer (uniform outputs) gives a finite number.
    """
    probs = predict_probabilities(model, x, batch_size).astype(np.float64)
    labels = np.asarray(y).astype(np.int64)
    accuracy = float(np.mean(np.argmax(probs, axis=1) == labels)) if len(labels) else float("nan")
    picked = np.clip(probs[np.arange(len(labels)), labels], 1e-12, 1.0)
    return Evaluation(accuracy=accuracy, loss=float(-np.mean(np.log(picked))))


def count_params(model) -> int:
    """All weights, trainable or not."""
    return int(sum(int(np.prod(w.shape)) for w in model.weights))


def count_nonzero(model) -> int:
    return int(sum(int(np.count_nonzero(np.asarray(w))) for w in model.weights))


def float32_bytes(n_params: int) -> int:
    """Dense storage as float32: 4 bytes a parameter."""
    return 4 * int(n_params)


def saved_model_bytes(model) -> bytes:
    """The model saved as a .keras file (weights and architecture, no optimizer state), as bytes."""
    from .models import without_optimizer

    fd, path = tempfile.mkstemp(suffix=".keras")
    os.close(fd)
    try:
        without_optimizer(model).save(path)
        with open(path, "rb") as f:
            return f.read()
    finally:
        os.unlink(path)


def gzip_bytes(model) -> int:
    """Size of the saved .keras file after gzip (level 9): what zeros really save on the wire."""
    return len(gzip.compress(saved_model_bytes(model), compresslevel=9, mtime=0))


def human_bytes(n: float) -> str:
    """'1.07 MB' style, decimal units.

    >>> human_bytes(1_066_440)
    '1.07 MB'
    """
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if abs(n) >= size:
            return f"{n / size:.2f} {unit}"
    return f"{int(n)} B"
