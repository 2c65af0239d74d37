"""Attention heads, measured: each head's importance, which heads a per-layer count removes, and the test
accuracy as more heads go — the numbers behind the Prune page's heads heatmap.

A head's importance is the sum of its members' weight scores under the chosen criterion
(:func:`prune_core.graph.heads.head_scores`: its q/k/v(/gate) kernel slices and its rows of the output kernel).
Removing ``k`` heads per layer removes each attention layer's ``k`` lowest-scored heads (every layer keeps one).

>>> import numpy as np
>>> lowest_heads({"mha": np.array([3.0, 1.0, 2.0, 4.0])}, 2)["mha"].tolist()
[True, False, False, True]
>>> removal_sentence([HeadStep(0, 0, 8, 0.95), HeadStep(1, 2, 8, 0.94), HeadStep(2, 4, 8, 0.80)], 0.95)
'Removing 2 of 8 heads (25%) moves test accuracy from 95.00% to 94.00% (−1.00 pts); 4 of 8 (50%): 80.00% (−15.00 pts), before any fine-tuning.'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np

from ..graph.heads import head_scores, head_weight_masks
from ..methods import masks as mk
from .metrics import evaluate


@dataclass(frozen=True)
class HeadStep:
    """One point of the removal curve: ``per_layer`` heads removed from each attention layer, ``removed`` of
    ``total`` heads in all, and the masked model's test ``accuracy``."""

    per_layer: int
    removed: int
    total: int
    accuracy: float

    @property
    def share(self) -> float:
        return self.removed / self.total if self.total else 0.0


def head_table(model, weight_scores: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """{attention layer: float64 importance per head} under the criterion that gave ``weight_scores``."""
    return {name: np.asarray(v, dtype=np.float64) for name, v in head_scores(model, weight_scores).items()}


def lowest_heads(scores: Mapping[str, np.ndarray], per_layer: int) -> dict[str, np.ndarray]:
    """{layer: keep vector} removing each layer's ``per_layer`` lowest-scored heads (ties: the first index
    goes first), never its last head."""
    keep = {}
    for name, vector in scores.items():
        k = min(max(int(per_layer), 0), len(vector) - 1)
        order = np.argsort(vector, kind="stable")
        mask = np.ones(len(vector), dtype=bool)
        mask[order[:k]] = False
        keep[name] = mask
    return keep


def removal_curve(model, scores: Mapping[str, np.ndarray], x: np.ndarray, y: np.ndarray, *,
                  progress=None) -> list[HeadStep]:
    """Test accuracy with 0, 1, … heads removed from every attention layer (up to one head left in the
    smallest): one masked model per step (heads zeroed exactly, as the compact model computes).
    ``progress(fraction, text)`` is called before each step."""
    if not scores:
        return []
    total = sum(len(v) for v in scores.values())
    count = min(len(v) for v in scores.values())
    steps = []
    for per_layer in range(count):
        if progress is not None:
            progress(per_layer / count, f"Measuring test accuracy with {per_layer} head(s) removed per attention "
                                        f"layer ({per_layer + 1} of {count})…")
        keep = lowest_heads(scores, per_layer)
        kernels, extra = head_weight_masks(model, keep)
        masked = mk.apply_masks(model, mk.MaskSet(kernels=kernels, extra=extra, heads=keep, granularity="head",
                                                  effective=True))
        removed = sum(int((~m).sum()) for m in keep.values())
        steps.append(HeadStep(per_layer, removed, total, evaluate(masked, x, y).accuracy))
    return steps


def removal_sentence(steps: list[HeadStep], dense_accuracy: float) -> str:
    """One sentence: what removing a quarter and a half of the heads costs here (the classic finding — many heads
    can go with little loss — holds or not, in numbers)."""
    if len(steps) < 2:
        return "Each attention layer has a single head: there is no head to remove."
    quarter = min(steps[1:], key=lambda s: abs(s.share - 0.25))
    half = min(steps[1:], key=lambda s: abs(s.share - 0.5))
    first = (f"Removing {quarter.removed} of {quarter.total} heads ({quarter.share:.0%}) moves test accuracy from "
             f"{dense_accuracy:.2%} to {quarter.accuracy:.2%} ({_points(quarter.accuracy - dense_accuracy)})")
    if half is quarter:
        return first + ", before any fine-tuning."
    return (f"{first}; {half.removed} of {half.total} ({half.share:.0%}): {half.accuracy:.2%} "
            f"({_points(half.accuracy - dense_accuracy)}), before any fine-tuning.")


def _points(change: float) -> str:
    return f"{'+' if change >= 0 else '−'}{abs(change) * 100:.2f} pts"
