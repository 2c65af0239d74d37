"""Retrain runs: one entry point per mode, each returning one :class:`RunResult`.

- :func:`run_oneshot` — a MaskSet applied once, then masked fine-tuning (pruned weights stay 0).
- :func:`run_gradual` — prune while training, on a polynomial-decay schedule (Zhu & Gupta 2017).
- :func:`run_iterative` — prune a share of what remains → fine-tune → evaluate, round after round,
  until accuracy falls below dense − tolerance or the target sparsity is reached.
- :func:`run_init` — pruning at initialization: a freshly initialised copy is pruned (SNIP, SynFlow, …),
  then the sparse network is trained.

One-shot and iterative runs retrain by ``retrain``: ``finetune`` (a constant rate), ``rewind-lr`` (Renda et al.
2020) or ``rewind-weights`` (Frankle & Carbin 2019), see :func:`prune_core.train.fit.retrain`; one-shot runs
can first reconstruct the remaining weights layer by layer (``reconstruct=True``, :mod:`prune_core.train.reconstruct`).

All three accept ``l1`` (λ): an L1 penalty λ·Σ|w| on every prunable kernel while training
(:func:`prune_core.train.regularize.with_l1`); the final model carries no regularizer.

``data`` is a :class:`prune_core.io.data.Dataset` or a tuple ``(x_train, y_train, x_test, y_test)``.
Accuracies are on the test split (the bundled data has no validation split; the iterative stopping
rule watches it too, as the CLI does). The caller's model is never modified.

Results hold the final model and masks (``model``, ``mask_set``, ``compact_model``) for export,
but :meth:`RunResult.to_record` — what :class:`prune_core.io.history.RunStore` stores — never does.
:class:`RunResult`, :func:`measure` and the measuring of a finished run live in :mod:`.result` (re-exported here).

Callbacks: ``progress(fraction, message)`` (the prune_core signature), ``on_epoch(epoch, logs)``
after every training epoch (``logs`` has ``loss``, ``accuracy``, for iterative also ``round``; for
live curves), and for iterative ``on_round(record)`` after every round (a dict as in
:attr:`RunResult.rounds`).
"""

from __future__ import annotations

import math
import time
from typing import Callable

import numpy as np

from ..graph.surgery import compact as compact_graph
from ..io.data import as_arrays
from ..measure import metrics
from ..methods import masks as mk
from ..methods.criteria import get_criterion
from ..methods.thresholds import check_fraction, check_scope
from ..pruning import select
from ..spec import check_retrain, is_auto_rate, PruneSpec
from ..train.callbacks import current_masks, epoch_logger, OnEpoch, Progress
from ..train.fit import retrain as retrain_masked, train
from ..train.loops import gradual_prune, iterative_prune
from ..train.reconstruct import reconstruct as reconstruct_layers
from ..train.regularize import check_l1, with_l1
from ..train.schedules import PolynomialDecay
from ..train.sparse import sparse_train
from .result import (class_names_of, finish, gzip_at_last_step, gzip_in_background, layer_sparsity, measure,
                     RECORD_FIELDS, run_label, RunResult, score, Scored)

__all__ = ["RECORD_FIELDS", "RunResult", "default_schedule", "early_weights", "initialised_copy", "layer_sparsity",
           "measure", "run_gradual", "run_init", "run_iterative", "run_oneshot", "run_sparse"]
OnRound = Callable[[dict], None]




def _settings(extra: dict | None, **engine) -> dict:
    """The caller's descriptive settings (architecture, criterion, rule, value …) overlaid by the engine's."""
    return {**(extra or {}), **engine}


def _dense(model, x_test, y_test, given) -> tuple[float, Scored | None]:
    """(the dense accuracy, its test prediction when it was made here: the per-class view reuses it)."""
    if given is not None:
        return float(given), None
    scored = score(model, x_test, y_test)
    return scored.evaluation.accuracy, scored


