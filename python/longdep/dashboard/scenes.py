"""A guided path through the dashboard: preset scenes, each a page with its controls
set, linked in order by real previous / next links (plain URLs: ``/decay?p2_kind=...``).

A scene is opened by its link; the page it names shows the scene's banner (what to
look at, and the links to the scenes before and after) while ``?scene=`` names it. The
controls come from the URL like every shared link (:mod:`longdep.dashboard.urlstate`),
so a scene is exactly a link a teacher could have copied.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlencode

import streamlit as st

from longdep.dashboard import i18n

__all__ = ["SCENES", "Scene", "banner", "href", "sidebar"]


@dataclass(frozen=True)
class Scene:
    """One stop of the guided path."""

    #: The ``?scene=`` value and the i18n prefix (``scene_<key>_title`` / ``_text``).
    key: str
    #: The page (module under ``views/``) and its controls, as URL values.
    page: str
    params: dict[str, str] = field(default_factory=dict)


#: The path, in order.
SCENES: tuple[Scene, ...] = (
    Scene(
        "vanishing",
        "decay",
        {
            "p2_kind": "elman",
            "p2_nl": "tanh",
            "p2_init": "normal",
            "p2_radius_elman": "0.8",
            "p2_T": "1000",
            "p2_logx": "0",
        },
    ),
    Scene("chaos", "landscape", {"p4_q": "horizon"}),
    Scene("clipping", "remedies", {"p3_c": "0", "p3_far": "100"}),
    Scene(
        "gates",
        "decay",
        {"p2_kind": "lstm", "p2_T": "1000", "p2_logx": "0"},
    ),
    Scene("modern", "decay", {"p2_kind": "mingru", "p2_T": "10000", "p2_logx": "1"}),
)


def href(scene: Scene, lang: str) -> str:
    """The link that opens `scene` in `lang`."""
    query = urlencode({"lang": lang, **scene.params, "scene": scene.key})
    return f"/{scene.page}?{query}"


def _current() -> int | None:
    try:
        raw = st.query_params.get("scene")
    except Exception:  # a malformed query string must not break the page
        return None
    return next((i for i, s in enumerate(SCENES) if s.key == raw), None)


def banner(tr: i18n.Translator, page: str) -> None:
    """The scene's explanation and its previous / next links, when the URL opens a scene
    of this page."""
    i = _current()
    if i is None or SCENES[i].page != page:
        return
    lang = i18n.current_language()
    scene = SCENES[i]
    links = []
    if i > 0:
        prev = SCENES[i - 1]
        links.append(f"[← {tr(f'scene_{prev.key}_title')}]({href(prev, lang)})")
    if i + 1 < len(SCENES):
        nxt = SCENES[i + 1]
        links.append(f"[{tr(f'scene_{nxt.key}_title')} →]({href(nxt, lang)})")
    st.info(
        f"**{tr('scene_of', n=i + 1, total=len(SCENES))} · {tr(f'scene_{scene.key}_title')}**"
        f"\n\n{tr(f'scene_{scene.key}_text')}\n\n" + " · ".join(links),
        icon=":material/school:",
    )


def sidebar(tr: i18n.Translator) -> None:
    """The guided path in the sidebar: one link per scene."""
    lang = i18n.current_language()
    st.sidebar.markdown(f"**{tr('scene_tour')}**")
    st.sidebar.markdown(
        "\n".join(
            f"{k + 1}. [{tr(f'scene_{s.key}_title')}]({href(s, lang)})"
            for k, s in enumerate(SCENES)
        )
    )
