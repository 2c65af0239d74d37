"""Layer-wise reconstruction after pruning, in the style of OBS / SparseGPT (Frantar & Alistarh 2023).

Once a layer's mask is chosen, its remaining weights are updated so that the layer's output on calibration
inputs changes as little as possible: for each output unit (kernel column) w with kept inputs K,

    ŵ = argmin over ŵ zero outside K of  (w − ŵ)ᵀ H (w − ŵ),   H = XᵀX / n + λI

(X: the layer's inputs on the calibration examples as rows — for convolutions the im2col patches — so the
first term is ‖Xw − Xŵ‖² / n, the squared output change; λ = ``damping`` × mean diag(XᵀX / n)). Its closed
form is ŵ_K = (H_KK)⁻¹ (H w)_K. Layers are done in order, each on the inputs the already-reconstructed
layers before it produce (as SparseGPT does), with the dense layer's own weights as the target. Small
problems are solved exactly per column; past ``exact_budget`` flops the SparseGPT update with the fixed mask
(one pass over the inputs with the Cholesky factor of H⁻¹) is used instead. Biases are left as they are.

>>> import numpy as np
>>> H = np.array([[2., 1.], [1., 2.]]); w = np.array([[1.], [1.]])
>>> solve_columns(H, w, np.array([[True], [False]])).ravel().tolist()   # (H w)_0 / H_00 = 3 / 2
[1.5, 0.0]
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..graph import kernel_variable, prunable_layers
from ..methods import masks as mk
from ..methods.signals import capture_inputs, scoring_inputs

SUPPORTED = ("Dense", "Conv1D", "Conv2D")
EXACT_BUDGET = 2e9  # flops (Σ over columns of |K|³ / 3) under which columns are solved exactly


@dataclass
class ReconstructionReport:
    """Per reconstructed layer: the relative output error ‖XW − XŴ‖ / ‖XW‖ on the calibration inputs with
    plain masking (``before``) and after the update (``after``); ``skipped``: {layer: why not}; ``method``:
    {layer: "exact" | "sparsegpt"}."""

    before: dict = field(default_factory=dict)
    after: dict = field(default_factory=dict)
    method: dict = field(default_factory=dict)
    skipped: dict = field(default_factory=dict)
    examples: int = 0

    def to_dict(self) -> dict:
        return {"before": dict(self.before), "after": dict(self.after), "method": dict(self.method),
                "skipped": dict(self.skipped), "examples": self.examples}


def solve_columns(H: np.ndarray, W: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """Exact: for every column j of ``W`` (in, out), ŵ_K = H_KK⁻¹ (H w)_K on its kept rows K, 0 elsewhere.
    Columns sharing a mask are solved together."""
    H = np.asarray(H, dtype=np.float64)
    W = np.asarray(W, dtype=np.float64)
    keep = np.asarray(keep, dtype=bool)
    target = H @ W
    out = np.zeros_like(W)
    patterns, inverse = np.unique(keep.T, axis=0, return_inverse=True)
    for p, pattern in enumerate(patterns):
        cols = np.flatnonzero(np.asarray(inverse).ravel() == p)
        rows = np.flatnonzero(pattern)
        if rows.size == 0:
            continue
        out[np.ix_(rows, cols)] = np.linalg.solve(H[np.ix_(rows, rows)], target[np.ix_(rows, cols)])
    return out


def sparsegpt_columns(H: np.ndarray, W: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """SparseGPT's update for a fixed mask: inputs taken in order, each pruned weight's error spread over the
    later inputs of its column through the upper Cholesky factor of H⁻¹ (Frantar & Alistarh 2023, Alg. 1)."""
    H = np.asarray(H, dtype=np.float64)
    work = np.asarray(W, dtype=np.float64).T.copy()  # (out, in): rows are output units, as in the paper
    keep = np.asarray(keep, dtype=bool).T
    inverse = np.linalg.cholesky(np.linalg.inv(H)).T  # upper: H⁻¹ = UᵀU
    for i in range(work.shape[1]):
        column = work[:, i]
        error = np.where(keep[:, i], 0.0, column) / inverse[i, i]
        work[:, i:] -= np.outer(error, inverse[i, i:])
        work[:, i] = np.where(keep[:, i], work[:, i], 0.0)
    return work.T


def layer_rows(layer, inputs: np.ndarray) -> np.ndarray | None:
    """The layer's inputs as rows its kernel (reshaped to (in, out)) multiplies: Dense → (·, in), Conv1D/2D →
    im2col patches (·, k·cin) in the kernel's (kh, kw, cin) order; None for what is not supported."""
    kind = type(layer).__name__
    if kind == "Dense":
        return inputs.reshape(-1, inputs.shape[-1])
    if kind not in ("Conv1D", "Conv2D") or getattr(layer, "data_format", "channels_last") != "channels_last" \
            or getattr(layer, "groups", 1) != 1 or layer.padding not in ("valid", "same"):
        return None
    images = inputs[:, None] if kind == "Conv1D" else inputs
    size = (1, *layer.kernel_size) if kind == "Conv1D" else tuple(layer.kernel_size)
    strides = (1, *layer.strides) if kind == "Conv1D" else tuple(layer.strides)
    rates = (1, *layer.dilation_rate) if kind == "Conv1D" else tuple(layer.dilation_rate)
    return _patches(np.asarray(images), size, strides, rates, layer.padding)


