"""AppTest: the Prune page on models with attention, Embedding and recurrent layers — every kernel gets a value
and counts in the numbers, and the page says over which denominator its sparsity is stated."""

from __future__ import annotations

import pytest

import prune_core as pc
from prune_core.io import data
from prune_core.viz.fmt import percent
from tests import sequence_zoo as zoo
from tests.apptest import metric_value, page_test


def open_with(model, name: str):
    from ui import state

    at = page_test("prune")
    at.session_state["model_entry"] = state.ModelEntry(model=model, name=name, architecture=name, origin="uploaded",
                                                       data_key=data.NO_DATA_KEY)
    at.run()
    assert not at.exception
    return at


@pytest.mark.parametrize("build, covered", [(zoo.vit_tiny, 69_312), (zoo.gru_rows, 6_080)])
def test_every_kernel_is_in_the_numbers_and_the_coverage_is_stated(build, covered):
    from ui.text import md

    model = build()
    at = open_with(model, model.name)
    expected = pc.prune(model, pc.PruneSpec(rule="coefficient", value=0.3))
    assert expected.masks.total == covered
    assert metric_value(at, "Overall sparsity") == percent(expected.sparsity)
    assert next(m for m in at.metric if m.label == "Kept weights").delta == f"of {covered:,}"
    sentence = md("Sparsity counts the kernel weights this run covers. " + pc.coverage_sentence(expected.coverage))
    assert sentence in [c.value for c in at.caption]
    keys = [t.key for t in pc.graph.weight_targets(model)]
    shown = list(at.data_editor[0].value["layer"]) if at.data_editor else [s.label for s in at.slider]
    assert len(shown) == len(keys)
    if at.data_editor:  # weight granularity: each row counts its own kernel (not its channel group's producers)
        assert shown == keys
        sizes = [int(k.size) for k in pc.graph.kernels(model).values()]
        assert list(at.data_editor[0].value["parameters"]) == sizes
        assert sizes[0] == 7 * 7 * 1 * 64
