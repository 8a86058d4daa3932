"""Page 3 — remedies: every fix on the same task, one layered chart, and gradient clipping."""

from __future__ import annotations

import math

import pandas as pd
import streamlit as st

from longdep.dashboard import charts, data, i18n
from longdep.dashboard.charts import sci_from_log10


def horizon_text(tr: i18n.Translator, h: float) -> str:
    return tr("m_horizon_inf") if not math.isfinite(h) else f"{h:,.0f}"


def _group(name: str) -> str:
    return "modern" if name in data.MODERN_REMEDIES else "classic"


def metrics_table(tr: i18n.Translator, metrics: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            tr("col_group"): [tr(f"group_{_group(n)}") for n in metrics["name"]],
            tr("col_cell"): [tr(f"rem_{n}") for n in metrics["name"]],
            tr("col_rate"): metrics["decay_rate"].map(lambda r: f"{r:+.3g}"),
            tr("col_horizon"): [horizon_text(tr, h) for h in metrics["memory_horizon"]],
            tr("col_regime"): [tr(f"regime_{r}") for r in metrics["regime"]],
        }
    )


def clipping_section(tr: i18n.Translator, H: int, T: int, seed: int) -> None:
    st.subheader(tr("p3_clip_header"))
    st.markdown(tr("p3_clip_text", H=H, T=f"{T:,}"))
    a, b = st.columns(2)
    c_exp = a.select_slider(
        tr("p3_clip_c"),
        options=list(range(-3, 4)),
        value=0,
        format_func=lambda e: f"1e{e:+d}" if e else "1",
        key="p3_c",
    )
    far_choices = [k for k in (10, 30, 100, 300, 1000, 3000, 10000) if k < T]
    far = b.select_slider(
        tr("p3_clip_far"), far_choices, value=min(100, far_choices[-1]), key="p3_far"
    )
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
    st.dataframe(table, hide_index=True, width="stretch")
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
    st.markdown(tr("p3_intro"))
    c1, c2, c3, c4 = st.columns(4)
    H = c1.select_slider(tr("ctl_H"), (16, 32, 64, 128), value=64, key="p3_H")
    T = c2.select_slider(
        tr("ctl_T"),
        [t for t in data.T_CHOICES if 500 <= t <= 100_000],
        value=2_000,
        format_func=lambda t: f"{t:,}",
        key="p3_T",
    )
    input_scale = c3.slider(tr("ctl_input_scale"), 0.0, 3.0, 0.5, 0.05, key="p3_input")
    seed = c4.number_input(tr("ctl_seed"), 0, 1_000_000, 0, key="p3_seed")
    log_x = st.toggle(tr("ctl_log_x"), False, key="p3_logx")
    with st.spinner(tr("computing")):
        res = data.remedies(int(H), int(T), float(input_scale), int(seed))
    curves = res["curves"].assign(name=[tr(f"rem_{n}") for n in res["curves"]["name"]])
    chart = charts.layered_curves_chart(
        curves,
        x_title=tr("axis_distance"),
        y_title=tr("axis_grad"),
        threshold_log10=math.log10(data.HORIZON_THRESHOLD),
        threshold_label=tr("threshold"),
        log_x=log_x,
    )
    st.altair_chart(chart, width="stretch")
    for name, msg in res["errors"].items():
        st.warning(tr("p3_errors", name=tr(f"rem_{name}"), msg=msg))

    st.subheader(tr("p3_table"))
    st.dataframe(metrics_table(tr, res["metrics"]), hide_index=True, width="stretch")
    st.subheader(tr("p3_how"))
    names = list(res["metrics"]["name"])
    classic = [n for n in names if _group(n) == "classic"]
    cols = st.columns(2)
    for i, name in enumerate(classic):
        with cols[i % 2].expander(tr(f"rem_{name}")):
            st.markdown(tr(f"rem_{name}_how"))
    st.markdown(tr("rem_pretrain_how"))
    st.subheader(tr("p3_modern"))
    st.markdown(tr("p3_modern_text"))
    for name in (n for n in names if _group(n) == "modern"):
        st.markdown(f"**{tr(f'rem_{name}')}** — {tr(f'rem_{name}_how')}")
    clipping_section(tr, int(H), int(T), int(seed))


if __name__ == "__main__":
    render()
