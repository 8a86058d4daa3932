"""A running call stops when asked from another thread (``ld.cancel``), whichever thread
made it, within a short time; Ctrl-C during a main-thread call stops the others too."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest

import longdep as ld
from longdep.errors import ArgumentError, LongdepError


def _long_call(out: dict[str, object], what: str) -> None:
    cell = ld.init.elman(256, 4, seed=0)
    x = np.zeros((3_000_000, 4), np.float32)  # ~10 s of work
    start = time.monotonic()
    try:
        if what == "jacobian_norms":
            ld.jacobian_norms(ld.init.elman(200, 4, seed=0), x[:200_000], threads=1)
        else:
            ld.grad_norms(cell, x, np.ones(256, np.float32), threads=1)
        out["result"] = "finished"
    except LongdepError as e:
        out["result"] = str(e)
    out["ran"] = time.monotonic() - start


@pytest.mark.parametrize("what", ["grad_norms", "jacobian_norms"])
def test_a_call_on_another_thread_is_cancelled_by_its_thread(what: str) -> None:
    out: dict[str, object] = {}
    worker = threading.Thread(target=_long_call, args=(out, what))
    worker.start()
    time.sleep(1.0)
    asked = time.monotonic()
    assert ld.cancel(worker) == 1
    worker.join(timeout=30)
    assert not worker.is_alive()
    stopped = time.monotonic() - asked
    assert out["result"] == "cancelled", out
    assert stopped < 3.0, f"stopped {stopped:.1f} s after the cancel"


def test_cancel_only_touches_the_named_thread() -> None:
    assert ld.cancel(threading.current_thread()) == 0  # nothing runs here now
    assert ld.cancel(threading.Thread()) == 0  # never started
    with pytest.raises(ArgumentError, match="thread must be"):
        ld.cancel("main")  # type: ignore[arg-type]
    with pytest.raises(ArgumentError, match="thread must be"):
        ld.cancel(-1)


def test_ctrl_c_on_the_main_thread_stops_calls_on_other_threads() -> None:
    code = textwrap.dedent(
        """
        import signal, threading, time
        import numpy as np
        import longdep as ld
        signal.signal(signal.SIGINT, signal.default_int_handler)
        cell = ld.init.elman(256, 4, seed=0)
        x = np.zeros((3_000_000, 4), np.float32)
        res = {}
        def bg():
            try:
                ld.grad_norms(cell, x, np.ones(256, np.float32), threads=1)
                res["bg"] = "finished"
            except ld.errors.LongdepError as e:
                res["bg"] = str(e)
        t = threading.Thread(target=bg)
        t.start()
        print("ready", flush=True)
        try:
            ld.grad_norms(cell, x, np.ones(256, np.float32), threads=1)
        except KeyboardInterrupt:
            start = time.monotonic()
            t.join(30)
            print("bg", res.get("bg"), round(time.monotonic() - start, 1), flush=True)
        """
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    time.sleep(1.0)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    words = out.split()
    assert words[:2] == ["bg", "cancelled"], out
    assert float(words[2]) < 3.0, out
