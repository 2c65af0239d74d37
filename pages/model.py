"""Model: choose data and architecture, train a baseline with progress, or upload your own; see the current model."""

import streamlit as st

from ui.router import require_router
from ui import jobs, settings, state, training, upload, widgets

require_router()

st.title("Model")
st.caption("The model every other page prunes. Train a new baseline here or upload your own; it replaces the current one "
           "for this session only.")
training.adopt_finished()
widgets.data_badge()
widgets.flash()

entry = state.current_model()
ds = state.dataset()
upload.model_card(entry, ds)
if entry.origin != "default" and st.button("Restore the default baseline", icon=":material/restore:",
                                           key="model_btn_restore", disabled=jobs.busy(),
                                           help="Back to the shipped LeNet-300-100 trained on the bundled digits "
                                                "(the current model is dropped; finished runs stay on Compare)."):
    state.restore_default_baseline()
    st.rerun()
if entry.history:
    widgets.chart(training.history_figure(entry.history))
    st.caption("Loss (left axis) and accuracy (right axis, %) per epoch; dashed lines are measured on the test split.")

train_tab, upload_tab = st.tabs(["Train a baseline", "Upload your own"], key="model_tab",
                              on_change="rerun")  # tracked: a rerun (an upload, a setting) keeps the open tab
with upload_tab:
    upload.upload_tab()

train_tab.subheader("Train a new baseline")
with train_tab.container(border=True):  # not a form: every change reruns, so a copied link holds it
    left, right = st.columns(2)
    source = left.radio("Data", list(state.DATA_SOURCES), format_func=state.DATA_SOURCES.get,
                        index=list(state.DATA_SOURCES).index(state.train_data_choice()), key="model_data")
    architectures = training.architectures()
    arch = right.selectbox("Architecture", list(architectures), format_func=architectures.get,
                           index=list(architectures).index(settings.default("model_arch")), key="model_arch")
    c1, c2, c3, c4 = st.columns(4)
    epochs = c1.number_input("Epochs", min_value=1, max_value=50, value=settings.default("model_epochs"),
                             key="model_epochs")
    batch_size = c2.selectbox("Batch size", [32, 64, 128, 256], key="model_batch_size")
    learning_rate = c3.selectbox("Learning rate", [1e-2, 3e-3, 1e-3, 3e-4, 1e-4], index=2, format_func="{:g}".format,
                                 key="model_learning_rate")
    seed = c4.number_input("Seed", min_value=0, max_value=2**31 - 1, value=0, key="model_seed",
                           help="Same seed, same data → same accuracy.")
    submitted = st.button("Train", type="primary", icon=":material/play_arrow:", disabled=jobs.busy(),
                          key="model_btn_train")

with train_tab:
    settings.reset_button("model_", label="Reset to defaults")
    if submitted and training.start_training(source, arch, int(epochs), int(batch_size), float(learning_rate), int(seed)):
        st.rerun()  # redraw with the Train button disabled while the job runs
    jobs.panel(training.JOB_KIND, training.live)
