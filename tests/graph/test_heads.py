"""Attention heads as groups (issue 21): removing head h by masks equals the model rebuilt without it, the
masks hold exactly the head's slices, head scores are sums of the members' weight scores."""

import keras
import numpy as np
import pytest

from prune_core.graph import attention_layers, compact_heads, head_scores, head_weight_masks, kernels
from prune_core.graph.heads import at_least_one_head
from prune_core.methods.masks import MaskSet, apply_masks, masked_variables
from tests import sequence_zoo as zoo

D, HEADS, KEY_DIM = 64, 4, 16
HEAD_ENTRIES = D * KEY_DIM * 3 + KEY_DIM * 3 + KEY_DIM * D  # q/k/v kernels and biases, output rows: 4,144


@pytest.fixture(scope="module")
def vit():
    return zoo.vit_tiny()


@pytest.fixture(scope="module")
def text():
    return zoo.text_model()


def _inputs(model, n=3, seed=0):
    rng = np.random.default_rng(seed)
    shape = (n, *model.inputs[0].shape[1:])
    if "int" in str(model.inputs[0].dtype):
        return rng.integers(0, 1000, size=shape).astype("int32")
    return rng.normal(size=shape).astype("float32")


def _head_mask_set(model, heads):
    k, e = head_weight_masks(model, heads)
    return MaskSet(kernels=k, extra=e, granularity="head", heads=dict(heads), effective=True)


def _removed(kernel_masks, extra) -> int:
    return (sum(int((~m).sum()) for m in kernel_masks.values())
            + sum(int((~m).sum()) for w in extra.values() for m in w.values()))


def _assert_masked_equals_compact(model, heads, x):
    masked = apply_masks(model, _head_mask_set(model, heads))
    small = compact_heads(model, heads)
    a, b = masked.predict(x, verbose=0), small.predict(x, verbose=0)
    assert np.max(np.abs(a - b)) <= 1e-5
    return masked, small


def test_finds_every_attention_layer(vit, text):
    found = attention_layers(vit)
    assert list(found) == ["mha0", "mha1"]
    assert [(a.num_heads, a.key_dim, a.value_dim, a.head_params()) for a in found.values()] == \
        [(HEADS, KEY_DIM, KEY_DIM, HEAD_ENTRIES)] * 2
    assert [m.key for m in found["mha0"].members] == \
        ["mha0/query", "mha0/key", "mha0/value", "mha0/attention_output"]
    assert list(attention_layers(text)) == ["mha"]


@pytest.mark.parametrize("h", [0, 3])
def test_one_head_masks_exactly_its_slices(vit, h):
    keep = np.arange(HEADS) != h
    k, e = head_weight_masks(vit, {"mha0": keep})
    assert sorted(k) == ["mha0/attention_output", "mha0/key", "mha0/query", "mha0/value"]
    assert sorted(e) == ["mha0/key", "mha0/query", "mha0/value"] and all(list(w) == ["bias"] for w in e.values())
    assert _removed(k, e) == HEAD_ENTRIES == 4144
    for key in ("mha0/query", "mha0/key", "mha0/value"):
        assert not k[key][:, h, :].any() and k[key][:, keep, :].all()
        assert not e[key]["bias"][h].any() and e[key]["bias"][keep].all()
    assert not k["mha0/attention_output"][h].any() and k["mha0/attention_output"][keep].all()


@pytest.mark.parametrize("h", [0, 2])
def test_removing_head_h_by_masks_equals_compact_vit(vit, h):
    heads = {"mha0": np.arange(HEADS) != h}
    masked, small = _assert_masked_equals_compact(vit, heads, _inputs(vit))
    assert small.get_layer("mha0").num_heads == 3 and small.get_layer("mha1").num_heads == 4
    assert small.get_layer("mha0").key_dim == KEY_DIM
    assert vit.count_params() - small.count_params() == HEAD_ENTRIES
    # the masked copy really holds zeros in the biases too, the caller's model is untouched
    assert not np.any(masked.get_layer("mha0").query_dense.bias.numpy()[h])
    assert np.any(vit.get_layer("mha0").query_dense.kernel.numpy()[:, h])


