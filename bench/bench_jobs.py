"""Jobs that finish (issue 23): a one-shot job and the TFLite conversion in the app against the same calls in the
library, and :func:`prune_core.run_oneshot` against a plain ``model.fit`` of the same epoch.

A user uploads ``keras.applications.ResNet50(weights=None, input_shape=(32, 32, 3), classes=10)`` and a 512-image
``.npz`` on the Model page, opens Retrain and runs one-shot (the page's defaults: magnitude, 0.3 × max per layer,
1 epoch, batch 32 — 16 steps), then presses "Deploy this model" (the Deploy page converts the dense and the pruned
model to TFLite float32 and int8 with its default settings and measures them in LiteRT). Each part prints its figures:

- ``job``: the app's job, Run click → finished run on the page, against the same :func:`prune_core.run_oneshot` in a
  fresh Python process (goal: the app within 1.2× of the library);
- ``fit``: that ``pc.run_oneshot`` against a plain ``model.compile`` + ``model.fit`` of the same epoch (same model,
  data, batch size, optimizer and seed; no validation) in another fresh process (goal: ≤ 1.5×);
- ``deploy``: the app's "Deploy this model", click → the report shown, against the same
  :func:`prune_core.deploy.deploy` call (the page's settings) on the library run's models, in its fresh process
  (goal: the app within 1.2× of the library).

Fresh processes so that every side pays Keras's first tracing of the model.

    .venv/bin/python -m bench.bench_jobs                      # all three, ~15 min on the 2-core machine
    .venv/bin/python -m bench.bench_jobs --parts fit          # run_oneshot vs plain fit only (~3 min, no browser)
    .venv/bin/python -m bench.bench_jobs --parts job,deploy   # the app against the library
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import IDLE, launch, ROOT, serve_app

TRAIN, TEST = 512, 128
PARTS = ("job", "fit", "deploy")
LOAD = """
import json, sys, time
import numpy as np, keras, prune_core as pc
from prune_core.io.data import load_npz
model = keras.saving.load_model(sys.argv[1], compile=False, safe_mode=True)
data = load_npz(open(sys.argv[2], "rb").read(), input_shape=(32, 32, 3), num_classes=10)
"""

LIBRARY = LOAD + """
mask = pc.select(model, pc.PruneSpec(criterion="magnitude", rule="coefficient", scope="layer", value=0.3))
started = time.perf_counter()
result = pc.run_oneshot(model, mask, data, epochs=1, batch_size=32)
out = {"oneshot": time.perf_counter() - started}
settings = json.loads(sys.argv[3])
if settings:  # the Deploy page's call (ui.deploy.start) on this run's models
    from prune_core import deploy
    started = time.perf_counter()
    deploy.deploy(model, data, pruned=result.model, compact=result.compact_model, int8=settings["int8"],
                  keras_quantize=settings["keras_int8"], calibration_size=int(settings["calibration"]),
                  latency_budget_s=float(settings["budget"]))
    out["deploy"] = time.perf_counter() - started
print(json.dumps(out))
"""

PLAIN_FIT = LOAD + """
from prune_core.io.data import as_arrays
x, y, _, _ = as_arrays(data)
keras.utils.set_random_seed(0)
started = time.perf_counter()
model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
model.fit(x, y, epochs=1, batch_size=32, shuffle=True, verbose=0)
print(json.dumps({"fit": time.perf_counter() - started}))
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


