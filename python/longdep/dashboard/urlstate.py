"""Every control's value in the URL: links that reproduce a view.

A page asks this module for a widget's initial value instead of writing a literal default::

    T = st.select_slider(tr("ctl_T"), T_CHOICES, value=urlstate.choice("p2_T", T_CHOICES, 10_000),
                         key="p2_T")

The value comes from ``?p2_T=…`` when the URL has a valid one, else the default. The query
parameter is named after the widget's key. The helper also writes the widget's current
value into ``st.query_params`` right away, and at the end of every run :func:`sync` writes
them all again and drops the parameters of widgets bound earlier in the session but not
shown any more (another page, a hidden control), so the address bar always holds the
view. :func:`link_box` shows that address with a copy button (``st.code``: no JavaScript
of ours). Streamlit's own ``bind="query-params"`` is not used: it stores the *formatted*
label of a select widget (a translated word here), so a link would change meaning with
the language, and a test cannot read the URL it writes (the browser does).

Values in the URL are language independent: option keys (``lstm``), numbers, ``1``/``0``,
never translated labels. A value from the URL is never trusted: wrong types, numbers out
of range or not finite, unknown choices and overlong strings are ignored (the default is
used), numbers are snapped to the widget's step. Streamlit's widgets are identified by
their key alone, so passing the URL's value as the default on every run does not reset a
widget the user has moved.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any, TypeVar
from urllib.parse import urlencode

import streamlit as st

from . import i18n

__all__ = [
    "MAX_TEXT",
    "begin",
    "choice",
    "choices",
    "decode",
    "encode",
    "flag",
    "index",
    "link",
    "link_box",
    "number",
    "sync",
    "tabs",
    "text",
]

T = TypeVar("T")
_LOG = logging.getLogger(__name__)
#: Longest string accepted from the URL (also for a number: no 5,000-digit integers).
MAX_TEXT = 300
#: Query parameters that are not widgets of a page and must survive :func:`sync`.
KEEP = ("lang", "scene")
#: The widgets bound in this run, with the encoder of their value.
_RUN_KEY = "_urlstate_run"
#: Every key bound in this session (to drop parameters of widgets no longer shown).
_SEEN_KEY = "_urlstate_seen"


def encode(value: object) -> str:
    """A widget value as URL text: ``True`` -> ``"1"``, ``0.001`` -> ``"0.001"``, a list
    (multiselect) as comma-separated items, a string as it is."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return f"{value:.10g}"
    if isinstance(value, (list, tuple)):
        return ",".join(encode(v) for v in value)
    return str(value)


def decode(raw: object, options: Sequence[T]) -> T | None:
    """The option whose :func:`encode` is ``raw`` (``None`` if none is)."""
    if not isinstance(raw, str) or len(raw) > MAX_TEXT:
        return None
    for option in options:
        if encode(option) == raw:
            return option
    return None


def _bind(key: str, default: Any, encoder: Callable[[Any], str] = encode) -> str | None:
    """Register ``key`` for :func:`sync` and return its raw URL value (``None`` if absent
    or not a single value)."""
    run: dict[str, tuple[Any, Callable[[Any], str]]] = st.session_state.setdefault(_RUN_KEY, {})
    run[key] = (default, encoder)
    try:
        raw = st.query_params.get(key)
    except Exception:  # a malformed query string must not break the page
        return None
    return raw if isinstance(raw, str) and len(raw) <= MAX_TEXT else None


def _publish(key: str, initial: T, encoder: Callable[[Any], str] = encode) -> T:
    """Write the widget's value into the URL now, while the page runs: its state if it
    has one (a rerun after the user moved it), else ``initial``. Browsers are sent the
    URL with the page's elements; what is written after the last element may reach the
    address bar one run late. :func:`sync` checks again at the end."""
    value = st.session_state[key] if key in st.session_state else initial
    try:
        new = encoder(value)
        if value is not None and st.query_params.get(key) != new:
            st.query_params[key] = new
    except Exception:  # never let the address bar break a page
        _LOG.warning("could not write %s into the URL", key, exc_info=True)
    return initial


def choice(key: str, options: Sequence[T], default: T) -> T:
    """Initial value of a select slider (``value=``): the URL's option, else ``default``."""
    found = decode(_bind(key, default), options)
    return _publish(key, default if found is None else found)


def index(key: str, options: Sequence[Hashable], default: int = 0) -> int:
    """Initial ``index=`` of a selectbox or radio over ``options``."""
    raw = _bind(key, options[default] if options else None)
    found = next((i for i, o in enumerate(options) if encode(o) == raw), default)
    if options:
        _publish(key, options[found])
    return found


def flag(key: str, default: bool) -> bool:
    """Initial value of a checkbox or toggle: ``1``/``0`` (also true/false, on/off)."""
    raw = _bind(key, default)
    value = {"1": True, "true": True, "on": True, "0": False, "false": False, "off": False}
    return _publish(key, default if raw is None else value.get(raw.strip().lower(), default))


