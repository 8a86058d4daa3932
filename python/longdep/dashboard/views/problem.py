"""Page 1 — the problem: why long-range dependency matters, and the telephone game."""

from __future__ import annotations

import streamlit as st

from longdep.dashboard import charts, data, export, i18n, urlstate

MODELS = ("rnn", "lstm", "attention")


def heard_message(fraction: float, lang: str) -> str:
    """The message as a person hears it: pieces whose threshold the surviving fraction
    no longer reaches are struck through in grey."""
    parts = [
        f"**{piece.strip()}**" if fraction >= need else f":gray[~~{piece.strip()}~~]"
        for piece, need in i18n.MESSAGE_PIECES[lang]
    ]
    return " ".join(parts)


def telephone_section(tr: i18n.Translator, lang: str) -> None:
    st.subheader(tr("p1_tel_header"))
    st.markdown(tr("p1_tel_intro"))
    n = st.slider(
        tr("p1_tel_slider"), 2, data.TELEPHONE_MAX,
        urlstate.number("p1_n", 2, data.TELEPHONE_MAX, 20), key="p1_n",
    )  # fmt: skip
    df = data.telephone(0)
    df = df[df["person"] <= n].copy()
    names = {m: tr(f"p1_model_{m}") for m in MODELS}
    df["model"] = df["model"].map(names)
    left, right = st.columns([3, 2], gap="large")
    with left:
        chart = charts.telephone_chart(df, x_title=tr("p1_tel_x"), y_title=tr("p1_tel_y"))
        end = df[df["person"] == n].set_index("model")["fraction"]
        parts = ", ".join(f"{names[m]} {100 * float(end[names[m]]):.3g} %" for m in MODELS)
        export.show_chart(
            chart, description=tr("desc_telephone", n=n, parts=parts), name="telephone",
            frame=df, settings={"people": n, "seed": 0}, page="problem",
        )  # fmt: skip
    with right:
        st.markdown(f"##### {tr('p1_tel_heard', n=n)}")
        last = df[df["person"] == n].set_index("model")["fraction"]
        for m in MODELS:
            f = float(last[names[m]])
            with st.container(border=True):
                st.markdown(f"**{names[m]}** · {tr('p1_tel_share', pct=f'{100 * f:.3g} %')}")
                st.markdown(heard_message(f, lang))
    st.caption(tr("p1_tel_caption"))


def render() -> None:
    lang = i18n.current_language()
    tr = i18n.translator(lang)
    st.title(tr("p1_title"))
    st.markdown(tr("p1_intro"))
    telephone_section(tr, lang)

    left, right = st.columns(2, gap="large")
    with left:
        st.subheader(tr("p1_hidden_header"))
        st.markdown(tr("p1_hidden_text"))
        st.latex(r"h_t = \phi\left(W_{hh}\, h_{t-1} + W_{ih}\, x_t + b\right)")
        st.markdown(tr("p1_hidden_after"))
    with right:
        st.subheader(tr("p1_bptt_header"))
        st.markdown(tr("p1_bptt_text"))
        st.latex(
            r"\frac{\partial L}{\partial h_t} = \frac{\partial L}{\partial h_T}\,"
            r"J_T\, J_{T-1} \cdots J_{t+1}"
        )
        st.latex(
            r"J_k = \frac{\partial h_k}{\partial h_{k-1}}"
            r" = \operatorname{diag}\big(\phi'(a_k)\big)\, W_{hh}"
        )
        st.markdown(tr("p1_bptt_after"))

    pros, cons = st.columns(2, gap="large")
    with pros:
        st.subheader(tr("p1_pros_header"))
        st.markdown(tr("p1_pros"))
    with cons:
        st.subheader(tr("p1_cons_header"))
        st.markdown(tr("p1_cons"))

    st.subheader(tr("p1_impact_header"))
    cols = st.columns(4)
    for col, key in zip(cols, ("translation", "generation", "qa", "speech"), strict=True):
        with col.container(border=True):
            st.markdown(tr(f"p1_impact_{key}"))
    st.info(tr("p1_next"), icon=":material/arrow_forward:")


if __name__ == "__main__":
    render()
