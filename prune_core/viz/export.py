"""Downloads: the pruned model (.keras), the compact model, TensorFlow Lite, the run history (CSV), and a
self-contained HTML report (settings, metrics, the plotly charts with plotly.js inlined, so it opens
offline and can be mailed to someone).

Every function returns bytes or text for ``st.download_button``; nothing is written where the caller
did not ask. TFLite conversion can fail for some models: :func:`tflite_bytes` never raises for that,
it returns a :class:`TFLiteExport` with ``data=None`` and a one-line ``reason``.

>>> html = html_report(title="t", settings={"batch_size": 32}, metrics=[{"accuracy": 0.9}], figures=[])
>>> "<td>Batch size</td>" in html and "<title>t</title>" in html
True
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import html as _html
import io
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from typing import Iterable, Mapping
from ..graph.surgery import compact_model
from ..measure.metrics import human_bytes, saved_model_bytes
from ..methods.criteria import CRITERIA
from ..methods.rules import RULES
from ..train.models import ARCHITECTURES
from ..train.regularize import has_l1, without_l1
from . import figures as fg
from .guidance import class_accuracy_figure

TFLITE_IDENTIFIER = b"TFL3"  # bytes 4..8 of every TensorFlow Lite flatbuffer


# --- models -----------------------------------------------------------------------------------------

def keras_bytes(model) -> bytes:
    """The model as a .keras file (architecture + weights; no optimizer state, no training-only L1
    regularizer), as bytes. Loads back with ``keras.saving.load_model(path, safe_mode=True)``."""
    return saved_model_bytes(without_l1(model) if has_l1(model) else model)


def compact_bytes(model, units: Mapping) -> bytes:
    """The physically smaller model (``surgery.compact_model`` with the unit masks) as .keras bytes."""
    return keras_bytes(compact_model(model, dict(units)))


@dataclass(frozen=True)
class TFLiteExport:
    """A TFLite conversion: ``data`` (the .tflite bytes) or None with ``reason`` saying why not."""

    data: bytes | None
    reason: str = ""
    method: str = ""

    @property
    def ok(self) -> bool:
        return self.data is not None

    @property
    def size(self) -> int:
        return len(self.data) if self.data is not None else 0


def strip_locations(text: str) -> str:
    """A converter message without its MLIR source locations (``loc(callsite(fused[…] at …))``, ``<unknown>:0:``),
    which otherwise fill the first few hundred characters before the words that say what went wrong.

    >>> strip_locations('<unknown>:0: error: loc(callsite(fused["A:", "b/c"] at "d")): tf.X op is bad')
    'error: tf.X op is bad'
    """
    out, i = [], 0
    while i < len(text):
        if text.startswith("loc(", i):
            depth, i = 1, i + 4
            while i < len(text) and depth:
                depth += {"(": 1, ")": -1}.get(text[i], 0)
                i += 1
            if text.startswith(":", i):
                i += 1
            continue
        out.append(text[i])
        i += 1
    return " ".join("".join(out).replace("<unknown>:0:", " ").split())


def _one_line(exc: BaseException) -> str:
    text = strip_locations(" ".join(str(exc).split()))
    return f"{type(exc).__name__}: {text[:300]}" if text else type(exc).__name__


def tflite_bytes(model, *, quiet: bool = True, sparsity: bool = False, representative=None,
                 int8_only: bool = True) -> TFLiteExport:
    """Convert with TensorFlow's converter: ``tf.lite.TFLiteConverter.from_keras_model`` (works with
    Keras 3 on TF 2.21), falling back to exporting a SavedModel (``model.export(format="tf_saved_model")``)
    and ``from_saved_model``. Keras 3.15's own ``model.export(format=…)`` has no "tflite" format (it
    offers "litert", which needs the separate ai-edge-litert package). Never raises for a failed
    conversion: the result carries the reason. ``quiet`` keeps the converter's prints off stdout.

    ``sparsity``: add ``tf.lite.Optimize.EXPERIMENTAL_SPARSITY`` (kernels with zeros stored sparse).
    ``representative``: a callable yielding ``[sample]`` lists for int8 post-training quantization
    (``Optimize.DEFAULT``); ``int8_only`` restricts the ops to ``TFLITE_BUILTINS_INT8`` (inputs and outputs
    stay float32).
    """
    try:
        import tensorflow as tf
    except Exception as exc:  # pragma: no cover - TF is a dependency
        return TFLiteExport(None, f"TensorFlow is not available ({_one_line(exc)}).")

    model = without_l1(model) if has_l1(model) else model

    def configured(converter):
        optimizations = ([tf.lite.Optimize.DEFAULT] if representative is not None else []) + (
            [tf.lite.Optimize.EXPERIMENTAL_SPARSITY] if sparsity else [])
        if optimizations:
            converter.optimizations = optimizations
        if representative is not None:
            converter.representative_dataset = representative
            if int8_only:
                converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        return converter

    sink = contextlib.redirect_stdout(io.StringIO()) if quiet else contextlib.nullcontext()
    errors = []
    with sink:
        try:
            data = configured(tf.lite.TFLiteConverter.from_keras_model(model)).convert()
            return TFLiteExport(bytes(data), method="TFLiteConverter.from_keras_model")
        except Exception as exc:
            errors.append(f"from_keras_model: {_one_line(exc)}")
        folder = tempfile.mkdtemp(prefix="pruning-explorer-tflite-")
        try:
            path = os.path.join(folder, "saved_model")
            model.export(path, format="tf_saved_model", verbose=False)
            data = configured(tf.lite.TFLiteConverter.from_saved_model(path)).convert()
            return TFLiteExport(bytes(data), method="SavedModel + TFLiteConverter.from_saved_model")
        except Exception as exc:
            errors.append(f"from_saved_model: {_one_line(exc)}")
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    return TFLiteExport(None, "TensorFlow Lite could not convert this model — " + "; ".join(errors))


def history_csv(store, workspace: str) -> str:
    """The workspace's run history as CSV text (``RunStore.to_csv``)."""
    return store.to_csv(workspace)


