"""AppTest helpers: run one page the way app.py would (page config + the page script)."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 120  # TF pages: import + model load + evaluation on 2 cores


def page_test(page: str, **query: str) -> AppTest:
    """AppTest for pages/<page>.py run through the router (so st.navigation and the sidebar run too),
    opened with ``query`` as its URL query parameters (e.g. ``page_test("prune", v="0")``)."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    if page != "home":  # the default page; switching to it explicitly skips the router's sidebar in AppTest
        at.switch_page(f"pages/{page}.py")
    at.query_params.update(query)
    return at


def metric_value(at: AppTest, label: str) -> str:
    for metric in at.metric:
        if metric.label == label:
            return metric.value
    raise AssertionError(f"no metric {label!r}; have {[m.label for m in at.metric]}")
