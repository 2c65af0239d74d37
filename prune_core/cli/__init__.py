"""Command line: the same core as the app, for reproducible runs without the UI.

    python -m prune_core example --criterion l1 --coefficient 0.5 [--max M] [--json]
    python -m prune_core experiment --model mlp-128 --data bundled --train-epochs 1 --criterion magnitude \\
        --granularity weight --rule coefficient --value 0.3 --scope layer --mode oneshot \\
        --fine-tune-epochs 1 --seed 0 [--json] [--compact]
    python -m prune_core experiment --criterion wanda --rule nm --value 2:4 --reconstruct --fine-tune-epochs 0
    python -m prune_core experiment --criterion snip --rule sparsity --value 0.98 --scope global --mode init \\
        --fine-tune-epochs 5
    python -m prune_core experiment --rule sparsity --value 0.98 --scope global --retrain rewind-lr \\
        --learning-rate 0.01
    python -m prune_core sweep --criteria magnitude,wanda --sparsities 0.5,0.9 [--executor ray] (see cli.scan)
    python -m prune_core sensitivity --criterion magnitude --sparsities 0.1,0.5,0.9 [--executor ray]

Bad arguments give one line on stderr and exit code 2; with ``--json`` stdout holds exactly one JSON
object (progress and library chatter go to stderr).

The ``experiment`` command's text report is :mod:`prune_core.cli.report`; the many-run commands (sweep,
sensitivity, search) live in :mod:`prune_core.cli.scan`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import sys
from dataclasses import asdict, dataclass
from typing import Callable

from .. import deploy
from ..experiments import api, example
from ..graph.coverage import coverage, coverage_sentence
from ..io import data
from ..io.data import DataUnavailableError
from ..io.downloads import safe_filename
from ..io.jsonable import to_jsonable
from ..measure import metrics
from ..measure.metrics import prunable_counts
from ..methods.criteria import CRITERIA
from ..methods.masks import copy_model
from ..methods.rules import RULES
from ..pruning import prune
from ..methods.thresholds import SCOPES
from ..methods.normalize import NORMALIZERS
from ..spec import GRANULARITIES, MODES, PruneSpec, RETRAIN_STRATEGIES, RunSpec, SPARSE_DISTRIBUTIONS, SPARSE_METHODS
from ..train import fit, models
from ..train.callbacks import early_weights_callback
from . import scan
from .report import format_example, format_report

MODELS = ("mlp-128", "lenet-300-100", "lenet-5", "vit-tiny", "gru-rows")  # prune_core.train.models.ARCHITECTURES
DATA_SOURCES = ("auto", "bundled", "full", "fashion")  # MNIST sources, then the bundled Fashion-MNIST
GRANULARITIES = tuple("neuron" if g == "unit" else g for g in GRANULARITIES)  # the CLI's words: "neuron" for "unit"
RETRAIN = tuple(RETRAIN_STRATEGIES)
BASELINE_ARCHITECTURE = scan.SHIPPED  # the shipped baseline, reused with --train-epochs 0


class UsageError(ValueError):
    """An argument (or combination) that cannot run; reported in one line with exit code 2."""


class _Parser(argparse.ArgumentParser):
    """argparse, but errors are one line on stderr (no usage block) and exit code 2."""

    def error(self, message: str):  # noqa: D401 - argparse API
        self.exit(2, f"{self.prog}: error: {message}\n")


# ---------------------------------------------------------------- argument types (pure, one-line errors)

def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def non_negative_number(text: str) -> float:
    value = _number(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text}")
    return value


def positive_number(text: str) -> float:
    value = _number(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
    return value


def non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text}")
    return value


def rule_value(text: str):
    """--value: a number (coefficient, sparsity, quality) or a rule's choice text such as 2:4; the rule's own
    check (in :meth:`ExperimentConfig.validate`) says whether it fits the chosen rule."""
    try:
        value = float(text)
    except ValueError:
        return text.strip()
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def _default_text(rule) -> str:
    return str(rule.default) if rule.choices else f"{rule.default:g}"


def check_value(rule: str, value: float) -> None:
    """The rule's own validator (the same message as the core's); UsageError otherwise."""
    try:
        RULES[rule].check(value)
    except ValueError as exc:
        raise UsageError(f"argument --value: {exc}") from None


def coefficient(text: str) -> float:
    """--coefficient: the coefficient rule's validator, as an argparse type."""
    try:
        return RULES["coefficient"].check(_number(text))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m prune_core", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="{example,experiment,sweep,sensitivity,search}")

    ex = sub.add_parser("example", help="the five-weight teaching table under the coefficient rule")
    ex.add_argument("--criterion", choices=example.CRITERIA, default="l1", help="which column is the score")
    ex.add_argument("--coefficient", type=coefficient, required=True,
                    help="prune where score < coefficient × max, a coefficient in [0, 1]")
    ex.add_argument("--max", type=positive_number, default=None, dest="maximum",
                    help="the maximum score to scale by (default: the column's maximum)")
    ex.add_argument("--json", action="store_true", help="print one JSON object")

    exp = sub.add_parser("experiment", help="train a baseline, prune it, fine-tune, and report")
    exp.add_argument("--model", choices=MODELS, default="mlp-128")
    exp.add_argument("--data", choices=DATA_SOURCES, default="auto")
    exp.add_argument("--train-epochs", type=non_negative_int, default=2,
                     help=f"baseline epochs; 0 reuses the shipped {BASELINE_ARCHITECTURE} baseline")
    exp.add_argument("--criterion", choices=list(CRITERIA), default="magnitude",
                     help="; ".join(f"{c.name}: {c.explanation}" for c in CRITERIA.values()))
    exp.add_argument("--granularity", choices=GRANULARITIES, default="weight")
    exp.add_argument("--rule", choices=list(RULES), default="coefficient")
    exp.add_argument("--value", type=rule_value, default=None,
                     help="coefficient / target sparsity in [0, 1], std quality >= 0, or a rule's choice: "
                          + "; ".join(f"{r.name} {' | '.join(r.choices)}" for r in RULES.values() if r.choices)
                          + f" (default {', '.join(f'{r.name} {_default_text(r)}' for r in RULES.values())})")
    exp.add_argument("--scope", choices=SCOPES, default="layer")
    exp.add_argument("--normalize", choices=tuple(NORMALIZERS), default="mean",
                     help="neurons under --scope global: divide each group's scores by their mean / max / sum before "
                          "the one ranking (none: raw scores; default %(default)s)")
    exp.add_argument("--min-keep", type=_number, default=0.1,
                     help="neurons under --scope global: every group keeps at least this share of its channels "
                          "(default %(default)s)")
    exp.add_argument("--mode", choices=MODES, default="oneshot",
                     help="init: pruning at initialization (prune a freshly initialised copy of the architecture, "
                          "then train the sparse network --fine-tune-epochs epochs); sparse: dynamic sparse training "
                          "(RigL or SET, --sparse-method) at --value sparsity (--rule sparsity) for --fine-tune-epochs")
    exp.add_argument("--sparse-method", choices=SPARSE_METHODS, default="rigl",
                     help="sparse mode: grow connections by gradient (rigl, Evci et al. 2020) or at random (set, "
                          "Mocanu et al. 2018)")
    exp.add_argument("--distribution", choices=SPARSE_DISTRIBUTIONS, default="uniform",
                     help="sparse mode: per-layer densities, uniform or Erdős–Rényi-Kernel (erk)")
    exp.add_argument("--fine-tune-epochs", type=non_negative_int, default=1)
    exp.add_argument("--learning-rate", type=positive_number, default=ExperimentConfig.learning_rate,
                     help="Adam learning rate for fine-tuning / retraining (default %(default)s)")
    exp.add_argument("--retrain", choices=RETRAIN, default="finetune",
                     help="finetune: constant --learning-rate; rewind-lr: the rate rewound to --learning-rate and "
                          "annealed to 0 (cosine), standing in for the baseline's original schedule (Renda et al. "
                          "2020); rewind-weights: kept weights reset to the baseline's epoch-1 weights, then "
                          "retrained like rewind-lr (Frankle et al. 2020)")
    exp.add_argument("--reconstruct", action="store_true",
                     help="one-shot: update the remaining weights layer by layer to keep each layer's outputs on "
                          "training batches (OBS / SparseGPT style) before fine-tuning")
    exp.add_argument("--seed", type=non_negative_int, default=0)
    exp.add_argument("--fraction", type=_number, default=ExperimentConfig.fraction,
                     help="iterative mode: share of the remaining weights pruned per round (default %(default)s)")
    exp.add_argument("--tolerance", type=non_negative_number, default=ExperimentConfig.tolerance,
                     help="iterative mode: stop when accuracy falls below dense − tolerance (default %(default)s)")
    exp.add_argument("--compact", action="store_true",
                     help="also remove pruned neurons physically (needs --granularity neuron)")
    exp.add_argument("--deploy", metavar="DIR", default=None,
                     help="also convert to TensorFlow Lite (float32 and int8), measure size, latency and accuracy in "
                          "LiteRT, and write every .tflite / .keras file into DIR")
    exp.add_argument("--json", action="store_true", help="print one JSON object")
    scan.add_parsers(sub, MODELS, DATA_SOURCES, non_negative_int)
    return parser


