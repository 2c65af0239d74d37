"""AppTest: the Prune page on first visit, sliders, switches, edges, Apply and the URL round-trip.

Expected numbers are computed independently with numpy from the model's kernels (and, where the
rule is more involved, with prune_core's own functions the page is supposed to show).
"""

import numpy as np
import pytest

from prune_core.methods import criteria, masks
from prune_core.graph import kernels
from tests.apptest import metric_delta, metric_value, page_test, prune_sliders


def sparsity_text(value: float) -> str:
    from prune_core.viz.fmt import percent

    return percent(value)


def magnitude_coefficient_sparsity(model, coefficients: dict) -> float:
    """Share of prunable weights with |w| < c × max|w| of their layer — by hand."""
    pruned = total = 0
    for name, kernel in kernels(model).items():
        a = np.abs(kernel)
        pruned += int(np.count_nonzero(a < coefficients[name] * a.max()))
        total += a.size
    return pruned / total


@pytest.fixture(scope="module")
def first_visit():
    at = page_test("prune").run()
    assert not at.exception
    return at


def slider(at, label_start):
    return next(s for s in prune_sliders(at) if s.label.startswith(label_start))


def test_first_visit_shows_default_coefficient_03(first_visit):
    at = first_visit
    model = at.session_state["model_entry"].model
    assert [s.value for s in prune_sliders(at)] == [0.3, 0.3, 0.3]
    expected = magnitude_coefficient_sparsity(model, {"dense1": 0.3, "dense2": 0.3, "output": 0.3})
    assert metric_value(at, "Overall sparsity") == sparsity_text(expected)
    assert at.query_params["v"] == "dense1:0.3,dense2:0.3,output:0.3"
    assert len(at.dataframe) == 1 and not at.data_editor and len(at.image) == 1  # the mosaic


def test_moving_a_slider_changes_sparsity_to_core_value():
    at = page_test("prune").run()
    slider(at, "dense1").set_value(0.5).run()
    assert not at.exception
    model = at.session_state["model_entry"].model
    expected = magnitude_coefficient_sparsity(model, {"dense1": 0.5, "dense2": 0.3, "output": 0.3})
    assert metric_value(at, "Overall sparsity") == sparsity_text(expected)
    kept = round((1 - expected) * 266_200)
    assert metric_value(at, "Kept weights") == f"{kept:,}"
    assert metric_delta(at, "Kept weights") == "of 266,200"


def test_coefficient_zero_prunes_nothing_and_keeps_dense_accuracy():
    at = page_test("prune", v="0").run()
    assert not at.exception
    assert metric_value(at, "Overall sparsity") == "0.0%"
    dense = at.session_state["model_entry"].measurements["mnist-bundled"]["accuracy"]
    assert metric_value(at, "Test accuracy") == f"{dense:.2%}"
    # nothing pruned, nothing saved: the size is compared with the dense model stored the same way
    from prune_core.measure.metrics import human_bytes, sparse_bytes

    size = next(m for m in at.metric if m.label == "Size estimate")
    dense_bytes = sparse_bytes(at.session_state["model_entry"].model)
    assert (size.value, size.proto.delta) == (human_bytes(dense_bytes), f"+0.0% vs dense {human_bytes(dense_bytes)}")


def test_coefficient_one_keeps_only_the_maximum_of_each_layer():
    at = page_test("prune", v="1").run()
    assert not at.exception
    model = at.session_state["model_entry"].model
    kept = sum(int(np.count_nonzero(np.abs(k) == np.abs(k).max())) for k in kernels(model).values())
    assert metric_value(at, "Kept weights") == f"{kept:,}"
    assert 0 < kept and metric_value(at, "Overall sparsity") == "> 99.9%"  # not "100.0%" while weights are kept


def test_full_sparsity_of_a_layer_shows_a_number_not_nan():
    at = page_test("prune", rule="sparsity", v="dense1:100,dense2:50,output:50").run()
    assert not at.exception
    accuracy = metric_value(at, "Test accuracy")
    assert accuracy.endswith("%") and "nan" not in accuracy.lower()
    assert any("nothing left to draw" in i.value for i in at.info) and not at.image  # no blank mosaic
    # dense1 fully pruned: every input maps to the same output, so the prediction is one class for all digits.
    from prune_core.io import data
    y = data.load_mnist("bundled").y_test
    assert float(accuracy[:-1]) in {round(100 * float(np.mean(y == c)), 2) for c in range(10)}


