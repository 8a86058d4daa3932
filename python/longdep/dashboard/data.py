"""Cached computations behind the dashboard pages.

Every public function takes scalar parameters only (so ``st.cache_data`` hashes a few
numbers, never a large array) and returns small results: curves are downsampled to about
300 log-spaced distances before they leave this module. Curves follow the library's
layout: a frame with ``name``, ``distance`` (steps from the loss) and ``log_norm``
(natural log of the norm).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

import longdep as ld
from longdep import tasks, training, trainlab

from . import uploads

__all__ = [
    "CELL_KINDS",
    "CLIP_PRESET",
    "HORIZON_THRESHOLD",
    "N_POINTS",
    "PRETRAIN_PRESET",
    "REMEDIES",
    "T_CHOICES",
    "clipping",
    "clipping_run",
    "decay",
    "final_loss",
    "gru_gate",
    "inputs",
    "lab_run",
    "landscape",
    "lyapunov",
    "make_cell",
    "pretrain_run",
    "remedies",
    "telephone",
    "train_dir",
    "train_stamp",
    "upload_curve",
]

#: Points per curve sent to the browser.
N_POINTS = 300
#: Memory horizon: distance where the norm falls below this fraction of its start.
HORIZON_THRESHOLD = 1e-6
#: Sequence lengths offered by the T slider (log-spaced, up to 10^6).
T_CHOICES = (
    100, 200, 500, 1_000, 2_000, 5_000, 10_000, 20_000, 50_000,
    100_000, 200_000, 500_000, 1_000_000,
)  # fmt: skip
#: The cell kinds of the decay page: the classic ones, then the catalogue's 2023–2025 kinds.
CELL_KINDS = ("elman", "lstm", "gru", "lru", *ld.kinds.modern())
#: The classic remedies compared on page 3, in legend order.
CLASSIC_REMEDIES = (
    "vanilla",
    "residual",
    "layer_norm",
    "orthogonal",
    "identity",
    "lstm",
    "lstm_chrono",
    "gru",
    "lru",
    "attention",
)
#: The 2023–2025 remedies: every kind of that era in the cell catalogue (longdep.kinds).
MODERN_REMEDIES = tuple(ld.kinds.modern())
#: Everything page 3 compares, in legend order.
REMEDIES = CLASSIC_REMEDIES + MODERN_REMEDIES
_CACHE: dict[str, Any] = {"max_entries": 64, "show_spinner": False}
#: ``_progress(fraction)`` of a long computation (see ``longdep.dashboard.progress``).
Progress = Callable[[float], None]


def inputs(T: int, seed: int, *, float64: bool = True) -> np.ndarray:
    """The driving sequence ``x`` of shape ``(T, 1)``: i.i.d. N(0, 1), seeded."""
    x = np.random.default_rng([seed, 7919]).normal(size=(T, 1))
    return x if float64 else x.astype(np.float32)


def make_cell(
    kind: str,
    H: int,
    *,
    nonlinearity: str = "tanh",
    init: str = "normal",
    radius: float = 1.0,
    input_scale: float = 1.0,
    seed: int = 0,
) -> ld.RecurrentCell:
    """A random cell of the given kind. ``radius`` is the Elman spectral radius, the
    LSTM/GRU recurrent gain, or the LRU's largest eigenvalue modulus."""
    if kind == "elman":
        return ld.init.elman(
            H, init=init, rho=radius, nonlinearity=nonlinearity,
            input_scale=input_scale, seed=seed,
        )  # fmt: skip
    if kind == "lstm":
        return ld.init.lstm(H, gain=radius, input_scale=input_scale, seed=seed)
    if kind == "gru":
        return ld.init.gru(H, gain=radius, input_scale=input_scale, seed=seed)
    if kind == "lru":
        r_max = min(radius, 0.999999)
        return ld.init.lru(max(1, H // 2), r_min=0.9 * r_max, r_max=r_max, seed=seed)
    cls = ld.kinds.modern().get(kind)
    if cls is not None:  # its paper's initialisation; no radius control
        return cls.random(H, H if cls.input_is_hidden else 1, input_scale=input_scale, seed=seed)
    raise ValueError(f"kind must be one of {CELL_KINDS}; got {kind!r}")


def _by_distance(cell: Any, x: np.ndarray) -> np.ndarray:
    """ln ||dL/dh_t|| indexed by distance ``T-1-t`` from the loss, for a unit-norm ``v``."""
    H = cell.hidden_size
    v = np.full(H, 1.0 / math.sqrt(H))
    return ld.grad_norms(cell, x, v, log=True)[::-1].copy()


def _downsample(log_curve: np.ndarray, name: str) -> pd.DataFrame:
    idx, vals = ld.analysis.downsample_log(len(log_curve), log_curve, N_POINTS)
    return pd.DataFrame({"name": name, "distance": idx, "log_norm": vals})


def _metrics(log_curve: np.ndarray) -> dict[str, Any]:
    m = ld.analysis.curve_metrics(log_curve)
    return {k: m[k] for k in ("decay_rate", "memory_horizon", "regime")}


# -- page 1: the telephone game ---------------------------------------------------------

TELEPHONE_MAX = 60
_TELEPHONE_H = 32


@st.cache_data(**_CACHE)
def telephone(seed: int = 0) -> pd.DataFrame:
    """Fraction of the first person's message (a unit perturbation of the initial state)
    still present after each of ``TELEPHONE_MAX`` people, for a vanilla RNN, an LSTM and
    attention. Columns ``person`` (1..), ``model`` (key), ``fraction``."""
    x = inputs(TELEPHONE_MAX, seed)
    rng = np.random.default_rng([seed, 17])
    rows = []
    cells = {
        "rnn": ld.init.elman(_TELEPHONE_H, rho=1.0, input_scale=1.0, seed=seed),
        "lstm": ld.init.lstm(_TELEPHONE_H, chrono=2 * TELEPHONE_MAX, seed=seed),
    }
    for key, cell in cells.items():
        u = rng.normal(size=cell.state_size)
        u /= np.linalg.norm(u)
        s = np.exp(ld.sensitivity(cell, x, u, log=True))
        rows.append(pd.DataFrame({"person": np.arange(1, len(s) + 1), "model": key, "fraction": s}))
    # Attention reads the first message directly at every position: nothing is lost.
    rows.append(
        pd.DataFrame(
            {"person": np.arange(1, TELEPHONE_MAX + 1), "model": "attention", "fraction": 1.0}
        )
    )
    return pd.concat(rows, ignore_index=True)


# -- page 2: decay curves ---------------------------------------------------------------


@st.cache_data(**_CACHE)
def decay(
    kind: str,
    nonlinearity: str,
    init: str,
    H: int,
    T: int,
    radius: float,
    input_scale: float,
    seed: int,
    float64: bool,
) -> dict[str, Any]:
    """One decay curve with its metrics and theory overlay.

    Returns ``curve`` (frame), ``theory`` (frame or None), ``theory_kind``
    (``"exact"``, ``"linearised"`` or None), ``metrics`` (dict), ``seconds`` and
    ``error`` (the library's message when the forward pass left the float range).
    """
    cell = make_cell(
        kind, H, nonlinearity=nonlinearity, init=init, radius=radius,
        input_scale=input_scale, seed=seed,
    )  # fmt: skip
    x = _fit_input(inputs(T, seed, float64=float64), cell, seed)
    t0 = time.perf_counter()
    try:
        g = _by_distance(cell, x)
    except ld.NumericsError as exc:
        return {"error": str(exc), "curve": None, "theory": None, "theory_kind": None}
    seconds = time.perf_counter() - t0
    curve = _downsample(g, "measured")
    theory, theory_kind = None, None
    d = curve["distance"].to_numpy()
    if kind == "elman" and nonlinearity in ("linear", "tanh"):
        # ln rho: the Jacobian at the fixed point h = 0 is W_hh (tanh'(0) = 1; exact if linear)
        rho = math.exp(ld.analysis.lambda_max_zero_fixed_point(cell.weight_hh))
        if rho > 0:
            full = ld.analysis.theory_linear(rho, T, 1.0)
            theory = pd.DataFrame({"name": "theory", "distance": d, "log_norm": full[T - 1 - d]})
            theory_kind = "exact" if nonlinearity == "linear" else "linearised"
    elif isinstance(cell, ld.LRU):
        # Each complex unit turns and shrinks by |lambda_i| per step, exactly:
        # ||dL/dh_{T-1-k}||^2 = sum_i |lambda_i|^(2k) (v_re,i^2 + v_im,i^2), with v_i^2 = 1/H.
        log_mod = np.log(np.abs(cell.eigenvalues))
        w = np.log(2.0 / cell.hidden_size)
        lg = np.logaddexp.reduce(2 * d[:, None] * log_mod[None, :] + w, axis=1) / 2
        theory = pd.DataFrame({"name": "theory", "distance": d, "log_norm": lg})
        theory_kind = "exact"
    if theory is not None:
        theory["name"] = "theory"
    return {
        "curve": curve,
        "theory": theory,
        "theory_kind": theory_kind,
        "metrics": _metrics(g),
        "seconds": seconds,
        "error": None,
    }


# -- page 3: remedies -------------------------------------------------------------------


def remedy_cell(
    name: str, H: int, T: int, input_scale: float, seed: int, *, gru_chrono: bool = False
) -> Any:
    """The cell of one remedy of ``REMEDIES``. ``gru_chrono`` gives the GRU chrono init of
    its update gate (``ld.init.gru(chrono=T)``: ``b_z ~ log U(1, T - 1)``, z near 1)."""
    s = input_scale
    build: dict[str, Callable[[], Any]] = {
        "vanilla": lambda: ld.init.elman(H, input_scale=s, seed=seed),
        "residual": lambda: ld.init.elman(H, residual=0.5, input_scale=s, seed=seed),
        "layer_norm": lambda: ld.init.elman(H, layer_norm=True, input_scale=s, seed=seed),
        "orthogonal": lambda: ld.init.elman(H, init="orthogonal", input_scale=s, seed=seed),
        "identity": lambda: ld.init.elman(
            H, init="identity", nonlinearity="relu", input_scale=s, seed=seed
        ),
        "lstm": lambda: ld.init.lstm(H, input_scale=s, seed=seed),
        "lstm_chrono": lambda: ld.init.lstm(H, chrono=T, input_scale=s, seed=seed),
        "gru": lambda: ld.init.gru(H, chrono=T if gru_chrono else None, input_scale=s, seed=seed),
        "lru": lambda: ld.init.lru(max(1, H // 2), seed=seed),
        "attention": lambda: ld.init.attention(H, seed=seed),
    }
    if name in build:
        return build[name]()
    cls = ld.kinds.modern().get(name)
    if cls is None:
        raise ValueError(f"name must be one of {REMEDIES}; got {name!r}")
    return cls.random(H, H if cls.input_is_hidden else 1, input_scale=s, seed=seed)


def remedy_cells(
    H: int, T: int, input_scale: float, seed: int, *, gru_chrono: bool = False
) -> dict[str, Any]:
    """The cells compared on the remedies page, keyed by ``REMEDIES`` (see
    :func:`remedy_cell`)."""
    return {
        name: remedy_cell(name, H, T, input_scale, seed, gru_chrono=gru_chrono) for name in REMEDIES
    }


def _fit_input(x: np.ndarray, cell: Any, seed: int) -> np.ndarray:
    """``x`` (T, 1) for a cell of input size 1; for a cell that reads inputs of another
    size (the RG-LRU gates ``x_t`` itself, so its input size is H), the same sequence
    through a fixed random linear encoder ``x @ E``, ``E ~ N(0, 1)``."""
    if cell.input_size == x.shape[-1]:
        return x
    e = np.random.default_rng([seed, 104729]).normal(size=(x.shape[-1], cell.input_size))
    return x @ e


@st.cache_data(**_CACHE)
def remedies(
    H: int,
    T: int,
    input_scale: float,
    seed: int,
    gru_chrono: bool = False,
    _progress: Progress | None = None,
) -> dict[str, Any]:
    """All remedies on one input sequence: ``curves`` (name, distance, log_norm) and
    ``metrics`` (name, decay_rate, memory_horizon, regime), ``errors`` (name -> message).
    ``gru_chrono`` gives the GRU chrono init (see :func:`remedy_cells`); each cell is
    cached on its own, so toggling it recomputes the GRU only. ``_progress(fraction)`` is
    called with 0.0 at the start and after every remedy (not part of the cache key)."""
    frames, metrics, errors = [], [], {}
    if _progress is not None:
        _progress(0.0)
    for k, name in enumerate(REMEDIES):
        if _progress is not None and k:
            _progress(k / len(REMEDIES))
        one = _remedy(name, H, T, input_scale, seed, gru_chrono and name == "gru")
        if isinstance(one, str):
            errors[name] = one
            continue
        frames.append(one[["name", "distance", "log_norm"]])
        metrics.append(ld.analysis.compare_metrics(one))
    if _progress is not None:
        _progress(1.0)
    curves = pd.concat(frames, ignore_index=True)
    table = pd.concat(metrics, ignore_index=True)
    keep = ["name", "decay_rate", "memory_horizon", "regime"]
    return {"curves": curves, "metrics": table[keep], "errors": errors}


@st.cache_data(**_CACHE)
def _remedy(
    name: str, H: int, T: int, input_scale: float, seed: int, gru_chrono: bool
) -> pd.DataFrame | str:
    """``ld.analysis.compare`` of one remedy (its metrics in ``attrs``), or the library's
    message when it could not be computed."""
    cell = remedy_cell(name, H, T, input_scale, seed, gru_chrono=gru_chrono)
    try:
        x = _fit_input(inputs(T, seed), cell, seed)
        return ld.analysis.compare({name: cell}, x, n_points=N_POINTS)
    except ld.LongdepError as exc:
        return str(exc)


@st.cache_data(**_CACHE)
def gru_gate(H: int, T: int, input_scale: float, seed: int, chrono: bool) -> dict[str, float]:
    """The GRU update gate of the remedies page along its forward pass.

    torch's GRU computes ``h_t = (1 - z_t) * n_t + z_t * h_{t-1}`` with
    ``z_t = sigmoid(W_iz x_t + b_iz + W_hz h_{t-1} + b_hz)``: ``z`` is the fraction of
    the old state each step keeps. Returns ``z_mean`` (mean of ``z_t`` over steps and
    units), ``z_start`` (mean of ``sigmoid(b_iz + b_hz)``, the gate at ``h = x = 0``:
    0.5 at the default init) and ``ln_z`` (mean of ``ln z_t``, the decay rate in nats
    per step of a gradient that only took the keep path).
    """
    cell = remedy_cell("gru", H, T, input_scale, seed, gru_chrono=chrono)
    x = inputs(T, seed)
    h = np.asarray(ld.forward(cell, x), dtype=float).reshape(T, H)
    h_prev = np.vstack([np.zeros((1, H)), h[:-1]])
    rows = slice(H, 2 * H)  # torch layout: gates r, z, n
    b = cell.bias_ih[rows] + cell.bias_hh[rows]
    a = x @ cell.weight_ih[rows].T + h_prev @ cell.weight_hh[rows].T + b
    ln_z = -np.logaddexp(0.0, -a)  # ln sigmoid(a), exact for large |a|
    return {
        "z_mean": float(np.exp(ln_z).mean()),
        "z_start": float((1.0 / (1.0 + np.exp(-b))).mean()),
        "ln_z": float(ln_z.mean()),
    }


@st.cache_data(**_CACHE)
def clipping(H: int, T: int, seed: int, clip_log10: float, far: int) -> pd.DataFrame:
    """What norm clipping does to a vanishing and an exploding gradient.

    Clipping multiplies the whole gradient by ``min(1, c / ||g||)``; here ``||g||`` is
    the norm of all per-step gradients ``(dL/dh_0, ..., dL/dh_{T-1})`` together. Rows
    ``vanishing`` (tanh, gain 1) and ``exploding`` (tanh, gain 3); columns in log10:
    ``recent`` (distance 0), ``far`` (distance ``far``), ``total``, ``scale`` and the
    same after clipping, plus ``ratio`` = far / recent (unchanged by construction).
    """
    x = inputs(T, seed)
    rows = []
    for case, gain in (("vanishing", 1.0), ("exploding", 3.0)):
        g = _by_distance(ld.init.elman(H, gain=gain, seed=seed), x)  # ln norms by distance
        total = float(np.logaddexp.reduce(2 * g) / 2)  # ln sqrt(sum_t ||dL/dh_t||^2)
        ln_c = clip_log10 * math.log(10)
        scale = min(0.0, ln_c - total)  # ln min(1, c / ||g||)
        k = min(far, T - 1)
        rows.append(
            {
                "case": case,
                "far": k,
                "recent": g[0],
                "far_norm": g[k],
                "total": total,
                "scale": scale,
                "recent_after": g[0] + scale,
                "far_after": g[k] + scale,
                "total_after": total + scale,
                "ratio": g[k] - g[0],
                "ratio_after": (g[k] + scale) - (g[0] + scale),
            }
        )
    out = pd.DataFrame(rows)
    num = out.columns.drop(["case", "far"])
    out[num] = out[num] / math.log(10)
    return out


# -- page 4: landscape ------------------------------------------------------------------

LANDSCAPE_H = (8, 16, 32, 64, 128, 256)


def landscape_axes(mode: str, nx: int, ny: int) -> tuple[np.ndarray, np.ndarray]:
    """Grid axes: ``radius_H`` -> (spectral radius, H); ``gain_input`` -> (gain, input scale)."""
    if mode == "radius_H":
        hs = np.unique(np.rint(np.geomspace(8, 256, ny)).astype(int))
        return np.linspace(0.2, 2.0, nx), hs.astype(float)
    if mode == "gain_input":
        return np.linspace(0.2, 3.0, nx), np.linspace(0.0, 2.0, ny)
    raise ValueError(f"mode must be 'radius_H' or 'gain_input'; got {mode!r}")


def _landscape_cell(
    mode: str, xv: float, yv: float, H: int, input_scale: float, seed: int
) -> ld.Elman:
    if mode == "radius_H":
        return ld.init.elman(int(yv), rho=float(xv), input_scale=input_scale, seed=seed)
    return ld.init.elman(H, gain=float(xv), input_scale=float(yv), seed=seed)


@st.cache_data(max_entries=16, show_spinner=False)
def landscape(
    mode: str,
    nx: int,
    ny: int,
    T: int,
    H: int,
    input_scale: float,
    seed: int,
    _progress: Progress | None = None,
) -> dict[str, Any]:
    """Decay rate (nats per step) and memory horizon (steps, inf if never reached) on a
    grid of tanh Elman cells; ``edge`` lines (x, y, line) where the measured decay rate
    changes sign, and the theory: mean-field order-to-chaos edge (``gain_input``, H and
    the input scale fixed per point) or rho = 1 (``radius_H``, input scale fixed).
    ``_progress(fraction)`` is called with 0.0 at the start and after every row of the
    grid (1.0 after the last); it is not part of the cache key."""
    xs, ys = landscape_axes(mode, nx, ny)
    if _progress is not None:
        _progress(0.0)
    x = inputs(T, seed)
    rate = np.full((len(ys), len(xs)), np.nan)
    horizon = np.full_like(rate, np.nan)
    for i, yv in enumerate(ys):
        for j, xv in enumerate(xs):
            try:
                cell = _landscape_cell(mode, xv, yv, H, input_scale, seed)
                m = _metrics(_by_distance(cell, x))
            except ld.LongdepError:
                continue
            rate[i, j], horizon[i, j] = m["decay_rate"], m["memory_horizon"]
        if _progress is not None:
            _progress((i + 1) / len(ys))
    edges = [_measured_edge(rate, xs, ys)]
    if mode == "gain_input":
        edges.append(chaos_edge_theory())
    else:
        edges.append(pd.DataFrame({"x": [1.0, 1.0], "y": [ys[0], ys[-1]], "line": "theory"}))
    return {"x": xs, "y": ys, "rate": rate, "horizon": horizon, "edge": pd.concat(edges)}


@st.cache_data(show_spinner=False)
def chaos_edge_theory() -> pd.DataFrame:
    """Mean-field order-to-chaos edge (Poole et al. 2016): the gain with chi = 1 for each
    input scale, which plays the part of the bias std (a fixed grid, computed once)."""
    bias_std = np.linspace(0.0, 2.0, 21)
    gains = np.asarray(ld.analysis.order_chaos_edge(bias_std), dtype=float)
    return pd.DataFrame({"x": gains, "y": bias_std, "line": "theory"})


def _measured_edge(rate: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> pd.DataFrame:
    """Per row, the x where the decay rate first crosses zero (linear interpolation)."""
    pts = []
    for i, row in enumerate(rate):
        for j in range(len(xs) - 1):
            a, b = row[j], row[j + 1]
            if np.isfinite(a) and np.isfinite(b) and a < 0 <= b:
                pts.append((xs[j] + (xs[j + 1] - xs[j]) * (-a) / (b - a), ys[i]))
                break
    return pd.DataFrame(pts, columns=["x", "y"]).assign(line="measured")


@st.cache_data(**_CACHE)
def lyapunov(
    mode: str, xv: float, yv: float, H: int, input_scale: float, T: int, seed: int, k: int
) -> np.ndarray:
    """The ``k`` largest Lyapunov exponents (nats per step) of one landscape point."""
    cell = _landscape_cell(mode, xv, yv, H, input_scale, seed)
    k = min(k, cell.state_size)
    return np.asarray(ld.lyapunov_spectrum(cell, inputs(T, seed), k, warmup=T // 5))


# -- page 5: your model -----------------------------------------------------------------


@st.cache_resource(max_entries=2, show_spinner=False)
def parsed_upload(digest: str, filename: str, _payload: bytes) -> dict[str, np.ndarray]:
    """Tensors of an uploaded weights file, parsed once per file digest (not copied)."""
    return uploads.read_weights(filename, _payload)


@st.cache_data(max_entries=8, show_spinner=False)
def upload_curve(
    digest: str,
    layer: str,
    nonlinearity: str,
    T: int,
    input_scale: float,
    seed: int,
    _cell: Any,
) -> dict[str, Any]:
    """Decay curve of an uploaded cell, cached on the file digest and the scalar settings
    (``_cell`` itself is not hashed). Inputs are i.i.d. N(0, input_scale^2)."""
    x = input_scale * np.random.default_rng([seed, 7919]).normal(size=(T, _cell.input_size))
    t0 = time.perf_counter()
    try:
        g = _by_distance(_cell, x)
    except ld.NumericsError as exc:
        return {"error": str(exc)}
    return {
        "error": None,
        "curve": _downsample(g, "measured"),
        "metrics": _metrics(g),
        "seconds": time.perf_counter() - t0,
    }


#: Reference cells an uploaded model's curve can be drawn beside (remedy names).
REFERENCES = ("vanilla", "orthogonal", "lstm", "gru", "mingru")


@st.cache_data(max_entries=16, show_spinner=False)
def reference_curve(name: str, H: int, T: int, input_scale: float, seed: int) -> pd.DataFrame:
    """The decay curve of reference cell ``name`` (a remedy of :data:`REMEDIES`) with
    hidden size ``H``, one input, over inputs N(0, input_scale^2): to compare an uploaded
    model with the cells every page uses."""
    cell = remedy_cell(name, H, T, input_scale, seed)
    x = input_scale * np.random.default_rng([seed, 7919]).normal(size=(T, cell.input_size))
    return _downsample(_by_distance(cell, x), name)


#: Distances from the loss at which the depth x time map of an uploaded model is drawn.
MAP_COLUMNS = 100


def upload_inputs(T: int, I: int, input_scale: float, seed: int) -> np.ndarray:
    """The driving sequence of the "Your model" page: ``(T, I)`` i.i.d. N(0, input_scale^2)."""
    return input_scale * np.random.default_rng([seed, 7919]).normal(size=(T, I))


@st.cache_data(max_entries=8, show_spinner=False)
def upload_map(
    digest: str,
    name: str,
    nonlinearity: str,
    T: int,
    input_scale: float,
    seed: int,
    _model: Any,
) -> dict[str, Any]:
    """The depth x time decay map of an uploaded model (``_model``: an ``ld.Stack``, or an
    ``ld.Bidirectional`` whose cells are then measured one by one, each on inputs of its own
    size): ``log10`` ``(L, n)`` of ``||dL/dh^l_t||`` at ``distance`` (``n`` <= MAP_COLUMNS
    exact values, evenly spaced from 0 to ``T - 1``, not averages), ``layers`` (their
    places, bottom first), per-layer ``metrics`` and ``seconds``. ``L = v . h^top_{T-1}``
    with a unit ``v``; for a stack the gradient of every layer flows through the layers
    above (``ld.Stack.grad_norms``)."""
    t0 = time.perf_counter()
    places = [where for where, _ in uploads.model_layers(_model)]
    try:
        if isinstance(_model, ld.Stack):
            x = upload_inputs(T, _model.input_size, input_scale, seed)
            H = _model.hidden_size
            g = _model.grad_norms(x, np.full(H, 1.0 / math.sqrt(H)), log=True)[::-1]
        else:
            curves = [
                _by_distance(c, upload_inputs(T, c.input_size, input_scale, seed))
                for _, c in uploads.model_layers(_model)
            ]
            g = np.stack(curves, axis=1)
    except ld.NumericsError as exc:
        return {"error": str(exc)}
    distance = np.unique(np.linspace(0, T - 1, min(T, MAP_COLUMNS)).round().astype(int))
    return {
        "error": None,
        "distance": distance,
        "log10": (g[distance] / math.log(10.0)).T,
        "layers": places,
        "metrics": [_metrics(np.ascontiguousarray(g[:, k])) for k in range(g.shape[1])],
        "seconds": time.perf_counter() - t0,
    }


@st.cache_data(max_entries=8, show_spinner=False)
def sweep_dir(path: str, stamp: tuple[tuple[str, int], ...]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A results folder read by ``uploads.read_sweep_dir``; ``stamp`` (file names and
    modification times) invalidates the cache when the sweep writes more files."""
    return uploads.read_sweep_dir(path)


def folder_stamp(path: str) -> tuple[tuple[str, int], ...]:
    """(name, mtime) of every Parquet file below ``path``; empty if it is not a folder."""
    try:
        root = Path(path).expanduser()
        if not root.is_dir():
            return ()
        files = sorted(f for f in root.rglob("*.parquet") if f.name != uploads.SUMMARY)
        return tuple((str(f), f.stat().st_mtime_ns) for f in files)
    except (OSError, RuntimeError):  # unreadable: uploads.read_sweep_dir says so in words
        return ()


# -- page 6: training lab ------------------------------------------------------------------

#: Sequences per optimisation step in the training lab (as in ``longdep train``).
LAB_BATCH = 32
#: Reported to a progress callback about this many times per run.
_PROGRESS_TICKS = 40
_HISTORY = ["step", "loss", "accuracy", "grad_norm", "grad_norm_clipped"]
#: Clipping preset: a tanh RNN with an orthogonal W_hh at spectral radius 1.5 on the adding
#: problem, plain SGD; as examples/train_clipping_pretrain.py, fewer steps.
CLIP_PRESET: dict[str, Any] = {
    "H": 32, "T": 50, "rho": 1.5, "lr": 0.2, "c": 1.0, "steps": 400, "seed": 0,
}  # fmt: skip
#: Pre-training preset: a GRU on the adding problem, short T then long T, against scratch.
PRETRAIN_PRESET: dict[str, Any] = {
    "H": 32, "short": 20, "long": 100, "pre_steps": 200, "fine_steps": 200,
    "lr": 5e-3, "c": 1.0, "seed": 0,
}  # fmt: skip


def _ticker(total: int, progress: Progress | None) -> Callable[[int, dict[str, Any]], None]:
    """A ``train`` callback that reports the finished fraction of ``total`` steps to
    ``progress`` about ``_PROGRESS_TICKS`` times (counting calls, so several runs in a row
    add up)."""
    done = 0
    every = max(1, total // _PROGRESS_TICKS)

    def tick(step: int, record: dict[str, Any]) -> None:
        nonlocal done
        done += 1
        if progress is not None and done % every == 0:
            progress(min(done / total, 0.999))

    return tick


def final_loss(history: pd.DataFrame) -> float:
    """Mean loss over the last fifth of a run (at most 50 steps), as ``longdep train``'s
    summary; ``inf`` when the run diverged."""
    if "diverged" in history and bool(history["diverged"].any()):
        return math.inf
    loss = history["loss"].to_numpy(dtype=float)
    if not len(loss):
        return math.nan
    tail = loss[-max(1, min(50, len(loss) // 5)) :]
    return float(tail.mean())


def _history(res: training.TrainResult) -> pd.DataFrame:
    return res.history[_HISTORY].assign(diverged=res.diverged)


@st.cache_data(**_CACHE)
def lab_run(
    task: str,
    T: int,
    H: int,
    steps: int,
    model: str,
    lr: float,
    optimizer: str,
    clip: float | None,
    seed: int,
    _progress: Progress | None = None,
) -> dict[str, Any]:
    """One model of ``trainlab.MODELS`` trained on a task: ``history`` (step, loss,
    accuracy, grad_norm, grad_norm_clipped, diverged), ``baseline``, ``final`` (see
    :func:`final_loss`), ``diverged`` and ``seconds``. ``_progress(fraction)`` is called
    during training and with 1.0 at the end; it is not part of the cache key."""
    t = tasks.make_task(task, T)
    cell, encoder = trainlab.build_model(model, t, H, seed)
    t0 = time.perf_counter()
    res = training.train(
        cell, t, steps=steps, batch=LAB_BATCH, lr=lr, clip=clip, optimizer=optimizer,
        seed=seed, callback=_ticker(steps, _progress), encoder=encoder,
    )  # fmt: skip
    return _run_summary(res, time.perf_counter() - t0, _progress)


def _run_summary(res: Any, seconds: float, progress: Progress | None) -> dict[str, Any]:
    """What the lab caches of one training run: history, baseline, final loss, time."""
    if progress is not None:
        progress(1.0)
    hist = _history(res)
    return {
        "history": hist,
        "baseline": res.baseline,
        "final": final_loss(hist),
        "diverged": res.diverged,
        "seconds": seconds,
    }


@st.cache_data(**_CACHE)
def clipping_run(
    clip: float | None, steps: int, seed: int, _progress: Progress | None = None
) -> dict[str, Any]:
    """The clipping preset (``CLIP_PRESET``) with or without clipping at ``clip``: the same
    keys as :func:`lab_run`. Both runs start from the same weights and see the same
    batches."""
    p = CLIP_PRESET
    task = tasks.AddingTask(p["T"])
    cell = ld.init.elman(
        p["H"], task.input_size, init="orthogonal", rho=p["rho"], nonlinearity="tanh",
        seed=seed,
    )  # fmt: skip
    t0 = time.perf_counter()
    res = training.train(
        cell, task, steps=steps, batch=LAB_BATCH, lr=p["lr"], clip=clip, optimizer="sgd",
        seed=seed, callback=_ticker(steps, _progress),
    )  # fmt: skip
    return _run_summary(res, time.perf_counter() - t0, _progress)


@st.cache_data(**_CACHE)
def pretrain_run(
    H: int,
    short: int,
    long: int,
    pre_steps: int,
    fine_steps: int,
    lr: float,
    clip: float,
    seed: int,
    _progress: Progress | None = None,
) -> dict[str, Any]:
    """``training.pretrain_finetune`` with a GRU on the adding problem: ``histories``
    (``pretrain``, ``finetune``, ``scratch``), ``baseline`` and ``seconds``."""
    cell = ld.init.gru(H, 2, seed=seed)
    t0 = time.perf_counter()
    runs = training.pretrain_finetune(
        cell, tasks.AddingTask(short), tasks.AddingTask(long), pre_steps=pre_steps,
        fine_steps=fine_steps, batch=LAB_BATCH, lr=lr, clip=clip, seed=seed,
        callback=_ticker(pre_steps + 2 * fine_steps, _progress),
    )  # fmt: skip
    seconds = time.perf_counter() - t0
    if _progress is not None:
        _progress(1.0)
    return {
        "histories": {name: _history(res) for name, res in runs.items()},
        "baseline": runs["scratch"].baseline,
        "seconds": seconds,
    }


def train_stamp(path: str) -> tuple[tuple[str, int], ...]:
    """(name, mtime) of every Parquet and CSV file below ``path``; empty if not a folder."""
    try:
        root = Path(path).expanduser()
        if not root.is_dir():
            return ()
        files = sorted(f for f in root.rglob("*") if f.suffix in (".parquet", ".csv"))
        return tuple((str(f), f.stat().st_mtime_ns) for f in files)
    except (OSError, RuntimeError):  # unreadable: uploads.read_train_dir says so in words
        return ()


@st.cache_data(max_entries=8, show_spinner=False)
def train_dir(
    path: str, stamp: tuple[tuple[str, int], ...]
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """A ``longdep train`` results folder read by ``uploads.read_train_dir``; ``stamp``
    (see :func:`train_stamp`) invalidates the cache when files change."""
    return uploads.read_train_dir(path)
