"""AppTest: the Prune page's guidance — each criterion's default coefficient follows a criterion switch but never
overrides a value the user set, the coefficient curve's numbers, layer-collapse warnings and the per-class cost.
Expected values are computed by hand (numpy, masks.build_masks, metrics) from the model and the bundled data."""

import numpy as np
import pytest

from prune_core.io import data
from prune_core.methods import masks
from prune_core.measure import metrics
from prune_core.graph import kernels
from tests.apptest import page_test, prune_sliders


def slider_values(at):
    return [s.value for s in prune_sliders(at)]


def set_slider(at, label_start, value):
    next(s for s in prune_sliders(at) if s.label.startswith(label_start)).set_value(value).run()
    assert not at.exception


@pytest.fixture(scope="module")
def bundled():
    return data.load_mnist("bundled")


def test_a_value_the_user_set_is_kept_when_the_criterion_changes():
    at = page_test("prune").run()
    set_slider(at, "dense1", 0.5)
    at.radio(key="pr_criterion").set_value("sensitivity").run()
    assert not at.exception
    assert slider_values(at) == [0.5, 0.3, 0.3]


def test_defaults_follow_the_criterion_there_and_back():
    at = page_test("prune").run()
    at.radio(key="pr_criterion").set_value("taylor").run()
    taylor = slider_values(at)
    assert len(set(taylor)) == 1 and taylor[0] < 0.3  # heavy-tailed scores: a smaller coefficient
    at.radio(key="pr_criterion").set_value("magnitude").run()
    assert slider_values(at) == [0.3, 0.3, 0.3]


def test_the_coefficient_curve_is_what_each_coefficient_prunes(bundled):
    at = page_test("prune").run()
    assert not at.exception
    # magnitude: one sentence (numbers from its scores), no curve
    assert not at.expander and any(c.value.startswith("Magnitude scores are not heavy-tailed")
                                   and "at most 6.8× the median (in dense1)" in c.value for c in at.caption)
    at.radio(key="pr_criterion").set_value("taylor").run()
    assert not at.exception
    (curve,) = [v for k, v in at.session_state["pr_histograms"][1]["guide"].items() if k[0] == "curve"]
    model = at.session_state["model_entry"].model
    from prune_core.methods import criteria
    scores = criteria.score_many(model, ("taylor",), bundled, batches=4)["taylor"]
    for coefficient, sparsity in zip(curve["coefficient"], curve["sparsity"]):
        assert sparsity == masks.build_masks(scores, "coefficient", coefficient).overall_sparsity
    at_03 = curve[curve["coefficient"] == 0.3].iloc[0]  # Taylor scores at 0.3, measured on the test split
    pruned = masks.apply_masks(model, masks.build_masks(scores, "coefficient", 0.3))
    assert at_03["accuracy"] == metrics.evaluate(pruned, bundled.x_test, bundled.y_test).accuracy
    assert curve["accuracy"].notna().sum() == 11  # measured every 0.1
    assert any("What the coefficient does with" in e.label for e in at.expander)


def test_a_layer_close_to_collapse_is_named():
    at = page_test("prune").run()
    set_slider(at, "output", 1.0)  # only the largest |w| of the output layer stays
    warnings = [w.value for w in at.warning]
    assert any(w.startswith("output keeps 0.1% of its weights (1 of 1,000)") for w in warnings), warnings
    set_slider(at, "output", 0.3)
    assert not any("output keeps" in w.value for w in at.warning)


def test_per_class_accuracy_names_the_class_that_suffers_first(bundled):
    at = page_test("prune").run()
    set_slider(at, "dense2", 0.6)
    at.toggle(key="pr_per_class").set_value(True).run()
    assert not at.exception
    model = at.session_state["model_entry"].model
    coefficients = {"dense1": 0.3, "dense2": 0.6, "output": 0.3}
    mask = {n: np.abs(k) >= coefficients[n] * np.abs(k).max() for n, k in kernels(model).items()}
    pruned = masks.apply_masks(model, masks.MaskSet(kernels=mask))
    change = metrics.class_accuracy_change(model, pruned, bundled.x_test, bundled.y_test)
    worst = change.iloc[0]
    caption = next(c.value for c in at.caption if c.value.startswith("Test accuracy per class"))
    assert f"Class {worst['class']} suffers first: {100 * worst['change']:+.1f} pts" in caption
