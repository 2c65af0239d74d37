"""The rule registry: where to cut a set of scores. One small class per rule.

A :class:`Rule` validates its value (one validator, used by the core, the CLI, the worked example and
the sliders), says how a slider shows it (range, step, unit), and turns score arrays into keep masks
(True = kept) plus the threshold per layer. A weight is pruned where its score is strictly below the
threshold; rules with ``exact_count`` prune exactly round(value × n) entries, ties broken by position.

>>> sorted(RULES)
['block', 'coefficient', 'nm', 'per-output', 'sparsity', 'std']
>>> masks, cut = RULES["coefficient"].select({"d": np.array([0.5, 0.3, 0.6, 0.2, 0.4])}, 0.5)
>>> masks["d"].tolist(), cut
([True, True, True, False, True], {'d': 0.3})
>>> RULES["sparsity"].check(1.5)
Traceback (most recent call last):
...
ValueError: The sparsity must be between 0 and 1 (inclusive); got 1.5.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

from . import thresholds as th
from .registry import Registry


class Rule:
    """One threshold rule. Subclasses set the attributes and implement :meth:`check` and :meth:`select`.

    ``low``/``high``/``step``/``default``: the value's range for a slider, in the rule's own units;
    ``display_scale`` and ``unit``: how a person reads it (sparsity 0.5 is shown as 50 %);
    ``exact_count``: the rule prunes an exact number of entries (ties broken by position);
    ``granularities``: what it can prune ("weight", "unit"; rules that need the kernel layout prune weights
    only); ``choices``: for a value that is not a number on a slider ("2:4"), the allowed values — the UI
    offers a select box and the CLI takes the text. ``local_pattern``: the rule keeps a pattern local to each
    output unit or block (N:M, blocks, per output), decided layer by layer — it cannot prune to one model-wide
    sparsity, and a layer's "threshold" is its lowest kept score.
    """

    name: str = ""
    label: str = ""
    explanation: str = ""
    citation: str = ""
    low: float = 0.0
    high: float = 1.0
    step: float = 0.01
    default: float = 0.5
    display_scale: float = 1.0
    unit: str = ""
    exact_count: bool = False
    granularities: tuple[str, ...] = ("weight", "unit")
    choices: tuple | None = None
    local_pattern: bool = False

    def check(self, value) -> float:
        """``value`` as a float if this rule accepts it; ValueError with a user-facing message otherwise."""
        raise NotImplementedError

    def select_layer(self, scores: np.ndarray, value: float, weights: np.ndarray | None = None):
        """(keep mask, threshold) for ONE score array and one checked value: all a new rule must write."""
        raise NotImplementedError

    def select(self, scores: Mapping[str, np.ndarray], value, *, scope: str = "layer",
               weights: Mapping[str, np.ndarray] | None = None) -> tuple[dict, dict]:
        """({layer: keep mask}, {layer: threshold}) for score arrays (kernels or unit vectors).

        ``value``: one float, or {layer: float} for per-layer scope. ``weights``: for rules that measure
        the spread of the weights rather than of the scores (see :attr:`Criterion.spread_from_weights`).
        By default each layer goes through :meth:`select_layer`; global scope runs it once on all scores
        together and splits the mask back per layer.
        """
        value = _check_scoped(self, scores, value, scope)
        names = list(scores)
        if scope == "global":
            if not names:
                return {}, {}
            flat = np.concatenate([np.asarray(scores[n]).ravel() for n in names])
            spread = np.concatenate([np.asarray(weights[n]).ravel() for n in names]) if weights else None
            keep, cut = self.select_layer(flat, value, spread)
            bounds = np.cumsum([0] + [np.size(scores[n]) for n in names])
            return ({n: np.asarray(keep)[bounds[i]:bounds[i + 1]].reshape(np.shape(scores[n]))
                     for i, n in enumerate(names)}, {n: float(cut) for n in names})
        values = value if isinstance(value, dict) else {n: value for n in names}
        chosen = {n: self.select_layer(np.asarray(scores[n]), values[n], None if weights is None else weights[n])
                  for n in names}
        return {n: k for n, (k, _) in chosen.items()}, {n: float(t) for n, (_, t) in chosen.items()}

    # --- how a slider shows the value ---------------------------------------------------------
    def to_display(self, value: float) -> float:
        return value if self.choices else float(value) * self.display_scale

    def from_display(self, shown: float) -> float:
        return shown if self.choices else float(shown) / self.display_scale

    @property
    def slider(self) -> tuple[float, float, float, float]:
        """(min, max, step, default) as the slider shows them."""
        return tuple(self.to_display(v) for v in (self.low, self.high, self.step, self.default))

    @property
    def display_format(self) -> str:
        """printf-style format for the slider (Streamlit's ``format=``)."""
        return "%d%%" if self.unit == "%" else "%.2f"

    def describe(self, value: float) -> str:
        """The value as a person reads it: '50%', '0.30'."""
        if self.choices:
            return str(value)
        shown = self.to_display(value)
        return f"{shown:g}%" if self.unit == "%" else f"{shown:.2f}"

    def __repr__(self) -> str:
        return f"<Rule {self.name!r}: {self.label}>"


def _check_scoped(rule: Rule, scores, value, scope: str):
    """Per-layer values checked by the rule; global scope takes one value."""
    th.check_scope(scope)
    if isinstance(value, Mapping):
        if scope == "global":
            raise ValueError("Global scope takes one value for all layers, not one per layer.")
        return {n: rule.check(v) for n, v in th._per_layer_value(value, list(scores)).items()}
    return rule.check(value)


RULES = Registry("rule", "threshold rule", Rule)


class Coefficient(Rule):
    name = "coefficient"
    label = "coefficient × max score"
    explanation = ("Prune where score < coefficient × the largest score (of the layer, or of all layers with "
                   "global scope): the classic rule; 0 prunes nothing, 1 keeps only the maximum.")
    default = 0.3

    def check(self, value) -> float:
        return th.check_fraction(value, "coefficient")

    def select(self, scores, value, *, scope="layer", weights=None):
        value = _check_scoped(self, scores, value, scope)
        cuts = th.thresholds_for(scores, "coefficient", value, scope=scope)
        return {n: np.asarray(s) >= cuts[n] for n, s in scores.items()}, cuts


class Sparsity(Rule):
    name = "sparsity"
    label = "target sparsity (%)"
    explanation = "Prune exactly that share of the entries, lowest scores first (ties: lower position first)."
    default = 0.5
    display_scale = 100.0
    unit = "%"
    exact_count = True

    def check(self, value) -> float:
        return th.check_fraction(value, "sparsity")

    def select(self, scores, value, *, scope="layer", weights=None):
        value = _check_scoped(self, scores, value, scope)
        if not scores:
            return {}, {}
        if scope == "global":
            masks, cut = th.global_sparsity_select(scores, value)
            return masks, {n: cut for n in scores}
        values = value if isinstance(value, dict) else {n: value for n in scores}
        selected = {n: th.sparsity_select(s, values[n]) for n, s in scores.items()}
        return {n: m for n, (m, _) in selected.items()}, {n: t for n, (_, t) in selected.items()}


class Std(Rule):
    name = "std"
    label = "quality × σ"
    explanation = ("Prune where score < quality × the standard deviation (of the weights for magnitude, as in "
                   "Han et al. 2015; of the scores otherwise).")
    citation = "Han et al. 2015, Learning both Weights and Connections for Efficient Neural Networks"
    high = 3.0
    step = 0.05
    default = 1.0

    def check(self, value) -> float:
        return th.check_quality(value)

    def select(self, scores, value, *, scope="layer", weights=None):
        value = _check_scoped(self, scores, value, scope)
        cuts = th.thresholds_for(scores, "std", value, scope=scope, weights=weights)
        return {n: np.asarray(s) >= cuts[n] for n, s in scores.items()}, cuts


# --- rules that need the kernel layout: blocks along the input axis of each output unit -------------------

def input_rows(kernel_shaped: np.ndarray) -> np.ndarray:
    """The array as rows of input weights, one row per (output unit, kernel position): the input axis (-2)
    moved last and everything else flattened. Dense (in, out) → (out, in); Conv2D (kh, kw, cin, cout) →
    (kh·kw·cout, cin). :func:`from_input_rows` undoes it.

    >>> input_rows(np.arange(6).reshape(3, 2)).tolist()
    [[0, 2, 4], [1, 3, 5]]
    """
    a = np.asarray(kernel_shaped)
    if a.ndim < 2:
        raise ValueError("This rule needs kernel-shaped scores (at least 2 axes: inputs × outputs); "
                         f"got shape {a.shape}. It prunes weights, not whole units.")
    return np.moveaxis(a, -2, -1).reshape(-1, a.shape[-2])


def from_input_rows(rows: np.ndarray, shape: tuple) -> np.ndarray:
    moved = list(shape[:-2]) + [shape[-1], shape[-2]]
    return np.moveaxis(np.asarray(rows).reshape(moved), -1, -2)


def prune_lowest_per_row(rows: np.ndarray, counts) -> np.ndarray:
    """Keep mask of ``rows`` pruning the ``counts`` (per row, or one number) lowest entries of each row; ties:
    the lower position is pruned first.

    >>> prune_lowest_per_row(np.array([[3., 1., 1., 2.], [0., 5., 4., 4.]]), 2).tolist()
    [[True, False, False, True], [False, True, False, True]]
    """
    rows = np.asarray(rows)
    order = np.argsort(rows, axis=1, kind="stable")  # ties keep position order: lower index first
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(rows.shape[1])[None, :].repeat(rows.shape[0], 0), axis=1)
    return rank >= np.broadcast_to(np.asarray(counts).reshape(-1, 1), (rows.shape[0], 1))


