"""Importance scores for every prunable kernel entry, and per output unit (neuron / filter).

Criteria (all scores are >= 0, float32, kernel-shaped, keyed by layer name in model order):

- ``magnitude``: |w| (the L1 term).
- ``sensitivity``: mean over a fixed, seeded set of training batches of |dL/dw|.
- ``taylor``: mean over the same batches of |w · dL/dw| (first-order estimate of the loss change
  if w were removed).
- ``random``: seeded uniform [0, 1) scores, the baseline.

L is the mean sparse categorical cross-entropy of the model's softmax outputs on a batch,
computed in inference mode (dropout off). Biases are never scored.

>>> unit_scores({"h": np.array([[1., 2.], [3., 4.]]), "out": np.ones((2, 3))}, "magnitude")
{'h': array([4., 6.], dtype=float32)}
"""

from __future__ import annotations

from typing import Mapping

import numpy as np
from ..graph import kernel_variable, layers as all_layers, prunable_layers, weight_targets
from .masks import copy_model

GRADIENT_BUDGET = 1 << 20  # input elements per backward pass: bounds activation memory on big inputs


def require_data(criterion: str, x, y) -> None:
    """ValueError (saying what to do) unless (x, y) are labelled examples, as many labels as inputs."""
    if x is None or y is None:
        raise ValueError(f"The {criterion} criterion needs training data (images and labels) to compute "
                         "gradients; none was given. Load a dataset first, or use magnitude or random.")
    if len(x) == 0 or len(x) != len(y):
        raise ValueError(f"The {criterion} criterion needs as many labels as images (got {len(x)} images "
                         f"and {len(y)} labels, at least one of each).")