def test_several_heads_in_both_layers_and_other_weights_identical(vit):
    heads = {"mha0": np.array([True, False, True, False]), "mha1": np.array([False, False, True, True])}
    k, e = head_weight_masks(vit, heads)
    _, small = _assert_masked_equals_compact(vit, heads, _inputs(vit, seed=1))
    assert vit.count_params() - small.count_params() == _removed(k, e) == 4 * HEAD_ENTRIES
    for layer in vit.layers:
        if layer.name in heads or not layer.weights:
            continue
        for a, b in zip(layer.get_weights(), small.get_layer(layer.name).get_weights()):
            np.testing.assert_array_equal(a, b)
    q_old, q_new = vit.get_layer("mha1").query_dense.kernel.numpy(), small.get_layer("mha1").query_dense.kernel.numpy()
    np.testing.assert_array_equal(q_new, q_old[:, [2, 3], :])


@pytest.mark.parametrize("h", [1, 3])
def test_removing_head_h_by_masks_equals_compact_text(text, h):
    heads = {"mha": np.arange(HEADS) != h}
    _, small = _assert_masked_equals_compact(text, heads, _inputs(text))
    assert text.count_params() - small.count_params() == HEAD_ENTRIES


def test_head_scores_are_sums_of_magnitudes(vit):
    scores = head_scores(vit, {key: np.abs(v) for key, v in kernels(vit).items()})
    assert sorted(scores) == ["mha0", "mha1"]
    mha = vit.get_layer("mha1")
    q, kk, v = (np.abs(d.kernel.numpy()).astype(np.float64) for d in (mha.query_dense, mha.key_dense, mha.value_dense))
    out = np.abs(mha.output_dense.kernel.numpy()).astype(np.float64)
    by_hand = [q[:, h].sum() + kk[:, h].sum() + v[:, h].sum() + out[h].sum() for h in range(HEADS)]
    np.testing.assert_allclose(scores["mha1"], by_hand, rtol=1e-6)
    # a criterion that scores only some members ranks heads on those; one that scores none leaves the layer out
    only_q = head_scores(vit, {"mha0/query": np.abs(kernels(vit)["mha0/query"])})
    assert list(only_q) == ["mha0"]
    np.testing.assert_allclose(only_q["mha0"], np.abs(kernels(vit)["mha0/query"]).sum(axis=(0, 2)), rtol=1e-6)


def test_at_least_one_head_keeps_the_best(vit):
    scores = {"mha0": np.array([0.1, 0.9, 0.5, 0.2])}
    kept = at_least_one_head(vit, {"mha0": np.zeros(HEADS, bool)}, scores)
    assert kept["mha0"].tolist() == [False, True, False, False]
    # without scores: the best head by magnitude; masks and compaction agree on it
    heads = {"mha1": np.zeros(HEADS, bool)}
    best = int(np.argmax(head_scores(vit, {k: np.abs(v) for k, v in kernels(vit).items()})["mha1"]))
    k, e = head_weight_masks(vit, heads)
    assert k["mha1/attention_output"].any(axis=(1, 2)).tolist() == [h == best for h in range(HEADS)]
    _, small = _assert_masked_equals_compact(vit, heads, _inputs(vit, seed=2))
    assert small.get_layer("mha1").num_heads == 1
    assert vit.count_params() - small.count_params() == 3 * HEAD_ENTRIES


def test_model_without_attention_gives_empty_dicts():
    model = zoo.mlp()
    assert attention_layers(model) == {}
    assert head_scores(model, kernels(model)) == {}
    assert head_weight_masks(model, {}) == ({}, {})


def test_bad_head_masks_are_refused(vit):
    with pytest.raises(ValueError, match="not a MultiHeadAttention"):
        head_weight_masks(vit, {"ffn0_up": np.ones(4, bool)})
    with pytest.raises(ValueError, match="vector of 4"):
        head_weight_masks(vit, {"mha0": np.ones(3, bool)})


