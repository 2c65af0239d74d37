"""prune_core.viz.fmt: percentages that never show a non-zero remainder as 100% nor a non-zero share as 0%."""

import pytest

from prune_core.viz.fmt import percent


@pytest.mark.parametrize("value, text", [
    (0.0, "0.0%"), (1.0, "100.0%"), (0.5, "50.0%"), (0.1234, "12.3%"),
    (1 - 3 / 266_200, "> 99.9%"),   # 3 weights kept of 266,200: not "100.0%"
    (0.9995, "> 99.9%"),            # would round up to 100.0%
    (0.9994, "99.9%"),
    (2 / 266_200, "< 0.1%"),        # 2 weights pruned: not "0.0%"
    (0.0005, "0.1%"), (0.00049, "< 0.1%"),
])
def test_percent_one_digit(value, text):
    assert percent(value) == text


def test_percent_other_digits_and_non_numbers():
    assert percent(0.99996, digits=2) == "> 99.99%" and percent(0.00001, digits=2) == "< 0.01%"
    assert percent(0.996, digits=0) == "> 99%" and percent(0.004, digits=0) == "< 1%" and percent(0.5, 0) == "50%"
    assert percent(float("nan")) == "–" and percent(None) == "–"
