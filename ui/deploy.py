"""Deploy page glue: which models to deploy (any finished run of this session — the one chosen on the Retrain page,
else the newest — or the current model alone), the conversions as a background job, and the report as a table, a
chart, a verdict and files — every number from ``prune_core.deploy``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import streamlit as st

from prune_core import deploy
from prune_core.io.downloads import safe_filename
from prune_core.viz import figures
from prune_core.measure.metrics import human_bytes

from . import jobs, memory, session_memory, state
from .errors import guarded
from .text import md

JOB_KIND = "deploy"
SOURCE_KEY = "deploy_source"
CHOICE_KEY = "dp_source"  # the page's "Model to deploy" select box
AUTOSTART_KEY = "deploy_autostart"
SETTINGS_KEY = "deploy_settings"
CALIBRATION_CHOICES = [100, 200, 500, 1000]
BUDGETS = {1.0: "quick (about 1 s)", 3.0: "standard (about 3 s)", 10.0: "careful (about 10 s)"}
DEFAULTS = dict(calibration=200, budget=3.0, int8=True, keras_int8=False)  # Keras int8 never converts to TFLite


@dataclass
class Source:
    """What the Deploy page converts: the dense model, the pruned one and the compact one where there are.

    A finished run of this session is held by reference (``run``): its models are read from it, so that when the
    session's memory budget moves them to disk (``ui.memory``) this page does not keep them, and :func:`ensure`
    loads them back before converting. The current model and a run from the history hold theirs in ``held``."""

    key: str
    what: str        # "Run" or "Current model"
    name: str        # plain text, may hold user-supplied names: escape with md() before Markdown
    stem: str        # file-name stem
    dataset: Any
    held: dict = field(default_factory=dict)  # {"dense" | "pruned" | "compact": Keras model}, without a run
    sparsity: float | None = None
    run: Any = None  # a finished RunResult of this session

    def _model(self, role: str):
        if self.run is None:
            return self.held.get(role)
        found = getattr(self.run, memory.ROLES[role], None)
        return self.held.get(role) if found is None and role == "dense" and memory.in_memory(self.run) else found

    @property
    def dense(self):
        return self._model("dense")

    @property
    def pruned(self):
        return self._model("pruned")

    @property
    def compact(self):
        return self._model("compact")

    def has(self, role: str) -> bool:
        """Whether this source converts ``role`` (in memory, or on disk for a run moved there)."""
        held = memory.released(self.run) if self.run is not None else None
        return self._model(role) is not None or (held is not None and role in held.roles)


def source_from_run(result) -> Source:
    """A finished retrain run: its model as "pruned", its compact model, against the model it started from."""
    held, dataset = {}, getattr(result, "dataset", None)
    if getattr(result, "dense_model", None) is None and memory.in_memory(result) or dataset is None:
        # a run from before runs carried their dense model and data
        held, dataset = {"dense": state.current_model().model}, state.dataset()
    from . import retrain

    return Source(key=f"run-{retrain.run_key(result)}", what="Run", name=retrain.run_title(result),
                  stem=retrain.file_stem(result), dataset=dataset, held=held, sparsity=result.sparsity, run=result)


def ensure(src: Source) -> str:
    """The source's models in memory (a run moved to disk is loaded back, with a progress message); "" then, else
    why not."""
    return session_memory.ensure(src.run) if src.run is not None else ""


def memory_note(src: Source) -> str | None:
    """A caption when the chosen run's models are on disk (Markdown-safe), or None."""
    return session_memory.run_note(src.run) if src.run is not None else None


def current_model_source() -> Source:
    entry = state.current_model()
    from . import retrain

    name = retrain.model_name(entry.name)
    return Source(key=f"model-{entry.weights_key}", what="Current model", name=name,
                  stem=safe_filename(name), held={"dense": entry.model}, dataset=state.dataset())


