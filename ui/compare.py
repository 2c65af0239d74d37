"""Compare page adapter: the run store and workspaces, the history table for display, the criteria sweep.

All numbers come from ``prune_core`` (``history.RunStore``, ``sweeps``); this module only reshapes them
for Streamlit (column labels and units) and keeps the per-session pieces in ``st.session_state``.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass

import streamlit as st

from . import run_on, state
from .text import md

SIZE_AXES = {"nonzero_params": "Nonzero parameters", "gzip_kb": "gzip size (kB)"}
SWEEP_SPARSITIES = (50, 70, 80, 90, 95, 98)  # percent, as the form shows them
SWEEP_KEY = "cmp_sweep"
SWEEP_JOB = "sweep"
CONFIRM_KEY = "cmp_confirm_delete"
SECONDS_PER_POINT_EPOCH = 3.5  # LeNet-300-100, bundled digits, 2 CPU cores (measured): for the estimate only

# The history table as shown: (column in RunStore.list, label, kind). kind picks the unit / format.
TABLE_COLUMNS = (
    ("run_id", "Run", "id"),
    ("label", "Label", "text"),
    ("final_accuracy", "Final acc.", "percent"),
    ("drop", "Δ vs dense", "pts"),
    ("sparsity", "Sparsity", "percent"),
    ("nonzero_params", "Nonzero params", "int"),
    ("gzip_mb", "gzip", "mb"),
    ("latency_ms", "Latency", "ms"),
    ("pruned_accuracy", "Pruned acc.", "percent"),
    ("dense_accuracy", "Dense acc.", "percent"),
    ("mode", "Mode", "text"),
    ("settings.criterion", "Criterion", "text"),
    ("settings.granularity", "Granularity", "text"),
    ("settings.rule", "Rule", "text"),
    ("settings.scope", "Scope", "text"),
    ("settings.epochs", "Epochs", "int"),
    ("settings.seed", "Seed", "int"),
    ("settings.l1", "L1 λ", "float"),
    ("seconds", "Time", "s"),
    ("created_at", "When", "text"),
)
FORMATS = {"percent": "%.2f%%", "pts": "%+.2f pts", "mb": "%.3f MB", "ms": "%.2f ms", "s": "%.1f s",
           "int": "localized", "float": "%g", "id": "#%d"}


# --- workspaces --------------------------------------------------------------------------------

def store():
    return state.run_store()


def workspaces() -> list[str]:
    """Every workspace in the store, plus this session's choice (it may not hold a run yet)."""
    names = store().workspaces()
    current = state.workspace()
    return names if current in names else [*names, current]


def delete_run(workspace: str, run_id: int) -> None:
    """Delete a run from the history and its model files from disk."""
    store().delete(workspace, run_id)
    state.run_files().delete(workspace, run_id)


def choose_workspace(name: str) -> None:
    st.session_state[state.WORKSPACE_KEY] = name
    st.session_state.pop(CONFIRM_KEY, None)


def create_workspace(name: str) -> tuple[bool, str]:
    """Create and switch to ``name``; (ok, message). A name that exists is simply switched to."""
    try:
        existing = name.strip() in store().workspaces()
        created = store().create_workspace(name, exist_ok=True)
    except ValueError as exc:
        return False, str(exc)
    choose_workspace(created)
    return True, (f"Switched to the existing workspace “{md(created)}”." if existing
                  else f"Created the workspace “{md(created)}” and switched to it.")


# --- the history table -------------------------------------------------------------------------

TEXT_SETTINGS = {"mode": "mode", "settings.criterion": "criterion", "settings.granularity": "granularity",
                 "settings.rule": "rule", "settings.scope": "scope"}


def _text_column(values) -> list[str]:
    return ["—" if v is None or (isinstance(v, float) and v != v) else str(v) for v in values]


