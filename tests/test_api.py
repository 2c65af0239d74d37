"""The public API: PruneSpec validation, the criterion and rule registries, pc.prune on LeNet-300-100 equal to
the lower-level path, and a toy criterion / rule registered in a few lines and offered everywhere."""

from __future__ import annotations

import numpy as np
import pytest

import prune_core as pc
from prune_core.methods import masks, signals as importance
from prune_core.graph import kernels
from prune_core.methods.thresholds import check_fraction


@pytest.fixture(scope="module")
def lenet():
    import keras

    from prune_core.io.data import BASELINE_PATH
    return keras.saving.load_model(BASELINE_PATH, safe_mode=True, compile=False)


@pytest.fixture(scope="module")
def bundled():
    from prune_core.io import data
    return data.load_mnist("bundled")


# --- PruneSpec: one message per bad field ----------------------------------------------------------------------

@pytest.mark.parametrize("fields, message", [
    (dict(criterion="hessian"), "Unknown importance criterion 'hessian'; choose one of magnitude, sensitivity, "
                                "taylor, random, wanda, obd, snip, synflow, shuffled."),
    (dict(granularity="block"), "Unknown granularity 'block'; choose 'weight', 'unit' (whole neurons / filters) or 'head' (attention heads)."),
    (dict(rule="median"), "Unknown threshold rule 'median'; choose one of coefficient, sparsity, std, nm, block, "
                           "per-output."),
    (dict(scope="model"), "Unknown scope 'model'; choose 'layer' or 'global'."),
    (dict(rule="coefficient", value=1.5), "The coefficient must be between 0 and 1 (inclusive); got 1.5."),
    (dict(rule="sparsity", value=-0.1), "The sparsity must be between 0 and 1 (inclusive); got -0.1."),
    (dict(rule="sparsity", value="lots"), "The sparsity must be a number between 0 and 1, not 'lots'."),
    (dict(rule="std", value=-1), "The quality factor must be a finite number >= 0; got -1."),
    (dict(rule="sparsity", value=0.5, per_layer={"dense1": 2.0}),
     "The sparsity must be between 0 and 1 (inclusive); got 2.0."),
    (dict(scope="global", per_layer={"dense1": 0.5}), "Global scope takes one value for all layers, not one per layer."),
    (dict(seed=-1), "The seed must be a whole number >= 0; got -1."),
    (dict(batches=0), "The number of scoring batches must be a whole number >= 1; got 0."),
    (dict(round_to=0), "The unit rounding (round_to) must be a whole number >= 1; got 0."),
])
def test_each_bad_field_gets_its_message(fields, message):
    with pytest.raises(ValueError) as caught:
        pc.PruneSpec(**fields).validate()
    assert str(caught.value) == message


def test_validate_fills_the_rule_default_and_resolves_aliases():
    spec = pc.PruneSpec(rule="sparsity", granularity="neuron").validate()
    assert (spec.value, spec.granularity) == (0.5, "unit")
    assert pc.PruneSpec().validate().value == 0.3  # coefficient 0.3, the classic default
    assert pc.PruneSpec(rule="std").validate().value == 1.0


def test_prune_refuses_an_unknown_per_layer_name(lenet):
    with pytest.raises(ValueError, match="per_layer names layer\\(s\\) this model does not prune: conv9"):
        pc.prune(lenet, pc.PruneSpec(rule="sparsity", value=0.5, per_layer={"conv9": 0.5}))


def test_data_criteria_without_data_say_what_to_do(lenet):
    with pytest.raises(ValueError, match="The sensitivity criterion needs training data"):
        pc.prune(lenet, pc.PruneSpec(criterion="sensitivity"))


# --- pc.prune equals the lower-level path on LeNet-300-100 -----------------------------------------------------

