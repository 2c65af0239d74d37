"""Words for people: run modes, labels, model names, and every setting's name and value in words and units.

>>> setting_name("batch_size"), setting_text("granularity", "unit")
('Batch size', 'whole neurons / filters')
"""

from __future__ import annotations

import contextlib
from typing import Mapping

from ..methods.criteria import CRITERIA
from ..methods.rules import RULES
from ..train.models import ARCHITECTURES


MODE_WORDS = {"oneshot": "one-shot", "gradual": "gradual", "iterative": "iterative", "sparse": "sparse training",
              "init": "pruning at initialization"}
_LABEL_WORDS = {**MODE_WORDS, "init": "at initialization", "layer": "per layer", "global": "global",
                "rewind-lr": "learning-rate rewinding", "rewind-weights": "weight rewinding"}
_CHOICE_WORDS = {"granularity": {"weight": "individual weights", "unit": "whole neurons / filters"},
                 "scope": {"layer": "per layer", "global": "global"},
                 "retrain": {"finetune": "fine-tune", "rewind-lr": "learning-rate rewinding",
                             "rewind-weights": "weight rewinding"},
                 "mode": MODE_WORDS,
                 "sparse_method": {"rigl": "RigL (grow by gradient)", "set": "SET (grow at random)"},
                 "distribution": {"uniform": "uniform", "erk": "Erdős–Rényi-Kernel"}}
# setting key → (name a person reads, how its value is shown)
SETTING_NAMES = {
    "architecture": ("Architecture", "architecture"), "model": ("Model", "text"), "data": ("Data", "text"),
    "mode": ("Mode", "choice"), "criterion": ("Criterion", "criterion"), "granularity": ("Granularity", "choice"),
    "rule": ("Rule", "rule"), "scope": ("Scope", "choice"), "values": ("Value", "values"),
    "value": ("Value", "value"), "epochs": ("Epochs", "int"), "fine_tune_epochs": ("Fine-tune epochs per round", "int"),
    "batch_size": ("Batch size", "int"), "learning_rate": ("Learning rate", "float"), "seed": ("Seed", "int"),
    "l1": ("L1 penalty λ", "l1"), "retrain": ("Retraining", "choice"), "reconstruct": ("Reconstruction first", "bool"),
    "target_sparsity": ("Target sparsity", "percent"), "initial_sparsity": ("Initial sparsity", "percent"),
    "final_sparsity": ("Final sparsity", "percent"), "step_fraction": ("Pruned per round", "percent"),
    "tolerance": ("Tolerance", "points"), "max_rounds": ("At most rounds", "int"),
    "frequency": ("Re-pruned every", "steps"), "end_step": ("Schedule ends at", "step"),
    "init": ("Pruned at initialization", "bool"), "init_seed": ("Initialization seed", "int"),
    "block": ("Block", "text"),
    "sparse_method": ("Connections grow", "choice"), "distribution": ("Per-layer density", "choice"),
    "update_every": ("Moved every", "steps"), "drop_fraction": ("Drop fraction", "percent"),
}


def mode_word(mode) -> str:
    """'oneshot' → 'one-shot' (other modes as they are)."""
    return MODE_WORDS.get(str(mode), str(mode))


def human_label(label) -> str:
    """A run label with its ids in words: 'oneshot · magnitude · layer · 85.4%' → 'one-shot · magnitude ·
    per layer · 85.4%'. Other parts (criteria, numbers, a user's own label) are kept as they are.

    >>> human_label("oneshot · magnitude · layer · 85.4% · rewind-lr")
    'one-shot · magnitude · per layer · 85.4% · learning-rate rewinding'
    """
    parts = str(label or "").split(" · ")
    return " · ".join(_LABEL_WORDS.get(p, p) for p in parts)


def model_name(name) -> str:
    """A model's name with a leading architecture id in words.

    >>> model_name("mlp-128 · trained here")
    'MLP 784-128-10 · trained here'
    """
    head, sep, tail = str(name).partition(" · ")
    if head in ARCHITECTURES:
        head = ARCHITECTURES[head].split(" (")[0]
    return head + sep + tail


