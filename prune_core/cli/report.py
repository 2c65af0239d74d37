"""The command line's text output: the teaching example's table and the ``experiment`` command's fixed-width report
(of :func:`prune_core.cli.run_experiment`'s dict, whose JSON keys scripts read)."""

from __future__ import annotations

from ..experiments import example
from ..measure.metrics import human_bytes


def format_example(result: example.ExampleResult) -> str:
    """The teaching table as text, with the threshold and a pruned column."""
    frame = result.table.copy()
    frame["pruned"] = frame["pruned"].map({True: "pruned", False: "kept"})
    source = "given" if result.max_given else f"max of {result.criterion}"
    head = (f"criterion {result.criterion} · coefficient {result.coefficient:g} · max {result.maximum:g} ({source})"
            f"\nthreshold = {result.coefficient:g} × {result.maximum:g} = {result.threshold:g}"
            f" · prune where score < threshold")
    pruned = ", ".join(result.pruned) or "none"
    return f"{head}\n\n{frame.to_string(index=False)}\n\npruned: {pruned}"


def _value_text(value) -> str:
    return f"{value:g}" if isinstance(value, (int, float)) else str(value)


def format_report(report: dict) -> str:
    """A readable, fixed-width report of run_experiment's dict."""
    c, d = report["config"], report["data"]
    lines = [
        f"{c['model']} on {d['name']} ({d['train']:,} train / {d['test']:,} test)"
        f" · {report['baseline']}",
        f"prune: {c['criterion']} · {c['granularity']} · {c['rule']} {_value_text(c['value'])} · {c['scope']} scope"
        f" · {c['mode']} · {c.get('retrain', 'finetune')} {c['fine_tune_epochs']} epoch(s) at lr "
        f"{c.get('learning_rate', 1e-3):g}{' · reconstructed' if c.get('reconstruct') else ''} · seed {c['seed']}",
        "",
        f"{'accuracy':<26}{'dense':>10}{'pruned':>10}{'final':>12}",
        f"{'':<26}{report['dense_accuracy']:>10.2%}{report['pruned_accuracy']:>10.2%}{report['final_accuracy']:>12.2%}",
        *([f"{'after reconstruction':<26}{'':>10}{report['reconstructed_accuracy']:>10.2%}"]
          if report.get("reconstructed_accuracy") is not None else []),
        "",
        f"sparsity of prunable weights: {report['sparsity']:.2%}"
        f" ({report['pruned_weights']:,} of {report['prunable_weights']:,})",
        *([report["coverage"]] if report.get("coverage") else []),
    ]
    for name, s in report["layers"].items():
        threshold = report["thresholds"].get(name)
        extra = f"  threshold {threshold:.4g}" if threshold is not None else ""
        lines.append(f"  {name:<22}{s:>8.2%}{extra}")
    lines += [
        "",
        f"{'size':<26}{'dense':>14}{'final':>14}",
        f"{'params':<26}{report['dense_params']:>14,}{report['params']:>14,}",
        f"{'nonzero params':<26}{report['dense_nonzero_params']:>14,}{report['nonzero_params']:>14,}",
        f"{'gzip of .keras file':<26}{human_bytes(report['dense_gzip_bytes']):>14}"
        f"{human_bytes(report['gzip_bytes']):>14}",
        f"{'sparse (CSR) estimate':<26}{'':>14}{human_bytes(report['sparse_bytes']):>14}",
    ]
    if c["mode"] in ("gradual", "iterative"):
        lines += ["", f"{c['mode']} to target sparsity {report['target_sparsity']:.2%}"
                      " ('pruned' accuracy: the dense model pruned one-shot to the final sparsity, untrained)"]
    if c["mode"] == "sparse":
        lines += ["", f"sparse training ({c['sparse_method']}) at {report['target_sparsity']:.2%} from the start "
                      "('pruned' accuracy: the starting connectivity, untrained)"]
    for update in report.get("updates", []):
        lines.append(f"  step {update['step']:>5}: moved {update['moved']:,} connections "
                     f"(drop fraction {update['fraction']:.3f})")
    for event in report.get("schedule", []):
        lines.append(f"  step {event['step']:>5}: scheduled {event['target']:.2%} · held {event['sparsity']:.2%}")
    for step in report.get("history", []):
        note = "" if step["within_tolerance"] else " (below tolerance)"
        lines.append(f"  round {step['step']}: sparsity {step['sparsity']:.2%} · accuracy "
                     f"{step['pruned_accuracy']:.2%}"
                     f" → {step['accuracy']:.2%} after fine-tuning{note}")
    if "stopped_because" in report:
        lines.append(f"  stopped: {report['stopped_because']}")
    if "error" in report.get("compact", {}):
        lines += ["", f"compact: {report['compact']['error']}"]
    elif "compact" in report:
        m, k = report["masked"], report["compact"]
        lines += [
            "",
            f"{'physical removal':<26}{'masked':>14}{'compact':>14}",
            f"{'params':<26}{m['params']:>14,}{k['params']:>14,}",
            f"{'nonzero params':<26}{m['nonzero']:>14,}{k['nonzero']:>14,}",
            f"{'float32 bytes':<26}{human_bytes(m['float32_bytes']):>14}{human_bytes(k['float32_bytes']):>14}",
            f"{'gzip of .keras file':<26}{human_bytes(m['gzip_bytes']):>14}{human_bytes(k['gzip_bytes']):>14}",
            f"{'latency (ms / 256)':<26}{m['latency_ms']:>14.3f}{k['latency_ms']:>14.3f}",
            f"{'accuracy':<26}{report['final_accuracy']:>14.2%}{k['accuracy']:>14.2%}",
            "units kept: " + ", ".join(f"{n} {u}" for n, u in k["units"].items()),
            *(f"left masked: {why}" for why in k.get("left_masked", {}).values()),
        ]
    if "deploy" in report:
        lines += ["", f"TensorFlow Lite in {report['deploy']['interpreter']} · batch 1 · one thread",
                  f"{'':<26}{'file':>12}{'latency':>13}{'× dense':>9}{'sparse':>8}{'accuracy':>10}"]
        for row in report["deploy"]["rows"]:
            if row["tflite_bytes"] is None:
                reason = row["reason"] if len(row["reason"]) <= 90 else row["reason"][:89] + "…"
                lines.append(f"  {row['name']:<24}{reason}")
                continue
            lines.append(f"  {row['name']:<24}{human_bytes(row['tflite_bytes']):>12}{row['latency_us']:>10.1f} µs"
                         f"{row['latency_ratio']:>8.2f}×{'yes' if row['sparse_kernel'] else 'no':>8}"
                         f"{'' if row['tflite_accuracy'] is None else format(row['tflite_accuracy'], '.2%'):>10}")
        lines += [report["deploy"]["verdict"], report["deploy"]["headline"]]
    return "\n".join(lines)