def choose_run(result) -> None:
    """The Retrain page's "Deploy this model": this run is what the Deploy page shows, and it starts measuring."""
    st.session_state[SOURCE_KEY] = source_from_run(result)
    st.session_state[AUTOSTART_KEY] = True


def choose_current_model() -> None:
    st.session_state[SOURCE_KEY] = current_model_source()


def run_sources() -> list[Source]:
    """Every finished retrain run of this session as a source, newest first."""
    from . import retrain

    return [source_from_run(result) for result in retrain.finished_results()]


def last_run_source() -> Source | None:
    """The session's newest finished retrain run as a source (None without one)."""
    sources = run_sources()
    return sources[0] if sources else None


def source() -> Source | None:
    """The chosen source; else the session's newest finished retrain run (chosen now); else None."""
    chosen = st.session_state.get(SOURCE_KEY)
    if chosen is not None:
        return chosen
    last = last_run_source()
    if last is not None:
        st.session_state[SOURCE_KEY] = last
    return last


# --- runs from the history: their models are on disk (prune_core.io.run_files) ----------------------------------

HISTORY_CHOICE_KEY = "deploy_history_choice"


def history_runs() -> list[dict]:
    """Runs of this workspace whose models are on disk, newest first (they survive a reload)."""
    files, workspace = state.run_files(), state.workspace()
    records = state.run_store().records(workspace)
    return [r for r in reversed(records) if "pruned" in files.available(workspace, r["run_id"])]


def history_label(record: dict) -> str:
    from prune_core.viz import words

    accuracy = record.get("final_accuracy")
    tail = f" · {accuracy:.2%}" if isinstance(accuracy, (int, float)) else ""
    return f"#{record['run_id']} · {words.human_label(record.get('label') or '')}{tail} · {words.run_model(record)}"


def _dataset_for(record: dict):
    """The data the run was measured on, when it is at hand: this session's, or the bundled set it names; None."""
    from prune_core.io import data

    wanted = (record.get("settings") or {}).get("data")
    current = state.dataset()
    if wanted is None or current.name == wanted:
        return current
    for source in ("bundled", "fashion"):
        try:
            candidate = data.load_dataset(source)
        except Exception:  # noqa: BLE001 - an unavailable bundled set is simply not a match
            continue
        if candidate.name == wanted:
            return candidate
    return None


def load_history_run(record: dict) -> tuple[Source | None, str]:
    """(Source, "") for a run from the history, its models read from disk (safe mode); (None, why) otherwise."""
    from prune_core.viz import words

    run_id, workspace = record["run_id"], state.workspace()
    dataset = _dataset_for(record)
    if dataset is None:
        wanted = (record.get("settings") or {}).get("data")
        return None, (f"Run #{run_id} was measured on “{wanted}”, which is not loaded now: load that data on the Model "
                      "page, then come back to deploy this run.")
    try:
        models = state.run_files().load(workspace, run_id)
    except Exception as exc:  # noqa: BLE001 - a damaged or missing file: say which run, go on
        return None, f"Run #{run_id}'s model files could not be read ({type(exc).__name__}); run it again to deploy it."
    name = f"#{run_id} · {words.human_label(record.get('label') or '')} · {record.get('final_accuracy', 0):.2%}"
    sparsity = record.get("sparsity")
    return Source(key=f"history-{workspace}-{run_id}", what="Run", name=name,
                  stem=safe_filename(f"run-{run_id}-{record.get('label') or 'run'}"), dataset=dataset,
                  held={role: model for role, model in models.items() if model is not None},
                  sparsity=float(sparsity) if isinstance(sparsity, (int, float)) else None), ""


def choose_history_run(record: dict) -> str:
    """Make a history run the page's source; "" on success, else the reason (shown as an error)."""
    src, why = load_history_run(record)
    if src is not None:
        st.session_state[SOURCE_KEY] = src
    return why


CURRENT = "current-model"


