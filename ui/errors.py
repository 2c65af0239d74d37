"""No traceback reaches a user: unexpected errors become one clear message, and the app goes on.

Set ``PRUNING_EXPLORER_RAISE=1`` (the test suite does) to let exceptions through so tests see them.
"""

from __future__ import annotations

import functools
import logging
import os

import streamlit as st

from .text import md

LOG = logging.getLogger("pruning_explorer")


def log_failure(what: str, exc: BaseException) -> None:
    """One line in the server log (no traceback: the log stays readable and free of them); the full
    traceback only with PRUNING_EXPLORER_DEBUG=1, for developers."""
    if os.environ.get("PRUNING_EXPLORER_DEBUG") == "1":
        LOG.exception(what)
    else:
        LOG.error("%s: %s: %s", what, type(exc).__name__, " ".join(str(exc).split()))


def report(exc: Exception, doing: str) -> None:
    """Log the full traceback for developers; show the user what failed and what to try."""
    if os.environ.get("PRUNING_EXPLORER_RAISE") == "1":
        raise exc
    log_failure(f"Unexpected error while {doing}", exc)
    st.error(f"Something went wrong while {doing}: {type(exc).__name__}: {md(exc)}. "
             "Your model and settings are kept; try another setting, or reload the page.",
             icon=":material/error:")


def guarded(doing: str):
    """Decorator for fragments and callbacks: run, and turn unexpected exceptions into a message.

    Afterwards the settings its widgets hold are remembered (``ui.settings.remember``): a fragment's rerun
    does not pass through the router, and leaving the page drops those widgets' state."""
    def wrap(func):
        @functools.wraps(func)
        def inner(*args, **kwargs):
            from . import settings

            try:
                return func(*args, **kwargs)
            except Exception as exc:  # st.rerun / st.stop are BaseExceptions and pass through
                report(exc, doing)
            finally:
                settings.remember()
        return inner
    return wrap
