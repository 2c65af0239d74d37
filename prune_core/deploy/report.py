"""The comparison: every export side by side (a :class:`Row` each, measured by :func:`deploy`) in a
:class:`DeployReport`, and the verdict and headline in plain words."""

from __future__ import annotations

import os
import time
from dataclasses import asdict, dataclass, field

import numpy as np

from ..graph import layers as graph_layers
from ..io.data import as_arrays
from ..io.downloads import safe_filename
from ..measure import metrics
from ..train.callbacks import Progress
from .convert import keras_bytes, keras_int8, representative, scattered_threshold, to_tflite
from .flatbuffer import operators
from .runtime import accuracy, interpreter_name, latency_us, predict, Runner


ACCURACY_TOLERANCE = 0.01           # "within 1 point of dense" for the headline


ROW_NAMES = ("dense", "pruned", "compact", "int8", "pruned + int8", "compact + int8", "Keras int8")
ROW_HELP = {
    "dense": "the model as it was before pruning, float32",
    "pruned": "zeros in place (masked), float32, stored sparse where the converter chose to",
    "compact": "pruned neurons physically removed, float32",
    "int8": "the dense model, int8 weights and activations (post-training quantization)",
    "pruned + int8": "the pruned model, int8 (post-training quantization)",
    "compact + int8": "the compact model, int8 (post-training quantization)",
    "Keras int8": "Keras 3's own model.quantize('int8') (a Keras file; TFLite cannot convert its int8 layers)",
}


@dataclass
class Row:
    """One export: sizes, and what the interpreter measured. Unavailable numbers are None; ``reason``
    says why in one line."""

    name: str
    source: str            # dense | pruned | compact
    precision: str         # float32 | int8 | Keras int8
    params: int
    nonzero: int
    sparsity: float        # zeros among the prunable kernel weights of the source model
    keras_bytes: int | None = None
    keras_gzip_bytes: int | None = None
    tflite_bytes: int | None = None
    tflite_gzip_bytes: int | None = None
    latency_us: float | None = None
    latency_ratio: float | None = None   # latency / the dense float32 file's latency
    size_ratio: float | None = None      # TFLite bytes / the dense float32 file's bytes
    sparse_kernel: bool | None = None    # any kernel runs sparse
    densify_ops: int | None = None
    kernels: list = field(default_factory=list)  # [{layer, op, status}]
    tflite_accuracy: float | None = None
    keras_accuracy: float | None = None
    max_abs_diff: float | None = None    # |TFLite − Keras| outputs on the first test images (float32 files)
    method: str = ""
    runtime: str = ""                    # which kernels ran it: XNNPACK (LiteRT's default) or the built-in ones
    reason: str = ""
    tflite_file: bytes | None = field(default=None, repr=False)
    keras_file: bytes | None = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        return self.tflite_file is not None

    def to_record(self) -> dict:
        return {k: v for k, v in asdict(self).items() if k not in ("tflite_file", "keras_file")}


