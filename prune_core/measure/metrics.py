"""Model measurements: accuracy and loss, parameter counts, bytes on disk, latency.

>>> float32_bytes(1000)
4000
>>> csr_bytes(np.array([[0.0, 1.5, 0.0], [0.0, 0.0, 0.0]]))  # 1 value × (4 + 1) + 3 row pointers × 4
17
"""

from __future__ import annotations

import gzip
import io
import json
import os
import tempfile
import time
import zipfile
from dataclasses import dataclass

import numpy as np
from ..graph import kernels, layers
from ..methods.masks import without_optimizer


@dataclass(frozen=True)
class Evaluation:
    """Accuracy (fraction in [0, 1]) and mean cross-entropy loss on a split."""

    accuracy: float
    loss: float


def predict_probabilities(model, x: np.ndarray, batch_size: int = 1024, compiled: bool = False) -> np.ndarray:
    """Softmax outputs for x, in batches: by calling the model eagerly, or with ``compiled`` through Keras' traced
    predict step (``predict_on_batch``) — worth it for a model evaluated again and again with new weights (the
    Prune page's scratch copy: 9 ms instead of 16 ms for 2,000 digits), not for one evaluated once (the trace)."""
    import keras

    if compiled:
        outputs = [np.asarray(model.predict_on_batch(x[i:i + batch_size])) for i in range(0, len(x), batch_size)]
    else:
        outputs = [keras.ops.convert_to_numpy(model(x[i:i + batch_size], training=False))
                   for i in range(0, len(x), batch_size)]
    return np.concatenate(outputs) if outputs else np.zeros((0,))


def evaluate(model, x: np.ndarray, y: np.ndarray, batch_size: int = 1024, compiled: bool = False) -> Evaluation:
    """Accuracy and cross-entropy of a softmax classifier on (x, y) (``compiled``: see :func:`predict_probabilities`).

    Uses float64 for the loss so a 100%-pruned layer (uniform outputs) gives a finite number.
    """
    return evaluate_probabilities(predict_probabilities(model, x, batch_size, compiled), y)


def evaluate_probabilities(probabilities: np.ndarray, y: np.ndarray) -> Evaluation:
    """:func:`evaluate` from softmax outputs already computed (so one prediction serves the accuracy, the loss and
    the per-class view: :func:`class_accuracy_of`).

    >>> evaluate_probabilities(np.array([[0.9, 0.1], [0.5, 0.5]]), [0, 1]).accuracy
    0.5
    """
    probs = np.asarray(probabilities).astype(np.float64)
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
    fd, path = tempfile.mkstemp(suffix=".keras")
    os.close(fd)
    try:
        without_optimizer(model).save(path)
        with open(path, "rb") as f:
            return f.read()
    finally:
        os.unlink(path)


def canonical_keras_bytes(raw: bytes) -> bytes:
    """A .keras archive with its save date and member times fixed, so equal models give equal bytes.

    Keras writes the save time into ``metadata.json`` and every zip member's header; left in, they
    make a gzip size wander by a byte or so between two saves of the same model.
    """
    source = zipfile.ZipFile(io.BytesIO(raw))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "metadata.json":
                meta = json.loads(data)
                meta["date_saved"] = "1980-01-01@00:00:00"
                data = json.dumps(meta).encode()
            fixed = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            fixed.compress_type, fixed.external_attr = info.compress_type, info.external_attr
            target.writestr(fixed, data)
    return out.getvalue()


GZIP_LEVEL = 6  # gzip's own default (what `gzip file` and web servers use). Level 9 is ~1% smaller on a half-zero
# float32 file but 8× slower there (36.6 s vs 4.5 s for ResNet-50's 96 MB: long match chains over the zeros).


def gzipped_size(raw: bytes) -> int:
    """Bytes of ``raw`` after gzip at :data:`GZIP_LEVEL` (no timestamp, so the same bytes give the same size).

    >>> gzipped_size(bytes(1000)) < 40
    True
    """
    return len(gzip.compress(raw, compresslevel=GZIP_LEVEL, mtime=0))


def gzip_bytes(model) -> int:
    """Size of the saved .keras file after gzip: what zeros really save on the wire.

    Measured on :func:`canonical_keras_bytes`, so the same weights always give the same number.
    """
    return gzipped_size(canonical_keras_bytes(saved_model_bytes(model)))


def human_bytes(n: float) -> str:
    """'1.07 MB' style, decimal units.

    >>> human_bytes(1_066_440)
    '1.07 MB'
    """
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if abs(n) >= size:
            return f"{n / size:.2f} {unit}"
    return f"{int(n)} B"


# --- per-layer counts --------------------------------------------------------------------------

LAYER_TABLE_COLUMNS = ("layer", "type", "shape", "params", "nonzero", "sparsity")


def weighted_layers(model) -> list:
    """Every layer that owns weights, in topological order (nested models walked into, by ``graph.layers``)."""
    return [layer for layer in layers(model) if layer.weights]


