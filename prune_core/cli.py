"""Command line: the same core as the app, for reproducible runs without the UI.

    python -m prune_core example --criterion l1 --coefficient 0.5 [--max M] [--json]
    python -m prune_core experiment --model mlp-128 --data bundled --train-epochs 1 --criterion magnitude \\
        --granularity weight --rule coefficient --value 0.3 --scope layer --mode oneshot \\
        --fine-tune-epochs 1 --seed 0 [--json] [--compact]

Bad arguments give one line on stderr and exit code 2; with ``--json`` stdout holds exactly one JSON
object (progress and library chatter go to stderr).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import sys
from dataclasses import asdict, dataclass
from typing import Callable

from . import example

MODELS = ("mlp-128", "lenet-300-100", "lenet-5")
DATA_SOURCES = ("auto", "bundled", "full")
CRITERIA = ("magnitude", "sensitivity", "taylor", "random")
GRANULARITIES = ("weight", "neuron")
RULES = ("coefficient", "sparsity", "std")
SCOPES = ("layer", "global")
MODES = ("oneshot", "gradual", "iterative")
DEFAULT_VALUES = {"coefficient": 0.3, "sparsity": 0.5, "std": 1.0}
BASELINE_ARCHITECTURE = "lenet-300-100"  # the shipped baseline, reused with --train-epochs 0


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


def check_value(rule: str, value: float) -> None:
    """The rule's range: coefficient and sparsity in [0, 1], std quality >= 0 (UsageError otherwise)."""
    if rule in ("coefficient", "sparsity") and not 0 <= value <= 1:
        raise UsageError(f"argument --value: the {rule} rule needs a value in [0, 1], got {value:g}")
    if rule == "std" and value < 0:
        raise UsageError(f"argument --value: the std rule needs a quality >= 0, got {value:g}")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m prune_core", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="{example,experiment}")

    ex = sub.add_parser("example", help="the five-weight teaching table under the coefficient rule")
    ex.add_argument("--criterion", choices=example.CRITERIA, default="l1", help="which column is the score")
    ex.add_argument("--coefficient", type=non_negative_number, required=True,
                    help="prune where score < coefficient × max (values above 1 are allowed here)")
    ex.add_argument("--max", type=positive_number, default=None, dest="maximum",
                    help="the maximum score to scale by (default: the column's maximum)")
    ex.add_argument("--json", action="store_true", help="print one JSON object")

    exp = sub.add_parser("experiment", help="train a baseline, prune it, fine-tune, and report")
    exp.add_argument("--model", choices=MODELS, default="mlp-128")
    exp.add_argument("--data", choices=DATA_SOURCES, default="auto")
    exp.add_argument("--train-epochs", type=non_negative_int, default=2,
                     help=f"baseline epochs; 0 reuses the shipped {BASELINE_ARCHITECTURE} baseline")
    exp.add_argument("--criterion", choices=CRITERIA, default="magnitude")
    exp.add_argument("--granularity", choices=GRANULARITIES, default="weight")
    exp.add_argument("--rule", choices=RULES, default="coefficient")
    exp.add_argument("--value", type=_number, default=None,
                     help="coefficient / target sparsity in [0, 1], or std quality >= 0 "
                          f"(default {', '.join(f'{k} {v:g}' for k, v in DEFAULT_VALUES.items())})")
    exp.add_argument("--scope", choices=SCOPES, default="layer")
    exp.add_argument("--mode", choices=MODES, default="oneshot")
    exp.add_argument("--fine-tune-epochs", type=non_negative_int, default=1)
    exp.add_argument("--seed", type=non_negative_int, default=0)
    exp.add_argument("--fraction", type=_number, default=ExperimentConfig.fraction,
                     help="iterative mode: share of the remaining weights pruned per round (default %(default)s)")
    exp.add_argument("--tolerance", type=non_negative_number, default=ExperimentConfig.tolerance,
                     help="iterative mode: stop when accuracy falls below dense − tolerance (default %(default)s)")
    exp.add_argument("--compact", action="store_true",
                     help="also remove pruned neurons physically (needs --granularity neuron)")
    exp.add_argument("--json", action="store_true", help="print one JSON object")
    return parser


# ---------------------------------------------------------------- example

