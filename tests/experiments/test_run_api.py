"""The one run API: ``prune_core.run`` executes a RunSpec for every mode with exactly the weights the per-mode
functions give, and RunSpec says what is wrong with a bad field in one sentence."""

import numpy as np
import pytest

import prune_core as pc
from prune_core.experiments import api, runs
from tests.tiny import same_weights


def magnitude(value, **kw):
    return pc.PruneSpec(criterion="magnitude", rule="sparsity", value=value, **kw)


def test_oneshot_selects_the_spec_and_fine_tunes_like_run_oneshot(dense, data):
    spec = pc.RunSpec(mode="oneshot", prune=magnitude(0.5), epochs=2, seed=3, latency_repeats=0, compact=False)
    result = pc.run(dense, data, spec)
    reference = runs.run_oneshot(dense, pc.select(dense, magnitude(0.5)), data, epochs=2, seed=3,
                                 latency_repeats=0, compact=False)
    assert same_weights(result.model, reference.model)
    assert result.sparsity == 0.5 and result.layer_sparsity == {"h": 0.5, "out": 0.5}


def test_gradual_and_iterative_match_their_functions(dense, data):
    gradual = pc.run(dense, data, pc.RunSpec(mode="gradual", prune=magnitude(0.6), epochs=2, seed=1,
                                             latency_repeats=0, compact=False))
    reference = runs.run_gradual(dense, data, final_sparsity=0.6, epochs=2, seed=1, latency_repeats=0)
    assert same_weights(gradual.model, reference.model) and gradual.sparsity == reference.sparsity
    iterative = pc.run(dense, data, pc.RunSpec(mode="iterative", prune=magnitude(0.5), epochs=1, step_fraction=0.3,
                                               tolerance=1.0, seed=2, latency_repeats=0, compact=False))
    reference = runs.run_iterative(dense, data, step_fraction=0.3, fine_tune_epochs=1, tolerance=1.0,
                                   target_sparsity=0.5, seed=2, latency_repeats=0)
    assert same_weights(iterative.model, reference.model)
    assert [r["sparsity"] for r in iterative.rounds] == [r["sparsity"] for r in reference.rounds]


def test_a_coefficient_rule_names_its_one_shot_sparsity_as_the_target(dense, data):
    spec = pc.RunSpec(mode="gradual", prune=pc.PruneSpec(rule="coefficient", value=0.3)).validate()
    expected = pc.select(dense, spec.prune).overall_sparsity
    assert api.target_sparsity(dense, data, spec) == pytest.approx(float(expected))
    assert api.target_sparsity(dense, data, pc.RunSpec(mode="gradual", target_sparsity=0.7)) == 0.7


@pytest.mark.parametrize("fields, message", [
    (dict(mode="sideways"), "Unknown run mode 'sideways'; choose one of oneshot, gradual, iterative, init, sparse."),
    (dict(mode="gradual", reconstruct=True),
     "Reconstruction updates a one-shot mask's remaining weights; use mode 'oneshot' (got 'gradual')."),
    (dict(mode="gradual", prune=pc.PruneSpec(granularity="unit")),
     "Mode 'gradual' prunes individual weights; use granularity 'weight' (or mode 'oneshot' for whole neurons / "
     "filters)."),
    (dict(mode="iterative", step_fraction=0.0), "The fraction pruned per round must be above 0, or the loop never ends."),
    (dict(retrain="again"), "Unknown retraining strategy 'again'; choose one of finetune, rewind-lr, rewind-weights."),
    (dict(learning_rate=-1.0), "The learning rate must be a positive number or 'auto' (the measured default for the "
                               "mode and sparsity); got -1.0."),
    (dict(learning_rate="fast"), "The learning rate must be a positive number or 'auto' (the measured default for the "
                                 "mode and sparsity); got 'fast'."),
])
def test_runspec_refuses_with_one_sentence(fields, message):
    with pytest.raises(ValueError) as caught:
        pc.RunSpec(**fields).validate()
    assert str(caught.value) == message


@pytest.mark.parametrize("mode, sparsity, rate", [
    ("oneshot", 0.5, 1e-3), ("oneshot", 0.98, 1e-2),  # the mask's sparsity
    ("gradual", 0.5, 1e-3), ("gradual", 0.9, 3e-3), ("gradual", 0.95, 1e-2),  # the target
    ("sparse", 0.95, 3e-3), ("sparse", 0.98, 1e-2), ("init", 0.9, 3e-3),
])
def test_an_auto_rate_runs_at_the_measured_rate_for_the_runs_sparsity(dense, data, mode, sparsity, rate):
    """learning_rate="auto" gives exactly the run that the measured rate (spec.default_learning_rate) gives."""
    fields = dict(mode=mode, prune=magnitude(sparsity), epochs=1, seed=2, latency_repeats=0, compact=False)
    auto = pc.run(dense, data, pc.RunSpec(**fields, learning_rate="auto"))
    fixed = pc.run(dense, data, pc.RunSpec(**fields, learning_rate=rate))
    assert pc.spec.default_learning_rate(mode, sparsity) == rate
    assert auto.settings["learning_rate"] == fixed.settings["learning_rate"] == rate  # the record says the rate used
    assert same_weights(auto.model, fixed.model)
    other = pc.run(dense, data, pc.RunSpec(**fields, learning_rate=0.05))
    assert not same_weights(auto.model, other.model)  # the rate matters here, so the equality above says something


def test_an_iterative_auto_rate_picks_each_rounds_rate_and_records_it(dense, data):
    spec = pc.RunSpec(mode="iterative", prune=magnitude(0.98), epochs=1, step_fraction=0.9, tolerance=1.0, seed=2,
                      learning_rate="auto", latency_repeats=0, compact=False)
    result = pc.run(dense, data, spec)
    # rounds at 90% (3e-3) and min(99%, 98%) = 98% (1e-2), each layer's count rounded exactly
    assert [r["learning_rate"] for r in result.rounds] == [3e-3, 1e-2]
    assert result.settings["learning_rate"] == "auto"
    first = pc.run(dense, data, pc.RunSpec(**{**spec.__dict__, "learning_rate": 3e-3}))
    assert first.rounds[0]["accuracy"] == result.rounds[0]["accuracy"]  # round 1 is the 3e-3 run's round 1
    assert [r["learning_rate"] for r in first.rounds] == [3e-3, 3e-3]
    assert not same_weights(first.model, result.model)  # round 2 differs: it ran at 1e-2


def test_runspec_to_dict_names_each_modes_settings():
    out = pc.RunSpec(mode="iterative", prune=magnitude(0.8), step_fraction=0.25, epochs=2).validate().to_dict()
    assert out["mode"] == "iterative" and out["criterion"] == "magnitude" and out["value"] == 0.8
    assert out["step_fraction"] == 0.25 and out["epochs"] == 2 and "reconstruct" not in out
    assert "initial_sparsity" in pc.RunSpec(mode="gradual").validate().to_dict()
