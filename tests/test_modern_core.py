"""minLSTM, RG-LRU and sLSTM through the core's catalogue (``kind = "minlstm"``,
``"rglru"``, ``"slstm"``), before their Python classes: forward against a NumPy loop of
the published step, per-step gradient and input norms against JAX autodiff of the same
formulas (float64), closed forms, the sLSTM stabiliser's invariance, and bad input."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from longdep import _core

H, I, T, B = 5, 3, 40, 2
BUDGET = 1 << 29


def _sigmoid(a: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-a))


def _softplus(a: np.ndarray) -> np.ndarray:
    return np.logaddexp(0.0, a)


def _grad_norms(spec: dict, x: np.ndarray, s0: np.ndarray, v: np.ndarray, wrt: str) -> np.ndarray:
    return _core.grad_norms(spec, x, s0, v, wrt, BUDGET, None, None)


def _jax_norms(
    jax: Any,
    step: Callable[[Any, Any], tuple[Any, Any]],
    s0: np.ndarray,
    x: np.ndarray,
    v: np.ndarray,
    wrt: str,
) -> np.ndarray:
    """``||dL/dh_t||`` (an additive perturbation of the ``h`` part of the state after
    step t) or ``||dL/dx_t||`` for ``L = v . h_{T-1}``, by JAX autodiff of ``step``:
    ``(state, x_t) -> (new state, h_t)`` with ``h`` the first ``H`` entries."""
    import jax.numpy as jnp

    def run(xs, eps):
        def body(s, inp):
            x_t, e_t = inp
            s, h = step(s, x_t)
            s = s.at[..., :H].add(e_t)
            return s, h + e_t

        return jax.lax.scan(body, jnp.asarray(s0), (xs, eps))[1]

    def loss(xs, eps):
        return jnp.sum(jnp.asarray(v) * run(xs, eps)[-1])

    eps0 = jnp.zeros((*x.shape[:2], H))
    g_x, g_eps = jax.grad(loss, argnums=(0, 1))(jnp.asarray(x), eps0)
    return np.linalg.norm(np.asarray(g_eps if wrt == "state" else g_x), axis=-1)


# The three steps in JAX, from named parameters (jnp arrays or NumPy arrays alike).


def _minlstm_jax_step(jax: Any, p: dict) -> Callable[[Any, Any], tuple[Any, Any]]:
    def step(h, x_t):
        a = x_t @ p["weight_ih"].T + p["bias_ih"]
        f, i = jax.nn.sigmoid(a[:, :H]), jax.nn.sigmoid(a[:, H : 2 * H])
        h = f / (f + i) * h + i / (f + i) * a[:, 2 * H :]
        return h, h

    return step


def _rglru_jax_step(jax: Any, p: dict) -> Callable[[Any, Any], tuple[Any, Any]]:
    import jax.numpy as jnp

    def step(h, x_t):
        gate_a = jax.nn.sigmoid(x_t @ p["weight_a"].T + p["bias_a"])
        gate_x = jax.nn.sigmoid(x_t @ p["weight_x"].T + p["bias_x"])
        log_a = -8.0 * gate_a * jax.nn.softplus(p["a_param"])
        h = jnp.exp(log_a) * h + jnp.sqrt(-jnp.expm1(2.0 * log_a)) * (gate_x * x_t)
        return h, h

    return step


def _slstm_jax_step(jax: Any, p: dict) -> Callable[[Any, Any], tuple[Any, Any]]:
    import jax.numpy as jnp

    def step(s, x_t):
        h, c, n, m = (s[:, k * H : (k + 1) * H] for k in range(4))
        raw = x_t @ p["weight_ih"].T + h @ p["weight_hh"].T + p["bias"]
        ir, fr, zr, o_r = (raw[:, k * H : (k + 1) * H] for k in range(4))
        log_f = m + jax.nn.log_sigmoid(fr)
        m = jnp.maximum(ir, log_f)
        ig, fg = jnp.exp(ir - m), jnp.exp(log_f - m)
        c = fg * c + ig * jnp.tanh(zr)
        n = fg * n + ig
        h = jax.nn.sigmoid(o_r) * c / n
        return jnp.concatenate([h, c, n, m], axis=1), h

    return step


# -- minLSTM -------------------------------------------------------------------------


def _minlstm_spec(w: np.ndarray, b: np.ndarray) -> dict:
    return {"kind": "minlstm", "weight_ih": w, "bias_ih": b}


def _minlstm_data(seed: int = 0) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    w = rng.normal(size=(3 * H, I))
    b = 0.5 * rng.normal(size=3 * H)
    x = rng.normal(size=(T, B, I))
    h0 = 0.5 * rng.normal(size=(B, H))
    v = rng.normal(size=(B, H))
    return w, b, x, h0, v


def _minlstm_numpy(w: np.ndarray, b: np.ndarray, x: np.ndarray, h0: np.ndarray) -> np.ndarray:
    h, out = h0.copy(), []
    for t in range(x.shape[0]):
        a = x[t] @ w.T + b
        f, i, cand = _sigmoid(a[:, :H]), _sigmoid(a[:, H : 2 * H]), a[:, 2 * H :]
        h = f / (f + i) * h + i / (f + i) * cand
        out.append(h)
    return np.stack(out)


def test_minlstm_forward_equals_the_published_step() -> None:
    w, b, x, h0, _ = _minlstm_data()
    got = _core.forward(_minlstm_spec(w, b), x, h0, None, False)
    np.testing.assert_allclose(got, _minlstm_numpy(w, b, x, h0), rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("wrt", ["state", "input"])
def test_minlstm_grad_norms_equal_jax_autodiff(jax, wrt: str) -> None:
    w, b, x, h0, v = _minlstm_data(1)
    step = _minlstm_jax_step(jax, {"weight_ih": w, "bias_ih": b})
    want = _jax_norms(jax, step, h0, x, v, wrt)
    got = _grad_norms(_minlstm_spec(w, b), x, h0, v, wrt)
    np.testing.assert_allclose(np.exp(got), want, rtol=1e-10)


def test_minlstm_constant_gates_decay_geometrically() -> None:
    # W_f = W_i = 0 and equal biases in every unit: f' = s(b_f) / (s(b_f) + s(b_i)) at
    # every step, so dL/dh_t = f'^(T-1-t) v.
    rng = np.random.default_rng(2)
    w = rng.normal(size=(3 * H, I))
    w[: 2 * H] = 0.0
    b = np.concatenate([np.full(H, 1.5), np.full(H, -0.5), rng.normal(size=H)])
    x = rng.normal(size=(T, 1, I))
    v = rng.normal(size=(1, H))
    got = _grad_norms(_minlstm_spec(w, b), x, np.zeros((1, H)), v, "state")
    f, i = _sigmoid(1.5), _sigmoid(-0.5)
    want = (T - 1 - np.arange(T)) * np.log(f / (f + i)) + np.log(np.linalg.norm(v))
    np.testing.assert_allclose(got[:, 0], want, rtol=1e-12, atol=1e-12)


def test_minlstm_tiny_gates_keep_their_ratio() -> None:
    # Both gates far below the float range of a sigmoid: f' = sigmoid(a_f - a_i).
    w = np.zeros((3 * H, I))
    b = np.concatenate([np.full(H, -900.0), np.full(H, -901.0), np.ones(H)])
    x = np.zeros((3, 1, I))
    got = _core.forward(_minlstm_spec(w, b), x, np.zeros((1, H)), None, False)
    keep = _sigmoid(1.0)
    want = 1.0 - keep ** np.arange(1, 4)
    np.testing.assert_allclose(got[:, 0, 0], want, rtol=1e-12)


def test_minlstm_row_count_is_a_clear_error() -> None:
    w, b, x, h0, _ = _minlstm_data()
    with pytest.raises(ValueError, match="weight_ih"):
        _core.forward(_minlstm_spec(w[:-1], b[:-1]), x, h0, None, False)


# -- RG-LRU --------------------------------------------------------------------------


def _rglru_spec(p: dict[str, np.ndarray]) -> dict:
    return {"kind": "rglru", **p}


def _rglru_data(seed: int = 0) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    p = {
        "weight_a": rng.normal(size=(H, H)) / np.sqrt(H),
        "bias_a": 0.5 * rng.normal(size=H),
        "weight_x": rng.normal(size=(H, H)) / np.sqrt(H),
        "bias_x": 0.5 * rng.normal(size=H),
        # softplus(a_param) about 0.05: a = exp(-8 gate_a softplus) in (0.6, 1).
        "a_param": -3.0 + 0.5 * rng.normal(size=H),
    }
    x = rng.normal(size=(T, B, H))
    h0 = 0.5 * rng.normal(size=(B, H))
    v = rng.normal(size=(B, H))
    return p, x, h0, v


def _rglru_numpy(p: dict[str, np.ndarray], x: np.ndarray, h0: np.ndarray) -> np.ndarray:
    h, out = h0.copy(), []
    for t in range(x.shape[0]):
        gate_a = _sigmoid(x[t] @ p["weight_a"].T + p["bias_a"])
        gate_x = _sigmoid(x[t] @ p["weight_x"].T + p["bias_x"])
        a = np.exp(-8.0 * gate_a * _softplus(p["a_param"]))
        h = a * h + np.sqrt(1.0 - a**2) * (gate_x * x[t])
        out.append(h)
    return np.stack(out)


def test_rglru_forward_equals_the_published_step() -> None:
    p, x, h0, _ = _rglru_data()
    got = _core.forward(_rglru_spec(p), x, h0, None, False)
    np.testing.assert_allclose(got, _rglru_numpy(p, x, h0), rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("wrt", ["state", "input"])
def test_rglru_grad_norms_equal_jax_autodiff(jax, wrt: str) -> None:
    p, x, h0, v = _rglru_data(1)
    want = _jax_norms(jax, _rglru_jax_step(jax, p), h0, x, v, wrt)
    got = _grad_norms(_rglru_spec(p), x, h0, v, wrt)
    np.testing.assert_allclose(np.exp(got), want, rtol=1e-10)


def test_rglru_fixed_decay_gate_closed_form() -> None:
    # W_a = 0: gate_a = sigmoid(b_a) and a_j = exp(-8 gate_a_j softplus(a_param_j)) are
    # fixed per unit, the Jacobian is diag(a) at every step and dL/dh_t = a^(T-1-t) v
    # (elementwise): ||dL/dh_t||^2 = sum_j a_j^(2(T-1-t)) v_j^2.
    p, x, _, _ = _rglru_data(3)
    p["weight_a"] = np.zeros((H, H))
    v = np.random.default_rng(4).normal(size=(1, H))
    got = _grad_norms(_rglru_spec(p), np.ascontiguousarray(x[:, :1]), np.zeros((1, H)), v, "state")
    log_a = -8.0 * _sigmoid(p["bias_a"]) * _softplus(p["a_param"])
    k = (T - 1 - np.arange(T))[:, None]
    want = 0.5 * np.log(np.sum(np.exp(2.0 * k * log_a) * v**2, axis=1))
    np.testing.assert_allclose(got[:, 0], want, rtol=1e-12, atol=1e-12)
    # All units alike: log ||dL/dh_t|| is the sum of log a over steps t+1..T-1, exactly.
    p["bias_a"] = np.full(H, 0.3)
    p["a_param"] = np.full(H, -2.0)
    got = _grad_norms(_rglru_spec(p), np.ascontiguousarray(x[:, :1]), np.zeros((1, H)), v, "state")
    log_a = -8.0 * _sigmoid(0.3) * _softplus(-2.0)
    want = (T - 1 - np.arange(T)) * log_a + np.log(np.linalg.norm(v))
    np.testing.assert_allclose(got[:, 0], want, rtol=1e-12, atol=1e-12)


def test_rglru_a_equal_to_one_stays_finite() -> None:
    # softplus(-800) underflows to 0: a = 1 and sqrt(1 - a^2) = 0; h stays at h0, the
    # gradient passes unchanged and the input has no effect (its norm is exactly 0).
    p, x, h0, v = _rglru_data(5)
    p["a_param"] = np.full(H, -800.0)
    spec = _rglru_spec(p)
    got_h = _core.forward(spec, x, h0, None, False)
    np.testing.assert_array_equal(got_h, np.broadcast_to(h0, x.shape))
    got = _grad_norms(spec, x, h0, v, "state")
    np.testing.assert_allclose(got, np.broadcast_to(np.log(np.linalg.norm(v, axis=1)), (T, B)))
    assert np.all(_grad_norms(spec, x, h0, v, "input") == -np.inf)


def test_rglru_input_size_must_equal_hidden_size() -> None:
    p, _, h0, _ = _rglru_data()
    p["weight_a"] = p["weight_a"][:, :-1].copy()
    p["weight_x"] = p["weight_x"][:, :-1].copy()
    with pytest.raises(ValueError, match="input size"):
        _core.forward(_rglru_spec(p), np.zeros((4, B, H - 1)), h0, None, False)
    p, _, h0, _ = _rglru_data()
    p["weight_x"] = np.zeros((H, H + 1))
    with pytest.raises(ValueError, match=r"weight_x.*input size"):
        _core.forward(_rglru_spec(p), np.zeros((4, B, H)), h0, None, False)


# -- sLSTM ---------------------------------------------------------------------------


def _slstm_spec(w: np.ndarray, r: np.ndarray, b: np.ndarray) -> dict:
    return {"kind": "slstm", "weight_ih": w, "weight_hh": r, "bias": b}


def _slstm_data(seed: int = 0) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    w = rng.normal(size=(4 * H, I))
    r = rng.normal(size=(4 * H, H)) / np.sqrt(H)
    b = 0.5 * rng.normal(size=4 * H)
    x = rng.normal(size=(T, B, I))
    s0 = 0.5 * rng.normal(size=(B, 4 * H))
    s0[:, 2 * H : 3 * H] = 0.5 + np.abs(s0[:, 2 * H : 3 * H])  # n > 0
    v = rng.normal(size=(B, H))
    return w, r, b, x, s0, v


def _log_sigmoid(a: np.ndarray) -> np.ndarray:
    return -np.logaddexp(0.0, -a)


def _slstm_numpy(
    w: np.ndarray, r: np.ndarray, b: np.ndarray, x: np.ndarray, s0: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The full states (T, B, 4H) and which steps took ``m_t = i_r`` (T, B, H)."""
    h, c, n, m = (s0[:, k * H : (k + 1) * H].copy() for k in range(4))
    out, took_i = [], []
    for t in range(x.shape[0]):
        raw = x[t] @ w.T + h @ r.T + b
        ir, fr, zr, o_r = (raw[:, k * H : (k + 1) * H] for k in range(4))
        log_f = m + _log_sigmoid(fr)
        m = np.maximum(ir, log_f)
        ig, fg = np.exp(ir - m), np.exp(log_f - m)
        c = fg * c + ig * np.tanh(zr)
        n = fg * n + ig
        h = _sigmoid(o_r) * c / n
        out.append(np.concatenate([h, c, n, m], axis=1))
        took_i.append(ir >= log_f)
    return np.stack(out), np.stack(took_i)


