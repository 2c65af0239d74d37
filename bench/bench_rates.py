"""The Retrain page's learning-rate default, measured (issue 24: "defaults must work across the whole sparsity range").

Runs the Retrain page's runs (``ui.retrain.run_spec`` of each mode's form defaults, through ``prune_core.run``) on
the default model — the shipped LeNet-300-100 baseline, the bundled digits, seed 0 — at several sparsities and learning
rates, and prints the final test accuracy of each, the rate ``spec.default_learning_rate`` picks ("Auto"), and the
page's defaults in every mode on Auto against 1e-3. The figures in ``prune_core.spec.default_learning_rate`` come
from here.

    .venv/bin/python -m bench.bench_rates                    # the page's defaults, Auto vs 1e-3 (~1.5 min on 2 cores)
    .venv/bin/python -m bench.bench_rates --grid             # + the sparsity × rate grid (~7 min)
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

RATES = (1e-3, 3e-3, 1e-2)
GRID = {"gradual": (50, 70, 80, 90, 95, 98), "sparse": (50, 70, 80, 90, 95, 98), "init": (80, 90, 95, 98)}
# each mode's form as the Retrain page starts it (pages/retrain.py); percentages as the sliders give them
FORMS = {
    "oneshot": dict(epochs=1, retrain="finetune", reconstruct=False),
    "gradual": dict(epochs=2, criterion="magnitude", scope="layer", initial_percent=0, final_percent=90),
    "iterative": dict(epochs=1, criterion="magnitude", scope="layer", retrain="finetune", step_percent=30,
                      target_percent=95, tolerance_points=1.0, max_rounds=10),
    "init": dict(epochs=5, criterion="snip", scope="global", target_percent=90),
    "sparse": dict(epochs=1, sparse_method="rigl", distribution="uniform", target_percent=90, from_init=False),
}


def run(model, ds, mode: str, rate, **changes):
    import prune_core as pc
    from ui import retrain as rt

    form = dict(batch_size=32, learning_rate=rate, seed=0, l1=0.0, **{**FORMS[mode], **changes})
    mask_set = pc.select(model, rt.DEFAULT_SPEC) if mode == "oneshot" else None  # the page's default candidate
    return pc.run(model, ds, rt.run_spec(mode, form), mask_set=mask_set)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grid", action="store_true", help="also the sparsity × learning-rate grid")
    args = parser.parse_args(argv)

    import keras

    from prune_core.io import data
    from prune_core.spec import default_learning_rate

    ds = data.load_dataset("bundled")
    model = keras.saving.load_model(data.BASELINE_PATH, safe_mode=True, compile=False)
    print(f"LeNet-300-100 baseline on {ds.name}, seed 0; final test accuracy")
    print("\nThe Retrain page's defaults in every mode:")
    print(f"{'mode':<10} {'1e-3':>28} {'Auto':>28}")
    for mode in FORMS:
        cells = []
        for rate in (1e-3, "auto"):
            r = run(model, ds, mode, rate)
            cells.append(f"{r.final_accuracy:.2%} at {r.sparsity:.1%} (lr {r.settings['learning_rate']})")
        print(f"{mode:<10} {cells[0]:>28} {cells[1]:>28}", flush=True)
    if not args.grid:
        return
    print("\nSparsity × learning rate (each mode's other settings at the page's defaults):")
    print(f"{'mode':<8} {'sparsity':>8} " + " ".join(f"{r:>8g}" for r in RATES) + "   Auto picks")
    for mode, sparsities in GRID.items():
        key = "final_percent" if mode == "gradual" else "target_percent"
        for percent in sparsities:
            accs = [run(model, ds, mode, rate, **{key: percent}).final_accuracy for rate in RATES]
            print(f"{mode:<8} {percent:>7}% " + " ".join(f"{a:>8.2%}" for a in accs)
                  + f"   {default_learning_rate(mode, percent / 100):g}", flush=True)


if __name__ == "__main__":
    main()