@dataclass
class DeployReport:
    """Every export side by side, with the verdict."""

    rows: list[Row]
    interpreter: str
    threads: int = 1
    runs: int = 0
    seconds: float = 0.0
    dense_keras_accuracy: float | None = None

    def row(self, name: str) -> Row | None:
        return next((r for r in self.rows if r.name == name), None)

    @property
    def dense(self) -> Row:
        return self.rows[0]

    def best(self, tolerance: float = ACCURACY_TOLERANCE) -> Row | None:
        """The fastest TFLite file within ``tolerance`` of the dense file's accuracy (the smaller on a tie)."""
        return best_row(self.rows, tolerance)

    def verdict(self) -> str:
        return verdict(self.rows)

    def headline(self, tolerance: float = ACCURACY_TOLERANCE) -> str:
        return headline(self.rows, tolerance)

    def files(self, stem: str = "model") -> list[tuple[str, str, bytes]]:
        """(label, file name, bytes) of every file: each .tflite and each .keras."""
        out = []
        for r in self.rows:
            slug = safe_filename(r.name.replace(" + ", "-").replace(" ", "-"))
            if r.tflite_file is not None:
                out.append((f"{r.name} (.tflite)", f"{stem}-{slug}.tflite", r.tflite_file))
            if r.keras_file is not None and r.precision != "int8":
                out.append((f"{r.name} (.keras)", f"{stem}-{slug}.keras", r.keras_file))
        return out

    def write(self, folder, stem: str = "model") -> list[str]:
        """Write every file into ``folder`` (created); returns the paths."""
        os.makedirs(folder, exist_ok=True)
        paths = []
        for _, name, data in self.files(stem):
            path = os.path.join(folder, name)
            with open(path, "wb") as f:
                f.write(data)
            paths.append(path)
        return paths

    def to_record(self) -> dict:
        """JSON-ready: every row (no bytes), the verdict and the headline."""
        return {"interpreter": self.interpreter, "threads": self.threads, "runs": self.runs,
                "seconds": self.seconds, "dense_keras_accuracy": self.dense_keras_accuracy,
                "verdict": self.verdict(), "headline": self.headline(),
                "rows": [r.to_record() for r in self.rows]}

    def summary_keys(self, source: str = "pruned") -> dict:
        """The CLI's flat keys for one source model (pruned by default; compact or dense when absent):
        tflite_bytes, tflite_latency_us, dense_tflite_latency_us, tflite_sparse, tflite_accuracy and the
        same with an ``int8_`` prefix."""
        float_row = self.row(source) or self.row("compact") or self.dense
        int8_row = self.row("int8" if float_row.name == "dense" else f"{float_row.name} + int8")
        keys = {"tflite_model": float_row.name, "dense_tflite_latency_us": self.dense.latency_us,
                "dense_tflite_bytes": self.dense.tflite_bytes, "dense_tflite_accuracy": self.dense.tflite_accuracy}
        for prefix, r in (("", float_row), ("int8_", int8_row)):
            keys.update({f"{prefix}tflite_bytes": r.tflite_bytes if r else None,
                         f"{prefix}tflite_gzip_bytes": r.tflite_gzip_bytes if r else None,
                         f"{prefix}tflite_latency_us": r.latency_us if r else None,
                         f"{prefix}tflite_latency_ratio": r.latency_ratio if r else None,
                         f"{prefix}tflite_sparse": r.sparse_kernel if r else None,
                         f"{prefix}tflite_accuracy": r.tflite_accuracy if r else None})
        return keys


def _times(x: float) -> str:
    return f"{x:.1f}×" if x < 10 else f"{x:.0f}×"


def best_row(rows, tolerance: float = ACCURACY_TOLERANCE) -> Row | None:
    dense = rows[0]
    if dense.tflite_accuracy is None or dense.latency_us is None:
        return None
    fit = [r for r in rows if r.latency_us is not None and r.tflite_accuracy is not None
           and r.tflite_accuracy >= dense.tflite_accuracy - tolerance - 1e-12]
    return min(fit, key=lambda r: (r.latency_us, r.tflite_bytes or 0), default=None)


def headline(rows, tolerance: float = ACCURACY_TOLERANCE) -> str:
    """The fastest file within ``tolerance`` of dense accuracy, in one sentence."""
    best = best_row(rows, tolerance)
    dense = rows[0]
    if best is None:
        return ""
    if best is dense:
        return (f"Nothing here beats the dense file within {tolerance * 100:g} point of its accuracy "
                f"({dense.latency_us:.1f} µs, {dense.tflite_accuracy:.2%}).")
    change = (best.tflite_accuracy - dense.tflite_accuracy) * 100
    return (f"Fastest within {tolerance * 100:g} point of dense accuracy: {best.name}, "
            f"{_times(dense.latency_us / best.latency_us)} faster and {_times(dense.tflite_bytes / best.tflite_bytes)} "
            f"smaller than the dense file ({best.latency_us:.1f} vs {dense.latency_us:.1f} µs; "
            f"{best.tflite_accuracy:.2%} accuracy, {change:+.2f} points against dense).")


