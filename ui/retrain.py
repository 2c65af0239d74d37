"""Retrain page glue: the starting point (the Prune page's candidate or its defaults), the run in a
background job, and recording it in the run history."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

import prune_core as pc
from prune_core.viz import figures
from prune_core.methods import masks
from prune_core.measure.metrics import human_bytes

from . import jobs, memory, session_memory, state
from .text import html, md
from . import prune_labels, prune_session

MODES = {
    "oneshot": "One-shot",
    "gradual": "Gradual",
    "iterative": "Iterative",
    "init": "Pruning at initialization",
    "sparse": "Sparse training",
}
MODE_HELP = {
    "oneshot": "Prune once with the Prune page's settings, then fine-tune with the pruned weights held at exactly zero.",
    "gradual": "Train while pruning: sparsity rises from the initial to the final value on a cubic schedule "
               "(Zhu & Gupta 2017), re-pruning every few steps and holding the mask in between.",
    "iterative": "Prune a share of what remains, fine-tune, measure; repeat until accuracy falls more than the "
                 "tolerance below the dense model or the target sparsity is reached.",
    "init": "Prune the untrained network (a fresh, seeded initialisation of this architecture) by SNIP, SynFlow, "
            "random or a shuffled control, then train the sparse network from scratch; compare with pruning the "
            "trained model.",
    "sparse": "Train at the target sparsity from the first step while the connections move: every few steps each "
              "layer drops its smallest weights and grows as many new ones — by gradient (RigL, Evci et al. 2020) or "
              "at random (SET, Mocanu et al. 2018) — fewer and fewer as training goes on (a cosine schedule).",
}
SPARSE_METHODS = {"rigl": "RigL: grow by gradient", "set": "SET: grow at random"}
DISTRIBUTIONS = {"uniform": "Uniform: every layer at the target", "erk": "ERK: small layers denser (Erdős–Rényi)"}
RETRAIN = {"finetune": "Fine-tune", "rewind-lr": "Learning-rate rewinding", "rewind-weights": "Weight rewinding"}
RETRAIN_HELP = ("**Fine-tune**: keep training at the chosen rate. **Learning-rate rewinding** (Renda et al. 2020): "
                "retrain with the rate rewound to the chosen one and annealed to 0 (the app's models train at one "
                "constant rate, so a cosine stands in for the original schedule). **Weight rewinding** (Frankle et al. "
                "2020): the kept weights restart from an early state — epoch 1 of a fresh seeded training of this "
                "architecture (the app keeps no snapshot of the original run) — then retrain like rewinding.")
RECONSTRUCT_HELP = ("Before retraining, update each pruned layer's remaining weights so its outputs on 512 training "
                    "digits change as little as possible (OBS / SparseGPT style, Frantar & Alistarh 2023). With 0 "
                    "epochs it is the whole method.")
AUTO_RATE = pc.spec.AUTO_RATE
LEARNING_RATES = [AUTO_RATE, 2e-2, 1e-2, 3e-3, 1e-3, 3e-4, 1e-4]  # the first is the default


def rate_label(rate) -> str:
    """'Auto (by sparsity)' or '0.003'."""
    return "Auto (by sparsity)" if rate == AUTO_RATE else f"{rate:g}"


LEARNING_RATE_HELP = ("Adam's rate while retraining. **Auto** (the default) picks it by the run's sparsity: 1e-3 "
                      "below 80%, 3e-3 from 80%, 1e-2 from 97% (gradual: from 95%; one-shot: 1e-3, and 1e-2 from 95%); "
                      "an iterative run picks it each round for that round's sparsity. Measured on LeNet-300-100, seed 0 "
                      "— a thin network needs a larger step and a dense one is hurt by it: gradual to 98% gave 59.25% "
                      "at 1e-3 and 90.70% at 1e-2, but 96.15% against 93.55% at 50%; iterative to 95% at 1e-2 fell out "
                      "of tolerance in round 1 and kept nothing, at 1e-3 it stopped at 91.8%, on Auto it reached 95% "
                      "at 95.35%.")
INIT_CRITERIA = ("snip", "synflow", "random", "magnitude", "shuffled")
L1_CHOICES = [0.0, 1e-5, 1e-4, 1e-3]
DEFAULT_SPEC = pc.PruneSpec(criterion="magnitude", rule="coefficient", scope="layer",
                            value=pc.RULES["coefficient"].default)
JOB_KIND = "retrain"


def setting_key(mode: str):
    """Widget keys of ``mode``'s form ("rt_set_gradual_final"): each mode keeps its own values."""
    return lambda name: f"rt_set_{mode}_{name}"
