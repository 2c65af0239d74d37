"""Page settings that survive navigation, and the URL that shows them.

Streamlit forgets the state of every widget that was not drawn in the last run, so leaving a page resets
its controls. The router calls :func:`carry` before the page runs and :func:`keep` after it: setting
keys (an allow-list below, never buttons, uploaders or editors, whose state cannot be written) are copied
into a store of our own, and put back when Streamlit has dropped them. A page's reset calls
:func:`forget`, which clears both.

Pages with URL parameters declare them in :data:`URL` (``param → Setting``); :func:`restore_from_url`
seeds them once per session and page (a shared link opens the same view), and :func:`write_url` shows
the current values on every run. The Prune page keeps its own URL format (per-layer values) in
``ui.prune``.

>>> Setting("we_coefficient", 0.3, low=0.0, high=1.0).parse("0.45")
0.45
>>> Setting("we_coefficient", 0.3, low=0.0, high=1.0).parse("7") is None
True
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import streamlit as st

STORE = "_settings_store"
RESTORED = "_settings_restored"
LAST_PAGE = "_settings_page"

# Widget keys that are settings (kept across navigation). Buttons, file uploaders, data editors and
# dataframe selections are not: Streamlit refuses to have their state written.
CARRIED = re.compile(
    r"^(pr_(criterion|granularity|rule|scope|same|view|show_layers|per_class|heads_removed|v_.+)"
    r"|sens_(criterion|drop)"
    r"|we_(criterion|coefficient|own_max|maximum|epochs)"
    r"|model_(data|arch|epochs|batch_size|learning_rate|seed)"
    r"|rt_(mode|set_.+)"
    r"|cmp_(model|size_axis|sweep_criteria|sweep_sparsities|sweep_epochs)"
    r"|net_(criterion|coefficient|granularity|edges)"
    r"|exec_(run_on|ray_address|cpus|gpus)"
    r"|rc_(target|budget|criteria))$")


def is_setting(key: str) -> bool:
    """Whether a session-state key is a page setting that survives navigation.

    >>> is_setting("pr_v_coefficient_dense1"), is_setting("sens_carry"), is_setting("pr_scratch")
    (True, False, False)
    """
    return bool(CARRIED.match(key))


def carry(page: str) -> None:
    """Before a page runs: remember every setting the last run left, and give each widget its setting back.

    On the first run of a page after another page, every stored setting is written again, also those still
    in session state: the browser sends the left page's widget values along, so Streamlit keeps them but
    would draw a newly mounted widget at its default (0.00 for a slider seeded through session state)
    unless the value is set through the Session State API in this run.
    """
    remember()
    store = st.session_state[STORE]
    switched = st.session_state.get(LAST_PAGE) != page
    st.session_state[LAST_PAGE] = page
    for key, value in store.items():
        if switched or key not in st.session_state:
            st.session_state[key] = value


def remember() -> None:
    """After a fragment ran (``ui.errors.guarded`` calls this): its widgets' settings join the store. The
    router's :func:`carry` cannot see them later: on a page switch Streamlit starts the run without the
    left page's widget values."""
    store = st.session_state.setdefault(STORE, {})
    for key in list(st.session_state.keys()):
        if isinstance(key, str) and is_setting(key):
            store[key] = st.session_state[key]


def keep() -> None:
    """After a page ran (also when it stopped or asked for a rerun): the store holds exactly the settings
    in session state now, so a setting the page deleted (a reset) stays deleted."""
    st.session_state[STORE] = {key: st.session_state[key] for key in list(st.session_state.keys())
                               if isinstance(key, str) and is_setting(key)}


def forget(prefix: str) -> None:
    """Drop every setting starting with ``prefix`` (a page's reset to defaults) from the session and the
    store; the widgets come back with their defaults on the next run."""
    store = st.session_state.get(STORE, {})
    for key in [k for k in list(st.session_state.keys()) if isinstance(k, str) and k.startswith(prefix)
                and is_setting(k)]:
        del st.session_state[key]
    for key in [k for k in store if k.startswith(prefix)]:
        del store[key]


def reset_button(prefix: str, *, label: str = "Reset to defaults", key: str | None = None, container=None) -> None:
    """A button that puts this page's settings back to their defaults (and the URL with them)."""
    where = container or st
    if where.button(label, icon=":material/restart_alt:", key=key or f"{prefix}btn_reset",
                    help="Every control on this page back to its default value."):
        forget(prefix)
        st.query_params.clear()
        st.rerun()


# --- URL query parameters ----------------------------------------------------------------------

