"""The guided path (issue 14, point 13): every scene's link opens its page with the
scene's controls set and a banner whose previous / next links are the neighbouring
scenes' links, in both languages; the sidebar lists the path."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
from streamlit.testing.v1 import AppTest
from test_dashboard import SHIM, VIEWS

from longdep.dashboard import i18n, scenes

KIND = {"p2_kind": "selectbox", "p2_nl": "selectbox", "p2_init": "selectbox",
        "p2_radius_elman": "slider", "p2_T": "select_slider", "p2_logx": "toggle",
        "p4_q": "radio", "p3_c": "select_slider", "p3_far": "select_slider"}  # fmt: skip


def _open(link: str) -> AppTest:
    url = urlparse(link)
    at = AppTest.from_file(str(SHIM), default_timeout=180)
    for k, v in parse_qs(url.query).items():
        at.query_params[k] = v[0]
    at.run()
    page = url.path.strip("/")
    if page != "problem":
        at.switch_page(str(VIEWS / f"{page}.py")).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _expected(raw: str, value: object) -> object:
    if isinstance(value, bool):
        return raw == "1"
    return type(value)(raw)


@pytest.mark.parametrize("lang", i18n.LANGS)
@pytest.mark.parametrize("i", range(len(scenes.SCENES)))
def test_each_scene_opens_its_view_with_its_links(lang: str, i: int) -> None:
    scene = scenes.SCENES[i]
    link = scenes.href(scene, lang)
    assert link.startswith(f"/{scene.page}?")
    at = _open(link)
    tr = i18n.translator(lang)
    for key, raw in scene.params.items():
        widget = getattr(at, KIND[key])(key=key)
        assert widget.value == _expected(raw, widget.value), (key, widget.value, raw)
    banner = [b.value for b in at.info if tr(f"scene_{scene.key}_title") in b.value]
    assert len(banner) == 1
    text = banner[0]
    assert tr(f"scene_{scene.key}_text") in text
    assert tr("scene_of", n=i + 1, total=len(scenes.SCENES)) in text
    if i > 0:
        assert scenes.href(scenes.SCENES[i - 1], lang) in text
    if i + 1 < len(scenes.SCENES):
        assert scenes.href(scenes.SCENES[i + 1], lang) in text
    sidebar = " ".join(m.value for m in at.sidebar.markdown)
    assert all(scenes.href(s, lang) in sidebar for s in scenes.SCENES)


def test_no_banner_without_a_scene_or_on_another_page() -> None:
    at = _open("/decay?lang=en")
    assert not [b for b in at.info if "Scene" in b.value]
    at = _open("/decay?lang=en&scene=chaos")  # the chaos scene belongs to the landscape
    assert not [b for b in at.info if "Scene" in b.value]
    at = _open("/decay?lang=en&scene=" + "x" * 400)
    assert not [b for b in at.info if "Scene" in b.value]
