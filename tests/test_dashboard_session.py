"""A dashboard session that stops cancels the heavy computation its script thread runs."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

pytest.importorskip("streamlit", reason="the dashboard needs streamlit")

from streamlit.runtime.scriptrunner_utils.script_requests import (
    RerunData,
    ScriptRequests,
)

import longdep as ld
from longdep.dashboard.session import watch_session
from longdep.errors import LongdepError


class Ctx:
    """The one attribute of Streamlit's ScriptRunContext the watcher reads."""

    def __init__(self) -> None:
        self.script_requests = ScriptRequests()


def _script(ctx: Ctx, out: dict[str, object]) -> None:
    assert watch_session(ctx)
    assert watch_session(ctx)  # once per thread
    cell = ld.init.elman(256, 4, seed=0)
    try:
        ld.grad_norms(
            cell, np.zeros((3_000_000, 4), np.float32), np.ones(256, np.float32), threads=1
        )  # ~10 s
        out["result"] = "finished"
    except LongdepError as e:
        out["result"] = str(e)


def test_a_stopped_session_cancels_its_computation() -> None:
    ctx, out = Ctx(), {}
    script = threading.Thread(target=_script, args=(ctx, out))
    script.start()
    time.sleep(1.0)
    # A rerun request is not a stop: the computation goes on.
    assert ctx.script_requests.request_rerun(RerunData())
    time.sleep(0.6)
    assert script.is_alive()
    asked = time.monotonic()
    ctx.script_requests.request_stop()
    script.join(timeout=30)
    assert not script.is_alive() and out["result"] == "cancelled", out
    assert time.monotonic() - asked < 3.0


def test_no_context_no_watcher() -> None:
    class Bare:
        script_requests = None

    assert watch_session(Bare()) is False
