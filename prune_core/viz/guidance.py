"""Guidance beside the coefficient slider, in words and pictures: what a coefficient really prunes, per
criterion, and what it costs. The numbers come from ``measure.guidance``.

"0.1–0.5 is typical" holds for magnitude only. The coefficient rule prunes where score < coefficient × max,
so on heavy-tailed scores (gradients: a few weights carry most of the loss's gradient) a small coefficient
already prunes most of a layer. These functions say so:

- :func:`heavy_tail_note` — one sentence, numbers from the scores (``measure.guidance.tail_table``), saying
  how heavy the tail is.
- :func:`collapse_warnings` — layers that keep under 1% of their weights, or pass no signal at all
  (``measure.guidance.signal_stops``).
- :func:`coefficient_curve_figure` — ``measure.guidance.coefficient_curve`` drawn.
- :func:`class_accuracy_figure` — per-class accuracy, dense vs pruned, worst drop first
  (the table from ``metrics.class_accuracy_change``).
"""

from __future__ import annotations

import math
from typing import Mapping

import numpy as np

from ..measure.guidance import signal_stops, tail_table
from ..methods.criteria import get_criterion, GradientCriterion
from .style import DENSE, house_layout, vline
from .fmt import percent

HEAVY_RATIO = 20.0  # largest / median score at or above which a layer's scores count as heavy-tailed
MIN_KEPT = 0.01     # collapse_warnings: a layer keeping under this share of its weights is close to collapse

SPARSITY_COLOUR = "#0d9488"    # teal: neither kept blue nor pruned orange
ACCURACY_COLOUR = "#7c3aed"    # violet: the pruned model's accuracy (orange is reserved for pruned *weights*)
CURRENT_COLOUR = "#111827"     # near-black dashed line: the slider's coefficient


# --- why a small coefficient prunes so much ------------------------------------------------------------

def _ratio_text(ratio: float) -> str:
    return f"{ratio:,.0f}" if ratio >= 10 else f"{ratio:.1f}"



GRADIENT_WHY = ("a weight's gradient is its input times its unit's error, both mostly near zero (blank pixels, "
                "examples already classified right), so a few weights get nearly all of it")
OTHER_WHY = "a few weights score far above the rest"


def _subject(criterion: str | None) -> tuple[str, str]:
    """(how the sentence names the scores, why a few stand out) for a registered criterion name."""
    if criterion is None:
        return "These scores", OTHER_WHY

    chosen = get_criterion(criterion)
    if isinstance(chosen, GradientCriterion):
        return "Gradient scores", GRADIENT_WHY
    return f"{chosen.label.split(' ')[0]} scores", OTHER_WHY


def heavy_tail_note(scores: Mapping[str, np.ndarray], *, criterion: str | None = None, coefficient: float = 0.1,
                    heavy_ratio: float = HEAVY_RATIO) -> str:
    """One plain sentence, numbers from ``scores`` ({layer: scores}), on how far the largest score stands above
    the rest: the layer with the largest max/median ratio is named, with the share of its scores strictly below
    ``coefficient`` × max (what the coefficient rule prunes there, per-layer scope). At a ratio of ``heavy_ratio`` or
    more the scores are called heavy-tailed, with the reason (for a gradient ``criterion``: why gradients are).

    >>> heavy_tail_note({"dense1": np.array([1.0, 2.0, 3.0, 4.0, 500.0])}, criterion="sensitivity").split(" — ")[0]
    'Gradient scores are heavy-tailed: in dense1 the largest score is 167× the median, so 0.1 × max already lies above 80.0% of the scores'
    >>> heavy_tail_note({"a": np.array([1.0, 2.0, 3.0, 4.0]), "b": np.array([1.0, 1.0, 3.0])}, criterion="magnitude")
    'Magnitude scores are not heavy-tailed: the largest score is at most 3.0× the median (in b), and 0.1 × max lies above 0.0% of the scores there.'
    """
    subject, why = _subject(criterion)
    table = tail_table(scores, coefficient)
    if table.empty:
        return f"{subject}: there are no scores to describe."
    row = table.iloc[int(np.argmax(table["ratio"].to_numpy()))]
    c, below = f"{coefficient:g}", percent(row["below"])
    if row["ratio"] >= heavy_ratio:
        if math.isinf(row["ratio"]):
            zeros = float(np.mean(np.asarray(scores[row["layer"]]) == 0))
            size = f"at least half of the scores are exactly 0 ({percent(zeros)}, the median is 0)"
        else:
            size = f"the largest score is {_ratio_text(row['ratio'])}× the median"
        return (f"{subject} are heavy-tailed: in {row['layer']} {size}, so {c} × max already lies above {below} of "
                f"the scores — {why}, and the coefficient is a share of that maximum, not of the weights.")
    return (f"{subject} are not heavy-tailed: the largest score is at most {_ratio_text(row['ratio'])}× the median "
            f"(in {row['layer']}), and {c} × max lies above {below} of the scores there.")