def history_frame(frame, models: list[str] | None = None):
    """``RunStore.list`` reshaped for display: known settings and metrics first with units in percent,
    points, MB, ms and s (column_config formats them), then any other settings columns. Every column holds
    one type: numbers, or text in words (per-layer values as "dense1 50%, dense2 60%", "—" where missing).
    ``models``: each row's model in words (a "Model" column after the label)."""
    import pandas as pd

    from prune_core.viz import words

    shown = pd.DataFrame(index=frame.index)
    source = frame.copy()
    source["drop"] = (source["final_accuracy"] - source["dense_accuracy"]) * 100
    source["gzip_mb"] = source["gzip_bytes"] / 1e6
    settings = [{c.removeprefix("settings."): row[c] for c in frame.columns if c.startswith("settings.")}
                for _, row in frame.iterrows()]
    for column, label, kind in TABLE_COLUMNS:
        if column not in source.columns:
            continue
        values = source[column]
        if kind == "percent":
            values = pd.to_numeric(values, errors="coerce") * 100
        elif kind in FORMATS:
            values = pd.to_numeric(values, errors="coerce")
        elif column == "label":
            values = [words.human_label(v) if isinstance(v, str) and v else "—" for v in values]
        elif column in TEXT_SETTINGS:
            key = TEXT_SETTINGS[column]
            values = [words.setting_text(key, v, s) for v, s in zip(values, settings)]
        else:
            values = _text_column(values)
        shown[label] = values
        if column == "label" and models is not None:
            shown["Model"] = list(models)
    known = {c for c, _, _ in TABLE_COLUMNS} | {"settings.mode"}  # the record's own mode column says it
    for column in frame.columns:
        if column.startswith("settings.") and column not in known:
            key = column.removeprefix("settings.")
            name = words.setting_name(key)
            shown[name if name not in shown.columns else f"{name} ({key})"] = [
                words.setting_text(key, v, s) for v, s in zip(frame[column], settings)]
    return shown.reset_index(drop=True)


def _text_width(values, label: str) -> int:
    """Pixels a text column needs to show its longest cell and its label uncut (about 7 px a character)."""
    longest = max([len(str(v)) for v in values] + [len(label) + 2])
    return int(min(max(28 + 7 * longest, 80), 460))


def column_config(shown=None) -> dict:
    """Units for the number columns; text columns as wide as their longest cell (nothing cut at 1400 px)."""
    config = {}
    for _, label, kind in TABLE_COLUMNS:
        if kind in FORMATS:
            config[label] = st.column_config.NumberColumn(label, format=FORMATS[kind],
                                                          width=max(70, int(24 + 7.5 * (len(label) + 2))))
    if shown is not None:
        for column in shown.columns:
            if column not in config:
                config[column] = st.column_config.TextColumn(column, width=_text_width(shown[column], column))
    else:
        config["Label"] = st.column_config.TextColumn("Label", width="large")
    return config


def run_choice_label(record: dict) -> str:
    accuracy = record.get("final_accuracy")
    tail = f" · {accuracy:.2%}" if isinstance(accuracy, (int, float)) else ""
    from prune_core.viz import words

    name = words.human_label(record.get("label") or words.mode_word(record.get("mode") or "run"))
    return f"#{record['run_id']} · {name}{tail}"


def csv_text(workspace: str) -> str:
    return store().to_csv(workspace)


def csv_filename(workspace: str) -> str:
    return f"pruning-runs-{slug(workspace)}.csv"


def slug(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "-" for c in text).strip("-") or "runs"


# --- the HTML report (prune_core.viz.report) -------------------------------------------------------

def export_available() -> bool:
    return importlib.util.find_spec("prune_core.viz.report") is not None


def formatted_rows(shown) -> list[dict]:
    """``history_frame`` rows as text with their units ("96.05%", "+1.10 pts", "590.0 kB") for the report."""
    import math

    kinds = {label: kind for _, label, kind in TABLE_COLUMNS}
    rows = []
    for row in shown.to_dict("records"):
        out = {}
        for column, value in row.items():
            kind = kinds.get(column)
            missing = value is None or (isinstance(value, float) and math.isnan(value))
            if missing:
                out[column] = "—"
            elif kind == "int":
                out[column] = f"{int(value):,}"
            elif kind in FORMATS and kind != "float":
                out[column] = FORMATS[kind] % value
            else:
                out[column] = value
        rows.append(out)
    return rows


