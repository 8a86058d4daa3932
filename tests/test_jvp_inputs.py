"""``ld.jvp(..., dx=)``: the tangents of the states carried by a tangent of the inputs,
for every cell kind of the catalogue, against central finite differences of the forward
pass (float64), plus linearity in ``(u, dx)``."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import longdep as ld
from longdep import _core, kinds
from longdep.core import _initial_state
from longdep.errors import ShapeError


def _make(kind: str, cls: Any, h: int, i: int) -> Any:
    if kind == "lru":
        return ld.init.lru(h // 2, i, seed=3)
    if hasattr(ld.init, kind):
        return getattr(ld.init, kind)(h, i, seed=3)
    return cls.random(h, i, seed=3)


def _states(cell: Any, x: np.ndarray) -> np.ndarray:
    s0 = _initial_state(cell, None, x.shape[1], np.dtype(np.float64), False)
    return np.asarray(_core.forward(cell.spec(np.dtype(np.float64)), x, s0, None, True))


@pytest.mark.parametrize("kind", sorted(kinds.catalogue()))
def test_input_tangents_match_finite_differences(kind: str) -> None:
    cls = kinds.catalogue()[kind]
    i = 12 if getattr(cls, "input_is_hidden", False) else 3
    cell = _make(kind, cls, 12, i)
    rng = np.random.default_rng(11)
    x = rng.standard_normal((40, 2, i))
    dx = rng.standard_normal(x.shape)
    got = ld.jvp(cell, x, None, dx=dx).state
    eps = 1e-6
    want = (_states(cell, x + eps * dx) - _states(cell, x - eps * dx)) / (2 * eps)
    scale = np.abs(want).max()
    assert scale > 1e-3
    np.testing.assert_allclose(got, want, rtol=0, atol=2e-7 * max(scale, 1.0))


@pytest.mark.parametrize("kind", ["lstm", "gru", "mingru", "ssm"])
def test_state_and_input_tangents_add(kind: str) -> None:
    cls = kinds.catalogue()[kind]
    i = 8 if getattr(cls, "input_is_hidden", False) else 3
    cell = _make(kind, cls, 8, i)
    rng = np.random.default_rng(5)
    x = rng.standard_normal((300, 3, i))
    dx = rng.standard_normal(x.shape)
    u = rng.standard_normal((3, cell.state_size))
    both = ld.jvp(cell, x, u, dx=dx).state
    apart = ld.jvp(cell, x, u).state + ld.jvp(cell, x, None, dx=dx).state
    np.testing.assert_allclose(both, apart, rtol=1e-10, atol=1e-12 * np.abs(apart).max())
    # at= keeps the same rows.
    at = [0, 17, 299]
    np.testing.assert_array_equal(ld.jvp(cell, x, u, dx=dx, at=at).state, both[at])


def test_dx_must_have_the_shape_of_x() -> None:
    cell = ld.init.elman(4, 2, seed=0)
    with pytest.raises(ShapeError, match="dx"):
        ld.jvp(cell, np.zeros((5, 2)), None, dx=np.zeros((5, 3)))
