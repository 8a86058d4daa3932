"""``deterministic=True``: one sequence is never split over threads, so the result is the
same bits on every call (and equals ``threads=1``); the default split differs from it only
by rounding within the documented bound ``10 (T-1-t) eps``."""

from __future__ import annotations

import numpy as np
import pytest

import longdep as ld
from longdep.errors import ArgumentError

T = 4096


def _cells(h: int) -> dict[str, ld.RecurrentCell]:
    return {
        "elman": ld.init.elman(h, 4, seed=3),
        "lstm": ld.init.lstm(h, 4, seed=3),
        "gru": ld.init.gru(h, 4, seed=3),
    }


def _splits(cell: ld.RecurrentCell, dtype: np.dtype) -> bool:
    spec = cell.spec(dtype)
    return bool(ld._core.split_parts(spec, 1, T, 2, dtype == np.float64) > 1)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("kind", ["elman", "lstm", "gru"])
def test_deterministic_equals_one_thread_and_bounds_the_split(kind: str, dtype: type) -> None:
    cell = _cells(128)[kind]
    dt = np.dtype(dtype)
    if not _splits(cell, dt):  # e.g. a machine with one CPU: there is no split to compare
        pytest.skip("the planner does not split this case on this machine (fewer than 2 CPUs)")
    rng = np.random.default_rng(7)
    x = rng.standard_normal((T, 4)).astype(dt)
    v = rng.standard_normal(128).astype(dt)
    det = [ld.grad_norms(cell, x, v, log=True, deterministic=True) for _ in range(3)]
    one = ld.grad_norms(cell, x, v, log=True, threads=1)
    for d in det:
        assert np.array_equal(d, one)  # the same bits on every call
    split = ld.grad_norms(cell, x, v, log=True, threads=2)
    assert np.all(np.isfinite(split))
    # The documented bound on the split's rounding, step by step.
    eps = float(np.finfo(dt).eps)
    bound = 10.0 * (T - np.arange(T)) * eps
    assert np.all(np.abs(split - one) <= bound)


def test_deterministic_keeps_batches_parallel_and_exact() -> None:
    cell = ld.init.lstm(32, 4, seed=1)
    x = np.random.default_rng(2).standard_normal((500, 6, 4))
    v = np.random.default_rng(3).standard_normal((6, 32))
    a = ld.grad_norms(cell, x, v, deterministic=True)
    b = ld.grad_norms(cell, x, v, threads=1)
    assert np.array_equal(a, b)
    assert a.shape == (500, 6)


def test_deterministic_must_be_a_bool() -> None:
    cell = ld.init.elman(8, 2, seed=0)
    with pytest.raises(ArgumentError, match="deterministic"):
        ld.grad_norms(cell, np.zeros((4, 2)), np.ones(8), deterministic="yes")
