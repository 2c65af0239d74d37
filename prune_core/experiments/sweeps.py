"""Sweeps: per-layer sensitivity scans and criteria × sparsity sweeps.

- :func:`layer_sensitivity` — prune ONE layer at a time to each sparsity (no retraining) and measure
  test accuracy; one scratch copy of the model is reused for every point (``preview.MaskedScratch``).
- :func:`max_sparsity_within` — per layer, the largest scanned sparsity whose accuracy (and that of
  every lower scanned sparsity) stays within ``max_drop`` of dense: values for the Prune page.
- :func:`criteria_sweep` — for each criterion and sparsity: prune the dense model (exact counts),
  measure, fine-tune briefly with the mask held, measure again.

>>> import pandas as pd
>>> df = pd.DataFrame({"layer": ["a"] * 3, "sparsity": [0.1, 0.5, 0.9], "accuracy": [0.98, 0.975, 0.5]})
>>> max_sparsity_within(df, dense_accuracy=0.98, max_drop=0.01)
{'a': 0.5}
"""

from __future__ import annotations

import numpy as np

import time


from ..graph import weight_targets
from ..io.data import as_arrays
from ..measure.metrics import evaluate, saved_model_bytes
from ..measure.preview import MaskedScratch
from ..methods import masks as mk
from ..methods.criteria import all_weight_scores, weight_scores
from ..methods.thresholds import check_fraction, check_scope, prune_count, sparsity_select
from ..train.callbacks import Progress
from ..train.fit import fine_tune

DEFAULT_SPARSITIES = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
SWEEP_SPARSITIES = (0.5, 0.7, 0.8, 0.9, 0.95, 0.98)
SENSITIVITY_COLUMNS = ("layer", "sparsity", "accuracy", "loss")
SWEEP_COLUMNS = ("criterion", "sparsity", "pruned_accuracy", "final_accuracy", "held_sparsity", "seconds")


def _check_sparsities(sparsities) -> list[float]:
    values = [check_fraction(s, "sparsity") for s in sparsities]
    if not values:
        raise ValueError("Give at least one sparsity to scan.")
    return values


def layer_sensitivity(model, x_test, y_test, sparsities=DEFAULT_SPARSITIES, criterion: str = "magnitude", *,
                      x_train=None, y_train=None, layers=None, seed: int = 0,
                      progress: Progress | None = None, executor=None):
    """DataFrame[layer, sparsity, accuracy, loss]: each kernel (weight target) pruned alone (exact count of its
    lowest-scoring weights by ``criterion``), nothing retrained, measured on (x_test, y_test).

    Scores are computed once on the dense model (sensitivity / taylor need ``x_train``, ``y_train``).
    ``layers``: names to scan (default: every prunable layer, in model order). The caller's model is
    not touched. ``executor``: where the layers are scanned, one task per layer (as :func:`criteria_sweep`:
    "local", the default, or "ray" / a ``RayExecutor``); the numbers are the same on either. A layer whose task
    failed twice has NaN accuracies and its reason in ``failed``.
    """
    import pandas as pd

    from .executor import TaskFailed

    sparsities = _check_sparsities(sparsities)
    names = [target.key for target in weight_targets(model)]  # every kernel: attention, Embedding, RNN too
    if layers is not None:
        unknown = [n for n in layers if n not in names]
        if unknown:
            raise ValueError(f"Not prunable layers of this model: {', '.join(map(str, unknown))}.")
        names = [n for n in names if n in set(layers)]
    scores = weight_scores(model, criterion, x_train, y_train, seed=seed)
    payloads = [dict(layer=name, sparsities=list(sparsities)) for name in names]
    total, finished = len(names) * len(sparsities), []

    def point(layer_index, row):  # in this process: a progress line per evaluation
        if progress:
            done = len(finished) * len(sparsities) + layer_index
            progress(done / total, f"{row['layer']} at {row['sparsity']:.0%}: accuracy {row['accuracy']:.2%}")

    def on_result(i, rows):
        finished.append(i)
        if progress and not local:
            text = ("failed: " + rows.reason) if isinstance(rows, TaskFailed) else \
                f"accuracy {rows[0]['accuracy']:.2%} → {rows[-1]['accuracy']:.2%}"
            progress(len(finished) * len(sparsities) / total, f"{names[i]}: {text}")

    runner, local, shared = _ship(model, executor, dict(test=(x_test, y_test), scores=scores), point,
                                  progress, f"the model and {len(names)} layers to scan")
    out = []
    for payload, rows in zip(payloads, runner.map(sensitivity_task, payloads, shared=shared, on_result=on_result)):
        if isinstance(rows, TaskFailed):
            rows = [{"layer": payload["layer"], "sparsity": float(s), "accuracy": np.nan, "loss": np.nan,
                     "failed": rows.reason} for s in sparsities]
        out.extend(rows)
    columns = list(SENSITIVITY_COLUMNS) + (["failed"] if any("failed" in r for r in out) else [])
    return pd.DataFrame(out, columns=columns)


