"""example_figures.example_scores_figure: the worked example's bars, colours and threshold line (exact answers)."""

import pandas as pd
import plotly.graph_objects as go

from prune_core.viz import example_figures, style


def frame(scores, pruned):
    return pd.DataFrame({"weight": ["w1", "w2", "w3", "w4", "w5"], "score": scores, "pruned": pruned})


SENSITIVITY = [0.2, 0.1, 0.4, 0.05, 0.3]


def test_kept_blue_pruned_orange_and_threshold_line():
    # sensitivity, coefficient 0.75: threshold 0.3 → w1, w2, w4 pruned; w5 (0.3) kept (strict rule)
    fig = example_figures.example_scores_figure(frame(SENSITIVITY, [True, True, False, True, False]), 0.3, "sensitivity")
    assert isinstance(fig, go.Figure)
    kept, pruned = fig.data
    assert (kept.name, pruned.name) == ("kept", "pruned")
    assert list(kept.x) == ["w3", "w5"] and list(kept.y) == [0.4, 0.3]
    assert list(pruned.x) == ["w1", "w2", "w4"] and list(pruned.y) == [0.2, 0.1, 0.05]
    assert kept.marker.color == style.KEPT and pruned.marker.color == style.PRUNED
    assert list(pruned.text) == ["0.2", "0.1", "0.05"]
    (line,) = fig.layout.shapes
    assert (line.y0, line.y1, line.xref, line.yref, line.line.dash) == (0.3, 0.3, "paper", "y", "dash")
    (label,) = fig.layout.annotations
    assert label.text.strip() == "threshold 0.3" and label.y == 0.3
    assert list(fig.layout.xaxis.categoryarray) == ["w1", "w2", "w3", "w4", "w5"]  # table order, not by colour
    assert fig.layout.yaxis.title.text == "score (sensitivity)"
    assert fig.layout.yaxis.range[1] > 0.4


def test_nothing_pruned_keeps_both_legend_entries():
    # L1 term, coefficient 0.3: threshold 0.18 → nothing pruned
    fig = example_figures.example_scores_figure(frame([0.5, 0.3, 0.6, 0.2, 0.4], [False] * 5), 0.18, "l1")
    kept, pruned = fig.data
    assert list(kept.x) == ["w1", "w2", "w3", "w4", "w5"]
    assert list(pruned.x) == [None] and list(pruned.y) == [None]
    assert fig.layout.yaxis.title.text == "score (L1 term)"
    assert fig.layout.annotations[0].text.strip() == "threshold 0.18"


def test_threshold_above_every_score_is_still_visible():
    # L1 term with your own maximum 2.0, coefficient 0.5: threshold 1.0 → everything pruned
    fig = example_figures.example_scores_figure(frame([0.5, 0.3, 0.6, 0.2, 0.4], [True] * 5), 1.0, "l1")
    kept, pruned = fig.data
    assert list(kept.x) == [None] and len(pruned.x) == 5
    low, high = fig.layout.yaxis.range
    assert low == 0 and high > 1.0
    assert fig.layout.shapes[0].y0 == 1.0
