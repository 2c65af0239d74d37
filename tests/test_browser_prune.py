"""Real browser: the Prune page opens fresh with histograms and the table; a keyboard slider move
changes the sparsity number and the histogram."""

import pytest
from playwright.sync_api import expect

from tests.browser import assert_no_exception, open_page, press_slider

pytestmark = pytest.mark.browser


def metric(page, label):
    return page.locator("[data-testid='stMetric']").filter(has_text=label).locator(
        "[data-testid='stMetricValue']").inner_text()


def test_prune_page_slider_moves_update_sparsity_and_histogram(page, app_url):
    open_page(page, f"{app_url}/prune")
    page.locator(".js-plotly-plot").nth(3).wait_for(timeout=60_000)  # 3 histograms and the sparsity bars
    # Retrying expectations: the data grid and images mount asynchronously after the script finishes.
    expect(page.locator("[data-testid='stImage']")).to_have_count(1, timeout=30_000)  # first-layer mosaic
    expect(page.locator("[data-testid='stDataFrame']")).to_have_count(1, timeout=30_000)
    expect(page.get_by_role("heading", name="Importance table")).to_be_visible()
    assert_no_exception(page)
    before_sparsity = metric(page, "Overall sparsity")
    histogram = page.locator(".js-plotly-plot").first
    before_bars = histogram.locator("g.trace.bars").first.inner_html()

    slider = page.locator("[data-testid='stSlider']").filter(has_text="dense1")
    press_slider(page, slider, 10, "0.40", "dense1%3A0.4")  # 0.30 → 0.40
    after_sparsity = metric(page, "Overall sparsity")
    assert float(after_sparsity.rstrip("%")) > float(before_sparsity.rstrip("%"))
    assert histogram.locator("g.trace.bars").first.inner_html() != before_bars
    assert_no_exception(page)