def _check_training(epochs, batch_size, learning_rate, *, allow_zero_epochs=False) -> None:
    low = 0 if allow_zero_epochs else 1
    if epochs is None:  # checked by the caller's loop
        pass
    elif isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < low:
        raise ValueError(f"The number of epochs must be a whole number >= {low}; got {epochs!r}.")
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"The batch size must be a whole number >= 1; got {batch_size!r}.")
    if not (isinstance(learning_rate, (int, float)) and math.isfinite(learning_rate) and learning_rate > 0):
        raise ValueError(f"The learning rate must be a positive number; got {learning_rate!r}.")


# --- one-shot -----------------------------------------------------------------------------------------

def run_oneshot(model, mask_set: mk.MaskSet, data, *, epochs: int = 1, batch_size: int = 32,
                learning_rate: float = 1e-3, seed: int = 0, l1: float = 0.0, progress: Progress | None = None,
                on_epoch: OnEpoch | None = None, settings: dict | None = None, dense_accuracy: float | None = None,
                compact: bool = True, latency_repeats: int = 10, label: str | None = None,
                retrain: str = "finetune", original_schedule=None, rewind_weights=None,
                reconstruct: bool = False, damping: float = 0.01) -> RunResult:
    """Apply ``mask_set`` once, then retrain ``epochs`` with pruned weights held at exactly zero.

    ``epochs=0`` measures the pruned model without retraining. ``settings``: descriptive settings to
    record (criterion, rule, value, scope, architecture, data …); the engine adds mode, epochs,
    batch_size, learning_rate, seed, l1, granularity, retrain, reconstruct and target_sparsity (the mask's
    sparsity). With unit granularity and ``compact=True`` the physically smaller model is built and measured
    too. ``dense_accuracy``: pass it when known to skip one evaluation.

    ``retrain``: ``finetune`` | ``rewind-lr`` (``original_schedule``: the original training's rate per epoch;
    without it the rate is rewound to ``learning_rate`` and annealed) | ``rewind-weights`` (``rewind_weights``:
    ``get_weights()`` from early in the original training). ``reconstruct``: before retraining, update each
    pruned layer's remaining weights to preserve its outputs on training batches (``damping`` λ); the result's
    ``pruned_accuracy`` is plain masking, ``reconstructed_accuracy`` after reconstruction.

    What each part costs, on ResNet-50 (32×32, 10 classes), 512 + 128 images, 1 epoch of batch 32, the 2-core
    machine (``bench/bench_jobs.py --parts fit`` and py-spy; a plain ``compile`` + ``fit`` of the epoch: 28–34 s):

    - the dense and the pruned model predicted once each on the test split, eagerly (~1 s each; the dense
      prediction also serves the per-class view) and the pruned copy made (~1 s), which is then the one trained;
    - training: Keras's trace of the training step is most of it; the optimizer's variables are created before
      it (``train.fit.build_optimizer``, ~2.6 s, which saves more inside the trace), the masks are the variables'
      own constraints (inside the traced step: no per-batch Python), and validation on the test split (~2.5 s);
    - the gzip sizes: the dense model is saved before training (~2.6 s) and compressed (~5 s) in a background
      thread while the step is traced; the final model is saved at the last step (~2.6 s) and compressed while
      Keras validates and the run predicts it (~1 s), leaving ~3 s of waiting;
    - latency: 3 eager batches of 256 per model on a model this big (~1.2 s each: ~7 s for dense and final).

    Before (issue 23): 147 s against 51 s for the plain fit (2.9×) — latency 46 s (13 batches per model), gzip
    23 s, five predictions, the optimizer built inside the trace (~24 of its 60 s under load). Now 36.9 s against
    27.8 s (1.33×) on a quiet machine, the same numbers returned.
    """
    _check_training(epochs, batch_size, learning_rate, allow_zero_epochs=True)
    l1 = check_l1(l1)
    check_retrain(retrain)
    if reconstruct and retrain == "rewind-weights":
        raise ValueError("Weight rewinding resets the kept weights, which would undo the reconstruction; choose "
                         "one of them.")
    if mask_set.streams and (reconstruct or retrain != "finetune"):
        raise ValueError("Streams mode fine-tunes the physically smaller model (a masked copy is not what it "
                         "computes); reconstruction and rewinding work on masks: choose plain fine-tuning.")
    x, y, x_test, y_test = as_arrays(data)
    dense_eval, dense_scored = _dense(model, x_test, y_test, dense_accuracy)
    dense_gzip = gzip_in_background(model) if epochs else None  # compressed while the training step is traced
    started = time.perf_counter()
    held, removed = mask_set, None
    if mask_set.streams:  # the compact model is the truth: prune it physically, then fine-tune it as it is
        pruned, removed = compact_graph(model, mask_set.units, strict=True, streams=True)
        held = mk.MaskSet(kernels={})  # the channels are gone: nothing to hold at zero
    else:
        pruned = mk.apply_masks(model, mask_set)
    pruned_eval = metrics.evaluate(pruned, x_test, y_test)
    history: dict = {}
    final, start = pruned, (pruned if mask_set.streams else model)
    reconstructed_accuracy, report = None, None
    if reconstruct:
        if progress:
            progress(0.0, "Reconstructing the remaining weights layer by layer…")
        final, found = reconstruct_layers(model, mask_set, x, seed=seed, damping=damping)
        start, report = final, found.to_dict()
        reconstructed_accuracy = metrics.evaluate(final, x_test, y_test).accuracy
    final_gzip = None
    if epochs:
        # the final model's gzip size compresses from the last step on, during validation and scoring
        gzip_final = None if l1 else gzip_at_last_step(int(math.ceil(len(x) / batch_size)) * int(epochs))
        # plain masking: the pruned copy just scored is the one to train (no second copy)
        masked = pruned if not (mask_set.streams or reconstruct or l1) else None
        final, result = retrain_masked(with_l1(start, l1) if l1 else start, held, x, y, strategy=retrain,
                                       epochs=epochs, batch_size=batch_size, learning_rate=learning_rate, seed=seed,
                                       original_schedule=original_schedule, rewind_weights=rewind_weights,
                                       validation=(x_test, y_test), progress=progress, masked=masked,
                                       callbacks=[*([gzip_final] if gzip_final else []), epoch_logger(on_epoch)])
        history = {**result.history, "learning_rate": list(result.rates)}
        final_gzip = gzip_final.size if gzip_final is not None else None
    seconds = time.perf_counter() - started
    if progress:
        progress(1.0, "Measuring the pruned model…")
    engine = dict(mode="oneshot", epochs=int(epochs), batch_size=int(batch_size), learning_rate=float(learning_rate),
                  seed=int(seed), l1=l1, granularity=mask_set.granularity, retrain=retrain,
                  reconstruct=bool(reconstruct),
                  target_sparsity=float(mk.effective_masks(model, mask_set).overall_sparsity))
    if mask_set.streams:
        engine["streams"] = True
    result = finish("oneshot", _settings(settings, **engine), model, dense_eval, pruned_eval, final, mask_set,
                     x_test, y_test, seconds=seconds, history=history, latency_repeats=latency_repeats,
                     compact=compact and not mask_set.streams, label=label, class_names=class_names_of(data),
                     dense_scored=dense_scored, dense_gzip=dense_gzip, final_gzip=final_gzip)
    if removed is not None:  # the final model is the compact one: its record says so
        result.compact = {"params": result.params, "nonzero_params": result.nonzero_params,
                          "float32_bytes": result.float32_bytes, "gzip_bytes": result.gzip_bytes,
                          "latency_ms": result.latency_ms, "accuracy": result.final_accuracy,
                          "units": {n: list(kept_total) for n, kept_total in removed.removed.items()},
                          "left_masked": {}}
        result.compact_model = final
    result.reconstructed_accuracy, result.reconstruction = reconstructed_accuracy, report
    return result


