"""The refusal: :class:`ModelFileError` and the helpers that word its messages (sizes, shapes, a user's file
name and an exception's text, all shortened to plain characters)."""

from __future__ import annotations

import re


SAVE_HINT = "Save the model with model.save('model.keras') (Keras 3) or model.save('model.h5') and upload that file."


class ModelFileError(ValueError):
    """A model file was refused; the message is the user-facing explanation (what is wrong, what to do)."""


# The public path, where importers find it (and where tracebacks and doctests name it).
ModelFileError.__module__ = "prune_core.io.safe_load"


def _mb(n: int) -> str:
    """Sizes as Streamlit's uploader counts them (1 MB = 1024² bytes); small ones in KB.

    >>> _mb(200 * 1024 * 1024), _mb(1536)
    ('200.0 MB', '1.5 KB')
    """
    return f"{n / (1024 * 1024):,.1f} MB" if n >= 1024 * 1024 else f"{n / 1024:,.1f} KB"


def _human(n: int) -> str:
    """Bytes for a message: KB … TB (1 KB = 1024 bytes).

    >>> _human(4 * 10**9), _human(2048)
    ('3.7 GB', '2.0 KB')
    """
    value = float(n)
    for unit in ("bytes", "KB", "MB", "GB", "TB", "PB"):
        if value < 1024 or unit == "PB":
            return f"{int(value)} bytes" if unit == "bytes" else f"{value:,.1f} {unit}"
        value /= 1024
    return f"{n} bytes"


def _shape_text(shape) -> str:
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


def display_name(filename: str, limit: int = 60) -> str:
    """A safe label for a user's file name: the last path part, only plain characters, shortened.

    Used only for display; never as a path.

    >>> display_name("../../etc/my model[1].keras")
    'my model_1_.keras'
    """
    base = re.split(r"[\\/]", str(filename))[-1]
    cleaned = re.sub(r"[^A-Za-z0-9._ -]", "_", base).strip() or "upload"
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"


def _short(text: str, limit: int = 240) -> str:
    """One line of an exception's text, plain characters only, shortened (for a message, never a path)."""
    line = " ".join(str(text).split())
    line = re.sub(r"[^\w\s.,:;'()=/+<>-]", "", line)
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _detail(exc: BaseException, limit: int = 480) -> str:
    """An exception as ``Type: text`` for a message: one line, and when long its start and its end (where
    Keras usually says the reason), so the real cause is never cut off.

    >>> _detail(ValueError("x" * 300 + " the file /etc/passwd does not exist"), 120)[-40:]
    'xxxx the file /etc/passwd does not exist'
    """
    line = " ".join(f"{type(exc).__name__}: {exc}".split())
    line = re.sub(r"[^\w\s.,:;'()\[\]=/+<>-]", "", line)
    if len(line) <= limit:
        return line
    head = limit // 3
    return line[:head] + " … " + line[-(limit - head - 3):]


def _not_a_model(label: str, kind: str) -> str:
    if kind == "unknown":
        return (f"The file {label} is not a Keras model: its content is neither a .keras zip nor an HDF5 file "
                "(it looks like random or binary data). " + SAVE_HINT)
    return f"The file {label} is not a Keras model: it is {kind}. " + SAVE_HINT
