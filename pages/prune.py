"""Prune: pick a criterion and a threshold rule, move sliders, see what is cut and what it costs."""

import streamlit as st

from ui.router import require_router
from ui import quickstart
from ui import guide
from ui import prune_heads, prune_labels, prune_live, prune_session, prune_url, prune_view
from ui import state, widgets
from ui.errors import guarded

require_router()
quickstart.prune_preview_until_ready()  # first visit: the default view from the file while TensorFlow loads
# Histograms are redrawn on every slider move: no mode bar to rebuild each time.
HISTOGRAM_CONFIG = {"displayModeBar": False}

st.title("Prune")
st.caption("Score every weight, prune where score < threshold, and see the cost at once — measured on the test split, "
           "before any retraining.")
widgets.data_badge()
busy = st.empty()  # what a wait is for (scoring by gradients) shows here, at the top, not only as a dimmed page

ctx = prune_session.context()
if ctx is None:
    st.info("This model has no kernel to prune (Dense, Conv, attention, Embedding or recurrent). Load another on the Model page.",
            icon=":material/info:")
    st.stop()
prune_url.restore_from_url(ctx.names)

with st.container(border=True):
    c1, c2 = st.columns(2)
    criteria = prune_session.available_criteria(ctx)
    if st.session_state.get("pr_criterion") not in criteria:
        st.session_state["pr_criterion"] = "magnitude"
    criterion = c1.radio("Importance criterion", criteria, format_func=prune_labels.criterion_label, key="pr_criterion",
                         help=prune_labels.criterion_help())
    rule = c2.radio("Threshold rule", prune_labels.rule_names(), format_func=prune_labels.rule_label, key="pr_rule",
                    help=prune_labels.rule_help())
    c3, c4 = st.columns(2)
    granularity = c3.radio("Granularity", list(prune_labels.GRANULARITIES), format_func=prune_labels.GRANULARITIES.get,
                           key="pr_granularity")
    scope = c4.radio("Scope", list(prune_labels.SCOPES), format_func=prune_labels.SCOPES.get, key="pr_scope")
    tools = st.container(horizontal=True, vertical_alignment="center", gap="medium")
    same = tools.toggle("Same value for all layers", key="pr_same", disabled=scope == "global",
                        help="One slider sets every layer's value; each layer still gets its own threshold.")
    streams = prune_session.has_streams(ctx) and tools.toggle(
        "Streams: prune through LayerNorm", key=prune_url.seed_slider("pr_streams", False),
        disabled=granularity != "unit",
        help="Neurons / filters only. LayerNormalization normally keeps the channels it normalises whole (removing "
             "one changes its mean and variance); on, the residual stream becomes one group that loses channels "
             "everywhere at once, and the numbers are measured on the compact model.")
    tools.button("Reset to defaults", key="pr_btn_reset", icon=":material/restart_alt:",
                 on_click=prune_url.reset_to_defaults,
                 help="Every control on this page back to its default (magnitude, weights, coefficient 0.3 per "
                      "layer); the URL too.")
    st.caption("A weight (or neuron) is pruned where its score is strictly below the threshold: "
               "**coefficient × max score** (the classic rule; 0.1–0.5 is typical for magnitude only — each "
               "criterion starts at the coefficient that prunes as much as magnitude at 0.3), the score that prunes a "
               "**target sparsity**, or **quality × σ** of the weights (Han et al. 2015). "
               + (f"Sensitivity and Taylor use gradients averaged over {prune_session.SCORE_BATCHES} batches of "
                  f"{prune_session.data_words(ctx)}." if ctx.has_data else ""))

granularity, granularity_note = prune_labels.granularity_for(rule, granularity)
if granularity_note:
    st.info(granularity_note, icon=":material/info:")
streams = bool(streams) and granularity == "unit"
ctx = prune_session.with_streams(ctx, streams)
if streams:
    st.caption("Streams mode: every LayerNorm lets channels through, so each residual stream (the embedding width "
               "and every layer writing or reading it) is one group. The norms' statistics then change, so size and "
               "accuracy below are measured on the physically smaller model, not on a masked copy.")
if granularity == "unit":
    blocked = prune_session.unprunable_groups(ctx)
    if len(blocked):
        with st.expander(f"{len(blocked)} group(s) of layers keep all their units — why", icon=":material/lock:"):
            st.dataframe(blocked, hide_index=True, width="stretch")
            st.caption("Units are removed by dependency group: every layer that writes or reads the same channels "
                       "(a residual stream, a concatenation) loses them together. These groups cannot lose any.")

if not ctx.has_data:
    st.info("This model has no data, so sensitivity, Taylor and the measured accuracy are unavailable: they need "
            "labelled examples. Magnitude and random pruning and all size figures work. Add data on the Model page.",
            icon=":material/info:")
