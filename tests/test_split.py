"""One long sequence split over threads by hidden unit (rnn_core::split).

The split pass must give the one-thread results: the forward bit for bit (each unit's
row product runs in the same order), the gradient norms to rounding (the reverse adds
per-thread partial sums). It must stop cleanly on errors and on Ctrl-C.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from interrupt import assert_ctrl_c_stops

import longdep as ld

T = 3000  # above the split threshold (1024 steps)


def _cells(h: int, dtype: type = np.float64) -> dict[str, ld.RecurrentCell]:
    rng = np.random.default_rng(7)

    def w(rows: int, cols: int, scale: float) -> np.ndarray:
        return (rng.normal(size=(rows, cols)) * scale).astype(dtype)

    g = 1.2 / np.sqrt(h)
    return {
        "tanh": ld.Elman(w(h, 2, 1.0), w(h, h, g), w(h, 1, 0.1)[:, 0], w(h, 1, 0.1)[:, 0]),
        "relu": ld.Elman(w(h, 2, 1.0), w(h, h, 0.9 / np.sqrt(h)), nonlinearity="relu"),
        "lstm": ld.LSTM(w(4 * h, 2, 1.0), w(4 * h, h, g), w(4 * h, 1, 0.1)[:, 0]),
        "gru": ld.GRU(
            w(3 * h, 2, 1.0), w(3 * h, h, g), w(3 * h, 1, 0.1)[:, 0], w(3 * h, 1, 0.1)[:, 0]
        ),
    }


def _parts(cell: ld.RecurrentCell, dtype: str = "float64") -> int:
    """Workers the split planner gives one sequence of T steps asked for on two threads."""
    spec = cell.spec(np.dtype(dtype))
    return ld._core.split_parts(spec, 1, T, 2, dtype == "float64")


def _cgroup_cpu_limit(group: Path, v2: bool) -> int | None:
    """The CPU quota of one cgroup in whole CPUs (None: no limit, or no such group)."""
    try:
        if v2:  # cpu.max: "max 100000" or "150000 100000"
            quota, period = (group / "cpu.max").read_text().split()
        else:  # cpu.cfs_quota_us is -1 without a limit
            quota, period = ((group / f"cpu.cfs_{k}_us").read_text() for k in ("quota", "period"))
        q, p = int(quota), int(period)
    except (OSError, ValueError):
        return None
    return max(1, q // p) if q > 0 and p > 0 else None


def _usable_cpus() -> int:
    """CPUs this process may use, counted as the planner counts them (Rust's
    available_parallelism): the affinity mask, capped by the CPU quota of its cgroup and
    the cgroups above it (a container limited to one CPU of a big host counts one)."""
    cpus = len(os.sched_getaffinity(0))
    try:
        groups = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return cpus
    for line in groups:
        _, controllers, path = line.split(":", 2)
        v2 = controllers == ""
        if not v2 and "cpu" not in controllers.split(","):
            continue
        bases = ["/sys/fs/cgroup"] if v2 else ["/sys/fs/cgroup/cpu", "/sys/fs/cgroup/cpu,cpuacct"]
        for base in map(Path, bases):
            group = base / path.lstrip("/")
            while True:
                limit = _cgroup_cpu_limit(group, v2)
                if limit is not None:
                    cpus = min(cpus, limit)
                if group == base:
                    break
                group = group.parent
    return cpus


#: Workers a split onto two threads gets: 2, or 1 where this process may use only one
#: CPU (the planner never starts more workers than CPUs); the split tests then still
#: check the one-thread answers.
SPLIT = min(2, _usable_cpus())


@pytest.mark.parametrize("h", [128, 193])
@pytest.mark.parametrize("name", ["tanh", "relu", "lstm", "gru"])
def test_split_equals_one_thread_float64(name: str, h: int) -> None:
    cell = _cells(h)[name]
    assert _parts(cell) == SPLIT
    rng = np.random.default_rng(8)
    x = rng.normal(size=(T, 2))
    v = rng.normal(size=h)
    assert np.array_equal(ld.forward(cell, x, threads=2), ld.forward(cell, x, threads=1))
    wrts = ["state", "cell"] if name == "lstm" else ["state"]
    for wrt in wrts:
        one = ld.grad_norms(cell, x, v, wrt=wrt, log=True, threads=1)
        two = ld.grad_norms(cell, x, v, wrt=wrt, log=True, threads=2)
        np.testing.assert_allclose(two, one, rtol=1e-11, atol=1e-11)
        # Checkpointed (budget a tenth of the T records) agrees as well.
        small = ld.grad_norms(
            cell, x, v, wrt=wrt, log=True, threads=2, memory_budget=T * 8 * 6 * h // 10
        )
        np.testing.assert_allclose(small, one, rtol=1e-11, atol=1e-11)
        # wrt="cell" is the total dL/dc_t, nonzero at T-1 too (through h_{T-1} = o tanh c).
        assert np.isfinite(two).all()


def test_split_float32_agrees_to_rounding_and_equals_numpy_forward() -> None:
    h = 128
    cell = _cells(h, np.float32)["lstm"]
    assert _parts(cell, "float32") == SPLIT
    x = np.random.default_rng(9).normal(size=(T, 2)).astype(np.float32)
    v = np.ones(h, np.float32)
    one = ld.grad_norms(cell, x, v, log=True, threads=1)
    two = ld.grad_norms(cell, x, v, log=True, threads=2)
    np.testing.assert_allclose(two, one, rtol=2e-5, atol=2e-4)
    # Forward against a NumPy loop (float64 reference, float32 tolerance).
    w_ih, w_hh = cell.weight_ih.astype(np.float64), cell.weight_hh.astype(np.float64)
    b = cell.bias_ih.astype(np.float64) + (
        0.0 if cell.bias_hh is None else cell.bias_hh.astype(np.float64)
    )
    hh, c = np.zeros(h), np.zeros(h)
    ref = np.empty((T, h))
    sig = lambda a: 1 / (1 + np.exp(-a))  # noqa: E731
    for t in range(T):
        a = w_ih @ x[t].astype(np.float64) + w_hh @ hh + b
        i, f, g, o = sig(a[:h]), sig(a[h : 2 * h]), np.tanh(a[2 * h : 3 * h]), sig(a[3 * h :])
        c = f * c + i * g
        hh = o * np.tanh(c)
        ref[t] = hh
    got = ld.forward(cell, x, threads=2)
    np.testing.assert_allclose(got, ref, atol=2e-4)


def test_small_cells_stay_on_one_thread() -> None:
    # An Elman cell with H = 64 has too little work per step to pay for a barrier.
    assert _parts(_cells(64)["tanh"]) == 1
    assert _parts(_cells(64)["lstm"]) == SPLIT
    assert _parts(_cells(64)["gru"]) == SPLIT
    # Residual and layer-norm Elman cells are not split.
    assert _parts(ld.Elman(np.zeros((128, 1)), np.zeros((128, 128)), residual=0.5)) == 1


def test_default_threads_leave_busy_cores_alone() -> None:
    # With every other core busy, threads=None keeps one sequence on one thread (a
    # worker sharing a core would stall every step); an explicit count is obeyed.
    # One busy loop per other CPU the planner counts (more than a CPU quota allows
    # would be throttled, and a throttled task does not count as running).
    cpus = _usable_cpus()
    if cpus < 2:
        pytest.skip("needs two cores")
    spec = _cells(128)["lstm"].spec(np.dtype("float64"))
    loop = "print('spinning', flush=True)\nwhile True: pass"
    busy = [
        subprocess.Popen([sys.executable, "-c", loop], stdout=subprocess.PIPE, text=True)
        for _ in range(cpus - 1)
    ]
    try:
        for p in busy:  # each one spinning, however long starting Python took
            assert p.stdout is not None and p.stdout.readline() == "spinning\n"
        seen = [ld._core.split_parts(spec, 1, T, None) for _ in range(20)]
        assert max(seen) == 1, seen
        assert ld._core.split_parts(spec, 1, T, 2) == 2
    finally:
        for p in busy:
            p.kill()
            p.communicate()


def test_linear_closed_form_on_two_threads() -> None:
    # W = rho Q: ||dL/dh_t|| = rho^(T-1-t) ||v|| exactly, far below 1e-308.
    h, t_len, rho = 128, 200_000, 0.995
    q, _ = np.linalg.qr(np.random.default_rng(1).normal(size=(h, h)))
    cell = ld.Elman(np.zeros((h, 1)), rho * q, nonlinearity="linear")
    assert _parts(cell) == SPLIT
    x = np.zeros((t_len, 1))
    v = np.random.default_rng(2).normal(size=h)
    got = ld.grad_norms(cell, x, v, log=True, threads=2)
    want = (t_len - 1 - np.arange(t_len)) * np.log(rho) + np.log(np.linalg.norm(v))
    assert got[0] < -900
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-6)


def test_overflow_in_a_split_pass_is_an_error_not_a_hang() -> None:
    h = 128
    cell = ld.Elman(np.ones((h, 1)), np.full((h, h), 1e30), nonlinearity="linear")
    x = np.ones((T, 1))
    with pytest.raises(ld.NumericsError, match="step"):
        ld.grad_norms(cell, x, np.ones(h), threads=2)
    with pytest.raises(ld.NumericsError, match="step"):
        ld.forward(cell, x, threads=2)


def test_concurrent_calls_from_python_threads_agree() -> None:
    # Several split-capable calls at once: each still returns the one-thread answer.
    cell = _cells(64)["lstm"]
    x = np.random.default_rng(3).normal(size=(T, 2))
    v = np.ones(64)
    want = ld.grad_norms(cell, x, v, log=True, threads=1)
    got: list[np.ndarray] = []
    lock = threading.Lock()

    def run() -> None:
        r = ld.grad_norms(cell, x, v, log=True)
        with lock:
            got.append(r)

    ths = [threading.Thread(target=run) for _ in range(3)]
    for th in ths:
        th.start()
    for th in ths:
        th.join(timeout=120)
    assert len(got) == 3
    for r in got:
        np.testing.assert_allclose(r, want, rtol=1e-11, atol=1e-11)


def test_ctrl_c_stops_a_split_pass(tmp_path) -> None:
    assert_ctrl_c_stops(
        tmp_path,
        """
        rng = np.random.default_rng(0)
        cell = ld.LSTM(rng.normal(size=(512, 1)), rng.normal(size=(512, 128)) / 11.3)
        x = np.zeros((20_000_000, 1), dtype=np.float32)
        """,
        "ld.grad_norms(cell, x, np.ones(128, np.float32), log=True, threads=2)",
        wait=1.5,
    )


def test_default_split_is_measured_and_overridable(monkeypatch: pytest.MonkeyPatch) -> None:
    # threads=None splits only when a measurement on this machine says the split is
    # faster (its answer depends on the machine, so only its range is asserted here);
    # LONGDEP_SPLIT=never / always skip the measurement, and an explicit thread count
    # is obeyed whatever the measurement says.
    spec = _cells(128)["lstm"].spec(np.dtype("float64"))
    if _usable_cpus() < 2 or ld._core.split_parts(spec, 1, T, 2) < 2:
        pytest.skip("needs two cores")
    monkeypatch.setenv("LONGDEP_SPLIT", "never")
    assert ld._core.split_parts(spec, 1, T, None) == 1
    assert ld._core.split_parts(spec, 1, T, 2) == 2
    monkeypatch.setenv("LONGDEP_SPLIT", "always")
    if ld._core.split_parts(spec, 1, T, None) == 1:  # the rules, not the measure, refused
        pytest.skip("another task is running on the other core")
    monkeypatch.delenv("LONGDEP_SPLIT")
    assert ld._core.split_parts(spec, 1, T, None) in (1, 2)
    # Short calls never split (MIN_STEPS), measured or not.
    assert ld._core.split_parts(spec, 1, 100, None) == 1
