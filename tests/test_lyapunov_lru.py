"""Lyapunov spectrum, Jacobian norms and the LRU cell against NumPy computations
written here from the equations."""

from __future__ import annotations

import numpy as np
import pytest

import longdep as ld


def _numpy_elman_jacobians(cell: ld.Elman, x: np.ndarray) -> list[np.ndarray]:
    """Step Jacobians of a tanh Elman cell along its trajectory (plain NumPy)."""
    h = np.zeros(cell.hidden_size)
    b = cell.bias_ih + (0 if cell.bias_hh is None else cell.bias_hh)
    jacs = []
    for xt in x:
        h = np.tanh(cell.weight_ih @ xt + cell.weight_hh @ h + b)
        jacs.append((1 - h**2)[:, None] * cell.weight_hh)
    return jacs


def _numpy_lstm_jacobians(cell: ld.LSTM, x: np.ndarray) -> list[np.ndarray]:
    """Full 2H x 2H Jacobians of (h, c) for an LSTM, from its equations."""
    H = cell.hidden_size
    h, c = np.zeros(H), np.zeros(H)
    b = cell.bias_ih + (0 if cell.bias_hh is None else cell.bias_hh)
    sig = lambda a: 1 / (1 + np.exp(-a))  # noqa: E731
    jacs = []
    for xt in x:
        a = cell.weight_ih @ xt + cell.weight_hh @ h + b
        i, f, g, o = sig(a[:H]), sig(a[H : 2 * H]), np.tanh(a[2 * H : 3 * H]), sig(a[3 * H :])
        c_new = f * c + i * g
        tc = np.tanh(c_new)
        W = cell.weight_hh
        di = (i * (1 - i))[:, None] * W[:H]
        df = (f * (1 - f))[:, None] * W[H : 2 * H]
        dg = (1 - g**2)[:, None] * W[2 * H : 3 * H]
        do = (o * (1 - o))[:, None] * W[3 * H :]
        dc_dh = c[:, None] * df + g[:, None] * di + i[:, None] * dg
        dc_dc = np.diag(f)
        dh_dh = tc[:, None] * do + (o * (1 - tc**2))[:, None] * dc_dh
        dh_dc = (o * (1 - tc**2))[:, None] * dc_dc
        jacs.append(np.block([[dh_dh, dh_dc], [dc_dh, dc_dc]]))
        h, c = o * tc, c_new
    return jacs


def _numpy_qr_spectrum(
    jacs: list[np.ndarray], k: int, warmup: int
) -> tuple[np.ndarray, np.ndarray]:
    q = np.eye(jacs[0].shape[0])[:, :k]
    local = []
    for j in jacs:
        q, r = np.linalg.qr(j @ q)
        local.append(np.log(np.abs(np.diag(r))))
    local = np.array(local)
    return local[warmup:].mean(axis=0), local


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(42)


def test_lyapunov_equals_numpy_qr_iteration_tanh(rng: np.random.Generator) -> None:
    H, T, k = 12, 400, 5
    cell = ld.Elman(
        rng.normal(size=(H, 2)),
        1.3 * rng.normal(size=(H, H)) / np.sqrt(H),
        rng.normal(size=H) * 0.1,
    )
    x = rng.normal(size=(T, 2))
    got, local = ld.lyapunov_spectrum(cell, x, k, warmup=50, return_local=True)
    want, want_local = _numpy_qr_spectrum(_numpy_elman_jacobians(cell, x), k, 50)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-8)
    np.testing.assert_allclose(local, want_local, rtol=0, atol=1e-8)
    assert got.shape == (k,) and local.shape == (T, k)


def test_lyapunov_equals_numpy_qr_iteration_lstm_full_state(rng: np.random.Generator) -> None:
    H, T, k = 6, 300, 8
    cell = ld.LSTM(
        rng.normal(size=(4 * H, 1)),
        rng.normal(size=(4 * H, H)) / np.sqrt(H),
        rng.normal(size=4 * H) * 0.5,
    )
    x = rng.normal(size=(T, 1))
    got = ld.lyapunov_spectrum(cell, x, k)
    want, _ = _numpy_qr_spectrum(_numpy_lstm_jacobians(cell, x), k, 0)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-8)


def test_lyapunov_of_scaled_orthogonal_linear_cell_is_exactly_ln_rho(
    rng: np.random.Generator,
) -> None:
    H, rho = 16, 0.93
    q = np.linalg.qr(rng.normal(size=(H, H)))[0]
    cell = ld.Elman(rng.normal(size=(H, 1)), rho * q, nonlinearity="linear")
    x = rng.normal(size=(2000, 3, 1))
    got = ld.lyapunov_spectrum(cell, x, H)
    assert got.shape == (3, H)
    np.testing.assert_allclose(got, np.log(rho), rtol=0, atol=1e-12)


