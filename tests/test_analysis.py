"""Decay-curve metrics, theory overlays, memory capacity and comparisons, checked against
closed forms, independent simulations and the Rust core's own Lyapunov estimate."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest

import longdep as ld
from longdep import analysis


def _linear_cell(rho: float, H: int = 16, seed: int = 0) -> ld.Elman:
    """h_t = rho Q h_{t-1} + W_ih x_t: every gradient norm is known in closed form."""
    return ld.init.elman(H, init="orthogonal", rho=rho, nonlinearity="linear", seed=seed)


# -- closed forms on the linear orthogonal cell ---------------------------------------------


@pytest.mark.parametrize("rho", [0.5, 0.9, 0.99, 1.0, 1.1])
def test_theory_linear_equals_grad_norms_of_rho_q(rho: float) -> None:
    T, H = 3000, 16
    cell = _linear_cell(rho, H)
    v = np.random.default_rng(1).normal(size=H)
    g = ld.grad_norms(cell, np.random.default_rng(2).normal(size=(T, 1)), v, log=True)
    want = analysis.theory_linear(rho, T, v_norm=float(np.linalg.norm(v)))
    np.testing.assert_allclose(g, want, rtol=0, atol=1e-9)


@pytest.mark.parametrize("rho", [0.5, 0.9, 0.99, 1.05])
def test_decay_rate_of_rho_q_is_ln_rho(rho: float) -> None:
    cell = _linear_cell(rho)
    g = ld.grad_norms(cell, np.zeros((2000, 1)), np.ones(16), log=True)
    assert ld.decay_rate(g[::-1]) == pytest.approx(math.log(rho), abs=1e-12)
    assert ld.regime(g[::-1]) == ("vanishing" if rho < 1 else "exploding")


@pytest.mark.parametrize("rho", [0.5, 0.9, 0.99])
def test_memory_horizon_of_rho_q_is_ln_threshold_over_ln_rho(rho: float) -> None:
    cell = _linear_cell(rho)
    g = ld.grad_norms(cell, np.zeros((3000, 1)), np.ones(16), log=True)[::-1]
    want = math.log(1e-6) / math.log(rho)
    got = ld.memory_horizon(g, threshold=1e-6)
    assert abs(got - want) <= 1.0, (got, want)
    assert ld.memory_horizon(g, threshold=1e-3) == pytest.approx(
        math.log(1e-3) / math.log(rho), abs=1.0
    )


def test_orthogonal_linear_cell_is_stable_with_infinite_horizon() -> None:
    g = ld.grad_norms(_linear_cell(1.0), np.zeros((500, 1)), np.ones(16), log=True)[::-1]
    m = ld.curve_metrics(g)
    assert m["regime"] == "stable" and m["memory_horizon"] == math.inf
    assert abs(m["decay_rate"]) < 1e-13


# -- the metric functions on hand-made curves ------------------------------------------------


def test_decay_rate_skips_underflowed_points_and_uses_distance() -> None:
    d = np.arange(1, 101, dtype=float) * 3
    curve = -0.2 * d + 5.0
    curve[60:] = -np.inf
    assert ld.decay_rate(curve, distance=d) == pytest.approx(-0.2, abs=1e-13)
    assert math.isnan(ld.decay_rate(np.array([0.0, -np.inf, -np.inf])))


def test_memory_horizon_first_crossing_sustained_and_never() -> None:
    c = np.array([1.0, 0.0, -20.0, -5.0, -30.0, -40.0])
    assert ld.memory_horizon(c) == 2.0  # first point below 1 + ln 1e-6 = -12.8
    assert ld.memory_horizon(c, sustained=True) == 4.0
    assert ld.memory_horizon(c, distance=np.arange(6) * 10) == 20.0
    assert ld.memory_horizon(np.full(10, 3.0)) == math.inf
    assert ld.memory_horizon(np.array([0.0, -5.0, -np.inf])) == 2.0  # underflow counts


def test_regime_tolerance() -> None:
    assert ld.regime(np.arange(10) * 1e-4) == "stable"
    assert ld.regime(np.arange(10) * 1e-4, tol=1e-5) == "exploding"
    assert ld.regime(-np.arange(10) * 0.01) == "vanishing"


def test_fit_quality_tells_power_law_from_exponential() -> None:
    d = np.arange(0, 2000, dtype=float)
    with np.errstate(divide="ignore"):
        power = -1.5 * np.log(d)  # d = 0 is -inf... and excluded (d >= 1)
    power[0] = 0.0
    fq = analysis.fit_quality(power, distance=d)
    assert fq["power_r2"] == pytest.approx(1.0, abs=1e-12) and fq["exp_r2"] < 0.9
    assert fq["better"] == "power-law"
    fe = analysis.fit_quality(-0.01 * d)
    assert fe["exp_r2"] == pytest.approx(1.0, abs=1e-12) and fe["power_r2"] < 0.9
    assert fe["better"] == "exponential"


def test_curve_metrics_keys_and_values() -> None:
    m = ld.curve_metrics(np.arange(200) * math.log(0.8))
    assert set(m) == {"decay_rate", "memory_horizon", "regime", "exp_r2", "power_r2"}
    assert m["memory_horizon"] == math.ceil(math.log(1e-6) / math.log(0.8))
    assert m["regime"] == "vanishing"


@pytest.mark.parametrize(
    ("call", "exc", "match"),
    [
        (lambda: ld.decay_rate(np.zeros((2, 2))), ld.ShapeError, "log_curve must have 1"),
        (lambda: ld.decay_rate([0.0, np.nan]), ld.NumericsError, "NaN at index 1"),
        (lambda: ld.decay_rate([0.0, 1.0], distance=[0.0]), ld.ShapeError, "distance"),
        (lambda: ld.memory_horizon([0.0, 1.0], threshold=0), ld.ArgumentError, "threshold"),
        (lambda: ld.memory_horizon([-np.inf, 1.0]), ld.NumericsError, "finite value"),
        (lambda: ld.regime([0.0, 1.0], tol=-1), ld.ArgumentError, "tol"),
        (lambda: analysis.downsample_log(0), ld.ArgumentError, "n_points_total"),
        (lambda: analysis.downsample_log(10, np.zeros(9)), ld.ShapeError, "values"),
        (lambda: analysis.theory_linear(0.0, 5), ld.ArgumentError, "rho"),
        (lambda: analysis.mean_field_chi(-1.0), ld.ArgumentError, "gain"),
        (lambda: analysis.lambda_max_zero_fixed_point(np.ones((2, 3))), ld.ShapeError, "square"),
    ],
)
def test_bad_input_raises_named_errors(call: Any, exc: type, match: str) -> None:
    with pytest.raises(exc, match=match):
        call()


# -- downsampling ----------------------------------------------------------------------------


@pytest.mark.parametrize("total", [1, 7, 300, 301, 10_000, 10**7])
def test_downsample_log_keeps_ends_sorted_unique_and_about_n(total: int) -> None:
    idx, _ = analysis.downsample_log(total, n=300)
    assert idx[0] == 0 and idx[-1] == total - 1
    assert np.all(np.diff(idx) > 0)
    assert len(idx) == min(total, 300)


def test_downsample_log_is_log_spaced_and_returns_values() -> None:
    values = np.arange(10**6) * 2.0
    idx, vals = analysis.downsample_log(10**6, values, n=100)
    np.testing.assert_array_equal(vals, values[idx])
    far = idx[idx > 1000] + 1  # past the dense head the ratio of neighbours is constant
    ratios = far[1:] / far[:-1]
    assert ratios.max() / ratios.min() < 1.01


# -- theory: zero fixed point and mean field -------------------------------------------------


def test_lambda_max_zero_fixed_point_equals_rust_lyapunov_exponent() -> None:
    """A tanh cell with no input or bias sits at h = 0 where J = W_hh: the QR Lyapunov
    estimate of the Rust core must converge to ln of W's spectral radius."""
    rng = np.random.default_rng(3)
    w = rng.normal(size=(30, 30)) / np.sqrt(30)
    cell = ld.Elman(np.zeros((30, 1)), w)
    want = analysis.lambda_max_zero_fixed_point(cell)
    assert want == pytest.approx(math.log(np.abs(np.linalg.eigvals(w)).max()), abs=1e-14)
    got = ld.lyapunov_spectrum(cell, np.zeros((4000, 1)), 1, warmup=1000)[0]
    assert got == pytest.approx(want, abs=5e-3)