# --- layer collapse -------------------------------------------------------------------------------------

def _share_text(share: float, limit: float) -> str:
    """The kept share with enough decimals that a share under ``limit`` never reads as the limit."""
    text = percent(share, 1)
    return percent(share, 2) if share < limit and text == percent(limit, 1) else text


def collapse_warnings(mask_set, *, min_kept: float = MIN_KEPT, model=None, groups=None) -> list[str]:
    """One warning per layer of ``mask_set`` (a :class:`MaskSet`) that is cut off or close to collapse:

    - it keeps none of its kernel weights (all pruned, e.g. every unit removed): no signal passes;
    - it keeps some, but under ``min_kept`` of them (strictly under: exactly 1% is no warning);
    - with ``model`` (its dependency ``groups`` optional): it keeps weights, but every kept one reads a unit
      upstream that receives no input itself, so no signal passes (named once, where the signal stops).

    >>> from prune_core.methods.masks import MaskSet
    >>> keep = np.zeros((100, 300), bool); keep[0, :120] = True
    >>> collapse_warnings(MaskSet(kernels={"dense2": keep}))
    ['dense2 keeps 0.4% of its weights (120 of 30,000): the layer is close to collapse — every prediction goes through 120 connections.']
    """
    out = []
    dead_signal = signal_stops(model, mask_set, groups) if model is not None else {}
    for name, mask in mask_set.kernels.items():
        mask = np.asarray(mask, dtype=bool)
        kept, total = int(np.count_nonzero(mask)), int(mask.size)
        if not total:
            continue
        units = mask_set.units.get(name)
        if kept == 0:
            how = (f"all {np.size(units):,} of its units are removed" if units is not None and not np.any(units)
                   else "every weight is pruned")
            out.append(f"{name} keeps none of its {total:,} weights ({how}): the layer is cut off — no signal "
                       f"passes through it, so every prediction is the same whatever the input.")
        elif kept / total < min_kept:
            out.append(f"{name} keeps {_share_text(kept / total, min_kept)} of its weights ({kept:,} of {total:,}): "
                       f"the layer is close to collapse — every prediction goes through {kept:,} "
                       f"connection{'' if kept == 1 else 's'}.")
        elif name in dead_signal:
            upstream = ", ".join(dead_signal[name])
            out.append(f"{name} keeps {kept:,} of its {total:,} weights, but every one of them reads a unit of "
                       f"{upstream} that receives no input: no signal passes through {name}, so every prediction "
                       f"is the same whatever the input.")
    return out



# --- figures --------------------------------------------------------------------------------------------