KEPT_RUNS = jobs.KEEP  # finished runs the Retrain page lists (older ones are dropped, the history keeps them)


def starting_point() -> tuple[state.Candidate | None, masks.MaskSet, dict, str]:
    """(candidate or None, its mask set, its settings, a sentence describing it) for one-shot runs."""
    candidate = state.candidate()
    if candidate is not None:
        settings = candidate.settings
        text = candidate.note or (f"The candidate applied on the Prune page: **{candidate.sparsity:.1%} sparse** by "
                f"{prune_labels.criterion_label(settings['criterion'])}, {prune_labels.rule_label(settings['rule'])} "
                f"({prune_labels.GRANULARITIES[settings['granularity']].lower()}), **{candidate.pruned_accuracy:.2%}** test "
                f"accuracy before retraining.")
        return candidate, candidate.mask_set, settings, text
    ctx = prune_session.context()
    settings = dict(criterion="magnitude", granularity="weight", rule="coefficient", scope="layer", same=True)
    mask_set = pc.select(ctx.entry.model, DEFAULT_SPEC, kernels=ctx.kernels, output_layer=ctx.output_layer)
    text = (f"No candidate was applied on the Prune page, so one-shot uses its default: magnitude, coefficient "
            f"{DEFAULT_SPEC.value:g} × max per layer (**{mask_set.overall_sparsity:.1%} sparse**). "
            "Apply another on the Prune page to change it.")
    return None, mask_set, settings, text


def run_spec(mode: str, form: dict) -> pc.RunSpec:
    """The run the form asks for (percent and points → fractions), as the library's RunSpec."""
    rate = form["learning_rate"]
    common = dict(mode=mode, epochs=int(form["epochs"]), batch_size=int(form["batch_size"]),
                  learning_rate=rate if rate == AUTO_RATE else float(rate), seed=int(form["seed"]), l1=float(form["l1"]))
    if mode == "oneshot":  # the mask is the Prune page's candidate (starting_point), not a spec
        return pc.RunSpec(**common, prune=DEFAULT_SPEC, retrain=form.get("retrain", "finetune"),
                          reconstruct=bool(form.get("reconstruct", False)))
    if mode == "init":
        return pc.RunSpec(**common, prune=pc.PruneSpec(criterion=form["criterion"], rule="sparsity",
                                                       value=form["target_percent"] / 100, scope=form["scope"],
                                                       seed=int(form["seed"])))
    if mode == "sparse":
        target = form["target_percent"] / 100
        return pc.RunSpec(**{**common, "l1": 0.0}, prune=pc.PruneSpec(rule="sparsity", value=target),
                          target_sparsity=target, sparse_method=form["sparse_method"],
                          distribution=form["distribution"], from_init=bool(form.get("from_init", False)))
    target = (form["final_percent"] if mode == "gradual" else form["target_percent"]) / 100
    prune = pc.PruneSpec(criterion=form["criterion"], rule="sparsity", value=target, scope=form["scope"])
    if mode == "gradual":
        return pc.RunSpec(**common, prune=prune, initial_sparsity=form["initial_percent"] / 100,
                          target_sparsity=target)
    return pc.RunSpec(**common, prune=prune, target_sparsity=target, step_fraction=form["step_percent"] / 100,
                      tolerance=form["tolerance_points"] / 100, max_rounds=int(form["max_rounds"]),
                      retrain=form.get("retrain", "finetune"))


