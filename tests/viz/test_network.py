"""prune_core.viz.network: which connections are drawn, what fades, what greys out, and what is refused — exact answers."""

from types import SimpleNamespace

import numpy as np
import pytest

from prune_core.viz import network as nw
from prune_core.viz import network_layout as nl

# A 3-4-2 stack with known weights: every connection fits (12 + 8 = 20 edges).
H = np.array([[0.9, -0.1, 0.4, -0.7],
              [0.2, 0.8, -0.3, 0.05],
              [-0.6, 0.3, 0.1, 0.5]])
OUT = np.array([[1.0, -0.2], [0.3, 0.6], [-0.4, 0.1], [0.0, -0.9]])
KERNELS = {"h": H, "out": OUT}


def magnitude_keep(kernels, coefficient):
    return {n: np.abs(k) >= coefficient * np.abs(k).max() for n, k in kernels.items()}


def traces(fig, **meta):
    return [t for t in fig.data if t.meta and all(t.meta.get(k) == v for k, v in meta.items())]


def segments(trace) -> int:
    return sum(v is None for v in trace.x)


def test_faded_connections_are_exactly_the_masks_zeros_among_the_drawn_edges():
    keep = magnitude_keep(KERNELS, 0.35)  # h: |w| < 0.315 pruned (6); out: |w| < 0.35 pruned (4)
    fig, summary = nw.network_figure(KERNELS, keep)
    assert summary.edges_drawn == 20 and summary.edges_total == 20
    assert summary.edges_pruned == int((~keep["h"]).sum() + (~keep["out"]).sum()) == 10
    assert summary.pruned_by_layer == {"h": 6, "out": 4}
    (faded,) = traces(fig, edges="pruned")
    assert segments(faded) == faded.meta["count"] == 10
    assert sum(segments(t) for t in traces(fig, edges="kept")) == 10
    assert len(fig.data) < 20  # a few traces by colour and width, not one per edge


def test_faded_count_with_sampled_edges_counts_only_the_drawn_ones():
    rng = np.random.default_rng(1)
    kernels = {"a": rng.normal(size=(100, 40)), "b": rng.normal(size=(40, 30)), "c": rng.normal(size=(30, 10))}
    keep = magnitude_keep(kernels, 0.4)
    fig, summary = nw.network_figure(kernels, keep, max_edges=600, max_inputs=20)
    expected = sum(int((~keep[e.name][e.rows, e.cols]).sum()) for e in summary.layers)
    assert summary.edges_pruned == expected == segments(traces(fig, edges="pruned")[0])
    assert summary.edges_drawn == sum(e.drawn for e in summary.layers) <= 600
    assert summary.inputs_shown == 20 and summary.inputs_total == 100


def test_removed_neurons_are_greyed():
    keep = {n: np.ones_like(k, dtype=bool) for n, k in KERNELS.items()}
    keep["h"][:, 1] = False   # neuron 1 removed by unit pruning: its column and its outgoing row go
    keep["out"][1, :] = False
    keep["h"][:, 3] = False   # neuron 3: every incoming weight pruned (weight pruning)
    fig, summary = nw.network_figure(KERNELS, keep, unit_keep={"h": np.array([True, False, True, True])})
    assert summary.removed == {"h": (1, 3), "out": ()} and summary.neurons_removed == 2
    (greyed,) = traces(fig, nodes="removed")
    assert greyed.marker.color == nw.REMOVED_FILL
    assert list(greyed.x) == [1.0, 1.0] and len(greyed.hovertext) == 2
    assert all("removed" in text for text in greyed.hovertext)
    (kept,) = traces(fig, nodes="kept")
    assert kept.marker.color == nw.NEURON and len(kept.x) == 3 + 4 + 2 - 2


def test_crowded_columns_draw_neurons_as_dashes_and_removed_ones_greyed():
    rng = np.random.default_rng(2)
    kernels = {"h": rng.normal(size=(20, 300)), "out": rng.normal(size=(300, 10))}
    keep = {n: np.ones(k.shape, dtype=bool) for n, k in kernels.items()}
    units = np.ones(300, dtype=bool)
    units[[5, 17, 250]] = False
    keep["h"][:, ~units] = False
    keep["out"][~units, :] = False
    fig, summary = nw.network_figure(kernels, keep, unit_keep={"h": units}, max_edges=400)
    assert summary.removed == {"h": (5, 17, 250), "out": ()}
    (greyed,) = traces(fig, nodes="removed")
    assert greyed.meta["bars"] and greyed.marker.symbol == "line-ew" and greyed.marker.line.color == nw.REMOVED_FILL
    assert [t.split("<br>")[0] for t in greyed.hovertext] == [f"<b>h</b> neuron {j} of 300" for j in (5, 17, 250)]
    kept = traces(fig, nodes="kept")
    assert sum(len(t.x) for t in kept) == 20 + 297 + 10
    assert {bool(t.meta["bars"]) for t in kept} == {False, True}


