"""Gradual and iterative pruning loops: copies, seeds, exact held sparsities, stopping rules."""

import numpy as np
import pytest

from prune_core.graph import kernels
from prune_core.methods.thresholds import prune_count
from prune_core.train import loops, schedules as sc
from tests.tiny import plain_dense_net, two_rule_data


def test_gradual_prune_copies_and_repeats_with_a_seed():
    model = plain_dense_net(1)
    before = [w.copy() for w in model.get_weights()]
    x, y = two_rule_data(128, 1)
    runs = [loops.gradual_prune(model, x, y, 0.5, epochs=2, batch_size=32, frequency=2, seed=3) for _ in range(2)]
    (a, ra), (b, rb) = runs
    assert all(np.array_equal(p, q) for p, q in zip(before, model.get_weights()))
    assert all(np.array_equal(p, q) for p, q in zip(a.get_weights(), b.get_weights()))
    # 8 steps, end at round(0.75 · 8) − 1 = 5, updates every 2 steps and at the end
    assert ra.schedule.update_steps() == [0, 2, 4, 5] and [e.step for e in ra.events] == [0, 2, 4, 5]
    assert ra.events[-1].target == 0.5 and ra.mask_set.overall_sparsity == 0.5
    assert {n: int(np.count_nonzero(k == 0)) for n, k in kernels(a).items()} == {"h": 12, "out": 6}
    assert ra.history == rb.history


def _iterate(model, x, y, **kwargs):
    args = dict(fine_tune_epochs=1, batch_size=32, learning_rate=0.05, seed=0)
    args.update(kwargs)
    return loops.iterative_prune(model, x, y, x, y, **args)


def test_iterative_stops_at_target_sparsity_with_exact_counts():
    model = plain_dense_net(2)
    x, y = two_rule_data(192, 2)
    result = _iterate(model, x, y, fraction=0.3, target_sparsity=0.6, tolerance=1.0)
    # 0.3, 1 − 0.7² = 0.51, then clipped to the target 0.6 (h has 24 weights, out 12)
    expected = [(prune_count(24, s) + prune_count(12, s)) / 36 for s in (0.3, 0.51, 0.6)]
    assert [st.sparsity for st in result.steps] == pytest.approx(expected, abs=1e-12)
    assert all(st.within_tolerance for st in result.steps) and "target sparsity" in result.stopped_because
    assert result.best_sparsity == pytest.approx(expected[-1], abs=1e-12)
    zeros = sum(int(np.count_nonzero(k == 0)) for k in kernels(result.model).values())
    assert zeros == round(expected[-1] * 36)
    assert result.mask_set.overall_sparsity == pytest.approx(expected[-1], abs=1e-12)


def test_iterative_stops_when_accuracy_falls_below_tolerance_and_keeps_the_last_good_model():
    model = plain_dense_net(3)
    x, y = two_rule_data(192, 3)
    free = _iterate(model, x, y, fraction=0.6, target_sparsity=1.0, tolerance=1.0)   # never stops on accuracy
    accuracies = [st.accuracy for st in free.steps]
    assert free.steps[-1].sparsity == 1.0 and "target" in free.stopped_because
    # the first round that is worse than every round before it
    k = next(i for i in range(1, len(accuracies)) if accuracies[i] < min(accuracies[:i]))
    floor = (min(accuracies[:k]) + accuracies[k]) / 2
    stopped = _iterate(model, x, y, fraction=0.6, target_sparsity=1.0, tolerance=0.0, baseline_accuracy=floor)
    assert [st.accuracy for st in stopped.steps] == accuracies[:k + 1]          # seeded: same numbers again
    assert [st.within_tolerance for st in stopped.steps] == [a >= floor for a in accuracies[:k + 1]]
    assert not stopped.steps[-1].within_tolerance and "fell below" in stopped.stopped_because
    last_good = max(i for i in range(k) if accuracies[i] >= floor)
    assert stopped.best_sparsity == stopped.steps[last_good].sparsity
    zeros = sum(int(np.count_nonzero(w == 0)) for w in kernels(stopped.model).values())
    assert zeros == round(stopped.steps[last_good].sparsity * 36)


def test_iterative_first_round_below_tolerance_returns_dense_copy():
    model = plain_dense_net(4)
    x, y = two_rule_data(64, 4)
    result = _iterate(model, x, y, fraction=0.5, baseline_accuracy=1.5, tolerance=0.0)
    assert len(result.steps) == 1 and not result.steps[0].within_tolerance
    assert result.model is not model and result.best_sparsity == 0.0 and result.mask_set is None
    assert all(np.array_equal(p, q) for p, q in zip(result.model.get_weights(), model.get_weights()))


