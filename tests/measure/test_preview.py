"""Previews: binning once and recounting per mask equals np.histogram; the scratch model equals
apply_masks and forgets the previous mask; first-layer pictures; updating a held histogram figure
gives exactly the figure a fresh build gives."""

import numpy as np
import pytest

from prune_core.viz import figures
from prune_core.methods import masks
from prune_core.measure import metrics, preview
from prune_core.graph import kernels
from prune_core.train.models import build_model


def values_on_and_off_edges(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    edges = preview.weight_edges(np.array([-0.6, 0.6]), bins=12)
    values = np.concatenate([rng.normal(0, 0.3, 5_000), edges, [-5.0, 5.0]])  # every edge, and outside
    return values, edges


def test_bin_values_counts_equal_np_histogram_including_edges_and_outliers():
    values, edges = values_on_and_off_edges()
    binned = preview.bin_values(values, edges)
    expected, _ = np.histogram(np.clip(values, edges[0], edges[-1]), bins=edges)
    assert np.bincount(binned.index, minlength=12).tolist() == expected.tolist()
    assert binned.total.tolist() == expected.tolist() + [0]  # nothing undrawable
    assert binned.index.min() == 0 and binned.index.max() == 11
    assert preview.bin_values(np.array([-0.6, 0.0, 0.6]), edges).index.tolist() == [0, 6, 11]  # last bin closed


def test_split_counts_equal_histograms_of_kept_and_pruned_values():
    values, edges = values_on_and_off_edges(1)
    keep = np.random.default_rng(2).random(values.shape) < 0.3
    hist = preview.split_counts(preview.bin_values(values, edges), keep)
    clipped = np.clip(values, edges[0], edges[-1])
    assert hist.kept.tolist() == np.histogram(clipped[keep], bins=edges)[0].tolist()
    assert hist.pruned.tolist() == np.histogram(clipped[~keep], bins=edges)[0].tolist()
    assert (hist.zero_kept, hist.zero_pruned) == (0, 0)
    assert int(hist.kept.sum()) == int(keep.sum())


def test_small_split_and_log_histograms_by_hand():
    h = preview.split_counts(preview.bin_values(np.array([-0.9, 0.1, 0.2, 0.8]), np.array([-1.0, 0.0, 1.0])),
                             np.array([True, False, False, True]))
    assert (h.kept.tolist(), h.pruned.tolist()) == ([1, 1], [0, 2])
    h = preview.split_counts(preview.log_score_bins(np.array([0.0, 0.001, 0.1, 0.1]), bins=2),
                             np.array([False, False, True, True]))
    assert (h.kept.tolist(), h.pruned.tolist(), h.zero_pruned) == ([0, 2], [1, 0], 1)


def test_log_score_histogram_counts_zero_scores_apart():
    scores = np.array([0.0, 0.0, 0.0, 0.001, 0.01, 0.1, 0.1])
    keep = np.array([True, False, False, False, True, True, True])
    hist = preview.split_counts(preview.log_score_bins(scores, bins=2), keep)
    assert hist.edges.tolist() == [-3.0, -2.0, -1.0]
    assert hist.kept.tolist() == [0, 3] and hist.pruned.tolist() == [1, 0]  # 0.01 sits on the middle edge
    assert (hist.zero_kept, hist.zero_pruned) == (1, 2)
    assert preview.log_score_bins(np.zeros(3), bins=4).index.tolist() == [4, 4, 4]  # one past the last bin


def test_weight_edges_are_symmetric_with_zero_on_an_edge():
    edges = preview.weight_edges(np.array([0.2, -0.8]), bins=3)  # 3 bins become 4
    assert edges.tolist() == pytest.approx([-0.8, -0.4, 0.0, 0.4, 0.8], abs=1e-12) and edges[2] == 0.0
    assert preview.weight_edges(np.zeros(4), bins=2).tolist() == [-1.0, 0.0, 1.0]


def tiny_mlp():
    return build_model("mlp-128", input_shape=(4, 4), num_classes=3, seed=0)


def test_scratch_load_equals_apply_masks_and_forgets_the_previous_mask():
    model = tiny_mlp()
    scores = {n: np.abs(k) for n, k in kernels(model).items()}
    heavy = masks.build_masks(scores, "sparsity", 0.9)
    light = masks.build_masks(scores, "sparsity", 0.1)
    scratch = preview.MaskedScratch(model)
    for mask_set in (heavy, light):
        loaded = [np.asarray(w) for w in scratch.load(mask_set).get_weights()]
        expected = [np.asarray(w) for w in masks.apply_masks(model, mask_set).get_weights()]
        assert all(np.array_equal(a, b) for a, b in zip(loaded, expected))
    zeros = sum(int(np.count_nonzero(k == 0)) for k in kernels(scratch.model).values())
    assert zeros == light.total - light.kept  # heavy's zeros are gone: the dense weights have no exact zeros
    assert all(np.array_equal(np.asarray(a), np.asarray(b))  # the caller's model is untouched
               for a, b in zip(model.get_weights(), tiny_mlp().get_weights()))


def test_scratch_unit_mask_also_zeroes_bias_and_outgoing_rows():
    model = tiny_mlp()
    unit_scores = {"dense1": np.arange(128, dtype=float)}  # unit 0 scores lowest
    mask_set = masks.build_masks(unit_scores, "sparsity", 1 / 128, granularity="unit", weights=kernels(model),
                                 output_layer="output")
    assert mask_set.units["dense1"].tolist() == [False] + [True] * 127
    loaded = preview.MaskedScratch(model).load(mask_set)
    dense1, output = loaded.get_layer("dense1"), loaded.get_layer("output")
    assert not np.asarray(dense1.kernel)[:, 0].any() and float(np.asarray(dense1.bias)[0]) == 0.0
    assert not np.asarray(output.kernel)[0].any() and np.asarray(output.kernel)[1].all()


def test_scratch_writes_only_what_changed_and_restores_a_removed_units_bias():
    model = tiny_mlp()
    unit_scores = {"dense1": np.arange(128, dtype=float)}
    units = masks.build_masks(unit_scores, "sparsity", 1 / 128, granularity="unit", weights=kernels(model),
                              output_layer="output")
    light = masks.build_masks({n: np.abs(k) for n, k in kernels(model).items()}, "sparsity", 0.1)
    heavier = masks.MaskSet(kernels={**light.kernels, "output": np.zeros_like(light.kernels["output"])})
    scratch = preview.MaskedScratch(model)
    written = []
    for v in scratch.variables:  # record the variables each load assigns
        v.assign = (lambda assign, name: lambda value: (written.append(name), assign(value))[1])(
            v.assign, "/".join(v.path.split("/")[-2:]))
    everything = ["dense1/kernel", "dense1/bias", "output/kernel"]  # the removed unit's bias, then no mask on it
    for mask_set, expected_writes in ((units, everything), (light, everything), (heavier, ["output/kernel"]),
                                      (light, ["output/kernel"]), (light, [])):
        written.clear()
        loaded = [np.asarray(w) for w in scratch.load(mask_set).get_weights()]
        expected = [np.asarray(w) for w in masks.apply_masks(model, mask_set).get_weights()]
        assert all(np.array_equal(a, b) for a, b in zip(loaded, expected))
        assert written == expected_writes
        assert scratch.sparse_bytes() == metrics.sparse_bytes(masks.apply_masks(model, mask_set))  # kept, not read


def test_first_layer_units_blank_pruned_inputs_and_refuse_other_shapes():
    kernel = np.arange(1, 33, dtype=np.float32).reshape(16, 2)
    keep = np.ones((16, 2), bool)
    keep[5, 1] = False
    mosaic = preview.first_layer_units(kernel, keep, image_shape=(4, 4), count=2, columns=2, gap=1)
    assert mosaic.shape == (4, 9)
    assert mosaic[0, :4].tolist() == [1.0, 3.0, 5.0, 7.0]   # unit 0, first image row
    assert np.isnan(mosaic[:, 4]).all()                      # the gap column
    assert np.isnan(mosaic[1, 6]) and mosaic[1, 5] == 10.0   # unit 1: input 5 (row 1, col 1) pruned
    assert preview.first_layer_units(kernel, keep, image_shape=(3, 3)) is None


@pytest.mark.parametrize("log_x", [False, True])
def test_updating_a_held_histogram_figure_equals_building_it_again(log_x):
    values, edges = values_on_and_off_edges(3)
    binned = preview.bin_values(values, edges)
    first = preview.split_counts(binned, np.abs(values) >= 0.1)
    second = preview.split_counts(binned, np.abs(values) >= 0.3)
    held = figures.split_histogram_figure(first, title="before", thresholds=(-0.1, 0.1) if not log_x else (0.1,),
                                          log_x=log_x)
    figures.update_split_histogram(held, second, title="after", thresholds=(-0.3, 0.3) if not log_x else (0.3,),
                                   log_x=log_x)
    fresh = figures.split_histogram_figure(second, title="after", thresholds=(-0.3, 0.3) if not log_x else (0.3,),
                                           log_x=log_x)
    assert held.to_plotly_json() == fresh.to_plotly_json()
    assert held.data[1].y == tuple(second.pruned.tolist())
    expected_x = [np.log10(0.3)] if log_x else [-0.3, 0.3]
    assert [s.x0 for s in held.layout.shapes] == pytest.approx(expected_x)
