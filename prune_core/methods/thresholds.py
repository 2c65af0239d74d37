"""Threshold rules: where to cut a score array. A weight is pruned where score < threshold (strict).

The functions behind the registered rules (:mod:`prune_core.methods.rules`), each small, on a score array:

- ``coefficient``: coefficient × max(scores) (the seed's rule; coefficient in [0, 1]).
- ``sparsity``: prune exactly round(sparsity × n) entries, lowest scores first, ties broken by
  flat index (the lower index is pruned first). Partition-based (np.partition), O(n).
- ``std``: quality × std(weights) (Han et al. 2015), compared against |w|.

Scope is per layer (one threshold per layer) or global (one threshold over all layers together).
Scores are non-negative (every criterion in :mod:`prune_core.methods.signals` is).

>>> s = np.array([0.5, 0.3, 0.6, 0.2, 0.4])
>>> coefficient_threshold(s, 0.5)
0.3
>>> sparsity_mask(s, 0.4).tolist()
[True, False, True, False, True]
"""

from __future__ import annotations

import math
from typing import Mapping

import numpy as np

SCOPES = ("layer", "global")


# --- validators -------------------------------------------------------------------------------

def check_fraction(value, name: str) -> float:
    """``value`` as a float in [0, 1]; ValueError (saying what was given) otherwise.

    >>> check_fraction(0.25, "sparsity")
    0.25
    """
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"The {name} must be a number between 0 and 1, not {value!r}.") from None
    if math.isnan(number) or not 0.0 <= number <= 1.0:
        raise ValueError(f"The {name} must be between 0 and 1 (inclusive); got {value!r}.")
    return number


def check_non_negative(value, name: str) -> float:
    """``value`` as a finite float >= 0; ValueError naming ``name`` otherwise.

    >>> check_non_negative("0.5", "the quality factor")
    0.5
    """
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name[0].upper()}{name[1:]} must be a number >= 0, not {value!r}.") from None
    if not math.isfinite(number) or number < 0:
        raise ValueError(f"{name[0].upper()}{name[1:]} must be a finite number >= 0; got {value!r}.")
    return number


def check_quality(value) -> float:
    """The σ-rule's quality factor: a finite number >= 0."""
    return check_non_negative(value, "the quality factor")


THRESHOLD_RULES = ("coefficient", "sparsity", "std")  # the rules a single threshold per layer expresses


def check_rule(rule: str) -> str:
    """``rule`` if it is one of :data:`THRESHOLD_RULES`; ValueError otherwise (the N:M and block rules, say,
    are patterns, not thresholds: ask their :class:`prune_core.methods.rules.Rule` for a mask instead).

    >>> check_rule("nm")
    Traceback (most recent call last):
    ...
    ValueError: Unknown threshold rule 'nm'; a threshold exists for coefficient, sparsity, std only (a pattern rule such as N:M or blocks gives its mask through its Rule).
    """
    if rule not in THRESHOLD_RULES:
        raise ValueError(f"Unknown threshold rule {rule!r}; a threshold exists for {', '.join(THRESHOLD_RULES)} only "
                         "(a pattern rule such as N:M or blocks gives its mask through its Rule).")
    return rule


def check_scope(scope: str) -> str:
    if scope not in SCOPES:
        raise ValueError(f"Unknown scope {scope!r}; choose 'layer' or 'global'.")
    return scope


def _nonempty(scores) -> np.ndarray:
    array = np.asarray(scores)
    if array.size == 0:
        raise ValueError("Cannot compute a threshold for an empty score array.")
    return array


def _finite(value: float, what: str) -> float:
    if not math.isfinite(value):
        raise ValueError(f"The {what} is {value}: the scores contain NaN or infinite values.")
    return value


# --- the three rules --------------------------------------------------------------------------

def coefficient_threshold(scores, coefficient) -> float:
    """coefficient × max(scores). 0 prunes nothing; 1 keeps only the maximal scores.

    >>> coefficient_threshold([0.5, 0.3, 0.6, 0.2, 0.4], 1.0)
    0.6
    """
    coefficient = check_fraction(coefficient, "coefficient")
    top = _finite(float(np.max(_nonempty(scores))), "maximum score")
    return coefficient * top