def test_hover_shows_weight_and_score():
    keep = magnitude_keep(KERNELS, 0.0)
    scores = {n: np.abs(k) * 10 for n, k in KERNELS.items()}
    fig, _ = nw.network_figure(KERNELS, keep, scores=scores, labels={"h": "h", "out": "out"}, score_label="|w|×10")
    (edge_hover,) = [t for t in fig.data if t.name == "h kept"]
    assert "weight %{customdata[2]:.4f}" in edge_hover.hovertemplate
    assert "|w|×10 %{customdata[3]:.3g}" in edge_hover.hovertemplate
    rows = {(int(r), int(c)): (w, s) for r, c, w, s in edge_hover.customdata}
    assert rows[(0, 3)] == (-0.7, 7.0) and rows[(2, 0)] == (-0.6, 6.0)
    (nodes,) = traces(fig, nodes="kept")
    text = nodes.hovertext[3]  # the first neuron of h (after the 3 inputs)
    assert "neuron 0 of 4" in text and f"Σ|w| in = {0.9 + 0.2 + 0.6:.3g}" in text and "Σ |w|×10 in = 17" in text


def test_layer_names_are_escaped_in_hover_and_headings():
    kernels = {"<b>x</b>": H, "out": OUT}
    fig, _ = nw.network_figure(kernels, magnitude_keep(kernels, 0.2))
    assert "<b>x</b>" not in " ".join(fig.layout.xaxis.ticktext)
    assert "&lt;b&gt;x&lt;/b&gt;" in fig.layout.xaxis.ticktext[1]
    assert all("<b>x</b>" not in (t.hovertemplate or "") for t in fig.data)


def test_non_dense_models_are_refused_with_a_message():
    lead = "The network view draws stacks of Dense layers"
    with pytest.raises(ValueError, match=f"{lead}.*'conv' is not Dense \\(its kernel is 3×3×1×8\\)"):
        nw.network_figure({"conv": np.ones((3, 3, 1, 8)), "out": np.ones((8, 2))}, {})
    with pytest.raises(ValueError, match="'gru' is a GRU"):
        nl.check_dense_stack({"gru": np.ones((4, 3))}, kinds={"gru": "GRU"})
    with pytest.raises(ValueError, match="not one chain"):
        nl.check_dense_stack({"a": np.ones((4, 3)), "b": np.ones((5, 2))})
    branch = [SimpleNamespace(name="a", producers=("a",), consumers=("b", "c")),
              SimpleNamespace(name="b", producers=("b",), consumers=())]
    with pytest.raises(ValueError, match="feeds more than the next layer 'b'"):
        nl.check_dense_stack({"a": np.ones((4, 3)), "b": np.ones((3, 2))}, groups=branch)
    with pytest.raises(ValueError, match="has 2,048 neurons: too many"):
        nl.check_dense_stack({"wide": np.ones((4, 2048)), "out": np.ones((2048, 2))})
    with pytest.raises(ValueError, match="no Dense layer"):
        nl.check_dense_stack({})


def test_first_filters_figure_blanks_pruned_filters():
    kernel = np.arange(3 * 3 * 2 * 4, dtype=float).reshape(3, 3, 2, 4) - 30
    keep = np.ones(kernel.shape, dtype=bool)
    keep[..., 2] = False          # filter 2: every weight pruned
    keep[0, 0, :, 0] = False      # filter 0: one position pruned (a 0 in the average, not a blank)
    fig = nw.first_filters_figure(kernel, keep, columns=2)
    z = np.array([[np.nan if v is None else v for v in row] for row in fig.data[0].z])
    assert z.shape == (2 * 4 - 1, 2 * 4 - 1)
    assert np.isnan(z[4:7, 0:3]).all()                       # filter 2: second row, first column — blank
    assert z[0, 0] == 0.0 and z[0, 1] == pytest.approx(kernel[0, 1, :, 0].mean())
    assert np.allclose(z[4:7, 4:7], kernel[..., 3].mean(axis=2))
    assert [a.text for a in fig.layout.annotations] == ["pruned"]
    assert fig.layout.annotations[0].x == 1 and fig.layout.annotations[0].y == 5
    assert nl.pruned_filters(keep).tolist() == [False, False, True, False]
    with pytest.raises(ValueError, match="Conv2D kernel"):
        nw.first_filters_figure(np.ones((3, 3)), np.ones((3, 3), dtype=bool))
