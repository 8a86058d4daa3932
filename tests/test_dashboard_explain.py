"""Charts and numbers that explain themselves (issue 14, items 5-7), through AppTest and
the chart specs: the GRU's fast decay at its default init with the numbers of the run and a
chrono switch, horizons that say what they mean (no "∞" for an exploding gradient), rate
units next to log10 axes, round log ticks, one tick format per axis, LaTeX math."""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest
from test_dashboard import _datasets, _encodings, _run_page, _specs

import longdep as ld
from longdep.dashboard import charts, data, i18n

#: The remedies page's defaults (views/remedies.py).
H, T, INPUT_SCALE, SEED = 64, 2_000, 0.5, 0


def _library_metrics(cell: object, T: int = T, seed: int = SEED) -> dict:
    """decay_rate, memory_horizon, regime of one cell, straight from the library."""
    df = ld.compare({"c": cell}, data.inputs(T, seed), n_points=data.N_POINTS)
    return ld.analysis.compare_metrics(df).iloc[0].to_dict()


def _gru_gate_numpy(cell: ld.GRU, x: np.ndarray) -> tuple[float, float]:
    """Mean z_t and mean ln z_t of torch's GRU, a plain NumPy loop:
    r, z = sigma(W_i x + b_i + W_h h + b_h) (rows [0:H], [H:2H]), n = tanh(W_in x + b_in +
    r * (W_hn h + b_hn)), h' = (1 - z) n + z h."""
    Hs = cell.hidden_size
    wi, wh = np.asarray(cell.weight_ih), np.asarray(cell.weight_hh)
    bi, bh = np.asarray(cell.bias_ih), np.asarray(cell.bias_hh)
    h = np.zeros(Hs)
    zs = []
    for xt in x:
        gi, gh = wi @ xt + bi, wh @ h + bh
        r = 1 / (1 + np.exp(-(gi[:Hs] + gh[:Hs])))
        z = 1 / (1 + np.exp(-(gi[Hs : 2 * Hs] + gh[Hs : 2 * Hs])))
        n = np.tanh(gi[2 * Hs :] + r * gh[2 * Hs :])
        h = (1 - z) * n + z * h
        zs.append(z)
    zs_arr = np.asarray(zs)
    return float(zs_arr.mean()), float(np.log(zs_arr).mean())


def _horizon(tr: i18n.Translator, m: dict, T: int = T) -> str:
    """The horizon text the page must show for library metrics ``m`` (the rule of issue 14:
    steps; "> T steps" when never below the threshold; the growth when exploding)."""
    h, rate = m["memory_horizon"], m["decay_rate"]
    if math.isfinite(h):
        return tr("m_horizon_value", v=h)
    if m["regime"] == "exploding":
        return tr("m_horizon_grows", n=math.log(10) / rate)
    return tr("m_horizon_beyond", T=T)


def _horizon_short(tr: i18n.Translator, m: dict, T: int = T) -> str:
    """The horizon metric's value (its label says "steps"; an exploding gradient's growth
    is in a caption below it)."""
    if math.isfinite(m["memory_horizon"]):
        return tr("m_hz_value", v=m["memory_horizon"])
    return tr("m_hz_none") if m["regime"] == "exploding" else tr("m_hz_beyond", T=T)


def _markdowns(at: AppTest) -> list[str]:
    return [el.value for el in at.markdown]


def _metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


# -- item 5: the GRU at its default init, and the chrono switch ---------------------------


@pytest.mark.parametrize("lang", i18n.LANGS)
def test_gru_explanation_shows_the_computed_gate_and_decay_in_both_languages(lang):
    tr = i18n.translator(lang)
    at = _run_page("remedies", lang)
    assert not at.exception
    x = data.inputs(T, SEED)
    gru_cell = ld.init.gru(H, input_scale=INPUT_SCALE, seed=SEED)
    z, ln_z = _gru_gate_numpy(gru_cell, x)
    gru = _library_metrics(gru_cell)
    van = _library_metrics(ld.init.elman(H, input_scale=INPUT_SCALE, seed=SEED))
    # the claims of the text hold for these numbers
    assert abs(z - 0.5) < 0.02  # the gate starts near 1/2 and stays there untrained
    assert gru["decay_rate"] < van["decay_rate"] < 0  # the GRU decays fastest
    assert gru["memory_horizon"] < van["memory_horizon"]
    expected = tr(
        "p3_gru_text", z=z, z0=0.5, lnz=ln_z, rate=f"{gru['decay_rate']:+.3g}",
        horizon=_horizon(tr, gru), vrate=f"{van['decay_rate']:+.3g}",
        vhorizon=_horizon(tr, van), T=T,
    )  # fmt: skip
    assert expected in _markdowns(at)
    assert f"{gru['decay_rate']:+.3g}" in expected and f"{z:.3f}" in expected
    assert _metric(at, tr("p3_gru_z")) == f"{z:.3f}"
    assert _metric(at, tr("m_horizon_steps")) == _horizon_short(tr, gru)
    header = [s.value for s in at.subheader]
    assert tr("p3_gru_header") in header


