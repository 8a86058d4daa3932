"""The dashboard's cost budget: one estimate for every page, checked against measured runs
and against the issue's examples; confirmation above a few seconds and refusal above the
cap, on the pages; the process-wide job queue (slots, places in line, leaving it)."""

from __future__ import annotations

import io
import math
import threading
import time

import numpy as np
import pytest

pytest.importorskip("streamlit", reason="the dashboard needs streamlit")

from streamlit.testing.v1 import AppTest

import longdep as ld
from longdep.dashboard import APP_PATH, budget, data, i18n

VIEWS = APP_PATH.parent / "views"
LIMITS = budget.Limits(
    jobs=2, confirm_seconds=4.0, max_seconds=120.0, max_bytes=2 * 2**30, queue_seconds=0.5
)


def _page(page: str, lang: str = "en") -> AppTest:
    at = AppTest.from_file(str(APP_PATH), default_timeout=120)
    at.query_params["lang"] = lang
    at.run()
    return at.switch_page(str(VIEWS / f"{page}.py")).run()


def _charts(at: AppTest) -> int:
    return len(at.get("vega_lite_chart"))


def _npz(**arrays: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    return buf.getvalue()


def _lstm_npz(H: int, I: int) -> bytes:
    """A PyTorch-named LSTM layer of zeros: a few kB compressed, whatever H and I."""
    z = np.zeros
    return _npz(
        **{
            "lstm.weight_ih_l0": z((4 * H, I), np.float32),
            "lstm.weight_hh_l0": z((4 * H, H), np.float32),
            "lstm.bias_ih_l0": z(4 * H, np.float32),
            "lstm.bias_hh_l0": z(4 * H, np.float32),
        }
    )


def _weights_page(filename: str, payload: bytes, lang: str = "en") -> AppTest:
    def script(filename: str, payload: bytes, lang: str) -> None:
        from longdep.dashboard import i18n
        from longdep.dashboard.views import your_model

        your_model.show_weights(i18n.translator(lang), filename, payload)

    return AppTest.from_function(script, args=(filename, payload, lang), default_timeout=60)


# -- the estimate ---------------------------------------------------------------------------


def test_estimate_grows_as_h_squared_for_dense_cells_and_as_h_for_diagonal_ones():
    def per_step(kind: str, H: int) -> float:
        return budget.estimate(kind, H, 10**5).seconds

    dense = per_step("elman", 1024) / per_step("elman", 512)
    diagonal = per_step("mingru", 1024) / per_step("mingru", 512)
    assert 3.5 < dense < 8  # H^2, and more once the weights leave the cache
    assert 1.5 < diagonal < 2.5
    assert per_step("lstm", 256) > 3 * per_step("elman", 256)  # four gate rows
    base = budget.estimate("gru", 128, 10_000)
    assert budget.estimate("gru", 128, 100_000).seconds > 9 * base.seconds
    assert budget.estimate("gru", 128, 10_000, calls=30).seconds == pytest.approx(30 * base.seconds)
    f32 = budget.estimate("gru", 512, 10_000, float64=False)
    assert f32.seconds < budget.estimate("gru", 512, 10_000).seconds


def test_estimated_memory_counts_the_input_the_records_and_the_weights():
    small = budget.estimate("lstm", 64, 10_000)
    wide = budget.estimate("lstm", 64, 10_000, I=1000)
    # the (T, I) input: sweep.estimate_case counts 16 bytes a number (the float64 draw and
    # a copy); numpy reuses the temporary of "scale * draw", so 8 to 16 at the peak
    assert wide.nbytes - small.nbytes == pytest.approx(10_000 * 999 * 16, rel=0.05)
    big = budget.estimate("lstm", 2048, 10)
    assert big.nbytes > 4 * 2048 * 2048 * 8  # the weights alone


def _measure(fn) -> float:
    fn()  # warm up (first call builds the thread pool)
    best = math.inf
    for _ in range(2):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def _decay_run(kind: str, H: int, T: int, float64: bool):
    """The Decay page's computation, the cell built beforehand (not part of the estimate:
    drawing a large random matrix is a one-off; an Elman cell by its gain, not its
    spectral radius, which would take an eigendecomposition)."""
    cell = ld.init.elman(H, gain=1.0, seed=0) if kind == "elman" else data.make_cell(kind, H)
    x = data._fit_input(data.inputs(T, 0, float64=float64), cell, 0)
    v = np.full(cell.hidden_size, cell.hidden_size**-0.5)
    return lambda: ld.grad_norms(cell, x, v, log=True)


@pytest.mark.parametrize(
    ("kind", "H", "T", "float64"),
    [
        ("elman", 256, 4000, True),
        ("lstm", 512, 300, True),
        ("lstm", 128, 3000, False),
        ("mingru", 256, 20_000, True),
        ("ssm", 64, 3000, True),
        ("minlstm", 1024, 20_000, True),
        ("rglru", 256, 3000, True),
        ("lru", 512, 20_000, True),
        ("elman", 1024, 100, True),  # weights beyond the caches: memory-bound
    ],
)
def test_estimate_is_within_a_generous_factor_of_a_measured_run(kind, H, T, float64):
    """Order of magnitude only: five times faster or ten times slower (the machine is
    shared: other work slows a run down, never speeds it up)."""
    measured = _measure(_decay_run(kind, H, T, float64))
    est = budget.decay_cost({"kind": kind, "H": H, "T": T, "float64": float64}).seconds
    print(f"{kind} H={H} T={T} f64={float64}: estimated {est:.3f} s, measured {measured:.3f} s")
    assert est / 5 < measured < est * 10


def test_estimate_ranks_measured_runs_in_the_same_order():
    cases = [("elman", 64, 5000), ("elman", 256, 5000), ("lstm", 256, 5000)]
    est = [
        budget.decay_cost({"kind": k, "H": H, "T": T, "float64": True}).seconds for k, H, T in cases
    ]
    measured = [_measure(_decay_run(*c, True)) for c in cases]
    assert sorted(range(3), key=est.__getitem__) == sorted(range(3), key=measured.__getitem__)


def test_landscape_estimate_matches_a_measured_slice_of_the_grid():
    """A 5 x 3 grid measured, against the estimate of that grid (the full one is 10^4
    points of the same kind)."""
    mode, nx, ny, T, H = "gain_input", 5, 3, 2000, 64
    cost = budget.landscape_cost(mode, nx, ny, T, H)
    t0 = time.perf_counter()
    data.landscape.__wrapped__(mode, nx, ny, T, H, 0.0, 12345)
    measured = time.perf_counter() - t0
    print(f"landscape 5x3: estimated {cost.seconds:.3f} s, measured {measured:.3f} s")
    assert cost.seconds / 5 < measured < cost.seconds * 10


# -- the examples -------------------------------------------------------------------


def test_decay_page_at_its_maximum_is_refused():
    opts = {"kind": "lstm", "H": 512, "T": 10**6, "float64": True}
    cost = budget.decay_cost(opts)
    assert cost.seconds > 200  # the issue measured ~460 s
    assert budget.verdict(cost, LIMITS) == "refuse_time"


def test_landscape_full_grid_is_refused_and_the_default_grid_runs():
    full = budget.landscape_cost("gain_input", 100, 100, 5000, 128)
    assert budget.verdict(full, LIMITS) == "refuse_time"  # the issue measured ~180 s
    default = budget.landscape_cost("gain_input", 30, 10, 1000, 64)
    assert budget.verdict(default, LIMITS) == "run"
    radius = budget.landscape_cost("radius_H", 100, 24, 5000, 64)
    assert budget.verdict(radius, LIMITS) in ("confirm", "refuse_time")


def test_uploaded_lstm_of_hidden_size_2048_is_refused():
    cost = budget.estimate("lstm", 2048, 10_000, I=2048)
    assert cost.seconds > 120  # the issue measured 284 s
    assert budget.verdict(cost, LIMITS) == "refuse_time"


def test_a_tiny_file_declaring_input_size_1e5_is_refused_for_its_memory():
    payload = _lstm_npz(1, 10**5)
    assert len(payload) < 5000
    cost = budget.estimate("lstm", 1, 10_000, I=10**5)
    assert cost.nbytes > 7.5e9  # the issue measured 7.8 GB
    assert budget.verdict(cost, LIMITS) == "refuse_memory"


def test_default_settings_of_every_page_compute_without_asking():
    lab = budget.lab_cost(("vanilla", "lstm-chrono", "gru", "lru"), 50, 32, 200, data.LAB_BATCH)
    for cost in (
        budget.decay_cost({"kind": "elman", "H": 64, "T": 10_000, "float64": False}),
        budget.remedies_cost(64, 2000, data.REMEDIES),
        budget.landscape_cost("gain_input", 30, 10, 1000, 64),
        budget.lyapunov_cost(64, 1000, 16),
        budget.upload_cost(ld.init.lstm(32, 4), 10_000),
        lab,
    ):
        assert budget.verdict(cost, LIMITS) in ("run", "confirm")
        assert cost.seconds < LIMITS.max_seconds / 4


# -- limits ------------------------------------------------------------------------------


def test_verdict_confirms_above_a_few_seconds_and_refuses_above_the_caps():
    assert budget.verdict(budget.Cost(1.0, 1e6), LIMITS) == "run"
    assert budget.verdict(budget.Cost(10.0, 1e6), LIMITS) == "confirm"
    assert budget.verdict(budget.Cost(200.0, 1e6), LIMITS) == "refuse_time"
    assert budget.verdict(budget.Cost(1.0, 1e10), LIMITS) == "refuse_memory"


def test_limits_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("LONGDEP_DASHBOARD_JOBS", "3")
    monkeypatch.setenv("LONGDEP_DASHBOARD_MAX_S", "30")
    monkeypatch.setenv("LONGDEP_DASHBOARD_CONFIRM_S", "nonsense")  # ignored: the default
    lim = budget.limits()
    assert (lim.jobs, lim.max_seconds, lim.confirm_seconds) == (3, 30.0, 4.0)
    assert lim.max_bytes <= 2 * 2**30


def test_places_in_line_are_english_ordinals_and_chinese_numbers():
    assert [budget.ordinal(n, "en") for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 103)] == [
        "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "103rd",
    ]  # fmt: skip
    assert i18n.text("budget_queue", "zh", pos=budget.ordinal(3, "zh"), slots=2).count("第 3 位")


