"""``ld.vjp``: the BPTT adjoints as arrays, for a loss on the last output and at every
step, against JAX autodiff of torch's LSTM and GRU equations written here (float64);
``at=``, memmap ``out=``, the per-step ``grad_norms``, and bad input."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

import longdep as ld
from longdep.errors import ArgumentError, NumericsError, ShapeError

H, I, T, B = 4, 3, 25, 2


def _lstm(seed: int = 0) -> ld.LSTM:
    rng = np.random.default_rng(seed)
    return ld.LSTM(
        rng.normal(scale=0.5, size=(4 * H, I)),
        rng.normal(scale=0.5, size=(4 * H, H)),
        rng.normal(scale=0.3, size=4 * H),
        rng.normal(scale=0.3, size=4 * H),
    )


def _gru(seed: int = 0) -> ld.GRU:
    rng = np.random.default_rng(seed)
    return ld.GRU(
        rng.normal(scale=0.5, size=(3 * H, I)),
        rng.normal(scale=0.5, size=(3 * H, H)),
        rng.normal(scale=0.3, size=3 * H),
        rng.normal(scale=0.3, size=3 * H),
    )


def _lstm_run(jax: Any, cell: ld.LSTM, x: Any, h0: Any, c0: Any, e_h: Any, e_c: Any, e_in: Any):
    """torch.nn.LSTM's step; ``e_in`` perturbs c_t before h_t reads it (the total
    dL/dc_t), ``e_h``/``e_c`` perturb the new state (the state adjoint)."""
    import jax.numpy as jnp

    w_ih, w_hh = jnp.asarray(cell.weight_ih), jnp.asarray(cell.weight_hh)
    b = jnp.asarray(cell.bias_ih) + jnp.asarray(cell.bias_hh)

    def body(carry, inp):
        h, c = carry
        x_t, eh, ec, ei = inp
        z = x_t @ w_ih.T + h @ w_hh.T + b
        i, f = jax.nn.sigmoid(z[:, :H]), jax.nn.sigmoid(z[:, H : 2 * H])
        g, o = jnp.tanh(z[:, 2 * H : 3 * H]), jax.nn.sigmoid(z[:, 3 * H :])
        c = f * c + i * g + ei
        h = o * jnp.tanh(c) + eh
        c = c + ec
        return (h, c), h

    return jax.lax.scan(body, (h0, c0), (x, e_h, e_c, e_in))[1]


def _gru_run(jax: Any, cell: ld.GRU, x: Any, h0: Any, e_h: Any):
    """torch.nn.GRU's step: n = tanh(W_in x + b_in + r * (W_hn h + b_hn))."""
    import jax.numpy as jnp

    w_ih, w_hh = jnp.asarray(cell.weight_ih), jnp.asarray(cell.weight_hh)
    b_ih, b_hh = jnp.asarray(cell.bias_ih), jnp.asarray(cell.bias_hh)

    def body(h, inp):
        x_t, eh = inp
        gi, gh = x_t @ w_ih.T + b_ih, h @ w_hh.T + b_hh
        r = jax.nn.sigmoid(gi[:, :H] + gh[:, :H])
        z = jax.nn.sigmoid(gi[:, H : 2 * H] + gh[:, H : 2 * H])
        n = jnp.tanh(gi[:, 2 * H :] + r * gh[:, 2 * H :])
        h = (1 - z) * n + z * h + eh
        return h, h

    return jax.lax.scan(body, h0, (x, e_h))[1]


