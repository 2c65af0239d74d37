"""Compare: the run history of a workspace (table, accuracy vs size with the Pareto frontier, delete, CSV
and HTML export) and a criteria sweep (accuracy vs sparsity per criterion)."""

import streamlit as st

from ui import compare as cu, continue_run, run_on
from ui import jobs, recipe, session_memory, settings, state, widgets
from ui.router import require_router
from ui.text import md

require_router()

st.title("Compare")
st.caption("Every retrain run is recorded with its settings and metrics. Compare them by accuracy and size, "
           "and sweep criteria against each other on the current model.")
widgets.flash()

# --- workspace ---------------------------------------------------------------------------------------
workspace = state.workspace()
names = cu.workspaces()
w1, w2, _ = st.columns([2, 1.3, 1.7], vertical_alignment="bottom")
chosen = w1.selectbox("Workspace", names, index=names.index(workspace),
                      help="Runs are grouped in named workspaces, stored on this computer "
                           f"({cu.store().path.parent}); they survive a browser reload.")
if chosen != workspace:
    cu.choose_workspace(chosen)
    st.rerun()
with w2.popover("New workspace", icon=":material/add:", width="content"):
    with st.form("cmp_new_workspace", border=False):
        new_name = st.text_input("Name", placeholder="e.g. lenet-l1", max_chars=40,
                                 help="1–40 letters, digits, spaces, '_', '-' or '.'.")
        if st.form_submit_button("Create and switch", type="primary"):
            ok, message = cu.create_workspace(new_name)
            if ok:
                st.session_state["flash"] = message
                st.rerun()
            st.error(message, icon=":material/error:")

@st.fragment(run_every=1.0)
def live_candidates(key: str, runs: list, x: str) -> None:
    """The chart redrawn each second while the recipe search runs, its candidates joining as they finish."""
    candidates, searching = recipe.candidate_records(key)
    widgets.chart(cu.accuracy_size_figure(runs + candidates, x), key=f"cmp_accuracy_size_live_{key}")
    st.caption(cu.candidates_caption(len(candidates), searching))
    if not searching:
        st.rerun()  # the whole page: the search's result is in


records = cu.store().records(workspace)

# --- run history ---------------------------------------------------------------------------------------
st.subheader(f"Run history · {md(workspace)}")
if not records:
    text = (f"No runs in the workspace “{md(workspace)}” yet. Prune a model on the **Prune** page, press Apply, then "
            "fine-tune it on the **Retrain** page: every run is recorded here.")
    st.info(text, icon=":material/history:")
    if cu.retrain_page_registered():
        st.page_link("pages/retrain.py", label="Go to the Retrain page", icon=":material/arrow_forward:")
