"""prune_core.io.safe_load.summary: the layer table names prunable layers and keeps the rest."""

from __future__ import annotations

from prune_core.io import safe_load as loading
from prune_core.measure import metrics
from tests import badfiles


def test_summary_names_prunable_layers_and_keeps_the_rest():
    model = loading.load_model_file(badfiles.models()["conv.keras"], "conv.keras")
    table = loading.model_summary(model)
    assert list(table.columns) == list(loading.SUMMARY_COLUMNS)
    assert table["layer"].tolist() == ["conv", "bn", "pool", "drop", "flat", "fc", "drop2", "out"]
    assert table.loc[table.prunable, "layer"].tolist() == ["conv", "fc", "out"]
    assert set(table.loc[~table.prunable, "what pruning does"]) == {"kept as is"}
    assert table.set_index("layer").loc["conv", "params"] == 3 * 3 * 1 * 4 + 4
    assert table.set_index("layer").loc["bn", "output shape"] == "(None, 26, 26, 4)"
    assert int(table["params"].sum()) == metrics.count_params(model)
    facts = loading.model_facts(model)
    assert facts["input_shape"] == (28, 28, 1) and facts["output_units"] == 10 and facts["final_activation"] == "softmax"
