"""Links that reproduce a view: every control of every page lives in the URL, in both
languages, and a hostile URL never breaks a page. Also the downloads of the plotted data
and settings, the charts' text descriptions, the y-range clamp and the short metric values
(issue 14, points 8, 9, 12 and 14)."""

from __future__ import annotations

import io
import json
import math
from typing import Any

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest
from test_dashboard import SHIM, VIEWS, _datasets, _specs

from longdep.dashboard import charts, data, export, i18n, uploads
from longdep.dashboard.views import training, your_model

#: Per page: widget key -> (AppTest accessor, a value other than the default). Small
#: sizes keep every run short.
CONTROLS: dict[str, dict[str, tuple[str, Any]]] = {
    "problem": {"p1_n": ("slider", 7)},
    "decay": {
        "p2_kind": ("selectbox", "elman"),
        "p2_nl": ("selectbox", "relu"),
        "p2_init": ("selectbox", "orthogonal"),
        "p2_H": ("select_slider", 16),
        "p2_T": ("select_slider", 1_000),
        "p2_radius_elman": ("slider", 0.8),
        "p2_input": ("slider", 0.3),
        "p2_seed": ("number_input", 3),
        "p2_f64": ("checkbox", True),
        "p2_logx": ("toggle", True),
        "p2_ydec": ("selectbox", 30),
    },
    "remedies": {
        "p3_H": ("select_slider", 16),
        "p3_T": ("select_slider", 500),
        "p3_input": ("slider", 0.25),
        "p3_seed": ("number_input", 2),
        "p3_logx": ("toggle", True),
        "p3_ydec": ("selectbox", 100),
        "p3_gru_chrono": ("toggle", True),
        "p3_c": ("select_slider", 1),
        "p3_far": ("select_slider", 30),
    },
    "landscape": {
        "p4_q": ("radio", "horizon"),
        "p4_nx": ("slider", 6),
        "p4_ny_gain_input": ("slider", 4),
        "p4_T": ("select_slider", 200),
        "p4_H": ("select_slider", 16),
        "p4_seed": ("number_input", 1),
        "p4_k": ("slider", 3),
    },
    "your_model": {"p5_tab": ("tab", "sweep"), "p5_dir": ("text_input", "no-such-folder")},
    "training": {
        "p6_task": ("selectbox", "copy"),
        "p6_T": ("select_slider", 10),
        "p6_H": ("select_slider", 8),
        "p6_steps": ("select_slider", 50),
        "p6_models": ("multiselect", ["vanilla", "gru"]),
        "p6_lr": ("select_slider", 1e-3),
        "p6_opt": ("selectbox", "sgd"),
        "p6_clip_on": ("checkbox", False),
        "p6_c": ("select_slider", 3.0),
        "p6_seed": ("number_input", 4),
        "p6_dir": ("text_input", "train-x"),
        "p6_tab": ("tab", "clip"),
    },
    "hear": {
        "p7_extra": ("slider", 3),
        "p7_seed": ("number_input", 1),
        "p7_model": ("radio", "gru"),
    },
}
#: Values no page writes: wrong types, out of range, not finite, unknown, overlong.
HOSTILE = ("abc", "1e99", "-5", "nan", "", "x" * 5000, "zzz,yyy", "0.5e", "inf")


@pytest.fixture(autouse=True)
def _results_root(tmp_path, monkeypatch):
    """A results root, so that the folder boxes of pages 5 and 6 are shown (and bound)."""
    monkeypatch.setenv(uploads.RESULTS_ENV, str(tmp_path))


def _open(page: str, lang: str | None, params: dict[str, Any] | None = None) -> AppTest:
    """A fresh session opened at ``page`` with the query ``params``."""
    at = AppTest.from_file(str(SHIM), default_timeout=120)
    if lang is not None:
        at.query_params["lang"] = lang
    at.query_params.update(params or {})
    at.run()
    if page != "problem":
        at.switch_page(str(VIEWS / f"{page}.py")).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


#: The i18n keys of the tabs' labels, by the tabs' key and the tab's id in the URL.
TABS = {"p5_tab": your_model.TABS, "p6_tab": training.TABS}


