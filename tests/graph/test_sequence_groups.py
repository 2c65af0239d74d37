"""Issue 21's structural groups on models nobody here designed: GRU/LSTM/SimpleRNN units, Embedding width,
GroupNormalization channel groups and grouped convolutions. Masked == compact ≤ 1e-5, and every compact
parameter count is worked out by hand from the layer shapes."""

import keras
import numpy as np
import pytest

import tests.sequence_zoo as zoo
from prune_core import PruneSpec, compact as compact_masks, prune
from prune_core.graph import dependency_groups, group_scores, kernels, weight_masks
from prune_core.graph.surgery import compact, compact_model
from prune_core.methods import masks as mk


def _groups(model):
    return {g.name: (g.size, g.producers, g.consumers, g.prunable) for g in dependency_groups(model)}


def _every_other(model):
    return {g.name: np.arange(g.size) % 2 == 0 for g in dependency_groups(model) if g.prunable}


def _agree(model, units, x):
    masked = mk.apply_masks(model, mk.MaskSet(kernels={}, units=units, granularity="unit"))
    small, report = compact(model, units, strict=True)
    expected, got = masked.predict(x, verbose=0), small.predict(x, verbose=0)
    assert got.shape == expected.shape
    assert np.abs(got - expected).max() <= 1e-5 * max(1.0, np.abs(expected).max())
    return small, report