def safe_filename(text: str, suffix: str = "") -> str:
    """A file name from free text: letters, digits, '-', '_' and '.' only.

    >>> safe_filename("LeNet-300-100 · 90% sparse", ".keras")
    'LeNet-300-100-90-sparse.keras'
    """
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.") or "model"
    return stem[:80] + suffix


# --- words for people ------------------------------------------------------------------------------

MODE_WORDS = {"oneshot": "one-shot", "gradual": "gradual", "iterative": "iterative",
              "init": "pruning at initialization"}
_LABEL_WORDS = {**MODE_WORDS, "init": "at initialization", "layer": "per layer", "global": "global",
                "rewind-lr": "learning-rate rewinding", "rewind-weights": "weight rewinding"}
_CHOICE_WORDS = {"granularity": {"weight": "individual weights", "unit": "whole neurons / filters"},
                 "scope": {"layer": "per layer", "global": "global"},
                 "retrain": {"finetune": "fine-tune", "rewind-lr": "learning-rate rewinding",
                             "rewind-weights": "weight rewinding"},
                 "mode": MODE_WORDS}
# setting key → (name a person reads, how its value is shown)
SETTING_NAMES = {
    "architecture": ("Architecture", "architecture"), "model": ("Model", "text"), "data": ("Data", "text"),
    "mode": ("Mode", "choice"), "criterion": ("Criterion", "criterion"), "granularity": ("Granularity", "choice"),
    "rule": ("Rule", "rule"), "scope": ("Scope", "choice"), "values": ("Value", "values"),
    "value": ("Value", "value"), "epochs": ("Epochs", "int"), "fine_tune_epochs": ("Fine-tune epochs per round", "int"),
    "batch_size": ("Batch size", "int"), "learning_rate": ("Learning rate", "float"), "seed": ("Seed", "int"),
    "l1": ("L1 penalty λ", "l1"), "retrain": ("Retraining", "choice"), "reconstruct": ("Reconstruction first", "bool"),
    "target_sparsity": ("Target sparsity", "percent"), "initial_sparsity": ("Initial sparsity", "percent"),
    "final_sparsity": ("Final sparsity", "percent"), "step_fraction": ("Pruned per round", "percent"),
    "tolerance": ("Tolerance", "points"), "max_rounds": ("At most rounds", "int"),
    "frequency": ("Re-pruned every", "steps"), "end_step": ("Schedule ends at", "step"),
    "init": ("Pruned at initialization", "bool"), "init_seed": ("Initialization seed", "int"),
    "block": ("Block", "text"),
}


def mode_word(mode) -> str:
    """'oneshot' → 'one-shot' (other modes as they are)."""
    return MODE_WORDS.get(str(mode), str(mode))


