"""Page 7 — which words does the model still hear? The seed's sentence ("Zhang San
borrowed a book ...; he thinks ...") through five small trained models, with the
connectivity of every word to every earlier word and the share of "he" that reaches
"Zhang San"."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from longdep.dashboard import budget, charts, coref, i18n, urlstate
from longdep.dashboard.progress import compute_form, reporter


def model_name(tr: i18n.Translator, key: str) -> str:
    """The page's name of one of :data:`coref.MODELS`."""
    return tr(f"p7_model_{key}")


def marked_sentence(words: list[str], name_at: int, pronoun_at: int, lang: str) -> str:
    """The sentence as Markdown with the name and the pronoun on coloured backgrounds."""
    shown = [
        f":blue-background[{w}]"
        if i == name_at
        else f":red-background[{w}]"
        if i == pronoun_at
        else w
        for i, w in enumerate(words)
    ]
    if lang == "zh":
        return "".join(shown)
    text = " ".join(shown)
    return text.replace(" ;", ";").replace(" ,", ",")


def render() -> None:
    lang = i18n.current_language()
    tr = i18n.translator(lang)
    st.title(tr("p7_title"))
    st.markdown(tr("p7_intro"))
    # Five models are trained per setting: the controls count when Compute is pressed.
    with compute_form(tr, "p7_form", width="content"):
        c1, c2 = st.columns([3, 1])
        extra = c1.slider(
            tr("p7_extra"), 0, coref.MAX_EXTRA,
            urlstate.number("p7_extra", 0, coref.MAX_EXTRA, 0, 1), help=tr("p7_extra_help"),
            key="p7_extra",
        )  # fmt: skip
        seed = c2.number_input(
            tr("p7_seed"), 0, 99, urlstate.number("p7_seed", 0, 99, 0, 1),
            help=tr("p7_seed_help"), key="p7_seed",
        )  # fmt: skip
    words, name_at, pronoun_at = coref.sentence(lang, int(extra))
    st.markdown(f"#### {marked_sentence(words, name_at, pronoun_at, lang)}")
    progress = reporter(tr("p7_training"), 0, 1)
    # Five small models trained for the page: the same job queue as every heavy request.
    cost = budget.estimate(
        "lstm", coref.HIDDEN, len(words), B=coref.BATCH, calls=coref.STEPS * len(coref.MODELS),
        quantity="train",
    )  # fmt: skip
    with budget.queued(tr, cost):
        res = coref.hear(lang, int(extra), int(seed), _progress=progress)
    names = {key: model_name(tr, key) for key in coref.MODELS}
    name, pronoun = words[name_at], words[pronoun_at]

    st.subheader(tr("p7_share_header", name=name, pronoun=pronoun))
    shares = pd.DataFrame(
        {"name": [names[k] for k in coref.MODELS], "share": [res["share"][k] for k in coref.MODELS]}
    )
    st.altair_chart(
        charts.share_bar_chart(shares, x_title=tr("p7_share_axis", name=name, pronoun=pronoun)),
        width="stretch",
    )
    cols = st.columns(len(coref.MODELS))
    for col, key in zip(cols, coref.MODELS, strict=True):
        col.metric(
            names[key],
            f"{100 * res['share'][key]:.1f} %",
            help=tr("p7_metric_help", name=name, pronoun=pronoun),
        )
        col.caption(tr("p7_answer", name=name, p=f"{100 * res['answer'][key]:.0f} %"))
    best = max(coref.MODELS, key=lambda k: res["share"][k])
    worst = min(coref.MODELS, key=lambda k: res["share"][k])
    st.markdown(
        tr(
            "p7_summary", name=name, pronoun=pronoun, n=pronoun_at + 1,
            best=names[best], best_share=f"{100 * res['share'][best]:.1f} %",
            worst=names[worst], worst_share=f"{100 * res['share'][worst]:.1f} %",
            even=f"{100 / (pronoun_at + 1):.1f} %", distance=pronoun_at - name_at,
        )
    )  # fmt: skip

    st.subheader(tr("p7_map_header"))
    shown = st.radio(
        tr("p7_model"), coref.MODELS, format_func=lambda k: names[k], horizontal=True,
        index=urlstate.index("p7_model", coref.MODELS), key="p7_model",
    )  # fmt: skip
    chart = charts.token_heatmap_chart(
        res["C"][shown], words, row=pronoun_at, column=name_at,
        x_title=tr("p7_axis_k"), y_title=tr("p7_axis_t"), color_title=tr("p7_color"),
    )  # fmt: skip
    st.altair_chart(chart, width="stretch")
    st.caption(tr("p7_map_caption", name=name, pronoun=pronoun))
    with st.expander(tr("p7_teacher_header"), expanded=True):
        st.markdown(tr("p7_teacher", name=name, pronoun=pronoun))
    st.caption(
        tr(
            "p7_how",
            steps=coref.STEPS,
            H=coref.HIDDEN,
            length=coref.TASK["length"],
            gap=coref.TASK["length"] - 1,
        )
    )


if __name__ == "__main__":
    render()
