"""Gradual (polynomial decay) and iterative prune → retrain loops.

A schedule is a small object that says what sparsity to hold at step t and validates its
arguments (like tfmot's ``pruning_schedule.py``); trainers use it.

Zhu & Gupta (2017): s_t = s_f + (s_i − s_f)(1 − (t − t0)/(n·Δt))³ for t in {t0, t0 + Δt, …, t0 + n·Δt}.

>>> s = PolynomialDecay(0.0, 0.8, begin_step=0, end_step=100, frequency=25)
>>> [round(s.sparsity(t), 4) for t in (0, 25, 50, 75, 100, 200)]
[0.0, 0.4625, 0.7, 0.7875, 0.8, 0.8]
>>> [t for t in range(0, 201) if s.should_prune(t)]
[0, 25, 50, 75, 100]
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from ..measure.metrics import evaluate
from ..methods import masks as mk
from ..methods.thresholds import check_fraction
from ..pruning import select
from ..spec import PruneSpec
from .models import Progress, train
from .training import _enforcer_class, fine_tune


@dataclass(frozen=True)
class PolynomialDecay:
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
        for name in ("begin_step", "end_step", "frequency"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
                raise ValueError(f"The {name.replace('_', ' ')} must be a whole number, not {value!r}.")
        if self.begin_step < 0:
            raise ValueError(f"The begin step must be >= 0; got {self.begin_step}.")
        if self.end_step <= self.begin_step:
            raise ValueError(f"The end step ({self.end_step}) must come after the begin step ({self.begin_step}).")
        if self.frequency < 1:
            raise ValueError(f"The pruning frequency must be at least 1 step; got {self.frequency}.")
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

    def update_steps(self) -> list[int]:
        """All steps at which the mask is recomputed."""
        steps = list(range(self.begin_step, self.end_step + 1, self.frequency))
        return steps if steps[-1] == self.end_step else steps + [self.end_step]


# --- gradual pruning while training ---------------------------------------------------------------

@dataclass
class PruneEvent:
    """One mask update: the step, the scheduled sparsity, and the sparsity actually held."""

    step: int
    target: float
    sparsity: float


def current_masks(model, sparsity: float, *, criterion: str = "magnitude", scope: str = "layer",
                  granularity: str = "weight", previous: mk.MaskSet | None = None, x=None, y=None,
                  seed: int = 0, batches: int = 4, batch_size: int = 128) -> mk.MaskSet:
    """Masks pruning exactly ``sparsity`` of the model's kernel weights (or, for granularity
    "unit", of its hidden units; the output layer is never unit-pruned) by ``criterion``.

    Entries pruned in ``previous`` are pruned first (score −1), so masks only grow.
    """
    spec = PruneSpec(criterion=criterion, granularity=granularity, rule="sparsity", scope=scope, value=sparsity,
                     seed=seed, batches=batches, batch_size=batch_size)
    return select(model, spec, data=(x, y) if x is not None and y is not None else None, previous=previous)


def scored_sparsity(mask_set: mk.MaskSet) -> float:
    """Fraction of the scored entries that are pruned: units for unit masks, else kernel weights."""
    if mask_set.granularity != "unit":
        return mask_set.overall_sparsity
    total = sum(u.size for u in mask_set.units.values())
    return 1.0 - sum(int(np.count_nonzero(u)) for u in mask_set.units.values()) / total if total else 0.0


def _gradual_class():
    import keras

    class GradualPruner(keras.callbacks.Callback):
        """Re-prunes on the schedule's update steps and holds the current mask after every batch.

        The step counter counts training batches across epochs (from 0). ``events`` records each
        update (with the weight sparsity held, incoming rows of removed units included); ``mask_set``
        is the mask currently held. The scheduled sparsity is of weights, or of units for "unit".
        """

        def __init__(self, schedule: PolynomialDecay, *, criterion="magnitude", scope="layer", granularity="weight",
                     x=None, y=None, seed=0, batches=4, batch_size=128):
            super().__init__()
            self.schedule, self.criterion, self.scope, self.granularity = schedule, criterion, scope, granularity
            self.x, self.y, self.seed, self.batches, self.batch_size = x, y, seed, batches, batch_size
            self.step = 0
            self.mask_set: mk.MaskSet | None = None
            self.events: list[PruneEvent] = []
            self._enforcer = None

        def on_train_batch_begin(self, batch, logs=None):
            if self.schedule.should_prune(self.step):
                target = self.schedule.sparsity(self.step)
                self.mask_set = current_masks(self.model, target, criterion=self.criterion, scope=self.scope,
                                              granularity=self.granularity, previous=self.mask_set,
                                              x=self.x, y=self.y, seed=self.seed + self.step,
                                              batches=self.batches, batch_size=self.batch_size)
                effective = mk.effective_masks(self.model, self.mask_set)
                self._enforcer = _enforcer_class()(self.model, effective)
                self._enforcer.enforce()
                self.events.append(PruneEvent(self.step, target, effective.overall_sparsity))

        def on_train_batch_end(self, batch, logs=None):
            if self._enforcer is not None:
                self._enforcer.enforce()
            self.step += 1

    return GradualPruner


def __getattr__(name):  # ``schedules.GradualPruner(schedule, ...)`` — the Keras callback class, built lazily
    if name == "GradualPruner":
        return _gradual_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@dataclass
class GradualResult:
    """A gradual run: the mask updates, the final masks, and the training history."""

    events: list[PruneEvent]
    mask_set: mk.MaskSet
    history: dict[str, list[float]]
    seconds: float
    schedule: PolynomialDecay


def gradual_prune(model, x, y, final_sparsity: float, *, initial_sparsity: float = 0.0, epochs: int = 2,
                  batch_size: int = 32, frequency: int | None = None, end_fraction: float = 0.75,
                  schedule: PolynomialDecay | None = None, criterion: str = "magnitude", scope: str = "layer",
                  granularity: str = "weight", learning_rate: float = 1e-3, seed: int = 0, validation=None,
                  progress: Progress | None = None, callbacks: list | None = None) -> tuple[object, GradualResult]:
    """Train a copy of ``model`` while pruning it gradually; returns (pruned model, GradualResult).

    Default schedule: from step 0 to ``end_fraction`` of all training steps, re-pruning
    ``frequency`` steps apart (default: 10 updates), then fine-tuning at the final sparsity.
    Scores come from ``criterion`` on the current weights (data criteria use x, y). Extra Keras
    ``callbacks`` run after the pruner.
    """
    check_fraction(final_sparsity, "final sparsity")
    steps = int(math.ceil(len(x) / batch_size)) * int(epochs)
    if schedule is None:
        end = max(1, int(round(end_fraction * steps)) - 1)
        schedule = PolynomialDecay(initial_sparsity, final_sparsity, begin_step=0, end_step=end,
                                   frequency=frequency or max(1, end // 10))
    pruned = mk.copy_model(model)
    pruner = _gradual_class()(schedule, criterion=criterion, scope=scope, granularity=granularity, x=x, y=y, seed=seed)
    result = train(pruned, x, y, epochs=epochs, batch_size=batch_size, learning_rate=learning_rate, seed=seed,
                   validation=validation, progress=progress, callbacks=[pruner, *(callbacks or [])])
    final = pruner.mask_set or mk.MaskSet(kernels={})
    return pruned, GradualResult(events=pruner.events, mask_set=final, history=result.history,
                                 seconds=result.seconds, schedule=schedule)


# --- retraining strategies: fine-tuning, learning-rate rewinding, weight rewinding ------------------

RETRAIN_STRATEGIES = {
    "finetune": "Fine-tune: keep training the pruned weights at one constant learning rate.",
    "rewind-lr": "Learning-rate rewinding (Renda et al. 2020): retrain from the trained weights with the original "
                 "training's learning-rate schedule, replayed from its rewind point.",
    "rewind-weights": "Weight rewinding (Frankle & Carbin 2019; Frankle et al. 2020): reset the kept weights to "
                      "their values early in training, then retrain them with the original schedule.",
}


def check_retrain(strategy: str) -> str:
    """``strategy`` if it is one of :data:`RETRAIN_STRATEGIES`; ValueError listing them otherwise."""
    if strategy not in RETRAIN_STRATEGIES:
        raise ValueError(f"Unknown retraining strategy {strategy!r}; choose one of {', '.join(RETRAIN_STRATEGIES)}.")
    return strategy


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


def _rate_class():
    import keras

    class RateReplay(keras.callbacks.Callback):
        """Sets the optimizer's learning rate: per epoch from ``rates`` or, without them, per step on a cosine
        from ``learning_rate`` to 0 over ``total_steps``. ``used`` records the rate at the start of each epoch."""

        def __init__(self, *, rates=None, learning_rate: float = 1e-3, total_steps: int = 1):
            super().__init__()
            self.rates, self.learning_rate, self.total_steps = rates, learning_rate, total_steps
            self.step, self.used = 0, []

        def _set(self, value: float) -> None:
            self.model.optimizer.learning_rate.assign(value)

        def on_epoch_begin(self, epoch, logs=None):
            if self.rates is not None:
                self._set(self.rates[min(epoch, len(self.rates) - 1)])
            else:
                self._set(cosine_rate(self.learning_rate, self.step, self.total_steps))
            self.used.append(float(self.model.optimizer.learning_rate.numpy()))

        def on_train_batch_begin(self, batch, logs=None):
            if self.rates is None:
                self._set(cosine_rate(self.learning_rate, self.step, self.total_steps))

        def on_train_batch_end(self, batch, logs=None):
            self.step += 1

    return RateReplay


def rate_callback(strategy: str, *, learning_rate: float, epochs: int, steps_per_epoch: int, original_schedule=None):
    """The Keras callback that gives a retraining its learning rate, or None for fine-tuning (constant rate).

    Rewinding replays ``original_schedule`` (the original training's rate per epoch, see :func:`rewound_rates`);
    without one — the original training used a single constant rate — the rate is rewound to
    ``learning_rate`` and annealed by :func:`cosine_rate` over the retraining.
    """
    check_retrain(strategy)
    if strategy == "finetune":
        return None
    rates = rewound_rates(original_schedule, epochs) if original_schedule is not None else None
    return _rate_class()(rates=rates, learning_rate=learning_rate, total_steps=max(1, epochs * steps_per_epoch))


def rewound(model, rewind_weights):
    """A copy of ``model`` holding ``rewind_weights`` (``model.get_weights()`` of the same architecture taken early
    in training, or a model of that architecture); ValueError when they do not fit."""
    weights = rewind_weights.get_weights() if hasattr(rewind_weights, "get_weights") else list(rewind_weights)
    copy = mk.copy_model(model)
    current = copy.get_weights()
    if len(weights) != len(current) or any(np.shape(a) != np.shape(b) for a, b in zip(weights, current)):
        raise ValueError("The rewind weights do not fit this model: they must be get_weights() of the same "
                         "architecture (taken early in its training).")
    copy.set_weights([np.asarray(w, dtype=c.dtype) for w, c in zip(weights, current)])
    return copy


def retrain(model, mask_set: mk.MaskSet, x, y, *, strategy: str = "finetune", epochs: int = 1, batch_size: int = 32,
            learning_rate: float = 1e-3, seed: int = 0, original_schedule=None, rewind_weights=None,
            validation=None, progress: Progress | None = None, callbacks: list | None = None):
    """Masked retraining by ``strategy``: (new model, TrainResult with ``rates``, the rate each epoch began with).

    ``finetune``: from ``model``'s weights at the constant ``learning_rate``; ``rewind-lr``: from ``model``'s
    weights with the rewound schedule (:func:`rate_callback`); ``rewind-weights``: the kept weights reset to
    ``rewind_weights`` first (the mask still comes from the trained model), then the rewound schedule.
    Pruned weights stay exactly zero throughout.
    """
    check_retrain(strategy)
    start = model
    if strategy == "rewind-weights":
        if rewind_weights is None:
            raise ValueError("Weight rewinding needs the weights of an early training epoch (rewind_weights).")
        start = rewound(model, rewind_weights)
    steps = int(math.ceil(len(x) / batch_size))
    rate = rate_callback(strategy, learning_rate=learning_rate, epochs=epochs, steps_per_epoch=steps,
                         original_schedule=original_schedule)
    tuned, result = fine_tune(start, mask_set, x, y, epochs=epochs, batch_size=batch_size, learning_rate=learning_rate,
                              seed=seed, progress=progress, validation=validation,
                              callbacks=[*([rate] if rate is not None else []), *(callbacks or [])])
    result.rates = list(rate.used) if rate is not None else [float(learning_rate)] * int(epochs)
    return tuned, result


def early_weights_callback(epoch: int = 1):
    """A Keras callback keeping ``model.get_weights()`` at the end of training epoch ``epoch`` (1-based; 0 keeps
    the weights before training) in ``.weights``: the rewind point for weight rewinding."""
    import keras

    class _Keep(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.weights = None

        def on_train_begin(self, logs=None):
            if epoch == 0:
                self.weights = [w.copy() for w in self.model.get_weights()]

        def on_epoch_end(self, e, logs=None):
            if e + 1 == epoch:
                self.weights = [w.copy() for w in self.model.get_weights()]

    return _Keep()


# --- iterative prune → fine-tune → evaluate ---------------------------------------------------------

@dataclass
class IterativeStep:
    """One round: weight sparsity held (of prunable kernels), accuracy before and after fine-tuning."""

    step: int
    sparsity: float
    pruned_accuracy: float
    accuracy: float
    within_tolerance: bool
    history: dict = field(default_factory=dict)  # the round's fine-tuning history (Keras logs per epoch)
    seconds: float = 0.0


@dataclass
class IterativeResult:
    """Every round, the stopping reason, and the last model (and masks) within tolerance."""

    baseline_accuracy: float
    steps: list[IterativeStep] = field(default_factory=list)
    model: object = None
    mask_set: mk.MaskSet | None = None
    stopped_because: str = ""

    @property
    def best_sparsity(self) -> float:
        """Sparsity of the returned model (0 when no round stayed within tolerance)."""
        good = [s.sparsity for s in self.steps if s.within_tolerance]
        return good[-1] if good else 0.0


def iterative_schedule(fraction: float, rounds: int) -> list[float]:
    """Cumulative sparsity after each round when pruning ``fraction`` of what remains: 1 − (1 − f)^k.

    >>> [round(s, 3) for s in iterative_schedule(0.5, 3)]
    [0.5, 0.75, 0.875]
    """
    fraction = check_fraction(fraction, "fraction pruned per round")
    return [1.0 - (1.0 - fraction) ** k for k in range(1, rounds + 1)]


def iterative_prune(model, x, y, x_val, y_val, *, fraction: float = 0.2, fine_tune_epochs: int = 1,
                    tolerance: float = 0.01, target_sparsity: float = 0.9, max_rounds: int = 20,
                    criterion: str = "magnitude", scope: str = "layer", granularity: str = "weight",
                    batch_size: int = 32,
                    learning_rate: float = 1e-3, seed: int = 0, baseline_accuracy: float | None = None,
                    progress: Progress | None = None, on_round=None, round_callbacks=None,
                    retrain_strategy: str = "finetune", original_schedule=None,
                    rewind_weights=None) -> IterativeResult:
    """Prune ``fraction`` of the remaining weights, fine-tune ``fine_tune_epochs``, evaluate; repeat.

    Stops when accuracy on (x_val, y_val) falls below baseline − ``tolerance`` (that round is
    recorded but not kept), when ``target_sparsity`` is reached (scheduled, or held after the
    exact-count rounding), or after ``max_rounds``. The
    round's sparsity is min(1 − (1 − fraction)^k, target_sparsity), of kernel weights or, for
    granularity "unit", of hidden units; each step reports the weight sparsity actually held
    (removed units' incoming rows in the next layer included). Returns every round and the last
    model within tolerance (a copy of the dense model if none was). The caller's model is untouched.
    ``on_round(step)`` is called after each round; ``round_callbacks(k)`` gives extra Keras callbacks
    for round k's fine-tuning (e.g. a per-epoch logger).
    """
    fraction = check_fraction(fraction, "fraction pruned per round")
    target_sparsity = check_fraction(target_sparsity, "target sparsity")
    if fraction == 0.0:
        raise ValueError("The fraction pruned per round must be above 0, or the loop never ends.")
    if not (math.isfinite(tolerance) and tolerance >= 0):
        raise ValueError(f"The accuracy tolerance must be a number >= 0; got {tolerance!r}.")
    if max_rounds < 1 or fine_tune_epochs < 1:
        raise ValueError("The number of rounds and of fine-tuning epochs must be at least 1.")
    if baseline_accuracy is None:
        baseline_accuracy = evaluate(model, x_val, y_val).accuracy
    result = IterativeResult(baseline_accuracy=baseline_accuracy, model=mk.copy_model(model))
    floor = baseline_accuracy - tolerance
    current, mask_set = model, None
    schedule = iterative_schedule(fraction, max_rounds)
    check_retrain(retrain_strategy)
    for k, scheduled in enumerate(schedule, start=1):
        round_started = time.perf_counter()
        sparsity = min(scheduled, target_sparsity)
        mask_set = current_masks(current, sparsity, criterion=criterion, scope=scope, granularity=granularity,
                                 previous=mask_set, x=x, y=y, seed=seed + k)
        held = mk.effective_masks(current, mask_set).overall_sparsity
        pruned_accuracy = evaluate(mk.apply_masks(current, mask_set), x_val, y_val).accuracy

        def report(done, message, k=k):
            if progress:
                progress(min(1.0, (k - 1 + done) / max_rounds), f"Round {k} · {message}")

        current, trained = retrain(current, mask_set, x, y, strategy=retrain_strategy, epochs=fine_tune_epochs,
                                   batch_size=batch_size, learning_rate=learning_rate, seed=seed + k, progress=report,
                                   original_schedule=original_schedule, rewind_weights=rewind_weights,
                                   callbacks=round_callbacks(k) if round_callbacks else None)
        accuracy = evaluate(current, x_val, y_val).accuracy
        ok = bool(accuracy >= floor)
        result.steps.append(IterativeStep(k, held, pruned_accuracy, accuracy, ok, history=trained.history,
                                          seconds=time.perf_counter() - round_started))
        if on_round:
            on_round(result.steps[-1])
        if progress:
            progress(min(1.0, k / max_rounds), f"Round {k}: sparsity {held:.1%}, "
                                               f"accuracy {accuracy:.2%}")
        if not ok:
            result.stopped_because = (f"accuracy {accuracy:.2%} fell below dense {baseline_accuracy:.2%} "
                                      f"− tolerance {tolerance:.2%}")
            break
        result.model, result.mask_set = current, mask_set
        if sparsity >= target_sparsity or scored_sparsity(mask_set) >= target_sparsity:
            result.stopped_because = f"target sparsity {target_sparsity:.1%} reached"
            break
    else:
        result.stopped_because = f"{max_rounds} rounds done"
    if progress:
        progress(1.0, f"Stopped: {result.stopped_because}")
    return result
