"""Real browser (issue 7, journey 2): the worked-example page gives the right pruned set as its coefficient
slider moves under the keyboard. Answers worked by hand from the table (prune where score < c × max, strict):
    L1 term      w1 .5  w2 .3  w3 .6  w4 .2   w5 .4   (max .6)
    sensitivity  w1 .2  w2 .1  w3 .4  w4 .05  w5 .3   (max .4)
"""

import pytest
from playwright.sync_api import expect

from tests.browser import assert_no_exception, open_page, wait_idle

pytestmark = pytest.mark.browser

# (key, presses, coefficient shown, threshold, pruned) — each step starts where the previous one ended.
L1_STEPS = [
    ("ArrowRight", 4, "0.50", "0.3", ["w4"]),                    # w2 = 0.3 on the line: kept
    ("ArrowRight", 1, "0.55", "0.33", ["w2", "w4"]),
    ("ArrowRight", 3, "0.70", "0.42", ["w2", "w4", "w5"]),
    ("ArrowRight", 6, "1.00", "0.6", ["w1", "w2", "w4", "w5"]),   # only the maximum survives
    ("ArrowLeft", 13, "0.35", "0.21", ["w4"]),
    ("ArrowLeft", 1, "0.30", "0.18", []),
]
SENSITIVITY_STEPS = [
    ("ArrowRight", 9, "0.75", "0.3", ["w1", "w2", "w4"]),         # w5 = 0.3 on the line: kept
    ("ArrowLeft", 5, "0.50", "0.2", ["w2", "w4"]),                # w1 = 0.2 on the line: kept
    ("ArrowLeft", 3, "0.35", "0.14", ["w2", "w4"]),
    ("ArrowLeft", 2, "0.25", "0.1", ["w4"]),                      # w2 = 0.1 on the line: kept
]


def metric(page, label):
    return page.locator("[data-testid='stMetric']").filter(has_text=label).locator(
        "[data-testid='stMetricValue']").inner_text().strip()


def table_pruned(page) -> list[str]:
    rows = page.locator("[data-testid='stTable'] tbody tr")
    pruned = []
    for i in range(rows.count()):
        cells = [c.strip() for c in rows.nth(i).locator("th, td").all_inner_texts()]
        if cells[-1] == "pruned":
            pruned.append(cells[0])
    return pruned


def check(page, threshold, pruned):
    assert metric(page, "Threshold") == threshold
    assert metric(page, "Pruned weights") == (", ".join(pruned) or "none")
    assert table_pruned(page) == pruned
    assert_no_exception(page)


def move(page, thumb, key, presses, shown, threshold):
    thumb.focus()
    for _ in range(presses):
        thumb.press(key)
    wait_idle(page)
    expect(page.locator("[data-testid='stSliderThumbValue']")).to_have_text(shown, timeout=30_000)
    # The thumb label moves at once; the rerun with the new value may start a moment later.
    expect(page.locator("[data-testid='stMetric']").filter(has_text="Threshold").locator(
        "[data-testid='stMetricValue']")).to_have_text(threshold, timeout=30_000)
    wait_idle(page)


def test_pruned_set_follows_the_coefficient_slider(page, app_url):
    open_page(page, f"{app_url}/worked_example")
    page.get_by_role("heading", name="Worked example").wait_for(timeout=60_000)
    page.locator(".js-plotly-plot").first.wait_for(timeout=60_000)  # plotly loads after the script finishes
    expect(page.locator(".js-plotly-plot")).to_have_count(1, timeout=30_000)
    check(page, "0.18", [])  # L1, 0.30: nothing below 0.18
    thumb = page.locator("[data-testid='stSlider']").filter(has_text="Coefficient").get_by_role("slider")
    for key, presses, shown, threshold, pruned in L1_STEPS:
        move(page, thumb, key, presses, shown, threshold)
        check(page, threshold, pruned)

    page.get_by_text("Sensitivity |∂L/∂w|", exact=True).click()
    wait_idle(page)
    page.locator("[data-testid='stMetric']").filter(has_text="Max score").filter(has_text="0.4").wait_for()
    check(page, "0.12", ["w2", "w4"])  # sensitivity, 0.30
    for key, presses, shown, threshold, pruned in SENSITIVITY_STEPS:
        move(page, thumb, key, presses, shown, threshold)
        check(page, threshold, pruned)