# ---------------------------------------------------------------- example

def run_example(args) -> int:
    result = example.apply_coefficient_rule(args.criterion, args.coefficient, args.maximum)
    print(json.dumps(result.to_dict()) if args.json else format_example(result))
    return 0


# ---------------------------------------------------------------- experiment

@dataclass(frozen=True)
class ExperimentConfig:
    model: str = "mlp-128"
    data: str = "auto"
    train_epochs: int = 2
    criterion: str = "magnitude"
    granularity: str = "weight"
    rule: str = "coefficient"
    value: float | str = 0.3
    scope: str = "layer"
    mode: str = "oneshot"
    fine_tune_epochs: int = 1
    seed: int = 0
    compact: bool = False
    fraction: float = 0.3    # iterative: share of the remaining weights pruned per round
    tolerance: float = 0.01  # iterative: stop when accuracy falls below dense − tolerance
    learning_rate: float = 1e-3  # fine-tuning / retraining rate
    retrain: str = "finetune"    # finetune | rewind-lr | rewind-weights
    reconstruct: bool = False    # one-shot: layer-wise reconstruction before fine-tuning
    deploy: str | None = None    # a folder: TFLite/Keras files written there, their measurements reported
    normalize: str = "mean"      # neurons under global scope: group scores over their mean before ranking
    min_keep: float = 0.1        # neurons under global scope: share of each group always kept
    sparse_method: str = "rigl"  # sparse mode: rigl | set
    distribution: str = "uniform"  # sparse mode: uniform | erk

    def spec(self):
        """The PruneSpec this experiment prunes by."""
        return PruneSpec(criterion=self.criterion, granularity=self.granularity, rule=self.rule, scope=self.scope,
                         value=self.value, seed=self.seed, normalize=self.normalize,
                         min_keep=self.min_keep).validate()

    def run_spec(self, target: float | None = None) -> RunSpec:
        """The RunSpec this experiment runs (``target``: gradual / iterative's target sparsity)."""
        return RunSpec(mode=self.mode, prune=self.spec(), epochs=self.fine_tune_epochs, learning_rate=self.learning_rate,
                       seed=self.seed, retrain=self.retrain, reconstruct=self.reconstruct, target_sparsity=target,
                       step_fraction=self.fraction, tolerance=self.tolerance, compact=self.compact,
                       sparse_method=self.sparse_method, distribution=self.distribution,
                       latency_repeats=10 if self.compact else 0).validate()

    def validate(self) -> None:
        """Combinations argparse cannot see (UsageError, one line)."""
        check_value(self.rule, self.value)
        try:
            self.spec()
        except ValueError as exc:
            raise UsageError(f"argument --rule: {exc}") from None
        if self.mode == "init" and self.fine_tune_epochs < 1:
            raise UsageError("argument --fine-tune-epochs: --mode init trains the pruned network; give at least 1")
        if self.reconstruct and self.mode != "oneshot":
            raise UsageError(f"argument --reconstruct: reconstructs a one-shot mask; use --mode oneshot "
                             f"(got --mode {self.mode})")
        if self.retrain != "finetune" and self.mode not in ("oneshot", "iterative"):
            raise UsageError(f"argument --retrain: {self.retrain} retrains one-shot or iterative runs; "
                             f"got --mode {self.mode}")
        if self.retrain == "rewind-weights" and self.reconstruct:
            raise UsageError("argument --retrain: weight rewinding would undo --reconstruct; choose one")
        if self.retrain == "rewind-weights" and self.train_epochs < 2:
            raise UsageError("argument --retrain: rewind-weights rewinds to the baseline's epoch-1 weights; train it "
                             "here for at least 2 epochs (--train-epochs 2)")
        if self.mode not in ("oneshot", "init") and self.granularity != "weight":
            raise UsageError(f"argument --granularity: --mode {self.mode} prunes weights; use --granularity weight"
                             " (or --mode oneshot for neurons)")
        if self.mode == "sparse" and self.rule != "sparsity":
            raise UsageError(f"argument --rule: --mode sparse trains at a target sparsity; use --rule sparsity "
                             f"(got --rule {self.rule})")
        if self.mode in ("gradual", "iterative", "sparse") and self.fine_tune_epochs < 1:
            raise UsageError(f"argument --fine-tune-epochs: --mode {self.mode} prunes while training; give at least 1")
        if not 0 < self.fraction <= 1:
            raise UsageError(f"argument --fraction: needs a value in (0, 1], got {self.fraction:g}")
        if self.mode in ("gradual", "iterative") and self.rule in ("nm", "block", "per-output"):
            raise UsageError(f"argument --rule: --mode {self.mode} prunes to a target sparsity; use --mode oneshot "
                             f"or init for the {self.rule} rule")
        if self.deploy and deploy.unavailable():
            raise UsageError(f"argument --deploy: {deploy.unavailable()}")
        if self.compact and self.granularity != "neuron":
            raise UsageError("argument --compact: needs --granularity neuron (weight pruning removes no neurons)")
        if self.train_epochs == 0 and self.model != BASELINE_ARCHITECTURE:
            raise UsageError(f"argument --train-epochs: 0 reuses the shipped baseline, which is {BASELINE_ARCHITECTURE}"
                             f" (got --model {self.model}); train at least 1 epoch")
        if self.train_epochs == 0 and self.data == "fashion":
            raise UsageError("argument --train-epochs: 0 reuses the shipped baseline, which was trained on MNIST "
                             "digits, not Fashion-MNIST; train at least 1 epoch")


