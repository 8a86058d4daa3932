"""The hand-written stubs of the compiled module match it."""

from __future__ import annotations

import subprocess
import sys

import pytest


def test_core_stubs_match_the_compiled_module() -> None:
    pytest.importorskip("mypy", reason="mypy (test extra) checks the stubs")
    res = subprocess.run(
        [sys.executable, "-m", "mypy.stubtest", "longdep._core"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 0, res.stdout + res.stderr
