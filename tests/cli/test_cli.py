"""`python -m prune_core`: JSON shape, exit codes, one-line errors."""

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from prune_core import cli
from prune_core.io import data

ROOT = Path(__file__).resolve().parents[2]


def run_cli(*args, env=None, timeout=300):
    return subprocess.run([sys.executable, "-m", "prune_core", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **(env or {})})


def assert_usage_error(stdout: str, stderr: str):
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert "error:" in lines[0] and "Traceback" not in stderr
    assert stdout == ""


# ------------------------------------------------------------------ example

@pytest.mark.parametrize("args, threshold, pruned", [
    (["--criterion", "l1", "--coefficient", "0.5"], 0.3, ["w4"]),
    (["--criterion", "l1", "--coefficient", "0.3"], 0.18, []),
    (["--criterion", "sensitivity", "--coefficient", "0.75"], 0.3, ["w1", "w2", "w4"]),
    (["--criterion", "l1", "--coefficient", "0.5", "--max", "1"], 0.5, ["w2", "w4", "w5"]),
])
def test_example_json(args, threshold, pruned, capsys):
    assert cli.main(["example", *args, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["threshold"] == threshold and out["pruned"] == pruned
    assert len(out["rows"]) == 5


def test_example_subprocess_json_and_text():
    done = run_cli("example", "--criterion", "sensitivity", "--coefficient", "0.5", "--json")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["threshold"] == 0.2 and out["pruned"] == ["w2", "w4"] and out["maximum"] == 0.4

    text = run_cli("example", "--criterion", "l1", "--coefficient", "0.5")
    assert text.returncode == 0
    assert "threshold = 0.5 × 0.6 = 0.3" in text.stdout
    cells = [line.split() for line in text.stdout.splitlines()]
    rows = {c[0]: c[-1] for c in cells if c and c[0] in ("w1", "w2", "w3", "w4", "w5")}
    assert rows == {"w1": "kept", "w2": "kept", "w3": "kept", "w4": "pruned", "w5": "kept"}


# ------------------------------------------------------------------ bad arguments → one line, exit 2

BAD = [
    [],
    ["example"],                                              # --coefficient is required
    ["example", "--coefficient", "-0.1"],
    ["example", "--coefficient", "abc"],
    ["example", "--coefficient", "nan"],
    ["example", "--criterion", "l2", "--coefficient", "0.5"],
    ["example", "--coefficient", "0.5", "--max", "0"],
    ["experiment", "--model", "vgg16"],
    ["experiment", "--rule", "coefficient", "--value", "1.5"],
    ["experiment", "--rule", "sparsity", "--value", "-0.1"],
    ["experiment", "--rule", "std", "--value", "-1"],
    ["experiment", "--train-epochs", "-1"],
    ["experiment", "--fine-tune-epochs", "1.5"],
    ["experiment", "--granularity", "filter"],
    ["experiment", "--compact"],                              # needs neuron granularity
    ["experiment", "--mode", "gradual", "--granularity", "neuron"],
    ["experiment", "--mode", "iterative", "--fine-tune-epochs", "0"],
    ["experiment", "--mode", "iterative", "--fraction", "0"],
    ["experiment", "--tolerance", "-0.5"],
    ["experiment", "--model", "mlp-128", "--train-epochs", "0"],  # no shipped mlp-128 baseline
    ["experiment", "--model", "lenet-300-100", "--data", "fashion", "--train-epochs", "0"],  # baseline is MNIST
    ["unknown-command"],
]


@pytest.mark.parametrize("argv", BAD, ids=lambda a: " ".join(a) or "(nothing)")
def test_bad_arguments_exit_2_in_one_line(argv, capsys):
    with pytest.raises(SystemExit) as stop:
        code = cli.main(argv)
        raise SystemExit(code)
    assert stop.value.code == 2
    captured = capsys.readouterr()
    assert_usage_error(captured.out, captured.err)


@pytest.mark.parametrize("argv", [
    ["experiment", "--criterion", "magnitude", "--value", "2", "--json"],
    ["example", "--criterion", "l3", "--coefficient", "0.5", "--json"],
])
def test_bad_arguments_subprocess(argv):
    done = run_cli(*argv, timeout=60)
    assert done.returncode == 2
    assert_usage_error(done.stdout, done.stderr)


def test_full_data_unavailable_exits_2(tmp_path):
    if data._network_reachable(data.FULL_MNIST_URL_HOST, 2.0):
        pytest.skip("the full MNIST could be downloaded here")
    done = run_cli("experiment", "--data", "full", "--train-epochs", "1", "--json",
                   env={"KERAS_HOME": str(tmp_path)}, timeout=120)
    assert done.returncode == 2
    assert_usage_error(done.stdout, done.stderr)
    assert "full MNIST is not available" in done.stderr


# ------------------------------------------------------------------ a real (small) experiment

def test_experiment_json_neuron_compact():
    done = run_cli("experiment", "--model", "mlp-128", "--data", "bundled", "--train-epochs", "1",
                   "--criterion", "magnitude", "--granularity", "neuron", "--rule", "sparsity", "--value", "0.5",
                   "--scope", "layer", "--mode", "oneshot", "--fine-tune-epochs", "1", "--seed", "0",
                   "--compact", "--json")
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout)  # stdout is exactly one JSON object
    for key in ("dense_accuracy", "pruned_accuracy", "final_accuracy"):
        assert 0.0 <= report[key] <= 1.0
    assert report["dense_accuracy"] > 0.8  # one epoch on 8,000 real digits
    assert set(report["layers"]) == {"dense1", "output"}
    # 64 of 128 hidden neurons go: half of dense1's columns and half of output's rows.
    assert report["layers"]["dense1"] == pytest.approx(0.5)
    assert report["layers"]["output"] == pytest.approx(0.5)
    assert report["sparsity"] == pytest.approx(0.5)
    assert report["nonzero_params"] < report["dense_nonzero_params"] == report["dense_params"]
    assert report["gzip_bytes"] < report["dense_gzip_bytes"]
    compact = report["compact"]
    assert compact["units"] == {"dense1": 64}
    assert compact["params"] == 784 * 64 + 64 + 64 * 10 + 10
    assert compact["params"] < report["masked"]["params"] == report["dense_params"]
    assert compact["accuracy"] == pytest.approx(report["final_accuracy"], abs=1e-3)
    assert compact["latency_ms"] > 0 and report["masked"]["latency_ms"] > 0


def test_experiment_json_gradual():
    done = run_cli("experiment", "--model", "mlp-128", "--data", "bundled", "--train-epochs", "1",
                   "--criterion", "magnitude", "--granularity", "weight", "--rule", "sparsity", "--value", "0.8",
                   "--scope", "layer", "--mode", "gradual", "--fine-tune-epochs", "1", "--seed", "0", "--json")
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout)
    # exact counts per layer: round(0.8 × 100,352) = 80,282 and round(0.8 × 1,280) = 1,024 pruned
    assert report["pruned_weights"] == 80_282 + 1_024 and report["prunable_weights"] == 101_632
    assert report["sparsity"] == pytest.approx((80_282 + 1_024) / 101_632)
    assert report["layers"] == pytest.approx({"dense1": 80_282 / 100_352, "output": 0.8})
    assert report["target_sparsity"] == 0.8
    schedule = report["schedule"]
    assert schedule[0]["target"] == 0.0 and schedule[-1]["target"] == pytest.approx(0.8)
    assert all(a["sparsity"] <= b["sparsity"] for a, b in zip(schedule, schedule[1:]))  # masks only grow
    assert report["nonzero_params"] == report["dense_params"] - report["pruned_weights"]
    assert 0.0 <= report["pruned_accuracy"] <= 1.0 and report["final_accuracy"] > 0.8


