"""The examples in the public docstrings run and print what they claim.

Printed floats are compared to a relative 1e-9, not letter by letter: a sum's last bit
depends on the order that this CPU's BLAS or SIMD kernels add in, and an example must
hold on every machine (``1.0000000000000002`` matches ``1.0``).
"""

from __future__ import annotations

import doctest
import importlib
import math
import re

import pytest

MODULES = [
    "longdep.core",
    "longdep.products",
    "longdep.cells",
    "longdep.analysis",
    "longdep.init",
    "longdep.attention",
    "longdep.modern",
    "longdep.kinds",
    "longdep.stack",
    "longdep.load",
    "longdep.connectivity",
]

_NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?|[-+]?inf|nan")


class NumericChecker(doctest.OutputChecker):
    """Text must match with every number replaced by a placeholder, and the numbers
    must agree to ``rtol`` (integers and words exactly, as text)."""

    rtol = 1e-9

    def check_output(self, want: str, got: str, optionflags: int) -> bool:
        if super().check_output(want, got, optionflags):
            return True
        if _NUMBER.sub("#", want) != _NUMBER.sub("#", got):
            return False
        for a, b in zip(_NUMBER.findall(want), _NUMBER.findall(got), strict=True):
            x, y = float(a), float(b)
            if math.isnan(x) and math.isnan(y):
                continue
            if not math.isclose(x, y, rel_tol=self.rtol, abs_tol=1e-300):
                return False
        return True


def test_checker_tolerates_the_last_bit_only() -> None:
    c = NumericChecker()
    assert c.check_output("(1.0, 0.25)\n", "(1.0000000000000002, 0.25)\n", 0)
    assert not c.check_output("(1.0, 0.25)\n", "(1.001, 0.25)\n", 0)
    assert not c.check_output("[1.0, 2.0]\n", "[1.0, 2.0, 3.0]\n", 0)
    assert not c.check_output("'vanishing'\n", "'exploding'\n", 0)
    assert c.check_output("inf\n", "inf\n", 0)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_hold(name: str) -> None:
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner(checker=NumericChecker(), optionflags=doctest.ELLIPSIS)
    for test in finder.find(module, name, globs={}):
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.attempted > 0, f"{name} has no examples"
    assert result.failed == 0, f"{result.failed} example(s) in {name} failed"
