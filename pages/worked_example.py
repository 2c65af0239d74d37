"""Worked example (teaching): the five-weight table, a coefficient slider, and exactly which weights go."""

import streamlit as st

from ui import example as ex
from ui import widgets
from ui.router import require_router

require_router()

st.title("Worked example: the coefficient rule")
st.markdown(
    "Five weights, **w1–w5**, each with an importance score. The rule: find the largest score, multiply it by a "
    "**coefficient** to get the **threshold**, and prune every weight whose score is **strictly below** the "
    "threshold — *prune where score < coefficient × max score*. A score exactly on the threshold is kept."
)

with st.container(border=True):
    c1, c2, c3 = st.columns([1, 1.6, 1.2])
    criterion = c1.radio("Score each weight by", list(ex.CRITERIA), format_func=ex.CRITERIA.get, key="we_criterion",
                         help="L1 term: the weight's size |w|. Sensitivity: how much the loss changes when the "
                              "weight changes, |∂L/∂w|.")
    coefficient = c2.slider("Coefficient", 0.0, 1.0, 0.3, step=0.05, format="%.2f", key="we_coefficient",
                            help="Typical values are 0.1–0.5. At 0 nothing is pruned; at 1 everything except "
                                 "the largest score is pruned.")
    c2.caption("Typical range 0.1–0.5; drag further to see the rule take more and more weights.")
    own = c3.toggle("Use your own maximum", key="we_own_max",
                    help="Replace max score with a number of your choice, e.g. the largest score in the whole "
                         "layer rather than in these five weights.")
    typed = c3.number_input("Maximum score", min_value=0.01, max_value=100.0, value=1.0, step=0.1, format="%.2f",
                            key="we_maximum", disabled=not own)
    maximum = typed if own else None

result = ex.result(criterion, coefficient, maximum)
label = ex.SHORT[criterion]

m1, m2, m3 = st.columns([1, 1, 2.2])
m1.metric("Threshold", f"{result.threshold:.4g}",
          help=f"coefficient × max score = {result.coefficient:.2f} × {result.maximum:.4g}")
m2.metric("Max score", f"{result.maximum:.4g}",
          help="Your own maximum." if result.max_given else f"The largest {label} among w1–w5.")
m3.metric(f"Pruned weights ({len(result.pruned)} of {len(result.table)})", ex.names(result.pruned))
with st.container(key="we_outcome"):
    badges = ex.badges(result)
    st.markdown(f"**threshold = {result.coefficient:.2f} × {result.maximum:.4g} = {result.threshold:.4g}**; a weight "
                f"is pruned when its {label} < {result.threshold:.4g}: {badges}")

left, right = st.columns([1, 1.2], gap="large")
with left:
    st.markdown("##### The table")
    st.table(ex.styled_table(result))
    st.caption(f"Each weight's scores; the bold score column (here the {label}) is compared with the threshold, "
               "and pruned rows are tinted orange.")
with right:
    st.markdown("##### Scores against the threshold")
    widgets.chart(ex.figure(result, criterion), key="we_chart")
    st.caption("Bars below the dashed threshold line are pruned (orange); bars on or above it are kept (blue).")

st.info("On the **Prune** page the same rule runs on every weight of a real network, one threshold per layer "
        "(or one for the whole model).", icon=":material/school:")
