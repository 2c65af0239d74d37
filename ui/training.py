"""Training a baseline on the Model page: a background job with a progress bar and live curves."""

from __future__ import annotations

import streamlit as st

from prune_core.io import data
from prune_core.measure.headline import headline_numbers
from prune_core.viz import figures

from . import jobs, state, widgets

JOB_KIND = "train"


def start_training(source: str, arch: str, epochs: int, batch_size: int, learning_rate: float, seed: int):
    """Start training a fresh model in the background; it becomes the session's model when done."""
    try:
        ds = state.load_dataset(source)
    except data.DataUnavailableError as exc:
        st.error(str(exc), icon=":material/cloud_off:")
        return None
    state.set_train_data(source)

    def work(job: jobs.Job):
        job.progress(0.0, "Importing TensorFlow and building the model…")
        from prune_core.train import fit, models
        from prune_core.methods import masks

        model = models.build_model(arch, input_shape=ds.input_shape, num_classes=ds.num_classes, seed=seed)
        model, result = fit.train_model(model, ds, epochs=epochs, batch_size=batch_size,
                                             learning_rate=learning_rate, seed=seed, progress=job.progress,
                                             on_epoch=job.on_epoch)
        job.progress(1.0, "Measuring test accuracy and size…")
        entry = state.ModelEntry(
            model=masks.without_optimizer(model), name=f"{arch} · trained here", architecture=arch,
            origin="trained", data_key=ds.key, history=result.history, train_seconds=result.seconds,
            settings=dict(epochs=epochs, batch_size=batch_size, learning_rate=learning_rate, seed=seed))
        entry.measurements[ds.key] = headline_numbers(entry.model, ds)
        return entry

    name = f"Training {arch} on {ds.name} for {epochs} epoch{'s' * (epochs > 1)}"
    return jobs.start(name, JOB_KIND, work)


def live(job: jobs.Job) -> None:
    if job.history.get("loss"):
        widgets.chart(history_figure(job.history), key="live-train")


def adopt_finished() -> None:
    """When a training job has finished, make its model the session's current model (once)."""
    job = jobs.current()
    if job is None or job.kind != JOB_KIND or job.running or job.result is None or getattr(job, "adopted", False):
        return
    job.adopted = True
    entry = job.result
    state.set_model(entry)
    numbers = entry.measurements[entry.data_key]
    st.session_state["flash"] = (f"Trained {entry.architecture} in {entry.train_seconds:.1f} s: test accuracy "
                                 f"{numbers['accuracy']:.2%}. It is now the current model.")


def architectures() -> dict[str, str]:
    """{architecture key: label} the Model page can train."""
    from prune_core.train.models import ARCHITECTURES

    return dict(ARCHITECTURES)


def history_figure(history: dict):
    return figures.training_history(history)
