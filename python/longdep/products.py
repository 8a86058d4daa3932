"""The BPTT Jacobian products as arrays: :func:`vjp` returns the adjoints ``dL/ds_t``,
``dL/dx_t``, the total ``dL/dc_t`` of an LSTM and ``dL/ds_init`` themselves, for a loss
on the last output or at every step; ``at=`` keeps chosen steps only and ``out=`` may be
an ``np.memmap``, so that long sequences stream to disk.

>>> import numpy as np, longdep as ld
>>> cell = ld.Elman(np.ones((1, 1)), 0.5 * np.eye(1), nonlinearity="linear")
>>> r = ld.vjp(cell, np.zeros((3, 1)), np.ones(1))
>>> r.h[:, 0].round(12).tolist(), r.h0.round(12).tolist()
([0.25, 0.5, 1.0], [0.125])
"""

from __future__ import annotations

import operator
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from . import _core
from ._validate import as_float_array, require_bool, shape_str
from .cells import RecurrentCell
from .core import (
    DEFAULT_MEMORY_BUDGET,
    _check_cell,
    _initial_state,
    _memory_budget,
    _prepare_x,
    _rows,
    _threads,
)
from .errors import ArgumentError, ShapeError

if TYPE_CHECKING:
    from .stack import Stack, StackJVP, StackVJP

__all__ = ["JVP", "VJP", "jvp", "loss_weights", "vjp"]


@dataclass(frozen=True)
class VJP:
    """What :func:`vjp` returns; ``rows`` is ``T``, or ``len(at)``, and the batch axis
    is absent for 2-D ``x``."""

    #: ``dL/ds_t``, the adjoint of the whole state ``(rows, B, S)`` (LSTM: ``h`` then ``c``,
    #: the ``c`` part the derivative with ``h_t`` held fixed).
    state: np.ndarray
    #: ``dL/dh_t``, the total derivative ``(rows, B, H)``: ``state[..., :H]`` (a view); the
    #: selective SSM's whole state ``(rows, B, D, N)``.
    h: np.ndarray
    #: LSTM only: the total ``dL/dc_t`` ``(rows, B, H)`` (through ``c_{t+1}`` and through
    #: ``h_t = o_t tanh(c_t)``, as torch's ``c_t.grad``); None for other cells.
    cell: np.ndarray | None
    #: ``dL/dx_t`` ``(rows, B, I)``, or None with ``inputs=False``.
    x: np.ndarray | None
    #: ``dL/ds_init`` ``(B, S)`` (a tuple of parts for cells whose ``h0`` is a tuple).
    h0: Any
    #: The steps of the rows.
    steps: np.ndarray


def loss_weights(
    cell: RecurrentCell, v: Any, t: int, b: int, dtype: np.dtype, two_d: bool
) -> tuple[np.ndarray, bool]:
    """``v`` as the core takes it and whether it is a loss at every step: ``(O,)`` or
    ``(B, O)`` on the last output, ``(T, O)`` / ``(T, B, O)`` at every step."""
    o = cell.hidden_size
    arr = as_float_array("v", v, dtype)
    every = arr.ndim == (2 if two_d else 3)
    if not every:
        return _rows("v", arr, b, o, dtype, two_d, "loss weights on the last output"), False
    want = (t, 1, o) if two_d else (t, b, o)
    got = arr.reshape(t, 1, o) if two_d and arr.shape == (t, o) else arr
    if got.shape != want:
        shape = f"({t}, {o})" if two_d else f"({t}, {b}, {o})"
        raise ShapeError(
            f"v must have shape {shape} for a loss at every step (or ({o},) on the last "
            f"output); got {shape_str(arr.shape)}"
        )
    return np.ascontiguousarray(got), True


def _steps(at: Any, t: int) -> list[int] | None:
    if at is None:
        return None
    try:
        items = [operator.index(s) for s in np.asarray(at).ravel().tolist()]
    except TypeError:
        raise ArgumentError(f"at must be a list of integer steps; got {at!r}") from None
    if not items:
        raise ArgumentError("at must name at least one step; got an empty list")
    bad = [s for s in items if not 0 <= s < t]
    if bad:
        raise ArgumentError(f"at must hold steps in 0..{t - 1} (T = {t}); got {bad[0]}")
    out = sorted(set(items))
    if len(out) != len(items):
        raise ArgumentError("at must not repeat a step")
    return out


