"""Dynamic sparse training: a fixed number of non-zero weights per layer that move while the network trains.

- **SET** (Mocanu et al. 2018, "Scalable training of artificial neural networks with adaptive sparse connectivity
  inspired by network science"): at each update, drop the ``n`` active connections of smallest magnitude and grow
  ``n`` inactive ones at random.
- **RigL** (Evci et al. 2020, "Rigging the Lottery: Making All Tickets Winners"): drop the same way, grow the ``n``
  inactive connections with the largest gradient magnitude (one batch's dense gradient).

Both keep every layer's non-zero count exact; grown connections start at exactly 0 (they were held at zero while
inactive); ``n`` follows RigL's cosine decay of the drop fraction (:class:`UpdateSchedule`). Per-layer densities
are uniform or Erdős–Rényi-Kernel (:func:`erk_densities`).

>>> w = np.array([[0.5, -0.1, 0.0], [0.0, 2.0, 0.3]])
>>> mask = np.array([[True, True, False], [False, True, True]])
>>> rigl_update(w, mask, np.array([[0.0, 0.0, 9.0], [1.0, 0.0, 0.0]]), 1).astype(int).tolist()
[[1, 0, 1], [0, 1, 1]]
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np

from ..methods import masks as mk
from ..methods.thresholds import check_fraction

METHODS = ("rigl", "set")
DISTRIBUTIONS = ("uniform", "erk")


# --- per-layer densities -------------------------------------------------------------------------------------

def uniform_densities(shapes: dict, density: float) -> dict[str, float]:
    """Every layer at ``density``.

    >>> uniform_densities({"a": (4, 3), "b": (3, 2)}, 0.25)
    {'a': 0.25, 'b': 0.25}
    """
    check_fraction(density, "density")
    return {name: float(density) for name in shapes}


def erk_densities(shapes: dict, density: float) -> dict[str, float]:
    """Erdős–Rényi-Kernel densities (RigL): each layer's density ∝ (sum of its kernel's dimensions) / (their
    product), scaled so the non-zeros total ``density`` × all weights; a layer that would exceed 1 is made dense and
    the rest solved again (the RigL reference code's loop).

    >>> d = erk_densities({"big": (100, 100), "small": (10, 10)}, 0.1)
    >>> round(d["big"], 4), round(d["small"], 4)
    (0.0918, 0.9182)
    >>> round(sum(d[n] * s for n, s in (("big", 10000), ("small", 100))))
    1010
    """
    check_fraction(density, "density")
    sizes = {n: math.prod(s) for n, s in shapes.items()}
    raw = {n: sum(s) / math.prod(s) for n, s in shapes.items()}
    dense: set[str] = set()
    while True:
        budget = density * sum(sizes.values()) - sum(sizes[n] for n in dense)
        scaled = sum(raw[n] * sizes[n] for n in shapes if n not in dense)
        epsilon = budget / scaled if scaled else 0.0
        over = [n for n in shapes if n not in dense and epsilon * raw[n] > 1.0]
        if not over:
            return {n: 1.0 if n in dense else float(epsilon * raw[n]) for n in shapes}
        dense.add(max(over, key=lambda n: raw[n]))


def layer_densities(shapes: dict, density: float, distribution: str = "uniform") -> dict[str, float]:
    if distribution not in DISTRIBUTIONS:
        raise ValueError(f"Unknown distribution {distribution!r}; choose one of {', '.join(DISTRIBUTIONS)}.")
    return (erk_densities if distribution == "erk" else uniform_densities)(shapes, density)


# --- masks ------------------------------------------------------------------------------------------------

def top_k(scores: np.ndarray, k: int, allowed: np.ndarray | None = None) -> np.ndarray:
    """A bool mask of ``scores``' shape with exactly ``k`` True at the highest scores among ``allowed``; ties go to
    the lower flat index (deterministic).

    >>> top_k(np.array([3.0, 1.0, 3.0, 2.0]), 2).tolist()
    [True, False, True, False]
    """
    flat = np.asarray(scores, dtype=np.float64).ravel()
    order = np.lexsort((np.arange(flat.size), -flat))  # highest first, then by index
    if allowed is not None:
        order = order[np.asarray(allowed, dtype=bool).ravel()[order]]
    if k > order.size:
        raise ValueError(f"asked for {k} entries among {order.size}")
    keep = np.zeros(flat.size, dtype=bool)
    keep[order[:k]] = True
    return keep.reshape(np.shape(scores))


def active_count(size: int, density: float) -> int:
    """Non-zeros a layer of ``size`` weights keeps at ``density`` (at least one)."""
    return max(1, int(round(density * size)))


def initial_masks(kernels: dict, densities: dict) -> dict[str, np.ndarray]:
    """Each layer's largest-magnitude weights at its density (a trained model keeps its best; at initialisation
    this is a random pattern, magnitudes being random)."""
    return {n: top_k(np.abs(k), active_count(np.size(k), densities[n])) for n, k in kernels.items()}


def set_update(weights: np.ndarray, mask: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """SET: drop the ``n`` active weights of smallest |w|, grow ``n`` among the inactive ones (not just dropped) at
    random. The active count stays exact (``n`` is capped by what can move)."""
    mask = np.asarray(mask, dtype=bool)
    n = min(int(n), int(mask.sum()), int((~mask).sum()))
    if n <= 0:
        return mask.copy()
    kept = top_k(np.abs(weights), int(mask.sum()) - n, allowed=mask)
    grow_from = np.flatnonzero(~mask.ravel())
    grown = np.zeros(mask.size, dtype=bool)
    grown[rng.choice(grow_from, size=n, replace=False)] = True
    return kept | grown.reshape(mask.shape)


def rigl_update(weights: np.ndarray, mask: np.ndarray, grads: np.ndarray, n: int) -> np.ndarray:
    """RigL: drop the ``n`` active weights of smallest |w|, grow the ``n`` inactive ones (not just dropped) of
    largest |gradient|. The active count stays exact."""
    mask = np.asarray(mask, dtype=bool)
    n = min(int(n), int(mask.sum()), int((~mask).sum()))
    if n <= 0:
        return mask.copy()
    kept = top_k(np.abs(weights), int(mask.sum()) - n, allowed=mask)
    grown = top_k(np.abs(grads), n, allowed=~mask)
    return kept | grown


# --- when and how much ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class UpdateSchedule:
    """Update the connectivity every ``update_every`` steps (not at step 0) before ``end_step``, moving
    ``drop_fraction(step)`` of each layer's active weights: RigL's cosine decay α/2 · (1 + cos(π t / end_step)).

    >>> s = UpdateSchedule(update_every=10, end_step=40, drop_fraction=0.3)
    >>> [s.should_update(t) for t in (0, 10, 15, 30, 40)]
    [False, True, False, True, False]
    >>> round(s.fraction(10), 4), round(s.fraction(20), 4), round(s.fraction(30), 4)
    (0.2561, 0.15, 0.0439)
    >>> UpdateSchedule.from_config(s.get_config()) == s
    True
    """

    update_every: int = 100
    end_step: int = 1000
    drop_fraction: float = 0.3

    def __post_init__(self):
        if int(self.update_every) < 1 or int(self.end_step) < 1:
            raise ValueError("update_every and end_step must be at least 1.")
        if not 0.0 < float(self.drop_fraction) < 1.0:
            raise ValueError(f"The drop fraction must be between 0 and 1 (exclusive); got {self.drop_fraction!r}.")

    def should_update(self, step: int) -> bool:
        return 0 < step < self.end_step and step % self.update_every == 0

    def fraction(self, step: int) -> float:
        return self.drop_fraction / 2 * (1 + math.cos(math.pi * min(step, self.end_step) / self.end_step))

    def get_config(self) -> dict:
        return asdict(self)

    @classmethod
    def from_config(cls, config: dict) -> "UpdateSchedule":
        return cls(**config)


@dataclass
class Update:
    """One connectivity update: the step, the drop fraction used, how many weights moved in all and per layer."""

    step: int
    fraction: float
    moved: int
    per_layer: dict = field(default_factory=dict)


def moved(before: dict, after: dict) -> dict[str, int]:
    """Per layer, how many connections were grown (= how many were dropped: the count is kept)."""
    return {n: int(np.count_nonzero(after[n] & ~before[n])) for n in after}


# --- the Keras callback -----------------------------------------------------------------------------------------

def _sparse_class():
    import keras

    from ..graph import kernels as model_kernels
    from ..methods.signals import gradient_statistics
    from .callbacks import _enforcer_class, live_weights

    class DynamicSparsity(keras.callbacks.Callback):
        """Holds ``masks`` (every covered kernel's) while training and moves them on ``schedule``'s steps by SET or
        RigL; ``updates`` records each move. Steps count training batches across epochs, from 0."""

        def __init__(self, masks: dict, schedule: UpdateSchedule, *, method: str = "rigl", x=None, y=None,
                     seed: int = 0, batch_size: int = 128):
            super().__init__()
            if method not in METHODS:
                raise ValueError(f"Unknown sparse-training method {method!r}; choose one of {', '.join(METHODS)}.")
            if method == "rigl" and (x is None or y is None):
                raise ValueError("RigL grows by gradient: it needs training data.")
            self.masks, self.schedule, self.method = dict(masks), schedule, method
            self.x, self.y, self.seed, self.batch_size = x, y, seed, batch_size
            self.rng = np.random.default_rng(seed)
            self.step = 0
            self.updates: list[Update] = []
            self._enforcer = None

        def mask_set(self) -> mk.MaskSet:
            return mk.MaskSet(kernels=dict(self.masks), granularity="weight")

        def on_train_begin(self, logs=None):
            self._enforcer = _enforcer_class()(self.model, self.mask_set())  # the masks held between updates
            self._enforcer.set_model(self.model)
            self._enforcer.on_train_begin()

        def on_train_batch_begin(self, batch, logs=None):
            if not self.schedule.should_update(self.step):
                return
            live_weights(self.model)
            weights = model_kernels(self.model)
            fraction = self.schedule.fraction(self.step)
            grads = None
            if self.method == "rigl":
                (grads,) = gradient_statistics(self.model, self.x, self.y, [lambda w, g: g], batches=1,
                                               batch_size=self.batch_size, seed=self.seed + self.step)
            before = self.masks
            after = {}
            for name, mask in before.items():
                n = int(round(fraction * int(mask.sum())))
                after[name] = (rigl_update(weights[name], mask, grads[name], n) if grads is not None
                               else set_update(weights[name], mask, n, self.rng))
            self.masks = after
            self._enforcer.update(self.model, self.mask_set())
            per_layer = moved(before, after)
            self.updates.append(Update(self.step, fraction, sum(per_layer.values()), per_layer))

        def on_train_batch_end(self, batch, logs=None):
            self.step += 1

        def on_train_end(self, logs=None):
            if self._enforcer is not None:
                self._enforcer.release()

    return DynamicSparsity


@dataclass
class SparseResult:
    """What sparse training produced: the final masks, every update, the training history."""

    mask_set: mk.MaskSet
    updates: list = field(default_factory=list)
    history: dict = field(default_factory=dict)
    seconds: float = 0.0
    densities: dict = field(default_factory=dict)
    schedule: UpdateSchedule | None = None
    initial: mk.MaskSet | None = None  # the starting connectivity (largest magnitudes at each layer's density)


def sparse_train(model, x, y, sparsity: float, *, method: str = "rigl", distribution: str = "uniform",
                 epochs: int = 2, update_every: int | None = None, drop_fraction: float = 0.3,
                 end_fraction: float = 0.75, batch_size: int = 32, learning_rate: float = 1e-3, seed: int = 0,
                 validation=None, progress=None, callbacks: list | None = None) -> tuple[object, SparseResult]:
    """Train a copy of ``model`` at ``sparsity`` with connections moving by ``method``; (model, SparseResult).

    Every covered kernel starts at its density's largest-magnitude weights (``distribution``: uniform or ERK) and
    keeps exactly that many non-zeros. Updates run every ``update_every`` steps (default: about 10 updates) until
    ``end_fraction`` of the training steps, then the connectivity is fixed.
    """
    from ..graph import kernels as model_kernels
    from .fit import train

    check_fraction(sparsity, "sparsity")
    if method not in METHODS:
        raise ValueError(f"Unknown sparse-training method {method!r}; choose one of {', '.join(METHODS)}.")
    steps = int(math.ceil(len(x) / batch_size)) * int(epochs)
    end = max(2, int(round(end_fraction * steps)))
    schedule = UpdateSchedule(update_every=update_every or max(1, end // 10), end_step=end,
                              drop_fraction=drop_fraction)
    trained = mk.copy_model(model)
    weights = model_kernels(trained)
    densities = layer_densities({n: np.shape(k) for n, k in weights.items()}, 1.0 - sparsity, distribution)
    masks = initial_masks(weights, densities)
    mover = _sparse_class()(masks, schedule, method=method, x=x, y=y, seed=seed, batch_size=max(batch_size, 128))
    result = train(trained, x, y, epochs=epochs, batch_size=batch_size, learning_rate=learning_rate, seed=seed,
                   validation=validation, progress=progress, callbacks=[mover, *(callbacks or [])])
    return trained, SparseResult(mask_set=mover.mask_set(), updates=mover.updates, history=result.history,
                                 seconds=result.seconds, densities=densities, schedule=schedule,
                                 initial=mk.MaskSet(kernels=masks, granularity="weight"))
