"""Worked example (teaching): the five-weight table, a coefficient slider, and exactly which weights go."""

import streamlit as st

from ui import example as ex
from ui import jobs, settings, widgets
from ui.text import md
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
    settings.reset_button("we_", label="Reset", container=c1)

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
    st.markdown("##### Ranking, most important first")
    for column, order in ex.rankings().items():
        st.markdown(f"**{column}:** {order}")
    st.caption("The two scores rank the weights differently (w5 and w1 swap), so at the same coefficient they "
               "prune different weights.")

st.markdown("##### Both scores at the same coefficient")
both = ex.side_by_side(coefficient, result)
widgets.chart(ex.side_by_side_figure(both), key="we_chart")
st.caption(f"Each score against its own threshold, coefficient {coefficient:.2f} × that score's maximum"
           + (" (your own maximum for the chosen score)" if result.max_given else "")
           + ". Bars below the dashed line are pruned (orange); bars on or above it are kept (blue).")

with st.container(border=True, key="we_article"):
    article = ex.article_setting()
    st.markdown("#### What the article got wrong")
    st.caption(f"The article: “{article['title']}” (“{article['title_en']}”), a Chinese-language introduction to "
               f"pruning; its worked example is section {article['section']}.")
    st.markdown(f"The classic article's example uses coefficient **{article['coefficient']}** on the sensitivity "
                "column. Its answer, and the one the table gives:")
    said, computed = st.columns(2, border=True)
    # Labels avoid the word "threshold": the page's own Threshold metric stays the only one so named.
    said.markdown("**The article says**")
    said.metric(f"Cut-off {article['article_formula']} =", article["article_threshold"],
                help="The article's threshold: coefficient × what it calls the maximum sensitivity.")
    said.metric("The article prunes", article["article_pruned"])
    computed.markdown("**The table gives**")
    computed.metric(f"Cut-off {article['formula']} =", article["threshold"],
                    help="The computed threshold: coefficient × the largest sensitivity in the table.")
    computed.metric("Computed: pruned", article["pruned"])
    st.table(ex.claims_table())
    st.markdown("**Its TensorFlow code does not run:**")
    for snippet, problem, fix in ex.code_errors():
        st.markdown(f"- `{snippet}` — {problem}. Instead: {fix}.")

st.markdown("#### From the article to code that runs")
st.markdown("The article's five steps, its code on the left, the `prune_core` calls that do each step on the "
            "right (with this page's score and coefficient filled in).")
epochs = st.session_state.get("we_epochs", 1)
for number, (step, code) in enumerate(ex.steps(criterion, coefficient, epochs), start=1):
    st.markdown(f"**{number}. {step.name}** — {step.does}")
    left, right = st.columns(2, gap="medium")
    left.caption("The article")
    left.code(step.article, language="python", wrap_lines=True)
    right.caption("With prune_core")
    right.code(code, language="python", wrap_lines=True)

with st.container(border=True):
    r1, r2 = st.columns([1, 2.5], vertical_alignment="bottom")
    r1.number_input("Retraining epochs", min_value=0, max_value=5, value=1, key="we_epochs")
    run_clicked = r2.button("Run steps 2–5 on the current model", icon=":material/play_arrow:",
                            disabled=jobs.busy(), key="we_run_steps",
                            help="Scores, thresholds, prunes and retrains the current model (Model page) with the "
                                 "code above; the model itself is not changed.")
    if run_clicked and ex.start_steps(criterion, coefficient, int(st.session_state["we_epochs"])):
        st.rerun()
    jobs.panel(ex.STEPS_JOB)
    finished = ex.steps_outcome()
    if finished:
        name, outcome = finished
        st.markdown(f"**{md(name)}**")
        cols = st.columns(5)
        for col, (label, value) in zip(cols, ex.outcome_numbers(outcome).items()):
            col.metric(label, value)
        st.dataframe(ex.outcome_thresholds(outcome), hide_index=True)

st.info("On the **Prune** page the same rule runs on every weight of a real network, one threshold per layer "
        "(or one for the whole model).", icon=":material/school:")