REPORT = {
    "config": dict(cli.ExperimentConfig(granularity="neuron", rule="sparsity", value=0.5, mode="iterative",
                                        compact=True).__dict__),
    "data": {"name": "Bundled MNIST subset", "key": "mnist-bundled", "train": 8000, "test": 2000},
    "baseline": "trained 1 epoch(s) in 1.0 s",
    "dense_accuracy": 0.9, "pruned_accuracy": 0.8, "final_accuracy": 0.85, "sparsity": 0.5,
    "layers": {"dense1": 0.5, "output": 0.5}, "pruned_weights": 50_816, "prunable_weights": 101_632,
    "thresholds": {"dense1": 1.5}, "target_sparsity": 0.5, "stopped_because": "target sparsity 50.0% reached",
    "history": [{"step": 1, "sparsity": 0.5, "pruned_accuracy": 0.8, "accuracy": 0.85, "within_tolerance": True}],
    "params": 101_770, "nonzero_params": 50_890, "gzip_bytes": 200_000, "sparse_bytes": 250_000,
    "dense_params": 101_770, "dense_nonzero_params": 101_770, "dense_gzip_bytes": 377_190,
    "masked": {"params": 101_770, "nonzero": 50_890, "float32_bytes": 407_080, "gzip_bytes": 200_000,
               "latency_ms": 3.5},
    "compact": {"params": 50_890, "nonzero": 50_890, "float32_bytes": 203_560, "gzip_bytes": 190_000,
                "latency_ms": 3.0, "accuracy": 0.85, "units": {"dense1": 64}},
}


