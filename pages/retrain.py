"""Retrain: fine-tune the pruned model (one-shot), prune while training (gradual) or loop (iterative)."""

import streamlit as st

from ui import deploy as ud
from ui import jobs, recipe, run_on, settings, state, widgets
from ui import prune_labels
from ui import retrain as rt
from ui.router import require_router
from ui.text import md

require_router()

st.title("Retrain")
st.caption("Pruning costs accuracy; a short fine-tune with the pruned weights held at zero wins most of it back. "
           "Every run is recorded in the run history (see Compare).")
widgets.data_badge()

entry = state.current_model()
ds = state.dataset()
if not state.has_data():
    st.info("Retraining needs labelled data, and this model has none. Add data for it on the Model page "
            "(MNIST when its input fits, or your own .npz).", icon=":material/info:")
    st.stop()
dense = state.measure(entry, ds)

if st.session_state.get("rt_mode") not in rt.MODES:  # always one mode (a stale or cleared value → one-shot)
    st.session_state["rt_mode"] = "oneshot"
mode = st.radio("Mode", list(rt.MODES), format_func=rt.MODES.get, key="rt_mode", horizontal=True)
key = rt.setting_key(mode)  # each mode keeps its own values
st.caption(rt.MODE_HELP[mode])
if mode == "oneshot":
    st.info(rt.starting_point()[3], icon=":material/content_cut:")

running = jobs.busy()
with st.container(border=True):  # not a form: every change reruns, so a copied link holds it
    c1, c2, c3 = st.columns(3)  # two rows of three: nothing cut at 900 px
    c4, c5, _ = st.columns(3)
    epochs_label = "Fine-tune epochs per round" if mode == "iterative" else "Epochs"
    epochs = c1.number_input(epochs_label, min_value=0 if mode == "oneshot" else 1, max_value=50,
                             value={"gradual": 2, "init": 5}.get(mode, 1), key=key("epochs"),
                             help="0 (one-shot): measure the pruned (and reconstructed) model without retraining.")
    learning_rate = c2.selectbox("Learning rate", rt.LEARNING_RATES, format_func=rt.rate_label,
                                 key=key("learning_rate"), help=rt.LEARNING_RATE_HELP)
    batch_size = c3.selectbox("Batch size", [32, 64, 128, 256], index=0, key=key("batch_size"))
    seed = c4.number_input("Seed", min_value=0, max_value=2**31 - 1, value=0, key=key("seed"))
    l1 = 0.0 if mode == "sparse" else c5.selectbox(  # sparse training moves weights by magnitude: no L1 bias
        "L1 penalty λ", rt.L1_CHOICES, format_func=lambda v: "off" if v == 0 else f"{v:g}", key=key("l1"),
        help="Adds λ·Σ|w| over the kernels to the loss while training: weights pile up at zero, "
             "so pruning afterwards costs less. Compare runs with and without on the Compare page.")
    form = dict(epochs=epochs, batch_size=batch_size, learning_rate=learning_rate, seed=seed, l1=l1)
    if mode in ("oneshot", "iterative"):
        r1, _ = st.columns([2, 1])
        r2 = st
        form["retrain"] = r1.selectbox("Retraining", list(rt.RETRAIN), format_func=rt.RETRAIN.get,
                                       key=key("retrain"), help=rt.RETRAIN_HELP)
        if mode == "oneshot":
            form["reconstruct"] = r2.checkbox("Reconstruct the remaining weights first", key=key("reconstruct"),
                                              help=rt.RECONSTRUCT_HELP)
    if mode == "sparse":
        d1, d2, d3 = st.columns(3)
        method = d1.selectbox("Connections grow", list(rt.SPARSE_METHODS), format_func=rt.SPARSE_METHODS.get,
                              key=key("sparse_method"))
        distribution = d2.selectbox("Per-layer density", list(rt.DISTRIBUTIONS), format_func=rt.DISTRIBUTIONS.get,
                                    key=key("distribution"))
        target = d3.slider("Target sparsity", 50, 99, 90, 1, format="%d%%", key=key("target"))
        from_init = st.checkbox("Start from a fresh initialisation (not the trained weights)", key=key("from_init"),
                                help="RigL and SET are made to train sparse from scratch; starting from the trained "
                                     "model keeps its largest weights as the first connectivity.")
        form.update(sparse_method=method, distribution=distribution, target_percent=target, from_init=from_init)
    elif mode == "init":
        d1, d2, d3 = st.columns(3)
        criterion = d1.selectbox("Criterion (on the untrained network)", rt.criterion_choices("init"),
                                 format_func=prune_labels.criterion_label, key=key("criterion"))
        scope = d2.selectbox("Scope", list(prune_labels.SCOPES), format_func=prune_labels.SCOPES.get, index=1, key=key("scope"))
        target = d3.slider("Target sparsity", 10, 99, 90, 1, format="%d%%", key=key("target"))
        form.update(criterion=criterion, scope=scope, target_percent=target)
    elif mode != "oneshot":
        d1, d2, d3, d4 = st.columns(4)
        criterion = d1.selectbox("Criterion", rt.criterion_choices(), format_func=prune_labels.criterion_label,
                                 key=key("criterion"))
        scope = d2.selectbox("Scope", list(prune_labels.SCOPES), format_func=prune_labels.SCOPES.get, key=key("scope"))
        form.update(criterion=criterion, scope=scope)
        if mode == "gradual":
            initial = d3.slider("Initial sparsity", 0, 95, 0, 5, format="%d%%", key=key("initial"))
            final = d4.slider("Final sparsity", 5, 99, 90, 1, format="%d%%", key=key("final"))
            form.update(initial_percent=initial, final_percent=final)
        else:
            step = d3.slider("Pruned per round (of what remains)", 5, 80, 30, 5, format="%d%%", key=key("step"))
            target = d4.slider("Target sparsity", 10, 99, 95, 1, format="%d%%", key=key("target"))
            e1, e2 = st.columns(2)
            tolerance = e1.slider("Tolerance (accuracy drop allowed)", 0.1, 10.0, 1.0, 0.1, format="%.1f pts",
                                  key=key("tolerance"))
            max_rounds = e2.number_input("At most rounds", min_value=1, max_value=30, value=10, key=key("rounds"))
            form.update(step_percent=step, target_percent=target, tolerance_points=tolerance, max_rounds=max_rounds)
    submitted = st.button("Run", type="primary", icon=":material/play_arrow:", disabled=running, key="rt_btn_run")
