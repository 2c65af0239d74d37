"""The only place that knows both Streamlit and prune_core: session state, caching, shared widgets."""
