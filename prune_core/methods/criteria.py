"""The criterion registry: how important is each weight? One small class per method.

A :class:`Criterion` turns a model (and, for data criteria, training data) into kernel-shaped,
non-negative float32 scores keyed by layer name; :meth:`Criterion.unit_scores` turns those into one
score per output unit (neuron / filter). Adding a method is one class and one registration::

    class Squared(Criterion):
        name, label = "squared", "Squared w²"
        explanation = "The weight's square: like magnitude, with small weights pushed further down."

        def scores(self, model, data=None, **options):
            return {n: k * k for n, k in kernels(model).items()}

    register_criterion(Squared())

Gradient criteria share one pass over the data: a :class:`GradientCriterion` only says what it
accumulates per batch (``statistic``) and how it finishes (``finish``); :func:`score_many` runs the
backward passes once for all of them (like Torch-Pruning's ``Importance`` classes).

>>> sorted(CRITERIA)
['magnitude', 'obd', 'random', 'sensitivity', 'shuffled', 'snip', 'synflow', 'taylor', 'wanda']
>>> CRITERIA["magnitude"].scores_from_kernels({"d": np.array([[-0.5, 0.25]])})["d"].tolist()
[[0.5, 0.25]]
"""

from __future__ import annotations

from typing import Iterable, Mapping

import numpy as np

from ..graph import dependency_groups, group_scores, kernels, prunable_layers
from . import signals
from .registry import Registry


class Criterion:
    """One importance criterion. Subclasses set the class attributes and implement :meth:`scores`.

    ``name``: registry key (CLI value, URL value); ``label``: what the UI shows; ``explanation``: one
    sentence for a person; ``citation``: where it comes from; ``needs_data``: scores need labelled
    training data; ``backward_pass``: None, or the name of the backward pass over the data this criterion's scores
    come from — criteria naming the same one are computed together (:func:`scored_together`);
    ``spread_from_weights``: the σ rule measures the spread of the weights themselves
    (Han et al. 2015 compare |w| with quality × σ(w)) rather than of the scores.
    """

    name: str = ""
    label: str = ""
    explanation: str = ""
    citation: str = ""
    needs_data: bool = False
    spread_from_weights: bool = False
    backward_pass: str | None = None  # criteria naming the same pass are scored together (score_many)

    def scores(self, model, data=None, *, seed: int = 0, batches: int = 4,
               batch_size: int = 128) -> dict[str, np.ndarray]:
        """{prunable layer: float32 kernel-shaped scores >= 0}, in model order."""
        raise NotImplementedError

    def unit_scores(self, model, weight_scores: Mapping[str, np.ndarray], *, groups=None,
                    seed: int = 0) -> dict[str, np.ndarray]:
        """{dependency group: one score per channel} for the prunable groups of ``model``: per producer, the
        sum of the unit's incoming weights' scores, summed over the group's producers
        (:func:`prune_core.graph.group_scores`; a chain layer's unit score is its column sum)."""
        return group_scores(model, weight_scores, groups)

    def __repr__(self) -> str:
        return f"<Criterion {self.name!r}: {self.label}>"


CRITERIA = Registry("criterion", "importance criterion", Criterion)


