"""Coverage of a weight-granularity run: exact counts, worked out by hand from the layer shapes, on models
nobody here designed (tests/sequence_zoo.py)."""

from __future__ import annotations

import numpy as np
import pytest

from prune_core.graph.coverage import (BY_DESIGN, COVERAGE_COLUMNS, DEPTHWISE_WHY, LEFT_OUT, NOT_YET, Coverage, Uncovered, coverage,
                                       coverage_rows, coverage_sentence)
from tests import model_zoo, sequence_zoo as zoo

BIASES = ("biases and normalization parameters", BY_DESIGN)
ATTENTION = ("attention (EinsumDense) kernels", LEFT_OUT)
DEPTHWISE = ("depthwise kernels (DepthwiseConv, SeparableConv's depthwise part)", DEPTHWISE_WHY)

D, HEADS, KEY_DIM = 64, 4, 16
MHA_KERNELS = 3 * D * HEADS * KEY_DIM + HEADS * KEY_DIM * D  # q, k, v (64, 4, 16) + output (4, 16, 64) = 16,384
MHA_BIASES = 3 * HEADS * KEY_DIM + D  # (4, 16) × 3 + (64,) = 256
LN = 2 * D  # gamma + beta


def _gru(units, features):  # (kernel, recurrent kernel, bias) of a GRU with reset_after=True
    return features * 3 * units, units * 3 * units, 2 * 3 * units


def _lstm(units, features):
    return features * 4 * units, units * 4 * units, 4 * units


def _vit():
    patch = 7 * 7 * 1 * D
    ffn = D * 128 + 128 * D
    kernels = patch + 2 * ffn + D * 10
    biases = D + 2 * (LN + MHA_BIASES + LN + 128 + D) + LN + 10
    return kernels + 2 * MHA_KERNELS, {BIASES: biases}


def _text():
    ffn = D * 128 + 128 * D
    return ffn + D * 2 + 1000 * D + MHA_KERNELS, {BIASES: MHA_BIASES + LN + 128 + D + LN + 2}


def _gru_rows():
    k, r, b = _gru(32, 28)
    return 32 * 10 + k + r, {BIASES: b + 10}


def _lstm_stack():
    k1, r1, b1 = _lstm(16, 8)
    k2, r2, b2 = _lstm(16, 16)
    return 16 * 3 + k1 + r1 + k2 + r2, {BIASES: b1 + b2 + 3}


def _bigru():
    k, r, b = _gru(8, 8)
    return 16 * 4 + 2 * (k + r), {BIASES: 2 * b + 4}