def shape_text(shape) -> str:
    """'784×32' for a kernel shape, '10' for a vector.

    >>> shape_text((5, 5, 1, 6))
    '5×5×1×6'
    """
    return "×".join(str(int(d)) for d in shape)


def layer_table(model):
    """One row per layer with weights: layer, type, shape, params, nonzero, sparsity.

    ``shape`` is the kernel's shape (or the first weight's, e.g. a BatchNormalization's gamma), as text;
    ``params``/``nonzero`` count all the layer's weights (kernel + bias, BN statistics included);
    ``sparsity`` = 1 − nonzero / params.
    """
    import pandas as pd

    rows = []
    for layer in weighted_layers(model):
        arrays = [np.asarray(w) for w in layer.weights]
        kernel = getattr(layer, "kernel", None)
        params = int(sum(a.size for a in arrays))
        nonzero = int(sum(np.count_nonzero(a) for a in arrays))
        rows.append({"layer": layer.name, "type": type(layer).__name__,
                     "shape": shape_text(kernel.shape if kernel is not None else arrays[0].shape),
                     "params": params, "nonzero": nonzero, "sparsity": _sparsity(nonzero, params)})
    return pd.DataFrame(rows, columns=list(LAYER_TABLE_COLUMNS))


def totals(model_or_table) -> dict:
    """{'params', 'nonzero', 'sparsity'} over all weights, from a model or a ``layer_table``."""
    table = model_or_table if hasattr(model_or_table, "columns") else layer_table(model_or_table)
    params, nonzero = int(table["params"].sum()), int(table["nonzero"].sum())
    return {"params": params, "nonzero": nonzero, "sparsity": _sparsity(nonzero, params)}


def prunable_counts(model) -> tuple[int, int]:
    """(zeros, total) over every kernel a run can prune (graph.kernels: Dense/Conv, attention projections,
    Embedding tables, recurrent kernels; no biases)."""
    arrays = kernels(model).values()
    size = sum(a.size for a in arrays)
    return size - sum(int(np.count_nonzero(a)) for a in arrays), size


def prunable_sparsity(model) -> float:
    """Fraction of zeros over every prunable kernel (see :func:`prunable_counts`; no biases): the UI's
    "overall sparsity". 0.0 for a model without prunable kernels."""
    zeros, size = prunable_counts(model)
    return _sparsity(size - zeros, size)


def _sparsity(nonzero: int, size: int) -> float:
    return 1.0 - nonzero / size if size else 0.0


# --- storage estimates -------------------------------------------------------------------------

def index_bytes(n: int) -> int:
    """Bytes of the smallest unsigned integer that indexes n positions (1, 2 or 4).

    >>> index_bytes(256), index_bytes(257), index_bytes(70_000)
    (1, 2, 4)
    """
    return 1 if n <= 1 << 8 else 2 if n <= 1 << 16 else 4


def csr_bytes(array: np.ndarray) -> int:
    """CSR storage of an array viewed as a matrix (rows = all axes but the last, a vector is one row):
    nonzero × (4-byte float32 value + ``index_bytes(columns)`` column index) + (rows + 1) × 4-byte row pointers."""
    array = np.asarray(array)
    columns = int(array.shape[-1]) if array.ndim else 1
    rows = array.size // columns if columns else 0
    return int(np.count_nonzero(array)) * (4 + index_bytes(columns)) + (rows + 1) * 4


def sparse_bytes(model) -> int:
    """Estimated storage with zeros left out: for each weight array, the smaller of its CSR size
    (``csr_bytes``: nonzero × (4 + index bytes) + (rows + 1) × 4) and dense float32 (4 × size).

    A dense model therefore costs exactly ``float32_bytes(count_params(model))``.
    """
    return int(sum(min(csr_bytes(a), 4 * a.size) for a in (np.asarray(w) for w in model.weights)))


def size_summary(model, include_gzip: bool = True) -> dict:
    """params, nonzero, sparsity (all weights), prunable_sparsity, float32_bytes, sparse_bytes and
    (unless ``include_gzip=False``, which skips saving the model) gzip_bytes, as one JSON-friendly dict."""
    params, nonzero = count_params(model), count_nonzero(model)
    summary = {"params": params, "nonzero": nonzero, "sparsity": _sparsity(nonzero, params),
               "prunable_sparsity": prunable_sparsity(model), "float32_bytes": float32_bytes(params),
               "sparse_bytes": sparse_bytes(model)}
    if include_gzip:
        summary["gzip_bytes"] = gzip_bytes(model)
    return summary


# --- latency -----------------------------------------------------------------------------------