def describe(settings: dict, values) -> dict:
    """The Prune-page settings as they go into the run record."""
    out = {k: settings[k] for k in ("criterion", "granularity", "rule", "scope") if k in settings}
    if values is not None:
        out["values"] = values
    return out


def start_run(spec: pc.RunSpec) -> jobs.Job | None:
    """Start a retrain run (:func:`prune_core.run`) as a background job; the job records it in the session's
    workspace."""
    entry, ds = state.current_model(), state.dataset()
    dense_accuracy = state.measure(entry, ds)["accuracy"]
    store, workspace = state.run_store(), state.workspace()
    extra = dict(architecture=entry.architecture, model=entry.name, data=ds.name)
    mask_set = pruned_accuracy = None
    if spec.mode == "oneshot":
        candidate, mask_set, prune_settings, _ = starting_point()
        extra.update(describe(prune_settings, candidate.values if candidate else DEFAULT_SPEC.value))
        pruned_accuracy = candidate.pruned_accuracy if candidate else None
    model, session = entry.model, session_memory.session_id()

    def work(job: jobs.Job):
        result = pc.run(model, ds, spec, mask_set=mask_set, settings=extra, dense_accuracy=dense_accuracy,
                        progress=job.progress, on_epoch=job.on_epoch, on_round=job.on_round)
        if pruned_accuracy is not None:
            result.pruned_accuracy = pruned_accuracy
        job.settle()  # the run is done: from here it is recorded whatever the user clicks
        job.progress(1.0, "Recording the run in the history…")
        result.run_id = store.add(workspace, result.to_record())
        result.dense_model, result.dataset = model, ds  # what the Deploy page compares the run against
        result.workspace = workspace  # where its files are (ui.session_memory loads them back from there)
        if result.settings.get("l1"):  # measured now: the summary shows it after the model has left memory
            result.near_zero = near_zero_share(result)
        job.progress(1.0, "Saving the run's models beside the history (for Deploy after a reload)…")
        try:
            state.run_files().save(workspace, result.run_id, {"pruned": result.model, "compact": result.compact_model,
                                                              "dense": model})
        except Exception as exc:  # a full disk must not lose the finished run: it stays in this session
            result.files_note = (f"The run's models could not be saved to disk ({type(exc).__name__}): it can be "
                                 "deployed from this session only.")
        session_memory.register(session, result)  # an idle session's runs leave memory (ui.memory)
        return result

    return jobs.start(f"{MODES[spec.mode]} run", JOB_KIND, work)


def finished_results() -> list:
    """Every finished run of this session, newest first (at most ``jobs.KEEP``). A later job of any kind — one that
    fails validation or errors included — leaves them in place. Over the session's memory budget the oldest runs'
    models are moved to disk first (:func:`ui.session_memory.enforce`): :func:`ensure_models` loads them back."""
    results = jobs.results(JOB_KIND)
    session_memory.enforce(results)
    return results


def ensure_models(result) -> str:
    """The run's models in memory — loaded back from disk with a progress message when they were moved there; ""
    then, else why they cannot be (shown as an error)."""
    return session_memory.ensure(result)


def memory_notice(results: list) -> str | None:
    """'2 older runs' models were moved to disk to keep this session under 270 MB; …' (Markdown-safe), or None."""
    return session_memory.notice(results)


def run_memory_note(result) -> str | None:
    """A caption under a run whose models are on disk (Markdown-safe), or None."""
    return session_memory.run_note(result)


def latest_result():
    """The newest finished run of this session, or None."""
    results = finished_results()
    return results[0] if results else None


def dropped_count() -> int:
    return jobs.dropped(JOB_KIND)


