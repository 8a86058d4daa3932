"""Shared check: Ctrl-C stops a long longdep call in a child process within seconds."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path


def assert_ctrl_c_stops(tmp_path: Path, setup: str, call: str, wait: float = 1.0) -> None:
    """Run `setup` then `call` in a child, send SIGINT `wait` s after it starts, and check
    that the call raises KeyboardInterrupt (exit 3) within 10 s of the signal."""
    body = textwrap.dedent(setup).strip()
    script = tmp_path / "long.py"
    script.write_text(
        "import signal, sys, numpy as np, longdep as ld\n"
        "# Ctrl-C even when started from a background shell (SIGINT inherited ignored).\n"
        "signal.signal(signal.SIGINT, signal.default_int_handler)\n"
        f"{body}\n"
        'print("started", flush=True)\n'
        "try:\n"
        f"    {call}\n"
        "except KeyboardInterrupt:\n"
        '    print("interrupted", flush=True)\n'
        "    sys.exit(3)\n"
        'print("finished", flush=True)\n'
    )
    proc = subprocess.Popen(
        [sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "started"
    time.sleep(wait)
    t0 = time.monotonic()
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 3, (proc.returncode, out)
    assert "interrupted" in out
    assert time.monotonic() - t0 < 10