def _patches(images: np.ndarray, size, strides, rates, padding: str) -> np.ndarray:
    """im2col in numpy, as ``tf.image.extract_patches`` lays it out: (n·out_h·out_w, kh·kw·c) rows, "same"
    padding split as TensorFlow splits it (the extra row/column after). Any Keras backend."""
    n, h, w, c = images.shape
    span = [(k - 1) * r + 1 for k, r in zip(size, rates)]
    if padding == "same":
        out = [-(-d // s) for d, s in zip((h, w), strides)]
        pad = [max((o - 1) * s + e - d, 0) for o, s, e, d in zip(out, strides, span, (h, w))]
        images = np.pad(images, ((0, 0), (pad[0] // 2, pad[0] - pad[0] // 2), (pad[1] // 2, pad[1] - pad[1] // 2), (0, 0)))
    else:
        out = [(d - e) // s + 1 for d, e, s in zip((h, w), span, strides)]
    out = [max(o, 0) for o in out]
    rows = [images[:, i * rates[0]:i * rates[0] + (out[0] - 1) * strides[0] + 1:strides[0],
                   j * rates[1]:j * rates[1] + (out[1] - 1) * strides[1] + 1:strides[1], :]
            for i in range(size[0]) for j in range(size[1])]
    return np.stack(rows, axis=3).reshape(n * out[0] * out[1], size[0] * size[1] * c)


def _why_not(layer) -> str | None:
    kind = type(layer).__name__
    if kind not in SUPPORTED:
        return f"{kind} is not reconstructed (Dense, Conv1D and Conv2D are)"
    if kind != "Dense" and (getattr(layer, "data_format", "channels_last") != "channels_last"
                            or getattr(layer, "groups", 1) != 1 or layer.padding not in ("valid", "same")):
        return f"{kind} with channels_first, groups or causal padding is not reconstructed"
    return None


def output_error(H: np.ndarray, W: np.ndarray, W_new: np.ndarray) -> float:
    """‖X(W − Ŵ)‖ / ‖XW‖ from H = XᵀX / n (undamped)."""
    diff = np.asarray(W, np.float64) - np.asarray(W_new, np.float64)
    num = float(np.sum(diff * (H @ diff)))
    den = float(np.sum(np.asarray(W, np.float64) * (H @ np.asarray(W, np.float64))))
    return float(np.sqrt(max(num, 0.0) / den)) if den > 0 else 0.0


def reconstruct(model, mask_set: mk.MaskSet, x, *, batches: int = 4, batch_size: int = 128, seed: int = 0,
                damping: float = 0.01, exact_budget: float = EXACT_BUDGET, progress=None):
    """(a NEW masked model with each pruned layer's remaining weights reconstructed, ReconstructionReport).

    ``x``: calibration inputs (the seeded scoring batches of it are used, as for the gradient criteria).
    The caller's model is not touched; the result holds exactly the zeros of ``mask_set`` (removed units'
    biases included). Layers whose kind is not supported stay plainly masked and are listed in ``skipped``.
    """
    if not (isinstance(damping, (int, float)) and np.isfinite(damping) and damping >= 0):
        raise ValueError(f"The damping λ must be a number >= 0; got {damping!r}.")
    effective = mk.effective_masks(model, mask_set)
    pruned = mk.apply_masks(model, effective)
    dense_kernels = {layer.name: np.asarray(kernel_variable(layer).numpy()) for layer in prunable_layers(model)}
    calibration = scoring_inputs(x, batches=batches, batch_size=batch_size, seed=seed)
    report = ReconstructionReport(examples=int(len(calibration)))
    layers = [layer for layer in prunable_layers(pruned) if layer.name in effective.kernels]
    for i, layer in enumerate(layers):
        keep = np.asarray(effective.kernels[layer.name], dtype=bool)
        if keep.all():
            continue
        why = _why_not(layer)
        if why:
            report.skipped[layer.name] = why
            continue
        if progress:
            progress(i / max(1, len(layers)), f"Reconstructing {layer.name}…")
        gram = {"H": 0.0, "n": 0}

        def add(inputs, layer=layer):
            rows = layer_rows(layer, inputs).astype(np.float64)
            gram["H"] = gram["H"] + rows.T @ rows
            gram["n"] += rows.shape[0]

        capture_inputs(pruned, calibration, {layer.name: add}, batch_size=batch_size)
        if not gram["n"]:
            report.skipped[layer.name] = "not reached by the calibration inputs"
            continue
        shape = dense_kernels[layer.name].shape
        W = dense_kernels[layer.name].reshape(-1, shape[-1]).astype(np.float64)
        flat_keep = keep.reshape(-1, shape[-1])
        H = gram["H"] / gram["n"]
        mean_diag = float(np.mean(np.diag(H)))
        Hd = H + (damping * mean_diag if mean_diag > 0 else 1e-8) * np.eye(H.shape[0])
        cost = float(np.sum(flat_keep.sum(axis=0).astype(np.float64) ** 3)) / 3
        if cost <= exact_budget:
            W_new, report.method[layer.name] = solve_columns(Hd, W, flat_keep), "exact"
        else:
            W_new, report.method[layer.name] = sparsegpt_columns(Hd, W, flat_keep), "sparsegpt"
        W_new = np.where(flat_keep, W_new, 0.0)
        report.before[layer.name] = output_error(H, W, W * flat_keep)
        report.after[layer.name] = output_error(H, W, W_new)
        kernel_variable(layer).assign(W_new.reshape(shape).astype(np.float32))
    mk.zero_masked(pruned, effective)
    if progress:
        progress(1.0, "Reconstruction done")
    return pruned, report
