"""Without TensorFlow, deploying refuses in one sentence (the CLI's --deploy, the Deploy page); everything else
goes on. TensorFlow's absence is simulated: importlib finds no 'tensorflow'."""

import importlib.util

import keras
import pytest

from prune_core import cli, deploy
from tests.apptest import page_test

EXPECTED = (f"Deploying needs TensorFlow (its TensorFlow Lite converter), which is not installed here; Keras runs on "
            f"{keras.backend.backend()}. Install it with pip install 'prune-core[deploy]' — pruning, retraining and "
            "every other page work without it.")


@pytest.fixture
def no_tensorflow(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "tensorflow" else real(name, *a))


def test_the_reason_names_the_backend_and_the_extra(no_tensorflow):
    assert deploy.unavailable() == EXPECTED


def test_cli_deploy_refuses_in_one_line(no_tensorflow, capsys, tmp_path):
    assert cli.main(["experiment", "--deploy", str(tmp_path)]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert captured.out == "" and len(lines) == 1
    assert lines[0].endswith(f"prune_core experiment: error: argument --deploy: {EXPECTED}")


def test_the_deploy_page_says_so_and_stops(no_tensorflow):
    from ui.text import md

    at = page_test("deploy")
    at.run()
    assert not at.exception
    assert [i.value for i in at.info] == [EXPECTED] or [i.value for i in at.info] == [md(EXPECTED)]
    assert not at.button  # nothing to press: no run, no conversion
