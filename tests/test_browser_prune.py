"""Real browser: the Prune page opens fresh with histograms and the table; a keyboard slider move
changes the sparsity number and the histogram."""

import pytest

from tests.browser import assert_no_exception, open_page, wait_idle

pytestmark = pytest.mark.browser


def metric(page, label):
    return page.locator("[data-testid='stMetric']").filter(has_text=label).locator(
        "[data-testid='stMetricValue']").inner_text()


def test_prune_page_slider_moves_update_sparsity_and_histogram(page, app_url):
    open_page(page, f"{app_url}/prune")
    page.locator(".js-plotly-plot").nth(3).wait_for(timeout=60_000)  # 3 histograms and the sparsity bars
    assert page.locator("[data-testid='stImage']").count() == 1  # first-layer mosaic
    assert page.locator("[data-testid='stDataFrame']").count() == 1
    assert page.get_by_role("heading", name="Importance table").is_visible()
    assert_no_exception(page)
    before_sparsity = metric(page, "Overall sparsity")
    histogram = page.locator(".js-plotly-plot").first
    before_bars = histogram.locator("g.trace.bars").first.inner_html()

    thumb = page.locator("[data-testid='stSlider']").filter(has_text="dense1").get_by_role("slider")
    thumb.focus()
    for _ in range(10):
        thumb.press("ArrowRight")  # 0.30 → 0.40
    wait_idle(page)
    page.wait_for_function(
        "() => [...document.querySelectorAll(\"[data-testid='stSlider']\")].some(s => s.innerText.includes('0.40'))")
    wait_idle(page)
    after_sparsity = metric(page, "Overall sparsity")
    assert float(after_sparsity.rstrip("%")) > float(before_sparsity.rstrip("%"))
    assert histogram.locator("g.trace.bars").first.inner_html() != before_bars
    assert "dense1%3A0.4" in page.url or "dense1:0.4" in page.url
    assert_no_exception(page)