def class_accuracy_figure(change_frame, *, title: str | None = None, height: int = 320, pruned_label: str = "pruned"):
    """Grouped bars per class: dense (grey) and pruned (violet) test accuracy in %, worst drop first, y 0–100%.

    ``change_frame``: the table of ``metrics.class_accuracy_change`` (class, count, dense, pruned, change);
    it is re-sorted here (change ascending, then count descending) so any order draws the same.
    """
    import plotly.graph_objects as go

    frame = change_frame.sort_values(["change", "count"], ascending=[True, False], kind="stable")
    names = [str(c) for c in frame["class"]]

    def percents(column):
        return [None if not np.isfinite(v) else 100.0 * float(v) for v in frame[column]]

    change = [None if not np.isfinite(v) else 100.0 * float(v) for v in frame["change"]]
    counts = [int(c) for c in frame["count"]]
    custom = [[ch, n] for ch, n in zip(change, counts)]
    hover = ("class %{x}: %{y:.1f}%<br>" + pruned_label +
             " − dense: %{customdata[0]:+.1f} points · %{customdata[1]} test samples")
    data = [go.Bar(x=names, y=percents(column), name=label, marker_color=colour, customdata=custom,
                   hovertemplate=f"{hover}<extra>{label}</extra>")
            for column, label, colour in (("dense", "dense", DENSE), ("pruned", pruned_label, ACCURACY_COLOUR))]
    layout = house_layout(title=title, height=height, barmode="group", bargap=0.25,
                          xaxis=dict(title="class (worst drop first)", type="category", categoryorder="array",
                                     categoryarray=names),
                          yaxis=dict(title="test accuracy", range=[0, 100], ticksuffix="%"))
    return go.Figure(data=data, layout=layout)


def coefficient_curve_figure(curve, current: float | None = None, *, title: str | None = None, height: int = 300):
    """Sparsity (teal) and, where measured, accuracy (violet) in % against the coefficient, on one 0–100% axis;
    ``current`` (the slider's coefficient) is a dashed vertical line. ``curve``: the frame of
    ``measure.guidance.coefficient_curve``."""
    import plotly.graph_objects as go

    x = [float(c) for c in curve["coefficient"]]
    data = [go.Scatter(x=x, y=[100.0 * float(s) for s in curve["sparsity"]], name="sparsity", mode="lines+markers",
                       line=dict(color=SPARSITY_COLOUR),
                       hovertemplate="coefficient %{x:.2f}: %{y:.1f}% pruned<extra></extra>")]
    accuracy = [float(a) for a in curve["accuracy"]]
    if any(np.isfinite(a) for a in accuracy):
        data.append(go.Scatter(x=x, y=[100.0 * a if np.isfinite(a) else None for a in accuracy], name="test accuracy",
                               mode="lines+markers", line=dict(color=ACCURACY_COLOUR),
                               hovertemplate="coefficient %{x:.2f}: %{y:.1f}% accuracy<extra></extra>"))
    shapes = [vline(float(current), CURRENT_COLOUR)] if current is not None else []
    layout = house_layout(title=title, height=height, shapes=shapes,
                          xaxis=dict(title="coefficient (× the largest score)", range=[0, 1]),
                          yaxis=dict(title="sparsity / accuracy", range=[0, 100], ticksuffix="%"))
    return go.Figure(data=data, layout=layout)


SUMMARY_ABOVE = 3  # more collapse warnings than this read as one line (the list behind it)


def collapse_summary(warnings: list[str], layers: int, *, above: int = SUMMARY_ABOVE) -> str | None:
    """One line for many collapse warnings (a big model under a harsh global rule can have dozens), or None when
    there are few enough to show one by one. ``layers``: how many layers the masks cover.

    >>> collapse_summary(["a keeps none of …", "b keeps 0.1% …", "c keeps 0.2% …", "d keeps 0.3% …"], 53)
    '4 of 53 layers are cut off or close to collapse (under 1% of their weights kept, or no signal passing) — the list is below, and the table shows every layer.'
    >>> collapse_summary(["a keeps none of …"], 53) is None
    True
    """
    if len(warnings) <= above:
        return None
    return (f"{len(warnings)} of {layers} layers are cut off or close to collapse (under {MIN_KEPT:.0%} of their "
            "weights kept, or no signal passing) — the list is below, and the table shows every layer.")