def _stderr_progress(fraction: float, text: str) -> None:
    """Training progress on stderr: one line per finished epoch (the batch ticks would flood a log)."""
    if "done" in text:
        print(f"  {text}", file=sys.stderr, flush=True)


def _stderr_log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _baseline(config: ExperimentConfig, ds, progress):
    """(model, description, rewind weights): trained here, or the shipped baseline when train_epochs is 0; the
    rewind weights (the epoch-1 weights) only for --retrain rewind-weights, else None."""
    if config.retrain != "rewind-weights" or config.train_epochs == 0:
        return (*scan.baseline(config.model, ds, config.train_epochs, config.seed, progress), None)
    model = copy_model(models.build_model(config.model, ds.input_shape, ds.num_classes, seed=config.seed))
    keep = early_weights_callback(1)  # the same training as train_model, keeping the epoch-1 weights
    result = fit.train(model, ds.x_train, ds.y_train, epochs=config.train_epochs, seed=config.seed,
                       validation=(ds.x_test, ds.y_test), progress=progress, callbacks=[keep])
    return model, f"trained {config.train_epochs} epoch(s) in {result.seconds:.1f} s (epoch-1 weights kept)", keep.weights


def run_pipeline(config: ExperimentConfig, dense, dense_eval, ds, progress, say, rewind_weights=None):
    """The run the config asks for, by the library's one run API (:func:`prune_core.experiments.api.run`): a
    RunResult. The CLI only adds its log lines (the one-shot mask's sparsity, the target it aims for)."""
    mask_set = target = None
    if config.mode == "oneshot":
        pruned = prune(dense, config.spec(), ds)
        say(f"pruned: sparsity {pruned.sparsity:.2%}")
        mask_set = pruned.masks
    elif config.mode == "init":
        say(f"pruning at initialization by {config.criterion}, then training {config.fine_tune_epochs} epoch(s)")
    else:
        target = api.target_sparsity(dense, ds, config.run_spec())
        if config.mode == "gradual":
            say(f"gradual: to sparsity {target:.2%} over {config.fine_tune_epochs} epoch(s)")
        elif config.mode == "sparse":
            say(f"sparse training ({config.sparse_method}, {config.distribution} densities) at sparsity "
                f"{target:.2%} for {config.fine_tune_epochs} epoch(s)")
        else:
            say(f"iterative: {config.fraction:g} of the remaining weights a round, to sparsity {target:.2%},"
                f" tolerance {config.tolerance:g}")
    result = api.run(dense, ds, config.run_spec(target), mask_set=mask_set, dense_accuracy=dense_eval.accuracy,
                     settings=config.spec().to_dict(), progress=progress, rewind_weights=rewind_weights)
    if config.mode == "oneshot" and config.reconstruct:
        say(f"reconstructed: accuracy {result.pruned_accuracy:.2%} → {result.reconstructed_accuracy:.2%} "
            "before fine-tuning")
    if config.mode == "iterative":
        say(f"iterative: stopped, {result.stopped_because}")
    return result