def _target(name: str, given: Any, shape: tuple[int, ...], two_d: bool) -> np.ndarray:
    """An output array: ``given`` (an ndarray or np.memmap of the result's shape, float64,
    C-contiguous, writeable) viewed with a batch axis, or a new zero array."""
    if given is None:
        return np.zeros(shape)
    user = (shape[0], *shape[2:]) if two_d else shape
    if not isinstance(given, np.ndarray) or given.dtype != np.float64 or given.shape != user:
        got = (
            type(given).__name__
            if not isinstance(given, np.ndarray)
            else f"{given.dtype} array of shape {shape_str(given.shape)}"
        )
        raise ShapeError(f"{name} must be a float64 array of shape {shape_str(user)}; got {got}")
    if not given.flags.c_contiguous or not given.flags.writeable:
        raise ShapeError(f"{name} must be a writeable C-contiguous array (an np.memmap is fine)")
    return given.reshape(shape)


def vjp(
    model: RecurrentCell | Stack,
    x: Any,
    v: Any,
    h0: Any = None,
    *,
    at: Sequence[int] | None = None,
    out: np.ndarray | Mapping[str, np.ndarray] | None = None,
    inputs: bool = True,
    memory_budget: int = DEFAULT_MEMORY_BUDGET,
    threads: int | None = None,
) -> VJP | StackVJP:
    """The exact BPTT adjoints of ``L = v . y_{T-1}`` or ``L = sum_t v_t . y_t``.

    Parameters
    ----------
    model
        A recurrent cell (``ld.Elman``, ``ld.LSTM``, ... , ``ld.SelectiveSSM``), or an
        ``ld.Stack`` (then a :class:`longdep.StackVJP` with one array per layer; ``out``
        a dict ``{"x": array, "state": [one per layer]}``).
    x
        ``(T, B, I)`` or ``(T, I)``.
    v
        ``(B, O)`` / ``(O,)``: weights on the last output; ``(T, B, O)`` / ``(T, O)``:
        weights at every step. ``O`` is the output size (``hidden_size``).
    at
        Keep only these steps (rows in increasing order): memory ``O(len(at) B S)``.
    out
        Where ``.state`` is written: a float64 array or ``np.memmap`` of its shape, or a
        dict with any of ``"state"``, ``"x"``, ``"cell"``. Values are written as the
        reverse pass goes, so a memmap holds each step once it is computed.
    inputs
        Compute ``.x`` (``dL/dx_t``); False leaves it None and saves its memory.
    memory_budget, threads
        As for :func:`longdep.grad_norms` (the reverse pass checkpoints within the budget;
        the batch elements run one after another).

    Returns
    -------
    VJP
        ``.state``, ``.h``, ``.cell`` (LSTM), ``.x``, ``.h0``, ``.steps``. Values are
        float64; an adjoint that has vanished below the float64 range is 0 (use
        ``grad_norms(..., log=True)`` for its size), one beyond it is an error.

    Examples
    --------
    >>> import numpy as np, longdep as ld
    >>> cell = ld.Elman(np.ones((1, 1)), 0.5 * np.eye(1), nonlinearity="linear")
    >>> # a loss at every step: dL/dh_t = sum_{k >= t} 0.5^(k - t)
    >>> ld.vjp(cell, np.zeros((3, 1)), np.ones((3, 1))).h[:, 0].round(12).tolist()
    [1.75, 1.5, 1.0]
    """
    from .stack import Stack

    if isinstance(model, Stack):  # Stack.vjp checks its own out= (a dict per layer)
        return model.vjp(
            x, v, h0, at=at, out=out, inputs=inputs, memory_budget=memory_budget, threads=threads
        )
    cell = _check_cell(model)
    inputs = require_bool("inputs", inputs)
    memory_budget = _memory_budget(memory_budget)
    arr, dtype, two_d = _prepare_x(cell, x)
    t, b, i = arr.shape
    s0 = _initial_state(cell, h0, b, dtype, two_d)
    vv, every = loss_weights(cell, v, t, b, dtype, two_d)
    steps = _steps(at, t)
    rows = t if steps is None else len(steps)
    outs: dict[str, Any] = {}
    if isinstance(out, Mapping):
        unknown = set(out) - {"state", "x", "cell"}
        if unknown:
            raise ArgumentError(f"out may have keys 'state', 'x', 'cell'; got {sorted(unknown)}")
        outs = dict(out)
    elif out is not None:
        outs = {"state": out}
    s = cell.state_size
    name = "out['state']" if isinstance(out, Mapping) else "out"
    state = _target(name, outs.get("state"), (rows, b, s), two_d)
    xs = _target("out['x']", outs.get("x"), (rows, b, i), two_d) if inputs else None
    memory = None
    if cell.memory_cell:
        memory = _target("out['cell']", outs.get("cell"), (rows, b, cell.hidden_size), two_d)
    elif "cell" in outs:
        raise ArgumentError(f"out['cell'] needs an LSTM; {type(cell).__name__} has no memory cell")
    initial = np.zeros((b, s))
    _core.adjoints(
        cell.spec(dtype),
        arr,
        s0,
        vv,
        every,
        steps,
        memory_budget,
        _threads(threads),
        state,
        initial,
        xs,
        memory,
    )
    shape = cell.state_shape
    if len(cell.state_parts) == 1 and len(shape) > 1:
        h = state.reshape(rows, b, *shape)
    else:
        h = state[..., : cell.hidden_size]
    parts = cell.state_parts
    if len(parts) > 1:
        size = s // len(parts)
        h0_out: Any = tuple(initial[:, k * size : (k + 1) * size] for k in range(len(parts)))
    else:
        h0_out = initial.reshape(b, *shape) if len(shape) > 1 else initial

    def lanes(a: np.ndarray | None) -> np.ndarray | None:
        return a[:, 0] if a is not None and two_d else a

    if two_d:
        h0_out = tuple(p[0] for p in h0_out) if isinstance(h0_out, tuple) else h0_out[0]
    return VJP(
        state=lanes(state),  # type: ignore[arg-type]
        h=lanes(h),  # type: ignore[arg-type]
        cell=lanes(memory),
        x=lanes(xs),
        h0=h0_out,
        steps=np.arange(t) if steps is None else np.asarray(steps),
    )


