"""Worked-example page glue: the five-weight table under the coefficient rule, as the page shows it."""

from __future__ import annotations

from prune_core import example, figures

from . import widgets

CRITERIA = {"l1": "L1 term (|w|)", "sensitivity": "Sensitivity |∂L/∂w|"}
SHORT = {"l1": "L1 term", "sensitivity": "sensitivity"}


def names(weights) -> str:
    return ", ".join(weights) if weights else "none"


def result(criterion: str, coefficient: float, maximum: float | None) -> example.ExampleResult:
    """The coefficient rule applied to one column (numbers from ``prune_core.example``)."""
    return example.apply_coefficient_rule(criterion, coefficient, maximum)


def styled_table(outcome: example.ExampleResult):
    """The table with |w|, the scores, a kept/pruned status column, pruned rows tinted, the score in bold."""
    shown = outcome.table.rename(columns={"abs": "|w|"})
    shown["status"] = ["pruned" if p else "kept" for p in shown.pop("pruned")]
    numeric = [c for c in shown.columns if c not in ("weight", "status")]
    return (shown.set_index("weight").style.apply(widgets.status_colours, axis=1)
            .format("{:.4g}", subset=numeric)
            .set_properties(subset=["score"], **{"font-weight": "bold"}))


def badges(outcome: example.ExampleResult) -> str:
    """One Markdown badge per weight (our own fixed names w1–w5, no user text)."""
    return " ".join(f":orange-badge[{w} pruned]" if p else f":blue-badge[{w} kept]"
                    for w, p in zip(outcome.table["weight"], outcome.table["pruned"]))


def figure(outcome: example.ExampleResult, criterion: str):
    return figures.example_scores_figure(outcome.table, outcome.threshold, criterion)