# -- the job queue --------------------------------------------------------------------------


def test_queue_runs_at_most_its_slots_at_once_first_come_first_served():
    queue = budget.JobQueue(2)
    release = threading.Event()
    places: dict[int, list[int]] = {}
    order: list[int] = []
    lock = threading.Lock()
    peak = [0]

    def job(i: int) -> None:
        with queue.slot(on_wait=lambda p: places.setdefault(i, []).append(p)):
            with lock:
                order.append(i)
                peak[0] = max(peak[0], queue.running)
            release.wait(10)

    threads = []
    for i in range(5):
        t = threading.Thread(target=job, args=(i,))
        t.start()
        threads.append(t)
        deadline = time.monotonic() + 10
        while queue.running + queue.waiting < i + 1 and time.monotonic() < deadline:
            time.sleep(0.01)  # wait for the thread to join the line, to fix the order
    assert queue.running == 2 and queue.waiting == 3
    assert places == {2: [1], 3: [2], 4: [3]}
    release.set()
    for t in threads:
        t.join(10)
    assert order == [0, 1, 2, 3, 4] and peak[0] == 2
    assert queue.running == 0 and queue.waiting == 0


def test_a_job_that_leaves_the_line_frees_its_place_and_a_failing_job_its_slot():
    queue = budget.JobQueue(1)
    hold, leave = threading.Event(), threading.Event()
    out: dict[str, object] = {}

    def holder() -> None:
        with queue.slot():
            hold.wait(10)

    def quitter() -> None:
        try:
            with queue.slot(leave=leave.is_set):
                out["quitter"] = "ran"
        except budget.QueueLeft:
            out["quitter"] = "left"

    t1 = threading.Thread(target=holder)
    t1.start()
    while queue.running < 1:
        time.sleep(0.01)
    t2 = threading.Thread(target=quitter)
    t2.start()
    while queue.waiting < 1:
        time.sleep(0.01)
    leave.set()
    t2.join(10)
    assert out["quitter"] == "left" and queue.waiting == 0
    hold.set()
    t1.join(10)
    with pytest.raises(RuntimeError), queue.slot():
        raise RuntimeError("boom")
    assert queue.running == 0
    with queue.slot():
        assert queue.running == 1


