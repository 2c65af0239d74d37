"""Real browser: the guided tour opens, walks from page to page and closes for the session; presenter mode
(?present=1) hides the sidebar and enlarges the numbers, and can be left."""

import pytest
from playwright.sync_api import expect

from tests.browser import assert_no_exception, open_page, wait_idle

pytestmark = pytest.mark.browser
# The font size of the element that holds the number's text (the value's innermost element), as it is drawn.
INNER_FONT = "e => { let t = e; while (t.firstElementChild) t = t.firstElementChild; " \
             "return parseFloat(getComputedStyle(t).fontSize); }"


def click(page, name, timeout=120_000):
    page.get_by_role("button", name=name).click()
    wait_idle(page, timeout=timeout)


def test_tour_opens_walks_and_closes(page, app_url):
    open_page(page, app_url)
    offer = page.locator(".st-key-tour_offer")
    expect(offer).to_contain_text("five-step tour")
    click(page, "Start the tour")
    card = page.locator(".st-key-tour_card")
    expect(card).to_contain_text("Tour · step 1 of 5 — The model", timeout=60_000)
    page.wait_for_url(lambda url: "/model" in url)
    click(page, "Next: Prune")
    expect(card).to_contain_text("step 2 of 5 — Prune by magnitude", timeout=60_000)
    page.wait_for_url(lambda url: "/prune" in url)
    click(page, "Next: Worked example")
    expect(card).to_contain_text("step 3 of 5 — Why criteria disagree", timeout=60_000)
    expect(card).to_contain_text("rank the weights differently")
    click(page, "End the tour")
    expect(card).to_have_count(0)
    page.locator("[data-testid='stSidebarNav']").get_by_role("link", name="Home").click()
    wait_idle(page)
    expect(page.get_by_role("heading", name="Pruning Explorer")).to_be_visible()
    expect(page.locator(".st-key-tour_offer")).to_have_count(0)  # remembered for the session: not offered again
    assert_no_exception(page)


def test_presenter_mode_hides_the_sidebar_and_enlarges_numbers(page, app_url):
    open_page(page, f"{app_url}/model?present=1", timeout=120_000)
    expect(page.locator("[data-testid='stSidebar']")).to_be_hidden()
    expect(page.locator("[data-testid='stSidebarNav']")).to_have_count(0)
    value = page.locator("[data-testid='stMetricValue']").first
    presented = value.evaluate(INNER_FONT)
    assert presented >= 50  # 3.2rem

    click(page, "Leave presenter mode")
    expect(page.locator("[data-testid='stSidebarNav']")).to_be_visible()
    normal = page.locator("[data-testid='stMetricValue']").first.evaluate(INNER_FONT)
    assert normal < presented
    assert "present=1" not in page.url
    assert_no_exception(page)