else:
    groups = cu.runs_by_model(records)
    if len(groups) > 1:
        options = [*groups, cu.ALL_MODELS]
        if st.session_state.get("cmp_model") not in options:  # first visit, or a link to a model not in this store
            st.session_state["cmp_model"] = cu.default_model_choice(groups)
        chosen_model = st.selectbox(
            "Model", options, key="cmp_model",
            format_func=lambda k: cu.model_choice_label(k, groups),
            help="Runs are compared within one model: each model has its own dense baseline and Pareto frontier.")
    else:
        chosen_model = next(iter(groups))
        st.caption(f"Runs of {md(cu.model_words(groups[chosen_model]))}.")
    shown_runs = records if chosen_model == cu.ALL_MODELS else groups.get(chosen_model, records)
    best, smallest = cu.best_runs(shown_runs)
    row = st.container(horizontal=True, gap="medium")  # wraps on a narrow screen instead of cutting labels
    row.metric("Runs", f"{len(shown_runs)}", width=120)
    row.metric("Best final accuracy", f"{best['final_accuracy']:.2%}", width=200,
               help=f"Run #{best['run_id']}: {md(best.get('label', ''))} · {md(cu.model_words([best]))}")
    if smallest is not None:
        row.metric("Fewest nonzero parameters", f"{smallest['nonzero_params']:,}", width=230,
                   help=f"Run #{smallest['run_id']}: {md(smallest.get('label', ''))}, "
                        f"final accuracy {smallest['final_accuracy']:.2%} · {md(cu.model_words([smallest]))}")

    x = st.segmented_control("Size axis", list(cu.SIZE_AXES), format_func=cu.SIZE_AXES.get,
                             default="nonzero_params", key="cmp_size_axis") or "nonzero_params"
    charted = groups.items() if chosen_model == cu.ALL_MODELS else [(chosen_model, shown_runs)]
    for key, runs in charted:
        if chosen_model == cu.ALL_MODELS:
            st.markdown(f"**{md(cu.model_words(runs))}**")
        candidates, searching = recipe.candidate_records(key)
        if searching:  # the recipe search's candidates join this chart as they finish
            live_candidates(key, runs, x)
        else:
            widgets.chart(cu.accuracy_size_figure(runs + candidates, x), key=f"cmp_accuracy_size_{key}")
            if candidates:
                st.caption(cu.candidates_caption(len(candidates)))
    st.caption(cu.ACCURACY_SIZE_CAPTION)

    shown = cu.table_frame(shown_runs)
    st.dataframe(shown, width="stretch", hide_index=True, column_config=cu.column_config(shown), key="cmp_history")
    st.caption("One row per run, oldest first: settings and the model it pruned, then accuracy on the test split "
               "before pruning (dense), right after pruning and after fine-tuning, overall sparsity of the prunable "
               "weights, size and latency of the final model.")
    memory_notice = session_memory.page_notice()  # this session's runs whose models were moved to disk
    if memory_notice:
        st.caption(f":material/memory: {memory_notice}")

    files = st.container(horizontal=True)  # wraps on a narrow screen
    files.download_button("Run history (CSV)", cu.csv_text(workspace), file_name=cu.csv_filename(workspace),
                          mime="text/csv", icon=":material/download:", width="content", on_click="ignore")
    if cu.export_available():
        sweep_now = cu.current_sweep()
        files.download_button("HTML report", lambda: cu.html_report(workspace, records, x, sweep_now),
                           file_name=f"pruning-report-{cu.slug(workspace)}.html", mime="text/html",
                           icon=":material/description:", width="content", on_click="ignore",
                           help="Settings, metrics and the charts (plotly inlined) in one file that opens in any "
                                "browser, offline — to send to someone.")

    loaded = continue_run.loaded_text()
    with st.expander("Continue from a run", icon=":material/replay:", expanded=loaded is not None):
        newest_first = {r["run_id"]: r for r in reversed(shown_runs)}
        saved = {i for i, r in newest_first.items() if continue_run.has_file(r)}
        if loaded is not None:
            st.success(loaded, icon=":material/check_circle:")
            with st.container(horizontal=True):
                st.page_link("pages/retrain.py", label="Retrain it further", icon=":material/model_training:")
                st.page_link("pages/prune.py", label="Prune it further", icon=":material/content_cut:")
        st.caption(f"A run's pruned model is saved when it finishes, so it can be picked up again after a reload "
                   f"({len(saved)} of the {len(newest_first)} runs here have theirs on disk): it becomes the current "
                   "model, and its zeros the candidate the Retrain page's one-shot fine-tunes further (zeros held). "
                   "The current model and candidate are replaced.")
        picked = st.selectbox("Run to continue from", list(newest_first), key=continue_run.CHOICE_KEY,
                              format_func=lambda i: continue_run.choice_label(newest_first[i], i in saved),
                              help="The runs shown above, newest first; only those with a saved model can be "
                                   "continued from.")
        if st.button("Continue from this run", type="primary", icon=":material/replay:", key="cmp_continue",
                     disabled=jobs.busy()):
            with st.spinner(f"Loading run #{picked}'s pruned model from disk…"):
                why = continue_run.continue_from(newest_first[picked])
            if why:
                st.error(md(why), icon=":material/error:")
            else:
                st.rerun()  # the sidebar and this section show the model just loaded

    with st.expander("Delete a run", icon=":material/delete:"):
        by_id = {r["run_id"]: r for r in records}
        choice = st.selectbox("Run", list(by_id), format_func=lambda i: cu.run_choice_label(by_id[i]),
                              key="cmp_delete_choice")
        pending = st.session_state.get(cu.CONFIRM_KEY)
        if pending not in by_id:
            if st.button("Delete this run…", icon=":material/delete:", key="cmp_delete"):
                st.session_state[cu.CONFIRM_KEY] = choice
                st.rerun()
        else:
            st.warning(f"Delete run {cu.run_choice_label(by_id[pending])} from “{md(workspace)}”? "
                       "This cannot be undone.", icon=":material/warning:")
            y, n, _ = st.columns([1, 1, 3])
            if y.button("Yes, delete it", type="primary", key="cmp_delete_yes"):
                cu.delete_run(workspace, pending)
                st.session_state.pop(cu.CONFIRM_KEY, None)
                st.session_state["flash"] = f"Deleted run #{pending} from “{md(workspace)}”."
                st.rerun()
            if n.button("Cancel", key="cmp_delete_no"):
                st.session_state.pop(cu.CONFIRM_KEY, None)
                st.rerun()

