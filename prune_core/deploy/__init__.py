"""Deploy: what pruning buys on a real runtime — TensorFlow Lite files, run by LiteRT.

A masked Keras model runs the same dense matmuls as the dense one, so its "90% sparse" is neither smaller
on disk (before gzip) nor faster. This module converts each model the app holds (dense, masked, compact)
to TensorFlow Lite with ``tf.lite.Optimize.EXPERIMENTAL_SPARSITY`` and to int8 (post-training quantization
calibrated on training images), reads each file's operator list to see whether its kernels stay sparse,
and measures every file in the interpreter: latency at batch 1 on one pinned thread (median of many runs,
interleaved with the dense file so the ratio holds on a noisy machine), accuracy on the test split, and
file bytes raw and gzipped.

The interpreter is LiteRT (``ai_edge_litert``, pinned in requirements.txt): ``tf.lite.Interpreter`` is
deprecated in its favour; it is used only where LiteRT is not installed. Both run TensorFlow Lite files
with the same kernels and XNNPACK as the default CPU delegate.

Modules: ``convert`` (.keras and .tflite bytes, the converter's rule), ``flatbuffer`` (a .tflite file's operators),
``runtime`` (the interpreter: prediction, accuracy, latency) and ``report`` (the comparison, :func:`deploy`, the
verdict). This package face re-exports their public API.
"""

from __future__ import annotations

from .convert import (block_sparsity, compact_bytes, converter_reason, FLOAT_BLOCK, FLOAT_RATIO, INT8_BLOCK,
                      INT8_RATIO, keras_bytes, keras_int8, predicted_sparse, representative, scattered_threshold,
                      strip_locations, TFLITE_IDENTIFIER, tflite_bytes, TFLiteExport, to_tflite, unavailable)
from .flatbuffer import Kernel, operators, Operators, WEIGHTED_OPS
from .report import (ACCURACY_TOLERANCE, best_row, deploy, deploy_run, DeployReport, headline, keras_int8_reason, Row,
                     ROW_HELP, ROW_NAMES, verdict)
from .runtime import accuracy, interpreter_class, interpreter_name, LATENCY_BLOCK, latency_us, pinned_thread, predict, Runner
