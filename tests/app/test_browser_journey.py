"""A first-time user, end to end in Chromium: Home → Model (train 1 epoch) → Prune (move a slider, Apply)
→ Retrain (fine-tune 1 epoch) → Compare (the run is on the chart) → download the CSV and the HTML report."""

import csv
import io
import re

import pytest
from playwright.sync_api import expect

from tests.browser import (assert_no_exception, go_to, live_slider, metric_text, open_page, press_slider,
                           train_one_epoch, wait_idle, wait_live)

pytestmark = pytest.mark.browser


def open_section(page, name):
    go_to(page, name)
    page.get_by_role("heading", name=name, exact=True).first.wait_for(timeout=60_000)
    wait_idle(page, timeout=120_000)


def test_first_time_user_journey(page, app_url):
    open_page(page, app_url)
    expect(page.get_by_role("heading", name="Pruning Explorer")).to_be_visible()

    open_section(page, "Model")
    train_one_epoch(page)
    assert_no_exception(page)

    open_section(page, "Prune")
    wait_live(page)
    press_slider(page, live_slider(page, "dense1"), 10, "0.40", "dense1%3A0.4")  # 0.30 → 0.40
    sparsity = metric_text(page, "Overall sparsity")
    page.get_by_role("button", name=re.compile("^Apply")).click()
    page.get_by_text("Candidate ready").wait_for(timeout=30_000)
    assert sparsity in page.get_by_text("Candidate ready").inner_text()
    assert_no_exception(page)

    open_section(page, "Retrain")
    assert f"{sparsity} sparse" in page.locator("[data-testid='stAlert']").first.inner_text()
    page.get_by_role("button", name="Run", exact=True).click()
    page.get_by_text("Last run").wait_for(timeout=180_000)
    wait_idle(page)
    final = metric_text(page, "After retraining")
    assert re.fullmatch(r"\d+\.\d\d%", final)
    assert_no_exception(page)

    open_section(page, "Compare")
    page.locator(".js-plotly-plot").first.wait_for(timeout=60_000)
    assert_no_exception(page)
    with page.expect_download() as csv_download:
        page.get_by_role("button", name="Run history (CSV)").click()
    rows = list(csv.DictReader(io.StringIO(open(csv_download.value.path(), encoding="utf-8").read())))
    finals = [f"{100 * float(r['final_accuracy']):.2f}%" for r in rows]
    assert final in finals
    with page.expect_download() as html_download:
        page.get_by_role("button", name="HTML report").click()
    html = open(html_download.value.path(), encoding="utf-8").read()
    assert html.lstrip().lower().startswith("<!doctype html") and "plotly" in html.lower()
    assert final in html
