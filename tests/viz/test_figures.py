"""prune_core.viz.figures (with style, axes, example_figures): axes, ticks, legends and colours of every chart (issue 13,
"Charts"), exact answers."""

import colorsys

import numpy as np
import pandas as pd
import pytest

from prune_core.viz import axes as ax
from prune_core.viz import example_figures as ex
from prune_core.viz import figures as fg
from prune_core.viz import style
from prune_core.measure.preview import SplitHistogram

RESERVED = {style.KEPT.lower(), style.PRUNED.lower()}


def one_epoch():
    return {"loss": [0.352], "val_loss": [0.211], "accuracy": [0.901], "val_accuracy": [0.9412]}


def epochs(n, low=0.961, high=0.974):
    return {"loss": list(np.linspace(0.4, 0.1, n)), "val_loss": list(np.linspace(0.3, 0.15, n)),
            "accuracy": list(np.linspace(low, high, n)), "val_accuracy": list(np.linspace(low + 0.001, high - 0.002, n))}


def histogram(edges):
    edges = np.asarray(edges, dtype=float)
    bins = len(edges) - 1
    return SplitHistogram(edges, np.arange(bins) % 7, np.arange(bins) % 3)


def records():
    dense = {"accuracy": 0.98, "nonzero_params": 300_000, "gzip_bytes": 1_000_000}
    return [{"run_id": 1, "mode": "oneshot", "label": "a", "final_accuracy": 0.97, "nonzero_params": 26_661,
             "gzip_bytes": 150_000, "sparsity": 0.9, "dense": dense},
            {"run_id": 2, "mode": "gradual", "label": "b", "final_accuracy": 0.975, "nonzero_params": 13_330,
             "gzip_bytes": 90_000, "sparsity": 0.95, "dense": dense},
            {"run_id": 3, "mode": "iterative", "label": "c", "final_accuracy": 0.961, "nonzero_params": 2_000,
             "gzip_bytes": 30_000, "sparsity": 0.99, "dense": dense}]


SWEEP = pd.DataFrame({"criterion": ["magnitude"] * 2 + ["sensitivity"] * 2 + ["random"] * 2, "sparsity": [0.5, 0.9] * 3,
                      "pruned_accuracy": [0.97, 0.9, 0.965, 0.88, 0.9, 0.3],
                      "final_accuracy": [0.975, 0.968, 0.974, 0.965, 0.96, 0.9]})
SCAN = pd.DataFrame({"layer": ["dense", "dense", "dense_1", "dense_1", "out", "out"], "sparsity": [0.5, 0.9] * 3,
                     "accuracy": [0.979, 0.962, 0.978, 0.95, 0.976, 0.955]})
ROUNDS = [{"round": 1, "sparsity": 0.2, "pruned_accuracy": 0.971, "accuracy": 0.977, "within_tolerance": True},
          {"round": 2, "sparsity": 0.36, "pruned_accuracy": 0.962, "accuracy": 0.974, "within_tolerance": False}]


def every_figure():
    """One of each chart the app draws, named."""
    table = pd.DataFrame({"weight": ["w1", "w2", "w3"], "score": [0.2, 0.5, 0.1], "pruned": [True, False, True]})
    return {
        "history, 1 epoch": fg.training_history(one_epoch()),
        "history, 8 epochs": fg.training_history(epochs(8)),
        "steps": fg.accuracy_steps(0.9812, 0.8312, 0.9734),
        "histogram": fg.split_histogram_figure(histogram(np.linspace(-0.3, 0.3, 31)), thresholds=(-0.1, 0.1)),
        "log histogram": fg.split_histogram_figure(histogram(np.linspace(-6, -1, 31)), thresholds=(1e-3,), log_x=True),
        "sparsity": fg.sparsity_bars(["dense", "out"], [0.5, 0.1]),
        "accuracy/size": fg.accuracy_size_figure(records()),
        "accuracy/gzip": fg.accuracy_size_figure(records(), x="gzip_kb"),
        "sweep": fg.criteria_sweep_figure(SWEEP, dense_accuracy=0.978),
        "sensitivity": fg.layer_sensitivity_figure(SCAN, dense_accuracy=0.98, max_drop=0.01),
        "rounds": fg.iterative_rounds_figure(ROUNDS, dense_accuracy=0.98, tolerance=0.005),
        "example": ex.example_scores_figure(table, 0.3, "l1"),
        "example side by side": ex.example_side_by_side_figure({"l1": (table, 0.3), "sensitivity": (table, 0.2)}),
        "deploy": fg.deploy_ratios_figure([{"name": "dense", "latency_ratio": 1.0, "size_ratio": 1.0},
                                           {"name": "int8", "latency_ratio": 0.3, "size_ratio": 0.1}]),
    }