def test_subclassed_model_is_refused():
    with pytest.raises(ValueError, match="subclassed"):
        compact_heads(zoo.subclassed_model(), {})


def test_gate_cross_attention_and_value_dim():
    """use_gate (the gate kernel is a member), value_dim != key_dim, query and key/value of other widths."""
    keras.utils.set_random_seed(3)
    q_in, kv_in = keras.Input((5, 12), name="q"), keras.Input((7, 10), name="kv")
    x = keras.layers.MultiHeadAttention(3, key_dim=4, value_dim=6, use_gate=True, name="x")(q_in, kv_in)
    model = keras.Model([q_in, kv_in], keras.layers.Dense(2, name="out")(x))
    att = attention_layers(model)["x"]
    assert [m.role for m in att.members] == ["query", "key", "value", "gate", "attention_output"]
    heads = {"x": np.array([True, False, True])}
    k, e = head_weight_masks(model, heads)
    # q (12·4 + 4), k (10·4 + 4), gate (12·6 + 6), v (10·6 + 6), output rows 6·12
    assert _removed(k, e) == att.head_params() == 52 + 44 + 78 + 66 + 72
    rng = np.random.default_rng(0)
    x = [rng.normal(size=(2, 5, 12)).astype("float32"), rng.normal(size=(2, 7, 10)).astype("float32")]
    masked = apply_masks(model, _head_mask_set(model, heads))
    small = compact_heads(model, heads)
    assert np.max(np.abs(masked.predict(x, verbose=0) - small.predict(x, verbose=0))) <= 1e-5
    assert model.count_params() - small.count_params() == att.head_params()
    assert small.get_layer("x").value_dim == 6 and small.get_layer("x").num_heads == 2


def test_masked_variables_reach_the_biases(vit):
    k, e = head_weight_masks(vit, {"mha0": np.array([True, True, False, True])})
    pairs = masked_variables(vit, MaskSet(kernels=k, extra=e, granularity="head"))
    paths = sorted(v.path for v, _ in pairs)
    assert paths == sorted(["mha0/query/kernel", "mha0/key/kernel", "mha0/value/kernel",
                            "mha0/attention_output/kernel", "mha0/query/bias", "mha0/key/bias", "mha0/value/bias"])
    with pytest.raises(ValueError, match="not a layer"):
        masked_variables(vit, MaskSet(kernels={}, extra={"nope/query": {"bias": np.ones(1, bool)}}))


# --- the library face: PruneSpec(granularity="head"), select / prune / compact ------------------------------

def test_prune_heads_global_sparsity(vit):
    import prune_core as pc
    result = pc.prune(vit, pc.PruneSpec(granularity="head", rule="sparsity", scope="global", value=0.5))
    masks = result.masks
    assert masks.granularity == "head" and sorted(masks.heads) == ["mha0", "mha1"]
    assert sum(int(k.sum()) for k in masks.heads.values()) == 4  # 4 of 8 heads kept
    scores = head_scores(vit, {k: np.abs(v) for k, v in kernels(vit).items()})
    flat = np.concatenate([scores["mha0"], scores["mha1"]])
    removed = ~np.concatenate([masks.heads["mha0"], masks.heads["mha1"]])
    assert set(np.flatnonzero(removed)) == set(np.argsort(flat, kind="stable")[:4])  # the 4 lowest-scored
    assert masks.total == 2 * 4 * (3 * D * KEY_DIM + KEY_DIM * D) and result.sparsity == 0.5
    small = pc.compact(vit, masks)
    assert vit.count_params() - small.count_params() == 4 * HEAD_ENTRIES
    x = _inputs(vit, seed=4)
    assert np.max(np.abs(result.model.predict(x, verbose=0) - small.predict(x, verbose=0))) <= 1e-5