@pytest.mark.parametrize("criterion", ["sensitivity", "taylor", "random"])
def test_switching_criterion_starts_at_its_matched_coefficient_and_matches_core(criterion):
    """A criterion starts at the coefficient (0.01 grid) whose sparsity is closest to magnitude's at 0.3 —
    checked here by brute force over the whole grid with masks.build_masks."""
    at = page_test("prune").run()
    at.radio(key="pr_criterion").set_value(criterion).run()
    assert not at.exception
    model = at.session_state["model_entry"].model
    from prune_core.io import data
    ds = data.load_mnist("bundled")
    everything = criteria.all_weight_scores(model, ds.x_train, ds.y_train, batches=4)
    target = masks.build_masks(everything["magnitude"], "coefficient", 0.3).overall_sparsity
    scores = everything[criterion]
    grid = [round(0.01 * i, 2) for i in range(101)]
    reached = [masks.build_masks(scores, "coefficient", c).overall_sparsity for c in grid]
    best = min(range(101), key=lambda i: (abs(reached[i] - target), reached[i], i))
    values = {s.value for s in prune_sliders(at)}
    assert values == {grid[best]}, (values, grid[best])
    assert metric_value(at, "Overall sparsity") == sparsity_text(reached[best])
    assert any(f"Default coefficient for" in c.value and f"**{grid[best]:.2f}**" in c.value for c in at.caption)


def test_neuron_granularity_with_target_sparsity_one_row_per_neuron():
    at = page_test("prune").run()
    at.radio(key="pr_granularity").set_value("unit").run()
    at.radio(key="pr_rule").set_value("sparsity").run()
    assert not at.exception
    assert [s.label for s in prune_sliders(at)] == ["dense1 (784×300)", "dense2 (300×100)"]
    slider(at, "dense1").set_value(40.0).run()
    table = at.dataframe[0].value
    assert len(table) == 400 and set(table["status"]) == {"kept", "pruned"}
    assert int((table[table.layer == "dense1"].status == "pruned").sum()) == 120  # round(0.4 × 300)
    assert int((table[table.layer == "dense2"].status == "pruned").sum()) == 50   # default 50% of 100
    # both counts, each over its own denominator: units of the prunable groups, then the weights they take along
    assert (metric_value(at, "Units removed"), metric_delta(at, "Units removed")) == (sparsity_text(170 / 400),
                                                                                       "170 of 400")
    removed_weights = 120 * 784 + (120 * 100 + 50 * 300 - 120 * 50) + 50 * 10  # dense1, dense2, output rows
    assert metric_value(at, "Overall sparsity") == sparsity_text(removed_weights / (784 * 300 + 300 * 100 + 100 * 10))
    assert any(c.value.startswith("Each slider is the share of that layer's neurons / filters removed")
               for c in at.caption)


def test_global_scope_has_one_slider_and_one_threshold():
    at = page_test("prune").run()
    at.radio(key="pr_scope").set_value("global").run()
    assert not at.exception
    assert len(prune_sliders(at)) == 1 and prune_sliders(at)[0].label.startswith("Global")
    at.radio(key="pr_granularity").set_value("unit").run()
    at.radio(key="pr_rule").set_value("sparsity").run()
    assert [s.label for s in prune_sliders(at)] == ["Global target sparsity (% of neurons / filters)"]
    at.radio(key="pr_granularity").set_value("weight").run()
    at.radio(key="pr_rule").set_value("coefficient").run()
    model = at.session_state["model_entry"].model
    top = max(np.abs(k).max() for k in kernels(model).values())
    pruned = sum(int(np.count_nonzero(np.abs(k) < 0.3 * top)) for k in kernels(model).values())
    assert metric_value(at, "Overall sparsity") == sparsity_text(pruned / 266_200)


def test_apply_stores_candidate_for_retrain():
    at = page_test("prune").run()
    at.button(key="pr_btn_apply").click().run()
    assert not at.exception
    candidate = at.session_state["candidate"]
    model = at.session_state["model_entry"].model
    assert candidate.sparsity == pytest.approx(magnitude_coefficient_sparsity(
        model, {"dense1": 0.3, "dense2": 0.3, "output": 0.3}))
    assert candidate.settings["criterion"] == "magnitude" and candidate.values == {
        "dense1": 0.3, "dense2": 0.3, "output": 0.3}
    assert any("Candidate ready" in s.value for s in at.success)
    assert any(link.proto.page == "retrain" and "Retrain" in link.proto.label for link in at.get("page_link"))


def test_url_reopens_the_same_view():
    at = page_test("prune", criterion="taylor", granularity="weight", rule="coefficient", scope="layer", same="0",
                   view="scores", v="dense1:0.12,dense2:0.2,output:0.25").run()
    assert not at.exception
    assert at.radio(key="pr_criterion").value == "taylor"
    assert [s.value for s in prune_sliders(at)] == [0.12, 0.2, 0.25]
    assert at.session_state["pr_view"] == "scores"