class Magnitude(Criterion):
    name = "magnitude"
    label = "Magnitude |w|"
    explanation = "The weight's absolute value: small weights change the output least when set to zero."
    citation = "Han et al. 2015, Learning both Weights and Connections for Efficient Neural Networks"
    spread_from_weights = True

    def scores_from_kernels(self, found: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        return signals.magnitude_scores(found)

    def scores(self, model, data=None, **options):
        return self.scores_from_kernels(kernels(model))


class Random(Criterion):
    name = "random"
    label = "Random (baseline)"
    explanation = "Seeded random scores: the baseline every real criterion has to beat."
    citation = "Frankle et al. 2021, Pruning Neural Networks at Initialization: Why Are We Missing the Mark?"

    def scores(self, model, data=None, *, seed: int = 0, **options):
        return signals.random_scores({n: k.shape for n, k in kernels(model).items()}, seed)

    def unit_scores(self, model, weight_scores, *, groups=None, seed: int = 0):
        """Unit scores drawn directly per group channel (a sum of uniform draws would bunch around its mean)."""
        groups = dependency_groups(model) if groups is None else groups
        return signals.random_scores({g.name: (g.size,) for g in groups if g.prunable}, seed)


class GradientCriterion(Criterion):
    """A criterion built from per-batch gradients of the loss: mean over batches of ``statistic(w, g)``.

    The batches are a fixed, seeded sample of the training data (``signals.sample_batches``);
    L is the mean sparse categorical cross-entropy in inference mode.
    """

    needs_data = True
    fisher = False  # True: ``statistic`` gets the batch mean of squared per-example gradients instead of g

    @property
    def backward_pass(self) -> str:
        """"per-example" for Fisher statistics (slower: only scored with their own kind), "batch" otherwise."""
        return "per-example" if self.fisher else "batch"

    def statistic(self, w: np.ndarray, g: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def finish(self, mean: np.ndarray, w: np.ndarray) -> np.ndarray:
        """From the batch mean of :meth:`statistic` to the score (identity by default)."""
        return mean

    def scores(self, model, data=None, *, seed: int = 0, batches: int = 4, batch_size: int = 128):
        return score_many(model, [self.name], data, seed=seed, batches=batches, batch_size=batch_size)[self.name]


class Sensitivity(GradientCriterion):
    name = "sensitivity"
    label = "Sensitivity |∂L/∂w|"
    explanation = "How fast the loss changes when the weight moves: the mean absolute gradient over training batches."
    citation = "Karnin 1990, A Simple Procedure for Pruning Back-Propagation Trained Neural Networks"

    def statistic(self, w, g):
        return np.abs(g)


class Taylor(GradientCriterion):
    name = "taylor"
    label = "Taylor |w·∂L/∂w|"
    explanation = "First-order estimate of how much the loss changes if the weight is removed: |w × gradient|."
    citation = "Molchanov et al. 2017, Pruning Convolutional Neural Networks for Resource Efficient Inference"

    def statistic(self, w, g):
        return np.abs(w * g)


class OBD(GradientCriterion):
    """½ · h_ii · w², with h_ii the diagonal of the empirical Fisher: the mean over the scoring examples of
    (∂ℓ_n/∂w)² for each example's loss ℓ_n (one backward pass per example, vectorised)."""

    name = "obd"
    label = "OBD ½·h·w²"
    explanation = ("Second-order estimate of the loss increase when the weight is removed: half its square times "
                   "the Hessian's diagonal, approximated by the mean squared per-example gradient (empirical Fisher).")
    citation = "LeCun, Denker & Solla 1990, Optimal Brain Damage"
    fisher = True

    def statistic(self, w, f):
        return f

    def finish(self, mean, w):
        return 0.5 * mean * w * w


class SNIP(GradientCriterion):
    """|g ⊙ w| with g the gradient of the mean loss over the scoring examples taken as one batch (Lee et al. use
    one mini-batch at initialization; normalising by Σ|g ⊙ w| does not change the ranking, so it is left out)."""

    name = "snip"
    label = "SNIP |g·w| at init"
    explanation = ("Connection sensitivity: |weight × gradient of the loss on one batch|, meant for pruning an "
                   "untrained network before training (use the Retrain page's 'Pruning at initialization').")
    citation = "Lee, Ajanthan & Torr 2019, SNIP: Single-shot Network Pruning based on Connection Sensitivity"

    def statistic(self, w, g):
        return g

    def finish(self, mean, w):
        return np.abs(mean * w)


class Wanda(Criterion):
    """|W_ij| · ‖X_j‖₂ (Sun et al. 2023), X_j the j-th input feature (channel, for convolutions) of the layer
    over the scoring examples, measured on the model as it is. No gradients, no labels needed beyond the
    inputs. The paper compares scores within each output unit: use the ``per-output`` rule (or N:M) for that."""

    name = "wanda"
    label = "Wanda |w|·‖x‖"
    explanation = ("The weight's magnitude times the norm of its input over calibration batches: a small weight "
                   "on a loud input still matters. No gradients; best compared within each output unit.")
    citation = "Sun, Liu, Bair & Kolter 2023, A Simple and Effective Pruning Approach for Large Language Models"
    needs_data = True

    def scores(self, model, data=None, *, seed: int = 0, batches: int = 4, batch_size: int = 128, **options):
        x, _ = data_arrays(self, data)
        norms = signals.input_norms(model, x, batches=batches, batch_size=batch_size, seed=seed)
        found = kernels(model)
        return {layer.name: wanda_scores(found[layer.name], norms[layer.name],
                                         transposed=type(layer).__name__.endswith("Transpose"))
                for layer in prunable_layers(model)}


def wanda_scores(kernel: np.ndarray, norms: np.ndarray, *, transposed: bool = False) -> np.ndarray:
    """|kernel| times the input norms along the kernel's input axis (-2; -1 for transposed convolutions).

    >>> wanda_scores(np.array([[1., -2.], [3., 0.5]]), np.array([2., 1.])).tolist()
    [[2.0, 4.0], [3.0, 0.5]]
    """
    kernel = np.asarray(kernel, dtype=np.float32)
    axis = kernel.ndim - 1 if transposed else kernel.ndim - 2
    norms = np.asarray(norms, dtype=np.float32).ravel()
    size = kernel.shape[axis]
    if norms.size != size:
        if norms.size and size % norms.size == 0:  # SeparableConv: depthwise outputs c·m … c·m + m − 1
            norms = np.repeat(norms, size // norms.size)
        else:
            raise ValueError(f"Input norms of length {norms.size} do not fit a kernel of shape {kernel.shape}.")
    shape = [1] * kernel.ndim
    shape[axis] = size
    return (np.abs(kernel) * norms.reshape(shape)).astype(np.float32)


class SynFlow(Criterion):
    """Iterative synaptic flow (Tanaka et al. 2020), data-free.

    The network is linearised (every parameter replaced by its absolute value, softmax outputs dropped) and fed
    an all-ones input; R = Σ outputs; a weight's synaptic saliency is |∂R/∂w ⊙ w|. Pruning on it once collapses
    layers, so it is applied iteratively: over ``iterations`` rounds the global sparsity rises exponentially to
    ``max_sparsity``, each round pruning the lowest saliencies of what remains and re-scoring. The score of a
    weight is its place in that order — pruned in round k: k − 1 + its saliency in that round / the round's
    largest (so in [k − 1, k)); left after the last round: ``iterations`` + the same fraction — so a global
    sparsity rule at any target prunes what iterative SynFlow would prune (exactly at the rounds' targets).
    """

    name = "synflow"
    label = "SynFlow (iterative, data-free)"
    explanation = ("Synaptic flow: how much 'signal' flows through the weight in the network with every weight "
                   "made positive and an all-ones input, re-scored over 100 rounds of pruning; no data needed.")
    citation = "Tanaka, Kunin, Yamins & Ganguli 2020, Pruning neural networks without any data by iteratively " \
               "conserving synaptic flow"
    iterations: int = 100
    max_sparsity: float = 0.999

    def scores(self, model, data=None, **options):
        return signals.synflow_order(model, iterations=self.iterations, max_sparsity=self.max_sparsity)


class Shuffled(Criterion):
    """Another criterion's scores shuffled within each layer (seeded): under global scope the layers keep the
    base criterion's sparsities, the kept positions are random (Frankle et al. 2021's ablation)."""

    citation = "Frankle, Dziugaite, Roy & Carbin 2021, Pruning Neural Networks at Initialization: Why Are We " \
               "Missing the Mark?"

    def __init__(self, base: str = "magnitude", name: str | None = None):
        self.base = base
        self.name = name or f"shuffled-{base}"
        self.label = f"Shuffled {base} (control)"
        self.explanation = (f"{base}'s scores shuffled within each layer: with global scope each layer keeps the "
                            f"share {base} gives it, at random positions. A method that survives this only chose "
                            "how much to prune per layer.")

    @property
    def needs_data(self) -> bool:
        return get_criterion(self.base).needs_data

    def scores(self, model, data=None, *, seed: int = 0, batches: int = 4, batch_size: int = 128, **options):
        base = score_many(model, [self.base], data, seed=seed, batches=batches, batch_size=batch_size)[self.base]
        return shuffle_within(base, seed)


def shuffle_within(scores: Mapping[str, np.ndarray], seed: int = 0) -> dict[str, np.ndarray]:
    """Each array's entries permuted (seeded, one generator drawn in layer order); shapes kept.

    >>> out = shuffle_within({"d": np.arange(6.).reshape(2, 3)}, 0)
    >>> sorted(out["d"].ravel().tolist()), out["d"].shape
    ([0.0, 1.0, 2.0, 3.0, 4.0, 5.0], (2, 3))
    """
    rng = np.random.default_rng(seed)
    return {n: np.asarray(s, dtype=np.float32).ravel()[rng.permutation(np.size(s))].reshape(np.shape(s))
            for n, s in scores.items()}


def shuffled(base: str) -> Criterion:
    """The registered shuffled control of criterion ``base`` ("shuffled-<base>"), registered on first use."""
    get_criterion(base)
    name = "shuffled" if base == "magnitude" else f"shuffled-{base}"
    if name not in CRITERIA:
        register_criterion(Shuffled(base, name))
    return CRITERIA[name]


# --- the registry --------------------------------------------------------------------------------

# CRITERIA.register / .get / .unregister under the names the package exports (the CLI, the Prune, Sensitivity and
# Compare pages offer every registered criterion).
register_criterion, get_criterion, unregister_criterion = CRITERIA.register, CRITERIA.get, CRITERIA.unregister


def scored_together(name: str) -> tuple[str, ...]:
    """The registered criteria computed in the same pass as ``name`` (itself included, registry order): those
    sharing its :attr:`Criterion.backward_pass`; ``(name,)`` for a criterion that needs no backward pass.

    >>> scored_together("taylor")
    ('sensitivity', 'taylor', 'snip')
    >>> scored_together("obd"), scored_together("magnitude")
    (('obd',), ('magnitude',))
    """
    chosen = get_criterion(name)
    if chosen.backward_pass is None:
        return (name,)
    return tuple(n for n, c in CRITERIA.items() if c.backward_pass == chosen.backward_pass)


def data_arrays(criterion: Criterion, data) -> tuple[np.ndarray, np.ndarray]:
    """(x_train, y_train) of ``data`` (a Dataset, or a 2- or 4-tuple); ValueError saying what is missing."""
    if data is not None and hasattr(data, "x_train"):
        x, y = data.x_train, data.y_train
    elif isinstance(data, (tuple, list)) and len(data) in (2, 4):
        x, y = data[0], data[1]
    else:
        x = y = None
    signals.require_data(criterion.name, x, y)
    return x, y


def score_many(model, names: Iterable[str], data=None, *, seed: int = 0, batches: int = 4,
               batch_size: int = 128) -> dict[str, dict[str, np.ndarray]]:
    """{criterion: {layer: scores}} for several criteria, running the backward passes only once."""
    chosen = [get_criterion(n) for n in names]
    gradient = [c for c in chosen if isinstance(c, GradientCriterion)]
    result: dict[str, dict[str, np.ndarray]] = {}
    if gradient:
        x, y = data_arrays(gradient[0], data)
        stats = signals.gradient_statistics(model, x, y, [c.statistic for c in gradient], batches=batches,
                                               batch_size=batch_size, seed=seed,
                                               fisher=[c.fisher for c in gradient])
        weights = _kernels_now(model)
        for criterion, per_layer in zip(gradient, stats):
            result[criterion.name] = {n: np.asarray(criterion.finish(s, weights[n]), dtype=np.float32)
                                      for n, s in per_layer.items()}
    for criterion in chosen:
        if criterion.name not in result:
            result[criterion.name] = criterion.scores(model, data, seed=seed, batches=batches, batch_size=batch_size)
    return {c.name: result[c.name] for c in chosen}


def weight_scores(model, criterion: str, x=None, y=None, *, batches: int = 4, batch_size: int = 128,
                  seed: int = 0) -> dict[str, np.ndarray]:
    """{layer: float32 kernel-shaped scores} for one registered criterion (see :mod:`prune_core.methods.criteria`).

    Data criteria need (x, y) training data (ValueError with a clear message otherwise);
    ``batches`` × ``batch_size`` examples are drawn once with ``seed``. random uses ``seed`` too.
    """
    return all_weight_scores(model, x, y, criteria=(criterion,), batches=batches, batch_size=batch_size,
                             seed=seed)[criterion]


def all_weight_scores(model, x=None, y=None, *, criteria=None, batches: int = 4, batch_size: int = 128,
                      seed: int = 0) -> dict[str, dict[str, np.ndarray]]:
    """{criterion: {layer: scores}} for several criteria (default: all registered), gradients computed once."""
    names = tuple(CRITERIA) if criteria is None else tuple(criteria)
    data = (x, y) if x is not None and y is not None else None
    return score_many(model, names, data, seed=seed, batches=batches, batch_size=batch_size)


def _kernels_now(model) -> dict[str, np.ndarray]:
    return kernels(model)


for _criterion in (Magnitude(), Sensitivity(), Taylor(), Random(), Wanda(), OBD(), SNIP(), SynFlow(),
                   Shuffled("magnitude", "shuffled")):
    register_criterion(_criterion)
