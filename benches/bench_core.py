"""Side-by-side benchmark: longdep vs NumPy, JAX and PyTorch, plus the machine's bound.

Every case runs in a fresh child process (``--child``) so that its peak RSS is its own;
the parent kills a child that goes over ``--max-rss-gb`` (reported as OOM) or over
``--timeout`` and skips the next, longer T of a ladder when the last one predicts more
than ``--case-seconds`` per run. Results go to ``<out>/<date>.json`` (every raw number)
and ``<out>/<date>.md`` (the tables). See benches/README.md.

    python benches/bench_core.py --quick      # smoke test, < 2 min
    python benches/bench_core.py --full       # the whole benchmark, ~25 min on 2 cores
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.metadata
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
TOOLS = ["longdep", "longdep_1t", "numpy", "jax", "torch_loop", "torch_fused"]
TOOL_NAMES = {
    "longdep": "longdep",
    "longdep_1t": "longdep 1 thread",
    "numpy": "NumPy loop",
    "jax": "JAX scan+vjp",
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

    c = longdep_cell(cell, h)
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
    p = make_problem(cell, h, b, i, t, dtype)
    compile_s: dict[str, float] = {}
    block = lambda r: r  # noqa: E731
    if tool in ("longdep", "longdep_1t"):
        import longdep as ld

        cls = {"elman": ld.Elman, "lstm": ld.LSTM, "gru": ld.GRU}[cell]
        c = cls(p["w_ih"], p["w_hh"], p["b_ih"], p["b_hh"])
        x, v = p["x"], p["v"]
        threads = 1 if tool == "longdep_1t" else spec.get("threads")
        fns = {
            "fwd": lambda: ld.forward(c, x, threads=threads),
            "grad": lambda: ld.grad_norms(c, x, v, log=True, threads=threads),
        }
    elif tool == "numpy":
        fns = {
            "fwd": lambda: numpy_forward(p, cell)[0],
            "grad": lambda: numpy_grad_norms(p, cell),
        }
    elif tool == "jax":
        fwd_j, grad_j, xj = jax_functions(p, cell)
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
        for name, fn in others.items():
            res[name] = {"grad_max_abs_log_diff": float(np.max(np.abs(fn() - ref)))}
        for name, fn in fw.items():
            res.setdefault(name, {})["fwd_max_abs_diff"] = float(np.max(np.abs(fn() - href)))
        out[cell] = {"T": t, "log_norm_range": [float(ref.min()), float(ref.max())], **res}
    emit({"status": "ok", "parity": out})


def child_bound(spec: dict[str, Any]) -> None:
    import longdep as ld

    rows = []
    for cell, g in CELLS.items():
        for h in spec["Hs"]:
            for dtype in spec["dtypes"]:
                d = dtype == "float64"
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

    def run_child(self, kind: str, spec: dict[str, Any], timeout: float) -> dict[str, Any]:
        """Run one child; its RESULT lines, and how it ended (ok / OOM / timeout / error)."""
        cmd = [sys.executable, os.path.abspath(__file__), "--child", kind, json.dumps(spec)]
        proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1
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


def plan(args: argparse.Namespace) -> dict[str, Any]:
    if args.quick:
        return {
            "grid": {"cells": ["elman", "lstm"], "Hs": [64], "Bs": [1], "dtypes": ["float32"]},
            "grid_T": 2000,
            "grid_T_by_tool": {"torch_loop": 1000},
            "ladder": {"cells": ["elman"], "H": 128, "B": 1, "dtype": "float32"},
            "ladder_T": [1000, 10000],
            "ladder_T_extra": {},
            "threads": {"cells": ["elman"], "H": 128, "B": 16, "T": 2000},
            "longmem": [("elman", "grad_norms", 10**5), ("elman", "sensitivity", 10**5)],
            "parity_T": 100,
        }
    cells = list(CELLS)
    return {
        "grid": {
            "cells": cells,
            "Hs": [64, 128, 256],
            "Bs": [1, 16],
            "dtypes": ["float32", "float64"],
        },
        "grid_T": args.grid_t,
        # A loop's cost per step does not depend on T (no per-call compile or dispatch to
        # amortise, unlike JAX and longdep); a shorter T keeps the full run near 25 min.
        "grid_T_by_tool": {
            t: min(args.grid_t, 2000) for t in ("numpy", "torch_loop", "torch_fused")
        },
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
        "torch_loop": have("torch"),
        "torch_fused": have("torch"),
    }


def main_parent(args: argparse.Namespace) -> None:
    r = Runner(args)
    pl = plan(args)
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
    hs = sorted(set(pl["grid"]["Hs"]) | {pl["ladder"]["H"], pl["threads"]["H"]})
    bd = r.run_child(
        "bound", {"Hs": hs, "dtypes": pl["grid"]["dtypes"], "reps": 2000}, args.timeout
    )
    report["bound"] = bd["results"][0]["bound"] if bd["results"] else []
    for row in report["bound"]:
        r.say(f"  {row}")

    r.say("== ladder (T up to what each tool holds) ==")
    lad = pl["ladder"]
    report["ladder"] = []
    for cell in lad["cells"]:
        ts = pl["ladder_T"] + pl["ladder_T_extra"].get(cell, [])
        for tool in tools:
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

    r.say("== grid (every config at one T) ==")
    report["grid"] = []
    gr = pl["grid"]
    have_rows = {
        (x["tool"], x["cell"], x["H"], x["B"], x["dtype"], x["T"]) for x in report["ladder"]
    }
    for cell in gr["cells"]:
        for h in gr["Hs"]:
            for b in gr["Bs"]:
                for dtype in gr["dtypes"]:
                    for tool in tools:
                        t_grid = pl["grid_T_by_tool"].get(tool, pl["grid_T"])
                        if (tool, cell, h, b, dtype, t_grid) in have_rows:
                            continue
                        report["grid"].append(
                            bench_case(r, tool, cell, h, b, t_grid, dtype, list(MODES), grid=True)
                        )

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

    # ---- grid
    tg = rep["plan"]["grid_T"]
    by_tool = rep["plan"].get("grid_T_by_tool", {})
    other = "".join(f", {TOOL_NAMES[k]} at T = {v:.0e}" for k, v in by_tool.items())
    w(f"## All configurations at T = {tg:.0e}{other}: µs per time step\n")
    head = ["cell", "H", "B", "dtype", "mode", *[TOOL_NAMES[t] for t in tools], "bound"]
    ratios = [f"{TOOL_NAMES[t]}/ld" for t in tools if t not in ("longdep", "torch_fused")]
    head += [*ratios, "ld/bound", "JAX compile s"]
    w("| " + " | ".join(head) + " |")
    w("|" + "---|" * len(head))
    gr = rep["plan"]["grid"]
    for cell in gr["cells"]:
        for h in gr["Hs"]:
            for b in gr["Bs"]:
                for dtype in gr["dtypes"]:
                    for mode in MODES:
                        vals = {
                            t: mode_res(idx, t, cell, h, b, dtype, by_tool.get(t, tg), mode)
                            for t in tools
                        }
                        ld_us = us_of(vals["longdep"])
                        bnd = ld_bound(rep, idx, "longdep", cell, h, b, dtype, tg, mode)
                        line = [cell, str(h), str(b), dtype, mode]
                        line += [cell_status(vals[t]) for t in tools]
                        line.append(fmt_us(bnd))
                        line += [
                            ratio(us_of(vals[t]), ld_us)
                            for t in tools
                            if t not in ("longdep", "torch_fused")
                        ]
                        line.append(ratio(ld_us, bnd))
                        jc = (vals.get("jax") or {}).get("compile_s")
                        line.append(f"{jc:.2f}" if jc else "–")
                        w("| " + " | ".join(line) + " |")
    w("")
    w(
        "bound: the Rust SIMD matrix-vector kernel alone (`ld._core.gemv_seconds`), "
        "every product the method needs per step — forward: W_hh·h (G·H × H); grad: "
        "W_hh·h + W_hhᵀ·g (+ one more W_hh·h when longdep checkpoints) — times B "
        "(one lane at a time on one core; longdep runs the B lanes on both cores; for a "
        "split single sequence, one thread's share: G·H/2 × H forward, H × G·H/2 reverse).\n"
    )

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
    ap.add_argument("--grid-t", type=int, default=10**4, help="T of the all-config grid")
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
