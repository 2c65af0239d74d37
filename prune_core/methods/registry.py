"""One registry for the pluggable pieces (criteria, rules): a name → instance dict that checks what it is given.

>>> reg = Registry("rule", "threshold rule", int)
>>> reg.add(7, "seven") and reg.get_item("seven")
7
>>> reg.get_item("eight")
Traceback (most recent call last):
...
ValueError: Unknown threshold rule 'eight'; choose one of seven.
"""

from __future__ import annotations


class Registry(dict):
    """{name: instance} in registration order. ``kind`` names an entry in messages ("criterion"), ``unknown``
    names it when a lookup fails ("importance criterion"), ``base`` is the class every entry must be."""

    def __init__(self, kind: str, unknown: str, base: type):
        super().__init__()
        self.kind, self.unknown, self.base = kind, unknown, base

    def add(self, item, name: str | None = None, *, replace: bool = False):
        """Register ``item`` under ``name`` (default: its ``name`` attribute); ValueError when it is not a
        ``base`` instance, the name is not a short identifier, or the name is taken (unless ``replace``)."""
        name = getattr(item, "name", "") if name is None else name
        if not isinstance(item, self.base):
            raise ValueError(f"A {self.kind} must be a prune_core.{self.base.__name__} instance, "
                             f"not {type(item).__name__}.")
        if not name or not name.replace("_", "").replace("-", "").isalnum():
            raise ValueError(f"A {self.kind} needs a short name of letters, digits, '-' or '_'; got {name!r}.")
        if name in self and not replace:
            raise ValueError(f"A {self.kind} named {name!r} is already registered; pass replace=True to override it.")
        if hasattr(item, "label") and not item.label:
            item.label = name
        self[name] = item
        return item

    def remove(self, name: str) -> None:
        """Unregister ``name`` (no error when absent)."""
        self.pop(name, None)

    def get_item(self, name: str):
        """The entry ``name``; ValueError listing the choices otherwise."""
        if name not in self:
            raise ValueError(f"Unknown {self.unknown} {name!r}; choose one of {', '.join(self)}.")
        return self[name]