def report_from(config: ExperimentConfig, ds, baseline_note: str, dense_eval, result) -> dict:
    """The CLI's JSON report (its keys are a public interface) from a RunResult."""
    zeros, total = prunable_counts(result.model)
    report = {
        "config": asdict(config),
        "data": {"name": ds.name, "key": ds.key, "train": len(ds.y_train), "test": len(ds.y_test)},
        "baseline": baseline_note,
        "dense_accuracy": dense_eval.accuracy, "dense_loss": dense_eval.loss,
        "pruned_accuracy": result.pruned_accuracy, "pruned_loss": result.pruned_loss,
        "final_accuracy": result.final_accuracy, "final_loss": result.final_loss,
        "sparsity": result.sparsity, "layers": result.layer_sparsity,
        "pruned_weights": zeros, "prunable_weights": total, "coverage": coverage_sentence(coverage(result.model)),
        "thresholds": {k: float(v) for k, v in (result.mask_set.thresholds if result.mask_set else {}).items()},
        "params": result.params, "nonzero_params": result.nonzero_params, "gzip_bytes": result.gzip_bytes,
        "sparse_bytes": result.sparse_bytes, "float32_bytes": result.float32_bytes,
        "dense_params": result.dense["params"], "dense_nonzero_params": result.dense["nonzero_params"],
        "dense_gzip_bytes": result.dense["gzip_bytes"],
    }
    if config.reconstruct:
        report["reconstructed_accuracy"] = result.reconstructed_accuracy
        report["reconstruction"] = result.reconstruction
    if config.mode == "gradual":
        report.update(target_sparsity=result.settings["target_sparsity"], schedule=result.events)
    if config.mode == "sparse":
        report.update(target_sparsity=result.settings["target_sparsity"],
                      updates=[{k: e[k] for k in ("step", "fraction", "moved")} for e in result.events])
    if config.mode == "iterative":
        report.update(target_sparsity=result.settings["target_sparsity"], stopped_because=result.stopped_because,
                      history=[{"step": r["round"], **{k: r[k] for k in ("sparsity", "pruned_accuracy", "accuracy",
                                                                          "within_tolerance")}} for r in result.rounds])
    if config.compact:
        say_size = ("params", "float32_bytes", "gzip_bytes", "latency_ms")
        report["masked"] = {**{k: getattr(result, k) for k in say_size}, "nonzero": result.nonzero_params,
                            "sparse_bytes": result.sparse_bytes}
        c = result.compact or {"error": "no units were removed"}
        report["compact"] = c if "error" in c else {
            **{k: c[k] for k in say_size}, "nonzero": c["nonzero_params"], "accuracy": c["accuracy"],
            "units": {name: kept for name, (kept, _) in c["units"].items()}, "left_masked": c["left_masked"]}
        report["dense"] = {"params": result.dense["params"], "nonzero": result.dense["nonzero_params"],
                           "float32_bytes": result.dense["float32_bytes"], "gzip_bytes": result.dense["gzip_bytes"],
                           "sparse_bytes": result.dense["sparse_bytes"]}
    return report


