"""The CLI's many-run commands — a criteria × sparsity sweep and a per-layer sensitivity scan — here or on Ray:

    python -m prune_core sweep --model lenet-300-100 --data bundled --train-epochs 0 \\
        --criteria magnitude,wanda,taylor,random --sparsities 0.5,0.8,0.9,0.95 --fine-tune-epochs 1 \\
        [--executor ray [--ray-address ADDRESS] [--num-cpus 1] [--num-gpus 0]] [--json]
    python -m prune_core sensitivity --model lenet-300-100 --data bundled --train-epochs 0 --criterion magnitude \\
        --sparsities 0.1,0.3,0.5,0.7,0.9 [--executor ray] [--json]
    python -m prune_core search --model lenet-300-100 --data bundled --train-epochs 5 --value 0.98 --budget 2 \\
        [--criteria magnitude,taylor,wanda] [--learning-rates 0.001,0.01] [--executor ray] [--json]

``search`` runs the recipe search (:mod:`prune_core.experiments.search`) and prints, with every candidate, the
``experiment`` command that reproduces its best recipe.

``--executor ray`` runs each point (sweep) or layer (scan) as a Ray task: on a local Ray started here, or on the
cluster at ``--ray-address`` / ``$RAY_ADDRESS``; the numbers equal the in-process ones for the same seed.
"""

from __future__ import annotations

import argparse
import time

from ..experiments import search, sweeps
from ..experiments.executor import EXECUTORS, get_executor
from ..io import data
from ..measure import metrics
from ..methods.criteria import CRITERIA
from ..methods.thresholds import SCOPES
from ..train import fit, models

SHIPPED = "lenet-300-100"  # the architecture of the shipped baseline (--train-epochs 0)


