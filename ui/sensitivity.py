"""Sensitivity page adapter: the per-layer scan (cached per session and model), the "within a drop" table,
and carrying the per-layer sparsities to the Prune page's widgets."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

import prune_core as pc
from prune_core.viz import figures
from prune_core.experiments import sweeps
from prune_core.graph import kernels as model_kernels
from prune_core.graph import weight_targets

from . import prune_url
from . import run_on
from . import state

SCANS_KEY = "sens_scans"
SPARSITIES = sweeps.DEFAULT_SPARSITIES  # 10 … 90 %
DROP = (0.5, 10.0, 0.5, 1.0)  # slider (min, max, step, default), accuracy points


def criterion_choices() -> list[str]:
    """Every registered criterion (the scan scores each layer by it)."""
    return list(pc.CRITERIA)


def has_prunable_layers() -> bool:
    return bool(weight_targets(state.current_model().model))


def figure(result: "Scan", drop_points: float):
    """Accuracy against sparsity, a line per layer, with the dense line and the allowed floor."""
    return figures.layer_sensitivity_figure(result.frame, dense_accuracy=result.dense_accuracy,
                                            max_drop=drop_points / 100.0)


@dataclass
class Scan:
    """One finished per-layer scan: which model, data and criterion, and the frame from the core."""

    weights_key: str
    data_key: str
    criterion: str
    dense_accuracy: float
    layers: dict  # {layer: kernel shape}
    frame: object  # sweeps.layer_sensitivity's DataFrame[layer, sparsity, accuracy, loss]

    @property
    def evaluations(self) -> int:
        return len(self.frame)

    @property
    def failed(self) -> list[str]:
        """'layer: reason' for each layer whose scan task failed twice."""
        if "failed" not in self.frame:
            return []
        rows = self.frame[self.frame["failed"].notna()].drop_duplicates("layer")
        return [f"{layer}: {reason}" for layer, reason in zip(rows["layer"], rows["failed"])]


def scan(criterion: str) -> Scan:
    """The scan of the current model for ``criterion``; computed once per session, model, data and criterion
    (with a progress bar; on this machine or on Ray, :mod:`ui.run_on`), then read from session state."""
    entry = state.current_model()
    ds = state.dataset()
    key = (entry.weights_key, ds.key, criterion)
    held = st.session_state.setdefault(SCANS_KEY, {})
    if key not in held:
        dense = state.measure(entry, ds)["accuracy"]
        shapes = {name: tuple(k.shape) for name, k in model_kernels(entry.model).items()}
        total = len(shapes) * len(SPARSITIES)
        runner, note = run_on.started(run_on.executor())
        if note:
            st.warning(note, icon=":material/cloud_off:")
        bar = st.progress(0.0, text=f"Scanning {len(shapes)} layers × {len(SPARSITIES)} sparsities "
                                    f"({total} evaluations on {len(ds.y_test):,} test samples) on "
                                    f"{run_on.where(runner)}…")

        def progress(done: float, text: str) -> None:
            bar.progress(min(max(done, 0.0), 1.0), text=f"{round(done * total)}/{total} · {text}")

        frame = sweeps.layer_sensitivity(entry.model, ds.x_test, ds.y_test, SPARSITIES, criterion,
                                         x_train=ds.x_train, y_train=ds.y_train, progress=progress, executor=runner)
        bar.empty()
        held[key] = Scan(weights_key=entry.weights_key, data_key=ds.key, criterion=criterion, dense_accuracy=dense,
                         layers=shapes, frame=frame)
    return held[key]


def within(result: Scan, max_drop_points: float) -> dict[str, float]:
    """{layer: largest scanned sparsity (fraction) within ``max_drop_points`` accuracy points of dense}."""
    return sweeps.max_sparsity_within(result.frame, result.dense_accuracy, max_drop_points / 100.0)


def table(result: Scan, best: dict[str, float]):
    """One row per layer (``sweeps.within_table``), labelled and in the units the page shows (%, points)."""
    frame = sweeps.within_table(result.frame, result.dense_accuracy, best, result.layers)
    return frame.assign(shape=frame["shape"].map(lambda s: "×".join(map(str, s))), sparsity=100 * frame["sparsity"],
                        accuracy=100 * frame["accuracy"], drop=100 * frame["drop"]).rename(columns={
        "layer": "Layer", "shape": "Shape", "weights": "Weights", "sparsity": "Largest sparsity",
        "pruned": "Weights pruned", "accuracy": "Accuracy there", "drop": "Drop"})


TABLE_CONFIG = {
    "Weights": st.column_config.NumberColumn("Weights", format="localized"),
    "Largest sparsity": st.column_config.NumberColumn("Largest sparsity", format="%.0f%%",
                                                      help="The largest scanned sparsity of this layer alone whose "
                                                           "accuracy, and that of every lower one, stays within the "
                                                           "allowed drop."),
    "Weights pruned": st.column_config.NumberColumn("Weights pruned", format="localized"),
    "Accuracy there": st.column_config.NumberColumn("Accuracy there", format="%.2f%%"),
    "Drop": st.column_config.NumberColumn("Drop", format="%.2f pts"),
}


def overall_sparsity(result: Scan, best: dict[str, float]) -> float:
    """Share of all prunable weights pruned when every layer takes its value (``sweeps.combined_sparsity``)."""
    return sweeps.combined_sparsity(best, result.layers)


def carry_to_prune_page(criterion: str, best: dict[str, float]) -> None:
    """Open the Prune page with per-layer target sparsities from the scan (its own setter writes its settings)."""
    prune_url.carry_per_layer(criterion, "sparsity", best)
    st.switch_page("pages/prune.py")
