"""The headline numbers of a model on a dataset: test accuracy and loss, parameters, float32 and gzip bytes.

>>> import keras
>>> from prune_core.io.data import empty_dataset
>>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
>>> numbers = headline_numbers(model, empty_dataset((4,), 3))
>>> numbers["params"], numbers["float32_bytes"], numbers["accuracy"] != numbers["accuracy"]
(15, 60, True)
"""

from __future__ import annotations

import time

from ..io import data
from . import metrics


def headline_numbers(model, ds: data.Dataset) -> dict:
    """accuracy, loss, params, float32_bytes, sparse_bytes (zeros it already has left out), gzip_bytes of ``model`` on ``ds``'s test split, and eval_seconds
    (how long that evaluation took: the base of time estimates). With no data (an empty Dataset) accuracy and
    loss are NaN and eval_seconds 0: sizes only."""
    started = time.perf_counter()
    if data.has_samples(ds):
        evaluation = metrics.evaluate(model, ds.x_test, ds.y_test)
    else:
        evaluation = metrics.Evaluation(accuracy=float("nan"), loss=float("nan"))
    seconds = time.perf_counter() - started if data.has_samples(ds) else 0.0
    params = metrics.count_params(model)
    return {"eval_seconds": seconds, "accuracy": evaluation.accuracy, "loss": evaluation.loss, "params": params,
            "float32_bytes": metrics.float32_bytes(params),
            "sparse_bytes": metrics.sparse_bytes(model), "gzip_bytes": metrics.gzip_bytes(model)}
