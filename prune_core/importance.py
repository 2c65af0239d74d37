"""Importance scores for every prunable kernel entry, and per output unit (neuron / filter).

Criteria (all scores are >= 0, float32, kernel-shaped, keyed by layer name in model order):

- ``magnitude``: |w| (the L1 term).
- ``sensitivity``: mean over a fixed, seeded set of training batches of |dL/dw|.
- ``taylor``: mean over the same batches of |w · dL/dw| (first-order estimate of the loss change
  if w were removed).
- ``random``: seeded uniform [0, 1) scores, the baseline.

L is the mean sparse categorical cross-entropy of the model's softmax outputs on a batch,
computed in inference mode (dropout off). Biases are never scored.

>>> unit_scores({"h": np.array([[1., 2.], [3., 4.]]), "out": np.ones((2, 3))}, "magnitude")
{'h': array([4., 6.], dtype=float32)}
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

GRADIENT_BUDGET = 1 << 20  # input elements per backward pass: bounds activation memory on big inputs


def require_data(criterion: str, x, y) -> None:
    """ValueError (saying what to do) unless (x, y) are labelled examples, as many labels as inputs."""
    if x is None or y is None:
        raise ValueError(f"The {criterion} criterion needs training data (images and labels) to compute "
                         "gradients; none was given. Load a dataset first, or use magnitude or random.")
    if len(x) == 0 or len(x) != len(y):
        raise ValueError(f"The {criterion} criterion needs as many labels as images (got {len(x)} images "
                         f"and {len(y)} labels, at least one of each).")


def magnitude_scores(kernels: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """{layer: |w|} as float32.

    >>> magnitude_scores({"d": np.array([[-0.5, 0.25]])})["d"].tolist()
    [[0.5, 0.25]]
    """
    return {n: np.abs(np.asarray(k, dtype=np.float32)) for n, k in kernels.items()}


def random_scores(shapes: Mapping[str, tuple], seed: int = 0) -> dict[str, np.ndarray]:
    """Seeded uniform [0, 1) float32 scores, one array per layer, drawn in layer order."""
    rng = np.random.default_rng(seed)
    return {n: rng.random(tuple(shape), dtype=np.float32) for n, shape in shapes.items()}


def sample_batches(n: int, batches: int, batch_size: int, seed: int) -> list[np.ndarray]:
    """Index arrays of a fixed, seeded set of batches (without replacement; fewer if n is small).

    >>> [b.tolist() for b in sample_batches(5, 2, 2, 0)] == [b.tolist() for b in sample_batches(5, 2, 2, 0)]
    True
    """
    if batches < 1 or batch_size < 1:
        raise ValueError("The number of batches and the batch size must be at least 1.")
    order = np.random.default_rng(seed).permutation(n)[:batches * batch_size]
    return [order[i:i + batch_size] for i in range(0, len(order), batch_size)]


def micro_batch_size(input_shape, batch_size: int, budget: int = GRADIENT_BUDGET) -> int:
    """How many examples one backward pass takes: the whole batch unless its inputs exceed ``budget``
    elements (ResNet-50 at 224×224×3: 6 per pass). The gradient of the batch mean is the same either way.

    >>> micro_batch_size((28, 28), 128), micro_batch_size((224, 224, 3), 128)
    (128, 6)
    """
    per_example = int(np.prod(input_shape, dtype=np.int64)) or 1
    return int(max(1, min(batch_size, budget // per_example)))


def gradient_statistics(model, x, y, statistics, *, batches: int = 4, batch_size: int = 128,
                        seed: int = 0) -> list[dict[str, np.ndarray]]:
    """For each ``statistic(w, g) -> array``: {layer: mean over the seeded batches of statistic(kernel, dL/dkernel)}.

    One backward pass per batch serves every statistic. L is the batch mean of the sparse categorical
    cross-entropy of the model's outputs in inference mode; large inputs are split into micro-batches
    (:func:`micro_batch_size`) whose gradients add up to the batch's, so memory stays bounded.
    This is the one place that computes gradients for scoring.
    """
    import keras
    import tensorflow as tf

    from .graph import kernel_variable, prunable_layers

    layers = prunable_layers(model)
    variables = [kernel_variable(layer) for layer in layers]
    values = [np.asarray(v.numpy(), dtype=np.float32) for v in variables]
    totals = [[np.zeros_like(v) for v in values] for _ in statistics]
    x, y = np.asarray(x), np.asarray(y).astype(np.int64)
    index_sets = sample_batches(len(x), batches, batch_size, seed)
    step = micro_batch_size(x.shape[1:], batch_size)
    for index in index_sets:
        grads = [np.zeros_like(v) for v in values]
        for start in range(0, len(index), step):
            part = index[start:start + step]
            with tf.GradientTape() as tape:
                probs = model(x[part], training=False)
                loss = keras.ops.sum(keras.losses.sparse_categorical_crossentropy(y[part], probs)) / len(index)
            for i, g in enumerate(tape.gradient(loss, variables)):
                if g is not None:
                    grads[i] += np.asarray(g, dtype=np.float32)
        for total, statistic in zip(totals, statistics):
            for i, (g, w) in enumerate(zip(grads, values)):
                total[i] += statistic(w, g)
    count = np.float32(len(index_sets))
    names = [layer.name for layer in layers]
    return [{n: t / count for n, t in zip(names, total)} for total in totals]


def gradient_scores(model, x, y, *, batches: int = 4, batch_size: int = 128,
                    seed: int = 0) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """(sensitivity, taylor): mean |dL/dw| and mean |w · dL/dw| over the same seeded batches."""
    require_data("sensitivity", x, y)
    sens, taylor = gradient_statistics(model, x, y, [lambda w, g: np.abs(g), lambda w, g: np.abs(w * g)],
                                       batches=batches, batch_size=batch_size, seed=seed)
    return sens, taylor


def weight_scores(model, criterion: str, x=None, y=None, *, batches: int = 4, batch_size: int = 128,
                  seed: int = 0) -> dict[str, np.ndarray]:
    """{layer: float32 kernel-shaped scores} for one registered criterion (see :mod:`prune_core.criteria`).

    Data criteria need (x, y) training data (ValueError with a clear message otherwise);
    ``batches`` × ``batch_size`` examples are drawn once with ``seed``. random uses ``seed`` too.
    """
    return all_weight_scores(model, x, y, criteria=(criterion,), batches=batches, batch_size=batch_size,
                             seed=seed)[criterion]


def all_weight_scores(model, x=None, y=None, *, criteria=None, batches: int = 4, batch_size: int = 128,
                      seed: int = 0) -> dict[str, dict[str, np.ndarray]]:
    """{criterion: {layer: scores}} for several criteria (default: all registered), gradients computed once."""
    from .criteria import CRITERIA, score_many

    names = tuple(CRITERIA) if criteria is None else tuple(criteria)
    data = (x, y) if x is not None and y is not None else None
    return score_many(model, names, data, seed=seed, batches=batches, batch_size=batch_size)


def sum_unit_scores(weight_scores: Mapping[str, np.ndarray], output_layer: str | None = None) -> dict[str, np.ndarray]:
    """One score per output unit: the sum of its incoming weights' scores (all kernel axes but the last);
    for magnitude that is the L1 norm of the unit's incoming weights. The output layer is omitted
    (default: the last layer of ``weight_scores``, dicts being in model order)."""
    result = {}
    for n in _hidden(weight_scores, output_layer):
        s = np.asarray(weight_scores[n], dtype=np.float32)
        result[n] = s.reshape(-1, s.shape[-1]).sum(axis=0, dtype=np.float64).astype(np.float32)
    return result


def random_unit_scores(weight_scores: Mapping[str, np.ndarray], output_layer: str | None = None,
                       seed: int = 0) -> dict[str, np.ndarray]:
    """Seeded uniform [0, 1) scores drawn per unit (a sum of uniform draws would bunch around its mean)."""
    return random_scores({n: (np.shape(weight_scores[n])[-1],) for n in _hidden(weight_scores, output_layer)}, seed)


def _hidden(weight_scores: Mapping[str, np.ndarray], output_layer: str | None) -> list[str]:
    names = list(weight_scores)
    if output_layer is None and names:
        output_layer = names[-1]
    return [n for n in names if n != output_layer]


def unit_scores(weight_scores: Mapping[str, np.ndarray], criterion: str, output_layer: str | None = None,
                seed: int = 0) -> dict[str, np.ndarray]:
    """One score per output unit (Dense column / Conv2D filter) of a chain of layers, the output layer
    omitted: the sum of the unit's weights' scores, or for ``random`` seeded draws per unit. For any graph
    use the criterion's ``unit_scores(model, ...)``, which scores dependency groups."""
    if criterion == "random":
        return random_unit_scores(weight_scores, output_layer, seed)
    return sum_unit_scores(weight_scores, output_layer)


