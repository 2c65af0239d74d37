"""AppTest: the Worked-example page — threshold and pruned set for each criterion and coefficient.

Expected answers are worked by hand from the five-weight table (prune where score < coefficient × max, strict):
    L1 term      w1 .5  w2 .3  w3 .6  w4 .2   w5 .4   (max .6)
    sensitivity  w1 .2  w2 .1  w3 .4  w4 .05  w5 .3   (max .4)
"""

import pytest

from tests.apptest import metric_value, page_test

CRITERION_LABEL = {"l1": "L1 term (|w|)", "sensitivity": "Sensitivity |∂L/∂w|"}

# (criterion, coefficient, own maximum or None) → (threshold, pruned)
CASES = [
    ("l1", 0.3, None, 0.18, ()),                           # w4 = 0.2 > 0.18
    ("l1", 0.5, None, 0.3, ("w4",)),                       # w2 = 0.3 on the line: kept
    ("l1", 0.75, None, 0.45, ("w2", "w4", "w5")),          # w1 = 0.5 > 0.45
    ("sensitivity", 0.3, None, 0.12, ("w2", "w4")),
    ("sensitivity", 0.5, None, 0.2, ("w2", "w4")),         # w1 = 0.2 on the line: kept
    ("sensitivity", 0.75, None, 0.3, ("w1", "w2", "w4")),  # w5 = 0.3 on the line: kept
    ("l1", 0.0, None, 0.0, ()),
    ("l1", 1.0, None, 0.6, ("w1", "w2", "w4", "w5")),      # only the maximum survives
    ("l1", 0.5, 1.0, 0.5, ("w2", "w4", "w5")),             # own maximum 1.0: w1 = 0.5 kept
    ("sensitivity", 0.3, 1.0, 0.3, ("w1", "w2", "w4")),
    ("l1", 0.5, 2.0, 1.0, ("w1", "w2", "w3", "w4", "w5")),  # threshold above every score
]


def pruned_in_table(at) -> set[str]:
    table = at.table[0].value
    return {str(w) for w, s in zip(table.index, table["status"]) if s == "pruned"}


def pruned_metric(at) -> tuple[str, str]:
    (metric,) = [m for m in at.metric if m.label.startswith("Pruned weights")]
    return metric.label, metric.value


def test_first_visit_runs_with_defaults():
    at = page_test("worked_example").run()
    assert not at.exception
    assert at.title[0].value.startswith("Worked example")
    assert at.slider(key="we_coefficient").value == 0.3
    assert at.radio(key="we_criterion").value == "l1"
    assert at.toggle(key="we_own_max").value is False
    assert at.number_input(key="we_maximum").disabled
    assert metric_value(at, "Threshold") == "0.18"
    assert metric_value(at, "Max score") == "0.6"
    assert pruned_metric(at) == ("Pruned weights (0 of 5)", "none")
    assert pruned_in_table(at) == set()
    assert list(at.table[0].value.index) == ["w1", "w2", "w3", "w4", "w5"]
    assert len(at.get("plotly_chart")) == 1
    assert len(at.caption) >= 3  # controls, table, chart


@pytest.mark.parametrize("criterion, coefficient, maximum, threshold, pruned", CASES)
def test_threshold_and_pruned_set(criterion, coefficient, maximum, threshold, pruned):
    at = page_test("worked_example").run()
    at.radio(key="we_criterion").set_value(criterion)
    at.slider(key="we_coefficient").set_value(coefficient)
    if maximum is not None:
        at.toggle(key="we_own_max").set_value(True).run()
        at.number_input(key="we_maximum").set_value(maximum)
    at.run()
    assert not at.exception
    assert float(metric_value(at, "Threshold")) == threshold
    assert float(metric_value(at, "Max score")) == (maximum if maximum is not None else
                                                    {"l1": 0.6, "sensitivity": 0.4}[criterion])
    assert pruned_in_table(at) == set(pruned)
    label, value = pruned_metric(at)
    assert label == f"Pruned weights ({len(pruned)} of 5)"
    assert value == (", ".join(pruned) or "none")


