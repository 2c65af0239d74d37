"""Real browser: a finished one-shot keeps its downloads after a gradual run finishes (every finished run of the
session stays listed with its own files)."""

import pytest
from playwright.sync_api import expect

from tests.browser import assert_no_exception, open_page, wait_idle

pytestmark = pytest.mark.browser


def set_number(page, label, value):
    box = page.get_by_role("spinbutton", name=label)
    box.fill(str(value))
    box.press("Tab")


def test_a_finished_one_shot_keeps_its_downloads_after_a_gradual(page, app_url):
    open_page(page, f"{app_url}/retrain", timeout=120_000)
    set_number(page, "Epochs", 0)  # one-shot without retraining: seconds
    page.get_by_role("button", name="Run", exact=True).click()
    expect(page.get_by_text("Last run · one-shot")).to_be_visible(timeout=180_000)
    wait_idle(page)
    names = ["Pruned model (.keras)", "Report (.html)"]
    for name in names:
        expect(page.get_by_role("button", name=name)).to_have_count(1)

    page.locator("[data-testid='stRadio']").get_by_text("Gradual", exact=True).click()
    page.wait_for_url(lambda url: "mode=gradual" in url, timeout=60_000)
    wait_idle(page)
    set_number(page, "Epochs", 1)
    page.get_by_role("button", name="Run", exact=True).click()
    expect(page.get_by_text("Last run · gradual")).to_be_visible(timeout=300_000)
    wait_idle(page)

    earlier = page.locator("[data-testid='stExpander']").filter(has_text="one-shot")
    expect(earlier).to_have_count(1)
    earlier.locator("summary").click()
    for name in names:  # the one-shot's own files, still offered
        expect(earlier.get_by_role("button", name=name)).to_be_visible()
    expect(earlier.get_by_role("button", name="Continue from this model")).to_be_visible()
    assert_no_exception(page)
