"""pc.prune by units on models nobody here designed: the masked copy computes what pc.compact's smaller model
computes, the reported sparsity is the count of zeroed weights, the caller's model is untouched, and
fine-tuning keeps every removed weight (BatchNorm and depthwise entries included) at exactly zero."""

from __future__ import annotations

import keras
import numpy as np
import pytest

import prune_core as pc
from prune_core.graph import kernels
from prune_core.methods.thresholds import prune_count
from tests.model_zoo import ZOO

SPEC = pc.PruneSpec(granularity="unit", rule="sparsity", scope="global", value=0.3)


@pytest.fixture(scope="module", params=sorted(ZOO))
def zoo(request):
    model, sample = ZOO[request.param]()
    return request.param, model, sample


def test_masked_equals_compact_and_sparsity_counts_zeros(zoo):
    name, model, sample = zoo
    before = [w.copy() for w in model.get_weights()]
    result = pc.prune(model, SPEC)
    groups = [g for g in pc.graph.dependency_groups(model) if g.prunable]
    total_channels = sum(g.size for g in groups)
    removed = sum(int((~u).sum()) for u in result.masks.units.values())
    emptied = sum(int(u.sum()) == 1 for u in result.masks.units.values())  # groups kept alive by one channel
    assert prune_count(total_channels, 0.3) - emptied <= removed <= prune_count(total_channels, 0.3), name
    assert all(u.any() for u in result.masks.units.values()), name
    zeros = sum(int(np.count_nonzero(k == 0)) for k in kernels(result.model).values())
    total = sum(k.size for k in kernels(result.model).values())
    assert (result.masks.total - result.masks.kept, result.masks.total) == (zeros, total), name
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights())), name
    if removed:
        small = pc.compact(model, result.masks)
        masked_out = keras.ops.convert_to_numpy(result.model(sample, training=False))
        compact_out = keras.ops.convert_to_numpy(small(sample, training=False))
        scale = max(float(np.abs(masked_out).max()), 1e-6)
        assert float(np.abs(masked_out - compact_out).max()) <= 1e-5 * scale, name
        assert small.count_params() < model.count_params(), name


def test_unprunable_groups_are_never_chosen():
    model, _ = ZOO["gru_model"]()
    result = pc.prune(model, SPEC)
    blocked = {g.name for g in pc.graph.dependency_groups(model) if not g.prunable}
    assert blocked and not blocked & set(result.masks.units)


def test_fine_tuning_a_residual_bn_model_keeps_removed_channels_zero():
    import keras

    model, sample = ZOO["resnet_blocks"]()
    model = keras.Model(model.inputs, keras.layers.Activation("softmax")(model.outputs[0]))
    result = pc.prune(model, SPEC)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, *sample.shape[1:])).astype("float32")
    y = rng.integers(0, int(model.outputs[0].shape[-1]), size=64)
    tuned, _ = pc.fine_tune(model, result.masks, x, y, epochs=1, batch_size=16, learning_rate=0.05)
    found = {layer.name: layer for layer in pc.graph.layers(tuned)}
    checked = 0
    for layer_name, weights in result.masks.extra.items():
        variables = {v.name: v for v in found[layer_name].weights}
        for weight, keep in weights.items():
            assert not np.asarray(variables[weight].numpy())[~keep].any(), (layer_name, weight)
            checked += int((~keep).sum())
    for layer_name, keep in result.masks.kernels.items():
        assert not kernels(tuned)[layer_name][~keep].any(), layer_name
    assert checked > 0  # biases and BatchNorm entries of the removed channels were held at zero


def test_per_layer_values_by_group_name():
    model, _ = ZOO["concat_branches"]()
    result = pc.prune(model, pc.PruneSpec(granularity="unit", rule="sparsity", value=0.0, per_layer={"a": 0.5}))
    assert {n: int((~u).sum()) for n, u in result.masks.units.items()} == {"a": 4, "b": 0}
    assert not (~result.masks.kernels["b"]).any()  # the sibling that never reads a keeps every weight