@pytest.mark.parametrize("granularity, rule, scope, value", [
    ("weight", "coefficient", "layer", 0.3), ("weight", "sparsity", "global", 0.9), ("weight", "std", "layer", 1.0),
    ("unit", "sparsity", "layer", 0.4), ("unit", "coefficient", "global", 0.5),
])
def test_prune_gives_exactly_the_old_masks(lenet, granularity, rule, scope, value):
    found = kernels(lenet)
    weight_scores = importance.magnitude_scores(found)
    if granularity == "unit":
        old = masks.build_masks(importance.unit_scores(weight_scores, "magnitude", "output"), rule, value, scope=scope,
                                granularity="unit", weights=found, output_layer="output")
    else:
        old = masks.build_masks(weight_scores, rule, value, scope=scope, weights=found)
    old = masks.effective_masks(lenet, old)
    # the old path ranked raw scores: no normalisation, no floor (the global-units defaults since issue 24)
    result = pc.prune(lenet, pc.PruneSpec(granularity=granularity, rule=rule, scope=scope, value=value,
                                          normalize="none", min_keep=0.0))
    assert list(result.masks.kernels) == list(old.kernels) == ["dense1", "dense2", "output"]
    for name in old.kernels:
        assert np.array_equal(result.masks.kernels[name], old.kernels[name])
    assert result.masks.thresholds == old.thresholds
    assert result.sparsity == old.overall_sparsity
    for name, kernel in kernels(result.model).items():  # the masked copy holds exactly those zeros
        assert np.array_equal(kernel != 0, old.kernels[name] & (found[name] != 0))
    assert np.array_equal(kernels(lenet)["dense1"], found["dense1"])  # the caller's model is untouched
    assert result.table["layer"].tolist() == ["dense1", "dense2", "output"]
    assert result.table["kept"].sum() == old.kept


def test_global_sparsity_09_prunes_the_exact_count(lenet):
    result = pc.prune(lenet, pc.PruneSpec(rule="sparsity", scope="global", value=0.9))
    assert result.masks.total == 784 * 300 + 300 * 100 + 100 * 10
    assert result.masks.total - result.masks.kept == round(0.9 * result.masks.total)


def test_per_layer_values_and_unit_pruning_with_round_to(lenet):
    spec = pc.PruneSpec(granularity="unit", rule="sparsity", value=0.5, per_layer={"dense1": 0.9}, round_to=8)
    result = pc.prune(lenet, spec)
    # dense1: round(0.9 × 300) = 270 pruned → 30 kept → nearest multiple of 8: 32; dense2: 50 kept → 48
    assert {n: int(u.sum()) for n, u in result.masks.units.items()} == {"dense1": 32, "dense2": 48}
    small = pc.compact(lenet, result.masks)
    assert small.get_layer("dense1").units == 32 and small.get_layer("dense2").units == 48


def test_compact_refuses_weight_masks(lenet):
    result = pc.prune(lenet, pc.PruneSpec(rule="sparsity", value=0.5))
    with pytest.raises(ValueError, match="remove no whole units"):
        pc.compact(lenet, result.masks)


# --- registering a criterion and a rule -------------------------------------------------------------------------

class Squared(pc.Criterion):
    name, label = "squared", "Squared w²"
    explanation = "The weight's square: magnitude with small weights pushed further down."

    def scores(self, model, data=None, **options):
        return {n: k * k for n, k in kernels(model).items()}


class Median(pc.Rule):
    name, label, default = "median", "median × factor", 1.0
    explanation = "Prune where score < factor × the layer's median score."
    high = 2.0

    def check(self, value):
        return check_fraction(float(value) / 2.0, "median factor") * 2.0

    def select_layer(self, scores, value, weights=None):
        cut = value * float(np.median(scores))
        return scores >= cut, cut


@pytest.fixture
def toy_registrations():
    pc.register_criterion(Squared())
    pc.register_rule(Median())
    yield
    pc.unregister_criterion("squared")
    pc.unregister_rule("median")


def test_a_registered_criterion_and_rule_prune(lenet, toy_registrations):
    result = pc.prune(lenet, pc.PruneSpec(criterion="squared", rule="median", value=1.0))
    for name, kernel in kernels(lenet).items():  # half of each layer is below its median of w²
        expected = kernel * kernel >= np.median(kernel * kernel)
        assert np.array_equal(result.masks.kernels[name], expected)
    assert "squared" in pc.CRITERIA and pc.RULES["median"].slider == (0.0, 2.0, 0.01, 1.0)