def run_key(result) -> str:
    """A key for this run's widgets (its run id in the history, else the object's id)."""
    return str(getattr(result, "run_id", None) or id(result))


def run_title(result) -> str:
    """'#3 · one-shot · magnitude · per layer · 85.4% · 97.10%' (plain text: escape before Markdown)."""
    run_id = getattr(result, "run_id", None)
    head = f"#{run_id} · " if run_id is not None else ""
    return f"{head}{run_label(result)} · {result.final_accuracy:.2%}"


def run_label(result) -> str:
    """The run's label with its ids in words ('one-shot', 'per layer')."""
    from prune_core.viz import words

    return words.human_label(result.label or result.mode)


def model_name(name: str) -> str:
    """A model's name with a leading architecture id in words: 'mlp-128 · trained here' → 'MLP 784-128-10 ·
    trained here' (plain text: escape before Markdown)."""
    from prune_core.viz import words

    return words.model_name(name)


def size_comparison(result):
    """Dense vs masked vs compact: parameters, bytes, latency and accuracy, formatted with units."""
    import pandas as pd

    from prune_core.measure.metrics import human_bytes

    rows = [("dense", result.dense), ("masked (zeros in place)", dict(
        params=result.params, nonzero_params=result.nonzero_params, float32_bytes=result.float32_bytes,
        gzip_bytes=result.gzip_bytes, latency_ms=result.latency_ms, accuracy=result.final_accuracy)),
        ("compact (neurons removed)", result.compact)]
    rows = [(name, r) for name, r in rows if r and "params" in r]
    return pd.DataFrame([{
        "model": name, "parameters": f"{r['params']:,}", "nonzero": f"{r['nonzero_params']:,}",
        "float32": human_bytes(r["float32_bytes"]), "gzip": human_bytes(r["gzip_bytes"]),
        "latency (ms / 256 images)": "—" if r.get("latency_ms") is None else f"{r['latency_ms']:.2f}",
        "test accuracy": f"{r['accuracy']:.2%}"} for name, r in rows])


def compact_caption(result) -> str:
    from prune_core.viz import words

    info = result.compact or {}
    if not all(k in info for k in ("params", "gzip_bytes")):  # compaction failed: compact_notes says why
        return "Dense, masked (zeros kept in place) and compact models side by side."
    return words.compact_caption(result.dense, info)


def compact_notes(result) -> list[str]:
    """Plain sentences on what could not be made smaller, and why (empty when everything was removed)."""
    info = result.compact or {}
    if "error" in info:
        return [info["error"]]
    return [f"Left masked (zeros in place, not removed): {why}" for why in info.get("left_masked", {}).values()]


def downloads(result) -> list[tuple[str, object, str, str]]:
    """(label, data callable, file name, mime) for a run's files; each is built only when clicked."""
    from prune_core.deploy.convert import keras_bytes
    from prune_core.viz import report

    stem = file_stem(result)
    held = memory.released(result)
    if held is not None and session_memory.files_gone(result):  # the models are gone: the report only
        return [("Report (.html)", lambda: report.run_report(result), f"{stem}-report.html", "text/html")]

    def loaded(attr: str):  # a run moved to disk loads back when its file is asked for
        session_memory.reload(result)
        return getattr(result, attr)

    files = [("Pruned model (.keras)", lambda: keras_bytes(loaded("model")), f"{stem}.keras",
              "application/octet-stream")]
    if result.compact_model is not None or (held is not None and "compact" in held.roles):
        files.append(("Compact model (.keras)", lambda: keras_bytes(loaded("compact_model")),
                      f"{stem}-compact.keras", "application/octet-stream"))
    files.append(("Report (.html)", lambda: report.run_report(result), f"{stem}-report.html", "text/html"))
    return files


def file_stem(result) -> str:
    from prune_core.io.downloads import safe_filename

    run_id = getattr(result, "run_id", None)
    return safe_filename((f"run-{run_id}-" if run_id is not None else "") + run_label(result))