def format_example(result: example.ExampleResult) -> str:
    """The teaching table as text, with the threshold and a pruned column."""
    frame = result.table.copy()
    frame["pruned"] = frame["pruned"].map({True: "pruned", False: "kept"})
    source = "given" if result.max_given else f"max of {result.criterion}"
    head = (f"criterion {result.criterion} · coefficient {result.coefficient:g} · max {result.maximum:g} ({source})"
            f"\nthreshold = {result.coefficient:g} × {result.maximum:g} = {result.threshold:g}"
            f" · prune where score < threshold")
    pruned = ", ".join(result.pruned) or "none"
    return f"{head}\n\n{frame.to_string(index=False)}\n\npruned: {pruned}"


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
    value: float = 0.3
    scope: str = "layer"
    mode: str = "oneshot"
    fine_tune_epochs: int = 1
    seed: int = 0
    compact: bool = False
    fraction: float = 0.3    # iterative: share of the remaining weights pruned per round
    tolerance: float = 0.01  # iterative: stop when accuracy falls below dense − tolerance

    def validate(self) -> None:
        """Combinations argparse cannot see (UsageError, one line)."""
        check_value(self.rule, self.value)
        if self.mode != "oneshot" and self.granularity != "weight":
            raise UsageError(f"argument --granularity: --mode {self.mode} prunes weights; use --granularity weight"
                             " (or --mode oneshot for neurons)")
        if self.mode != "oneshot" and self.fine_tune_epochs < 1:
            raise UsageError(f"argument --fine-tune-epochs: --mode {self.mode} prunes while training; give at least 1")
        if not 0 < self.fraction <= 1:
            raise UsageError(f"argument --fraction: needs a value in (0, 1], got {self.fraction:g}")
        if self.compact and self.granularity != "neuron":
            raise UsageError("argument --compact: needs --granularity neuron (weight pruning removes no neurons)")
        if self.train_epochs == 0 and self.model != BASELINE_ARCHITECTURE:
            raise UsageError(f"argument --train-epochs: 0 reuses the shipped baseline, which is {BASELINE_ARCHITECTURE}"
                             f" (got --model {self.model}); train at least 1 epoch")


def _stderr_progress(fraction: float, text: str) -> None:
    """Training progress on stderr: one line per finished epoch (the batch ticks would flood a log)."""
    if "done" in text:
        print(f"  {text}", file=sys.stderr, flush=True)


def _stderr_log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def kernel_sparsity(model) -> tuple[dict[str, float], float, int, int]:
    """Per-layer sparsity of the prunable kernels as they are now (zeros / size), overall, zeros, total."""
    import numpy as np

    from .layers import kernels
    per_layer, zeros, total = {}, 0, 0
    for name, kernel in kernels(model).items():
        z = int(kernel.size - np.count_nonzero(kernel))
        per_layer[name] = z / kernel.size
        zeros, total = zeros + z, total + kernel.size
    return per_layer, (zeros / total if total else 0.0), zeros, total


def _baseline(config: ExperimentConfig, ds, progress):
    """(model, description): trained here, or the shipped baseline when train_epochs is 0."""
    from . import models

    if config.train_epochs == 0:
        import keras

        from .data import BUNDLED_PATH
        path = BUNDLED_PATH.parent / f"baseline-{BASELINE_ARCHITECTURE}.keras"
        return keras.saving.load_model(path, safe_mode=True, compile=False), f"shipped baseline {path.name}"
    model = models.build_model(config.model, ds.input_shape, ds.num_classes, seed=config.seed)
    result = models.train(model, ds.x_train, ds.y_train, epochs=config.train_epochs, seed=config.seed,
                          progress=progress)
    return model, f"trained {config.train_epochs} epoch(s) in {result.seconds:.1f} s"


def _size(model, x=None, *, latency: bool = False) -> dict:
    """metrics.size_summary (params, nonzero, bytes), plus latency_ms on x when asked."""
    from . import metrics
    out = metrics.size_summary(model)
    if latency:
        out["latency_ms"] = float(metrics.latency_ms(model, x))
    return out