def test_model_without_data_offers_magnitude_and_random_only():
    from tests import badfiles

    at = page_test("model").run()
    at.file_uploader(key="upload_model").set_value(("tiny.keras", badfiles.models()["mlp.keras"],
                                                    "application/octet-stream"))
    at.run()
    assert not at.exception
    assert at.session_state["model_entry"].origin == "uploaded"
    at.switch_page("pages/prune.py").run()
    assert not at.exception
    from prune_core import CRITERIA
    data_free = [c.label for c in CRITERIA.values() if not c.needs_data]  # registered criteria that need no data
    assert at.radio(key="pr_criterion").options == data_free
    assert data_free[:2] == ["Magnitude |w|", "Random (baseline)"] and "Sensitivity |∂L/∂w|" not in data_free
    assert any("has no data" in i.value for i in at.info)
    assert metric_value(at, "Test accuracy") == "needs data"
    model = at.session_state["model_entry"].model
    expected = magnitude_coefficient_sparsity(model, {n: 0.3 for n in kernels(model)})
    assert metric_value(at, "Overall sparsity") == sparsity_text(expected)
    at.switch_page("pages/retrain.py").run()
    assert not at.exception and any("needs labelled data" in i.value for i in at.info)


# --- each (granularity, rule) keeps its own values; reset; big models; a stale candidate ------------------

def slider_values(at) -> dict:
    return {s.label.split(" ")[0]: s.value for s in prune_sliders(at)}


def test_each_granularity_and_rule_keeps_its_own_values():
    at = page_test("prune").run()
    slider(at, "dense1").set_value(0.5).run()
    at.radio(key="pr_granularity").set_value("unit").run()
    assert slider_values(at) == {"dense1": 0.3, "dense2": 0.3}  # neurons: their own defaults, not 0.5
    slider(at, "dense2").set_value(0.45).run()
    at.radio(key="pr_granularity").set_value("weight").run()
    assert slider_values(at) == {"dense1": 0.5, "dense2": 0.3, "output": 0.3}
    at.radio(key="pr_rule").set_value("sparsity").run()
    assert slider_values(at) == {"dense1": 50.0, "dense2": 50.0, "output": 50.0}
    slider(at, "output").set_value(80.0).run()
    at.radio(key="pr_rule").set_value("coefficient").run()
    assert slider_values(at) == {"dense1": 0.5, "dense2": 0.3, "output": 0.3}
    model = at.session_state["model_entry"].model
    expected = magnitude_coefficient_sparsity(model, {"dense1": 0.5, "dense2": 0.3, "output": 0.3})
    assert metric_value(at, "Overall sparsity") == sparsity_text(expected)
    at.radio(key="pr_rule").set_value("sparsity").run()
    assert slider_values(at) == {"dense1": 50.0, "dense2": 50.0, "output": 80.0}
    at.radio(key="pr_granularity").set_value("unit").run()
    at.radio(key="pr_rule").set_value("coefficient").run()
    assert not at.exception and slider_values(at) == {"dense1": 0.3, "dense2": 0.45}
    assert at.query_params["granularity"] == "unit" and at.query_params["v"] == "dense1:0.3,dense2:0.45"


def test_a_link_restores_the_values_of_its_granularity():
    at = page_test("prune", granularity="unit", rule="sparsity", v="dense1:40,dense2:60").run()
    assert not at.exception and slider_values(at) == {"dense1": 40.0, "dense2": 60.0}
    at.radio(key="pr_granularity").set_value("weight").run()
    assert slider_values(at) == {"dense1": 50.0, "dense2": 50.0, "output": 50.0}


def test_reset_puts_every_setting_and_the_url_back_to_defaults():
    at = page_test("prune").run()
    slider(at, "dense1").set_value(0.6).run()
    at.radio(key="pr_criterion").set_value("random").run()
    at.radio(key="pr_rule").set_value("sparsity").run()
    at.radio(key="pr_scope").set_value("global").run()
    at.button(key="pr_btn_reset").click().run()
    assert not at.exception
    assert (at.radio(key="pr_criterion").value, at.radio(key="pr_granularity").value, at.radio(key="pr_rule").value,
            at.radio(key="pr_scope").value, at.toggle(key="pr_same").value) == (
        "magnitude", "weight", "coefficient", "layer", False)
    assert slider_values(at) == {"dense1": 0.3, "dense2": 0.3, "output": 0.3}
    assert at.query_params["v"] == "dense1:0.3,dense2:0.3,output:0.3" and at.query_params["rule"] == "coefficient"
    at.radio(key="pr_rule").set_value("sparsity").run()
    assert slider_values(at) == {"dense1": 50.0, "dense2": 50.0, "output": 50.0}  # the other rule's values too