def tflite_filename(result) -> str:
    return f"{file_stem(result)}.tflite"


def tflite(result):
    """TFLite conversion of the last run's model, done once per result (a few seconds)."""
    from prune_core.deploy.convert import tflite_bytes

    if getattr(result, "tflite", None) is None:
        result.tflite = tflite_bytes(result.model)
    return result.tflite


def near_zero_share(result) -> float:
    """Share of the kept (nonzero) prunable weights with |w| < 0.001 — what an L1 penalty piles up."""
    from prune_core.train import regularize

    if getattr(result, "near_zero", None) is not None:
        return result.near_zero
    if result.sparsity >= 1.0:
        return 0.0
    near = regularize.near_zero_fraction(result.model)  # exact zeros included
    return max(0.0, (near - result.sparsity) / (1.0 - result.sparsity))


def adopt_result(result) -> None:
    """The retrained model becomes the session's current model (same data), for further pruning."""
    entry = state.current_model()
    state.set_model(state.ModelEntry(
        model=result.model, name=f"{model_name(entry.architecture)} · retrained ({run_label(result)})",
        architecture=entry.architecture,
        origin="retrained", data_key=entry.data_key, history=result.history, settings=dict(result.settings)))


def criterion_choices(mode: str = "iterative") -> list[str]:
    """Criteria a run can score by: all registered (data criteria use the run's data); for pruning at
    initialization the ones meant for it first."""
    if mode == "init":
        return [*(c for c in INIT_CRITERIA if c in pc.CRITERIA), *(c for c in pc.CRITERIA if c not in INIT_CRITERIA)]
    return list(pc.CRITERIA)


def reconstruction_text(result) -> str | None:
    """'Reconstruction: 56.4% → 80.3% before retraining' for a reconstructed run, else None."""
    if result.reconstructed_accuracy is None:
        return None
    return (f"Layer-wise reconstruction: test accuracy {result.pruned_accuracy:.2%} (plain masking) → "
            f"{result.reconstructed_accuracy:.2%} before any retraining.")


@dataclass
class Metric:
    label: str
    value: str
    delta: str | None = None
    help: str | None = None
    delta_color: str = "normal"


def headline(result) -> list[Metric]:
    """The five numbers at the top of a finished run, with their deltas against the dense model."""
    from prune_core.viz import words

    dense = result.dense_accuracy
    return [
        Metric("Dense accuracy", f"{dense:.2%}"),
        Metric(words.pruned_stage(result.mode)[0], f"{result.pruned_accuracy:.2%}",
               f"{(result.pruned_accuracy - dense) * 100:+.2f} pts", help=words.pruned_stage(result.mode)[1]),
        Metric("After retraining", f"{result.final_accuracy:.2%}", f"{(result.final_accuracy - dense) * 100:+.2f} pts vs dense"),
        _size_metric(result),
        Metric("gzip size", human_bytes(result.gzip_bytes), f"{result.gzip_bytes / result.dense['gzip_bytes'] - 1:+.1%} vs dense",
               delta_color="inverse"),
    ]


def _size_metric(result) -> Metric:
    """Sparsity (zeros among the kernel weights); for a streams-mode run, whose final model is the compact one and
    holds no zeros, the share of the dense model's parameters it no longer has."""
    if result.settings.get("streams") and result.dense.get("params"):
        return Metric("Parameters removed", f"{1 - result.params / result.dense['params']:.1%}",
                      f"{result.params:,} of {result.dense['params']:,} left", delta_color="off",
                      help="Streams mode fine-tunes the physically smaller model: it holds no zeros, it has fewer "
                           "parameters.")
    return Metric("Sparsity", f"{result.sparsity:.1%}", help="Zeros among the prunable kernel weights.")


