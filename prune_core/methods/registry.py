"""One registry for the pluggable pieces (criteria, rules): a read-only name → instance mapping that checks what
it is given and carries its own ``register`` / ``get`` / ``unregister``.

>>> reg = Registry("rule", "threshold rule", int)
>>> reg.register(7, name="seven") and reg.get("seven")
7
>>> reg.get("eight")
Traceback (most recent call last):
...
ValueError: Unknown threshold rule 'eight'; choose one of seven.
>>> reg.get("eight", None) is None    # with a default, ``get`` is Mapping.get
True
"""

from __future__ import annotations

from collections.abc import Mapping

_MISSING = object()


class Registry(Mapping):
    """{name: instance} in registration order, read-only except through :meth:`register` / :meth:`unregister`.

    ``kind`` names an entry in messages ("criterion"), ``unknown`` names it when a lookup fails ("importance
    criterion"), ``base`` is the class every entry must be."""

    def __init__(self, kind: str, unknown: str, base: type):
        self._items: dict = {}
        self.kind, self.unknown, self.base = kind, unknown, base

    def __getitem__(self, name):
        return self._items[name]

    def __iter__(self):
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"<Registry of {self.kind}s: {', '.join(self._items)}>"

    def register(self, item, *, name: str | None = None, replace: bool = False):
        """Register ``item`` under ``name`` (default: its ``name`` attribute) and return it; ValueError when it is
        not a ``base`` instance, the name is not a short identifier, or the name is taken (unless ``replace``)."""
        name = getattr(item, "name", "") if name is None else name
        if not isinstance(item, self.base):
            raise ValueError(f"A {self.kind} must be a prune_core.{self.base.__name__} instance, "
                             f"not {type(item).__name__}.")
        if not name or not name.replace("_", "").replace("-", "").isalnum():
            raise ValueError(f"A {self.kind} needs a short name of letters, digits, '-' or '_'; got {name!r}.")
        if name in self._items and not replace:
            raise ValueError(f"A {self.kind} named {name!r} is already registered; pass replace=True to override it.")
        if hasattr(item, "label") and not item.label:
            item.label = name
        self._items[name] = item
        return item

    def unregister(self, name: str) -> None:
        """Remove ``name`` (no error when absent)."""
        self._items.pop(name, None)

    def get(self, name: str, default=_MISSING):
        """The entry ``name``; without ``default``, ValueError listing the choices when it is not registered."""
        if name in self._items:
            return self._items[name]
        if default is not _MISSING:
            return default
        raise ValueError(f"Unknown {self.unknown} {name!r}; choose one of {', '.join(self._items)}.")