def test_switching_own_maximum_off_returns_to_the_column_maximum():
    at = page_test("worked_example").run()
    at.toggle(key="we_own_max").set_value(True).run()
    at.number_input(key="we_maximum").set_value(1.0).run()
    assert metric_value(at, "Threshold") == "0.3"  # 0.3 × 1.0
    assert pruned_in_table(at) == {"w4"}           # L1: only w4 = 0.2 < 0.3; w2 = 0.3 on the line is kept
    at.toggle(key="we_own_max").set_value(False).run()
    assert not at.exception
    assert metric_value(at, "Threshold") == "0.18"
    assert pruned_in_table(at) == set()


# --- issue 16: the article's mistakes, both scores side by side, the five steps -----------------------------

def test_article_panel_shows_the_computed_threshold_and_pruned_set():
    from prune_core.experiments import example

    at = page_test("worked_example").run()
    assert not at.exception
    computed = example.apply_coefficient_rule("sensitivity", example.ARTICLE_COEFFICIENT)
    assert (computed.threshold, computed.pruned) == (0.12, ("w2", "w4"))
    assert metric_value(at, "Cut-off 0.3 × 0.4 =") == "0.12"  # the computed threshold
    assert metric_value(at, "Computed: pruned") == "{w2, w4}"
    assert metric_value(at, "Cut-off 0.3 × 0.6 =") == "0.18"  # the article's
    assert metric_value(at, "The article prunes") == "{w4}"
    assert ("The article: “剪枝技术：如何识别和移除神经网络中的冗余部分” (“Pruning techniques: how to identify and "
            "remove the redundant parts of a neural network”), a Chinese-language introduction to pruning; its worked "
            "example is section 4.3.") in [c.value for c in at.caption]
    claims = at.table[1].value
    assert claims.loc["Threshold at coefficient 0.3", "computed"] == "0.3 × 0.4 = 0.12"
    assert claims.loc["Sensitivity ranking", "computed"] == "w3 > w5 > w1 > w2 > w4"
    assert claims.loc["Sensitivity ranking", "verdict"] == "✗ wrong"
    assert claims.loc["L1 ranking", "verdict"] == "✓ right"


def test_true_rankings_come_from_prune_core():
    from prune_core.experiments import example

    at = page_test("worked_example").run()
    texts = [m.value for m in at.markdown]
    assert example.ranking_text(example.ranking("sensitivity")) == "w3 > w5 > w1 > w2 > w4"
    assert f"**{CRITERION_LABEL['sensitivity']}:** w3 > w5 > w1 > w2 > w4" in texts
    assert f"**{CRITERION_LABEL['l1']}:** w3 > w1 > w5 > w2 > w4" in texts


def test_five_steps_show_the_library_calls_with_the_page_settings():
    at = page_test("worked_example").run()
    at.radio(key="we_criterion").set_value("sensitivity")
    at.slider(key="we_coefficient").set_value(0.5).run()
    code = [c.value for c in at.code]
    assert len(code) == 10  # the article's code and ours, for five steps
    assert any('pc.CRITERIA["sensitivity"].scores(model, data)' in c for c in code)
    assert any('pc.PruneSpec(criterion="sensitivity", rule="coefficient", value=0.5)' in c for c in code)
    assert any("pc.run_oneshot(model, result.masks, data, epochs=1)" in c for c in code)
    assert any("initial_weights=pruned_weights" in c for c in code)  # the article's (broken) call, for contrast


def test_run_steps_on_the_current_model():
    from ui import jobs

    at = page_test("worked_example").run()
    at.number_input(key="we_epochs").set_value(0).run()
    at.button(key="we_run_steps").click().run()
    assert not at.exception
    at.session_state[jobs.KEY].wait(300)
    at.run()
    assert not at.exception
    job = at.session_state[jobs.KEY]
    assert job.error is None and job.result is not None
    outcome = job.result
    assert outcome.final_accuracy == outcome.pruned_accuracy  # no retraining epochs
    assert metric_value(at, "Sparsity after pruning") == f"{outcome.sparsity:.1%}"
    assert metric_value(at, "Dense accuracy") == f"{outcome.dense_accuracy:.2%}"