def human_label(label) -> str:
    """A run label with its ids in words: 'oneshot · magnitude · layer · 85.4%' → 'one-shot · magnitude ·
    per layer · 85.4%'. Other parts (criteria, numbers, a user's own label) are kept as they are.

    >>> human_label("oneshot · magnitude · layer · 85.4% · rewind-lr")
    'one-shot · magnitude · per layer · 85.4% · learning-rate rewinding'
    """
    parts = str(label or "").split(" · ")
    return " · ".join(_LABEL_WORDS.get(p, p) for p in parts)


def model_name(name) -> str:
    """A model's name with a leading architecture id in words.

    >>> model_name("mlp-128 · trained here")
    'MLP 784-128-10 · trained here'
    """
    head, sep, tail = str(name).partition(" · ")
    if head in ARCHITECTURES:
        head = ARCHITECTURES[head].split(" (")[0]
    return head + sep + tail


def setting_name(key) -> str:
    """'batch_size' → 'Batch size' (known settings by their names on the Retrain page)."""
    key = str(key)
    if key in SETTING_NAMES:
        return SETTING_NAMES[key][0]
    text = key.replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def _percent(value: float) -> str:
    return f"{float(value) * 100:.4g}%"


def _rule_value(rule, value, *, shown: bool) -> str:
    """A rule's value as a person reads it; ``shown``: already in the slider's units (50 for 50%)."""
    r = RULES[rule] if isinstance(rule, str) and rule in RULES else None
    if isinstance(value, str) or r is None or r.choices:
        return str(value)
    if not _is_number(value):
        return _format(value)
    number = float(value) if shown else r.to_display(value)
    return f"{number:g}%" if r.unit == "%" else f"{number:g}"


def setting_text(key, value, settings: Mapping | None = None) -> str:
    """A setting's value for a person: fractions in %, choices in words, per-layer values as
    'dense1 50%, dense2 60%'. ``settings``: the run's other settings (the rule names the values' unit).

    >>> setting_text("target_sparsity", 0.9), setting_text("values", {"dense1": 50.0}, {"rule": "sparsity"})
    ('90%', 'dense1 50%')
    """
    import json

    settings = settings or {}
    kind = SETTING_NAMES.get(str(key), ("", "other"))[1]
    if value is None or (isinstance(value, float) and value != value):
        return "—"
    if kind == "values" and isinstance(value, str) and value.startswith("{"):
        with contextlib.suppress(ValueError):
            value = json.loads(value)
    if isinstance(value, Mapping):
        return ", ".join(f"{name} {setting_text(key, v, settings)}" for name, v in value.items())
    if isinstance(value, bool):
        return "yes" if value else "no"
    if kind == "values":
        return _rule_value(settings.get("rule"), value, shown=True)
    if kind == "value":
        return _rule_value(settings.get("rule"), value, shown=False)
    if kind == "choice":
        return _CHOICE_WORDS.get(str(key), {}).get(str(value), str(value))
    if kind == "criterion":
        return CRITERIA[value].label if isinstance(value, str) and value in CRITERIA else str(value)
    if kind == "rule":
        return RULES[value].label if isinstance(value, str) and value in RULES else str(value)
    if kind == "architecture":
        return ARCHITECTURES[value].split(" (")[0] if isinstance(value, str) and value in ARCHITECTURES else str(value)
    if not _is_number(value):
        return _format(value)
    if kind == "percent":
        return _percent(value)
    if kind == "points":
        return f"{float(value) * 100:g} pts"
    if kind == "l1":
        return "off" if value == 0 else f"{value:g}"
    if kind == "steps":
        return f"{int(value):,} steps"
    if kind == "step":
        return f"step {int(value):,}"
    if kind == "int":
        return f"{int(value):,}" if abs(value) >= 10_000 else str(int(value))
    return f"{value:g}" if isinstance(value, float) else str(value)


def settings_rows(settings: Mapping) -> list[dict]:
    """[{Setting, Value}] for a run's settings, in words and units (a name shared by two keys gets the key)."""
    rows, seen = [], set()
    for key, value in settings.items():
        name = setting_name(key)
        if name in seen:
            name = f"{name} ({key})"
        seen.add(name)
        rows.append({"Setting": name, "Value": setting_text(key, value, settings)})
    return rows


# --- HTML report ------------------------------------------------------------------------------------

