"""PruneSpec: what to prune and how; RunSpec: a whole run (a PruneSpec, the mode, the retraining) — each validated
once, with one user-facing message per bad field.

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
>>> RunSpec(mode="gradual", target_sparsity=0.8, epochs=2).validate().prune.criterion
'magnitude'
>>> RunSpec(mode="gradual", reconstruct=True).validate()
Traceback (most recent call last):
...
ValueError: Reconstruction updates a one-shot mask's remaining weights; use mode 'oneshot' (got 'gradual').
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Mapping
from .methods.criteria import get_criterion
from .methods.masks import GRANULARITIES
from .methods.normalize import check_normalize
from .methods.rules import get_rule
from .methods.thresholds import check_fraction, check_non_negative, SCOPES

MODES = ("oneshot", "gradual", "iterative", "init", "sparse")
SPARSE_METHODS = ("rigl", "set")          # prune_core.train.sparse: how connections grow back
SPARSE_DISTRIBUTIONS = ("uniform", "erk")  # per-layer densities
RETRAIN_STRATEGIES = {
    "finetune": "Fine-tune: keep training the pruned weights at one constant learning rate.",
    "rewind-lr": "Learning-rate rewinding (Renda et al. 2020): retrain from the trained weights with the original "
                 "training's learning-rate schedule, replayed from its rewind point.",
    "rewind-weights": "Weight rewinding (Frankle & Carbin 2019; Frankle et al. 2020): reset the kept weights to "
                      "their values early in training, then retrain them with the original schedule.",
}
HIGH_SPARSITY = 0.95  # from here on a one-shot run retrains best at the higher rate
AUTO_RATE = "auto"  # RunSpec.learning_rate: the measured default for the run's mode and sparsity (per round, iterative)
# (sparsity from which, rate) per mode, below the first 1e-3 — measured on LeNet-300-100 with the bundled digits,
# seed 0, the Retrain page's other defaults (see default_learning_rate)
RATE_STEPS = {
    "oneshot": ((HIGH_SPARSITY, 1e-2),),
    "gradual": ((0.80, 3e-3), (0.95, 1e-2)),
    "iterative": ((0.80, 3e-3), (0.97, 1e-2)),
    "init": ((0.80, 3e-3), (0.97, 1e-2)),
    "sparse": ((0.80, 3e-3), (0.97, 1e-2)),
}


def default_learning_rate(mode: str, sparsity: float | None = None) -> float:
    """Adam's rate a run starts with unless told otherwise: 1e-3 at low sparsity, higher as the sparsity grows
    (:data:`RATE_STEPS`). Measured on LeNet-300-100 with the bundled digits, seed 0, final test accuracy at
    1e-3 / 3e-3 / 1e-2 (``bench/bench_rates.py``):

    - one-shot, 1 epoch: 85% (coefficient 0.3) 96.10 / 95.50 / 94.70%; 98% global 89.00% at 1e-3, 92.85% at 1e-2;
    - gradual, 2 epochs: 70% 96.20 / 95.95 / 94.95%; 80% 95.50 / 95.75 / 94.30%; 90% 93.85 / 95.40 / 95.50%;
      95% 90.65 / 93.55 / 95.00%; 98% 59.25 / 86.10 / 90.70%;
    - sparse training (RigL), 1 epoch: 70% 95.60 / 94.75 / 91.95%; 80% 94.30 / 94.85 / 91.65%; 90% 92.70 / 93.65 /
      92.30%; 95% 90.00 / 92.35 / 91.00%; 98% 56.50 / 77.10 / 88.50%;
    - pruning at initialization (SNIP, global), 5 epochs: 80% 95.00 / 95.15 / 93.70%; 90% 94.10 / 94.75 / 93.55%;
      95% 92.85 / 94.45 / 93.70%; 98% 88.95 / 91.90 / 92.60%;
    - iterative (30% a round, 1 epoch, tolerance 1 pt, target 95%), one rate for every round: 1e-2 falls to 90.75%
      after round 1 and keeps nothing, 3e-3 to 93.70% (nothing), 1e-3 stops at 91.8% (94.50%); the rate of each
      round's sparsity (``AUTO_RATE``) reaches 95% at 95.35%.

    >>> default_learning_rate("oneshot", 0.85), default_learning_rate("oneshot", 0.98), default_learning_rate("iterative")
    (0.001, 0.01, 0.001)
    >>> default_learning_rate("gradual", 0.9), default_learning_rate("gradual", 0.95), default_learning_rate("sparse", 0.95)
    (0.003, 0.01, 0.003)
    """
    rate = 1e-3
    if sparsity is None:
        return rate
    for start, step_rate in RATE_STEPS.get(mode, ()):
        if sparsity >= start - 1e-9:
            rate = step_rate
    return rate


def is_auto_rate(rate) -> bool:
    """Whether ``rate`` asks for the measured default (:data:`AUTO_RATE`)."""
    return isinstance(rate, str) and rate == AUTO_RATE


def resolve_rate(rate, mode: str, sparsity: float | None) -> float:
    """``rate`` itself, or for :data:`AUTO_RATE` the measured default at ``sparsity``.

    >>> resolve_rate(0.02, "gradual", 0.9), resolve_rate("auto", "gradual", 0.9)
    (0.02, 0.003)
    """
    return default_learning_rate(mode, sparsity) if is_auto_rate(rate) else float(rate)


GRANULARITY_ALIASES = {"neuron": "unit", "filter": "unit", "channel": "unit", "heads": "head"}
HEAD = "head"  # attention heads (pruning.select scores head vectors; rules that take unit vectors take them)


def check_retrain(strategy: str) -> str:
    """``strategy`` if it is one of :data:`RETRAIN_STRATEGIES`; ValueError listing them otherwise."""
    if strategy not in RETRAIN_STRATEGIES:
        raise ValueError(f"Unknown retraining strategy {strategy!r}; choose one of {', '.join(RETRAIN_STRATEGIES)}.")
    return strategy


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
    granularity keeps each layer's unit count a multiple of this (1 = no rounding). Unit granularity under global
    scope only: ``normalize`` divides each group's scores by its "mean" (default), "max" or "sum" before the one
    ranking (:mod:`prune_core.methods.normalize`; "none" compares raw scores), and every group keeps at least
    ``min_keep`` of its channels (default 10%; the count removed then falls short by what the floor holds back).
    Defaults measured by ``bench/bench_global_units.py`` on ResNet-50, global 50% of channels: raw scores leave 30 of
    37 groups under 10% of their channels, mean-normalised none (the smallest keeps 45%).
    ``streams`` (unit granularity only): LayerNormalization/RMSNormalization over the channels let channels
    through, so a transformer's or ConvNeXt's residual stream becomes one prunable group
    (:func:`prune_core.graph.dependency_graph`); the statistics then change with the removed channels, so the
    compact model (:func:`prune_core.compact`) is the truth and the masked one an approximation.
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
    normalize: str = "mean"
    min_keep: float = 0.1
    streams: bool = False
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
        check_normalize(self.normalize)
        if not (isinstance(self.min_keep, (int, float)) and not isinstance(self.min_keep, bool)
                and 0.0 <= self.min_keep < 1.0):
            raise ValueError(f"min_keep is the share of each group's channels always kept: a number in [0, 1); "
                             f"got {self.min_keep!r}.")
        if isinstance(value, float) and math.isnan(value):
            raise ValueError("The value is not a number.")
        if not isinstance(self.streams, bool):
            raise ValueError(f"streams is True or False, not {self.streams!r}.")
        if self.streams and granularity != "unit":
            raise ValueError("streams mode removes whole channels of the residual stream: it needs granularity 'unit'.")
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
        if self.granularity != "weight" and self.scope == "global":
            out.update(normalize=self.normalize, min_keep=self.min_keep)
        if self.streams:
            out["streams"] = True
        return out


@dataclass(frozen=True)
class RunSpec:
    """A whole run: how to prune (``prune``), in which ``mode``, and how to (re)train — what
    :func:`prune_core.experiments.api.run` executes, for the CLI and the app alike.

    ``mode``: "oneshot" (a mask applied once, then ``epochs`` of masked retraining; 0 measures it untrained),
    "gradual" (prune while training ``epochs`` on a polynomial schedule from ``initial_sparsity`` to
    ``target_sparsity``), "iterative" (prune ``step_fraction`` of what remains, retrain ``epochs`` per round, until
    accuracy falls below dense − ``tolerance``, the ``target_sparsity`` is reached or ``max_rounds`` are done), or
    "init" (prune a freshly initialised copy by ``prune``, then train it ``epochs``), or "sparse" (train ``epochs`` at
    ``target_sparsity`` from the start, the connections moving every ``update_every`` steps by ``sparse_method`` —
    "rigl" grows by gradient, "set" at random — dropping ``drop_fraction`` of each layer's active weights on a cosine
    decay; per-layer densities ``distribution`` "uniform" or "erk"; from the given model, or from a fresh
    initialisation with ``from_init``). Gradual and iterative runs prune
    weights by ``prune.criterion`` and ``prune.scope``; with ``target_sparsity`` None they aim for the sparsity
    ``prune`` gives one-shot on the dense model. ``retrain``: a key of :data:`RETRAIN_STRATEGIES` (one-shot and
    iterative). ``reconstruct``: one-shot only, layer-wise reconstruction before retraining. ``l1``: an L1 penalty λ
    while training. ``compact``/``latency_repeats``: build and time the physically smaller model (unit granularity).
    ``learning_rate``: Adam's rate, or ``"auto"`` (:data:`AUTO_RATE`): :func:`default_learning_rate` at the run's
    sparsity — the mask's (one-shot), the target (gradual, init, sparse), each round's (iterative).
    """

    mode: str = "oneshot"
    prune: PruneSpec = field(default_factory=PruneSpec)
    epochs: int = 1
    batch_size: int = 32
    learning_rate: float | str = 1e-3
    seed: int = 0
    l1: float = 0.0
    retrain: str = "finetune"
    reconstruct: bool = False
    initial_sparsity: float = 0.0
    target_sparsity: float | None = None
    step_fraction: float = 0.2
    tolerance: float = 0.01
    max_rounds: int = 20
    compact: bool = True
    latency_repeats: int = 10
    label: str | None = None
    sparse_method: str = "rigl"
    distribution: str = "uniform"
    update_every: int | None = None
    drop_fraction: float = 0.3
    from_init: bool = False

    def validate(self) -> "RunSpec":
        """The spec with its PruneSpec validated and numbers normalised; ValueError naming what is wrong."""
        if self.mode not in MODES:
            raise ValueError(f"Unknown run mode {self.mode!r}; choose one of {', '.join(MODES)}.")
        if not isinstance(self.prune, PruneSpec):
            raise ValueError("A RunSpec's prune must be a prune_core.PruneSpec.")
        prune = self.prune.validate()
        _whole(self.epochs, "number of epochs", 0 if self.mode == "oneshot" else 1)
        _whole(self.batch_size, "batch size", 1)
        _whole(self.seed, "seed", 0)
        _whole(self.latency_repeats, "number of latency repeats", 0)
        if not is_auto_rate(self.learning_rate) and not (
                isinstance(self.learning_rate, (int, float)) and not isinstance(self.learning_rate, bool)
                and math.isfinite(self.learning_rate) and self.learning_rate > 0):
            raise ValueError(f"The learning rate must be a positive number or {AUTO_RATE!r} (the measured default for "
                             f"the mode and sparsity); got {self.learning_rate!r}.")
        l1 = check_non_negative(self.l1, "the L1 strength λ")
        check_retrain(self.retrain)
        if self.reconstruct and self.mode != "oneshot":
            raise ValueError(f"Reconstruction updates a one-shot mask's remaining weights; use mode 'oneshot' "
                             f"(got {self.mode!r}).")
        if self.retrain != "finetune" and self.mode not in ("oneshot", "iterative"):
            raise ValueError(f"The {self.retrain} strategy retrains one-shot or iterative runs; got mode {self.mode!r}.")
        if self.retrain == "rewind-weights" and self.reconstruct:
            raise ValueError("Weight rewinding resets the kept weights, which would undo the reconstruction; choose "
                             "one of them.")
        target = None if self.target_sparsity is None else check_fraction(self.target_sparsity, "target sparsity")
        if self.mode in ("gradual", "iterative"):
            if prune.granularity != "weight":
                raise ValueError(f"Mode {self.mode!r} prunes individual weights; use granularity 'weight' "
                                 "(or mode 'oneshot' for whole neurons / filters).")
            if get_rule(prune.rule).local_pattern:
                raise ValueError(f"Mode {self.mode!r} prunes to a target sparsity; use mode 'oneshot' or 'init' for "
                                 f"the {get_rule(prune.rule).label} rule.")
        initial = check_fraction(self.initial_sparsity, "initial sparsity")
        step = check_fraction(self.step_fraction, "fraction pruned per round")
        if step == 0.0:
            raise ValueError("The fraction pruned per round must be above 0, or the loop never ends.")
        tolerance = check_non_negative(self.tolerance, "accuracy tolerance")
        _whole(self.max_rounds, "number of rounds", 1)
        if self.mode == "sparse":
            if self.sparse_method not in SPARSE_METHODS:
                raise ValueError(f"Unknown sparse-training method {self.sparse_method!r}; choose one of "
                                 f"{', '.join(SPARSE_METHODS)}.")
            if self.distribution not in SPARSE_DISTRIBUTIONS:
                raise ValueError(f"Unknown density distribution {self.distribution!r}; choose one of "
                                 f"{', '.join(SPARSE_DISTRIBUTIONS)}.")
            if self.update_every is not None:
                _whole(self.update_every, "number of steps between updates", 1)
            if not (isinstance(self.drop_fraction, (int, float)) and 0 < self.drop_fraction < 1):
                raise ValueError(f"The drop fraction must be between 0 and 1 (exclusive); got {self.drop_fraction!r}.")
            if target is None and prune.rule != "sparsity":
                raise ValueError("Sparse training holds a target sparsity from the start: give target_sparsity (or a "
                                 "PruneSpec with rule 'sparsity').")
        return replace(self, prune=prune, l1=l1, target_sparsity=target, initial_sparsity=initial,
                       step_fraction=step, tolerance=tolerance,
                       learning_rate=self.learning_rate if is_auto_rate(self.learning_rate)
                       else float(self.learning_rate))

    def to_dict(self) -> dict:
        """Plain settings (for records): the prune spec's, then the run's."""
        out = {"mode": self.mode, **self.prune.to_dict(), "epochs": self.epochs, "batch_size": self.batch_size,
               "learning_rate": self.learning_rate, "seed": self.seed, "l1": self.l1, "retrain": self.retrain}
        if self.mode == "oneshot":
            out["reconstruct"] = self.reconstruct
        if self.mode == "gradual":
            out.update(initial_sparsity=self.initial_sparsity, target_sparsity=self.target_sparsity)
        if self.mode == "iterative":
            out.update(step_fraction=self.step_fraction, tolerance=self.tolerance, max_rounds=self.max_rounds,
                       target_sparsity=self.target_sparsity)
        if self.mode == "sparse":
            out.update(sparse_method=self.sparse_method, distribution=self.distribution, update_every=self.update_every,
                       drop_fraction=self.drop_fraction, from_init=self.from_init, target_sparsity=self.target_sparsity)
        return out

