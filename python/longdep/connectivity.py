"""Connectivity: how strongly each output depends on each input,
``C[t, k] = ||dy_t / dx_k||_F`` (Madsen, "Visualizing memorization in RNNs", Distill
2019), exactly or by a randomized estimate.

The exact matrix takes one reverse sweep per output step ``t`` with one lane per output
unit (the rows of ``dy_t/dx_k`` for every ``k`` at once); ``probes=p`` replaces the ``O``
unit lanes by ``p`` random sign vectors ``w`` (Hutchinson: ``E ||(dy_t/dx_k)^T w||^2 =
||dy_t/dx_k||_F^2``) and returns a standard error with the estimate.

>>> import numpy as np, longdep as ld
>>> lin = ld.Elman(np.ones((1, 1)), 0.5 * np.eye(1), nonlinearity="linear")
>>> ld.connectivity(lin, np.zeros((3, 1))).values.round(12).tolist()
[[1.0, 0.0, 0.0], [0.5, 1.0, 0.0], [0.25, 0.5, 1.0]]
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._validate import as_float_array, compute_dtype, shape_str
from .cells import RecurrentCell
from .errors import ArgumentError, ShapeError
from .stack import Bidirectional, Stack, _input_adjoint

__all__ = ["Connectivity", "connectivity"]

#: The longest sequence the exact matrix is computed for (its cost grows as T^2).
MAX_STEPS = 20_000


@dataclass(frozen=True)
class Connectivity:
    """What :func:`connectivity` returns."""

    #: ``(T, T)``: ``values[t, k] = ||dy_t/dx_k||_F`` (0 above the diagonal for a model
    #: that reads forward; both halves for a Bidirectional one).
    values: np.ndarray
    #: The standard error of each entry with ``probes``; None when exact.
    stderr: np.ndarray | None
    #: Whether the values are exact (no probes).
    exact: bool


def connectivity(
    model: RecurrentCell | Stack | Bidirectional,
    x: Any,
    *,
    probes: int | None = None,
    seed: int = 0,
) -> Connectivity:
    """``C[t, k] = ||dy_t/dx_k||_F`` for one sequence ``x`` ``(T, I)``.

    Parameters
    ----------
    model
        A recurrent cell, an ``ld.Stack`` or an ``ld.Bidirectional``.
    x
        ``(T, I)``, one sequence (float64 computes in float64, float32 in float32).
    probes
        None: exact, one lane per output unit. An integer ``p >= 2``: a randomized
        estimate with ``p`` sign vectors per step and its standard error (cheaper when
        ``p`` is below the output size).
    seed
        Seed of the sign vectors.
    """
    if not isinstance(model, (RecurrentCell, Stack, Bidirectional)):
        raise ArgumentError(
            "model must be a longdep recurrent cell, Stack or Bidirectional; got "
            f"{type(model).__name__}"
        )
    dtype = compute_dtype("x", x)
    arr = as_float_array("x", x, dtype, ndim=(2,))
    t, i = arr.shape
    if i != model.input_size:
        raise ShapeError(
            f"x must have shape (T, {model.input_size}) (one sequence); got {shape_str(arr.shape)}"
        )
    if not 1 <= t <= MAX_STEPS:
        raise ShapeError(f"x must have between 1 and {MAX_STEPS} steps; got T = {t}")
    o = model.hidden_size
    if probes is None:
        w = np.eye(o)
    else:
        if isinstance(probes, bool):
            raise ArgumentError(f"probes must be None or an integer >= 2; got {probes!r}")
        p = operator.index(probes)
        if p < 2:
            raise ArgumentError(f"probes must be None or an integer >= 2; got {p}")
        rng = np.random.default_rng(seed)
        w = rng.choice([-1.0, 1.0], size=(t, p, o))
    lanes = o if probes is None else w.shape[1]
    sq = np.zeros((t, t, lanes))  # per lane: ||(dy_t/dx_k)^T w||^2
    for step in range(t):
        wt = w if probes is None else w[step]
        if isinstance(model, Bidirectional):
            xs = np.ascontiguousarray(np.broadcast_to(arr[:, None, :], (t, lanes, i)))
            v = np.zeros((t, lanes, o), dtype)
            v[step] = wt
            g = model.input_adjoint(xs, v)  # (T, lanes, I)
            sq[step] = np.einsum("klj,klj->kl", g, g)
        else:
            xs = np.ascontiguousarray(
                np.broadcast_to(arr[: step + 1, None, :], (step + 1, lanes, i))
            )
            g = _input_adjoint(model, xs, np.ascontiguousarray(wt, dtype=dtype))
            sq[step, : step + 1] = np.einsum("klj,klj->kl", g, g)
    if probes is None:
        return Connectivity(values=np.sqrt(sq.sum(axis=-1)), stderr=None, exact=True)
    mean = sq.mean(axis=-1)
    se_sq = sq.std(axis=-1, ddof=1) / np.sqrt(lanes)
    values = np.sqrt(mean)
    with np.errstate(divide="ignore", invalid="ignore"):
        se = np.where(values > 0, se_sq / (2 * values), 0.0)
    return Connectivity(values=values, stderr=se, exact=False)
