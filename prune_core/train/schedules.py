"""Schedules: small objects that say what to hold at training step t and validate their arguments, nothing else
(like tfmot's ``pruning_schedule.py``): the sparsity schedules of gradual pruning (:class:`PruningSchedule`,
:class:`PolynomialDecay`, :class:`ConstantSparsity`), the sparsity after each iterative round, and the learning
rate a retraining replays (the retraining strategies' names, rewound rates, the cosine stand-in).

Zhu & Gupta (2017): s_t = s_f + (s_i − s_f)(1 − (t − t0)/(n·Δt))³ for t in {t0, t0 + Δt, …, t0 + n·Δt}.

>>> s = PolynomialDecay(0.0, 0.8, begin_step=0, end_step=100, frequency=25)
>>> [round(s.sparsity(t), 4) for t in (0, 25, 50, 75, 100, 200)]
[0.0, 0.4625, 0.7, 0.7875, 0.8, 0.8]
>>> [t for t in range(0, 201) if s.should_prune(t)]
[0, 25, 50, 75, 100]
>>> PolynomialDecay.from_config(s.get_config()) == s      # a config round-trip, as tfmot's
True
>>> deserialize(serialize(ConstantSparsity(0.5, begin_step=10, frequency=5))).update_steps()[:3]
[10, 15, 20]
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

import numpy as np

from ..methods.thresholds import check_fraction


def _check_steps(schedule, names) -> None:
    for name in names:
        value = getattr(schedule, name)
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise ValueError(f"The {name.replace('_', ' ')} must be a whole number, not {value!r}.")
    if schedule.begin_step < 0:
        raise ValueError(f"The begin step must be >= 0; got {schedule.begin_step}.")


def _check_frequency(schedule) -> None:
    if schedule.frequency < 1:
        raise ValueError(f"The pruning frequency must be at least 1 step; got {schedule.frequency}.")


class PruningSchedule:
    """What sparsity to hold at training step t, and on which steps to recompute the mask.

    Subclasses are frozen dataclasses of their arguments (validated in ``__post_init__``) and implement
    :meth:`sparsity` and :meth:`should_prune`; :meth:`get_config` / :meth:`from_config` round-trip the arguments
    (:func:`serialize` / :func:`deserialize` add the class name).
    """

    begin_step: int
    end_step: int
    frequency: int

    def sparsity(self, step: int) -> float:
        raise NotImplementedError

    def should_prune(self, step: int) -> bool:
        raise NotImplementedError

    def update_steps(self) -> list[int]:
        """All steps at which the mask is recomputed (from ``begin_step`` every ``frequency`` steps, and the end)."""
        steps = list(range(self.begin_step, self.end_step + 1, self.frequency))
        return steps if steps[-1] == self.end_step else steps + [self.end_step]

    def get_config(self) -> dict:
        """The constructor's arguments as plain values."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_config(cls, config: dict) -> "PruningSchedule":
        """The schedule :meth:`get_config` described (validated again)."""
        return cls(**config)


@dataclass(frozen=True)
class PolynomialDecay(PruningSchedule):
    """Sparsity rising from ``initial_sparsity`` at ``begin_step`` to ``final_sparsity`` at ``end_step``.

    Re-prune every ``frequency`` steps from ``begin_step`` (and at ``end_step``); hold the mask
    in between. Before ``begin_step`` nothing is pruned (sparsity 0); after ``end_step`` the final
    sparsity is held.
    """

    initial_sparsity: float
    final_sparsity: float
    begin_step: int
    end_step: int
    frequency: int = 100
    power: float = 3.0

    def __post_init__(self):
        check_fraction(self.initial_sparsity, "initial sparsity")
        check_fraction(self.final_sparsity, "final sparsity")
        if self.final_sparsity < self.initial_sparsity:
            raise ValueError(f"The final sparsity ({self.final_sparsity * 100:g}%) must be at least the initial "
                             f"sparsity ({self.initial_sparsity * 100:g}%).")
        _check_steps(self, ("begin_step", "end_step", "frequency"))
        if self.end_step <= self.begin_step:
            raise ValueError(f"The end step ({self.end_step}) must come after the begin step ({self.begin_step}).")
        _check_frequency(self)
        if not (isinstance(self.power, (int, float)) and math.isfinite(self.power) and self.power > 0):
            raise ValueError(f"The power must be a positive number; got {self.power!r}.")

    def sparsity(self, step: int) -> float:
        """Target sparsity at ``step`` (the polynomial evaluated at the step, clipped to the range)."""
        if step < self.begin_step:
            return 0.0
        progress = min(1.0, (step - self.begin_step) / (self.end_step - self.begin_step))
        return self.final_sparsity + (self.initial_sparsity - self.final_sparsity) * (1.0 - progress) ** self.power

    def should_prune(self, step: int) -> bool:
        """True on the update steps: begin, every ``frequency`` steps after it, and the end step."""
        if step < self.begin_step or step > self.end_step:
            return False
        return (step - self.begin_step) % self.frequency == 0 or step == self.end_step