@pytest.mark.parametrize("lang", i18n.LANGS)
def test_chrono_switch_shows_the_library_rate_and_horizon_of_the_chrono_gru(lang):
    tr = i18n.translator(lang)
    at = _run_page("remedies", lang)
    before = _metric(at, tr("m_rate"))
    at.toggle(key="p3_gru_chrono").set_value(True).run()
    assert not at.exception
    cell = ld.init.gru(H, chrono=T, input_scale=INPUT_SCALE, seed=SEED)
    want = _library_metrics(cell)
    z, ln_z = _gru_gate_numpy(cell, data.inputs(T, SEED))
    assert z > 0.9  # chrono init moves the gate towards "keep"
    assert _metric(at, tr("m_rate")) == tr("m_rate_value", v=want["decay_rate"]) != before
    assert _metric(at, tr("m_horizon_steps")) == _horizon_short(tr, want)
    assert _metric(at, tr("p3_gru_z")) == f"{z:.3f}"
    # the table and the chart follow the switch
    table = at.dataframe[0].value
    row = table[table[tr("col_cell")] == tr("rem_gru_chrono")].iloc[0]
    assert row[tr("col_rate")] == f"{want['decay_rate']:+.3g}"
    assert row[tr("col_horizon")] == _horizon(tr, want)
    assert tr("rem_gru_chrono") in set(_datasets(at)[0]["name"])
    text = next(t for t in _markdowns(at) if "b_z" in t and "**" in t)
    assert f"**{want['decay_rate']:+.3g}**" in text and f"{ln_z:.4f}" in text
    # the cached computation agrees with the library called directly
    res = data.remedies(H, T, INPUT_SCALE, SEED, True)
    got = res["metrics"].set_index("name").loc["gru"]
    assert got["decay_rate"] == pytest.approx(want["decay_rate"], rel=1e-12)


# -- item 6: what a horizon text means ----------------------------------------------------


@pytest.mark.parametrize("lang", i18n.LANGS)
def test_an_exploding_case_shows_its_growth_rate_and_no_infinity(lang):
    tr = i18n.translator(lang)
    at = _run_page("remedies", lang)
    table = at.dataframe[0].value
    exploding = table[table[tr("col_regime")] == tr("regime_exploding")]
    assert len(exploding), "the default remedies include an exploding case (+ residual)"
    residual = _library_metrics(ld.init.elman(H, residual=0.5, input_scale=INPUT_SCALE, seed=SEED))
    assert residual["regime"] == "exploding" and residual["memory_horizon"] == math.inf
    row = table[table[tr("col_cell")] == tr("rem_residual")].iloc[0]
    assert row[tr("col_horizon")] == tr("m_horizon_grows", n=math.log(10) / residual["decay_rate"])
    shown = [*table.astype(str).to_numpy().ravel(), *_markdowns(at)]
    shown += [c.value for c in at.caption] + [m.value for m in at.metric]
    assert not [s for s in shown if "∞" in s]
    captions = [c.value for c in at.caption]
    assert tr("m_horizon_grows_note") in captions
    assert tr("m_horizon_beyond_note", T=T) in captions  # "> T steps" is explained too


def test_decay_page_exploding_gradient_reports_growth_not_a_horizon():
    tr = i18n.translator("en")
    at = _run_page("decay", "en")
    at.slider(key="p2_radius_elman").set_value(2.0)
    at.button(key="p2_form_go").click().run()  # the form's values count on Compute
    assert not at.exception
    want = data.decay("elman", "tanh", "normal", 64, 10_000, 2.0, 0.1, 0, False)["metrics"]
    cell = ld.init.elman(64, rho=2.0, input_scale=0.1, seed=0)
    lib = _library_metrics(cell, T=10_000)
    assert lib["regime"] == want["regime"] == "exploding"
    horizon = _metric(at, tr("m_horizon_steps"))
    assert "∞" not in horizon
    assert horizon == tr("m_hz_none")
    growth = tr("m_hz_grows", n=math.log(10) / lib["decay_rate"])
    assert growth in [c.value for c in at.caption]
    assert tr("m_horizon_grows_note") in [c.value for c in at.caption]


# -- item 7: units, ticks, math -----------------------------------------------------------