class _Tabs:
    """``st.tabs`` as a control of :data:`CONTROLS`: its value is the open tab's id.
    AppTest cannot click a tab; the user's click sets the tabs' state to a label."""

    def __init__(self, at: AppTest, key: str) -> None:
        self.at, self.key = at, key
        lang = at.session_state["lang"] if "lang" in at.session_state else "en"
        self.labels = {i18n.text(name, lang): tab for tab, name in TABS[key].items()}
        self.ids = {tab: label for label, tab in self.labels.items()}

    @property
    def value(self) -> str:
        return self.labels[self.at.session_state[self.key]]

    def set_value(self, tab: str) -> _Tabs:
        self.at.session_state[self.key] = self.ids[tab]
        return self


def _widget(at: AppTest, kind: str, key: str) -> Any:
    if kind == "tab":
        return _Tabs(at, key)
    return getattr(at, kind)(key=key)


def _submit(at: AppTest, widget: Any) -> None:
    """Click the Compute button of the form that holds ``widget`` (if it is in one)."""
    form = getattr(getattr(widget, "proto", None), "form_id", "")
    if form:
        buttons = [b for b in at.button if b.proto.form_id == form and b.proto.is_form_submitter]
        buttons[0].click()


def _values(at: AppTest, page: str) -> dict[str, Any]:
    return {k: _widget(at, kind, k).value for k, (kind, _) in CONTROLS[page].items()}


def _view(at: AppTest) -> dict[str, Any]:
    """What the page shows: charts (spec and data), metrics, tables, captions, errors."""
    return {
        "specs": _specs(at),
        "data": [[d.to_dict("list") for d in _datasets(at, i)] for i in range(len(_specs(at)))],
        "metrics": [(m.label, m.value) for m in at.metric],
        "tables": [t.value.to_dict("list") for t in at.dataframe],
        "captions": [c.value for c in at.caption],
        "errors": [e.value for e in at.error],
        "title": at.title[0].value,
    }


def _params(at: AppTest) -> dict[str, str]:
    return {k: v if isinstance(v, str) else v[-1] for k, v in at.query_params.items()}


@pytest.mark.parametrize("lang", i18n.LANGS)
@pytest.mark.parametrize("page", list(CONTROLS))
def test_a_link_with_the_query_params_reproduces_the_view_exactly(page, lang):
    at = _open(page, lang)
    defaults = _values(at, page)
    for key, (kind, value) in CONTROLS[page].items():
        # (the cell stays the Elman one, whose controls are the most numerous)
        assert defaults[key] != value or key == "p2_kind", f"{key}: pick a non-default value"
        widget = _widget(at, kind, key).set_value(value)
        if page != "training":  # a form: its values count when Train is pressed
            _submit(at, widget)  # a control of a form counts when its Compute is pressed
            at.run()  # one at a time: a control's range may follow another's value
            assert not at.exception, [e.value for e in at.exception]
    if page == "training":
        at.button(key="p6_train").click().run()
        assert len(_specs(at)) == 2  # the link below must bring the trained curves back
    want = {k: v for k, (_, v) in CONTROLS[page].items()}
    assert _values(at, page) == want
    params = _params(at)
    assert params["lang"] == lang
    assert set(CONTROLS[page]) <= set(params)  # every control is in the URL
    assert params.get("p6_run", "1") == "1"
    assert not [k for k in params if k[:2] in ("p1", "p2", "p3", "p4", "p5", "p6")
                and not k.startswith(f"p{list(CONTROLS).index(page) + 1}_")]  # fmt: skip
    link = at.code[-1].value  # the sidebar's link box shows the same query
    assert link.startswith(f"/{'' if page == 'problem' else page}?lang={lang}&")
    assert all(f"{k}=" in link for k in CONTROLS[page])

    again = _open(page, None, params)
    assert _values(again, page) == want
    assert _params(again) == params
    assert _view(again) == _view(at)


@pytest.mark.parametrize("page", list(CONTROLS))
def test_hostile_query_values_fall_back_to_the_defaults(page):
    defaults = _open(page, "en")
    want = _values(defaults, page)
    for i, junk in enumerate(HOSTILE):
        params = {}
        for j, (key, (kind, _)) in enumerate(CONTROLS[page].items()):
            value = HOSTILE[(i + j) % len(HOSTILE)]
            if kind == "text_input":  # any one-line text is a valid folder name
                value = "a\nb" if (i + j) % 2 else "x" * 5000
            elif kind == "multiselect" and value == "":  # a valid, empty selection
                value = "nope"
            params[key] = value
        at = _open(page, "xx", {**params, "unknown": junk})
        got = _values(at, page)
        assert got == want, (params, got)
        assert at.title[0].value == defaults.title[0].value  # lang=xx: English
        if i >= 2:  # enough: the first runs have seen every kind of junk per key
            break