settings.reset_button("rt_", label="Reset the settings")
if submitted and rt.start_run(rt.run_spec(mode, form)):
    st.rerun()  # redraw with the Run button disabled while the job runs


def live(job):
    if job.history.get("loss"):
        widgets.chart(rt.history_figure(job.history), key="live-history")
    if job.rounds:
        widgets.chart(rt.rounds_figure(job.rounds, dense["accuracy"]), key="live-rounds")


jobs.panel(rt.JOB_KIND, live)

def show_run(result, newest: bool) -> None:
    """One finished run: numbers, buttons, charts (the newest only), compact table and files; every widget keyed
    by the run, so each run listed has its own."""
    k = rt.run_key(result)
    with st.container(horizontal=True, gap="medium"):  # wraps on a narrow screen instead of cutting numbers
        for metric in rt.headline(result):
            st.metric(metric.label, metric.value, delta=metric.delta, help=metric.help, delta_color=metric.delta_color,
                      width=150)
    st.caption(rt.summary_line(result))
    if rt.reconstruction_text(result):
        st.caption(rt.reconstruction_text(result))
    if rt.run_memory_note(result):
        st.caption(rt.run_memory_note(result))
    with st.container(horizontal=True):
        if st.button("Continue from this model", icon=":material/arrow_forward:", key=f"rt_continue_{k}",
                     help="Make the retrained model the current one: prune it further on the Prune page and see "
                          "where its weights ended up (with an L1 penalty, piled up near zero)."):
            why = rt.ensure_models(result)  # a run moved to disk loads back first
            if why:
                st.error(md(why), icon=":material/error:")
            else:
                rt.adopt_result(result)
                st.switch_page("pages/prune.py")
        if st.button("Deploy this model", icon=":material/rocket_launch:", key=f"rt_deploy_{k}",
                     help="Convert the dense, pruned and compact models to TensorFlow Lite (float32 and int8) and "
                          "measure their size, speed and accuracy in the LiteRT interpreter on the Deploy page."):
            ud.choose_run(result)
            st.switch_page("pages/deploy.py")
    if newest:
        left, right = st.columns(2)
        with left:
            if len(result.history.get("loss", [])) > 1:
                widgets.chart(rt.history_figure(result.history), key="history")
                st.caption("Loss and accuracy per epoch while retraining: solid on the training data, dashed "
                           "on the test split (iterative runs record training only: solid lines only).")
            else:
                widgets.chart(rt.steps_figure(result), key="steps")
                st.caption(rt.steps_caption(result))
        with right:
            if result.rounds:
                widgets.chart(rt.rounds_figure(result.rounds, result.dense_accuracy, result.settings.get("tolerance")),
                              key="rounds")
                st.caption("Each round's accuracy against the sparsity it holds: after fine-tuning (teal line, "
                           "round numbers on it) and right after pruning (violet dots), a crimson cross where a "
                           "round fell below the tolerance; grey dashed: the dense model, black dotted: the floor.")
            elif rt.updates_figure(result) is not None:
                widgets.chart(rt.updates_figure(result), key="updates")
                st.caption(rt.updates_caption(result))
            else:
                widgets.chart(rt.layer_sparsity_figure(result), key="layers")
                st.caption("Share of each layer's kernel weights that ended at zero.")
        if result.class_accuracy is not None:
            st.markdown("**What it cost, per class**")
            widgets.chart(rt.class_figure(result), key="per-class")
            st.caption(rt.class_caption(result))
    if result.compact:
        st.markdown("**Compact: the physically smaller model**")
        st.dataframe(rt.size_comparison(result), hide_index=True, width="stretch", key=f"rt_compact_{k}")
        st.caption(rt.compact_caption(result))
        for note in rt.compact_notes(result):
            st.info(note, icon=":material/info:")

    if getattr(result, "files_note", None):
        st.warning(result.files_note, icon=":material/warning:")
    st.markdown("**Export**")
    with st.container(horizontal=True):  # wraps on a narrow screen
        for i, (label, make, file_name, mime) in enumerate(rt.downloads(result)):
            st.download_button(label, make, file_name=file_name, mime=mime, on_click="ignore", key=f"rt_file_{k}_{i}",
                               icon=":material/download:", width="content")
        if st.button("Convert to TensorFlow Lite", icon=":material/memory:", width="content", key=f"rt_tflite_{k}"):
            why = rt.ensure_models(result)  # a run moved to disk loads back first
            if why:
                st.error(md(why), icon=":material/error:")
            else:
                with st.spinner("Converting with TensorFlow Lite…"):
                    rt.tflite(result)
        converted = getattr(result, "tflite", None)
        if converted is not None and converted.data is not None:
            st.download_button(rt.tflite_label(converted), converted.data, key=f"rt_tflite_file_{k}",
                               file_name=rt.tflite_filename(result), mime="application/octet-stream",
                               on_click="ignore", icon=":material/download:", width="content")
    if converted is not None and converted.data is None:
        st.warning(converted.reason, icon=":material/warning:")


