"""Prune page: keyboard slider move → updated histogram in Chromium, LeNet-300-100 (the default baseline).

    .venv/bin/python -m bench.bench_slider [--moves 20]

Measures in the browser, from the keydown event to the first change inside a histogram's SVG
(a MutationObserver), over N moves of the dense1 slider. Prints median and p90 in ms. Target: median ≤ 150 ms.
"""

from __future__ import annotations

import argparse
import statistics

from playwright.sync_api import sync_playwright

from bench.common import IDLE, launch, percentile, serve_app

OBSERVE = """
() => {
  window.__lat = []; window.__t0 = null;
  document.addEventListener('keydown', () => { window.__t0 = performance.now(); }, true);
  // Streamlit may replace a chart's element on rerun, so watch the whole page and keep only
  // mutations inside a plotly chart (the slider's own label changes at once and is ignored).
  new MutationObserver((records) => {
    if (window.__t0 === null) return;
    const inPlot = records.some(r => {
      const el = r.target.nodeType === 1 ? r.target : r.target.parentElement;
      return el && el.closest && el.closest('.js-plotly-plot');
    });
    if (inPlot) { window.__lat.push(performance.now() - window.__t0); window.__t0 = null; }
  }).observe(document.body, {subtree: true, childList: true, attributes: true, characterData: true});
}
"""


def measure(url: str, moves: int) -> list[float]:
    with sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto(f"{url}/prune")
        page.wait_for_selector(".js-plotly-plot", timeout=120_000)
        page.wait_for_timeout(300)
        page.wait_for_selector(IDLE, timeout=120_000)
        page.evaluate(OBSERVE)
        thumb = page.locator("[data-testid='stSlider']").filter(has_text="dense1").get_by_role("slider")
        thumb.focus()
        for i in range(moves + 2):  # the first two are warm-up
            thumb.press("ArrowRight")
            page.wait_for_function(f"() => window.__lat.length >= {i + 1}", timeout=30_000)
            page.wait_for_timeout(100)
            page.wait_for_selector(IDLE, timeout=30_000)
        latencies = page.evaluate("() => window.__lat")[2:]
        browser.close()
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--moves", type=int, default=20)
    args = parser.parse_args()
    with serve_app() as (url, _, _):
        latencies = measure(url, args.moves)
    print(f"slider → histogram (Chromium, LeNet-300-100, {len(latencies)} moves): "
          f"median {statistics.median(latencies):.0f} ms, p90 {percentile(latencies, 90):.0f} ms "
          f"(target median ≤ 150 ms)")
    print("reproduce: .venv/bin/python -m bench.bench_slider --moves", args.moves)


if __name__ == "__main__":
    main()
