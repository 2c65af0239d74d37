"""Streams mode (issue 21): LayerNormalization/RMSNormalization over the channels let channels through, so a residual
stream is one prunable group; the compact model is the truth (the statistics change), the default stays exact."""

import keras
import numpy as np
import pytest

import prune_core as pc
from prune_core.graph import dependency_groups, weight_masks
from prune_core.graph.surgery import compact_model


def _stream_net(norm=keras.layers.LayerNormalization):
    """(6 tokens, 4) → Dense stem(8) → [norm → Dense up(16, relu) → Dense down(8) → Add] → norm → pool → head(3)."""
    keras.utils.set_random_seed(4)
    inputs = keras.Input((6, 4))
    x = keras.layers.Dense(8, name="stem")(inputs)
    h = norm(name="norm1")(x)
    h = keras.layers.Dense(16, activation="relu", name="up")(h)
    h = keras.layers.Dense(8, name="down")(h)
    x = x + h  # keras.ops Add in the graph: couples like the Add layer
    x = norm(name="norm2")(x)
    x = keras.layers.GlobalAveragePooling1D(name="pool")(x)
    return keras.Model(inputs, keras.layers.Dense(3, name="head")(x), name="stream_net")


def _summary(model, streams):
    return {g.name: (g.size, g.producers, g.consumers, g.prunable) for g in dependency_groups(model, streams=streams)}


def test_without_streams_the_normalized_stream_stays_whole_with_its_reason():
    model = _stream_net()
    stem = next(g for g in dependency_groups(model) if g.name == "stem")
    assert not stem.prunable and "feeds LayerNormalization 'norm1', whose mean and variance" in stem.reason
    assert _summary(model, False)["up"] == (16, ("up",), ("down",), True)


@pytest.mark.parametrize("norm, params", [(keras.layers.LayerNormalization, ("gamma", "beta")),
                                          (keras.layers.RMSNormalization, ("scale",))])
def test_streams_make_the_residual_stream_one_group_with_the_norms_parameters(norm, params):
    model = _stream_net(norm)
    assert _summary(model, True) == {"stem": (8, ("stem", "down"), ("up", "head"), True),
                                     "up": (16, ("up",), ("down",), True), "head": (3, ("head",), (), False)}
    keep = np.array([True, False, True, True, False, True, True, True])  # 6 of 8 stream channels
    masks = weight_masks(model, {"stem": keep}, streams=True)
    for layer in ("norm1", "norm2"):
        assert sorted(masks[layer]) == sorted(params)
        np.testing.assert_array_equal(masks[layer][params[0]], keep)
    small = compact_model(model, {"stem": keep}, streams=True)
    one_norm = 2 * 6 if norm is keras.layers.LayerNormalization else 6
    # stem 4·6 + 6; up 6·16 + 16; down 16·6 + 6; two norms; head 6·3 + 3
    assert small.count_params() == 30 + 112 + 102 + 2 * one_norm + 21
    x = np.random.default_rng(0).normal(size=(3, 6, 4)).astype("float32")
    assert small.predict(x, verbose=0).shape == (3, 3)


def test_streams_spec_needs_unit_granularity_and_is_carried_to_the_compact_model():
    with pytest.raises(ValueError, match="needs granularity 'unit'"):
        pc.PruneSpec(granularity="weight", streams=True).validate()
    model = _stream_net()
    spec = pc.PruneSpec(granularity="unit", rule="sparsity", scope="global", value=0.5, streams=True, min_keep=0.0)
    result = pc.prune(model, spec)
    assert result.masks.streams and set(result.masks.units) == {"stem", "up"}
    assert spec.to_dict()["streams"] is True
    small = pc.compact(model, result.masks)
    kept = {n: int(m.sum()) for n, m in result.masks.units.items()}
    assert small.get_layer("stem").units == kept["stem"] and small.get_layer("up").units == kept["up"]
    assert tuple(small.get_layer("norm2").gamma.shape) == (kept["stem"],)


def test_convnext_tiny_streams_open_every_stage():
    model = keras.applications.ConvNeXtTiny(weights=None, input_shape=(32, 32, 3), classes=10)
    plain, streams = dependency_groups(model), dependency_groups(model, streams=True)
    # 18 blocks: without streams only each block's expansion Dense (pointwise_conv_1) can shrink; with streams every
    # stage's stream (stem/downsampling conv, depthwise convs, LayerScale, the second Dense) joins one group per stage
    # ... and the 18 expansions stay their own groups: 4 stage streams + 18 + the classifier
    assert (len(plain), sum(g.prunable for g in plain)) == (24, 18)
    assert (len(streams), sum(g.prunable for g in streams)) == (23, 22)
    assert [g.name for g in streams if not g.prunable] == ["convnext_tiny_head_dense"]


def test_a_one_shot_run_in_streams_mode_fine_tunes_the_compact_model():
    model = _stream_net()
    rng = np.random.default_rng(2)
    x, x_test = rng.normal(size=(64, 6, 4)).astype("float32"), rng.normal(size=(32, 6, 4)).astype("float32")
    y, y_test = rng.integers(0, 3, 64), rng.integers(0, 3, 32)
    mask_set = pc.select(model, pc.PruneSpec(granularity="unit", rule="sparsity", scope="global", value=0.5,
                                             streams=True, min_keep=0.0))
    with pytest.raises(ValueError, match="choose plain fine-tuning"):
        pc.run_oneshot(model, mask_set, (x, y, x_test, y_test), epochs=1, reconstruct=True)
    result = pc.run_oneshot(model, mask_set, (x, y, x_test, y_test), epochs=1, batch_size=16, latency_repeats=1)
    small = pc.compact(model, mask_set)
    assert result.model.count_params() == small.count_params() == result.params == result.compact["params"]
    assert result.compact_model is result.model and result.settings["streams"] is True
    assert result.compact["units"] == {n: [int(m.sum()), m.size] for n, m in mask_set.units.items()}
    assert result.pruned_accuracy == pytest.approx(float(np.mean(np.argmax(small.predict(x_test, verbose=0), 1)
                                                                 == y_test)))
