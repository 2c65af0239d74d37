"""prune_core as an installable package: a cheap, side-effect-free import, one version, bundled data found through
importlib.resources. Each check runs in a fresh interpreter (another test may already have imported TensorFlow)
from a directory outside the repository, so nothing is found by accident through the working directory."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest

import prune_core

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
HEAVY = ("tensorflow", "keras", "plotly", "pandas", "streamlit", "jax", "torch")
BUNDLED = ("mnist_bundled.npz", "fashion_bundled.npz", "baseline-lenet-300-100.keras", "baseline-lenet-300-100.json",
           "README.md", "fashion_bundled.md")


def fresh_python(code: str, tmp_path: Path) -> dict:
    """Run ``code`` (which prints one JSON object) in a new interpreter, cwd ``tmp_path``, with the repository on
    PYTHONPATH and no TF_CPP_MIN_LOG_LEVEL in its environment."""
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_import_is_light_and_has_no_side_effects(tmp_path):
    found = fresh_python(
        "import json, os, sys; import prune_core; "
        f"print(json.dumps({{'heavy': sorted(m for m in {HEAVY!r} if m in sys.modules), "
        "'tf_log': os.environ.get('TF_CPP_MIN_LOG_LEVEL'), 'file': prune_core.__file__}))", tmp_path)
    assert found["heavy"] == [], f"import prune_core imported {found['heavy']}: keep them lazy (inside functions)"
    assert found["tf_log"] is None, "import prune_core must not change the environment (the app and CLI set logging)"
    assert Path(found["file"]).parent == ROOT / "prune_core"


def test_version_is_one_string_read_by_the_build():
    assert re.fullmatch(r"\d+\.\d+\.\d+", prune_core.__version__)
    project = PYPROJECT["project"]
    assert project["name"] == "prune-core"
    assert "version" in project["dynamic"] and "version" not in project
    assert PYPROJECT["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "prune_core.__version__"}
    try:
        installed = metadata.version("prune-core")
    except metadata.PackageNotFoundError:
        pytest.skip("prune-core is not installed in this venv (make installs it editable)")
    assert installed == prune_core.__version__, "the installed metadata is stale: run make (it reinstalls)"


def test_console_script_and_extras():
    project = PYPROJECT["project"]
    assert project["scripts"] == {"prune-core": "prune_core.cli:main"}
    from prune_core import cli
    assert callable(cli.main)
    assert {"viz", "tensorflow", "jax", "torch", "deploy", "app", "test"} <= set(project["optional-dependencies"])
    core = {re.split(r"[<>=!~ \[]", d)[0] for d in project["dependencies"]}
    assert core == {"keras", "numpy", "h5py", "pandas"}
    assert not any("==" in d for d in project["dependencies"]), "the library takes ranges; requirements.txt pins"


def test_bundled_data_is_package_data(tmp_path):
    found = fresh_python(
        "import json; from importlib import resources; from prune_core.io import data; "
        "folder = resources.files('prune_core') / 'assets'; "
        f"print(json.dumps({{n: (folder / n).is_file() for n in {BUNDLED!r}}} | "
        "{'paths': [str(p) for p in (data.BUNDLED_PATH, data.FASHION_PATH, data.BASELINE_PATH)]}))", tmp_path)
    paths = found.pop("paths")
    assert found == {name: True for name in BUNDLED}
    assert all(Path(p).is_file() and Path(p).parent == ROOT / "prune_core" / "assets" for p in paths)
    assert PYPROJECT["tool"]["setuptools"]["package-data"]["prune_core"] == ["assets/*"]
    # The top-level assets/ is a link into the package (the product spec lists assets/ at the top).
    assert (ROOT / "assets").is_symlink() and (ROOT / "assets").resolve() == ROOT / "prune_core" / "assets"


def test_every_test_module_has_a_unique_basename():
    """pytest imports test modules by basename (rootdir-relative, no __init__.py): two tests/*/test_x.py files stop
    collection with "import file mismatch" — which once failed CI after every test had passed."""
    seen: dict[str, list[str]] = {}
    for path in sorted((ROOT / "tests").rglob("test_*.py")):
        seen.setdefault(path.name, []).append(str(path.relative_to(ROOT)))
    assert {name: paths for name, paths in seen.items() if len(paths) > 1} == {}
