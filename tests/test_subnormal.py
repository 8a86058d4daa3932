"""Subnormal numbers in the inputs and in the carried state count as 0 (flush to zero in
software, the same on every CPU; see ``rnn_core::seq::check_state``)."""

from __future__ import annotations

import numpy as np
import pytest

import longdep as ld


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_decaying_state_is_exact_until_it_is_subnormal_then_zero(dtype: type) -> None:
    # h_t = 0.5^(t+1) h_0 exactly (a power of two), until it drops below the smallest
    # normal number: from then on it is 0.
    info = np.finfo(dtype)
    cell = ld.Elman(np.zeros((1, 1)), 0.5 * np.eye(1), nonlinearity="linear")
    T = 1100 if dtype == np.float64 else 160
    h = ld.forward(cell, np.zeros((T, 1), dtype), h0=np.ones(1, dtype))[:, 0]
    exact = np.ldexp(1.0, -np.arange(1, T + 1))
    want = np.where(exact < info.smallest_normal, 0.0, exact)
    assert np.array_equal(h.astype(np.float64), want)
    assert (h == 0).any() and (h > 0).any()


@pytest.mark.parametrize(
    ("dtype", "tiny"), [(np.float32, 1e-40), (np.float64, 1e-310)], ids=["f32", "f64"]
)
@pytest.mark.parametrize("kind", ["elman", "lstm", "gru", "mingru"])
def test_subnormal_inputs_read_as_zero(kind: str, dtype: type, tiny: float) -> None:
    dt = np.dtype(dtype)
    if kind == "mingru":
        cell: ld.RecurrentCell = ld.MinGRU.random(32, 3, seed=4)
    else:
        cell = getattr(ld.init, kind)(32, 3, seed=4)
    rng = np.random.default_rng(5)
    x = rng.standard_normal((300, 2, 3)).astype(dt)
    mask = rng.random(x.shape) < 0.3
    sub = np.where(mask, dt.type(tiny) * np.sign(x), x)
    assert np.count_nonzero((sub != 0) & (np.abs(sub) < np.finfo(dt).smallest_normal)) > 0
    zero = np.where(mask, 0, x).astype(dt)
    v = rng.standard_normal((2, cell.hidden_size)).astype(dt)
    out_sub, out_zero = ld.forward(cell, sub), ld.forward(cell, zero)
    assert np.array_equal(out_sub, out_zero)
    tiny_out = (out_sub != 0) & (np.abs(out_sub) < np.finfo(dt).smallest_normal)
    assert not tiny_out.any()
    g_sub = ld.grad_norms(cell, sub, v, log=True)
    g_zero = ld.grad_norms(cell, zero, v, log=True)
    assert np.array_equal(g_sub, g_zero)


def test_all_subnormal_inputs_give_the_zero_input_run() -> None:
    cell = ld.init.elman(128, 1, seed=0)
    x = np.full((2000, 1), 1e-40, np.float32)
    assert np.array_equal(ld.forward(cell, x), ld.forward(cell, np.zeros_like(x)))
