"""AppTest: the Prune page on models with attention, Embedding and recurrent layers — every kernel gets a value
and counts in the numbers, and the page says over which denominator its sparsity is stated."""

from __future__ import annotations

import pytest

import prune_core as pc
from prune_core.io import data
from prune_core.viz.fmt import percent
from tests import sequence_zoo as zoo
from tests.apptest import metric_delta, metric_value, page_test, prune_sliders


def open_with(model, name: str):
    from ui import state

    at = page_test("prune")
    at.session_state["model_entry"] = state.ModelEntry(model=model, name=name, architecture=name, origin="uploaded",
                                                       data_key=data.NO_DATA_KEY)
    at.run()
    assert not at.exception
    return at


def open_zoo_vit():
    """(AppTest on the Prune page, the zoo's ViT-tiny with random weights, the bundled digits it is measured on)."""
    from ui import state
    from prune_core.train import models

    ds = data.load_dataset("bundled")
    model = models.build_model("vit-tiny", ds.input_shape, ds.num_classes, seed=0)
    at = page_test("prune")
    at.session_state["model_entry"] = state.ModelEntry(model=model, name="vit", architecture="vit-tiny",
                                                       origin="uploaded", data_key="")
    return at.run(), model, ds


@pytest.mark.parametrize("build, covered", [(zoo.vit_tiny, 69_312), (zoo.gru_rows, 6_080)])
def test_every_kernel_is_in_the_numbers_and_the_coverage_is_stated(build, covered):
    from ui.text import md

    model = build()
    at = open_with(model, model.name)
    expected = pc.prune(model, pc.PruneSpec(rule="coefficient", value=0.3))
    assert expected.masks.total == covered
    assert metric_value(at, "Overall sparsity") == percent(expected.sparsity)
    assert metric_delta(at, "Kept weights") == f"of {covered:,}"
    sentence = md("Sparsity counts the kernel weights this run covers. " + pc.coverage_sentence(expected.coverage))
    assert sentence in [c.value for c in at.caption]
    keys = [t.key for t in pc.graph.weight_targets(model)]
    shown = list(at.data_editor[0].value["layer"]) if at.data_editor else [s.label for s in prune_sliders(at)]
    assert len(shown) == len(keys)
    if at.data_editor:  # weight granularity: each row counts its own kernel (not its channel group's producers)
        assert shown == keys
        sizes = [int(k.size) for k in pc.graph.kernels(model).values()]
        assert list(at.data_editor[0].value["parameters"]) == sizes
        assert sizes[0] == 7 * 7 * 1 * 64


def test_a_model_with_attention_gets_the_heads_heatmap_and_the_measured_curve():
    """ViT-tiny (random weights) on the bundled digits: the heatmap's cells are the heads' magnitude scores as a
    share of their layer's top; the slider crosses out each layer's lowest heads; the caption's numbers are the
    masked models' measured accuracies."""
    import json

    import numpy as np
    from prune_core.measure import heads as mh
    from prune_core.methods.criteria import get_criterion

    at, model, ds = open_zoo_vit()
    assert not at.exception
    table = mh.head_table(model, get_criterion("magnitude").scores(model, None))
    assert list(table) == ["mha0", "mha1"] and all(len(v) == 4 for v in table.values())

    def heatmap():
        figures = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
        return next(f for f in figures if f["data"][0]["type"] == "heatmap")

    z = np.array(heatmap()["data"][0]["z"], dtype=float)
    assert np.allclose(z, [v / v.max() for v in table.values()])
    assert heatmap()["data"][1].get("x", []) == []  # nothing removed yet

    at.slider(key="pr_heads_removed").set_value(2).run()
    assert not at.exception
    crosses = heatmap()["data"][1]
    lowest = {name: np.argsort(v, kind="stable")[:2] for name, v in table.items()}
    assert sorted(zip(crosses["y"], crosses["x"])) == sorted((n, f"head {h}") for n, hs in lowest.items() for h in hs)
    steps = mh.removal_curve(model, table, ds.x_test, ds.y_test)
    assert [s.removed for s in steps] == [0, 2, 4, 6]
    from ui.prune_heads import curve_caption
    assert curve_caption(steps, steps[0].accuracy) in [c.value for c in at.caption]  # 0 removed = the dense model


def test_streams_mode_opens_the_vit_stream_and_measures_the_compact_model():
    from ui.prune_url import value_key
    from prune_core.measure import metrics

    at, model, ds = open_zoo_vit()
    at.radio(key="pr_granularity").set_value("unit").run()
    at.radio(key="pr_rule").set_value("sparsity").run()
    at.radio(key="pr_scope").set_value("global").run()
    assert not at.exception and at.toggle(key="pr_streams").value is False
    blocked = at.dataframe[0].value  # the stream stays whole without streams mode, and says why
    assert any("LayerNormalization" in why for why in blocked["Why they stay whole"])
    at.toggle(key="pr_streams").set_value(True).run()
    at.slider(key=value_key("unit", "sparsity", None)).set_value(50.0).run()
    assert not at.exception
    assert any(c.value.startswith("Streams mode: every LayerNorm lets channels through") for c in at.caption)
    spec = pc.PruneSpec(granularity="unit", rule="sparsity", scope="global", value=pc.RULES["sparsity"].from_display(50.0),
                        streams=True)
    small = pc.compact(model, pc.select(model, spec))
    assert small.count_params() < model.count_params()
    accuracy = metrics.evaluate(small, ds.x_test, ds.y_test).accuracy
    shown = next(m for m in at.metric if m.label == "Test accuracy")
    assert shown.value == f"{accuracy:.2%}" and "compact model (streams mode" in shown.help
    assert at.query_params["streams"] in ("1", ["1"])
    at.segmented_control(key="pr_view").set_value("scores").run()  # the stream's unit scores get a histogram
    assert not at.exception