def _lowest_kept(scores, keep) -> float:
    kept = np.asarray(scores)[np.asarray(keep)]
    return float(kept.min()) if kept.size else float(np.max(scores)) if np.size(scores) else 0.0


class PerOutput(Rule):
    name = "per-output"
    local_pattern = True
    label = "sparsity per output unit (%)"
    explanation = ("Prune exactly that share of each output unit's incoming weights (per neuron, per filter and "
                   "kernel position), lowest scores first: Wanda's comparison group. Scope does not change it.")
    citation = "Sun et al. 2023, A Simple and Effective Pruning Approach for Large Language Models"
    default = 0.5
    display_scale = 100.0
    unit = "%"
    exact_count = True
    granularities = ("weight",)

    def check(self, value) -> float:
        return th.check_fraction(value, "sparsity")

    def select_layer(self, scores, value, weights=None):
        rows = input_rows(scores)
        keep = prune_lowest_per_row(rows, int(round(value * rows.shape[1])))
        keep = from_input_rows(keep, np.shape(scores))
        return keep, _lowest_kept(scores, keep)

    def select(self, scores, value, *, scope="layer", weights=None):
        return _each_layer(self, scores, value, scope)


def _each_layer(rule: Rule, scores, value, scope):
    """Layer by layer whatever the scope (the pattern is local to each output unit)."""
    th.check_scope(scope)
    if isinstance(value, Mapping) and scope == "global":
        raise ValueError("Global scope takes one value for all layers, not one per layer.")
    values = {n: rule.check(v) for n, v in th._per_layer_value(value, list(scores)).items()} \
        if isinstance(value, Mapping) else {n: rule.check(value) for n in scores}
    chosen = {n: rule.select_layer(np.asarray(scores[n]), values[n]) for n in scores}
    return {n: k for n, (k, _) in chosen.items()}, {n: float(t) for n, (_, t) in chosen.items()}


