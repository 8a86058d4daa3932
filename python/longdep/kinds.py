"""The catalogue of recurrent cell kinds: every ``RecurrentCell`` subclass that names
its ``kind`` is in it, so a new kind is declared once, by its class.

>>> from longdep import kinds
>>> {"elman", "lstm", "gru", "lru", "mingru"} <= set(kinds.catalogue())
True
"""

from __future__ import annotations

from typing import Any

from .cells import RecurrentCell
from .errors import ArgumentError

__all__ = ["catalogue", "cell_class", "modern"]


def _subclasses(cls: type[RecurrentCell]) -> list[type[RecurrentCell]]:
    out = []
    for sub in cls.__subclasses__():
        out.append(sub)
        out.extend(_subclasses(sub))
    return out


def catalogue() -> dict[str, type[RecurrentCell]]:
    """Every recurrent cell kind by its name (the name the Rust core builds it by)."""
    from . import modern  # noqa: F401  (its classes join the catalogue on import)

    return {c.kind: c for c in _subclasses(RecurrentCell) if c.kind}


def cell_class(kind: str) -> type[RecurrentCell]:
    """The class of cell kind `kind`; ArgumentError naming the known kinds otherwise."""
    known = catalogue()
    if kind not in known:
        raise ArgumentError(f"cell kind must be one of {sorted(known)}; got {kind!r}")
    return known[kind]


def modern() -> dict[str, Any]:
    """The 2023–2025 remedies (classes with ``era = "2023-2025"``), in catalogue order:
    ``longdep.modern.NamedCell`` subclasses, each with ``random``, ``sweep_keys`` and
    ``input_is_hidden``."""
    return {k: c for k, c in catalogue().items() if getattr(c, "era", "") == "2023-2025"}