def test_hostile_query_values_of_every_kind_per_control():
    """One key at a time, every junk value, on the page with the most kinds of control."""
    want = _values(_open("decay", "en"), "decay")
    for key in ("p2_T", "p2_radius_elman", "p2_seed", "p2_f64", "p2_kind", "p2_ydec"):
        for junk in HOSTILE:
            assert _values(_open("decay", "en", {key: junk}), "decay") == want, (key, junk)


def test_numbers_are_snapped_to_the_step_and_out_of_range_ignored():
    at = _open("decay", "en", {"p2_input": "0.333", "p2_radius_elman": "7", "p2_seed": "2.5"})
    assert _widget(at, "slider", "p2_input").value == pytest.approx(0.35)
    assert _widget(at, "slider", "p2_radius_elman").value == 0.9  # the default
    assert _widget(at, "number_input", "p2_seed").value == 0
    at = _open("training", "en", {"p6_models": "gru,nope,gru,vanilla"})
    assert _widget(at, "multiselect", "p6_models").value == ["gru", "vanilla"]
    at = _open("training", "en", {"p6_models": ""})  # an empty selection is a selection
    assert _widget(at, "multiselect", "p6_models").value == []


def test_switching_pages_keeps_only_the_language_and_the_new_pages_controls():
    at = _open("decay", "zh", {"p2_T": "1000"})
    assert _params(at)["p2_T"] == "1000"
    at.switch_page(str(VIEWS / "remedies.py")).run()
    params = _params(at)
    assert params["lang"] == "zh" and not [k for k in params if k.startswith("p2_")]
    assert "p3_T" in params


# -- downloads, descriptions ---------------------------------------------------------------


def test_decay_page_downloads_the_plotted_curves_and_the_settings(monkeypatch):
    files: dict[str, bytes] = {}
    csv_bytes, settings_json = export.csv_bytes, export.settings_json

    def keep(name: str, make: Any) -> Any:
        def wrapper(*args: Any) -> bytes:
            files[name] = make(*args)  # the last call: the page opened last
            return files[name]

        return wrapper

    monkeypatch.setattr(export, "csv_bytes", keep("csv", csv_bytes))
    monkeypatch.setattr(export, "settings_json", keep("json", settings_json))
    at = _open("decay", "zh", {"p2_T": "1000", "p2_H": "16", "p2_seed": "3"})
    assert len(at.get("download_button")) == 4  # CSV, JSON, PNG, SVG
    frame = pd.read_csv(io.BytesIO(files["csv"]), encoding="utf-8-sig")
    plotted = pd.concat([d for d in _datasets(at) if "distance" in d.columns])
    assert {"name", "distance", "log_norm", "log10", "kind"} <= set(frame.columns)
    assert len(frame) == len(plotted) and frame["distance"].max() == 999
    assert frame["log10"].to_numpy() == pytest.approx(plotted["log10"].to_numpy())
    doc = json.loads(files["json"])
    assert doc["page"] == "decay" and doc["lang"] == "zh"
    s = doc["settings"]
    assert (s["kind"], s["H"], s["T"], s["seed"], s["log_x"]) == ("elman", 16, 1000, 3, False)
    assert s["radius"] == 0.9 and s["y_decades"] is None


def test_remedies_and_training_downloads_carry_every_curve(monkeypatch):
    frames: list[pd.DataFrame] = []
    monkeypatch.setattr(export, "csv_bytes", lambda f: frames.append(f) or b"")
    at = _open("remedies", "en", {"p3_T": "500", "p3_H": "16"})
    assert not at.exception
    assert set(frames[-1]["name"]) == set(_datasets(at)[0]["name"])
    assert {"distance", "log10", "decay_rate", "memory_horizon"} <= set(frames[-1].columns)
    at = _open("training", "en", {"p6_T": "10", "p6_H": "8", "p6_steps": "50"})
    at.multiselect(key="p6_models").set_value(["vanilla"])
    at.button(key="p6_train").click().run()
    assert not at.exception
    assert {"step", "loss", "grad_norm", "name"} <= set(frames[-1].columns)
    loss, grad = (spec["description"] for spec in _specs(at))
    final = float(frames[-1]["loss"].iloc[-1])
    assert loss == i18n.text(
        "desc_training", "en", what=i18n.text("p6_axis_loss", "en"), n=1, steps=50,
        finals=f"{i18n.text('p6_model_vanilla', 'en')} {final:.3g}",
    )  # fmt: skip
    assert grad.startswith("Line chart, " + i18n.text("p6_axis_grad", "en"))


