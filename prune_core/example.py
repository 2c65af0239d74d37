"""The classic five-weight teaching table, and the coefficient rule applied to it by hand-checkable numbers.

A weight is pruned where its score is strictly below ``coefficient × max(score)``.

>>> r = apply_coefficient_rule("l1", 0.5)
>>> r.threshold, r.pruned
(0.3, ('w4',))
>>> apply_coefficient_rule("sensitivity", 0.75).pruned   # threshold 0.3: w5 (0.3) is kept
('w1', 'w2', 'w4')
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .masks import keep_mask

WEIGHTS = ("w1", "w2", "w3", "w4", "w5")
ABS = (0.5, 0.3, 0.6, 0.2, 0.4)
L1_TERM = ABS  # |w| summed over one weight is |w| itself
SENSITIVITY = (0.2, 0.1, 0.4, 0.05, 0.3)
COLUMNS = {"l1": L1_TERM, "sensitivity": SENSITIVITY}
CRITERIA = tuple(COLUMNS)
# Thresholds are rounded to this many decimals so that products of short decimals land on the value a
# teacher computes by hand: in binary floats 0.75 × 0.4 is 0.30000000000000004, which would wrongly prune
# w5 (0.3) under the strict rule. Table values and coefficients have at most a few decimals, so 9 is safe.
THRESHOLD_DECIMALS = 9


def table() -> pd.DataFrame:
    """The teaching table as data: weight, abs, L1 term, sensitivity."""
    return pd.DataFrame({"weight": WEIGHTS, "abs": ABS, "L1 term": L1_TERM, "sensitivity": SENSITIVITY})


def check_coefficient(coefficient: float) -> float:
    """The coefficient as a float in [0, 1]: the coefficient rule's own validator (the same message as the
    core and the CLI give); ValueError otherwise."""
    from .rules import RULES

    return RULES["coefficient"].check(coefficient)


def check_maximum(maximum: float) -> float:
    """A finite maximum > 0, as float; else ValueError."""
    m = float(maximum)
    if not math.isfinite(m) or m <= 0:
        raise ValueError(f"The maximum score must be a finite number > 0, got {maximum!r}.")
    return m


def example_threshold(coefficient: float, maximum: float) -> float:
    """``coefficient × maximum``, rounded to THRESHOLD_DECIMALS (see there why).

    >>> example_threshold(0.75, 0.4), example_threshold(0.3, 0.6)
    (0.3, 0.18)
    """
    return round(check_coefficient(coefficient) * check_maximum(maximum), THRESHOLD_DECIMALS)


@dataclass(frozen=True)
class ExampleResult:
    """The coefficient rule applied to one column of the teaching table."""

    criterion: str
    coefficient: float
    maximum: float
    max_given: bool
    threshold: float
    pruned: tuple[str, ...]
    kept: tuple[str, ...]
    table: pd.DataFrame  # weight, abs, L1 term, sensitivity, score, pruned (bool)

    def to_dict(self) -> dict:
        """JSON-ready: threshold, pruned, kept, and each row."""
        rows = [{"weight": r["weight"], "score": float(r["score"]), "pruned": bool(r["pruned"])}
                for r in self.table.to_dict("records")]
        return {"criterion": self.criterion, "coefficient": self.coefficient, "maximum": self.maximum,
                "max_given": self.max_given, "threshold": self.threshold, "pruned": list(self.pruned),
                "kept": list(self.kept), "rows": rows}


def apply_coefficient_rule(criterion: str, coefficient: float, maximum: float | None = None) -> ExampleResult:
    """Prune where score < coefficient × max (strict) on the "l1" or "sensitivity" column.

    ``maximum`` defaults to the column's maximum; give it explicitly to see the rule against another scale.
    The threshold uses the same formula as ``thresholds.coefficient_threshold`` (and is rounded: see
    THRESHOLD_DECIMALS); kept/pruned comes from ``masks.keep_mask``, the comparison every real model goes through.

    >>> apply_coefficient_rule("l1", 0.5, maximum=1.0).pruned
    ('w2', 'w4', 'w5')
    """
    if criterion not in COLUMNS:
        raise ValueError(f"Unknown criterion {criterion!r}: use one of {', '.join(CRITERIA)}.")
    scores = np.asarray(COLUMNS[criterion], dtype=np.float64)
    max_given = maximum is not None
    top = check_maximum(maximum) if max_given else float(scores.max())
    threshold = example_threshold(coefficient, top)
    keep = np.asarray(keep_mask(scores, threshold), dtype=bool)
    frame = table()
    frame["score"] = scores
    frame["pruned"] = ~keep
    return ExampleResult(
        criterion=criterion, coefficient=float(coefficient), maximum=top, max_given=max_given, threshold=threshold,
        pruned=tuple(w for w, k in zip(WEIGHTS, keep) if not k), kept=tuple(w for w, k in zip(WEIGHTS, keep) if k),
        table=frame,
    )
