"""Independent references for longdep's core quantities, written from the PyTorch formulas.

Nothing here calls longdep's numerics: ``CellParams.to_longdep`` only hands the same
weights to the library's constructors so that both sides see identical parameters.

- ``numpy_forward``: a plain per-step NumPy loop over the torch step formulas.
- ``jax_reference``: the same step functions run by ``jax.lax.scan``; per-step gradient
  norms come from JAX reverse-mode autodiff and sensitivities from ``jax.jvp``.

The step functions take the array namespace (``numpy`` or ``jax.numpy``) as an
argument, so the NumPy loop and the JAX version evaluate the very same formulas.

State layout: Elman and GRU carry ``h`` (B, H); the LSTM carries ``[h, c]`` (B, 2H),
which is also the layout of the LSTM sensitivity direction ``u``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "CELL_CONFIGS",
    "CellParams",
    "jax_reference",
    "max_preactivation",
    "numpy_forward",
    "numpy_states",
    "random_params",
    "step",
]

#: Cell variants exercised by the parity tests: id -> constructor options.
#: ``contracting``: weight_hh = -(I + G G^T / H) / 2 instead of a plain random matrix,
#: so that a tanh residual cell settles instead of drifting into saturation.
CELL_CONFIGS: dict[str, dict[str, Any]] = {
    "elman-tanh": {"kind": "elman", "nonlinearity": "tanh"},
    "elman-relu": {"kind": "elman", "nonlinearity": "relu"},
    "elman-linear": {"kind": "elman", "nonlinearity": "linear"},
    "elman-residual": {
        "kind": "elman",
        "nonlinearity": "tanh",
        "residual": 0.5,
        "contracting": True,
    },
    "elman-layernorm": {"kind": "elman", "nonlinearity": "tanh", "layer_norm": True},
    "elman-relu-residual-layernorm": {
        "kind": "elman",
        "nonlinearity": "relu",
        "residual": -0.3,
        "layer_norm": True,
    },
    "lstm": {"kind": "lstm"},
    "gru": {"kind": "gru"},
}

_GATES = {"elman": 1, "lstm": 4, "gru": 3}


@dataclass(frozen=True)
class CellParams:
    """Weights and options of one cell in torch's single-layer layout."""

    kind: str
    weight_ih: np.ndarray
    weight_hh: np.ndarray
    bias_ih: np.ndarray | None = None
    bias_hh: np.ndarray | None = None
    nonlinearity: str = "tanh"
    residual: float | None = None
    layer_norm: bool = False
    ln_weight: np.ndarray | None = None
    ln_bias: np.ndarray | None = None
    ln_eps: float = 1e-5

    @property
    def hidden_size(self) -> int:
        return int(self.weight_hh.shape[1])

    @property
    def input_size(self) -> int:
        return int(self.weight_ih.shape[1])

    @property
    def state_size(self) -> int:
        return 2 * self.hidden_size if self.kind == "lstm" else self.hidden_size

    def to_longdep(self) -> Any:
        """The same cell as a longdep object (the library under test)."""
        import longdep as ld

        if self.kind == "lstm":
            return ld.LSTM(self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        if self.kind == "gru":
            return ld.GRU(self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        return ld.Elman(
            self.weight_ih,
            self.weight_hh,
            self.bias_ih,
            self.bias_hh,
            self.nonlinearity,
            residual=self.residual,
            layer_norm=self.layer_norm,
            ln_weight=self.ln_weight,
            ln_bias=self.ln_bias,
            ln_eps=self.ln_eps,
        )


def random_params(
    config: str, hidden: int, inputs: int, rng: np.random.Generator, *, scale: float = 1.0
) -> CellParams:
    """Weights ``normal * scale / sqrt(H)``, nonzero biases (and LN gain/bias) ~ N(0, 0.5^2)."""
    opts = dict(CELL_CONFIGS[config])
    kind = opts.pop("kind")
    contracting = opts.pop("contracting", False)
    rows = _GATES[kind] * hidden
    w = scale / np.sqrt(hidden)
    weight_hh = rng.normal(size=(rows, hidden)) * w
    if contracting:
        weight_hh = -0.5 * (np.eye(hidden) + weight_hh @ weight_hh.T)
    extra: dict[str, Any] = {}
    if opts.get("layer_norm"):
        extra["ln_weight"] = 1.0 + 0.3 * rng.normal(size=hidden)
        extra["ln_bias"] = 0.3 * rng.normal(size=hidden)
    return CellParams(
        kind=kind,
        weight_ih=rng.normal(size=(rows, inputs)) * w,
        weight_hh=weight_hh,
        bias_ih=0.5 * rng.normal(size=rows),
        bias_hh=0.5 * rng.normal(size=rows),
        **opts,
        **extra,
    )


def _sigmoid(xp: Any, z: Any) -> Any:
    return 1.0 / (1.0 + xp.exp(-z))


def _linear(xp: Any, a: Any, weight: np.ndarray, bias: np.ndarray | None) -> Any:
    """``a @ weight.T + bias`` (torch.nn.functional.linear)."""
    out = xp.matmul(a, weight.T)
    return out if bias is None else out + bias


def step(
    p: CellParams, xp: Any, s: Any, x_t: Any, *, preactivation: bool = False, eps: Any = None
) -> Any:
    """One step of the cell: state (B, S) and input (B, I) -> next state (B, S).

    ``eps`` (B, S), if given, perturbs each part of the new state where it is formed:
    for the LSTM ``c_t`` before ``h_t = o tanh(c_t)`` reads it, so ``dL/deps`` is the
    total derivative that autograd reports as ``c_t.grad``; for the others, it is added
    to the new state.

    With ``preactivation=True`` it returns instead the arguments of the step's
    tanh/sigmoid/relu (B, G*H), whose size decides how well-conditioned the
    derivatives ``1 - tanh^2`` and ``sigma (1 - sigma)`` are.
    """
    hidden = p.hidden_size
    if p.kind == "elman":
        a = _linear(xp, x_t, p.weight_ih, p.bias_ih) + _linear(xp, s, p.weight_hh, p.bias_hh)
        if p.layer_norm:
            # torch.nn.LayerNorm: biased variance, eps inside the square root.
            mean = xp.mean(a, axis=-1, keepdims=True)
            var = xp.mean((a - mean) ** 2, axis=-1, keepdims=True)
            a = (a - mean) / xp.sqrt(var + p.ln_eps) * p.ln_weight + p.ln_bias
        if preactivation:
            return a
        if p.nonlinearity == "tanh":
            phi = xp.tanh(a)
        elif p.nonlinearity == "relu":
            phi = xp.maximum(a, 0.0)
        else:
            phi = a
        out = phi if p.residual is None else s + p.residual * phi
        return out if eps is None else out + eps
    if p.kind == "lstm":
        h, c = s[:, :hidden], s[:, hidden:]
        gates = _linear(xp, x_t, p.weight_ih, p.bias_ih) + _linear(xp, h, p.weight_hh, p.bias_hh)
        i = _sigmoid(xp, gates[:, 0 * hidden : 1 * hidden])
        f = _sigmoid(xp, gates[:, 1 * hidden : 2 * hidden])
        g = xp.tanh(gates[:, 2 * hidden : 3 * hidden])
        o = _sigmoid(xp, gates[:, 3 * hidden : 4 * hidden])
        c_new = f * c + i * g
        if eps is not None:
            c_new = c_new + eps[:, hidden:]
        if preactivation:
            return xp.concatenate([gates, c_new], axis=-1)
        h_new = o * xp.tanh(c_new)
        if eps is not None:
            h_new = h_new + eps[:, :hidden]
        return xp.concatenate([h_new, c_new], axis=-1)
    if p.kind == "gru":
        gi = _linear(xp, x_t, p.weight_ih, p.bias_ih)
        gh = _linear(xp, s, p.weight_hh, p.bias_hh)
        r = _sigmoid(xp, gi[:, :hidden] + gh[:, :hidden])
        z = _sigmoid(xp, gi[:, hidden : 2 * hidden] + gh[:, hidden : 2 * hidden])
        n_pre = gi[:, 2 * hidden :] + r * gh[:, 2 * hidden :]
        if preactivation:
            return xp.concatenate([gi[:, : 2 * hidden] + gh[:, : 2 * hidden], n_pre], axis=-1)
        n = xp.tanh(n_pre)
        out = (1.0 - z) * n + z * s
        return out if eps is None else out + eps
    raise ValueError(f"unknown cell kind {p.kind!r}")


def numpy_states(p: CellParams, x: np.ndarray, s0: np.ndarray) -> np.ndarray:
    """All states after each step, (T, B, S), by a plain NumPy loop in float64."""
    x = np.asarray(x, dtype=np.float64)
    s = np.asarray(s0, dtype=np.float64)
    out = np.empty((x.shape[0], x.shape[1], p.state_size))
    for t in range(x.shape[0]):
        s = step(p, np, s, x[t])
        out[t] = s
    return out


def max_preactivation(p: CellParams, x: np.ndarray, s0: np.ndarray) -> float:
    """Largest |argument| of any activation over the run (by the NumPy loop).

    Arguments of tanh/sigmoid/relu, and for the LSTM also the c_t fed to ``tanh``.

    Derivatives computed from a rounded output, ``1 - y^2`` with ``y = tanh(a)``, lose
    relative accuracy like ``ulp(1) / (1 - y^2)`` once a unit saturates, in torch, JAX
    and longdep alike; the 1e-10 parity tests keep ``|a|`` moderate so that they compare
    the algorithms, not that rounding.
    """
    states = numpy_states(p, x, s0)
    prev = np.concatenate([np.asarray(s0, dtype=np.float64)[None], states[:-1]])
    x = np.asarray(x, dtype=np.float64)
    return max(
        float(np.abs(step(p, np, prev[t], x[t], preactivation=True)).max())
        for t in range(x.shape[0])
    )


def numpy_forward(p: CellParams, x: np.ndarray, s0: np.ndarray) -> np.ndarray:
    """Hidden outputs h_t, (T, B, H): what ``ld.forward`` must return."""
    return numpy_states(p, x, s0)[..., : p.hidden_size]


def jax_reference(
    p: CellParams, x: np.ndarray, s0: np.ndarray, v: np.ndarray, u: np.ndarray
) -> dict[str, np.ndarray]:
    """Per-step norms by JAX autodiff, each (T, B), in float64.

    The loss is ``L = sum_b v_b . h_{T-1,b}``. A perturbation ``eps_t`` enters the state
    of step ``t`` where each part is formed (see ``step``); ``dL/deps_t`` at ``eps = 0``
    is then the total derivative of each part, what autograd reports as ``h_t.grad`` and,
    for the LSTM, ``c_t.grad`` (which includes the path through ``h_t``). Input gradients differentiate
    with respect to ``x``; sensitivities push ``u`` forward from the initial state with
    ``jax.jvp``.

    Keys: ``forward`` (T, B, H), ``state``, ``input``, ``cell`` (LSTM only),
    ``sens_state``, ``sens_hidden``.
    """
    import jax
    import jax.numpy as jnp

    if not jax.config.jax_enable_x64:
        raise RuntimeError("enable float64 first: jax.config.update('jax_enable_x64', True)")
    hidden = p.hidden_size
    x = jnp.asarray(x, dtype=jnp.float64)
    s0 = jnp.asarray(s0, dtype=jnp.float64)
    v = jnp.asarray(v, dtype=jnp.float64)
    u = jnp.asarray(u, dtype=jnp.float64)

    def run(s_init: Any, xs: Any, eps: Any) -> Any:
        def body(s: Any, inputs: Any) -> tuple[Any, Any]:
            x_t, e_t = inputs
            s = step(p, jnp, s, x_t, eps=e_t)
            return s, s

        return jax.lax.scan(body, s_init, (xs, eps))[1]

    def loss(xs: Any, eps: Any) -> Any:
        return jnp.sum(v * run(s0, xs, eps)[-1, :, :hidden])

    @jax.jit
    def compute(xs: Any) -> dict[str, Any]:
        eps = jnp.zeros((xs.shape[0], xs.shape[1], p.state_size), dtype=jnp.float64)
        g_x, g_eps = jax.grad(loss, argnums=(0, 1))(xs, eps)
        states, tangents = jax.jvp(lambda s: run(s, xs, eps), (s0,), (u,))
        res = {
            "forward": states[..., :hidden],
            "state": jnp.linalg.norm(g_eps[..., :hidden], axis=-1),
            "input": jnp.linalg.norm(g_x, axis=-1),
            "sens_state": jnp.linalg.norm(tangents, axis=-1),
            "sens_hidden": jnp.linalg.norm(tangents[..., :hidden], axis=-1),
        }
        if p.kind == "lstm":
            res["cell"] = jnp.linalg.norm(g_eps[..., hidden:], axis=-1)
        return res

    return {k: np.asarray(a) for k, a in compute(x).items()}
