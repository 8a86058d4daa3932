"""Runtime behaviour of long calls: the GIL is released, Ctrl-C stops them,
threads and batch lanes agree, and results can be written into `out`."""

from __future__ import annotations

import os
import threading
import time

import numpy as np
import pytest
from interrupt import assert_ctrl_c_stops

import longdep as ld


def _elman(h: int = 64, seed: int = 0) -> ld.Elman:
    rng = np.random.default_rng(seed)
    return ld.Elman(rng.normal(size=(h, 1)), rng.normal(size=(h, h)) / np.sqrt(h))


def test_long_call_releases_the_gil() -> None:
    cell = _elman()
    x = np.random.default_rng(1).normal(size=(400_000, 1)).astype(np.float32)
    done = threading.Event()

    def work() -> None:
        ld.grad_norms(cell, x, np.ones(64), log=True)
        done.set()

    t = threading.Thread(target=work)
    ticks = [time.perf_counter()]
    t.start()
    while not done.is_set():
        ticks.append(time.perf_counter())  # pure-Python work: only runs while the GIL is free
        time.sleep(0)
    t.join()
    ticks.append(time.perf_counter())
    # Not a count of iterations: their pace is set by sleep(0) and the scheduler, the
    # call's length by the CPU. A call holding the GIL stalls this loop for all of it
    # (or for all of its forward or reverse pass, if it held the GIL there).
    call, stall = ticks[-1] - ticks[0], float(np.diff(ticks).max())
    assert stall < call / 4, f"the main thread stalled {stall:.3f} s of a {call:.3f} s call"


def test_ctrl_c_interrupts_a_long_computation(tmp_path) -> None:
    assert_ctrl_c_stops(
        tmp_path,
        """
        rng = np.random.default_rng(0)
        cell = ld.Elman(rng.normal(size=(128, 1)), rng.normal(size=(128, 128)) / 11.3)
        x = np.zeros((50_000_000, 1), dtype=np.float32)
        """,
        "ld.sensitivity(cell, x, np.ones(128), log=True)",
    )


def test_thread_counts_and_batch_lanes_agree() -> None:
    cell = ld.LSTM(*[np.random.default_rng(2).normal(size=s) * 0.3 for s in ((32, 2), (32, 8))])
    x = np.random.default_rng(3).normal(size=(500, 5, 2))
    v = np.random.default_rng(4).normal(size=(5, 8))
    one = ld.grad_norms(cell, x, v, threads=1)
    two = ld.grad_norms(cell, x, v, threads=2)
    np.testing.assert_array_equal(one, two)
    for b in range(5):
        np.testing.assert_array_equal(ld.grad_norms(cell, x[:, b], v[b]), one[:, b])
    os.environ["LONGDEP_NUM_THREADS"] = "2"
    try:
        np.testing.assert_array_equal(ld.grad_norms(cell, x, v), one)
    finally:
        del os.environ["LONGDEP_NUM_THREADS"]


def test_out_argument_is_filled_in_place() -> None:
    cell = _elman(16)
    x = np.random.default_rng(5).normal(size=(300, 2, 1))
    out = np.empty((300, 2))
    res = ld.grad_norms(cell, x, np.ones(16), log=True, out=out)
    assert res is out
    np.testing.assert_array_equal(out, ld.grad_norms(cell, x, np.ones(16), log=True))
    out1 = np.empty(300)
    ld.sensitivity(cell, x[:, 0], np.ones(16), out=out1)
    np.testing.assert_array_equal(out1, ld.sensitivity(cell, x[:, 0], np.ones(16)))
    with pytest.raises(ld.ShapeError, match="out must"):
        ld.grad_norms(cell, x, np.ones(16), out=np.empty((300, 3)))
    with pytest.raises(ld.ShapeError, match="out must"):
        ld.grad_norms(cell, x, np.ones(16), out=np.empty((300, 2), dtype=np.float32))


def test_checkpointed_and_stored_reverse_passes_agree_exactly() -> None:
    cell = ld.GRU(*[np.random.default_rng(6).normal(size=s) * 0.4 for s in ((96, 3), (96, 32))])
    x = np.random.default_rng(7).normal(size=(20_000, 3))
    big = ld.grad_norms(cell, x, np.ones(32), log=True)
    small = ld.grad_norms(cell, x, np.ones(32), log=True, memory_budget=200_000)
    np.testing.assert_array_equal(big, small)
    with pytest.raises(ld.BudgetError, match="memory_budget"):
        ld.grad_norms(cell, x, np.ones(32), memory_budget=1000)


def test_compare_runs_cells_in_parallel_with_identical_results() -> None:
    x = np.random.default_rng(8).normal(size=(3000, 1))
    cells = {
        "elman": ld.init.elman(32, 1, rho=0.9, seed=1),
        "lstm": ld.init.lstm(32, 1, chrono=3000, seed=1),
        "gru": ld.init.gru(32, 1, seed=1),
        "lru": ld.init.lru(16, 1, seed=1),
    }
    serial = ld.compare(cells, x, threads=1)
    parallel = ld.compare(cells, x, threads=4)
    assert serial.equals(parallel)
    assert list(dict.fromkeys(parallel.name)) == list(cells)
    with pytest.raises(ld.ArgumentError, match="threads"):
        ld.compare(cells, x, threads=0)
