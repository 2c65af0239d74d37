"""Prune page words: labels and help of the registered criteria and rules, the slider's range and format,
and the sentences about a held candidate. Everything is read from prune_core's registries."""

from __future__ import annotations

import prune_core as pc
from prune_core.viz.fmt import percent

from . import state
from .text import md


GRANULARITIES = {"weight": "Individual weights", "unit": "Whole neurons / filters"}


SCOPES = {"layer": "Per layer", "global": "Global (one threshold for all layers)"}


VIEWS = {"weights": "Weight values", "scores": "Importance scores"}


def criterion_label(name: str) -> str:
    """The registered criterion's label ('Magnitude |w|'); the name itself for one no longer registered."""
    return pc.CRITERIA[name].label if name in pc.CRITERIA else name


def rule_label(name: str) -> str:
    return pc.RULES[name].label if name in pc.RULES else name


def criterion_help() -> str:
    """One line per registered criterion: its explanation and citation (for the radio's help)."""
    return "\n\n".join(f"**{c.label}** — {c.explanation}" + (f" ({c.citation})" if c.citation else "")
                        for c in pc.CRITERIA.values())


def rule_help() -> str:
    return "\n\n".join(f"**{r.label}** — {r.explanation}" for r in pc.RULES.values())


def rule_names() -> list[str]:
    return list(pc.RULES)


def slider_range(rule: str) -> tuple[float, float, float, float]:
    """(min, max, step, default) of ``rule``'s slider, in the units it shows (sparsity in %)."""
    return pc.RULES[rule].slider


def slider_format(rule: str) -> str:
    return pc.RULES[rule].display_format


def rule_choices(rule: str) -> list | None:
    """The allowed values of a rule whose value is not a number on a slider (N:M: "2:4", …), else None."""
    choices = pc.RULES[rule].choices
    return list(choices) if choices else None


def granularity_for(rule: str, granularity: str) -> tuple[str, str | None]:
    """(granularity to prune with, a note when the rule cannot prune the chosen one)."""
    allowed = pc.RULES[rule].granularities
    if granularity in allowed:
        return granularity, None
    return allowed[0], (f"{rule_label(rule)} works on individual weights (its blocks run along each neuron's "
                        "inputs), so this preview prunes weights.")


def effective_granularity(rule: str, granularity: str) -> str:
    return granularity_for(rule, granularity)[0] if rule in pc.RULES else granularity


def candidate_text(held: state.Candidate) -> str:
    return f"Candidate ready: {_candidate_summary(held)}."


def _candidate_summary(held: state.Candidate) -> str:
    s = held.settings
    return (f"{percent(held.sparsity)} sparse, {_accuracy_text(held.pruned_accuracy)} test accuracy before "
            f"retraining — {md(criterion_label(s['criterion']))}, {md(GRANULARITIES.get(s['granularity'], ''))}, "
            f"{md(rule_label(s['rule']))}")


def stale_candidate_text(held: state.Candidate) -> str:
    return (f"The applied candidate ({_candidate_summary(held)}) differs from these settings — Apply again to use "
            "these.")


def _accuracy_text(value: float) -> str:
    return "unmeasured (no data)" if value is None or value != value else f"{value:.2%}"


UNIT_SHARE_RULES = ("sparsity",)  # rules whose value is a share: under unit granularity a share of units


def value_label(rule: str, granularity: str) -> str:
    """The rule's name as its control reads it; under whole neurons/filters a share says what it counts.

    >>> value_label("sparsity", "unit"), value_label("sparsity", "weight")
    ('target sparsity (% of neurons / filters)', 'target sparsity (%)')
    """
    label = rule_label(rule)
    if granularity == "unit" and rule in UNIT_SHARE_RULES:
        return label.removesuffix(" (%)") + " (% of neurons / filters)"
    return label


def units_removed(mask_set) -> tuple[str, str]:
    """(share removed, "N of M") of the neurons/filters a unit MaskSet removes, over the groups that can lose any."""
    return units_removed_text(*mask_set.unit_counts)


def units_removed_text(kept: int, total: int) -> tuple[str, str]:
    """(share removed, "N of M") from the kept and total counts.

    >>> units_removed_text(300, 400)
    ('25.0%', '100 of 400')
    """
    removed = total - kept
    return percent(removed / total if total else 0.0), f"{removed:,} of {total:,}"