def _masks(config: ExperimentConfig, model, ds, value: float, scope: str | None = None):
    """Scores on the training data, then the rule → a MaskSet."""
    from . import importance, masks
    from .layers import kernels, output_layer_name

    output = output_layer_name(model)
    scores = importance.weight_scores(model, config.criterion, ds.x_train, ds.y_train, seed=config.seed)
    if config.granularity == "neuron":
        scores = importance.unit_scores(scores, config.criterion, output_layer=output, seed=config.seed)
    unit = config.granularity == "neuron"  # the core calls it "unit"
    # The std rule compares quality × std(w) with |w| only for magnitude scores; other scores use their own std.
    weights = kernels(model) if unit or config.criterion == "magnitude" else None
    return masks.build_masks(scores, config.rule, value, scope=scope or config.scope,
                             granularity="unit" if unit else "weight", weights=weights, output_layer=output)


def target_sparsity(config: ExperimentConfig, dense, ds) -> float:
    """What gradual / iterative runs aim for: --value under the sparsity rule; under the coefficient
    and std rules, the sparsity that rule gives one-shot on the dense baseline."""
    if config.rule == "sparsity":
        return config.value
    return float(_masks(config, dense, ds, config.value).overall_sparsity)


def _oneshot(config, dense, dense_eval, ds, progress, say):
    """Prune once by the rule, then masked fine-tuning (pruned weights stay exactly zero)."""
    from . import masks, metrics

    mask_set = _masks(config, dense, ds, config.value)
    pruned = masks.apply_masks(dense, mask_set)
    pruned_eval = metrics.evaluate(pruned, ds.x_test, ds.y_test)
    say(f"pruned: sparsity {mask_set.overall_sparsity:.2%} · test accuracy {pruned_eval.accuracy:.2%}")
    final = pruned
    if config.fine_tune_epochs:
        final, _ = masks.fine_tune(pruned, mask_set, ds.x_train, ds.y_train, epochs=config.fine_tune_epochs,
                                   seed=config.seed, progress=progress)
    return final, mask_set, pruned_eval, {}


def _oneshot_to(config, dense, ds, sparsity: float):
    """Evaluation of the dense model pruned one-shot to ``sparsity`` (same criterion and scope), untrained:
    the "pruned before fine-tuning" figure for gradual and iterative runs."""
    from . import masks, metrics, schedules

    mask_set = schedules.current_masks(dense, sparsity, criterion=config.criterion, scope=config.scope,
                                       x=ds.x_train, y=ds.y_train, seed=config.seed)
    return metrics.evaluate(masks.apply_masks(dense, mask_set), ds.x_test, ds.y_test)


def _gradual(config, dense, dense_eval, ds, progress, say):
    """Zhu & Gupta polynomial ramp to the target sparsity over the fine-tuning epochs."""
    from . import schedules

    target = target_sparsity(config, dense, ds)
    say(f"gradual: to sparsity {target:.2%} over {config.fine_tune_epochs} epoch(s)")
    final, result = schedules.gradual_prune(dense, ds.x_train, ds.y_train, target, epochs=config.fine_tune_epochs,
                                            criterion=config.criterion, scope=config.scope, seed=config.seed,
                                            progress=progress)
    events = [{"step": e.step, "target": e.target, "sparsity": e.sparsity} for e in result.events]
    return final, result.mask_set, _oneshot_to(config, dense, ds, target), {"target_sparsity": target,
                                                                            "schedule": events}


def _iterative(config, dense, dense_eval, ds, progress, say):
    """Prune a share of what remains, fine-tune, evaluate; repeat until the target or the tolerance.

    The bundled data has no validation split, so the stopping rule watches the test split (as the app does).
    """
    from . import masks, schedules

    target = target_sparsity(config, dense, ds)
    say(f"iterative: {config.fraction:g} of the remaining weights a round, to sparsity {target:.2%},"
        f" tolerance {config.tolerance:g}")
    result = schedules.iterative_prune(dense, ds.x_train, ds.y_train, ds.x_test, ds.y_test, fraction=config.fraction,
                                       fine_tune_epochs=config.fine_tune_epochs, tolerance=config.tolerance,
                                       target_sparsity=target, criterion=config.criterion, scope=config.scope,
                                       seed=config.seed, baseline_accuracy=dense_eval.accuracy, progress=progress)
    mask_set = result.mask_set or masks.MaskSet(kernels={})  # no round stayed within tolerance
    steps = [{"step": s.step, "sparsity": s.sparsity, "pruned_accuracy": s.pruned_accuracy, "accuracy": s.accuracy,
              "within_tolerance": s.within_tolerance} for s in result.steps]
    say(f"iterative: stopped, {result.stopped_because}")
    return result.model, mask_set, _oneshot_to(config, dense, ds, result.best_sparsity), {
        "target_sparsity": target, "history": steps, "stopped_because": result.stopped_because}


