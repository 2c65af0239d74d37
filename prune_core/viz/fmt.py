"""Numbers for people: percentages that never round a non-zero remainder away.

A layer with 3 of 235,146 weights kept is 99.9987% sparse; ``f"{x:.1%}"`` shows "100.0%", which reads as
"everything is gone". :func:`percent` shows "> 99.9%" instead (and "< 0.1%" for a tiny non-zero share), so
exactly 0% and exactly 100% mean exactly that.
"""

from __future__ import annotations

import math


def percent(x: float, digits: int = 1) -> str:
    """``x`` (a fraction, 0.5 = 50%) as a percentage with ``digits`` decimals, never rounded to 0% or 100%
    unless it is exactly 0 or 1.

    >>> percent(0.5), percent(0.0), percent(1.0), percent(0.99999), percent(0.00001)
    ('50.0%', '0.0%', '100.0%', '> 99.9%', '< 0.1%')
    >>> percent(0.9996, digits=2), percent(0.123456, digits=0), percent(float("nan"))
    ('99.96%', '12%', '–')
    """
    if x is None or not math.isfinite(x):
        return "–"
    text = f"{x:.{digits}%}"
    step = 10.0 ** -digits  # the smallest step shown, in percent
    edge_low, edge_high = f"{0:.{digits}%}", f"{1:.{digits}%}"
    if x > 0 and text == edge_low:
        return f"< {step:.{digits}f}%"
    if x < 1 and text == edge_high:
        return f"> {100 - step:.{digits}f}%"
    return text
