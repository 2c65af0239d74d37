"""Deploy: what pruning buys on a real runtime — TensorFlow Lite files, run by LiteRT.

A masked Keras model runs the same dense matmuls as the dense one, so its "90% sparse" is neither smaller
on disk (before gzip) nor faster. This module converts each model the app holds (dense, masked, compact)
to TensorFlow Lite with ``tf.lite.Optimize.EXPERIMENTAL_SPARSITY`` and to int8 (post-training quantization
calibrated on training images), reads each file's operator list to see whether its kernels stay sparse,
and measures every file in the interpreter: latency at batch 1 on one pinned thread (median of many runs,
interleaved with the dense file so the ratio holds on a noisy machine), accuracy on the test split, and
file bytes raw and gzipped.

The converter's rule (TensorFlow's ``dense_to_sparse`` pass): a weight with fewer than 30% zeros stays
dense; otherwise it is stored sparse, and the sparse kernel runs only if the zeros fill whole blocks —
1×4 for float32 fully connected layers, 1×16 for int8 — to more than 90% (float32) or 80% (int8) of the
weight's zero share. Otherwise a DENSIFY op is inserted that expands the weight back to dense when the
model loads: the file is smaller, the model is not faster. For zeros scattered at random, s zeros make
whole 1×4 blocks with share s⁴, so the kernel stays sparse when s³ > 0.9, above about 96.5%:

>>> round(scattered_threshold(), 4), round(scattered_threshold(block=16, ratio=0.8), 4)
(0.9655, 0.9852)

The interpreter is LiteRT (``ai_edge_litert``, pinned in requirements.txt): ``tf.lite.Interpreter`` is
deprecated in its favour; it is used only where LiteRT is not installed. Both run TensorFlow Lite files
with the same kernels and XNNPACK as the default CPU delegate.
"""

from __future__ import annotations

import contextlib
import gzip
import math
import os
import re
import time
import warnings
from dataclasses import asdict, dataclass, field
from typing import Callable, Mapping

import numpy as np
from ..graph import layers as graph_layers
from ..io.data import as_arrays
from ..measure import metrics
from ..viz import export
from ..viz.export import safe_filename, strip_locations

Progress = Callable[[float, str], None]
WEIGHTED_OPS = {"FULLY_CONNECTED": 1, "CONV_2D": 1, "DEPTHWISE_CONV_2D": 1, "TRANSPOSE_CONV": 1}  # op → weight input
FLOAT_BLOCK, FLOAT_RATIO = 4, 0.9   # the converter's block size and ratio for float32 fully connected weights
INT8_BLOCK, INT8_RATIO = 16, 0.8    # … and for int8 ones
ACCURACY_TOLERANCE = 0.01           # "within 1 point of dense" for the headline
LATENCY_BLOCK = 10                  # invokes per timed block (one timer read per block)


def scattered_threshold(block: int = FLOAT_BLOCK, ratio: float = FLOAT_RATIO) -> float:
    """The zero share above which randomly scattered zeros keep a sparse kernel: s^(block−1) > ratio."""
    return ratio ** (1.0 / (block - 1))


def block_sparsity(kernel: np.ndarray, block: int = FLOAT_BLOCK) -> tuple[float, float]:
    """(share of zeros, share of the weight in all-zero 1×``block`` blocks) of a Dense kernel (in, out), blocks
    running along the input axis as TFLite stores it (out, in) — what the converter compares."""
    w = np.asarray(kernel).reshape(-1, np.asarray(kernel).shape[-1]).T  # (out, in)
    if w.size == 0:
        return 0.0, 0.0
    pad = (-w.shape[1]) % block
    zero = np.pad(w == 0, ((0, 0), (0, pad)), constant_values=True).reshape(w.shape[0], -1, block)
    full = zero.all(axis=2)
    covered = full.sum() * block - (full[:, -1].sum() * pad if pad else 0)
    return float(np.mean(w == 0)), float(covered / w.size)