scores = prune_session.all_scores(ctx, criterion, where=busy)
settings = dict(criterion=criterion, granularity=granularity, rule=rule, scope=scope, same=same, streams=streams)
default_note = guide.default_text(ctx, scores, settings, guide.follow_criterion(ctx, scores, settings))
if default_note:
    st.caption(default_note)


def measured_numbers(size_slot, accuracy_slot, mask_set):
    """Size estimate and test accuracy of the masked model, into their slots of the numbers row."""
    shown = prune_view.numbers(ctx, mask_set)
    size_slot.metric("Size estimate", shown.size, delta_color="inverse", delta=shown.size_delta,
                     width=230,  # its delta names the dense size: "+0.0% vs dense 278.75 kB" is never cut
                     help="Sparse size: nonzero weights as float32 values plus indices (CSR), dense where "
                          "that is smaller; the change is against the dense model stored the same way.")
    accuracy_slot.metric("Test accuracy", shown.accuracy, delta=shown.accuracy_delta, width=170,
                         help=shown.accuracy_help)
    return shown


@st.fragment
@guarded("updating the pruning preview")
def live_view():
    layers = prune_session.slider_layers(ctx, granularity)
    view = st.segmented_control("Show", list(prune_labels.VIEWS), format_func=prune_labels.VIEWS.get,
                                key=prune_url.seed_slider("pr_view", "weights")) or "weights"
    settings["view"] = view
    live = prune_live.eligible(ctx, settings, layers)  # moves redrawn in the browser; the server measures at rest
    if live:
        row = st.container(horizontal=True, gap="medium")  # the measured numbers, above the live ones
        values = prune_live.controls(ctx, scores, settings, layers, where=busy)
    elif scope == "global" or same:
        label = "Global " if scope == "global" else "All layers · "
        values = prune_view.value_widget(st, f"{label}{prune_labels.value_label(rule, granularity)}", rule,
                                         prune_url.value_key(granularity, rule, None))
    elif prune_view.uses_table(layers):
        per = "layer" if granularity == "weight" else "group"
        st.markdown(f"##### {prune_labels.value_label(rule, granularity).capitalize()} per {per}")
        values = prune_view.values_table(ctx, layers, granularity, rule)
        st.caption(f"{len(layers)} {'layers' if granularity == 'weight' else 'groups of layers'}: too many for a "
                   "row of sliders, so each value is a cell — double-click one to change it.")
    else:
        values = {}
        if granularity == "unit" and rule in prune_labels.UNIT_SHARE_RULES:
            st.caption("Each slider is the share of that layer's neurons / filters removed; the weights they take "
                       "with them are counted in Overall sparsity below.")
        for row_start in range(0, len(layers), 4):  # at most 4 sliders side by side: labels stay readable
            chunk = layers[row_start:row_start + 4]
            for col, name in zip(st.columns(max(len(chunk), min(len(layers), 4))), chunk):
                values[name] = prune_view.value_widget(col, prune_session.slider_label(ctx, name, granularity), rule,
                                               prune_url.value_key(granularity, rule, name))
    guide_slot = st.container()  # filled after the charts: the curve beside the slider must not delay them
    prune_url.write_url(settings, values)

    mask_set = prune_view.mask_set_for(ctx, scores, settings, values)
    if not live:
        row = st.container(horizontal=True, gap="medium")
        row.metric("Kept weights", f"{mask_set.kept:,}", delta=f"of {mask_set.total:,}", delta_color="off",
                   delta_arrow="off", width=170, help=prune_live.KEPT_HELP)
        if granularity == "unit":
            share, count = prune_labels.units_removed(mask_set)
            row.metric("Units removed", share, delta=count, delta_color="off", delta_arrow="off", width=170,
                       help=prune_live.UNITS_HELP)
        row.metric("Overall sparsity", prune_labels.percent(mask_set.overall_sparsity), width=170,
                   help=prune_live.OVERALL_HELP)
    # Size and accuracy need the masked model: filled after the charts, which should not wait for them.
    size_slot, accuracy_slot = row.empty(), row.empty()
    # the live view draws its charts in the browser, so the measured numbers go first (the rest waits for them);
    # the server path draws its charts first: they should not wait for the accuracy
    shown_numbers = measured_numbers(size_slot, accuracy_slot, mask_set) if live else None
    st.caption(prune_view.coverage_caption(ctx, mask_set))
    collapsing = guide.collapse(ctx, mask_set)
    summary = guide.collapse_summary(collapsing, mask_set)
    if summary:  # dozens of boxes would push the charts screens down: one line, the list behind it
        st.warning(summary, icon=":material/warning:")
        with st.expander(f"The {len(collapsing)} layers", icon=":material/list:"):
            for warning in collapsing:
                st.markdown(f"- {warning}")
    else:
        for warning in collapsing:
            st.warning(warning, icon=":material/warning:")

    shown = None  # the layers whose histograms are drawn (None: every layer)
    if not live:  # the live view draws these in the browser
        st.markdown("##### Sparsity per layer")
        widgets.chart(prune_view.sparsity_figure(mask_set), key="bars")
        st.caption("Share of each layer's kernel weights that is pruned.")

        st.markdown("##### Per-layer distribution")
        shown = prune_view.histogram_layers(ctx)
        tiles = st.container(horizontal=True, gap="medium")  # as many side by side as the width allows
        for name, fig in prune_view.layer_histograms(ctx, scores, settings, mask_set, only=shown).items():
            with tiles.container(width=prune_view.TILE_WIDTH):
                widgets.chart(fig, key=f"hist-{name}", config=HISTOGRAM_CONFIG)
                st.caption(prune_view.threshold_caption(ctx, settings, mask_set, name))
        if shown == []:
            st.caption("No layer picked: choose layers above to see their histograms.")
        st.caption(prune_live.HIST_CAPTION)
        prune_view.let_charts_go()

    picture = prune_view.mosaic(ctx, mask_set)
    if picture is not None:
        st.markdown(f"##### What the first {picture.units} neurons of {picture.layer} still see")
        if picture.image is None:
            st.info(f"Every input of these {picture.units} neurons is pruned: there is nothing left to draw.",
                    icon=":material/visibility_off:")
        else:
            st.image(picture.image, width=picture.image.shape[1])  # its own size: no resizing per move
            st.caption("Each tile is one neuron's 784 incoming weights drawn as a 28×28 image (green positive, "
                       "purple negative); pruned inputs are blank.")

    if ctx.has_data and st.toggle("Per-class accuracy: which classes suffer first", key="pr_per_class"):
        figure, caption = guide.per_class(ctx, mask_set)
        widgets.chart(figure, key="per-class")
        st.caption(caption)

    if rule == "coefficient" and criterion == "magnitude":
        guide_slot.caption(guide.tail_note(ctx, scores, settings))
    elif rule == "coefficient":  # the criteria whose scores make "0.1–0.5" misleading: the curve, open
        current = values if not isinstance(values, dict) else (
            next(iter(values.values())) if len(set(values.values())) == 1 else None)
        with guide_slot.expander(f"What the coefficient does with {prune_labels.criterion_label(criterion)} scores",
                                 expanded=True, icon=":material/insights:"):
            st.markdown(guide.tail_note(ctx, scores, settings))
            widgets.chart(guide.curve_figure(ctx, scores, settings, current), key="coefficient-curve",
                          config=HISTOGRAM_CONFIG)
            st.caption(guide.curve_caption(settings, current))

    shown_numbers = shown_numbers or measured_numbers(size_slot, accuracy_slot, mask_set)

    st.markdown("##### Importance table")
    many = len(mask_set.kernels) > prune_view.TABLE_ABOVE
    which = "of each layer picked above" if shown is not None else "of each layer"
    if granularity == "unit":
        st.caption((f"The five lowest- and five highest-scored neurons/filters {which}" if many else
                    "One row per neuron/filter") + ": its score under each criterion (sum over its incoming "
                   "weights). Sort by clicking a column; filter with the search icon.")
    else:
        st.caption(f"The five lowest- and five highest-scored weights {which} — like the five-weight teaching "
                   "table, at real scale. Sort by clicking a column; filter with the search icon.")
    table = prune_view.importance_table(ctx, scores, settings, mask_set, only=shown)
    widgets.score_table(table, height=320)

    if st.button("Apply — use this pruned model on the Retrain page", type="primary", icon=":material/check:",
                 key="pr_btn_apply"):
        state.set_candidate(state.Candidate(mask_set=mask_set, settings=dict(settings), values=values,
                                            weights_key=ctx.entry.weights_key, dense_accuracy=ctx.dense_accuracy,
                                            pruned_accuracy=shown_numbers.pruned_accuracy,
                                            sparsity=mask_set.overall_sparsity))
    held = state.candidate()
    if held is not None:
        if prune_view.candidate_matches(held, settings, values):
            st.success(prune_labels.candidate_text(held), icon=":material/check_circle:")
            st.page_link("pages/retrain.py", label="Retrain this candidate", icon=":material/model_training:")
        else:
            st.warning(prune_labels.stale_candidate_text(held), icon=":material/history:")


live_view()

if prune_heads.has_heads(ctx):
    prune_heads.section(ctx, scores, criterion)