@pytest.mark.parametrize("lang", i18n.LANGS)
def test_axis_titles_name_their_units(lang):
    tr = i18n.translator(lang)
    nats, steps, per_step = (
        ("nats", "steps", "nats/step") if lang == "en" else ("奈特", "步", "奈特/步")
    )
    grad = tr("axis_grad")
    assert "log₁₀" in grad and nats in grad  # the axis unit and how it converts to nats
    for page in ("decay", "remedies"):
        spec = _specs(_run_page(page, lang))[0]
        y = next(e for e in _encodings(spec, "y") if e.get("field") == "log10")
        assert y["axis"]["title"] == grad
        assert steps in _encodings(spec, "x")[0]["title"]
    heat, lyap = _specs(_run_page("landscape", lang))
    colour = _encodings(heat, "color")[0]["title"]
    assert per_step in colour
    assert per_step in _encodings(lyap, "y")[0]["title"]
    assert tr("col_rate10") != tr("col_rate")  # the table gives both units


@pytest.mark.parametrize("page", ["decay", "remedies"])
def test_log_distance_axis_ticks_are_powers_of_ten(page):
    at = _run_page(page, "en")
    at.toggle(key="p2_logx" if page == "decay" else "p3_logx").set_value(True).run()
    assert not at.exception
    x = _encodings(_specs(at)[0], "x")[0]
    assert x["scale"]["type"] == "log"
    ticks = x["axis"]["values"]
    hi = x["scale"]["domain"][1]
    assert ticks == [10.0**k for k in range(len(ticks))]  # 1, 10, 100, …
    assert ticks[-1] <= hi < 10 * ticks[-1]  # every decade inside the data, none beyond


@pytest.mark.parametrize(
    ("hi", "ticks"),
    [(1, [1.0]), (9, [1.0]), (10, [1.0, 10.0]), (1999, [1.0, 10.0, 100.0, 1000.0]),
     (999_999, [10.0**k for k in range(6)]), (1_000_000, [10.0**k for k in range(7)])],
)  # fmt: skip
def test_decade_ticks_are_the_powers_of_ten_inside_the_range(hi, ticks):
    assert charts.decade_ticks(1, hi) == ticks


def test_tick_labels_use_one_format_per_axis():
    # gradient axes: every tick "1eK", also at 10^0 (no lone "1" among "1e-5")
    assert "?" not in charts.LOG10_LABEL_EXPR and "'1e'" in charts.LOG10_LABEL_EXPR
    # the landscape's horizon legend: whole decades labelled like the gradient axes
    at = _run_page("landscape", "en")
    at.radio(key="p4_q").set_value("horizon").run()
    assert not at.exception
    legend = _encodings(_specs(at)[0], "color")[0]["legend"]
    assert legend["labelExpr"] == charts.LOG10_LABEL_EXPR
    assert all(float(v).is_integer() for v in legend["values"])
    # a fraction axis is all percentages, or all powers of ten when it goes below 1e-6
    for low, expr in ((1e-4, charts.PERCENT_LABEL_EXPR), (1e-12, charts.POW10_LABEL_EXPR)):
        df = pd.DataFrame({"person": [1, 2], "model": "a", "fraction": [1.0, low]})
        spec = charts.telephone_chart(df, x_title="p", y_title="f").to_dict()
        assert _encodings(spec, "y")[0]["axis"]["labelExpr"] == expr


def test_landscape_radius_mode_ticks_h_at_powers_of_two():
    at = _run_page("landscape", "en")
    at.radio(key="p4_mode").set_value("radius_H").run()
    y = _encodings(_specs(at)[0], "y")[0]
    assert y["axis"]["values"] == [8.0, 16.0, 32.0, 64.0, 128.0, 256.0]


def test_exploding_landscape_cells_have_no_horizon():
    at = _run_page("landscape", "en")
    at.radio(key="p4_q").set_value("horizon").run()
    cells = max(_datasets(at, 0), key=len)
    res = data.landscape("gain_input", 30, 10, 1000, 64, 0.0, 0)
    exploding = int(np.sum(res["rate"] > 1e-3))
    assert exploding > 0
    assert len(cells) == res["rate"].size - exploding  # blank, not a horizon of T


_UNICODE_MATH = re.compile(r"[a-zA-Z]_\{|[a-zA-Z]_[a-z]\b|[⊙σλφ]")


@pytest.mark.parametrize("lang", i18n.LANGS)
def test_remedy_explanations_are_on_view_with_latex_math(lang):
    tr = i18n.translator(lang)
    at = _run_page("remedies", lang)
    assert not at.expander  # nothing to open one by one
    texts = _markdowns(at)
    for name in data.REMEDIES:
        how = tr(f"rem_{name}_how")
        assert any(how in t for t in texts), name
        if name != "attention":
            assert re.search(r"\$[^$]+\$", how), name  # inline math in $…$ (KaTeX)
        outside = re.sub(r"\$[^$]*\$", "", how)
        assert not _UNICODE_MATH.search(outside), (name, outside)
    for key in ("p3_clip_text", "p3_gru_text"):
        outside = re.sub(r"\$[^$]*\$", "", i18n.STRINGS[key][lang])
        assert not _UNICODE_MATH.search(outside), key
