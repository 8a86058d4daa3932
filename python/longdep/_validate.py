"""Argument checks shared by the public functions (messages name the argument)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .errors import ArgumentError, DTypeError, NumericsError, ShapeError

__all__ = [
    "as_float_array",
    "compute_dtype",
    "frozen_copy",
    "require_bool",
    "require_finite",
    "shape_str",
]


def shape_str(shape: tuple[int, ...]) -> str:
    """`(3, 4)`-style text of a shape (with a trailing comma for 1-D)."""
    if len(shape) == 1:
        return f"({shape[0]},)"
    return "(" + ", ".join(str(s) for s in shape) + ")"


def require_bool(name: str, value: Any) -> bool:
    """`value` as a bool if it is a real boolean (``bool`` or ``numpy.bool_``), else ArgumentError.

    Strings such as ``'no'`` or numbers such as ``0`` are refused: ``bool('no')`` is True.
    """
    if not isinstance(value, (bool, np.bool_)):
        raise ArgumentError(f"{name} must be True or False; got {value!r} ({type(value).__name__})")
    return bool(value)


def frozen_copy(a: np.ndarray) -> np.ndarray:
    """A private, read-only copy of `a`: later edits of `a` do not reach it, and it
    cannot be edited in place (``ValueError: assignment destination is read-only``)."""
    out = np.array(a, copy=True, order="C")
    out.flags.writeable = False
    return out


def _to_numpy(name: str, a: Any) -> np.ndarray:
    if isinstance(a, np.ma.MaskedArray):
        raise ArgumentError(
            f"{name} must be a plain array, not a masked one (longdep would ignore the mask); "
            f"got numpy.ma.MaskedArray of shape {shape_str(a.shape)}: pass "
            f"{name}.filled(fill_value) to choose what the masked entries hold"
        )
    if hasattr(a, "detach") and hasattr(a, "cpu"):  # a torch tensor, without importing torch
        a = a.detach().cpu().numpy()
    try:
        arr = np.asarray(a)
    except Exception as exc:  # ragged lists and the like
        raise DTypeError(
            f"{name} must be a numeric array-like; got {type(a).__name__} ({exc})"
        ) from None
    return arr


def compute_dtype(name: str, a: Any) -> np.dtype:
    """float32 for float16/float32 input, float64 for every other real numeric input."""
    arr = _to_numpy(name, a)
    kind = arr.dtype.kind
    if kind == "f":
        return np.dtype(np.float32) if arr.dtype.itemsize <= 4 else np.dtype(np.float64)
    if kind in "biu":
        return np.dtype(np.float64)
    raise DTypeError(
        f"{name} must be a real numeric array (float, int or bool); got dtype {arr.dtype}"
    )


def as_float_array(
    name: str, a: Any, dtype: np.dtype | type, *, ndim: tuple[int, ...] | None = None
) -> np.ndarray:
    """A C-contiguous array of `dtype` (copied when needed); rejects non-numeric data."""
    arr = _to_numpy(name, a)
    if arr.dtype.kind not in "biuf":
        raise DTypeError(
            f"{name} must be a real numeric array (float, int or bool); got dtype {arr.dtype}"
        )
    if ndim is not None and arr.ndim not in ndim:
        dims = " or ".join(str(d) for d in ndim)
        raise ShapeError(f"{name} must have {dims} dimensions; got shape {shape_str(arr.shape)}")
    return np.ascontiguousarray(arr, dtype=dtype)


def require_finite(name: str, a: np.ndarray) -> None:
    """Raise NumericsError naming the first NaN/inf entry of `a`."""
    if a.size and not np.isfinite(a).all():
        idx = np.unravel_index(int(np.argmin(np.isfinite(a).ravel())), a.shape)
        val = a[idx]
        raise NumericsError(
            f"{name} contains {'NaN' if np.isnan(val) else 'infinity'} at index {tuple(int(i) for i in idx)}; "
            "all values must be finite"
        )


def choice(name: str, value: Any, allowed: tuple[str, ...]) -> str:
    """`value` if it is one of `allowed`, else ArgumentError."""
    if not isinstance(value, str) or value not in allowed:
        opts = ", ".join(repr(a) for a in allowed)
        raise ArgumentError(f"{name} must be one of {opts}; got {value!r}")
    return value
