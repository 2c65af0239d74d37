"""Fine-tuning holds every pruned entry at exactly zero on every kernel kind: attention projections (EinsumDense),
Embedding tables and recurrent kernels, not only Dense/Conv (tests/sequence_zoo.py models, random weights)."""

from __future__ import annotations

import numpy as np
import pytest

import prune_core as pc
from prune_core.graph import kernels
from tests import sequence_zoo as zoo


def _data(model, n=64, seed=0):
    rng = np.random.default_rng(seed)
    shape = tuple(model.inputs[0].shape[1:])
    if "int" in str(model.inputs[0].dtype):
        x = rng.integers(0, 1000, (n, *shape))
    else:
        x = rng.normal(size=(n, *shape)).astype(np.float32)
    return x, rng.integers(0, int(model.outputs[0].shape[-1]), n)


@pytest.mark.parametrize("build, kinds", [(zoo.vit_tiny, ("mha0/query", "mha1/attention_output")),
                                          (zoo.text_model, ("embed", "mha/value")),
                                          (zoo.gru_rows, ("gru/kernel", "gru/recurrent_kernel"))])
def test_fine_tuning_keeps_every_pruned_kernel_entry_at_zero(build, kinds):
    import keras

    model = build()
    if model.layers[-1].get_config().get("activation") != "softmax":  # the trainer's loss reads probabilities
        model = keras.Model(model.inputs, keras.layers.Softmax(name="probabilities")(model.outputs[0]))
    x, y = _data(model)
    # per layer: a global 50% takes the whole ViT patchify conv (its Glorot range, ±0.043, is under every other
    # kernel's median), every token is then its bias alone, attention is uniform and query/key get no gradient
    result = pc.prune(model, pc.PruneSpec(rule="sparsity", scope="layer", value=0.5))
    tuned, _ = pc.fine_tune(model, result.masks, x, y, epochs=1, batch_size=16, learning_rate=1e-2)
    after = kernels(tuned)
    assert set(after) == set(result.masks.kernels)
    for key, mask in result.masks.kernels.items():
        assert np.all(after[key][~mask] == 0.0), key
    for key in kinds:  # these kinds were pruned, and what was kept moved
        mask = result.masks.kernels[key]
        assert 0 < np.count_nonzero(~mask) < mask.size, key
        assert not np.array_equal(after[key][mask], kernels(result.model)[key][mask]), key
