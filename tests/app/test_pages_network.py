"""AppTest: the Network page — its numbers for the default LeNet-300-100 equal prune_core's for the same setting."""

import numpy as np

import prune_core as pc
from prune_core.viz import network, network_layout
from prune_core.viz.fmt import percent
from prune_core.io.data import BASELINE_PATH as BASELINE
from prune_core.io.weights_file import kernels_from_keras_file
from tests.apptest import _as_widget, _nodes, metric_value, page_test



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


# --- the live view (ui/network_live.py, a Components v2 element): AppTest sees its data, not its drawing ----------
def live_data(at):
    """The data Python sent the Network page's live view, or None where the page draws the server figure."""
    import json

    found = [n for n in _nodes(at._tree) if getattr(n, "type", None) == "bidi_component"
             and n.proto.component_name == "live_network"]
    assert len(found) <= 1
    return (json.loads(found[0].proto.json), found[0]) if found else (None, None)


def position(at, data) -> int:
    """The slider position the view shows: the value held in net_coefficient (a rerun the view asked for mounts its
    previous data again, whose ``values`` the browser has already moved past)."""
    value = float(at.session_state["net_coefficient"])
    return min(range(len(data["grid"])), key=lambda i: abs(data["grid"][i] - value))


def net_metric(at, label: str, part: str = "value") -> str:
    """A number beside the network: the live view's at its position (the browser looks up the same text), or the
    server's st.metric."""
    data, _ = live_data(at)
    if data is None:
        return metric_value(at, label)
    (metric,) = [m for m in data["metrics"] if m["label"] == label]
    texts = metric[part]
    return texts[position(at, data)] if isinstance(texts, list) else texts


class Coefficient:
    """The coefficient, live or Streamlit's slider, used like AppTest's slider: ``.value``, ``set_value(v).run()``."""

    def __init__(self, at):
        self.at = at

    @property
    def value(self) -> float:
        data, _ = live_data(self.at)
        if data is None:
            return self.at.slider(key="net_coefficient").value
        return data["grid"][position(self.at, data)]

    def set_value(self, value: float):
        data, _ = live_data(self.at)
        if data is None:
            return self.at.slider(key="net_coefficient").set_value(value)
        self._value = float(value)
        return self

    def run(self):
        _, node = live_data(self.at)
        _as_widget(self.at, node, {"values": {"coefficient": self._value, "seq": 1}})  # what the browser sends at rest
        return self.at.run()


def page_numbers(at) -> dict:
    return {label: net_metric(at, label) for label in
            ("Connections drawn", "Pruned (faded)", "Neurons removed", "Overall sparsity")}


def test_default_view_and_a_slider_move_match_prune_core():
    at = page_test("network").run()
    assert not at.exception
    assert at.title[0].value == "Network"
    assert Coefficient(at).value == 0.3
    assert at.radio(key="net_criterion").value == "magnitude"
    assert at.radio(key="net_granularity").value == "weight"
    expected = core_numbers(0.3)
    assert page_numbers(at) == expected
    assert expected["Connections drawn"] == "3,000"

    Coefficient(at).set_value(0.6).run()
    assert not at.exception
    moved = core_numbers(0.6)
    assert page_numbers(at) == moved
    assert moved["Pruned (faded)"] != expected["Pruned (faded)"]

    at.radio(key="net_edges").set_value("strongest").run()
    assert not at.exception
    assert page_numbers(at) == core_numbers(0.6, "strongest")


def test_live_view_numbers_at_every_position_equal_numpy():
    """One run sends every position's numbers: each equals numpy's (prune where |w| < c × the layer's max |w|)."""
    at = page_test("network").run()
    data, _ = live_data(at)
    assert data is not None and not at.slider  # the MLP is the live view: no Streamlit slider, no plotly figure
    kernels = kernels_from_keras_file(BASELINE)
    layout = network_layout.network_layout(kernels)
    labels = [m["label"] for m in data["metrics"]]
    assert labels == ["Connections drawn", "Pruned (faded)", "Neurons removed", "Overall sparsity"]
    pruned_texts, removed_texts, sparsity_texts = (data["metrics"][m]["value"] for m in (1, 2, 3))
    assert len(data["grid"]) == len(pruned_texts) == 101
    for i, c in enumerate(data["grid"]):
        keep = {n: np.abs(k) >= c * float(np.abs(k).max()) for n, k in kernels.items()}
        pruned = sum(int((~keep[e.name][e.rows, e.cols]).sum()) for e in layout.layers)
        removed = sum(int((~m.any(axis=0)).sum()) for m in keep.values())
        kept = sum(int(m.sum()) for m in keep.values())
        assert pruned_texts[i] == f"{pruned:,}", c
        assert removed_texts[i] == f"{removed:,}", c
        assert sparsity_texts[i] == percent(1 - kept / sum(m.size for m in keep.values())), c
    assert data["metrics"][0]["value"] == "3,000" and data["metrics"][0]["delta"] == "of 266,200"


def test_live_view_url_reset_and_a_link():
    at = page_test("network").run()
    first, _ = live_data(at)
    assert first["values"] == {"coefficient": 0.3}
    Coefficient(at).set_value(0.45).run()  # the slider rested at 0.45 in the browser
    assert not at.exception
    assert at.session_state["net_coefficient"] == 0.45 and at.query_params["coefficient"] == "0.45"
    again, _ = live_data(at)
    assert again == first  # the same data: the browser shows 0.45 already (sent as a cache reference)
    assert net_metric(at, "Pruned (faded)") == core_numbers(0.45)["Pruned (faded)"]

    at.button(key="net_btn_reset").click().run()  # the server sets the value: a new nonce moves the view
    reset, _ = live_data(at)
    assert reset["values"] == {"coefficient": 0.3} and reset["nonce"] > first["nonce"]
    assert at.query_params["coefficient"] == "0.3"

    link = page_test("network", coefficient="0.45", criterion="magnitude").run()  # a new session from a link
    opened, _ = live_data(link)
    assert opened["values"] == {"coefficient": 0.45}
    assert page_numbers(link) == core_numbers(0.45)


def test_the_server_figure_path_stays(monkeypatch):
    """PRUNING_EXPLORER_NETWORK_LIVE=0: Streamlit's slider and the plotly figure, with the same numbers."""
    monkeypatch.setenv("PRUNING_EXPLORER_NETWORK_LIVE", "0")
    at = page_test("network").run()
    assert live_data(at)[0] is None and at.slider(key="net_coefficient").value == 0.3
    assert page_numbers(at) == core_numbers(0.3)


def test_whole_neurons_grey_out_removed_ones():
    import keras

    at = page_test("network").run()
    at.radio(key="net_granularity").set_value("unit").run()
    Coefficient(at).set_value(0.8).run()
    assert not at.exception and not at.error
    model = keras.saving.load_model(BASELINE)
    spec = pc.PruneSpec(criterion="magnitude", granularity="unit", rule="coefficient", scope="layer", value=0.8)
    masks = pc.select(model, spec)
    kernels = {n: np.asarray(k) for n, k in zip(masks.kernels, (model.get_layer(n).kernel for n in masks.kernels))}
    _, summary = network.network_figure(kernels, masks.kernels, masks.units)
    assert summary.neurons_removed == sum(int((~u).sum()) for u in masks.units.values()) > 0
    assert net_metric(at, "Neurons removed") == f"{summary.neurons_removed:,}"
    assert net_metric(at, "Pruned (faded)") == f"{summary.edges_pruned:,}"
    assert net_metric(at, "Overall sparsity") == percent(masks.overall_sparsity)


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
    Coefficient(at).set_value(0.9).run()
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
