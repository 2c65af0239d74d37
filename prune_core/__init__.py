"""prune_core — pruning for Keras 3 models: score → threshold → mask → apply, with no Streamlit in sight.

The library surface::

    import prune_core as pc

    spec = pc.PruneSpec(criterion="magnitude", granularity="weight", rule="sparsity", scope="global", value=0.9)
    result = pc.prune(model, spec, data=None)      # .masks, .model (masked copy), .table, .sparsity, .coverage
    pc.coverage(model)                             # which share of the parameters a run covers, and why not the rest
    small = pc.compact(model, result.masks)        # unit granularity: the physically smaller model
    pc.CRITERIA["magnitude"], pc.RULES["sparsity"] # registries; pc.register_criterion / pc.register_rule
    pc.run(model, data, pc.RunSpec(mode="iterative", prune=spec, target_sparsity=0.9))  # prune + retrain → RunResult
    pc.run_oneshot(...), pc.run_gradual(...), pc.run_iterative(...), pc.run_sparse(...)  # what run() calls

TensorFlow is imported lazily inside functions, so importing ``prune_core`` is cheap (numpy only) and has no
side effects on the environment: the app and the CLI set their own logging (``TF_CPP_MIN_LOG_LEVEL``).
"""

__version__ = "0.20.0"

from .methods.criteria import (
    CRITERIA, Criterion, GradientCriterion, get_criterion, register_criterion, scored_together,
    unregister_criterion)
from .io.data import Dataset
from .graph.coverage import Coverage, coverage, coverage_sentence
from .methods.masks import MaskSet, apply_masks
from .pruning import PruneResult, compact, prune, select
from .methods.rules import RULES, Rule, get_rule, register_rule, unregister_rule
from .experiments.runs import RunResult, run_gradual, run_iterative, run_oneshot, run_sparse
from .spec import PruneSpec, RunSpec
from .experiments.api import run
from .train.fit import fine_tune

__all__ = [
    "CRITERIA", "Criterion", "GradientCriterion", "get_criterion", "register_criterion", "unregister_criterion",
    "scored_together",
    "RULES", "Rule", "get_rule", "register_rule", "unregister_rule",
    "PruneSpec", "PruneResult", "prune", "select", "compact", "MaskSet", "apply_masks", "fine_tune",
    "RunSpec", "run", "RunResult", "run_oneshot", "run_gradual", "run_iterative", "run_sparse", "Dataset", "Coverage", "coverage", "coverage_sentence",
]