def test_jacobian_norms_equal_numpy_svd(rng: np.random.Generator) -> None:
    H, T = 10, 60
    cell = ld.Elman(
        rng.normal(size=(H, 2)), 2.0 * rng.normal(size=(H, H)) / np.sqrt(H), rng.normal(size=H)
    )
    x = rng.normal(size=(T, 2))
    got = ld.jacobian_norms(cell, x, every=3)
    want = [np.linalg.norm(j, 2) for j in _numpy_elman_jacobians(cell, x)[::3]]
    np.testing.assert_allclose(got, want, rtol=1e-10)


def _numpy_lru(cell: ld.LRU, x: np.ndarray) -> np.ndarray:
    lam = cell.eigenvalues
    B = cell.B_re + 1j * cell.B_im
    h = np.zeros(cell.units, dtype=complex)
    out = []
    for xt in x:
        h = lam * h + cell.gamma * (B @ xt)
        out.append(np.concatenate([h.real, h.imag]))
    return np.array(out)


def test_lru_forward_gradients_and_sensitivity_match_closed_forms(rng: np.random.Generator) -> None:
    units, T = 7, 500
    cell = ld.LRU.random(units, 3, r_min=0.95, r_max=0.999, seed=3)
    x = rng.normal(size=(T, 3))
    np.testing.assert_allclose(ld.forward(cell, x), _numpy_lru(cell, x), rtol=1e-12, atol=1e-12)
    # The recurrence is linear and diagonal: dL/dh_t = conj(lambda)^(T-1-t) v, per unit.
    v = rng.normal(size=2 * units)
    vc = v[:units] + 1j * v[units:]
    lam = cell.eigenvalues
    dist = np.arange(T)[::-1]
    want = np.log(
        np.linalg.norm(np.abs(vc)[None, :] * np.abs(lam)[None, :] ** dist[:, None], axis=1)
    )
    np.testing.assert_allclose(ld.grad_norms(cell, x, v, log=True), want, rtol=0, atol=1e-10)
    u = rng.normal(size=2 * units)
    uc = u[:units] + 1j * u[units:]
    steps = np.arange(1, T + 1)
    want_s = np.log(
        np.linalg.norm(np.abs(uc)[None, :] * np.abs(lam)[None, :] ** steps[:, None], axis=1)
    )
    np.testing.assert_allclose(ld.sensitivity(cell, x, u, log=True), want_s, rtol=0, atol=1e-10)
    # Input gradient: dL/dx_t = Re(B^H gamma (conj(lambda)^(T-1-t) vc)) (real part of the adjoint).
    B = (cell.B_re + 1j * cell.B_im) * cell.gamma[:, None]
    adj = np.conj(lam)[None, :] ** dist[:, None] * vc[None, :]
    gx = (np.conj(B).T @ adj.T).real.T
    np.testing.assert_allclose(
        ld.grad_norms(cell, x, v, wrt="input"), np.linalg.norm(gx, axis=1), rtol=1e-9
    )


def test_lru_rejects_bad_parameters() -> None:
    with pytest.raises(ld.ShapeError, match="theta_log"):
        ld.LRU(np.zeros(3), np.zeros(2), np.zeros((3, 1)), np.zeros((3, 1)))
    with pytest.raises(ld.ShapeError, match="B_im"):
        ld.LRU(np.zeros(3), np.zeros(3), np.zeros((3, 1)), np.zeros((3, 2)))
    with pytest.raises(ld.NumericsError, match="nu_log"):
        ld.LRU(np.array([np.nan]), np.zeros(1), np.zeros((1, 1)), np.zeros((1, 1)))
    with pytest.raises(ld.ArgumentError, match="r_min"):
        ld.LRU.random(4, r_min=0.9, r_max=1.2)
    with pytest.raises(ld.ArgumentError, match="k must be"):
        ld.lyapunov_spectrum(ld.LRU.random(2), np.zeros((5, 1)), 5)
    with pytest.raises(ld.ArgumentError, match="warmup"):
        ld.lyapunov_spectrum(ld.LRU.random(2), np.zeros((5, 1)), 1, warmup=5)
    with pytest.raises(ld.ArgumentError, match="every"):
        ld.jacobian_norms(ld.LRU.random(2), np.zeros((5, 1)), every=0)
