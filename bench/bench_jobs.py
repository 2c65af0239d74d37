"""A one-shot job in the app against the same call in the library (issue 23, "Jobs that finish").

A user uploads ``keras.applications.ResNet50(weights=None, input_shape=(32, 32, 3), classes=10)`` and a 512-image
``.npz`` on the Model page, opens Retrain and runs one-shot (the page's defaults: magnitude, 0.3 × max per layer,
1 epoch, batch 32 — 16 steps). The bench times, from the Run click to the finished run on the page, the app's job;
then the same :func:`prune_core.run_oneshot` in a fresh Python process; and prints both and their ratio (goal: the
app within 1.2× of the library). A fresh process for the library so both pay Keras's first tracing of the model.

    .venv/bin/python -m bench.bench_jobs            # ~4 min on the 2-core machine
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import IDLE, launch, ROOT, serve_app

TRAIN, TEST = 512, 128

LIBRARY = """
import sys, time
import numpy as np, keras, prune_core as pc
from prune_core.io.data import load_npz
model = keras.saving.load_model(sys.argv[1], compile=False, safe_mode=True)
data = load_npz(open(sys.argv[2], "rb").read(), input_shape=(32, 32, 3), num_classes=10)
mask = pc.select(model, pc.PruneSpec(criterion="magnitude", rule="coefficient", scope="layer", value=0.3))
started = time.perf_counter()
pc.run_oneshot(model, mask, data, epochs=1, batch_size=32)
print(time.perf_counter() - started)
"""


def make_files(folder: Path) -> tuple[Path, Path]:
    """The ResNet-50 (32×32, 10 classes) as .keras and a seeded 512 + 128 image .npz."""
    import keras
    import numpy as np

    model_path, data_path = folder / "resnet50_32.keras", folder / "images.npz"
    keras.applications.ResNet50(weights=None, input_shape=(32, 32, 3), classes=10).save(model_path)
    rng = np.random.default_rng(0)
    np.savez_compressed(data_path, x_train=rng.integers(0, 256, (TRAIN, 32, 32, 3), dtype=np.uint8),
                        y_train=rng.integers(0, 10, TRAIN), x_test=rng.integers(0, 256, (TEST, 32, 32, 3), dtype=np.uint8),
                        y_test=rng.integers(0, 10, TEST))
    return model_path, data_path


def library_seconds(model_path: Path, data_path: Path) -> float:
    out = subprocess.run([sys.executable, "-c", LIBRARY, str(model_path), str(data_path)], cwd=ROOT, check=True,
                         capture_output=True, text=True)
    return float(out.stdout.strip().splitlines()[-1])


def app_seconds(url: str, model_path: Path, data_path: Path) -> tuple[float, str]:
    """(seconds from the Run click to the finished run drawn, the last progress line seen)."""
    from playwright.sync_api import sync_playwright

    from tests.browser import go_to, open_page, upload_model_and_data

    with sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        open_page(page, f"{url}/model", timeout=180_000)
        upload_model_and_data(page, model_path, data_path, timeout=300_000)
        go_to(page, "Retrain", timeout=300_000)
        page.get_by_role("button", name="Run", exact=True).wait_for(timeout=300_000)
        started = time.perf_counter()
        page.get_by_role("button", name="Run", exact=True).click()
        last, seen = "", time.perf_counter()
        while True:
            if page.get_by_text("Last run").count():
                break
            bar = page.locator("[data-testid='stProgress']")
            if bar.count():
                text = bar.first.inner_text().strip().replace("\n", " ")
                if text != last and time.perf_counter() - seen > 10:
                    print(f"  {time.perf_counter() - started:6.0f} s  {text[:110]}", flush=True)
                    last, seen = text, time.perf_counter()
            if time.perf_counter() - started > 3600:
                raise RuntimeError("the app's job did not finish within an hour")
            page.wait_for_timeout(500)
        seconds = time.perf_counter() - started
        page.wait_for_selector(IDLE, timeout=120_000)
        browser.close()
    return seconds, last


def main(argv=None) -> None:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        model_path, data_path = make_files(Path(folder))
        with serve_app(env={"PRUNING_EXPLORER_DATA_DIR": folder}) as (url, _, _):  # the user's history untouched
            app, _ = app_seconds(url, model_path, data_path)
        library = library_seconds(model_path, data_path)
    print(f"one-shot job, ResNet-50 32×32, {TRAIN} images, 1 epoch, batch 32: app {app:.1f} s (Run click → run "
          f"shown), library pc.run_oneshot {library:.1f} s (fresh process); app / library {app / library:.2f}× "
          f"(goal ≤ 1.2×)")


if __name__ == "__main__":
    main()