def prune_count(n: int, sparsity) -> int:
    """How many of ``n`` entries a sparsity prunes: round(sparsity × n), halves rounded up.

    >>> prune_count(10, 0.25), prune_count(10, 0.0), prune_count(10, 1.0)
    (3, 0, 10)
    """
    sparsity = check_fraction(sparsity, "sparsity")
    return min(int(n), int(math.floor(sparsity * n + 0.5)))


def _check_no_nan(flat: np.ndarray) -> None:
    """ValueError if a float array holds NaN (np.max propagates NaN: one cheap pass)."""
    if flat.size and np.issubdtype(flat.dtype, np.floating) and np.isnan(np.max(flat)):
        raise ValueError("The scores contain NaN values; recompute them (did training diverge?).")


def _select(arrays: list[np.ndarray], k: int) -> tuple[list[np.ndarray], float]:
    """Keep masks (False for the k lowest entries of the arrays taken together, ties: lower position
    in layer order, then flat index, first) and the smallest kept value (just above the maximum when
    all are pruned). The cut comes from :func:`_cut_values`; NaN scores raise."""
    n = sum(a.size for a in arrays)
    if k <= 0:
        low = min(a.min() for a in arrays if a.size)
        _check_value(low)
        return [np.ones(a.shape, dtype=bool) for a in arrays], float(low)
    if k >= n:
        top = max(a.max() for a in arrays if a.size)
        _check_value(top)
        return [np.zeros(a.shape, dtype=bool) for a in arrays], float(np.nextafter(top, np.array(np.inf, top.dtype)))
    cut, smallest_kept = _cut_values(arrays, k, n)
    _check_value(smallest_kept)
    keeps = [np.greater(a, cut) for a in arrays]  # prunes the cut value and every tie with it
    restore = (n - sum(int(np.count_nonzero(m)) for m in keeps)) - k
    for a, keep in zip(reversed(arrays), reversed(keeps)):  # ties: the highest positions are kept
        if restore <= 0:
            break
        tied = np.flatnonzero(a.ravel() == cut)[-restore:]
        keep.reshape(-1)[tied] = True
        restore -= tied.size
    return keeps, float(smallest_kept)


SAMPLE_STRIDE = 64          # every 64th score estimates where the cut lies
NARROWING_MIN_SIZE = 1 << 20  # below ~1M scores one np.partition of a copy is faster


def _cut_values(arrays: list[np.ndarray], k: int, n: int) -> tuple[float, float]:
    """(k-th smallest value, (k+1)-th smallest value) over the arrays taken together, 0 < k < n.

    Small inputs: one in-place np.partition of a copy (a single kth: numpy's fast path). Large inputs:
    a strided sample brackets the cut in [lo, hi], one pass counts what lies below lo and gathers the few
    scores in [lo, hi], and only those are partitioned — exact, and about twice as fast on 26M scores.
    Falls back to the full partition when the bracket misses (it cannot give a wrong answer).
    """
    flats = [a.ravel() for a in arrays]
    if n >= NARROWING_MIN_SIZE:
        found = _cut_values_narrowed(flats, k, n)
        if found is not None:
            return found
    scratch = np.concatenate(flats)
    scratch.partition(k - 1)
    return scratch[k - 1], scratch[k:].min()  # NaN sorts last, so it shows up in this min