def test_slstm_forward_equals_the_published_step() -> None:
    w, r, b, x, s0, _ = _slstm_data()
    want, took_i = _slstm_numpy(w, r, b, x, s0)
    assert took_i.any() and not took_i.all()  # both branches of the max
    spec = _slstm_spec(w, r, b)
    got = _core.forward(spec, x, s0, None, False)
    np.testing.assert_allclose(got, want[..., :H], rtol=1e-12, atol=1e-13)
    full = _core.forward(spec, x, s0, None, True)
    np.testing.assert_allclose(full, want, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("wrt", ["state", "input"])
def test_slstm_grad_norms_equal_jax_autodiff(jax, wrt: str) -> None:
    w, r, b, x, s0, v = _slstm_data(1)
    took_i = _slstm_numpy(w, r, b, x, s0)[1]
    assert took_i.any() and not took_i.all()
    step = _slstm_jax_step(jax, {"weight_ih": w, "weight_hh": r, "bias": b})
    want = _jax_norms(jax, step, s0, x, v, wrt)
    got = _grad_norms(_slstm_spec(w, r, b), x, s0, v, wrt)
    np.testing.assert_allclose(np.exp(got), want, rtol=1e-10)


@pytest.mark.parametrize("shift", [-50.0, -7.0, 2.5, 10.0])
def test_slstm_stabiliser_does_not_change_h_or_its_gradient(shift: float) -> None:
    # From c_0 = n_0 = 0, m_0 only picks a scale for (c, n): h_t and ||dL/dh_t|| are the
    # same for every m_0, though the branches of the max (and c, n, m) differ. (A large
    # positive shift keeps n_t ~ e^-shift for the first steps, and the adjoints of c and n
    # ~ e^shift: at shift 20 any float64 chain rule, JAX's as well, moves by ~1e-10.)
    w, r, b, x, s0, v = _slstm_data(2)
    s0[:, H : 3 * H] = 0.0
    moved = s0.copy()
    moved[:, 3 * H :] += shift
    spec = _slstm_spec(w, r, b)
    h_a = _core.forward(spec, x, s0, None, False)
    h_b = _core.forward(spec, x, moved, None, False)
    np.testing.assert_allclose(h_b, h_a, rtol=1e-12, atol=1e-14)
    g_a = _grad_norms(spec, x, s0, v, "state")
    g_b = _grad_norms(spec, x, moved, v, "state")
    np.testing.assert_allclose(g_b, g_a, rtol=0, atol=1e-12)  # log-norms: relative 1e-12
    np.testing.assert_allclose(
        _grad_norms(spec, x, moved, v, "input"), _grad_norms(spec, x, s0, v, "input"), atol=1e-12
    )


def test_slstm_stabiliser_gauge_with_nonzero_memory() -> None:
    # In general (c, n, m) -> (c e^-d, n e^-d, m + d) is the invariance; shifting m_0
    # alone rescales the memory against the next input and does change h.
    w, r, b, x, s0, v = _slstm_data(3)
    d = 4.0
    gauged = s0.copy()
    gauged[:, H : 3 * H] *= np.exp(-d)
    gauged[:, 3 * H :] += d
    spec = _slstm_spec(w, r, b)
    h_a = _core.forward(spec, x, s0, None, False)
    h_g = _core.forward(spec, x, gauged, None, False)
    np.testing.assert_allclose(h_g, h_a, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(
        _grad_norms(spec, x, gauged, v, "state"), _grad_norms(spec, x, s0, v, "state"), atol=1e-12
    )
    shifted = s0.copy()
    shifted[:, 3 * H :] += d
    assert np.abs(_core.forward(spec, x, shifted, None, False) - h_a).max() > 1e-3


def test_slstm_initial_state_is_h_c_n_m() -> None:
    w, r, b, x, s0, _ = _slstm_data()
    spec = _slstm_spec(w, r, b)
    with pytest.raises(ValueError, match=rf"h0.*\({B}, {4 * H}\)"):
        _core.forward(spec, x, s0[:, :H].copy(), None, False)


def test_slstm_bad_weights_are_clear_errors() -> None:
    w, r, b, x, s0, _ = _slstm_data()
    with pytest.raises(ValueError, match="weight_hh"):
        _core.forward(_slstm_spec(w, r[:-1], b), x, s0, None, False)
    with pytest.raises(ValueError, match="weight_ih"):
        _core.forward(_slstm_spec(w[:-1], r, b), x, s0, None, False)
    with pytest.raises(ValueError, match="bias"):
        _core.forward(_slstm_spec(w, r, b[:-1]), x, s0, None, False)


# -- parameter gradients in the documented flat layout --------------------------------


def _layout_case(kind: str) -> tuple[dict[str, np.ndarray], Any, np.ndarray, np.ndarray]:
    """Named parameters in the core's flat gradient order, the JAX step, x and s0."""
    if kind == "minlstm":
        w, b, x, s0, _ = _minlstm_data(6)
        return {"weight_ih": w, "bias_ih": b}, _minlstm_jax_step, x, s0
    if kind == "rglru":
        p, x, s0, _ = _rglru_data(6)
        names = ["weight_a", "bias_a", "weight_x", "bias_x", "a_param"]
        return {k: p[k] for k in names}, _rglru_jax_step, x, s0
    w, r, b, x, s0, _ = _slstm_data(6)
    return {"weight_ih": w, "weight_hh": r, "bias": b}, _slstm_jax_step, x, s0


@pytest.mark.parametrize("kind", ["minlstm", "rglru", "slstm"])
def test_param_grads_follow_the_documented_layout(jax, kind: str) -> None:
    # L = sum_t dh_t . h_t; the flat gradient is the named arrays in order, row-major.
    import jax.numpy as jnp

    params, make_step, x, s0 = _layout_case(kind)
    dh = np.random.default_rng(7).normal(size=(*x.shape[:2], H))

    def loss(p, s_init):
        hs = jax.lax.scan(make_step(jax, p), jnp.asarray(s_init), jnp.asarray(x))[1]
        return jnp.sum(jnp.asarray(dh) * hs)

    g_p, g_s = jax.grad(loss, argnums=(0, 1))({k: jnp.asarray(v) for k, v in params.items()}, s0)
    want = np.concatenate([np.asarray(g_p[k]).ravel() for k in params])
    flat, d_s0 = _core.param_grads({"kind": kind, **params}, x, s0, dh)
    np.testing.assert_allclose(flat, want, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(d_s0, np.asarray(g_s), rtol=1e-10, atol=1e-12)


# -- the public classes (python/longdep/modern.py) ----------------------------------------


def _public_case(kind: str) -> tuple[Any, dict[str, np.ndarray], Any, np.ndarray, Any]:
    """The class instance, its named parameters, the JAX step, x and h0 as ld takes it."""
    import longdep as ld

    params, make_step, x, s0 = _layout_case(kind)
    cls = {"minlstm": ld.MinLSTM, "rglru": ld.RGLRU, "slstm": ld.SLSTM}[kind]
    cell = cls(**params)
    h0: Any = s0
    if kind == "slstm":
        h0 = tuple(s0[:, k * H : (k + 1) * H] for k in range(4))
    return cell, params, make_step, x, h0


@pytest.mark.parametrize("kind", ["minlstm", "rglru", "slstm"])
def test_public_class_equals_jax(jax, kind: str) -> None:
    """ld.forward / grad_norms / sensitivity / param_grads of the class against JAX."""
    import jax.numpy as jnp

    import longdep as ld

    cell, params, make_step, x, h0 = _public_case(kind)
    s0 = np.concatenate(h0, axis=1) if isinstance(h0, tuple) else h0
    step = make_step(jax, params)
    hs = np.asarray(jax.lax.scan(step, jnp.asarray(s0), jnp.asarray(x))[1])
    np.testing.assert_allclose(ld.forward(cell, x, h0), hs, rtol=1e-12, atol=1e-13)
    v = np.random.default_rng(8).normal(size=(x.shape[1], H))
    for wrt in ("state", "input"):
        want = _jax_norms(jax, step, s0, x, v, wrt)
        np.testing.assert_allclose(ld.grad_norms(cell, x, v, h0, wrt=wrt), want, rtol=1e-10)
    u = np.random.default_rng(9).normal(size=s0.shape)
    _, tangents = jax.jvp(
        lambda s: jax.lax.scan(lambda c, xt: (step(c, xt)[0],) * 2, s, jnp.asarray(x))[1],
        (jnp.asarray(s0),),
        (jnp.asarray(u),),
    )
    want_s = np.linalg.norm(np.asarray(tangents), axis=-1)
    # sensitivity takes the tangent of the whole flat state (B, S)
    np.testing.assert_allclose(ld.sensitivity(cell, x, u, h0), want_s, rtol=1e-9)
    dh = np.random.default_rng(7).normal(size=(*x.shape[:2], H))
    got = ld.param_grads(cell, x, dh, h0)

    def loss(p):
        out = jax.lax.scan(make_step(jax, p), jnp.asarray(s0), jnp.asarray(x))[1]
        return jnp.sum(jnp.asarray(dh) * out)

    g = jax.grad(loss)({k: jnp.asarray(a) for k, a in params.items()})
    for name in params:
        np.testing.assert_allclose(got[name], np.asarray(g[name]), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("kind", ["minlstm", "rglru", "slstm"])
def test_public_class_trains_and_round_trips(kind: str) -> None:
    import longdep as ld

    cell, params, _, _, _ = _public_case(kind)
    again = type(cell).from_state_dict({f"{k}_l0": a for k, a in params.items()})
    assert all(np.array_equal(again.trainable()[k], a) for k, a in params.items())
    clone = cell.replace(cell.trainable())
    x = np.random.default_rng(3).normal(size=(20, cell.input_size))
    np.testing.assert_array_equal(ld.forward(clone, x), ld.forward(cell, x))
    with pytest.raises(ValueError, match="read-only"):
        next(iter(cell.trainable(copy=False).values()))[0] = 1.0
