"""Bring your own model and data: the upload widgets and their session bookkeeping.

Every refusal (prune_core.io.safe_load.ModelFileError / prune_core.io.data.DataFileError) is shown as its own
st.error and nothing else in the session changes; an accepted model becomes the current model
(origin "uploaded") and is then used by every page like a trained one.
"""

from __future__ import annotations

import streamlit as st

from prune_core.io import data
from prune_core.measure.metrics import human_bytes

from . import state, widgets
from .text import md

MODEL_TYPES = ["keras", "h5", "hdf5"]
# Session keys owned by this module (bookkeeping only; a refusal changes nothing else).
SEEN_MODEL, MODEL_ERROR = "upload_model_seen", "upload_model_error"
SEEN_DATA, DATA_ERROR = "upload_data_seen", "upload_data_error"
DATA_CHOICES = {
    "mnist": "MNIST, reshaped for this model's input",
    "npz": "My own data (.npz)",
    "none": "No data — magnitude pruning and sizes only",
}
NO_DATA_NOTE = ("**No data for this model.** Magnitude (and random) pruning and every size metric work without data; "
                "**accuracy, sensitivity and Taylor scores need data**. Upload an .npz below to measure them.")


def entry_from_upload(content: bytes, filename: str) -> state.ModelEntry:
    """Check and load an uploaded model file (raises loading.ModelFileError) and wrap it as a ModelEntry.

    MNIST-shaped models (input (28, 28), (28, 28, 1) or (784,), 10 outputs) start on MNIST reshaped for
    them; others start with no data until an .npz is uploaded.
    """
    from prune_core.io import safe_load as loading

    model = loading.load_model_file(content, filename)
    facts = loading.model_facts(model)
    mnist = data.is_mnist_shaped(facts["input_shape"], facts["output_units"])
    label = loading.display_name(filename)
    return state.ModelEntry(
        model=model, name=f"{label} · uploaded", architecture=f"uploaded ({type(model).__name__})",
        origin="uploaded", data_key=state.mnist_key_for(facts["input_shape"]) if mnist else data.NO_DATA_KEY,
        settings={"file": label, "file_bytes": len(content), "input_shape": list(facts["input_shape"]),
                  "output_units": facts["output_units"]},
    )


def handle_model_upload(uploaded) -> bool:
    """Process a newly uploaded model file once. True when it was accepted and is now the current model."""
    from prune_core.io import safe_load as loading

    if uploaded is None or st.session_state.get(SEEN_MODEL) == uploaded.file_id:
        return False
    st.session_state[SEEN_MODEL] = uploaded.file_id
    label = loading.display_name(uploaded.name)
    try:
        with st.spinner(f"Checking {md(label)} and loading it safely (nothing in the file is run)…"):
            entry = entry_from_upload(uploaded.getvalue(), uploaded.name)
    except loading.ModelFileError as exc:
        st.session_state[MODEL_ERROR] = (uploaded.file_id, str(exc))
        return False
    st.session_state.pop(MODEL_ERROR, None)
    state.set_model(entry)
    how = ("It uses MNIST, reshaped for its input." if entry.data_key != data.NO_DATA_KEY
           else "It has no data yet: upload an .npz below to measure accuracy.")
    st.session_state["flash"] = (f"Loaded {md(label)} ({md(human_bytes(len(uploaded.getvalue())))}). It is now the "
                                 f"current model. {how}")
    return True


def handle_data_upload(uploaded, entry: state.ModelEntry) -> bool:
    """Process a newly uploaded .npz once, against the current model. True when accepted (now its data)."""
    from prune_core.io import safe_load as loading

    if uploaded is None or st.session_state.get(SEEN_DATA) == (uploaded.file_id, entry.weights_key):
        return False
    st.session_state[SEEN_DATA] = (uploaded.file_id, entry.weights_key)
    facts = loading.model_facts(entry.model)
    label = loading.display_name(uploaded.name)
    try:
        with st.spinner(f"Checking {md(label)}…"):
            ds = data.load_npz(uploaded.getvalue(), input_shape=facts["input_shape"],
                               num_classes=facts["output_units"], name=f"{label} (uploaded)")
            data.check_data_for_model(ds, entry.model)  # token ids within an input Embedding's vocabulary
    except data.DataFileError as exc:
        st.session_state[DATA_ERROR] = (uploaded.file_id, f"{label}: {exc}")
        return False
    st.session_state.pop(DATA_ERROR, None)
    state.register_dataset(ds)
    state.set_model_data(ds.key)
    st.session_state["flash"] = f"Using {md(ds.description)} for {md(entry.name)}."
    return True


def _show_error(key: str, uploaded) -> None:
    held = st.session_state.get(key)
    if held and uploaded is not None and held[0] == uploaded.file_id:
        st.error(md(held[1]), icon=":material/block:")