def test_registry_refuses_duplicates_and_bad_names():
    with pytest.raises(ValueError, match="already registered"):
        pc.register_criterion(pc.CRITERIA["magnitude"].__class__())
    with pytest.raises(ValueError, match="short name"):
        bad = Squared()
        bad.name = "two words"
        pc.register_criterion(bad)
    with pytest.raises(ValueError, match="must be a prune_core.Rule"):
        pc.register_rule(object())


def test_cli_choices_equal_the_registries(toy_registrations):
    from prune_core import cli

    parser = cli.build_parser()
    experiment = next(a for a in parser._subparsers._group_actions[0].choices["experiment"]._actions
                      if "--criterion" in a.option_strings)
    rule = next(a for a in parser._subparsers._group_actions[0].choices["experiment"]._actions
                if "--rule" in a.option_strings)
    assert experiment.choices == list(pc.CRITERIA) == ["magnitude", "sensitivity", "taylor", "random", "wanda",
                                                                 "obd", "snip", "synflow", "shuffled", "squared"]
    assert rule.choices == list(pc.RULES) == ["coefficient", "sparsity", "std", "nm", "block", "per-output",
                                                         "median"]


def test_the_prune_page_offers_a_registered_criterion(toy_registrations):
    from tests.apptest import metric_value, page_test, prune_sliders

    at = page_test("prune").run()
    assert "Squared w²" in at.radio(key="pr_criterion").options
    assert "median × factor" in at.radio(key="pr_rule").options
    at.radio(key="pr_criterion").set_value("squared").run()
    at.radio(key="pr_rule").set_value("median").run()
    assert not at.exception
    assert [s.value for s in prune_sliders(at)] == [1.0, 1.0, 1.0]
    model = at.session_state["model_entry"].model
    pruned = sum(int(np.count_nonzero(k * k < np.median(k * k))) for k in kernels(model).values())
    assert metric_value(at, "Overall sparsity") == f"{pruned / 266_200:.1%}"


def test_readme_library_example_runs():
    """The README's "Use it as a library" block, executed as written."""
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    block = text.split("## Use it as a library", 1)[1].split("```python", 1)[1].split("```", 1)[0]
    namespace: dict = {}
    exec(compile(block, "README.md", "exec"), namespace)  # noqa: S102 - our own README
    assert namespace["result"].sparsity == pytest.approx(0.9, abs=1e-6)
    assert namespace["small"].count_params() < namespace["model"].count_params()


def test_global_units_are_ranked_on_mean_normalised_scores_with_a_floor(lenet):
    """By hand: each group's magnitude scores over their mean, one cut at 0.5 × the largest, then every group keeps at
    least ceil(10% of its channels) of its own best."""
    found = kernels(lenet)
    raw = importance.unit_scores(importance.magnitude_scores(found), "magnitude", "output")
    normalised = {n: s / s.mean() for n, s in raw.items()}
    cut = 0.5 * max(s.max() for s in normalised.values())
    expected = {}
    for name, s in normalised.items():
        keep = s >= cut
        floor = int(np.ceil(0.1 * s.size))
        keep[np.argsort(-raw[name], kind="stable")[:floor]] = True
        expected[name] = keep
    result = pc.select(lenet, pc.PruneSpec(granularity="unit", rule="coefficient", scope="global", value=0.5),
                       importance.magnitude_scores(found))
    assert sorted(result.units) == sorted(expected) == ["dense1", "dense2"]
    for name in expected:
        assert np.array_equal(result.units[name], expected[name]), name
        assert result.thresholds[name] == pytest.approx(cut * raw[name].mean())  # back in the group's own units
    raw_global = pc.select(lenet, pc.PruneSpec(granularity="unit", rule="coefficient", scope="global", value=0.5,
                                               normalize="none", min_keep=0.0), importance.magnitude_scores(found))
    assert any(not np.array_equal(raw_global.units[n], expected[n]) for n in expected)  # the default changed it
