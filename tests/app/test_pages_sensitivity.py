"""AppTest: the Sensitivity page — the scan equals the core's on the same model and data, the table equals
sweeps.max_sparsity_within, and the carry-over button sets the Prune page's per-layer sliders."""

import pytest

from prune_core.io import data
from prune_core.measure import metrics
from prune_core.experiments import sweeps
from prune_core.graph import kernels
from prune_core.methods.thresholds import prune_count
from tests.apptest import metric_value, page_test, prune_sliders


@pytest.fixture(scope="module")
def scanned():
    at = page_test("sensitivity").run()
    assert not at.exception
    return at


def the_scan(at):
    (scan,) = at.session_state["sens_scans"].values()
    return scan


def test_scan_is_the_core_scan_and_the_table_its_max_sparsity_within(scanned):
    at = scanned
    scan = the_scan(at)
    entry = at.session_state["model_entry"]
    ds = data.load_mnist("bundled")
    assert scan.weights_key == entry.weights_key and scan.criterion == "magnitude"
    assert scan.dense_accuracy == metrics.evaluate(entry.model, ds.x_test, ds.y_test).accuracy
    expected = sweeps.layer_sensitivity(entry.model, ds.x_test, ds.y_test)
    assert scan.frame["accuracy"].tolist() == expected["accuracy"].tolist()
    assert len(scan.frame) == 27  # 3 layers × 10…90 %

    best = sweeps.max_sparsity_within(expected, scan.dense_accuracy, 0.01)
    table = at.dataframe[0].value
    assert table["Layer"].tolist() == list(best)
    assert table["Largest sparsity"].tolist() == pytest.approx([100 * s for s in best.values()])
    for layer, sparsity in best.items():
        row = table[table["Layer"] == layer].iloc[0]
        at_point = expected[(expected["layer"] == layer) & (expected["sparsity"] == sparsity)]["accuracy"]
        assert row["Accuracy there"] == pytest.approx(100 * at_point.iloc[0])
        assert row["Drop"] <= 1.0 + 1e-9
    sizes = {n: k.size for n, k in kernels(entry.model).items()}
    overall = sum(prune_count(sizes[n], s) for n, s in best.items()) / sum(sizes.values())
    assert metric_value(at, "Overall sparsity with these values") == f"{overall:.1%}"


def test_a_larger_drop_allows_more_and_is_read_from_the_cached_scan(scanned):
    at = scanned
    scan = the_scan(at)
    at.slider(key="sens_drop").set_value(5.0).run()
    assert not at.exception
    assert the_scan(at) is scan  # not recomputed
    best = sweeps.max_sparsity_within(scan.frame, scan.dense_accuracy, 0.05)
    assert at.dataframe[0].value["Largest sparsity"].tolist() == pytest.approx([100 * s for s in best.values()])
    at.slider(key="sens_drop").set_value(1.0).run()


def test_carry_over_sets_the_prune_page_sliders_and_its_sparsity():
    # The Prune page was visited first with settings in its URL (coefficient rule, 0.3) …
    at = page_test("prune", v="0.3").run()
    assert [s.value for s in prune_sliders(at)] == [0.3, 0.3, 0.3]
    at.switch_page("pages/sensitivity.py").run()
    assert not at.exception
    scan = the_scan(at)
    best = sweeps.max_sparsity_within(scan.frame, scan.dense_accuracy, 0.01)
    # … the button carries the per-layer values and opens the Prune page, which keeps them.
    at.button(key="sens_carry").click().run()
    assert not at.exception
    assert at.title[0].value == "Prune"
    assert at.radio(key="pr_rule").value == "sparsity"
    assert at.radio(key="pr_scope").value == "layer"
    assert at.radio(key="pr_granularity").value == "weight"
    assert at.toggle(key="pr_same").value is False
    sliders = {s.label.split(" ")[0]: s.value for s in prune_sliders(at)}
    assert sliders == {layer: pytest.approx(100 * s) for layer, s in best.items()}
    sizes = {n: k.size for n, k in kernels(at.session_state["model_entry"].model).items()}
    overall = sum(prune_count(sizes[n], s) for n, s in best.items()) / sum(sizes.values())
    assert metric_value(at, "Overall sparsity") == f"{overall:.1%}"
    # another run of the Prune page (its URL now written from these values) keeps them. AppTest reruns the
    # page it last switched to itself, so name the Prune page again.
    at.switch_page("pages/prune.py").run()
    assert {s.label.split(" ")[0]: s.value for s in prune_sliders(at)} == sliders


def test_a_model_without_data_gets_a_clear_message_instead_of_a_scan():
    at = page_test("model").run()
    at.session_state["model_entry"].data_key = data.NO_DATA_KEY
    at.switch_page("pages/sensitivity.py").run()
    assert not at.exception
    assert "no labelled data" in at.info[0].value
    assert "sens_scans" not in at.session_state and not at.dataframe
    at.switch_page("pages/compare.py").run()
    assert not at.exception
    assert "no labelled data" in at.info[-1].value
    assert next(b for b in at.button if b.label == "Run sweep").disabled