def choices(src: Source) -> dict[str, str]:
    """{option: label} for the "Model to deploy" box: every finished run, newest first, then the current model
    alone (plain text labels: the box shows them as text)."""
    out = {s.key: f"Run {s.name}" for s in run_sources()}
    if option(src) not in out:  # a run dropped from the session's list, still chosen
        out[src.key] = f"Run {src.name}"
    if state.has_model():
        out[CURRENT] = f"The current model alone: {current_model_source().name}"
    elif src.what == "Current model":
        out[CURRENT] = f"The current model alone: {src.name}"
    return out


def option(src: Source) -> str:
    return CURRENT if src.what == "Current model" else src.key


def seed_choice(src: Source) -> None:
    """Show the chosen source in the box (before it is drawn)."""
    st.session_state[CHOICE_KEY] = option(src)


@guarded("choosing the model to deploy")
def on_choice() -> None:
    """The box changed: that run (or the current model alone) is what the page converts."""
    key = st.session_state.get(CHOICE_KEY)
    if key == CURRENT:
        choose_current_model()
        return
    for s in run_sources():
        if s.key == key:
            use(s)
            return


def use(src: Source) -> None:
    st.session_state[SOURCE_KEY] = src


def describe(src: Source) -> str:
    """What will be converted, in one Markdown-safe sentence."""
    parts = ["the dense model it started from" if src.has("pruned") or src.has("compact")
             else "this model (as the dense row)"]
    if src.has("pruned"):
        parts.append(f"the pruned model ({src.sparsity:.1%} sparse)" if src.sparsity is not None else "the pruned model")
    if src.has("compact"):
        parts.append("the compact model (pruned neurons removed)")
    data = md(getattr(src.dataset, "name", "no data"))
    return f"**{src.what}** · {md(src.name)} — converts {', '.join(parts)}; data: {data}."


def settings() -> dict:
    """This page's settings (kept in session state under its own key, so leaving the page keeps them)."""
    return st.session_state.setdefault(SETTINGS_KEY, dict(DEFAULTS))


def start(src: Source, chosen: dict) -> jobs.Job | None:
    """Convert and measure in a background job (progress on the page; nothing else can abort it)."""
    st.session_state[SETTINGS_KEY] = dict(chosen)
    why = ensure(src)  # a run whose models were moved to disk loads them back first
    if why:
        st.error(md(why), icon=":material/error:")
        return None
    dense, pruned, compact = src.dense, src.pruned, src.compact  # held by the job, whatever the session releases

    def work(job: jobs.Job):
        report = deploy.deploy(dense, src.dataset, pruned=pruned, compact=compact,
                               int8=chosen["int8"], keras_quantize=chosen["keras_int8"],
                               calibration_size=int(chosen["calibration"]), latency_budget_s=float(chosen["budget"]),
                               progress=job.progress)
        report.source_key = src.key
        return report

    return jobs.start("Deploy: convert and measure", JOB_KIND, work)


def autostart(src: Source) -> bool:
    """Start once when the user arrived with "Deploy this model"; True when a job started."""
    if st.session_state.pop(AUTOSTART_KEY, False) and not jobs.busy():
        return start(src, settings()) is not None
    return False


def latest_report(src: Source):
    """The newest report measured for ``src`` in this session (kept after other jobs run), or None."""
    return next((report for report in jobs.results(JOB_KIND) if getattr(report, "source_key", None) == src.key),
                None)


# --- the report, formatted ---------------------------------------------------------------------------

def _bytes(n) -> str:
    return "—" if n is None else human_bytes(n)


def _kernel_text(row) -> str:
    if not row.ok:
        return "—"
    n, sparse = len(row.kernels), sum(k["status"] == "sparse" for k in row.kernels)
    densified = sum(k["status"] == "densified" for k in row.kernels)
    if sparse:
        return f"yes, {sparse} of {n}"
    if densified:
        return f"no, {densified} of {n} densified"
    return "no (dense)"