def run_model(record: dict) -> str:
    """The model a run pruned, for a person: its name and the dense parameter count (runs are grouped by it).

    >>> run_model({"settings": {"architecture": "lenet-300-100"}, "dense": {"params": 266610}})
    'LeNet-300-100 · 266,610 parameters'
    >>> run_model({"settings": {"architecture": "uploaded (Functional)", "model": "resnet50.keras · uploaded"},
    ...            "dense": {"params": 23608202}})
    'resnet50.keras (uploaded) · 23,608,202 parameters'
    """
    settings = record.get("settings") or {}
    architecture = str(settings.get("architecture") or "")
    if architecture.startswith("uploaded"):
        name = str(settings.get("model") or "uploaded model").split(" · ")[0] + " (uploaded)"
    elif architecture:
        name = model_name(architecture)
    else:
        name = "unknown model"
    params = (record.get("dense") or {}).get("params")
    return f"{name} · {int(params):,} parameters" if isinstance(params, (int, float)) and params == params else name


def duration(seconds: float) -> str:
    """A time estimate in words, rounded as an estimate should be.

    >>> duration(42.4), duration(194), duration(5400), duration(0.3)
    ('about 42 s', 'about 3 min', 'about 1.5 h', 'under 1 s')
    """
    seconds = float(seconds)
    if seconds < 1:
        return "under 1 s"
    if seconds < 90:
        return f"about {seconds:.0f} s"
    if seconds < 90 * 60:
        return f"about {seconds / 60:.0f} min"
    return f"about {seconds / 3600:.1f} h"


PRUNED_STAGE = {
    "oneshot": ("Pruned, before retraining", "Test accuracy right after pruning, before any retraining."),
    "gradual": ("One-shot reference", "Not a stage of this run: the dense model pruned one-shot to the sparsity this "
                "run reached, without retraining — what pruning gradually avoids."),
    "iterative": ("One-shot reference", "Not a stage of this run: the dense model pruned one-shot to the sparsity "
                  "this run reached, without retraining — what pruning in rounds avoids."),
    "init": ("Pruned at initialization", "Test accuracy of the untrained network after pruning, before training."),
    "sparse": ("Starting connectivity", "Test accuracy of the starting model masked to its first connectivity, "
               "before sparse training moved anything."),
}


def pruned_stage(mode) -> tuple[str, str]:
    """(label, explanation) of a run's "pruned" accuracy: a stage of one-shot and init runs, only a one-shot
    reference for gradual and iterative runs (they never hold the full sparsity untrained).

    >>> pruned_stage("gradual")[0], pruned_stage("oneshot")[0]
    ('One-shot reference', 'Pruned, before retraining')
    """
    return PRUNED_STAGE.get(str(mode), PRUNED_STAGE["oneshot"])


SAME_SPEED = 0.05  # timings within 5% of each other are "no faster": a latency measured here varies that much


def compact_caption(dense: dict, compact: dict) -> str:
    """One sentence on what removing the pruned units bought, each claim measured: parameters, gzip bytes and time
    per batch of 256 against the dense model ("no faster" within :data:`SAME_SPEED`).

    >>> compact_caption({"params": 1000, "gzip_bytes": 4000, "latency_ms": 7.37},
    ...                 {"params": 400, "gzip_bytes": 1800, "latency_ms": 7.35})
    'Pruned neurons removed for real: 60.0% fewer parameters and 55.0% fewer gzip bytes than the dense model, but no faster per batch of 256 (7.35 vs 7.37 ms, within the 5% a timing varies here).'
    >>> compact_caption({"params": 1000, "gzip_bytes": 4000, "latency_ms": 10.0},
    ...                 {"params": 400, "gzip_bytes": 1800, "latency_ms": 2.9})
    'Pruned neurons removed for real: 60.0% fewer parameters and 55.0% fewer gzip bytes than the dense model, and 3.45× faster per batch of 256 (2.90 vs 10.00 ms).'
    """
    def fewer(key: str) -> float:
        return 1 - compact[key] / dense[key] if dense.get(key) else 0.0

    text = (f"Pruned neurons removed for real: {fewer('params'):.1%} fewer parameters and {fewer('gzip_bytes'):.1%} "
            "fewer gzip bytes than the dense model")
    new, old = compact.get("latency_ms"), dense.get("latency_ms")
    if not (isinstance(new, (int, float)) and isinstance(old, (int, float)) and new > 0 and old > 0):
        return text + "; time per batch was not measured."
    if new <= old * (1 - SAME_SPEED):
        return text + f", and {old / new:.2f}× faster per batch of 256 ({new:.2f} vs {old:.2f} ms)."
    if new < old * (1 + SAME_SPEED):
        return (text + f", but no faster per batch of 256 ({new:.2f} vs {old:.2f} ms, within the {SAME_SPEED:.0%} a "
                "timing varies here).")
    return text + f", but slower per batch of 256 ({new:.2f} vs {old:.2f} ms)."