def run_experiment(config: ExperimentConfig, progress: Callable[[float, str], None] | None = None,
                   log: Callable[[str], None] | None = None) -> dict:
    """Train (or reuse) a baseline, prune it by the config, fine-tune, and measure: a JSON-ready dict.

    ``progress(fraction, text)`` receives training progress, ``log(text)`` one line per stage.
    """
    config.validate()
    say = log or (lambda text: None)
    ds = data.load_dataset(config.data)
    say(f"data: {ds.description}")
    dense, baseline_note, rewind_weights = _baseline(config, ds, progress)
    dense_eval = metrics.evaluate(dense, ds.x_test, ds.y_test)
    say(f"baseline: {baseline_note} · test accuracy {dense_eval.accuracy:.2%}")
    result = run_pipeline(config, dense, dense_eval, ds, progress, say, rewind_weights)
    if config.compact:
        say("compact: removed pruned neurons physically")
    report = report_from(config, ds, baseline_note, dense_eval, result)
    if config.deploy:
        report.update(deploy_report(config, dense, ds, result, say))
    return report


def deploy_report(config: ExperimentConfig, dense, ds, result, say) -> dict:
    """--deploy: every export converted and measured (prune_core.deploy), its files written to the folder; the
    report's flat keys (tflite_bytes, tflite_latency_us, dense_tflite_latency_us, tflite_sparse, tflite_accuracy,
    the same with int8_) and the whole table under "deploy"."""
    say("deploy: converting to TensorFlow Lite and timing every file…")
    measured = deploy.deploy_run(result, dense, ds)
    paths = measured.write(config.deploy, stem=safe_filename(f"{config.model}-{config.mode}"))
    say(f"deploy: wrote {len(paths)} files to {config.deploy} · {measured.verdict()}")
    return {**measured.summary_keys("pruned"), "deploy": {**measured.to_record(), "files": paths}}