def rate_text(result) -> str:
    """'learning rate 0.003' — or, for an iterative run on Auto, each round's: 'learning rate by round (Auto): 0.001
    (rounds 1–4), 0.003 (rounds 5–8)'."""
    rates = [r.get("learning_rate") for r in result.rounds or []]
    if result.settings.get("learning_rate") != AUTO_RATE or not rates or None in rates:
        rate = result.settings.get("learning_rate")
        return f"learning rate {rate:g}" if isinstance(rate, (int, float)) else ""
    spans, start = [], 0
    for i in range(1, len(rates) + 1):
        if i == len(rates) or rates[i] != rates[start]:
            rounds = f"round {start + 1}" if i - start == 1 else f"rounds {start + 1}–{i}"
            spans.append(f"{rates[start]:g} ({rounds})")
            start = i
    return "learning rate by round (Auto): " + ", ".join(spans)


def summary_line(result) -> str:
    """Parameters, time, the learning rate, why it stopped, and (after L1) the share of kept weights near zero."""
    text = f"{result.nonzero_params:,} nonzero of {result.params:,} parameters · took {result.seconds:.1f} s"
    if rate_text(result):
        text += f" · {rate_text(result)}"
    if result.stopped_because:
        text += f" · stopped: {result.stopped_because}"
    if result.settings.get("l1"):
        text += (f" · L1 λ = {result.settings['l1']:g}: {near_zero_share(result):.1%} of the kept weights have "
                 "|w| < 0.001")
    return text


def updates_figure(result):
    """Connections moved per update of a sparse-training run (None for other runs)."""
    if result.mode != "sparse" or not result.events:
        return None
    from prune_core.viz import figures

    return figures.sparse_updates_figure(result.events)


def updates_caption(result) -> str:
    total = sum(e["moved"] for e in result.events)
    return (f"Connections moved at each of the {len(result.events)} updates ({total:,} in all): each layer dropped that "
            "many of its smallest weights and grew as many new ones, which start at zero; the count falls on the "
            "cosine schedule, and the number of non-zero weights never changes.")


def history_figure(history: dict):
    return figures.training_history(history)


def rounds_figure(rounds: list, dense_accuracy: float, tolerance: float | None = None):
    return figures.iterative_rounds_figure(rounds, dense_accuracy=dense_accuracy, tolerance=tolerance)


def steps_figure(result):
    from prune_core.viz import words

    label = words.pruned_stage(result.mode)[0]
    return figures.accuracy_steps(result.dense_accuracy, result.pruned_accuracy, result.final_accuracy,
                                  pruned_label=label[:1].lower() + label[1:])


def steps_caption(result) -> str:
    from prune_core.viz import words

    label, why = words.pruned_stage(result.mode)
    return f"Test accuracy of the dense model, {label.lower()} ({why[:1].lower() + why[1:].rstrip('.')}), and after retraining."


def layer_sparsity_figure(result):
    layer = result.layer_sparsity
    return figures.sparsity_bars([html(n) for n in layer], list(layer.values()))


def class_figure(result):
    """Test accuracy per class, dense against this run's final model, worst drop first."""
    from prune_core.viz.guidance import class_accuracy_figure

    frame = result.class_accuracy.assign(**{"class": [html(c) for c in result.class_accuracy["class"]]})
    return class_accuracy_figure(frame, pruned_label="this run")


def class_caption(result) -> str:
    """One sentence: which class lost most (or that none lost), from the run's per-class table."""
    worst = result.class_accuracy.iloc[0]
    if worst["change"] >= 0:
        return "Test accuracy per class, dense (grey) and this run (violet): no class lost accuracy."
    return (f"Test accuracy per class, dense (grey) and this run (violet), worst drop first: class "
            f"{md(worst['class'])} lost the most ({100 * worst['change']:+.1f} pts on {int(worst['count']):,} test "
            f"{state.dataset().noun}).")


def tflite_label(converted) -> str:
    return f"TFLite ({human_bytes(converted.size)})"
