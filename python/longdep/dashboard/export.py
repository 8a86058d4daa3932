"""Charts that describe themselves and can be taken away.

:func:`show_chart` draws an Altair chart with a text description (Vega-Lite's
``description``, which the browser exposes as the chart's accessible name instead of
"Vega visualization") and, below it, download buttons: the plotted data as CSV, the page's
settings as JSON, and the chart as PNG and SVG (rendered by vl-convert when the button is
pressed, so a rerun costs nothing).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from typing import Any

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

from longdep.dashboard import i18n

__all__ = ["csv_bytes", "downloads", "settings_json", "show_chart", "svg_or_png"]


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """``frame`` as UTF-8 CSV (with a BOM, so spreadsheet programs read Chinese names)."""
    return frame.to_csv(index=False).encode("utf-8-sig")


def _plain(value: Any) -> Any:
    """JSON-safe: NumPy scalars to Python, tuples to lists, non-finite floats to strings."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


def settings_json(page: str, lang: str, settings: Mapping[str, Any]) -> bytes:
    """The settings of a view as JSON: ``{"page", "lang", "settings", "longdep"}``."""
    import longdep

    doc = {
        "page": page,
        "lang": lang,
        "longdep": getattr(longdep, "__version__", None),
        "settings": _plain(dict(settings)),
    }
    return json.dumps(doc, ensure_ascii=False, indent=2, allow_nan=False).encode("utf-8")


def svg_or_png(chart: alt.TopLevelMixin, fmt: str) -> bytes:
    """The chart rendered by vl-convert (``fmt``: ``"svg"`` or ``"png"``)."""
    import vl_convert as vlc

    with alt.data_transformers.disable_max_rows():
        spec = chart.to_dict()
    if fmt == "svg":
        return vlc.vegalite_to_svg(spec).encode("utf-8")
    return bytes(vlc.vegalite_to_png(spec, scale=2))


def _renderer(chart: alt.TopLevelMixin, fmt: str) -> Callable[[], bytes]:
    return lambda: svg_or_png(chart, fmt)


def _stem(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-") or "chart"


def show_chart(
    chart: alt.TopLevelMixin,
    *,
    description: str,
    name: str,
    frame: pd.DataFrame | None = None,
    settings: Mapping[str, Any] | None = None,
    page: str = "",
    target: Any = None,
) -> None:
    """Draw ``chart`` with ``description`` (also as a caption for screen readers and the
    reader alike), then the downloads: ``frame`` as CSV, ``settings`` as JSON, the chart as
    PNG and SVG. ``name`` is the file stem and the prefix of the buttons' keys; ``target``
    is the container to draw into (default: the current one)."""
    box = st if target is None else target
    described = chart.properties(description=description)
    box.altair_chart(described, width="stretch")
    box.caption(description)
    downloads(described, name=name, frame=frame, settings=settings, page=page, target=box)


def downloads(
    chart: alt.TopLevelMixin | None,
    *,
    name: str,
    frame: pd.DataFrame | None = None,
    settings: Mapping[str, Any] | None = None,
    page: str = "",
    target: Any = None,
) -> None:
    """The download buttons of :func:`show_chart` alone (for a chart drawn elsewhere)."""
    tr = i18n.translator()
    box = st if target is None else target
    stem = _stem(name)
    cols = box.columns(4)
    if frame is not None:
        cols[0].download_button(
            tr("dl_csv"), csv_bytes(frame), file_name=f"{stem}.csv", mime="text/csv",
            icon=":material/table:", key=f"dl_{stem}_csv", help=tr("dl_csv_help"),
            on_click="ignore",
        )  # fmt: skip
    if settings is not None:
        cols[1].download_button(
            tr("dl_json"), settings_json(page, i18n.current_language(), settings),
            file_name=f"{stem}.json", mime="application/json", icon=":material/settings:",
            key=f"dl_{stem}_json", help=tr("dl_json_help"), on_click="ignore",
        )  # fmt: skip
    for col, fmt, mime in ((cols[2], "png", "image/png"), (cols[3], "svg", "image/svg+xml")):
        if chart is None:
            break
        col.download_button(
            tr(f"dl_{fmt}"), _renderer(chart, fmt), file_name=f"{stem}.{fmt}", mime=mime,
            icon=":material/image:", key=f"dl_{stem}_{fmt}", on_click="ignore",
        )  # fmt: skip
