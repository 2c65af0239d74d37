"""AppTest: the Prune page's neuron/filter mode on branched and residual models (it used to fail with
KeyError on the output layer): one slider per prunable dependency group, numbers equal to pc.prune, and the
groups that must stay whole listed with their reason."""

from __future__ import annotations

import pytest

import prune_core as pc
from prune_core.io import data
from prune_core.viz.fmt import percent
from tests.apptest import metric_value, page_test
from tests.model_zoo import ZOO


def open_with(name: str):
    from ui import state

    model, _ = ZOO[name]()
    at = page_test("prune")
    at.session_state["model_entry"] = state.ModelEntry(model=model, name=name, architecture=name, origin="uploaded",
                                                       data_key=data.NO_DATA_KEY)
    at.run()
    assert not at.exception
    at.radio(key="pr_granularity").set_value("unit").run()
    assert not at.exception
    return at, model


@pytest.mark.parametrize("name", ["resnet_blocks", "concat_branches", "mobilenet_v2"])
def test_unit_mode_works_on_graph_models(name):
    at, model = open_with(name)
    groups = [g for g in pc.graph.dependency_groups(model) if g.prunable]
    if len(groups) > 8:  # many groups: a table of values (one row per group), not a row of sliders
        assert not at.slider and len(at.data_editor) == 1
        assert list(at.data_editor[0].value["layer"]) == [g.name for g in groups]
    else:
        assert len(at.slider) == len(groups)
    expected = pc.prune(model, pc.PruneSpec(granularity="unit", rule="coefficient", value=0.3))
    assert metric_value(at, "Overall sparsity") == percent(expected.sparsity)
    assert metric_value(at, "Kept weights") == f"{expected.masks.kept:,}"
    assert next(m for m in at.metric if m.label == "Kept weights").delta == f"of {expected.masks.total:,}"


def test_residual_stream_is_one_slider_and_blocked_groups_are_explained():
    at, model = open_with("dense_bn_layernorm")
    blocked = [g for g in pc.graph.dependency_groups(model) if not g.prunable]
    table = at.dataframe[0].value
    assert list(table.columns) == ["Layers", "Channels", "Why they stay whole"]
    assert len(table) == len([g for g in blocked if g.producers != (pc.graph.output_layer_name(model),)]) == 1
    assert "feeds LayerNormalization 'ln'" in table["Why they stay whole"][0]
    at_gru, _ = open_with("gru_model")  # an RNN's units and an Embedding's width are groups with sliders
    assert {"gru (6 units)", "emb (40×8)"} <= {s.label for s in at_gru.slider}
    at2, resnet = open_with("resnet_blocks")
    stream = next(g for g in pc.graph.dependency_groups(resnet) if len(g.producers) > 1 and g.prunable)
    assert any(s.label.startswith(f"{stream.name} + {len(stream.producers) - 1} more") for s in at2.slider)
