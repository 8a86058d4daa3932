"""The dashboard as a teacher uses it (issue 14): controls that start a computation sit in
a form and count on Compute only, a shared link or a guided scene still computes on
opening, the Landscape grid shows a progress bar that advances row by row inside the job
queue, and the open tab of the Training lab and of Your model lives in the URL."""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qs, urlparse

import numpy as np
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest
from test_dashboard import SHIM, VIEWS, _datasets, _specs

from longdep.dashboard import budget, data, i18n, progress, scenes
from longdep.dashboard.views import training, your_model


def _open(page: str, params: dict[str, str]) -> AppTest:
    at = AppTest.from_file(str(SHIM), default_timeout=180)
    at.query_params.update(params)
    at.run()
    if page != "problem":
        at.switch_page(str(VIEWS / f"{page}.py")).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _shown(at: AppTest) -> list[Any]:
    """What the page computed: every chart's data, every metric and every table."""
    frames = [[d.to_dict("list") for d in _datasets(at, i)] for i in range(len(_specs(at)))]
    tables = [t.value.to_dict("list") for t in at.table]
    return [frames, [(m.label, m.value) for m in at.metric], tables]


@pytest.fixture
def computations(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """Every fresh computation of the decay, remedies and landscape pages draws its input
    sequence with ``data.inputs`` (cached results do not): the (T, seed) of each call."""
    calls: list[tuple[int, int]] = []
    inputs = data.inputs

    def counted(T: int, seed: int, **kwargs: Any) -> Any:
        calls.append((T, seed))
        return inputs(T, seed, **kwargs)

    monkeypatch.setattr(data, "inputs", counted)
    return calls


#: page, small settings, a control of a form (accessor, key, new value), its button.
FORM_CONTROLS = [
    ("decay", {"p2_T": "1000", "p2_H": "16"}, ("number_input", "p2_seed", 917_351), "p2_form_go"),
    ("remedies", {"p3_T": "500", "p3_H": "16"}, ("number_input", "p3_seed", 917_352), "p3_form_go"),
    ("remedies", {"p3_T": "500", "p3_H": "16"}, ("select_slider", "p3_far", 30), "p3_clip_form_go"),
    (
        "landscape",
        {"p4_nx": "6", "p4_ny_gain_input": "3", "p4_T": "200"},
        ("number_input", "p4_seed", 917_353),
        "p4_form_go",
    ),
    (
        "landscape",
        {"p4_nx": "6", "p4_ny_gain_input": "3", "p4_T": "200", "p4_seed": "917354"},
        ("slider", "p4_k", 3),
        "p4_lyap_form_go",
    ),
]


@pytest.mark.parametrize("page,params,control,button", FORM_CONTROLS)
def test_a_form_control_computes_nothing_until_compute_is_pressed(
    computations, page, params, control, button
):
    kind, key, value = control
    at = _open(page, {"lang": "en", **params})
    before, calls, url = _shown(at), len(computations), at.query_params[key]
    assert str(value) != url  # a value the page has not computed yet
    getattr(at, kind)(key=key).set_value(value).run()  # moved, not submitted
    assert not at.exception
    assert len(computations) == calls  # nothing computed
    assert _shown(at) == before  # the same charts and numbers
    assert at.query_params[key] == url  # the URL holds what the page shows
    # (AppTest forgets a staged value at a rerun; a browser keeps it until submitted)
    getattr(at, kind)(key=key).set_value(value)
    at.button(key=button).click().run()
    assert not at.exception
    assert len(computations) > calls  # the new setting is computed ...
    assert _shown(at) != before  # ... and shown
    assert at.query_params[key] == str(value)


def test_cheap_drawing_controls_stay_live(computations):
    at = _open("decay", {"lang": "en", "p2_T": "1000", "p2_H": "16"})
    calls = len(computations)
    at.toggle(key="p2_logx").set_value(True).run()  # redraws at once, from the cache
    assert _specs(at)[0]["layer"][0]["encoding"]["x"]["scale"]["type"] == "log"
    assert len(computations) == calls


def test_a_shared_link_and_a_scene_compute_on_opening_without_pressing_compute():
    at = _open("decay", {"lang": "zh", "p2_T": "1000", "p2_H": "16", "p2_seed": "5"})
    curve = next(d for d in _datasets(at) if "kind" in d.columns)
    curve = curve[curve["kind"] == "measured"]
    want = data.decay("elman", "tanh", "normal", 16, 1000, 0.9, 0.1, 5, False)["curve"]
    assert curve["distance"].max() == 999  # the link's settings, computed without a press
    assert curve["log10"].to_numpy() == pytest.approx(want["log_norm"].to_numpy() / math.log(10))
    scene = scenes.SCENES[0]  # decay, Elman at radius 0.8 over 1,000 steps
    url = urlparse(scenes.href(scene, "en"))
    at = _open(url.path.strip("/"), {k: v[0] for k, v in parse_qs(url.query).items()})
    want = data.decay("elman", "tanh", "normal", 64, 1000, 0.8, 0.1, 0, False)["metrics"]
    shown = dict((m.label, m.value) for m in at.metric)
    assert shown[i18n.text("m_rate", "en")] == i18n.text("m_rate_value", "en", v=want["decay_rate"])


# -- the landscape's progress bar -----------------------------------------------------------


def test_the_landscape_grid_shows_a_bar_that_advances_row_by_row_in_the_queue(monkeypatch):
    events: list[tuple[str, Any]] = []
    reporter, queued = progress.reporter, budget.queued

    def recorded_reporter(text: str, i: int = 0, n: int = 1) -> Any:
        report = reporter(text, i, n)
        events.append(("bar", text))

        def recorded(fraction: float) -> None:
            events.append(("report", fraction))
            report(fraction)

        return recorded

    @contextmanager
    def recorded_queue(tr: Any, cost: budget.Cost) -> Iterator[None]:
        events.append(("queue", cost.seconds))
        with queued(tr, cost):
            yield
        events.append(("leave", None))

    shown: list[tuple[float, str | None]] = []
    st_progress = st.progress

    def recorded_progress(value: float, text: str | None = None, **kwargs: Any) -> Any:
        shown.append((value, text))
        return st_progress(value, text=text, **kwargs)

    monkeypatch.setattr(progress, "reporter", recorded_reporter)
    monkeypatch.setattr(budget, "queued", recorded_queue)
    monkeypatch.setattr(st, "progress", recorded_progress)
    nx, ny = 7, 4
    at = _open(
        "landscape",
        {"lang": "zh", "p4_nx": str(nx), "p4_ny_gain_input": str(ny), "p4_T": "200",
         "p4_seed": "917355"},
    )  # fmt: skip
    text = i18n.text("p4_progress", "zh", rows=ny, cols=nx)
    grid = events[: events.index(("leave", None)) + 1]
    assert grid[0][0] == "queue" and grid[1] == ("bar", text)  # the queue wraps the grid
    reports = [f for kind, f in grid if kind == "report"]
    assert reports == pytest.approx([i / ny for i in range(ny + 1)])  # 0, then each row: 1
    assert shown[0] == (0.0, text)  # the bar shows as the computation starts
    assert not at.get("progress")  # and is gone once the heatmap is drawn
    heat = _datasets(at, 0)
    assert len(_specs(at)) == 2 and any(len(d) == nx * ny for d in heat)


def test_the_remedies_curves_report_progress_per_cell(monkeypatch):
    fractions: list[float] = []
    reporter = progress.reporter

    def recorded_reporter(text: str, i: int = 0, n: int = 1) -> Any:
        report = reporter(text, i, n)
        return lambda f: (fractions.append(f), report(f))

    monkeypatch.setattr(progress, "reporter", recorded_reporter)
    _open("remedies", {"lang": "en", "p3_T": "500", "p3_H": "16", "p3_seed": "917356"})
    n = len(data.REMEDIES)
    assert fractions == pytest.approx([k / n for k in range(n + 1)])


# -- the training lab's bar below its button ------------------------------------------------


def _path(at: AppTest, found: Any) -> list[int]:
    """The delta path (indices from the root) of the first node for which ``found`` is true."""

    def walk(node: Any, path: list[int]) -> list[int] | None:
        for i, child in getattr(node, "children", {}).items():
            if found(child):
                return [*path, i]
            hit = walk(child, [*path, i])
            if hit is not None:
                return hit
        return None

    hit = walk(at._tree, [])
    assert hit is not None
    return hit


def test_the_training_progress_sits_right_below_the_train_button(monkeypatch):
    where: list[list[int]] = []
    st_progress = st.progress

    def recorded_progress(value: float, text: str | None = None, **kwargs: Any) -> Any:
        bar = st_progress(value, text=text, **kwargs)
        where.append(list(bar._cursor.delta_path))
        return bar

    monkeypatch.setattr(st, "progress", recorded_progress)
    at = _open(
        "training",
        {"lang": "en", "p6_T": "10", "p6_H": "8", "p6_steps": "50", "p6_seed": "917357"},
    )  # fmt: skip
    at.multiselect(key="p6_models").set_value(["vanilla"])
    at.button(key="p6_train").click().run()
    assert not at.exception and len(_specs(at)) == 2
    form = _path(at, lambda n: n.type == "form" and n.proto.form.form_id == "p6_form")
    assert len(where) == 1  # one model, one bar: in the box that follows the form
    assert where[0][: len(form)] == [*form[:-1], form[-1] + 1]


# -- open tabs in the URL -------------------------------------------------------------------


def _open_tab(at: AppTest, key: str) -> int:
    """The index of the tab the page opens (what the browser is told to show)."""
    for node in at._tree:
        proto = getattr(node, "proto", None)
        if getattr(node, "type", None) == "tab_container" and proto.id.endswith(key):
            return int(proto.tab_container.default_tab_index)
    raise AssertionError(f"no tabs with key {key}")


@pytest.mark.parametrize(
    "page,key,tabs",
    [("training", "p6_tab", training.TABS), ("your_model", "p5_tab", your_model.TABS)],
)
def test_the_open_tab_is_in_the_url_by_its_id_in_both_languages(page, key, tabs):
    ids = list(tabs)
    last = ids[-1]
    at = _open(page, {"lang": "en"})
    assert at.query_params[key] == ids[0] and _open_tab(at, key) == 0
    at.session_state[key] = i18n.text(tabs[last], "en")  # the user opens the last tab
    at.run()
    assert at.query_params[key] == last and _open_tab(at, key) == len(ids) - 1
    at.query_params["lang"] = "zh"  # another language: other labels, the same tab
    at.run()
    assert at.session_state[key] == i18n.text(tabs[last], "zh")
    assert at.query_params[key] == last and _open_tab(at, key) == len(ids) - 1
    link = {k: v for k, v in at.query_params.items() if isinstance(v, str)}
    again = _open(page, link)  # the link opens that tab
    assert again.session_state[key] == i18n.text(tabs[last], "zh")
    assert _open_tab(again, key) == len(ids) - 1 and again.query_params[key] == last


@pytest.mark.parametrize("junk", ["abc", "", "x" * 5000, "Gradient clipping", "1", "LIVE"])
def test_a_hostile_tab_value_opens_the_first_tab(junk):
    at = _open("training", {"lang": "en", "p6_tab": junk})
    assert _open_tab(at, "p6_tab") == 0
    assert at.session_state["p6_tab"] == i18n.text("p6_tab_live", "en")
    assert at.query_params["p6_tab"] == "live"


def test_the_reference_curves_of_your_model_advance_a_bar_one_curve_at_a_time(monkeypatch):
    from streamlit.elements.progress import ProgressMixin
    from test_dashboard_your_model_layers import _lstm_state, _npz, _upload

    shown: list[tuple[float, str | None]] = []
    st_progress, update = st.progress, ProgressMixin.progress

    def recorded_progress(value: float, text: str | None = None, **kwargs: Any) -> Any:
        shown.append((value, text))
        return st_progress(value, text=text, **kwargs)

    def recorded_update(self: Any, value: float, text: str | None = None, **kwargs: Any) -> Any:
        shown.append((value, text))
        return update(self, value, text=text, **kwargs)

    state = _lstm_state(np.random.default_rng(4), prefix="", layers=1)
    at = _upload("cell.npz", _npz({k.replace("_l0", ""): v for k, v in state.items()}))
    monkeypatch.setattr(st, "progress", recorded_progress)
    monkeypatch.setattr(ProgressMixin, "progress", recorded_update)
    at.multiselect(key="p5_refs").set_value(["vanilla", "gru", "mingru"]).run()
    assert not at.exception, [e.value for e in at.exception]
    tr = i18n.translator("en")
    assert shown == [(k / 3, tr("p5_ref_progress", i=k, n=3)) for k in range(4)]
    assert not at.get("progress")  # gone once the curves are drawn
