"""Load: N concurrent browser sessions on one server (127.0.0.1 only), each opening the Prune page on the
default model and moving sliders for a bounded time.

    .venv/bin/python -m bench.bench_load [--sessions 5] [--seconds 60]

Prints errors (exception elements, failed loads; goal 0), the server's peak memory (VmHWM of the
streamlit process) and the slider → histogram latency (median, p90) under that load.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from pathlib import Path

from playwright.async_api import async_playwright

from bench.bench_slider import OBSERVE
from bench.common import CHROMIUM, CHROMIUM_ARGS, IDLE, percentile, serve_app


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def one_session(browser, url: str, seconds: float, index: int) -> tuple[list[float], list[str]]:
    context = await browser.new_context(viewport={"width": 1400, "height": 900})
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(f"session {index}: page error {exc}"))
    try:
        await page.goto(f"{url}/prune")
        await page.wait_for_selector(".js-plotly-plot", timeout=300_000)
        await page.wait_for_timeout(300)
        await page.wait_for_selector(IDLE, timeout=300_000)
        await page.evaluate(OBSERVE)
        sliders = page.locator("[data-testid='stSlider']").get_by_role("slider")
        deadline = time.perf_counter() + seconds
        moves = 0
        while time.perf_counter() < deadline:
            thumb = sliders.nth(moves % 2)
            await thumb.focus()
            await thumb.press("ArrowRight" if (moves // 10) % 2 == 0 else "ArrowLeft")
            moves += 1
            await page.wait_for_function(f"() => window.__lat.length >= {moves}", timeout=60_000)
            await page.wait_for_timeout(100)
            await page.wait_for_selector(IDLE, timeout=60_000)
        latencies = await page.evaluate("() => window.__lat")
        if await page.locator("[data-testid='stException']").count():
            errors.append(f"session {index}: exception element on the page")
    except Exception as exc:  # a failed session is an error to report, not a crash of the bench
        errors.append(f"session {index}: {type(exc).__name__}: {str(exc).splitlines()[0]}")
        latencies = []
    await context.close()
    return latencies, errors


async def run(url: str, sessions: int, seconds: float):
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        results = await asyncio.gather(*(one_session(browser, url, seconds, i) for i in range(sessions)))
        await browser.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=60)
    args = parser.parse_args()
    with serve_app() as (url, proc, _):
        results = asyncio.run(run(url, args.sessions, args.seconds))
        peak = peak_rss_mb(proc.pid)
    latencies = [v for lat, _ in results for v in lat[1:]]  # each session's first move warms up
    errors = [e for _, errs in results for e in errs]
    print(f"load: {args.sessions} sessions × {args.seconds:.0f} s of slider moves, {len(latencies)} moves measured")
    print(f"errors: {len(errors)}" + "".join(f"\n  {e}" for e in errors))
    print(f"server peak memory (VmHWM): {peak:.0f} MB")
    if latencies:
        print(f"slider → histogram under load: median {statistics.median(latencies):.0f} ms, "
              f"p90 {percentile(latencies, 90):.0f} ms")
    print(f"reproduce: .venv/bin/python -m bench.bench_load --sessions {args.sessions} --seconds {args.seconds:g}")


if __name__ == "__main__":
    main()
