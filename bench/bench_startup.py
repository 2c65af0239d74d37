"""Cold start and first histogram, in Chromium.

    .venv/bin/python -m bench.bench_startup [--repeats 3]

- cold start: `streamlit run app.py` launched → the home page rendered in Chromium (title visible)
- first histogram: then, in the same fresh server, /prune opened → the first histogram drawn (includes
  the TensorFlow import, loading the default model, scoring and the first preview)
"""

from __future__ import annotations

import argparse
import statistics
import time

from playwright.sync_api import sync_playwright

from bench.common import launch, serve_app


def cold_start_and_first_histogram() -> tuple[float, float, float, float]:
    """(server healthy, home rendered — both from the launch of `streamlit run` —, home rendered from the
    browser's request, first histogram from its request), in seconds. Chromium is started beforehand."""
    with sync_playwright() as p:
        browser = launch(p)
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
            page.locator(".js-plotly-plot").first.wait_for(timeout=180_000)
            histogram = time.perf_counter() - t0
        browser.close()
    return ready, home, home_request, histogram


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    rows = [cold_start_and_first_histogram() for _ in range(args.repeats)]
    ready, home, home_request, hist = (statistics.median(col) for col in zip(*rows))
    print(f"cold start: `streamlit run` → server healthy {ready:.1f} s → home page rendered in Chromium {home:.1f} s "
          f"({home_request:.1f} s of it from the browser's request) — median of {args.repeats}")
    print(f"first histogram on the Prune page (fresh session, TF import + model load + scores): {hist:.1f} s")
    print("reproduce: .venv/bin/python -m bench.bench_startup --repeats", args.repeats)


if __name__ == "__main__":
    main()
