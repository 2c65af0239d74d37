"""Real browser: the Prune page opens fresh with histograms and the table; a keyboard slider move
changes the sparsity number and the histogram."""

import pytest
from playwright.sync_api import expect

import numpy as np

from tests.browser import (assert_no_exception, expect_slider_value, live_slider, metric_text, open_page,
                           press_slider, wait_idle, wait_live)

pytestmark = pytest.mark.browser


def metric(page, label):
    return metric_text(page, label)


def kernels():
    from prune_core.io import weights_file
    from prune_core.io.data import BASELINE_PATH

    return weights_file.kernels_from_keras_file(BASELINE_PATH)


def drawn(page) -> dict:
    """What the live view has drawn: metrics, each bar's text, each histogram's kept count per bin and caption."""
    return page.evaluate("""() => {
      const box = document.querySelector('.pe-live');
      const text = (sel) => [...box.querySelectorAll(sel)].map(e => e.textContent);
      return {kept: box.querySelector('.pe-metric-value').textContent, metrics: text('.pe-metric-value'),
              bars: text('.pe-bar-text'), captions: text('.pe-tile-caption'),
              bins: [...box.querySelectorAll('.pe-tile')].map(t => t.dataset.binKept)};
    }""")


def expected(coefficients: dict) -> dict:
    """The same numbers by numpy alone: prune where |w| < c × max|w| of the layer; weight bins as the page's
    (60 equal bins from -max|w| to max|w|)."""
    from prune_core.viz.fmt import percent

    kept_total, total, bars, bins, captions = 0, 0, [], [], []
    for name, kernel in kernels().items():
        a = np.abs(kernel)
        threshold = coefficients[name] * float(a.max())  # prune_core.methods.thresholds: in float64
        keep = a >= threshold
        kept = int(keep.sum())
        kept_total, total = kept_total + kept, total + a.size
        bars.append(percent(1 - kept / a.size))
        edges = np.linspace(-float(a.max()), float(a.max()), 61)
        bins.append(",".join(str(int(c)) for c in np.histogram(kernel[keep], edges)[0]))
        captions.append(f"{name}: threshold ±{threshold:.3g} (|w| below it is pruned) · {percent(1 - kept / a.size)} "
                        f"pruned, {kept:,} of {a.size:,} weights kept")
    return {"kept": f"{kept_total:,}", "metrics": [f"{kept_total:,}", percent(1 - kept_total / total)],
            "bars": bars, "captions": captions, "bins": bins}


def type_value(page, label: str, text: str) -> None:
    field = live_slider(page, label).locator(".pe-number")
    field.fill(text)
    field.press("Enter")


def test_prune_page_slider_moves_update_sparsity_and_histogram(page, app_url):
    open_page(page, f"{app_url}/prune")
    wait_live(page)
    # Retrying expectations: the data grid and images mount asynchronously after the script finishes.
    expect(page.locator("[data-testid='stImage']")).to_have_count(1, timeout=30_000)  # first-layer mosaic
    expect(page.locator("[data-testid='stDataFrame']")).to_have_count(1, timeout=30_000)
    expect(page.get_by_role("heading", name="Importance table")).to_be_visible()
    assert_no_exception(page)
    before = drawn(page)
    assert before == expected({"dense1": 0.3, "dense2": 0.3, "output": 0.3})
    accuracy = metric(page, "Test accuracy")

    press_slider(page, live_slider(page, "dense1"), 10, "0.40", "dense1%3A0.4")  # 0.30 → 0.40, the URL follows
    after = drawn(page)
    assert after == expected({"dense1": 0.4, "dense2": 0.3, "output": 0.3})
    assert float(after["metrics"][1].rstrip("%")) > float(before["metrics"][1].rstrip("%"))
    expect(page.locator("[data-testid='stMetric']").filter(has_text="Test accuracy").locator(
        "[data-testid='stMetricValue']")).not_to_have_text(accuracy, timeout=30_000)  # measured when it rested
    assert_no_exception(page)


