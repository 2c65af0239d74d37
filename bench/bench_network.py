"""Network page: one keyboard move of the coefficient → redrawn picture in Chromium, and what it sends, before (the
server rebuilds the plotly figure on every move: ``PRUNING_EXPLORER_NETWORK_LIVE=0``) and after (the live view,
``ui/components/live_network.js``, redraws in the browser; the server only takes the value when the slider rests).

    .venv/bin/python -m bench.bench_network [--moves 12]

Default LeNet-300-100 (3,000 connections drawn), magnitude, individual weights, from 0.30 up by ArrowRight. Per move:
the latency from the keydown to the first change inside the picture (a MutationObserver on the plotly chart or the
live view's SVG) and to the frame after it; the bytes of the WebSocket frames the server sends from the key until the
page is idle again with the value in its URL; the server's CPU seconds over the moves (/proc). Also the bytes of the
first view (page open to idle). Prints medians and p90s; asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import time

from playwright.sync_api import sync_playwright

from bench.bench_slider import FrameBytes, cpu_seconds
from bench.common import IDLE, launch, percentile, serve_app

OBSERVE = """
() => {
  window.__lat = []; window.__frame = []; window.__t0 = null;
  document.addEventListener('keydown', () => { window.__t0 = performance.now(); }, true);
  new MutationObserver((records) => {
    if (window.__t0 === null) return;
    const inPicture = records.some(r => {
      const el = r.target.nodeType === 1 ? r.target : r.target.parentElement;
      return el && el.closest && el.closest('.js-plotly-plot, .pe-net-svg');
    });
    if (!inPicture) return;
    const t0 = window.__t0;
    window.__t0 = null;
    window.__lat.push(performance.now() - t0);
    requestAnimationFrame(() => window.__frame.push(performance.now() - t0));  // the changed frame has gone out
  }).observe(document.body, {subtree: true, childList: true, attributes: true, characterData: true});
}
"""


def measure(url: str, moves: int, pid: int, live: bool) -> dict:
    with sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        frames = FrameBytes(page)
        page.goto(f"{url}/network")
        page.wait_for_selector(".pe-net[data-ready='1']" if live else ".js-plotly-plot", timeout=180_000)
        page.wait_for_timeout(300)
        page.wait_for_selector(IDLE, timeout=120_000)
        first_view = frames.total
        page.evaluate(OBSERVE)
        thumb = (page.locator(".pe-net-range") if live else
                 page.locator("[data-testid='stSlider']").filter(has_text="Coefficient").get_by_role("slider"))
        thumb.focus()
        sizes, cpu = [], 0.0
        for i in range(moves + 2):  # the first two are warm-up
            frames.reset()
            before = cpu_seconds(pid)
            thumb.press("ArrowRight")
            page.wait_for_function(f"() => window.__frame.length >= {i + 1}", timeout=60_000)
            shown = f"coefficient={(31 + i) / 100:g}"
            page.wait_for_url(lambda u: shown in u, timeout=60_000)
            page.wait_for_timeout(150)  # give a just-triggered rerun time to start
            page.wait_for_selector(IDLE, timeout=60_000)
            if i >= 2:
                cpu += cpu_seconds(pid) - before
                sizes.append(frames.total)
        result = page.evaluate("() => ({lat: window.__lat, frame: window.__frame})")
        browser.close()
    return {"latencies": result["lat"][2:], "frames": result["frame"][2:], "sizes": sizes, "cpu": cpu / moves,
            "first_view": first_view}


def summary(label: str, r: dict) -> str:
    lat, frame, sizes = r["latencies"], r["frames"], r["sizes"]
    return (f"{label}: key → picture changed median {statistics.median(lat):.0f} ms, p90 {percentile(lat, 90):.0f} ms; "
            f"→ next frame median {statistics.median(frame):.0f} ms; sent per move median "
            f"{statistics.median(sizes) / 1024:.1f} KB, max {max(sizes) / 1024:.1f} KB; server CPU per move "
            f"{1000 * r['cpu']:.0f} ms; first view {r['first_view'] / 1024:.0f} KB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--moves", type=int, default=12)
    args = parser.parse_args()
    results = {}
    for name, env in (("before (server figure)", {"PRUNING_EXPLORER_NETWORK_LIVE": "0"}), ("after (live view)", {})):
        with serve_app(env) as (url, process, _):
            started = time.perf_counter()
            results[name] = measure(url, args.moves, process.pid, live=not env)
            results[name]["seconds"] = time.perf_counter() - started
    for name, r in results.items():
        print(summary(f"LeNet-300-100 Network page, {name}, {len(r['latencies'])} moves", r))
    print("reproduce: .venv/bin/python -m bench.bench_network --moves", args.moves)


if __name__ == "__main__":
    main()
