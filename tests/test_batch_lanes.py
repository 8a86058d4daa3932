"""Batches of dense cells run as one matrix-matrix product per step (``rnn_core::batch``):
every lane must be the same bits as that lane run alone, forward and reverse, stored or
checkpointed, for lane counts that exercise the 4-, 2- and 1-lane kernels; and a NumPy
loop written from the Elman equations agrees."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import longdep as ld

CASES = [("elman", 40, 9), ("lstm", 24, 7), ("gru", 33, 5), ("lstm", 64, 2)]


def _cell(kind: str, h: int) -> ld.RecurrentCell:
    cell: ld.RecurrentCell = getattr(ld.init, kind)(h, 6, seed=2)
    return cell


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("kind", "h", "b"), CASES)
def test_batch_lanes_equal_single_lanes_bit_for_bit(kind: str, h: int, b: int, dtype: type) -> None:
    cell = _cell(kind, h)
    rng = np.random.default_rng(h + b)
    x = rng.standard_normal((700, b, 6)).astype(dtype)
    parts = [(0.3 * rng.standard_normal((b, h))).astype(dtype) for _ in range(2)]
    h0: Any = tuple(parts) if kind == "lstm" else parts[0]
    v = rng.standard_normal((b, h)).astype(dtype)
    v[b // 2] = 0.0  # a lane with no loss: -inf everywhere
    y = ld.forward(cell, x, h0=h0)
    for threads in (1, 2):
        assert np.array_equal(ld.forward(cell, x, h0=h0, threads=threads), y)
    for budget in (512 << 20, 400_000):  # stored, then checkpointed every few steps
        g = ld.grad_norms(cell, x, v, h0=h0, log=True, memory_budget=budget)
        for lane in range(b):
            h0_lane = tuple(p[lane] for p in h0) if kind == "lstm" else h0[lane]
            alone = ld.forward(cell, x[:, lane], h0=h0_lane, threads=1)
            assert np.array_equal(y[:, lane], alone)
            one = ld.grad_norms(
                cell, x[:, lane], v[lane], h0=h0_lane, log=True, threads=1, memory_budget=budget
            )
            assert np.array_equal(g[:, lane], one)
    assert np.all(g[:, b // 2] == -np.inf)


def test_batched_elman_matches_a_numpy_loop() -> None:
    rng = np.random.default_rng(0)
    H, I, B, T = 37, 5, 6, 300
    w_ih = rng.standard_normal((H, I)) / np.sqrt(I)
    w_hh = 1.1 * rng.standard_normal((H, H)) / np.sqrt(H)
    b_ih, b_hh = 0.1 * rng.standard_normal(H), 0.1 * rng.standard_normal(H)
    cell = ld.Elman(w_ih, w_hh, b_ih, b_hh)
    x = rng.standard_normal((T, B, I))
    h = np.zeros((B, H))
    want = np.empty((T, B, H))
    for t in range(T):
        h = np.tanh(x[t] @ w_ih.T + b_ih + h @ w_hh.T + b_hh)
        want[t] = h
    np.testing.assert_allclose(ld.forward(cell, x), want, rtol=0, atol=1e-12)
    # The reverse: ||dL/dh_t|| for L = v . h_{T-1}, by the transposed Jacobians.
    v = rng.standard_normal((B, H))
    g, norms = v.copy(), np.empty((T, B))
    for t in range(T - 1, -1, -1):
        norms[t] = np.linalg.norm(g, axis=1)
        g = (g * (1.0 - want[t] ** 2)) @ w_hh
    np.testing.assert_allclose(ld.grad_norms(cell, x, v), norms, rtol=1e-10)


def test_batched_param_grads_match_a_numpy_bptt_loop() -> None:
    """Elman's exact BPTT, written out: the weight gradients are added over blocks of
    steps as matrix products in the core, as outer products step by step here."""
    rng = np.random.default_rng(1)
    H, I, B, T = 29, 4, 7, 200
    w_ih = rng.standard_normal((H, I)) / np.sqrt(I)
    w_hh = 0.9 * rng.standard_normal((H, H)) / np.sqrt(H)
    b_ih, b_hh = 0.1 * rng.standard_normal(H), 0.1 * rng.standard_normal(H)
    cell = ld.Elman(w_ih, w_hh, b_ih, b_hh)
    x = rng.standard_normal((T, B, I))
    h0 = 0.2 * rng.standard_normal((B, H))
    dh = rng.standard_normal((T, B, H))
    hs = [h0]
    for t in range(T):
        hs.append(np.tanh(x[t] @ w_ih.T + b_ih + hs[-1] @ w_hh.T + b_hh))
    want = {k: np.zeros_like(v) for k, v in [("weight_ih", w_ih), ("weight_hh", w_hh)]}
    want_b = np.zeros(H)
    want_x = np.zeros_like(x)
    g = np.zeros((B, H))
    for t in range(T - 1, -1, -1):
        g = g + dh[t]
        a = g * (1.0 - hs[t + 1] ** 2)
        want["weight_ih"] += a.T @ x[t]
        want["weight_hh"] += a.T @ hs[t]
        want_b += a.sum(axis=0)
        want_x[t] = a @ w_ih
        g = a @ w_hh
    for threads in (1, 2):
        got = ld.param_grads(cell, x, dh, h0=h0, inputs=True, threads=threads)
        for k, v in want.items():
            np.testing.assert_allclose(got[k], v, rtol=1e-11, atol=1e-11)
        np.testing.assert_allclose(got["bias_ih"], want_b, rtol=1e-11, atol=1e-11)
        np.testing.assert_allclose(got["bias_hh"], want_b, rtol=1e-11, atol=1e-11)
        np.testing.assert_allclose(got["x"], want_x, rtol=1e-11, atol=1e-12)
        np.testing.assert_allclose(got["h0"], g, rtol=1e-11, atol=1e-12)


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_batched_param_grads_are_the_sum_of_single_lanes(kind: str) -> None:
    cell = _cell(kind, 19)
    rng = np.random.default_rng(4)
    x = rng.standard_normal((300, 6, 6))
    dh = rng.standard_normal((300, 6, 19))
    got = ld.param_grads(cell, x, dh, inputs=True)
    lanes = [ld.param_grads(cell, x[:, b : b + 1], dh[:, b : b + 1], inputs=True) for b in range(6)]
    for k, v in got.items():
        if k in ("h0", "x"):
            want = np.concatenate([one[k] for one in lanes], axis=0 if k == "h0" else 1)
        else:
            want = sum(one[k] for one in lanes)
        np.testing.assert_allclose(v, want, rtol=1e-12, atol=1e-12, err_msg=k)