def predicted_sparse(kernel: np.ndarray, *, int8: bool = False) -> bool:
    """Whether the converter should keep this Dense kernel sparse (no DENSIFY), by its own rule. For int8 the
    rule applies to the quantized values (weights that round to 0 count as zeros); this uses the float zeros."""
    block, ratio = (INT8_BLOCK, INT8_RATIO) if int8 else (FLOAT_BLOCK, FLOAT_RATIO)
    zeros, blocked = block_sparsity(kernel, block)
    return zeros >= 0.3 and zeros > 0 and blocked / zeros > ratio


# --- the interpreter ---------------------------------------------------------------------------------

def interpreter_class():
    """(class, name): LiteRT's Interpreter, or tf.lite.Interpreter where ai-edge-litert is missing."""
    try:
        from ai_edge_litert.interpreter import Interpreter

        return Interpreter, "LiteRT (ai-edge-litert)"
    except ImportError:  # pragma: no cover - pinned in requirements.txt
        import tensorflow as tf

        return tf.lite.Interpreter, "tf.lite.Interpreter (ai-edge-litert is not installed)"


def interpreter_name() -> str:
    name = interpreter_class()[1]
    with contextlib.suppress(Exception):
        from importlib.metadata import version

        if "LiteRT" in name:
            return f"LiteRT {version('ai-edge-litert')}"
    return name


@contextlib.contextmanager
def pinned_thread():
    """Pin the calling thread to one CPU while measuring (Linux: ``sched_setaffinity(0)`` is per thread)."""
    if not hasattr(os, "sched_setaffinity"):
        yield None
        return
    before = os.sched_getaffinity(0)
    cpu = max(before)
    try:
        os.sched_setaffinity(0, {cpu})
    except OSError:
        yield None
        return
    try:
        yield cpu
    finally:
        with contextlib.suppress(OSError):
            os.sched_setaffinity(0, before)


