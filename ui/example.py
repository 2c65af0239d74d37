"""Worked-example page glue: the five-weight table under the coefficient rule, as the page shows it."""

from __future__ import annotations

from prune_core.experiments import example
from prune_core.viz import example_figures, style

from . import widgets

CRITERIA = {"l1": "L1 term (|w|)", "sensitivity": "Sensitivity |∂L/∂w|"}
SHORT = {"l1": "L1 term", "sensitivity": "sensitivity"}


def names(weights) -> str:
    return ", ".join(weights) if weights else "none"


def result(criterion: str, coefficient: float, maximum: float | None) -> example.ExampleResult:
    """The coefficient rule applied to one column (numbers from ``prune_core.experiments.example``)."""
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
    return example_figures.example_scores_figure(outcome.table, outcome.threshold, criterion)


# --- issue 16: both columns side by side, rankings, the article's mistakes, the five steps ------------------

RUN_CRITERION = {"l1": "magnitude", "sensitivity": "sensitivity"}  # the table's column → the library criterion
STEPS_JOB = "example-steps"


def side_by_side(coefficient: float, chosen: example.ExampleResult) -> dict[str, example.ExampleResult]:
    """Both columns at the same coefficient; the chosen column as the controls set it (own maximum included)."""
    both = example.side_by_side(coefficient)
    both[chosen.criterion] = chosen
    return both


def side_by_side_figure(both: dict[str, example.ExampleResult]):
    return example_figures.example_side_by_side_figure({c: (r.table, r.threshold) for c, r in both.items()})


def rankings() -> dict[str, str]:
    """{column label: 'w3 > w5 > …'} from prune_core.experiments.example."""
    return {CRITERIA[c]: example.ranking_text(order) for c, order in example.rankings().items()}


def article_setting() -> dict:
    """The article's setting (coefficient 0.3, sensitivity): its threshold and pruned set next to ours."""
    ours = example.apply_coefficient_rule("sensitivity", example.ARTICLE_COEFFICIENT)
    return {"title": example.ARTICLE_TITLE, "title_en": example.ARTICLE_TITLE_EN, "section": example.ARTICLE_SECTION,
            "coefficient": f"{example.ARTICLE_COEFFICIENT:g}",
            "article_threshold": f"{example.ARTICLE_THRESHOLD:g}",
            "article_formula": f"{example.ARTICLE_COEFFICIENT:g} × {example.ARTICLE_MAX_SENSITIVITY:g}",
            "article_pruned": example.set_text(example.ARTICLE_PRUNED),
            "threshold": f"{ours.threshold:g}", "formula": f"{ours.coefficient:g} × {ours.maximum:g}",
            "pruned": example.set_text(ours.pruned)}


def claims_table():
    """The claims as the page shows them: wrong rows tinted, a ✗/✓ column."""
    frame = example.claims_table()
    frame.insert(3, "verdict", ["✓ right" if ok else "✗ wrong" for ok in frame.pop("correct")])
    frame = frame.set_index("topic")

    def tint(row):
        colour = f"background-color: {style.PRUNED}1f" if row["verdict"].startswith("✗") else ""
        return [colour] * len(row)

    return frame.style.apply(tint, axis=1)


def code_errors() -> list[tuple[str, str, str]]:
    return list(example.CODE_ERRORS)


def steps(criterion: str, coefficient: float, epochs: int) -> list[tuple[example.Step, str]]:
    """(step, prune_core code with the page's settings) for the five steps."""
    run_criterion = RUN_CRITERION[criterion]
    return [(s, example.step_code(s, criterion=run_criterion, coefficient=coefficient, epochs=epochs))
            for s in example.STEPS]


def start_steps(criterion: str, coefficient: float, epochs: int):
    """Run steps 2–5 on the session's current model in the background (the code shown, exactly)."""
    import streamlit as st

    from . import jobs, state

    run_criterion = RUN_CRITERION[criterion]
    if run_criterion != "magnitude" and not state.has_data():
        st.error("Sensitivity needs data, and the current model has none: choose the L1 term, or give the model "
                 "data on the Model page.", icon=":material/block:")
        return None
    entry = state.current_model()
    ds = state.dataset()

    def work(job):
        job.progress(0.1, "Scoring, thresholding and pruning…")
        return example.run_steps(entry.model, ds, criterion=run_criterion, coefficient=coefficient, epochs=epochs)

    return jobs.start(f"The five steps on {entry.name} ({run_criterion}, coefficient {coefficient:g})", STEPS_JOB,
                      work)


def steps_outcome():
    """The finished steps run of this session, if the last job was one: (job name, outcome) or None."""
    from . import jobs

    job = jobs.current()
    if job is None or job.kind != STEPS_JOB or job.running or job.result is None:
        return None
    return job.name, job.result


def outcome_numbers(outcome: example.StepsOutcome) -> dict[str, str]:
    return {"Sparsity after pruning": f"{outcome.sparsity:.1%}", "Dense accuracy": f"{outcome.dense_accuracy:.2%}",
            "Pruned, before retraining": f"{outcome.pruned_accuracy:.2%}",
            "After retraining": f"{outcome.final_accuracy:.2%}", "Sparsity after retraining": f"{outcome.final_sparsity:.1%}"}


def outcome_thresholds(outcome: example.StepsOutcome):
    import pandas as pd

    return pd.DataFrame({"layer": list(outcome.thresholds), "threshold": [f"{t:.4g}" for t in outcome.thresholds.values()]})
