"""Eight concurrent sessions on the heaviest pages keep the server responsive.

Eight AppTest sessions (one thread each, as Streamlit runs one script thread per
session) ask for heavy-ish settings on the Decay, Remedies and Landscape pages at once,
while a ninth keeps reloading the light Problem page. The job queue lets at most its
number of slots compute at once; every session finishes within the budget, and the light
page keeps answering meanwhile. The test prints the process's peak RSS and the response
times (``pytest -s``)."""

from __future__ import annotations

import resource
import statistics
import threading
import time
from collections.abc import Callable

import pytest

pytest.importorskip("streamlit", reason="the dashboard needs streamlit")

from streamlit.testing.v1 import AppTest

from longdep.dashboard import APP_PATH, budget

VIEWS = APP_PATH.parent / "views"
SLOTS = 2
SESSIONS = 8


def _open(page: str) -> AppTest:
    at = AppTest.from_file(str(APP_PATH), default_timeout=budget.limits().max_seconds)
    at.query_params["lang"] = "en"
    at.run()
    return at.switch_page(str(VIEWS / f"{page}.py"))


# Heavy-ish settings, each estimated at one to three seconds (below the confirmation
# threshold, so each session computes on its first run); a seed per session, so that no
# session is served from another's cache.


def _decay(at: AppTest, seed: int) -> budget.Cost:
    at.selectbox(key="p2_kind").set_value("lstm")
    at.select_slider(key="p2_H").set_value(256)
    at.select_slider(key="p2_T").set_value(50_000)
    at.number_input(key="p2_seed").set_value(seed)
    at.button(key="p2_form_go").click()  # the form's values count on Compute
    return budget.decay_cost({"kind": "lstm", "H": 256, "T": 50_000, "float64": False})


def _remedies(at: AppTest, seed: int) -> budget.Cost:
    at.select_slider(key="p3_H").set_value(128)
    at.select_slider(key="p3_T").set_value(10_000)
    at.number_input(key="p3_seed").set_value(seed)
    at.button(key="p3_form_go").click()
    return budget.remedies_cost(128, 10_000, budget.data.REMEDIES)


def _landscape(at: AppTest, seed: int) -> budget.Cost:
    at.slider(key="p4_nx").set_value(30)
    at.select_slider(key="p4_T").set_value(2000)
    at.number_input(key="p4_seed").set_value(seed)
    at.button(key="p4_form_go").click()
    cost = budget.landscape_cost("gain_input", 30, 10, 2000, 64)
    return cost + budget.lyapunov_cost(64, 2000, 16)


HEAVY: list[tuple[str, Callable[[AppTest, int], budget.Cost]]] = [
    ("decay", _decay),
    ("remedies", _remedies),
    ("landscape", _landscape),
]


@pytest.fixture
def shared_runtime(monkeypatch):
    """Make AppTest behave like one server with many sessions.

    One AppTest is one session; AppTest assumes it is alone: each run installs a mock
    Streamlit runtime (and removes it when it ends, under the other sessions' feet) and
    compiles the scripts into a fresh cache (concurrent compiles hit a CPython 3.11
    ``ast`` race). A server has one runtime and one script cache for all its sessions;
    so does this fixture."""
    from unittest.mock import MagicMock

    from streamlit.components.v2.component_manager import BidiComponentManager
    from streamlit.runtime.caching.storage.dummy_cache_storage import (
        MemoryCacheStorageManager,
    )
    from streamlit.runtime.dataframe_source_manager import DataframeSourceManager
    from streamlit.runtime.media_file_manager import MediaFileManager
    from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
    from streamlit.runtime.runtime import Runtime
    from streamlit.runtime.scriptrunner.script_cache import ScriptCache
    from streamlit.testing.v1 import app_test

    runtime = MagicMock(spec=Runtime)
    runtime.media_file_mgr = MediaFileManager(MemoryMediaFileStorage("/mock/media"))
    runtime.cache_storage_manager = MemoryCacheStorageManager()
    runtime.dataframe_source_mgr = DataframeSourceManager()
    components = BidiComponentManager()
    components.discover_and_register_components(start_file_watching=False)
    runtime.bidi_component_registry = components
    monkeypatch.setattr(Runtime, "_instance", runtime)

    class PerRunRuntime:  # where each AppTest run puts (and removes) its own mock
        _instance = None

    monkeypatch.setattr(app_test, "Runtime", PerRunRuntime)
    cache = ScriptCache()
    monkeypatch.setattr(app_test, "ScriptCache", lambda: cache)


