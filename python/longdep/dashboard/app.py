"""Router of the dashboard: language, sidebar and the six pages (``st.navigation``)."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from longdep.dashboard import i18n

VIEWS = Path(__file__).resolve().parent / "views"

#: (module under views/, i18n key of the title, icon), in menu order.
PAGES = (
    ("problem", "nav_problem", ":material/record_voice_over:"),
    ("decay", "nav_decay", ":material/trending_down:"),
    ("remedies", "nav_remedies", ":material/healing:"),
    ("landscape", "nav_landscape", ":material/grid_on:"),
    ("your_model", "nav_your_model", ":material/upload_file:"),
    ("training", "nav_training", ":material/model_training:"),
)


def main() -> None:
    st.set_page_config(page_title="longdep", page_icon=":material/trending_down:", layout="wide")
    lang = i18n.resolve_language()
    tr = i18n.translator(lang)
    pages = [
        st.Page(VIEWS / f"{name}.py", title=tr(key), icon=icon, url_path=name, default=i == 0)
        for i, (name, key, icon) in enumerate(PAGES)
    ]
    page = st.navigation(pages)
    i18n.language_selector(lang)
    st.sidebar.caption(tr("sidebar_about"))
    page.run()


if __name__ == "__main__":
    main()
