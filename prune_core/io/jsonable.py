"""One JSON-cleaning helper: numpy scalars and arrays, tuples, sets and paths → plain Python.

>>> to_jsonable({"a": np.float32(0.5), "b": (np.arange(2), {1, 2})})
{'a': 0.5, 'b': [[0, 1], [1, 2]]}
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def json_default(obj):
    """``json.dumps(default=...)`` fallback: numpy scalars and arrays, sets, tuples, paths; TypeError otherwise."""
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, (set, frozenset, tuple)):
        return list(obj)
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"A record cannot hold a {type(obj).__name__} (only numbers, text, lists and dicts).")


def to_jsonable(obj):
    """``obj`` with every numpy value, tuple and set turned into plain Python, recursively (NaN stays a float)."""
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set, frozenset)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, (np.generic, np.ndarray, Path)):
        return json_default(obj)
    return obj
