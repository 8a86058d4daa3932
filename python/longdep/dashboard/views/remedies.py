"""Page 3 — remedies: every fix on the same task, one layered chart, and gradient clipping."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
import streamlit as st

from longdep.dashboard import budget, charts, data, export, i18n, scenes, urlstate
from longdep.dashboard.charts import sci_from_log10
from longdep.dashboard.progress import compute_form, reporter


def horizon_text(
    tr: i18n.Translator,
    h: float,
    regime: str,
    rate: float,
    T: int | None = None,
    *,
    short: bool = False,
) -> str:
    """A memory horizon in words: the steps; "> T steps" when the curve never falls below
    the threshold within T (the number when ``T`` is given); for an exploding gradient,
    which has no horizon, its growth instead. ``short``: the number alone ("1,217",
    "> 10,000", "none"), for a metric labelled "Horizon (steps)" whose growth, when
    exploding, :func:`growth_caption` gives below it."""
    if math.isfinite(h):
        return tr("m_hz_value" if short else "m_horizon_value", v=h)
    if regime == "exploding" and rate > 0:
        return tr("m_hz_none") if short else tr("m_horizon_grows", n=math.log(10.0) / rate)
    if T is None:
        return tr("m_hz_inf" if short else "m_horizon_inf")
    return tr("m_hz_beyond" if short else "m_horizon_beyond", T=T)


def growth_caption(tr: i18n.Translator, h: float, regime: str, rate: float) -> str | None:
    """Below a short horizon metric of an exploding gradient: how fast it grows."""
    if math.isfinite(h) or regime != "exploding" or rate <= 0:
        return None
    return tr("m_hz_grows", n=math.log(10.0) / rate)


def horizon_notes(tr: i18n.Translator, metrics: pd.DataFrame, T: int | None) -> list[str]:
    """What the special horizon texts in ``metrics`` mean (empty if none appears)."""
    never = ~metrics["memory_horizon"].map(math.isfinite)
    exploding = never & (metrics["regime"] == "exploding") & (metrics["decay_rate"] > 0)
    notes = []
    if T is not None and bool((never & ~exploding).any()):
        notes.append(tr("m_horizon_beyond_note", T=T))
    if bool(exploding.any()):
        notes.append(tr("m_horizon_grows_note"))
    return notes


#: Choices of the y-range control: all decades (0), or the top N below the highest point.
Y_DECADES = (0, 10, 30, 100, 300, 1000)


def y_range_control(tr: i18n.Translator, key: str, box: Any = st) -> float | None:
    """The "range of the y axis" select of a chart of curves; ``None``: all decades."""
    n = box.selectbox(
        tr("ctl_y_decades"), Y_DECADES, index=urlstate.index(key, Y_DECADES),
        format_func=lambda n: tr("y_top", n=n) if n else tr("y_all"),
        help=tr("ctl_y_decades_help"), key=key,
    )  # fmt: skip
    return float(n) if n else None


def _group(name: str) -> str:
    return "modern" if name in data.MODERN_REMEDIES else "classic"


def _label(tr: i18n.Translator, name: str, gru_chrono: bool) -> str:
    return tr("rem_gru_chrono") if name == "gru" and gru_chrono else tr(f"rem_{name}")


def metrics_table(
    tr: i18n.Translator, metrics: pd.DataFrame, T: int, *, gru_chrono: bool = False
) -> pd.DataFrame:
    rows = metrics.itertuples(index=False)
    return pd.DataFrame(
        {
            tr("col_group"): [tr(f"group_{_group(n)}") for n in metrics["name"]],
            tr("col_cell"): [_label(tr, n, gru_chrono) for n in metrics["name"]],
            tr("col_rate"): metrics["decay_rate"].map(lambda r: f"{r:+.3g}"),
            tr("col_rate10"): metrics["decay_rate"].map(lambda r: f"{r / math.log(10):+.3g}"),
            tr("col_horizon"): [
                horizon_text(tr, r.memory_horizon, r.regime, r.decay_rate, T) for r in rows
            ],
            tr("col_regime"): [tr(f"regime_{r}") for r in metrics["regime"]],
        }
    )


def _row(metrics: pd.DataFrame, name: str) -> Any:
    rows = metrics[metrics["name"] == name]
    return rows.iloc[0] if len(rows) else None


def gru_section(
    tr: i18n.Translator, metrics: pd.DataFrame, gate: dict[str, float], T: int, chrono: bool
) -> None:
    """Why the GRU decays fastest at its default init, with the numbers of this run."""
    gru, van = _row(metrics, "gru"), _row(metrics, "vanilla")
    if gru is None or van is None:
        return

    def horizon(row: Any, short: bool = False) -> str:
        return horizon_text(
            tr, row["memory_horizon"], row["regime"], row["decay_rate"], T, short=short
        )

    st.markdown(
        tr(
            "p3_gru_text_chrono" if chrono else "p3_gru_text",
            z=gate["z_mean"],
            z0=gate["z_start"],
            lnz=gate["ln_z"],
            rate=f"{gru['decay_rate']:+.3g}",
            horizon=horizon(gru),
            vrate=f"{van['decay_rate']:+.3g}",
            vhorizon=horizon(van),
            T=T,
        )
    )
    a, b, c = st.columns(3)
    a.metric(tr("p3_gru_z"), f"{gate['z_mean']:.3f}")
    b.metric(tr("m_rate"), tr("m_rate_value", v=float(gru["decay_rate"])), help=tr("m_rate_help"))
    c.metric(tr("m_horizon_steps"), horizon(gru, short=True), help=tr("m_horizon_help"))
    growth = growth_caption(tr, gru["memory_horizon"], gru["regime"], gru["decay_rate"])
    if growth:
        c.caption(growth)


def clipping_section(tr: i18n.Translator, H: int, T: int, seed: int) -> None:
    st.subheader(tr("p3_clip_header"))
    st.markdown(tr("p3_clip_text", H=H, T=f"{T:,}"))
    with compute_form(tr, "p3_clip_form", width="content"):
        a, b = st.columns(2)
        c_exp = a.select_slider(
            tr("p3_clip_c"),
            options=list(range(-3, 4)),
            value=urlstate.choice("p3_c", list(range(-3, 4)), 0),
            format_func=lambda e: f"1e{e:+d}" if e else "1",
            key="p3_c",
        )
        far_choices = [k for k in (10, 30, 100, 300, 1000, 3000, 10000) if k < T]
        far = b.select_slider(
            tr("p3_clip_far"), far_choices,
            value=urlstate.choice("p3_far", far_choices, min(100, far_choices[-1])),
            key="p3_far",
        )  # fmt: skip
    with budget.queued(tr, budget.estimate("elman", H, T, calls=2)):
        df = data.clipping(H, T, seed, float(c_exp), int(far))
    table = pd.DataFrame(
        {
            tr("clip_col_case"): [tr(f"clip_{c}") for c in df["case"]],
            tr("clip_col_total"): df["total"].map(sci_from_log10),
            tr("clip_col_scale"): df["scale"].map(sci_from_log10),
            tr("clip_col_total_after"): df["total_after"].map(sci_from_log10),
            tr("clip_col_recent"): df["recent_after"].map(sci_from_log10),
            tr("clip_col_far", k=far): df["far_after"].map(sci_from_log10),
            tr("clip_col_ratio"): df["ratio"].map(sci_from_log10),
            tr("clip_col_ratio_after"): df["ratio_after"].map(sci_from_log10),
        }
    )
    # One row per quantity, one column per case, in a static table that wraps its text:
    # every column stays in view on any screen, where eight pushed the last one out.
    st.table(table.set_index(tr("clip_col_case")).T.rename_axis(tr("clip_col_what")))
    van = df[df["case"] == "vanishing"].iloc[0]
    exp = df[df["case"] == "exploding"].iloc[0]
    st.markdown(
        tr(
            "p3_clip_conclusion",
            total=sci_from_log10(exp["total"]),
            after=sci_from_log10(exp["total_after"]),
            ratio=sci_from_log10(van["ratio"]),
            ratio_after=sci_from_log10(van["ratio_after"]),
        )
    )


def render() -> None:
    tr = i18n.translator()
    st.title(tr("p3_title"))
    scenes.banner(tr, "remedies")
    st.markdown(tr("p3_intro"))
    with compute_form(tr, "p3_form", width="content"):
        c1, c2, c3, c4 = st.columns(4)
        H_choices = (16, 32, 64, 128)
        H = c1.select_slider(
            tr("ctl_H"), H_choices, value=urlstate.choice("p3_H", H_choices, 64), key="p3_H"
        )
        T_choices = [t for t in data.T_CHOICES if 500 <= t <= 100_000]
        T = c2.select_slider(
            tr("ctl_T"),
            T_choices,
            value=urlstate.choice("p3_T", T_choices, 2_000),
            format_func=lambda t: f"{t:,}",
            key="p3_T",
        )
        input_scale = c3.slider(
            tr("ctl_input_scale"), 0.0, 3.0, urlstate.number("p3_input", 0.0, 3.0, 0.5, 0.05),
            0.05, key="p3_input",
        )  # fmt: skip
        seed = c4.number_input(
            tr("ctl_seed"), 0, 1_000_000, urlstate.number("p3_seed", 0, 1_000_000, 0),
            key="p3_seed",
        )  # fmt: skip
    t1, t2 = st.columns(2, vertical_alignment="bottom")
    log_x = t1.toggle(tr("ctl_log_x"), urlstate.flag("p3_logx", False), key="p3_logx")
    y_decades = y_range_control(tr, "p3_ydec", t2)
    H, T, seed = int(H), int(T), int(seed)
    chart_box, table_box = st.container(), st.container()
    # The GRU's explanation and its chrono switch sit below the table, but the switch
    # decides the curves above: read it first, draw into the boxes afterwards.
    st.subheader(tr("p3_gru_header"))
    gru_chrono = st.toggle(
        tr("p3_gru_toggle"), urlstate.flag("p3_gru_chrono", False), key="p3_gru_chrono",
        help=tr("p3_gru_toggle_help"),
    )  # fmt: skip
    cost = budget.remedies_cost(H, T, data.REMEDIES)
    asked = {"H": H, "T": T, "in": input_scale, "seed": seed, "chrono": gru_chrono}
    if not budget.allowed(tr, cost, "p3", asked, "budget_lower_remedies"):
        return
    with chart_box, budget.queued(tr, cost):  # in view: right below the form
        progress = reporter(tr("p3_progress", n=len(data.REMEDIES)))
        res = data.remedies(H, T, float(input_scale), seed, gru_chrono, _progress=progress)
        with st.spinner(tr("computing")):
            gate = data.gru_gate(H, T, float(input_scale), seed, gru_chrono)
    gru_section(tr, res["metrics"], gate, T, gru_chrono)
    with chart_box:
        labels = [_label(tr, n, gru_chrono) for n in res["curves"]["name"]]
        chart = charts.layered_curves_chart(
            res["curves"].assign(name=labels),
            x_title=tr("axis_distance"),
            y_title=tr("axis_grad"),
            threshold_log10=math.log10(data.HORIZON_THRESHOLD),
            threshold_label=tr("threshold"),
            log_x=log_x,
            y_decades=y_decades,
        )
        left, right = st.columns([3, 1])
        m = res["metrics"]
        rates = pd.DataFrame(
            {
                "name": [_label(tr, n, gru_chrono) for n in m["name"]],
                "rate": m["decay_rate"] / math.log(10),  # decades per step, like the y axis
            }
        )
        ranked = rates[rates["rate"].map(math.isfinite)].sort_values("rate")
        extremes = {
            "n": len(rates), "fast": ranked["name"].iloc[0], "fast_rate": ranked["rate"].iloc[0],
            "slow": ranked["name"].iloc[-1], "slow_rate": ranked["rate"].iloc[-1],
        }  # fmt: skip
        settings = {
            "H": H, "T": T, "input_scale": float(input_scale), "seed": seed,
            "gru_chrono": gru_chrono, "log_x": log_x, "y_decades": y_decades,
        }  # fmt: skip
        export.show_chart(
            chart, description=tr("desc_remedies", T=T, **extremes), name="remedies",
            frame=charts.with_log10(res["curves"].assign(name=labels)).merge(
                m.assign(name=rates["name"]), on="name", how="left"
            ),
            settings=settings, page="remedies", target=left,
        )  # fmt: skip
        bars = charts.rate_bar_chart(
            rates,
            x_title=tr("p3_rate_axis"),
            sign_labels=(tr("p3_rate_grow"), tr("p3_rate_decay")),
        )
        bars_text = tr("desc_rates", **extremes)
        right.altair_chart(bars.properties(description=bars_text), width="stretch")
        right.caption(bars_text)
        for name, msg in res["errors"].items():
            st.warning(tr("p3_errors", name=tr(f"rem_{name}"), msg=msg))
    with table_box:
        st.subheader(tr("p3_table"))
        table = metrics_table(tr, res["metrics"], T, gru_chrono=gru_chrono)
        st.dataframe(table, hide_index=True, width="stretch")
        for note in [tr("p3_units"), *horizon_notes(tr, res["metrics"], T)]:
            st.caption(note)

    st.subheader(tr("p3_how"))
    names = list(res["metrics"]["name"])
    classic = [n for n in names if _group(n) == "classic"]
    cols = st.columns(2)
    for i, name in enumerate(classic):  # all on view: no expander to open one by one
        cols[i % 2].markdown(f"**{tr(f'rem_{name}')}** — {tr(f'rem_{name}_how')}")
    st.markdown(tr("rem_pretrain_how"))
    st.subheader(tr("p3_modern"))
    st.markdown(tr("p3_modern_text"))
    for name in (n for n in names if _group(n) == "modern"):
        st.markdown(f"**{tr(f'rem_{name}')}** — {tr(f'rem_{name}_how')}")
    clipping_section(tr, H, T, seed)


if __name__ == "__main__":
    render()
