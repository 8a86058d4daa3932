"""Forward passes, BPTT gradient norms and forward sensitivities (NumPy in, NumPy out)."""

from __future__ import annotations

import os
import threading
from typing import Any, Protocol, TypeGuard, runtime_checkable

import numpy as np

from . import _core
from ._validate import as_float_array, choice, compute_dtype, require_bool, shape_str
from .cells import RecurrentCell
from .errors import ArgumentError, DTypeError, ShapeError

__all__ = [
    "DEFAULT_MEMORY_BUDGET",
    "forward",
    "grad_norms",
    "jacobian_norms",
    "lyapunov_spectrum",
    "sensitivity",
]

#: Bytes the reverse pass may spend on stored states before it switches to checkpointing.
DEFAULT_MEMORY_BUDGET: int = _core.DEFAULT_MEMORY_BUDGET


@runtime_checkable
class PythonModel(Protocol):
    """A model whose quantities are computed in Python, not by the Rust core (the
    self-attention reference): it provides ``forward``, ``grad_norms`` and
    ``sensitivity`` itself, with the signatures of the functions here, which call them.
    It has no recurrent state, so no Lyapunov spectrum or step Jacobian."""

    def forward(self, x: Any, h0: Any = None, *, threads: int | None = None) -> np.ndarray: ...

    def grad_norms(self, x: Any, v: Any, h0: Any = None, **kwargs: Any) -> np.ndarray: ...

    def sensitivity(self, x: Any, u: Any, h0: Any = None, **kwargs: Any) -> np.ndarray: ...


def _python_impl(cell: Any) -> TypeGuard[PythonModel]:
    return not isinstance(cell, RecurrentCell) and isinstance(cell, PythonModel)


def _check_cell(cell: Any) -> RecurrentCell:
    if not isinstance(cell, RecurrentCell):
        raise DTypeError(
            f"cell must be a longdep recurrent cell (ld.Elman, ld.LSTM, ld.GRU, ld.LRU); "
            f"got {type(cell).__name__}"
        )
    return cell


def _prepare_x(cell: RecurrentCell, x: Any) -> tuple[np.ndarray, np.dtype, bool]:
    """x as a contiguous (T, B, I) array of the computation dtype; whether it was 2-D."""
    dtype = compute_dtype("x", x)
    arr = as_float_array("x", x, dtype, ndim=(2, 3))
    two_d = arr.ndim == 2
    if two_d:
        arr = arr[:, None, :]
    t, b, i = arr.shape
    expect = "(T, I)" if two_d else "(T, B, I)"
    if i != cell.input_size:
        want = f"(T, {cell.input_size})" if two_d else f"(T, B, {cell.input_size})"
        got = shape_str(arr.shape[::2] if two_d else arr.shape)
        raise ShapeError(
            f"x must have shape {want} to match the input size I = {cell.input_size} of "
            f"{type(cell).__name__}; got {got}"
        )
    if t == 0:
        raise ShapeError(
            f"x must have at least one time step (T >= 1) in shape {expect}; got T = 0"
        )
    if b == 0:
        raise ShapeError("x must have at least one batch element (B >= 1); got B = 0")
    return arr, dtype, two_d


def _rows(
    name: str, a: Any, batch: int, dim: int, dtype: np.dtype, two_d: bool, what: str
) -> np.ndarray:
    """(B, dim) from `a` of shape (dim,) (broadcast over the batch) or (B, dim)."""
    arr = as_float_array(name, a, dtype)
    if arr.shape == (dim,):
        return np.ascontiguousarray(np.broadcast_to(arr, (batch, dim)))
    if not two_d and arr.shape == (batch, dim):
        return arr
    want = f"({dim},)" if two_d else f"({batch}, {dim}) or ({dim},)"
    raise ShapeError(f"{name} must have shape {want} ({what}); got {shape_str(arr.shape)}")


