"""Training: the one place that calls ``model.fit`` (:func:`train`), masked fine-tuning (:func:`fine_tune`), training a
baseline (:func:`train_model`, optionally with L1), and retraining a pruned model by a strategy (:func:`retrain`:
fine-tuning, learning-rate rewinding, weight rewinding).

In Keras 3 a ``kernel_constraint`` set after build does nothing, so pruned weights are held at zero by
:class:`~prune_core.train.callbacks.MaskEnforcer`, which sets each masked variable's own ``constraint`` to ``w · mask``
for the duration of training: the Keras optimizer applies it after every update on TensorFlow, JAX and PyTorch.
With more than one local device, masked fine-tuning and baseline training run data parallel
(:mod:`prune_core.train.parallel`).
"""

from __future__ import annotations

import contextlib
import math
import time
from dataclasses import dataclass, field

import numpy as np

from ..io.data import as_arrays
from ..methods import masks as mk
from ..methods.masks import apply_masks, effective_masks, MaskSet
from ..spec import check_retrain
from .parallel import data_parallel
from .callbacks import OnEpoch, Progress, _enforcer_class, epoch_logger, progress_callback, rate_callback
from .regularize import with_l1, without_l1


def compile_model(model, learning_rate: float = 1e-3) -> None:
    """Adam + sparse categorical cross-entropy + accuracy (labels are class indices); the optimizer's variables are
    created at once (:func:`build_optimizer`)."""
    import keras
    model.compile(optimizer=keras.optimizers.Adam(learning_rate),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    build_optimizer(model)


def build_optimizer(model) -> None:
    """Create the optimizer's variables (Adam's two moments per trainable variable) now, eagerly.

    Left to Keras, TensorFlow creates them inside the first trace of the training step (no distribution strategy:
    Keras defers building to the trace), each as a lifted variable initialised through its own ``tf.cond``: on
    ResNet-50 that was 40% of the trace — about 24 of 60 s on the loaded 2-core machine (py-spy) — and eagerly
    about 2.6 s. The values are the same zeros, so training computes the same numbers.
    (JAX and PyTorch build it before training anyway: there this only does it a moment earlier.)
    """
    optimizer = getattr(model, "optimizer", None)
    if optimizer is not None and not optimizer.built and model.built:
        optimizer.build(model.trainable_variables)


@dataclass
class TrainResult:
    """What a training run produced: per-epoch history and how long it took."""

    history: dict[str, list[float]] = field(default_factory=dict)
    seconds: float = 0.0
    epochs: int = 0


def train(model, x_train: np.ndarray, y_train: np.ndarray, *, epochs: int = 1, batch_size: int = 32,
          learning_rate: float = 1e-3, seed: int = 0, validation: tuple[np.ndarray, np.ndarray] | None = None,
          progress: Progress | None = None, callbacks: list | None = None) -> TrainResult:
    """Train in place with Adam; seeded (same seed, same data → same weights and accuracy).

    ``callbacks`` are extra Keras callbacks (e.g. one that re-applies pruning masks after each batch).
    """
    import keras

    if epochs < 1 or batch_size < 1 or not learning_rate > 0:
        raise ValueError("epochs and batch size must be at least 1 and the learning rate positive.")
    keras.utils.set_random_seed(seed)
    compile_model(model, learning_rate)
    steps = int(np.ceil(len(x_train) / batch_size))
    started = time.perf_counter()
    fit = model.fit(x_train, y_train, epochs=epochs, batch_size=batch_size, shuffle=True, verbose=0,
                    validation_data=validation,
                    callbacks=[*(callbacks or []), progress_callback(progress, epochs, steps)])
    return TrainResult(history={k: [float(v) for v in vs] for k, vs in fit.history.items()},
                       seconds=time.perf_counter() - started, epochs=epochs)


def fine_tune(model, mask_set: MaskSet, x, y, *, epochs: int = 1, batch_size: int = 32,
              learning_rate: float = 1e-3, seed: int = 0, progress=None, validation=None, callbacks: list | None = None,
              masked=None):
    """Masked fine-tuning: returns (new masked model, models.TrainResult); pruned weights stay 0.

    The caller's model is not touched. Unit masks are expanded to the next layer's inputs first.
    ``callbacks`` (Keras callbacks, e.g. a per-epoch logger) run after the mask enforcer. ``masked``: the caller's
    own ``apply_masks(model, mask_set)``, trained in place instead of a new copy (a second copy of ResNet-50 is
    about a second); ignored when training data parallel, where the copy must be made in the scope.
    """
    effective = effective_masks(model, mask_set)
    scope = data_parallel()
    with scope:  # the copy is made in the scope: its variables are laid out over the local devices
        one_device = isinstance(scope, contextlib.nullcontext)
        tuned = masked if masked is not None and one_device else apply_masks(model, effective)
        result = train(tuned, x, y, epochs=epochs, batch_size=batch_size, learning_rate=learning_rate, seed=seed,
                       validation=validation, progress=progress,
                       callbacks=[_enforcer_class()(tuned, effective), *(callbacks or [])])
    return tuned, result


def train_model(model, data, *, epochs: int = 1, batch_size: int = 32, learning_rate: float = 1e-3, seed: int = 0,
                l1: float = 0.0, progress=None, on_epoch: OnEpoch | None = None):
    """Train a COPY of ``model`` (optionally with the L1 penalty λ = ``l1``): (new model, TrainResult).

    ``data`` is a Dataset or (x_train, y_train, x_test, y_test); the test split is the validation.
    The returned model has no regularizer attached. The Model page trains its baselines with it.
    """
    x, y, x_test, y_test = as_arrays(data)
    with data_parallel():
        trained = with_l1(model, l1)
        result = train(trained, x, y, epochs=epochs, batch_size=batch_size, learning_rate=learning_rate, seed=seed,
                       validation=(x_test, y_test), progress=progress, callbacks=[epoch_logger(on_epoch)])
    return without_l1(trained), result


def rewound(model, rewind_weights):
    """A copy of ``model`` holding ``rewind_weights`` (``model.get_weights()`` of the same architecture taken early
    in training, or a model of that architecture); ValueError when they do not fit."""
    weights = rewind_weights.get_weights() if hasattr(rewind_weights, "get_weights") else list(rewind_weights)
    copy = mk.copy_model(model)
    current = copy.get_weights()
    if len(weights) != len(current) or any(np.shape(a) != np.shape(b) for a, b in zip(weights, current)):
        raise ValueError("The rewind weights do not fit this model: they must be get_weights() of the same "
                         "architecture (taken early in its training).")
    copy.set_weights([np.asarray(w, dtype=c.dtype) for w, c in zip(weights, current)])
    return copy


def retrain(model, mask_set: mk.MaskSet, x, y, *, strategy: str = "finetune", epochs: int = 1, batch_size: int = 32,
            learning_rate: float = 1e-3, seed: int = 0, original_schedule=None, rewind_weights=None,
            validation=None, progress: Progress | None = None, callbacks: list | None = None, masked=None):
    """Masked retraining by ``strategy``: (new model, TrainResult with ``rates``, the rate each epoch began with).

    ``finetune``: from ``model``'s weights at the constant ``learning_rate``; ``rewind-lr``: from ``model``'s
    weights with the rewound schedule (:func:`rate_callback`); ``rewind-weights``: the kept weights reset to
    ``rewind_weights`` first (the mask still comes from the trained model), then the rewound schedule.
    Pruned weights stay exactly zero throughout. ``masked``: as in :func:`fine_tune` (not with weight rewinding,
    which starts from other weights).
    """
    check_retrain(strategy)
    start = model
    if strategy == "rewind-weights":
        if rewind_weights is None:
            raise ValueError("Weight rewinding needs the weights of an early training epoch (rewind_weights).")
        start, masked = rewound(model, rewind_weights), None
    steps = int(math.ceil(len(x) / batch_size))
    rate = rate_callback(strategy, learning_rate=learning_rate, epochs=epochs, steps_per_epoch=steps,
                         original_schedule=original_schedule)
    tuned, result = fine_tune(start, mask_set, x, y, epochs=epochs, batch_size=batch_size, learning_rate=learning_rate,
                              seed=seed, progress=progress, validation=validation,
                              callbacks=[*([rate] if rate is not None else []), *(callbacks or [])], masked=masked)
    result.rates = list(rate.used) if rate is not None else [float(learning_rate)] * int(epochs)
    return tuned, result