def latency_ms(model, x: np.ndarray | None = None, batch_size: int = 256, repeats: int = 20, warmup: int = 3,
               budget_s: float | None = None) -> float:
    """Median wall-clock milliseconds for one batch of ``batch_size`` through ``model(x, training=False)``.

    ``x``: sample inputs (the first ``batch_size`` rows are used, repeated if fewer); zeros of the
    model's input shape when omitted. ``warmup`` untimed calls come first; the output is pulled to
    numpy inside the timing, so asynchronous devices are measured to completion. ``budget_s``: for a big model,
    about how long the timed calls may take: when the first call says ``repeats`` calls would take longer, there
    is no other warm-up and the median is of ``budget_s`` / its time calls, the first one included, at least 3 (a
    median of three shrugs off the first call's one-off costs). ResNet-50 at 32×32 and batch 256, ~1 s a call on 2
    cores: 3 calls instead of 13; LeNet-300-100 (under a millisecond a call) is timed as without a budget.
    """
    import keras

    if batch_size < 1 or repeats < 1 or warmup < 0:
        raise ValueError("batch_size and repeats must be at least 1 and warmup at least 0.")
    spec = model.inputs[0]
    if x is None:
        batch = np.zeros((batch_size, *spec.shape[1:]), dtype=spec.dtype)
    else:
        x = np.asarray(x)
        batch = x[np.arange(batch_size) % len(x)] if len(x) else np.zeros((batch_size, *x.shape[1:]), x.dtype)
    batch = keras.ops.convert_to_tensor(batch)
    times = []
    for done in range(warmup):
        started = time.perf_counter()
        keras.ops.convert_to_numpy(model(batch, training=False))
        took = time.perf_counter() - started
        if done == 0 and budget_s is not None and took * repeats > budget_s:  # a big model: few calls, this one too
            times, repeats = [took], max(3, min(repeats, int(budget_s / took))) - 1
            break
    for _ in range(repeats):
        started = time.perf_counter()
        keras.ops.convert_to_numpy(model(batch, training=False))
        times.append(time.perf_counter() - started)
    return float(np.median(times) * 1000.0)


# --- per-class accuracy ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class ClassAccuracy:
    """Per class: test ``counts`` and ``accuracy`` (NaN for a class with no samples); ``overall`` accuracy.
    ``sum(counts[c] * accuracy[c]) / sum(counts) == overall``."""

    accuracy: np.ndarray
    counts: np.ndarray
    overall: float


def class_accuracy_from_predictions(predicted, labels, num_classes: int) -> ClassAccuracy:
    """Per-class accuracy from predicted and true class indices.

    >>> r = class_accuracy_from_predictions([0, 1, 1, 2], [0, 1, 2, 2], 4)
    >>> r.accuracy.tolist()[:3], r.counts.tolist(), r.overall
    ([1.0, 1.0, 0.5], [1, 1, 2, 0], 0.75)
    """
    predicted = np.asarray(predicted, dtype=np.int64).ravel()
    labels = np.asarray(labels, dtype=np.int64).ravel()
    if predicted.shape != labels.shape:
        raise ValueError(f"{len(predicted)} predictions for {len(labels)} labels.")
    counts = np.bincount(labels, minlength=num_classes)[:num_classes]
    right = np.bincount(labels[predicted == labels], minlength=num_classes)[:num_classes]
    with np.errstate(invalid="ignore", divide="ignore"):
        accuracy = np.where(counts > 0, right / np.maximum(counts, 1), np.nan)
    overall = float(np.mean(predicted == labels)) if len(labels) else float("nan")
    return ClassAccuracy(accuracy=accuracy.astype(np.float64), counts=counts.astype(np.int64), overall=overall)


def class_accuracy(model, x: np.ndarray, y: np.ndarray, num_classes: int | None = None,
                   batch_size: int = 1024) -> ClassAccuracy:
    """Per-class test accuracy of a softmax classifier on (x, y)."""
    return class_accuracy_of(predict_probabilities(model, x, batch_size), y, num_classes)


def class_accuracy_of(probs: np.ndarray, y: np.ndarray, num_classes: int | None = None) -> ClassAccuracy:
    """:func:`class_accuracy` from softmax outputs already computed."""
    classes = int(num_classes if num_classes is not None else probs.shape[-1])
    return class_accuracy_from_predictions(np.argmax(probs, axis=1), y, classes)


def class_accuracy_change(dense_model, pruned_model, x: np.ndarray, y: np.ndarray, class_names=None):
    """A table, one row per class: class, count, dense, pruned, change (pruned − dense), worst drop first."""
    import pandas as pd

    dense = class_accuracy(dense_model, x, y)
    pruned = class_accuracy(pruned_model, x, y, num_classes=len(dense.counts))
    return class_change_table(dense, pruned, class_names)


def class_change_table(dense: ClassAccuracy, pruned: ClassAccuracy, class_names=None):
    """The table of :func:`class_accuracy_change` from two measured ClassAccuracy (so a caller holding the dense
    one measures it once): class, count, dense, pruned, change, worst drop first (ties: more samples first)."""
    import pandas as pd

    names = list(class_names)[:len(dense.counts)] if class_names is not None else \
        [str(c) for c in range(len(dense.counts))]
    table = pd.DataFrame({"class": names, "count": dense.counts, "dense": dense.accuracy,
                          "pruned": pruned.accuracy, "change": pruned.accuracy - dense.accuracy})
    return table.sort_values(["change", "count"], ascending=[True, False], kind="stable").reset_index(drop=True)
