"""Page 2 — decay curves: ‖∂L/∂h_t‖ against distance for one configurable cell."""

from __future__ import annotations

import math

import pandas as pd
import streamlit as st

from longdep.dashboard import budget, charts, data, export, i18n, scenes, urlstate
from longdep.dashboard.progress import compute_form
from longdep.dashboard.views import remedies

H_CHOICES = (8, 16, 32, 64, 128, 256, 512)
#: Slider range, step and default of the "radius" control per cell kind.
RADIUS = {
    "elman": ("ctl_radius_elman", 0.1, 2.0, 0.01, 0.9),
    "lstm": ("ctl_radius_gate", 0.1, 4.0, 0.05, 1.0),
    "gru": ("ctl_radius_gate", 0.1, 4.0, 0.05, 1.0),
    "lru": ("ctl_radius_lru", 0.5, 0.9999, 0.0001, 0.99),
}


def confirmed(tr: i18n.Translator, opts: dict) -> bool:
    """True unless the settings are over the server's budget (refused, saying why) or
    heavy and not yet confirmed (see ``budget.allowed``)."""
    return budget.allowed(tr, budget.decay_cost(opts), "p2", opts, "budget_lower_decay")


def format_steps(t: int) -> str:
    """10000 -> '10,000'; powers of ten also as 10^k."""
    k = math.log10(t)
    return f"{t:,} (10^{int(k)})" if k.is_integer() else f"{t:,}"


def metric_row(tr: i18n.Translator, metrics: dict, seconds: float, T: int | None = None) -> None:
    """Rate, horizon, regime and time; below them the rate in the chart's log10 units and,
    when the horizon is not a number of steps, what its text means."""
    rate, horizon, regime = metrics["decay_rate"], metrics["memory_horizon"], metrics["regime"]
    cols = st.columns(4)
    cols[0].metric(tr("m_rate"), tr("m_rate_value", v=rate), help=tr("m_rate_help"))
    horizon_text = remedies.horizon_text(tr, horizon, regime, rate, T, short=True)
    cols[1].metric(tr("m_horizon_steps"), horizon_text, help=tr("m_horizon_help"))
    growth = remedies.growth_caption(tr, horizon, regime, rate)
    if growth:
        cols[1].caption(growth)
    cols[2].metric(tr("m_regime"), tr(f"regime_{regime}"), help=tr("m_regime_help"))
    cols[3].metric(tr("m_time"), tr("seconds", s=seconds))
    st.caption(tr("p2_units", r=rate, d=rate / math.log(10)))
    frame = pd.DataFrame([{"memory_horizon": horizon, "regime": regime, "decay_rate": rate}])
    for note in remedies.horizon_notes(tr, frame, T):
        st.caption(note)