def verdict(rows) -> str:
    """One sentence in plain words on the pruned model (or the compact one) against dense, in TFLite."""
    by = {r.name: r for r in rows}
    dense = rows[0]
    if not dense.ok:
        return f"TensorFlow Lite could not convert this model, so nothing here runs in TFLite — {dense.reason}"
    # the run's physically smaller model first: advice about the masked file would contradict what the run bought
    subject = next((by[n] for n in ("compact", "pruned") if n in by and by[n].ok),
                   next((by[n] for n in ("compact", "pruned") if n in by), None))
    if subject is None:
        return ("Only the dense model is here: prune it and retrain on the Retrain page to see what pruning buys "
                "in TFLite.")
    if not subject.ok:
        return f"The {subject.name} model did not convert to TFLite — {subject.reason}"
    smaller = dense.tflite_bytes / subject.tflite_bytes
    ratio = subject.latency_ratio or 1.0
    size = f"{_times(smaller)} smaller" if smaller >= 1.1 else "no smaller"
    lead = (f"At {subject.sparsity:.0%} sparsity this model" if subject.name == "pruned"
            else "With its pruned neurons removed this model")
    drop = ((dense.tflite_accuracy or 0) - (subject.tflite_accuracy or 0)) * 100
    cost = f"for {drop:.1f} points of accuracy" if drop >= 0.05 else "at the same accuracy"
    n = len(subject.kernels)
    sparse, densified = sum(k["status"] == "sparse" for k in subject.kernels), \
        sum(k["status"] == "densified" for k in subject.kernels)
    if ratio <= 0.9:
        why = (f"the sparse kernel runs in {sparse} of {n} layers" if sparse
               else "it simply has fewer weights to multiply")
        return f"{lead} is {size} and {_times(1 / ratio)} faster in TFLite ({why}), {cost}."
    speed = "not faster" if ratio < 1.1 else "slower"
    if subject.name == "compact":
        return (f"{lead} is {size} but {speed} in TFLite ({ratio:.2f}× the dense latency) — removing more neurons "
                "or filters (a larger share, or from the widest layers) is what shortens it.")
    if densified:
        return (f"{lead} is {size} but {speed} in TFLite ({ratio:.2f}× the dense latency): the converter densified "
                f"{densified} of {n} kernels, as it does below ~{scattered_threshold():.1%} scattered zeros per layer — "
                "try 98%, 1×4 blocks, or removing neurons.")
    return (f"{lead} is {size} but {speed} in TFLite ({ratio:.2f}× the dense latency): its zeros are too few for the "
            f"converter to store them sparse (it needs ≥ 30% per layer, and ~{scattered_threshold():.1%} scattered for "
            "a sparse kernel) — try 98%, 1×4 blocks, or removing neurons.")


def keras_int8_reason(converter_reason: str) -> str:
    """Why a Keras-quantized model has no TFLite file, in words first; the converter's own first line after it.

    >>> keras_int8_reason("'tfl.fully_connected' op operand #0 must be tensor of 32-bit float or QI8 values")[:87]
    'A Keras file only: TensorFlow Lite cannot convert the int8 layers Keras 3 quantizes to '
    """
    detail = str(converter_reason).strip().splitlines()[0] if str(converter_reason).strip() else ""
    detail = detail if len(detail) <= 160 else detail[:157] + "…"
    return ("A Keras file only: TensorFlow Lite cannot convert the int8 layers Keras 3 quantizes to (its converter "
            "takes float32 models and quantizes them itself — the 'int8' rows). Its Keras size and accuracy are "
            "measured." + (f" Converter: {detail}" if detail else ""))


def _source_row(name: str, model, x_test, y_test) -> Row:
    raw = keras_bytes(model)
    return Row(name=name, source=name, precision="float32", params=metrics.count_params(model),
               nonzero=metrics.count_nonzero(model), sparsity=metrics.prunable_sparsity(model),
               keras_bytes=len(raw), keras_gzip_bytes=metrics.gzipped_size(metrics.canonical_keras_bytes(raw)),
               keras_accuracy=metrics.evaluate(model, x_test, y_test).accuracy if len(y_test) else None,
               keras_file=raw)


def _fill_tflite(row: Row, converted, layer_names) -> None:
    row.method = converted.method
    if not converted.ok:
        row.reason = converted.reason
        return
    row.tflite_file = converted.data
    row.tflite_bytes, row.tflite_gzip_bytes = len(converted.data), metrics.gzipped_size(converted.data)
    found = operators(converted.data, layer_names)
    row.sparse_kernel, row.densify_ops = found.sparse, found.densify
    row.kernels = [{"layer": k.layer, "op": k.op, "status": k.status} for k in found.kernels]


