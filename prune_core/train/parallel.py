"""Data-parallel training on every local device, by the backend's own distribution (issue 22).

:func:`data_parallel` is the scope :mod:`prune_core.train.fit` trains in. With more than one local device it is
``keras.distribution.DataParallel`` under JAX (every local device; batches split across them, variables replicated)
or ``tf.distribute.MirroredStrategy`` under TensorFlow; with one device, or under PyTorch (whose Keras backend has no
data parallelism in-process), nothing. The model must be *created* inside the scope — its variables are laid out
then — so the fit functions make their training copy inside it. Pruned weights stay exactly zero: the mask is each
variable's own constraint, which the optimizer applies after every update on every replica.

``PRUNE_CORE_DATA_PARALLEL=0`` turns it off (one device, as before).

>>> import contextlib
>>> isinstance(data_parallel(devices=1), contextlib.nullcontext)
True
"""

from __future__ import annotations

import contextlib
import os


def local_devices() -> int:
    """How many devices this backend would split a batch over (1 when it cannot)."""
    import keras

    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        return len(jax.local_devices())
    if backend == "tensorflow":
        import tensorflow as tf

        gpus = tf.config.list_logical_devices("GPU")
        return len(gpus) if gpus else len(tf.config.list_logical_devices("CPU"))
    return 1


def data_parallel(devices: int | None = None):
    """The scope to build and train a model in: data parallel over ``devices`` (default: every local device) when
    there are more than one, else a no-op."""
    if os.environ.get("PRUNE_CORE_DATA_PARALLEL", "1") == "0":
        return contextlib.nullcontext()
    count = local_devices() if devices is None else devices
    if count < 2:
        return contextlib.nullcontext()
    import keras

    if keras.backend.backend() == "jax":
        import jax

        return keras.distribution.DataParallel(devices=jax.local_devices()[:count]).scope()
    import tensorflow as tf

    kind = "GPU" if tf.config.list_logical_devices("GPU") else "CPU"
    names = [d.name for d in tf.config.list_logical_devices(kind)][:count]
    return tf.distribute.MirroredStrategy(devices=names).scope()