def fresh_process(script: str, *args: str) -> dict:
    """Run ``script`` in a fresh Python process; its last line of output, a JSON object."""
    out = subprocess.run([sys.executable, "-c", script, *args], cwd=ROOT, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def library_seconds(model_path: Path, data_path: Path, deploy_settings: dict | None = None) -> dict:
    """{"oneshot": s, and with ``deploy_settings`` "deploy": s} from one fresh process."""
    return fresh_process(LIBRARY, str(model_path), str(data_path), json.dumps(deploy_settings or {}))


def fit_seconds(model_path: Path, data_path: Path) -> float:
    return fresh_process(PLAIN_FIT, str(model_path), str(data_path))["fit"]


def _wait_for(page, done, started: float, limit: float = 3600) -> str:
    """Poll until ``done()``, printing the progress bar's text when it changes (at most every 10 s); the last seen."""
    last, seen = "", time.perf_counter()
    while not done():
        bar = page.locator("[data-testid='stProgress']")
        if bar.count():
            text = bar.first.inner_text().strip().replace("\n", " ")
            if text != last and time.perf_counter() - seen > 10:
                print(f"  {time.perf_counter() - started:6.0f} s  {text[:110]}", flush=True)
                last, seen = text, time.perf_counter()
        if time.perf_counter() - started > limit:
            raise RuntimeError(f"the app's job did not finish within {limit:.0f} s")
        page.wait_for_timeout(500)
    return last


def app_seconds(url: str, model_path: Path, data_path: Path, deploy: bool = False) -> dict:
    """{"job": seconds from the Run click to the finished run drawn, and with ``deploy`` "deploy": from the
    "Deploy this model" click to the Deploy page's report drawn}."""
    from playwright.sync_api import sync_playwright

    from tests.browser import go_to, open_page, upload_model_and_data

    out = {}
    with sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        open_page(page, f"{url}/model", timeout=180_000)
        upload_model_and_data(page, model_path, data_path, timeout=300_000)
        go_to(page, "Retrain", timeout=300_000)
        page.get_by_role("button", name="Run", exact=True).wait_for(timeout=300_000)
        started = time.perf_counter()
        page.get_by_role("button", name="Run", exact=True).click()
        _wait_for(page, lambda: page.get_by_text("Last run").count() > 0, started)
        out["job"] = time.perf_counter() - started
        page.wait_for_selector(IDLE, timeout=120_000)
        if deploy:
            button = page.get_by_role("button", name="Deploy this model").first
            button.wait_for(timeout=120_000)
            started = time.perf_counter()
            button.click()
            _wait_for(page, lambda: page.get_by_text("Every export side by side").count() > 0, started)
            out["deploy"] = time.perf_counter() - started
            page.wait_for_selector(IDLE, timeout=120_000)
        browser.close()
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", default=",".join(PARTS),
                        help=f"comma-separated, any of {', '.join(PARTS)} (default: all)")
    parts = set(parser.parse_args(argv).parts.split(","))
    if not parts or not parts <= set(PARTS):
        parser.error(f"--parts takes some of {', '.join(PARTS)}")
    from ui.deploy import DEFAULTS  # the Deploy page's settings, as its "Deploy this model" uses them

    app = {}
    with tempfile.TemporaryDirectory() as folder:
        model_path, data_path = make_files(Path(folder))
        if parts & {"job", "deploy"}:
            with serve_app(env={"PRUNING_EXPLORER_DATA_DIR": folder}) as (url, _, _):  # the user's history untouched
                app = app_seconds(url, model_path, data_path, deploy="deploy" in parts)
        library = library_seconds(model_path, data_path, DEFAULTS if "deploy" in parts else None)
        fit = fit_seconds(model_path, data_path) if "fit" in parts else None
    setup = f"ResNet-50 32×32, {TRAIN} + {TEST} images, 1 epoch, batch 32"
    if "job" in parts:
        print(f"one-shot job, {setup}: app {app['job']:.1f} s (Run click → run shown), library pc.run_oneshot "
              f"{library['oneshot']:.1f} s (fresh process); app / library {app['job'] / library['oneshot']:.2f}× "
              f"(goal ≤ 1.2×)")
    if "fit" in parts:
        print(f"pc.run_oneshot vs a plain model.fit of the same epoch, {setup}, each in a fresh process: "
              f"run_oneshot {library['oneshot']:.1f} s, model.compile + model.fit {fit:.1f} s; "
              f"run_oneshot / fit {library['oneshot'] / fit:.2f}× (goal ≤ 1.5×)")
    if "deploy" in parts:
        print(f"Deploy this model (dense + pruned to TFLite float32 and int8, the page's settings {DEFAULTS}): app "
              f"{app['deploy']:.1f} s (click → report shown), library prune_core.deploy.deploy "
              f"{library['deploy']:.1f} s (fresh process); app / library {app['deploy'] / library['deploy']:.2f}× "
              f"(goal ≤ 1.2×)")


if __name__ == "__main__":
    main()