def test_format_report_lines():
    text = cli.format_report(REPORT)
    assert "90.00%    80.00%      85.00%" in text and "final" in text
    assert "sparsity of prunable weights: 50.00% (50,816 of 101,632)" in text
    assert "round 1: sparsity 50.00% · accuracy 80.00% → 85.00% after fine-tuning" in text
    assert "stopped: target sparsity 50.0% reached" in text
    assert "units kept: dense1 64" in text
    assert "377.19 kB" in text and "203.56 kB" in text


# ------------------------------------------------------------------ issue 12: rules with choices, strategies, init

BAD_NEW = [
    ["experiment", "--rule", "nm", "--value", "3:4"],
    ["experiment", "--rule", "nm", "--value", "2:4", "--granularity", "neuron"],
    ["experiment", "--rule", "block", "--value", "2:4"],
    ["experiment", "--rule", "nm", "--value", "2:4", "--mode", "gradual"],
    ["experiment", "--reconstruct", "--mode", "gradual"],
    ["experiment", "--retrain", "sideways"],
    ["experiment", "--retrain", "rewind-weights", "--train-epochs", "1"],
    ["experiment", "--retrain", "rewind-weights", "--reconstruct", "--train-epochs", "2"],
    ["experiment", "--mode", "init", "--fine-tune-epochs", "0"],
    ["experiment", "--learning-rate", "0"],
    ["experiment", "--criterion", "hessian"],
    ["experiment", "--mode", "sparse", "--rule", "coefficient"],
    ["experiment", "--mode", "sparse", "--rule", "sparsity", "--sparse-method", "lottery"],
]


@pytest.mark.parametrize("argv", BAD_NEW, ids=lambda a: " ".join(a))
def test_bad_new_arguments_exit_2_in_one_line(argv, capsys):
    try:
        code = cli.main(argv)
    except SystemExit as stop:
        code = stop.code
    assert code == 2
    captured = capsys.readouterr()
    assert_usage_error(captured.out, captured.err)


def test_value_takes_a_rules_choice_text_and_numbers():
    args = cli.build_parser().parse_args(["experiment", "--rule", "nm", "--value", "2:4", "--criterion", "wanda",
                                          "--reconstruct", "--retrain", "rewind-lr", "--learning-rate", "0.01"])
    assert (args.value, args.criterion, args.reconstruct, args.retrain, args.learning_rate) == \
        ("2:4", "wanda", True, "rewind-lr", 0.01)
    assert cli.build_parser().parse_args(["experiment", "--rule", "block", "--value", "0.9"]).value == 0.9
    choices = {a.dest: a.choices for a in cli.build_parser()._subparsers._group_actions[0]
               .choices["experiment"]._actions}
    assert {"wanda", "obd", "snip", "synflow"} <= set(choices["criterion"]) and "init" in choices["mode"]
    assert {"nm", "block"} <= set(choices["rule"])


