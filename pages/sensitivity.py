"""Sensitivity: prune one layer at a time at 10 … 90% (no retraining), see which layers tolerate it, and
carry the largest safe sparsity per layer to the Prune page."""

import streamlit as st

from ui import prune_labels, run_on
from ui import sensitivity as su
from ui import settings, state, widgets
from ui.router import require_router
from ui.text import md

require_router()

st.title("Layer sensitivity")
st.caption("Prune one layer alone — its lowest-scoring weights, 10% to 90% — keep every other layer dense, retrain "
           "nothing, and measure test accuracy. Layers whose line stays flat can be pruned hard.")
widgets.data_badge()

entry = state.current_model()
if not su.has_prunable_layers():
    st.info("This model has no kernel to scan (Dense, Conv, attention, Embedding or recurrent). Load another on the Model page.",
            icon=":material/info:")
    st.stop()
if not state.has_data():
    st.info("The scan measures test accuracy, and this model has no labelled data. Add data for it on the Model page "
            "(MNIST when its input fits, or your own .npz).", icon=":material/info:")
    st.stop()

c1, c2, c3 = st.columns([1, 2, 0.6], vertical_alignment="bottom")
criterion = c1.selectbox("Importance criterion", su.criterion_choices(), format_func=prune_labels.criterion_label,
                         key="sens_criterion",
                         help="Which weights of the layer go first. Sensitivity and Taylor use gradients averaged "
                              "over 4 batches of 128 training examples, as on the Prune page.")
low, high, step, default = su.DROP
drop = c2.slider("Allowed accuracy drop (points below dense)", low, high, default, step=step, format="%.1f pts",
                 key="sens_drop", help="The table lists, per layer, the largest sparsity that stays within this drop.")
settings.reset_button("sens_", label="Reset", container=c3)
st.caption(f"Model: **{md(entry.name)}**. Each scan is computed once per model and criterion in this session.")
run_on.controls("layer")

result = su.scan(criterion)
best = su.within(result, drop)
if result.failed:
    st.warning("These layers could not be scanned (their task failed twice) and have no line: " + md("; ".join(result.failed)),
               icon=":material/error:")

widgets.chart(su.figure(result, drop), key="sens_chart")
st.caption(f"Test accuracy with one layer pruned alone, a line per layer; grey dashed: the dense model "
           f"({result.dense_accuracy:.2%}), black dotted: the allowed floor ({drop:.1f} pts below).")

st.markdown(f"##### Largest sparsity per layer within {drop:.1f} pts of dense")
st.dataframe(su.table(result, best), width="stretch", hide_index=True, column_config=su.TABLE_CONFIG,
             key="sens_table")
st.caption("Each layer's value is measured with the other layers dense. Pruning several layers together usually "
           "costs more than each alone, so check the combined accuracy on the Prune page.")

m1, m2 = st.columns([1, 2], vertical_alignment="center")
m1.metric("Overall sparsity with these values", f"{su.overall_sparsity(result, best):.1%}",
          help="Share of all prunable kernel weights pruned when every layer takes its value.")
if m2.button("Use these per-layer values on the Prune page", type="primary", icon=":material/arrow_forward:",
             key="sens_carry"):
    su.carry_to_prune_page(criterion, best)