_STYLE = """
body { font-family: Inter, system-ui, -apple-system, Segoe UI, sans-serif; color: #1f2937; margin: 2rem auto;
       max-width: 1000px; padding: 0 1rem; line-height: 1.45; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; overflow-wrap: anywhere; } h2 { font-size: 1.15rem; margin-top: 2rem; }
.meta { color: #6b7280; font-size: .9rem; }
.scroll { max-width: 100%; overflow-x: auto; }
table { border-collapse: collapse; margin: .5rem 0 1rem; font-size: .9rem; }
th, td { border-bottom: 1px solid #e5e7eb; padding: .3rem .7rem; text-align: left; vertical-align: top; }
th { background: #f9fafb; white-space: nowrap; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
.chart { margin: 1rem 0 2rem; max-width: 100%; overflow-x: auto; } .caption { color: #4b5563; font-size: .9rem; }
"""


def _format(value) -> str:
    if isinstance(value, bool) or value is None:
        return "—" if value is None else str(value)
    if isinstance(value, float):
        if value != value:  # NaN
            return "—"
        return f"{value:.4g}"
    if isinstance(value, (dict, list, tuple)):
        import json
        return json.dumps(value, default=str)
    return str(value)


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _table(rows: list[dict], columns: list[str] | None = None) -> str:
    columns = columns or list(dict.fromkeys(c for r in rows for c in r))
    head = "".join(f"<th>{_html.escape(str(c))}</th>" for c in columns)
    body = []
    for row in rows:
        cells = []
        for c in columns:
            value = row.get(c)
            css = ' class="num"' if _is_number(value) else ""
            cells.append(f"<td{css}>{_html.escape(_format(value))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'
            "</div>")


def _rows(metrics) -> list[dict]:
    if metrics is None:
        return []
    if hasattr(metrics, "to_dict"):
        return metrics.to_dict("records")
    if isinstance(metrics, Mapping):
        return [{"metric": k, "value": v} for k, v in metrics.items()]
    return [dict(r) for r in metrics]


def _figures(figures) -> list[tuple[str, object]]:
    if figures is None:
        return []
    if isinstance(figures, Mapping):
        return list(figures.items())
    return [f if isinstance(f, tuple) else ("", f) for f in figures]


def html_report(*, title: str, settings: Mapping | None = None, metrics=None,
                figures: Iterable | Mapping | None = None, tables: Mapping | None = None,
                notes: str | None = None, include_plotlyjs: bool | str = True) -> str:
    """One self-contained HTML page: title, generation time, a settings table, a metrics table, any
    extra ``tables`` ({heading: rows}), and the charts.

    ``metrics``: a DataFrame, a list of row dicts, or a {name: value} dict. ``figures``: a list of
    ``go.Figure`` or (caption, figure) pairs, or a {caption: figure} dict; each becomes a
    ``<div id="chart-N">``. plotly.js is inlined once (``include_plotlyjs=True``, about 4.7 MB, works
    offline); pass "cdn" for a small file that needs the network. All text is HTML-escaped. Setting keys
    are shown by their names (``batch_size`` → "Batch size"); the page is at most 1000 px wide and a wide table
    scrolls inside it.
    """
    stamp = _dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    parts = [f"<h1>{_html.escape(title)}</h1>",
             f'<p class="meta">Pruning Explorer report · generated {stamp}</p>']
    if notes:
        parts.append(f"<p>{_html.escape(notes)}</p>")
    if settings:
        parts += ["<h2>Settings</h2>", _table([{"Setting": setting_name(k), "Value": v} for k, v in settings.items()])]
    rows = _rows(metrics)
    if rows:
        parts += ["<h2>Metrics</h2>", _table(rows)]
    for heading, table_rows in (tables or {}).items():
        table_rows = _rows(table_rows)
        if table_rows:
            parts += [f"<h2>{_html.escape(str(heading))}</h2>", _table(table_rows)]
    charts = _figures(figures)
    if charts:
        parts.append("<h2>Charts</h2>")
    for i, (caption, fig) in enumerate(charts):
        plotly_js = include_plotlyjs if i == 0 else False
        div = fig.to_html(full_html=False, include_plotlyjs=plotly_js, div_id=f"chart-{i}",
                          config={"displaylogo": False, "responsive": True})
        cap = f'<p class="caption">{_html.escape(caption)}</p>' if caption else ""
        parts.append(f'<div class="chart">{div}{cap}</div>')
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{_html.escape(title)}</title><style>{_STYLE}</style></head>\n<body>\n"
            + "\n".join(parts) + "\n</body></html>\n")


