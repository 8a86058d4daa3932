"""Initialisation helpers: spectra, bias layouts and the memory times chrono init promises."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import longdep as ld


def _radius(w: np.ndarray) -> float:
    return float(np.abs(np.linalg.eigvals(w)).max())


def test_orthogonal_is_orthogonal_deterministic_and_seeded() -> None:
    q = ld.init.orthogonal(50, seed=7)
    np.testing.assert_allclose(q.T @ q, np.eye(50), atol=1e-12)
    np.testing.assert_allclose(np.abs(np.linalg.eigvals(q)), 1.0, atol=1e-12)
    np.testing.assert_array_equal(q, ld.init.orthogonal(50, seed=7))
    assert not np.allclose(q, ld.init.orthogonal(50, seed=8))


def test_orthogonal_is_haar_distributed_trace_moments() -> None:
    """For Haar O(n): E[tr Q] = 0 and E[tr(Q)^2] = 1 (Diaconis & Shahshahani 1994); a QR
    without the sign fix gives E[tr Q] far from 0."""
    traces = np.array([np.trace(ld.init.orthogonal(8, seed=s)) for s in range(3000)])
    assert abs(traces.mean()) < 0.06, traces.mean()
    assert abs((traces**2).mean() - 1.0) < 0.1, (traces**2).mean()


@pytest.mark.parametrize("rho", [0.0, 0.5, 0.9, 1.0, 1.7])
def test_scale_to_spectral_radius_hits_rho(rho: float) -> None:
    w = np.random.default_rng(0).normal(size=(30, 30))
    scaled = ld.init.scale_to_spectral_radius(w, rho)
    assert _radius(scaled) == pytest.approx(rho, abs=1e-12)
    if rho > 0:
        np.testing.assert_allclose(scaled / rho, w / _radius(w), rtol=1e-12)


@pytest.mark.parametrize("init", ["normal", "orthogonal", "identity"])
@pytest.mark.parametrize("rho", [0.5, 0.9, 1.0])
def test_elman_rho_sets_spectral_radius(init: str, rho: float) -> None:
    cell = ld.init.elman(64, init=init, rho=rho, seed=3)
    assert _radius(cell.weight_hh) == pytest.approx(rho, abs=1e-12)


def test_elman_normal_entries_have_std_gain_over_sqrt_h_and_radius_near_gain() -> None:
    """W_hh ~ N(0, gain^2/H): entry std gain/sqrt(H); circular law: radius -> gain."""
    H, gain = 200, 1.3
    w = ld.init.elman(H, init="normal", gain=gain, seed=0).weight_hh
    assert w.std() == pytest.approx(gain / np.sqrt(H), rel=0.02)
    assert abs(w.mean()) < 3 * gain / H
    assert _radius(w) == pytest.approx(gain, rel=0.1)  # finite-H edge sits a little outside


def test_elman_orthogonal_and_identity_scale_with_gain() -> None:
    w = ld.init.elman(20, init="orthogonal", gain=0.7, seed=1).weight_hh
    np.testing.assert_allclose(w.T @ w, 0.49 * np.eye(20), atol=1e-12)
    irnn = ld.init.elman(5, init="identity", nonlinearity="relu", seed=1)
    np.testing.assert_array_equal(irnn.weight_hh, np.eye(5))
    assert irnn.nonlinearity == "relu"
    assert ld.init.elman(5, init="identity").nonlinearity == "tanh"  # not switched silently


def test_elman_input_weights_scale_and_are_shared_across_inits() -> None:
    cells = [ld.init.elman(300, 4, init=i, input_scale=2.0, seed=5) for i in ("normal", "identity")]
    w = cells[0].weight_ih
    assert w.shape == (300, 4)
    assert w.std() == pytest.approx(2.0 / np.sqrt(4), rel=0.05)
    np.testing.assert_array_equal(w, cells[1].weight_ih)  # only the recurrence differs
    assert np.all(cells[0].bias_ih == 0) and np.all(cells[0].bias_hh == 0)


def test_elman_is_deterministic_and_passes_options() -> None:
    a = ld.init.elman(16, 2, seed=9, residual=0.5, layer_norm=True, nonlinearity="relu")
    b = ld.init.elman(16, 2, seed=9, residual=0.5, layer_norm=True, nonlinearity="relu")
    np.testing.assert_array_equal(a.weight_hh, b.weight_hh)
    np.testing.assert_array_equal(a.weight_ih, b.weight_ih)
    assert (a.residual, a.layer_norm, a.nonlinearity) == (0.5, True, "relu")


def test_identity_init_linear_cell_preserves_gradient_exactly() -> None:
    """IRNN at rho = 1 with a linear activation: dL/dh_t = v for every t."""
    cell = ld.init.elman(8, init="identity", nonlinearity="linear")
    g = ld.grad_norms(cell, np.random.default_rng(0).normal(size=(1000, 1)), np.ones(8), log=True)
    np.testing.assert_allclose(g, np.log(np.sqrt(8)), atol=1e-12)


def test_lstm_forget_bias_layout() -> None:
    H = 6
    cell = ld.init.lstm(H, 3, forget_bias=2.5, seed=0)
    assert cell.weight_hh.shape == (4 * H, H) and cell.weight_ih.shape == (4 * H, 3)
    want = np.zeros(4 * H)
    want[H : 2 * H] = 2.5
    np.testing.assert_array_equal(cell.bias_ih, want)
    np.testing.assert_array_equal(cell.bias_hh, np.zeros(4 * H))


@pytest.mark.parametrize("t_max", [10, 1000, 10**4])
def test_lstm_chrono_biases_are_log_uniform_and_input_gate_opposite(t_max: int) -> None:
    """Tallec & Ollivier: b_f = log(U[1, T_max - 1]), b_i = -b_f, b_g = b_o = 0."""
    H = 1500
    b = ld.init.lstm(H, chrono=t_max, seed=1).bias_ih
    b_i, b_f, rest = b[:H], b[H : 2 * H], b[2 * H :]
    assert b_f.min() >= 0.0 and b_f.max() <= np.log(t_max - 1)
    np.testing.assert_array_equal(b_i, -b_f)
    np.testing.assert_array_equal(rest, 0.0)
    # exp(b_f) is uniform on [1, T_max - 1]: its quartiles sit at 1/4, 1/2, 3/4 of the range
    e = np.exp(b_f)
    quart = np.quantile(e, [0.25, 0.5, 0.75])
    want = 1 + (t_max - 2) * np.array([0.25, 0.5, 0.75])
    np.testing.assert_allclose(quart, want, rtol=0.08)


def test_gru_chrono_sets_only_the_keep_gate() -> None:
    H = 1500
    b = ld.init.gru(H, chrono=500, seed=2).bias_ih
    b_r, b_z, b_n = b[:H], b[H : 2 * H], b[2 * H :]
    np.testing.assert_array_equal(b_r, 0.0)
    np.testing.assert_array_equal(b_n, 0.0)
    assert b_z.min() >= 0 and b_z.max() <= np.log(499)
    assert np.median(np.exp(b_z)) == pytest.approx(250, rel=0.08)
    assert np.all(ld.init.gru(H, seed=2).bias_ih == 0)


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_chrono_memory_time_is_what_the_rust_core_measures(kind: str) -> None:
    """With no recurrent or input weights the keep path is c_t = f c_{t-1} (LSTM) or
    h_t = z h_{t-1} (GRU), a unit's memory time is 1 + e^b, and the decay rate of
    ld.sensitivity along that unit must be ln sigmoid(b) exactly."""
    H = 5
    make = ld.init.lstm if kind == "lstm" else ld.init.gru
    cell = make(H, chrono=1000, gain=0.0, input_scale=0.0, seed=3)
    b_keep = cell.bias_ih[H : 2 * H]
    x = np.zeros((300, 1))
    for j in range(H):
        u = np.zeros(cell.state_size)
        u[(H if kind == "lstm" else 0) + j] = 1.0  # the c unit (LSTM) / the h unit (GRU)
        curve = ld.sensitivity(cell, x, u, log=True)
        rate = ld.decay_rate(curve, distance=np.arange(1, 301))
        assert rate == pytest.approx(-np.log1p(np.exp(-b_keep[j])), abs=1e-10)


def test_attention_init_shapes_and_scale() -> None:
    head = ld.init.attention(64, 4, scale=0.5, seed=0)
    assert head.W_q.shape == head.W_k.shape == head.W_v.shape == (64, 4) and head.W_o is None
    assert np.std(np.concatenate([head.W_q, head.W_k, head.W_v])) == pytest.approx(0.25, rel=0.1)
    res = ld.init.attention(64, 4, residual=True, seed=0)
    assert res.W_o.shape == (4, 64) and res.hidden_size == 4
    np.testing.assert_array_equal(res.W_q, head.W_q / 0.5)


def test_lru_wrapper_is_the_ring_init() -> None:
    a = ld.init.lru(6, 2, r_min=0.95, r_max=0.99, seed=4)
    b = ld.LRU.random(6, 2, r_min=0.95, r_max=0.99, max_phase=6.283, seed=4)
    np.testing.assert_array_equal(a.eigenvalues, b.eigenvalues)
    assert np.all((np.abs(a.eigenvalues) >= 0.95 - 1e-12) & (np.abs(a.eigenvalues) <= 0.99 + 1e-12))


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: ld.init.elman(0), "H must be a positive integer"),
        (lambda: ld.init.elman(4, init="xavier"), "init must be one of"),
        (lambda: ld.init.elman(4, rho=-1.0), "rho must be a non-negative"),
        (lambda: ld.init.elman(4, gain=float("nan")), "gain must be"),
        (lambda: ld.init.elman(4, seed=-1), "seed must be"),
        (lambda: ld.init.lstm(4, chrono=1.5), "chrono must be"),
        (lambda: ld.init.gru(4, chrono=0), "chrono must be"),
        (lambda: ld.init.lstm(4, forget_bias=float("inf")), "forget_bias"),
        (lambda: ld.init.orthogonal(0), "n must be"),
        (lambda: ld.init.scale_to_spectral_radius(np.ones((2, 3)), 1.0), "square"),
        (lambda: ld.init.scale_to_spectral_radius(np.triu(np.ones((3, 3)), 1), 1.0), "radius 0"),
        (lambda: ld.init.lru(4, out=3), "out must be None"),
    ],
)
def test_bad_arguments_raise_named_errors(call: Any, match: str) -> None:
    with pytest.raises((ld.ArgumentError, ld.ShapeError), match=match):
        call()