# --- 1. short training runs ------------------------------------------------------------------------------

def test_one_epoch_reads_as_a_chart_with_a_single_epoch_tick():
    fig = fg.training_history(one_epoch())
    assert list(fig.layout.xaxis.tickvals) == [1] and list(fig.layout.xaxis.ticktext) == ["1"]
    low, high = fig.layout.xaxis.range
    assert 0 < low < 1 < high < 2  # snug around epoch 1, no empty epochs 0 and 2
    assert [t.name for t in fig.data] == ["train loss", "test loss", "train accuracy", "test accuracy"]
    for trace in fig.data:
        assert "markers" in trace.mode and "text" in trace.mode and len(trace.x) == 1  # nothing invented
        assert low < trace.x[0] < high and trace.customdata[0] == 1
    assert [list(t.text) for t in fig.data] == [["0.352"], ["0.211"], ["90.10%"], ["94.12%"]]
    assert [t.marker.symbol for t in fig.data] == ["circle", "circle-open", "circle", "circle-open"]
    loss_low, loss_high = fig.layout.yaxis.range
    assert loss_low < 0.211 and loss_high > 0.352 and loss_low >= 0


@pytest.mark.parametrize("n", [2, 3])
def test_two_or_three_epochs_draw_lines_and_markers_with_integer_ticks(n):
    fig = fg.training_history(epochs(n))
    assert list(fig.layout.xaxis.tickvals) == list(range(1, n + 1))
    assert fig.layout.xaxis.range == pytest.approx((0.75, n + 0.25))
    assert all(t.mode == "lines+markers" and list(t.x) == list(range(1, n + 1)) for t in fig.data)


def test_a_long_run_keeps_plotlys_epoch_axis():
    fig = fg.training_history(epochs(8))
    assert fig.layout.xaxis.dtick == 1 and fig.layout.xaxis.range is None and fig.layout.xaxis.tickvals is None
    assert fig.data[0].marker.size is None and list(fig.data[0].x) == list(range(1, 9))


def test_iterative_history_without_test_values_draws_only_training_traces():
    fig = fg.training_history({"loss": [0.3, 0.2], "accuracy": [0.95, 0.97], "round": [1, 2]})
    assert [t.name for t in fig.data] == ["train loss", "train accuracy"]
    assert fg.training_history({"loss": [0.3]}).layout.yaxis2.ticksuffix == "%"  # no accuracy: still an axis


# --- 2. percent axes -------------------------------------------------------------------------------------


def axes(fig):
    layout = fig.layout.to_plotly_json()
    return {name: value for name, value in layout.items() if name.startswith(("xaxis", "yaxis"))}


@pytest.mark.parametrize("name", ["history, 1 epoch", "history, 8 epochs", "steps", "sparsity", "accuracy/size",
                                  "sweep", "sensitivity", "rounds"])
def test_every_percent_axis_gets_distinct_labels(name):
    fig = every_figure()[name]
    percent = {k: a for k, a in axes(fig).items()
               if a.get("ticksuffix") == "%" or any(str(t).endswith("%") for t in a.get("ticktext", ()))}
    assert percent, "no percent axis found"
    for key, axis in percent.items():
        if "ticktext" in axis:
            labels = list(axis["ticktext"])
        else:
            labels = ax.percent_tick_labels({**axis, "range": list(axis["range"])})
        assert len(labels) >= 2 and len(set(labels)) == len(labels), (name, key, labels)


def test_eight_epochs_of_96_to_97_percent_accuracy():
    labels = ax.percent_tick_labels(fg.training_history(epochs(8)).layout.yaxis2.to_plotly_json())
    assert labels == ["96.0%", "96.5%", "97.0%", "97.5%"]


# --- 3. log-x histograms ---------------------------------------------------------------------------------


@pytest.mark.parametrize("low, high", [(-6.2, -0.4), (-2.7, -2.35), (-2.52, -2.49), (-2.5001, -2.5), (0.1, 0.2),
                                       (-1.0, 3.0), (-9.3, -8.9)])
