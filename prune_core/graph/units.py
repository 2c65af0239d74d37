"""Dependency-group types and unit masks: what a group is (``Member``, ``Group``), how a unit mask
keyed by group is checked (``resolve_units``, ``check_removable``), rounded (``round_units``) and
widened to a weight's full shape (``full_mask``). Pure numpy: no Keras, no walker.

>>> group = Group("h", 3, ("h",), ("o",), (), True, "")
>>> resolve_units([group], {"h": [1, 0, 1]})["h"].tolist()
[True, False, True]
>>> check_removable(group, np.zeros(3, bool))
"Removing all 3 units of layer 'h' would disconnect the model; keep at least one."
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Member:
    """One weight axis a group touches: along ``axis`` of ``layer``'s weight ``weight``, the entries
    at ``positions`` belong to the group's channels ``channels`` (same length)."""
    layer: str
    weight: str
    axis: int
    positions: tuple[int, ...]
    channels: tuple[int, ...]


@dataclass(frozen=True)
class Group:
    """One dependency group: channels that are removed together.

    ``name`` is its first producing prunable layer's name (a chain layer's group is named after the
    layer); ``size`` its channel count; ``producers`` the prunable layers whose output units are
    these channels; ``consumers`` the prunable layers whose input rows/channels read them;
    ``members`` every weight axis touched (see ``Member``); ``reason`` says, when ``prunable`` is
    False, why the group must stay whole.
    """
    name: str
    size: int
    producers: tuple[str, ...]
    consumers: tuple[str, ...]
    members: tuple[Member, ...]
    prunable: bool
    reason: str

    @property
    def layers(self) -> tuple[str, ...]:
        """Every layer with a weight in the group, in order of first appearance."""
        return tuple(dict.fromkeys(m.layer for m in self.members))


def round_units(keep: np.ndarray, scores: np.ndarray, multiple: int) -> np.ndarray:
    """``keep`` with its kept count rounded to the nearest multiple of ``multiple`` (halves round up).

    At least one multiple is kept, and never more than the largest multiple the group holds;
    channels are added from the best-scored removed ones and taken away from the worst-scored kept
    ones (ties: lower index is better). Unchanged when ``multiple`` is 1, nothing is removed, or the
    group is smaller than ``multiple``.

    >>> round_units(np.array([1, 1, 1, 0, 0, 0], bool), np.array([6., 5, 4, 3, 2, 1]), 2).tolist()
    [True, True, True, True, False, False]
    """
    keep = np.asarray(keep, dtype=bool).copy()
    scores = np.asarray(scores, dtype=np.float64)
    if keep.shape != scores.shape or keep.ndim != 1:
        raise ValueError(f"keep {keep.shape} and scores {scores.shape} must be vectors of one length.")
    if int(multiple) != multiple or multiple < 1:
        raise ValueError(f"round_to must be a whole number >= 1, not {multiple!r}.")
    multiple, size, kept = int(multiple), keep.size, int(keep.sum())
    if multiple == 1 or kept == size or size < multiple:
        return keep
    target = (kept + multiple // 2) // multiple * multiple
    target = min(max(target, multiple), size // multiple * multiple)
    # rank: best first (higher score, then lower index)
    rank = np.lexsort((np.arange(size), -scores))
    if target > kept:
        add = [i for i in rank if not keep[i]][:target - kept]
        keep[add] = True
    elif target < kept:
        drop = [i for i in rank[::-1] if keep[i]][:kept - target]
        keep[drop] = False
    return keep


def resolve_units(groups, units) -> dict[str, np.ndarray]:
    """{group name: bool vector} from ``units`` keyed by group name (or by another producer of the
    group, which must then agree), checked; all-True entries are kept. ValueError for unknown names,
    wrong lengths, non-boolean values."""
    by_name = {g.name: g for g in groups}
    alias = {p: g for g in groups for p in g.producers}
    resolved: dict[str, np.ndarray] = {}
    for name, mask in units.items():
        group = by_name.get(name) or alias.get(name)
        if group is None:
            prunable = [g.name for g in groups if g.prunable]
            raise ValueError(f"{name!r} is not a prunable layer or group of this model; prunable groups: "
                             f"{', '.join(prunable) or 'none'}.")
        mask = np.asarray(mask)
        if mask.shape != (group.size,):
            raise ValueError(f"The unit mask for {name!r} has shape {mask.shape}; expected ({group.size},).")
        if mask.dtype != bool:
            if not np.isin(mask, (0, 1)).all():
                raise ValueError(f"The unit mask for {name!r} must be boolean (True = kept).")
            mask = mask.astype(bool)
        if group.name in resolved and not np.array_equal(resolved[group.name], mask):
            raise ValueError(f"{name!r} and another key give different masks for group {group.name!r} "
                             f"({', '.join(group.producers)}); key it once, by {group.name!r}.")
        resolved[group.name] = mask
    return resolved


def check_removable(group: Group, mask: np.ndarray) -> str | None:
    """Why ``mask`` (some False) cannot be applied to ``group``, or None."""
    if not group.prunable:
        if "reaches the model output" in group.reason:
            which = (f"Layer {group.name!r} is the output layer" if len(group.producers) == 1 else
                     f"Group {group.name!r} ({', '.join(group.producers)}) reaches the model output")
            return f"{which}: its units are the model's outputs and cannot be removed."
        return f"Group {group.name!r} ({', '.join(group.producers)}) cannot lose units: it {group.reason}."
    if not mask.any():
        what = (f"units of layer {group.name!r}" if len(group.producers) == 1 else
                f"channels of group {group.name!r} ({', '.join(group.producers)})")
        return f"Removing all {group.size} {what} would disconnect the model; keep at least one."
    return None


def full_mask(shape: tuple, axes: dict[int, np.ndarray]) -> np.ndarray:
    """A bool mask of ``shape``: True where every ``{axis: kept vector}`` keeps the entry."""
    mask = np.ones(shape, dtype=bool)
    for axis, vec in axes.items():
        view = [1] * len(shape)
        view[axis] = shape[axis]
        mask &= vec.reshape(view)
    return mask