# --- pruning at initialization ------------------------------------------------------------------------

def initialised_copy(model, seed: int = 0):
    """A copy of ``model``'s architecture with fresh initial weights (seeded): the untrained network."""
    import keras

    keras.utils.set_random_seed(seed)
    return type(model).from_config(model.get_config())


def early_weights(model, data, *, epoch: int = 1, seed: int = 0, batch_size: int = 32,
                  learning_rate: float = 1e-3) -> list:
    """A rewind point for weight rewinding when the original run kept none: ``model``'s architecture freshly
    initialised with ``seed`` and trained ``epoch`` epoch(s) on ``data``'s training split (``get_weights()``).
    It is an early state of *a* seeded training of this architecture, not of the run that made ``model``."""
    _check_training(epoch, batch_size, learning_rate)
    x, y, _, _ = as_arrays(data)
    fresh = initialised_copy(model, seed)
    train(fresh, x, y, epochs=epoch, batch_size=batch_size, learning_rate=learning_rate, seed=seed)
    return fresh.get_weights()


def run_init(model, data, spec, *, epochs: int = 5, batch_size: int = 32, learning_rate: float = 1e-3, seed: int = 0,
             l1: float = 0.0, progress: Progress | None = None, on_epoch: OnEpoch | None = None,
             settings: dict | None = None, dense_accuracy: float | None = None, latency_repeats: int = 10,
             label: str | None = None, initial=None, compact: bool = True) -> RunResult:
    """Pruning at initialization: prune the untrained network by ``spec`` (a PruneSpec; SNIP, SynFlow, random,
    a shuffled control …, scored on the untrained weights with ``data``'s training split), then train the sparse
    network ``epochs`` with the mask held. ``initial``: the untrained network (default: ``model``'s architecture
    freshly initialised with ``seed``). ``dense_accuracy`` / the recorded dense figures are ``model``'s (the
    trained dense model to compare with); ``pruned_accuracy`` is the pruned untrained network's.
    """
    if not isinstance(spec, PruneSpec):
        raise ValueError("run_init needs a PruneSpec saying how to prune the untrained network.")
    spec = spec.validate()
    _check_training(epochs, batch_size, learning_rate)
    x, y, x_test, y_test = as_arrays(data)
    dense_eval = _dense(model, x_test, y_test, dense_accuracy)[0]
    untrained = initialised_copy(model, seed) if initial is None else initial
    if progress:
        progress(0.0, f"Scoring the untrained network by {spec.criterion}…")
    started = time.perf_counter()
    mask_set = select(untrained, spec, data=(x, y))
    scored = time.perf_counter() - started
    engine = dict(spec.to_dict(), init=True, init_seed=int(seed))
    result = run_oneshot(untrained, mask_set, data, epochs=epochs, batch_size=batch_size, learning_rate=learning_rate,
                         seed=seed, l1=l1, progress=progress, on_epoch=on_epoch,
                         settings=_settings(settings, **engine), dense_accuracy=dense_eval, compact=compact,
                         latency_repeats=latency_repeats)
    result.mode = "init"
    result.settings["mode"] = "init"
    result.seconds += scored
    dense_size = measure(model, x_test[:256], latency_repeats=latency_repeats)
    result.dense = {**{k: v for k, v in dense_size.items() if k != "layer_sparsity"}, "accuracy": dense_eval}
    result.label = label or run_label("init", result.settings, result.sparsity)
    # per class against the model handed in (run_oneshot compared with the untrained copy)
    result.class_accuracy = metrics.class_accuracy_change(model, result.model, x_test, y_test, class_names_of(data))
    return result