RUN_METRICS = (("Dense accuracy", "dense_accuracy", "pct"), ("Pruned accuracy (no retraining)", "pruned_accuracy", "pct"),
               ("Final accuracy", "final_accuracy", "pct"), ("Sparsity of prunable weights", "sparsity", "pct"),
               ("Parameters", "params", "int"), ("Nonzero parameters", "nonzero_params", "int"),
               ("gzip of the .keras file", "gzip_bytes", "bytes"), ("Sparse (CSR) estimate", "sparse_bytes", "bytes"),
               ("Latency (ms / batch of 256)", "latency_ms", "ms"), ("Run time", "seconds", "s"))


def _metric_text(value, kind: str) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "—"
    return {"pct": lambda v: f"{v:.2%}", "int": lambda v: f"{int(v):,}", "bytes": human_bytes,
            "ms": lambda v: f"{v:.3f} ms", "s": lambda v: f"{v:.1f} s"}[kind](value)


def run_metrics_rows(record: Mapping) -> list[dict]:
    """[{Metric, This run, Dense model}] rows for one run record (``RunResult.to_record()``), formatted for people."""
    dense = record.get("dense") or {}
    dense_keys = {"dense_accuracy": "accuracy", "params": "params", "nonzero_params": "nonzero_params",
                  "gzip_bytes": "gzip_bytes", "sparse_bytes": "sparse_bytes", "latency_ms": "latency_ms",
                  "sparsity": "sparsity"}
    rows = []
    for name, key, kind in RUN_METRICS:
        if key not in record:
            continue
        row = {"Metric": name, "This run": _metric_text(record.get(key), kind)}
        if key in dense_keys and dense_keys[key] in dense:
            row["Dense model"] = _metric_text(dense[dense_keys[key]], kind)
        rows.append(row)
    compact = record.get("compact")
    if compact:
        for name, key, kind in (("Compact parameters", "params", "int"), ("Compact gzip", "gzip_bytes", "bytes"),
                                ("Compact latency", "latency_ms", "ms"), ("Compact accuracy", "accuracy", "pct")):
            rows.append({"Metric": name, "This run": _metric_text(compact.get(key), kind)})
    return rows


def class_rows(per_class) -> list[dict]:
    """Rows for a per-class table (``metrics.class_accuracy_change``'s frame): class, test images, dense, this run,
    change in points — worst drop first, as the frame is sorted."""
    return [{"Class": str(r["class"]), "Test images": f"{int(r['count']):,}", "Dense": _metric_text(r["dense"], "pct"),
             "This run": _metric_text(r["pruned"], "pct"), "Change": f"{100 * r['change']:+.2f} pts"}
            for _, r in per_class.iterrows()]


def run_report(record, *, title: str | None = None, figures: Iterable | Mapping | None = None,
               include_plotlyjs: bool | str = True) -> str:
    """The HTML report of one run: its settings, metrics beside dense, per-layer sparsity, the training
    curves (and the iterative rounds), plus any extra ``figures``. ``record``: a RunResult or its record."""
    per_class = getattr(record, "class_accuracy", None)
    if hasattr(record, "to_record"):
        record = record.to_record()
    charts = []
    tables = {}
    if per_class is not None and len(per_class):
        tables["Accuracy per class (worst drop first)"] = class_rows(per_class)
        charts.append(("Test accuracy per class, dense and after pruning and retraining, worst drop first.",
                       class_accuracy_figure(per_class, pruned_label="this run")))
    if record.get("history", {}).get("loss") and "round" not in record.get("history", {}):
        charts.append(("Loss and accuracy per epoch of retraining.", fg.training_history(record["history"])))
    if record.get("rounds"):
        charts.append(("Iterative pruning: accuracy right after pruning and after fine-tuning, round by round.",
                       fg.iterative_rounds_figure(record["rounds"], dense_accuracy=record.get("dense_accuracy"),
                                                  tolerance=(record.get("settings") or {}).get("tolerance"))))
    charts += _figures(figures)
    layers = [{"Layer": n, "Sparsity": f"{s:.2%}"} for n, s in (record.get("layer_sparsity") or {}).items()]
    settings = record.get("settings") or {}
    shown = {row["Setting"]: row["Value"] for row in settings_rows(settings)}
    name = human_label(record.get("label") or mode_word(record.get("mode", "")))
    return html_report(title=title or f"Pruning run: {name}",
                       settings=shown, metrics=run_metrics_rows(record),
                       tables={"Sparsity per layer": layers, **tables}, figures=charts,
                       notes=record.get("stopped_because") or None, include_plotlyjs=include_plotlyjs)
