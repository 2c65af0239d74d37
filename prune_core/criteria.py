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
['magnitude', 'random', 'sensitivity', 'taylor']
>>> CRITERIA["magnitude"].scores_from_kernels({"d": np.array([[-0.5, 0.25]])})["d"].tolist()
[[0.5, 0.25]]
"""

from __future__ import annotations

from typing import Iterable, Mapping

import numpy as np

from . import importance

CRITERIA: dict[str, "Criterion"] = {}


class Criterion:
    """One importance criterion. Subclasses set the class attributes and implement :meth:`scores`.

    ``name``: registry key (CLI value, URL value); ``label``: what the UI shows; ``explanation``: one
    sentence for a person; ``citation``: where it comes from; ``needs_data``: scores need labelled
    training data; ``spread_from_weights``: the σ rule measures the spread of the weights themselves
    (Han et al. 2015 compare |w| with quality × σ(w)) rather than of the scores.
    """

    name: str = ""
    label: str = ""
    explanation: str = ""
    citation: str = ""
    needs_data: bool = False
    spread_from_weights: bool = False

    def scores(self, model, data=None, *, seed: int = 0, batches: int = 4,
               batch_size: int = 128) -> dict[str, np.ndarray]:
        """{prunable layer: float32 kernel-shaped scores >= 0}, in model order."""
        raise NotImplementedError

    def unit_scores(self, model, weight_scores: Mapping[str, np.ndarray], *, groups=None,
                    seed: int = 0) -> dict[str, np.ndarray]:
        """{dependency group: one score per channel} for the prunable groups of ``model``: per producer, the
        sum of the unit's incoming weights' scores, summed over the group's producers
        (:func:`prune_core.graph.group_scores`; a chain layer's unit score is its column sum)."""
        from .graph import group_scores

        return group_scores(model, weight_scores, groups)

    def __repr__(self) -> str:
        return f"<Criterion {self.name!r}: {self.label}>"


class Magnitude(Criterion):
    name = "magnitude"
    label = "Magnitude |w|"
    explanation = "The weight's absolute value: small weights change the output least when set to zero."
    citation = "Han et al. 2015, Learning both Weights and Connections for Efficient Neural Networks"
    spread_from_weights = True

    def scores_from_kernels(self, found: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        return importance.magnitude_scores(found)

    def scores(self, model, data=None, **options):
        from .layers import kernels

        return self.scores_from_kernels(kernels(model))


class Random(Criterion):
    name = "random"
    label = "Random (baseline)"
    explanation = "Seeded random scores: the baseline every real criterion has to beat."
    citation = "Frankle et al. 2021, Pruning Neural Networks at Initialization: Why Are We Missing the Mark?"

    def scores(self, model, data=None, *, seed: int = 0, **options):
        from .layers import kernels

        return importance.random_scores({n: k.shape for n, k in kernels(model).items()}, seed)

    def unit_scores(self, model, weight_scores, *, groups=None, seed: int = 0):
        """Unit scores drawn directly per group channel (a sum of uniform draws would bunch around its mean)."""
        from .graph import dependency_groups

        groups = dependency_groups(model) if groups is None else groups
        return importance.random_scores({g.name: (g.size,) for g in groups if g.prunable}, seed)


class GradientCriterion(Criterion):
    """A criterion built from per-batch gradients of the loss: mean over batches of ``statistic(w, g)``.

    The batches are a fixed, seeded sample of the training data (``importance.sample_batches``);
    L is the mean sparse categorical cross-entropy in inference mode.
    """

    needs_data = True

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


# --- the registry --------------------------------------------------------------------------------

def register_criterion(criterion: Criterion, *, replace: bool = False) -> Criterion:
    """Add ``criterion`` to :data:`CRITERIA` (the CLI, the Prune, Sensitivity and Compare pages offer it).

    ValueError when the name is empty, not a plain identifier, or taken (unless ``replace``).
    """
    name = getattr(criterion, "name", "")
    if not isinstance(criterion, Criterion):
        raise ValueError(f"A criterion must be a prune_core.Criterion instance, not {type(criterion).__name__}.")
    if not name or not name.replace("_", "").replace("-", "").isalnum():
        raise ValueError(f"A criterion needs a short name of letters, digits, '-' or '_'; got {name!r}.")
    if name in CRITERIA and not replace:
        raise ValueError(f"A criterion named {name!r} is already registered; pass replace=True to override it.")
    if not criterion.label:
        criterion.label = name
    CRITERIA[name] = criterion
    return criterion


def unregister_criterion(name: str) -> None:
    """Remove a criterion from the registry (no error when absent)."""
    CRITERIA.pop(name, None)


def get_criterion(name: str) -> Criterion:
    """The registered criterion ``name``; ValueError listing the choices otherwise."""
    if name not in CRITERIA:
        raise ValueError(f"Unknown importance criterion {name!r}; choose one of {', '.join(CRITERIA)}.")
    return CRITERIA[name]


def data_arrays(criterion: Criterion, data) -> tuple[np.ndarray, np.ndarray]:
    """(x_train, y_train) of ``data`` (a Dataset, or a 2- or 4-tuple); ValueError saying what is missing."""
    if data is not None and hasattr(data, "x_train"):
        x, y = data.x_train, data.y_train
    elif isinstance(data, (tuple, list)) and len(data) in (2, 4):
        x, y = data[0], data[1]
    else:
        x = y = None
    importance.require_data(criterion.name, x, y)
    return x, y


def score_many(model, names: Iterable[str], data=None, *, seed: int = 0, batches: int = 4,
               batch_size: int = 128) -> dict[str, dict[str, np.ndarray]]:
    """{criterion: {layer: scores}} for several criteria, running the backward passes only once."""
    chosen = [get_criterion(n) for n in names]
    gradient = [c for c in chosen if isinstance(c, GradientCriterion)]
    result: dict[str, dict[str, np.ndarray]] = {}
    if gradient:
        x, y = data_arrays(gradient[0], data)
        stats = importance.gradient_statistics(model, x, y, [c.statistic for c in gradient], batches=batches,
                                               batch_size=batch_size, seed=seed)
        weights = _kernels_now(model)
        for criterion, per_layer in zip(gradient, stats):
            result[criterion.name] = {n: np.asarray(criterion.finish(s, weights[n]), dtype=np.float32)
                                      for n, s in per_layer.items()}
    for criterion in chosen:
        if criterion.name not in result:
            result[criterion.name] = criterion.scores(model, data, seed=seed, batches=batches, batch_size=batch_size)
    return {c.name: result[c.name] for c in chosen}


def _kernels_now(model) -> dict[str, np.ndarray]:
    from .layers import kernels

    return kernels(model)


for _criterion in (Magnitude(), Sensitivity(), Taylor(), Random()):
    register_criterion(_criterion)
