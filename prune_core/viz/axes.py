"""Shared axis helpers: ticks chosen from the data, so labels are distinct and readable (percent axes, log
axes with plain-unit labels, the model-size axis). Numbers and dicts only; no plotly import.
"""

from __future__ import annotations

import numpy as np

def _nice_step(raw: float) -> float:
    """The smallest of 1, 2, 5 × 10^k that is ≥ raw (raw > 0)."""
    power = 10.0 ** np.floor(np.log10(raw))
    for m in (1.0, 2.0, 5.0, 10.0):
        if m * power >= raw * (1 - 1e-9):
            return float(f"{m * power:.12g}")
    return float(10 * power)


def percent_axis(values, *, ticks: int = 5, pad: float = 0.08, min_span: float = 1.0) -> dict:
    """Axis settings for values already in % (0–100): a range snug around the values, a 1-2-5 ``dtick`` giving
    about ``ticks`` ticks, and a ``tickformat`` with just enough decimals that no two labels read the same.

    ``values``: every number the axis must show (points and reference lines; None and NaN are ignored).
    A span under ``min_span`` points is widened around its middle, so one value still gets an axis.

    >>> axis = percent_axis([96.1, 97.4])
    >>> axis
    {'range': [95.996, 97.504], 'dtick': 0.5, 'tick0': 0, 'tickformat': '.1f', 'ticksuffix': '%'}
    >>> percent_tick_labels(axis)
    ['96.0%', '96.5%', '97.0%', '97.5%']
    """
    finite = [float(v) for v in values if v is not None and np.isfinite(v)]
    low, high = (min(finite), max(finite)) if finite else (0.0, 100.0)
    if high - low < min_span:
        middle = (low + high) / 2
        low, high = middle - min_span / 2, middle + min_span / 2
    margin = (high - low) * pad
    low, high = low - margin, high + margin
    step = _nice_step((high - low) / ticks)
    if finite and min(finite) >= 0 and low < 0:
        low = max(low, -0.5 * step)  # no tick below 0% on an axis of shares
    decimals = max(0, int(-np.floor(np.log10(step) + 1e-9)))
    return dict(range=[round(low, 6), round(high, 6)], dtick=step, tick0=0, tickformat=f".{decimals}f",
                ticksuffix="%")


def percent_tick_labels(axis: dict) -> list[str]:
    """The tick labels an axis from :func:`percent_axis` shows (what plotly draws, for tests and checks)."""
    low, high = axis["range"]
    step, decimals = axis["dtick"], int(axis["tickformat"][1:-1])
    first, last = int(np.ceil(low / step - 1e-9)), int(np.floor(high / step + 1e-9))
    return [f"{k * step:.{decimals}f}{axis.get('ticksuffix', '')}" for k in range(first, last + 1)]


FULL_PERCENT = dict(tickvals=[0, 20, 40, 60, 80, 100], ticktext=[f"{v}%" for v in (0, 20, 40, 60, 80, 100)])


def _number_text(value: float) -> str:
    """A tick value with at most 3 significant figures and no float noise: 0.002, 50, 1e-05 → 1e-5."""
    text = f"{value:.3g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        text = f"{mantissa}e{int(exponent)}"
    return text


def _exponent_text(value: float) -> str:
    """2e-3, 1e-6, 5e4, 1 (up to 3 significant figures, no zero-padded exponent)."""
    mantissa, exponent = f"{value:.2e}".split("e")
    return f"{float(mantissa):g}" + (f"e{int(exponent)}" if int(exponent) else "")


def plain_units(value: float, unit: str = "") -> str:
    """Counts as 950, 20k, 1.5M, 2G; with ``unit="B"`` bytes as 950 B, 20 kB, 1.5 MB, 2 GB.

    >>> [plain_units(v) for v in (500, 2000, 50_000, 1_000_000)], plain_units(20_000, "B")
    (['500', '2k', '50k', '1M'], '20 kB')
    """
    for factor, prefix in ((1e9, "G"), (1e6, "M"), (1e3, "k"), (1.0, "")):
        if abs(value) >= factor or factor == 1.0:
            number = _number_text(value / factor)
            if unit:
                return f"{number} {prefix}{unit}"
            return number + prefix
    return str(value)  # pragma: no cover