def test_select_heads_layer_scope_keeps_one_and_holds_previous(text):
    import prune_core as pc
    half = pc.select(text, pc.PruneSpec(granularity="head", rule="sparsity", value=0.5))
    assert int(half.heads["mha"].sum()) == 2
    everything = pc.select(text, pc.PruneSpec(granularity="heads", rule="sparsity", value=1.0))
    best = int(np.argmax(head_scores(text, {k: np.abs(v) for k, v in kernels(text).items()})["mha"]))
    assert everything.heads["mha"].tolist() == [h == best for h in range(HEADS)]
    assert pc.compact(text, everything).get_layer("mha").num_heads == 1
    # heads pruned before are pruned first, whatever their score now
    before = {"mha": np.array([True, True, True, False])}
    k, e = head_weight_masks(text, before)
    previous = MaskSet(kernels=k, extra=e, heads=before, granularity="head", effective=True)
    again = pc.select(text, pc.PruneSpec(granularity="head", rule="sparsity", value=0.25), previous=previous)
    assert again.heads["mha"].tolist() == [True, True, True, False]


def test_head_spec_refusals():
    import prune_core as pc
    with pytest.raises(ValueError, match="attention heads"):
        pc.PruneSpec(granularity="head", rule="nm", value="2:4").validate()
    with pytest.raises(ValueError, match="no MultiHeadAttention"):
        pc.select(zoo.mlp(), pc.PruneSpec(granularity="head", rule="sparsity", value=0.5))
    assert pc.PruneSpec(granularity="heads").validate().granularity == "head"


def test_fine_tuning_keeps_removed_heads_at_zero_biases_included():
    """MaskEnforcer reaches the q/k/v biases through masked_variables (extra keyed by target path)."""
    import prune_core as pc
    model = zoo.text_model()
    model = keras.Model(model.inputs, keras.layers.Softmax(name="probabilities")(model.outputs[0]))
    rng = np.random.default_rng(0)
    x, y = rng.integers(0, 1000, (32, 16)), rng.integers(0, 2, 32)
    result = pc.prune(model, pc.PruneSpec(granularity="head", rule="sparsity", value=0.5))
    tuned, _ = pc.fine_tune(model, result.masks, x, y, epochs=1, batch_size=16, learning_rate=1e-2)
    gone = ~result.masks.heads["mha"]
    mha = tuned.get_layer("mha")
    for dense in (mha.query_dense, mha.key_dense, mha.value_dense):
        assert not np.any(dense.kernel.numpy()[:, gone]) and not np.any(dense.bias.numpy()[gone])
        assert np.any(dense.bias.numpy()[~gone])  # kept heads' biases trained away from their zero init
    assert not np.any(mha.output_dense.kernel.numpy()[gone])


def test_attention_inside_a_nested_functional_model():
    """An MHA inside a nested Functional block (walked into by the graph, cloned recursively) and one outside."""
    keras.utils.set_random_seed(1)
    i = keras.Input((6, 8))
    inner = keras.Model(i, keras.layers.Add()([i, keras.layers.MultiHeadAttention(2, 4, name="inner_mha")(i, i)]),
                        name="block")
    o = keras.Input((6, 8), name="x")
    y = inner(o)
    y = keras.layers.MultiHeadAttention(3, 4, name="outer_mha")(y, y)
    model = keras.Model(o, keras.layers.Dense(2, name="out")(keras.layers.GlobalAveragePooling1D()(y)))
    assert list(attention_layers(model)) == ["inner_mha", "outer_mha"]
    heads = {"inner_mha": np.array([False, True]), "outer_mha": np.array([True, False, True])}
    k, e = head_weight_masks(model, heads)
    x = np.random.default_rng(0).normal(size=(2, 6, 8)).astype("float32")
    _, small = _assert_masked_equals_compact(model, heads, x)
    # per head on width 8, key_dim 4: q/k/v 3·(8·4 + 4), output rows 4·8 = 140
    assert model.count_params() - small.count_params() == _removed(k, e) == 2 * 140
