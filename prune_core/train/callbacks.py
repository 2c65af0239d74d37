"""Keras callbacks for training with masks: progress reports, per-epoch logs, masks held at zero by a variable
constraint on every backend (:class:`MaskEnforcer`), gradual pruning on a schedule (:class:`GradualPruner`), a learning rate replayed for
rewinding (:func:`rate_callback`), and the early weights kept for weight rewinding.

The callback classes subclass ``keras.callbacks.Callback``, so they are built on first use (importing this module
does not import Keras): ``callbacks.MaskEnforcer`` and ``callbacks.GradualPruner`` are module attributes created
lazily.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..methods import masks as mk
from ..methods.masks import MaskSet, masked_variables
from ..pruning import select
from ..spec import check_retrain, PruneSpec
from .schedules import cosine_rate, PruningSchedule, rewound_rates

# progress(fraction_done in [0, 1], message) — the one progress signature used across prune_core.
Progress = Callable[[float, str], None]
OnEpoch = Callable[[int, dict], None]


def time_left(seconds: float, steps: int, total: int) -> str:
    """' · about N s left in training' from ``seconds`` spent on ``steps`` of the ``total`` steps still to time
    (measured from the first finished batch, so the one-off building of the training step is not extrapolated);
    empty before two steps are timed.

    >>> time_left(4.0, 8, 24), time_left(90.0, 10, 30), time_left(1.0, 1, 9)
    (' · about 8 s left in training', ' · about 3 min left in training', '')
    """
    if steps < 2 or total <= steps:
        return ""
    left = seconds / steps * (total - steps)
    return f" · about {left / 60:.0f} min left in training" if left >= 90 else f" · about {left:.0f} s left in training"


def progress_callback(progress: Progress | None, epochs: int, steps_per_epoch: int, label: str = "Epoch"):
    """A Keras callback that reports progress about 20 times per epoch and at each epoch end, with the training time
    left once a few batches are timed."""
    import time

    import keras

    class _Report(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.every = max(1, steps_per_epoch // 20)
            self.epoch = 0
            self.first = None  # (time, global step) at the first finished batch

        def on_train_begin(self, logs=None):
            if progress:  # Keras builds the training step first: a few seconds with nothing else to say
                progress(0.0, f"{label} 1/{epochs} · preparing the training step (the first batches take longest)…")

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch

        def on_train_batch_end(self, batch, logs=None):
            step = self.epoch * steps_per_epoch + batch + 1
            if self.first is None:
                self.first = (time.perf_counter(), step)
            if progress and (batch + 1) % self.every == 0:
                done = (self.epoch + (batch + 1) / steps_per_epoch) / epochs
                logs = logs or {}
                left = time_left(time.perf_counter() - self.first[0], step - self.first[1],
                                 epochs * steps_per_epoch - self.first[1])
                progress(min(done, 1.0), f"{label} {self.epoch + 1}/{epochs} · batch {batch + 1}/{steps_per_epoch}"
                         f" · loss {logs.get('loss', float('nan')):.4f} · accuracy {logs.get('accuracy', float('nan')):.2%}"
                         + left)

        def on_epoch_end(self, epoch, logs=None):
            if progress:
                logs = logs or {}
                text = f"{label} {epoch + 1}/{epochs} done · loss {logs.get('loss', float('nan')):.4f}" \
                       f" · accuracy {logs.get('accuracy', float('nan')):.2%}"
                if "val_accuracy" in logs:
                    text += f" · test accuracy {logs['val_accuracy']:.2%}"
                progress((epoch + 1) / epochs, text)

    return _Report()


def epoch_logger(on_epoch: OnEpoch | None, extra: dict | None = None, offset: int = 0):
    """A Keras callback calling ``on_epoch(offset + epoch, logs as floats + extra)`` after every epoch."""
    import keras

    class _EpochLog(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if on_epoch:
                on_epoch(offset + epoch, {**{k: float(v) for k, v in (logs or {}).items()}, **(extra or {})})

    return _EpochLog()


_ENFORCER_CLASS = None


def live_weights(model) -> None:
    """Make ``model``'s variables hold the training state from inside a callback during ``fit``.

    The JAX trainer keeps the state outside the model between batches (the model's variables are emptied) until
    ``jax_state_sync``; after a sync it reloads the state from the variables before the next batch, so a callback
    may read and assign them. TensorFlow and PyTorch train the variables in place: nothing to do.
    """
    sync = getattr(model, "jax_state_sync", None)
    if sync is not None:
        sync()


class _Masked:
    """A variable constraint ``w ↦ before(w) · mask``: the Keras optimizer applies it after every update, on every
    backend. ``mask`` is a non-trainable Keras variable (not tracked by the model), so a new mask is an assign."""

    def __init__(self, mask, before=None):
        self.mask, self.before = mask, before

    def __call__(self, w):
        import keras

        return keras.ops.multiply(w if self.before is None else self.before(w), self.mask)


def _enforcer_class():
    """Build the Keras callback class on first use (keeps ``import prune_core`` free of Keras)."""
    global _ENFORCER_CLASS
    if _ENFORCER_CLASS is not None:
        return _ENFORCER_CLASS
    import keras

    class MaskEnforcer(keras.callbacks.Callback):
        """Holds a MaskSet (kernels and removed units' biases) at zero while training, on every Keras backend.

        One mechanism: for the duration of training each masked variable's ``constraint`` becomes
        ``w ↦ w · mask`` (composed after a constraint it already had), which Keras' optimizers apply after
        every update under TensorFlow, JAX and PyTorch alike — inside the compiled training step, where a
        callback cannot reach under JAX. The masks are multiplied in at train begin; the previous constraints
        are restored at train end (:meth:`release`). Pass the effective masks (:func:`effective_masks`) for unit
        pruning. (In Keras 3 a ``kernel_constraint`` set on a layer after build does nothing: the constraint is
        set on the variable.)
        """

        def __init__(self, model, mask_set: MaskSet):
            super().__init__()
            self.held: dict[int, tuple] = {}  # id(variable) -> (variable, mask variable, constraint it had)
            self.masks = self._pairs(model, mask_set)

        @staticmethod
        def _pairs(model, mask_set):
            return [(v, np.asarray(m, dtype=v.dtype)) for v, m in masked_variables(model, mask_set)]

        def enforce(self):
            """Multiply the masks into the variables now (outside a training step; under JAX after
            :func:`live_weights`)."""
            for variable, mask in self.masks:
                variable.assign(keras.ops.convert_to_numpy(variable) * mask)

        def hold(self) -> bool:
            """Install (or update) the masking constraints; True when a variable got a constraint it did not have
            (a compiled training step must then be rebuilt to see it)."""
            added, current = False, set()
            for variable, mask in self.masks:
                current.add(id(variable))
                if id(variable) in self.held:
                    self.held[id(variable)][1].assign(mask)
                    continue
                masker = keras.Variable(mask, trainable=False, dtype=variable.dtype, name="prune_mask")
                self.held[id(variable)] = (variable, masker, variable.constraint)
                variable.constraint = _Masked(masker, variable.constraint)
                added = True
            for key, (_, masker, _) in self.held.items():
                if key not in current:  # no longer masked: let it train
                    masker.assign(np.ones(masker.shape, dtype=masker.dtype))
            return added

        def update(self, model, mask_set: MaskSet) -> None:
            """Hold a new MaskSet from now on (during ``fit``): multiply it in and rebuild the training step where
            it baked the old masks in (JAX compiles variables outside its state as constants)."""
            live_weights(model)
            self.masks = self._pairs(model, mask_set)
            self.enforce()
            if self.hold() or keras.backend.backend() == "jax":
                model.make_train_function(force=True)

        def release(self) -> None:
            """Give every held variable back the constraint it had before."""
            for variable, _, before in self.held.values():
                variable.constraint = before
            self.held = {}

        def on_train_begin(self, logs=None):
            self.enforce()
            if self.hold():
                self.model.make_train_function(force=True)

        def on_train_end(self, logs=None):
            self.release()

    _ENFORCER_CLASS = MaskEnforcer
    return MaskEnforcer


@dataclass
class PruneEvent:
    """One mask update: the step, the scheduled sparsity, and the sparsity actually held."""

    step: int
    target: float
    sparsity: float


def current_masks(model, sparsity: float, *, criterion: str = "magnitude", scope: str = "layer",
                  granularity: str = "weight", previous: mk.MaskSet | None = None, x=None, y=None,
                  seed: int = 0, batches: int = 4, batch_size: int = 128) -> mk.MaskSet:
    """Masks pruning exactly ``sparsity`` of the model's kernel weights (or, for granularity
    "unit", of its hidden units; the output layer is never unit-pruned) by ``criterion``.

    Entries pruned in ``previous`` are pruned first (score −1), so masks only grow.
    """
    spec = PruneSpec(criterion=criterion, granularity=granularity, rule="sparsity", scope=scope, value=sparsity,
                     seed=seed, batches=batches, batch_size=batch_size)
    return select(model, spec, data=(x, y) if x is not None and y is not None else None, previous=previous)


def scored_sparsity(mask_set: mk.MaskSet) -> float:
    """Fraction of the scored entries that are pruned: units for unit masks, else kernel weights."""
    if mask_set.granularity != "unit":
        return mask_set.overall_sparsity
    total = sum(u.size for u in mask_set.units.values())
    return 1.0 - sum(int(np.count_nonzero(u)) for u in mask_set.units.values()) / total if total else 0.0


def _gradual_class():
    import keras

    class GradualPruner(keras.callbacks.Callback):
        """Re-prunes on the schedule's update steps and holds the current mask (:class:`MaskEnforcer`'s constraints).

        The step counter counts training batches across epochs (from 0). ``events`` records each
        update (with the weight sparsity held, incoming rows of removed units included); ``mask_set``
        is the mask currently held. The scheduled sparsity is of weights, or of units for "unit".
        """

        def __init__(self, schedule: PruningSchedule, *, criterion="magnitude", scope="layer", granularity="weight",
                     x=None, y=None, seed=0, batches=4, batch_size=128):
            super().__init__()
            self.schedule, self.criterion, self.scope, self.granularity = schedule, criterion, scope, granularity
            self.x, self.y, self.seed, self.batches, self.batch_size = x, y, seed, batches, batch_size
            self.step = 0
            self.mask_set: mk.MaskSet | None = None
            self.events: list[PruneEvent] = []
            self._enforcer = None

        def on_train_batch_begin(self, batch, logs=None):
            if self.schedule.should_prune(self.step):
                live_weights(self.model)  # JAX: the current weights, to score
                target = self.schedule.sparsity(self.step)
                self.mask_set = current_masks(self.model, target, criterion=self.criterion, scope=self.scope,
                                              granularity=self.granularity, previous=self.mask_set,
                                              x=self.x, y=self.y, seed=self.seed + self.step,
                                              batches=self.batches, batch_size=self.batch_size)
                effective = mk.effective_masks(self.model, self.mask_set)
                if self._enforcer is None:
                    self._enforcer = _enforcer_class()(self.model, effective)
                self._enforcer.update(self.model, effective)
                self.events.append(PruneEvent(self.step, target, effective.overall_sparsity))

        def on_train_batch_end(self, batch, logs=None):
            self.step += 1

        def on_train_end(self, logs=None):
            if self._enforcer is not None:
                self._enforcer.release()

    return GradualPruner


def __getattr__(name):  # ``callbacks.MaskEnforcer(model, mask_set)``, ``callbacks.GradualPruner(schedule, ...)``
    if name == "MaskEnforcer":
        return _enforcer_class()
    if name == "GradualPruner":
        return _gradual_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _rate_class():
    import keras

    class RateReplay(keras.callbacks.Callback):
        """Sets the optimizer's learning rate: per epoch from ``rates`` or, without them, per step on a cosine
        from ``learning_rate`` to 0 over ``total_steps``. ``used`` records the rate at the start of each epoch."""

        def __init__(self, *, rates=None, learning_rate: float = 1e-3, total_steps: int = 1):
            super().__init__()
            self.rates, self.learning_rate, self.total_steps = rates, learning_rate, total_steps
            self.step, self.used = 0, []

        def _set(self, value: float) -> None:
            self.model.optimizer.learning_rate.assign(value)

        def on_epoch_begin(self, epoch, logs=None):
            if self.rates is not None:
                self._set(self.rates[min(epoch, len(self.rates) - 1)])
            else:
                self._set(cosine_rate(self.learning_rate, self.step, self.total_steps))
            self.used.append(float(self.model.optimizer.learning_rate.numpy()))

        def on_train_batch_begin(self, batch, logs=None):
            if self.rates is None:
                self._set(cosine_rate(self.learning_rate, self.step, self.total_steps))

        def on_train_batch_end(self, batch, logs=None):
            self.step += 1

    return RateReplay


def rate_callback(strategy: str, *, learning_rate: float, epochs: int, steps_per_epoch: int, original_schedule=None):
    """The Keras callback that gives a retraining its learning rate, or None for fine-tuning (constant rate).

    Rewinding replays ``original_schedule`` (the original training's rate per epoch, see :func:`rewound_rates`);
    without one — the original training used a single constant rate — the rate is rewound to
    ``learning_rate`` and annealed by :func:`cosine_rate` over the retraining.
    """
    check_retrain(strategy)
    if strategy == "finetune":
        return None
    rates = rewound_rates(original_schedule, epochs) if original_schedule is not None else None
    return _rate_class()(rates=rates, learning_rate=learning_rate, total_steps=max(1, epochs * steps_per_epoch))


def early_weights_callback(epoch: int = 1):
    """A Keras callback keeping ``model.get_weights()`` at the end of training epoch ``epoch`` (1-based; 0 keeps
    the weights before training) in ``.weights``: the rewind point for weight rewinding."""
    import keras

    class _Keep(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.weights = None

        def on_train_begin(self, logs=None):
            if epoch == 0:
                self.weights = [w.copy() for w in self.model.get_weights()]

        def on_epoch_end(self, e, logs=None):
            if e + 1 == epoch:
                self.weights = [w.copy() for w in self.model.get_weights()]

    return _Keep()
