# ruff: noqa: E741
"""Stand-ins for library functions that have not landed yet (deleted once they do).

Signatures follow the API plan exactly, so switching to ``ld.init`` / ``ld.analysis`` is
a one-line change in ``data.py``.
"""

from __future__ import annotations

import types

import numpy as np
import pandas as pd

import longdep as ld


def _rng(seed: int, k: int) -> np.random.Generator:
    return np.random.default_rng([seed, k])


def _elman(
    H,
    I=1,
    *,
    init="normal",
    rho=None,
    gain=1.0,
    nonlinearity="tanh",
    input_scale=1.0,
    residual=None,
    layer_norm=False,
    seed=0,
):
    rec, inp = _rng(seed, 0), _rng(seed, 1)
    if init == "normal":
        w = rec.normal(scale=gain / np.sqrt(H), size=(H, H))
    elif init == "orthogonal":
        q, r = np.linalg.qr(rec.normal(size=(H, H)))
        w = gain * q * np.sign(np.diag(r))
    else:
        w = gain * np.eye(H)
    if rho is not None:
        w = w * (rho / np.abs(np.linalg.eigvals(w)).max())
    w_ih = inp.normal(scale=input_scale, size=(H, I))
    return ld.Elman(
        w_ih, w, np.zeros(H), np.zeros(H), nonlinearity, residual=residual, layer_norm=layer_norm
    )


def _lstm(H, I=1, *, forget_bias=1.0, chrono=None, gain=1.0, input_scale=1.0, seed=0):
    rec, inp, bias = _rng(seed, 0), _rng(seed, 1), _rng(seed, 2)
    w = rec.normal(scale=gain / np.sqrt(H), size=(4 * H, H))
    w_ih = inp.normal(scale=input_scale, size=(4 * H, I))
    b = np.zeros(4 * H)
    if chrono is None:
        b[H : 2 * H] = forget_bias
    else:
        bf = np.log(bias.uniform(1, chrono - 1, size=H))
        b[H : 2 * H], b[:H] = bf, -bf
    return ld.LSTM(w_ih, w, b, np.zeros(4 * H))


def _gru(H, I=1, *, chrono=None, gain=1.0, input_scale=1.0, seed=0):
    rec, inp, bias = _rng(seed, 0), _rng(seed, 1), _rng(seed, 2)
    w = rec.normal(scale=gain / np.sqrt(H), size=(3 * H, H))
    w_ih = inp.normal(scale=input_scale, size=(3 * H, I))
    b = np.zeros(3 * H)
    if chrono is not None:
        b[H : 2 * H] = np.log(bias.uniform(1, chrono - 1, size=H))
    return ld.GRU(w_ih, w, b, np.zeros(3 * H))


def _lru(H, I=1, *, r_min=0.9, r_max=0.999, max_phase=6.283, out=None, seed=0):
    return ld.LRU.random(H, I, r_min=r_min, r_max=r_max, max_phase=max_phase, seed=seed)


init = types.SimpleNamespace(elman=_elman, lstm=_lstm, gru=_gru, lru=_lru, attention=None)


def downsample_log(n_points_total, values, n=300):
    idx = np.unique(np.rint(np.geomspace(1, n_points_total, n)).astype(np.int64) - 1)
    return idx, np.asarray(values)[idx]


def decay_rate(log_curve, *, distance=None):
    y = np.asarray(log_curve, dtype=float)
    d = np.arange(len(y)) if distance is None else np.asarray(distance, dtype=float)
    ok = np.isfinite(y)
    if ok.sum() < 2:
        return 0.0
    return float(np.polyfit(d[ok], y[ok], 1)[0])


def memory_horizon(log_curve, *, threshold=1e-6):
    y = np.asarray(log_curve, dtype=float)
    below = np.nonzero(y < y[0] + np.log(threshold))[0]
    return float(below[0]) if len(below) else float("inf")


def regime(log_curve, *, tol=1e-3):
    r = decay_rate(log_curve)
    return "vanishing" if r < -tol else "exploding" if r > tol else "stable"


def curve_metrics(log_curve):
    return {
        "decay_rate": decay_rate(log_curve),
        "memory_horizon": memory_horizon(log_curve),
        "regime": regime(log_curve),
    }


def theory_linear(rho, T, v_norm=1.0):
    return (T - 1 - np.arange(T)) * np.log(rho) + np.log(v_norm)


def compare(cells, x, *, v=None, u=None, quantity="grad_norms", wrt="state", h0=None, n_points=300):
    rows, metrics = [], {}
    T = len(x)
    for name, cell in cells.items():
        vv = np.ones(cell.hidden_size) / np.sqrt(cell.hidden_size)
        g = ld.grad_norms(cell, x, vv, log=True)[::-1]
        metrics[name] = curve_metrics(g)
        idx, val = downsample_log(T, g, n_points)
        rows.append(pd.DataFrame({"name": name, "distance": idx, "log_norm": val}))
    df = pd.concat(rows, ignore_index=True)
    df.attrs["metrics"] = metrics
    return df


def compare_metrics(df):
    m = df.attrs["metrics"]
    return pd.DataFrame([{"name": k, **v} for k, v in m.items()])


analysis = types.SimpleNamespace(
    downsample_log=downsample_log,
    curve_metrics=curve_metrics,
    theory_linear=theory_linear,
    compare=compare,
    compare_metrics=compare_metrics,
)
