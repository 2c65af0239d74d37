"""The rule registry: where to cut a set of scores. One small class per rule.

A :class:`Rule` validates its value (one validator, used by the core, the CLI, the worked example and
the sliders), says how a slider shows it (range, step, unit), and turns score arrays into keep masks
(True = kept) plus the threshold per layer. A weight is pruned where its score is strictly below the
threshold; rules with ``exact_count`` prune exactly round(value × n) entries, ties broken by position.

>>> sorted(RULES)
['coefficient', 'sparsity', 'std']
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

RULES: dict[str, "Rule"] = {}
SCOPES = th.SCOPES


class Rule:
    """One threshold rule. Subclasses set the attributes and implement :meth:`check` and :meth:`select`.

    ``low``/``high``/``step``/``default``: the value's range for a slider, in the rule's own units;
    ``display_scale`` and ``unit``: how a person reads it (sparsity 0.5 is shown as 50 %);
    ``exact_count``: the rule prunes an exact number of entries (ties broken by position).
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
        return float(value) * self.display_scale

    def from_display(self, shown: float) -> float:
        return float(shown) / self.display_scale

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


def register_rule(rule: Rule, *, replace: bool = False) -> Rule:
    """Add ``rule`` to :data:`RULES` (the CLI and the Prune page offer it, with its slider range)."""
    name = getattr(rule, "name", "")
    if not isinstance(rule, Rule):
        raise ValueError(f"A rule must be a prune_core.Rule instance, not {type(rule).__name__}.")
    if not name or not name.replace("_", "").replace("-", "").isalnum():
        raise ValueError(f"A rule needs a short name of letters, digits, '-' or '_'; got {name!r}.")
    if name in RULES and not replace:
        raise ValueError(f"A rule named {name!r} is already registered; pass replace=True to override it.")
    if not rule.label:
        rule.label = name
    RULES[name] = rule
    return rule


def unregister_rule(name: str) -> None:
    """Remove a rule from the registry (no error when absent)."""
    RULES.pop(name, None)


def get_rule(name: str) -> Rule:
    """The registered rule ``name``; ValueError listing the choices otherwise."""
    if name not in RULES:
        raise ValueError(f"Unknown threshold rule {name!r}; choose one of {', '.join(RULES)}.")
    return RULES[name]


for _rule in (Coefficient(), Sparsity(), Std()):
    register_rule(_rule)
