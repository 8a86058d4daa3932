"""Initialisation helpers: the remedies that act through the starting weights.

Every helper is deterministic in ``seed`` (``numpy.random.default_rng(seed)``).
Recurrent weights and input weights come from separate child streams of that
generator, so two cells built with the same ``seed`` but a different recurrent
``init`` share their input weights and differ only in the recurrence.

- ``orthogonal``: a Haar-random orthogonal matrix (all eigenvalues on the unit circle).
- ``scale_to_spectral_radius``: rescale a square matrix to a given eigenvalue modulus.
- ``elman``: vanilla RNN with ``"normal"`` (``W_hh ~ N(0, gain^2/H)``), ``"orthogonal"`` or
  ``"identity"`` (IRNN, Le et al. 2015) recurrent weights, optionally rescaled to a
  spectral radius ``rho``.
- ``lstm``: forget-gate bias or chrono initialisation (Tallec & Ollivier 2018).
- ``gru``: chrono initialisation of the update (keep) gate.
- ``attention``: one causal self-attention head (the Transformer reference).
- ``lru``: the LRU's ring initialisation (Orvieto et al. 2023), same as ``ld.LRU.random``.

Input weights are ``W_ih ~ N(0, input_scale^2 / I)`` throughout.

Examples
--------
>>> import numpy as np, longdep as ld
>>> cell = ld.init.elman(64, init="orthogonal", rho=0.9, seed=1)
>>> round(float(np.abs(np.linalg.eigvals(cell.weight_hh)).max()), 12)
0.9
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._validate import as_float_array, choice, require_bool, require_finite, shape_str
from .attention import Attention
from .cells import GRU, LRU, LSTM, Elman
from .errors import ArgumentError, ShapeError

__all__ = [
    "attention",
    "elman",
    "gru",
    "lru",
    "lstm",
    "orthogonal",
    "scale_to_spectral_radius",
]


def _size(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ArgumentError(f"{name} must be a positive integer; got {value!r}")
    return int(value)


def _number(name: str, value: Any, *, positive: bool = False) -> float:
    """A finite float that is >= 0 (or > 0 with ``positive``)."""
    ok = not isinstance(value, bool) and isinstance(value, (int, float, np.integer, np.floating))
    if ok:
        f = float(value)
        ok = bool(np.isfinite(f)) and (f > 0 if positive else f >= 0)
    if not ok:
        what = "a positive" if positive else "a non-negative"
        raise ArgumentError(f"{name} must be {what} finite number; got {value!r}")
    return float(value)


def _seed(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ArgumentError(f"seed must be a non-negative integer; got {value!r}")
    return int(value)


def _streams(seed: Any, n: int) -> list[np.random.Generator]:
    """``n`` independent generators derived from ``default_rng(seed)``."""
    return list(np.random.default_rng(_seed(seed)).spawn(n))


def _haar(rng: np.random.Generator, n: int) -> np.ndarray:
    """Haar-distributed orthogonal matrix: QR of a Gaussian, signs fixed (Mezzadri 2007)."""
    q, r = np.linalg.qr(rng.normal(size=(n, n)))
    d = np.sign(np.diag(r))
    d[d == 0] = 1.0
    return q * d


def _input_weights(rng: np.random.Generator, rows: int, inputs: int, scale: float) -> np.ndarray:
    return rng.normal(scale=scale / np.sqrt(inputs), size=(rows, inputs))


def orthogonal(n: int, *, seed: int = 0) -> np.ndarray:
    """A random orthogonal ``(n, n)`` matrix drawn from the Haar measure.

    ``Q = QR(G).Q * sign(diag(R))`` for Gaussian ``G``; ``Q^T Q = I`` and every eigenvalue
    has modulus 1, so a linear recurrence ``h_t = Q h_{t-1}`` preserves norms exactly.

    Examples
    --------
    >>> import numpy as np, longdep as ld
    >>> q = ld.init.orthogonal(5, seed=3)
    >>> np.allclose(q.T @ q, np.eye(5)), np.allclose(np.abs(np.linalg.eigvals(q)), 1)
    (True, True)
    """
    return _haar(np.random.default_rng(_seed(seed)), _size("n", n))


def scale_to_spectral_radius(W: Any, rho: float) -> np.ndarray:
    """``W * rho / max|eig(W)|``: the same matrix rescaled to spectral radius ``rho``.

    The spectral radius is the largest eigenvalue modulus (``numpy.linalg.eigvals``),
    which sets the asymptotic growth rate ``ln rho`` of a linear recurrence.

    Examples
    --------
    >>> import numpy as np, longdep as ld
    >>> W = ld.init.scale_to_spectral_radius([[0.0, 2.0], [2.0, 0.0]], 0.5)
    >>> W.round(12).tolist()
    [[0.0, 0.5], [0.5, 0.0]]
    """
    w = as_float_array("W", W, np.float64, ndim=(2,))
    if w.shape[0] != w.shape[1] or w.shape[0] == 0:
        raise ShapeError(f"W must be a non-empty square matrix (n, n); got {shape_str(w.shape)}")
    require_finite("W", w)
    rho = _number("rho", rho)
    radius = float(np.abs(np.linalg.eigvals(w)).max())
    if radius == 0.0:
        raise ArgumentError(
            "W has spectral radius 0 (nilpotent or zero), so no rescaling reaches "
            f"rho = {rho}; use a matrix with a non-zero eigenvalue"
        )
    return w * (rho / radius)


def elman(
    H: int,
    I: int = 1,
    *,
    init: str = "normal",
    rho: float | None = None,
    gain: float = 1.0,
    nonlinearity: str = "tanh",
    input_scale: float = 1.0,
    residual: float | None = None,
    layer_norm: bool = False,
    seed: int = 0,
) -> Elman:
    """A vanilla RNN ``h_t = phi(W_ih x_t + W_hh h_{t-1})`` with a chosen recurrent init.

    Parameters
    ----------
    H, I
        Hidden and input size.
    init
        ``"normal"``: ``W_hh ~ N(0, gain^2 / H)`` (spectral radius about ``gain``);
        ``"orthogonal"``: ``gain * Q`` with Haar-random orthogonal ``Q``;
        ``"identity"``: ``gain * I``, the IRNN of Le et al. (2015). The nonlinearity is not
        changed by ``init``: for the IRNN of the paper pass ``nonlinearity="relu"``.
    rho
        If given, ``W_hh`` is rescaled to spectral radius ``rho`` afterwards (so ``rho``
        overrides ``gain``); identity becomes ``rho * I``.
    input_scale
        ``W_ih ~ N(0, input_scale^2 / I)``. Biases are zero.
    residual, layer_norm, nonlinearity
        Passed to ``ld.Elman``.
    seed
        Deterministic: the same arguments give the same cell.

    Examples
    --------
    >>> import numpy as np, longdep as ld
    >>> cell = ld.init.elman(3, init="identity", rho=0.5, nonlinearity="relu")
    >>> cell.weight_hh.diagonal().tolist(), cell.nonlinearity
    ([0.5, 0.5, 0.5], 'relu')
    """
    H, I = _size("H", H), _size("I", I)
    init = choice("init", init, ("normal", "orthogonal", "identity"))
    layer_norm = require_bool("layer_norm", layer_norm)
    gain = _number("gain", gain)
    input_scale = _number("input_scale", input_scale)
    rec, inp = _streams(seed, 2)
    if init == "normal":
        w_hh = rec.normal(scale=gain / np.sqrt(H), size=(H, H))
    elif init == "orthogonal":
        w_hh = gain * _haar(rec, H)
    else:
        w_hh = gain * np.eye(H)
    if rho is not None:
        w_hh = scale_to_spectral_radius(w_hh, rho)
    w_ih = _input_weights(inp, H, I, input_scale)
    return Elman(
        w_ih,
        w_hh,
        np.zeros(H),
        np.zeros(H),
        nonlinearity,
        residual=residual,
        layer_norm=layer_norm,
    )


def _chrono_bias(rng: np.random.Generator, H: int, t_max: Any) -> np.ndarray:
    """``log(U[1, T_max - 1])`` per unit: characteristic memory times spread up to T_max."""
    t = _number("chrono", t_max, positive=True)
    if t < 2:
        raise ArgumentError(
            f"chrono must be the longest expected dependency T_max >= 2 (steps); got {t_max!r}"
        )
    return np.log(rng.uniform(1.0, t - 1.0, size=H))


def lstm(
    H: int,
    I: int = 1,
    *,
    forget_bias: float = 1.0,
    chrono: float | None = None,
    gain: float = 1.0,
    input_scale: float = 1.0,
    seed: int = 0,
) -> LSTM:
    """An LSTM (torch layout, gates i, f, g, o) with forget-gate bias or chrono init.

    ``W_hh ~ N(0, gain^2 / H)`` (shape ``(4H, H)``), ``W_ih ~ N(0, input_scale^2 / I)``.
    Biases live in ``bias_ih``; ``bias_hh`` is zero.

    - Default: forget-gate rows ``[H:2H]`` of ``bias_ih`` are ``forget_bias`` (1.0, the
      classic remedy of Gers et al. 2000 / Jozefowicz et al. 2015), the rest zero.
    - ``chrono=T_max`` (Tallec & Ollivier 2018): ``b_f ~ log(U[1, T_max - 1])`` and
      ``b_i = -b_f``; a unit with ``b_f = log(T - 1)`` forgets on a time scale of about
      ``T`` steps, so memory times are spread over ``[2, T_max]``. ``forget_bias`` is
      then ignored.

    Examples
    --------
    >>> import numpy as np, longdep as ld
    >>> cell = ld.init.lstm(8, chrono=1000, seed=0)
    >>> b_i, b_f = cell.bias_ih[:8], cell.bias_ih[8:16]
    >>> bool(np.all((b_f >= 0) & (b_f <= np.log(999)))), bool(np.allclose(b_i, -b_f))
    (True, True)
    """
    H, I = _size("H", H), _size("I", I)
    gain = _number("gain", gain)
    input_scale = _number("input_scale", input_scale)
    if isinstance(forget_bias, bool) or not np.isfinite(forget_bias):
        raise ArgumentError(f"forget_bias must be a finite number; got {forget_bias!r}")
    rec, inp, bias = _streams(seed, 3)
    w_hh = rec.normal(scale=gain / np.sqrt(H), size=(4 * H, H))
    w_ih = _input_weights(inp, 4 * H, I, input_scale)
    b = np.zeros(4 * H)
    if chrono is None:
        b[H : 2 * H] = float(forget_bias)
    else:
        b_f = _chrono_bias(bias, H, chrono)
        b[H : 2 * H] = b_f
        b[:H] = -b_f
    return LSTM(w_ih, w_hh, b, np.zeros(4 * H))


def gru(
    H: int,
    I: int = 1,
    *,
    chrono: float | None = None,
    gain: float = 1.0,
    input_scale: float = 1.0,
    seed: int = 0,
) -> GRU:
    """A GRU (torch layout, gates r, z, n), optionally with chrono init of the keep gate.

    torch's GRU updates ``h' = (1 - z) * n + z * h``, so ``z`` is the *keep* gate (the
    analogue of the LSTM forget gate). ``chrono=T_max`` sets the z rows ``[H:2H]`` of
    ``bias_ih`` to ``b_z ~ log(U[1, T_max - 1])`` (Tallec & Ollivier 2018), leaving the
    reset-gate bias ``b_r`` and the candidate bias ``b_n`` at 0 (a reset gate near 1/2
    at the start; chrono theory constrains only the update gate). Without ``chrono`` all
    biases are zero. ``W_hh ~ N(0, gain^2 / H)``, ``W_ih ~ N(0, input_scale^2 / I)``.

    Examples
    --------
    >>> import numpy as np, longdep as ld
    >>> cell = ld.init.gru(8, chrono=100, seed=0)
    >>> bool(np.all(cell.bias_ih[:8] == 0)), bool(np.all(cell.bias_ih[8:16] > 0))
    (True, True)
    """
    H, I = _size("H", H), _size("I", I)
    gain = _number("gain", gain)
    input_scale = _number("input_scale", input_scale)
    rec, inp, bias = _streams(seed, 3)
    w_hh = rec.normal(scale=gain / np.sqrt(H), size=(3 * H, H))
    w_ih = _input_weights(inp, 3 * H, I, input_scale)
    b = np.zeros(3 * H)
    if chrono is not None:
        b[H : 2 * H] = _chrono_bias(bias, H, chrono)
    return GRU(w_ih, w_hh, b, np.zeros(3 * H))


def attention(
    d: int,
    I: int = 1,
    *,
    seed: int = 0,
    scale: float = 1.0,
    residual: bool = False,
    layer_norm: bool = False,
    causal: bool = True,
) -> Attention:
    """One self-attention head with ``W_q, W_k, W_v ~ N(0, scale^2 / I)``, shape ``(d, I)``.

    Without ``residual`` there is no output projection (``W_o = None``, output size
    ``d``). With ``residual=True`` an output projection ``W_o ~ N(0, scale^2 / d)`` of
    shape ``(I, d)`` maps back to the input size, as the residual ``y + x`` needs.

    Examples
    --------
    >>> import longdep as ld
    >>> ld.init.attention(16, 2, residual=True, layer_norm=True)
    Attention(input_size=2, head_size=16, output_size=2, residual=True, layer_norm=True, causal=True)
    """
    d, I = _size("d", d), _size("I", I)
    scale = _number("scale", scale)
    residual = require_bool("residual", residual)
    layer_norm = require_bool("layer_norm", layer_norm)
    causal = require_bool("causal", causal)
    q, k, v, o = _streams(seed, 4)
    w_q = _input_weights(q, d, I, scale)
    w_k = _input_weights(k, d, I, scale)
    w_v = _input_weights(v, d, I, scale)
    w_o = _input_weights(o, I, d, scale) if residual else None
    return Attention(w_q, w_k, w_v, w_o, residual=residual, layer_norm=layer_norm, causal=causal)


def lru(
    H: int,
    I: int = 1,
    *,
    r_min: float = 0.9,
    r_max: float = 0.999,
    max_phase: float = 6.283,
    out: None = None,
    seed: int = 0,
) -> LRU:
    """An LRU with ``|lambda|`` uniform on the ring ``[r_min, r_max]`` (``ld.LRU.random``).

    ``H`` complex units (real hidden size ``2H``), phases uniform in ``[0, max_phase]``,
    ``B ~ CN(0, 1/I)`` and the paper's ``gamma = sqrt(1 - |lambda|^2)`` normalisation.
    ``out`` is reserved for an output projection, which ``ld.LRU`` does not have; it
    must be ``None``.

    Examples
    --------
    >>> import numpy as np, longdep as ld
    >>> cell = ld.init.lru(4, r_min=0.99, r_max=0.99)
    >>> bool(np.allclose(np.abs(cell.eigenvalues), 0.99)), cell.hidden_size
    (True, 8)
    """
    if out is not None:
        raise ArgumentError(
            f"out must be None: ld.LRU has no output projection (its output is [Re h, Im h]); got {out!r}"
        )
    return LRU.random(
        _size("H", H),
        _size("I", I),
        r_min=r_min,
        r_max=r_max,
        max_phase=max_phase,
        seed=_seed(seed),
    )
