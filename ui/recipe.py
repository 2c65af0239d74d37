"""Retrain page adapter for the recipe search (prune_core.experiments.search): start it as a background job on the
current model (here or on Ray, ui.run_on), and the finished search's table, best recipe and the code that reruns it."""

from __future__ import annotations

import streamlit as st

from prune_core.experiments import search

from . import jobs, run_on, state
from .prune_labels import criterion_label
from .retrain import RETRAIN

JOB_KIND = "recipe"
CRITERIA = list(search.GRID["criteria"])
BUDGETS = (1, 2, 4)


def grid_size(criteria: list[str]) -> int:
    return len(criteria) * len(search.GRID["strategies"]) * len(search.GRID["learning_rates"])


def cost_sentence(criteria: list[str], budget: int) -> str:
    """The grid and what it costs, in words (from the core's halving rounds)."""
    if not criteria:
        return "Choose at least one criterion."
    rates = ", ".join(f"{lr:g}" for lr in search.GRID["learning_rates"])
    strategies = " and ".join(RETRAIN[s].lower() for s in search.GRID["strategies"])
    named = "1 criterion" if len(criteria) == 1 else f"{len(criteria)} criteria"
    return (f"Grid: {named} × {strategies} × learning rates {rates}. "
            + search.rounds_sentence(budget, grid_size(criteria)))


def start(target_percent: int, budget: int, criteria: list[str]):
    """``search.search_recipe`` on the current model as a background job; each candidate, as it finishes, is kept
    in the job's ``rounds`` with the model's key (the Compare page draws them on that model's chart)."""
    from .compare import current_model_key

    entry, ds = state.current_model(), state.dataset()
    model, executor, model_key = entry.model, run_on.executor(), current_model_key()

    def work(job):
        runner, _ = run_on.started(executor)
        return search.search_recipe(model, ds, target_percent / 100, budget=int(budget),
                                    grid={"criteria": list(criteria)}, executor=runner, progress=job.progress,
                                    on_candidate=lambda row: job.on_round({**row, "model_key": model_key}))

    return jobs.start(f"Recipe search ({grid_size(criteria)} candidates, {target_percent}% sparsity)", JOB_KIND, work)


CANDIDATE_MODE = "recipe candidate"  # their group on the Compare chart


def candidate_records(model_key: str | None) -> tuple[list[dict], bool]:
    """(the session's latest recipe search's finished candidates on ``model_key``'s model as chart records, whether
    the search is still running). A failed candidate has no point; nothing when the search was on another model."""
    job = jobs.current()
    if job is None or job.kind != JOB_KIND or job.cancelled:
        job = next((j for j in jobs.finished(JOB_KIND)), None)
    if job is None or model_key is None:
        return [], False
    records = [{"mode": CANDIDATE_MODE, "final_accuracy": r["final_accuracy"], "nonzero_params": r["nonzero_params"],
                "gzip_bytes": r.get("gzip_bytes"), "sparsity": r.get("sparsity"),
                "label": (f"recipe round {r['round']}: {criterion_label(r['criterion'])}, "
                          f"{RETRAIN[r['retrain']].lower()}, lr {r['learning_rate']:g}, {r['epochs']} epoch(s)")}
               for r in job.rounds if r.get("model_key") == model_key and "failed" not in r
               and r.get("nonzero_params") is not None]
    return records, job.running


def latest():
    """The newest finished search of this session, or None."""
    found = jobs.results(JOB_KIND)
    return found[0] if found else None


def best_sentence(result) -> str:
    b = result.best
    return (f"Best at {result.target:.0%} sparsity: {criterion_label(b.criterion)}, {RETRAIN[b.retrain].lower()}, "
            f"learning rate {b.learning_rate:g} → {result.best_accuracy:.2%} test accuracy after "
            f"{result.spec.epochs} epoch{'s' if result.spec.epochs > 1 else ''} (dense {result.dense_accuracy:.2%}).")


def table(result):
    """Every candidate of every round for display (accuracies in %)."""
    frame = result.frame
    out = frame[["round", "epochs"]].rename(columns={"round": "Round", "epochs": "Epochs"}).copy()
    out["Criterion"] = frame["criterion"].map(criterion_label)
    out["Retraining"] = frame["retrain"].map(RETRAIN)
    out["Learning rate"] = frame["learning_rate"].map("{:g}".format)
    out["Pruned acc."] = frame["pruned_accuracy"] * 100
    out["Final acc."] = frame["final_accuracy"] * 100
    out["Went on"] = frame["advanced"]
    return out


TABLE_CONFIG = {"Pruned acc.": st.column_config.NumberColumn(format="%.2f%%"),
                "Final acc.": st.column_config.NumberColumn(format="%.2f%%")}


def code(result) -> str:
    return search.spec_code(result.spec)