def _x(shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


def test_gru_units_are_one_group_whose_removal_equals_zeroing_every_gate():
    model = zoo.gru_rows()
    assert _groups(model) == {"gru": (32, ("gru",), ("head",), True), "head": (10, ("head",), (), False)}
    units = {"gru": np.arange(32) % 4 != 1}  # 24 kept
    masks = weight_masks(model, units)
    gates = np.tile(units["gru"], 3)
    np.testing.assert_array_equal(masks["gru"]["kernel"], np.broadcast_to(gates, (28, 96)))
    np.testing.assert_array_equal(masks["gru"]["recurrent_kernel"], units["gru"][:, None] & gates[None, :])
    np.testing.assert_array_equal(masks["gru"]["bias"], np.broadcast_to(gates, (2, 96)))
    small, report = _agree(model, units, _x((6, 28, 28)))
    # GRU(24): kernel 28×72, recurrent 24×72, bias 2×72; head 24×10 + 10
    assert small.get_layer("gru").units == 24 and report.removed == {"gru": (24, 32)}
    assert small.count_params() == 28 * 72 + 24 * 72 + 2 * 72 + 24 * 10 + 10 == 4_138


def test_stacked_lstms_pass_units_on_and_reset_before_gru_and_simple_rnn_agree():
    model = zoo.lstm_stack()
    assert _groups(model) == {"lstm1": (16, ("lstm1",), ("lstm2",), True),
                              "lstm2": (16, ("lstm2",), ("head",), True), "head": (3, ("head",), (), False)}
    units = {"lstm1": np.arange(16) < 5, "lstm2": np.arange(16) >= 9}  # 5 and 7 kept
    small, _ = _agree(model, units, _x((4, 10, 8)))
    # LSTM(5) on 8: 4·5·(8 + 5 + 1); LSTM(7) on 5: 4·7·(5 + 7 + 1); head 7·3 + 3
    assert small.count_params() == 4 * 5 * 14 + 4 * 7 * 13 + 24 == 668

    inputs = keras.Input((6, 4))
    x = keras.layers.GRU(8, reset_after=False, return_sequences=True, name="gru")(inputs)
    x, state = keras.layers.SimpleRNN(6, activation="relu", return_state=True, name="rnn")(x)
    x = keras.layers.Concatenate(name="cat")([x, state])
    model = keras.Model(inputs, keras.layers.Dense(2, name="out")(x))
    units = {"gru": np.arange(8) % 2 == 1, "rnn": np.arange(6) != 0}
    small, _ = _agree(model, units, _x((3, 6, 4)))
    # GRU(4, reset_after=False) on 4: 3·4·(4 + 4 + 1); SimpleRNN(5) on 4: 5·(4 + 5 + 1); out 10·2 + 2
    assert small.count_params() == 3 * 4 * 9 + 5 * 10 + 22 == 180


def test_embedding_width_follows_into_dense_and_rnn_readers():
    import tests.model_zoo as chain_zoo
    model, x = chain_zoo.gru_model()
    assert _groups(model)["emb"] == (8, ("emb",), ("pre",), True)
    units = {"emb": np.arange(8) < 6, "pre": np.arange(12) % 3 != 0, "gru": np.arange(6) != 2}
    small, _ = _agree(model, units, x)
    # emb 40×6; pre 6×8 + 8; GRU(5) on 8: 3·5·(8 + 5 + 2); post 5×16 + 16; out 16×3 + 3
    assert small.count_params() == 240 + 56 + 225 + 96 + 51 == 668
    text = zoo.text_model()
    embed = next(g for g in dependency_groups(text) if g.name == "embed")
    # the embedding and the attention output are one residual stream, which the LayerNorms read
    assert embed.producers == ("embed", "mha") and embed.consumers == ("mha",)
    assert not embed.prunable and "feeds LayerNormalization 'ln_attn'" in embed.reason


def test_group_normalization_removes_whole_groups_with_their_gamma_and_beta():
    model = zoo.groupnorm_net()
    # Conv2D(8) → GN(4 groups of 2), Conv2D(16) → GN(4 groups of 4): a group's channel is one GN group
    assert _groups(model) == {"conv1": (4, ("conv1",), ("conv2",), True), "conv2": (4, ("conv2",), ("head",), True),
                              "head": (5, ("head",), (), False)}
    units = {"conv1": np.array([True, False, True, True]), "conv2": np.array([False, True, False, True])}
    masks = weight_masks(model, units)
    np.testing.assert_array_equal(masks["gn1"]["gamma"], np.repeat(units["conv1"], 2))
    np.testing.assert_array_equal(masks["gn2"]["beta"], np.repeat(units["conv2"], 4))
    small, _ = _agree(model, units, _x((5, 8, 8, 3)))
    assert (small.get_layer("gn1").groups, small.get_layer("gn2").groups) == (3, 2)
    # conv1 27·6 + 6, GN 12, conv2 9·6·8 + 8, GN 16, head 8·5 + 5
    assert small.count_params() == 168 + 12 + 440 + 16 + 45 == 681


def test_grouped_convolution_removes_its_groups_on_both_sides():
    model = zoo.grouped_conv_net()
    # conv's 8 filters feed the grouped conv 2 per group: conv filters 2g, 2g+1 and grouped filters 2g, 2g+1 go together
    assert _groups(model) == {"conv": (4, ("conv", "grouped"), ("head",), True), "head": (3, ("head",), (), False)}
    units = {"conv": np.array([True, True, False, True])}
    masks = weight_masks(model, units)
    np.testing.assert_array_equal(masks["conv"]["kernel"][0, 0, 0], np.repeat(units["conv"], 2))
    np.testing.assert_array_equal(masks["grouped"]["kernel"][0, 0, 0], np.repeat(units["conv"], 2))
    assert "grouped" not in {m.layer for g in dependency_groups(model) for m in g.members if m.axis == 2}
    small, _ = _agree(model, units, _x((3, 8, 8, 4)))
    assert (small.get_layer("grouped").groups, small.get_layer("grouped").filters) == (3, 6)
    # conv 36·6 + 6, grouped 9·2·6 + 6, head 6·3 + 3
    assert small.count_params() == 222 + 114 + 21 == 357


def test_recurrent_unit_scores_sum_every_gate_column_of_both_kernels():
    model = zoo.lstm_stack()
    scores = {k: np.abs(v) for k, v in kernels(model).items()}
    found = group_scores(model, scores)
    per_gate = lambda s: s.sum(axis=0).reshape(4, 16).sum(axis=0)  # noqa: E731
    np.testing.assert_allclose(found["lstm1"], per_gate(scores["lstm1/kernel"]) + per_gate(scores["lstm1/recurrent_kernel"]),
                               rtol=1e-6)


@pytest.mark.parametrize("build, shape", [(zoo.gru_rows, (4, 28, 28)), (zoo.lstm_stack, (4, 10, 8)),
                                          (zoo.groupnorm_net, (4, 8, 8, 3)), (zoo.grouped_conv_net, (4, 8, 8, 4))])
def test_unit_pruning_through_the_library_masks_and_compacts_alike(build, shape):
    model = build()
    result = prune(model, PruneSpec(granularity="unit", rule="sparsity", scope="global", value=0.5))
    small = compact_masks(model, result.masks)
    x = _x(shape, seed=3)
    expected = result.model.predict(x, verbose=0)
    assert np.abs(small.predict(x, verbose=0) - expected).max() <= 1e-5 * max(1.0, np.abs(expected).max())
    assert small.count_params() < model.count_params()
    with pytest.raises(ValueError, match="'head' is the output layer"):
        compact_model(model, {"head": np.arange(model.get_layer("head").units) > 0})


def test_attention_reads_query_key_value_channels_and_writes_its_output_channels():
    keras.utils.set_random_seed(5)
    tokens, memory = keras.Input((5, 4), name="tokens"), keras.Input((7, 3), name="memory")
    q = keras.layers.Dense(8, name="q_in")(tokens)
    kv = keras.layers.Dense(6, name="kv_in")(memory)
    x = keras.layers.MultiHeadAttention(num_heads=2, key_dim=3, name="mha")(q, kv)  # output width 8, as the query
    x, scores = keras.layers.MultiHeadAttention(num_heads=2, key_dim=2, name="self")(
        x, x, return_attention_scores=True)
    x = keras.layers.GlobalAveragePooling1D(name="pool")(x)
    model = keras.Model([tokens, memory], keras.layers.Dense(3, name="out")(x))
    assert _groups(model) == {"q_in": (8, ("q_in",), ("mha",), True), "kv_in": (6, ("kv_in",), ("mha",), True),
                              "mha": (8, ("mha",), ("self",), True), "self": (8, ("self",), ("out",), True),
                              "out": (3, ("out",), (), False)}
    units = {"q_in": np.arange(8) < 5, "kv_in": np.arange(6) % 2 == 0, "mha": np.arange(8) != 3,
             "self": np.arange(8) >= 2}
    masks = weight_masks(model, units)
    np.testing.assert_array_equal(masks["mha"]["query/kernel"][:, 0, 0], units["q_in"])
    np.testing.assert_array_equal(masks["mha"]["key/kernel"][:, 1, 2], units["kv_in"])
    np.testing.assert_array_equal(masks["mha"]["attention_output/bias"], units["mha"])
    x = [_x((3, 5, 4)), _x((3, 7, 3), seed=1)]
    small, _ = _agree(model, units, x)
    # q_in 4·5 + 5, kv_in 3·3 + 3; mha q 5·6 + 6, k and v 3·6 + 6 each, out 6·7 + 7; self q/k/v 7·4 + 4 each,
    # out 4·6 + 6; head 6·3 + 3
    assert [small.get_layer(n).get_config()["output_shape"] for n in ("mha", "self")] == [(7,), (6,)]
    assert small.count_params() == 25 + 12 + 36 + 24 + 24 + 49 + 3 * 32 + 30 + 21 == 317


def test_streams_narrow_the_vit_stream_through_attention_and_layer_norms():
    model = zoo.vit_tiny()
    stream = next(g for g in dependency_groups(model, streams=True) if g.name == "patchify")
    assert stream.prunable and stream.size == 64
    assert stream.producers == ("patchify", "mha0", "ffn0_down", "mha1", "ffn1_down")
    assert stream.consumers == ("mha0", "ffn0_up", "mha1", "ffn1_up", "head")
    keep = np.arange(64) < 48
    small = compact_model(model, {"patchify": keep}, streams=True)
    # patchify 49·48 + 48; per block: LN 96, MHA q/k/v 48·64 + 64 each, out 64·48 + 48, LN 96, up 48·128 + 128,
    # down 128·48 + 48; final LN 96; head 48·10 + 10
    block = 96 + 3 * (48 * 64 + 64) + 64 * 48 + 48 + 96 + 48 * 128 + 128 + 128 * 48 + 48
    assert small.count_params() == 49 * 48 + 48 + 2 * block + 96 + 490
    assert small.predict(_x((2, 28, 28, 1)), verbose=0).shape == (2, 10)
