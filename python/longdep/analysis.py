"""Decay-curve metrics, memory capacity, mean-field theory and side-by-side comparisons.

A *log curve* here is a 1-D array of natural-log norms ordered by increasing
*distance* in steps: entry ``k`` is ``ln||.||`` at ``distance[k]`` (by default
``distance = 0, 1, 2, ...``). ``ld.grad_norms(..., log=True)`` is indexed by time
``t`` with distance ``T - 1 - t`` from the loss, so pass it reversed (``g[::-1]``);
``ld.sensitivity(..., log=True)`` is already in distance order (distance ``t + 1``).
``compare`` does these conversions for you.

Examples
--------
>>> import numpy as np, longdep as ld
>>> curve = np.log(0.5) * np.arange(100)     # halves every step
>>> round(ld.decay_rate(curve), 9), ld.memory_horizon(curve), ld.regime(curve)
(-0.693147181, 20.0, 'vanishing')
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pandas as pd

from ._validate import as_float_array, choice, require_bool, shape_str
from .core import forward, grad_norms, sensitivity
from .errors import ArgumentError, NumericsError, ShapeError

__all__ = [
    "compare",
    "compare_metrics",
    "curve_metrics",
    "decay_rate",
    "downsample_log",
    "fit_quality",
    "lambda_max_zero_fixed_point",
    "mean_field_chi",
    "memory_capacity",
    "memory_horizon",
    "order_chaos_edge",
    "regime",
    "theory_linear",
]

_QUAD_NODES = 101


# -- curve handling ------------------------------------------------------------------------


def _curve(log_curve: Any, distance: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """(log_curve, distance) as float64 1-D arrays of equal length; NaN rejected."""
    c = as_float_array("log_curve", log_curve, np.float64, ndim=(1,))
    if c.shape[0] == 0:
        raise ShapeError("log_curve must have at least one point; got shape (0,)")
    if np.isnan(c).any():
        raise NumericsError(
            f"log_curve contains NaN at index {int(np.argmax(np.isnan(c)))}; "
            "a log-norm curve may hold -inf (underflow) or +inf (overflow) but not NaN"
        )
    if distance is None:
        d = np.arange(c.shape[0], dtype=np.float64)
    else:
        d = as_float_array("distance", distance, np.float64, ndim=(1,))
        if d.shape != c.shape:
            raise ShapeError(
                f"distance must have the shape of log_curve {shape_str(c.shape)}; "
                f"got {shape_str(d.shape)}"
            )
        if not np.isfinite(d).all():
            raise NumericsError("distance must be finite")
    return c, d


def _slope(d: np.ndarray, c: np.ndarray) -> tuple[float, float]:
    """Least-squares slope and R^2 of c against d (needs >= 2 points)."""
    dm, cm = d.mean(), c.mean()
    dd, dc = d - dm, c - cm
    sdd = float(dd @ dd)
    scc = float(dc @ dc)
    if sdd == 0.0:
        return math.nan, math.nan
    slope = float(dd @ dc) / sdd
    if scc == 0.0:
        return slope, 1.0
    ss_res = float(np.sum((dc - slope * dd) ** 2))
    return slope, max(0.0, 1.0 - ss_res / scc)


def decay_rate(log_curve: Any, *, distance: Any = None) -> float:
    """Slope of ln-norm per step of distance (negative: vanishing, positive: exploding).

    The least-squares slope ``sum (d - d̄)(c - c̄) / sum (d - d̄)^2`` over the finite
    points of the curve (``-inf`` from underflow is left out). For ``g_k = rho^k``
    it is exactly ``ln rho``. NaN when fewer than two points are finite.

    Examples
    --------
    >>> import numpy as np, longdep as ld
    >>> round(ld.decay_rate(np.arange(10) * np.log(0.9)), 9)
    -0.105360516
    """
    c, d = _curve(log_curve, distance)
    ok = np.isfinite(c)
    if ok.sum() < 2:
        return math.nan
    return _slope(d[ok], c[ok])[0]


def memory_horizon(
    log_curve: Any, *, threshold: float = 1e-6, distance: Any = None, sustained: bool = False
) -> float:
    """First distance at which the norm has fallen below ``threshold`` times its start.

    ``min { distance[k] : c_k < c_0 + ln(threshold) }`` with ``c_0`` the first entry
    of the curve (distance 0 for a reversed ``grad_norms`` curve); ``inf`` if the curve
    never drops that far. In steps.

    With ``sustained=True`` it is instead the first distance from which the curve stays
    below for good (``inf`` if its last point is still above). That reading suits
    curves that do not decay but fluctuate around a level, such as attention's, where
    single positions with a tiny attention weight dip below the threshold early.

    Examples
    --------
    >>> import numpy as np, longdep as ld
    >>> ld.memory_horizon(np.arange(50) * np.log(0.5), threshold=1e-3)  # 2^-10 < 1e-3
    10.0
    >>> ld.memory_horizon(np.zeros(5))
    inf
    >>> spiky = np.array([0.0, -20.0, -1.0, -30.0, -40.0])
    >>> ld.memory_horizon(spiky), ld.memory_horizon(spiky, sustained=True)
    (1.0, 3.0)
    """
    sustained = require_bool("sustained", sustained)
    c, d = _curve(log_curve, distance)
    if not (isinstance(threshold, (int, float)) and 0 < threshold and math.isfinite(threshold)):
        raise ArgumentError(f"threshold must be a positive finite number; got {threshold!r}")
    if not np.isfinite(c[0]):
        raise NumericsError(
            f"log_curve must start with a finite value (the reference norm); got {c[0]}"
        )
    below = c < c[0] + math.log(threshold)
    if sustained:
        above = np.flatnonzero(~below)
        last = int(above[-1]) if above.size else -1
        return float(d[last + 1]) if last + 1 < c.shape[0] else math.inf
    hits = np.flatnonzero(below)
    return float(d[hits[0]]) if hits.size else math.inf


def regime(log_curve: Any, *, tol: float = 1e-3, distance: Any = None) -> str:
    """``"vanishing"`` if ``decay_rate < -tol``, ``"exploding"`` if ``> tol``, else ``"stable"``.

    Examples
    --------
    >>> import numpy as np, longdep as ld
    >>> ld.regime(np.arange(10) * 0.01), ld.regime(np.zeros(10))
    ('exploding', 'stable')
    """
    if not (isinstance(tol, (int, float)) and tol >= 0 and math.isfinite(tol)):
        raise ArgumentError(f"tol must be a non-negative finite number; got {tol!r}")
    rate = decay_rate(log_curve, distance=distance)
    if math.isnan(rate) or abs(rate) <= tol:
        return "stable"
    return "vanishing" if rate < 0 else "exploding"


def fit_quality(log_curve: Any, *, distance: Any = None) -> dict[str, Any]:
    """How well an exponential and a power law describe the decay.

    ``exp_r2`` is the R^2 of the line ``c ~ a + b d`` (exponential decay ``e^{b d}``),
    ``power_r2`` that of ``c ~ a + b ln d`` (power law ``d^b``). Both fits use the same
    points: finite entries with ``d >= 1`` (``ln d`` needs ``d > 0``).
    ``better`` names the larger (``"exponential"`` on a tie).

    Examples
    --------
    >>> import numpy as np, longdep as ld
    >>> d = np.arange(1, 1000.0)
    >>> ld.analysis.fit_quality(-2 * np.log(d), distance=d)["better"]
    'power-law'
    >>> ld.analysis.fit_quality(-0.1 * d, distance=d)["better"]
    'exponential'
    """
    c, d = _curve(log_curve, distance)
    ok = np.isfinite(c) & (d >= 1)
    if ok.sum() < 3:
        return {"exp_r2": math.nan, "power_r2": math.nan, "better": "exponential"}
    exp_r2 = _slope(d[ok], c[ok])[1]
    power_r2 = _slope(np.log(d[ok]), c[ok])[1]
    better = "power-law" if power_r2 > exp_r2 else "exponential"
    return {"exp_r2": exp_r2, "power_r2": power_r2, "better": better}


def curve_metrics(
    log_curve: Any, *, distance: Any = None, threshold: float = 1e-6, tol: float = 1e-3
) -> dict[str, Any]:
    """``decay_rate``, ``memory_horizon``, ``regime``, ``exp_r2``, ``power_r2`` of one curve.

    Examples
    --------
    >>> import numpy as np, longdep as ld
    >>> m = ld.curve_metrics(np.arange(100) * np.log(0.5))
    >>> m["memory_horizon"], m["regime"], m["exp_r2"]
    (20.0, 'vanishing', 1.0)
    """
    fit = fit_quality(log_curve, distance=distance)
    return {
        "decay_rate": decay_rate(log_curve, distance=distance),
        "memory_horizon": memory_horizon(log_curve, threshold=threshold, distance=distance),
        "regime": regime(log_curve, tol=tol, distance=distance),
        "exp_r2": fit["exp_r2"],
        "power_r2": fit["power_r2"],
    }


def _log_positions(total: int, n: int) -> np.ndarray:
    """Exactly ``n`` distinct indices: a dense head ``0..k-1`` (where log spacing would
    step by less than one index), then ``n - k`` positions geometric in ``index + 1`` up
    to ``total``; ``k`` is the smallest head that keeps all rounded positions distinct."""
    for k in range(n - 1):
        tail = np.rint(np.geomspace(k + 1, total, n - k)).astype(np.int64) - 1
        if tail[0] >= k and np.all(np.diff(tail) > 0):
            return np.concatenate([np.arange(k, dtype=np.int64), tail])
    return np.rint(np.linspace(0, total - 1, n)).astype(np.int64)  # unreachable for n <= total


def downsample_log(n_points_total: int, values: Any = None, n: int = 300) -> tuple[np.ndarray, Any]:
    """Indices of about ``n`` log-spaced positions in ``[0, n_points_total)`` and ``values[idx]``.

    Positions ``k`` are spaced evenly in ``ln(k + 1)`` (dense near 0, sparse far away),
    so a log-scale chart of a long curve keeps its shape; the first (0) and last
    (``n_points_total - 1``) positions are always kept, indices are unique and sorted.
    With ``n >= n_points_total`` every position is kept. ``values`` (indexed along its
    first axis) may be ``None``.

    Examples
    --------
    >>> import longdep as ld
    >>> idx, _ = ld.analysis.downsample_log(10**6, n=8)
    >>> idx.tolist()
    [0, 6, 51, 372, 2682, 19306, 138949, 999999]
    """
    if isinstance(n_points_total, bool) or not isinstance(n_points_total, (int, np.integer)):
        raise ArgumentError(f"n_points_total must be a positive integer; got {n_points_total!r}")
    total = int(n_points_total)
    if total < 1:
        raise ArgumentError(f"n_points_total must be a positive integer; got {n_points_total!r}")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
        raise ArgumentError(f"n must be an integer >= 2; got {n!r}")
    if total <= n:
        idx = np.arange(total)
    else:
        idx = _log_positions(total, n)
    if values is None:
        return idx, None
    vals = np.asarray(values)
    if vals.ndim == 0 or vals.shape[0] != total:
        raise ShapeError(
            f"values must have length n_points_total = {total} along its first axis; "
            f"got shape {shape_str(vals.shape)}"
        )
    return idx, vals[idx]


# -- theory -------------------------------------------------------------------------------


def theory_linear(rho: float, T: int, v_norm: float = 1.0) -> np.ndarray:
    """Exact ``ln||dL/dh_t||`` of a linear cell with ``W_hh = rho * Q`` (Q orthogonal).

    ``dL/dh_t = (W^T)^{T-1-t} v`` and ``Q`` preserves norms, so
    ``ln||dL/dh_t|| = (T - 1 - t) ln rho + ln||v||`` — indexed by ``t`` like
    ``ld.grad_norms(cell, x, v, log=True)``.

    Examples
    --------
    >>> import longdep as ld
    >>> ld.analysis.theory_linear(0.5, 3, v_norm=4.0).round(6).tolist()
    [0.0, 0.693147, 1.386294]
    """
    if not (isinstance(rho, (int, float, np.floating)) and rho > 0 and math.isfinite(rho)):
        raise ArgumentError(f"rho must be a positive finite number; got {rho!r}")
    if isinstance(T, bool) or not isinstance(T, (int, np.integer)) or T < 1:
        raise ArgumentError(f"T must be a positive integer; got {T!r}")
    if not (isinstance(v_norm, (int, float, np.floating)) and v_norm > 0 and math.isfinite(v_norm)):
        raise ArgumentError(f"v_norm must be a positive finite number; got {v_norm!r}")
    return np.arange(T - 1, -1, -1, dtype=np.float64) * math.log(rho) + math.log(v_norm)


def lambda_max_zero_fixed_point(W_hh: Any) -> float:
    """``ln(max|eig(W_hh)|)``: the top Lyapunov exponent of ``tanh(W h)`` at ``h = 0``.

    At the fixed point ``h = 0`` the Jacobian is ``diag(tanh'(0)) W = W``, so a small
    perturbation grows or shrinks like the spectral radius per step. Accepts a square
    matrix or a cell with a square ``weight_hh`` (an Elman cell).

    Examples
    --------
    >>> import numpy as np, longdep as ld
    >>> round(ld.analysis.lambda_max_zero_fixed_point(0.5 * np.eye(3)), 12)
    -0.69314718056
    """
    w_in = getattr(W_hh, "weight_hh", W_hh)
    w = as_float_array("W_hh", w_in, np.float64, ndim=(2,))
    if w.shape[0] != w.shape[1] or w.shape[0] == 0:
        raise ShapeError(f"W_hh must be a non-empty square matrix (H, H); got {shape_str(w.shape)}")
    if not np.isfinite(w).all():
        raise NumericsError("W_hh must be finite")
    radius = float(np.abs(np.linalg.eigvals(w)).max())
    with np.errstate(divide="ignore"):
        return float(np.log(radius))


@functools.cache
def _gauss() -> tuple[np.ndarray, np.ndarray]:
    z, w = np.polynomial.hermite_e.hermegauss(_QUAD_NODES)
    z.flags.writeable = False
    w = w / math.sqrt(2 * math.pi)  # E_z[f] = sum w f(z) for z ~ N(0, 1)
    w.flags.writeable = False
    return z, w


def _q_star(gain: float, bias_std: float) -> float:
    """Fixed point of ``q = gain^2 E[tanh(sqrt(q) z)^2] + bias_std^2`` (Poole et al. 2016).

    ``h(q) = f(q) - q`` is concave and ``f(q) <= gain^2 + bias_std^2``, so Newton's method
    started at ``q0 = gain^2 + bias_std^2`` (right of the stable root) approaches the
    root monotonically from the right; plain iteration would slow down near the edge.
    """
    if bias_std == 0.0 and gain <= 1.0:
        return 0.0  # tanh^2(x) < x^2 puts the map below q -> gain^2 q <= q: 0 attracts
    z, w = _gauss()
    g2, b2 = gain * gain, bias_std * bias_std
    q = g2 + b2
    for _ in range(500):
        s = math.sqrt(q)
        t = np.tanh(s * z)
        h = g2 * float(w @ t**2) + b2 - q
        if abs(h) <= 1e-15 * max(1.0, q):
            break
        dh = g2 * float(w @ (t * (1.0 - t**2) * z)) / s - 1.0  # f'(q) - 1 < 0 here
        q_new = q - h / dh
        q = q_new if q_new > 0 else 0.5 * q
    return q


def _check_gain(gain: Any, bias_std: Any) -> tuple[float, float]:
    for name, val in (("gain", gain), ("bias_std", bias_std)):
        ok = not isinstance(val, bool) and isinstance(val, (int, float, np.integer, np.floating))
        if not ok or not math.isfinite(float(val)) or float(val) < 0:
            raise ArgumentError(f"{name} must be a non-negative finite number; got {val!r}")
    return float(gain), float(bias_std)


def mean_field_chi(gain: float, bias_std: float = 0.0) -> float:
    """Mean-field gradient gain per layer/step of a wide random tanh network.

    Poole et al. (2016): with ``W_ij ~ N(0, gain^2 / N)`` and biases ``~ N(0, bias_std^2)``
    the pre-activation variance converges to the fixed point ``q*`` of
    ``q = gain^2 E_z[tanh(sqrt(q) z)^2] + bias_std^2`` and a perturbation's squared norm
    is multiplied per step by ``chi = gain^2 E_z[tanh'(sqrt(q*) z)^2]`` (``z ~ N(0, 1)``,
    Gauss-Hermite quadrature with 101 nodes). ``chi < 1``: ordered (vanishing),
    ``chi > 1``: chaotic (exploding); ``chi = 1`` is the edge of chaos, at ``gain = 1``
    when ``bias_std = 0``.

    Examples
    --------
    >>> import longdep as ld
    >>> ld.analysis.mean_field_chi(1.0), round(ld.analysis.mean_field_chi(0.5), 12)
    (1.0, 0.25)
    """
    g, b = _check_gain(gain, bias_std)
    z, w = _gauss()
    q = _q_star(g, b)
    dphi = 1.0 - np.tanh(math.sqrt(q) * z) ** 2
    return g**2 * float(w @ dphi**2)


def order_chaos_edge(bias_std_grid: Any) -> np.ndarray:
    """The gain at which ``mean_field_chi(gain, bias_std) = 1``, for each ``bias_std``.

    Found by bisection (``chi`` increases with the gain); the order-to-chaos boundary of
    Poole et al. (2016), starting at ``gain = 1`` for ``bias_std = 0`` and moving to
    larger gains as the biases grow.

    Examples
    --------
    >>> import longdep as ld
    >>> ld.analysis.order_chaos_edge([0.0]).round(6).tolist()
    [1.0]
    """
    grid = as_float_array("bias_std_grid", bias_std_grid, np.float64, ndim=(0, 1))
    flat = np.atleast_1d(grid)
    res = np.empty_like(flat)
    for j, b in enumerate(flat):
        _check_gain(1.0, float(b))
        lo, hi = 0.0, 2.0
        while mean_field_chi(hi, b) < 1.0:
            lo, hi = hi, 2 * hi
            if hi > 1e6:
                raise NumericsError(f"no edge of chaos below gain 1e6 for bias_std = {b}")
        for _ in range(60):
            mid = 0.5 * (lo + hi)
            if mean_field_chi(mid, b) < 1.0:
                lo = mid
            else:
                hi = mid
        res[j] = 0.5 * (lo + hi)
    return res.reshape(grid.shape)


# -- memory capacity ------------------------------------------------------------------------


def memory_capacity(
    cell: Any,
    *,
    max_delay: int,
    T: int = 5000,
    washout: int = 500,
    ridge: float = 1e-6,
    seed: int = 0,
) -> tuple[np.ndarray, float]:
    """Jaeger's short-term memory capacity ``MC = sum_k MC_k`` of a cell with scalar input.

    The cell is driven by i.i.d. ``u_t ~ U[-1, 1]`` (input size must be 1) and its
    hidden outputs ``h_t`` are collected with ``ld.forward`` (for an LSTM that is ``h``,
    not ``c``: the readout sees the output). After discarding the first
    ``max(washout, max_delay)`` steps, the remaining steps are split in two halves in
    time: a ridge readout ``u_{t-k} ~ w_k . h_t + c_k`` is fitted on the first half
    (``(H^T H + ridge * n * I) w = H^T u`` on centred data) and scored on the held-out
    second half, ``MC_k = corr(w_k . h_t, u_{t-k})^2``, for ``k = 1 .. max_delay``.
    Held-out scoring keeps the estimate from counting overfitting as memory.

    Theory (Jaeger 2002): a linear network of N units with spectral radius < 1 and a
    full-rank Krylov matrix has ``sum_{k>=0} MC_k = N`` exactly. Delay 0 (the current
    input, which ``h_t`` also holds) is not counted here, so such a network gives
    ``N - MC_0``, typically about ``N - 0.9`` for an orthogonal one; a finite sample
    lowers it a little further.

    Returns
    -------
    (ndarray, float)
        ``MC_k`` for ``k = 1 .. max_delay`` and their sum.

    Examples
    --------
    >>> import longdep as ld
    >>> cell = ld.init.elman(20, init="orthogonal", rho=0.95, nonlinearity="linear")
    >>> per_delay, total = ld.memory_capacity(cell, max_delay=100)
    >>> per_delay.shape, 18.0 < total < 20.0
    ((100,), True)
    """
    if getattr(cell, "input_size", None) != 1:
        raise ArgumentError(
            "memory_capacity drives the cell with one scalar input per step, so the cell "
            f"must have input size 1; got input size {getattr(cell, 'input_size', None)!r}"
        )
    for name, val, low in (("max_delay", max_delay, 1), ("T", T, 2), ("washout", washout, 0)):
        if isinstance(val, bool) or not isinstance(val, (int, np.integer)) or val < low:
            raise ArgumentError(f"{name} must be an integer >= {low}; got {val!r}")
    if not (isinstance(ridge, (int, float)) and ridge >= 0 and math.isfinite(ridge)):
        raise ArgumentError(f"ridge must be a non-negative finite number; got {ridge!r}")
    start = max(int(washout), int(max_delay))
    n = T - start
    if n < 20:
        raise ArgumentError(
            f"T = {T} leaves {n} steps after the washout/max_delay of {start}; "
            "need at least 20 (use a larger T)"
        )
    rng = np.random.default_rng(seed)
    u = rng.uniform(-1.0, 1.0, size=T)
    h = np.asarray(forward(cell, u[:, None]), dtype=np.float64)
    if not np.isfinite(h).all():
        raise NumericsError("the cell's states overflowed while driven by U[-1, 1] input")
    states = h[start:]
    delays = np.arange(1, max_delay + 1)
    targets = np.stack([u[start - k : T - k] for k in delays], axis=1)  # (n, K)
    half = n // 2
    xs_tr, xs_te = states[:half], states[half:]
    y_tr, y_te = targets[:half], targets[half:]
    mx, my = xs_tr.mean(axis=0), y_tr.mean(axis=0)
    a = xs_tr - mx
    gram = a.T @ a
    gram[np.diag_indices_from(gram)] += ridge * half
    w = np.linalg.lstsq(gram, a.T @ (y_tr - my), rcond=None)[0]
    pred = (xs_te - mx) @ w + my
    pc = pred - pred.mean(axis=0)
    yc = y_te - y_te.mean(axis=0)
    denom = np.sqrt((pc**2).sum(axis=0) * (yc**2).sum(axis=0))
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = np.where(denom > 0, (pc * yc).sum(axis=0) / denom, 0.0)
    per_delay = corr**2
    return per_delay, float(per_delay.sum())


# -- side by side ---------------------------------------------------------------------------


def _per_cell(value: Any, name: str) -> Any:
    if isinstance(value, Mapping):
        return value.get(name)
    return value


def compare(
    cells: Mapping[str, Any],
    x: Any,
    *,
    v: Any = None,
    u: Any = None,
    quantity: str = "grad_norms",
    wrt: str = "state",
    h0: Any = None,
    n_points: int = 300,
    threads: int | None = None,
) -> pd.DataFrame:
    """Decay curves of several cells on the same input, as one tidy DataFrame.

    For each named cell computes ``ld.grad_norms(cell, x, v, h0, wrt=wrt, log=True)``
    (distance ``T - 1 - t`` from the loss) or ``ld.sensitivity(cell, x, u, h0,
    log=True)`` (distance ``t + 1`` steps since the perturbation), computes
    ``curve_metrics`` on the full curve and keeps about ``n_points`` log-spaced
    distances (first and last always kept) for plotting.

    Parameters
    ----------
    cells
        ``{name: cell}``; the names become the ``name`` column, in this order.
    x
        One sequence ``(T, I)`` (or ``(T, 1, I)``) shared by all cells.
    v, u
        Loss weights / perturbation direction: one array for every cell or a dict by
        name; default ``ones / sqrt(n)`` with ``n = hidden_size`` (v) or ``state_size`` (u).
    h0
        Initial state for every cell, or a dict by name (default zeros).
    threads
        Cells computed at once (default: one per core); the Rust core releases the
        GIL, so independent cells run in parallel.

    Returns
    -------
    DataFrame
        Columns ``name`` (str), ``distance`` (int, steps), ``log_norm`` (float, natural
        log), sorted by name order then distance; ``df.attrs["metrics"]`` maps each
        name to its ``curve_metrics``; ``attrs`` also records ``quantity``, ``wrt``, ``T``.

    Examples
    --------
    >>> import numpy as np, longdep as ld
    >>> cells = {"rho=0.5": ld.init.elman(8, init="orthogonal", rho=0.5, nonlinearity="linear")}
    >>> df = ld.compare(cells, np.zeros((100, 1)), n_points=5)
    >>> df.distance.tolist(), df.log_norm.round(4).tolist()[1:3]
    ([0, 2, 9, 31, 99], [-1.3863, -6.2383])
    >>> ld.compare_metrics(df).memory_horizon.tolist()
    [20.0]
    """
    if not isinstance(cells, Mapping) or len(cells) == 0:
        raise ArgumentError(
            f"cells must be a non-empty dict {{name: cell}}; got {type(cells).__name__}"
            + (" (empty)" if isinstance(cells, Mapping) else "")
        )
    quantity = choice("quantity", quantity, ("grad_norms", "sensitivity"))
    xa = np.asarray(x)
    if xa.ndim == 3:
        if xa.shape[1] != 1:
            raise ShapeError(
                f"x must be one sequence (T, I) or (T, 1, I) for compare; got {shape_str(xa.shape)} "
                "(pass x[:, b] for batch element b)"
            )
        xa = xa[:, 0, :]
    elif xa.ndim != 2:
        raise ShapeError(f"x must have shape (T, I) or (T, 1, I); got {shape_str(xa.shape)}")
    t_len = xa.shape[0]

    def one(name: str, cell: Any) -> tuple[pd.DataFrame, dict[str, Any]]:
        hh = _per_cell(h0, name)
        if quantity == "grad_norms":
            vec = _per_cell(v, name)
            if vec is None:
                vec = np.full(cell.hidden_size, 1.0 / math.sqrt(cell.hidden_size))
            g = grad_norms(cell, xa, vec, hh, wrt=wrt, log=True, threads=per_job)
            curve = np.ascontiguousarray(g[::-1])
            dist = np.arange(t_len)
        else:
            vec = _per_cell(u, name)
            if vec is None:
                vec = np.full(cell.state_size, 1.0 / math.sqrt(cell.state_size))
            curve = np.asarray(sensitivity(cell, xa, vec, hh, log=True, threads=per_job))
            dist = np.arange(1, t_len + 1)
        idx, vals = downsample_log(t_len, curve, n_points)
        frame = pd.DataFrame(
            {"name": name, "distance": dist[idx].astype(np.int64), "log_norm": vals}
        )
        return frame, curve_metrics(curve, distance=dist)

    # Independent cells run concurrently: the Rust core releases the GIL.
    workers = min(len(cells), threads if threads is not None else (os.cpu_count() or 1))
    if isinstance(workers, bool) or workers < 1:
        raise ArgumentError(f"threads must be a positive integer or None; got {threads!r}")
    items = [(str(name), cell) for name, cell in cells.items()]
    # Cells in parallel get one thread each; a single job may use every core.
    per_job = threads if workers == 1 else 1
    if workers == 1:
        results = [one(n, c) for n, c in items]
    else:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            results = list(pool.map(lambda item: one(*item), items))
    frames = [r[0] for r in results]
    metrics = {name: r[1] for (name, _), r in zip(items, results, strict=True)}
    df = pd.concat(frames, ignore_index=True)
    df.attrs["metrics"] = metrics
    df.attrs["quantity"] = quantity
    df.attrs["wrt"] = wrt if quantity == "grad_norms" else None
    df.attrs["T"] = t_len
    return df


_METRIC_COLUMNS = ["decay_rate", "memory_horizon", "regime", "exp_r2", "power_r2"]


def compare_metrics(df: pd.DataFrame) -> pd.DataFrame:
    """One row per cell: ``name, decay_rate, memory_horizon, regime, exp_r2, power_r2``.

    Taken from ``df.attrs["metrics"]`` (computed by ``compare`` on the full curves);
    for a frame without them (e.g. read back from Parquet) the metrics are computed from
    the rows themselves (the downsampled curve, so the horizon is only as fine as the
    sampled distances).

    Examples
    --------
    See ``compare``.
    """
    if not isinstance(df, pd.DataFrame):
        raise ArgumentError(f"df must be a DataFrame from ld.compare; got {type(df).__name__}")
    missing = {"name", "distance", "log_norm"} - set(df.columns)
    if missing:
        raise ArgumentError(
            f"df must have columns name, distance, log_norm (from ld.compare); missing {sorted(missing)}"
        )
    names = list(dict.fromkeys(df["name"].astype(str)))
    stored = df.attrs.get("metrics") or {}
    rows = []
    for name in names:
        m = stored.get(name)
        if m is None:
            part = df[df["name"].astype(str) == name].sort_values("distance")
            m = curve_metrics(part["log_norm"].to_numpy(), distance=part["distance"].to_numpy())
        rows.append({"name": name, **{k: m[k] for k in _METRIC_COLUMNS}})
    return pd.DataFrame(rows, columns=["name", *_METRIC_COLUMNS])