def _cut_values_narrowed(flats: list[np.ndarray], k: int, n: int):
    for f in flats:
        _check_no_nan(f)  # comparisons below would silently drop NaN
    sample = np.concatenate([f[::SAMPLE_STRIDE] for f in flats])
    m = sample.size
    q = (k - 0.5) / n
    margin = 6.0 * math.sqrt(m * q * (1.0 - q)) + 64
    lo_i, hi_i = max(int(q * m - margin), 0), min(int(q * m + margin), m - 1)
    sample.partition([lo_i, hi_i])
    lo, hi = sample[lo_i], sample[hi_i]
    below, candidates = 0, []
    for f in flats:
        at_least_lo = f >= lo
        below += f.size - int(np.count_nonzero(at_least_lo))
        candidates.append(np.compress(at_least_lo & (f <= hi), f))  # ~2× faster than f[mask] here
    candidates = np.concatenate(candidates)
    j = k - 1 - below
    if not 0 <= j < candidates.size:
        return None
    candidates.partition(j)
    cut = candidates[j]
    if j + 1 < candidates.size:
        return cut, candidates[j + 1:].min()
    above = [f[f > hi] for f in flats]
    above = [a for a in above if a.size]
    return cut, (min(a.min() for a in above) if above else np.nextafter(cut, np.array(np.inf, cut.dtype)))


def _check_value(value) -> None:
    if np.isnan(value):
        raise ValueError("The scores contain NaN values; recompute them (did training diverge?).")


def sparsity_select(scores, sparsity) -> tuple[np.ndarray, float]:
    """(keep mask, threshold) pruning exactly round(sparsity × n) entries, lowest first.

    Ties at the cut are broken by flat index (the lower index is pruned first). The threshold is
    the smallest kept score (see :func:`sparsity_threshold`).

    >>> keep, t = sparsity_select([0.5, 0.3, 0.6, 0.2, 0.4], 0.4)
    >>> keep.tolist(), t
    ([True, False, True, False, True], 0.4)
    """
    array = _nonempty(scores)
    (keep,), threshold = _select([array], prune_count(array.size, sparsity))
    return keep, threshold


def sparsity_mask(scores, sparsity) -> np.ndarray:
    """Keep mask (True = kept) pruning exactly round(sparsity × n) entries, lowest first.

    Ties at the cut are broken by flat index: the lower index is pruned first.

    >>> sparsity_mask([1.0, 1.0, 1.0, 1.0], 0.5).tolist()
    [False, False, True, True]
    """
    return sparsity_select(scores, sparsity)[0]


def _smallest_kept(flat: np.ndarray, k: int) -> float:
    """The smallest kept score when the k lowest are pruned (just above the max when all are)."""
    _check_no_nan(flat)
    if k >= flat.size:
        top = np.max(flat)
        return float(np.nextafter(top, np.array(np.inf, dtype=top.dtype)))
    return float(np.partition(flat, k)[k]) if k > 0 else float(np.min(flat))


def sparsity_threshold(scores, sparsity) -> float:
    """The smallest kept score when round(sparsity × n) entries are pruned.

    ``score < threshold`` then prunes exactly that many unless there are ties at the cut; for the
    exact count use :func:`sparsity_mask`. Sparsity 1 gives a value just above the maximum.

    >>> sparsity_threshold([0.5, 0.3, 0.6, 0.2, 0.4], 0.4)
    0.4
    """
    array = _nonempty(scores)
    return _smallest_kept(array.ravel(), prune_count(array.size, sparsity))


def std_threshold(weights, quality) -> float:
    """quality × std(weights) (Han et al. 2015); compare it against |w|.

    For criteria other than magnitude, pass the scores themselves (quality × std of the scores).

    >>> std_threshold([1.0, -1.0, 1.0, -1.0], 0.5)
    0.5
    """
    quality = check_quality(quality)
    return quality * global_std([_nonempty(weights)])


# --- many layers at once -----------------------------------------------------------------------

def _per_layer_value(value, names) -> dict[str, float]:
    """A float for every layer, from one float or {layer name: float} (missing names → error)."""
    if isinstance(value, Mapping):
        missing = [name for name in names if name not in value]
        if missing:
            raise ValueError(f"No threshold value given for layer(s): {', '.join(missing)}.")
        return {name: value[name] for name in names}
    return {name: value for name in names}


