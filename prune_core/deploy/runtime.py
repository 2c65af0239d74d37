"""Running .tflite files in the interpreter: batched prediction, accuracy, and latency at batch 1 on one pinned
thread (median of many runs, interleaved with the dense file).

The interpreter is LiteRT (``ai_edge_litert``, pinned in requirements.txt): ``tf.lite.Interpreter`` is
deprecated in its favour; it is used only where LiteRT is not installed. Both run TensorFlow Lite files
with the same kernels and XNNPACK as the default CPU delegate.
"""

from __future__ import annotations

import contextlib
import math
import os
import time
import warnings
from typing import Mapping

import numpy as np


LATENCY_BLOCK = 10                  # invokes per timed block (one timer read per block)


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