EXPECTED = {  # name: (covered, {(what, reason): params})
    "vit_tiny": _vit(),
    "text_model": _text(),
    "gru_rows": _gru_rows(),
    "lstm_stack": _lstm_stack(),
    "bidirectional_gru": _bigru(),
    "groupnorm_net": (3 * 3 * 3 * 8 + 3 * 3 * 8 * 16 + 16 * 5, {BIASES: 8 + 2 * 8 + 16 + 2 * 16 + 5}),
    "grouped_conv_net": (3 * 3 * 4 * 8 + 3 * 3 * (8 // 4) * 8 + 8 * 3, {BIASES: 8 + 8 + 3}),
    "custom_layer_model": (6 * 8 + 8 * 8 + 8 * 3, {  # the Dense inside MyBlock is a target ("block/...")
        BIASES: 8 + 8 + 3,
        ("variables of the custom layer `scale` (Scale)", "a layer of unknown kind"): 8,
        ("variables of the custom layer `block` (MyBlock)", "a layer of unknown kind"): 8}),
    "nested_sequential": (6 * 8 + 8 * 8 + 8 * 3, {BIASES: 8 + 8 + 3}),
    "mlp": (10 * 16 + 16 * 8 + 8 * 3, {BIASES: 16 + 8 + 3}),
    "mobile_block": (3 * 3 * 3 * 8 + 8 * 16 + 16 * 4, {DEPTHWISE: 3 * 3 * 8 + 3 * 3 * 8, BIASES: 4 * 8 + 8 + 16 + 4}),
    "subclassed_model": (0, {("weights inside the subclassed model `two_dense` (TwoDense)",
                              "the graph walker cannot open it"): 4 * 5 + 5 * 2, BIASES: 5 + 2}),
}
TOTALS = {"vit_tiny": 70_922, "text_model": 97_602, "gru_rows": 6_282, "lstm_stack": 3_763, "bidirectional_gru": 932,
          "groupnorm_net": 1_525, "grouped_conv_net": 475, "custom_layer_model": 171, "nested_sequential": 155,
          "mlp": 339, "mobile_block": 612, "subclassed_model": 37}


@pytest.fixture(scope="module")
def models():
    return {name: build() for name, build in zoo.ZOO.items()}


def _by_reason(cov: Coverage) -> dict:
    return {(row.what, row.reason): row.params for row in cov.not_covered}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_exact_coverage_of_each_zoo_model(models, name):
    model = models[name]
    cov = coverage(model)
    covered, rest = EXPECTED[name]
    assert cov.total == model.count_params() == TOTALS[name]
    assert cov.covered == covered
    assert _by_reason(cov) == rest
    assert cov.covered + sum(row.params for row in cov.not_covered) == cov.total
    assert [row.params for row in cov.not_covered] == sorted((row.params for row in cov.not_covered), reverse=True)
    assert cov.share == pytest.approx(covered / TOTALS[name])


def test_vit_rows_name_the_layers(models):
    """Every kernel is a target: the attention projections are keyed by their path in the MHA layer."""
    cov = coverage(models["vit_tiny"])
    projections = ("query", "key", "value", "attention_output")
    assert cov.layers == ("patchify", *(f"mha0/{p}" for p in projections), "ffn0_up", "ffn0_down",
                          *(f"mha1/{p}" for p in projections), "ffn1_up", "ffn1_down", "head")
    assert [row.text for row in cov.not_covered] == ["biases and normalization parameters — not pruned by design"]


def test_a_run_that_leaves_attention_out_says_so(models):
    """A criterion that scores only Dense/Conv kernels (Wanda needs each layer's input activations) leaves
    the attention kernels out, and the coverage names them and where they are."""
    model = models["vit_tiny"]
    dense_only = ("patchify", "ffn0_up", "ffn0_down", "ffn1_up", "ffn1_down", "head")
    cov = coverage(model, dense_only)
    assert (cov.covered, cov.layers) == (36_544, dense_only)
    attention = cov.not_covered[0]
    assert (attention.what, attention.params, attention.reason) == ("attention (EinsumDense) kernels", 32_768, LEFT_OUT)
    projections = ("query", "key", "value", "attention_output")
    assert attention.where == tuple(f"mha{i}/{p}" for i in (0, 1) for p in projections)
    assert attention.text == "attention (EinsumDense) kernels — left out of this run"


def test_sentence_is_exact_for_the_vit(models):
    assert coverage_sentence(coverage(models["vit_tiny"])) == (
        "This run covers 69,312 of 70,922 parameters (97.7%); not covered: biases and normalization parameters — "
        "not pruned by design (1,610).")


def test_sentence_for_a_full_cover_and_edge_percentages():
    assert coverage_sentence(Coverage(5, 5, ("d",), ())) == "This run covers all 5 parameters of the model (100.0%)."
    almost = Coverage(100_000, 99_999, ("d",), (Uncovered("biases", 1, BY_DESIGN),))
    assert coverage_sentence(almost) == ("This run covers 99,999 of 100,000 parameters (>99.9%); not covered: "
                                         "biases — not pruned by design (1).")
    assert "(<0.1%)" in coverage_sentence(Coverage(100_000, 1, ("d",), (Uncovered("x", 99_999, NOT_YET),)))


def test_recurrent_kernels_reach_into_cells_and_both_directions(models):
    assert coverage(models["bidirectional_gru"]).layers == (
        "bigru/forward_gru/kernel", "bigru/forward_gru/recurrent_kernel", "bigru/backward_gru/kernel",
        "bigru/backward_gru/recurrent_kernel", "head")
    assert coverage(models["gru_rows"]).layers == ("gru/kernel", "gru/recurrent_kernel", "head")
    assert coverage(models["lstm_stack"]).layers == (
        "lstm1/kernel", "lstm1/recurrent_kernel", "lstm2/kernel", "lstm2/recurrent_kernel", "head")


def test_nested_sequential_counted_once(models):
    model = models["nested_sequential"]
    cov = coverage(model)
    assert cov.layers == ("a", "b", "out")
    assert cov.total == 155 == model.count_params()
    assert cov.not_covered[0].where == ("inner/a", "inner/b", "out")


def test_batchnorm_statistics_are_counted(models):
    """Non-trainable weights (BN moving mean/variance) are parameters too, not pruned by design."""
    model = models["mobile_block"]
    non_trainable = sum(int(np.prod(w.shape)) for w in model.non_trainable_weights)
    assert non_trainable == 16
    assert _by_reason(coverage(model))[BIASES] == 60  # BN 32 (16 of them non-trainable) + dw 8 + sep 16 + head 4


def test_plain_cnn_is_covered_but_its_biases():
    model, _ = model_zoo.mnist_convnet()
    cov = coverage(model)
    assert (cov.total, cov.covered) == (34_826, 3 * 3 * 1 * 32 + 3 * 3 * 32 * 64 + 1600 * 10)
    assert _by_reason(cov) == {BIASES: 32 + 64 + 10}
    assert coverage_sentence(cov) == ("This run covers 34,720 of 34,826 parameters (99.7%); not covered: biases and "
                                      "normalization parameters — not pruned by design (106).")


def test_the_run_and_the_coverage_share_one_denominator(models):
    """A weight run at 50% global prunes exactly half of what the coverage calls covered."""
    import prune_core as pc

    model = models["vit_tiny"]
    result = pc.prune(model, pc.PruneSpec(granularity="weight", rule="sparsity", scope="global", value=0.5))
    cov = coverage(model, result.masks.kernels)
    assert cov == coverage(model)
    assert result.masks.total == cov.covered == 69_312
    assert result.masks.total - result.masks.kept == 69_312 // 2


def test_scored_subset_names_what_was_left_out(models):
    model = models["vit_tiny"]
    cov = coverage(model, ["head"])
    assert (cov.covered, cov.layers) == (640, ("head",))
    assert _by_reason(cov)[("Dense/Conv kernels", LEFT_OUT)] == 36_544 - 640
    assert _by_reason(cov)[ATTENTION] == 32_768
    by_variable = coverage(model, [model.get_layer("head").kernel])
    assert (by_variable.covered, by_variable.not_covered) == (640, cov.not_covered)
    with pytest.raises(ValueError, match="No kernel named 'nope'"):
        coverage(model, ["nope"])


def test_rows_for_a_table(models):
    rows = coverage_rows(coverage(models["text_model"]))
    assert all(tuple(row) == COVERAGE_COLUMNS for row in rows)
    assert [(r["what"], r["parameters"], r["status"]) for r in rows] == [
        ("kernels this run scores", 96_896, "covered"), ("biases and normalization parameters", 706, BY_DESIGN)]
    assert sum(r["share"] for r in rows) == pytest.approx(1.0)
    assert rows[0]["where"] == "embed, mha/query, mha/key, mha/value, mha/attention_output, ffn_up, … (8 in all)"
    assert rows[1]["where"] == "mha/query, mha/key, mha/value, mha/attention_output, ln_attn, ffn_up, … (9 in all)"


def test_convnext_tiny():
    """keras.applications.ConvNeXtTiny at 32×32: its 7×7 depthwise convs are Conv2D(groups=width), so the graph
    scores them; what stays out is biases, LayerNorms and the LayerScale vectors (one per block)."""
    model = zoo.convnext_tiny()
    total, kernels, depthwise = zoo.convnext_tiny_params()
    cov = coverage(model)
    assert cov.total == model.count_params() == total == 27_827_818
    assert cov.covered == kernels + depthwise == 27_763_680
    assert len(cov.layers) == 59
    layer_scale = 3 * 96 + 3 * 192 + 9 * 384 + 3 * 768
    assert _by_reason(cov) == {BIASES: total - kernels - depthwise - layer_scale,
                               ("LayerScale vectors (per-channel scales)", BY_DESIGN): layer_scale}
    assert coverage_sentence(cov).startswith("This run covers 27,763,680 of 27,827,818 parameters (99.8%)")


def test_a_wrapped_dense_says_where_it_is():
    """TimeDistributed(Dense): the walker sees the wrapper only; its inner kernel is a target under its path."""
    import keras

    inputs = keras.Input((5, 6))
    x = keras.layers.TimeDistributed(keras.layers.Dense(4, name="inner"), name="td")(inputs)
    x = keras.layers.Flatten()(x)
    model = keras.Model(inputs, keras.layers.Dense(2, name="out")(x))
    cov = coverage(model)
    assert (cov.total, cov.covered) == (model.count_params(), 6 * 4 + 20 * 2) == (6 * 4 + 4 + 20 * 2 + 2, 64)
    assert cov.layers == ("td/inner", "out")
    assert _by_reason(cov) == {BIASES: 6}