def model_card(entry: state.ModelEntry, ds: data.Dataset) -> None:
    """The headline numbers, or — without data — sizes with accuracy marked as needing data."""
    numbers = state.measure(entry, ds)
    if data.has_samples(ds):
        widgets.model_card(entry, numbers)
        return
    st.markdown(f"#### {md(entry.name)}")
    cols = widgets.metric_row(4)
    cols[0].metric("Test accuracy", "needs data", help="Upload an .npz for this model to measure accuracy.")
    cols[1].metric("Parameters", f"{numbers['params']:,}")
    cols[2].metric("Size as float32", human_bytes(numbers["float32_bytes"]), help="4 bytes per parameter, dense storage.")
    cols[3].metric("Size gzip (.keras)", human_bytes(numbers["gzip_bytes"]),
                   help="The saved .keras file (no optimizer state) compressed with gzip -9.")
    st.info(NO_DATA_NOTE, icon=":material/info:")


def summary(entry: state.ModelEntry) -> None:
    """Layers, output shapes, parameters, and which layers pruning touches."""
    from prune_core.io import safe_load as loading

    table = loading.model_summary(entry.model)
    facts = loading.model_facts(entry.model)
    n = int(table["prunable"].sum())
    st.markdown(f"**Layers of {md(entry.name)}** · input {md(facts['input_shape'])} → {facts['output_units']} "
                f"outputs · {facts['params']:,} parameters")
    st.dataframe(table, hide_index=True, width="stretch",
                 column_config={"prunable": st.column_config.CheckboxColumn("prunable")})
    st.caption(f"{n} prunable layer{'s' * (n != 1)} (Dense and Conv2D kernels; biases are kept). Every other layer "
               "— normalization, dropout, pooling, reshaping — is kept exactly as it is.")
    if facts["final_activation"] not in (None, "softmax"):
        st.caption(f"The last layer's activation is '{md(facts['final_activation'])}', not softmax: accuracy (argmax) is "
                   "right, but the loss shown assumes probabilities.")


def data_section(entry: state.ModelEntry) -> None:
    """Data for an uploaded model: MNIST (when MNIST-shaped), an .npz, or none."""
    from prune_core.io import safe_load as loading

    facts = loading.model_facts(entry.model)
    mnist = data.is_mnist_shaped(facts["input_shape"], facts["output_units"])
    options = (["mnist"] if mnist else []) + ["npz", "none"]
    key = entry.data_key
    current = "mnist" if key.startswith("mnist") else "npz" if key.startswith("npz-") else "none"
    st.markdown("**Data for this model**")
    if not mnist:
        st.caption(f"MNIST is offered for models taking (28, 28), (28, 28, 1) or (784,) inputs with 10 outputs; this "
                   f"one takes {md(facts['input_shape'])} with {facts['output_units']} outputs.")
    choice = st.radio("Data for this model", options, format_func=DATA_CHOICES.get, index=options.index(current),
                      key=f"upload_data_choice_{st.session_state.get('model_version', 0)}", horizontal=True,
                      label_visibility="collapsed")
    if choice == "mnist" and current != "mnist":
        state.set_model_data(state.mnist_key_for(facts["input_shape"]))
        st.rerun()
    if choice == "none" and current != "none":
        state.set_model_data(data.NO_DATA_KEY)
        st.rerun()
    if choice == "npz":
        shape = ", ".join(map(str, facts["input_shape"]))
        st.caption(f"An .npz with **x_train, y_train, x_test, y_test**: x of shape (N, {shape}), labels as integers "
                   f"0–{facts['output_units'] - 1} or one-hot rows. Values are used as given (no rescaling). "
                   f"Made with `np.savez('data.npz', x_train=..., y_train=..., x_test=..., y_test=...)`.")
        uploaded = st.file_uploader("Data file (.npz)", type=["npz"], key="upload_data",
                                    max_upload_size=loading.max_upload_mb())
        if handle_data_upload(uploaded, entry):
            st.rerun()
        _show_error(DATA_ERROR, uploaded)
        if current != "npz":
            st.caption("Until an .npz is accepted the model keeps its current data.")


def upload_tab() -> None:
    """The "Upload your own" tab of the Model page."""
    from prune_core.io import safe_load as loading

    limit = loading.max_upload_mb()
    st.markdown("Upload a Keras model trained elsewhere: **.keras** (Keras 3) or legacy **.h5**. It is checked before "
                "it is loaded and nothing in it is run: Lambda layers, custom classes and files that reach outside "
                "themselves are refused.")
    uploaded = st.file_uploader(f"Model file (.keras or .h5, up to {limit} MB)", type=MODEL_TYPES, key="upload_model",
                                max_upload_size=limit,
                                help="Saved with model.save('model.keras') or model.save('model.h5').")
    if handle_model_upload(uploaded):
        st.rerun()
    _show_error(MODEL_ERROR, uploaded)
    entry = st.session_state.get("model_entry")
    if entry is not None and entry.origin == "uploaded":
        summary(entry)
        data_section(entry)