def fractions(text: str) -> list[float]:
    """--sparsities: comma-separated fractions in [0, 1].

    >>> fractions("0.5, 0.9")
    [0.5, 0.9]
    """
    try:
        values = [float(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated fractions such as 0.5,0.9; got {text!r}") from None
    if not values or any(not 0 <= v <= 1 for v in values):
        raise argparse.ArgumentTypeError(f"every sparsity must be between 0 and 1; got {text!r}")
    return values


def criteria_list(text: str) -> list[str]:
    """--criteria: comma-separated names of registered criteria."""
    names = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [n for n in names if n not in CRITERIA]
    if not names or unknown:
        named = ", ".join(unknown) or repr(text)
        raise argparse.ArgumentTypeError(f"unknown criteria {named}; choose from {', '.join(CRITERIA)}")
    return names


def add_parsers(sub, models_choices, data_choices, non_negative_int) -> None:
    """The ``sweep`` and ``sensitivity`` subcommands (their shared options: model, data, baseline, executor)."""
    def common(p):
        p.add_argument("--model", choices=models_choices, default=SHIPPED)
        p.add_argument("--data", choices=data_choices, default="auto")
        p.add_argument("--train-epochs", type=non_negative_int, default=0,
                       help=f"baseline epochs; 0 (the default) reuses the shipped {SHIPPED} baseline")
        p.add_argument("--seed", type=non_negative_int, default=0)
        p.add_argument("--executor", choices=tuple(EXECUTORS), default="local",
                       help="local: every run in this process; ray: each a Ray task (pip install 'prune-core[ray]')")
        p.add_argument("--ray-address", default=None,
                       help="with --executor ray: a cluster's address (default $RAY_ADDRESS, else a local Ray)")
        p.add_argument("--num-cpus", type=float, default=1.0, help="with --executor ray: CPUs per task")
        p.add_argument("--num-gpus", type=float, default=0.0, help="with --executor ray: GPUs per task")
        p.add_argument("--json", action="store_true", help="print one JSON object")

    sw = sub.add_parser("sweep", help="criteria × sparsities: prune, fine-tune, measure each (here or on Ray)")
    common(sw)
    sw.add_argument("--criteria", type=criteria_list, default=["magnitude", "random"])
    sw.add_argument("--sparsities", type=fractions, default=list(sweeps.SWEEP_SPARSITIES))
    sw.add_argument("--fine-tune-epochs", type=non_negative_int, default=1)
    sw.add_argument("--scope", choices=SCOPES, default="layer")
    sw.add_argument("--learning-rate", type=float, default=1e-3)
    rs = sub.add_parser("search", help="the best one-shot recipe for a target sparsity: criteria × retraining "
                                       "strategies × learning rates, by successive halving (here or on Ray)")
    common(rs)
    rs.add_argument("--value", type=lambda t: fractions(t)[0], required=True, help="target sparsity in [0, 1]")
    rs.add_argument("--budget", type=non_negative_int, default=2,
                    help="epochs of the last round (rounds double from 1; half the candidates go on each time)")
    rs.add_argument("--criteria", type=criteria_list, default=list(search.GRID["criteria"]))
    rs.add_argument("--strategies", type=lambda t: [p.strip() for p in t.split(",") if p.strip()],
                    default=list(search.GRID["strategies"]), help="finetune, rewind-lr (comma-separated)")
    rs.add_argument("--learning-rates", type=lambda t: [float(p) for p in t.split(",") if p.strip()],
                    default=list(search.GRID["learning_rates"]))
    rs.add_argument("--scope", choices=SCOPES, default="global")
    se = sub.add_parser("sensitivity", help="each layer pruned alone at each sparsity, measured (here or on Ray)")
    common(se)
    se.add_argument("--criterion", choices=list(CRITERIA), default="magnitude")
    se.add_argument("--sparsities", type=fractions, default=list(sweeps.DEFAULT_SPARSITIES))


def check(args) -> None:
    """What argparse cannot see (ValueError, one line)."""
    if args.train_epochs == 0 and args.model != SHIPPED:
        raise ValueError(f"argument --train-epochs: 0 reuses the shipped baseline, which is {SHIPPED} (got --model "
                         f"{args.model}); train at least 1 epoch")
    if args.executor != "ray" and (args.ray_address or args.num_gpus):
        raise ValueError("argument --ray-address / --num-gpus: only with --executor ray")
    if args.command == "search":
        if args.budget < 1:
            raise ValueError("argument --budget: at least 1 epoch")
        wrong = [s for s in args.strategies if s not in ("finetune", "rewind-lr")]
        if wrong or not args.strategies:
            raise ValueError(f"argument --strategies: choose from finetune, rewind-lr (got {', '.join(wrong) or 'none'})")
        if not args.learning_rates or any(not lr > 0 for lr in args.learning_rates):
            raise ValueError("argument --learning-rates: give positive rates such as 0.001,0.01")


def executor_of(args):
    if args.executor == "ray":
        try:
            import ray  # noqa: F401
        except ImportError:
            raise ValueError("argument --executor: Ray is not installed; pip install 'prune-core[ray]'") from None
        return get_executor("ray", address=args.ray_address, num_cpus=args.num_cpus, num_gpus=args.num_gpus)
    return get_executor("local")


def baseline(model: str, ds, train_epochs: int, seed: int, progress=None):
    """(model, a note): the shipped baseline with ``train_epochs`` 0, else ``model`` trained here."""
    if train_epochs == 0:
        import keras

        path = data.asset(f"baseline-{SHIPPED}.keras")
        return keras.saving.load_model(path, safe_mode=True, compile=False), f"shipped baseline {path.name}"
    built = models.build_model(model, ds.input_shape, ds.num_classes, seed=seed)
    trained, result = fit.train_model(built, ds, epochs=train_epochs, seed=seed, progress=progress)
    return trained, f"trained {train_epochs} epoch(s) in {result.seconds:.1f} s"


def run(args, say, progress) -> dict:
    """The sweep or scan the arguments ask for: a JSON-ready dict (``rows``: one per point)."""
    check(args)
    runner = executor_of(args)
    ds = data.load_dataset(args.data)
    say(f"data: {ds.description}")
    dense, note = baseline(args.model, ds, args.train_epochs, args.seed)
    dense_accuracy = metrics.evaluate(dense, ds.x_test, ds.y_test).accuracy
    say(f"baseline: {note} · test accuracy {dense_accuracy:.2%} · running on {runner.name}"
        + (f" at {runner.address}" if getattr(runner, "address", None) else ""))
    started = time.perf_counter()
    if args.command == "search":
        found = search.search_recipe(dense, ds, args.value, budget=args.budget, scope=args.scope, seed=args.seed,
                                     grid={"criteria": args.criteria, "strategies": args.strategies,
                                           "learning_rates": args.learning_rates}, executor=runner, progress=progress)
        report = found.to_dict()
        report["rows"] = report.pop("candidates")  # the table every command prints, once
        return {"command": "search", "model": args.model, "data": ds.name, "baseline": note,
                "dense_accuracy": dense_accuracy, "executor": runner.name, "seconds": time.perf_counter() - started,
                **report, "reproduce": reproduce_command(args, found.spec)}
    if args.command == "sweep":
        frame = sweeps.criteria_sweep(dense, ds, args.criteria, args.sparsities, args.fine_tune_epochs,
                                      scope=args.scope, learning_rate=args.learning_rate, seed=args.seed,
                                      progress=progress, executor=runner)
    else:
        frame = sweeps.layer_sensitivity(dense, ds.x_test, ds.y_test, args.sparsities, args.criterion,
                                         x_train=ds.x_train, y_train=ds.y_train, seed=args.seed, progress=progress,
                                         executor=runner)
    return {"command": args.command, "model": args.model, "data": ds.name, "baseline": note,
            "dense_accuracy": dense_accuracy, "executor": runner.name, "seconds": time.perf_counter() - started,
            "rows": frame.to_dict(orient="records")}


def reproduce_command(args, spec) -> str:
    """The ``experiment`` command that runs ``spec`` on the same baseline and data (one protocol: the same numbers)."""
    return (f"python -m prune_core experiment --model {args.model} --data {args.data} --train-epochs "
            f"{args.train_epochs} --criterion {spec.prune.criterion} --granularity weight --rule sparsity --value "
            f"{spec.prune.value:g} --scope {spec.prune.scope} --mode oneshot --fine-tune-epochs {spec.epochs} "
            f"--learning-rate {spec.learning_rate:g} --retrain {spec.retrain} --seed {spec.seed}")


def format_report(report: dict) -> str:
    """The sweep or scan as a text table, with the dense accuracy and where it ran."""
    import pandas as pd

    frame = pd.DataFrame(report["rows"])
    for column in ("sparsity", "accuracy", "pruned_accuracy", "final_accuracy", "held_sparsity"):
        if column in frame:
            frame[column] = frame[column].map(lambda v: "—" if v != v else f"{v:.2%}")
    frame = frame.drop(columns=[c for c in ("seconds", "loss") if c in frame])
    if report["command"] == "search":
        best = report["best"]
        return (f"search on {report['model']} ({report['data']}) · dense {report['dense_accuracy']:.2%} · target "
                f"{report['target']:.1%} · rounds (epochs, candidates) {report['rounds']} · {len(report['rows'])} runs "
                f"on {report['executor']} in {report['seconds']:.1f} s\n\n{frame.to_string(index=False)}\n\n"
                f"best: {best['criterion']}, {best['retrain']}, learning rate {best['learning_rate']:g} → "
                f"{report['best_accuracy']:.2%} after {report['rounds'][-1][0]} epoch(s)\nreproduce: {report['reproduce']}")
    return (f"{report['command']} on {report['model']} ({report['data']}) · dense {report['dense_accuracy']:.2%} · "
            f"{len(report['rows'])} points on {report['executor']} in {report['seconds']:.1f} s\n\n"
            + frame.to_string(index=False))
