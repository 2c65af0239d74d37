"""Group-score normalisers for a global ranking of whole neurons / filters (Torch-Pruning's ``normalizer``): raw
group scores are not comparable across groups of different fan-in, depth and statistics — a global threshold on
them empties whole layers. Each normaliser divides a group's scores by one positive number of that group, so the
ranking inside a group never changes and a threshold in normalised units maps back to each group's raw units
(threshold × scale).

>>> scores = np.array([1.0, 2.0, 5.0])
>>> [round(scale(name, scores), 4) for name in NORMALIZERS]
[1.0, 2.6667, 5.0, 8.0]
>>> scale("median", scores)
Traceback (most recent call last):
...
ValueError: Unknown normalisation 'median'; choose one of none, mean, max, sum.
"""

from __future__ import annotations

import numpy as np

NORMALIZERS = {
    "none": lambda s: 1.0,
    "mean": lambda s: float(np.mean(s)),
    "max": lambda s: float(np.max(s)),
    "sum": lambda s: float(np.sum(s)),
}


def check_normalize(name: str) -> str:
    if name not in NORMALIZERS:
        raise ValueError(f"Unknown normalisation {name!r}; choose one of {', '.join(NORMALIZERS)}.")
    return name


def scale(name: str, scores) -> float:
    """The positive number ``name`` divides a group's ``scores`` by (1 where it would be 0, empty or not finite)."""
    value = NORMALIZERS[check_normalize(name)](np.abs(np.asarray(scores, dtype=np.float64)))
    return value if np.isfinite(value) and value > 0 else 1.0


def floor_count(size: int, min_keep: float) -> int:
    """Channels a group of ``size`` always keeps under a floor of ``min_keep`` (a share; at least one).

    >>> floor_count(64, 0.1), floor_count(3, 0.1), floor_count(10, 0.0)
    (7, 1, 1)
    """
    return max(1, int(np.ceil(min_keep * size - 1e-9)))
