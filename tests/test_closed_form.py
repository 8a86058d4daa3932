"""Closed forms over a million steps, far below the float64 range (log domain).

Every cell here has the step Jacobian J = rho * Q (Q orthogonal) at every step, so

    ||dL/dh_t||             = rho^(T-1-t) ||v||
    ||(ds_t / ds_init) u||  = rho^(t+1)   ||u||

and with rho = 0.999, T = 10^6 the norms reach e^-1000, where 1e-308 is e^-709.

- linear Elman with W_hh = rho Q (any input);
- tanh Elman at its zero fixed point (x = 0, no bias, h0 = 0), where tanh' = 1;
- GRU at its zero fixed point: r = z = 1/2, n = 0, so J = W_hn / 4 + I / 2, and
  W_hn = 4 rho Q - 2 I gives J = rho Q whatever the r and z weights are;
- LSTM at its zero fixed point: i = f = o = 1/2, g = c = h = 0, so the 2H x 2H Jacobian
  of (h, c) is A B with A = [I/2; I], B = [W_g/2, I/2]; J^k = A (B A)^(k-1) B and
  B A = W_g / 4 + I / 2 = rho Q for W_g = 4 rho Q - 2 I. The total derivative of c_t
  (through c_{t+1} and through h_t) is A^T dL/ds_t, so
  ``||dL/dc_t|| = ||((B A)^T)^(T-1-t) v / 2|| = rho^(T-1-t) ||v|| / 2`` for every t, and
  ``||J^(t+1) u|| = rho^t ||B u|| * sqrt(5)/2 (state), * 1/2 (hidden part)``.
  A Jacobian that held c fixed would not give these.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import longdep as ld

RHO = 0.999
H = 8
T = 10**6
LN_TINY = np.log(np.finfo(np.float64).smallest_subnormal)  # about -744.4


def orthogonal(n: int, rng: np.random.Generator) -> np.ndarray:
    q, r = np.linalg.qr(rng.normal(size=(n, n)))
    return q * np.sign(np.diag(r))


def make_cell(kind: str, rng: np.random.Generator) -> Any:
    """A cell whose step Jacobian along the zero-input trajectory from h0 = 0 is rho Q."""
    q = orthogonal(H, rng)
    if kind == "elman-linear":
        return ld.Elman(rng.normal(size=(H, 1)), RHO * q, rng.normal(size=H), nonlinearity="linear")
    if kind == "elman-tanh-fixed-point":
        return ld.Elman(rng.normal(size=(H, 1)), RHO * q, nonlinearity="tanh")
    if kind == "gru-fixed-point":
        w_hh = rng.normal(size=(3 * H, H))
        w_hh[2 * H :] = 4 * RHO * q - 2 * np.eye(H)
        return ld.GRU(rng.normal(size=(3 * H, 1)), w_hh)
    if kind == "lstm-fixed-point":
        w_hh = rng.normal(size=(4 * H, H))
        w_hh[2 * H : 3 * H] = 4 * RHO * q - 2 * np.eye(H)
        return ld.LSTM(rng.normal(size=(4 * H, 1)), w_hh)
    raise ValueError(kind)


KINDS = ["elman-linear", "elman-tanh-fixed-point", "gru-fixed-point"]


def check_log_curve(got: np.ndarray, want: np.ndarray, atol: float) -> None:
    assert np.isfinite(got).all(), "log norms must stay finite far below 1e-308"
    np.testing.assert_allclose(got, want, rtol=0, atol=atol)


def check_underflowing_curve(got: np.ndarray, log_want: np.ndarray) -> None:
    """exp of the log curve: relative accuracy while normal, an honest 0 below the range."""
    assert not np.isnan(got).any()
    assert (got >= 0).all()
    # atol: a few of the smallest subnormals, which exp rounds to.
    np.testing.assert_allclose(got, np.exp(log_want), rtol=1e-6, atol=2e-323)
    assert (got[log_want < LN_TINY - 1] == 0).all()


@pytest.mark.parametrize("kind", KINDS)
def test_grad_norms_follow_rho_power_over_a_million_steps(kind: str) -> None:
    rng = np.random.default_rng(11)
    cell = make_cell(kind, rng)
    x = np.zeros((T, 1))
    v = rng.normal(size=H)
    want = (T - 1 - np.arange(T)) * np.log(RHO) + np.log(np.linalg.norm(v))
    got = ld.grad_norms(cell, x, v, log=True)
    assert got.shape == (T,)
    assert got.min() < -900
    check_log_curve(got, want, 1e-6)
    check_underflowing_curve(ld.grad_norms(cell, x, v), want)


@pytest.mark.parametrize("kind", KINDS)
def test_sensitivity_follows_rho_power_over_a_million_steps(kind: str) -> None:
    rng = np.random.default_rng(12)
    cell = make_cell(kind, rng)
    x = np.zeros((T, 1))
    u = rng.normal(size=H)
    want = (np.arange(T) + 1) * np.log(RHO) + np.log(np.linalg.norm(u))
    got = ld.sensitivity(cell, x, u, log=True)
    assert got.min() < -900
    check_log_curve(got, want, 1e-6)
    check_underflowing_curve(ld.sensitivity(cell, x, u), want)


def test_lstm_cell_grad_and_full_state_sensitivity_follow_closed_form() -> None:
    rng = np.random.default_rng(13)
    cell = make_cell("lstm-fixed-point", rng)
    x = np.zeros((T, 1))
    v = rng.normal(size=H)
    w_g = cell.weight_hh[2 * H : 3 * H]

    t = np.arange(T)
    want_c = (T - 1 - t) * np.log(RHO) + np.log(np.linalg.norm(v) / 2)
    got_c = ld.grad_norms(cell, x, v, wrt="cell", log=True)
    assert got_c.min() < -900
    check_log_curve(got_c, want_c, 1e-6)
    check_underflowing_curve(ld.grad_norms(cell, x, v, wrt="cell"), want_c)

    u = rng.normal(size=2 * H)
    bu = 0.5 * (w_g @ u[:H] + u[H:])
    base = np.arange(T) * np.log(RHO) + np.log(np.linalg.norm(bu))
    got_s = ld.sensitivity(cell, x, u, log=True)
    check_log_curve(got_s, base + 0.5 * np.log(1.25), 1e-6)
    got_h = ld.sensitivity(cell, x, u, log=True, part="hidden")
    check_log_curve(got_h, base + np.log(0.5), 1e-6)


def test_linear_elman_with_inputs_still_follows_closed_form() -> None:
    """The gradient of a linear cell does not depend on x or the bias."""
    rng = np.random.default_rng(14)
    cell = make_cell("elman-linear", rng)
    steps = 10**4
    x = rng.normal(size=(steps, 2, 1))
    v = rng.normal(size=(2, H))
    want = (steps - 1 - np.arange(steps))[:, None] * np.log(RHO) + np.log(np.linalg.norm(v, axis=1))
    check_log_curve(ld.grad_norms(cell, x, v, log=True), want, 1e-9)


@pytest.mark.parametrize("kind", KINDS)
def test_float32_log_norms_stay_finite_below_float32_range(kind: str) -> None:
    """float32 compute: finite logs below ln(1e-38); the weights rounded to float32 have
    singular values within 1e-7 of rho, so 10^5 steps drift by at most ~1e-2."""
    steps = 10**5
    rng = np.random.default_rng(15)
    cell = make_cell(kind, rng)
    x = np.zeros((steps, 1), dtype=np.float32)
    v = rng.normal(size=H).astype(np.float32)
    u = rng.normal(size=H).astype(np.float32)
    g = ld.grad_norms(cell, x, v, log=True)
    assert g.dtype == np.float64
    assert g.min() < np.log(np.finfo(np.float32).tiny) - 10  # below 1e-38
    want = (steps - 1 - np.arange(steps)) * np.log(RHO) + np.log(np.linalg.norm(v))
    check_log_curve(g, want, 1e-2)
    s = ld.sensitivity(cell, x, u, log=True)
    want_s = (np.arange(steps) + 1) * np.log(RHO) + np.log(np.linalg.norm(u))
    check_log_curve(s, want_s, 1e-2)
    assert not np.isnan(ld.grad_norms(cell, x, v)).any()


SCALE_CASES = [("lstm", q) for q in ("state", "input", "cell", "sensitivity")] + [
    ("elman-tanh", q) for q in ("state", "sensitivity")
]


@pytest.mark.parametrize(
    ("kind", "quantity"), SCALE_CASES, ids=[f"{k}-{q}" for k, q in SCALE_CASES]
)
def test_log_norms_shift_by_log_scale_for_tiny_and_huge_seeds(kind: str, quantity: str) -> None:
    """Scaling the seed v (or u) by c shifts every log norm by ln|c| (both passes are
    linear in it). The seeds are finite float64 vectors whose norms, about 1e-200 and
    1e200, lie well inside the float64 range even though their squares do not.
    """
    rng = np.random.default_rng(16)
    if kind == "lstm":
        cell = ld.LSTM(rng.normal(size=(4 * H, 1)), rng.normal(size=(4 * H, H)) / np.sqrt(H))
    else:
        cell = ld.Elman(rng.normal(size=(H, 1)), rng.normal(size=(H, H)) / np.sqrt(H))
    x = rng.normal(size=(20, 1))
    if quantity == "sensitivity":
        seed = rng.normal(size=cell.state_size)

        def log_norms(s: np.ndarray) -> np.ndarray:
            return ld.sensitivity(cell, x, s, log=True)
    else:
        seed = rng.normal(size=H)

        def log_norms(s: np.ndarray) -> np.ndarray:
            return ld.grad_norms(cell, x, s, wrt=quantity, log=True)

    base = log_norms(seed)
    for scale in (1e-200, 1e200):
        got = log_norms(scale * seed)
        np.testing.assert_allclose(
            got, base + np.log(scale), rtol=0, atol=1e-9, err_msg=f"seed scaled by {scale:g}"
        )
