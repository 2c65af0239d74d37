"""Attention heads measured: which heads a per-layer count removes, and the removal curve's accuracies."""

import numpy as np

import prune_core as pc
from prune_core.measure import heads as mh
from prune_core.measure.metrics import evaluate
from prune_core.methods.criteria import get_criterion
from tests import sequence_zoo as zoo


def test_lowest_heads_removes_the_lowest_and_never_the_last():
    scores = {"a": np.array([0.5, 0.1, 0.9]), "b": np.array([2.0, 2.0])}
    assert {k: v.tolist() for k, v in mh.lowest_heads(scores, 1).items()} == {
        "a": [True, False, True], "b": [False, True]}  # a tie: the first index goes first
    assert {k: v.tolist() for k, v in mh.lowest_heads(scores, 5).items()} == {
        "a": [False, False, True], "b": [False, True]}


def test_the_curve_measures_what_head_pruning_gives():
    model = zoo.vit_tiny()
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, *model.inputs[0].shape[1:])).astype("float32")
    y = rng.integers(0, 10, size=64)
    table = mh.head_table(model, get_criterion("magnitude").scores(model, None))
    steps = mh.removal_curve(model, table, x, y)
    assert [(s.per_layer, s.removed, s.total) for s in steps] == [(0, 0, 8), (1, 2, 8), (2, 4, 8), (3, 6, 8)]
    assert steps[0].accuracy == evaluate(model, x, y).accuracy
    half = pc.prune(model, pc.PruneSpec(granularity="head", rule="sparsity", value=0.5))
    assert {k: v.tolist() for k, v in half.masks.heads.items()} == {
        k: v.tolist() for k, v in mh.lowest_heads(table, 2).items()}
    assert steps[2].accuracy == evaluate(half.model, x, y).accuracy


def test_the_sentence_gives_the_quarter_and_the_half():
    steps = [mh.HeadStep(0, 0, 8, 0.9), mh.HeadStep(1, 2, 8, 0.91), mh.HeadStep(2, 4, 8, 0.7)]
    assert mh.removal_sentence(steps, 0.9) == (
        "Removing 2 of 8 heads (25%) moves test accuracy from 90.00% to 91.00% (+1.00 pts); 4 of 8 (50%): 70.00% "
        "(−20.00 pts), before any fine-tuning.")
    assert mh.removal_sentence(steps[:1], 0.9) == "Each attention layer has a single head: there is no head to remove."
