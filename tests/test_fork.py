"""A process forked after a multi-threaded call works (issue: rayon's pool does not
survive a fork): with fork, forkserver and spawn, each in its own interpreter with a
timeout so that a hang fails the test instead of stopping the suite."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = """
import multiprocessing as mp, numpy as np, longdep as ld
cell = ld.init.lstm(32, 3, seed=0)
x = np.random.default_rng(0).normal(size=(2000, 4, 3))

def work(_):
    return float(ld.grad_norms(cell, x, np.ones(32))[0].sum())

if __name__ == "__main__":
    want = work(0)  # lanes in parallel: the pool now has threads
    ld.grad_norms(cell, x[:, 0], np.ones(32))  # one lane split over threads
    ld.lyapunov_spectrum(cell, x, 2)
    with mp.get_context(METHOD).Pool(2) as p:
        got = p.map(work, range(2))
    assert got == [want, want], (got, want)
    print("ok")
"""


@pytest.mark.parametrize("method", ["fork", "forkserver", "spawn"])
def test_a_child_process_after_a_threaded_call_computes(method: str, tmp_path: Path) -> None:
    script = tmp_path / "forked.py"  # spawn and forkserver re-import the main module
    script.write_text(SCRIPT.replace("METHOD", repr(method)), encoding="utf-8")
    r = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr[-2000:]