def run_experiment(config: ExperimentConfig, progress: Callable[[float, str], None] | None = None,
                   log: Callable[[str], None] | None = None) -> dict:
    """Train (or reuse) a baseline, prune it by the config, fine-tune, and measure: a JSON-ready dict.

    ``progress(fraction, text)`` receives training progress, ``log(text)`` one line per stage.
    """
    from . import data, metrics

    config.validate()
    say = log or (lambda text: None)
    ds = data.load_mnist(config.data)
    say(f"data: {ds.description}")
    dense, baseline_note = _baseline(config, ds, progress)
    dense_eval = metrics.evaluate(dense, ds.x_test, ds.y_test)
    say(f"baseline: {baseline_note} · test accuracy {dense_eval.accuracy:.2%}")

    mode = {"oneshot": _oneshot, "gradual": _gradual, "iterative": _iterative}[config.mode]
    final, mask_set, pruned_eval, extra = mode(config, dense, dense_eval, ds, progress, say)
    final_eval = metrics.evaluate(final, ds.x_test, ds.y_test)
    layers, _, zeros, total = kernel_sparsity(final)

    report = {
        "config": asdict(config),
        "data": {"name": ds.name, "key": ds.key, "train": len(ds.y_train), "test": len(ds.y_test)},
        "baseline": baseline_note,
        "dense_accuracy": dense_eval.accuracy, "dense_loss": dense_eval.loss,
        "pruned_accuracy": pruned_eval.accuracy, "pruned_loss": pruned_eval.loss,
        "final_accuracy": final_eval.accuracy, "final_loss": final_eval.loss,
        "sparsity": metrics.prunable_sparsity(final), "layers": layers,
        "pruned_weights": zeros, "prunable_weights": total,
        "thresholds": {k: float(v) for k, v in getattr(mask_set, "thresholds", {}).items()},
        **extra,
    }
    sample = ds.x_test[:256]
    dense_size, final_size = _size(dense), _size(final, sample, latency=config.compact)
    report.update(params=final_size["params"], nonzero_params=final_size["nonzero"],
                  gzip_bytes=final_size["gzip_bytes"], sparse_bytes=final_size["sparse_bytes"],
                  float32_bytes=final_size["float32_bytes"], dense_params=dense_size["params"],
                  dense_nonzero_params=dense_size["nonzero"], dense_gzip_bytes=dense_size["gzip_bytes"])
    if config.compact:
        from .surgery import compact_model
        small = compact_model(final, mask_set.units)
        say("compact: removed pruned neurons physically")
        report["masked"] = final_size
        report["compact"] = {**_size(small, sample, latency=True),
                             "accuracy": metrics.evaluate(small, ds.x_test, ds.y_test).accuracy,
                             "units": {name: int(sum(keep)) for name, keep in mask_set.units.items()}}
        report["dense"] = dense_size
    return report