def test_mean_field_chi_edge_at_gain_one_without_bias() -> None:
    assert analysis.mean_field_chi(1.0, 0.0) == pytest.approx(1.0, abs=1e-12)
    for g in (0.3, 0.7, 0.99):  # ordered phase: q* = 0, chi = gain^2 tanh'(0)^2
        assert analysis.mean_field_chi(g) == pytest.approx(g * g, abs=1e-12)
    assert analysis.mean_field_chi(1.05) > 1.0
    assert analysis.order_chaos_edge([0.0])[0] == pytest.approx(1.0, abs=1e-9)


def test_order_chaos_edge_has_chi_one_and_moves_up_with_bias() -> None:
    grid = np.array([0.05, 0.3, 1.0])
    edge = analysis.order_chaos_edge(grid)
    assert np.all(np.diff(edge) > 0) and edge[0] > 1.0
    for g, b in zip(edge, grid, strict=True):
        assert analysis.mean_field_chi(float(g), float(b)) == pytest.approx(1.0, abs=1e-9)


def _simulated_log_chi(gain: float, bias_std: float, n: int = 600, layers: int = 30) -> float:
    """ln of the per-layer squared-norm gain of a tangent vector through a wide random
    tanh network with fresh weights each layer (the mean-field setting), simulated."""
    rng = np.random.default_rng(11)
    a = rng.normal(size=n)
    u = rng.normal(size=n)
    u /= np.linalg.norm(u)
    logs = []
    for _ in range(layers):
        w = rng.normal(scale=gain / np.sqrt(n), size=(n, n))
        u = w @ ((1 - np.tanh(a) ** 2) * u)
        a = w @ np.tanh(a) + rng.normal(scale=bias_std, size=n)
        norm = np.linalg.norm(u)
        logs.append(2 * math.log(norm))
        u /= norm
    return float(np.mean(logs[8:]))


