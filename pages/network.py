"""Network (learn): the MLP drawn neuron by neuron; as the coefficient moves, pruned connections fade.

An MLP's coefficient, numbers and picture are the live view (``ui.network_live``: redrawn in the browser); a conv
net's first filters, and what the live view cannot draw, are the server's figures, rebuilt per move."""

import streamlit as st

from ui import network as nu
from ui import network_live
from ui import settings, widgets
from ui.errors import guarded
from ui.router import require_router
from ui.text import md

require_router()

st.title("Network")
st.caption("See the network itself: every column is a layer of neurons, every line a weight — move the coefficient "
           "and watch the pruned connections fade and the removed neurons grey out.")
busy = st.empty()

shown = nu.view()
if shown.kind == "none":
    st.info(shown.message, icon=":material/info:")
    st.stop()
ctx = shown.ctx
nu.seed_settings(ctx)
st.caption(f":material/hub: **Model:** {md(ctx.entry.name)}")

with st.container(border=True):
    criterion = st.radio("Importance criterion", nu.available_criteria(ctx), format_func=nu.criterion_label,
                         key="net_criterion", horizontal=True, help=nu.criterion_help())
    c1, c2 = st.columns([1, 1.3])
    granularity = c1.radio("Prune", list(nu.GRANULARITIES), format_func=nu.GRANULARITIES.get, key="net_granularity",
                           horizontal=True,
                           help="Individual weights, or whole neurons (a removed neuron takes its incoming and "
                                "outgoing weights with it; its score is the sum over its weights, so neurons go "
                                "only at higher coefficients).")
    sample = c2.radio("Connections drawn per neuron", list(nu.SAMPLES), format_func=nu.SAMPLES.get, key="net_edges",
                      horizontal=True, disabled=shown.kind != "dense",
                      help="Large layers get a few lines per neuron. A spread of strengths (strongest to weakest) "
                           "shows how much is pruned; the strongest alone are the last a magnitude rule takes.")
    tools = st.container(horizontal=True, vertical_alignment="center", gap="medium")
    tools.button("Reset", key="net_btn_reset", icon=":material/restart_alt:", on_click=nu.reset,
                 help="Every control on this page back to its default.")
    tools.caption("Starts from the Prune page's criterion and granularity. The coefficient rule below sets one "
                  "threshold per layer.")

all_scores = nu.scores(ctx, criterion, where=busy)
low, high, step = nu.coefficient_range()


@st.fragment
@guarded("drawing the network")
def live_view():
    data = None
    if shown.kind == "dense" and network_live.eligible(ctx):
        data = network_live.payload(ctx, all_scores, criterion, granularity, sample, where=busy)
    if data is not None:  # moves redrawn in the browser; the value comes back when the slider rests
        network_live.mount(data)
        settings.write_page_url("network")
        st.caption(nu.live_caption(nu.layout(ctx, sample), sample))
        return
    coefficient = st.slider(network_live.LABEL, low, high, step=step, format="%.2f", key="net_coefficient",
                            help=network_live.HELP)
    settings.write_page_url("network")  # a fragment's rerun does not reach the router: the link follows here
    mask = nu.mask_set(ctx, all_scores, criterion, granularity, coefficient)
    if shown.kind == "dense":
        fig, summary = nu.figure(ctx, all_scores, criterion, granularity, mask, sample)
        row = st.container(horizontal=True, gap="medium")
        for m in nu.metrics(summary, mask):
            row.metric(m.label, m.value, delta=m.delta, delta_color="off", delta_arrow="off", help=m.help, width=190)
        widgets.chart(fig, key="net_figure", config={"displayModeBar": False})
        st.caption(nu.caption(summary, sample))
        return
    st.info(shown.message, icon=":material/info:")
    fig, text = nu.filters(ctx, shown.conv_layer, mask)
    row = st.container(horizontal=True, gap="medium")
    for m in nu.filter_metrics(ctx, shown.conv_layer, mask):
        row.metric(m.label, m.value, delta=m.delta, delta_color="off", delta_arrow="off", help=m.help, width=190)
    st.markdown(f"##### First-layer filters: {md(shown.conv_layer)}")
    widgets.chart(fig, key="net_filters", config={"displayModeBar": False})
    st.caption(text)


live_view()