def _rss() -> int:
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def test_eight_heavy_sessions_take_turns_and_a_light_page_still_answers(
    monkeypatch, shared_runtime
):
    queue = budget.JobQueue(SLOTS)
    monkeypatch.setattr(budget, "_JOBS", queue)
    lim = budget.limits()
    sessions = []
    for i in range(SESSIONS):
        page, settle = HEAVY[i % len(HEAVY)]
        sessions.append((page, settle, _open(page).run()))  # the page's defaults, unqueued
    costs = [settle(at, 10_000 + i) for i, (_, settle, at) in enumerate(sessions)]
    for cost in costs:
        assert budget.verdict(cost, lim) == "run"
    light = _open("problem")
    light.run()

    done = threading.Event()
    seconds: dict[int, float] = {}
    errors: dict[int, str] = {}
    light_times: list[float] = []
    light_during: list[bool] = []
    before = _rss()
    peak = {"rss": before, "running": 0, "waiting": 0}

    def monitor() -> None:
        while not done.is_set():
            peak["rss"] = max(peak["rss"], _rss())
            peak["running"] = max(peak["running"], queue.running)
            peak["waiting"] = max(peak["waiting"], queue.waiting)
            time.sleep(0.05)

    def session(i: int, at: AppTest) -> None:
        t0 = time.perf_counter()
        try:
            at.run()
            if at.exception:
                errors[i] = at.exception[0].value
        except Exception as exc:  # a timeout of AppTest: the budget was not kept
            errors[i] = repr(exc)
        seconds[i] = time.perf_counter() - t0

    def light_user() -> None:
        while not done.is_set():
            busy = queue.running > 0
            t0 = time.perf_counter()
            light.run()
            light_times.append(time.perf_counter() - t0)
            light_during.append(busy and queue.running > 0)
            assert not light.exception

    watcher = threading.Thread(target=monitor, daemon=True)
    watcher.start()
    threads = [
        threading.Thread(target=session, args=(i, at)) for i, (_, _, at) in enumerate(sessions)
    ]
    start = time.perf_counter()
    for t in threads:
        t.start()
    reader = threading.Thread(target=light_user, daemon=True)
    reader.start()
    for t in threads:
        t.join(lim.max_seconds + 30)
    wall = time.perf_counter() - start
    done.set()
    reader.join(60)
    watcher.join(5)

    print(
        f"\n8 sessions, {SLOTS} slots: wall {wall:.1f} s; per session "
        + ", ".join(f"{sessions[i][0]} {seconds[i]:.1f} s" for i in sorted(seconds))
        + "\nestimated per job: "
        + ", ".join(f"{sessions[i][0]} {c.seconds:.1f} s" for i, c in enumerate(costs))
        + f"\nlight page: {len(light_times)} answers, median {statistics.median(light_times):.2f} s,"
        f" max {max(light_times):.2f} s ({sum(light_during)} while heavy jobs ran)"
        f"\npeak RSS {peak['rss'] / 2**20:.0f} MiB ({before / 2**20:.0f} MiB before; ru_maxrss "
        f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB);"
        f" peak running {peak['running']}, peak waiting {peak['waiting']}"
    )
    assert not errors, errors
    assert len(seconds) == SESSIONS
    assert all(s < lim.max_seconds for s in seconds.values())  # every session in the budget
    assert peak["running"] <= SLOTS and peak["waiting"] >= 1  # they took turns
    for _, _, at in sessions:
        assert at.get("vega_lite_chart"), "every heavy session drew its charts"
    assert sum(light_during) >= 1  # the light page answered while heavy jobs computed
    assert max(light_times) < max(seconds.values())  # ... without waiting for them