results = rt.finished_results()
if results:
    st.subheader(f"Last run · {md(rt.run_label(results[0]))}")
    show_run(results[0], newest=True)
    st.caption("Files are built when you click. The report is one self-contained HTML page (settings, metrics, "
               "charts) that opens offline; the run history as CSV is on the Compare page.")
    if len(results) > 1:
        st.subheader("Earlier runs in this session")
        st.caption("Newest first. Each keeps its files and can be continued from or deployed.")
        if rt.memory_notice(results):
            st.caption(f":material/memory: {rt.memory_notice(results)}")
        for older in results[1:]:
            with st.expander(md(rt.run_title(older))):
                show_run(older, newest=False)
    if rt.dropped_count():
        st.caption(f"Only the last {rt.KEPT_RUNS} finished runs of this session are kept here; "
                   f"{rt.dropped_count()} older one{'s' * (rt.dropped_count() > 1)} dropped (still in the run history "
                   "on the Compare page, without their models).")

# --- recipe search ----------------------------------------------------------------------------------------
st.subheader("Find the best recipe")
st.caption("For a target sparsity, try each criterion with fine-tuning and learning-rate rewinding at two learning "
           "rates, one-shot with one global threshold; successive halving gives the better half of the candidates "
           "twice the epochs each round, so the budget goes to the promising ones.")
run_on.controls("candidate")
with st.container(border=True):  # not a form: every change reruns, so a copied link holds it
    a, b = st.columns([2, 1])
    recipe_target = a.slider("Target sparsity", 50, 99, 95, 1, format="%d%%", key="rc_target")
    recipe_budget = b.select_slider("Epochs in the last round", list(recipe.BUDGETS), value=2, key="rc_budget")
    recipe_criteria = st.pills("Criteria", recipe.CRITERIA, selection_mode="multi", default=recipe.CRITERIA,
                               format_func=prune_labels.criterion_label, key="rc_criteria")
    st.caption(recipe.cost_sentence(recipe_criteria or [], recipe_budget))
    find = st.button("Find the best recipe", icon=":material/travel_explore:", disabled=jobs.busy(),
                     key="rc_btn_find")
if find and recipe_criteria and recipe.start(recipe_target, recipe_budget, recipe_criteria) is not None:
    st.rerun()
jobs.panel(recipe.JOB_KIND)
found = recipe.latest()
if found is not None:
    st.success(recipe.best_sentence(found), icon=":material/emoji_events:")
    st.dataframe(recipe.table(found), hide_index=True, width="stretch", column_config=recipe.TABLE_CONFIG,
                 key="rc_table")
    st.caption("Every candidate of every round; 'Went on': it was among the better half and trained again with twice "
               "the epochs. The same recipe in Python (the CLI: `python -m prune_core search`):")
    st.code(recipe.code(found), language="python")
