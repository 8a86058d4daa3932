"""Boolean flags of the public API take only real booleans (bool or numpy.bool_).

``bool("no")`` is True, so a string flag used to switch a feature on; every flag now
raises ArgumentError naming the argument, what it must be and what came.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import longdep as ld
from longdep import sweep, trainlab
from longdep._validate import require_bool

RNG = np.random.default_rng(0)
W_IH, W_HH = RNG.normal(size=(3, 2)), 0.5 * np.eye(3)
ELMAN = ld.Elman(W_IH, W_HH)
HEAD = ld.Attention(np.ones((2, 2)), np.ones((2, 2)), np.ones((2, 2)))
X = RNG.normal(size=(6, 2))
QUICK = Path(__file__).resolve().parents[1] / "examples" / "quick.toml"

NOT_BOOLS = ["no", "False", "", 0, 1, 1.0, None, [], np.int64(1)]


def message(name: str, value: Any) -> str:
    return f"^{re.escape(name)} must be True or False; got {re.escape(repr(value))} \\({type(value).__name__}\\)"


# (argument name, call with that argument set to the value)
FLAGS: list[tuple[str, Callable[[Any], Any]]] = [
    ("layer_norm", lambda v: ld.Elman(W_IH, W_HH, layer_norm=v)),
    ("residual", lambda v: ld.Attention(np.eye(2), np.eye(2), np.eye(2), residual=v)),
    ("layer_norm", lambda v: ld.Attention(np.eye(2), np.eye(2), np.eye(2), layer_norm=v)),
    ("causal", lambda v: ld.Attention(np.eye(2), np.eye(2), np.eye(2), causal=v)),
    ("log", lambda v: ld.grad_norms(HEAD, X, np.ones(2), log=v)),
    ("layer_norm", lambda v: ld.init.elman(3, 2, layer_norm=v)),
    ("residual", lambda v: ld.init.attention(4, 2, residual=v)),
    ("layer_norm", lambda v: ld.init.attention(4, 2, layer_norm=v)),
    ("causal", lambda v: ld.init.attention(4, 2, causal=v)),
    ("resume", lambda v: sweep.run_sweep(QUICK, "unused-out", resume=v)),
    ("progress", lambda v: sweep.run_sweep(QUICK, "unused-out", progress=v)),
    ("write", lambda v: sweep.collect("unused-out", write=v)),
    ("quiet", lambda v: trainlab.run_train(None, "unused-out", quiet=v)),  # type: ignore[arg-type]
]


@pytest.mark.parametrize(("name", "call"), FLAGS, ids=[f"{i}-{f[0]}" for i, f in enumerate(FLAGS)])
@pytest.mark.parametrize("value", NOT_BOOLS, ids=repr)
def test_a_flag_that_is_not_a_bool_is_refused_by_name(
    name: str,
    call: Callable[[Any], Any],
    value: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)  # nothing may be written, and certainly not in the checkout
    with pytest.raises(ld.ArgumentError, match=message(name, value)):
        call(value)
    assert not (tmp_path / "unused-out").exists()


def test_layer_norm_no_does_not_turn_layer_norm_on() -> None:
    with pytest.raises(
        ld.ArgumentError, match=r"^layer_norm must be True or False; got 'no' \(str\)$"
    ):
        ld.Elman(W_IH, W_HH, layer_norm="no")
    assert ld.Elman(W_IH, W_HH, layer_norm=False).layer_norm is False


@pytest.mark.parametrize("value", [True, False, np.bool_(True), np.bool_(False)], ids=repr)
def test_real_booleans_are_accepted_and_stored_as_bool(value: Any) -> None:
    assert require_bool("flag", value) is bool(value)
    cell = ld.Elman(W_IH, W_HH, layer_norm=value)
    assert cell.layer_norm is bool(value)
    head = ld.init.attention(4, 2, residual=value, layer_norm=value, causal=value)
    assert (head.residual, head.layer_norm, head.causal) == (bool(value),) * 3
    assert type(head.causal) is bool


def test_run_sweep_with_real_flags_still_runs(tmp_path: Path) -> None:
    cfg = sweep.parse_config('name = "f"\nlength = 20\ncell = "elman"\nhidden = 2\n')
    res = sweep.run_sweep(cfg, tmp_path, workers=1, progress=np.bool_(False), stream=io.StringIO())
    assert res.computed and len(sweep.collect(tmp_path, write=np.bool_(False))) == 1


# The flags of the core functions, the analyses and training.
CORE_FLAGS: list[tuple[str, Callable[[Any], Any]]] = [
    ("return_state", lambda v: ld.forward(ELMAN, X, return_state=v)),
    ("return_local", lambda v: ld.lyapunov_spectrum(ELMAN, X, 1, return_local=v)),
    ("log", lambda v: ld.grad_norms(ELMAN, X, np.ones(3), log=v)),
    ("log", lambda v: ld.sensitivity(ELMAN, X, np.ones(3), log=v)),
    ("sustained", lambda v: ld.memory_horizon(np.zeros(5), sustained=v)),
    ("inputs", lambda v: ld.param_grads(ELMAN, X, np.ones((6, 3)), inputs=v)),
]


@pytest.mark.parametrize(("name", "call"), CORE_FLAGS, ids=[f[0] for f in CORE_FLAGS])
def test_flags_of_the_core_functions_are_real_booleans(
    name: str, call: Callable[[Any], Any]
) -> None:
    with pytest.raises(ld.ArgumentError, match=message(name, "yes")):
        call("yes")