def test_a_changed_setting_makes_the_applied_candidate_stale():
    at = page_test("prune").run()
    at.button(key="pr_btn_apply").click().run()
    assert any("Candidate ready" in s.value for s in at.success) and not at.warning
    slider(at, "dense2").set_value(0.4).run()
    assert not any("Candidate ready" in s.value for s in at.success)
    assert any("differs from these settings — Apply again" in w.value for w in at.warning)
    slider(at, "dense2").set_value(0.3).run()
    assert any("Candidate ready" in s.value for s in at.success) and not at.warning


def deep_mlp(layers: int = 10, units: int = 8):
    import keras

    keras.utils.set_random_seed(0)
    inputs = keras.Input(shape=(6,))
    x = inputs
    for i in range(layers - 1):
        x = keras.layers.Dense(units, activation="relu", name=f"d{i}")(x)
    return keras.Model(inputs, keras.layers.Dense(3, activation="softmax", name="out")(x))


def open_deep():
    from prune_core.io import data
    from ui import state

    model = deep_mlp()
    at = page_test("prune")
    at.session_state["model_entry"] = state.ModelEntry(model=model, name="deep", architecture="deep", origin="uploaded",
                                                       data_key=data.NO_DATA_KEY)
    return at.run(), model


def test_a_model_with_more_than_8_layers_gets_a_values_table_and_six_histograms():
    import prune_core as pc

    at, model = open_deep()
    assert not at.exception and not prune_sliders(at)
    (editor,) = at.data_editor
    table = editor.value
    assert list(table["layer"]) == [f"d{i}" for i in range(9)] + ["out"]
    assert list(table["parameters"]) == [48] + [64] * 8 + [24] and list(table["value"]) == [0.3] * 10
    picked = at.multiselect(key="pr_show_layers").value
    assert picked == [f"d{i}" for i in range(1, 7)]  # the 6 largest (64 weights each), first ones on ties
    charts = [c for c in at.get("plotly_chart") if c.key != "coefficient-curve"]  # the coefficient guide aside
    assert len(charts) == 7  # 6 histograms + the sparsity overview of all 10 layers
    importance = at.dataframe[-1].value  # the picked layers' 5 lowest and 5 highest weights
    assert list(dict.fromkeys(importance["layer"])) == picked and len(importance) == 60

    at.session_state[editor.key] = {"edited_rows": {3: {"value": 0.9}, 9: {"value": 0.0}}, "added_rows": [],
                                    "deleted_rows": []}
    at.run()
    assert not at.exception
    values = {n: 0.3 for n in table["layer"]} | {"d3": 0.9, "out": 0.0}
    expected = pc.select(model, pc.PruneSpec(rule="coefficient", value=0.3, per_layer=values),
                         pc.CRITERIA["magnitude"].scores_from_kernels(kernels(model)), kernels=kernels(model),
                         groups=pc.graph.dependency_groups(model))
    assert metric_value(at, "Overall sparsity") == sparsity_text(expected.overall_sparsity)
    assert metric_value(at, "Kept weights") == f"{expected.kept:,}"
    assert at.query_params["v"].split(",")[3] == "d3:0.9" and at.query_params["v"].endswith("out:0")

    at.multiselect(key="pr_show_layers").set_value(["d0", "out"]).run()
    assert not at.exception and len([c for c in at.get("plotly_chart") if c.key != "coefficient-curve"]) == 3


def test_many_collapsing_layers_read_as_one_line_with_the_list_behind_it():
    from prune_core.io import data
    from prune_core.viz import guidance
    from ui import state

    at = page_test("prune", rule="sparsity", same="1", v="100")
    at.session_state["model_entry"] = state.ModelEntry(model=deep_mlp(), name="deep", architecture="deep",
                                                       origin="uploaded", data_key=data.NO_DATA_KEY)
    at.run()
    assert not at.exception
    assert metric_value(at, "Kept weights") == "0"
    assert [w.value for w in at.warning] == [
        "10 of 10 layers are cut off or close to collapse (under 1% of their weights kept, or no signal passing) — "
        "the list is below, and the table shows every layer."]
    (listing,) = [e for e in at.expander if e.label == "The 10 layers"]
    items = [m.value for m in listing.markdown]
    assert len(items) == 10 and items[0].startswith("- d0 keeps none of its 48 weights")
    assert guidance.SUMMARY_ABOVE == 3