def _initial_state(
    cell: RecurrentCell, h0: Any, batch: int, dtype: np.dtype, two_d: bool
) -> np.ndarray:
    """The flat initial state (B, S): zeros, or `h0` as the cell declares its parts
    (``state_parts``: one array for most cells, a tuple ``(h0, c0)`` for the LSTM,
    ``(h0, c0, n0, m0)`` for the sLSTM; each part of shape ``state_shape`` per sequence,
    ``(D, N)`` for the selective SSM)."""
    parts = cell.state_parts
    if h0 is None:
        return np.zeros((batch, cell.state_size), dtype=dtype)
    name = type(cell).__name__
    if len(parts) == 1:
        if isinstance(h0, tuple):
            raise ArgumentError(
                f"h0 must be an array of shape (B, {', '.join(map(str, cell.state_shape))}) for "
                f"{name}; got a tuple (only cells whose state has several parts, e.g. an LSTM, "
                "take a tuple)"
            )
        return _part("h0", cell, h0, batch, dtype, two_d, "initial state")
    want = "(" + ", ".join(f"{p}0" for p in parts) + ")"
    if not isinstance(h0, tuple) or len(h0) != len(parts):
        raise ArgumentError(
            f"h0 must be a tuple {want} for {name}; got {type(h0).__name__}"
            + (f" of length {len(h0)}" if isinstance(h0, tuple) else "")
        )
    rows = [
        _part(f"h0[{k}]", cell, a, batch, dtype, two_d, f"initial {p}")
        for k, (p, a) in enumerate(zip(parts, h0, strict=True))
    ]
    return np.ascontiguousarray(np.concatenate(rows, axis=1))


def _part(
    name: str, cell: RecurrentCell, a: Any, batch: int, dtype: np.dtype, two_d: bool, what: str
) -> np.ndarray:
    """One part of the state as (B, size): from ``state_shape`` or ``(B, *state_shape)``."""
    shape = cell.state_shape
    if len(shape) == 1:
        return _rows(name, a, batch, shape[0], dtype, two_d, what)
    arr = as_float_array(name, a, dtype)
    size = int(np.prod(shape))
    if arr.shape == shape:
        return np.ascontiguousarray(np.broadcast_to(arr.reshape(1, size), (batch, size)))
    if not two_d and arr.shape == (batch, *shape):
        return np.ascontiguousarray(arr.reshape(batch, size))
    dims = ", ".join(map(str, shape))
    want = f"({dims})" if two_d else f"({batch}, {dims}) or ({dims})"
    raise ShapeError(f"{name} must have shape {want} ({what}); got {shape_str(arr.shape)}")


#: Largest thread count accepted (far above any useful value on one machine).
MAX_THREADS: int = _core.MAX_THREADS


def _threads(threads: int | None) -> int | None:
    if threads is None:
        env = os.environ.get("LONGDEP_NUM_THREADS", "").strip()
        if env:
            if not env.isdigit() or not 1 <= int(env) <= MAX_THREADS:
                raise ArgumentError(
                    f"LONGDEP_NUM_THREADS must be an integer between 1 and {MAX_THREADS}; got {env!r}"
                )
            return int(env)
        return None
    if (
        isinstance(threads, bool)
        or not isinstance(threads, (int, np.integer))
        or not 1 <= int(threads) <= MAX_THREADS
    ):
        raise ArgumentError(
            f"threads must be an integer between 1 and {MAX_THREADS}, or None; got {threads!r}"
        )
    return int(threads)


def _memory_budget(memory_budget: Any) -> int:
    """A positive byte count (capped far beyond any machine: no limit)."""
    if (
        isinstance(memory_budget, bool)
        or not isinstance(memory_budget, (int, np.integer))
        or memory_budget < 1
    ):
        raise ArgumentError(
            f"memory_budget must be a positive number of bytes; got {memory_budget!r}"
        )
    return min(int(memory_budget), 2**62)


