"""The one run API: ``prune_core.run`` executes a RunSpec for every mode with exactly the weights the per-mode
functions give, and RunSpec says what is wrong with a bad field in one sentence."""

import numpy as np
import pytest

import prune_core as pc
from prune_core.experiments import api, runs
from tests.tiny import same_weights, tiny_data, trained_tiny_net


@pytest.fixture(scope="module")
def data():
    return tiny_data()


@pytest.fixture(scope="module")
def dense(data):
    return trained_tiny_net(data)


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
    (dict(learning_rate=-1.0), "The learning rate must be a positive number; got -1.0."),
])
def test_runspec_refuses_with_one_sentence(fields, message):
    with pytest.raises(ValueError) as caught:
        pc.RunSpec(**fields).validate()
    assert str(caught.value) == message


def test_runspec_to_dict_names_each_modes_settings():
    out = pc.RunSpec(mode="iterative", prune=magnitude(0.8), step_fraction=0.25, epochs=2).validate().to_dict()
    assert out["mode"] == "iterative" and out["criterion"] == "magnitude" and out["value"] == 0.8
    assert out["step_fraction"] == 0.25 and out["epochs"] == 2 and "reconstruct" not in out
    assert "initial_sparsity" in pc.RunSpec(mode="gradual").validate().to_dict()
