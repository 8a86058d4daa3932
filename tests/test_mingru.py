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


# -- the public class --------------------------------------------------------------


def _jax_run(jax, w, b, x, h0, eps=None):
    import jax.numpy as jnp

    def body(h, inp):
        x_t, e_t = inp
        a = x_t @ w.T + b
        z = jax.nn.sigmoid(a[:, :H])
        h = (1.0 - z) * h + z * a[:, H:] + e_t
        return h, h

    if eps is None:
        eps = jnp.zeros((x.shape[0], x.shape[1], H))
    return jax.lax.scan(body, h0, (x, eps))[1]


def test_class_forward_sensitivity_and_param_grads_equal_jax(jax) -> None:
    import jax.numpy as jnp

    import longdep as ld

    w, b, x, h0, _ = _data(3)
    cell = ld.MinGRU(w, b)
    np.testing.assert_allclose(
        ld.forward(cell, x, h0), _numpy_forward(w, b, x, h0), rtol=1e-12, atol=1e-13
    )
    u = np.random.default_rng(4).normal(size=(B, H))
    _, tangents = jax.jvp(
        lambda s: _jax_run(jax, jnp.asarray(w), jnp.asarray(b), jnp.asarray(x), s),
        (jnp.asarray(h0),),
        (jnp.asarray(u),),
    )
    want = np.linalg.norm(np.asarray(tangents), axis=-1)
    np.testing.assert_allclose(ld.sensitivity(cell, x, u, h0), want, rtol=1e-10)
    dh = np.random.default_rng(5).normal(size=(T, B, H))

    def loss(w_, b_):
        return jnp.sum(jnp.asarray(dh) * _jax_run(jax, w_, b_, jnp.asarray(x), jnp.asarray(h0)))

    gw, gb = jax.grad(loss, argnums=(0, 1))(jnp.asarray(w), jnp.asarray(b))
    got = ld.param_grads(cell, x, dh, h0)
    np.testing.assert_allclose(got["weight_ih"], np.asarray(gw), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(got["bias_ih"], np.asarray(gb), rtol=1e-10, atol=1e-12)


def test_float32_follows_float64() -> None:
    import longdep as ld

    w, b, x, h0, v = _data(6)
    cell = ld.MinGRU(w, b)
    g64 = ld.grad_norms(cell, x, v, h0, log=True)
    g32 = ld.grad_norms(cell, x.astype(np.float32), v, h0.astype(np.float32), log=True)
    np.testing.assert_allclose(g32, g64, rtol=0, atol=1e-4)
    assert ld.forward(cell, x.astype(np.float32), h0.astype(np.float32)).dtype == np.float32


def test_chrono_init_spreads_memory_times() -> None:
    import longdep as ld

    cell = ld.MinGRU.random(64, 1, chrono=1000, seed=0)
    keep = 1.0 - 1.0 / (1.0 + np.exp(-cell.bias_ih[:64]))
    assert keep.min() >= 0.5 - 1e-12 and keep.max() <= 1 - 1 / 1000 + 1e-12
    # At zero input each unit decays at its own rate ln(keep); the slowest sets the curve.
    g = ld.grad_norms(cell, np.zeros((2000, 1)), np.eye(64)[int(np.argmax(keep))], log=True)
    np.testing.assert_allclose(np.diff(g), -np.log(keep.max()), rtol=1e-9)


def test_bad_shapes_are_clear_errors() -> None:
    import longdep as ld

    with pytest.raises(ld.ShapeError, match=r"weight_ih must have shape \(2\*H, I\)"):
        ld.MinGRU(np.zeros((3, 2)))
    with pytest.raises(ld.ShapeError, match="bias_ih"):
        ld.MinGRU(np.zeros((4, 2)), np.zeros(3))
    with pytest.raises(ld.ShapeError, match="x must"):
        ld.forward(ld.MinGRU(np.zeros((4, 2))), np.zeros((5, 3)))