@pytest.mark.parametrize(("gain", "bias_std"), [(1.5, 0.0), (1.5, 0.3), (1.2, 0.8)])
def test_mean_field_chi_matches_simulated_wide_network(gain: float, bias_std: float) -> None:
    got = math.log(analysis.mean_field_chi(gain, bias_std))
    assert got == pytest.approx(_simulated_log_chi(gain, bias_std), abs=0.04)


# -- memory capacity -------------------------------------------------------------------------


def _linear_mc_theory(cell: ld.Elman, delays: int) -> np.ndarray:
    """MC_k = (W^k w)^T C^{-1} (W^k w), C = sum_j W^j w w^T W^jT (linear cell, iid input)."""
    w_hh, w = cell.weight_hh, cell.weight_ih[:, 0]
    cols, p = [], w.copy()
    for _ in range(4000):
        cols.append(p)
        p = w_hh @ p
    k = np.array(cols)
    cov = k.T @ k
    return np.einsum("ki,ij,kj->k", k, np.linalg.inv(cov), k)[: delays + 1]


def test_memory_capacity_of_orthogonal_linear_network_is_n() -> None:
    N = 20
    cell = ld.init.elman(N, init="orthogonal", rho=0.95, nonlinearity="linear", input_scale=0.1)
    per_delay, total = ld.memory_capacity(cell, max_delay=100)
    theory = _linear_mc_theory(cell, 100)
    assert theory.sum() <= N and _linear_mc_theory(cell, 3999).sum() == pytest.approx(N, abs=1e-6)
    assert per_delay.shape == (100,)
    assert abs(total - N) < 0.1 * N, f"MC = {total:.3f}, N = {N}"
    assert total == pytest.approx(theory[1:].sum(), abs=0.5), (total, theory[1:].sum())
    np.testing.assert_allclose(per_delay[:30], theory[1:31], atol=0.05)


def test_memory_capacity_saturating_network_remembers_less() -> None:
    """tanh with large input weights (saturated) loses capacity against its linear twin."""
    kw = {"init": "orthogonal", "rho": 0.95, "input_scale": 3.0, "seed": 1}
    lin = ld.memory_capacity(ld.init.elman(20, nonlinearity="linear", **kw), max_delay=60)[1]
    sat = ld.memory_capacity(ld.init.elman(20, nonlinearity="tanh", **kw), max_delay=60)[1]
    assert sat < 0.8 * lin, (sat, lin)


def test_memory_capacity_needs_scalar_input() -> None:
    with pytest.raises(ld.ArgumentError, match="input size 1; got input size 3"):
        ld.memory_capacity(ld.init.elman(4, 3), max_delay=5)


# -- compare ---------------------------------------------------------------------------------


def test_compare_grad_norms_tidy_frame_matches_closed_form() -> None:
    T = 500
    cells = {"a": _linear_cell(0.5, 8), "b": _linear_cell(0.9, 8)}
    df = ld.compare(cells, np.zeros((T, 1)), n_points=50)
    assert list(df.columns) == ["name", "distance", "log_norm"]
    assert df["distance"].dtype == np.int64 and df["log_norm"].dtype == np.float64
    assert list(dict.fromkeys(df["name"])) == ["a", "b"]
    for name, rho in (("a", 0.5), ("b", 0.9)):
        part = df[df["name"] == name]
        assert part["distance"].iloc[0] == 0 and part["distance"].iloc[-1] == T - 1
        assert len(part) == 50
        # default v = ones / sqrt(H): unit norm, so log_norm = distance * ln rho
        np.testing.assert_allclose(part["log_norm"], part["distance"] * math.log(rho), atol=1e-9)
    metrics = ld.compare_metrics(df)
    assert list(metrics["name"]) == ["a", "b"]
    want_b = math.log(1e-6) / math.log(0.9)
    assert abs(metrics.set_index("name").loc["b", "memory_horizon"] - want_b) <= 1
    assert df.attrs["metrics"]["a"]["decay_rate"] == pytest.approx(math.log(0.5), abs=1e-12)


