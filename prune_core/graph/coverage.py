"""Coverage: which share of a model's parameters a weight-granularity run scores, and why the rest is not.

Every weight of the model (trainable and non-trainable, each variable once, so ``total`` equals
``model.count_params()``) is either *covered* — a kernel the run scores and may prune — or listed in
``not_covered``, grouped by a plain reason. The kernels a run can score are the graph's weight targets
(:func:`prune_core.graph.weight_targets`: Dense/Conv, EinsumDense, Embedding and recurrent kernels, nested
ones included); pass ``scored`` to state the coverage of a run that scored fewer (for example
``mask_set.kernels`` of a Wanda run, which needs each layer's input activations).

Sub-layers are walked into wherever they sit (nested Functional/Sequential models, MultiHeadAttention's
EinsumDense projections, a recurrent layer's cell, Bidirectional's two copies, subclassed layers), and a
variable is attributed to the innermost layer that owns it.

>>> import keras
>>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, name="d")])
>>> cov = coverage(model)
>>> cov.total, cov.covered, cov.layers, round(cov.share, 3)
(15, 12, ('d',), 0.8)
>>> coverage_sentence(cov)[:43], [(row.text, row.params) for row in cov.not_covered]
('This run covers 12 of 15 parameters (80.0%)', [('biases and normalization parameters — not pruned by design', 3)])

Keras is imported inside functions only; numpy only otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping

import numpy as np

from .dependency import weight_targets
from .kinds import kind
from .targets import _children

BY_DESIGN = "not pruned by design"
NOT_YET = "not scored yet"
DEPTHWISE_WHY = "pruned with their channel in unit mode, not weight by weight"

_BIAS_NAMES = frozenset({"bias", "beta", "gamma", "moving_mean", "moving_variance"})
_NORMALIZATION = frozenset({"BatchNormalization", "LayerNormalization", "GroupNormalization",
                            "RMSNormalization", "UnitNormalization", "SpectralNormalization", "Normalization"})
_RECURRENT_CELLS = frozenset({"GRUCell", "LSTMCell", "SimpleRNNCell", "ConvLSTMCell", "ConvLSTM1DCell",
                              "ConvLSTM2DCell", "ConvLSTM3DCell"})
_DEPTHWISE = frozenset({"DepthwiseConv1D", "DepthwiseConv2D", "SeparableConv1D", "SeparableConv2D"})

COVERAGE_COLUMNS = ("what", "parameters", "share", "status", "where")
"""The columns of :func:`coverage_rows`: what (a noun phrase), parameters (int), share (of all the model's
parameters, 0..1), status ("covered" or the reason it is not), where (the layers concerned)."""


@dataclass(frozen=True)
class Uncovered:
    """One group of parameters a run does not score: ``what`` they are (a noun phrase), how many ``params``,
    the ``reason`` (a short clause), and ``where`` (the owning layers' paths, in model order)."""

    what: str
    params: int
    reason: str
    where: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        """``what — reason``, as the coverage sentence and table say it."""
        return f"{self.what} — {self.reason}"


@dataclass(frozen=True)
class Coverage:
    """``total`` parameters of the model (== ``model.count_params()``), ``covered`` of them in the kernels
    the run scores, the scored ``layers`` (names, in model order) and the rest as ``not_covered`` rows
    (largest first); their params add up: ``covered + sum(u.params for u in not_covered) == total``."""

    total: int
    covered: int
    layers: tuple[str, ...]
    not_covered: tuple[Uncovered, ...]

    @property
    def share(self) -> float:
        """covered / total (0.0 for a model without parameters)."""
        return self.covered / self.total if self.total else 0.0

    @property
    def uncovered(self) -> int:
        return self.total - self.covered


# --- walking every sub-layer ----------------------------------------------------------------------

def _owners(model) -> dict[int, tuple]:
    """{id(variable): (owning layer, chain of enclosing layers from the model down)} — the innermost owner."""
    owners: dict[int, tuple] = {}
    seen: set[int] = set()

    def visit(layer, chain: tuple):
        if id(layer) in seen:  # a shared layer is visited once
            return
        seen.add(id(layer))
        for child in _children(layer):
            visit(child, chain + (layer,))
        for variable in layer.weights:  # children first: what is left is the layer's own
            owners.setdefault(id(variable), (layer, chain))

    visit(model, ())
    return owners


def _is_custom(layer) -> bool:
    """A layer class defined outside Keras (its own variables mean nothing the table knows)."""
    return not type(layer).__module__.startswith("keras.")


def _short_name(variable) -> str:
    return str(getattr(variable, "name", "")).rsplit("/", 1)[-1]


def _layer_path(owner, chain: tuple) -> str:
    """The owner's path below the model: ``mha0/query``, ``inner/a``, ``bigru/forward_gru/gru_cell``."""
    return "/".join(layer.name for layer in chain[1:] + (owner,)) if chain else owner.name


LEFT_OUT = "left out of this run"


def _kernel_phrase(owner) -> str:
    cls = type(owner).__name__
    if cls == "EinsumDense":
        return "attention (EinsumDense) kernels"
    if cls == "Embedding":
        return "Embedding tables"
    if cls in _RECURRENT_CELLS:
        return "recurrent kernels (GRU/LSTM/SimpleRNN)"
    return "Dense/Conv kernels"


def _classify(variable, owner, chain: tuple, is_target: bool) -> tuple[str, str]:
    """(what, reason) for a variable the run does not score; ``is_target``: a kernel a run could score
    (:func:`prune_core.graph.weight_targets`) that this one left out (its criterion cannot score it)."""
    cls = type(owner).__name__
    name = _short_name(variable)
    if is_target:
        return _kernel_phrase(owner), LEFT_OUT
    if _is_custom(owner):
        return f"variables of the custom layer `{owner.name}` ({cls})", "a layer of unknown kind"
    if name == "bias" or (cls in _NORMALIZATION and name in _BIAS_NAMES):
        return "biases and normalization parameters", BY_DESIGN
    if cls == "LayerScale":  # ConvNeXt's per-channel scale: a gamma by another name
        return "LayerScale vectors (per-channel scales)", BY_DESIGN
    opaque = next((layer for layer in chain if _is_custom(layer)), None)
    if opaque is not None:
        what = "subclassed model" if opaque is chain[0] else "custom layer"
        return (f"weights inside the {what} `{opaque.name}` ({type(opaque).__name__})",
                "the graph walker cannot open it")
    if cls in _DEPTHWISE and (name == "depthwise_kernel" or cls.startswith("Depthwise")):
        return "depthwise kernels (DepthwiseConv, SeparableConv's depthwise part)", DEPTHWISE_WHY
    if getattr(owner, "lora_enabled", False):
        return f"kernels of LoRA-enabled layers", "a LoRA layer's kernel is base + A·B, not one variable"
    if kind(owner) is not None:  # a known kind's extra weight (a quantization scale)
        return f"{cls} `{name}` weights", "a weight the graph does not score"
    return f"{cls} weights", "a layer kind the graph does not score"


def _scored_variables(model, scored) -> tuple[dict[int, object], tuple[str, ...]]:
    """({id(variable): variable} of the covered kernels, keys of the scored targets)."""
    try:
        targets = {target.key: target for target in weight_targets(model)}
    except ValueError:  # a subclassed or unbuilt model: the walker reads no layers, so a run scores none
        return {}, ()
    if scored is None:
        return {id(t.variable): t.variable for t in targets.values()}, tuple(targets)
    if isinstance(scored, Mapping):
        scored = list(scored)
    variables: dict[int, object] = {}
    names: list[str] = []
    for item in scored:
        if isinstance(item, str):
            if item not in targets:
                raise ValueError(f"No kernel named {item!r} in the model {model.name!r}.")
            variable = targets[item].variable
            names.append(item)
        else:
            variable = item
            names.append(str(getattr(variable, "path", "") or getattr(variable, "name", "")))
        variables[id(variable)] = variable
    return variables, tuple(dict.fromkeys(names))


def coverage(model, scored: Iterable | Mapping | None = None) -> Coverage:
    """The share of ``model``'s parameters a weight-granularity run scores, and the rest by reason.

    ``scored``: None — the kernels a run scores today (:func:`prune_core.graph.prunable_layers`, each
    layer's :func:`prune_core.graph.kernel_variable`); or the layer names a run scored (a MaskSet's
    ``kernels`` mapping works), or Keras variables. A subclassed model (no layer graph) covers nothing.
    """
    variables: dict[int, object] = {}
    for variable in model.weights:  # trainable and non-trainable; a shared variable once
        variables.setdefault(id(variable), variable)
    covered_vars, scored_names = _scored_variables(model, scored)
    target_vars = _scored_variables(model, None)[0] if scored is not None else covered_vars
    owners = _owners(model)
    total = covered = 0
    groups: dict[tuple[str, str], list] = {}
    for key, variable in variables.items():
        size = int(np.prod(tuple(variable.shape), dtype=np.int64))
        total += size
        if key in covered_vars:
            covered += size
            continue
        owner, chain = owners.get(key, (model, ()))
        label = _classify(variable, owner, chain, key in target_vars)
        entry = groups.setdefault(label, [0, []])
        entry[0] += size
        entry[1].append(_layer_path(owner, chain))
    rows = [Uncovered(what, params, reason, tuple(dict.fromkeys(where)))
            for (what, reason), (params, where) in groups.items()]
    rows.sort(key=lambda row: -row.params)  # stable: equal counts keep model order
    return Coverage(total=total, covered=covered, layers=scored_names, not_covered=tuple(rows))


# --- words and a table ----------------------------------------------------------------------------

def _percent(part: int, whole: int) -> str:
    if not whole:
        return "0%"
    value = 100.0 * part / whole
    if 0 < part < whole:
        if value < 0.05:
            return "<0.1%"
        if value >= 99.95:
            return ">99.9%"
    return f"{value:.1f}%"


def coverage_sentence(cov: Coverage) -> str:
    """One sentence: what the run covers, over which denominator, and what it leaves out and why.

    >>> coverage_sentence(Coverage(10, 10, ("d",), ()))
    'This run covers all 10 parameters of the model (100.0%).'
    """
    if cov.total and cov.covered == cov.total:
        return f"This run covers all {cov.total:,} parameters of the model (100.0%)."
    head = (f"This run covers {cov.covered:,} of {cov.total:,} parameters "
            f"({_percent(cov.covered, cov.total)})")
    if not cov.not_covered:
        return head + "."
    parts = "; ".join(f"{row.text} ({row.params:,})" for row in cov.not_covered)
    return f"{head}; not covered: {parts}."


def _where(names: Iterable[str], limit: int = 6) -> str:
    names = list(names)
    if len(names) <= limit:
        return ", ".join(names)
    return ", ".join(names[:limit]) + f", … ({len(names)} in all)"


def coverage_rows(cov: Coverage) -> list[dict]:
    """Rows for a table (keys :data:`COVERAGE_COLUMNS`): the covered kernels first, then each reason.

    >>> coverage_rows(Coverage(10, 8, ("d",), (Uncovered("biases", 2, BY_DESIGN, ("d",)),)))[1]
    {'what': 'biases', 'parameters': 2, 'share': 0.2, 'status': 'not pruned by design', 'where': 'd'}
    """
    share = (lambda n: n / cov.total if cov.total else 0.0)
    rows = [{"what": "kernels this run scores", "parameters": cov.covered, "share": share(cov.covered),
             "status": "covered", "where": _where(cov.layers)}]
    rows += [{"what": row.what, "parameters": row.params, "share": share(row.params), "status": row.reason,
              "where": _where(row.where)} for row in cov.not_covered]
    return rows
