"""Router of the dashboard: language, sidebar and the six pages (``st.navigation``)."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from longdep.dashboard import i18n, scenes, urlstate
from longdep.dashboard.session import watch_session

VIEWS = Path(__file__).resolve().parent / "views"

#: (module under views/, i18n key of the title, icon), in menu order. Every page answers
#: at ``/<module>``; the first one also at ``/``.
PAGES = (
    ("problem", "nav_problem", ":material/record_voice_over:"),
    ("decay", "nav_decay", ":material/trending_down:"),
    ("remedies", "nav_remedies", ":material/healing:"),
    ("landscape", "nav_landscape", ":material/grid_on:"),
    ("your_model", "nav_your_model", ":material/upload_file:"),
    ("training", "nav_training", ":material/model_training:"),
    ("hear", "nav_hear", ":material/hearing:"),
)
#: Internal ``url_path`` of the default page. Streamlit serves the default page at ``/``
#: and reports its ``url_path`` as ``""`` whatever was passed, so ``url_path="problem"``
#: on it alone leaves ``/problem`` without a page ("Page not found"). The first page is
#: therefore registered twice: as the default (in the menu, at ``/``) and, hidden from
#: the menu, at ``/problem``. Two pages may not share a ``url_path``, so the default one
#: gets this name, which never appears in a URL.
DEFAULT_URL_PATH = "index"


def navigation_pages(tr: i18n.Translator) -> list[st.Page]:
    """The pages for ``st.navigation``: the six of :data:`PAGES` in menu order, then the
    hidden alias of the first one at its own path."""
    pages = [
        st.Page(
            VIEWS / f"{name}.py",
            title=tr(key),
            icon=icon,
            url_path=DEFAULT_URL_PATH if i == 0 else name,
            default=i == 0,
        )
        for i, (name, key, icon) in enumerate(PAGES)
    ]
    name, key, icon = PAGES[0]
    alias = st.Page(
        VIEWS / f"{name}.py", title=tr(key), icon=icon, url_path=name, visibility="hidden"
    )
    return [*pages, alias]


def main() -> None:
    st.set_page_config(page_title="longdep", page_icon=":material/trending_down:", layout="wide")
    watch_session()  # a session that ends cancels its running computation
    lang = i18n.resolve_language()
    tr = i18n.translator(lang)
    page = st.navigation(navigation_pages(tr))
    i18n.language_selector(lang)
    st.sidebar.caption(tr("sidebar_about"))
    scenes.sidebar(tr)
    urlstate.begin()
    try:
        page.run()
    finally:  # also after st.stop(): the address bar holds what the page shows
        urlstate.sync()
    urlstate.link_box(tr("url_link"), tr("url_link_help"), page.url_path)


if __name__ == "__main__":
    main()