def html_report(workspace: str, records: list[dict], x: str, sweep: "Sweep | None" = None) -> bytes:
    """The self-contained HTML report (``prune_core.viz.report.html_report``): the workspace's runs with units,
    the accuracy-vs-size chart and, when there is one, the session's criteria sweep."""
    from prune_core.viz import figures, report

    shown = formatted_rows(table_frame(records))
    split = METRIC_LABELS.index("Dense acc.") + 1
    metrics = [{k: row[k] for k in METRIC_LABELS[:split] if k in row} for row in shown]
    settings_rows = [{k: v for k, v in row.items() if k == "Run" or k not in METRIC_LABELS[:split]} for row in shown]
    charts = [(f"{model_words(runs)}. {ACCURACY_SIZE_CAPTION}", _for_report(figures.accuracy_size_figure(runs, x=x)))
              for runs in runs_by_model(records).values()]
    tables = {"Settings of each run": settings_rows}
    if sweep is not None:
        charts.append((sweep_caption(sweep), _for_report(figures.criteria_sweep_figure(
            criterion_words(sweep.frame), dense_accuracy=sweep.dense_accuracy, show_pruned=sweep.fine_tune_epochs > 0))))
        tables[f"Criteria sweep on {sweep.model_name}"] = formatted_sweep_rows(sweep)
    page = report.html_report(
        title=f"Pruning runs · workspace “{workspace}”",
        settings={"workspace": workspace, "runs": len(records), "size axis": SIZE_AXES[x]},
        metrics=metrics, tables=tables, figures=charts,
        notes="Accuracies are measured on the test split; sparsity is the share of prunable kernel weights that "
              "are exactly zero; gzip is the saved .keras file compressed.")
    return page.encode("utf-8")


METRIC_LABELS = tuple(label for _, label, _ in TABLE_COLUMNS)


def _for_report(fig):
    """A standalone page has no Streamlit padding around the chart: room for the axis labels."""
    fig.update_layout(margin=dict(l=70, r=20, t=50, b=60), yaxis=dict(automargin=True))
    return fig


ACCURACY_SIZE_CAPTION = ("Final test accuracy against model size (log scale), one colour per mode; the grey star and "
                         "dashed line are the dense baseline, and the dotted staircase is the Pareto frontier — no run "
                         "is both smaller and more accurate than a point on it.")


def sweep_caption(sweep: "Sweep") -> str:
    if sweep.fine_tune_epochs:
        return (f"Test accuracy against sparsity, one colour per criterion: solid after {sweep.fine_tune_epochs} "
                "fine-tune epoch(s), dashed right after pruning; the grey dashed line is the dense model.")
    return ("Test accuracy right after pruning (no retraining) against sparsity, one colour per criterion; "
            "the grey dashed line is the dense model.")


def formatted_sweep_rows(sweep: "Sweep") -> list[dict]:
    table = sweep_table(sweep)
    formats = {"Sparsity": "%.0f%%", "Pruned acc.": "%.2f%%", "Final acc.": "%.2f%%", "Δ vs dense": "%+.2f pts"}
    return [{k: (formats[k] % v if k in formats else v) for k, v in row.items()} for row in table.to_dict("records")]


# --- the criteria sweep --------------------------------------------------------------------------

@dataclass
class Sweep:
    """A finished criteria sweep on one model and dataset, kept in session state across reruns."""

    weights_key: str
    data_key: str
    model_name: str
    dense_accuracy: float
    criteria: list
    sparsities: list
    fine_tune_epochs: int
    frame: object  # pandas DataFrame from sweeps.criteria_sweep
    where: str = "Ran on this machine."  # where the points ran, or why Ray was not used (ui.run_on)

    @property
    def failed(self) -> list[str]:
        """'magnitude at 90%: reason' for each point that failed twice (its accuracies are NaN in the chart)."""
        if "failed" not in self.frame:
            return []
        rows = self.frame[self.frame["failed"].notna()]
        return [f"{c} at {s:.0%}: {r}" for c, s, r in zip(rows["criterion"], rows["sparsity"], rows["failed"])]


def estimate_seconds(criteria: list, sparsities: list, epochs: int) -> float:
    """The default baseline's measured figure (LeNet-300-100, bundled digits), when no model is loaded yet."""
    return len(criteria) * len(sparsities) * (0.1 + SECONDS_PER_POINT_EPOCH * epochs)