def _ship(model, executor, shared: dict, report, progress, what: str):
    """(runner, whether it runs here, the tasks' shared dict): in this process the model itself, a scratch copy
    and ``report`` (progress from inside a task); elsewhere the model as ``.keras`` bytes, loaded once per worker."""
    from .executor import get_executor, LocalExecutor

    runner = get_executor(executor)
    if isinstance(runner, LocalExecutor):
        return runner, True, {**shared, "model": model, "scratch": MaskedScratch(model), "report": report}
    if progress:
        progress(0.0, f"Sending {what} to {runner.name}…")
    return runner, False, {**shared, "model": saved_model_bytes(model)}


def sensitivity_task(shared: dict, payload: dict) -> list[dict]:
    """One layer of a sensitivity scan (a task for an executor): the layer pruned alone to each sparsity by the
    shared scores (exact counts), measured on the shared test split; one row per sparsity."""
    _, scratch = _model_of(shared)
    x_test, y_test = shared["test"]
    name, report, rows = payload["layer"], shared.get("report"), []
    for i, sparsity in enumerate(payload["sparsities"]):
        keep, threshold = sparsity_select(shared["scores"][name], sparsity)
        result = scratch.evaluate(mk.MaskSet(kernels={name: keep}, thresholds={name: threshold}), x_test, y_test)
        rows.append({"layer": name, "sparsity": float(sparsity), "accuracy": result.accuracy, "loss": result.loss})
        if report:
            report(i + 1, rows[-1])
    return rows


def max_sparsity_within(df, dense_accuracy: float, max_drop: float) -> dict[str, float]:
    """{layer: the largest scanned sparsity s such that accuracy >= dense − ``max_drop`` at s and at every
    lower scanned sparsity of that layer}; 0.0 when even the lowest one drops too much.

    ``max_drop`` is a fraction (0.01 = one accuracy point). Layers keep their order of appearance.
    """
    if not max_drop >= 0:
        raise ValueError(f"The allowed accuracy drop must be >= 0; got {max_drop!r}.")
    floor = float(dense_accuracy) - float(max_drop)
    result: dict[str, float] = {}
    for layer in dict.fromkeys(df["layer"]):
        best = 0.0
        rows = df[df["layer"] == layer].sort_values("sparsity")
        for sparsity, accuracy in zip(rows["sparsity"], rows["accuracy"]):
            if accuracy < floor - 1e-12:
                break
            best = float(sparsity)
        result[str(layer)] = best
    return result


TRAIN_PASS_COST = 3.0  # a training step costs about three forward passes (forward, backward, update)


def estimate_sweep_seconds(points: int, fine_tune_epochs: int, *, eval_seconds: float, test_samples: int,
                           train_samples: int) -> float:
    """Seconds a criteria sweep of ``points`` (criterion, sparsity) pairs should take on a model whose test-split
    evaluation took ``eval_seconds`` for ``test_samples``: per point two evaluations (pruned, fine-tuned) and
    ``fine_tune_epochs`` passes over ``train_samples`` at :data:`TRAIN_PASS_COST` forward passes each. An
    estimate from one timed step, extrapolated (the scoring pass and compilation are not counted).

    >>> estimate_sweep_seconds(10, 1, eval_seconds=0.5, test_samples=2000, train_samples=8000)
    70.0
    >>> estimate_sweep_seconds(10, 0, eval_seconds=0.5, test_samples=2000, train_samples=8000)
    5.0
    """
    if points < 0 or fine_tune_epochs < 0 or eval_seconds < 0 or test_samples <= 0:
        raise ValueError("points, epochs and the evaluation time must be >= 0 and the test split non-empty.")
    per_sample = eval_seconds / test_samples
    evaluations = (2 if fine_tune_epochs else 1) * eval_seconds
    training = fine_tune_epochs * TRAIN_PASS_COST * per_sample * train_samples
    return float(points * (evaluations + training))


