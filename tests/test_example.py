"""The five-weight worked example: hand-computed answers (prune where score < coefficient × max, strict)."""

import math

import numpy as np
import pytest

from prune_core import example

# (criterion, coefficient, max or None) → (threshold, pruned). Worked by hand from the table:
#   L1 term      w1 .5  w2 .3  w3 .6  w4 .2   w5 .4   (max .6)
#   sensitivity  w1 .2  w2 .1  w3 .4  w4 .05  w5 .3   (max .4)
CASES = [
    ("l1", 0.0, None, 0.0, ()),
    ("l1", 0.1, None, 0.06, ()),
    ("l1", 0.3, None, 0.18, ()),                       # w4 = 0.2 > 0.18: kept
    ("l1", 0.4, None, 0.24, ("w4",)),
    ("l1", 0.5, None, 0.3, ("w4",)),                   # w2 = 0.3 is not < 0.3: kept (strict)
    ("l1", 0.6, None, 0.36, ("w2", "w4")),
    ("l1", 0.7, None, 0.42, ("w2", "w4", "w5")),
    ("l1", 0.9, None, 0.54, ("w1", "w2", "w4", "w5")),
    ("l1", 1.0, None, 0.6, ("w1", "w2", "w4", "w5")),  # only the maximum survives
    ("sensitivity", 0.1, None, 0.04, ()),
    ("sensitivity", 0.2, None, 0.08, ("w4",)),
    ("sensitivity", 0.25, None, 0.1, ("w4",)),         # w2 = 0.1 on the boundary: kept
    ("sensitivity", 0.3, None, 0.12, ("w2", "w4")),
    ("sensitivity", 0.5, None, 0.2, ("w2", "w4")),     # w1 = 0.2 on the boundary: kept
    ("sensitivity", 0.75, None, 0.3, ("w1", "w2", "w4")),  # 0.75 × 0.4 is 0.30000000000000004 in floats
    ("sensitivity", 0.8, None, 0.32, ("w1", "w2", "w4", "w5")),
    ("sensitivity", 1.0, None, 0.4, ("w1", "w2", "w4", "w5")),
    ("l1", 0.5, 1.0, 0.5, ("w2", "w4", "w5")),         # explicit max: w1 = 0.5 kept
    ("l1", 0.75, 0.4, 0.3, ("w4",)),                   # explicit max below the column's
    ("sensitivity", 0.1, 1.0, 0.1, ("w4",)),
    ("sensitivity", 0.5, 0.1, 0.05, ()),               # w4 = 0.05 on the boundary: kept
]


@pytest.mark.parametrize("criterion, coefficient, maximum, threshold, pruned", CASES)
def test_hand_computed_answers(criterion, coefficient, maximum, threshold, pruned):
    result = example.apply_coefficient_rule(criterion, coefficient, maximum)
    assert result.threshold == threshold
    assert result.pruned == pruned
    assert result.kept == tuple(w for w in example.WEIGHTS if w not in pruned)
    assert result.maximum == (maximum if maximum is not None else max(example.COLUMNS[criterion]))


def test_table_frame():
    result = example.apply_coefficient_rule("sensitivity", 0.5)
    frame = result.table
    assert list(frame.columns) == ["weight", "abs", "L1 term", "sensitivity", "score", "pruned"]
    assert frame["weight"].tolist() == ["w1", "w2", "w3", "w4", "w5"]
    assert frame["abs"].tolist() == [0.5, 0.3, 0.6, 0.2, 0.4]
    assert frame["L1 term"].tolist() == frame["abs"].tolist()
    assert frame["score"].tolist() == [0.2, 0.1, 0.4, 0.05, 0.3]
    assert frame["pruned"].tolist() == [False, True, False, True, False]


def test_to_dict_is_json_ready():
    d = example.apply_coefficient_rule("l1", 0.6).to_dict()
    assert d["threshold"] == 0.36 and d["pruned"] == ["w2", "w4"] and d["kept"] == ["w1", "w3", "w5"]
    assert [r["pruned"] for r in d["rows"]] == [False, True, False, True, False]


@pytest.mark.parametrize("coefficient", [0.0, 0.1, 0.3, 0.5, 0.75, 1.0])
@pytest.mark.parametrize("criterion", example.CRITERIA)
def test_threshold_agrees_with_the_core_rule(criterion, coefficient):
    """Same formula as the app's thresholds.coefficient_threshold (the example only rounds float noise away)."""
    from prune_core.thresholds import coefficient_threshold

    core = coefficient_threshold(np.asarray(example.COLUMNS[criterion], dtype=np.float64), coefficient)
    assert example.apply_coefficient_rule(criterion, coefficient).threshold == pytest.approx(float(core), abs=1e-6)


@pytest.mark.parametrize("kwargs", [
    dict(criterion="l2", coefficient=0.5),
    dict(criterion="l1", coefficient=-0.1),
    dict(criterion="l1", coefficient=math.nan),
    dict(criterion="l1", coefficient=math.inf),
    dict(criterion="l1", coefficient=1.5),          # the coefficient is in [0, 1] everywhere (issue 10)
    dict(criterion="l1", coefficient=2.0, maximum=0.2),
    dict(criterion="l1", coefficient=0.5, maximum=0.0),
    dict(criterion="l1", coefficient=0.5, maximum=-1.0),
    dict(criterion="l1", coefficient=0.5, maximum=math.nan),
])
def test_bad_arguments_raise(kwargs):
    with pytest.raises(ValueError):
        example.apply_coefficient_rule(**kwargs)


def test_coefficient_is_refused_with_the_core_rules_message():
    from prune_core import RULES
    with pytest.raises(ValueError) as core:
        RULES["coefficient"].check(1.5)
    with pytest.raises(ValueError) as here:
        example.apply_coefficient_rule("l1", 1.5)
    assert str(here.value) == str(core.value) == "The coefficient must be between 0 and 1 (inclusive); got 1.5."