def test_experiment_wanda_2_4_reconstructed_without_retraining():
    done = run_cli("experiment", "--model", "lenet-300-100", "--data", "bundled", "--train-epochs", "0",
                   "--criterion", "wanda", "--rule", "nm", "--value", "2:4", "--reconstruct",
                   "--fine-tune-epochs", "0", "--json")
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout)
    assert report["config"]["value"] == "2:4" and report["config"]["reconstruct"] is True
    assert report["layers"] == {"dense1": 0.5, "dense2": 0.5, "output": 0.5}
    assert report["final_accuracy"] == report["reconstructed_accuracy"] > report["pruned_accuracy"]
    assert set(report["reconstruction"]["after"]) == {"dense1", "dense2", "output"}


def test_experiment_pruning_at_init_in_process(capsys):
    code = cli.main(["experiment", "--model", "mlp-128", "--data", "bundled", "--train-epochs", "1",
                     "--criterion", "synflow", "--rule", "sparsity", "--value", "0.9", "--scope", "global",
                     "--mode", "init", "--fine-tune-epochs", "1", "--learning-rate", "0.003", "--json"])
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert report["sparsity"] == pytest.approx(0.9, abs=1e-4) and report["config"]["mode"] == "init"
    assert report["pruned_accuracy"] < 0.5 < report["final_accuracy"]  # untrained when pruned, trained after


def test_experiment_on_a_recurrent_net_prunes_every_kernel_and_names_the_denominator(capsys):
    code = cli.main(["experiment", "--model", "gru-rows", "--data", "bundled", "--train-epochs", "1",
                     "--criterion", "magnitude", "--rule", "sparsity", "--value", "0.5", "--scope", "layer",
                     "--mode", "oneshot", "--fine-tune-epochs", "1", "--json"])
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    # GRU(64) over 28 rows of 28 pixels: kernel 28×192, recurrent kernel 64×192, classifier 64×10 — half of each
    assert report["layers"] == {"gru/kernel": 0.5, "gru/recurrent_kernel": 0.5, "output": 0.5}
    assert report["pruned_weights"] == (5_376 + 12_288 + 640) // 2 and report["prunable_weights"] == 18_304
    assert report["coverage"] == ("This run covers 18,304 of 18,698 parameters (97.9%); not covered: "
                                  "biases and normalization parameters — not pruned by design (394).")
    assert "This run covers 18,304 of 18,698 parameters" in cli.format_report(report)


def test_experiment_sparse_training_keeps_exact_counts_and_reports_every_update(capsys):
    code = cli.main(["experiment", "--model", "mlp-128", "--data", "bundled", "--train-epochs", "1", "--rule",
                     "sparsity", "--value", "0.9", "--mode", "sparse", "--sparse-method", "set", "--fine-tune-epochs",
                     "1", "--seed", "0", "--json"])
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert report["config"]["sparse_method"] == "set" and report["target_sparsity"] == 0.9
    # 10,035 + 128 non-zeros kept (10% of 100,352 and 1,280 kernel weights); a kept weight may have trained to 0
    assert report["pruned_weights"] >= (100_352 - 10_035) + (1_280 - 128)
    # 8,000 images at batch 32: 250 steps; updates every 18 steps before round(0.75 · 250) = 188
    assert [u["step"] for u in report["updates"]] == list(range(18, 188, 18))
    assert report["updates"][0]["moved"] == round(0.15 * (1 + math.cos(math.pi * 18 / 188)) * 10_035) + round(
        0.15 * (1 + math.cos(math.pi * 18 / 188)) * 128)