class Runner:
    """One .tflite file in the interpreter (``threads`` threads): batched prediction and timed invokes.
    Float inputs and outputs; an int8 interface is quantized and dequantized here."""

    def __init__(self, data: bytes, threads: int = 1, batch: int = 1):
        self.runtime = "XNNPACK"
        try:
            self._build(data, threads, batch, delegates=True)
            self.invoke()  # the default delegate prepares its nodes on the first invoke
        except RuntimeError as exc:
            if "delegate" not in str(exc).lower():
                raise
            # LiteRT 2.3.0's XNNPACK fails to prepare int8 weights that a DENSIFY op produces; TFLite's own
            # kernels run them (tf.lite.Interpreter in TF 2.21 falls back the same way by itself).
            self._build(data, threads, batch, delegates=False)
            self.runtime = "built-in kernels (XNNPACK could not prepare this file)"

    def _build(self, data: bytes, threads: int, batch: int, *, delegates: bool) -> None:
        cls, _ = interpreter_class()
        options = {}
        if not delegates:
            import importlib

            resolver = importlib.import_module(cls.__module__).OpResolverType
            options["experimental_op_resolver_type"] = resolver.BUILTIN_WITHOUT_DEFAULT_DELEGATES
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.interpreter = cls(model_content=bytes(data), num_threads=threads, **options)
        inputs = self.interpreter.get_input_details()
        if len(inputs) != 1:
            raise ValueError(f"the model has {len(inputs)} inputs; the Deploy view measures one-input models.")
        self.input = inputs[0]
        self.batchable = int(self.input["shape_signature"][0]) == -1
        # The batch is fixed before the first allocation: XNNPACK takes the graph over then, and a later resize
        # fails on weights a DENSIFY op produces ("failed to prepare"), so a Runner keeps one batch size.
        if self.batchable and batch != int(self.input["shape"][0]):
            self.interpreter.resize_tensor_input(self.input["index"], [batch, *self.input["shape"][1:]])
        self.interpreter.allocate_tensors()
        self.input, self.output = self.interpreter.get_input_details()[0], self.interpreter.get_output_details()[0]
        self.batch = int(self.input["shape"][0])

    def _to_input(self, x: np.ndarray) -> np.ndarray:
        dtype = self.input["dtype"]
        if np.issubdtype(dtype, np.integer):
            scale, zero = self.input["quantization"]
            info = np.iinfo(dtype)
            return np.clip(np.round(x / scale + zero), info.min, info.max).astype(dtype)
        return np.asarray(x, dtype=dtype)

    def _from_output(self, y: np.ndarray) -> np.ndarray:
        if np.issubdtype(y.dtype, np.integer):
            scale, zero = self.output["quantization"]
            return (y.astype(np.float32) - zero) * scale
        return y

    def set_input(self, x: np.ndarray) -> None:
        """Set a batch of exactly ``self.batch`` inputs."""
        x = np.asarray(x)
        self.interpreter.set_tensor(self.input["index"], self._to_input(x.reshape(self.input["shape"])))

    def invoke(self) -> None:
        self.interpreter.invoke()

    def output_value(self) -> np.ndarray:
        return self._from_output(self.interpreter.get_tensor(self.output["index"]))

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Outputs for x, in batches of ``self.batch`` (the last one padded with zeros)."""
        x = np.asarray(x, dtype=np.float32)
        step, outs = self.batch, []
        for i in range(0, len(x), step):
            chunk = x[i:i + step]
            if len(chunk) < step:
                chunk = np.concatenate([chunk, np.zeros((step - len(chunk), *chunk.shape[1:]), chunk.dtype)])
            self.set_input(chunk)
            self.invoke()
            outs.append(self.output_value()[:len(x) - i].copy())
        return np.concatenate(outs) if outs else np.zeros((0,), np.float32)


def predict(data: bytes, x: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """The .tflite file's outputs for x through the interpreter (batches of ``batch_size`` where the file
    allows another batch than its own)."""
    return Runner(data, batch=max(1, min(batch_size, len(x)))).predict(x)


def accuracy(data, x: np.ndarray, y: np.ndarray) -> float:
    """Test accuracy of a softmax classifier file (bytes or a :class:`Runner`), through the interpreter."""
    if len(y) == 0:
        return float("nan")
    out = data.predict(x) if isinstance(data, Runner) else predict(data, x)
    return float(np.mean(np.argmax(out, axis=1) == np.asarray(y)))


def latency_us(files: Mapping[str, bytes], sample: np.ndarray, *, budget_s: float = 3.0, min_runs: int = 50,
               max_runs: int = 3000, threads: int = 1, pin: bool = True) -> tuple[dict[str, float], int]:
    """({name: median µs per invoke at batch 1}, runs per file). Files are timed in alternating blocks of
    ``LATENCY_BLOCK`` invokes, the order rotated each round, so a slow spell on the machine hits every file
    alike and their ratios hold. As many runs as fit in ``budget_s`` (within [min_runs, max_runs])."""
    if not files:
        return {}, 0
    runners = {name: Runner(data, threads) for name, data in files.items()}
    one = np.asarray(sample, dtype=np.float32)[:1]
    with pinned_thread() if pin else contextlib.nullcontext():
        per_invoke = 0.0
        for r in runners.values():
            r.set_input(one)
            for _ in range(3):
                r.invoke()
            started = time.perf_counter()
            for _ in range(LATENCY_BLOCK):
                r.invoke()
            per_invoke += (time.perf_counter() - started) / LATENCY_BLOCK
        runs = int(min(max(budget_s / max(per_invoke, 1e-9), min_runs), max_runs))
        rounds = max(1, math.ceil(runs / LATENCY_BLOCK))
        names = list(runners)
        times: dict[str, list[float]] = {n: [] for n in names}
        for k in range(rounds):
            for name in names[k % len(names):] + names[:k % len(names)]:
                invoke = runners[name].invoke
                started = time.perf_counter_ns()
                for _ in range(LATENCY_BLOCK):
                    invoke()
                times[name].append((time.perf_counter_ns() - started) / LATENCY_BLOCK / 1000.0)
    return {n: float(np.median(t)) for n, t in times.items()}, rounds * LATENCY_BLOCK


# --- the flatbuffer's operators ------------------------------------------------------------------------

@dataclass(frozen=True)
class Kernel:
    """One weighted op of a .tflite file: its weight tensor, the Keras layer it came from, and how it runs:
    ``sparse`` (the sparse kernel reads the compressed weight), ``densified`` (a DENSIFY op expands it to
    dense first) or ``dense`` (stored and run dense)."""

    op: str
    tensor: str
    layer: str
    status: str


@dataclass(frozen=True)
class Operators:
    """The operator list of a .tflite file (execution order) and its weighted ops."""

    ops: tuple[str, ...]
    kernels: tuple[Kernel, ...]

    @property
    def densify(self) -> int:
        return self.ops.count("DENSIFY")

    @property
    def sparse(self) -> bool:
        """Whether any kernel runs sparse."""
        return any(k.status == "sparse" for k in self.kernels)

    def count(self, status: str) -> int:
        return sum(k.status == status for k in self.kernels)


def _schema():
    try:
        from tensorflow.lite.python import schema_py_generated as schema
    except ImportError:  # pragma: no cover - LiteRT ships the same generated schema
        from ai_edge_litert import schema_py_generated as schema
    return schema


def _layer_of(tensor: str, layer_names) -> str:
    parts = tensor.split(";")[0].split("/")
    for name in sorted(layer_names, key=len, reverse=True):
        pattern = re.compile(rf"^{re.escape(name)}(_\d+)?$")
        if any(pattern.match(p) for p in parts):
            return name
    return tensor


def operators(data: bytes, layer_names=()) -> Operators:
    """Read a .tflite flatbuffer: every operator by name, and for each weighted op whether its weight is
    read sparse, through a DENSIFY op, or dense. ``layer_names``: Keras layer names to map tensors to."""
    schema = _schema()
    model = schema.Model.GetRootAsModel(bytes(data), 0)
    names = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
    codes = []
    for i in range(model.OperatorCodesLength()):
        code = model.OperatorCodes(i)
        codes.append(names.get(max(code.BuiltinCode(), code.DeprecatedBuiltinCode()), "CUSTOM"))
    ops, kernels = [], []
    for s in range(model.SubgraphsLength()):
        graph = model.Subgraphs(s)
        producer = {}
        nodes = [graph.Operators(j) for j in range(graph.OperatorsLength())]
        for node in nodes:
            for k in range(node.OutputsLength()):
                producer[node.Outputs(k)] = codes[node.OpcodeIndex()], node
        for node in nodes:
            op = codes[node.OpcodeIndex()]
            ops.append(op)
            slot = WEIGHTED_OPS.get(op)
            if slot is None or node.InputsLength() <= slot or node.Inputs(slot) < 0:
                continue
            index = node.Inputs(slot)
            status = "dense"
            made_by = producer.get(index)
            if made_by and made_by[0] == "DEQUANTIZE" and made_by[1].InputsLength():
                index = made_by[1].Inputs(0)
                made_by = producer.get(index)
            if made_by and made_by[0] == "DENSIFY":
                index, status = made_by[1].Inputs(0), "densified"
            elif index in producer:
                continue  # an activation-by-activation op (a matmul of two inputs): not a weight
            tensor = graph.Tensors(index)
            if status == "dense" and tensor.Sparsity() is not None:
                status = "sparse"
            name = (tensor.Name() or b"").decode(errors="replace")
            kernels.append(Kernel(op=op, tensor=name, layer=_layer_of(name, layer_names), status=status))
    return Operators(ops=tuple(ops), kernels=tuple(kernels))


# --- converting ----------------------------------------------------------------------------------------

def converter_reason(reason: str) -> str:
    """A converter's failure as one short line: what the converter said, without its locations, and for
    recurrent layers what it means."""
    text = strip_locations(reason).replace("TensorFlow Lite could not convert this model — ", "")
    text = text.split("; from_saved_model:")[0].replace("from_keras_model: ", "")
    found = re.search(r"error:\s*(.+?)(?:\s+(?:error|note):|$)", text)
    said = (found.group(1) if found else text).strip(" :<")
    said = said[:160] + ("…" if len(said) > 160 else "")
    if "TensorList" in text:
        return (f"TFLite's built-in ops cannot run this model's recurrent layer (LSTM/GRU loops become "
                f"TensorList ops that need Select TF ops, which LiteRT here does not ship): {said}")
    return f"TFLite cannot convert this model: {said}"


def representative(x: np.ndarray, n: int = 200, seed: int = 0):
    """A representative dataset for int8 calibration: ``n`` seeded random training images, one at a time."""
    x = np.asarray(x, dtype=np.float32)
    pick = np.random.default_rng(seed).permutation(len(x))[:n]

    def samples():
        for i in pick:
            yield [x[i:i + 1]]

    return samples


def to_tflite(model, *, calibration=None):
    """export.TFLiteExport of ``model`` with the sparsity optimization; int8 when ``calibration`` (a
    representative dataset) is given — integer-only ops first, then mixed float where some op has no int8
    kernel. A failure's reason is one short line."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        converted = export.tflite_bytes(model, sparsity=True, representative=calibration)
        if not converted.ok and calibration is not None:
            mixed = export.tflite_bytes(model, sparsity=True, representative=calibration, int8_only=False)
            if mixed.ok:
                return export.TFLiteExport(mixed.data, method=mixed.method + " (int8 where TFLite has int8 kernels)")
    if converted.ok:
        return converted
    return export.TFLiteExport(None, converter_reason(converted.reason), converted.method)