def magnitude_scores(kernels: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """{layer: |w|} as float32.

    >>> magnitude_scores({"d": np.array([[-0.5, 0.25]])})["d"].tolist()
    [[0.5, 0.25]]
    """
    return {n: np.abs(np.asarray(k, dtype=np.float32)) for n, k in kernels.items()}


def random_scores(shapes: Mapping[str, tuple], seed: int = 0) -> dict[str, np.ndarray]:
    """Seeded uniform [0, 1) float32 scores, one array per layer, drawn in layer order."""
    rng = np.random.default_rng(seed)
    return {n: rng.random(tuple(shape), dtype=np.float32) for n, shape in shapes.items()}


def sample_batches(n: int, batches: int, batch_size: int, seed: int) -> list[np.ndarray]:
    """Index arrays of a fixed, seeded set of batches (without replacement; fewer if n is small).

    >>> [b.tolist() for b in sample_batches(5, 2, 2, 0)] == [b.tolist() for b in sample_batches(5, 2, 2, 0)]
    True
    """
    if batches < 1 or batch_size < 1:
        raise ValueError("The number of batches and the batch size must be at least 1.")
    order = np.random.default_rng(seed).permutation(n)[:batches * batch_size]
    return [order[i:i + batch_size] for i in range(0, len(order), batch_size)]


def micro_batch_size(input_shape, batch_size: int, budget: int = GRADIENT_BUDGET) -> int:
    """How many examples one backward pass takes: the whole batch unless its inputs exceed ``budget``
    elements (ResNet-50 at 224×224×3: 6 per pass). The gradient of the batch mean is the same either way.

    >>> micro_batch_size((28, 28), 128), micro_batch_size((224, 224, 3), 128)
    (128, 6)
    """
    per_example = int(np.prod(input_shape, dtype=np.int64)) or 1
    return int(max(1, min(batch_size, budget // per_example)))


PER_EXAMPLE_BUDGET = 1 << 25  # per-example gradient elements held at once (128 MB of float32)


def tape_gradients(objective, variables, *, per_example: bool = False) -> list:
    """Gradients of ``objective()`` with respect to ``variables`` (Keras variables) as float32 numpy (None where
    unconnected), on whichever Keras backend is running.

    ``per_example``: ``objective()`` returns one value per example and the result stacks each example's
    gradient on a new first axis (a Jacobian). Every gradient computed for scoring goes through here, with one
    branch per backend: ``tf.GradientTape`` (TensorFlow), ``jax.grad`` / ``jax.jacrev`` of the objective as a
    function of the variables' values (the model reads them through a ``StatelessScope``), torch autograd on
    the variables' tensors.

    >>> import keras
    >>> w = keras.Variable(np.array([1.0, 2.0], dtype="float32"))
    >>> [g.tolist() for g in tape_gradients(lambda: keras.ops.sum(w * w), [w])]
    [[2.0, 4.0]]
    """
    import keras

    backend = keras.backend.backend()
    if backend == "jax":
        grads = _jax_gradients(objective, variables, per_example)
    elif backend == "torch":
        grads = _torch_gradients(objective, variables, per_example)
    elif backend == "tensorflow":
        grads = _tf_gradients(objective, variables, per_example)
    else:
        raise NotImplementedError(f"Gradients are computed under TensorFlow, JAX or PyTorch, not {backend!r} "
                                  "(set KERAS_BACKEND to one of tensorflow, jax, torch).")
    return [None if g is None else np.asarray(keras.ops.convert_to_numpy(g), dtype=np.float32) for g in grads]


def _tf_gradients(objective, variables, per_example):
    import tensorflow as tf

    with tf.GradientTape(persistent=per_example) as tape:
        value = objective()
    if per_example:
        try:
            grads = tape.jacobian(value, variables, experimental_use_pfor=True)
        except (ValueError, TypeError, NotImplementedError, tf.errors.OpError):  # an op pfor cannot vectorise
            grads = tape.jacobian(value, variables, experimental_use_pfor=False)
    else:
        grads = tape.gradient(value, variables)
    del tape
    return [tf.convert_to_tensor(g) if isinstance(g, tf.IndexedSlices) else g for g in grads]  # Embedding rows


def _jax_gradients(objective, variables, per_example):
    import jax
    from keras.src.backend import StatelessScope

    def of_values(values):
        with StatelessScope(state_mapping=list(zip(variables, values))):
            return objective()

    values = [v.value for v in variables]
    grads = (jax.jacrev if per_example else jax.grad)(of_values)(values)
    return list(grads)  # JAX gives zeros, not None, where a variable is unconnected


def _torch_gradients(objective, variables, per_example):
    import torch

    tensors = [v.value for v in variables]
    wanted = [t.requires_grad for t in tensors]
    try:
        for t in tensors:  # a frozen layer's kernel is scored too
            t.requires_grad_(True)
        with torch.enable_grad():
            value = objective()
            if not per_example:
                return list(torch.autograd.grad(value, tensors, allow_unused=True))
            try:  # every example's backward pass at once (vmap over the vector-Jacobian product)
                return list(torch.autograd.grad(value, tensors, grad_outputs=torch.eye(value.shape[0], dtype=value.dtype),
                                                allow_unused=True, is_grads_batched=True))
            except RuntimeError:  # an op without a batching rule: one example at a time
                rows = [torch.autograd.grad(value[i], tensors, allow_unused=True, retain_graph=True)
                        for i in range(value.shape[0])]
                return [None if rows[0][j] is None else torch.stack([r[j] for r in rows]) for j in range(len(tensors))]
    finally:
        for t, flag in zip(tensors, wanted):
            t.requires_grad_(flag)


def gradient_statistics(model, x, y, statistics, *, batches: int = 4, batch_size: int = 128,
                        seed: int = 0, fisher=None) -> list[dict[str, np.ndarray]]:
    """For each ``statistic(w, g) -> array``: {target: mean over the seeded batches of statistic(kernel, dL/dkernel)},
    for every weight target (:func:`prune_core.graph.weight_targets`: attention, Embedding and recurrent kernels too).

    One backward pass per batch serves every statistic. L is the batch mean of the sparse categorical
    cross-entropy of the model's outputs in inference mode; large inputs are split into micro-batches
    (:func:`micro_batch_size`) whose gradients add up to the batch's, so memory stays bounded.
    ``fisher``: one flag per statistic; a flagged statistic gets, instead of the batch gradient, the batch
    mean of the squared per-example gradients (the diagonal of the empirical Fisher), computed only when
    some statistic asks for it (in chunks of at most :data:`PER_EXAMPLE_BUDGET` gradient elements).
    This is the one place that computes loss gradients for scoring (through :func:`tape_gradients`).
    """
    import keras


    fisher = [False] * len(statistics) if fisher is None else [bool(f) for f in fisher]
    targets = weight_targets(model)
    variables = [target.variable for target in targets]
    values = [np.asarray(keras.ops.convert_to_numpy(v), dtype=np.float32) for v in variables]
    totals = [[np.zeros_like(v) for v in values] for _ in statistics]
    x, y = np.asarray(x), np.asarray(y).astype(np.int64)
    index_sets = sample_batches(len(x), batches, batch_size, seed)
    step = micro_batch_size(x.shape[1:], batch_size)
    n_params = sum(v.size for v in values) or 1
    chunk = max(1, min(step, PER_EXAMPLE_BUDGET // n_params))
    for index in index_sets:
        grads = [np.zeros_like(v) for v in values]
        if not all(fisher):
            for start in range(0, len(index), step):
                part = index[start:start + step]
                found = tape_gradients(lambda: keras.ops.sum(keras.losses.sparse_categorical_crossentropy(
                    y[part], model(x[part], training=False))) / len(index), variables)
                for i, g in enumerate(found):
                    if g is not None:
                        grads[i] += g
        squares = [np.zeros_like(v) for v in values]
        if any(fisher):
            for start in range(0, len(index), chunk):
                part = index[start:start + chunk]
                found = tape_gradients(lambda: keras.losses.sparse_categorical_crossentropy(
                    y[part], model(x[part], training=False)), variables, per_example=True)
                for i, g in enumerate(found):
                    if g is not None:
                        squares[i] += np.sum(np.square(g), axis=0) / len(index)
        for total, statistic, wants_fisher in zip(totals, statistics, fisher):
            for i, w in enumerate(values):
                total[i] += statistic(w, squares[i] if wants_fisher else grads[i])
    count = np.float32(len(index_sets))
    names = [target.key for target in targets]
    return [{n: t / count for n, t in zip(names, total)} for total in totals]


def capture_inputs(model, x, handlers, *, batch_size: int = 128) -> None:
    """Run ``model`` (inference mode) over ``x`` in batches and call ``handlers[layer name](inputs)`` with
    each batch's input to that layer (a float32 numpy array), for any layer reached, nested models included.

    The layers' ``call`` is wrapped for the duration only (the model is unchanged afterwards). Used for
    activation statistics (Wanda's input norms, reconstruction's XᵀX).
    """
    import keras

    found = {layer.name: layer for layer in all_layers(model) if layer.name in handlers}
    missing = [n for n in handlers if n not in found]
    if missing:
        raise ValueError(f"No layer named {', '.join(missing)} in {model.name!r}.")
    x = np.asarray(x)
    step = max(1, min(batch_size, micro_batch_size(x.shape[1:], batch_size)))
    try:
        for name, layer in found.items():
            original = layer.call

            def recording(inputs, *args, _call=original, _handle=handlers[name], **kwargs):
                _handle(np.asarray(keras.ops.convert_to_numpy(inputs), dtype=np.float32))
                return _call(inputs, *args, **kwargs)

            layer.call = recording
        for start in range(0, len(x), step):
            model(x[start:start + step], training=False)
    finally:
        for layer in found.values():
            if "call" in vars(layer):
                del layer.call


def scoring_inputs(x, *, batches: int = 4, batch_size: int = 128, seed: int = 0) -> np.ndarray:
    """The seeded scoring examples of ``x`` (the same batches the gradient criteria use), concatenated."""
    index_sets = sample_batches(len(x), batches, batch_size, seed)
    return np.asarray(x)[np.concatenate(index_sets)] if index_sets else np.asarray(x)[:0]


def input_norms(model, x, *, batches: int = 4, batch_size: int = 128, seed: int = 0) -> dict[str, np.ndarray]:
    """{prunable layer: ‖X_j‖₂ per input feature j}, over the seeded scoring examples: for Dense the norm of
    each input feature over examples (and any leading axes), for convolutions of each input channel over
    examples and positions. Wanda's activation statistic."""
    sums: dict[str, np.ndarray] = {}

    def add(name):
        def handle(inputs):
            flat = inputs.reshape(-1, inputs.shape[-1]).astype(np.float64)
            sums[name] = sums.get(name, 0.0) + np.sum(flat * flat, axis=0)
        return handle

    names = [layer.name for layer in prunable_layers(model)]
    capture_inputs(model, scoring_inputs(x, batches=batches, batch_size=batch_size, seed=seed),
                   {n: add(n) for n in names}, batch_size=batch_size)
    return {n: np.sqrt(sums[n]).astype(np.float32) for n in names if n in sums}


def gradient_scores(model, x, y, *, batches: int = 4, batch_size: int = 128,
                    seed: int = 0) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """(sensitivity, taylor): mean |dL/dw| and mean |w · dL/dw| over the same seeded batches."""
    require_data("sensitivity", x, y)
    sens, taylor = gradient_statistics(model, x, y, [lambda w, g: np.abs(g), lambda w, g: np.abs(w * g)],
                                       batches=batches, batch_size=batch_size, seed=seed)
    return sens, taylor


def sum_unit_scores(weight_scores: Mapping[str, np.ndarray], output_layer: str | None = None) -> dict[str, np.ndarray]:
    """One score per output unit: the sum of its incoming weights' scores (all kernel axes but the last);
    for magnitude that is the L1 norm of the unit's incoming weights. The output layer is omitted
    (default: the last layer of ``weight_scores``, dicts being in model order)."""
    result = {}
    for n in _hidden(weight_scores, output_layer):
        s = np.asarray(weight_scores[n], dtype=np.float32)
        result[n] = s.reshape(-1, s.shape[-1]).sum(axis=0, dtype=np.float64).astype(np.float32)
    return result


def random_unit_scores(weight_scores: Mapping[str, np.ndarray], output_layer: str | None = None,
                       seed: int = 0) -> dict[str, np.ndarray]:
    """Seeded uniform [0, 1) scores drawn per unit (a sum of uniform draws would bunch around its mean)."""
    return random_scores({n: (np.shape(weight_scores[n])[-1],) for n in _hidden(weight_scores, output_layer)}, seed)


def _hidden(weight_scores: Mapping[str, np.ndarray], output_layer: str | None) -> list[str]:
    names = list(weight_scores)
    if output_layer is None and names:
        output_layer = names[-1]
    return [n for n in names if n != output_layer]


def unit_scores(weight_scores: Mapping[str, np.ndarray], criterion: str, output_layer: str | None = None,
                seed: int = 0) -> dict[str, np.ndarray]:
    """One score per output unit (Dense column / Conv2D filter) of a chain of layers, the output layer
    omitted: the sum of the unit's weights' scores, or for ``random`` seeded draws per unit. For any graph
    use the criterion's ``unit_scores(model, ...)``, which scores dependency groups."""
    if criterion == "random":
        return random_unit_scores(weight_scores, output_layer, seed)
    return sum_unit_scores(weight_scores, output_layer)


# --- SynFlow (data-free) ---------------------------------------------------------------------------

def _linearised_copy(model):
    """A copy of ``model`` with every weight replaced by its absolute value and softmax outputs made linear
    (Σ softmax is always 1: its gradient would be 0)."""
    import keras


    clone = copy_model(model)
    clone.set_weights([np.abs(w) for w in clone.get_weights()])
    for layer in all_layers(clone):
        activation = getattr(layer, "activation", None)
        if activation is not None and getattr(activation, "__name__", "") in ("softmax", "log_softmax"):
            layer.activation = keras.activations.linear
        if type(layer).__name__ == "Softmax":
            layer.call = lambda inputs, *args, **kwargs: inputs
    return clone


def synflow_saliency(model, kernel_masks: Mapping[str, np.ndarray] | None = None) -> dict[str, np.ndarray]:
    """{prunable layer: |∂R/∂w ⊙ w|} on the linearised ``model`` (|parameters|, no softmax) with the masked
    kernel entries set to 0, R = Σ of the outputs for an all-ones input (Tanaka et al. 2020). One pass."""
    import keras


    clone = _linearised_copy(model)
    return _saliency(clone, kernel_masks, keras, kernel_variable, prunable_layers)


def _saliency(clone, kernel_masks, keras, kernel_variable, prunable_layers):
    layers = prunable_layers(clone)
    variables = [kernel_variable(layer) for layer in layers]
    absolute = [np.abs(np.asarray(keras.ops.convert_to_numpy(v), dtype=np.float32)) for v in variables]
    for layer, v, a in zip(layers, variables, absolute):
        v.assign(a * kernel_masks[layer.name] if kernel_masks is not None else a)
    values = [np.asarray(keras.ops.convert_to_numpy(v), dtype=np.float32) for v in variables]
    ones = np.ones((1, *clone.inputs[0].shape[1:]), dtype=np.float32)
    grads = tape_gradients(lambda: keras.ops.sum(clone(ones, training=False)), variables)
    return {layer.name: np.abs((np.zeros_like(w) if g is None else g) * w).astype(np.float32)
            for layer, g, w in zip(layers, grads, values)}


def synflow_order(model, *, iterations: int = 100, max_sparsity: float = 0.999) -> dict[str, np.ndarray]:
    """Iterative SynFlow as scores: {layer: float32} where a weight pruned in round k (global sparsity
    1 − (1 − max_sparsity)^(k/iterations)) scores k − 1 + saliency / the round's largest saliency (in [k − 1, k)),
    and the weights left after the last round score ``iterations`` + the same fraction. A global sparsity rule
    on these scores prunes what the iterative algorithm prunes at each round's target; ties by position.
    """
    import keras


    if isinstance(iterations, bool) or not isinstance(iterations, int) or iterations < 1:
        raise ValueError(f"SynFlow needs a whole number of rounds >= 1; got {iterations!r}.")
    clone = _linearised_copy(model)
    names = [layer.name for layer in prunable_layers(clone)]
    keep = {n: np.ones(kernel_variable(l).shape, dtype=bool) for n, l in zip(names, prunable_layers(clone))}
    original = {l.name: np.abs(np.asarray(keras.ops.convert_to_numpy(kernel_variable(l)), dtype=np.float32))
                for l in prunable_layers(clone)}
    order = {n: np.zeros(keep[n].shape, dtype=np.float64) for n in names}
    sizes = [keep[n].size for n in names]
    total = sum(sizes)
    bounds = np.cumsum([0] + sizes)
    pruned = 0
    for k in range(1, iterations + 2):
        for layer in prunable_layers(clone):  # back to |w| before masking: the saliency pass assigns w·mask
            kernel_variable(layer).assign(original[layer.name])
        saliency = _saliency(clone, keep, keras, kernel_variable, prunable_layers)
        flat = np.concatenate([saliency[n].ravel() for n in names]).astype(np.float64)
        alive = np.concatenate([keep[n].ravel() for n in names])
        top = flat[alive].max() if alive.any() else 0.0
        fraction = np.clip(flat / top, 0.0, 0.999999) if top > 0 else np.zeros_like(flat)
        if k > iterations:  # what survived every round
            chosen = np.flatnonzero(alive)
        else:
            target = int(round((1.0 - (1.0 - max_sparsity) ** (k / iterations)) * total))
            need = max(0, target - pruned)
            candidates = np.flatnonzero(alive)
            chosen = candidates[np.lexsort((candidates, flat[candidates]))[:need]]
        score = (k - 1) + fraction[chosen]
        for i, n in enumerate(names):
            inside = chosen[(chosen >= bounds[i]) & (chosen < bounds[i + 1])] - bounds[i]
            order[n].ravel()[inside] = score[(chosen >= bounds[i]) & (chosen < bounds[i + 1])]
            keep[n].ravel()[inside] = False
        pruned += chosen.size
        if k > iterations:
            break
    return {n: order[n].astype(np.float32) for n in names}
