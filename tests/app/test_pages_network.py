"""AppTest: the Network page — its numbers for the default LeNet-300-100 equal prune_core's for the same setting."""

import numpy as np

import prune_core as pc
from prune_core.viz import network, network_layout
from prune_core.viz.fmt import percent
from prune_core.io.data import BASELINE_PATH as BASELINE
from prune_core.io.weights_file import kernels_from_keras_file
from tests.apptest import metric_value, page_test



def core_numbers(coefficient: float, sample: str = "spread") -> dict:
    """What prune_core computes for magnitude, individual weights, coefficient × max per layer."""
    kernels = kernels_from_keras_file(BASELINE)
    spec = pc.PruneSpec(criterion="magnitude", granularity="weight", rule="coefficient", scope="layer",
                        value=coefficient)
    scores = {n: np.abs(k) for n, k in kernels.items()}
    masks = pc.get_rule("coefficient").select(scores, spec.validate().value, scope="layer")[0]
    _, summary = network.network_figure(kernels, masks, sample=sample)
    kept = sum(int(m.sum()) for m in masks.values())
    total = sum(m.size for m in masks.values())
    return {"Connections drawn": f"{summary.edges_drawn:,}", "Pruned (faded)": f"{summary.edges_pruned:,}",
            "Neurons removed": f"{summary.neurons_removed:,}", "Overall sparsity": percent(1 - kept / total)}


def page_numbers(at) -> dict:
    return {label: metric_value(at, label) for label in
            ("Connections drawn", "Pruned (faded)", "Neurons removed", "Overall sparsity")}


def test_default_view_and_a_slider_move_match_prune_core():
    at = page_test("network").run()
    assert not at.exception
    assert at.title[0].value == "Network"
    assert at.slider(key="net_coefficient").value == 0.3
    assert at.radio(key="net_criterion").value == "magnitude"
    assert at.radio(key="net_granularity").value == "weight"
    expected = core_numbers(0.3)
    assert page_numbers(at) == expected
    assert expected["Connections drawn"] == "3,000"

    at.slider(key="net_coefficient").set_value(0.6).run()
    assert not at.exception
    moved = core_numbers(0.6)
    assert page_numbers(at) == moved
    assert moved["Pruned (faded)"] != expected["Pruned (faded)"]

    at.radio(key="net_edges").set_value("strongest").run()
    assert not at.exception
    assert page_numbers(at) == core_numbers(0.6, "strongest")


def test_whole_neurons_grey_out_removed_ones():
    import keras

    at = page_test("network").run()
    at.radio(key="net_granularity").set_value("unit").run()
    at.slider(key="net_coefficient").set_value(0.8).run()
    assert not at.exception and not at.error
    model = keras.saving.load_model(BASELINE)
    spec = pc.PruneSpec(criterion="magnitude", granularity="unit", rule="coefficient", scope="layer", value=0.8)
    masks = pc.select(model, spec)
    kernels = {n: np.asarray(k) for n, k in zip(masks.kernels, (model.get_layer(n).kernel for n in masks.kernels))}
    _, summary = network.network_figure(kernels, masks.kernels, masks.units)
    assert summary.neurons_removed == sum(int((~u).sum()) for u in masks.units.values()) > 0
    assert metric_value(at, "Neurons removed") == f"{summary.neurons_removed:,}"
    assert metric_value(at, "Pruned (faded)") == f"{summary.edges_pruned:,}"
    assert metric_value(at, "Overall sparsity") == percent(masks.overall_sparsity)


def open_with(name: str):
    from prune_core.io import data
    from tests.model_zoo import ZOO
    from ui import state

    model, _ = ZOO[name]()
    at = page_test("network")
    at.session_state["model_entry"] = state.ModelEntry(model=model, name=f"<b>{name}</b>", architecture=name,
                                                       origin="uploaded", data_key=data.NO_DATA_KEY)
    return at.run(), model


def test_a_conv_net_shows_its_first_filters_with_pruned_ones_counted():
    at, model = open_with("mnist_convnet")
    assert not at.exception and not at.error
    conv = next(layer.name for layer in model.layers if type(layer).__name__ == "Conv2D")
    assert any("draws stacks of Dense layers" in i.value for i in at.info)
    at.radio(key="net_granularity").set_value("unit").run()
    at.slider(key="net_coefficient").set_value(0.9).run()
    assert not at.exception
    spec = pc.PruneSpec(criterion="magnitude", granularity="unit", rule="coefficient", scope="layer", value=0.9)
    masks = pc.select(model, spec)
    gone = int(network_layout.pruned_filters(masks.kernels[conv]).sum())
    assert gone > 0
    assert metric_value(at, "Filters pruned") == f"{gone:,}"
    assert metric_value(at, "Overall sparsity") == percent(masks.overall_sparsity)
    assert any(f"{gone} filter(s) with every weight pruned are blanked" in c.value for c in at.caption)


def test_a_branched_model_gets_a_clear_message():
    at, _ = open_with("concat_branches")
    assert not at.exception and not at.error
    (info,) = [i.value for i in at.info]
    assert "not one chain" in info or "feeds more than the next layer" in info or "is a " in info
    assert "first-layer filters of Conv2D networks" in info