def test_live_numbers_equal_numpy_over_a_sweep(page, app_url):
    """Typed values (snapped to the slider's 0.01 steps) across the range: every number drawn in the browser
    equals numpy's, without waiting for the server."""
    open_page(page, f"{app_url}/prune")
    wait_live(page)
    values = {"dense1": 0.3, "dense2": 0.3, "output": 0.3}
    for layer, text, value in [("dense1", "0", 0.0), ("dense2", "0.05", 0.05), ("output", "0.55", 0.55),
                               ("dense1", "0.99", 0.99), ("dense2", "1", 1.0), ("output", "0.734", 0.73)]:
        type_value(page, layer, text)
        values[layer] = value
        expect_slider_value(live_slider(page, layer), f"{value:.2f}", timeout=5_000)
        assert drawn(page) == expected(values), (layer, text)
    wait_idle(page)
    assert_no_exception(page)


def test_keyboard_reset_and_a_link(page, app_url):
    open_page(page, f"{app_url}/prune")
    wait_live(page)
    slider = live_slider(page, "dense2")
    thumb = slider.get_by_role("slider")
    thumb.focus()
    for key, shown in [("ArrowRight", "0.31"), ("ArrowLeft", "0.30"), ("PageUp", "0.40"), ("PageDown", "0.30"),
                       ("End", "1.00"), ("Home", "0.00")]:
        thumb.press(key)
        expect_slider_value(slider, shown, timeout=5_000)
    assert drawn(page) == expected({"dense1": 0.3, "dense2": 0.0, "output": 0.3})
    page.wait_for_url(lambda url: "dense2%3A0%2C" in url, timeout=60_000)
    wait_idle(page)
    link = page.url

    page.get_by_role("button", name="Reset to defaults").click()  # the server sets the values: the view follows
    expect_slider_value(slider, "0.30")
    assert drawn(page) == expected({"dense1": 0.3, "dense2": 0.3, "output": 0.3})

    fresh = page.context.browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    open_page(fresh, link, timeout=180_000)  # a new session: the link reopens the view
    wait_live(fresh)
    expect_slider_value(live_slider(fresh, "dense2"), "0.00")
    assert drawn(fresh) == expected({"dense1": 0.3, "dense2": 0.0, "output": 0.3})
    assert_no_exception(page)
    assert_no_exception(fresh)
    fresh.context.close()


# Every visible label: not cut (content wider than its box, e.g. an ellipsis) and no word split over two lines
# (a word's Range has client rects on more than one line). Fails on a label like "Individu|al" or "Kept weig…".
LABELS = ("[data-testid='stWidgetLabel'], [data-testid='stMetricLabel'], [data-testid='stRadio'] label, "
          ".pe-slider-label, .pe-metric-label, .pe-bar-name, .pe-tile-title, "
          "[data-testid='stCheckbox'] label, [data-testid='stButton'] button, "
          "[data-testid='stButtonGroup'] button, [data-testid='stExpander'] summary")
BAD_LABELS = """
(selector) => {
  const bad = [];
  for (const label of document.querySelectorAll(selector)) {
    if (!label.offsetParent || !label.innerText.trim()) continue;
    for (const el of [label, ...label.querySelectorAll('*')]) {
      if (el.tagName !== 'INPUT' && el.clientWidth > 2 && el.scrollWidth > el.clientWidth + 1) {
        bad.push(`cut: "${label.innerText.trim()}" (${el.scrollWidth} px in ${el.clientWidth} px)`); break;
      }
    }
    const walker = document.createTreeWalker(label, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      for (const m of node.data.matchAll(/\\S+/g)) {
        const range = document.createRange();
        range.setStart(node, m.index); range.setEnd(node, m.index + m[0].length);
        const lines = new Set([...range.getClientRects()].filter(r => r.width > 0).map(r => Math.round(r.top)));
        if (lines.size > 1) bad.push(`split: "${m[0]}" in "${label.innerText.trim()}"`);
      }
    }
  }
  return bad;
}
"""


def test_prune_page_labels_fit_at_900_px(page, app_url):
    page.set_viewport_size({"width": 900, "height": 1000})
    open_page(page, f"{app_url}/prune")
    wait_live(page)
    expect(page.locator("[data-testid='stMetric']")).to_have_count(2, timeout=30_000)  # size and accuracy
    page.wait_for_timeout(500)  # fonts and layout settle
    assert_no_exception(page)
    assert page.evaluate(BAD_LABELS, LABELS) == []
    assert metric(page, "Overall sparsity").endswith("%")