def parse_nm(value) -> tuple[int, int]:
    """(N, M) from "2:4" (or a (2, 4) pair); ValueError naming the accepted form otherwise.

    >>> parse_nm("2:4"), parse_nm(" 1 : 4 ")
    ((2, 4), (1, 4))
    """
    if isinstance(value, (tuple, list)) and len(value) == 2:
        n, m = value
    else:
        text = str(value)
        n, sep, m = text.partition(":")
        if not sep:
            raise ValueError(f"N:M sparsity is written N:M, e.g. 2:4 (keep 2 of every 4); got {value!r}.")
    try:
        n, m = int(str(n).strip()), int(str(m).strip())
    except ValueError:
        raise ValueError(f"N:M sparsity is written N:M with whole numbers, e.g. 2:4; got {value!r}.") from None
    if not 1 <= n < m:
        raise ValueError(f"N:M sparsity keeps N of every M weights with 1 <= N < M; got {value!r}.")
    return n, m


class NM(Rule):
    """N:M semi-structured sparsity: in every block of M consecutive input weights of an output unit (Dense:
    down each kernel column; convolutions: along the input channels at each kernel position and filter), keep
    the N highest scores; ties: the lower position is pruned first. A trailing block of r < M weights (an input
    size that is not a multiple of M) keeps ceil(N·r / M), so no block ever holds more than N of M."""

    name = "nm"
    local_pattern = True
    label = "N:M semi-structured"
    explanation = ("In every block of M consecutive input weights of each neuron/filter keep the N best: 2:4 is "
                   "what NVIDIA's sparse tensor cores run (50%). Weights only; scope does not change it.")
    citation = "Mishra et al. 2021, Accelerating Sparse Deep Neural Networks (NVIDIA Ampere 2:4 sparsity)"
    choices = ("2:4", "1:4", "4:8")
    default = "2:4"
    granularities = ("weight",)

    def check(self, value) -> str:
        n, m = parse_nm(value)
        text = f"{n}:{m}"
        if text not in self.choices:
            raise ValueError(f"N:M sparsity {text} is not offered; choose one of {', '.join(self.choices)}.")
        return text

    def select_layer(self, scores, value, weights=None):
        n, m = parse_nm(value)
        keep = nm_keep(scores, n, m)
        return keep, _lowest_kept(scores, keep)

    def select(self, scores, value, *, scope="layer", weights=None):
        return _each_layer(self, scores, value, scope)