def test_compare_sensitivity_distances_start_at_one() -> None:
    cells = {"lin": _linear_cell(0.8, 6)}
    df = ld.compare(cells, np.zeros((100, 1)), quantity="sensitivity", n_points=1000)
    assert df["distance"].tolist() == list(range(1, 101))
    np.testing.assert_allclose(df["log_norm"], df["distance"] * math.log(0.8), atol=1e-9)


def test_compare_metrics_fallback_without_attrs_equals_stored() -> None:
    cells = {"x": _linear_cell(0.7, 4), "y": ld.init.elman(4, rho=0.9)}
    x = np.random.default_rng(0).normal(size=(200, 1))
    df = ld.compare(cells, x, n_points=1000)  # all points kept
    stored = ld.compare_metrics(df)
    bare = pd.DataFrame(df.to_dict("list"))  # attrs dropped, as after a Parquet round trip
    assert not bare.attrs
    pd.testing.assert_frame_equal(ld.compare_metrics(bare), stored)


def test_compare_per_cell_v_and_lstm_and_attention() -> None:
    x = np.random.default_rng(1).normal(size=(300, 1))
    cells = {"lstm": ld.init.lstm(8), "att": ld.init.attention(8)}
    df = ld.compare(cells, x, v={"lstm": np.ones(8), "att": 2 * np.ones(8)})
    lstm = ld.grad_norms(cells["lstm"], x, np.ones(8), log=True)
    part = df[df["name"] == "lstm"]
    np.testing.assert_allclose(part["log_norm"], lstm[::-1][part["distance"]], atol=0)
    with pytest.raises(ld.ArgumentError, match="no"):
        ld.compare(cells, x, quantity="sensitivity")


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"cells": {}}, ld.ArgumentError, "non-empty dict"),
        ({"quantity": "lyapunov"}, ld.ArgumentError, "quantity"),
        ({"x": np.zeros((10, 2, 1))}, ld.ShapeError, "one sequence"),
    ],
)
def test_compare_bad_arguments(kwargs: dict, exc: type, match: str) -> None:
    args = {"cells": {"a": _linear_cell(0.5, 4)}, "x": np.zeros((10, 1)), **kwargs}
    with pytest.raises(exc, match=match):
        ld.compare(args.pop("cells"), args.pop("x"), **args)


# -- the remedy ordering the project exists to show ------------------------------------------

H_REMEDY, T_REMEDY = 128, 10_000


def _horizon(cell: Any, x: np.ndarray) -> float:
    v = np.full(cell.hidden_size, 1.0 / math.sqrt(cell.hidden_size))
    g = ld.grad_norms(cell, x, v, wrt="state", log=True)
    return ld.memory_horizon(g[::-1], threshold=1e-6)


@pytest.fixture(scope="module")
def remedy_input() -> np.ndarray:
    return np.random.default_rng(0).normal(size=(T_REMEDY, 1))


@pytest.fixture(scope="module")
def vanilla_horizon(remedy_input: np.ndarray) -> float:
    return _horizon(ld.init.elman(H_REMEDY, rho=0.9, seed=0), remedy_input)


def test_chrono_lstm_remembers_orders_of_magnitude_longer_than_vanilla(
    remedy_input: np.ndarray, vanilla_horizon: float
) -> None:
    lstm = _horizon(ld.init.lstm(H_REMEDY, chrono=T_REMEDY, seed=0), remedy_input)
    msg = f"horizons (steps): vanilla tanh rho=0.9 {vanilla_horizon}, LSTM chrono {lstm}"
    assert 1 <= vanilla_horizon < 100, msg
    assert lstm >= 100 * vanilla_horizon, msg


def test_lru_near_unit_circle_remembers_orders_of_magnitude_longer_than_vanilla(
    remedy_input: np.ndarray, vanilla_horizon: float
) -> None:
    lru = ld.init.lru(H_REMEDY // 2, r_min=0.999, r_max=0.9999, seed=0)  # 2 * 64 = 128 real
    horizon = _horizon(lru, remedy_input)
    msg = f"horizons (steps): vanilla tanh rho=0.9 {vanilla_horizon}, LRU |lambda|~1 {horizon}"
    assert horizon >= 100 * vanilla_horizon, msg