def test_chart_as_svg_and_png_with_vl_convert():
    vlc = pytest.importorskip("vl_convert")
    curve = pd.DataFrame(
        {"name": "a", "distance": range(20), "log_norm": -0.1 * pd.Series(range(20))}
    )
    chart = charts.decay_chart(curve, x_title="steps", y_title="norm").properties(
        description="a decaying curve"
    )
    svg = export.svg_or_png(chart, "svg").decode()
    assert svg.lstrip().startswith("<svg") and "<path" in svg
    # Vega gives the view's root the description as its accessible name (aria-label).
    assert vlc.vegalite_to_vega(chart.to_dict())["description"] == "a decaying curve"
    assert export.svg_or_png(chart, "png")[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("lang", i18n.LANGS)
@pytest.mark.parametrize("page", ["problem", "decay", "remedies", "landscape"])
def test_every_chart_carries_a_text_description(page, lang):
    params = {"problem": {}, "decay": {"p2_T": "1000"}, "remedies": {"p3_T": "500"},
              "landscape": {"p4_nx": "6", "p4_ny_gain_input": "3", "p4_T": "200"}}[page]  # fmt: skip
    at = _open(page, lang, params)
    specs = _specs(at)
    assert specs
    for spec in specs:
        text = spec.get("description", "")
        assert len(text) > 40 and "Vega" not in text
        assert (lang == "zh") == any("\u4e00" <= c <= "\u9fff" for c in text)


def test_decay_description_states_the_rate_in_decades_and_the_horizon():
    tr = i18n.translator("en")
    at = _open("decay", "en", {"p2_T": "1000", "p2_H": "16"})
    m = data.decay("elman", "tanh", "normal", 16, 1000, 0.9, 0.1, 0, False)["metrics"]
    (spec,) = _specs(at)
    rate = f"{m['decay_rate'] / math.log(10):+.3g}"
    assert f"{rate} decades per step" in spec["description"]
    assert tr("m_horizon_value", v=m["memory_horizon"]) in spec["description"]
    assert spec["description"] in [c.value for c in at.caption]  # also readable on the page


# -- y-range clamp, short metric values ----------------------------------------------------


@pytest.mark.parametrize("page,key", [("decay", "p2_ydec"), ("remedies", "p3_ydec")])
def test_y_range_control_clamps_the_curves_to_the_top_decades(page, key):
    small = {"decay": {"p2_T": "1000"}, "remedies": {"p3_T": "500"}}[page]
    at = _open(page, "en", {**small, key: "10"})
    spec = _specs(at)[0]
    curves = pd.concat([d for d in _datasets(at) if "distance" in d.columns])
    top = math.ceil(curves["log10"].max() + 1e-9)
    scales = [u["encoding"]["y"].get("scale", {}) for u in spec["layer"] if "y" in u["encoding"]]
    assert {"domain": [top - 10, top], "nice": False, "zero": False} in scales
    at = _open(page, "en", small)  # default: every decade
    assert all("domain" not in u["encoding"]["y"].get("scale", {}) for u in _specs(at)[0]["layer"])


def test_y_range_scale_is_whole_decades_below_the_highest_point():
    df = pd.DataFrame({"log10": [2.3, -5000.0]})
    assert charts.y_range_scale(df, 30).to_dict()["domain"] == [-27.0, 3]
    assert "domain" not in charts.y_range_scale(df, None).to_dict()


@pytest.mark.parametrize("lang", i18n.LANGS)
def test_metric_values_are_short_and_the_unit_is_in_the_label(lang):
    tr = i18n.translator(lang)
    at = _open("decay", lang, {"p2_T": "1000"})
    metrics = dict((m.label, m.value) for m in at.metric)
    horizon = metrics[tr("m_horizon_steps")]
    assert len(horizon) <= 8 and horizon.replace(",", "").replace("> ", "").isdigit()
    at = _open("decay", lang, {"p2_T": "1000", "p2_radius_elman": "2.0"})  # exploding
    metrics = dict((m.label, m.value) for m in at.metric)
    assert metrics[tr("m_horizon_steps")] == tr("m_hz_none")
    assert any(c.value.startswith(tr("m_hz_grows", n=1).split("1")[0]) for c in at.caption)
    assert all(len(v) <= 12 for v in metrics.values())