@dataclass(frozen=True)
class ConstantSparsity(PruningSchedule):
    """``target_sparsity`` from ``begin_step`` on, the mask recomputed every ``frequency`` steps up to ``end_step``
    (tfmot's ConstantSparsity; as there, ``end_step`` -1 keeps pruning to the end of training). Before
    ``begin_step`` nothing is pruned.

    >>> s = ConstantSparsity(0.75, begin_step=4, end_step=10, frequency=3)
    >>> [s.sparsity(t) for t in (0, 4, 99)], [t for t in range(20) if s.should_prune(t)]
    ([0.0, 0.75, 0.75], [4, 7, 10])
    """

    target_sparsity: float
    begin_step: int = 0
    end_step: int = -1
    frequency: int = 100

    def __post_init__(self):
        check_fraction(self.target_sparsity, "target sparsity")
        _check_steps(self, ("begin_step", "end_step", "frequency"))
        if self.end_step != -1 and self.end_step < self.begin_step:
            raise ValueError(f"The end step ({self.end_step}) must be -1 (no end) or come at or after the begin "
                             f"step ({self.begin_step}).")
        _check_frequency(self)

    def sparsity(self, step: int) -> float:
        return float(self.target_sparsity) if step >= self.begin_step else 0.0

    def should_prune(self, step: int) -> bool:
        if step < self.begin_step or (self.end_step != -1 and step > self.end_step):
            return False
        return (step - self.begin_step) % self.frequency == 0 or step == self.end_step

    def update_steps(self, last_step: int | None = None) -> list[int]:
        """The update steps up to ``end_step`` (or ``last_step`` when the schedule has no end: default begin + 10
        updates)."""
        end = self.end_step if self.end_step != -1 else (
            last_step if last_step is not None else self.begin_step + 10 * self.frequency)
        return [t for t in range(self.begin_step, end + 1) if self.should_prune(t)] or [self.begin_step]


SCHEDULES = {"PolynomialDecay": PolynomialDecay, "ConstantSparsity": ConstantSparsity}


def serialize(schedule: PruningSchedule) -> dict:
    """{"class_name": ..., "config": ...}: a schedule as plain values (JSON-ready)."""
    return {"class_name": type(schedule).__name__, "config": schedule.get_config()}


def deserialize(config: dict) -> PruningSchedule:
    """The schedule :func:`serialize` described; ValueError for a class that is not one of :data:`SCHEDULES`."""
    name = config.get("class_name") if isinstance(config, dict) else None
    if name not in SCHEDULES:
        raise ValueError(f"Unknown pruning schedule {name!r}; choose one of {', '.join(SCHEDULES)}.")
    return SCHEDULES[name].from_config(dict(config.get("config") or {}))


# --- iterative rounds and retraining rates ------------------------------------------------------------

def iterative_schedule(fraction: float, rounds: int) -> list[float]:
    """Cumulative sparsity after each round when pruning ``fraction`` of what remains: 1 − (1 − f)^k.

    >>> [round(s, 3) for s in iterative_schedule(0.5, 3)]
    [0.5, 0.75, 0.875]
    """
    fraction = check_fraction(fraction, "fraction pruned per round")
    return [1.0 - (1.0 - fraction) ** k for k in range(1, rounds + 1)]


def rewound_rates(original, epochs: int) -> list[float]:
    """The learning rate per retraining epoch when rewinding ``original`` (the original training's rate per
    epoch) by ``epochs``: its last ``epochs`` entries (Renda et al. rewind to epoch T − t and replay from there);
    a retraining longer than the original starts with the original's first rate repeated.

    >>> rewound_rates([1e-2, 1e-2, 1e-3, 1e-4], 2), rewound_rates([1e-2, 1e-3], 3)
    ([0.001, 0.0001], [0.01, 0.01, 0.001])
    """
    rates = [float(r) for r in original]
    if not rates or not all(math.isfinite(r) and r > 0 for r in rates):
        raise ValueError(f"The original learning-rate schedule must be positive rates per epoch; got {original!r}.")
    if epochs <= len(rates):
        return rates[len(rates) - epochs:]
    return [rates[0]] * (epochs - len(rates)) + rates


def cosine_rate(learning_rate: float, step: int, total: int) -> float:
    """learning_rate · ½(1 + cos(π · step / total)): the stand-in original schedule for models trained at one
    constant rate (every model trained in this app): rewound to ``learning_rate``, annealed to 0.

    >>> cosine_rate(0.01, 0, 10), cosine_rate(0.01, 5, 10)
    (0.01, 0.005)
    """
    return float(learning_rate) * 0.5 * (1.0 + math.cos(math.pi * min(step, total) / max(1, total)))