@dataclass(frozen=True)
class JVP:
    """What :func:`jvp` returns; ``rows`` is ``T`` or ``len(at)``, the batch axis absent
    for 2-D ``x``."""

    #: ``(d s_t / d s_init) u``, the tangent of the whole state ``(rows, B, S)``.
    state: np.ndarray
    #: Its output part ``(rows, B, H)`` (a view; the SSM's whole ``(rows, B, D, N)``).
    h: np.ndarray
    #: The steps of the rows.
    steps: np.ndarray


def jvp(
    model: RecurrentCell | Stack,
    x: Any,
    u: Any,
    h0: Any = None,
    *,
    dx: Any = None,
    at: Sequence[int] | None = None,
    out: np.ndarray | None = None,
) -> JVP | StackJVP:
    """The forward-mode tangents ``u_t = (d s_t / d s_init) u`` themselves, exactly (the
    norms are :func:`longdep.sensitivity`).

    ``u`` is ``(S,)`` or ``(B, S)``, a perturbation of the initial state (LSTM: ``(h, c)``
    concatenated; ``None`` or zeros for none). ``dx``, with the shape of ``x``, adds a
    tangent of the inputs: ``u_t = (d s_t / d s_init) u + sum_{k <= t} (d s_t / d x_k) dx_k``.
    ``at=`` keeps chosen steps; ``out=`` may be a float64 array or ``np.memmap``
    ``(rows, B, S)`` written as the pass goes (memory O(S) per lane beyond it). Float64
    values: 0 where a tangent has vanished below float64, an error where one grows
    beyond it.

    >>> import numpy as np, longdep as ld
    >>> cell = ld.Elman(np.ones((1, 1)), 0.5 * np.eye(1), nonlinearity="linear")
    >>> ld.jvp(cell, np.zeros((3, 1)), np.ones(1)).h[:, 0].round(12).tolist()
    [0.5, 0.25, 0.125]

    For an ``ld.Stack`` it is :meth:`longdep.Stack.jvp` (a :class:`longdep.StackJVP`
    with one array per layer; ``u`` one perturbation per layer; ``out`` not taken).
    """
    from .stack import Stack

    if isinstance(model, Stack):
        if out is not None:
            raise ArgumentError(
                "out is not taken for a Stack (Stack.jvp returns one array per layer)"
            )
        return model.jvp(x, u, h0, dx=dx, at=at)
    cell = _check_cell(model)
    arr, dtype, two_d = _prepare_x(cell, x)
    t, b, _ = arr.shape
    s0 = _initial_state(cell, h0, b, dtype, two_d)
    s = cell.state_size
    if u is None:
        u = np.zeros((b, s) if not two_d else s, dtype)
    uu = _rows("u", u, b, s, dtype, two_d, "initial-state perturbation")
    if dx is None:
        dxx = np.empty(0, dtype)
    else:
        dxx = as_float_array("dx", dx, dtype=dtype)
        if dxx.shape != np.shape(x):
            raise ShapeError(
                f"dx must have the shape of x {shape_str(np.shape(x))}; got {shape_str(dxx.shape)}"
            )
        dxx = np.ascontiguousarray(dxx.reshape(arr.shape))
    steps = _steps(at, t)
    rows = t if steps is None else len(steps)
    state = _target("out", out, (rows, b, s), two_d)
    _core.tangents(cell.spec(dtype), arr, s0, uu, dxx, steps, state)
    shape = cell.state_shape
    if len(cell.state_parts) == 1 and len(shape) > 1:
        h = state.reshape(rows, b, *shape)
    else:
        h = state[..., : cell.hidden_size]
    return JVP(
        state=state[:, 0] if two_d else state,
        h=h[:, 0] if two_d else h,
        steps=np.arange(t) if steps is None else np.asarray(steps),
    )
