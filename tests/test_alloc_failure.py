"""A buffer too large for the machine is a BudgetError, never an abort of the interpreter.

Each case runs in its own interpreter under an address-space limit (RLIMIT_AS), so the
allocation really fails, and the same interpreter must then go on computing.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

resource = pytest.importorskip("resource", reason="RLIMIT_AS needs the resource module (POSIX)")

LIMIT = 3 << 30  # 3 GiB of address space: the interpreter, NumPy and the thread pools fit.

PRELUDE = """
import resource, sys
import numpy as np
import longdep as ld
from longdep.errors import BudgetError

resource.setrlimit(resource.RLIMIT_AS, ({limit}, {limit}))
cell = ld.init.elman(128, 1, seed=0)

def refused(what, f):
    try:
        f()
    except BudgetError as e:
        msg = str(e)
        assert "cannot allocate" in msg and "GB" in msg, msg
        print(what, "BudgetError:", msg)
        return
    raise SystemExit(f"{{what}}: no BudgetError")
"""

CASES = {
    # (T, B, H) float32 outputs of 5.1 GB.
    "forward outputs": "refused('forward', lambda: ld.forward(cell, np.zeros((10**7, 1), np.float32)))",
    # Every record kept (the budget allows it): 5.1 GB of stored records.
    "reverse records": (
        "refused('grad_norms', lambda: ld.grad_norms(cell, np.zeros((10**7, 1), np.float32), "
        "np.ones(128, np.float32), memory_budget=1 << 40, threads=1))"
    ),
    # Local exponents (T, B, k) float64: 8 GB.
    "local exponents": (
        "refused('lyapunov', lambda: ld.lyapunov_spectrum(cell, np.zeros((10**7, 1)), 100, "
        "return_local=True, threads=1))"
    ),
}


def run(body: str) -> subprocess.CompletedProcess[str]:
    code = (
        textwrap.dedent(PRELUDE.format(limit=LIMIT))
        + body
        + "\n"
        + textwrap.dedent(
            """
        # The same interpreter goes on working after the refusal.
        y = ld.forward(cell, np.ones((50, 1)))
        assert y.shape == (50, 128) and np.isfinite(y).all()
        print("alive")
        """
        )
    )
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=240)


@pytest.mark.parametrize("case", sorted(CASES))
def test_failed_allocation_is_a_budget_error(case: str) -> None:
    r = run(CASES[case])
    assert r.returncode == 0, f"exit {r.returncode}\nstdout:\n{r.stdout}\nstderr:\n{r.stderr}"
    assert "BudgetError" in r.stdout and "alive" in r.stdout, r.stdout


def test_error_names_what_was_asked() -> None:
    r = run(CASES["forward outputs"])
    assert r.returncode == 0, r.stderr
    # 10^7 * 128 float32 values = 5.12 GB; the message gives the size and what it is.
    assert "the outputs" in r.stdout and "1280000000 values" in r.stdout and "5.1 GB" in r.stdout