def criteria_sweep(model, data, criteria, sparsities=SWEEP_SPARSITIES, fine_tune_epochs: int = 1, *,
                   scope: str = "layer", batch_size: int = 32, learning_rate: float = 1e-3, seed: int = 0,
                   score_batches: int = 4, progress: Progress | None = None, executor=None):
    """DataFrame[criterion, sparsity, pruned_accuracy, final_accuracy, held_sparsity, seconds].

    For each criterion (scores once on the dense model) and each sparsity: exact-count weight masks
    (``scope`` "layer" or "global"), test accuracy pruned, then ``fine_tune_epochs`` of masked fine-tuning
    (0: none, final = pruned) and test accuracy again. ``held_sparsity`` is the mask's real overall
    sparsity. ``data``: a Dataset or (x_train, y_train, x_test, y_test). ``executor``: where the points run
    (:mod:`prune_core.experiments.executor`: "local", the default, or "ray" / a ``RayExecutor``); the same seeds give
    the same numbers on either. A point that failed twice has NaN accuracies and its reason in ``failed``.
    """
    import pandas as pd

    from .executor import TaskFailed

    criteria = list(criteria)
    if not criteria:
        raise ValueError("Choose at least one criterion to compare.")
    sparsities = _check_sparsities(sparsities)
    check_scope(scope)
    if fine_tune_epochs < 0:
        raise ValueError(f"The fine-tuning epochs must be >= 0; got {fine_tune_epochs!r}.")
    x, y, x_test, y_test = as_arrays(data)
    all_scores = all_weight_scores(model, x, y, criteria=criteria, batches=score_batches, seed=seed)
    settings = dict(scope=scope, epochs=int(fine_tune_epochs), batch_size=batch_size, learning_rate=learning_rate,
                    seed=seed)
    payloads = [dict(index=i, criterion=c, sparsity=float(s), **settings)
                for i, (c, s) in enumerate((c, s) for c in criteria for s in sparsities)]
    total = len(payloads)
    finished = []

    def within(i, fraction, message):  # in this process: progress inside a point's fine-tuning too
        if progress:
            p = payloads[i]
            progress(min(1.0, (len(finished) + fraction) / total), f"{p['criterion']} at {p['sparsity']:.0%} · {message}")

    runner, _, shared = _ship(model, executor, dict(data=(x, y, x_test, y_test), scores=all_scores), within,
                              progress, f"the model and {total} sweep points")

    def on_result(i, row):
        finished.append(i)
        if progress:
            p = payloads[i]
            text = ("failed: " + row.reason) if isinstance(row, TaskFailed) else \
                f"{row['pruned_accuracy']:.2%} → {row['final_accuracy']:.2%}"
            progress(len(finished) / total, f"{p['criterion']} at {p['sparsity']:.0%}: {text}")

    rows = runner.map(sweep_point, payloads, shared=shared, on_result=on_result)
    out = []
    for payload, row in zip(payloads, rows):
        if isinstance(row, TaskFailed):
            row = {"criterion": payload["criterion"], "sparsity": payload["sparsity"], "pruned_accuracy": np.nan,
                   "final_accuracy": np.nan, "held_sparsity": np.nan, "seconds": np.nan, "failed": row.reason}
        out.append(row)
    columns = list(SWEEP_COLUMNS) + (["failed"] if any("failed" in r for r in out) else [])
    return pd.DataFrame(out, columns=columns)


_WORKER_MODELS: dict = {}  # in a Ray worker: the shared model loaded once per worker process, by its bytes' hash