def _number(raw: str | None, lo: float, hi: float, default: T, step: float | None) -> T:
    if raw is None:
        return default
    try:
        value: float = int(raw) if isinstance(default, int) else float(raw)
    except ValueError:
        return default
    if not (math.isfinite(value) and lo <= value <= hi):
        return default
    if isinstance(default, int):
        return type(default)(value)
    if step:
        k = round((value - lo) / step)
        digits = max(0, -math.floor(math.log10(step)) + 2)
        value = min(max(round(lo + k * step, digits), lo), hi)
    return type(default)(value)  # type: ignore[call-arg]


def number(key: str, lo: float, hi: float, default: T, step: float | None = None) -> T:
    """Initial value of a slider or number input over ``[lo, hi]``, of ``default``'s type.

    A value that is not a number, not finite or outside ``[lo, hi]`` is ignored; an int
    widget takes whole numbers only; a float one is snapped to ``lo + k * step``."""
    return _publish(key, _number(_bind(key, default), lo, hi, default, step))


def _choices(raw: str | None, options: Sequence[T], default: Sequence[T]) -> list[T]:
    if raw is None:
        return list(default)
    if raw == "":
        return []
    picked: list[T] = []
    for item in raw.split(","):
        option = decode(item, options)
        if option is not None and option not in picked:
            picked.append(option)
    return picked or list(default)


def choices(key: str, options: Sequence[T], default: Sequence[T]) -> list[T]:
    """Initial ``default=`` of a multiselect: comma-separated option keys. An empty value
    is an empty selection; unknown items are dropped (if none is known: ``default``)."""
    return _publish(key, _choices(_bind(key, list(default)), options, default))


def text(key: str, default: str = "") -> str:
    """Initial value of a text input (at most :data:`MAX_TEXT` characters, one line)."""
    raw = _bind(key, default)
    ok = raw is not None and "\n" not in raw and "\r" not in raw
    return _publish(key, raw if ok and raw is not None else default)


def tabs(key: str, names: Mapping[str, str]) -> Sequence[Any]:
    """``st.tabs`` over ``names`` (tab id -> i18n key of its label), the open tab in the
    URL by its id (``?p6_tab=clip``), not by its translated label.

    The URL's tab opens when the page is first shown in the session; an unknown id opens
    the first tab. After that the widget keeps the user's tab (also across a language
    switch, which changes the labels). The widget's ``default`` stays the first tab:
    Streamlit counts ``default`` in the widget's identity, so a default that followed the
    URL would make a new widget, and lose a click, whenever the URL changed."""
    lang = i18n.current_language()
    labels = {tab_id: i18n.text(name, lang) for tab_id, name in names.items()}
    ids = {i18n.text(name, other): tab_id for tab_id, name in names.items() for other in i18n.LANGS}
    first = next(iter(labels))

    def encoder(label: object) -> str:
        return ids.get(label, first) if isinstance(label, str) else first

    raw = _bind(key, labels[first], encoder)
    if key in st.session_state:  # the user's tab, in this run's language
        open_id = encoder(st.session_state[key])
    else:
        open_id = raw if raw in labels else first
    if st.session_state.get(key) != labels[open_id]:
        st.session_state[key] = labels[open_id]
    _publish(key, labels[open_id], encoder)
    return st.tabs(list(labels.values()), key=key, on_change="rerun")


def begin() -> None:
    """Start a run: forget the widgets bound in a previous run that did not finish."""
    st.session_state[_RUN_KEY] = {}


def sync() -> None:
    """Write every widget bound in this run into ``st.query_params`` and drop the
    parameters of widgets bound earlier in the session but not in this run. Call it once,
    after the page has run."""
    run: dict[str, tuple[Any, Callable[[Any], str]]] = st.session_state.pop(_RUN_KEY, {})
    seen: set[str] = st.session_state.setdefault(_SEEN_KEY, set())
    seen.update(run)
    try:
        for key in seen - set(run) - set(KEEP):
            if key in st.query_params:
                del st.query_params[key]
        for key, (default, encoder) in run.items():
            value = st.session_state.get(key, default)
            if value is None:
                continue
            new = encoder(value)
            if st.query_params.get(key) != new:
                st.query_params[key] = new
    except Exception:  # never let the address bar break a page
        _LOG.warning("could not write the view into the URL", exc_info=True)


def link(path: str = "") -> str:
    """The address of the current view: the page's URL and every query parameter
    (``lang`` first). ``path`` is used when Streamlit does not know the browser's URL."""
    params = {k: st.query_params.get(k) for k in st.query_params}
    ordered = sorted(params.items(), key=lambda kv: (kv[0] != "lang", kv[0]))
    query = urlencode([(k, v) for k, v in ordered if isinstance(v, str)])
    base = getattr(st.context, "url", None) or f"/{path}"
    return f"{base}?{query}" if query else base


def link_box(label: str, help_text: str, path: str = "") -> None:
    """The link of the current view in the sidebar, with ``st.code``'s copy button."""
    with st.sidebar.popover(label, icon=":material/link:", width="stretch"):
        st.caption(help_text)
        st.code(link(path), language=None, wrap_lines=True)