def _pct(value) -> str:
    return "—" if value is None or value != value else f"{value:.2%}"


def _with_gzip(raw, packed) -> str:
    return "—" if raw is None else f"{human_bytes(raw)} · {human_bytes(packed)}"


def table(report):
    """The comparison, one row per export, formatted with units (text cells: names are never Markdown). The
    columns that answer "smaller? faster? as accurate?" come first, so a narrow screen shows them unscrolled."""
    import pandas as pd

    rows = []
    for r in report.rows:
        rows.append({
            "export": r.name,
            "TFLite latency": "—" if r.latency_us is None else f"{r.latency_us:.1f} µs",
            "× dense": "—" if r.latency_ratio is None else f"{r.latency_ratio:.2f}×",
            "TFLite file · gzip": _with_gzip(r.tflite_bytes, r.tflite_gzip_bytes),
            "TFLite accuracy": _pct(r.tflite_accuracy), "sparse kernel": _kernel_text(r),
            "parameters": f"{r.params:,}", "nonzero": f"{r.nonzero:,}",
            "Keras file · gzip": _with_gzip(r.keras_bytes, r.keras_gzip_bytes),
            "Keras accuracy": _pct(r.keras_accuracy)})
    return pd.DataFrame(rows)


def notes(report) -> list[str]:
    """Markdown-safe lines for the exports that did not convert or ran on other kernels."""
    out = []
    for r in report.rows:
        if r.reason:
            out.append(f"**{md(r.name)}**: {md(r.reason)}")
        elif r.runtime not in ("", "XNNPACK"):
            out.append(f"**{md(r.name)}**: ran on TFLite's {md(r.runtime)} — its latency is not XNNPACK's.")
    return out


def kernel_table(report):
    """Layer × export: how each weighted layer runs in each TFLite file (sparse kernel / densified / dense)."""
    import pandas as pd

    words = {"sparse": "sparse kernel", "densified": "densified", "dense": "dense"}
    layers = list(dict.fromkeys(k["layer"] for r in report.rows for k in r.kernels))
    out = []
    for layer in layers:
        row = {"layer": layer}
        for r in report.rows:
            if r.ok:
                status = next((k["status"] for k in r.kernels if k["layer"] == layer), None)
                row[r.name] = words.get(status, "—")
        out.append(row)
    return pd.DataFrame(out)


def figure(report):
    return figures.deploy_ratios_figure(report.rows)


def verdict(report) -> str:
    return md(report.verdict())


def headline(report) -> str:
    return md(report.headline())


def footnote(report, dataset) -> str:
    n = len(getattr(dataset, "y_test", []))
    text = (f"Measured with {report.interpreter} at batch 1 on one thread pinned to one core: median of {report.runs:,} "
            f"runs per file, the files timed in turn so that a busy spell on this machine slows them all alike. "
            f"Accuracy on the {n:,} test images through the interpreter. Took {report.seconds:.0f} s.")
    return md(text)


def row_help() -> list[str]:
    return [f"**{md(name)}**: {md(text)}" for name, text in deploy.ROW_HELP.items()]


def rule_text() -> str:
    return md(f"The converter stores a weight sparse once 30% of it is zeros, but runs the sparse kernel only when "
              f"the zeros fill whole blocks (1×4 in float32, 1×16 in int8); otherwise it inserts a DENSIFY op that "
              f"expands the weight to dense when the model loads. Scattered zeros fill 1×4 blocks well enough above "
              f"~{deploy.scattered_threshold():.1%} in a layer.")


def downloads(report, src: Source) -> list[tuple[str, bytes, str, str]]:
    """(label, bytes, file name, mime) for every file the report holds."""
    return [(label, data, name, "application/octet-stream") for label, name, data in report.files(src.stem)]


def unavailable() -> str | None:
    """Why deploying cannot run in this installation (no TensorFlow), or None."""
    return deploy.unavailable()
