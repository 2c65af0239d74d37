"""prune_core.viz.axes: percent axes with distinct labels, log ticks, the plain-unit size axis (exact answers)."""

import math

import pytest

from prune_core.viz import axes


def test_percent_axis_for_96_1_to_97_4_has_distinct_labels():
    axis = axes.percent_axis([96.1, 97.4])
    assert axes.percent_tick_labels(axis) == ["96.0%", "96.5%", "97.0%", "97.5%"]
    # what the old ".0f" format gave for plotly's own 0.2-point ticks: "96% 96% 97% 97%" …
    assert len({f"{v:.0f}%" for v in (96.2, 96.4, 96.6, 96.8)}) < 4


@pytest.mark.parametrize("values", [[96.1, 97.4], [99.02, 99.31], [99.1], [12.0, 98.0], [50.0, 90.0], [0.0, 100.0],
                                    [97.81, 97.83], [0.2, 0.9]])
def test_percent_axis_labels_are_unique_and_cover_the_values(values):
    axis = axes.percent_axis(values)
    labels = axes.percent_tick_labels(axis)
    assert len(labels) >= 2 and len(set(labels)) == len(labels)
    low, high = axis["range"]
    assert low <= min(values) and high >= max(values) and low >= -0.5 * axis["dtick"]


def test_log_ticks_exact():
    assert axes.log_ticks(-6.2, -0.4) == ([-6.0, -5.0, -4.0, -3.0, -2.0, -1.0],
                                        ["1e-6", "1e-5", "1e-4", "1e-3", "1e-2", "1e-1"])
    assert axes.log_ticks(-3.0, -1.3)[1] == ["0.001", "0.002", "0.005", "0.01", "0.02", "0.05"]
    assert axes.log_ticks(-2.7, -2.35)[1] == ["0.002", "0.003", "0.004"]  # under one decade: 1…9 steps
    assert axes.log_ticks(-12.0, 0.0)[1] == ["1e-12", "1e-10", "1e-8", "1e-6", "1e-4", "1e-2", "1"]  # thinned


def test_size_axis_labels_2k_to_300k_params_at_clean_ticks():
    axis = axes.size_axis([2e3, 3e5])
    assert axis["ticktext"] == ["2k", "5k", "10k", "20k", "50k", "100k", "200k"]
    assert axis["tickvals"] == [2e3, 5e3, 1e4, 2e4, 5e4, 1e5, 2e5]
    low, high = axis["range"]  # log10 units for a log axis
    assert low < math.log10(2e3) and high > math.log10(3e5)


def test_size_axis_in_bytes_and_in_decades():
    assert axes.size_axis([30.0, 1000.0], "gzip_kb")["ticktext"] == ["50 kB", "100 kB", "200 kB", "500 kB", "1 MB"]
    assert axes.size_axis([1e3, 1e7])["ticktext"] == ["1k", "10k", "100k", "1M", "10M"]
    assert axes.size_axis([]) == {}
    assert [axes.plain_units(v) for v in (950, 1500, 2e6, 3e9)] == ["950", "1.5k", "2M", "3G"]
