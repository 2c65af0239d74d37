"""A five-step guided tour for a first-time user: what to look at on each page, dismissible, remembered
for the session (never across sessions: nothing is written anywhere).

The router draws :func:`card` above every page: an offer on Home until it is taken or declined, then,
while the tour runs, the current step (a step's page sets the step when you arrive there yourself).
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

KEY = "_tour"  # {"active": bool, "step": int, "offered": bool}; not a widget key, so it survives navigation


@dataclass(frozen=True)
class Step:
    page: str   # page name (file stem)
    title: str
    look: str   # what to look at, in one or two sentences


STEPS = (
    Step("model", "The model",
         "The model every page prunes — at first a LeNet-300-100 (784 → 300 → 100 → 10 neurons, 266,610 "
         "parameters) trained on real MNIST digits. Note its test accuracy: every later page compares against it."),
    Step("prune", "Prune by magnitude",
         "Move a layer's slider: the weights below coefficient × max |w| turn orange (pruned) in its histogram, "
         "and the sparsity and the test accuracy (before any retraining) change at once."),
    Step("worked_example", "Why criteria disagree",
         "Five weights, two scores. Switch between “L1 term” and “Sensitivity”: |w| and |∂L/∂w| rank the weights "
         "differently, so the same coefficient prunes different weights — a large weight can barely matter to the "
         "loss, and a small one a lot."),
    Step("retrain", "Retrain",
         "Apply a pruned model on the Prune page, then fine-tune it here with the pruned weights held at exactly "
         "zero: most of the lost accuracy comes back."),
    Step("compare", "Compare",
         "Every run lands here: accuracy against size. The best runs sit top-left — small and accurate."),
)
TITLES = {"model": "Model", "prune": "Prune", "worked_example": "Worked example", "retrain": "Retrain",
          "compare": "Compare"}


def _state() -> dict:
    return st.session_state.setdefault(KEY, {"active": False, "step": 0, "offered": False})


def start() -> None:
    _state().update(active=True, step=0, offered=True)


def stop() -> None:
    _state().update(active=False, offered=True)


def active() -> bool:
    return _state()["active"]


def step_for(page: str) -> int | None:
    """The step shown on ``page``, or None when the tour has no step there."""
    return next((i for i, s in enumerate(STEPS) if s.page == page), None)


def _go(index: int) -> None:
    _state()["step"] = index
    st.switch_page(f"pages/{STEPS[index].page}.py")


def card(page: str) -> None:
    """Above the page: the tour's offer (Home, first visit), or the current step with Back / Next / End."""
    state = _state()
    if not state["active"]:
        if page == "home" and not state["offered"]:
            with st.container(border=True, key="tour_offer"):
                text = st.container()
                yes = no = st.container(horizontal=True)
                text.markdown("**New to pruning?** A five-step tour shows what to look at on each page "
                              "(about five minutes).")
                if yes.button("Start the tour", type="primary", icon=":material/tour:", key="tour_btn_start"):
                    start()
                    _go(0)
                if no.button("No thanks", key="tour_btn_decline"):
                    stop()
                    st.rerun()
        return
    here = step_for(page)
    if here is not None:
        state["step"] = here
    index = state["step"]
    step = STEPS[index]
    with st.container(border=True, key="tour_card"):
        st.markdown(f"**Tour · step {index + 1} of {len(STEPS)} — {step.title}**")
        if here is None:
            st.caption(f"This step is on the {TITLES[step.page]} page.")
        else:
            st.markdown(step.look)
        buttons = st.container(horizontal=True)  # wraps on a narrow screen instead of cutting labels
        back = forward = end = buttons
        if index > 0 and back.button(f"Back: {TITLES[STEPS[index - 1].page]}", icon=":material/arrow_back:",
                                     key="tour_btn_back"):
            _go(index - 1)
        if here is None:
            if forward.button(f"Go to {TITLES[step.page]}", type="primary", key="tour_btn_there"):
                _go(index)
        elif index + 1 < len(STEPS):
            if forward.button(f"Next: {TITLES[STEPS[index + 1].page]}", type="primary",
                              icon=":material/arrow_forward:", key="tour_btn_next"):
                _go(index + 1)
        if end.button("End the tour" if index + 1 < len(STEPS) else "Finish the tour", icon=":material/close:",
                      key="tour_btn_end"):
            stop()
            st.rerun()


def sidebar_link() -> None:
    """In the sidebar: take the tour again at any time."""
    if not active() and st.sidebar.button("Take the tour", icon=":material/tour:", key="tour_btn_sidebar"):
        start()
        _go(0)
