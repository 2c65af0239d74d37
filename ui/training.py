"""Training with visible progress: st.status + st.progress + a live history chart."""

from __future__ import annotations

import streamlit as st

from prune_core import data, figures

from . import state


def history_figure(entry: state.ModelEntry):
    return figures.training_history(entry.history)


def train_baseline(source: str, arch: str, epochs: int, batch_size: int, learning_rate: float, seed: int) -> None:
    """Train a fresh model with a progress bar per batch chunk and per epoch, then make it current."""
    try:
        ds = state.load_dataset(source)
    except data.DataUnavailableError as exc:
        st.error(str(exc), icon=":material/cloud_off:")
        return
    st.session_state["data_source"] = source
    label = f"Training {arch} on {ds.name} for {epochs} epoch{'s' * (epochs > 1)}"
    with st.status(label + "…", expanded=True) as status:
        st.write("Importing TensorFlow and building the model…")
        from prune_core import metrics, models

        model = models.build_model(arch, input_shape=ds.input_shape, num_classes=ds.num_classes, seed=seed)
        bar = st.progress(0.0, text="Starting…")
        chart = st.empty()
        live: dict[str, list[float]] = {}

        def progress(done: float, text: str) -> None:
            bar.progress(done, text=text)

        import keras

        class LiveChart(keras.callbacks.Callback):
            def on_epoch_end(self, epoch, logs=None):
                for key, value in (logs or {}).items():
                    live.setdefault(key, []).append(float(value))
                chart.plotly_chart(figures.training_history(live), width="stretch", key=f"live-{epoch}")

        result = models.train(model, ds.x_train, ds.y_train, epochs=epochs, batch_size=batch_size,
                              learning_rate=learning_rate, seed=seed, validation=(ds.x_test, ds.y_test),
                              progress=progress, callbacks=[LiveChart()])
        st.write("Measuring test accuracy and size…")
        entry = state.ModelEntry(
            model=models.without_optimizer(model), name=f"{arch} · trained here", architecture=arch, origin="trained",
            data_key=ds.key, history=result.history, train_seconds=result.seconds,
            settings=dict(epochs=epochs, batch_size=batch_size, learning_rate=learning_rate, seed=seed),
        )
        numbers = state.measure(entry, ds)
        status.update(label=f"Trained {arch} in {result.seconds:.1f} s — test accuracy {numbers['accuracy']:.2%}",
                      state="complete", expanded=False)
    state.set_model(entry)
    st.session_state["flash"] = (f"Trained {arch} on {ds.name} in {result.seconds:.1f} s: "
                                 f"test accuracy {numbers['accuracy']:.2%}. It is now the current model.")
    st.rerun()
