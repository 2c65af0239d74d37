"""Every position of a pruning slider, computed once, so a browser can redraw a move without the server.

A slider has a finite set of positions: its rule's range in its step (101 for a coefficient from 0 to 1 in 0.01).
:func:`slider_table` asks for the masks at each position — the same ``prune_core.select`` call a server rerun
makes — and keeps what the Prune page draws from them: each layer's kept kernel weights and threshold, the units
removed, and each histogram's kept count per bin. The browser then only looks numbers up and adds them, so what it
shows is prune_core's own numbers, exactly, for every position (no sketch, no bound). A value typed between two
positions snaps to the nearest one, as Streamlit's slider does.

Layers are independent of each other's slider under per-layer scope with weight granularity, so one table per
position serves a slider per layer; whole neurons/filters (a layer also loses the input rows its upstream group
removes) and global scope need one shared slider.

>>> import numpy as np
>>> from prune_core.methods.masks import MaskSet
>>> from prune_core.measure.preview import bin_values
>>> w = np.array([0.1, -0.2, 0.4, -0.8])
>>> def masks_at(c):  # the coefficient rule on |w|
...     t = c * 0.8
...     return MaskSet(kernels={"d": np.abs(w) >= t}, thresholds={"d": t})
>>> table = slider_table(masks_at, np.array([0.0, 0.5, 1.0]),
...                      {"d": Histogram(bin_values(w, np.array([-1.0, 0.0, 1.0])), "kernels")})
>>> table.kept["d"].tolist(), table.bin_kept["d"].tolist()
([4, 2, 1], [[2, 2, 0], [1, 1, 0], [1, 0, 0]])
"""

from __future__ import annotations

import base64
import zlib
from dataclasses import dataclass, field
from typing import Callable, Mapping

import numpy as np

from ..methods import masks as mk
from .preview import Binned


def slider_grid(low: float, high: float, step: float) -> np.ndarray:
    """The positions of a slider from ``low`` to ``high`` in ``step`` (rounded: 0.3, not 0.30000000000000004).

    >>> slider_grid(0.0, 1.0, 0.25).tolist(), len(slider_grid(0.0, 1.0, 0.01)), float(slider_grid(0.0, 1.0, 0.01)[30])
    ([0.0, 0.25, 0.5, 0.75, 1.0], 101, 0.3)
    """
    count = int(round((high - low) / step))
    return np.round(low + step * np.arange(count + 1), 10)


def nearest_position(grid: np.ndarray, value: float) -> int:
    """The index of the grid position closest to ``value`` (a typed or URL value between two positions).

    >>> nearest_position(np.array([0.0, 0.5, 1.0]), 0.7), nearest_position(np.array([0.0, 0.5, 1.0]), 9.0)
    (1, 2)
    """
    return int(np.argmin(np.abs(np.asarray(grid, dtype=float) - float(value))))


@dataclass(frozen=True)
class Histogram:
    """One drawn histogram: values binned once, and which masks split it — a layer's ``"kernels"`` mask, or a
    group's ``"units"`` vector (importance scores of whole neurons/filters)."""

    binned: Binned
    source: str = "kernels"


@dataclass
class SliderTable:
    """prune_core's numbers at every slider position (``grid``, in the units the slider shows).

    ``kept[layer][i]``: kernel weights kept at position i (of ``totals[layer]``); ``thresholds[layer][i]``: the
    layer's (or group's) threshold, NaN where it has none; ``units_kept[i]`` of ``units_total``: neurons/filters
    kept over the groups that can lose any (unit masks only); ``bin_kept[name][i, b]``: kept entries in bin b of
    that histogram (the last column counts what cannot be drawn, e.g. zero scores on a log axis).
    """

    grid: np.ndarray
    totals: dict[str, int]
    kept: dict[str, np.ndarray]
    thresholds: dict[str, np.ndarray]
    units_kept: np.ndarray | None = None
    units_total: int = 0
    bin_kept: dict[str, np.ndarray] = field(default_factory=dict)


def slider_table(masks_at: Callable[[float], mk.MaskSet], grid: np.ndarray,
                 histograms: Mapping[str, Histogram] | None = None,
                 progress: Callable[[int, int], None] | None = None) -> SliderTable:
    """Run ``masks_at(value)`` at every grid position and keep what the page draws (see :class:`SliderTable`).

    ``histograms``: {name: Histogram}, a kernel (``source="kernels"``) or a unit group (``"units"``);
    ``progress(done, total)`` is called after each position.
    """
    histograms = dict(histograms or {})
    grid = np.asarray(grid, dtype=float)
    count = len(grid)
    kept: dict[str, np.ndarray] = {}
    cuts: dict[str, np.ndarray] = {}
    totals: dict[str, int] = {}
    units_kept = np.zeros(count, dtype=np.int64)
    units_total = 0
    bin_kept = {name: np.zeros((count, len(h.binned.edges)), dtype=np.int64) for name, h in histograms.items()}
    for i, value in enumerate(grid):
        mask_set = masks_at(float(value))
        for name, keep in mask_set.kernels.items():
            if name not in kept:
                kept[name] = np.zeros(count, dtype=np.int64)
                totals[name] = int(np.size(keep))
            kept[name][i] = int(np.count_nonzero(keep))
        for name, threshold in mask_set.thresholds.items():
            cuts.setdefault(name, np.full(count, np.nan))[i] = np.nan if threshold is None else float(threshold)
        units_kept[i], units_total = mask_set.unit_counts
        for name, hist in histograms.items():
            keep = (mask_set.units if hist.source == "units" else mask_set.kernels)[name]
            bins = len(hist.binned.edges)
            bin_kept[name][i] = np.bincount(hist.binned.index, weights=np.ravel(keep), minlength=bins)[:bins]
        if progress is not None:
            progress(i + 1, count)
    has_units = units_total > 0
    return SliderTable(grid=grid, totals=totals, kept=kept, thresholds=cuts,
                       units_kept=units_kept if has_units else None, units_total=units_total, bin_kept=bin_kept)


def packed(counts: np.ndarray) -> str:
    """Non-negative integer counts as base64 of zlib-deflated little-endian uint32 (a browser inflates them
    with ``DecompressionStream("deflate")``): a slider's 101 × 61 bin counts are mostly runs of 0 and the totals.

    >>> unpacked(packed(np.array([[0, 3], [70000, 0]])), (2, 2)).tolist()
    [[0, 3], [70000, 0]]
    """
    counts = np.asarray(counts)
    if counts.size and (counts.min() < 0 or counts.max() > np.iinfo(np.uint32).max):
        raise ValueError("counts must fit in uint32")
    return _deflated(counts.astype("<u4").tobytes())


def packed_floats(values: np.ndarray) -> str:
    """Floats as float32, packed like :func:`packed` (the browser reads them as a ``Float32Array``).

    >>> np.frombuffer(zlib.decompress(base64.b64decode(packed_floats(np.array([0.5, -2.0])))), "<f4").tolist()
    [0.5, -2.0]
    """
    return _deflated(np.asarray(values, dtype="<f4").tobytes())


def _deflated(data: bytes) -> str:
    return base64.b64encode(zlib.compress(data, 9)).decode("ascii")


def unpacked(text: str, shape: tuple[int, ...]) -> np.ndarray:
    """The inverse of :func:`packed`."""
    return np.frombuffer(zlib.decompress(base64.b64decode(text)), dtype="<u4").reshape(shape).astype(np.int64)
