"""Real browser: a copied link reopens the view. For the Network page's coefficient and the Retrain page's mode, the
URL is read after a change and opened in a new browser context (a new session, nothing carried over); every page
writes its own parameters and only its own (Home and Deploy carry none of Retrain's)."""

import pytest
from playwright.sync_api import expect

from tests.browser import assert_no_exception, go_to, open_page, press_slider, wait_idle

pytestmark = pytest.mark.browser


def slider(page, label):
    return page.locator("[data-testid='stSlider']").filter(has_text=label)


def test_links_reopen_the_view_in_a_new_context_and_pages_write_only_their_own(browser, page, app_url):
    open_page(page, f"{app_url}/network", timeout=180_000)
    coefficient = slider(page, "Coefficient")
    press_slider(page, coefficient, 3, "0.33", "coefficient=0.33")  # 0.30 → 0.33, the URL follows
    link = page.url

    fresh = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    open_page(fresh, link, timeout=180_000)
    expect(slider(fresh, "Coefficient")).to_contain_text("0.33", timeout=180_000)  # a new session loads the model first
    wait_idle(fresh)
    assert "coefficient=0.33" in fresh.url
    assert_no_exception(fresh)
    fresh.context.close()

    go_to(page, "Retrain")
    page.locator("[data-testid='stRadio']").get_by_text("Gradual", exact=True).click()
    page.wait_for_url(lambda url: "mode=gradual" in url, timeout=60_000)
    wait_idle(page)
    link = page.url
    go_to(page, "Home")
    page.wait_for_url(lambda url: "?" not in url, timeout=60_000)  # Home has no settings: a clean URL
    go_to(page, "Deploy")
    wait_idle(page)
    assert "mode=" not in page.url and "epochs=" not in page.url and "learning_rate=" not in page.url

    fresh = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    open_page(fresh, link, timeout=180_000)
    expect(fresh.locator("[data-testid='stRadio']").get_by_role("radio", name="Gradual")).to_be_checked(timeout=180_000)
    assert_no_exception(fresh)
    fresh.context.close()
