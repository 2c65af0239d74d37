"""Retrain page glue: the starting point (the Prune page's candidate or its defaults), the run in a
background job, and recording it in the run history."""

from __future__ import annotations

from prune_core import importance, masks

from . import jobs, state
from . import prune as pu

MODES = {
    "oneshot": "One-shot",
    "gradual": "Gradual",
    "iterative": "Iterative",
}
MODE_HELP = {
    "oneshot": "Prune once with the Prune page's settings, then fine-tune with the pruned weights held at exactly zero.",
    "gradual": "Train while pruning: sparsity rises from the initial to the final value on a cubic schedule "
               "(Zhu & Gupta 2017), re-pruning every few steps and holding the mask in between.",
    "iterative": "Prune a share of what remains, fine-tune, measure; repeat until accuracy falls more than the "
                 "tolerance below the dense model or the target sparsity is reached.",
}
L1_CHOICES = [0.0, 1e-5, 1e-4, 1e-3]
JOB_KIND = "retrain"


def starting_point() -> tuple[state.Candidate | None, masks.MaskSet, dict, str]:
    """(candidate or None, its mask set, its settings, a sentence describing it) for one-shot runs."""
    candidate = state.candidate()
    if candidate is not None:
        settings = candidate.settings
        text = (f"The candidate applied on the Prune page: **{candidate.sparsity:.1%} sparse** by "
                f"{pu.CRITERIA[settings['criterion']]}, {pu.RULES[settings['rule']]} "
                f"({pu.GRANULARITIES[settings['granularity']].lower()}), **{candidate.pruned_accuracy:.2%}** test "
                f"accuracy before retraining.")
        return candidate, candidate.mask_set, settings, text
    ctx = pu.context()
    settings = dict(criterion="magnitude", granularity="weight", rule="coefficient", scope="layer", same=True)
    mask_set = masks.effective_masks(ctx.entry.model, masks.build_masks(
        importance.magnitude_scores(ctx.kernels), "coefficient", pu.SLIDER["coefficient"][3], weights=ctx.kernels))
    text = (f"No candidate was applied on the Prune page, so one-shot uses its default: magnitude, coefficient "
            f"{pu.SLIDER['coefficient'][3]} × max per layer (**{mask_set.overall_sparsity:.1%} sparse**). "
            "Apply another on the Prune page to change it.")
    return None, mask_set, settings, text


def describe(settings: dict, values) -> dict:
    """The Prune-page settings as they go into the run record."""
    out = {k: settings[k] for k in ("criterion", "granularity", "rule", "scope") if k in settings}
    if values is not None:
        out["values"] = values
    return out


def start_run(mode: str, params: dict) -> jobs.Job | None:
    """Start a retrain run as a background job; the job records it in the session's workspace."""
    from prune_core import runs

    entry, ds = state.current_model(), state.dataset()
    dense_accuracy = state.measure(entry, ds)["accuracy"]
    store, workspace = state.run_store(), state.workspace()
    extra = dict(architecture=entry.architecture, model=entry.name, data=ds.name)
    if mode == "oneshot":
        candidate, mask_set, prune_settings, _ = starting_point()
        extra.update(describe(prune_settings, candidate.values if candidate else pu.SLIDER["coefficient"][3]))
        kwargs = dict(mask_set=mask_set, **params)
        pruned_accuracy = candidate.pruned_accuracy if candidate else None
    else:
        kwargs, pruned_accuracy = dict(params), None
    model = entry.model

    def work(job: jobs.Job):
        call = dict(kwargs, settings=extra, dense_accuracy=dense_accuracy, progress=job.progress,
                    on_epoch=job.on_epoch)
        if mode == "iterative":
            call["on_round"] = job.on_round
        if mode == "oneshot":
            mask_set = call.pop("mask_set")
            result = runs.run_oneshot(model, mask_set, ds, **call)
        elif mode == "gradual":
            result = runs.run_gradual(model, ds, **call)
        else:
            result = runs.run_iterative(model, ds, **call)
        if pruned_accuracy is not None and mode == "oneshot":
            result.pruned_accuracy = pruned_accuracy
        job.progress(1.0, "Recording the run in the history…")
        result.run_id = store.add(workspace, result.to_record())
        return result

    return jobs.start(f"{MODES[mode]} run", JOB_KIND, work)


def latest_result():
    """The finished run this session last started (with its model, for compacting and export)."""
    job = jobs.current()
    if job is not None and job.kind == JOB_KIND and not job.running and job.result is not None:
        return job.result
    return None


def size_comparison(result):
    """Dense vs masked vs compact: parameters, bytes, latency and accuracy, formatted with units."""
    import pandas as pd

    from prune_core.metrics import human_bytes

    rows = [("dense", result.dense), ("masked (zeros in place)", dict(
        params=result.params, nonzero_params=result.nonzero_params, float32_bytes=result.float32_bytes,
        gzip_bytes=result.gzip_bytes, latency_ms=result.latency_ms, accuracy=result.final_accuracy)),
        ("compact (neurons removed)", result.compact)]
    return pd.DataFrame([{
        "model": name, "parameters": f"{r['params']:,}", "nonzero": f"{r['nonzero_params']:,}",
        "float32": human_bytes(r["float32_bytes"]), "gzip": human_bytes(r["gzip_bytes"]),
        "latency (ms / 256 images)": "—" if r.get("latency_ms") is None else f"{r['latency_ms']:.2f}",
        "test accuracy": f"{r['accuracy']:.2%}"} for name, r in rows])


def downloads(result) -> list[tuple[str, object, str, str]]:
    """(label, data callable, file name, mime) for the last run's files; each is built only when clicked."""
    from prune_core import export

    stem = export.safe_filename(result.label or result.mode)
    files = [("Pruned model (.keras)", lambda: export.keras_bytes(result.model), f"{stem}.keras",
              "application/octet-stream")]
    if result.mask_set is not None and result.mask_set.units:
        files.append(("Compact model (.keras)", lambda: export.compact_bytes(result.model, result.mask_set.units),
                      f"{stem}-compact.keras", "application/octet-stream"))
    files.append(("Report (.html)", lambda: export.run_report(result), f"{stem}-report.html", "text/html"))
    return files


def tflite(result):
    """TFLite conversion of the last run's model, done once per result (a few seconds)."""
    from prune_core import export

    if getattr(result, "tflite", None) is None:
        result.tflite = export.tflite_bytes(result.model)
    return result.tflite


def near_zero_share(result) -> float:
    """Share of the kept (nonzero) prunable weights with |w| < 0.001 — what an L1 penalty piles up."""
    from prune_core import training

    if result.sparsity >= 1.0:
        return 0.0
    near = training.near_zero_fraction(result.model)  # exact zeros included
    return max(0.0, (near - result.sparsity) / (1.0 - result.sparsity))


def adopt_result(result) -> None:
    """The retrained model becomes the session's current model (same data), for further pruning."""
    entry = state.current_model()
    state.set_model(state.ModelEntry(
        model=result.model, name=f"{entry.architecture} · retrained ({result.label})", architecture=entry.architecture,
        origin="retrained", data_key=entry.data_key, history=result.history, settings=dict(result.settings)))