def controls(tr: i18n.Translator) -> dict:
    """The cell kind (live: it decides which controls follow), the form of the settings
    that are computed on Compute, then the chart's own controls (live: drawing only)."""
    kind = st.selectbox(
        tr("ctl_cell"), data.CELL_KINDS, format_func=lambda k: tr(f"cell_{k}"), key="p2_kind",
        index=urlstate.index("p2_kind", data.CELL_KINDS),
    )  # fmt: skip
    elman = kind == "elman"
    with compute_form(tr, "p2_form"):
        nonlinearity = st.selectbox(
            tr("ctl_nonlinearity"),
            ("tanh", "relu", "linear"),
            format_func=lambda k: tr(f"nl_{k}"),
            index=urlstate.index("p2_nl", ("tanh", "relu", "linear")),
            key="p2_nl",
            disabled=not elman,
        )
        init = st.selectbox(
            tr("ctl_init"),
            ("normal", "orthogonal", "identity"),
            format_func=lambda k: tr(f"init_{k}"),
            index=urlstate.index("p2_init", ("normal", "orthogonal", "identity")),
            key="p2_init",
            disabled=not elman,
        )
        H = st.select_slider(
            tr("ctl_H"), H_CHOICES, value=urlstate.choice("p2_H", H_CHOICES, 64), key="p2_H"
        )
        T = st.select_slider(
            tr("ctl_T"), data.T_CHOICES, value=urlstate.choice("p2_T", data.T_CHOICES, 10_000),
            format_func=format_steps, key="p2_T",
        )  # fmt: skip
        radius = 1.0
        if kind in RADIUS:  # the 2023–2025 kinds run with their papers' initialisation
            label, lo, hi, step, default = RADIUS[kind]
            key = f"p2_radius_{kind}"
            radius = st.slider(
                tr(label), lo, hi, urlstate.number(key, lo, hi, default, step), step, key=key
            )
        else:
            st.caption(tr("p2_paper_init"))
        input_scale = st.slider(
            tr("ctl_input_scale"), 0.0, 3.0, urlstate.number("p2_input", 0.0, 3.0, 0.1, 0.05),
            0.05, key="p2_input", disabled=kind == "lru",
        )  # fmt: skip
        seed = st.number_input(
            tr("ctl_seed"), 0, 1_000_000, urlstate.number("p2_seed", 0, 1_000_000, 0),
            key="p2_seed",
        )  # fmt: skip
        float64 = st.checkbox(tr("ctl_float64"), urlstate.flag("p2_f64", False), key="p2_f64")
    log_x = st.toggle(tr("ctl_log_x"), urlstate.flag("p2_logx", False), key="p2_logx")
    y_decades = remedies.y_range_control(tr, "p2_ydec")
    return {
        "kind": kind,
        "nonlinearity": nonlinearity if elman else "tanh",
        "init": init if elman else "normal",
        "H": int(H),
        "T": int(T),
        "radius": float(radius),
        "input_scale": float(input_scale),
        "seed": int(seed),
        "float64": bool(float64),
        "log_x": bool(log_x),
        "y_decades": y_decades,
    }


def render() -> None:
    tr = i18n.translator()
    st.title(tr("p2_title"))
    scenes.banner(tr, "decay")
    st.markdown(tr("p2_intro"))
    left, right = st.columns([1, 3], gap="large")
    with left, st.container(border=True):
        opts = controls(tr)
    log_x = opts.pop("log_x")
    y_decades = opts.pop("y_decades")
    with right:
        if not confirmed(tr, opts):
            return
        with budget.queued(tr, budget.decay_cost(opts)), st.spinner(tr("computing")):
            res = data.decay(**opts)
        if res["error"]:
            st.warning(tr("p2_overflow", msg=res["error"]), icon=":material/warning:")
            return
        curve = res["curve"].assign(name=tr("p2_measured"))
        theory = res["theory"]
        if theory is not None:
            key = {
                ("exact", "elman"): "p2_theory_exact_linear",
                ("linearised", "elman"): "p2_theory_linearised",
                ("exact", "lru"): "p2_theory_lru",
            }[(res["theory_kind"], opts["kind"])]
            theory = theory.assign(name=tr(key))
        chart = charts.decay_chart(
            curve,
            theory=theory,
            x_title=tr("axis_distance"),
            y_title=tr("axis_grad"),
            threshold_log10=math.log10(data.HORIZON_THRESHOLD),
            threshold_label=tr("threshold"),
            log_x=log_x,
            y_decades=y_decades,
        )
        m = res["metrics"]
        horizon = remedies.horizon_text(
            tr, m["memory_horizon"], m["regime"], m["decay_rate"], opts["T"]
        )
        frames = [curve.assign(kind="measured")]
        if theory is not None:
            frames.append(theory.assign(kind="theory"))
        export.show_chart(
            chart,
            description=tr(
                "desc_decay", T=opts["T"], name=tr(f"cell_{opts['kind']}"),
                rate=m["decay_rate"] / math.log(10), horizon=horizon,
            ),
            name=f"decay-{opts['kind']}",
            frame=charts.with_log10(pd.concat(frames, ignore_index=True)),
            settings={**opts, "log_x": log_x, "y_decades": y_decades},
            page="decay",
        )  # fmt: skip
        metric_row(tr, res["metrics"], res["seconds"], opts["T"])
        st.caption(tr("p2_caption") if theory is not None else tr("p2_no_theory"))
        if opts["T"] >= 200_000:
            st.caption(tr("p2_slow"))


if __name__ == "__main__":
    render()