def nm_keep(scores, n: int, m: int) -> np.ndarray:
    """Keep mask: the N best of every M consecutive input weights of each output unit.

    >>> nm_keep(np.array([[4.], [1.], [3.], [2.], [1.], [1.]]), 2, 4).ravel().tolist()
    [True, False, True, False, False, True]
    """
    scores = np.asarray(scores)
    rows = input_rows(scores)
    width = rows.shape[1]
    blocks = -(-width // m)
    padded = np.full((rows.shape[0], blocks * m), np.inf, dtype=np.float64)
    padded[:, :width] = rows
    grouped = padded.reshape(-1, m)
    sizes = np.full(grouped.shape[0], m).reshape(rows.shape[0], blocks)
    sizes[:, -1] = width - (blocks - 1) * m
    kept = -(-n * sizes // m)  # ceil(N·r / M): N for full blocks
    prune = (sizes - kept).reshape(-1)
    keep = prune_lowest_per_row(grouped, prune).reshape(rows.shape[0], blocks * m)[:, :width]
    return from_input_rows(keep, scores.shape)


def nm_pattern_holds(keep, n: int, m: int) -> bool:
    """True when every full block of M consecutive input weights of every output unit keeps exactly N (and a
    trailing partial block of r keeps ceil(N·r/M)): the check behind the N:M rule."""
    rows = input_rows(np.asarray(keep, dtype=bool))
    width = rows.shape[1]
    for start in range(0, width, m):
        r = min(m, width - start)
        if not np.all(rows[:, start:start + r].sum(axis=1) == -(-n * r // m)):
            return False
    return True


class Block(Rule):
    """Whole blocks of ``size`` consecutive input weights of an output unit (TFLite's fully-connected kernels
    have a 1×4 block-sparse path): a block's score is the mean of its weights' scores, exactly round(value ×
    blocks) blocks are pruned (per layer, or over all layers with global scope), ties by position."""

    name = "block"
    local_pattern = True
    label = "1×4 blocks (sparsity %)"
    explanation = ("Prune whole blocks of 4 consecutive input weights of a neuron (a block's score is its "
                   "weights' mean): the pattern TFLite's block-sparse fully-connected kernels run.")
    citation = "TensorFlow Lite sparsity: 1×4 block-sparse fully connected kernels (XNNPACK)"
    default = 0.9
    display_scale = 100.0
    unit = "%"
    exact_count = True
    granularities = ("weight",)
    size = 4

    def check(self, value) -> float:
        return th.check_fraction(value, "sparsity")

    def block_scores(self, scores) -> np.ndarray:
        """(output rows, blocks) mean score per block (a trailing short block: the mean of what it has)."""
        rows = input_rows(scores).astype(np.float64)
        width = rows.shape[1]
        blocks = -(-width // self.size)
        padded = np.zeros((rows.shape[0], blocks * self.size))
        padded[:, :width] = rows
        counts = np.full(blocks, self.size)
        counts[-1] = width - (blocks - 1) * self.size
        return padded.reshape(rows.shape[0], blocks, self.size).sum(axis=2) / counts

    def expand(self, block_keep, shape) -> np.ndarray:
        width = shape[-2]
        keep = np.repeat(np.asarray(block_keep, dtype=bool), self.size, axis=1)[:, :width]
        return from_input_rows(keep, tuple(shape))

    def select_layer(self, scores, value, weights=None):
        keep, cut = th.sparsity_select(self.block_scores(scores), value)
        return self.expand(keep, np.shape(scores)), float(cut)

    def select(self, scores, value, *, scope="layer", weights=None):
        if scope != "global":
            return _each_layer(self, scores, value, scope)
        value = _check_scoped(self, scores, value, scope)
        if not scores:
            return {}, {}
        blocks = {n: self.block_scores(s) for n, s in scores.items()}
        keep, cut = th.global_sparsity_select(blocks, value)
        return {n: self.expand(keep[n], np.shape(scores[n])) for n in scores}, {n: float(cut) for n in scores}


def block_pattern_holds(keep, size: int = 4) -> bool:
    """True when every block of ``size`` consecutive input weights of every output unit is all kept or all
    pruned."""
    rows = input_rows(np.asarray(keep, dtype=bool))
    width = rows.shape[1]
    return all(np.all(rows[:, s:s + size].all(axis=1) | ~rows[:, s:s + size].any(axis=1))
               for s in range(0, width, size))


# RULES.register / .get / .unregister under the names the package exports (the CLI and the Prune page offer every
# registered rule, with its slider range).
register_rule, get_rule, unregister_rule = RULES.register, RULES.get, RULES.unregister


for _rule in (Coefficient(), Sparsity(), Std(), NM(), Block(), PerOutput()):
    register_rule(_rule)