# ------------------------------------------------------------------ sweep / sensitivity (cli.scan)

def test_sensitivity_command_gives_the_librarys_scan(capsys):
    import keras

    from prune_core.experiments.sweeps import layer_sensitivity

    assert cli.main(["sensitivity", "--data", "bundled", "--sparsities", "0.5,0.9", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["command"], out["model"], out["executor"]) == ("sensitivity", "lenet-300-100", "local")
    ds = data.load_dataset("bundled")
    model = keras.saving.load_model(data.asset("baseline-lenet-300-100.keras"), safe_mode=True, compile=False)
    expected = layer_sensitivity(model, ds.x_test, ds.y_test, (0.5, 0.9))
    assert [(r["layer"], r["sparsity"], r["accuracy"]) for r in out["rows"]] == \
        list(zip(expected["layer"], expected["sparsity"], expected["accuracy"]))
    assert [r["layer"] for r in out["rows"]] == ["dense1", "dense1", "dense2", "dense2", "output", "output"]


def test_sweep_command_text_table_without_fine_tuning(capsys):
    assert cli.main(["sweep", "--data", "bundled", "--criteria", "magnitude,random", "--sparsities", "0.9",
                     "--fine-tune-epochs", "0"]) == 0
    out = capsys.readouterr()
    lines = out.out.splitlines()
    assert lines[0].startswith("sweep on lenet-300-100 (") and "2 points on local in" in lines[0]
    assert lines[2].split() == ["criterion", "sparsity", "pruned_accuracy", "final_accuracy", "held_sparsity"]
    assert [line.split()[:2] for line in lines[3:]] == [["magnitude", "90.00%"], ["random", "90.00%"]]
    assert [line.split()[1:] for line in lines[3:]] == [["90.00%", "56.45%", "56.45%", "90.00%"],
                                                        ["90.00%", "11.70%", "11.70%", "90.00%"]]
    assert "   50% magnitude at 90%: 56.45% → 56.45%" in out.err.splitlines()  # a progress line per point, stderr


@pytest.mark.parametrize("argv, message", [
    (["sweep", "--criteria", "magnitude,nope"], "unknown criteria nope"),
    (["sensitivity", "--sparsities", "0.5,1.5"], "every sparsity must be between 0 and 1"),
    (["sweep", "--ray-address", "ray://head:10001"], "only with --executor ray"),
    (["sensitivity", "--model", "lenet-5"], "0 reuses the shipped baseline, which is lenet-300-100"),
])
def test_scan_commands_refuse_bad_arguments_in_one_line(argv, message, capsys):
    with pytest.raises(SystemExit) as stop:
        raise SystemExit(cli.main(argv))  # argparse's own refusals exit inside main
    assert stop.value.code == 2
    out = capsys.readouterr()
    assert_usage_error(out.out, out.err)
    assert message in out.err


def test_search_command_prints_every_candidate_and_the_command_that_reproduces_the_best(capsys):
    assert cli.main(["search", "--data", "bundled", "--value", "0.9", "--budget", "1", "--criteria", "magnitude",
                     "--strategies", "finetune", "--learning-rates", "0.01", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)  # one candidate (the halving is tested in tests/experiments/test_search)
    assert out["rounds"] == [[1, 1]] and len(out["rows"]) == 1
    best = out["rows"][0]
    assert (best["learning_rate"], best["pruned_accuracy"], best["sparsity"]) == (0.01, 0.9245, 0.9)
    assert out["best_accuracy"] == best["final_accuracy"] and out["best"]["learning_rate"] == 0.01
    assert out["reproduce"] == ("python -m prune_core experiment --model lenet-300-100 --data bundled --train-epochs 0 "
                                "--criterion magnitude --granularity weight --rule sparsity --value 0.9 --scope global "
                                f"--mode oneshot --fine-tune-epochs 1 --learning-rate {best['learning_rate']:g} "
                                "--retrain finetune --seed 0")