def estimate_sentence(points: int, epochs: int) -> str:
    """How long a sweep of ``points`` with ``epochs`` fine-tune epochs should take on the current model and data,
    extrapolated from the model's timed test-split evaluation (``sweeps.estimate_sweep_seconds``), naming both."""
    from prune_core.experiments import sweeps
    from prune_core.viz import words

    what = f"{points} point{'s' if points != 1 else ''} with {epochs} fine-tune epoch{'s' if epochs != 1 else ''}"
    if not (state.has_model() and state.has_data()):
        seconds = points * (0.1 + SECONDS_PER_POINT_EPOCH * epochs)
        return (f"{words.duration(seconds)} for {what} on {current_model_name()} and the bundled digits "
                "(measured on this kind of machine).")
    entry, ds = state.current_model(), state.dataset()
    numbers = state.measure(entry, ds)
    seconds = sweeps.estimate_sweep_seconds(points, epochs, eval_seconds=numbers.get("eval_seconds", 0.0),
                                            test_samples=max(len(ds.y_test), 1), train_samples=len(ds.y_train))
    return (f"{words.duration(seconds)} for {what} on {current_model_name()} and {ds.name} (extrapolated from one "
            "timed evaluation of this model; scoring and compilation come on top).")


def current_sweep() -> Sweep | None:
    return st.session_state.get(SWEEP_KEY)


def sweep_matches_current_model(sweep: Sweep) -> bool:
    return state.has_model() and st.session_state["model_entry"].weights_key == sweep.weights_key


def start_sweep(criteria: list[str], sparsities_percent: list[int], epochs: int, executor=None):
    """Start ``sweeps.criteria_sweep`` on the current model as a background job (``ui.jobs``): other clicks
    on the page do not abort it; :func:`adopt_finished_sweep` keeps its result in session state. ``executor``: where
    the points run (None: this machine; a ``RayExecutor``: on Ray, reached when the job starts)."""
    from prune_core.experiments import sweeps

    from . import jobs

    entry, ds = state.current_model(), state.dataset()
    dense = state.measure(entry, ds)["accuracy"]
    from prune_core.viz import words

    model, weights_key, name = entry.model, entry.weights_key, words.model_name(entry.name)
    criteria, sparsities_percent = list(criteria), sorted(sparsities_percent)

    def work(job):
        job.progress(0.0, f"Reaching {run_on.where(executor)}…" if executor else "Scoring the dense model…")
        runner, note = run_on.started(executor)
        frame = sweeps.criteria_sweep(model, ds, criteria, [s / 100 for s in sparsities_percent],
                                      fine_tune_epochs=epochs, progress=job.progress, executor=runner)
        return Sweep(weights_key=weights_key, data_key=ds.key, model_name=name, dense_accuracy=dense,
                     criteria=criteria, sparsities=sparsities_percent, fine_tune_epochs=int(epochs), frame=frame,
                     where=note or f"Ran on {run_on.where(runner)}.")

    points = len(criteria) * len(sparsities_percent)
    return jobs.start(f"Criteria sweep ({points} points)", SWEEP_JOB, work)


def adopt_finished_sweep() -> None:
    """The newest finished sweep job's result becomes the session's sweep (it then survives other jobs and reruns)."""
    from . import jobs

    done = [r for r in jobs.results(SWEEP_JOB) if isinstance(r, Sweep)]
    if done:
        st.session_state[SWEEP_KEY] = done[0]


def criterion_words(frame):
    """The sweep frame with each criterion by its label ("Magnitude |w|"), for the table and the chart."""
    from prune_core.viz import words

    out = frame.copy()
    out["criterion"] = [words.setting_text("criterion", c) for c in out["criterion"]]
    return out


def sweep_table(sweep: Sweep):
    """The sweep's frame for display: accuracies and sparsities in %, the fine-tuning time (— without any)."""
    frame = sweep.frame
    table = criterion_words(frame)[["criterion"]].copy()
    table["Sparsity"] = frame["sparsity"] * 100
    table["Pruned acc."] = frame["pruned_accuracy"] * 100
    table["Final acc."] = frame["final_accuracy"] * 100
    table["Δ vs dense"] = (frame["final_accuracy"] - sweep.dense_accuracy) * 100
    table["Time"] = ["—" if not sweep.fine_tune_epochs else f"{s:.1f} s" for s in frame["seconds"]]
    return table.rename(columns={"criterion": "Criterion"})