def run_experiment_command(args) -> int:
    value = RULES[args.rule].default if args.value is None else args.value
    config = ExperimentConfig(model=args.model, data=args.data, train_epochs=args.train_epochs,
                              criterion=args.criterion, granularity=args.granularity, rule=args.rule, value=value,
                              scope=args.scope, mode=args.mode, fine_tune_epochs=args.fine_tune_epochs,
                              seed=args.seed, compact=args.compact, fraction=args.fraction,
                              tolerance=args.tolerance, learning_rate=args.learning_rate, retrain=args.retrain,
                              reconstruct=args.reconstruct, deploy=args.deploy, sparse_method=args.sparse_method,
                              distribution=args.distribution,
                              normalize=args.normalize, min_keep=args.min_keep)
    config.validate()  # before TensorFlow loads: bad arguments fail fast
    # Anything a library prints while we work goes to stderr, so stdout is only the report / JSON.
    with contextlib.redirect_stdout(sys.stderr):
        report = to_jsonable(run_experiment(config, progress=_stderr_progress, log=_stderr_log))
    print(json.dumps(report) if args.json else format_report(report))
    return 0


def run_scan_command(args) -> int:
    """``sweep`` / ``sensitivity`` (:mod:`prune_core.cli.scan`): stdout holds the table or one JSON object."""
    with contextlib.redirect_stdout(sys.stderr):
        report = to_jsonable(scan.run(args, _stderr_log, _stderr_points))
    print(json.dumps(report) if args.json else scan.format_report(report))
    return 0


def _stderr_points(fraction: float, text: str) -> None:
    """A sweep's or scan's progress on stderr: one line per finished point (not the training ticks inside one)."""
    if "batch" not in text and "Epoch" not in text:
        print(f"  {fraction:4.0%} {text}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- entry point

def main(argv: list[str] | None = None) -> int:
    """Parse, run, return the exit code: 0 fine, 2 bad arguments or unavailable data, 1 anything else."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow is imported later, lazily: keep its C++ chatter out
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command in ("sweep", "sensitivity", "search"):
            return run_scan_command(args)
        return run_example(args) if args.command == "example" else run_experiment_command(args)
    except (ValueError, DataUnavailableError) as exc:  # includes UsageError
        print(f"{parser.prog} {args.command}: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except Exception as exc:  # a run that broke: still one line, never a traceback
        print(f"{parser.prog} {args.command}: failed: {type(exc).__name__}: {_one_line(exc)}", file=sys.stderr)
        return 1


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__