def setting_name(key) -> str:
    """'batch_size' → 'Batch size' (known settings by their names on the Retrain page)."""
    key = str(key)
    if key in SETTING_NAMES:
        return SETTING_NAMES[key][0]
    text = key.replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def _percent(value: float) -> str:
    return f"{float(value) * 100:.4g}%"


def _rule_value(rule, value, *, shown: bool) -> str:
    """A rule's value as a person reads it; ``shown``: already in the slider's units (50 for 50%)."""
    r = RULES[rule] if isinstance(rule, str) and rule in RULES else None
    if isinstance(value, str) or r is None or r.choices:
        return str(value)
    if not _is_number(value):
        return _format(value)
    number = float(value) if shown else r.to_display(value)
    return f"{number:g}%" if r.unit == "%" else f"{number:g}"


def setting_text(key, value, settings: Mapping | None = None) -> str:
    """A setting's value for a person: fractions in %, choices in words, per-layer values as
    'dense1 50%, dense2 60%'. ``settings``: the run's other settings (the rule names the values' unit).

    >>> setting_text("target_sparsity", 0.9), setting_text("values", {"dense1": 50.0}, {"rule": "sparsity"})
    ('90%', 'dense1 50%')
    """
    import json

    settings = settings or {}
    kind = SETTING_NAMES.get(str(key), ("", "other"))[1]
    if value is None or (isinstance(value, float) and value != value):
        return "—"
    if kind == "values" and isinstance(value, str) and value.startswith("{"):
        with contextlib.suppress(ValueError):
            value = json.loads(value)
    if isinstance(value, Mapping):
        return ", ".join(f"{name} {setting_text(key, v, settings)}" for name, v in value.items())
    if isinstance(value, bool):
        return "yes" if value else "no"
    if kind == "values":
        return _rule_value(settings.get("rule"), value, shown=True)
    if kind == "value":
        return _rule_value(settings.get("rule"), value, shown=False)
    if kind == "choice":
        return _CHOICE_WORDS.get(str(key), {}).get(str(value), str(value))
    if kind == "criterion":
        return CRITERIA[value].label if isinstance(value, str) and value in CRITERIA else str(value)
    if kind == "rule":
        return RULES[value].label if isinstance(value, str) and value in RULES else str(value)
    if kind == "architecture":
        return ARCHITECTURES[value].split(" (")[0] if isinstance(value, str) and value in ARCHITECTURES else str(value)
    if not _is_number(value):
        return _format(value)
    if kind == "percent":
        return _percent(value)
    if kind == "points":
        return f"{float(value) * 100:g} pts"
    if kind == "l1":
        return "off" if value == 0 else f"{value:g}"
    if kind == "steps":
        return f"{int(value):,} steps"
    if kind == "step":
        return f"step {int(value):,}"
    if kind == "int":
        return f"{int(value):,}" if abs(value) >= 10_000 else str(int(value))
    return f"{value:g}" if isinstance(value, float) else str(value)


def settings_rows(settings: Mapping) -> list[dict]:
    """[{Setting, Value}] for a run's settings, in words and units (a name shared by two keys gets the key)."""
    rows, seen = [], set()
    for key, value in settings.items():
        name = setting_name(key)
        if name in seen:
            name = f"{name} ({key})"
        seen.add(name)
        rows.append({"Setting": name, "Value": setting_text(key, value, settings)})
    return rows


def _format(value) -> str:
    if isinstance(value, bool) or value is None:
        return "—" if value is None else str(value)
    if isinstance(value, float):
        if value != value:  # NaN
            return "—"
        return f"{value:.4g}"
    if isinstance(value, (dict, list, tuple)):
        import json
        return json.dumps(value, default=str)
    return str(value)


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
