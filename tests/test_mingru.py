"""minGRU through the core's catalogue (``kind = "mingru"``), before its Python class:
forward against a NumPy loop of the published step, per-step gradient and input norms
against JAX autodiff, float64; the constant-gate closed form."""

from __future__ import annotations

import numpy as np
import pytest

from longdep import _core

H, I, T, B = 7, 3, 40, 2


def _spec(w: np.ndarray, b: np.ndarray) -> dict:
    return {"kind": "mingru", "weight_ih": w, "bias_ih": b}


def _data(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    w = rng.normal(size=(2 * H, I))
    b = 0.5 * rng.normal(size=2 * H)
    x = rng.normal(size=(T, B, I))
    h0 = 0.5 * rng.normal(size=(B, H))
    v = rng.normal(size=(B, H))
    return w, b, x, h0, v


def _numpy_forward(w: np.ndarray, b: np.ndarray, x: np.ndarray, h0: np.ndarray) -> np.ndarray:
    h, out = h0.copy(), []
    for t in range(x.shape[0]):
        a = x[t] @ w.T + b
        z = 1.0 / (1.0 + np.exp(-a[:, :H]))
        h = (1.0 - z) * h + z * a[:, H:]
        out.append(h)
    return np.stack(out)


def test_forward_equals_the_published_step() -> None:
    w, b, x, h0, _ = _data()
    got = _core.forward(_spec(w, b), x, h0, None, False)
    np.testing.assert_allclose(got, _numpy_forward(w, b, x, h0), rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("wrt", ["state", "input"])
def test_grad_norms_equal_jax_autodiff(jax, wrt: str) -> None:
    import jax.numpy as jnp

    w, b, x, h0, v = _data(1)

    def run(xs, eps):
        def body(h, inp):
            x_t, e_t = inp
            a = x_t @ jnp.asarray(w).T + jnp.asarray(b)
            z = jax.nn.sigmoid(a[:, :H])
            h = (1.0 - z) * h + z * a[:, H:] + e_t
            return h, h

        return jax.lax.scan(body, jnp.asarray(h0), (xs, eps))[1]

    def loss(xs, eps):
        return jnp.sum(jnp.asarray(v) * run(xs, eps)[-1])

    g_x, g_eps = jax.grad(loss, argnums=(0, 1))(jnp.asarray(x), jnp.zeros((T, B, H)))
    want = np.linalg.norm(np.asarray(g_eps if wrt == "state" else g_x), axis=-1)
    got = _core.grad_norms(_spec(w, b), x, h0, v, wrt, 1 << 29, None, None)
    np.testing.assert_allclose(np.exp(got), want, rtol=1e-10)


def test_constant_gate_decays_geometrically() -> None:
    # z = sigmoid(b_z) for every step when W_z = 0: dL/dh_t = (1 - z)^(T-1-t) v.
    rng = np.random.default_rng(2)
    w = rng.normal(size=(2 * H, I))
    w[:H] = 0.0
    b = np.concatenate([np.full(H, -2.0), rng.normal(size=H)])
    x = rng.normal(size=(T, 1, I))
    v = rng.normal(size=(1, H))
    got = _core.grad_norms(_spec(w, b), x, np.zeros((1, H)), v, "state", 1 << 29, None, None)
    keep = 1.0 - 1.0 / (1.0 + np.exp(2.0))
    want = (T - 1 - np.arange(T)) * np.log(keep) + np.log(np.linalg.norm(v))
    np.testing.assert_allclose(got[:, 0], want, rtol=1e-12, atol=1e-12)


def test_odd_row_count_is_a_clear_error() -> None:
    w, b, x, h0, _ = _data()
    with pytest.raises(ValueError, match="weight_ih"):
        _core.forward(_spec(w[:-1], b[:-1]), x, h0, None, False)