def _data(seed: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.normal(size=(T, B, I)), rng.normal(size=(B, H)), rng.normal(size=(B, H))


@pytest.mark.parametrize("every", [False, True])
def test_lstm_adjoints_equal_jax(jax, every: bool) -> None:
    import jax.numpy as jnp

    cell = _lstm()
    x, h0, c0 = _data()
    rng = np.random.default_rng(2)
    v = rng.normal(size=(T, B, H)) if every else rng.normal(size=(B, H))

    def loss(xx, hh0, cc0, eh, ec, ei):
        hs = _lstm_run(jax, cell, xx, hh0, cc0, eh, ec, ei)
        return jnp.sum(jnp.asarray(v) * hs) if every else jnp.sum(jnp.asarray(v) * hs[-1])

    z = jnp.zeros((T, B, H))
    g = jax.grad(loss, argnums=(0, 1, 2, 3, 4, 5))(jnp.asarray(x), h0, c0, z, z, z)
    gx, gh0, gc0, geh, gec, gei = (np.asarray(a) for a in g)
    r = ld.vjp(cell, x, v, (h0, c0))
    np.testing.assert_allclose(r.h, geh, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(r.state[..., H:], gec, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(r.cell, gei, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(r.x, gx, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(r.h0[0], gh0, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(r.h0[1], gc0, rtol=1e-10, atol=1e-14)
    # per-step grad_norms are the norms of these arrays, for each wrt
    for wrt, arr in (("state", geh), ("cell", gei), ("input", gx)):
        want = np.linalg.norm(arr, axis=-1)
        got = ld.grad_norms(cell, x, v, (h0, c0), wrt=wrt)
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-300)
    # the checkpointed reverse pass gives the same arrays
    small = ld.vjp(cell, x, v, (h0, c0), memory_budget=3000)
    np.testing.assert_allclose(small.state, r.state, rtol=1e-12, atol=1e-15)


def test_gru_adjoints_kept_steps_and_a_memmap(jax, tmp_path: Path) -> None:
    import jax.numpy as jnp

    cell = _gru()
    x, h0, _ = _data()
    v = np.random.default_rng(3).normal(size=(T, B, H))

    def loss(xx, hh0, eh):
        return jnp.sum(jnp.asarray(v) * _gru_run(jax, cell, xx, hh0, eh))

    gx, gh0, geh = (
        np.asarray(a)
        for a in jax.grad(loss, argnums=(0, 1, 2))(jnp.asarray(x), h0, jnp.zeros((T, B, H)))
    )
    at = [0, 3, 17, T - 1]
    mm = np.lib.format.open_memmap(
        tmp_path / "adj.npy", mode="w+", dtype=np.float64, shape=(4, B, H)
    )
    r = ld.vjp(cell, x, v, h0, at=at, out=mm)
    assert r.state.base is mm or np.shares_memory(r.state, mm)
    np.testing.assert_allclose(r.h, geh[at], rtol=1e-10)
    np.testing.assert_allclose(r.x, gx[at], rtol=1e-10)
    np.testing.assert_allclose(r.h0, gh0, rtol=1e-10)
    assert r.cell is None and r.steps.tolist() == at
    mm.flush()
    del mm, r
    np.testing.assert_allclose(np.load(tmp_path / "adj.npy"), geh[at], rtol=1e-10)


def test_two_d_input_and_the_ssm_state_shape() -> None:
    cell = _lstm()
    x, h0, c0 = _data()
    r2 = ld.vjp(cell, x[:, 0], np.ones(H), (h0[0], c0[0]))
    r3 = ld.vjp(cell, x[:, :1], np.ones((1, H)), (h0[:1], c0[:1]))
    assert r2.h.shape == (T, H) and r2.x.shape == (T, I) and r2.h0[0].shape == (H,)
    np.testing.assert_array_equal(r2.state, r3.state[:, 0])
    ssm = ld.SelectiveSSM.random(5, d_state=3, seed=0)
    u = np.random.default_rng(0).normal(size=(30, 5))
    r = ld.vjp(ssm, u, np.ones((30, 5)), inputs=False)
    assert r.h.shape == (30, 5, 3) and r.x is None and r.h0.shape == (5, 3)
    np.testing.assert_allclose(
        np.sqrt((r.h**2).sum(axis=(1, 2))), ld.grad_norms(ssm, u, np.ones((30, 5))), rtol=1e-12
    )


def test_vanished_adjoints_are_zero_and_an_overflow_is_an_error() -> None:
    quiet = ld.Elman(np.ones((1, 1)), 1e-3 * np.eye(1), nonlinearity="linear")
    x = np.zeros((300, 1))
    r = ld.vjp(quiet, x, np.ones(1))
    assert r.h[-1, 0] == 1.0 and r.h[0, 0] == 0.0  # 1e-897: below float64
    log = ld.grad_norms(quiet, x, np.ones(1), log=True)
    np.testing.assert_allclose(log[0], 299 * np.log(1e-3), rtol=1e-12)
    loud = ld.Elman(np.ones((1, 1)), 1e3 * np.eye(1), nonlinearity="linear")
    with pytest.raises(NumericsError, match="exceeds the float64 range"):
        ld.vjp(loud, x, np.ones(1))


def test_bad_arguments_are_clear_errors(tmp_path: Path) -> None:
    cell = _gru()
    x, _, _ = _data()
    v = np.ones((B, H))
    with pytest.raises(ArgumentError, match=r"at must hold steps in 0\.\.24"):
        ld.vjp(cell, x, v, at=[3, 25])
    with pytest.raises(ArgumentError, match="repeat"):
        ld.vjp(cell, x, v, at=[3, 3])
    with pytest.raises(ArgumentError, match="integer steps"):
        ld.vjp(cell, x, v, at=[1.5])
    bad = np.lib.format.open_memmap(
        tmp_path / "b.npy", mode="w+", dtype=np.float64, shape=(T, B, H + 1)
    )
    with pytest.raises(ShapeError, match=r"out must be a float64 array of shape \(25, 2, 4\)"):
        ld.vjp(cell, x, v, out=bad)
    with pytest.raises(ShapeError, match="C-contiguous"):
        ld.vjp(cell, x, v, out=np.zeros((B, T, H)).transpose(1, 0, 2))
    with pytest.raises(ArgumentError, match="out may have keys"):
        ld.vjp(cell, x, v, out={"h": np.zeros((T, B, H))})
    with pytest.raises(ArgumentError, match="needs an LSTM"):
        ld.vjp(cell, x, v, out={"cell": np.zeros((T, B, H))})
    with pytest.raises(ShapeError, match=r"v must have shape \(25, 2, 4\)"):
        ld.vjp(cell, x, np.ones((T - 1, B, H)))
    with pytest.raises(ShapeError, match="v must have shape"):
        ld.grad_norms(cell, x, np.ones((T, B, H + 1)))


def test_jvp_tangents_equal_jax_and_finite_differences(jax, tmp_path: Path) -> None:
    import jax.numpy as jnp

    cell = _lstm()
    x, h0, c0 = _data()
    u = np.random.default_rng(5).normal(size=(B, 2 * H))

    def states(s: Any) -> Any:
        hh, cc = s[:, :H], s[:, H:]
        z = jnp.zeros((T, B, H))
        w_ih, w_hh = jnp.asarray(cell.weight_ih), jnp.asarray(cell.weight_hh)
        bias = jnp.asarray(cell.bias_ih) + jnp.asarray(cell.bias_hh)

        def body(carry: Any, x_t: Any) -> Any:
            h, c = carry
            g = x_t @ w_ih.T + h @ w_hh.T + bias
            i, f = jax.nn.sigmoid(g[:, :H]), jax.nn.sigmoid(g[:, H : 2 * H])
            gg, o = jnp.tanh(g[:, 2 * H : 3 * H]), jax.nn.sigmoid(g[:, 3 * H :])
            c = f * c + i * gg
            h = o * jnp.tanh(c)
            return (h, c), jnp.concatenate([h, c], axis=-1)

        del z
        return jax.lax.scan(body, (hh, cc), jnp.asarray(x))[1]

    s0 = np.concatenate([h0, c0], axis=1)
    _, tangent = jax.jvp(states, (s0,), (u,))
    want = np.asarray(tangent)
    r = ld.jvp(cell, x, u, (h0, c0))
    np.testing.assert_allclose(r.state, want, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(r.h, want[..., :H], rtol=1e-10, atol=1e-14)
    # central finite differences of the forward pass, an independent check
    eps = 1e-6
    plus = ld.forward(cell, x, (h0 + eps * u[:, :H], c0 + eps * u[:, H:]), return_state=True)
    minus = ld.forward(cell, x, (h0 - eps * u[:, :H], c0 - eps * u[:, H:]), return_state=True)
    np.testing.assert_allclose(r.state, (plus - minus) / (2 * eps), rtol=1e-5, atol=1e-8)
    # the norms are sensitivity's
    np.testing.assert_allclose(
        np.linalg.norm(r.state, axis=-1), ld.sensitivity(cell, x, u, (h0, c0)), rtol=1e-12
    )
    at = [0, 7, T - 1]
    mm = np.lib.format.open_memmap(
        tmp_path / "t.npy", mode="w+", dtype=np.float64, shape=(3, B, 2 * H)
    )
    kept = ld.jvp(cell, x, u, (h0, c0), at=at, out=mm)
    assert np.shares_memory(kept.state, mm) and kept.steps.tolist() == at
    np.testing.assert_allclose(mm, want[at], rtol=1e-10, atol=1e-14)
    with pytest.raises(ArgumentError, match=r"at must hold steps in 0\.\.24"):
        ld.jvp(cell, x, u, at=[25])
    with pytest.raises(ShapeError, match="u must have shape"):
        ld.jvp(cell, x, np.ones(H))
    quiet = ld.Elman(np.ones((1, 1)), 1e-3 * np.eye(1), nonlinearity="linear")
    tiny = ld.jvp(quiet, np.zeros((300, 1)), np.ones(1))
    assert tiny.h[0, 0] == pytest.approx(1e-3) and tiny.h[-1, 0] == 0.0
    loud = ld.Elman(np.ones((1, 1)), 1e3 * np.eye(1), nonlinearity="linear")
    with pytest.raises(NumericsError, match="exceeds the float64 range"):
        ld.jvp(loud, np.zeros((300, 1)), np.ones(1))
