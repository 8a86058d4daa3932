"""The self-attention head against a NumPy loop (forward) and JAX autodiff (gradients)."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest

import longdep as ld

# (W_o given, residual, layer_norm, causal); residual needs W_o to map back to I.
VARIANTS = [
    (False, False, False, True),
    (True, False, False, True),
    (True, True, False, True),
    (True, False, True, True),
    (True, True, True, True),
    (False, False, True, False),
    (True, True, True, False),
]


def _head(rng: np.random.Generator, d: int, i: int, o: int, variant: tuple) -> ld.Attention:
    with_o, residual, layer_norm, causal = variant
    w_o = rng.normal(size=(i if residual else o, d)) / np.sqrt(d) if with_o else None
    return ld.Attention(
        rng.normal(size=(d, i)),
        rng.normal(size=(d, i)),
        rng.normal(size=(d, i)),
        w_o,
        residual=residual,
        layer_norm=layer_norm,
        causal=causal,
    )


def _numpy_loop_forward(head: ld.Attention, x: np.ndarray) -> np.ndarray:
    """y_t for one sequence x (T, I), position by position, from the defining formula."""
    t_len = x.shape[0]
    d = head.W_q.shape[0]
    ys = []
    for t in range(t_len):
        q = head.W_q @ x[t]
        last = t + 1 if head.causal else t_len
        scores = np.array([q @ (head.W_k @ x[s]) / np.sqrt(d) for s in range(last)])
        w = np.exp(scores - scores.max())
        w /= w.sum()
        z = sum(w[s] * (head.W_v @ x[s]) for s in range(last))
        y = z if head.W_o is None else head.W_o @ z
        if head.residual:
            y = y + x[t]
        if head.layer_norm:
            y = (y - y.mean()) / np.sqrt(y.var() + 1e-5)
        ys.append(y)
    return np.array(ys)


@pytest.mark.parametrize("variant", VARIANTS)
def test_forward_equals_numpy_loop(variant: tuple) -> None:
    rng = np.random.default_rng(1)
    head = _head(rng, d=5, i=3, o=4, variant=variant)
    x = rng.normal(size=(17, 2, 3))
    got = ld.forward(head, x)
    want = np.stack([_numpy_loop_forward(head, x[:, b]) for b in range(2)], axis=1)
    assert got.shape == (17, 2, head.hidden_size)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ld.forward(head, x[:, 1]), want[:, 1], rtol=1e-12, atol=1e-12)


def test_forward_blocks_agree_with_one_block(monkeypatch: pytest.MonkeyPatch) -> None:
    """Scores are computed in row blocks; tiny blocks must give the same outputs."""
    import longdep.attention as att

    rng = np.random.default_rng(2)
    head = _head(rng, d=4, i=2, o=4, variant=(False, False, False, True))
    x = rng.normal(size=(50, 3, 2))
    whole = ld.forward(head, x)
    monkeypatch.setattr(att, "_SCORE_BLOCK", 7)
    np.testing.assert_allclose(ld.forward(head, x), whole, rtol=1e-13, atol=1e-14)


def test_forward_dtype_follows_input() -> None:
    rng = np.random.default_rng(3)
    head = _head(rng, d=4, i=2, o=4, variant=(False, False, False, True))
    x = rng.normal(size=(20, 2))
    y32 = ld.forward(head, x.astype(np.float32))
    assert y32.dtype == np.float32
    np.testing.assert_allclose(y32, ld.forward(head, x), rtol=1e-4, atol=1e-5)


def _jax_input_grad_norms(head: ld.Attention, x: np.ndarray, v: np.ndarray) -> np.ndarray:
    """||dL/dx_t|| by JAX reverse mode for L = sum_b v_b . y_{T-1, b}; x (T, B, I)."""
    jax = pytest.importorskip("jax", reason="JAX is the autodiff reference for attention")
    jax.config.update("jax_enable_x64", True)
    jnp = jax.numpy

    wq, wk, wv = (jnp.asarray(w) for w in (head.W_q, head.W_k, head.W_v))
    wo = None if head.W_o is None else jnp.asarray(head.W_o)
    d = head.W_q.shape[0]

    def outputs(xs: Any) -> Any:  # xs (T, B, I) -> (T, B, O), all positions
        q, k, val = xs @ wq.T, xs @ wk.T, xs @ wv.T
        s = jnp.einsum("tbd,sbd->bts", q, k) / jnp.sqrt(d)
        if head.causal:
            t_len = xs.shape[0]
            s = jnp.where(jnp.tril(jnp.ones((t_len, t_len), dtype=bool)), s, -jnp.inf)
        a = jax.nn.softmax(s, axis=-1)
        z = jnp.einsum("bts,sbd->tbd", a, val)
        y = z if wo is None else z @ wo.T
        if head.residual:
            y = y + xs
        if head.layer_norm:
            mu = y.mean(axis=-1, keepdims=True)
            y = (y - mu) / jnp.sqrt(((y - mu) ** 2).mean(axis=-1, keepdims=True) + 1e-5)
        return y

    def loss(xs: Any) -> Any:
        return jnp.sum(jnp.asarray(v) * outputs(xs)[-1])

    g = jax.grad(loss)(jnp.asarray(x))
    return np.asarray(jnp.linalg.norm(g, axis=-1))


@pytest.mark.parametrize("variant", VARIANTS)
def test_grad_norms_equal_jax_autodiff(variant: tuple) -> None:
    rng = np.random.default_rng(4)
    head = _head(rng, d=6, i=3, o=5, variant=variant)
    x = rng.normal(size=(40, 2, 3))
    v = rng.normal(size=(2, head.hidden_size))
    want = _jax_input_grad_norms(head, x, v)
    got = ld.grad_norms(head, x, v, wrt="input")
    assert got.shape == (40, 2) and got.dtype == np.float64
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=0)
    np.testing.assert_allclose(
        ld.grad_norms(head, x, v, log=True), np.log(want), rtol=0, atol=1e-10
    )


def test_grad_norms_broadcast_v_and_two_d_input_equal_jax() -> None:
    rng = np.random.default_rng(5)
    head = _head(rng, d=3, i=2, o=3, variant=(False, False, False, True))
    x = rng.normal(size=(25, 2))
    v = rng.normal(size=head.hidden_size)
    want = _jax_input_grad_norms(head, x[:, None, :], v[None])[:, 0]
    np.testing.assert_allclose(ld.grad_norms(head, x, v), want, rtol=1e-10, atol=0)


def test_wrt_state_means_the_same_as_input_one_step_path() -> None:
    rng = np.random.default_rng(6)
    head = _head(rng, d=4, i=2, o=4, variant=(True, True, True, True))
    x, v = rng.normal(size=(30, 2)), rng.normal(size=2)
    np.testing.assert_array_equal(
        ld.grad_norms(head, x, v, wrt="state"), ld.grad_norms(head, x, v, wrt="input")
    )


def test_log_grad_norms_stay_finite_where_attention_weights_underflow() -> None:
    """d = I = 1, all weights 1: e_s = x_L x_s. With x = (0, ..., 0, 40) every earlier
    weight is a_s = e^-1600 / (1 + (T-1) e^-1600) (below the float64 range) and
    dL/dx_s = a_s v (1 - z x_L) with z = x_L (to 1e-690), so ln||dL/dx_s|| = -1600 + ln 1599."""
    head = ld.Attention(np.ones((1, 1)), np.ones((1, 1)), np.ones((1, 1)))
    x = np.zeros((1000, 1))
    x[-1] = 40.0
    g = ld.grad_norms(head, x, np.array([1.0]), log=True)
    assert np.isfinite(g).all()
    np.testing.assert_allclose(g[:-1], -1600.0 + np.log(1599.0), rtol=0, atol=1e-9)
    assert ld.grad_norms(head, x, np.array([1.0]))[0] == 0.0  # honest underflow without log


def test_grad_norms_vectorised_long_sequence() -> None:
    """T = 10^5: one closed-form pass, no T x T scores; ties to a direct check at t = 0."""
    rng = np.random.default_rng(7)
    head = ld.init.attention(16, 2, seed=1)
    x = rng.normal(size=(100_000, 2))
    v = np.ones(16)
    out = np.empty(100_000)
    res = ld.grad_norms(head, x, v, log=True, out=out)
    assert res is out and np.isfinite(out).all()
    # position 0 by the closed form written out once more, from the definitions
    q = head.W_q @ x[-1]
    e = x @ (head.W_k.T @ q) / 4.0
    a = np.exp(e - e.max())
    a /= a.sum()
    z = head.W_v @ (a @ x)
    c = x @ (head.W_v.T @ v)
    grad0 = a[0] * (head.W_v.T @ v + (c[0] - v @ z) * head.W_k.T @ q / 4.0)
    np.testing.assert_allclose(out[0], np.log(np.linalg.norm(grad0)), rtol=0, atol=1e-9)


def test_out_argument_receives_the_result() -> None:
    rng = np.random.default_rng(8)
    head = _head(rng, d=3, i=2, o=3, variant=(False, False, False, True))
    x = rng.normal(size=(10, 4, 2))
    out = np.full((10, 4), np.nan)
    assert ld.grad_norms(head, x, np.ones(3), out=out) is out
    np.testing.assert_array_equal(out, ld.grad_norms(head, x, np.ones(3)))


def test_attention_is_not_a_recurrent_cell_and_reports_sizes() -> None:
    rng = np.random.default_rng(9)
    head = ld.Attention(rng.normal(size=(8, 3)), rng.normal(size=(8, 3)), rng.normal(size=(8, 3)))
    assert not isinstance(head, ld.RecurrentCell)
    assert (head.input_size, head.hidden_size, head.state_size, head.head_size) == (3, 8, 8, 8)
    assert repr(head) == (
        "Attention(input_size=3, head_size=8, output_size=8, residual=False, "
        "layer_norm=False, causal=True)"
    )


def _bad_calls() -> list[tuple[str, Any, type, str]]:
    w = np.ones((4, 2))
    head = ld.Attention(w, w, w)
    x = np.zeros((5, 2))
    return [
        ("h0", lambda: ld.forward(head, x, np.zeros(4)), ld.ArgumentError, "h0 must be None"),
        ("sens", lambda: ld.sensitivity(head, x, np.ones(4)), ld.ArgumentError, "no"),
        ("wrt", lambda: ld.grad_norms(head, x, np.ones(4), wrt="cell"), ld.ArgumentError, "wrt"),
        ("x", lambda: ld.forward(head, np.zeros((5, 3))), ld.ShapeError, r"x must have shape \(T, 2\)"),
        ("T0", lambda: ld.forward(head, np.zeros((0, 2))), ld.ShapeError, "T >= 1"),
        ("v", lambda: ld.grad_norms(head, x, np.ones(3)), ld.ShapeError, r"v must have shape \(4,\)"),
        ("nan", lambda: ld.forward(head, np.full((5, 2), np.nan)), ld.NumericsError, "x contains NaN"),
        ("W_k", lambda: ld.Attention(w, np.ones((3, 2)), w), ld.ShapeError, r"W_k must have shape \(d, I\) = \(4, 2\)"),
        ("W_o", lambda: ld.Attention(w, w, w, np.ones((2, 3))), ld.ShapeError, r"W_o must have shape \(O, 4\)"),
        ("res", lambda: ld.Attention(w, w, w, residual=True), ld.ShapeError, "output size must equal I = 2"),
        ("thr", lambda: ld.forward(head, x, threads=0), ld.ArgumentError, "threads"),
        ("out", lambda: ld.grad_norms(head, x, np.ones(4), out=np.empty(4)), ld.ShapeError, r"out must be a float64 array of shape \(5,\)"),
        ("lyap", lambda: ld.lyapunov_spectrum(head, x, 1), ld.ArgumentError, "no recurrent state"),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("call", "exc", "match"),
    [c[1:] for c in _bad_calls()],
    ids=[c[0] for c in _bad_calls()],
)
def test_bad_input_raises_named_error(call: Any, exc: type, match: str) -> None:
    with pytest.raises(exc, match=match):
        call()


def test_gradient_does_not_decay_with_distance() -> None:
    """The Transformer reference: no product of Jacobians, so no trend with distance."""
    rng = np.random.default_rng(10)
    head = ld.init.attention(32, 1, seed=2)
    x = rng.normal(size=(5000, 1))
    curve = ld.grad_norms(head, x, np.ones(32), log=True)[::-1]
    rate = ld.decay_rate(curve)
    assert abs(rate) < 1e-4, f"attention decay rate {rate} per step"


@pytest.mark.parametrize(
    ("causal", "residual"), list(itertools.product([True, False], [True, False]))
)
def test_init_attention_heads_run(causal: bool, residual: bool) -> None:
    head = ld.init.attention(8, 3, residual=residual, causal=causal, seed=4)
    y = ld.forward(head, np.random.default_rng(0).normal(size=(12, 3)))
    assert y.shape == (12, 3 if residual else 8) and np.isfinite(y).all()


@pytest.mark.parametrize("scale", [1e-200, 1e-170, 1e160, 1e200])
def test_log_grad_norms_shift_by_ln_scale_for_tiny_and_huge_v(scale: float) -> None:
    """L is linear in v, so ln||dL/dx_t|| moves by exactly ln(scale), without under/overflow."""
    rng = np.random.default_rng(11)
    head = _head(rng, d=5, i=3, o=3, variant=(True, True, True, True))
    x, v = rng.normal(size=(40, 3)), rng.normal(size=3)
    base = ld.grad_norms(head, x, v, log=True)
    got = ld.grad_norms(head, x, scale * v, log=True)
    np.testing.assert_allclose(got, base + np.log(scale), rtol=0, atol=1e-10)