# -- the pages ----------------------------------------------------------------------------


def test_decay_page_asks_and_computes_nothing_until_confirmed(monkeypatch):
    monkeypatch.setenv("LONGDEP_DASHBOARD_CONFIRM_S", "0.001")  # every setting "heavy"
    at = _page("decay")
    at.number_input(key="p2_seed").set_value(4242)
    at.button(key="p2_form_go").click().run()
    assert not at.exception
    assert _charts(at) == 0
    assert "s of computation" in at.info[0].value
    at.button(key="p2_go").click().run()
    assert not at.exception and _charts(at) == 1
    at.toggle(key="p2_logx").set_value(True).run()  # same computation: no second question
    assert _charts(at) == 1 and not [b for b in at.button if b.key == "p2_go"]


@pytest.mark.parametrize("lang", i18n.LANGS)
def test_decay_page_at_its_maximum_refuses_and_says_why(lang):
    at = _page("decay", lang)
    at.selectbox(key="p2_kind").set_value("lstm")
    at.select_slider(key="p2_H").set_value(512)
    at.checkbox(key="p2_f64").check()
    at.select_slider(key="p2_T").set_value(1_000_000)
    at.button(key="p2_form_go").click().run()
    assert not at.exception
    assert _charts(at) == 0
    assert not [b for b in at.button if b.key == "p2_go"]
    msg = at.error[0].value
    assert i18n.text("budget_lower_decay", lang) in msg
    assert ("120 s per request" in msg) if lang == "en" else ("最多允许 120 秒" in msg)


