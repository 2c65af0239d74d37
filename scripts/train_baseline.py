"""Train the default baseline shipped in prune_core/assets/: LeNet-300-100 on the bundled MNIST split.

Every page that needs a model starts from this file, so a first visit needs no click.
Reproduce with::

    .venv/bin/python scripts/train_baseline.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from prune_core.io import data  # noqa: E402
from prune_core.measure import metrics
from prune_core.train import fit, models
from prune_core.methods import masks

SETTINGS = dict(architecture="lenet-300-100", epochs=5, batch_size=32, learning_rate=1e-3, seed=0)
OUT = data.BASELINE_PATH


def main() -> None:
    ds = data.load_mnist("bundled")
    model = models.build_model(SETTINGS["architecture"], seed=SETTINGS["seed"])
    result = fit.train(model, ds.x_train, ds.y_train, validation=(ds.x_test, ds.y_test), epochs=SETTINGS["epochs"], batch_size=SETTINGS["batch_size"],
                          learning_rate=SETTINGS["learning_rate"], seed=SETTINGS["seed"],
                          progress=lambda f, text: print(text) if "done" in text else None)
    masks.without_optimizer(model).save(OUT)
    evaluation = metrics.evaluate(model, ds.x_test, ds.y_test)
    info = {**SETTINGS, "data": ds.key, "test_accuracy": round(evaluation.accuracy, 4),
            "train_seconds": round(result.seconds, 1),
            "history": {k: [round(v, 5) for v in vs] for k, vs in result.history.items()}}
    OUT.with_suffix(".json").write_text(json.dumps(info, indent=2) + "\n")
    print(f"wrote {OUT.relative_to(ROOT)}: test accuracy {evaluation.accuracy:.2%}")


if __name__ == "__main__":
    main()
