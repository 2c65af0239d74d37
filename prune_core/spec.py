"""PruneSpec: what to prune and how, validated once, with one user-facing message per bad field.

>>> PruneSpec(criterion="magnitude", rule="sparsity", value=0.9, scope="global").validate().value
0.9
>>> PruneSpec(rule="coefficient", value=1.5).validate()
Traceback (most recent call last):
...
ValueError: The coefficient must be between 0 and 1 (inclusive); got 1.5.
>>> PruneSpec(granularity="neuron").validate().granularity   # the CLI's word is accepted
'unit'
>>> PruneSpec(rule="nm", value="2:4", granularity="unit").validate()
Traceback (most recent call last):
...
ValueError: The N:M semi-structured rule prunes individual weights only, not whole neurons / filters; choose granularity 'weight', or another rule.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Mapping
from .methods.criteria import get_criterion
from .methods.masks import GRANULARITIES
from .methods.rules import get_rule
from .methods.thresholds import SCOPES

GRANULARITY_ALIASES = {"neuron": "unit", "filter": "unit", "channel": "unit", "heads": "head"}
HEAD = "head"  # attention heads (pruning.select scores head vectors; rules that take unit vectors take them)


def _whole(value, name: str, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ValueError(f"The {name} must be a whole number >= {low}; got {value!r}.")
    return int(value)


@dataclass(frozen=True)
class PruneSpec:
    """What to prune and how.

    ``criterion``: a key of ``CRITERIA``; ``granularity``: "weight", "unit" (neurons / filters /
    channels; "neuron" is accepted) or "head" (MultiHeadAttention heads; ``per_layer`` keyed by attention
    layer); ``rule``: a key of ``RULES``; ``scope``: "layer" (one threshold per
    layer) or "global" (one over all layers); ``value``: the rule's value, used for every layer not named
    in ``per_layer`` ({layer: value}, per-layer scope only). ``seed``, ``batches`` and ``batch_size``:
    how data criteria sample training batches (and the random criterion's seed). ``round_to``: unit
    granularity keeps each layer's unit count a multiple of this (1 = no rounding).
    """

    criterion: str = "magnitude"
    granularity: str = "weight"
    rule: str = "coefficient"
    scope: str = "layer"
    value: float | None = None
    per_layer: Mapping[str, float] | None = None
    seed: int = 0
    batches: int = 4
    batch_size: int = 128
    round_to: int = 1
    extra: dict = field(default_factory=dict, compare=False)

    def validate(self) -> "PruneSpec":
        """The spec with normalised fields (the rule's default value filled in, granularity aliases
        resolved); ValueError naming the field and what is accepted otherwise."""
        get_criterion(self.criterion)
        granularity = GRANULARITY_ALIASES.get(self.granularity, self.granularity)
        if granularity not in GRANULARITIES and granularity != HEAD:
            raise ValueError(f"Unknown granularity {self.granularity!r}; choose 'weight', 'unit' "
                             "(whole neurons / filters) or 'head' (attention heads).")
        rule = get_rule(self.rule)
        if ("unit" if granularity == HEAD else granularity) not in rule.granularities:
            words = {"weight": "individual weights", "unit": "whole neurons / filters", HEAD: "attention heads"}
            allowed = " or ".join(words.get(g, g) for g in rule.granularities)
            raise ValueError(f"The {rule.label} rule prunes {allowed} only, not {words.get(granularity, granularity)}; "
                             f"choose granularity {' or '.join(repr(g) for g in rule.granularities)}, or another rule.")
        if self.scope not in SCOPES:
            raise ValueError(f"Unknown scope {self.scope!r}; choose 'layer' or 'global'.")
        value = rule.default if self.value is None else rule.check(self.value)
        per_layer = None
        if self.per_layer:
            if self.scope == "global":
                raise ValueError("Global scope takes one value for all layers, not one per layer.")
            if not isinstance(self.per_layer, Mapping):
                raise ValueError("per_layer must map layer names to values, e.g. {'dense1': 0.9}.")
            per_layer = {str(name): rule.check(v) for name, v in self.per_layer.items()}
        _whole(self.seed, "seed", 0)
        _whole(self.batches, "number of scoring batches", 1)
        _whole(self.batch_size, "scoring batch size", 1)
        _whole(self.round_to, "unit rounding (round_to)", 1)
        if isinstance(value, float) and math.isnan(value):
            raise ValueError("The value is not a number.")
        return replace(self, granularity=granularity, value=value, per_layer=per_layer)

    def values_for(self, names) -> float | dict[str, float]:
        """The rule value per layer: one float, or {layer: value} when per_layer names some layers."""
        if not self.per_layer:
            return self.value
        unknown = [n for n in self.per_layer if n not in names]
        if unknown:
            raise ValueError(f"per_layer names layer(s) this model does not prune: {', '.join(unknown)}; "
                             f"prunable: {', '.join(names) or 'none'}.")
        return {n: self.per_layer.get(n, self.value) for n in names}

    def to_dict(self) -> dict:
        """Plain settings (for records and URLs)."""
        out = {"criterion": self.criterion, "granularity": self.granularity, "rule": self.rule,
               "scope": self.scope, "value": self.value}
        if self.per_layer:
            out["per_layer"] = dict(self.per_layer)
        if self.round_to != 1:
            out["round_to"] = self.round_to
        return out
