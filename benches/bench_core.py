"""Side-by-side benchmark: longdep vs NumPy, JAX and PyTorch, plus the machine's bound.

Every case runs in a fresh child process (``--child``) so that its peak RSS is its own;
the parent kills a child that goes over ``--max-rss-gb`` (reported as OOM) or over
``--timeout`` and skips the next, longer T of a ladder when the last one predicts more
than ``--case-seconds`` per run. Results go to ``<out>/<date>.json`` (every raw number)
and ``<out>/<date>.md`` (the tables). See benches/README.md.

    python benches/bench_core.py --quick      # smoke test, < 2 min
    python benches/bench_core.py --full       # the whole benchmark, ~30 min on 2 cores
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.metadata
import itertools
import json
import math
import os
import platform
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

CELLS = {"elman": 1, "lstm": 4, "gru": 3}
TOOLS = ["longdep", "longdep_1t", "numpy", "jax", "jax_hand", "torch_loop", "torch_fused"]
TOOL_NAMES = {
    "longdep": "longdep",
    "longdep_1t": "longdep 1 thread",
    "numpy": "NumPy loop",
    "jax": "JAX scan+vjp",
    "jax_hand": "JAX hand-derived step",
    "torch_loop": "torch cell loop",
    "torch_fused": "torch fused",
}
MODES = ["fwd", "grad"]
MODE_NAMES = {"fwd": "forward", "grad": "forward + per-step ‖dL/dh_t‖"}
# torch fused has no per-step norms: its "grad" is forward+backward to h0 (a lower bound).
SEED = 0
MB = 2**20


# --------------------------------------------------------------------------- problem


def make_problem(cell: str, h: int, b: int, i: int, t: int, dtype: str) -> dict[str, Any]:
    """Weights (torch layout), input, loss weights; the same numbers for every tool."""
    rng = np.random.default_rng(SEED)
    gh = CELLS[cell] * h
    f = np.dtype(dtype)
    w_ih = rng.standard_normal((gh, i)).astype(f)
    w_hh = (rng.standard_normal((gh, h)) / math.sqrt(h)).astype(f)
    b_ih = (0.1 * rng.standard_normal(gh)).astype(f)
    b_hh = (0.1 * rng.standard_normal(gh)).astype(f)
    v = rng.standard_normal((b, h)).astype(f)
    x = np.random.default_rng(SEED + 1).standard_normal((t, b, i), dtype=f)
    return {"w_ih": w_ih, "w_hh": w_hh, "b_ih": b_ih, "b_hh": b_hh, "v": v, "x": x}


def longdep_cell(cell: str, h: int, i: int = 1):
    """A longdep cell of the benchmark's shape (weights irrelevant: for planning)."""
    import longdep as ld

    g = CELLS[cell]
    cls = {"elman": ld.Elman, "lstm": ld.LSTM, "gru": ld.GRU}[cell]
    return cls(np.zeros((g * h, i)), np.zeros((g * h, h)))


def longdep_plan(cell: str, h: int, b: int, t: int, dtype: str, threads: int | None) -> dict:
    """Whether grad_norms checkpoints and over how many threads it splits one sequence,
    as longdep itself decides (rnn_core::bptt::plan_segment, rnn_core::split::parts_for)."""
    import longdep as ld

    c = modern_cell(cell, h, input_size_of(cell, h, 1)) if cell in DIAG else longdep_cell(cell, h)
    spec, double = c.spec(np.dtype(dtype)), dtype == "float64"
    parts = ld._core.split_parts(spec, b, t, threads, double)
    running = 1 if parts > 1 else max(1, min(threads or (os.cpu_count() or 1), b))
    seg = ld._core.plan_segment(spec, t, ld.DEFAULT_MEMORY_BUDGET // running, double)
    return {"checkpointed": seg < t, "split_parts": parts}


# --------------------------------------------------------------------------- NumPy loop


def _sig(a: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-a))


def numpy_forward(p: dict[str, Any], cell: str, chunk: int = 4096, store: bool = False):
    """All hidden states; with store=True also what the reverse pass needs."""
    x, w_hh = p["x"], p["w_hh"]
    t_len, b, _ = x.shape
    h_dim = w_hh.shape[1]
    w_ih_t = np.ascontiguousarray(p["w_ih"].T)
    w_hh_t = np.ascontiguousarray(w_hh.T)
    if cell == "gru":
        bias_x, b_hh = p["b_ih"], p["b_hh"]
    else:
        bias_x, b_hh = p["b_ih"] + p["b_hh"], None
    out = np.empty((t_len, b, h_dim), dtype=x.dtype)
    h = np.zeros((b, h_dim), dtype=x.dtype)
    c = np.zeros_like(h)
    rec = None
    if store and cell == "lstm":
        rec = (np.empty((t_len, b, 4 * h_dim), x.dtype), np.empty((t_len, b, h_dim), x.dtype))
    elif store and cell == "gru":
        rec = np.empty((t_len, b, 4 * h_dim), x.dtype)
    hd = h_dim
    for t0 in range(0, t_len, chunk):
        xp = x[t0 : t0 + chunk] @ w_ih_t + bias_x  # the input projection, one product a chunk
        for j in range(xp.shape[0]):
            t = t0 + j
            if cell == "elman":
                h = np.tanh(xp[j] + h @ w_hh_t)
            elif cell == "lstm":
                a = xp[j] + h @ w_hh_t
                act = _sig(a)
                act[:, 2 * hd : 3 * hd] = np.tanh(a[:, 2 * hd : 3 * hd])
                c = act[:, hd : 2 * hd] * c + act[:, :hd] * act[:, 2 * hd : 3 * hd]
                h = act[:, 3 * hd :] * np.tanh(c)
                if rec is not None:
                    rec[0][t] = act
                    rec[1][t] = c
            else:
                gx = xp[j]
                gh = h @ w_hh_t + b_hh
                rz = _sig(gx[:, : 2 * hd] + gh[:, : 2 * hd])
                n = np.tanh(gx[:, 2 * hd :] + rz[:, :hd] * gh[:, 2 * hd :])
                z = rz[:, hd:]
                h = (1.0 - z) * n + z * h
                if rec is not None:
                    rec[t, :, : 2 * hd] = rz
                    rec[t, :, 2 * hd : 3 * hd] = n
                    rec[t, :, 3 * hd :] = gh[:, 2 * hd :]
            out[t] = h
    return out, rec


def numpy_grad_norms(p: dict[str, Any], cell: str) -> np.ndarray:
    """ln ||dL/dh_t|| for L = sum_b v_b . h_{T-1,b} by manual BPTT (torch formulas).

    The adjoint is renormalised every step (as longdep does) so it never goes subnormal.
    """
    hs, rec = numpy_forward(p, cell, store=True)
    w_hh = p["w_hh"]
    t_len, b, hd = hs.shape
    logn = np.empty((t_len, b))
    g = p["v"].astype(hs.dtype)
    n = np.sqrt(np.einsum("bh,bh->b", g, g))
    acc = np.log(n)
    g = g / n[:, None]
    dc = np.zeros_like(g)
    logn[t_len - 1] = acc
    for t in range(t_len - 1, 0, -1):
        if cell == "elman":
            h = hs[t]
            gp = (g * (1.0 - h * h)) @ w_hh
        elif cell == "lstm":
            act, cs = rec
            a = act[t]
            i, f, gg, o = a[:, :hd], a[:, hd : 2 * hd], a[:, 2 * hd : 3 * hd], a[:, 3 * hd :]
            tc = np.tanh(cs[t])
            cp = cs[t - 1]
            dct = dc + g * o * (1.0 - tc * tc)
            da = np.empty((b, 4 * hd), hs.dtype)
            da[:, :hd] = dct * gg * i * (1.0 - i)
            da[:, hd : 2 * hd] = dct * cp * f * (1.0 - f)
            da[:, 2 * hd : 3 * hd] = dct * i * (1.0 - gg * gg)
            da[:, 3 * hd :] = g * tc * o * (1.0 - o)
            gp = da @ w_hh
            dc = dct * f
        else:
            r_ = rec[t]
            r, z, nn_, ghn = r_[:, :hd], r_[:, hd : 2 * hd], r_[:, 2 * hd : 3 * hd], r_[:, 3 * hd :]
            hp = hs[t - 1]
            dan = g * (1.0 - z) * (1.0 - nn_ * nn_)
            da = np.empty((b, 3 * hd), hs.dtype)
            da[:, :hd] = dan * ghn * r * (1.0 - r)
            da[:, hd : 2 * hd] = g * (hp - nn_) * z * (1.0 - z)
            da[:, 2 * hd :] = dan * r
            gp = g * z + da @ w_hh
        n = np.sqrt(np.einsum("bh,bh->b", gp, gp))
        acc = acc + np.log(n)
        g = gp / n[:, None]
        if cell == "lstm":
            dc = dc / n[:, None]
        logn[t - 1] = acc
    return logn


# --------------------------------------------------------------------------- JAX


def jax_functions(p: dict[str, Any], cell: str):
    """(forward, per-step grad norms) as jit-able functions of x, and x on the device."""
    import jax
    import jax.numpy as jnp
    from jax import lax

    if p["x"].dtype == np.float64:
        jax.config.update("jax_enable_x64", True)
    w_ih, w_hh = jnp.asarray(p["w_ih"]), jnp.asarray(p["w_hh"])
    b_ih, b_hh = jnp.asarray(p["b_ih"]), jnp.asarray(p["b_hh"])
    v = jnp.asarray(p["v"])
    b, hd = p["v"].shape
    dtype = p["x"].dtype

    def s0():
        z = jnp.zeros((b, hd), dtype)
        return (z, z) if cell == "lstm" else z

    def hidden(s):
        return s[0] if cell == "lstm" else s

    def with_hidden(s, h):
        return (h, s[1]) if cell == "lstm" else h

    def step(s, xp_t):
        if cell == "elman":
            h = jnp.tanh(xp_t + s @ w_hh.T + b_hh)
            return h
        if cell == "lstm":
            h, c = s
            a = xp_t + h @ w_hh.T + b_hh
            i, f, g, o = jnp.split(a, 4, axis=-1)
            c = jax.nn.sigmoid(f) * c + jax.nn.sigmoid(i) * jnp.tanh(g)
            return (jax.nn.sigmoid(o) * jnp.tanh(c), c)
        gh = s @ w_hh.T + b_hh
        xr, xz, xn = jnp.split(xp_t, 3, axis=-1)
        hr, hz, hn = jnp.split(gh, 3, axis=-1)
        r = jax.nn.sigmoid(xr + hr)
        z = jax.nn.sigmoid(xz + hz)
        n = jnp.tanh(xn + r * hn)
        return (1.0 - z) * n + z * s

    def fwd(x):
        xp = x @ w_ih.T + b_ih

        def body(s, xp_t):
            s = step(s, xp_t)
            return s, hidden(s)

        return lax.scan(body, s0(), xp)[1]

    def grad(x):
        xp = x @ w_ih.T + b_ih

        def last_h(eps):
            # h_t + eps_t: the cotangent of eps_t is the total dL/dh_t.
            def body(s, inp):
                xp_t, e_t = inp
                s = step(s, xp_t)
                return with_hidden(s, hidden(s) + e_t), None

            return hidden(lax.scan(body, s0(), (xp, eps))[0])

        eps = jnp.zeros((x.shape[0], b, hd), dtype)
        _, pullback = jax.vjp(last_h, eps)
        (adj,) = pullback(v)
        return jnp.sqrt(jnp.sum(adj * adj, axis=-1))

    return jax.jit(fwd), jax.jit(grad), jnp.asarray(p["x"])