@pytest.mark.parametrize("kwargs, message", [
    (dict(fraction=0.0), "above 0"), (dict(fraction=1.5), "fraction pruned per round"),
    (dict(tolerance=-0.1), "tolerance"), (dict(target_sparsity=2.0), "target sparsity"),
])
def test_iterative_validates(kwargs, message):
    x, y = two_rule_data(8)
    with pytest.raises(ValueError, match=message):
        loops.iterative_prune(plain_dense_net(), x, y, x, y, baseline_accuracy=0.5, **kwargs)


def test_iterative_unit_granularity_removes_whole_units():
    model = plain_dense_net(5)
    x, y = two_rule_data(128, 5)
    result = _iterate(model, x, y, fraction=0.5, target_sparsity=0.5, tolerance=1.0, granularity="unit")
    assert len(result.steps) == 1 and "target sparsity" in result.stopped_because
    removed = ~result.mask_set.units["h"]
    assert removed.sum() == 2 and list(result.mask_set.units) == ["h"]      # the output layer keeps its units
    # 2 of 4 columns of h (12 of 24) and their 2 rows in out (6 of 12): 18 / 36
    assert result.steps[0].sparsity == 0.5
    h, out = result.model.get_layer("h"), result.model.get_layer("out")
    assert not h.kernel.numpy()[:, removed].any() and not h.bias.numpy()[removed].any()
    assert not out.kernel.numpy()[removed].any() and out.kernel.numpy()[~removed].all()


def test_gradual_unit_granularity_holds_unit_counts():
    model = plain_dense_net(6)
    x, y = two_rule_data(128, 6)
    schedule = sc.PolynomialDecay(0.0, 0.5, begin_step=0, end_step=3, frequency=1)
    pruned, result = loops.gradual_prune(model, x, y, 0.5, epochs=1, batch_size=32, schedule=schedule,
                                      granularity="unit")
    # unit targets 0, 0.5 − 0.5·(2/3)³, 0.5 − 0.5·(1/3)³, 0.5 → of 4 units: 0, 1, 2, 2 removed (round half up)
    assert int((~result.mask_set.units["h"]).sum()) == 2
    assert [e.sparsity for e in result.events] == pytest.approx([0.0, 9 / 36, 18 / 36, 18 / 36], abs=1e-12)
    removed = ~result.mask_set.units["h"]
    assert not pruned.get_layer("h").kernel.numpy()[:, removed].any()
    assert not pruned.get_layer("out").kernel.numpy()[removed].any()


def test_iterative_auto_rate_retrains_each_round_at_the_rate_for_its_sparsity(monkeypatch):
    """learning_rate="auto": round k retrains at spec.default_learning_rate("iterative", its held sparsity)."""
    model = plain_dense_net(2)
    x, y = two_rule_data(192, 2)
    used = []
    retrain = loops.retrain

    def spy(*args, learning_rate, **kwargs):
        used.append(learning_rate)
        return retrain(*args, learning_rate=learning_rate, **kwargs)

    monkeypatch.setattr(loops, "retrain", spy)
    result = _iterate(model, x, y, fraction=0.5, target_sparsity=0.97, tolerance=1.0, learning_rate="auto")
    # 50%, 75%, 87.5%, 93.75%, 96.875% of 24 + 12 weights, each layer's count rounded: the last holds 35 of 36 ≥ 97%
    expected = [(prune_count(24, s) + prune_count(12, s)) / 36 for s in (0.5, 0.75, 0.875, 0.9375, 0.96875)]
    assert [st.sparsity for st in result.steps] == pytest.approx(expected, abs=1e-12)
    assert expected == pytest.approx([18 / 36, 27 / 36, 32 / 36, 34 / 36, 35 / 36])
    assert used == [st.learning_rate for st in result.steps] == [1e-3, 1e-3, 3e-3, 3e-3, 1e-2]


def test_iterative_refuses_a_rate_that_is_neither_a_number_nor_auto():
    with pytest.raises(ValueError, match="The learning rate must be a positive number or 'auto'; got 'fast'."):
        _iterate(plain_dense_net(2), *two_rule_data(32, 2), fraction=0.5, learning_rate="fast")
