"""Extreme sparsity by recipe search, with the CLI commands anyone can paste (issue 24's goals).

For 98%, 99% and 99.5% weight sparsity on LeNet-300-100 (a 5-epoch baseline on the bundled digits, seed 0), runs
exactly the command the README prints:

    python -m prune_core search --model lenet-300-100 --data bundled --train-epochs 5 --value S --budget 2 --json

(the default grid: magnitude / Taylor / Wanda × fine-tune / learning-rate rewinding × 1e-3 / 1e-2, one global
threshold, successive halving to 2 epochs), and prints per sparsity the best recipe, its accuracy against the goal,
and the ``experiment`` command that reproduces it. ``--budgets 2,4,8`` adds the accuracy-vs-budget curve.

    .venv/bin/python -m bench.bench_recipes            # ~6 min on the 2-core machine
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

from bench.common import ROOT

GOALS = {0.98: 0.942, 0.99: 0.935, 0.995: 0.90}


def search_command(sparsity: float, budget: int) -> list[str]:
    return ["-m", "prune_core", "search", "--model", "lenet-300-100", "--data", "bundled", "--train-epochs", "5",
            "--value", f"{sparsity:g}", "--budget", str(budget), "--json"]


def run(sparsity: float, budget: int) -> dict:
    out = subprocess.run([sys.executable, *search_command(sparsity, budget)], cwd=ROOT, capture_output=True,
                         text=True, check=True)
    return json.loads(out.stdout)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budgets", default="2", help="comma-separated last-round epochs (default 2)")
    args = parser.parse_args(argv)
    budgets = [int(b) for b in args.budgets.split(",")]
    for budget in budgets:
        print(f"budget {budget} epoch(s) in the last round:")
        for sparsity, goal in GOALS.items():
            report = run(sparsity, budget)
            best = report["best"]
            verdict = "meets" if report["best_accuracy"] >= goal else "below"
            print(f"  {sparsity:.1%}: {report['best_accuracy']:.2%} ({verdict} the goal {goal:.1%}; dense "
                  f"{report['dense_accuracy']:.2%}) · {best['criterion']}, {best['retrain']}, lr "
                  f"{best['learning_rate']:g} · {len(report['rows'])} runs in {report['seconds']:.0f} s")
            print(f"    search:    python {' '.join(search_command(sparsity, budget)[:-1])}")
            print(f"    reproduce: {report['reproduce']}")


if __name__ == "__main__":
    main()