def test_landscape_full_grid_refuses_before_computing():
    at = _page("landscape")
    at.slider(key="p4_nx").set_value(100)
    at.slider(key="p4_ny_gain_input").set_value(100)
    at.select_slider(key="p4_T").set_value(5000)
    at.select_slider(key="p4_H").set_value(128)
    at.button(key="p4_form_go").click().run()
    assert not at.exception
    assert _charts(at) == 0
    assert i18n.text("budget_lower_grid", "en") in at.error[0].value


def test_uploaded_lstm_of_hidden_size_2048_is_refused_on_the_page():
    at = _weights_page("big.npz", _lstm_npz(2048, 2048)).run()  # as a PyTorch stack's layer
    assert not at.exception
    assert at.success  # the file itself is fine
    assert _charts(at) == 0
    assert i18n.text("budget_lower_upload", "en") in at.error[0].value


def test_tiny_files_declaring_huge_inputs_are_refused_on_the_page():
    at = _weights_page("wide.npz", _lstm_npz(1, 10**5)).run()  # above the upload cap on I
    assert not at.exception and _charts(at) == 0 and at.error
    at = _weights_page("wide.npz", _lstm_npz(1, 8192)).run()  # within it: 10^4 steps run
    assert not at.exception and _charts(at) == 1
    at.select_slider(key="p5_T").set_value(100_000)
    at.button(key="p5_form_go").click().run()  # 13 GB of inputs: refused
    assert not at.exception
    assert "GB of memory" in at.error[0].value and _charts(at) == 0


def test_training_lab_refuses_every_model_at_the_largest_settings_above_the_limit(monkeypatch):
    """The largest settings with every model take about two minutes here (measured: 102 s
    against an estimate of 98 s), near the default limit; with the limit at half the
    estimate the page refuses them and computes nothing."""
    models = list(data.trainlab.MODELS)
    est = budget.lab_cost(tuple(models), 100, 64, 400, data.LAB_BATCH).seconds
    assert est > budget.limits().confirm_seconds
    monkeypatch.setenv("LONGDEP_DASHBOARD_MAX_S", str(est / 2))
    at = _page("training")
    at.select_slider(key="p6_T").set_value(100)
    at.select_slider(key="p6_H").set_value(64)
    at.select_slider(key="p6_steps").set_value(400)
    at.multiselect(key="p6_models").set_value(models)
    at.button(key="p6_train").click().run()
    assert not at.exception
    assert i18n.text("budget_lower_train", "en") in at.error[0].value
    assert _charts(at) == 0


def test_a_queued_session_shows_its_place_and_leaves_the_line_when_it_stops(monkeypatch):
    queue = budget.JobQueue(1)
    monkeypatch.setattr(budget, "_JOBS", queue)
    monkeypatch.setenv("LONGDEP_DASHBOARD_QUEUE_S", "0")  # every computation queues
    seen: list[object] = []
    real = budget._requests
    monkeypatch.setattr(budget, "_requests", lambda: seen.append(real()) or seen[-1])
    at = _page("decay")  # computed: the slot was free
    assert _charts(at) == 1
    hold, held = threading.Event(), threading.Event()

    def holder() -> None:
        with queue.slot():
            held.set()
            hold.wait(30)

    threading.Thread(target=holder, daemon=True).start()
    held.wait(10)
    at.number_input(key="p2_seed").set_value(777)
    at.button(key="p2_form_go").click()
    runner = threading.Thread(target=at.run, daemon=True)
    runner.start()
    deadline = time.monotonic() + 30
    while queue.waiting < 1 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert queue.waiting == 1  # second in line behind the holder... first of the waiting
    time.sleep(3 * budget.JobQueue.POLL_S)  # let it draw its place
    seen[-1].request_stop()
    runner.join(30)
    hold.set()
    assert not runner.is_alive()
    assert queue.waiting == 0 and queue.running <= 1
    texts = [el.value for el in at.info]
    assert i18n.text("budget_queue", "en", pos="1st", slots=1) in texts, texts
    assert _charts(at) == 0


def test_nested_queued_blocks_do_not_wait_for_a_second_slot(monkeypatch):
    monkeypatch.setattr(budget, "_JOBS", budget.JobQueue(1))
    tr, heavy, out = i18n.translator("en"), budget.Cost(10.0, 0.0), []

    def nested() -> None:
        with budget.queued(tr, heavy), budget.queued(tr, heavy):
            out.append(budget.jobs().running)

    t = threading.Thread(target=nested, daemon=True)
    t.start()
    t.join(10)
    assert out == [1] and budget.jobs().running == 0