def format_report(report: dict) -> str:
    """A readable, fixed-width report of run_experiment's dict."""
    from .metrics import human_bytes

    c, d = report["config"], report["data"]
    lines = [
        f"{c['model']} on {d['name']} ({d['train']:,} train / {d['test']:,} test)"
        f" · {report['baseline']}",
        f"prune: {c['criterion']} · {c['granularity']} · {c['rule']} {c['value']:g} · {c['scope']} scope"
        f" · {c['mode']} · fine-tune {c['fine_tune_epochs']} epoch(s) · seed {c['seed']}",
        "",
        f"{'accuracy':<26}{'dense':>10}{'pruned':>10}{'final':>12}",
        f"{'':<26}{report['dense_accuracy']:>10.2%}{report['pruned_accuracy']:>10.2%}{report['final_accuracy']:>12.2%}",
        "",
        f"sparsity of prunable weights: {report['sparsity']:.2%}"
        f" ({report['pruned_weights']:,} of {report['prunable_weights']:,})",
    ]
    for name, s in report["layers"].items():
        threshold = report["thresholds"].get(name)
        extra = f"  threshold {threshold:.4g}" if threshold is not None else ""
        lines.append(f"  {name:<22}{s:>8.2%}{extra}")
    lines += [
        "",
        f"{'size':<26}{'dense':>14}{'final':>14}",
        f"{'params':<26}{report['dense_params']:>14,}{report['params']:>14,}",
        f"{'nonzero params':<26}{report['dense_nonzero_params']:>14,}{report['nonzero_params']:>14,}",
        f"{'gzip of .keras file':<26}{human_bytes(report['dense_gzip_bytes']):>14}"
        f"{human_bytes(report['gzip_bytes']):>14}",
        f"{'sparse (CSR) estimate':<26}{'':>14}{human_bytes(report['sparse_bytes']):>14}",
    ]
    if c["mode"] != "oneshot":
        lines += ["", f"{c['mode']} to target sparsity {report['target_sparsity']:.2%}"
                      " ('pruned' accuracy: the dense model pruned one-shot to the final sparsity, untrained)"]
    for event in report.get("schedule", []):
        lines.append(f"  step {event['step']:>5}: scheduled {event['target']:.2%} · held {event['sparsity']:.2%}")
    for step in report.get("history", []):
        note = "" if step["within_tolerance"] else " (below tolerance)"
        lines.append(f"  round {step['step']}: sparsity {step['sparsity']:.2%} · accuracy "
                     f"{step['pruned_accuracy']:.2%}"
                     f" → {step['accuracy']:.2%} after fine-tuning{note}")
    if "stopped_because" in report:
        lines.append(f"  stopped: {report['stopped_because']}")
    if "compact" in report:
        m, k = report["masked"], report["compact"]
        lines += [
            "",
            f"{'physical removal':<26}{'masked':>14}{'compact':>14}",
            f"{'params':<26}{m['params']:>14,}{k['params']:>14,}",
            f"{'nonzero params':<26}{m['nonzero']:>14,}{k['nonzero']:>14,}",
            f"{'float32 bytes':<26}{human_bytes(m['float32_bytes']):>14}{human_bytes(k['float32_bytes']):>14}",
            f"{'gzip of .keras file':<26}{human_bytes(m['gzip_bytes']):>14}{human_bytes(k['gzip_bytes']):>14}",
            f"{'latency (ms / 256)':<26}{m['latency_ms']:>14.3f}{k['latency_ms']:>14.3f}",
            f"{'accuracy':<26}{report['final_accuracy']:>14.2%}{k['accuracy']:>14.2%}",
            "units kept: " + ", ".join(f"{n} {u}" for n, u in k["units"].items()),
        ]
    return "\n".join(lines)


def _jsonable(obj):
    """numpy scalars and arrays → plain Python, recursively."""
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if hasattr(obj, "tolist"):
        return obj.tolist()
    return obj


def run_experiment_command(args) -> int:
    value = DEFAULT_VALUES[args.rule] if args.value is None else args.value
    config = ExperimentConfig(model=args.model, data=args.data, train_epochs=args.train_epochs,
                              criterion=args.criterion, granularity=args.granularity, rule=args.rule, value=value,
                              scope=args.scope, mode=args.mode, fine_tune_epochs=args.fine_tune_epochs,
                              seed=args.seed, compact=args.compact, fraction=args.fraction,
                              tolerance=args.tolerance)
    config.validate()  # before TensorFlow loads: bad arguments fail fast
    # Anything a library prints while we work goes to stderr, so stdout is only the report / JSON.
    with contextlib.redirect_stdout(sys.stderr):
        report = _jsonable(run_experiment(config, progress=_stderr_progress, log=_stderr_log))
    print(json.dumps(report) if args.json else format_report(report))
    return 0


# ---------------------------------------------------------------- entry point

def main(argv: list[str] | None = None) -> int:
    """Parse, run, return the exit code: 0 fine, 2 bad arguments or unavailable data, 1 anything else."""
    parser = build_parser()
    args = parser.parse_args(argv)
    from .data import DataUnavailableError
    try:
        return run_example(args) if args.command == "example" else run_experiment_command(args)
    except (ValueError, DataUnavailableError) as exc:  # includes UsageError
        print(f"{parser.prog} {args.command}: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except Exception as exc:  # a run that broke: still one line, never a traceback
        print(f"{parser.prog} {args.command}: failed: {type(exc).__name__}: {_one_line(exc)}", file=sys.stderr)
        return 1


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__
