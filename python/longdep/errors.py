"""Exception classes of longdep.

Every error names the argument, what was expected and what came.
"""

from __future__ import annotations

__all__ = [
    "ArgumentError",
    "BudgetError",
    "DTypeError",
    "LongdepError",
    "NumericsError",
    "ShapeError",
]


class LongdepError(Exception):
    """Base class of every error raised by longdep."""


class ShapeError(LongdepError, ValueError):
    """An array has the wrong number of dimensions or the wrong shape."""


class ArgumentError(LongdepError, ValueError):
    """An argument has a value outside its allowed set (unknown name, bad number)."""


class DTypeError(LongdepError, TypeError):
    """An array is not numeric (complex, object, string) or not array-like at all."""


class NumericsError(LongdepError, FloatingPointError):
    """NaN or infinity in an input, or a computation that left the float range."""


class BudgetError(LongdepError, MemoryError):
    """The computation cannot fit the memory budget it was given."""
