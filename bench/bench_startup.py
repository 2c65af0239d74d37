"""Cold start and first histogram, in Chromium.

    .venv/bin/python -m bench.bench_startup [--repeats 3]

Each repeat starts two fresh servers (Chromium is started beforehand, once):

- cold start: `streamlit run app.py` launched → the home page rendered (its title visible); then, in that
  session, /prune opened → the first histogram drawn ("Home → Prune");
- first visit to /prune: a fresh server, the browser opens /prune directly → the first histogram drawn
  (on a first visit that is the quick preview, drawn from the .keras file while TensorFlow imports:
  ui.quickstart) → the full page drawn (its first slider visible: the model is loaded, scored and measured).

Every "from the request" figure runs from `page.goto` to the element being visible in the browser, so it
includes the server's work, the transfer and Chromium's rendering (the live view's script; Plotly's 4.7 MB where a
chart needs it).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from playwright.sync_api import sync_playwright

from bench.common import launch, serve_app

# The Prune page's live view (ui/components/live_prune.js) draws the histograms: on a first visit frozen (from the
# .keras file, sliders disabled while TensorFlow loads), then with the model (sliders enabled: the full page).
HISTOGRAM = ".pe-live[data-ready='1'] .pe-tile svg"
FULL_PAGE = ".pe-live[data-ready='1'] input[type='range']:enabled"


def cold_start_and_home_to_prune(browser) -> tuple[float, float, float, float]:
    """(server healthy and home rendered — both from the launch of `streamlit run` —, home rendered from the
    browser's request, first histogram from the request for /prune after the home page), in seconds."""
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    started = time.perf_counter()
    with serve_app() as (url, _, ready):
        request = time.perf_counter()
        page.goto(url)
        page.get_by_role("heading", name="Pruning Explorer").wait_for(timeout=120_000)
        home = time.perf_counter() - started
        home_request = time.perf_counter() - request
        t0 = time.perf_counter()
        page.goto(f"{url}/prune")
        page.locator(HISTOGRAM).first.wait_for(timeout=180_000)
        histogram = time.perf_counter() - t0
    page.close()
    return ready, home, home_request, histogram


def first_visit_to_prune(browser) -> tuple[float, float]:
    """(first histogram, full page) from the browser's request for /prune on a fresh server, in seconds."""
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    with serve_app() as (url, _, _):
        t0 = time.perf_counter()
        page.goto(f"{url}/prune")
        page.locator(HISTOGRAM).first.wait_for(timeout=180_000)
        histogram = time.perf_counter() - t0
        page.locator(FULL_PAGE).first.wait_for(timeout=180_000)
        full = time.perf_counter() - t0
    page.close()
    return histogram, full


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    load_before = os.getloadavg()
    with sync_playwright() as p:
        browser = launch(p)
        rows = [cold_start_and_home_to_prune(browser) + first_visit_to_prune(browser) for _ in range(args.repeats)]
        browser.close()
    ready, home, home_request, home_hist, hist, full = (statistics.median(col) for col in zip(*rows))
    n = args.repeats
    print(f"cold start: `streamlit run` → server healthy {ready:.1f} s → home page rendered in Chromium {home:.1f} s "
          f"({home_request:.1f} s of it from the browser's request) — median of {n}")
    print(f"first visit, /prune opened on a fresh server: first histogram {hist:.1f} s, full page (model loaded, "
          f"sliders drawn) {full:.1f} s after the request — median of {n}")
    print(f"Home → Prune in the cold-start session: first histogram {home_hist:.1f} s after the request — median of {n}")
    print("each run:", "; ".join(f"{r[4]:.1f}/{r[5]:.1f}/{r[3]:.1f}" for r in rows),
          "(first visit histogram / full page / Home → Prune histogram, s)")
    print(f"load average (1 min) before {load_before[0]:.2f}, after {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    print("reproduce: .venv/bin/python -m bench.bench_startup --repeats", n)


if __name__ == "__main__":
    main()
