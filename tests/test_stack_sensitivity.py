"""``Stack.sensitivity``: forward-mode tangents through a stack, each layer fed the
tangent of the layer below, against central finite differences of ``Stack.forward``
(float64), against the single-cell sensitivity for the bottom layer, and far below
float64 without losing the norms."""

from __future__ import annotations

import numpy as np
import pytest

import longdep as ld
from longdep.errors import ArgumentError


def _stack(kind: str) -> ld.Stack:
    make = getattr(ld.init, kind)
    return ld.Stack([make(10, 3, seed=1), make(7, 10, seed=2), make(5, 7, seed=3)])


@pytest.mark.parametrize("kind", ["lstm", "gru", "elman"])
def test_stack_tangents_match_finite_differences(kind: str) -> None:
    st = _stack(kind)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((60, 2, 3))
    u0 = rng.standard_normal(st[0].state_size)
    got = st.sensitivity(x, u0, part="hidden")
    assert got.shape == (60, 2, 3)
    eps = 1e-6
    parts = st[0].state_parts

    def h0(sign: float) -> list[object]:
        s = sign * eps * u0
        first = tuple(np.broadcast_to(s[k * 10 : (k + 1) * 10], (2, 10)) for k in range(len(parts)))
        zero = [None if k else first if len(first) > 1 else first[0] for k in range(3)]
        return zero

    hi = st.forward(x, h0(1.0), return_all=True)
    lo = st.forward(x, h0(-1.0), return_all=True)
    for layer in range(3):
        fd = np.linalg.norm((hi[layer] - lo[layer]) / (2 * eps), axis=-1)
        np.testing.assert_allclose(got[:, :, layer], fd, rtol=1e-6, atol=1e-9)
    # The bottom layer is the single cell's own sensitivity.
    one = ld.sensitivity(st[0], x, u0, part="hidden")
    np.testing.assert_allclose(got[:, :, 0], one, rtol=1e-10)


def test_stack_sensitivity_keeps_norms_far_below_float64() -> None:
    # Two linear layers with decay 0.01 per step: layer 0's tangent is 0.01^(t+1), layer
    # 1's a closed form; at T = 400 both are near 1e-800, far below float64.
    a = ld.Elman(np.zeros((1, 1)), 0.01 * np.eye(1), nonlinearity="linear")
    b = ld.Elman(np.ones((1, 1)), 0.01 * np.eye(1), nonlinearity="linear")
    st = ld.Stack([a, b])
    T = 400
    got = st.sensitivity(np.zeros((T, 1)), [np.ones(1), None], log=True)
    t = np.arange(T)
    np.testing.assert_allclose(got[:, 0], (t + 1) * np.log(0.01), rtol=1e-12)
    # u^1_t = 0.01 u^1_{t-1} + u^0_t with u^0_t = 0.01^(t+1): u^1_t = (t+1) 0.01^(t+1).
    np.testing.assert_allclose(got[:, 1], np.log(t + 1) + (t + 1) * np.log(0.01), rtol=1e-12)


def test_stack_sensitivity_refuses_bad_perturbations() -> None:
    st = _stack("gru")
    x = np.zeros((5, 3))
    with pytest.raises(ArgumentError, match="3 perturbations"):
        st.sensitivity(x, [np.ones(10)])
    with pytest.raises(Exception, match="u\\[1\\]"):
        st.sensitivity(x, [None, np.ones(3), None])