SWEEP_TABLE_CONFIG = {
    "Criterion": st.column_config.TextColumn("Criterion", width=260),
    "Sparsity": st.column_config.NumberColumn("Sparsity", format="%.0f%%", width=90),
    "Pruned acc.": st.column_config.NumberColumn("Pruned acc.", format="%.2f%%", width=110),
    "Final acc.": st.column_config.NumberColumn("Final acc.", format="%.2f%%", width=110),
    "Δ vs dense": st.column_config.NumberColumn("Δ vs dense", format="%+.2f pts", width=110),
    "Time": st.column_config.TextColumn("Time", width=90,
                                        help="Fine-tuning time of the point; — when the sweep did not retrain."),
}


def current_model_name() -> str:
    """The current model's name in words (plain text), without loading a model to say it."""
    from prune_core.viz import words

    return words.model_name(st.session_state["model_entry"].name) if state.has_model() \
        else "LeNet-300-100 · default baseline"


def retrain_page_registered() -> bool:
    from .router import PAGES

    return any(path == "pages/retrain.py" for entries in PAGES.values() for path, _, _ in entries)


def sweep_criteria() -> dict[str, str]:
    """{name: label} of the criteria a sweep can compare: every registered criterion."""
    import prune_core as pc

    return {name: c.label for name, c in pc.CRITERIA.items()}


def accuracy_size_figure(records: list, x: str):
    from prune_core.viz import figures

    return figures.accuracy_size_figure(records, x=x)


def sweep_figure(sweep):
    from prune_core.viz import figures

    return figures.criteria_sweep_figure(criterion_words(sweep.frame), dense_accuracy=sweep.dense_accuracy,
                                         show_pruned=sweep.fine_tune_epochs > 0)


# --- runs by model ---------------------------------------------------------------------------------

ALL_MODELS = "all"


def runs_by_model(records: list[dict]) -> dict[str, list[dict]]:
    """{model key: its runs}, the models with the newest run first (``history.group_by_model``)."""
    from prune_core.io import history

    return history.group_by_model(records)


def model_words(runs: list[dict]) -> str:
    from prune_core.viz import words

    return words.run_model(runs[-1])


def current_model_key() -> str | None:
    """The key runs of the current model carry (its architecture and parameter count), or None when no model
    is loaded yet (nothing is loaded to say it)."""
    from prune_core.io import history

    if not state.has_model():
        return None
    entry = st.session_state["model_entry"]
    return history.model_key({"settings": {"architecture": entry.architecture, "model": entry.name},
                              "dense": {"params": entry.model.count_params()}})


def candidates_caption(count: int, searching: bool = False) -> str:
    """The line under a chart that holds a recipe search's candidates."""
    finished = f"{count} candidate{'s' if count != 1 else ''}"
    return (f"“recipe candidate”: {finished} of the recipe search on this model (Retrain page), each a one-shot run "
            "from the dense model at the target sparsity; not kept in the run history — "
            + ("more join as they finish." if searching else "its best recipe is on the Retrain page."))


def default_model_choice(groups: dict) -> str:
    """The current model's runs when it has any, otherwise the model of the newest run."""
    current = current_model_key()
    return current if current in groups else next(iter(groups))


def model_choice_label(key: str, groups: dict) -> str:
    if key == ALL_MODELS:
        total = sum(len(v) for v in groups.values())
        return f"All models ({len(groups)} models, {total} runs, each on its own chart)"
    runs = groups[key]
    return f"{model_words(runs)} ({len(runs)} run{'s' if len(runs) != 1 else ''})"


def table_frame(runs: list[dict]):
    """The history table of ``runs`` with each run's model."""
    from prune_core.io import history
    from prune_core.viz import words

    return history_frame(history.records_frame(runs), models=[words.run_model(r) for r in runs])


def best_runs(records: list[dict]) -> tuple[dict, dict | None]:
    """(the run with the best final accuracy, the run with the fewest nonzero parameters or None)."""
    best = max(records, key=lambda r: r.get("final_accuracy") or 0.0)
    smallest = min((r for r in records if r.get("nonzero_params")), key=lambda r: r["nonzero_params"], default=None)
    return best, smallest
