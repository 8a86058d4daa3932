"""The sweep's worker processes: they run from any caller (an unguarded script, a test
runner's wrapper), report a killed worker as such, and carry a task's error back."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from longdep import sweep
from longdep.errors import ArgumentError
from longdep.sweep import SweepError
from longdep.workers import WorkerDied, WorkerPool

TINY = """
name = "tiny"
cell = "elman"
hidden = 8
length = 300
seeds = [0, 1, 2]
"""
#: About 4 s of work per case: long enough to be killed in the middle.
SLOW = {"hidden": 256, "length": 200_000}


def test_an_unguarded_script_can_run_a_sweep_with_worker_processes(tmp_path: Path) -> None:
    # With multiprocessing's spawn each worker would run this script again (no
    # __main__ guard) and the pool would break.
    (tmp_path / "tiny.toml").write_text(TINY)
    script = tmp_path / "run.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import io
            from longdep import sweep
            r = sweep.run_sweep({str(tmp_path / "tiny.toml")!r}, {str(tmp_path / "out")!r},
                                workers=2, stream=io.StringIO())
            print("computed", len(r.computed))
            """
        )
    )
    out = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["computed", "3"]
    assert len(list((tmp_path / "out").glob("*.parquet"))) == 3


def test_a_task_error_comes_back_with_its_type_and_message() -> None:
    pool = WorkerPool(1)
    try:
        fut = pool.submit(sweep.compute_case, {"cell": "elman"})
        with pytest.raises(KeyError):
            fut.result(timeout=60)
        ok = pool.submit(sweep.compute_case, sweep.parse_config(TINY).cases[0].params)
        assert ok.result(timeout=60)["metrics"]  # the worker survives a failed task
    finally:
        pool.close()


def test_a_worker_killed_mid_task_is_reported_and_breaks_the_pool() -> None:
    pool = WorkerPool(1)
    with pytest.raises(ValueError, match="longdep functions only"):
        pool.submit(time.sleep, 30)
    params = dict(sweep.parse_config(TINY).cases[0].params, **SLOW)
    fut = pool.submit(sweep.compute_case, params)
    deadline = time.monotonic() + 30
    while not fut.running() and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.3)
    os.kill(pool._workers[0].proc.pid, signal.SIGKILL)
    with pytest.raises(WorkerDied, match="signal 9"):
        fut.result(timeout=30)
    with pytest.raises(WorkerDied):
        pool.submit(sweep.compute_case, params)
    pool.close()
    assert pool._workers[0].proc.returncode == -signal.SIGKILL


MIXED = """
name = "mixed"
cell = "elman"
length = 200000
seeds = [0]
[grid]
hidden = [256, 8, 16]
"""


def test_a_case_whose_worker_dies_fails_alone_and_is_rerun_only_on_request(
    tmp_path: Path,
) -> None:
    cfg = sweep.parse_config(MIXED)
    slow = cfg.cases[0].name  # hidden 256: about 4 s, the first case handed out
    assert cfg.cases[0].params["hidden"] == 256
    ex = sweep.LocalExecutor(1)

    def kill_soon() -> None:
        time.sleep(1.0)
        os.kill(ex._pool._workers[0].proc.pid, signal.SIGKILL)

    threading.Thread(target=kill_soon, daemon=True).start()
    log = io.StringIO()
    with pytest.raises(SweepError, match=r"1 of 3 cases failed .*--retry-failed") as err:
        sweep.run_sweep(cfg, tmp_path, executor=ex, stream=log)
    ex.close(abort=True)
    assert slow in str(err.value) and "worker process died" in str(err.value)
    assert "SIGKILL" in str(err.value)
    # The sweep went on: a fresh worker ran the other cases.
    files = sorted(p.name for p in tmp_path.glob("*.parquet"))
    assert files == sorted(c.filename for c in cfg.cases[1:])
    record = json.loads((tmp_path / sweep.FAILED).read_text())["failed"]
    assert list(record) == [slow] and "SIGKILL" in record[slow]

    # --resume reports it and does not run it again.
    log = io.StringIO()
    res = sweep.run_sweep(cfg, tmp_path, resume=True, workers=1, stream=log)
    assert res.computed == [] and list(res.failed_before) == [slow]
    assert "--retry-failed" in log.getvalue() and slow in log.getvalue()
    assert not (tmp_path / cfg.cases[0].filename).exists()

    # --retry-failed runs it; the record is gone once it succeeds.
    res = sweep.run_sweep(
        cfg, tmp_path, resume=True, retry_failed=True, workers=1, stream=io.StringIO()
    )
    assert res.computed == [slow] and res.retried == [slow]
    assert (tmp_path / cfg.cases[0].filename).exists()
    assert not (tmp_path / sweep.FAILED).exists()


def test_workers_must_be_positive() -> None:
    with pytest.raises(ArgumentError, match="workers must be a positive integer"):
        sweep.LocalExecutor(-1)
    with pytest.raises(ValueError, match="workers"):
        WorkerPool(0)