# --------------------------------------------------------------------------- diagonal cells

# The 2023-2025 cells: h_t = a_t * h_{t-1} + b_t, with a_t and b_t functions of x_t alone.
DIAG = ["mingru", "minlstm", "rglru", "ssm", "lru"]
CELL_NAMES = {
    "elman": "Elman",
    "lstm": "LSTM",
    "gru": "GRU",
    "mingru": "minGRU",
    "minlstm": "minLSTM",
    "rglru": "RG-LRU",
    "ssm": "selective SSM",
    "lru": "LRU",
}
# Cells whose input is the hidden vector itself (I = H).
INPUT_IS_HIDDEN = ("rglru", "ssm")


def input_size_of(cell: str, h: int, i: int) -> int:
    return h if cell in INPUT_IS_HIDDEN else i


def modern_cell(cell: str, h: int, i: int):
    """A longdep cell of that kind with hidden size h, its paper's initialisation
    (as benches/bench_cells.py builds them; LRU: h/2 complex units = h reals)."""
    import longdep as ld

    if cell == "mingru":
        return ld.MinGRU.random(h, i, seed=SEED)
    if cell == "minlstm":
        return ld.MinLSTM.random(h, i, seed=SEED)
    if cell == "rglru":
        return ld.RGLRU.random(h, seed=SEED)
    if cell == "ssm":
        return ld.SelectiveSSM.random(h, seed=SEED)
    if cell == "lru":
        return ld.LRU.random(h // 2, i, seed=SEED)
    raise ValueError(cell)


def make_modern_problem(cell: str, h: int, b: int, i: int, t: int, dtype: str) -> dict[str, Any]:
    """The cell's arrays as the core sees them (cast to dtype), input and loss weights."""
    f = np.dtype(dtype)
    i = input_size_of(cell, h, i)
    c = modern_cell(cell, h, i)
    params = {k: np.asarray(a) for k, a in c.spec(f).items() if isinstance(a, np.ndarray)}
    x = np.random.default_rng(SEED + 1).standard_normal((t, b, i), dtype=f)
    v = np.random.default_rng(SEED).standard_normal((b, c.hidden_size)).astype(f)
    return {"cell": c, "params": params, "x": x, "v": v, "state_size": c.state_size}


def _softplus(a: np.ndarray) -> np.ndarray:
    return np.logaddexp(0.0, a).astype(a.dtype)


def diag_coeffs(p: dict[str, Any], cell: str, xc: np.ndarray):
    """(a, b, C) of h_t = a_t h_{t-1} + b_t for a chunk of inputs (n, B, I), vectorised
    over the chunk; C is the SSM's readout (None for the others)."""
    q = p["params"]
    if cell in ("mingru", "minlstm"):
        pr = xc @ q["weight_ih"].T + q["bias_ih"]
        hd = pr.shape[-1] // (2 if cell == "mingru" else 3)
        if cell == "mingru":
            z = _sig(pr[..., :hd])
            return 1.0 - z, z * pr[..., hd:], None
        f, ig = _sig(pr[..., :hd]), _sig(pr[..., hd : 2 * hd])
        s = f + ig
        return f / s, ig / s * pr[..., 2 * hd :], None
    if cell == "rglru":
        ga = _sig(xc @ q["weight_a"].T + q["bias_a"])
        gx = _sig(xc @ q["weight_x"].T + q["bias_x"])
        log_a = -8.0 * ga * _softplus(q["a_param"])
        return np.exp(log_a), np.sqrt(-np.expm1(2.0 * log_a)) * gx * xc, None
    if cell == "lru":
        bx = xc @ q["weight_ih"].T
        u = bx.shape[-1] // 2
        lam = q["lambda_re"] + 1j * q["lambda_im"]
        return np.broadcast_to(lam, (xc.shape[0], 1, u)), bx[..., :u] + 1j * bx[..., u:], None
    if cell == "ssm":
        r, n = q["dt_proj_weight"].shape[1], q["A_log"].shape[1]
        pr = xc @ q["x_proj_weight"].T
        delta = _softplus(pr[..., :r] @ q["dt_proj_weight"].T + q["dt_proj_bias"])
        bt, ct = pr[..., r : r + n], pr[..., r + n :]
        a = np.exp(delta[..., None] * -np.exp(q["A_log"]))
        return a, (delta * xc)[..., None] * bt[..., None, :], ct
    raise ValueError(cell)


def _chunk_for(p: dict[str, Any]) -> int:
    b = p["x"].shape[1]
    return max(1, 2**21 // (b * p["state_size"]))


def numpy_diag_forward(p: dict[str, Any], cell: str) -> np.ndarray:
    """Every output y_t (h_t; the SSM's C_t h_t + D u_t; the LRU's [Re h, Im h])."""
    x = p["x"]
    t_len, b, _ = x.shape
    out = np.empty((t_len, b, p["v"].shape[1]), dtype=x.dtype)
    chunk = _chunk_for(p)
    h = None
    for t0 in range(0, t_len, chunk):
        a, bb, ct = diag_coeffs(p, cell, x[t0 : t0 + chunk])
        if h is None:
            h = np.zeros_like(bb[0])
        for j in range(bb.shape[0]):
            h = a[j] * h + bb[j]
            if cell == "ssm":
                out[t0 + j] = (h @ ct[j][:, :, None])[..., 0] + p["params"]["D"] * x[t0 + j]
            elif cell == "lru":
                u = h.shape[-1]
                out[t0 + j, :, :u] = h.real
                out[t0 + j, :, u:] = h.imag
            else:
                out[t0 + j] = h
    return out


def _lane_norm(g: np.ndarray) -> np.ndarray:
    axes = tuple(range(1, g.ndim))
    if np.iscomplexobj(g):
        return np.sqrt(np.sum(g.real * g.real + g.imag * g.imag, axis=axes))
    return np.sqrt(np.sum(g * g, axis=axes))


def numpy_diag_grad_norms(p: dict[str, Any], cell: str) -> np.ndarray:
    """The forward pass, then ln ||dL/dh_t|| for L = sum_b v_b . y_{T-1,b}: the adjoint
    through diag(a_t) (the LRU: conj(lambda)), renormalised every step."""
    numpy_diag_forward(p, cell)
    x, v = p["x"], p["v"]
    t_len, b, _ = x.shape
    logn = np.empty((t_len, b))
    if cell == "ssm":
        _, _, ct = diag_coeffs(p, cell, x[t_len - 1 :])
        g = v[:, :, None] * ct[0][:, None, :]
    elif cell == "lru":
        u = v.shape[1] // 2
        g = v[:, :u] + 1j * v[:, u:]
    else:
        g = v.copy()
    n = _lane_norm(g)
    shape = (b,) + (1,) * (g.ndim - 1)
    acc = np.log(n)
    g = g / n.reshape(shape)
    logn[t_len - 1] = acc
    chunk = _chunk_for(p)
    for t1 in range(t_len, 1, -chunk):
        t0 = max(1, t1 - chunk)
        a, _, _ = diag_coeffs(p, cell, x[t0:t1])
        if cell == "lru":
            a = np.conj(a)
        for t in range(t1 - 1, t0 - 1, -1):
            g = a[t - t0] * g
            n = _lane_norm(g)
            acc = acc + np.log(n)
            g = g / n.reshape(shape)
            logn[t - 1] = acc
    return logn


def jax_diag_functions(p: dict[str, Any], cell: str):
    """(forward, per-step grad norms) for a diagonal cell, written from its equations:
    everything that depends on x alone computed for all t at once, then a lax.scan of
    h = a * h + b (the SSM forms exp(Delta A) inside the scan, as Mamba's reference scan)."""
    import jax
    import jax.numpy as jnp
    from jax import lax

    if p["x"].dtype == np.float64:
        jax.config.update("jax_enable_x64", True)
    q = {k: jnp.asarray(a) for k, a in p["params"].items()}
    v = jnp.asarray(p["v"])
    b = v.shape[0]
    dtype = p["x"].dtype
    sig, sp = jax.nn.sigmoid, jax.nn.softplus

    def pre(x):
        if cell in ("mingru", "minlstm"):
            pr = x @ q["weight_ih"].T + q["bias_ih"]
            hd = pr.shape[-1] // (2 if cell == "mingru" else 3)
            if cell == "mingru":
                z = sig(pr[..., :hd])
                return (1.0 - z, z * pr[..., hd:])
            f, ig = sig(pr[..., :hd]), sig(pr[..., hd : 2 * hd])
            return (f / (f + ig), ig / (f + ig) * pr[..., 2 * hd :])
        if cell == "rglru":
            ga = sig(x @ q["weight_a"].T + q["bias_a"])
            gx = sig(x @ q["weight_x"].T + q["bias_x"])
            log_a = -8.0 * ga * sp(q["a_param"])
            return (jnp.exp(log_a), jnp.sqrt(-jnp.expm1(2.0 * log_a)) * gx * x)
        if cell == "lru":
            bx = x @ q["weight_ih"].T
            u = bx.shape[-1] // 2
            return (bx[..., :u], bx[..., u:])
        r, n = q["dt_proj_weight"].shape[1], q["A_log"].shape[1]
        pr = x @ q["x_proj_weight"].T
        delta = sp(pr[..., :r] @ q["dt_proj_weight"].T + q["dt_proj_bias"])
        return (delta, pr[..., r : r + n], pr[..., r + n :], x)

    a_ssm = -jnp.exp(q["A_log"]) if cell == "ssm" else None

    def step(s, xs):
        if cell == "lru":
            (hr, hi), (br, bi) = s, xs
            lr, li = q["lambda_re"], q["lambda_im"]
            return (lr * hr - li * hi + br, li * hr + lr * hi + bi)
        if cell == "ssm":
            delta, bt, _, u = xs
            return jnp.exp(delta[..., None] * a_ssm) * s + (delta * u)[..., None] * bt[:, None, :]
        a, bb = xs
        return a * s + bb

    def out(s, xs):
        if cell == "lru":
            return jnp.concatenate(s, axis=-1)
        if cell == "ssm":
            _, _, ct, u = xs
            return jnp.einsum("bdn,bn->bd", s, ct) + q["D"] * u
        return s

    def s0():
        if cell == "lru":
            z = jnp.zeros((b, v.shape[1] // 2), dtype)
            return (z, z)
        if cell == "ssm":
            return jnp.zeros((b, *q["A_log"].shape), dtype)
        return jnp.zeros((b, v.shape[1]), dtype)

    def fwd(x):
        def body(s, xs_t):
            s = step(s, xs_t)
            return s, out(s, xs_t)

        return lax.scan(body, s0(), pre(x))[1]

    def grad(x):
        xs = pre(x)
        t_len = x.shape[0]

        def last_out(eps):
            # h_t + eps_t: the cotangent of eps_t is the total dL/dh_t.
            def body(s, inp):
                xs_t, e_t = inp
                s = jax.tree_util.tree_map(jnp.add, step(s, xs_t), e_t)
                return s, None

            s_last = lax.scan(body, s0(), (xs, eps))[0]
            return out(s_last, jax.tree_util.tree_map(lambda a: a[-1], xs))

        eps = jax.tree_util.tree_map(lambda z: jnp.zeros((t_len, *z.shape), dtype), s0())
        _, pullback = jax.vjp(last_out, eps)
        (adj,) = pullback(v)
        sq = [jnp.sum(a * a, axis=tuple(range(2, a.ndim))) for a in jax.tree_util.tree_leaves(adj)]
        return jnp.sqrt(sum(sq))

    return jax.jit(fwd), jax.jit(grad), jnp.asarray(p["x"])


def jax_elman_hand(p: dict[str, Any]):
    """Elman's per-step ||dL/dh_t|| the way an expert writes it in JAX: a forward scan
    that keeps h, then a reverse scan of the hand-derived step g <- (g * (1 - h^2)) @ W_hh
    (no generic vjp)."""
    import jax
    import jax.numpy as jnp
    from jax import lax

    if p["x"].dtype == np.float64:
        jax.config.update("jax_enable_x64", True)
    w_ih, w_hh = jnp.asarray(p["w_ih"]), jnp.asarray(p["w_hh"])
    bias = jnp.asarray(p["b_ih"] + p["b_hh"])
    v = jnp.asarray(p["v"])

    def grad(x):
        xp = x @ w_ih.T + bias

        def fbody(h, xp_t):
            h = jnp.tanh(xp_t + h @ w_hh.T)
            return h, h

        _, hs = lax.scan(fbody, jnp.zeros_like(v), xp)

        def rbody(g, h_t):
            g = (g * (1.0 - h_t * h_t)) @ w_hh
            return g, jnp.sqrt(jnp.sum(g * g, axis=-1))

        _, norms = lax.scan(rbody, v, hs[1:], reverse=True)
        return jnp.concatenate([norms, jnp.sqrt(jnp.sum(v * v, axis=-1))[None]], axis=0)

    return jax.jit(grad), jnp.asarray(p["x"])


# --------------------------------------------------------------------------- PyTorch


def torch_modules(p: dict[str, Any], cell: str, fused: bool):
    import torch

    _, i = p["w_ih"].shape
    hd = p["w_hh"].shape[1]
    if fused:
        cls = {"elman": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[cell]
        m = cls(i, hd)
        names = ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")
    else:
        cls = {"elman": torch.nn.RNNCell, "lstm": torch.nn.LSTMCell, "gru": torch.nn.GRUCell}[cell]
        m = cls(i, hd)
        names = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
    if p["x"].dtype == np.float64:
        m = m.double()
    with torch.no_grad():
        for name, key in zip(names, ("w_ih", "w_hh", "b_ih", "b_hh"), strict=True):
            getattr(m, name).copy_(torch.from_numpy(p[key]))
    # Only the state adjoints are wanted (as in longdep): no weight gradients.
    m.requires_grad_(False)
    return m


def torch_runners(p: dict[str, Any], cell: str, fused: bool):
    import torch

    m = torch_modules(p, cell, fused)
    x = torch.from_numpy(p["x"])
    v = torch.from_numpy(p["v"])
    t_len, b, _ = x.shape
    hd = v.shape[1]

    if fused:

        def h0():
            z = torch.zeros(1, b, hd, dtype=x.dtype, requires_grad=True)
            return (z, torch.zeros(1, b, hd, dtype=x.dtype)) if cell == "lstm" else z

        def fwd():
            with torch.no_grad():
                return m(x, h0())[0]

        def grad():
            s = h0()
            out = m(x, s)[0]
            (out[-1] * v).sum().backward()
            return (s[0] if cell == "lstm" else s).grad

        return fwd, grad

    def z0(req: bool = False):
        return torch.zeros(b, hd, dtype=x.dtype, requires_grad=req)

    def fwd():
        out = torch.empty(t_len, b, hd, dtype=x.dtype)
        with torch.no_grad():
            if cell == "lstm":
                s = (z0(), z0())
                for t in range(t_len):
                    s = m(x[t], s)
                    out[t] = s[0]
            else:
                h = z0()
                for t in range(t_len):
                    h = m(x[t], h)
                    out[t] = h
        return out

    def grad():
        hs = []
        if cell == "lstm":
            s = (z0(True), z0())
            for t in range(t_len):
                s = m(x[t], s)
                s[0].retain_grad()
                hs.append(s[0])
            h = s[0]
        else:
            h = z0(True)
            for t in range(t_len):
                h = m(x[t], h)
                h.retain_grad()
                hs.append(h)
        (h * v).sum().backward()
        return torch.stack([hh.grad for hh in hs]).norm(dim=-1)

    return fwd, grad


# --------------------------------------------------------------------------- child side


def rss_now_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def reset_peak() -> bool:
    """Reset the peak-RSS counter (Linux >= 4.0) so each mode reports its own peak."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def maxrss_mb() -> float:
    """ru_maxrss; on Linux it also holds the peak of the image that exec'd this child."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def peak_mb() -> float:
    """VmHWM: this process's own peak RSS since start or the last reset_peak()."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return maxrss_mb()


def timed_reps(fn, block, max_reps: int, rep_budget: float) -> list[float]:
    """Best-of timing: at least two runs when one is short, more while under budget.

    A first run shorter than a second is a warm-up (caches, lazy initialisation, and
    cores that idled at a low clock) and is not counted; the same for every tool."""
    t0 = time.perf_counter()
    block(fn())
    if time.perf_counter() - t0 >= 1.0:
        # Long enough to have warmed up inside the call: count it.
        times = [time.perf_counter() - t0]
        if max_reps <= 1 or times[0] > 15.0:
            return times
    else:
        times = []
    while True:
        t0 = time.perf_counter()
        block(fn())
        times.append(time.perf_counter() - t0)
        if len(times) >= max_reps:
            break
        if len(times) >= 2 and sum(times) + times[-1] > rep_budget:
            break
        if len(times) == 1 and times[0] > 15.0:
            break
    return times


def emit(obj: dict[str, Any]) -> None:
    print("RESULT " + json.dumps(obj), flush=True)


def child_case(spec: dict[str, Any]) -> None:
    tool, cell, h, b, i, t, dtype = (spec[k] for k in ("tool", "cell", "H", "B", "I", "T", "dtype"))
    max_reps, rep_budget = spec["max_reps"], spec["rep_budget"]
    diag = cell in DIAG
    p = (make_modern_problem if diag else make_problem)(cell, h, b, i, t, dtype)
    compile_s: dict[str, float] = {}
    block = lambda r: r  # noqa: E731
    if tool in ("longdep", "longdep_1t"):
        import longdep as ld

        if diag:
            c = p["cell"]
        else:
            cls = {"elman": ld.Elman, "lstm": ld.LSTM, "gru": ld.GRU}[cell]
            c = cls(p["w_ih"], p["w_hh"], p["b_ih"], p["b_hh"])
        x, v = p["x"], p["v"]
        threads = 1 if tool == "longdep_1t" else spec.get("threads")
        fns = {
            "fwd": lambda: ld.forward(c, x, threads=threads),
            "grad": lambda: ld.grad_norms(c, x, v, log=True, threads=threads),
        }
    elif tool == "numpy" and diag:
        fns = {
            "fwd": lambda: numpy_diag_forward(p, cell),
            "grad": lambda: numpy_diag_grad_norms(p, cell),
        }
    elif tool == "numpy":
        fns = {
            "fwd": lambda: numpy_forward(p, cell)[0],
            "grad": lambda: numpy_grad_norms(p, cell),
        }
    elif tool in ("jax", "jax_hand"):
        if tool == "jax_hand":
            grad_j, xj = jax_elman_hand(p)
            jitted = {"grad": grad_j}
        else:
            fwd_j, grad_j, xj = (jax_diag_functions if diag else jax_functions)(p, cell)
            jitted = {"fwd": fwd_j, "grad": grad_j}
        fns = {}
        for mode in spec["modes"]:
            t0 = time.perf_counter()
            compiled = jitted[mode].lower(xj).compile()
            compile_s[mode] = time.perf_counter() - t0
            fns[mode] = lambda compiled=compiled: compiled(xj)
        block = lambda r: r.block_until_ready()  # noqa: E731
    elif tool in ("torch_loop", "torch_fused"):
        fwd_t, grad_t = torch_runners(p, cell, fused=tool == "torch_fused")
        fns = {"fwd": fwd_t, "grad": grad_t}
    else:
        raise ValueError(tool)
    for mode in spec["modes"]:
        emit({"mode": mode, "status": "started"})
        ok = reset_peak()
        base = rss_now_mb()
        times = timed_reps(fns[mode], block, max_reps, rep_budget)
        emit(
            {
                "mode": mode,
                "status": "ok",
                "times_s": times,
                "best_s": min(times),
                "us_per_step": min(times) / t * 1e6,
                "peak_rss_mb": peak_mb(),
                "ru_maxrss_mb": maxrss_mb(),
                "rss_before_mb": base,
                "peak_reset": ok,
                "compile_s": compile_s.get(mode),
            }
        )


def child_parity(spec: dict[str, Any]) -> None:
    """Per-step ln-norms of every available tool against longdep at a small T (float64)."""
    import longdep as ld

    out: dict[str, Any] = {}
    t, b, h, i = spec["T"], 2, spec["H"], spec["I"]
    for cell in CELLS:
        p = make_problem(cell, h, b, i, t, "float64")
        cls = {"elman": ld.Elman, "lstm": ld.LSTM, "gru": ld.GRU}[cell]
        c = cls(p["w_ih"], p["w_hh"], p["b_ih"], p["b_hh"])
        ref = ld.grad_norms(c, p["x"], p["v"], log=True)
        href = ld.forward(c, p["x"])
        res: dict[str, Any] = {}
        others: dict[str, Any] = {"numpy": lambda p=p, cell=cell: numpy_grad_norms(p, cell)}
        fw: dict[str, Any] = {"numpy": lambda p=p, cell=cell: numpy_forward(p, cell)[0]}
        if have("jax"):
            f_j, g_j, xj = jax_functions(p, cell)
            others["jax"] = lambda g_j=g_j, xj=xj: np.log(np.asarray(g_j(xj)))
            fw["jax"] = lambda f_j=f_j, xj=xj: np.asarray(f_j(xj))
        if have("torch"):
            f_t, g_t = torch_runners(p, cell, fused=False)
            others["torch_loop"] = lambda g_t=g_t: np.log(g_t().numpy())
            fw["torch_loop"] = lambda f_t=f_t: f_t().numpy()
            f_f, _ = torch_runners(p, cell, fused=True)
            fw["torch_fused"] = lambda f_f=f_f: f_f().numpy()
        if have("jax") and cell == "elman":
            g_h, xh = jax_elman_hand(p)
            others["jax_hand"] = lambda g_h=g_h, xh=xh: np.log(np.asarray(g_h(xh)))
        for name, fn in others.items():
            res[name] = {"grad_max_abs_log_diff": float(np.max(np.abs(fn() - ref)))}
        for name, fn in fw.items():
            res.setdefault(name, {})["fwd_max_abs_diff"] = float(np.max(np.abs(fn() - href)))
        out[cell] = {"T": t, "log_norm_range": [float(ref.min()), float(ref.max())], **res}
    for cell in DIAG:
        p = make_modern_problem(cell, h, b, i, t, "float64")
        c = p["cell"]
        ref = ld.grad_norms(c, p["x"], p["v"], log=True)
        href = ld.forward(c, p["x"])
        res = {
            "numpy": {
                "grad_max_abs_log_diff": float(
                    np.max(np.abs(numpy_diag_grad_norms(p, cell) - ref))
                ),
                "fwd_max_abs_diff": float(np.max(np.abs(numpy_diag_forward(p, cell) - href))),
            }
        }
        if have("jax"):
            f_j, g_j, xj = jax_diag_functions(p, cell)
            res["jax"] = {
                "grad_max_abs_log_diff": float(np.max(np.abs(np.log(np.asarray(g_j(xj))) - ref))),
                "fwd_max_abs_diff": float(np.max(np.abs(np.asarray(f_j(xj)) - href))),
            }
        out[cell] = {"T": t, "log_norm_range": [float(ref.min()), float(ref.max())], **res}
    emit({"status": "ok", "parity": out})


def child_bound(spec: dict[str, Any]) -> None:
    import longdep as ld

    rows = []
    for cell, g in CELLS.items():
        for h in spec["Hs"]:
            for dtype in spec["dtypes"]:
                d = dtype == "float64"
                # About 0.1 s a timing at large H (2000 reps of a 128 x 128 gemv).
                spec = {**spec, "reps": max(20, min(2000, int(2000 * 128 * 128 / (g * h * h))))}
                fwd = min(
                    ld._core.gemv_seconds(g * h, h, reps=spec["reps"], double=d) for _ in range(3)
                )
                rev = min(
                    ld._core.gemv_seconds(h, g * h, reps=spec["reps"], double=d) for _ in range(3)
                )
                # One of two threads on a split sequence: half the rows forward, half the
                # columns in reverse.
                fwd2 = min(
                    ld._core.gemv_seconds(g * h // 2, h, reps=spec["reps"], double=d)
                    for _ in range(3)
                )
                rev2 = min(
                    ld._core.gemv_seconds(h, g * h // 2, reps=spec["reps"], double=d)
                    for _ in range(3)
                )
                rows.append(
                    {
                        "cell": cell,
                        "H": h,
                        "dtype": dtype,
                        "fwd_us": fwd * 1e6,
                        "rev_us": rev * 1e6,
                        "fwd2_us": fwd2 * 1e6,
                        "rev2_us": rev2 * 1e6,
                    }
                )
    emit({"status": "ok", "bound": rows})


def _best_of(fn, seconds: float, min_reps: int = 3, max_reps: int = 200) -> tuple[float, int]:
    fn()  # warm-up
    best, reps, start = float("inf"), 0, time.perf_counter()
    while reps < min_reps or (time.perf_counter() - start < seconds and reps < max_reps):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
        reps += 1
    return best, reps


def child_peak(spec: dict[str, Any]) -> None:
    """FMA peak as a BLAS gemm reaches it: n x n by n x n, 2 n^3 flops; the parent sets
    OPENBLAS_NUM_THREADS / OMP_NUM_THREADS / MKL_NUM_THREADS in this child's environment."""
    n, res = spec["n"], {}
    rng = np.random.default_rng(SEED)
    for dtype in spec["dtypes"]:
        a = rng.standard_normal((n, n)).astype(dtype)
        bm = rng.standard_normal((n, n)).astype(dtype)
        c = np.empty_like(a)
        best, reps = _best_of(lambda a=a, bm=bm, c=c: np.matmul(a, bm, out=c), spec["seconds"])
        res[dtype] = {"gflops": 2 * n**3 / best / 1e9, "best_s": best, "reps": reps}
    emit({"status": "ok", "threads": spec["threads"], "n": n, "peak": res})


def child_bandwidth(spec: dict[str, Any]) -> None:
    """Memory bandwidth: a large copy (bytes read + written) and a large sum (bytes read),
    on 1 thread and on k threads each taking a slice (NumPy releases the GIL)."""
    from concurrent.futures import ThreadPoolExecutor

    n = int(spec["mb"] * MB // 8)
    src = np.ones(n)
    dst = np.empty_like(src)
    dst.fill(0.0)
    res = {}
    for k in spec["threads"]:
        bounds = np.linspace(0, n, k + 1).astype(int)
        slices = [slice(int(lo), int(hi)) for lo, hi in itertools.pairwise(bounds)]
        with ThreadPoolExecutor(k) as pool:

            def copy(pool=pool, slices=slices):
                list(pool.map(lambda s: np.copyto(dst[s], src[s]), slices))

            def total(pool=pool, slices=slices):
                return sum(pool.map(lambda s: float(src[s].sum()), slices))

            tc, _ = _best_of(copy, spec["seconds"], max_reps=20)
            ts, _ = _best_of(total, spec["seconds"], max_reps=20)
        res[str(k)] = {"copy_gbs": 2 * src.nbytes / tc / 1e9, "read_gbs": src.nbytes / ts / 1e9}
    emit({"status": "ok", "mb": spec["mb"], "bandwidth": res})


def child_threads(spec: dict[str, Any]) -> None:
    import longdep as ld

    cell, h, b, i, t = spec["cell"], spec["H"], spec["B"], spec["I"], spec["T"]
    p = make_problem(cell, h, b, i, t, spec["dtype"])
    cls = {"elman": ld.Elman, "lstm": ld.LSTM, "gru": ld.GRU}[cell]
    c = cls(p["w_ih"], p["w_hh"], p["b_ih"], p["b_hh"])
    res = {}
    for mode in ("fwd", "grad"):
        for th in (1, 2):
            if mode == "fwd":
                fn = lambda th=th: ld.forward(c, p["x"], threads=th)  # noqa: E731
            else:
                fn = lambda th=th: ld.grad_norms(c, p["x"], p["v"], log=True, threads=th)  # noqa: E731
            times = timed_reps(fn, lambda r: r, spec["max_reps"], spec["rep_budget"])
            res[f"{mode}_t{th}"] = {"times_s": times, "us_per_step": min(times) / t * 1e6}
        one, two = res[f"{mode}_t1"]["us_per_step"], res[f"{mode}_t2"]["us_per_step"]
        res[f"{mode}_speedup"] = one / two
    emit({"status": "ok", "threads": res})


def child_longmem(spec: dict[str, Any]) -> None:
    """Peak RSS of one long call; input and output arrays are allocated (and touched) first."""
    import longdep as ld

    cell, h, t, what = spec["cell"], spec["H"], spec["T"], spec["what"]
    dtype = np.dtype(spec["dtype"])
    rss_import = rss_now_mb()
    p = make_problem(cell, h, 1, spec["I"], 1, spec["dtype"])
    x = np.random.default_rng(SEED + 1).standard_normal((t, 1, spec["I"]), dtype=dtype)
    cls = {"elman": ld.Elman, "lstm": ld.LSTM, "gru": ld.GRU}[cell]
    c = cls(p["w_ih"], p["w_hh"], p["b_ih"], p["b_hh"])
    out = np.empty((t, 1))
    out.fill(0.0)  # touched, so its pages count before the call (np.zeros maps them lazily)
    u = np.ones(c.state_size, dtype) / math.sqrt(c.state_size)
    reset_peak()
    before = rss_now_mb()
    t0 = time.perf_counter()
    if what == "grad_norms":
        ld.grad_norms(c, x, p["v"], log=True, out=out)
    else:
        ld.sensitivity(c, x, u, log=True, out=out)
    secs = time.perf_counter() - t0
    peak = peak_mb()
    io_mb = (x.nbytes + out.nbytes) / MB
    emit(
        {
            "status": "ok",
            "seconds": secs,
            "us_per_step": secs / t * 1e6,
            "rss_after_import_mb": rss_import,
            "rss_before_call_mb": before,
            "peak_rss_mb": peak,
            "ru_maxrss_mb": maxrss_mb(),
            "input_output_mb": io_mb,
            "peak_minus_io_mb": peak - io_mb,
            "call_extra_mb": peak - before,
            "finite": bool(np.isfinite(out[-1, 0])),
            "last_log_norm": float(out[0, 0]),
        }
    )


def have(mod: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(mod) is not None


# --------------------------------------------------------------------------- parent side


class Runner:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.cap_mb = args.max_rss_gb * 1024
        self.log_lines = 0

    def run_child(
        self, kind: str, spec: dict[str, Any], timeout: float, env: dict[str, str] | None = None
    ) -> dict[str, Any]:
        """Run one child; its RESULT lines, and how it ended (ok / OOM / timeout / error)."""
        cmd = [sys.executable, os.path.abspath(__file__), "--child", kind, json.dumps(spec)]
        proc = subprocess.Popen(
            cmd,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            bufsize=1,
            env={**os.environ, **env} if env else None,
        )
        lines: list[dict[str, Any]] = []
        err: list[str] = []

        def read_out() -> None:
            assert proc.stdout is not None
            for line in proc.stdout:
                if line.startswith("RESULT "):
                    lines.append(json.loads(line[7:]))

        def read_err() -> None:
            assert proc.stderr is not None
            for line in proc.stderr:
                err.append(line)
                del err[:-30]

        threads = [threading.Thread(target=read_out), threading.Thread(target=read_err)]
        for th in threads:
            th.start()
        start = time.perf_counter()
        ended, max_seen = "ok", 0.0
        while proc.poll() is None:
            rss = proc_rss_mb(proc.pid)
            max_seen = max(max_seen, rss)
            if rss > self.cap_mb:
                proc.kill()
                ended = "OOM"
                break
            if time.perf_counter() - start > timeout:
                proc.kill()
                ended = "timeout"
                break
            time.sleep(0.02)
        proc.wait()
        for th in threads:
            th.join()
        if ended == "ok" and proc.returncode != 0:
            tail = "".join(err)
            ended = "OOM" if "MemoryError" in tail or "RESOURCE_EXHAUSTED" in tail else "error"
        return {
            "ended": ended,
            "returncode": proc.returncode,
            "wall_s": time.perf_counter() - start,
            "max_rss_seen_mb": max_seen,
            "results": lines,
            "stderr_tail": "".join(err)[-1500:] if ended != "ok" else "",
        }

    def say(self, msg: str) -> None:
        print(msg, flush=True)


def proc_rss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def est_mem_mb(tool: str, mode: str, cell: str, h: int, b: int, t: int, dtype: str) -> float:
    """Rough lower estimate of what a peer must hold (to skip hopeless cases)."""
    it = np.dtype(dtype).itemsize
    g = CELLS[cell]
    n = t * b * it / MB
    if tool in ("longdep", "longdep_1t"):
        return n * h if mode == "fwd" else t * b * 8 / MB
    if mode == "fwd":
        return n * h * (1 + (g if tool == "jax" else 0))
    per = {"numpy": {"elman": h, "lstm": 6 * h, "gru": 5 * h}[cell], "jax": 2 * g * h + 2 * h}
    per["jax_hand"] = 2 * h
    per |= {"torch_loop": 4 * g * h, "torch_fused": g * h + 2 * h}
    return n * per[tool]


def pick_reps(args: argparse.Namespace, grid: bool = False) -> tuple[int, float]:
    """(max repetitions, seconds of repetitions after which to stop)."""
    if args.quick:
        return 3, 1.0
    return (3, 2.0) if grid else (5, 4.0)


def bench_case(
    r: Runner,
    tool: str,
    cell: str,
    h: int,
    b: int,
    t: int,
    dtype: str,
    modes: list[str],
    grid: bool = False,
) -> dict[str, Any]:
    args = r.args
    max_reps, rep_budget = pick_reps(args, grid)
    spec = {
        "tool": tool,
        "cell": cell,
        "H": h,
        "B": b,
        "I": args.input_size,
        "T": t,
        "dtype": dtype,
        "modes": modes,
        "max_reps": max_reps,
        "rep_budget": rep_budget,
    }
    res = r.run_child("case", spec, args.timeout)
    out: dict[str, Any] = {k: v for k, v in spec.items() if k not in ("max_reps", "rep_budget")}
    out["child"] = {k: res[k] for k in ("ended", "returncode", "wall_s", "max_rss_seen_mb")}
    if res["stderr_tail"]:
        out["child"]["stderr_tail"] = res["stderr_tail"]
    per_mode: dict[str, Any] = {}
    for line in res["results"]:
        if line["status"] == "started":
            per_mode[line["mode"]] = {"status": res["ended"] if res["ended"] != "ok" else "error"}
        else:
            per_mode[line["mode"]] = line
    out["modes_result"] = per_mode
    if tool in ("longdep", "longdep_1t"):
        out.update(longdep_plan(cell, h, b, t, dtype, 1 if tool == "longdep_1t" else None))
        cores = os.cpu_count() or 1
        threads = 1 if tool == "longdep_1t" else cores
        out["threads_used"] = (
            out["split_parts"] if out["split_parts"] > 1 else max(1, min(threads, b))
        )
    else:
        out["threads_used"] = os.cpu_count() or 1
    ok = {m: v for m, v in per_mode.items() if v.get("status") == "ok"}
    bits = [f"{m} {v['us_per_step']:.3g} us/step {v['peak_rss_mb']:.0f} MB" for m, v in ok.items()]
    bad = [f"{m} {v['status']}" for m, v in per_mode.items() if v.get("status") != "ok"]
    if not per_mode:
        bad = [f"child {res['ended']}: {res['stderr_tail'][-300:]!r}"]
    r.say(f"  {tool:12s} {cell:5s} H={h:<3d} B={b:<2d} {dtype} T={t:<9d} " + "; ".join(bits + bad))
    return out


def ladder(
    r: Runner, tool: str, cell: str, h: int, b: int, dtype: str, ts: list[int]
) -> list[dict[str, Any]]:
    """Run T up the ladder; skip a mode once it OOMs, times out or would exceed the limit."""
    args = r.args
    rows: list[dict[str, Any]] = []
    last_us: dict[str, float] = {}
    dead: dict[str, str] = {}
    for t in ts:
        modes, skipped = [], {}
        for m in MODES:
            if m in dead:
                skipped[m] = dead[m]
                continue
            if m in last_us and last_us[m] * t / 1e6 > args.case_seconds:
                skipped[m] = f"skipped (time: ~{last_us[m] * t / 1e6:.0f} s a run)"
                continue
            need = est_mem_mb(tool, m, cell, h, b, t, dtype)
            if need > 2 * r.cap_mb:
                skipped[m] = f"OOM (needs > {need / 1024:.0f} GB, est.)"
                continue
            modes.append(m)
        row: dict[str, Any]
        if modes:
            row = bench_case(r, tool, cell, h, b, t, dtype, modes)
        else:
            row = {"tool": tool, "cell": cell, "H": h, "B": b, "T": t, "dtype": dtype}
            row["modes_result"] = {}
        for m, why in skipped.items():
            row["modes_result"][m] = {"status": why}
        for m in modes:
            res = row["modes_result"].get(m, {"status": row["child"]["ended"]})
            row["modes_result"][m] = res
            if res.get("status") == "ok":
                last_us[m] = res["us_per_step"]
            else:
                dead[m] = res["status"]
        rows.append(row)
        if len(dead) == len(MODES):
            break
    return rows


def machine_info() -> dict[str, Any]:
    import longdep as ld

    cpu = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        cpu = platform.processor()
    versions = {"python": platform.python_version(), "numpy": np.__version__}
    versions["longdep"] = ld.__version__
    for dist in ("jax", "jaxlib", "torch"):
        # Not imported: the children inherit the parent's peak RSS through exec.
        try:
            versions[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            pass
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            cwd=os.path.dirname(os.path.abspath(__file__)),
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "rnn_core", "python"],
            capture_output=True,
            text=True,
            cwd=os.path.dirname(os.path.abspath(__file__)),
        ).stdout.strip()
    except OSError:
        commit, dirty = "", ""
    mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": round(mem_gb, 1),
        "simd_level": ld.simd_level(),
        "platform": platform.platform(),
        "versions": versions,
        "git_commit": commit,
        # Uncommitted changes to the library when the run started (the run measured those).
        "library_tree_dirty": bool(dirty) and ld.__file__.startswith(repo + os.sep),
        "longdep_path": os.path.dirname(ld.__file__),
        "LONGDEP_NUM_THREADS": os.environ.get("LONGDEP_NUM_THREADS"),
    }


# Per-step work of a case, for the fraction of the machine's bound.
def step_work(cell: str, h: int, b: int, i: int, mode: str, itemsize: int) -> dict[str, float]:
    """flops and bytes per time step for the whole batch.

    Dense cells: the recurrent product 2 G H H B (forward; twice that for forward + grad:
    W h forward, W^T g in reverse) plus the input projection 2 G H I B; bytes: W_hh read
    once per pass when it does not fit in one core's L2 (else 0: it stays in cache).
    Diagonal cells: their input projections (flops), and x_t read plus y_t written per
    pass (bytes), one pass forward, two for forward + grad (the reverse pass streams the
    per-step coefficients back)."""
    passes = 1 if mode == "fwd" else 2
    i = input_size_of(cell, h, i)
    if cell in CELLS:
        g = CELLS[cell]
        w_bytes = g * h * h * itemsize
        streamed = w_bytes if w_bytes > l2_bytes() else 0
        return {
            "flops": 2.0 * g * h * h * b * passes + 2.0 * g * h * i * b,
            "bytes": float(streamed * passes),
        }
    if cell == "ssm":
        r, n = math.ceil(h / 32), 16
        flops = 2.0 * (r + 2 * n) * h * b + 2.0 * h * r * b + 6.0 * h * n * b
    else:
        g = {"mingru": 2, "minlstm": 3, "rglru": 2, "lru": 1}[cell]
        flops = 2.0 * g * h * i * b
    return {"flops": flops, "bytes": float(itemsize * b * (i + h) * passes)}


def l2_bytes() -> int:
    try:
        txt = Path("/sys/devices/system/cpu/cpu0/cache/index2/size").read_text().strip()
        mult = {"K": 2**10, "M": 2**20}.get(txt[-1], 1)
        return int(txt.rstrip("KM")) * mult
    except (OSError, ValueError):
        return 2**20


# Rough speeds for picking T (not results): per-step floor (µs) and sustained GFLOP/s.
COMPILED_FLOOR_US, LOOP_FLOOR_US, ASSUMED_GFLOPS = 2.0, 40.0, 20.0


def est_us(tool: str, cell: str, h: int, b: int, i: int, dtype: str) -> float:
    """A pessimistic guess of µs per step (forward + grad), only to pick T."""
    w = step_work(cell, h, b, i, "grad", np.dtype(dtype).itemsize)
    floor = LOOP_FLOOR_US if tool in ("numpy", "torch_loop") else COMPILED_FLOOR_US
    if cell == "ssm":
        floor *= 1 + b / 4  # (B, D, N) elementwise work every step
    return max(floor, w["flops"] / (ASSUMED_GFLOPS * 1e3), w["bytes"] / 5e3)


def nice_floor(x: float) -> int:
    e = 10 ** math.floor(math.log10(max(x, 1.0)))
    return int(max(m * e for m in (1, 2, 5) if m * e <= max(x, 1.0)))


def grid_t(pl: dict[str, Any], tool: str, cell: str, h: int, b: int, dtype: str, i: int) -> int:
    """T for one grid case: a run of about `run_s` at the guessed speed, within
    [T_min, T_max] and a memory estimate. longdep and JAX share one T (both amortise a
    per-call cost); the loops, whose cost per step does not depend on T, their own."""
    loop = tool in ("numpy", "torch_loop")
    group = "numpy" if loop else "jax"
    t = pl["grid_run_s"] * 1e6 / est_us(group, cell, h, b, i, dtype)
    t_max = pl["grid_T_max_loop"] if loop else pl["grid_T_max"]
    t = min(max(t, pl["grid_T_min"]), t_max)
    if cell in CELLS:  # what JAX's reverse scan holds (the largest of the peers)
        per_step = est_mem_mb("jax", "grad", cell, h, b, 1, dtype)
        t = min(t, max(pl["grid_T_min"], 1024 / per_step))
    return nice_floor(t)


def grid_rows(pl: dict[str, Any]) -> list[tuple[str, int, int, str]]:
    rows = []
    for spec in pl["grid_sets"]:
        for cell in spec["cells"]:
            for h in spec["Hs"]:
                for b in spec["Bs"]:
                    for dtype in spec["dtypes"]:
                        rows.append((cell, h, b, dtype))
    return rows


def tools_for(cell: str, tools: list[str], pl: dict[str, Any]) -> list[str]:
    """The tools a grid row runs: no torch for the diagonal cells (not written), the
    hand-derived JAX step for Elman only."""
    out = [t for t in tools if t not in pl.get("grid_skip_tools", [])]
    if cell in DIAG:
        out = [t for t in out if t not in ("torch_loop", "torch_fused", "jax_hand")]
    elif cell != "elman":
        out = [t for t in out if t != "jax_hand"]
    return out


def plan(args: argparse.Namespace) -> dict[str, Any]:
    if args.quick:
        return {
            "grid_sets": [
                {"cells": ["elman", "lstm"], "Hs": [64], "Bs": [1, 16], "dtypes": ["float32"]},
                {"cells": ["elman"], "Hs": [64], "Bs": [1], "dtypes": ["float64"]},
                {"cells": DIAG, "Hs": [64], "Bs": [1], "dtypes": ["float32"]},
                {"cells": ["mingru"], "Hs": [64], "Bs": [16], "dtypes": ["float32"]},
            ],
            "grid_skip_tools": ["longdep_1t", "torch_fused"],
            "grid_run_s": 0.02,
            "grid_T_min": 50,
            "grid_T_max": 2000,
            "grid_T_max_loop": 500,
            "peak": {"n": 768, "seconds": 0.3},
            "bandwidth": {"mb": 64, "seconds": 0.3},
            "ladder": {"cells": ["elman"], "H": 128, "B": 1, "dtype": "float32"},
            "ladder_T": [1000, 10000],
            "ladder_T_extra": {},
            "threads": {"cells": ["elman"], "H": 128, "B": 16, "T": 2000},
            "longmem": [("elman", "grad_norms", 10**5), ("elman", "sensitivity", 10**5)],
            "parity_T": 100,
        }
    cells = list(CELLS)
    return {
        "grid_sets": [
            {"cells": cells, "Hs": [128, 256, 1024], "Bs": [1, 16, 64], "dtypes": ["float32"]},
            {"cells": cells, "Hs": [128, 256], "Bs": [1, 16], "dtypes": ["float64"]},
            {"cells": DIAG, "Hs": [128], "Bs": [1, 16], "dtypes": ["float32"]},
        ],
        "grid_skip_tools": [],
        # T per case: about grid_run_s a run at a pessimistic guessed speed (est_us),
        # within [grid_T_min, grid_T_max]; the loops' cost per step does not depend on T
        # (no per-call compile or dispatch to amortise), so they stop at a shorter T.
        "grid_run_s": args.grid_run_s,
        "grid_T_min": 50,
        "grid_T_max": args.grid_t,
        "grid_T_max_loop": min(args.grid_t, 2000),
        "peak": {"n": 1536, "seconds": 1.5},
        "bandwidth": {"mb": 512, "seconds": 1.5},
        "ladder": {"cells": cells, "H": 128, "B": 1, "dtype": "float32"},
        "ladder_T": [10**3, 10**4, 10**5, 10**6],
        # One more rung for the Elman headline: where the peers run out of memory.
        "ladder_T_extra": {"elman": [10**7]},
        "threads": {"cells": cells, "H": 128, "B": 16, "T": 20000},
        "longmem": [
            ("elman", "grad_norms", 10**7),
            ("elman", "sensitivity", 10**7),
            ("lstm", "grad_norms", 10**7),
            ("gru", "grad_norms", 10**7),
        ],
        "parity_T": 300,
    }


def tools_available() -> dict[str, bool]:
    return {
        "longdep": True,
        "longdep_1t": True,
        "numpy": True,
        "jax": have("jax"),
        "jax_hand": have("jax"),
        "torch_loop": have("torch"),
        "torch_fused": have("torch"),
    }


def main_parent(args: argparse.Namespace) -> None:
    r = Runner(args)
    pl = plan(args)
    pl["grid_rows"] = [list(x) for x in grid_rows(pl)]
    avail = tools_available()
    tools = [t for t in TOOLS if avail[t] and (not args.tools or t in args.tools)]
    started = time.time()
    report: dict[str, Any] = {
        "date": dt.date.today().isoformat(),
        "started": dt.datetime.now().isoformat(timespec="seconds"),
        "command": " ".join(["python", *sys.argv]),
        "options": vars(args),
        "machine": machine_info(),
        "load_avg_start": os.getloadavg(),
        "tools_available": avail,
        "plan": pl,
    }
    r.say(f"machine: {report['machine']}")
    r.say(f"load average at start: {report['load_avg_start']}")

    r.say("== parity (float64, per-step ln-norms vs longdep) ==")
    par = r.run_child("parity", {"T": pl["parity_T"], "H": 32, "I": args.input_size}, 300)
    report["parity"] = par["results"][0]["parity"] if par["results"] else {"error": par}
    r.say(json.dumps(report["parity"], indent=1))

    r.say("== machine bound (Rust SIMD gemv alone) ==")
    rows = [x for x in grid_rows(pl) if x[0] in CELLS]
    hs = sorted({x[1] for x in rows} | {pl["ladder"]["H"], pl["threads"]["H"]})
    dts = sorted({x[3] for x in rows})
    bd = r.run_child("bound", {"Hs": hs, "dtypes": dts, "reps": 2000}, args.timeout)
    report["bound"] = bd["results"][0]["bound"] if bd["results"] else []
    for row in report["bound"]:
        r.say(f"  {row}")

    r.say("== machine: FMA peak (NumPy gemm) and memory bandwidth, each in its own child ==")
    cores = os.cpu_count() or 1
    report["peak"] = {}
    for k in sorted({1, cores}):
        env = {v: str(k) for v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}
        spec = {**pl["peak"], "dtypes": ["float32", "float64"], "threads": k}
        res = r.run_child("peak", spec, args.timeout, env=env)
        report["peak"][str(k)] = res["results"][0]["peak"] if res["results"] else {}
        r.say(f"  gemm {pl['peak']['n']}, {k} thread(s): {report['peak'][str(k)]}")
    res = r.run_child("bandwidth", {**pl["bandwidth"], "threads": sorted({1, cores})}, args.timeout)
    report["bandwidth"] = res["results"][0]["bandwidth"] if res["results"] else {}
    r.say(f"  bandwidth ({pl['bandwidth']['mb']} MB arrays): {report['bandwidth']}")

    r.say("== ladder (T up to what each tool holds) ==")
    lad = pl["ladder"]
    report["ladder"] = []
    for cell in lad["cells"]:
        ts = pl["ladder_T"] + pl["ladder_T_extra"].get(cell, [])
        for tool in (t for t in tools if t != "jax_hand"):
            report["ladder"] += ladder(r, tool, cell, lad["H"], lad["B"], lad["dtype"], ts)

    r.say("== threads (longdep, B = 16, threads=1 vs 2) ==")
    report["threads"] = []
    thr = pl["threads"]
    mr, rb = pick_reps(args)
    for cell in thr["cells"]:
        spec = {
            "cell": cell,
            "H": thr["H"],
            "B": thr["B"],
            "I": args.input_size,
            "T": thr["T"],
            "dtype": "float32",
            "max_reps": mr,
            "rep_budget": rb,
        }
        res = r.run_child("threads", spec, args.timeout)
        row = {**spec, "result": res["results"][0]["threads"] if res["results"] else res}
        report["threads"].append(row)
        if res["results"]:
            t = row["result"]
            r.say(
                f"  {cell}: fwd x{t['fwd_speedup']:.2f}, grad x{t['grad_speedup']:.2f} "
                f"(1 thread {t['grad_t1']['us_per_step']:.3g} us/step, 2 threads "
                f"{t['grad_t2']['us_per_step']:.3g})"
            )

    r.say("== long-T memory (longdep, H = 128, B = 1, float32) ==")
    report["longmem"] = []
    for cell, what, t in pl["longmem"]:
        if args.skip_longmem:
            break
        spec = {"cell": cell, "what": what, "T": t, "H": 128, "I": args.input_size}
        spec["dtype"] = "float32"
        res = r.run_child("longmem", spec, max(args.timeout, 600))
        row = {**spec, "child": {k: res[k] for k in ("ended", "wall_s", "max_rss_seen_mb")}}
        row["result"] = res["results"][0] if res["results"] else {"status": res["ended"]}
        report["longmem"].append(row)
        rr = row["result"]
        if rr.get("status") == "ok":
            r.say(
                f"  {cell} {what} T={t}: {rr['seconds']:.1f} s, peak {rr['peak_rss_mb']:.0f} MB, "
                f"minus in+out {rr['peak_minus_io_mb']:.0f} MB, call extra {rr['call_extra_mb']:.1f} MB"
            )
        else:
            r.say(f"  {cell} {what} T={t}: {res['ended']} {res['stderr_tail'][-300:]}")

    r.say("== grid (every config, T per case) ==")
    report["grid"] = []
    for cell, h, b, dtype in grid_rows(pl):
        for tool in tools_for(cell, tools, pl):
            t_grid = grid_t(pl, tool, cell, h, b, dtype, args.input_size)
            modes = ["grad"] if tool == "jax_hand" else list(MODES)
            report["grid"].append(bench_case(r, tool, cell, h, b, t_grid, dtype, modes, grid=True))

    report["load_avg_end"] = os.getloadavg()
    report["wall_s"] = time.time() - started
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = report["date"] + ("-quick" if args.quick else "")
    jpath, mpath = out_dir / f"{stem}.json", out_dir / f"{stem}.md"
    tmp = jpath.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(report, indent=1))
    tmp.replace(jpath)
    mpath.write_text(render_markdown(report))
    r.say(f"wrote {jpath} and {mpath} in {report['wall_s']:.0f} s")


# --------------------------------------------------------------------------- report


def fmt_us(x: float | None) -> str:
    if x is None:
        return "–"
    if x >= 100:
        return f"{x:.0f}"
    if x >= 10:
        return f"{x:.1f}"
    return f"{x:.2f}"


def cell_status(res: dict[str, Any] | None) -> str:
    if not res:
        return "–"
    if res.get("status") == "ok":
        return fmt_us(res["us_per_step"])
    return str(res.get("status"))


def us_of(res: dict[str, Any] | None) -> float | None:
    if res and res.get("status") == "ok":
        return res["us_per_step"]
    return None


def ratio(a: float | None, b: float | None) -> str:
    if a is None or b is None:
        return "–"
    return f"{a / b:.2f}×"


def bound_us(
    report: dict[str, Any],
    cell: str,
    h: int,
    dtype: str,
    mode: str,
    ckpt: bool,
    split: bool = False,
) -> float | None:
    """Every matrix-vector product a step needs, timed alone: one thread's share when
    longdep splits the sequence over two threads."""
    for row in report.get("bound", []):
        if (row["cell"], row["H"], row["dtype"]) == (cell, h, dtype):
            f, r = (row["fwd2_us"], row["rev2_us"]) if split else (row["fwd_us"], row["rev_us"])
            if mode == "fwd":
                return f
            return f * (2 if ckpt else 1) + r
    return None


def ld_bound(
    rep: dict[str, Any], idx, tool: str, cell: str, h: int, b: int, dtype: str, t: int, mode: str
):
    row = idx.get((tool, cell, h, b, dtype, t), {})
    split = row.get("split_parts", 1) > 1
    bnd = bound_us(rep, cell, h, dtype, mode, row.get("checkpointed", False), split)
    return bnd * b if bnd is not None else None


def index(rows: list[dict[str, Any]]) -> dict[tuple, dict[str, Any]]:
    return {(x["tool"], x["cell"], x["H"], x["B"], x["dtype"], x["T"]): x for x in rows}


def mode_res(idx, tool, cell, h, b, dtype, t, mode) -> dict[str, Any] | None:
    row = idx.get((tool, cell, h, b, dtype, t))
    if row is None:
        return None
    return row["modes_result"].get(mode)


def render_markdown(rep: dict[str, Any]) -> str:
    m = rep["machine"]
    rows_all = rep.get("ladder", []) + rep.get("grid", [])
    idx = index(rows_all)
    tools = [t for t in TOOLS if rep["tools_available"].get(t)]
    out: list[str] = []
    w = out.append
    w(f"# longdep benchmark, {rep['date']}\n")
    w(
        f"{m['cpu']}, {m['cores']} cores, {m['memory_gb']} GB, SIMD `{m['simd_level']}`; "
        + ", ".join(f"{k} {v}" for k, v in m["versions"].items())
        + f"; repo HEAD `{m['git_commit'][:10]}`"
        + (" (with uncommitted library changes)" if m.get("library_tree_dirty") else "")
        + ".\n"
    )
    la0, la1 = rep["load_avg_start"], rep.get("load_avg_end", [float("nan")] * 3)
    w(
        f"Load average (1/5/15 min) at start {la0[0]:.2f}/{la0[1]:.2f}/{la0[2]:.2f}, "
        f"at end {la1[0]:.2f}/{la1[1]:.2f}/{la1[2]:.2f}; wall time {rep.get('wall_s', 0) / 60:.1f} min. "
        f"Input size I = {rep['options']['input_size']}, memory cap "
        f"{rep['options']['max_rss_gb']} GB per case. Command: `{rep['command']}`.\n"
    )
    if rep["options"].get("note"):
        w(f"Note: {rep['options']['note']}\n")
    w(f"longdep imported from `{m.get('longdep_path')}`.\n")
    missing = [TOOL_NAMES[t] for t in TOOLS if not rep["tools_available"].get(t)]
    if missing:
        w(f"Not installed (skipped): {', '.join(missing)}.\n")
    w(
        "All times are microseconds per time step (the whole batch), best of the repetitions. "
        "“grad” = forward + per-step ‖dL/dh_t‖ for every t (torch fused: forward + backward to "
        "h0 only, no per-step norms — a lower bound for what cuDNN-style kernels give). "
        "Ratios “peer/ld” > 1 mean longdep is faster.\n"
    )

    # ---- targets
    lad = rep["plan"]["ladder"]
    h0, b0, d0 = lad["H"], lad["B"], lad["dtype"]
    tt = rep["options"]["target_t"]
    w(f"## Targets (issue 4), H = {h0}, B = {b0}, {d0}, T = {tt:.0e}\n")
    w(
        "“longdep” uses its default threads (here: one sequence split by hidden unit over "
        "both cores; the peers also run with their default threads); rows marked “longdep "
        "on 1 thread” pass `threads=1`. The matvec bound is every matrix-vector product "
        "a step needs, timed alone in Rust on one core at the same sizes.\n"
    )
    w("| target | longdep µs/step | peer µs/step | measured | goal | met |")
    w("|---|---|---|---|---|---|")

    def target_row(label, cell, peer, goal, mode="grad", tool="longdep"):
        ld_us = us_of(mode_res(idx, tool, cell, h0, b0, d0, tt, mode))
        if peer == "bound":
            p_us = ld_bound(rep, idx, tool, cell, h0, b0, d0, tt, mode)
            val = ld_us / p_us if ld_us and p_us else None
            met = "–" if val is None else ("yes" if val <= goal else "no")
            txt = f"{val:.2f}× the bound" if val else "–"
            w(f"| {label} | {fmt_us(ld_us)} | {fmt_us(p_us)} (bound) | {txt} | ≤ {goal}× | {met} |")
            return
        pr = mode_res(idx, peer, cell, h0, b0, d0, tt, mode)
        p_us = us_of(pr)
        val = p_us / ld_us if ld_us and p_us else None
        met = "–" if val is None else ("yes" if val >= goal else "no")
        txt = f"{val:.2f}×" if val else cell_status(pr)
        w(f"| {label} | {fmt_us(ld_us)} | {fmt_us(p_us)} | {txt} | ≥ {goal}× | {met} |")

    one = ", longdep on 1 thread"
    target_row("Elman fwd+grad vs NumPy loop", "elman", "numpy", 5)
    target_row("Elman fwd+grad vs torch cell loop", "elman", "torch_loop", 50)
    target_row("Elman fwd+grad vs JAX (compile excluded)", "elman", "jax", 2)
    target_row("Elman fwd+grad vs matvec bound" + one, "elman", "bound", 1.5, tool="longdep_1t")
    target_row("Elman forward vs matvec bound" + one, "elman", "bound", 1.5, "fwd", "longdep_1t")
    target_row("LSTM fwd+grad vs JAX", "lstm", "jax", 3)
    target_row("LSTM fwd+grad vs matvec bound" + one, "lstm", "bound", 1.5, tool="longdep_1t")
    target_row("GRU fwd+grad vs JAX", "gru", "jax", 3)
    target_row("GRU fwd+grad vs JAX" + one, "gru", "jax", 3, tool="longdep_1t")
    target_row(
        "Elman fwd+grad vs torch cell loop" + one, "elman", "torch_loop", 50, tool="longdep_1t"
    )
    target_row("Elman fwd+grad vs JAX" + one, "elman", "jax", 2, tool="longdep_1t")
    target_row("LSTM fwd+grad vs JAX" + one, "lstm", "jax", 3, tool="longdep_1t")
    split = " (split over 2 threads) vs one thread's share of the products"
    target_row("Elman fwd+grad" + split, "elman", "bound", 1.5)
    target_row("LSTM fwd+grad" + split, "lstm", "bound", 1.5)
    for row in rep.get("threads", []):
        res = row["result"]
        for mode, what in (("grad", "fwd+grad"), ("fwd", "forward")):
            if f"{mode}_speedup" not in res:
                continue
            sp = res[f"{mode}_speedup"]
            w(
                f"| {row['cell']} B = {row['B']} {what}, 2 threads vs 1 (throughput) | "
                f"{fmt_us(res[f'{mode}_t2']['us_per_step'])} | "
                f"{fmt_us(res[f'{mode}_t1']['us_per_step'])} (1 thread) | "
                f"{sp:.2f}× | ≥ 1.7× | {'yes' if sp >= 1.7 else 'no'} |"
            )
    for row in rep.get("longmem", []):
        res = row["result"]
        if res.get("status") == "ok":
            gib = res["peak_minus_io_mb"] / 1024
            w(
                f"| {row['cell']} {row['what']} T = {row['T']:.0e}: peak RSS − input − output | "
                f"{res['peak_minus_io_mb']:.0f} MB | – | {gib:.3f} GiB (call itself +{res['call_extra_mb']:.1f} MB) | "
                f"< 1 GiB | {'yes' if gib < 1 else 'no'} |"
            )
        else:
            w(
                f"| {row['cell']} {row['what']} T = {row['T']:.0e} | {res.get('status')} | | | < 1 GiB | no |"
            )
    w("")

    # ---- ladder
    w(f"## Long sequences: µs/step (peak RSS MB) vs T, H = {h0}, B = {b0}, {d0}\n")
    ts = sorted({x["T"] for x in rep.get("ladder", [])})
    w("| cell | tool | mode | " + " | ".join(f"T = {t:.0e}" for t in ts) + " |")
    w("|---|---|---|" + "---|" * len(ts))
    for cell in lad["cells"]:
        for tool in tools:
            for mode in MODES:
                cells_txt = []
                for t in ts:
                    res = mode_res(idx, tool, cell, h0, b0, d0, t, mode)
                    if res and res.get("status") == "ok":
                        ck = idx[(tool, cell, h0, b0, d0, t)].get("checkpointed")
                        is_ld = tool in ("longdep", "longdep_1t")
                        mark = " ckpt" if (is_ld and mode == "grad" and ck) else ""
                        cells_txt.append(
                            f"{fmt_us(res['us_per_step'])} ({res['peak_rss_mb']:.0f}){mark}"
                        )
                    else:
                        cells_txt.append(cell_status(res))
                w(f"| {cell} | {TOOL_NAMES[tool]} | {mode} | " + " | ".join(cells_txt) + " |")
    w("")
    w(
        "“ckpt”: longdep's reverse pass checkpointed (records over its 512 MiB budget) and "
        "recomputed each segment, i.e. two forward products and one reverse product per step. "
        "“longdep” runs with the default threads: with B = 1 it splits Elman and LSTM "
        "sequences by hidden unit over both cores (the peers use their own default threads "
        "too); “longdep 1 thread” is `threads=1`.\n"
    )

    # ---- machine and grid
    rows_g = rep.get("grid", [])
    gidx = {(x["tool"], x["cell"], x["H"], x["B"], x["dtype"]): x for x in rows_g}
    cores = m.get("cores") or 1
    w("## The machine's bounds, measured in this run\n")
    w("| reference | 1 thread | all threads |")
    w("|---|---|---|")
    pk, bw = rep.get("peak", {}), rep.get("bandwidth", {})
    for dt_ in ("float32", "float64"):
        vals = [pk.get(k, {}).get(dt_, {}).get("gflops") for k in ("1", str(cores))]
        w(
            f"| FMA peak, {dt_} (NumPy gemm) GFLOP/s | "
            + " | ".join(f"{v:.1f}" if v else "–" for v in vals)
            + " |"
        )
    for what, key in (("copy (read + write)", "copy_gbs"), ("sum (read)", "read_gbs")):
        vals = [bw.get(k, {}).get(key) for k in ("1", str(cores))]
        w(
            f"| memory bandwidth, {what} GB/s | "
            + " | ".join(f"{v:.1f}" if v else "–" for v in vals)
            + " |"
        )
    w("")
    w(
        f"gemm: {rep['plan'].get('peak', {}).get('n')}² matrices, best of the repetitions, in a child "
        "with OPENBLAS_NUM_THREADS = OMP_NUM_THREADS = MKL_NUM_THREADS = the thread count; "
        f"bandwidth: {rep['plan'].get('bandwidth', {}).get('mb')} MB float64 arrays, one slice per thread. "
        "A case on k threads is compared with min(k × the 1-thread figure, the all-threads figure).\n"
    )

    def peak_of(dtype: str, k: int) -> float | None:
        one = pk.get("1", {}).get(dtype, {}).get("gflops")
        top = pk.get(str(cores), {}).get(dtype, {}).get("gflops")
        if one is None or top is None:
            return None
        return min(top, k * one) if k < cores else top

    def bw_of(k: int) -> float | None:
        one, top = bw.get("1", {}).get("copy_gbs"), bw.get(str(cores), {}).get("copy_gbs")
        if one is None or top is None:
            return None
        return min(top, k * one) if k < cores else top

    def fractions(tool: str, cell: str, h: int, b: int, dtype: str, mode: str) -> dict[str, Any]:
        row = gidx.get((tool, cell, h, b, dtype))
        us = us_of(row["modes_result"].get(mode)) if row else None
        if us is None or row is None:
            return {}
        k = row.get("threads_used", cores)
        wk = step_work(cell, h, b, rep["options"]["input_size"], mode, np.dtype(dtype).itemsize)
        gf, gb = wk["flops"] / us / 1e3, wk["bytes"] / us / 1e3
        pkv, bwv = peak_of(dtype, k), bw_of(k)
        t_f = wk["flops"] / (pkv * 1e3) if pkv else 0.0
        t_b = wk["bytes"] / (bwv * 1e3) if bwv else 0.0
        return {
            "threads": k,
            "gflops": gf,
            "pct_peak": 100 * gf / pkv if pkv else None,
            "gbs": gb,
            "pct_bw": 100 * gb / bwv if bwv and wk["bytes"] else None,
            "limit": "bytes" if t_b > t_f else "flops",
            "pct_roof": 100 * max(t_f, t_b) / us if (pkv or bwv) else None,
        }

    def pct(x: float | None) -> str:
        return "–" if x is None else f"{x:.0f} %" if x >= 10 else f"{x:.1f} %"

    gtools = [t for t in tools if any(x["tool"] == t for x in rows_g)]
    peers = [t for t in gtools if t not in ("longdep", "longdep_1t", "torch_fused")]
    w("## All configurations: µs per time step (the whole batch)\n")
    w(
        "T per case: longdep and JAX share one T, chosen so a run takes about "
        f"{rep['plan'].get('grid_run_s')} s at a pessimistic guessed speed "
        f"(between {rep['plan'].get('grid_T_min')} and {rep['plan'].get('grid_T_max')}); "
        f"the loops stop at T = {rep['plan'].get('grid_T_max_loop')} (their cost per step "
        "does not depend on T). “X/ld” = X's time over longdep's (> 1: longdep faster). "
        "The diagonal cells (minGRU … LRU) have no torch version here; “JAX hand-derived "
        "step” is written for Elman only (grad).\n"
    )
    head = ["cell", "H", "B", "dtype", "mode", "T ld/JAX", "T loop"]
    head += [TOOL_NAMES[t] for t in gtools] + [f"{TOOL_NAMES[t]}/ld" for t in peers]
    head += ["gemv bound", "ld/bound", "JAX compile s"]
    w("| " + " | ".join(head) + " |")
    w("|" + "---|" * len(head))
    rows_plan = [tuple(x) for x in rep["plan"].get("grid_rows", [])]
    for cell, h, b, dtype in rows_plan:
        for mode in MODES:
            vals = {
                t: (
                    gidx[(t, cell, h, b, dtype)]["modes_result"].get(mode)
                    if (t, cell, h, b, dtype) in gidx
                    else None
                )
                for t in gtools
            }
            if not any(vals.values()):
                continue
            ld_us = us_of(vals.get("longdep"))
            t_ld = gidx.get(("longdep", cell, h, b, dtype), {}).get("T")
            t_lp = gidx.get(("numpy", cell, h, b, dtype), {}).get("T")
            bnd = None
            if cell in CELLS and ("longdep", cell, h, b, dtype) in gidx:
                lr = gidx[("longdep", cell, h, b, dtype)]
                bb = bound_us(
                    rep,
                    cell,
                    h,
                    dtype,
                    mode,
                    lr.get("checkpointed", False),
                    lr.get("split_parts", 1) > 1,
                )
                bnd = bb * b if bb is not None else None
            line = [
                CELL_NAMES.get(cell, cell),
                str(h),
                str(b),
                dtype,
                mode,
                str(t_ld or "–"),
                str(t_lp or "–"),
            ]
            line += [cell_status(vals[t]) if vals[t] else "–" for t in gtools]
            line += [ratio(us_of(vals[t]), ld_us) for t in peers]
            line += [fmt_us(bnd), ratio(ld_us, bnd)]
            jc = (vals.get("jax") or {}).get("compile_s")
            line.append(f"{jc:.2f}" if jc else "–")
            w("| " + " | ".join(line) + " |")
    w("")
    w(
        "gemv bound: the Rust SIMD matrix-vector kernel alone (`ld._core.gemv_seconds`), every "
        "product a step needs (forward W_hh·h; grad + W_hhᵀ·g, + another W_hh·h when longdep "
        "checkpoints) times B; one thread's share when longdep splits a single sequence.\n"
    )

    w("## Fraction of the machine's bound (longdep, default threads; JAX on all threads)\n")
    w(
        "Work per step for the whole batch: dense cells 2·G·H²·B flops for the recurrent "
        "product (twice for forward + grad) + 2·G·H·I·B for the input projection, and W_hh "
        f"streamed once per pass when it exceeds one core's L2 ({l2_bytes() // 1024} KiB); "
        "diagonal cells their input projections in flops and x_t read + y_t written per pass "
        "in bytes (forward one pass, forward + grad two). “% of roofline” = max(flops / peak, "
        "bytes / bandwidth) / time, with the peak and bandwidth of the threads the case uses.\n"
    )
    head = [
        "cell",
        "H",
        "B",
        "dtype",
        "mode",
        "threads",
        "GFLOP/s",
        "% FMA peak",
        "GB/s",
        "% bandwidth",
        "limit",
        "% of roofline",
        "JAX % FMA peak",
        "JAX % of roofline",
    ]
    w("| " + " | ".join(head) + " |")
    w("|" + "---|" * len(head))
    for cell, h, b, dtype in rows_plan:
        for mode in MODES:
            f = fractions("longdep", cell, h, b, dtype, mode)
            if not f:
                continue
            fj = fractions("jax", cell, h, b, dtype, mode)
            w(
                f"| {CELL_NAMES.get(cell, cell)} | {h} | {b} | {dtype} | {mode} | {f['threads']} | "
                f"{f['gflops']:.1f} | {pct(f['pct_peak'])} | {f['gbs']:.2f} | {pct(f['pct_bw'])} | "
                f"{f['limit']} | {pct(f['pct_roof'])} | {pct(fj.get('pct_peak'))} | {pct(fj.get('pct_roof'))} |"
            )
    w("")

    # ---- issue 17 targets, computed from the rows above
    w("## Targets (issue 17), from the measurements above\n")
    w("| target | row | measured | goal | met |")
    w("|---|---|---|---|---|")
    tally: dict[str, list[bool]] = {}

    def target(
        name: str, label: str, val: float | None, txt: str, goal: str, ok: bool | None
    ) -> None:
        met = "–" if ok is None else ("yes" if ok else "no")
        if ok is not None:
            tally.setdefault(name, []).append(ok)
        w(f"| {name} | {label} | {txt if val is not None else '–'} | {goal} | {met} |")

    for cell, h, b, dtype in rows_plan:
        for mode in MODES:
            lab = f"{CELL_NAMES.get(cell, cell)} H {h} B {b} {dtype} {mode}"
            ld_us = us_of(
                (gidx.get(("longdep", cell, h, b, dtype)) or {}).get("modes_result", {}).get(mode)
            )
            j_us = us_of(
                (gidx.get(("jax", cell, h, b, dtype)) or {}).get("modes_result", {}).get(mode)
            )
            if ld_us and j_us:
                r_ = j_us / ld_us
                target("≥ 3× JAX", lab, r_, f"{r_:.2f}×", "≥ 3×", r_ >= 3)
    for cell, h, b, dtype in rows_plan:
        if cell not in CELLS or b < 16 or h < 128:
            continue
        for mode in MODES:
            f = fractions("longdep", cell, h, b, dtype, mode)
            if f.get("pct_peak") is not None:
                target(
                    "≥ 50 % of FMA peak",
                    f"{CELL_NAMES[cell]} H {h} B {b} {dtype} {mode}",
                    f["pct_peak"],
                    pct(f["pct_peak"]),
                    "≥ 50 %",
                    f["pct_peak"] >= 50,
                )
    for cell, h, b, dtype in rows_plan:
        if cell not in ("elman", "lstm") or b != 1:
            continue
        lr = gidx.get(("longdep", cell, h, b, dtype))
        ld_us = us_of(lr["modes_result"].get("grad")) if lr else None
        bb = bound_us(rep, cell, h, dtype, "grad", bool(lr and lr.get("checkpointed")), True)
        if ld_us and bb:
            target(
                "B = 1: within 1.3× of the two-core product bound",
                f"{CELL_NAMES[cell]} H {h} {dtype} grad",
                ld_us / bb,
                f"{ld_us / bb:.2f}× ({fmt_us(ld_us)} vs {fmt_us(bb)} µs)",
                "≤ 1.3×",
                ld_us / bb <= 1.3,
            )
        if cell == "elman":
            jh = us_of(
                (gidx.get(("jax_hand", cell, h, b, dtype)) or {})
                .get("modes_result", {})
                .get("grad")
            )
            if ld_us and jh:
                target(
                    "B = 1: ≥ 3× the hand-derived JAX step",
                    f"Elman H {h} {dtype} grad",
                    jh / ld_us,
                    f"{jh / ld_us:.2f}×",
                    "≥ 3×",
                    jh / ld_us >= 3,
                )
    for cell in rep["plan"]["ladder"]["cells"]:
        for mode in MODES:
            us = [
                us_of(x["modes_result"].get(mode))
                for x in rep.get("ladder", [])
                if x["tool"] == "longdep" and x["cell"] == cell
            ]
            us = [u for u in us if u]
            if len(us) >= 2:
                spread = max(us) / min(us)
                ts_ = [
                    x["T"] for x in rep["ladder"] if x["tool"] == "longdep" and x["cell"] == cell
                ]
                target(
                    "cost of T: µs/step constant within 1.3×",
                    f"{CELL_NAMES[cell]} {mode}, T = {min(ts_):.0e} … {max(ts_):.0e}",
                    spread,
                    f"max/min {spread:.2f}×",
                    "≤ 1.3×",
                    spread <= 1.3,
                )
    for row in rep.get("longmem", []):
        res = row["result"]
        if res.get("status") == "ok":
            gib = res["peak_minus_io_mb"] / 1024
            target(
                "memory: peak − input − output",
                f"{row['cell']} {row['what']} T = {row['T']:.0e}",
                gib,
                f"{gib:.3f} GiB",
                "< 1 GiB",
                gib < 1,
            )
    w("")
    for name, oks in tally.items():
        w(f"- {name}: {sum(oks)} of {len(oks)} rows met.")
    w("")

    # ---- threads
    if rep.get("threads"):
        w("## Threads: longdep, B = 16, H = 128, float32 (throughput = steps × B / s)\n")
        w("| cell | T | mode | 1 thread µs/step | 2 threads µs/step | 2 vs 1 |")
        w("|---|---|---|---|---|---|")
        for row in rep["threads"]:
            res = row["result"]
            if "fwd_speedup" not in res:
                w(f"| {row['cell']} | {row['T']} | – | {res.get('ended')} | | |")
                continue
            for mode in ("fwd", "grad"):
                w(
                    f"| {row['cell']} | {row['T']} | {mode} | {fmt_us(res[f'{mode}_t1']['us_per_step'])} | "
                    f"{fmt_us(res[f'{mode}_t2']['us_per_step'])} | {res[f'{mode}_speedup']:.2f}× |"
                )
        w("")

    # ---- long-T memory
    if rep.get("longmem"):
        w("## Long-T memory: longdep, H = 128, B = 1, float32\n")
        w(
            "| cell | call | T | s | µs/step | peak RSS MB | input+output MB | peak − in − out MB | during call MB |"
        )
        w("|---|---|---|---|---|---|---|---|---|")
        for row in rep["longmem"]:
            res = row["result"]
            if res.get("status") != "ok":
                w(
                    f"| {row['cell']} | {row['what']} | {row['T']:.0e} | {res.get('status')} | | | | | |"
                )
                continue
            w(
                f"| {row['cell']} | {row['what']} | {row['T']:.0e} | {res['seconds']:.1f} | "
                f"{fmt_us(res['us_per_step'])} | {res['peak_rss_mb']:.0f} | {res['input_output_mb']:.0f} | "
                f"{res['peak_minus_io_mb']:.0f} | {res['call_extra_mb']:.1f} |"
            )
        w("")
        w(
            "peak RSS is the whole process (Python, NumPy, longdep, input and output arrays) "
            "during the call; “during call” is peak minus the RSS just before it (with the "
            "input and the `out=` array already allocated and touched).\n"
        )

    # ---- parity
    par = rep.get("parity", {})
    if par and "error" not in par:
        w("## Parity (float64, B = 2, H = 32): max |Δ ln‖dL/dh_t‖| and max |Δh| vs longdep\n")
        w("| cell | T | " + " | ".join(TOOL_NAMES[t] for t in tools if t != "longdep") + " |")
        w("|---|---|" + "---|" * (len(tools) - 1))
        for cell, d in par.items():
            vals = []
            for t in tools:
                if t == "longdep":
                    continue
                e = d.get(t, {})
                g = e.get("grad_max_abs_log_diff")
                f = e.get("fwd_max_abs_diff")
                vals.append(
                    (f"grad {g:.1e}" if g is not None else "grad –")
                    + (f", fwd {f:.1e}" if f is not None else "")
                )
            w(f"| {cell} | {d['T']} | " + " | ".join(vals) + " |")
        w("")
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- entry


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--quick", action="store_true", help="small smoke-test subset (< 2 min)")
    g.add_argument("--full", action="store_true", help="the whole benchmark (default)")
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent / "results"))
    ap.add_argument("--max-rss-gb", type=float, default=8.0, help="per-case memory cap")
    ap.add_argument("--timeout", type=float, default=300.0, help="hard limit per child, s")
    ap.add_argument(
        "--case-seconds",
        type=float,
        default=30.0,
        help="skip a larger T when one run is predicted to take longer",
    )
    ap.add_argument("--grid-t", type=int, default=10**4, help="largest T of a grid case")
    ap.add_argument(
        "--grid-run-s", type=float, default=0.3, help="seconds a grid run aims at (sets T)"
    )
    ap.add_argument("--target-t", type=int, default=10**5, help="T the targets are read at")
    ap.add_argument("--input-size", type=int, default=1, help="I (pixel-by-pixel style: 1)")
    ap.add_argument("--tools", nargs="*", choices=TOOLS, help="restrict to these tools")
    ap.add_argument("--skip-longmem", action="store_true")
    ap.add_argument("--note", default="", help="free text put at the top of the report")
    ap.add_argument("--render", metavar="JSON", help="only rewrite the .md of a results .json")
    args = ap.parse_args(argv)
    if args.quick:
        args.target_t = min(args.target_t, 10**4)
        args.case_seconds = min(args.case_seconds, 10.0)
        args.timeout = min(args.timeout, 60.0)
    return args


def main() -> None:
    if len(sys.argv) >= 2 and sys.argv[1] == "--child":
        kind, spec = sys.argv[2], json.loads(sys.argv[3])
        {
            "case": child_case,
            "parity": child_parity,
            "bound": child_bound,
            "threads": child_threads,
            "longmem": child_longmem,
            "peak": child_peak,
            "bandwidth": child_bandwidth,
        }[kind](spec)
        return
    args = parse_args()
    if args.render:
        src = Path(args.render)
        src.with_suffix(".md").write_text(render_markdown(json.loads(src.read_text())))
        return
    main_parent(args)


if __name__ == "__main__":
    main()
