"""A run's measurements done once (experiments.result): the same numbers as the plain measuring functions — the gzip
size compressed in a background thread, one prediction for accuracy, loss and the per-class view, the final model's
gzip size started at the last training step — and a big model's latency from few calls."""

import numpy as np
import pytest

from prune_core.experiments import result as rs, runs
from prune_core.measure import metrics
from prune_core.methods import masks as mk
from prune_core.graph import kernels
from prune_core.train import fit


def half_masks(model):
    return mk.build_masks({n: np.abs(k) for n, k in kernels(model).items()}, "sparsity", 0.5, scope="layer")


def test_gzip_in_background_is_metrics_gzip_bytes(dense):
    assert rs.gzip_in_background(dense)() == metrics.gzip_bytes(dense)


def test_one_prediction_gives_evaluate_and_the_per_class_table(dense, data):
    _, _, xt, yt = data
    pruned = mk.apply_masks(dense, half_masks(dense))
    dense_scored, pruned_scored = rs.score(dense, xt, yt), rs.score(pruned, xt, yt)
    assert dense_scored.evaluation == metrics.evaluate(dense, xt, yt)
    assert pruned_scored.evaluation == metrics.evaluate(pruned, xt, yt)
    expected = metrics.class_accuracy_change(dense, pruned, xt, yt, ["a", "b", "c"])
    assert rs.class_change(dense_scored, pruned_scored, yt, ["a", "b", "c"]).equals(expected)


def test_oneshot_gzip_started_at_the_last_step_is_the_final_models(dense, data):
    result = runs.run_oneshot(dense, half_masks(dense), data, epochs=2, seed=1, latency_repeats=0)
    assert result.gzip_bytes == metrics.gzip_bytes(result.model)
    assert result.dense["gzip_bytes"] == metrics.gzip_bytes(dense)


class Counted:
    """A stand-in model that counts its calls (with x given, latency_ms needs only a call and ``inputs``)."""

    def __init__(self):
        self.calls, self.inputs = 0, [None]

    def __call__(self, batch, training=False):
        self.calls += 1
        return batch


@pytest.mark.parametrize("budget, calls", [(None, 13), (1e3, 13), (1e-9, 3)])
def test_latency_on_a_big_model_times_three_calls_the_first_included(budget, calls):
    model = Counted()
    metrics.latency_ms(model, np.zeros((4, 2), np.float32), batch_size=4, repeats=10, warmup=3, budget_s=budget)
    assert model.calls == calls


def test_fine_tune_trains_the_callers_masked_copy_in_place(dense, data):
    x, y, xt, yt = data
    masks = half_masks(dense)
    given = mk.apply_masks(dense, masks)
    tuned, _ = fit.fine_tune(dense, masks, x, y, epochs=1, seed=2, masked=given)
    reference, _ = fit.fine_tune(dense, masks, x, y, epochs=1, seed=2)
    assert tuned is given
    for a, b in zip(tuned.get_weights(), reference.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_compile_model_builds_the_optimizer_before_training(dense):
    copy = mk.copy_model(dense)
    fit.compile_model(copy)
    assert copy.optimizer.built and len(copy.optimizer.variables) > len(copy.trainable_variables)