@dataclass(frozen=True)
class Setting:
    """One setting shown in the URL: its widget key, default and allowed values (for parsing a link)."""

    key: str
    default: Any
    choices: Any = None  # a tuple, or a function giving one (looked up when a link is read)
    low: float | None = None
    high: float | None = None
    read: Any = None  # text → value, for a setting whose values are not all of its default's type

    def resolved(self) -> str:
        """The widget key, with ``{other_key}`` filled in from session state (the Retrain form keys its
        widgets by the chosen mode)."""
        if "{" not in self.key:
            return self.key
        return self.key.format_map({k: st.session_state.get(k, "") for k in re.findall(r"{(\w+)}", self.key)})

    def parse(self, text: str):
        """The value a URL parameter gives, or None when it is not one this setting may take."""
        default = self.default
        try:
            if self.read is not None:
                value = self.read(text)
            elif isinstance(default, bool):
                value = {"1": True, "0": False}[text]
            elif isinstance(default, int):
                value = int(text)
            elif isinstance(default, float):
                value = float(text)
            elif isinstance(default, (list, tuple)):
                kind = type(default[0]) if default else str
                value = [kind(part) for part in text.split(",") if part != ""]
            else:
                value = text
        except (KeyError, ValueError):
            return None
        choices = self.choices() if callable(self.choices) else self.choices
        if isinstance(value, list):
            return value if choices is None or all(v in choices for v in value) else None
        if choices is not None and value not in choices:
            return None
        if self.low is not None and not self.low <= value <= self.high:
            return None
        return value

    @staticmethod
    def format(value) -> str:
        if isinstance(value, bool):
            return "1" if value else "0"
        if isinstance(value, float):
            return f"{value:g}"
        if isinstance(value, (list, tuple)):
            return ",".join(Setting.format(v) for v in value)
        return str(value)


def _criteria() -> tuple:
    import prune_core as pc

    return tuple(pc.CRITERIA)


def _recipe_criteria() -> tuple:
    from prune_core.experiments import search

    return tuple(search.GRID["criteria"])


def _architectures() -> tuple:
    from prune_core.train import models

    return tuple(models.ARCHITECTURES)


def _rate(text: str):
    """A learning rate in a link: 'auto' (the measured rate for the run's sparsity) or a number.

    >>> _rate("auto"), _rate("0.003")
    ('auto', 0.003)
    """
    return text if text == "auto" else float(text)


def _retrain_epochs() -> range:
    """Epochs a Retrain link may ask for: 0 (measure only) in one-shot, else 1–50 (as the form allows)."""
    return range(0 if st.session_state.get("rt_mode", "oneshot") == "oneshot" else 1, 51)


def _retrain_target() -> range:
    """Target sparsity (%) a Retrain link may ask for: 50–99 for sparse training, else 10–99 (as the sliders)."""
    return range(50 if st.session_state.get("rt_mode") == "sparse" else 10, 100)


def _data_sources() -> tuple:
    from .state import DATA_SOURCES

    return tuple(DATA_SOURCES)


