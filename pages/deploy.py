"""Deploy: what pruning buys on a real runtime — TFLite files of the dense, pruned and compact models, float32 and
int8, their sizes, latency and accuracy in LiteRT, and whether their sparse kernels run."""

import streamlit as st

from ui import deploy as ud
from ui import jobs, widgets
from ui.router import require_router
from ui.text import md

require_router()

st.title("Deploy")
st.caption("A masked Keras model still multiplies every zero. Here each model is converted to TensorFlow Lite "
           "(float32 with the sparsity optimization, and int8) and measured in the LiteRT interpreter: which file "
           "is smaller, which is faster, by how much, and why.")
widgets.data_badge()
if ud.unavailable():
    st.info(ud.unavailable(), icon=":material/info:")
    st.stop()

src = ud.source()
if src is None:
    saved = ud.history_runs()
    if saved:
        st.info(f"No finished run in this session yet — but {len(saved)} run(s) of this workspace have their models "
                "saved on disk: deploy one of them, run a new one on the **Retrain** page, or measure the current "
                "model alone.", icon=":material/info:")
        with st.form("deploy_history", border=False):
            by_id = {r["run_id"]: r for r in saved}
            chosen_run = st.selectbox("Run from the history", list(by_id), key=ud.HISTORY_CHOICE_KEY,
                                      format_func=lambda i: ud.history_label(by_id[i]),
                                      help="Runs recorded in this workspace, newest first; their pruned, compact and "
                                           "dense models were saved when they finished.")
            load = st.form_submit_button("Deploy this run", type="primary", icon=":material/upload_file:",
                                         disabled=jobs.busy())
        if load:
            with st.spinner(f"Loading run #{chosen_run}'s models from disk…"):
                why = ud.choose_history_run(by_id[chosen_run])
            if why:
                st.error(md(why), icon=":material/error:")
            else:
                st.rerun()
    else:
        st.info("No finished run in this session yet. Run one on the **Retrain** page and press **Deploy this model** "
                "there to compare its pruned and compact files with the dense one — or measure the current model "
                "alone.", icon=":material/info:")
    c1, c2 = st.columns(2)
    c1.page_link("pages/retrain.py", label="Go to the Retrain page", icon=":material/arrow_forward:")
    if c2.button("Measure the current model alone", icon=":material/memory:", disabled=jobs.busy()):
        ud.choose_current_model()
        st.rerun()
    st.stop()

options = ud.choices(src)
if len(options) > 1:
    ud.seed_choice(src)
    st.selectbox("Model to deploy", list(options), format_func=options.get, key=ud.CHOICE_KEY,
                 on_change=ud.on_choice, disabled=jobs.busy(),
                 help="Any finished run of this session (newest first), or the current model on its own.")
st.markdown(ud.describe(src))
if ud.memory_note(src):
    st.caption(f":material/memory: {ud.memory_note(src)}")
if ud.autostart(src):
    st.rerun()  # redraw with the button disabled while the job runs

chosen = ud.settings()
with st.form("deploy"):
    c1, c2 = st.columns(2)
    calibration = c1.selectbox("int8 calibration images", ud.CALIBRATION_CHOICES,
                               index=ud.CALIBRATION_CHOICES.index(chosen["calibration"]),
                               help="Training images the converter runs to choose each int8 tensor's scale.")
    budget_keys = list(ud.BUDGETS)
    budget = c2.selectbox("Timing", budget_keys, index=budget_keys.index(chosen["budget"]), format_func=ud.BUDGETS.get,
                          help="How long to time all the files together; longer gives steadier medians.")
    c3, c4 = st.columns(2)
    int8 = c3.checkbox("int8 files", value=chosen["int8"], help="Post-training quantization of every model.")
    keras_int8 = c4.checkbox("Keras int8", value=chosen["keras_int8"],
                             help="Keras 3's own model.quantize('int8') of the pruned model, for comparison: a Keras file only "
                                  "(TensorFlow Lite cannot convert its int8 layers), so it is off by default.")
    submitted = st.form_submit_button("Convert and measure", type="primary", icon=":material/play_arrow:",
                                      disabled=jobs.busy())
if submitted and ud.start(src, dict(calibration=calibration, budget=budget, int8=int8, keras_int8=keras_int8)):
    st.rerun()

jobs.panel(ud.JOB_KIND)

report = ud.latest_report(src)
if report is not None:
    st.info(ud.verdict(report), icon=":material/lightbulb:")
    if report.headline():
        st.success(ud.headline(report), icon=":material/bolt:")
    st.subheader("Every export side by side")
    st.dataframe(ud.table(report), hide_index=True, width="stretch")
    for line in ud.notes(report):
        st.caption(line)
    st.caption(ud.footnote(report, src.dataset))
    widgets.chart(ud.figure(report), key="deploy-ratios")
    st.caption("Latency and file size of each TFLite file as a ratio to the dense float32 file (dashed line at 1×): "
               "shorter bars are better; a hatched latency bar ran on the interpreter's built-in kernels because XNNPACK "
               "refused that file, so its time is the runtime's as much as the model's.")
    with st.expander("Which layers run sparse, and what each export is"):
        st.markdown(ud.rule_text())
        kernels = ud.kernel_table(report)
        if len(kernels):
            st.dataframe(kernels, hide_index=True, width="stretch")
        st.markdown("\n".join(f"- {line}" for line in ud.row_help()))

    st.subheader("Files")
    with st.container(horizontal=True):  # wraps on a narrow screen
        for label, data, file_name, mime in ud.downloads(report, src):
            st.download_button(md(label), data, file_name=file_name, mime=mime, on_click="ignore",
                               icon=":material/download:", width="content")
    st.caption("Every .tflite file as measured above, and the Keras files it came from.")
