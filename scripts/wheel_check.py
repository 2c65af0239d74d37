"""Does the wheel work for someone who is not in this repository? (``make wheel-check``; ``make test`` runs it.)

1. builds the wheel of this project (``pip wheel --no-deps --no-build-isolation``: the venv's setuptools, offline)
   from a copy of what the build reads (pyproject.toml, README.md, prune_core/), so that setuptools' build/ and
   egg-info folders land in the temporary folder and never carry stale files into the wheel; checks that it
   carries the bundled assets and the ``prune-core`` console script;
2. creates a clean virtual environment in a temporary folder outside the repository and installs the wheel with
   one Keras backend extra (``--backend``, default ``jax``: the smallest backend, and it proves the core needs no
   TensorFlow; ``--backend tensorflow`` checks the default Keras backend) and ``viz`` (the CLI reaches plotly
   through deploy → viz.export → viz.figures), from pip's cache or the machine's package indexes;
3. from another temporary folder (nothing of the repository on ``sys.path``), runs the README's library example
   ("Use it as a library") and ``prune-core example --criterion l1 --coefficient 0.5``.

Every step is printed with its time; any failure stops the check with the command's output and exit code 1.

    .venv/bin/python scripts/wheel_check.py [--backend tensorflow] [--keep]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BACKENDS = ("jax", "tensorflow", "torch")  # each an extra of the same name and a KERAS_BACKEND value
CLI_EXTRAS = ("viz",)  # what prune-core needs beside a backend
ASSETS = ("mnist_bundled.npz", "fashion_bundled.npz", "baseline-lenet-300-100.keras", "baseline-lenet-300-100.json")


class CheckFailed(RuntimeError):
    pass


def step(title: str, cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    """Run one command, print it and its time; raise CheckFailed with its output when it fails."""
    print(f"wheel-check: {title}\n  $ {' '.join(map(str, cmd))}", flush=True)
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    print(f"  … {time.perf_counter() - start:.1f} s, exit {done.returncode}", flush=True)
    if done.returncode != 0:
        raise CheckFailed(f"{title} failed (exit {done.returncode}):\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}")
    return done


def readme_example() -> str:
    """The first ```python block under the README's "Use it as a library" heading."""
    text = (ROOT / "README.md").read_text()
    section = text.split("## Use it as a library", 1)
    match = re.search(r"```python\n(.*?)```", section[1], re.S) if len(section) == 2 else None
    if match is None:
        raise CheckFailed("README.md has no ```python block under '## Use it as a library'")
    return match.group(1)


def check_wheel(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    missing = [a for a in ASSETS if f"prune_core/assets/{a}" not in names]
    entry_points = next((n for n in names if n.endswith(".dist-info/entry_points.txt")), None)
    scripts = zipfile.ZipFile(wheel).read(entry_points).decode() if entry_points else ""
    leaked = sorted({n.split("/")[0] for n in names} - {"prune_core", wheel.name.split("-")[0] + "-" +
                                                        wheel.name.split("-")[1] + ".dist-info"})
    if missing or "prune-core = prune_core.cli:main" not in scripts or leaked:
        raise CheckFailed(f"the wheel is incomplete: missing assets {missing}, console script "
                          f"{'found' if 'prune-core' in scripts else 'missing'}, unexpected top-level {leaked}")
    print(f"  {wheel.name}: {len(names)} files, {wheel.stat().st_size / 1e6:.1f} MB, assets and console script present")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=BACKENDS, default="jax", help="the Keras backend extra to install")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (its path is printed)")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix="prune-core-wheel-check-"))
    if ROOT in tmp.parents:
        raise SystemExit("wheel-check: the temporary folder must lie outside the repository")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    env.update(KERAS_BACKEND=args.backend, TF_CPP_MIN_LOG_LEVEL="2", PYTHONNOUSERSITE="1")
    try:
        source, dist, venv, work = tmp / "source", tmp / "dist", tmp / "venv", tmp / "work"
        work.mkdir()
        source.mkdir()
        for name in ("pyproject.toml", "README.md"):
            shutil.copy2(ROOT / name, source / name)
        shutil.copytree(ROOT / "prune_core", source / "prune_core", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        step("build the wheel", [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                                 "--wheel-dir", str(dist), str(source)], env=env)
        wheel = next(dist.glob("prune_core-*.whl"))
        check_wheel(wheel)
        # Without its own pip (this venv's pip installs into it through --python): seconds saved, same result.
        step("create a clean venv outside the repository", [sys.executable, "-m", "venv", "--without-pip", str(venv)],
             env=env)
        python = venv / "bin" / "python"
        extras = ",".join((args.backend, *CLI_EXTRAS))
        # --no-compile: no .pyc for the thousands of files of plotly and jax (a third of the install time).
        step(f"install the wheel with the extras {extras}",
             [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-compile",
              "--disable-pip-version-check", f"prune-core[{extras}] @ {wheel.as_uri()}"], env=env, cwd=work)
        where = step("import it from another folder", [str(python), "-c",
                     "import prune_core, sys; print(prune_core.__version__, prune_core.__file__)"], env=env, cwd=work)
        version, location = where.stdout.split()
        if not Path(location).is_relative_to(venv):
            raise CheckFailed(f"prune_core was imported from {location}, not from the clean venv")
        print(f"  prune_core {version} from {location}")
        example = work / "readme_example.py"
        example.write_text(readme_example())
        shown = step(f"run the README's library example (KERAS_BACKEND={env['KERAS_BACKEND']})",
                     [str(python), str(example)], env=env, cwd=work)
        print("  " + shown.stdout.strip().replace("\n", "\n  "))
        shown = step("run the console script", [str(venv / "bin" / "prune-core"), "example", "--criterion", "l1",
                                                "--coefficient", "0.5"], env=env, cwd=work)
        print("  " + shown.stdout.strip().replace("\n", "\n  "))
        if "w4" not in shown.stdout:
            raise CheckFailed("prune-core example did not name the pruned weight w4")
    except CheckFailed as exc:
        print(f"wheel-check: FAILED after {time.perf_counter() - started:.1f} s: {exc}", file=sys.stderr)
        print(f"wheel-check: left {tmp} for a look", file=sys.stderr)
        return 1
    if args.keep:
        print(f"wheel-check: kept {tmp}")
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"wheel-check: OK in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