# --- gradual ------------------------------------------------------------------------------------------

def default_schedule(n_train: int, *, final_sparsity: float, initial_sparsity: float = 0.0, epochs: int = 2,
                     batch_size: int = 32, frequency: int | None = None, end_fraction: float = 0.75):
    """The schedule ``loops.gradual_prune`` builds by default: from step 0 to ``end_fraction`` of all
    training steps, re-pruning every ``frequency`` steps (default: about 10 updates)."""
    steps = int(math.ceil(n_train / batch_size)) * int(epochs)
    end = max(1, int(round(end_fraction * steps)) - 1)
    return PolynomialDecay(initial_sparsity, final_sparsity, begin_step=0, end_step=end,
                           frequency=frequency or max(1, end // 10))


def _oneshot_eval(model, sparsity, criterion, scope, x, y, x_test, y_test, seed) -> metrics.Evaluation:
    """Test accuracy and loss of ``model`` pruned one-shot to ``sparsity`` (no retraining)."""
    if sparsity <= 0:
        return metrics.evaluate(model, x_test, y_test)
    masks = current_masks(model, sparsity, criterion=criterion, scope=scope, x=x, y=y, seed=seed)
    return metrics.evaluate(mk.apply_masks(model, masks), x_test, y_test)


def run_gradual(model, data, *, final_sparsity: float, initial_sparsity: float = 0.0, epochs: int = 2,
                frequency: int | None = None, end_fraction: float = 0.75, criterion: str = "magnitude",
                scope: str = "layer", batch_size: int = 32, learning_rate: float = 1e-3, seed: int = 0,
                l1: float = 0.0, progress: Progress | None = None, on_epoch: OnEpoch | None = None,
                settings: dict | None = None, dense_accuracy: float | None = None, latency_repeats: int = 10,
                label: str | None = None) -> RunResult:
    """Train a copy while pruning it on a polynomial schedule from ``initial_sparsity`` to ``final_sparsity``
    (weights, exact counts per ``scope``; scores by ``criterion`` on the current weights).

    ``loops.gradual_prune`` with per-epoch ``on_epoch`` and test-split validation in the history.
    """
    _check_training(epochs, batch_size, learning_rate)
    check_fraction(final_sparsity, "final sparsity")
    get_criterion(criterion)
    check_scope(scope)
    l1 = check_l1(l1)
    x, y, x_test, y_test = as_arrays(data)
    if progress:
        progress(0.0, "Copying the model and setting up the pruning schedule…")
    dense_eval, dense_scored = _dense(model, x_test, y_test, dense_accuracy)
    schedule = default_schedule(len(x), final_sparsity=final_sparsity, initial_sparsity=initial_sparsity,
                                epochs=epochs, batch_size=batch_size, frequency=frequency, end_fraction=end_fraction)
    dense_gzip = gzip_in_background(model)
    started = time.perf_counter()
    pruned, gradual = gradual_prune(with_l1(model, l1) if l1 else model, x, y, final_sparsity, epochs=epochs,
                                    batch_size=batch_size, schedule=schedule, criterion=criterion, scope=scope,
                                    learning_rate=learning_rate, seed=seed, validation=(x_test, y_test),
                                    progress=progress, callbacks=[epoch_logger(on_epoch)])
    seconds = time.perf_counter() - started
    if progress:
        progress(1.0, "Measuring the pruned model…")
    pruned_eval = _oneshot_eval(model, final_sparsity, criterion, scope, x, y, x_test, y_test, seed)
    events = [{"step": e.step, "target": e.target, "sparsity": e.sparsity} for e in gradual.events]
    engine = dict(mode="gradual", epochs=int(epochs), batch_size=int(batch_size), learning_rate=float(learning_rate),
                  seed=int(seed), l1=l1, granularity="weight", criterion=criterion, scope=scope,
                  initial_sparsity=float(initial_sparsity), target_sparsity=float(final_sparsity),
                  frequency=int(schedule.frequency), end_step=int(schedule.end_step))
    return finish("gradual", _settings(settings, **engine), model, dense_eval, pruned_eval, pruned,
                   gradual.mask_set if gradual.mask_set.kernels else None, x_test, y_test, seconds=seconds,
                   history=gradual.history, latency_repeats=latency_repeats, events=events, label=label,
                   class_names=class_names_of(data), dense_scored=dense_scored, dense_gzip=dense_gzip)


# --- iterative ----------------------------------------------------------------------------------------

def _round_record(step) -> dict:
    """A ``loops.IterativeStep`` as the plain record stored with a run."""
    return {"round": step.step, "sparsity": float(step.sparsity), "pruned_accuracy": step.pruned_accuracy,
            "accuracy": step.accuracy, "within_tolerance": step.within_tolerance, "seconds": step.seconds,
            "learning_rate": step.learning_rate}


def run_iterative(model, data, *, step_fraction: float = 0.2, fine_tune_epochs: int = 1, tolerance: float = 0.01,
                  target_sparsity: float = 0.9, max_rounds: int = 20, criterion: str = "magnitude",
                  scope: str = "layer", batch_size: int = 32, learning_rate: float | str = 1e-3, seed: int = 0,
                  l1: float = 0.0, on_round: OnRound | None = None, progress: Progress | None = None,
                  on_epoch: OnEpoch | None = None, settings: dict | None = None,
                  dense_accuracy: float | None = None, latency_repeats: int = 10,
                  label: str | None = None, retrain: str = "finetune", original_schedule=None,
                  rewind_weights=None) -> RunResult:
    """Prune ``step_fraction`` of the remaining weights, retrain ``fine_tune_epochs``, evaluate; repeat.

    ``retrain``, ``original_schedule``, ``rewind_weights``: the retraining strategy of every round, as in
    :func:`run_oneshot` (with weight rewinding each round's mask comes from the trained weights, and the
    kept weights restart from ``rewind_weights``: iterative magnitude pruning as in the lottery-ticket work).

    Round k holds sparsity min(1 − (1 − step_fraction)^k, target_sparsity). Stops when test accuracy
    falls below dense − ``tolerance`` (that round is recorded, its model not kept), when the target is
    reached, or after ``max_rounds``. The result's model is the last round within tolerance (the dense
    model when none was). ``loops.iterative_prune`` on the test split, plus ``on_round(record)``
    after each round and per-epoch ``on_epoch``. ``learning_rate="auto"``: each round at the measured rate for its
    sparsity (``spec.default_learning_rate``); every round record says its rate.
    """
    # the loop's own arguments (fraction, tolerance, target, rounds, epochs, strategy) are checked once, by
    # iterative_prune (train.loops.check_iterative), before it evaluates the dense model
    _check_training(None, batch_size, 1.0 if is_auto_rate(learning_rate) else learning_rate)
    get_criterion(criterion)
    check_scope(scope)
    l1 = check_l1(l1)
    x, y, x_test, y_test = as_arrays(data)
    dense_gzip = gzip_in_background(model)
    started = time.perf_counter()

    def report_round(step) -> None:
        if on_round:
            on_round(_round_record(step))

    def epoch_log(k: int) -> list:
        return [epoch_logger(on_epoch, {"round": k}, offset=(k - 1) * fine_tune_epochs)]

    loop = iterative_prune(with_l1(model, l1) if l1 else model, x, y, x_test, y_test, fraction=step_fraction,
                           fine_tune_epochs=fine_tune_epochs, tolerance=tolerance, target_sparsity=target_sparsity,
                           max_rounds=max_rounds, criterion=criterion, scope=scope, batch_size=batch_size,
                           learning_rate=learning_rate, seed=seed, baseline_accuracy=dense_accuracy, progress=progress,
                           on_round=report_round, round_callbacks=epoch_log, retrain_strategy=retrain,
                           original_schedule=original_schedule, rewind_weights=rewind_weights)
    dense_eval = loop.baseline_accuracy
    best, best_masks, stopped = loop.model, loop.mask_set, loop.stopped_because
    rounds = [_round_record(step) for step in loop.steps]
    history: dict[str, list] = {"loss": [], "accuracy": [], "round": []}
    for step in loop.steps:
        for key in ("loss", "accuracy"):
            history[key].extend(step.history.get(key, []))
        history["round"].extend([step.step] * fine_tune_epochs)
    seconds = time.perf_counter() - started
    if progress:
        progress(1.0, f"Stopped: {stopped}. Measuring…")
    held = best_masks.overall_sparsity if best_masks is not None else 0.0
    pruned_eval = _oneshot_eval(model, held, criterion, scope, x, y, x_test, y_test, seed)
    engine = dict(mode="iterative", epochs=int(fine_tune_epochs), fine_tune_epochs=int(fine_tune_epochs),
                  batch_size=int(batch_size), learning_rate=learning_rate if is_auto_rate(learning_rate)
                  else float(learning_rate), seed=int(seed), l1=l1,
                  granularity="weight", criterion=criterion, scope=scope, step_fraction=float(step_fraction),
                  tolerance=float(tolerance), target_sparsity=float(target_sparsity), max_rounds=int(max_rounds),
                  retrain=retrain)
    return finish("iterative", _settings(settings, **engine), model, dense_eval, pruned_eval, best, best_masks,
                   x_test, y_test, seconds=seconds, history=history, latency_repeats=latency_repeats,
                   rounds=rounds, stopped_because=stopped, label=label, class_names=class_names_of(data),
                   dense_gzip=dense_gzip)



def run_sparse(model, data, *, sparsity: float, method: str = "rigl", distribution: str = "uniform", epochs: int = 2,
               update_every: int | None = None, drop_fraction: float = 0.3, from_init: bool = False,
               batch_size: int = 32, learning_rate: float = 1e-3, seed: int = 0, l1: float = 0.0,
               progress: Progress | None = None, on_epoch: OnEpoch | None = None, settings: dict | None = None,
               dense_accuracy: float | None = None, latency_repeats: int = 10, label: str | None = None) -> RunResult:
    """Sparse training (:mod:`prune_core.train.sparse`: RigL or SET): train ``epochs`` at ``sparsity`` from the
    start with the connections moving, from ``model`` (or, ``from_init``, a freshly initialised copy of it).

    ``pruned_accuracy`` is the starting point's: the model masked to its initial connectivity, untrained. ``events``
    lists every update (step, drop fraction, connections moved in all and per layer)."""
    _check_training(epochs, batch_size, learning_rate)
    check_fraction(sparsity, "sparsity")
    if check_l1(l1):
        raise ValueError("Sparse training moves connections by magnitude; an L1 penalty would bias which ones move. "
                         "Use l1=0 with mode 'sparse'.")
    x, y, x_test, y_test = as_arrays(data)
    if progress:
        progress(0.0, f"Setting up {method.upper()} sparse training at {sparsity:.1%}…")
    dense_eval, dense_scored = _dense(model, x_test, y_test, dense_accuracy)
    start = initialised_copy(model, seed) if from_init else model
    dense_gzip = gzip_in_background(model)
    started = time.perf_counter()
    trained, result = sparse_train(start, x, y, sparsity, method=method, distribution=distribution, epochs=epochs,
                                   update_every=update_every, drop_fraction=drop_fraction, batch_size=batch_size,
                                   learning_rate=learning_rate, seed=seed, validation=(x_test, y_test),
                                   progress=progress, callbacks=[epoch_logger(on_epoch)])
    seconds = time.perf_counter() - started
    if progress:
        progress(1.0, "Measuring the sparse model…")
    pruned_eval = metrics.evaluate(mk.apply_masks(start, result.initial), x_test, y_test)
    events = [{"step": u.step, "fraction": u.fraction, "moved": u.moved, "per_layer": u.per_layer}
              for u in result.updates]
    engine = dict(mode="sparse", epochs=int(epochs), batch_size=int(batch_size), learning_rate=float(learning_rate),
                  seed=int(seed), granularity="weight", target_sparsity=float(sparsity), sparse_method=method,
                  distribution=distribution, update_every=int(result.schedule.update_every),
                  drop_fraction=float(drop_fraction), end_step=int(result.schedule.end_step), init=bool(from_init))
    return finish("sparse", _settings(settings, **engine), model, dense_eval, pruned_eval, trained, result.mask_set,
                   x_test, y_test, seconds=seconds, history=result.history, latency_repeats=latency_repeats,
                   events=events, label=label, class_names=class_names_of(data), dense_scored=dense_scored,
                   dense_gzip=dense_gzip)
