"""A retrain run's result and its measurements: :class:`RunResult` (what every run function returns),
:func:`measure` (sizes and latency of one model) and :func:`finish` (the final, dense and compact models measured
into a result), split from :mod:`prune_core.experiments.runs`, which holds the run functions.

Measuring is where a run spends what training does not, so it is done once each: one prediction of the test split
per model serves its accuracy, its loss and the per-class view (:class:`Scored`); the dense model's gzip size is
compressed in a background thread while the training step is traced (:func:`gzip_in_background`); latency on a
big model times a few calls, not thirteen (``metrics.latency_ms``'s ``budget_s``).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from ..graph import kernels
from ..graph.surgery import compact as compact_graph
from ..io.jsonable import to_jsonable
from ..measure import metrics
from ..methods import masks as mk
from ..train.regularize import has_l1, without_l1

LATENCY_BUDGET_S = 2.0  # about how long a run times each model's latency (at least 3 calls; see metrics.latency_ms)


# --- measuring ---------------------------------------------------------------------------------------

def layer_sparsity(model) -> dict[str, float]:
    """{prunable layer: share of its kernel entries that are exactly zero}."""
    return {n: (1.0 - np.count_nonzero(k) / k.size) if k.size else 0.0 for n, k in kernels(model).items()}


def measure(model, x=None, *, latency_repeats: int = 10, gzip_bytes: Callable[[], int] | None = None) -> dict:
    """params, nonzero_params, sparsity (prunable kernels), layer_sparsity, float32/sparse/gzip bytes and
    latency_ms (median of up to ``latency_repeats`` batches of 256 from ``x``, fewer on a big model — about
    :data:`LATENCY_BUDGET_S` of timed calls, at least 3; None when ``latency_repeats`` is 0). ``gzip_bytes``: the
    gzip size already under way (:func:`gzip_in_background`) instead of saving and compressing the model here."""
    summary = metrics.size_summary(model, include_gzip=gzip_bytes is None)
    gzipped = summary["gzip_bytes"] if gzip_bytes is None else gzip_bytes()
    latency = metrics.latency_ms(model, x, repeats=latency_repeats, budget_s=LATENCY_BUDGET_S) \
        if latency_repeats else None
    return {"params": summary["params"], "nonzero_params": summary["nonzero"],
            "sparsity": summary["prunable_sparsity"], "layer_sparsity": layer_sparsity(model),
            "float32_bytes": summary["float32_bytes"], "sparse_bytes": summary["sparse_bytes"],
            "gzip_bytes": gzipped, "latency_ms": latency}


def gzip_in_background(model) -> Callable[[], int]:
    """Start measuring ``model``'s gzip bytes (``metrics.gzip_bytes``, the same number): the model is saved here
    (Keras, this thread) and its bytes compressed in a background thread — zlib lets go of the GIL, so it runs on a
    core that tracing the training step (one busy Python thread) leaves idle. Call the returned function for the
    number; it waits for the thread and raises what the compression raised."""
    raw = metrics.canonical_keras_bytes(metrics.saved_model_bytes(model))
    box: dict = {}

    def work() -> None:
        try:
            box["size"] = metrics.gzipped_size(raw)
        except BaseException as exc:  # noqa: BLE001 — handed to the caller below
            box["error"] = exc

    thread = threading.Thread(target=work, name="gzip-size", daemon=True)
    thread.start()

    def result() -> int:
        thread.join()
        if "error" in box:
            raise box["error"]
        return box["size"]

    return result


def gzip_at_last_step(total_steps: int):
    """A Keras callback that starts the trained model's gzip size (:func:`gzip_in_background`) right after training
    step ``total_steps`` (the last: its weights are the final ones), so that it compresses while Keras validates
    and the run scores the final model; ``.size`` is then the function giving the number (None before that step)."""
    import keras

    from ..train.callbacks import live_weights

    class _GzipFinal(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.step, self.size = 0, None

        def on_train_batch_end(self, batch, logs=None):
            self.step += 1
            if self.step == total_steps:
                live_weights(self.model)  # JAX: the trained state into the variables
                self.size = gzip_in_background(self.model)

    return _GzipFinal()


@dataclass(frozen=True)
class Scored:
    """One prediction of the test split: its :class:`metrics.Evaluation` and the softmax outputs it came from, so
    the per-class view needs no second prediction."""

    evaluation: metrics.Evaluation
    probabilities: np.ndarray

    def class_accuracy(self, y, num_classes: int | None = None) -> metrics.ClassAccuracy:
        return metrics.class_accuracy_of(self.probabilities, y, num_classes)


def score(model, x_test, y_test) -> Scored:
    """``model`` on the test split, predicted once (``metrics.evaluate``'s numbers exactly)."""
    probabilities = metrics.predict_probabilities(model, x_test)
    return Scored(metrics.evaluate_probabilities(probabilities, y_test), probabilities)


def class_change(dense: Scored, final: Scored, y_test, class_names=None):
    """``metrics.class_accuracy_change`` from two predictions already made."""
    before = dense.class_accuracy(y_test)
    return metrics.class_change_table(before, final.class_accuracy(y_test, num_classes=len(before.counts)),
                                      class_names)


# --- the result -------------------------------------------------------------------------------------

RECORD_FIELDS = ("mode", "label", "settings", "dense_accuracy", "pruned_accuracy", "pruned_loss", "final_accuracy",
                 "final_loss",
                 "sparsity", "layer_sparsity", "params", "nonzero_params", "float32_bytes", "sparse_bytes",
                 "gzip_bytes", "latency_ms", "seconds", "dense", "history", "rounds", "events",
                 "stopped_because", "compact", "reconstructed_accuracy")


@dataclass
class RunResult:
    """One retrain run: settings, accuracies, sizes, timings, curves, and the final model.

    Accuracies are fractions on the test split: ``dense_accuracy`` (the model handed in),
    ``pruned_accuracy`` (pruned, before any retraining: for gradual and iterative runs, the dense
    model pruned one-shot to the run's final sparsity with the same criterion and scope),
    ``final_accuracy`` (after retraining). ``sparsity`` / ``layer_sparsity``: zeros in the prunable
    kernels of the final model. ``dense``: the same size figures for the dense model (the chart's
    baseline). ``history``: per-epoch ``loss``, ``accuracy``, ``val_loss``, ``val_accuracy`` (iterative:
    ``loss``/``accuracy`` of every fine-tuning epoch and its ``round``). ``rounds``: iterative rounds
    (round, sparsity, pruned_accuracy, accuracy, within_tolerance, seconds); ``events``: gradual mask
    updates (step, target, sparsity). ``compact``: for unit pruning, the physically smaller model's
    params, float32/gzip bytes, latency and accuracy.
    """

    mode: str
    settings: dict
    dense_accuracy: float
    pruned_accuracy: float
    final_accuracy: float
    final_loss: float
    sparsity: float
    layer_sparsity: dict
    params: int
    nonzero_params: int
    float32_bytes: int
    sparse_bytes: int
    gzip_bytes: int
    latency_ms: float | None
    seconds: float
    dense: dict
    history: dict = field(default_factory=dict)
    rounds: list = field(default_factory=list)
    events: list = field(default_factory=list)
    stopped_because: str = ""
    compact: dict | None = None
    label: str = ""
    pruned_loss: float = float("nan")
    reconstructed_accuracy: float | None = None  # pruned and reconstructed, before any retraining (None: not done)
    reconstruction: dict | None = field(default=None, repr=False, compare=False)  # per-layer errors, not recorded
    model: Any = field(default=None, repr=False, compare=False)
    mask_set: mk.MaskSet | None = field(default=None, repr=False, compare=False)
    compact_model: Any = field(default=None, repr=False, compare=False)
    # per class on the test split (metrics.class_accuracy_change: class, count, dense, pruned = this run's final
    # model, change), worst drop first; not recorded in the history
    class_accuracy: Any = field(default=None, repr=False, compare=False)

    @property
    def accuracy_drop(self) -> float:
        """dense − final accuracy (fraction; positive = worse than dense)."""
        return self.dense_accuracy - self.final_accuracy

    def to_record(self) -> dict:
        """JSON-ready dict of settings and metrics (no model, no masks): what the run history stores."""
        return to_jsonable({name: getattr(self, name) for name in RECORD_FIELDS})


def run_label(mode: str, settings: dict, sparsity: float) -> str:
    """The run's one-line label: mode · criterion · scope · sparsity (· reconstructed · strategy · L1)."""
    parts = [mode, settings.get("sparse_method") or settings.get("criterion"), settings.get("scope"), f"{sparsity:.1%}"]
    if settings.get("reconstruct"):
        parts.append("reconstructed")
    if settings.get("retrain") not in (None, "finetune"):
        parts.append(settings["retrain"])
    if settings.get("l1"):
        parts.append(f"L1 {settings['l1']:g}")
    return " · ".join(str(p) for p in parts if p)


def finish(mode, settings, model, dense_eval, pruned_eval, final, mask_set, x_test, y_test, *, seconds,
           history, latency_repeats, rounds=(), events=(), stopped_because="", compact=False,
           dense_size=None, label=None, class_names=None, dense_scored: Scored | None = None,
           dense_gzip: Callable[[], int] | None = None, final_gzip: Callable[[], int] | None = None) -> RunResult:
    """Measure the final model (and the dense one, and the compact one where asked) into a :class:`RunResult`.

    ``dense_scored``: the dense model's test prediction when the run made one (reused for the per-class view);
    ``dense_gzip`` / ``final_gzip``: their gzip sizes under way (:func:`gzip_in_background`; ``final_gzip`` only
    for ``final`` itself, not an L1-free copy) — waited for before any latency is timed, so that none is timed while
    a core compresses."""
    dense_gzip_bytes = dense_gzip() if dense_gzip is not None and dense_size is None else None
    if has_l1(final):
        final, final_gzip = without_l1(final), None
    final_scored = score(final, x_test, y_test)
    per_class = None
    if len(y_test):
        per_class = class_change(dense_scored or score(model, x_test, y_test), final_scored, y_test, class_names)
    sample = x_test[:256]
    size = measure(final, sample, latency_repeats=latency_repeats, gzip_bytes=final_gzip)
    dense = dense_size or {k: v for k, v in measure(
        model, sample, latency_repeats=latency_repeats,
        gzip_bytes=None if dense_gzip_bytes is None else lambda: dense_gzip_bytes).items()
        if k not in ("layer_sparsity",)}
    dense = {**dense, "accuracy": dense_eval}
    compact_info, small = None, None
    if compact and mask_set is not None and mask_set.units:
        compact_info, small = compact_record(final, mask_set, sample, x_test, y_test, latency_repeats)
    settings = dict(settings)
    final_eval = final_scored.evaluation
    return RunResult(
        mode=mode, settings=settings, dense_accuracy=dense_eval, pruned_accuracy=pruned_eval.accuracy,
        pruned_loss=pruned_eval.loss,
        final_accuracy=final_eval.accuracy, final_loss=final_eval.loss, sparsity=size["sparsity"],
        layer_sparsity=size["layer_sparsity"], params=size["params"], nonzero_params=size["nonzero_params"],
        float32_bytes=size["float32_bytes"], sparse_bytes=size["sparse_bytes"], gzip_bytes=size["gzip_bytes"],
        latency_ms=size["latency_ms"], seconds=seconds, dense=dense, history=history, rounds=list(rounds),
        events=list(events), stopped_because=stopped_because, compact=compact_info,
        label=label or run_label(mode, settings, size["sparsity"]), model=final, mask_set=mask_set,
        compact_model=small, class_accuracy=per_class)


def class_names_of(data):
    """The dataset's class names (a Dataset carries them; arrays do not: then classes are numbered)."""
    names = getattr(data, "class_names", None)
    return list(names) if names else None


def compact_record(final, mask_set, sample, x_test, y_test, latency_repeats) -> tuple[dict, Any]:
    """(record of the physically smaller model, the model) — never raises: a group that cannot be removed is
    left masked and listed with its reason, and a model that cannot be rebuilt keeps the run (the record
    says why), so a finished run is never thrown away."""
    try:
        small, report = compact_graph(final, mask_set.units)
    except (ValueError, TypeError, NotImplementedError) as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        return {"error": f"The pruned model could not be rebuilt smaller ({reason}); it stays masked: zeros in "
                         "place, the same accuracy, the dense size."}, None
    c = measure(small, sample, latency_repeats=latency_repeats)
    return {"params": c["params"], "nonzero_params": c["nonzero_params"], "float32_bytes": c["float32_bytes"],
            "gzip_bytes": c["gzip_bytes"], "latency_ms": c["latency_ms"],
            "accuracy": metrics.evaluate(small, x_test, y_test).accuracy,
            "units": {n: list(kept_total) for n, kept_total in report.removed.items()},
            "left_masked": dict(report.left_masked)}, small
