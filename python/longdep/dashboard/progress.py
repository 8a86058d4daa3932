"""Progress bars of long computations, and the forms that start them.

A slider moved by a hundred arrow-key presses would rerun a page a hundred times; a page
whose controls start a computation therefore groups them in :func:`compute_form`, and
only its button computes. The values a form shows on the first run (from the URL, see
:mod:`longdep.dashboard.urlstate`) count without a press, so a shared link or a guided
scene computes on opening.

A computation that can take seconds reports its progress through :func:`reporter`: a
``_progress(fraction)`` callback that the cached functions of
:mod:`longdep.dashboard.data` take outside their cache key.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Literal

import streamlit as st

from . import i18n

__all__ = ["compute_form", "reporter"]


def reporter(text: str, i: int = 0, n: int = 1) -> Callable[[float], None]:
    """The ``_progress`` callback of a cached computation, for part ``i`` of ``n``.

    The bar is created on the first report, i.e. inside the cached call, so that Streamlit
    replays its messages when the result comes from the cache; a report of 1.0 removes it
    again. A computation reports 0.0 when it starts, so that the bar shows at once."""
    bar = None

    def report(fraction: float) -> None:
        nonlocal bar
        if bar is None:
            bar = st.progress(i / n, text=text)
        if fraction >= 1.0:
            bar.empty()
        else:
            bar.progress(min((i + fraction) / n, 1.0), text=text)

    return report


@contextmanager
def compute_form(
    tr: i18n.Translator, key: str, *, width: Literal["stretch", "content"] = "stretch"
) -> Iterator[None]:
    """The controls of the ``with`` body in a form (``key``) that ends with a Compute
    button (``<key>_go``, ``width`` wide): moving a control computes nothing until the
    button (or Enter in a number box) is pressed."""
    with st.form(key, border=False):
        yield
        st.form_submit_button(
            tr("form_compute"), type="primary", icon=":material/calculate:", key=f"{key}_go",
            help=tr("form_compute_help"), width=width,
        )  # fmt: skip
