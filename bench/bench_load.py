"""Load: a classroom on one server (127.0.0.1 only) — N browser sessions open, M of them moving the Prune
page's sliders for a bounded time, the others idle on other pages (each session loads its own model).

    .venv/bin/python -m bench.bench_load [--sessions 30] [--moving 10] [--seconds 60]

One Chromium, one context per session (light). Prints errors (exception elements, failed loads; goal 0), the
server's peak memory (VmHWM of the streamlit process; goal ≤ 4 GB), the slider → histogram latency under that
load (median, p90; goal median ≤ 300 ms), the server's CPU per move, and how the machine's CPU was shared between
the server and the browsers while the sliders moved (both run on the same 2 cores).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from pathlib import Path

from playwright.async_api import async_playwright

from bench.bench_slider import OBSERVE, cpu_seconds
from bench.common import CHROMIUM, CHROMIUM_ARGS, IDLE, percentile, serve_app


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


OPENING_AT_ONCE = 3  # sessions loading their first page at the same time
IDLE_PAGES = ["", "model", "compare", "network", "worked_example", "deploy", "retrain", "prune"]


def browser_cpu_seconds() -> float:
    """User + system CPU seconds of every running Chromium process (summed from /proc)."""
    import os

    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if b"chrom" not in (entry / "cmdline").read_bytes().lower():
                continue
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


async def one_session(browser, url: str, seconds: float, index: int, moving: bool, start: asyncio.Event,
                      opened: list, doors: asyncio.Semaphore) -> tuple[list[float], list[str], int]:
    """Open the page (Prune for a moving session, else one of IDLE_PAGES), then — once every session is open —
    move the live view's sliders for ``seconds`` (a keypress, its redraw, a 300 ms pause) or stay idle."""
    context = await browser.new_context(viewport={"width": 1400, "height": 900})
    page = await context.new_page()
    errors: list[str] = []
    latencies: list[float] = []
    moves = 0
    page.on("pageerror", lambda exc: errors.append(f"session {index}: page error {exc}"))
    try:
        where = "prune" if moving else IDLE_PAGES[index % len(IDLE_PAGES)]
        async with doors:  # a class arrives over a minute or two, not in the same second: a few pages load at once
            await page.goto(f"{url}/{where}", timeout=600_000)
            await page.wait_for_selector(".pe-live[data-ready='1']" if moving else IDLE, timeout=600_000)
            await page.wait_for_timeout(300)
            await page.wait_for_selector(IDLE, timeout=600_000)
        opened.append(index)
        await start.wait()
        if moving:
            await page.evaluate(OBSERVE)
            sliders = page.locator(".pe-slider input[type='range']")
            deadline = time.perf_counter() + seconds
            while time.perf_counter() < deadline:
                thumb = sliders.nth(moves % 2)
                await thumb.focus()
                await thumb.press("ArrowRight" if (moves // 10) % 2 == 0 else "ArrowLeft")
                moves += 1
                await page.wait_for_function(f"() => window.__lat.length >= {moves}", timeout=60_000)
                await page.wait_for_timeout(300)  # a person's pause: the slider rests, the server measures
            await page.wait_for_selector(IDLE, timeout=120_000)
            latencies = await page.evaluate("() => window.__lat")
        else:
            await asyncio.sleep(seconds)
        if await page.locator("[data-testid='stException']").count():
            errors.append(f"session {index}: exception element on the page")
    except Exception as exc:  # a failed session is an error to report, not a crash of the bench
        errors.append(f"session {index}: {type(exc).__name__}: {str(exc).splitlines()[0]}")
    await asyncio.sleep(4)  # the CPU is read 1 s after the moves end: this page's processes must still exist
    await context.close()
    return latencies, errors, moves


async def run(url: str, sessions: int, moving: int, seconds: float, pid: int):
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        start, opened, doors = asyncio.Event(), [], asyncio.Semaphore(OPENING_AT_ONCE)
        tasks = [asyncio.create_task(one_session(browser, url, seconds, i, i < moving, start, opened, doors))
                 for i in range(sessions)]
        began = time.perf_counter()
        while len(opened) < sessions and not all(t.done() for t in tasks) and time.perf_counter() - began < 1200:
            await asyncio.sleep(0.5)
        opening = time.perf_counter() - began
        server, browsers = cpu_seconds(pid), browser_cpu_seconds()
        start.set()
        await asyncio.sleep(seconds + 1)
        cpu = (cpu_seconds(pid) - server, browser_cpu_seconds() - browsers)
        results = await asyncio.gather(*tasks)
        await browser.close()
    return results, opening, cpu


def main() -> None:
    import tempfile

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=30)
    parser.add_argument("--moving", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=60)
    args = parser.parse_args()
    moving = min(args.moving, args.sessions)
    with tempfile.TemporaryDirectory() as data_dir, serve_app(env={"PRUNING_EXPLORER_DATA_DIR": data_dir}) as \
            (url, proc, _):
        results, opening, (server_cpu, browser_cpu) = asyncio.run(run(url, args.sessions, moving, args.seconds,
                                                                      proc.pid))
        peak = peak_rss_mb(proc.pid)
    latencies = [v for lat, _, _ in results for v in lat[1:]]  # each session's first move warms up
    errors = [e for _, errs, _ in results for e in errs]
    moves = sum(m for _, _, m in results)
    print(f"load: {args.sessions} sessions open ({moving} moving the Prune sliders, the others idle on other pages) "
          f"× {args.seconds:.0f} s; all open after {opening:.0f} s; {moves} moves")
    print(f"errors: {len(errors)}" + "".join(f"\n  {e}" for e in errors) + " (goal 0)")
    print(f"server peak memory (VmHWM): {peak:.0f} MB (goal ≤ 4,096 MB)")
    if latencies:
        print(f"slider → histogram redrawn under load: median {statistics.median(latencies):.0f} ms, "
              f"p90 {percentile(latencies, 90):.0f} ms (goal median ≤ 300 ms)")
    if moves:
        print(f"CPU while the sliders moved: server {server_cpu:.1f} s ({1000 * server_cpu / moves:.0f} ms per move), "
              f"Chromium {browser_cpu:.1f} s — the browsers' share {browser_cpu / (server_cpu + browser_cpu):.0%} of "
              f"the two")
    print(f"reproduce: .venv/bin/python -m bench.bench_load --sessions {args.sessions} --moving {moving} "
          f"--seconds {args.seconds:g}")


if __name__ == "__main__":
    main()