# page name → {URL parameter: Setting}. The Prune page writes its own (see OWN_URL).
URL: dict[str, dict[str, Setting]] = {
    "sensitivity": {"criterion": Setting("sens_criterion", "magnitude", choices=_criteria),
                    "drop": Setting("sens_drop", 1.0, low=0.5, high=10.0)},
    "worked_example": {"criterion": Setting("we_criterion", "l1", choices=("l1", "sensitivity")),
                       "coefficient": Setting("we_coefficient", 0.3, low=0.0, high=1.0),
                       "own_max": Setting("we_own_max", False),
                       "maximum": Setting("we_maximum", 1.0, low=0.01, high=100.0),
                       "epochs": Setting("we_epochs", 1, low=0, high=5)},
    "retrain": {"mode": Setting("rt_mode", "oneshot", choices=("oneshot", "gradual", "iterative", "init", "sparse")),
                # the form's values, per mode ({rt_mode} is the mode chosen above; only the shown ones are written)
                "epochs": Setting("rt_set_{rt_mode}_epochs", 1, choices=_retrain_epochs),  # per mode, read after mode
                "learning_rate": Setting("rt_set_{rt_mode}_learning_rate", "auto", read=_rate,
                                         choices=("auto", 2e-2, 1e-2, 3e-3, 1e-3, 3e-4, 1e-4)),
                "batch_size": Setting("rt_set_{rt_mode}_batch_size", 32, choices=(32, 64, 128, 256)),
                "seed": Setting("rt_set_{rt_mode}_seed", 0, low=0, high=2**31 - 1),
                "l1": Setting("rt_set_{rt_mode}_l1", 0.0, choices=(0.0, 1e-5, 1e-4, 1e-3)),
                "retrain": Setting("rt_set_{rt_mode}_retrain", "finetune",
                                   choices=("finetune", "rewind-lr", "rewind-weights")),
                "reconstruct": Setting("rt_set_{rt_mode}_reconstruct", False),
                "criterion": Setting("rt_set_{rt_mode}_criterion", "magnitude", choices=_criteria),
                "scope": Setting("rt_set_{rt_mode}_scope", "layer", choices=("layer", "global")),
                "initial": Setting("rt_set_{rt_mode}_initial", 0, low=0, high=95),
                "final": Setting("rt_set_{rt_mode}_final", 90, low=5, high=99),
                "step": Setting("rt_set_{rt_mode}_step", 30, low=5, high=80),
                "target": Setting("rt_set_{rt_mode}_target", 95, choices=_retrain_target),
                "tolerance": Setting("rt_set_{rt_mode}_tolerance", 1.0, low=0.1, high=10.0),
                "rounds": Setting("rt_set_{rt_mode}_rounds", 10, low=1, high=30),
                "sparse_method": Setting("rt_set_{rt_mode}_sparse_method", "rigl", choices=("rigl", "set")),
                "distribution": Setting("rt_set_{rt_mode}_distribution", "uniform", choices=("uniform", "erk")),
                "from_init": Setting("rt_set_{rt_mode}_from_init", False),
                # the recipe search's controls (issue 24), below the form
                "recipe_target": Setting("rc_target", 95, low=50, high=99),
                "recipe_budget": Setting("rc_budget", 2, choices=(1, 2, 4)),
                "recipe_criteria": Setting("rc_criteria", ["magnitude", "taylor", "wanda"], choices=_recipe_criteria)},
    "compare": {"model": Setting("cmp_model", "current"),  # a run-history model key; "current": the page's default
                "size_axis": Setting("cmp_size_axis", "nonzero_params", choices=("nonzero_params", "gzip_kb")),
                "sweep_criteria": Setting("cmp_sweep_criteria", ["magnitude"], choices=_criteria),
                "sweep_sparsities": Setting("cmp_sweep_sparsities", [50, 70, 80, 90, 95, 98],
                                            choices=(50, 70, 80, 90, 95, 98)),
                "sweep_epochs": Setting("cmp_sweep_epochs", 1, choices=(0, 1, 2))},
    "network": {"criterion": Setting("net_criterion", "magnitude", choices=_criteria),
                "granularity": Setting("net_granularity", "weight", choices=("weight", "unit")),
                "coefficient": Setting("net_coefficient", 0.3, low=0.0, high=1.0),
                "edges": Setting("net_edges", "spread", choices=("spread", "strongest"))},
    "model": {"data": Setting("model_data", "auto", choices=_data_sources),
              "arch": Setting("model_arch", "mlp-128", choices=_architectures),
              "epochs": Setting("model_epochs", 3, low=1, high=50),
              "batch_size": Setting("model_batch_size", 32, choices=(32, 64, 128, 256)),
              "learning_rate": Setting("model_learning_rate", 1e-3, choices=(1e-2, 3e-3, 1e-3, 3e-4, 1e-4)),
              "seed": Setting("model_seed", 0, low=0, high=2**31 - 1)},
}
OWN_URL = {"prune"}


def default(key: str):
    """A URL setting's default, by widget key (so a page and its link agree)."""
    return next(s.default for params in URL.values() for s in params.values() if s.key == key)


def restore_from_url(page: str) -> None:
    """Once per session and page: seed the page's settings from the URL (a shared link)."""
    params = URL.get(page)
    done = st.session_state.setdefault(RESTORED, set())
    if not params or page in done:
        return
    done.add(page)
    for param, setting in params.items():
        text = st.query_params.get(param)
        if text is None:
            continue
        value = setting.parse(text)
        if value is not None:
            st.session_state[setting.resolved()] = value


def write_page_url(page: str) -> None:
    """The page's URL with what every page adds (presenter mode, the upload's name): for the router after a page
    ran, and for a fragment whose rerun changed a setting (a fragment's rerun does not reach the router)."""
    from . import lost_upload, present

    write_url(page, extra={**present.url_params(), **lost_upload.url_params()})


def write_url(page: str, extra: dict | None = None) -> None:
    """Show the page's current settings in the URL (defaults included, so a link is complete); a page
    without settings gets a clean URL."""
    if page in OWN_URL:
        return
    params = URL.get(page, {})
    # Settings shown on the page now (a keyed-by-mode form shows one mode's); defaults for those not drawn yet.
    wanted = {param: Setting.format(st.session_state.get(s.resolved(), s.default)) for param, s in params.items()
              if "{" not in s.key or s.resolved() in st.session_state}
    wanted.update(extra or {})
    if dict(st.query_params) != wanted:
        st.query_params.from_dict(wanted)