def test_log_histogram_always_has_labelled_ticks_inside_its_bins(low, high):
    fig = fg.split_histogram_figure(histogram(np.linspace(low, high, 21)), thresholds=(10 ** ((low + high) / 2),),
                                    log_x=True, title="t")
    axis = fig.layout.xaxis
    assert tuple(axis.range) == (low, high)
    ticks, labels = list(axis.tickvals), list(axis.ticktext)
    assert len(ticks) >= 2 and len(labels) == len(ticks) and len(set(labels)) == len(labels)
    assert all(low - 1e-9 <= t <= high + 1e-9 for t in ticks)
    for t, text in zip(ticks, labels):  # each label names the value at its tick
        assert float(text) == pytest.approx(10 ** t, rel=0.06)


def test_log_histogram_hover_is_in_score_units():
    fig = fg.split_histogram_figure(histogram([-3.0, -2.0, -1.0]), log_x=True)
    assert list(fig.data[0].customdata) == pytest.approx([10 ** -2.5, 10 ** -1.5])
    assert fig.data[0].hovertemplate == "%{customdata:.3g}: %{y:,}<extra>kept</extra>"


@pytest.mark.parametrize("log_x", [False, True])
def test_updating_a_narrow_log_histogram_equals_building_it_again(log_x):
    edges = np.linspace(-2.7, -2.35, 11) if log_x else np.linspace(-0.3, 0.3, 11)
    held = fg.split_histogram_figure(histogram(edges), title="a", thresholds=(0.003,), log_x=log_x)
    second = SplitHistogram(edges, np.arange(10) % 4, np.arange(10) % 5)
    fg.update_split_histogram(held, second, title="b", thresholds=(0.004,), log_x=log_x)
    fresh = fg.split_histogram_figure(second, title="b", thresholds=(0.004,), log_x=log_x)
    assert held.to_plotly_json() == fresh.to_plotly_json()


# --- 4. Compare's log size axis --------------------------------------------------------------------------


def test_accuracy_size_figure_uses_the_plain_unit_ticks():
    fig = fg.accuracy_size_figure(records())
    assert fig.layout.xaxis.type == "log"
    assert list(fig.layout.xaxis.ticktext) == ["2k", "5k", "10k", "20k", "50k", "100k", "200k"]
    kb = fg.accuracy_size_figure(records(), x="gzip_kb")
    assert list(kb.layout.xaxis.ticktext) == ["50 kB", "100 kB", "200 kB", "500 kB", "1 MB"]
    assert kb.layout.xaxis.title.text == "gzip of the .keras file (log scale)"


# --- 5. legends clear of the modebar ---------------------------------------------------------------------

@pytest.mark.parametrize("name", list(every_figure()))
def test_legends_sit_below_the_plot_and_untitled_charts_leave_the_modebar_a_strip(name):
    fig = every_figure()[name]
    legend = fig.layout.legend
    assert (legend.yref, legend.y, legend.yanchor, legend.orientation) == ("container", 0, "bottom", "h")
    assert fig.layout.margin.t >= 30


# --- 6. Retrain's accuracy bars --------------------------------------------------------------------------

def test_accuracy_steps_axis_runs_from_zero_to_100_percent():
    fig = fg.accuracy_steps(0.9812, 0.45, 0.9734)
    low, high = fig.layout.yaxis.range
    assert low == 0 and high > 100
    assert list(fig.layout.yaxis.tickvals) == [0, 20, 40, 60, 80, 100]
    assert list(fig.layout.yaxis.ticktext)[-1] == "100%"
    bars = fig.data[0]
    assert list(bars.y) == pytest.approx([98.12, 45.0, 97.34]) and bars.cliponaxis is False
    assert list(bars.customdata) == ["dense", "pruned, before retraining", "after retraining"]


# --- 7. colours ------------------------------------------------------------------------------------------

def trace_colours(trace):
    found = []
    for part in ("marker", "line"):
        obj = getattr(trace, part, None)
        colour = getattr(obj, "color", None) if obj is not None else None
        if colour is None:
            continue
        found += [c for c in (colour if isinstance(colour, (list, tuple)) else [colour]) if isinstance(c, str)]
    textfont = getattr(trace, "textfont", None)
    if textfont is not None and isinstance(textfont.color, str) and trace.name not in ("kept", "pruned"):
        found.append(textfont.color)
    return [c.lower() for c in found]


def hue(colour):
    r, g, b = (int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5))
    h, s, v = colorsys.rgb_to_hsv(r, g, b)
    return h * 360, s


