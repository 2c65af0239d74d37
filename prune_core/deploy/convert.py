"""Converting: a model as .keras bytes (the compact one too) and as TensorFlow Lite (float32 with the sparsity
optimization, int8 calibrated on training images), and Keras 3's own int8. A failed conversion never raises:
it carries a one-line reason.

The converter's rule (TensorFlow's ``dense_to_sparse`` pass): a weight with fewer than 30% zeros stays
dense; otherwise it is stored sparse, and the sparse kernel runs only if the zeros fill whole blocks —
1×4 for float32 fully connected layers, 1×16 for int8 — to more than 90% (float32) or 80% (int8) of the
weight's zero share. Otherwise a DENSIFY op is inserted that expands the weight back to dense when the
model loads: the file is smaller, the model is not faster. For zeros scattered at random, s zeros make
whole 1×4 blocks with share s⁴, so the kernel stays sparse when s³ > 0.9, above about 96.5%:

>>> round(scattered_threshold(), 4), round(scattered_threshold(block=16, ratio=0.8), 4)
(0.9655, 0.9852)
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
import tempfile
import warnings
from dataclasses import dataclass
from typing import Mapping

import numpy as np

from ..graph.surgery import compact_model
from ..measure.metrics import saved_model_bytes
from ..train.regularize import has_l1, without_l1


TFLITE_IDENTIFIER = b"TFL3"  # bytes 4..8 of every TensorFlow Lite flatbuffer


FLOAT_BLOCK, FLOAT_RATIO = 4, 0.9   # the converter's block size and ratio for float32 fully connected weights
INT8_BLOCK, INT8_RATIO = 16, 0.8    # … and for int8 ones


def unavailable() -> str | None:
    """None when TensorFlow Lite export can run here; otherwise one sentence saying why not. The converter is
    TensorFlow's own: under the JAX or PyTorch backend it exports through TensorFlow too, so TensorFlow must be
    installed (the ``deploy`` extra), whatever ``KERAS_BACKEND`` is.

    >>> unavailable() is None  # this project's environment has TensorFlow
    True
    """
    import importlib.util

    if importlib.util.find_spec("tensorflow") is None:
        import keras

        return (f"Deploying needs TensorFlow (its TensorFlow Lite converter), which is not installed here; Keras runs "
                f"on {keras.backend.backend()}. Install it with pip install 'prune-core[deploy]' — pruning, retraining "
                "and every other page work without it.")
    return None


def keras_bytes(model) -> bytes:
    """The model as a .keras file (architecture + weights; no optimizer state, no training-only L1
    regularizer), as bytes. Loads back with ``keras.saving.load_model(path, safe_mode=True)``."""
    return saved_model_bytes(without_l1(model) if has_l1(model) else model)


def compact_bytes(model, units: Mapping) -> bytes:
    """The physically smaller model (``surgery.compact_model`` with the unit masks) as .keras bytes."""
    return keras_bytes(compact_model(model, dict(units)))


@dataclass(frozen=True)
class TFLiteExport:
    """A TFLite conversion: ``data`` (the .tflite bytes) or None with ``reason`` saying why not."""

    data: bytes | None
    reason: str = ""
    method: str = ""

    @property
    def ok(self) -> bool:
        return self.data is not None

    @property
    def size(self) -> int:
        return len(self.data) if self.data is not None else 0


def strip_locations(text: str) -> str:
    """A converter message without its MLIR source locations (``loc(callsite(fused[…] at …))``, ``<unknown>:0:``),
    which otherwise fill the first few hundred characters before the words that say what went wrong.

    >>> strip_locations('<unknown>:0: error: loc(callsite(fused["A:", "b/c"] at "d")): tf.X op is bad')
    'error: tf.X op is bad'
    """
    out, i = [], 0
    while i < len(text):
        if text.startswith("loc(", i):
            depth, i = 1, i + 4
            while i < len(text) and depth:
                depth += {"(": 1, ")": -1}.get(text[i], 0)
                i += 1
            if text.startswith(":", i):
                i += 1
            continue
        out.append(text[i])
        i += 1
    return " ".join("".join(out).replace("<unknown>:0:", " ").split())


def _one_line(exc: BaseException) -> str:
    text = strip_locations(" ".join(str(exc).split()))
    return f"{type(exc).__name__}: {text[:300]}" if text else type(exc).__name__


def tflite_bytes(model, *, quiet: bool = True, sparsity: bool = False, representative=None,
                 int8_only: bool = True) -> TFLiteExport:
    """Convert with TensorFlow's converter: ``tf.lite.TFLiteConverter.from_keras_model`` (works with
    Keras 3 on TF 2.21), falling back to exporting a SavedModel (``model.export(format="tf_saved_model")``)
    and ``from_saved_model``. Keras 3.15's own ``model.export(format=…)`` has no "tflite" format (it
    offers "litert", which needs the separate ai-edge-litert package). Never raises for a failed
    conversion: the result carries the reason. ``quiet`` keeps the converter's prints off stdout.

    ``sparsity``: add ``tf.lite.Optimize.EXPERIMENTAL_SPARSITY`` (kernels with zeros stored sparse).
    ``representative``: a callable yielding ``[sample]`` lists for int8 post-training quantization
    (``Optimize.DEFAULT``); ``int8_only`` restricts the ops to ``TFLITE_BUILTINS_INT8`` (inputs and outputs
    stay float32).
    """
    try:
        import tensorflow as tf
    except Exception as exc:  # pragma: no cover - TF is a dependency
        return TFLiteExport(None, f"TensorFlow is not available ({_one_line(exc)}).")

    model = without_l1(model) if has_l1(model) else model

    def configured(converter):
        optimizations = ([tf.lite.Optimize.DEFAULT] if representative is not None else []) + (
            [tf.lite.Optimize.EXPERIMENTAL_SPARSITY] if sparsity else [])
        if optimizations:
            converter.optimizations = optimizations
        if representative is not None:
            converter.representative_dataset = representative
            if int8_only:
                converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        return converter

    sink = contextlib.redirect_stdout(io.StringIO()) if quiet else contextlib.nullcontext()
    errors = []
    with sink:
        try:
            data = configured(tf.lite.TFLiteConverter.from_keras_model(model)).convert()
            return TFLiteExport(bytes(data), method="TFLiteConverter.from_keras_model")
        except Exception as exc:
            errors.append(f"from_keras_model: {_one_line(exc)}")
        folder = tempfile.mkdtemp(prefix="pruning-explorer-tflite-")
        try:
            path = os.path.join(folder, "saved_model")
            model.export(path, format="tf_saved_model", verbose=False)
            data = configured(tf.lite.TFLiteConverter.from_saved_model(path)).convert()
            return TFLiteExport(bytes(data), method="SavedModel + TFLiteConverter.from_saved_model")
        except Exception as exc:
            errors.append(f"from_saved_model: {_one_line(exc)}")
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    return TFLiteExport(None, "TensorFlow Lite could not convert this model — " + "; ".join(errors))


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
    """TFLiteExport of ``model`` with the sparsity optimization; int8 when ``calibration`` (a
    representative dataset) is given — integer-only ops first, then mixed float where some op has no int8
    kernel. A failure's reason is one short line."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        converted = tflite_bytes(model, sparsity=True, representative=calibration)
        if not converted.ok and calibration is not None:
            mixed = tflite_bytes(model, sparsity=True, representative=calibration, int8_only=False)
            if mixed.ok:
                return TFLiteExport(mixed.data, method=mixed.method + " (int8 where TFLite has int8 kernels)")
    if converted.ok:
        return converted
    return TFLiteExport(None, converter_reason(converted.reason), converted.method)


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