def keras_int8(model):
    """(Keras 3's own ``model.quantize("int8")`` on a copy, reason): int8 weights in Keras, for layers that
    have it (Dense, EinsumDense, Embedding, convolutions in recent Keras); (None, why) where it does not apply."""
    import keras

    try:
        copy = keras.models.clone_model(model)
        copy.set_weights(model.get_weights())
    except Exception as exc:  # noqa: BLE001 - a model Keras cannot clone: say so
        return None, f"Keras could not copy the model to quantize it ({type(exc).__name__})."
    before = [w.dtype for w in copy.weights]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            copy.quantize("int8")
    except Exception as exc:  # noqa: BLE001
        return None, "Keras's model.quantize('int8') does not apply: " + " ".join(str(exc).split())[:160]
    if [w.dtype for w in copy.weights] == before:
        return None, "Keras's model.quantize('int8') found no layer it can quantize in this model."
    return copy, ""


# --- the comparison ------------------------------------------------------------------------------------

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


def _gzip(raw: bytes) -> int:
    return len(gzip.compress(raw, compresslevel=9, mtime=0))


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
    subject = next((by[n] for n in ("pruned", "compact") if n in by), None)
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
    speed = "not faster" if ratio < 1.1 else f"slower ({ratio:.2f}× the dense latency)"
    if densified:
        return (f"{lead} is {size} but {speed} in TFLite ({ratio:.2f}× the dense latency): the converter densified "
                f"{densified} of {n} kernels, as it does below ~{scattered_threshold():.1%} scattered zeros per layer — "
                "try 98%, 1×4 blocks, or removing neurons.")
    return (f"{lead} is {size} but {speed} in TFLite ({ratio:.2f}× the dense latency): its zeros are too few for the "
            f"converter to store them sparse (it needs ≥ 30% per layer, and ~{scattered_threshold():.1%} scattered for "
            "a sparse kernel) — try 98%, 1×4 blocks, or removing neurons.")


def _source_row(name: str, model, x_test, y_test) -> Row:
    raw = export.keras_bytes(model)
    return Row(name=name, source=name, precision="float32", params=metrics.count_params(model),
               nonzero=metrics.count_nonzero(model), sparsity=metrics.prunable_sparsity(model),
               keras_bytes=len(raw), keras_gzip_bytes=_gzip(metrics.canonical_keras_bytes(raw)),
               keras_accuracy=metrics.evaluate(model, x_test, y_test).accuracy if len(y_test) else None,
               keras_file=raw)


def _fill_tflite(row: Row, converted, layer_names) -> None:
    row.method = converted.method
    if not converted.ok:
        row.reason = converted.reason
        return
    row.tflite_file = converted.data
    row.tflite_bytes, row.tflite_gzip_bytes = len(converted.data), _gzip(converted.data)
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
            row.keras_gzip_bytes = _gzip(metrics.canonical_keras_bytes(raw))
            row.keras_accuracy = metrics.evaluate(quantized, x_test, y_test).accuracy if has_data else None
            converted = to_tflite(quantized)
            if converted.ok:
                _fill_tflite(row, converted, models[name][1])
            else:
                row.reason = "A Keras file only — " + converted.reason
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
