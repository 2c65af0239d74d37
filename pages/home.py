"""Home: what pruning is, the loop, where to start."""

import streamlit as st

from ui.router import require_router

require_router()

st.title("Pruning Explorer")
st.markdown(
    "Most weights of a trained network barely matter. **Pruning** sets the least important ones to zero — "
    "or removes whole neurons — so the model gets smaller and faster while keeping its accuracy. "
    "Here you score every weight by importance, pick a threshold with a slider, see exactly what is cut, "
    "retrain with the cut weights held at zero, and compare accuracy against size."
)

STEPS = [
    (":material/model_training:", "Train", "Fit a baseline on MNIST, or bring your own model."),
    (":material/fact_check:", "Evaluate", "Measure test accuracy, parameters and bytes."),
    (":material/content_cut:", "Prune", "Score weights (|w|, |∂L/∂w|, |w·∂L/∂w|) and cut below a threshold."),
    (":material/replay:", "Retrain", "Fine-tune with the pruned weights held at exactly zero."),
    (":material/compare_arrows:", "Compare", "Accuracy against size, run after run."),
]
st.subheader("The loop")
for col, (icon, name, text) in zip(st.columns(len(STEPS)), STEPS):
    with col.container(border=True):
        st.markdown(f"### {icon}\n**{name}**")
        st.caption(text)

st.subheader("Where to start")
st.markdown(
    "A LeNet-300-100 already trained on real MNIST digits is loaded for you, so every page works straight away. "
    "Open **Model** to see it or train your own; the classic rule is *prune a weight when its score is below "
    "coefficient × the largest score*, with a coefficient of about 0.1–0.5."
)
st.page_link("pages/model.py", label="Go to the Model page", icon=":material/arrow_forward:")
