"""The pruning loops: gradual (prune while training, on a sparsity schedule — Zhu & Gupta 2017) and iterative
(prune a fraction of what remains, retrain, evaluate; repeat while accuracy holds).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from ..measure.metrics import evaluate
from ..methods import masks as mk
from ..methods.thresholds import check_fraction
from ..spec import check_retrain, is_auto_rate, resolve_rate
from .callbacks import _gradual_class, current_masks, Progress, PruneEvent, scored_sparsity
from .fit import retrain, train
from .schedules import iterative_schedule, PolynomialDecay, PruningSchedule


@dataclass
class GradualResult:
    """A gradual run: the mask updates, the final masks, and the training history."""

    events: list[PruneEvent]
    mask_set: mk.MaskSet
    history: dict[str, list[float]]
    seconds: float
    schedule: PruningSchedule


def gradual_prune(model, x, y, final_sparsity: float, *, initial_sparsity: float = 0.0, epochs: int = 2,
                  batch_size: int = 32, frequency: int | None = None, end_fraction: float = 0.75,
                  schedule: PruningSchedule | None = None, criterion: str = "magnitude", scope: str = "layer",
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
    learning_rate: float | None = None  # the rate the round retrained at


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


def check_iterative(fraction, tolerance, target_sparsity, max_rounds, fine_tune_epochs) -> tuple[float, float, float]:
    """(fraction, tolerance, target_sparsity) as floats when an iterative loop can run with them; ValueError naming
    the first that cannot. The one check of the loop's arguments (:func:`iterative_prune` calls it; so does
    ``experiments.runs.run_iterative``, through it)."""
    fraction = check_fraction(fraction, "fraction pruned per round")
    target_sparsity = check_fraction(target_sparsity, "target sparsity")
    if fraction == 0.0:
        raise ValueError("The fraction pruned per round must be above 0, or the loop never ends.")
    if not (isinstance(tolerance, (int, float)) and math.isfinite(tolerance) and tolerance >= 0):
        raise ValueError(f"The accuracy tolerance must be a number >= 0; got {tolerance!r}.")
    if isinstance(max_rounds, bool) or not isinstance(max_rounds, (int, np.integer)) or max_rounds < 1:
        raise ValueError(f"The number of rounds must be a whole number >= 1; got {max_rounds!r}.")
    if isinstance(fine_tune_epochs, bool) or not isinstance(fine_tune_epochs, (int, np.integer)) or fine_tune_epochs < 1:
        raise ValueError(f"The number of epochs must be a whole number >= 1; got {fine_tune_epochs!r}.")
    return float(fraction), float(tolerance), float(target_sparsity)


def iterative_prune(model, x, y, x_val, y_val, *, fraction: float = 0.2, fine_tune_epochs: int = 1,
                    tolerance: float = 0.01, target_sparsity: float = 0.9, max_rounds: int = 20,
                    criterion: str = "magnitude", scope: str = "layer", granularity: str = "weight",
                    batch_size: int = 32,
                    learning_rate: float | str = 1e-3, seed: int = 0, baseline_accuracy: float | None = None,
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
    for round k's fine-tuning (e.g. a per-epoch logger). ``learning_rate``: one rate for every round, or
    ``"auto"``: each round at ``spec.default_learning_rate("iterative", its sparsity)`` — 1e-3 while the model is
    dense enough to be hurt by more, higher as it thins (one rate for all rounds either stalls early or wrecks
    round 1; see ``spec.default_learning_rate``).
    """
    fraction, tolerance, target_sparsity = check_iterative(fraction, tolerance, target_sparsity, max_rounds,
                                                           fine_tune_epochs)
    check_retrain(retrain_strategy)
    if not is_auto_rate(learning_rate) and not (isinstance(learning_rate, (int, float)) and learning_rate > 0):
        raise ValueError(f"The learning rate must be a positive number or 'auto'; got {learning_rate!r}.")
    if baseline_accuracy is None:
        baseline_accuracy = evaluate(model, x_val, y_val).accuracy
    result = IterativeResult(baseline_accuracy=baseline_accuracy, model=mk.copy_model(model))
    floor = baseline_accuracy - tolerance
    current, mask_set = model, None
    schedule = iterative_schedule(fraction, max_rounds)
    for k, scheduled in enumerate(schedule, start=1):
        round_started = time.perf_counter()
        sparsity = min(scheduled, target_sparsity)
        mask_set = current_masks(current, sparsity, criterion=criterion, scope=scope, granularity=granularity,
                                 previous=mask_set, x=x, y=y, seed=seed + k)
        held = mk.effective_masks(current, mask_set).overall_sparsity
        pruned_accuracy = evaluate(mk.apply_masks(current, mask_set), x_val, y_val).accuracy
        rate = resolve_rate(learning_rate, "iterative", held)

        def report(done, message, k=k):
            if progress:
                progress(min(1.0, (k - 1 + done) / max_rounds), f"Round {k} · {message}")

        current, trained = retrain(current, mask_set, x, y, strategy=retrain_strategy, epochs=fine_tune_epochs,
                                   batch_size=batch_size, learning_rate=rate, seed=seed + k, progress=report,
                                   original_schedule=original_schedule, rewind_weights=rewind_weights,
                                   callbacks=round_callbacks(k) if round_callbacks else None)
        accuracy = evaluate(current, x_val, y_val).accuracy
        ok = bool(accuracy >= floor)
        result.steps.append(IterativeStep(k, held, pruned_accuracy, accuracy, ok, history=trained.history,
                                          seconds=time.perf_counter() - round_started, learning_rate=rate))
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