def _position(index: int, shape: tuple) -> str:
    return str(tuple(int(i) for i in np.unravel_index(index, shape)))


def _extreme_indices(flat: np.ndarray, n: int, highest: bool) -> np.ndarray:
    """Flat indices of the n lowest (or highest) entries, ordered; ties by flat index."""
    n = min(n, flat.size)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    key = -flat.astype(np.float64) if highest else flat
    if n < flat.size:
        candidates = np.argpartition(key, n - 1)[:n]
        cut = key[candidates].max()
        below = np.flatnonzero(key < cut)
        candidates = np.concatenate([below, np.flatnonzero(key == cut)[:n - below.size]])  # ties: low index
    else:
        candidates = np.arange(flat.size)
    order = np.lexsort((candidates, key[candidates]))  # by score, then flat index
    return candidates[order][:n]


def extreme_entries(kernels: Mapping[str, np.ndarray], scores: Mapping[str, Mapping[str, np.ndarray]],
                    active: str, keep: Mapping[str, np.ndarray] | None = None, n: int = 5):
    """DataFrame of the n lowest- and n highest-scored weights per layer by the ``active`` criterion.

    ``scores`` is {criterion: {layer: kernel-shaped scores}} (e.g. from :func:`all_weight_scores`);
    columns: layer, rank ("lowest"/"highest"), position (kernel index), weight, |w|, one column per
    criterion present ("sensitivity", "taylor", ...), score (the active criterion), status
    ("kept"/"pruned", or "" when no ``keep`` masks are given). Pure numpy/pandas.
    """
    import pandas as pd

    if active not in scores:
        raise ValueError(f"No {active!r} scores were given; computed: {', '.join(scores) or 'none'}.")
    from .criteria import CRITERIA

    extra = [c for c in CRITERIA if c in scores and c != "magnitude"]
    rows = []
    for layer, kernel in kernels.items():
        kernel = np.asarray(kernel)
        flat_active = np.asarray(scores[active][layer]).ravel()
        for rank, highest in (("lowest", False), ("highest", True)):
            for index in _extreme_indices(flat_active, n, highest):
                row = {"layer": layer, "rank": rank, "position": _position(index, kernel.shape),
                       "weight": float(kernel.ravel()[index]), "|w|": float(abs(kernel.ravel()[index]))}
                for criterion in extra:
                    row[criterion] = float(np.asarray(scores[criterion][layer]).ravel()[index])
                row["score"] = float(flat_active[index])
                row["status"] = ("kept" if np.asarray(keep[layer]).ravel()[index] else "pruned") \
                    if keep is not None and layer in keep else ""
                rows.append(row)
    columns = ["layer", "rank", "position", "weight", "|w|", *extra, "score", "status"]
    return pd.DataFrame(rows, columns=columns)
