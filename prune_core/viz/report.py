"""The HTML report: one self-contained page (settings, metrics, tables, the plotly charts with plotly.js inlined,
so it opens offline and can be mailed to someone); plotly is reached only through the figures it is given and,
for a run's report, the figure modules imported when one is drawn.

>>> html = html_report(title="t", settings={"batch_size": 32}, metrics=[{"accuracy": 0.9}], figures=[])
>>> "<td>Batch size</td>" in html and "<title>t</title>" in html
True
"""

from __future__ import annotations

import datetime as _dt
import html as _html
from typing import Iterable, Mapping

from ..measure.metrics import human_bytes
from .words import _format, _is_number, human_label, mode_word, setting_name, settings_rows


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
    from . import figures as fg  # plotly: only when a report is drawn
    from .guidance import class_accuracy_figure

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