def log_ticks(low: float, high: float, *, min_ticks: int = 3, max_ticks: int = 8, label=None) -> tuple[list, list]:
    """Tick positions (log10 units) and labels for a log axis spanning 10**low … 10**high.

    Decades when there are at least ``min_ticks`` of them (thinned to ``max_ticks``), else 1-2-5 steps, else
    1…9 per decade, else round values at an even step with as many digits as it takes to tell them apart — so
    an axis always has labelled ticks, also across less than one decade. ``label(value)`` writes a label
    (default: 0.002 / 5e-5 style, see :func:`_number_text`).

    >>> log_ticks(-3.0, -1.3)[1]
    ['0.001', '0.002', '0.005', '0.01', '0.02', '0.05']
    """
    label = label or _number_text
    eps = 1e-9

    def at(mantissas):
        found = [k + float(np.log10(m)) for k in range(int(np.floor(low)), int(np.ceil(high)) + 1) for m in mantissas]
        return [t for t in found if low - eps <= t <= high + eps]

    def done(positions):
        values = [_round_sig(float(10 ** t)) for t in positions]
        if label is _number_text and not all(1e-3 <= v < 1e4 for v in values):
            return [float(t) for t in positions], [_exponent_text(v) for v in values]  # one style per axis
        return [float(t) for t in positions], [label(v) for v in values]

    decades = at((1,))
    if len(decades) > max_ticks:
        stride = int(np.ceil(len(decades) / max_ticks))
        decades = [t for t in decades if round(t) % stride == 0]
    if len(decades) >= min_ticks:
        return done(decades)
    steps = at((1, 2, 5))
    if min_ticks <= len(steps) <= max_ticks:
        return done(steps)
    if len(decades) >= 2:
        return done(decades)
    if len(steps) >= 2:
        return done(steps)
    ones = at(range(1, 10))
    if len(ones) >= 2:
        return done(ones)
    # Inside one step of 1…9: evenly spaced round values (a 1-2-5 step in value units), at least two.
    lo, hi = float(10 ** low), float(10 ** high)
    if not hi > lo:  # one value (a constant score): one tick at it
        return [float(low)], [_number_text(lo)]
    step = _nice_step((hi - lo) / 3)
    for _ in range(60):
        first, last = int(np.ceil(lo / step - eps)), int(np.floor(hi / step + eps))
        if last - first >= 1:
            break
        step = float(f"{step * (0.4 if f'{step:e}'[0] == '5' else 0.5):.12g}")  # next smaller: 5 → 2 → 1 → 0.5
    values = [k * step for k in range(first, last + 1)]
    decimals = max(0, int(-np.floor(np.log10(step) + 1e-9)))
    if 1e-4 <= max(values) < 1e5:
        texts = [f"{v:.{decimals}f}" for v in values]
    else:
        digits = int(np.floor(np.log10(max(values)))) - int(np.floor(np.log10(step) + 1e-9)) + 1
        texts = [f"{v:.{max(digits, 1) - 1}e}" for v in values]
        texts = [f"{t.split('e')[0]}e{int(t.split('e')[1])}" for t in texts]  # 5.0118e-10, 5.0119e-10
    return [float(np.log10(v)) for v in values], texts


def _round_sig(value: float, digits: int = 6) -> float:
    return float(f"{value:.{digits}g}")


def size_axis(sizes, x: str = "nonzero_params") -> dict:
    """A log size axis labelled in plain units at clean 1-2-5 ticks only (20k, 50k, 100k, 1M; kB/MB for
    ``x="gzip_kb"``, whose values are kB), with a range a little wider than the sizes. Empty: no settings."""
    finite = [float(v) for v in sizes if v is not None and np.isfinite(v) and v > 0]
    if not finite:
        return {}
    low, high = float(np.log10(min(finite))), float(np.log10(max(finite)))
    pad = max(0.08, 0.06 * (high - low))
    low, high = low - pad, high + pad
    scale, unit = (1000.0, "B") if x == "gzip_kb" else (1.0, "")
    ticks, labels = log_ticks(low, high, min_ticks=4, max_ticks=10, label=lambda v: plain_units(v * scale, unit))
    return dict(range=[round(low, 6), round(high, 6)], tickvals=[_round_sig(10 ** t) for t in ticks],
                ticktext=labels)
