"""The layout rules: N:M (2:4, 1:4, 4:8), 1×4 blocks and per-output sparsity hold their pattern exactly in every
block of every output unit, ties broken by position; spec validation; the pattern in the first-layer mosaic."""

import numpy as np
import pytest

import prune_core as pc
from prune_core.measure import preview
from prune_core.methods.rules import block_pattern_holds, input_rows, nm_keep, nm_pattern_holds


def scores(shape, seed=0):
    return np.random.default_rng(seed).random(shape).astype(np.float32)


def blocks_of(keep, m):
    """Every block of m consecutive input weights of every output unit: (units × positions, blocks, m)."""
    rows = input_rows(keep)
    return rows[:, : rows.shape[1] // m * m].reshape(rows.shape[0], -1, m)


@pytest.mark.parametrize("value, n, m", [("2:4", 2, 4), ("1:4", 1, 4), ("4:8", 4, 8)])
@pytest.mark.parametrize("shape", [(16, 5), (3, 3, 8, 4), (5, 8, 2)])
def test_nm_keeps_exactly_n_of_every_m_input_weights(value, n, m, shape):
    s = scores(shape)
    keep, cuts = pc.RULES["nm"].select({"k": s}, value)
    keep = keep["k"]
    assert keep.shape == shape and nm_pattern_holds(keep, n, m)
    assert (blocks_of(keep, m).sum(axis=2) == n).all()
    # the kept ones are the n best of their block
    rows, kept = blocks_of(s, m), blocks_of(keep, m)
    assert (np.where(kept, rows, np.inf).min(axis=2) >= np.where(kept, -np.inf, rows).max(axis=2)).all()
    assert 1 - keep.mean() == pytest.approx(1 - n / m)


def test_nm_blocks_run_down_each_dense_column():
    s = np.array([[4.0, 1.0], [1.0, 2.0], [3.0, 3.0], [2.0, 4.0]], dtype=np.float32)  # Dense (in 4, out 2)
    keep = nm_keep(s, 2, 4)
    assert keep.tolist() == [[True, False], [False, False], [True, True], [False, True]]


def test_nm_ties_prune_the_lower_position_first_and_partial_blocks_keep_their_share():
    keep = nm_keep(np.ones((10, 1), dtype=np.float32), 2, 4)  # blocks 0-3, 4-7 and a partial 8-9
    assert keep.ravel().tolist() == [False, False, True, True, False, False, True, True, False, True]
    assert nm_pattern_holds(keep, 2, 4) and not nm_pattern_holds(np.ones((8, 1), bool), 2, 4)


def test_conv_nm_blocks_run_along_the_input_channels():
    s = scores((2, 2, 4, 3), seed=5)
    keep = nm_keep(s, 2, 4)
    assert (keep.sum(axis=2) == 2).all()  # every kernel position and filter keeps 2 of its 4 input channels


@pytest.mark.parametrize("shape", [(16, 6), (2, 2, 8, 3)])
def test_block_rule_prunes_whole_1x4_blocks_with_an_exact_count(shape):
    s = scores(shape, seed=2)
    keep, _ = pc.RULES["block"].select({"k": s}, 0.75)
    keep = keep["k"]
    assert block_pattern_holds(keep, 4)
    blocks = blocks_of(keep, 4)
    assert (blocks.all(axis=2) | ~blocks.any(axis=2)).all()
    assert int((~blocks.any(axis=2)).sum()) == round(0.75 * blocks.shape[0] * blocks.shape[1])
    # a pruned block's mean score is never above a kept one's
    means = blocks_of(s, 4).mean(axis=2)
    alive = blocks.all(axis=2)
    assert means[~alive].max() <= means[alive].min()


def test_block_ties_and_global_scope():
    keep, _ = pc.RULES["block"].select({"k": np.ones((8, 2), np.float32)}, 0.5)
    # four blocks (two per column), equal scores: the lower positions go first (column 0's, then column 1's)
    assert keep["k"].T.tolist() == [[False] * 8, [True] * 8]
    both = {"a": scores((8, 4), 1), "b": scores((4, 4), 2) + 1.0}  # every b block outscores every a block
    keep, cuts = pc.RULES["block"].select(both, 0.5, scope="global")
    assert keep["b"].all() and (~keep["a"]).sum() == 6 * 4 and block_pattern_holds(keep["a"])
    assert cuts["a"] == cuts["b"]


def test_per_output_prunes_the_same_share_of_every_unit():
    s = scores((10, 7), seed=3)
    keep, _ = pc.RULES["per-output"].select({"k": s}, 0.3)
    assert (keep["k"].sum(axis=0) == 7).all()


def test_layout_rules_prune_weights_only():
    for rule, value in (("nm", "2:4"), ("block", 0.9), ("per-output", 0.5)):
        assert pc.RULES[rule].granularities == ("weight",)
        with pytest.raises(ValueError, match="prunes individual weights only, not whole neurons / filters"):
            pc.PruneSpec(rule=rule, value=value, granularity="unit").validate()
    assert pc.RULES["sparsity"].granularities == ("weight", "unit")


@pytest.mark.parametrize("value, message", [
    ("3:4", "N:M sparsity 3:4 is not offered; choose one of 2:4, 1:4, 4:8."),
    ("2-4", "N:M sparsity is written N:M, e.g. 2:4 (keep 2 of every 4); got '2-4'."),
    ("a:4", "N:M sparsity is written N:M with whole numbers, e.g. 2:4; got 'a:4'."),
    ("4:2", "N:M sparsity keeps N of every M weights with 1 <= N < M; got '4:2'."),
])
def test_nm_values_are_checked(value, message):
    with pytest.raises(ValueError) as caught:
        pc.PruneSpec(rule="nm", value=value).validate()
    assert str(caught.value) == message


def test_choice_rules_describe_their_value():
    nm = pc.RULES["nm"]
    assert nm.choices == ("2:4", "1:4", "4:8") and nm.default == "2:4" and nm.describe("1:4") == "1:4"
    assert pc.PruneSpec(rule="nm").validate().value == "2:4" and pc.RULES["sparsity"].choices is None


def test_prune_with_2_4_on_an_mlp_and_the_mosaic_shows_the_pattern():
    import keras
    keras.utils.set_random_seed(0)
    inputs = keras.Input(shape=(28, 28))
    x = keras.layers.Flatten()(inputs)
    h = keras.layers.Dense(12, activation="relu", name="h")(x)
    model = keras.Model(inputs, keras.layers.Dense(10, activation="softmax", name="out")(h))
    result = pc.prune(model, pc.PruneSpec(rule="nm", value="2:4"))
    assert result.sparsity == 0.5
    assert all(nm_pattern_holds(k, 2, 4) for k in result.masks.kernels.values())
    kernel = model.get_layer("h").kernel.numpy()
    tiles = preview.first_layer_units(kernel, result.masks.kernels["h"], (28, 28), count=1, columns=1)
    # inputs 4k … 4k+3 are four neighbouring pixels of one image row: two of every four are drawn
    assert (np.isfinite(tiles).reshape(28, 7, 4).sum(axis=2) == 2).all()


def test_the_prune_page_offers_n_m_as_a_select_box_and_round_trips_it_through_the_url():
    from prune_core.graph import kernels
    from tests.apptest import metric_value, page_test

    at = page_test("prune", rule="nm", scope="global", v="1:4").run()
    assert not at.exception
    box = next(b for b in at.selectbox if b.options == ["2:4", "1:4", "4:8"])
    assert box.value == "1:4" and not at.slider
    assert metric_value(at, "Overall sparsity") == "75.0%"
    assert at.query_params["v"] == "1:4" and at.query_params["rule"] == "nm"
    box.set_value("2:4").run()
    assert not at.exception and metric_value(at, "Overall sparsity") == "50.0%"
    assert at.query_params["v"] == "2:4"
    # per layer: one select box per layer, 'layer=2:4' in the URL; unit granularity falls back to weights
    at = page_test("prune", rule="nm", scope="layer", same="0", granularity="unit",
                   v="dense1=4:8,dense2=1:4,output=2:4").run()
    assert not at.exception and any("works on individual weights" in i.value for i in at.info)
    assert [b.value for b in at.selectbox if b.options == ["2:4", "1:4", "4:8"]] == ["4:8", "1:4", "2:4"]
    model = at.session_state["model_entry"].model
    total = sum(k.size for k in kernels(model).values())
    assert metric_value(at, "Overall sparsity") == f"{(784 * 300 * 0.5 + 300 * 100 * 0.75 + 1000 * 0.5) / total:.1%}"