def _lane_scale(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Seed vectors ``a`` (``(B, n)`` or ``(T, B, n)``) divided, lane by lane, by their
    largest magnitude, and the natural logs of those factors ``(B,)`` (0 for a zero
    lane): the core then never squares a value near the float range, and the log-norms
    add the scale back exactly."""
    axes = (1,) if a.ndim == 2 else (0, 2)
    if not np.isfinite(a).all():  # left for the core to refuse, naming the entry
        return a, np.zeros(a.shape[1] if a.ndim == 3 else a.shape[0])
    peak = np.abs(a).max(axis=axes)
    peak = np.where(peak > 0, peak, 1.0).astype(np.float64)
    shape = (-1, 1) if a.ndim == 2 else (1, -1, 1)
    scaled = np.ascontiguousarray(a / peak.reshape(shape).astype(a.dtype))
    return scaled, np.log(peak)


def _exp_inplace(a: np.ndarray) -> None:
    """exp of log-norms; values beyond the float range honestly become inf or 0."""
    with np.errstate(over="ignore", under="ignore"):
        np.exp(a, out=a)


def _prepare_out(out: Any, t: int, b: int, two_d: bool) -> np.ndarray | None:
    if out is None:
        return None
    want = (t,) if two_d else (t, b)
    if not isinstance(out, np.ndarray) or out.dtype != np.float64 or out.shape != want:
        got = (
            f"{type(out).__name__}"
            if not isinstance(out, np.ndarray)
            else f"{out.dtype} array of shape {shape_str(out.shape)}"
        )
        raise ShapeError(f"out must be a float64 array of shape {shape_str(want)}; got {got}")
    if not out.flags.c_contiguous or not out.flags.writeable:
        raise ShapeError("out must be a writeable C-contiguous array")
    return out.reshape(t, b)


def forward(
    cell: RecurrentCell,
    x: Any,
    h0: Any = None,
    *,
    threads: int | None = None,
    return_state: bool = False,
) -> np.ndarray:
    """Hidden outputs of `cell` over the sequence `x`.

    Parameters
    ----------
    cell
        ``ld.Elman``, ``ld.LSTM`` or ``ld.GRU``.
    x
        ``(T, B, I)`` or ``(T, I)``; float32 input computes in float32, everything
        else in float64.
    h0
        Initial state, zeros by default; ``(B, H)`` / ``(H,)``, for an LSTM a tuple
        ``(h0, c0)``.
    threads
        Rust threads (default: ``LONGDEP_NUM_THREADS`` or every core): batch elements
        in parallel, or one long sequence split by hidden unit (see ``grad_norms``).
    return_state
        Return the full state ``s_t`` instead of ``h_t``: ``(T, B, S)`` with
        ``S = 2H`` for an LSTM (``h`` then ``c``), equal to ``h_t`` for the other
        one-part cells; ``(T, B, D, N)`` for the selective SSM.

    Returns
    -------
    ndarray
        ``(T, B, H)`` (or ``(T, H)``), entry ``t`` is the output ``h_t`` (the selective
        SSM's ``y_t``, ``H = D``); dtype follows ``x``.

    Examples
    --------
    >>> import numpy as np, longdep as ld
    >>> cell = ld.Elman(np.ones((1, 1)), np.eye(1), nonlinearity="linear")
    >>> ld.forward(cell, np.ones((4, 1))).ravel().tolist()
    [1.0, 2.0, 3.0, 4.0]
    """
    return_state = require_bool("return_state", return_state)
    if _python_impl(cell):
        if return_state:
            raise ArgumentError(
                f"return_state needs a recurrent cell; {type(cell).__name__} has no state"
            )
        return cell.forward(x, h0, threads=threads)
    cell = _check_cell(cell)
    arr, dtype, two_d = _prepare_x(cell, x)
    s0 = _initial_state(cell, h0, arr.shape[1], dtype, two_d)
    h = _core.forward(cell.spec(dtype), arr, s0, _threads(threads), return_state)
    if return_state and len(cell.state_parts) == 1 and len(cell.state_shape) > 1:
        h = h.reshape(*h.shape[:2], *cell.state_shape)  # the SSM: (T, B, D, N)
    return h[:, 0] if two_d else h


def grad_norms(
    cell: RecurrentCell,
    x: Any,
    v: Any,
    h0: Any = None,
    *,
    wrt: str = "state",
    log: bool = False,
    memory_budget: int = DEFAULT_MEMORY_BUDGET,
    threads: int | None = None,
    out: np.ndarray | None = None,
    deterministic: bool = False,
) -> np.ndarray:
    """Per-step gradient norms of ``L = sum_b v_b . h_{T-1,b}`` (or, with ``v`` at every
    step, ``L = sum_t sum_b v_{t,b} . h_{t,b}``) by exact BPTT.

    Parameters
    ----------
    v
        ``(B, H)`` or ``(H,)``: the loss weights on the last output; ``(T, B, H)`` or
        ``(T, H)``: a loss at every step (computed on one thread per sequence).
    wrt
        ``"state"``: ``||dL/dh_t||`` (total derivative through the recurrence; for an
        LSTM through both the h and the c path); ``"input"``: ``||dL/dx_t||``;
        ``"cell"`` (LSTM only): ``||dL/dc_t||``, the total derivative through
        ``c_{t+1}`` and through ``h_t = o_t tanh(c_t)`` (torch's ``c_t.grad`` after
        ``retain_grad()``; nonzero at ``t = T-1``). Computed on one thread per sequence.
    log
        Return natural logs, computed in the log domain (finite far below 1e-308).
    memory_budget
        Bytes the stored per-step records may take (512 MiB by default); beyond it the
        reverse pass checkpoints every ~sqrt(T) steps and recomputes.
    threads
        Rust threads (default: ``LONGDEP_NUM_THREADS`` or every core). Batch elements
        run in parallel; a single sequence (B = 1, T >= 1024; Elman without residual or
        layer norm, LSTM or GRU with at least 64 rows of ``weight_hh`` per thread;
        ``wrt`` state or cell) is split by hidden unit over the threads, which meet at
        a barrier every step. By default the split uses only
        cores no other task is running on; an explicit count is obeyed. Pass
        ``threads=1`` when you run several calls side by side.
    out
        Optional float64 array of the result's shape to write into.
    deterministic
        ``True``: never split one sequence over threads, so that every call returns the
        same bits whatever else runs (batch elements still run in parallel, each in a
        fixed order; this equals ``threads=1``). The split adds the partial products of
        the reverse pass in another order, and runs only when cores are idle, so by
        default two calls may differ by rounding, of the size of the rounding error
        either result carries anyway: it accumulates over the steps from ``t`` to
        ``T-1``, at most about ``10 (T-1-t) eps`` relative (``eps`` the dtype's machine
        epsilon; measured at T = 1e5 for Elman/LSTM/GRU with H = 64..128: 2.6e-10 in
        float64, 2.5e-2 in float32; see ``tests/test_deterministic.py``).

    Returns
    -------
    ndarray
        float64 ``(T, B)`` (``(T,)`` for 2-D x); entry ``T-1`` of ``"state"`` is ``||v_b||``.

    Examples
    --------
    >>> import numpy as np, longdep as ld
    >>> cell = ld.Elman(np.ones((2, 1)), 0.5 * np.eye(2), nonlinearity="linear")
    >>> ld.grad_norms(cell, np.zeros((3, 1)), np.array([3.0, 4.0])).round(12).tolist()
    [1.25, 2.5, 5.0]
    """
    if _python_impl(cell):
        return cell.grad_norms(
            x, v, h0, wrt=wrt, log=log, threads=threads, out=out, memory_budget=memory_budget
        )
    cell = _check_cell(cell)
    wrt = choice("wrt", wrt, ("state", "input", "cell"))
    if wrt == "cell" and not cell.memory_cell:
        raise ArgumentError(
            f"wrt='cell' needs an LSTM (the only cell with a memory cell c); got {type(cell).__name__}"
        )
    memory_budget = _memory_budget(memory_budget)
    log = require_bool("log", log)
    split = not require_bool("deterministic", deterministic)
    arr, dtype, two_d = _prepare_x(cell, x)
    t, b, _ = arr.shape
    s0 = _initial_state(cell, h0, b, dtype, two_d)
    from .products import loss_weights

    vv, every = loss_weights(cell, v, t, b, dtype, two_d)
    vv, ln_peak = _lane_scale(vv)
    dst = _prepare_out(out, t, b, two_d)
    n_threads = _threads(threads)
    if every:
        res = _core.grad_norms_every(cell.spec(dtype), arr, s0, vv, wrt, int(memory_budget), dst)
    else:
        res = _core.grad_norms(
            cell.spec(dtype), arr, s0, vv, wrt, int(memory_budget), n_threads, dst, split
        )
    res += ln_peak  # L is linear in v: the norms scale with it
    if not log:
        _exp_inplace(res)
    if out is not None:
        return out
    return res[:, 0] if two_d else res


def sensitivity(
    cell: RecurrentCell,
    x: Any,
    u: Any,
    h0: Any = None,
    *,
    log: bool = False,
    part: str = "state",
    threads: int | None = None,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """How much of an initial-state perturbation ``u`` survives each step (forward mode).

    Entry ``t`` is ``||(d s_t / d s_init) u||`` where ``s_init`` is the initial state
    (before step 0) and ``s_t`` the state after step ``t``; for an LSTM the state is
    ``(h, c)`` concatenated and ``u`` has length 2H (``part="hidden"`` reports only the
    h part). Streaming: memory does not grow with T.

    Examples
    --------
    >>> import numpy as np, longdep as ld
    >>> cell = ld.Elman(np.ones((2, 1)), 0.5 * np.eye(2), nonlinearity="linear")
    >>> ld.sensitivity(cell, np.zeros((3, 1)), np.array([3.0, 4.0])).round(12).tolist()
    [2.5, 1.25, 0.625]
    """
    if _python_impl(cell):
        return cell.sensitivity(x, u, h0, log=log, part=part, threads=threads, out=out)
    cell = _check_cell(cell)
    log = require_bool("log", log)
    part = choice("part", part, ("state", "hidden"))
    arr, dtype, two_d = _prepare_x(cell, x)
    t, b, _ = arr.shape
    s0 = _initial_state(cell, h0, b, dtype, two_d)
    uu = _rows("u", u, b, cell.state_size, dtype, two_d, "initial-state perturbation")
    uu, ln_peak = _lane_scale(uu)
    dst = _prepare_out(out, t, b, two_d)
    res = _core.sensitivity(cell.spec(dtype), arr, s0, uu, part, _threads(threads), dst)
    res += ln_peak  # the tangents are linear in u
    if not log:
        _exp_inplace(res)
    if out is not None:
        return out
    return res[:, 0] if two_d else res


def _positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ArgumentError(f"{name} must be a positive integer; got {value!r}")
    return int(value)


def lyapunov_spectrum(
    cell: RecurrentCell,
    x: Any,
    k: int,
    h0: Any = None,
    *,
    warmup: int = 0,
    return_local: bool = False,
    threads: int | None = None,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """The ``k`` largest Lyapunov exponents (nats per step) of the driven network.

    The tangent frame ``Q_0`` (first ``k`` identity columns) is pushed through each
    step Jacobian and re-orthonormalised by QR, ``J_t Q_{t-1} = Q_t R_t``; the
    exponents are the means of ``ln |R_t,ii|`` over the steps ``t >= warmup``. For an
    LSTM the state is ``(h, c)``. A recurrence with invariant coordinate planes (the
    LRU's diagonal one) keeps the identity frame inside the first ``k`` coordinates,
    so there the values are those of the units the frame starts in, not the sorted top ``k``.

    Returns
    -------
    ndarray
        ``(k,)`` for 2-D ``x``, ``(B, k)`` for 3-D; with ``return_local=True`` also the
        per-step values ``(T, k)`` / ``(T, B, k)``.

    Examples
    --------
    >>> import numpy as np, longdep as ld
    >>> q = np.linalg.qr(np.random.default_rng(0).normal(size=(4, 4)))[0]
    >>> cell = ld.Elman(np.ones((4, 1)), 0.5 * q, nonlinearity="linear")
    >>> np.allclose(ld.lyapunov_spectrum(cell, np.zeros((50, 1)), 2), np.log(0.5))
    True
    """
    return_local = require_bool("return_local", return_local)
    if _python_impl(cell):
        raise ArgumentError(
            f"{type(cell).__name__} has no recurrent state, so no Lyapunov spectrum"
        )
    cell = _check_cell(cell)
    k = _positive_int("k", k)
    if k > cell.state_size:
        raise ArgumentError(f"k must be at most the state size {cell.state_size}; got {k}")
    if isinstance(warmup, bool) or not isinstance(warmup, (int, np.integer)) or warmup < 0:
        raise ArgumentError(f"warmup must be a non-negative integer; got {warmup!r}")
    arr, dtype, two_d = _prepare_x(cell, x)
    if warmup >= arr.shape[0]:
        raise ArgumentError(f"warmup must be smaller than T = {arr.shape[0]}; got {warmup}")
    s0 = _initial_state(cell, h0, arr.shape[1], dtype, two_d)
    res = _core.lyapunov_spectrum(
        cell.spec(dtype), arr, s0, k, int(warmup), return_local, _threads(threads)
    )
    if return_local:
        mean, local = res
        return (mean[0], local[:, 0, :]) if two_d else (mean, local)
    return res[0] if two_d else res


def jacobian_norms(
    cell: RecurrentCell,
    x: Any,
    h0: Any = None,
    *,
    every: int = 1,
    threads: int | None = None,
) -> np.ndarray:
    """Spectral norm ``||d s_t / d s_{t-1}||_2`` of the step Jacobian at steps 0, every, ...

    Returns ``(ceil(T / every),)`` for 2-D ``x``, ``(ceil(T / every), B)`` for 3-D.
    Each evaluated step builds the dense ``S x S`` Jacobian (S forward-mode products),
    so use ``every`` for long sequences.

    Examples
    --------
    >>> import numpy as np, longdep as ld
    >>> cell = ld.Elman(np.ones((3, 1)), 0.7 * np.eye(3), nonlinearity="linear")
    >>> ld.jacobian_norms(cell, np.zeros((4, 1)), every=2).round(12).tolist()
    [0.7, 0.7]
    """
    if _python_impl(cell):
        raise ArgumentError(f"{type(cell).__name__} has no recurrent state, so no step Jacobian")
    cell = _check_cell(cell)
    every = _positive_int("every", every)
    arr, dtype, two_d = _prepare_x(cell, x)
    s0 = _initial_state(cell, h0, arr.shape[1], dtype, two_d)
    res = _core.jacobian_norms(cell.spec(dtype), arr, s0, every, _threads(threads))
    return res[:, 0] if two_d else res


def cancel(thread: threading.Thread | int | None = None) -> int:
    """Stop running longdep calls: those made from ``thread`` (a ``threading.Thread``
    or its ``ident``), or every running call. Returns how many were asked to stop.

    Each stops at its next check (a block of steps, or every kept step of
    ``jacobian_norms``) and raises ``LongdepError('cancelled')`` in the thread
    that made it. Ctrl-C during a call on the main thread cancels every running call;
    when the main thread is elsewhere (e.g. in ``Thread.join``), call ``cancel()`` from
    its ``KeyboardInterrupt`` handler. A server stops a finished session's work with
    ``cancel(session_thread)``.
    """
    if thread is None:
        return int(_core.cancel(None))
    if isinstance(thread, threading.Thread):
        ident = thread.ident
        if ident is None:  # not started: nothing of it runs
            return 0
    elif isinstance(thread, int) and not isinstance(thread, bool) and thread >= 0:
        ident = thread
    else:
        raise ArgumentError(
            "thread must be None, a threading.Thread or a thread ident (int >= 0); "
            f"got {type(thread).__name__}"
        )
    return int(_core.cancel(ident))
