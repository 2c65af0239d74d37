"""One run API: :func:`run` executes a :class:`~prune_core.spec.RunSpec` for every mode — the CLI and the app's
Retrain page both call it, so the mode dispatch lives here only.

    import prune_core as pc

    spec = pc.RunSpec(mode="iterative", prune=pc.PruneSpec(criterion="magnitude", scope="global"),
                      target_sparsity=0.9, step_fraction=0.3, epochs=1)
    result = pc.run(model, dataset, spec)          # a RunResult, the caller's model untouched
"""

from __future__ import annotations

from typing import Callable

from ..methods import masks as mk
from ..pruning import select
from ..spec import default_learning_rate, is_auto_rate, RunSpec
from ..train.callbacks import OnEpoch, Progress
from . import runs


def target_sparsity(model, data, spec: RunSpec) -> float:
    """What a gradual or iterative run aims for: ``spec.target_sparsity`` when given; otherwise the sparsity
    ``spec.prune`` gives one-shot on ``model`` (so any rule names a target)."""
    if spec.target_sparsity is not None:
        return float(spec.target_sparsity)
    if spec.prune.rule == "sparsity":
        return float(spec.prune.value)
    return float(select(model, spec.prune, data=data).overall_sparsity)


def run(model, data, spec: RunSpec, *, mask_set: mk.MaskSet | None = None, dense_accuracy: float | None = None,
        settings: dict | None = None, progress: Progress | None = None, on_epoch: OnEpoch | None = None,
        on_round: Callable[[dict], None] | None = None, rewind_weights=None, original_schedule=None) -> runs.RunResult:
    """Run ``spec`` on ``model`` with ``data`` (a Dataset or (x_train, y_train, x_test, y_test)): a RunResult.

    ``mask_set``: one-shot's mask (default: ``spec.prune`` selected on ``model``). ``dense_accuracy``: the dense
    model's test accuracy when known (skips one evaluation). ``settings``: descriptive settings recorded with the run
    (architecture, data, the Prune page's values …). ``progress(fraction, text)``, ``on_epoch(epoch, logs)`` and,
    for iterative runs, ``on_round(record)`` report while it runs. Weight rewinding rewinds to ``rewind_weights``
    (``get_weights()`` early in the original training); without them a freshly initialised copy is trained one
    epoch for the rewind point. ``original_schedule``: the original training's learning rate per epoch, replayed
    by the rewinding strategies (default: the rate rewound to ``spec.learning_rate`` and annealed).
    ``spec.learning_rate="auto"``: :func:`prune_core.spec.default_learning_rate` at the mask's sparsity (one-shot),
    the target (gradual, init, sparse) or each round's (iterative); the run records the rate it used.
    """
    spec = spec.validate()
    rate = spec.learning_rate  # "auto": the measured rate at the run's sparsity (iterative: each round's, in its loop)
    if spec.mode == "oneshot" and mask_set is None:
        mask_set = select(model, spec.prune, data=data)
    if is_auto_rate(rate) and spec.mode != "iterative":
        sparsity = mask_set.overall_sparsity if spec.mode == "oneshot" else target_sparsity(model, data, spec)
        rate = default_learning_rate(spec.mode, sparsity)
    common = dict(batch_size=spec.batch_size, learning_rate=rate, seed=spec.seed, l1=spec.l1,
                  progress=progress, on_epoch=on_epoch, settings=settings, dense_accuracy=dense_accuracy,
                  latency_repeats=spec.latency_repeats, label=spec.label)
    if spec.retrain == "rewind-weights" and rewind_weights is None:
        if progress:
            progress(0.0, "Weight rewinding: training a fresh copy 1 epoch for the rewind point…")
        rewind_weights = runs.early_weights(model, data, seed=spec.seed, batch_size=spec.batch_size)
    strategy = dict(retrain=spec.retrain, original_schedule=original_schedule, rewind_weights=rewind_weights)
    if spec.mode == "oneshot":
        return runs.run_oneshot(model, mask_set, data, epochs=spec.epochs, compact=spec.compact,
                                reconstruct=spec.reconstruct, **strategy, **common)
    if spec.mode == "init":
        return runs.run_init(model, data, spec.prune, epochs=spec.epochs, compact=spec.compact, **common)
    target = target_sparsity(model, data, spec)
    if spec.mode == "sparse":
        return runs.run_sparse(model, data, sparsity=target, method=spec.sparse_method, distribution=spec.distribution,
                               epochs=spec.epochs, update_every=spec.update_every, drop_fraction=spec.drop_fraction,
                               from_init=spec.from_init, **common)
    if spec.mode == "gradual":
        return runs.run_gradual(model, data, final_sparsity=target, initial_sparsity=spec.initial_sparsity,
                                epochs=spec.epochs, criterion=spec.prune.criterion, scope=spec.prune.scope, **common)
    return runs.run_iterative(model, data, step_fraction=spec.step_fraction, fine_tune_epochs=spec.epochs,
                              tolerance=spec.tolerance, target_sparsity=target, max_rounds=spec.max_rounds,
                              criterion=spec.prune.criterion, scope=spec.prune.scope, on_round=on_round,
                              **strategy, **common)