def global_std(arrays) -> float:
    """Population standard deviation of all entries of several arrays together (no concatenation).

    One pass in float64 over cache-sized chunks, shifted by the first entry for accuracy.

    >>> global_std([np.array([1.0, -1.0]), np.array([3.0, -3.0])]) == math.sqrt(5.0)
    True
    """
    flats = [np.asarray(a).ravel() for a in arrays]
    n = sum(f.size for f in flats)
    if n == 0:
        raise ValueError("Cannot compute a threshold for an empty score array.")
    pivot = float(next(f[0] for f in flats if f.size))
    total = squares = 0.0
    step = 1 << 17
    for flat in flats:
        for start in range(0, flat.size, step):
            chunk = flat[start:start + step].astype(np.float64)
            chunk -= pivot
            total += float(chunk.sum())
            squares += float(np.dot(chunk, chunk))
    mean = total / n
    return _finite(math.sqrt(max(squares / n - mean * mean, 0.0)), "standard deviation")


def thresholds_for(scores: Mapping[str, np.ndarray], rule: str, value, *, scope: str = "layer",
                   weights: Mapping[str, np.ndarray] | None = None) -> dict[str, float]:
    """{layer: threshold} for ``rule`` ("coefficient", "sparsity", "std") with ``value``.

    ``value`` is one float, or {layer name: float} for per-layer scope. Global scope uses one
    threshold over all layers: coefficient × global max, the std of all weights together, or the
    score of the global cut for sparsity (for the exact global count use :func:`global_sparsity_masks`).
    For the std rule, ``weights`` (when given) supply the std — pass them with magnitude scores
    (quality × std(w) compared with |w|); otherwise the std of the scores is used.

    >>> thresholds_for({"a": np.array([1., 2.]), "b": np.array([4.])}, "coefficient", 0.5, scope="global")
    {'a': 2.0, 'b': 2.0}
    """
    check_rule(rule)
    check_scope(scope)
    names = list(scores)
    if not names:
        return {}
    spread = weights if (rule == "std" and weights is not None) else scores
    if scope == "global":
        if isinstance(value, Mapping):
            raise ValueError("Global scope takes one value for all layers, not one per layer.")
        if rule == "coefficient":
            coefficient = check_fraction(value, "coefficient")
            top = _finite(max(float(np.max(_nonempty(scores[n]))) for n in names), "maximum score")
            cut = coefficient * top
        elif rule == "std":
            cut = check_quality(value) * global_std([spread[n] for n in names])
        else:
            flat = np.concatenate([np.asarray(scores[n]).ravel() for n in names])
            cut = _smallest_kept(_nonempty(flat), prune_count(flat.size, value))
        return {n: cut for n in names}
    values = _per_layer_value(value, names)
    if rule == "coefficient":
        return {n: coefficient_threshold(scores[n], values[n]) for n in names}
    if rule == "std":
        return {n: std_threshold(spread[n], values[n]) for n in names}
    return {n: sparsity_threshold(scores[n], values[n]) for n in names}


def global_sparsity_select(scores: Mapping[str, np.ndarray], sparsity) -> tuple[dict[str, np.ndarray], float]:
    """({layer: keep mask}, threshold) pruning exactly round(sparsity × N) of all N entries together.

    Lowest scores first; ties broken by position in the concatenation (layer order, then flat index).
    """
    names = list(scores)
    arrays = [np.asarray(scores[n]) for n in names]
    total = sum(a.size for a in arrays)
    if total == 0:
        raise ValueError("Cannot compute a threshold for an empty score array.")
    keeps, threshold = _select(arrays, prune_count(total, sparsity))
    return dict(zip(names, keeps)), threshold


def global_sparsity_masks(scores: Mapping[str, np.ndarray], sparsity) -> dict[str, np.ndarray]:
    """Keep masks pruning exactly round(sparsity × N) of all N entries over all layers together.

    Lowest scores first; ties broken by position in the concatenation (layer order, then flat index).

    >>> m = global_sparsity_masks({"a": np.array([3., 1.]), "b": np.array([2., 4.])}, 0.5)
    >>> m["a"].tolist(), m["b"].tolist()
    ([True, False], [False, True])
    """
    return global_sparsity_select(scores, sparsity)[0]
