"""One causal self-attention head: the Transformer reference curve.

Recurrent cells pass information from ``x_t`` to the loss at ``T - 1`` through
``T - 1 - t`` Jacobians; attention reaches every earlier position in one step, so its
gradient is damped only by the attention weight ``a_t``, not by a product over the
distance. The head is computed in NumPy (no recurrent state, nothing to stream); the
last-position gradient has a closed form evaluated for all ``t`` at once.
"""

from __future__ import annotations

import os
from typing import Any, ClassVar

import numpy as np

from ._validate import (
    as_float_array,
    choice,
    compute_dtype,
    frozen_copy,
    require_bool,
    require_finite,
    shape_str,
)
from .errors import ArgumentError, ShapeError

__all__ = ["Attention"]

#: Elements of one block of attention scores in ``forward`` (bounds its memory).
_SCORE_BLOCK = 1 << 22
_LN_EPS = 1e-5


def _threads(threads: Any) -> int | None:
    """Validated like the Rust-backed functions; NumPy decides its own threading."""
    if threads is None:
        env = os.environ.get("LONGDEP_NUM_THREADS", "").strip()
        if env and (not env.isdigit() or int(env) < 1):
            raise ArgumentError(f"LONGDEP_NUM_THREADS must be a positive integer; got {env!r}")
        return None
    if isinstance(threads, bool) or not isinstance(threads, (int, np.integer)) or threads < 1:
        raise ArgumentError(f"threads must be a positive integer or None; got {threads!r}")
    return int(threads)


def _no_state(h0: Any) -> None:
    if h0 is not None:
        raise ArgumentError(
            "h0 must be None for Attention: a self-attention head has no recurrent state "
            f"to start from; got {type(h0).__name__}"
        )