# --- criteria sweep -------------------------------------------------------------------------------------
st.subheader("Sweep: criteria against each other")
model_name = cu.current_model_name()
st.caption(f"On the current model (**{md(model_name)}**): for each criterion and sparsity, prune the dense model, "
           "measure, fine-tune briefly with the pruned weights held at zero, and measure again.")
no_data = state.has_model() and not state.has_data()
if no_data:
    st.info("A sweep measures test accuracy and fine-tunes, and the current model has no labelled data. Add data "
            "for it on the Model page (MNIST when its input fits, or your own .npz).", icon=":material/info:")
running = jobs.busy() or no_data
run_on.controls("point")
with st.container(border=True):  # not a form: every change reruns, so a copied link holds it
    choices = cu.sweep_criteria()
    # every criterion visible (a narrow column cut the row at three of nine): the pills get the full width
    criteria = st.pills(f"Criteria ({len(choices)})", list(choices), selection_mode="multi", default=list(choices),
                        format_func=choices.get, key="cmp_sweep_criteria")
    c2, c3 = st.columns([2.4, 1])
    sparsities = c2.pills("Sparsities", list(cu.SWEEP_SPARSITIES), selection_mode="multi",
                          default=list(cu.SWEEP_SPARSITIES), format_func="{}%".format, key="cmp_sweep_sparsities")
    epochs = c3.select_slider("Fine-tune epochs", [0, 1, 2], value=1, key="cmp_sweep_epochs",
                              help="0: prune only, no retraining (seconds). Each epoch takes a few seconds per point.")
    estimate = cu.estimate_sentence(len(choices) * len(cu.SWEEP_SPARSITIES), 1)
    st.caption(f"{md(estimate[:1].upper() + estimate[1:])} 0 epochs takes seconds. It runs in the background: you "
               "can look at the history meanwhile.")
    run_it = st.button("Run sweep", type="primary", icon=":material/play_arrow:", disabled=running,
                       key="cmp_btn_sweep")
settings.reset_button("cmp_", label="Reset the sweep settings")

if run_it:
    if not criteria or not sparsities:
        st.warning("Choose at least one criterion and one sparsity.", icon=":material/warning:")
    elif cu.start_sweep(criteria, sparsities, int(epochs), executor=run_on.executor()) is not None:
        st.rerun()  # the button turns disabled and the progress panel appears

cu.adopt_finished_sweep()
job = jobs.panel(cu.SWEEP_JOB)
if job is not None and job.kind != cu.SWEEP_JOB and job.running:
    st.caption(f"“{md(job.name)}” is running; a sweep can start when it has finished.")
sweep = cu.current_sweep()
if sweep is not None:
    if not cu.sweep_matches_current_model(sweep):
        st.info(f"The last sweep ran on another model ({md(sweep.model_name)}); run it again for the current one.",
                icon=":material/info:")
    widgets.chart(cu.sweep_figure(sweep), key="cmp_sweep_chart")
    st.caption(md(sweep.where))
    if sweep.failed:
        st.warning("These points failed twice and are left out of the chart: " + md("; ".join(sweep.failed)),
                   icon=":material/error:")
    st.caption(cu.sweep_caption(sweep))
    st.dataframe(cu.sweep_table(sweep), hide_index=True, column_config=cu.SWEEP_TABLE_CONFIG, key="cmp_sweep_table")