def near(colour, reserved, degrees=30.0):
    """Reads as the reserved hue: saturated, not near-black, and within ``degrees`` of it on the colour wheel."""
    (h, s), (hr, _) = hue(colour), hue(reserved)
    r, g, b = (int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5))
    return s > 0.35 and max(r, g, b) > 0.3 and min(abs(h - hr), 360 - abs(h - hr)) < degrees


def test_series_palette_has_neither_kept_blue_nor_pruned_orange():
    for colour in style.SERIES + [style.ACCENT, style.WARN, style.FLOOR, fg.LATENCY_COLOUR, fg.SIZE_COLOUR, style.DENSE]:
        assert not near(colour, style.KEPT) and not near(colour, style.PRUNED), colour
    assert len(set(style.SERIES)) == len(style.SERIES)


@pytest.mark.parametrize("name", list(every_figure()))
def test_only_kept_and_pruned_traces_use_blue_and_orange(name):
    fig = every_figure()[name]
    for trace in fig.data:
        colours = trace_colours(trace)
        if trace.name in ("kept", "pruned"):
            continue
        assert not RESERVED & set(colours), (name, trace.name, colours)
        assert not any(near(c, style.KEPT) or near(c, style.PRUNED) for c in colours if c.startswith("#")), (name, trace.name)
    for shape in fig.layout.shapes:
        assert shape.line.color.lower() not in RESERVED, (name, shape.line.color)


def test_kept_and_pruned_keep_their_colours():
    fig = fg.sparsity_bars(["a"], [0.25])
    assert [(t.name, t.marker.color) for t in fig.data] == [("pruned", style.PRUNED), ("kept", style.KEPT)]
    hist = fg.split_histogram_figure(histogram([0.0, 1.0, 2.0]))
    assert [(t.name, t.marker.color) for t in hist.data] == [("kept", style.KEPT), ("pruned", style.PRUNED)]


def test_mode_and_floor_colours():
    fig = fg.accuracy_size_figure(records())
    assert {t.name: t.marker.color for t in fig.data[:3]} == {"oneshot": style.SERIES[0], "gradual": style.SERIES[1],
                                                             "iterative": style.SERIES[2]}
    sweep = fg.criteria_sweep_figure(SWEEP)
    assert [t.line.color for t in sweep.data[::2]] == style.SERIES[:3]  # magnitude, sensitivity, random
    floor = fg.layer_sensitivity_figure(SCAN, dense_accuracy=0.98, max_drop=0.01).layout.shapes[1]
    assert (floor.line.color, floor.line.dash, floor.y0) == (style.FLOOR, "dot", pytest.approx(97.0))
    rounds = fg.iterative_rounds_figure(ROUNDS, dense_accuracy=0.98, tolerance=0.005)
    assert [t.name for t in rounds.data] == ["after fine-tuning", "right after pruning", "below tolerance"]
    assert (rounds.data[0].line.color, rounds.data[1].marker.color, rounds.data[2].marker.color) == (
        style.SERIES[0], style.SERIES[1], style.WARN)


def test_mosaic_is_green_and_purple_never_kept_blue_or_pruned_orange():
    image = fg.mosaic_image(np.linspace(-1.0, 1.0, 41)[None, :], scale=1)[0]
    assert image[-1].tolist() == [27, 120, 55] and image[0].tolist() == [118, 42, 131]
    assert image[20].tolist() == [255, 255, 255]
    for pixel in image:
        colour = "#" + "".join(f"{int(c):02x}" for c in pixel)
        assert not near(colour, style.KEPT) and not near(colour, style.PRUNED), colour


# --- 8. sparsity bars ------------------------------------------------------------------------------------

def test_sparsity_bars_names_on_y_wrapped_and_labels_outside_with_headroom():
    long = "block_3_expand_conv2d_very_long_name"
    fig = fg.sparsity_bars(["dense", long, "7"], [0.021, 0.5, 0.983])
    pruned, kept = fig.data
    assert pruned.orientation == kept.orientation == "h"
    assert list(kept.y) == ["dense", "block_3_expand_<br>conv2d_very_long_<br>name", "7"]
    assert list(kept.customdata) == ["dense", long, "7"]  # full names in the hover
    assert fig.layout.yaxis.type == "category" and fig.layout.yaxis.automargin is True  # "7" stays a name
    assert list(kept.text) == ["2.1%", "50.0%", "98.3%"] and kept.textposition == "outside"
    assert kept.cliponaxis is False and fig.layout.xaxis.range[1] > 110  # room right of the 100% bar end
    assert list(fig.layout.xaxis.tickvals)[-1] == 100
    assert fig.layout.height >= 80 + 28 * 5