def _model_of(shared: dict):
    """(dense model, scratch copy for masked evaluation): the caller's in this process; in a worker, loaded from the
    ``.keras`` bytes (safe mode) once per worker process."""
    if "scratch" in shared:
        return shared["model"], shared["scratch"]
    import hashlib

    raw = shared["model"]
    key = hashlib.sha256(raw).hexdigest()
    if key not in _WORKER_MODELS:
        import tempfile

        import keras

        with tempfile.NamedTemporaryFile(suffix=".keras") as handle:
            handle.write(raw)
            handle.flush()
            model = keras.saving.load_model(handle.name, compile=False, safe_mode=True)
        _WORKER_MODELS.clear()  # one model at a time per worker
        _WORKER_MODELS[key] = (model, MaskedScratch(model))
    return _WORKER_MODELS[key]


def sweep_point(shared: dict, payload: dict) -> dict:
    """One point of a criteria sweep: prune the dense model to ``payload["sparsity"]`` by its criterion's scores,
    measure, fine-tune ``epochs`` with the mask held, measure again (a task for an executor)."""
    started = time.perf_counter()
    model, scratch = _model_of(shared)
    x, y, x_test, y_test = shared["data"]
    criterion, sparsity = payload["criterion"], payload["sparsity"]
    mask_set = mk.build_masks(shared["scores"][criterion], "sparsity", sparsity, scope=payload["scope"])
    pruned_accuracy = scratch.evaluate(mask_set, x_test, y_test).accuracy
    final_accuracy = pruned_accuracy
    if payload["epochs"]:
        report = shared.get("report")
        inner = (lambda fraction, message: report(payload["index"], fraction, message)) if report else None
        tuned, _ = fine_tune(model, mask_set, x, y, epochs=payload["epochs"], batch_size=payload["batch_size"],
                             learning_rate=payload["learning_rate"], seed=payload["seed"], progress=inner)
        final_accuracy = evaluate(tuned, x_test, y_test).accuracy
    return {"criterion": criterion, "sparsity": float(sparsity), "pruned_accuracy": pruned_accuracy,
            "final_accuracy": final_accuracy, "held_sparsity": float(mask_set.overall_sparsity),
            "seconds": time.perf_counter() - started}


def within_table(df, dense_accuracy: float, best: dict[str, float], shapes: dict[str, tuple]):
    """One row per layer for the values :func:`max_sparsity_within` chose: layer, shape, weights, the largest
    sparsity (fraction), weights pruned there (exact count), the accuracy measured there and the drop below
    dense (fractions).

    >>> import pandas as pd
    >>> df = pd.DataFrame({"layer": ["a", "a"], "sparsity": [0.1, 0.5], "accuracy": [0.98, 0.97]})
    >>> row = within_table(df, 0.98, {"a": 0.5}, {"a": (4, 5)}).iloc[0]
    >>> row["weights"], row["pruned"], row["accuracy"], round(row["drop"], 6)
    (np.int64(20), np.int64(10), np.float64(0.97), np.float64(0.01))
    """
    import pandas as pd


    rows = []
    for layer, sparsity in best.items():
        size = int(np.prod(shapes[layer], dtype=np.int64))
        at = df[(df["layer"] == layer) & (df["sparsity"] == sparsity)]
        accuracy = float(at["accuracy"].iloc[0]) if len(at) else float(dense_accuracy)
        rows.append({"layer": layer, "shape": tuple(shapes[layer]), "weights": size, "sparsity": float(sparsity),
                     "pruned": prune_count(size, sparsity), "accuracy": accuracy,
                     "drop": float(dense_accuracy) - accuracy})
    return pd.DataFrame(rows, columns=["layer", "shape", "weights", "sparsity", "pruned", "accuracy", "drop"])


def combined_sparsity(best: dict[str, float], shapes: dict[str, tuple]) -> float:
    """Share of all the layers' weights pruned when each takes its value (exact counts, as the Prune page).

    >>> combined_sparsity({"a": 0.5, "b": 0.0}, {"a": (10,), "b": (30,)})
    0.125
    """
    sizes = {layer: int(np.prod(shape, dtype=np.int64)) for layer, shape in shapes.items()}
    total = sum(sizes.values())
    return sum(prune_count(sizes[layer], s) for layer, s in best.items()) / total if total else 0.0