def deploy(dense, data, *, pruned=None, compact=None, int8: bool = True, keras_quantize: bool = True,
           calibration_size: int = 200, latency_budget_s: float = 3.0, seed: int = 0,
           progress: Progress | None = None) -> DeployReport:
    """Convert and measure dense / pruned / compact, each float32 and (``int8``) int8, plus Keras's own int8
    of the pruned model (``keras_quantize``): a :class:`DeployReport`. ``data``: a Dataset or
    (x_train, y_train, x_test, y_test); calibration uses ``calibration_size`` training images, accuracy the
    whole test split, latency one test image at batch 1. Never raises for a model the converter rejects:
    its rows carry the reason and every other number is still filled.
    """
    started = time.perf_counter()
    say = progress or (lambda f, m: None)
    x_train, _, x_test, y_test = as_arrays(data)
    has_data = len(x_test) > 0 and len(x_train) > 0
    sources = [("dense", dense)] + [(n, m) for n, m in (("pruned", pruned), ("compact", compact)) if m is not None]
    steps = len(sources) * (2 if int8 else 1) + (1 if keras_quantize else 0) + 2
    done = 0

    def step(message):
        nonlocal done
        say(done / steps, message)
        done += 1

    calibration = representative(x_train, calibration_size, seed) if has_data else None
    rows, models = [], {}
    for name, model in sources:
        step(f"Converting the {name} model to TFLite (float32)…")
        row = _source_row(name, model, x_test, y_test)
        names = [layer.name for layer in graph_layers(model)]
        _fill_tflite(row, to_tflite(model), names)
        rows.append(row)
        models[name] = (model, names)
    if int8:
        for name, model in sources:
            step(f"Converting the {name} model to int8 (calibrating on {calibration_size} images)…")
            base = next(r for r in rows if r.name == name)
            row = Row(name="int8" if name == "dense" else f"{name} + int8", source=name, precision="int8",
                      params=base.params, nonzero=base.nonzero, sparsity=base.sparsity)
            if calibration is None:
                row.reason = "int8 quantization needs calibration images, and this model has no data."
            elif not base.ok:
                row.reason = base.reason
            else:
                _fill_tflite(row, to_tflite(model, calibration=calibration), models[name][1])
            rows.append(row)
    if keras_quantize:
        name = "pruned" if pruned is not None else "dense"
        step(f"Quantizing the {name} model with Keras's model.quantize('int8')…")
        base = next(r for r in rows if r.name == name)
        row = Row(name="Keras int8", source=name, precision="Keras int8", params=base.params, nonzero=base.nonzero,
                  sparsity=base.sparsity)
        quantized, why = keras_int8(models[name][0])
        if quantized is None:
            row.reason = why
        else:
            raw = metrics.saved_model_bytes(quantized)
            row.keras_file, row.keras_bytes = raw, len(raw)
            row.keras_gzip_bytes = metrics.gzipped_size(metrics.canonical_keras_bytes(raw))
            row.keras_accuracy = metrics.evaluate(quantized, x_test, y_test).accuracy if has_data else None
            converted = to_tflite(quantized)
            if converted.ok:
                _fill_tflite(row, converted, models[name][1])
            else:
                row.reason = keras_int8_reason(converted.reason)
        rows.append(row)

    step("Measuring accuracy through the interpreter…")
    for row in rows:
        if not row.ok:
            continue
        runner = Runner(row.tflite_file, batch=max(1, min(256, len(x_test))))
        row.runtime = runner.runtime
        if has_data:
            row.tflite_accuracy = accuracy(runner, x_test, y_test)
        if row.precision == "float32" and len(x_test):
            model = models[row.source][0]
            sample = np.asarray(x_test[:64], dtype=np.float32)
            keras_out = np.asarray(model(sample, training=False))
            row.max_abs_diff = float(np.max(np.abs(predict(row.tflite_file, sample) - keras_out)))
    step("Timing every file at batch 1 on one thread, interleaved with the dense file…")
    files = {r.name: r.tflite_file for r in rows if r.ok}
    sample = np.asarray(x_test[:1], dtype=np.float32) if len(x_test) else np.zeros(
        (1, *[int(d) for d in dense.inputs[0].shape[1:]]), np.float32)
    times, runs = latency_us(files, sample, budget_s=latency_budget_s)
    dense_row = rows[0]
    for row in rows:
        if row.name in times:
            row.latency_us = times[row.name]
            if dense_row.name in times:
                row.latency_ratio = row.latency_us / times[dense_row.name]
            if dense_row.tflite_bytes:
                row.size_ratio = row.tflite_bytes / dense_row.tflite_bytes
    say(1.0, "Done.")
    return DeployReport(rows=rows, interpreter=interpreter_name(), runs=runs, seconds=time.perf_counter() - started,
                        dense_keras_accuracy=dense_row.keras_accuracy)


def deploy_run(result, dense, data, **kwargs) -> DeployReport:
    """:func:`deploy` for a finished :class:`prune_core.experiments.runs.RunResult` (its model as "pruned", its compact
    model when there is one) against the ``dense`` model it started from."""
    return deploy(dense, data, pruned=result.model, compact=result.compact_model, **kwargs)
