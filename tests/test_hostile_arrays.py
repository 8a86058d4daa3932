"""Arrays whose meaning longdep would silently get wrong are refused or isolated.

- A numpy.ma.MaskedArray (x, h0, v, u, weights) would be used without its mask:
  ArgumentError naming the argument.
- Weights are copied when a cell is built and stored read-only: editing the caller's
  array does not reach the cell, and an in-place edit of a stored array raises
  instead of being seen by float64 calls and missed by float32 ones (or by both,
  once the core keeps the packed cell).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import longdep as ld

H, IN, T = 3, 2, 6
RNG = np.random.default_rng(1)
W_IH, W_HH = RNG.normal(size=(H, IN)), 0.4 * RNG.normal(size=(H, H))
ELMAN = ld.Elman(W_IH, W_HH)
LSTM = ld.LSTM(RNG.normal(size=(4 * H, IN)), 0.4 * RNG.normal(size=(4 * H, H)))
X = RNG.normal(size=(T, IN))
V = np.ones(H)


def masked(a: np.ndarray) -> np.ma.MaskedArray:
    mask = np.zeros(a.shape, dtype=bool)
    mask.flat[0] = True
    return np.ma.masked_array(np.asarray(a, dtype=np.float64), mask=mask)


# (argument name as the message gives it, call receiving a masked array)
MASKED: list[tuple[str, Callable[[], Any]]] = [
    ("x", lambda: ld.forward(ELMAN, masked(X))),
    ("x", lambda: ld.grad_norms(ELMAN, masked(X), V)),
    ("x", lambda: ld.grad_norms(ld.init.attention(4, IN), masked(X), np.ones(4))),
    ("h0", lambda: ld.forward(ELMAN, X, masked(np.zeros(H)))),
    ("h0[1]", lambda: ld.forward(LSTM, X, (np.zeros(H), masked(np.zeros(H))))),
    ("v", lambda: ld.grad_norms(ELMAN, X, masked(V))),
    ("u", lambda: ld.sensitivity(ELMAN, X, masked(V))),
    ("weight_ih", lambda: ld.Elman(masked(W_IH), W_HH)),
    ("weight_hh", lambda: ld.GRU(np.ones((3 * H, IN)), masked(np.ones((3 * H, H))))),
    ("bias_hh", lambda: ld.Elman(W_IH, W_HH, None, masked(np.zeros(H)))),
    ("ln_weight", lambda: ld.Elman(W_IH, W_HH, layer_norm=True, ln_weight=masked(np.ones(H)))),
    ("nu_log", lambda: ld.LRU(masked(np.zeros(2)), np.zeros(2), np.ones((2, 1)), np.ones((2, 1)))),
    ("W_k", lambda: ld.Attention(np.eye(2), masked(np.eye(2)), np.eye(2))),
]


@pytest.mark.parametrize(
    ("name", "call"), MASKED, ids=[f"{i}-{m[0]}" for i, m in enumerate(MASKED)]
)
def test_masked_arrays_are_refused_by_name(name: str, call: Callable[[], Any]) -> None:
    pattern = f"^{re.escape(name)} must be a plain array, not a masked one"
    with pytest.raises(ld.ArgumentError, match=pattern) as info:
        call()
    assert "numpy.ma.MaskedArray" in str(info.value) and "filled" in str(info.value)


def test_a_masked_array_without_masked_entries_is_refused_too() -> None:
    # Whether a mask is all False is data, not type: refusing by type is predictable.
    with pytest.raises(ld.ArgumentError, match=r"^x must be a plain array"):
        ld.forward(ELMAN, np.ma.masked_array(X))


def test_filled_masked_arrays_work() -> None:
    m = masked(X)
    np.testing.assert_array_equal(
        ld.forward(ELMAN, m.filled(0.0)), ld.forward(ELMAN, m.data * (~m.mask))
    )


# -- weights edited after the cell is built ------------------------------------------------


def stored_arrays(cell: Any) -> dict[str, np.ndarray]:
    names = (
        "weight_ih", "weight_hh", "bias_ih", "bias_hh", "ln_weight", "ln_bias",
        "nu_log", "theta_log", "B_re", "B_im", "gamma", "eigenvalues",
        "W_q", "W_k", "W_v", "W_o",
    )  # fmt: skip
    return {n: getattr(cell, n) for n in names if getattr(cell, n, None) is not None}


CELLS: list[tuple[str, Callable[[], Any]]] = [
    ("elman", lambda: ld.Elman(W_IH, W_HH, np.zeros(H), np.zeros(H))),
    ("elman-ln", lambda: ld.Elman(W_IH, W_HH, layer_norm=True)),
    ("lstm", lambda: ld.init.lstm(H, IN)),
    ("gru", lambda: ld.init.gru(H, IN)),
    ("lru", lambda: ld.LRU.random(H, IN)),
    ("attention", lambda: ld.init.attention(4, IN, residual=True)),
]


@pytest.mark.parametrize("make", [c[1] for c in CELLS], ids=[c[0] for c in CELLS])
def test_stored_weights_are_read_only(make: Callable[[], Any]) -> None:
    cell = make()
    arrays = stored_arrays(cell)
    assert arrays
    for name, a in arrays.items():
        assert not a.flags.writeable, name
        with pytest.raises(ValueError, match="read-only"):
            a.flat[0] = 1.0


def test_an_in_place_edit_cannot_make_float32_and_float64_disagree() -> None:
    cell = ld.Elman(W_IH, W_HH, nonlinearity="linear")
    before64 = ld.forward(cell, X)
    before32 = ld.forward(cell, X.astype(np.float32))
    with pytest.raises(ValueError, match="read-only"):
        cell.weight_hh[0, 0] += 1.0
    with pytest.raises(ValueError, match="read-only"):
        cell.weight_hh *= 2.0
    np.testing.assert_array_equal(ld.forward(cell, X), before64)
    np.testing.assert_allclose(ld.forward(cell, X.astype(np.float32)), before32, rtol=0)
    np.testing.assert_allclose(before32, before64, rtol=1e-5, atol=1e-6)
    for dtype in (np.float32, np.float64):  # the per-dtype specs are read-only as well
        assert not cell.spec(dtype)["weight_hh"].flags.writeable


def test_the_callers_arrays_are_copied_and_stay_writeable() -> None:
    w_ih, w_hh, b = W_IH.copy(), W_HH.copy(), np.zeros(H)
    cell = ld.Elman(w_ih, w_hh, b, nonlinearity="linear")
    expect = ld.forward(cell, X)
    w_hh[:] = 0.0  # the caller's array is still theirs to edit ...
    b[:] = 5.0
    assert w_hh.flags.writeable and b.flags.writeable
    assert not np.shares_memory(cell.weight_hh, w_hh)
    np.testing.assert_array_equal(cell.weight_hh, W_HH)  # ... and the cell does not see it
    np.testing.assert_array_equal(ld.forward(cell, X), expect)
    np.testing.assert_allclose(ld.forward(cell, X.astype(np.float32)), expect, rtol=1e-5, atol=1e-6)


def test_a_torch_like_tensor_is_copied_too() -> None:
    class Tensor:  # the duck-typed torch path: detach().cpu().double().numpy() shares memory
        def __init__(self, a: np.ndarray) -> None:
            self.a = a

        def detach(self) -> Tensor:
            return self

        def cpu(self) -> Tensor:
            return self

        def double(self) -> Tensor:
            return self

        def numpy(self) -> np.ndarray:
            return self.a

    w_hh = W_HH.copy()
    cell = ld.Elman.from_state_dict(
        {"weight_ih_l0": Tensor(W_IH.copy()), "weight_hh_l0": Tensor(w_hh)}
    )
    w_hh[0, 0] = 42.0  # an optimiser step on the torch module after the copy
    assert cell.weight_hh[0, 0] == W_HH[0, 0]


def test_new_cells_from_stored_weights_work() -> None:
    cell = ld.init.elman(4, 2, seed=3)
    again = ld.Elman(cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh)
    x = RNG.normal(size=(5, 2))
    np.testing.assert_array_equal(ld.forward(again, x), ld.forward(cell, x))
    assert not again.weight_hh.flags.writeable and again.weight_hh is not cell.weight_hh


def test_training_builds_new_cells_and_leaves_the_input_cell_alone() -> None:
    cell = ld.init.elman(4, 2, seed=3)
    w_hh = np.array(cell.weight_hh)
    res = ld.train(cell, ld.tasks.make_task("adding", 8), steps=3, batch=2, lr=0.1)
    assert len(res.history) == 3 and res.cell is not cell
    assert not res.cell.weight_hh.flags.writeable
    assert not np.array_equal(res.cell.weight_hh, w_hh)  # it did train ...
    np.testing.assert_array_equal(cell.weight_hh, w_hh)  # ... on copies


def test_seed_vectors_near_the_float_range_keep_their_log_norms() -> None:
    # L is linear in v and the tangents in u: the log-norms of a 1e308 seed are those of
    # a unit seed plus ln 1e308, not inf/-inf/NaN (each lane scaled on its own).
    cell = ld.init.elman(8, 1, seed=0)
    x = np.zeros((50, 2, 1))
    unit = ld.grad_norms(cell, x, np.ones(8), log=True)
    big = np.stack([1e308 * np.ones(8), 1e-300 * np.ones(8)])
    got = ld.grad_norms(cell, x, big, log=True)
    np.testing.assert_allclose(got[:, 0], unit[:, 0] + np.log(1e308), rtol=1e-12)
    np.testing.assert_allclose(got[:, 1], unit[:, 1] + np.log(1e-300), rtol=1e-12)
    every = ld.grad_norms(cell, x, np.full((50, 2, 8), 1e300), log=True)
    want = ld.grad_norms(cell, x, np.ones((50, 2, 8)), log=True) + np.log(1e300)
    np.testing.assert_allclose(every, want, rtol=1e-12)
    sens = ld.sensitivity(cell, x, 1e308 * np.ones(8), log=True)
    np.testing.assert_allclose(
        sens, ld.sensitivity(cell, x, np.ones(8), log=True) + np.log(1e308), rtol=1e-12
    )
    assert np.isfinite(sens).all()