def _layer_norm(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(p - mean) / sqrt(var + eps)`` over the last axis, and that denominator."""
    mu = p.mean(axis=-1, keepdims=True)
    sigma = np.sqrt(p.var(axis=-1, keepdims=True) + _LN_EPS)
    return (p - mu) / sigma, sigma


class Attention:
    """One self-attention head with optional output projection, residual and layer norm.

    ``q_t = W_q x_t``, ``k_s = W_k x_s``, ``v_s = W_v x_s`` (all of size ``d``) and

    ``y_t = LN( W_o sum_{s<=t} softmax_s(q_t . k_s / sqrt(d)) v_s  [+ x_t] )``

    where ``[+ x_t]`` is the residual connection (``residual=True``, needs output size
    ``O`` equal to the input size ``I``), ``LN`` is a layer normalisation without gain
    and bias (``eps = 1e-5``, only with ``layer_norm=True``), ``W_o`` defaults to the
    identity (``O = d``) and ``causal=False`` lets every position attend to all ``s``.

    It drops into ``ld.forward``, ``ld.grad_norms`` and ``ld.compare`` like a recurrent
    cell. ``hidden_size`` is the output size ``O``; ``state_size`` is also ``O`` (there
    is no recurrent state, so ``ld.sensitivity`` raises ``ArgumentError``).

    Parameters
    ----------
    W_q, W_k, W_v
        ``(d, I)`` query, key and value projections.
    W_o
        ``(O, d)`` output projection or ``None``.
    residual, layer_norm, causal
        ``True`` or ``False`` (anything else, such as the string ``"no"``, is an
        ArgumentError).

    The projections are copied at construction and stored read-only, like the weights
    of the recurrent cells: an in-place edit raises ``ValueError``; build a new head.

    Examples
    --------
    >>> import numpy as np, longdep as ld
    >>> head = ld.Attention(np.ones((1, 1)), np.ones((1, 1)), np.ones((1, 1)))
    >>> ld.forward(head, np.array([[0.0], [0.0], [3.0]])).ravel().round(6).tolist()
    [0.0, 0.0, 2.99926]
    """

    kind: ClassVar[str] = "attention"

    def __init__(
        self,
        W_q: Any,
        W_k: Any,
        W_v: Any,
        W_o: Any = None,
        *,
        residual: bool = False,
        layer_norm: bool = False,
        causal: bool = True,
    ) -> None:
        wq = as_float_array("W_q", W_q, np.float64, ndim=(2,))
        d, i = wq.shape
        if d == 0 or i == 0:
            raise ShapeError(
                f"W_q must have shape (d, I) with d, I >= 1; got {shape_str(wq.shape)}"
            )
        wk = as_float_array("W_k", W_k, np.float64, ndim=(2,))
        wv = as_float_array("W_v", W_v, np.float64, ndim=(2,))
        for name, w in (("W_k", wk), ("W_v", wv)):
            if w.shape != wq.shape:
                raise ShapeError(
                    f"{name} must have shape (d, I) = {shape_str(wq.shape)} like W_q; "
                    f"got {shape_str(w.shape)}"
                )
        wo: np.ndarray | None = None
        if W_o is not None:
            wo = as_float_array("W_o", W_o, np.float64, ndim=(2,))
            if wo.shape[1] != d or wo.shape[0] == 0:
                raise ShapeError(
                    f"W_o must have shape (O, {d}) with O >= 1 to follow W_q {shape_str(wq.shape)}; "
                    f"got {shape_str(wo.shape)}"
                )
        named: tuple[tuple[str, np.ndarray | None], ...] = (
            ("W_q", wq), ("W_k", wk), ("W_v", wv), ("W_o", wo)
        )  # fmt: skip
        for name, maybe in named:
            if maybe is not None:
                require_finite(name, maybe)
        residual = require_bool("residual", residual)
        layer_norm = require_bool("layer_norm", layer_norm)
        causal = require_bool("causal", causal)
        out_size = d if wo is None else wo.shape[0]
        if residual and out_size != i:
            raise ShapeError(
                f"residual=True adds x_t to the output, so the output size must equal I = {i}; "
                f"got output size {out_size} (from "
                + ("W_q: no W_o given" if wo is None else f"W_o {shape_str(wo.shape)}")
                + "); pass W_o of shape "
                + f"({i}, {d})"
            )
        self.W_q, self.W_k, self.W_v = frozen_copy(wq), frozen_copy(wk), frozen_copy(wv)
        self.W_o = None if wo is None else frozen_copy(wo)
        self.residual = residual
        self.layer_norm = layer_norm
        self.causal = causal

    @property
    def head_size(self) -> int:
        """d, the size of queries, keys and values."""
        return int(self.W_q.shape[0])

    @property
    def input_size(self) -> int:
        """I, the size of one input vector x_t."""
        return int(self.W_q.shape[1])

    @property
    def hidden_size(self) -> int:
        """O, the size of one output y_t (``d`` without ``W_o``)."""
        return self.head_size if self.W_o is None else int(self.W_o.shape[0])

    output_size = hidden_size

    @property
    def state_size(self) -> int:
        """O as well: attention has no recurrent state, this only sizes default vectors."""
        return self.hidden_size

    def __repr__(self) -> str:
        return (
            f"Attention(input_size={self.input_size}, head_size={self.head_size}, "
            f"output_size={self.hidden_size}, residual={self.residual}, "
            f"layer_norm={self.layer_norm}, causal={self.causal})"
        )

    # -- argument handling -------------------------------------------------------------

    def _prepare_x(self, x: Any, dtype: np.dtype | None = None) -> tuple[np.ndarray, bool]:
        dt = compute_dtype("x", x) if dtype is None else dtype
        arr = as_float_array("x", x, dt, ndim=(2, 3))
        two_d = arr.ndim == 2
        if two_d:
            arr = arr[:, None, :]
        t, b, i = arr.shape
        if i != self.input_size:
            want = f"(T, {self.input_size})" if two_d else f"(T, B, {self.input_size})"
            got = shape_str(arr.shape[::2] if two_d else arr.shape)
            raise ShapeError(
                f"x must have shape {want} to match W_q {shape_str(self.W_q.shape)}; got {got}"
            )
        if t == 0:
            raise ShapeError(
                f"x must have at least one time step (T >= 1) in shape {'(T, I)' if two_d else '(T, B, I)'}; got T = 0"
            )
        if b == 0:
            raise ShapeError("x must have at least one batch element (B >= 1); got B = 0")
        require_finite("x", arr)
        return arr, two_d

    def _loss_weights(self, v: Any, batch: int, two_d: bool) -> np.ndarray:
        o = self.hidden_size
        arr = as_float_array("v", v, np.float64)
        if arr.shape == (o,):
            arr = np.broadcast_to(arr, (batch, o))
        elif two_d or arr.shape != (batch, o):
            want = f"({o},)" if two_d else f"({batch}, {o}) or ({o},)"
            raise ShapeError(
                f"v must have shape {want} (loss weights on the last output y_(T-1)); "
                f"got {shape_str(arr.shape)}"
            )
        require_finite("v", arr)
        return arr

    @staticmethod
    def _out(out: Any, t: int, b: int, two_d: bool) -> np.ndarray | None:
        if out is None:
            return None
        want = (t,) if two_d else (t, b)
        if not isinstance(out, np.ndarray) or out.dtype != np.float64 or out.shape != want:
            got = (
                type(out).__name__
                if not isinstance(out, np.ndarray)
                else f"{out.dtype} array of shape {shape_str(out.shape)}"
            )
            raise ShapeError(f"out must be a float64 array of shape {shape_str(want)}; got {got}")
        if not out.flags.writeable:
            raise ShapeError("out must be a writeable array")
        return out

    # -- quantities --------------------------------------------------------------------

    def forward(self, x: Any, h0: Any = None, *, threads: int | None = None) -> np.ndarray:
        """Outputs ``y_t`` for every position: ``(T, B, O)`` (``(T, O)`` for 2-D ``x``).

        The dtype follows ``x`` (float32 stays float32). Cost ``O(T^2 d)`` time, memory
        ``O(T d)`` plus a bounded block of scores.
        """
        _no_state(h0)
        _threads(threads)
        arr, two_d = self._prepare_x(x)
        dtype = arr.dtype
        t, b, _ = arr.shape
        wq, wk, wv = (w.astype(dtype, copy=False) for w in (self.W_q, self.W_k, self.W_v))
        scale = dtype.type(1.0 / np.sqrt(self.head_size))
        xb = np.ascontiguousarray(arr.transpose(1, 0, 2))  # (B, T, I)
        q = (xb @ wq.T) * scale
        k = xb @ wk.T
        v = xb @ wv.T
        z = np.empty_like(q)
        block = max(1, min(t, _SCORE_BLOCK // (b * t)))
        for t0 in range(0, t, block):
            t1 = min(t, t0 + block)
            kend = t1 if self.causal else t
            s = q[:, t0:t1] @ k[:, :kend].transpose(0, 2, 1)  # (B, rows, kend)
            if self.causal:
                future = np.arange(kend)[None, :] > np.arange(t0, t1)[:, None]
                s[:, future] = -np.inf
            s -= s.max(axis=-1, keepdims=True)
            np.exp(s, out=s)
            s /= s.sum(axis=-1, keepdims=True)
            z[:, t0:t1] = s @ v[:, :kend]
        y = z if self.W_o is None else z @ self.W_o.astype(dtype, copy=False).T
        if self.residual:
            y = y + xb
        if self.layer_norm:
            y = _layer_norm(y)[0]
        y = np.ascontiguousarray(y.transpose(1, 0, 2))
        return y[:, 0, :] if two_d else y

    def grad_norms(
        self,
        x: Any,
        v: Any,
        h0: Any = None,
        *,
        wrt: str = "input",
        log: bool = False,
        threads: int | None = None,
        out: np.ndarray | None = None,
        memory_budget: int | None = None,
    ) -> np.ndarray:
        """``||dL/dx_t||`` for ``L = sum_b v_b . y_{T-1,b}``, exact and in closed form.

        With ``e_s = q . k_s / sqrt(d)``, attention weights ``a_s = softmax(e)_s``,
        ``z = sum_s a_s v_s``, the back-propagated ``g_z = W_o^T dL/d(pre-LN output)``,
        ``A = W_v^T g_z`` and ``b = W_k^T q / sqrt(d)``, every earlier position gets

        ``dL/dx_s = a_s (A + (A . x_s - g_z . z) b)``   (value path + key path),

        and the last position adds its query path ``W_q^T dL/dq`` and the residual.
        The log-norm is ``ln a_s + ln||A + ...||``, so ``log=True`` stays finite where
        ``a_s`` itself underflows. ``O(T B I + d I)`` time: ``T = 10^7`` is fine.

        ``wrt="state"`` is accepted and means the same as ``"input"``: attention has no
        hidden state between positions; the path from any ``x_t`` to the loss is one step
        long. Computed in float64 whatever the dtype of ``x``; returns float64 ``(T, B)``
        (``(T,)`` for 2-D ``x``). ``memory_budget`` is accepted for the signature of
        :func:`longdep.grad_norms` and unused: nothing is stored per step.
        """
        del memory_budget
        choice("wrt", wrt, ("input", "state"))
        _no_state(h0)
        _threads(threads)
        log = require_bool("log", log)
        arr, two_d = self._prepare_x(x, np.dtype(np.float64))
        t, b, _ = arr.shape
        w = self._loss_weights(v, b, two_d)
        dst = self._out(out, t, b, two_d)
        # L is linear in v: differentiate with unit-norm rows and add ln||v_b|| back, so a
        # tiny or huge v (1e-200, 1e200) neither underflows nor overflows the norms.
        peak = np.abs(w).max(axis=-1, keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            w_rel = np.where(peak > 0, w / peak, 0.0)
            rel = np.linalg.norm(w_rel, axis=-1, keepdims=True)
            unit = np.where(rel > 0, w_rel / rel, 0.0)
            log_scale = np.log(peak[:, 0]) + np.log(rel[:, 0])
        res = self._log_grad_norms(arr, unit) + log_scale[None, :]
        if not log:
            np.exp(res, out=res)
        res = res[:, 0] if two_d else res
        if dst is not None:
            dst[...] = res
            return dst
        return res

    def _log_grad_norms(self, x: np.ndarray, w: np.ndarray) -> np.ndarray:
        """ln ||dL/dx_t|| for x (T, B, I) float64, loss weights w (B, O)."""
        sqrt_d = np.sqrt(self.head_size)
        last = x[-1]  # (B, I)
        q = last @ self.W_q.T  # (B, d)
        kq = (q @ self.W_k) / sqrt_d  # (B, I): e_s = x_s . kq
        e = np.einsum("tbi,bi->tb", x, kq)
        e_max = e.max(axis=0)
        lse = e_max + np.log(np.exp(e - e_max).sum(axis=0))
        log_a = e - lse  # (T, B)
        a = np.exp(log_a)
        x_bar = np.einsum("tb,tbi->bi", a, x)  # sum_s a_s x_s, so z = W_v x_bar
        z = x_bar @ self.W_v.T  # (B, d)
        pre = z if self.W_o is None else z @ self.W_o.T
        if self.residual:
            pre = pre + last
        g = w
        if self.layer_norm:
            y, sigma = _layer_norm(pre)
            g = (
                g - g.mean(axis=-1, keepdims=True) - y * (g * y).mean(axis=-1, keepdims=True)
            ) / sigma
        g_z = g if self.W_o is None else g @ self.W_o  # (B, d)
        val = g_z @ self.W_v  # (B, I): W_v^T g_z
        delta = np.einsum("tbi,bi->tb", x, val) - np.einsum("bd,bd->b", g_z, z)  # dL/de_s / a_s
        bracket = val[None] + delta[..., None] * kq[None]  # (T, B, I)
        with np.errstate(divide="ignore"):
            res = log_a + np.log(np.linalg.norm(bracket, axis=-1))
            m = np.einsum("tb,tbi->bi", a * delta, x)  # sum_s dL/de_s x_s
            d_q = (m @ self.W_k.T) / sqrt_d  # dL/dq (B, d)
            g_last = a[-1][:, None] * bracket[-1] + d_q @ self.W_q
            if self.residual:
                g_last = g_last + g
            res[-1] = np.log(np.linalg.norm(g_last, axis=-1))
        return res

    def sensitivity(self, x: Any, u: Any, h0: Any = None, **kwargs: Any) -> np.ndarray:
        """Not defined: attention has no recurrent state whose perturbation could persist."""
        raise ArgumentError(
            "sensitivity needs a recurrent state (d h_t / d h_0); Attention has none. "
            "Its one-step influence of x_t on the last output is ld.grad_norms(cell, x, v, wrt='input')"
        )
