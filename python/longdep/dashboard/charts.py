"""Altair chart builders for the dashboard.

Pure functions: data in (pandas frames in the library's layout, ``log_norm`` in natural
logs), an ``alt.Chart`` out. Nothing here imports Streamlit, so every chart can be built
and inspected in a unit test. All user-visible words (titles, legend names) are passed in
by the caller, already translated.

Gradient norms span thousands of decades (and go far below 1e-308), so they are drawn as
log10 values on a linear axis whose labels read as powers of ten ("1e-120").
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Sequence
from typing import Any

import altair as alt
import numpy as np
import pandas as pd

__all__ = [
    "LOG10_LABEL_EXPR",
    "block_average",
    "decade_ticks",
    "decay_chart",
    "heatmap_chart",
    "layer_map_chart",
    "layered_curves_chart",
    "log10_axis",
    "log_ticks",
    "lyapunov_chart",
    "sci_from_log10",
    "share_bar_chart",
    "telephone_chart",
    "token_heatmap_chart",
    "training_chart",
    "with_log10",
]

LN10 = math.log(10.0)

#: Vega expression that labels a log10 tick value v as the power of ten it stands for,
#: every tick in the same form ("1e0", "1e-120"), never a mix of "1" and "1e-5".
LOG10_LABEL_EXPR = "'1e' + format(datum.value, 'd')"


#: Step counts as 0, 500, 1k, 1.5k, 1M.
STEPS_LABEL_EXPR = (
    "datum.value >= 1e6 ? format(datum.value / 1e6, '~g') + 'M'"
    " : datum.value >= 1e3 ? format(datum.value / 1e3, '~g') + 'k'"
    " : format(datum.value, '~g')"
)
#: Measured curve, theory.
DECAY_COLORS = ("#1f6feb", "#e8590c")
#: Log-axis labels for a fraction as percentages (used when every tick is >= 1e-6).
PERCENT_LABEL_EXPR = "format(datum.value, '~%')"
#: Log-axis labels for a fraction as powers of ten (used when some tick is below 1e-6).
POW10_LABEL_EXPR = "'1e' + format(round(log(datum.value) / LN10), 'd')"
#: Vanilla RNN, LSTM, attention.
TELEPHONE_COLORS = ("#d62728", "#1f6feb", "#8c8c8c")
#: Okabe & Ito's colour-blind-safe palette (black first), for charts of many curves.
OKABE_ITO = (
    "#000000",
    "#E69F00",
    "#56B4E9",
    "#009E73",
    "#F0E442",
    "#0072B2",
    "#D55E00",
    "#CC79A7",
)
#: Line styles cycled with the colours, so that curves differ in more than hue: solid,
#: dashed, dotted, dash-dot.
LINE_DASHES = ([1, 0], [7, 3], [2, 2], [7, 3, 2, 3])


def curve_styles(n: int) -> tuple[list[str], list[list[int]]]:
    """Colours and dash patterns of ``n`` curves: no two curves share both, and the
    first eight differ in colour (Okabe-Ito) and in dash from their neighbours."""
    colors = [OKABE_ITO[k % len(OKABE_ITO)] for k in range(n)]
    # The dash advances with the colour and once more per full round of colours, so a
    # colour that comes back comes back with another dash.
    dashes = [list(LINE_DASHES[(k + k // len(OKABE_ITO)) % len(LINE_DASHES)]) for k in range(n)]
    return colors, dashes


def sci_from_log10(value: float) -> str:
    """``-325.5`` -> ``"3.16e-326"``: scientific notation from a log10 value, any magnitude."""
    if not np.isfinite(value):
        return "0" if value < 0 else "inf"
    exponent = math.floor(value)
    mantissa = 10.0 ** (value - exponent)
    if mantissa >= 9.995:  # rounding would print 10.00
        mantissa, exponent = 1.0, exponent + 1
    return f"{mantissa:.2f}e{exponent:+d}"


def with_log10(df: pd.DataFrame, column: str = "log_norm") -> pd.DataFrame:
    """``df`` without non-finite rows, plus ``log10`` (= column / ln 10) and a ``value``
    text column (scientific notation, any magnitude) for tooltips. Rows at -inf (an
    exact zero) or +inf cannot be placed on a log axis and are left out."""
    out = df[np.isfinite(df[column].to_numpy(dtype=float))].copy()
    out["log10"] = out[column].to_numpy(dtype=float) / LN10
    out["value"] = [sci_from_log10(v) for v in out["log10"]]
    return out


def log10_axis(title: str) -> alt.Axis:
    """A linear axis over log10 values, labelled as powers of ten (whole decades only)."""
    return alt.Axis(title=title, tickMinStep=1, labelExpr=LOG10_LABEL_EXPR)


def decade_ticks(lo: float, hi: float) -> list[float]:
    """The powers of ten ``10^k`` with ``lo <= 10^k <= hi`` (``0 < lo``): round ticks
    (1, 10, 100, …) for a log axis over ``[lo, hi]``.

    >>> decade_ticks(1, 1999)
    [1.0, 10.0, 100.0, 1000.0]
    """
    if not (0 < lo <= hi):
        return []
    k0, k1 = math.ceil(math.log10(lo) - 1e-9), math.floor(math.log10(hi) + 1e-9)
    return [10.0**k for k in range(k0, k1 + 1)]


def _distance_x(
    title: str, log_x: bool, max_distance: float = 0.0, field: str = "distance"
) -> alt.X:
    """Distance axis; on a log axis distance 0 has no place, so callers drop it first, and
    the ticks sit at the powers of ten only (1, 10, 100, …), labelled 1, 10, 100, 1k, …"""
    if log_x:
        hi = max(1.0, float(max_distance))
        ticks = decade_ticks(1.0, hi)
        scale = alt.Scale(type="log", domain=[1.0, hi], nice=False)
        axis = alt.Axis(labelExpr=STEPS_LABEL_EXPR, values=ticks)
    else:
        scale, axis = alt.Scale(zero=True, nice=False), alt.Axis(labelExpr=STEPS_LABEL_EXPR)
    return alt.X(f"{field}:Q", title=title, scale=scale, axis=axis)


def _max_distance(data: pd.DataFrame) -> float:
    return float(data["distance"].max()) if len(data) else 1.0


def _text_units(text: str) -> int:
    """The width of ``text`` in Latin characters: a CJK or full-width one counts twice."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def legend_columns(names: Sequence[object]) -> alt.ExprRef:
    """As many legend columns as fit the chart's width (a Vega expression of ``width``),
    so that a legend below the plot wraps on a phone instead of running off its edge:
    a column is as wide as the longest name (about 7 px a character, twice that for a
    Chinese one) plus its symbol."""
    longest = max((_text_units(str(n)) for n in names), default=1)
    column_px = 7 * longest + 45
    return alt.ExprRef(f"max(1, min({max(1, len(names))}, floor(width / {column_px})))")


def bottom_legend(names: Sequence[object], label_limit: int = 400, **kwargs: Any) -> alt.Legend:
    """A legend below the plot that fits any width: as many columns as fit
    (:func:`legend_columns`, one on a phone, where the entries stack instead of running
    off the right edge in one row), labels at most ``label_limit`` px and never wider
    than the plot (the legend starts at the plot's left edge)."""
    return alt.Legend(
        orient="bottom",
        columns=legend_columns(names),
        labelLimit=alt.ExprRef(f"max(80, min({label_limit}, width - 40))"),
        **kwargs,
    )


def y_range_scale(data: pd.DataFrame, y_decades: float | None) -> alt.Scale:
    """The log10 y scale: all the data, or only the ``y_decades`` decades below the
    highest point (whole decades), so that curves which span thousands of decades do not
    merge into one band. Lines are clipped at the bottom edge."""
    if not y_decades or not len(data):
        return alt.Scale(zero=False)
    top = math.ceil(float(data["log10"].max()) + 1e-9)
    return alt.Scale(zero=False, domain=[top - float(y_decades), top], nice=False)


def decay_chart(
    curve: pd.DataFrame,
    *,
    x_title: str,
    y_title: str,
    theory: pd.DataFrame | None = None,
    threshold_log10: float | None = None,
    threshold_label: str = "",
    log_x: bool = False,
    height: int = 380,
    y_decades: float | None = None,
) -> alt.LayerChart:
    """Gradient norm against distance: the measured curve(s) and an optional theory overlay.

    ``curve`` and ``theory`` have columns ``name``, ``distance``, ``log_norm`` (natural
    log). The theory is drawn dashed. ``threshold_log10`` adds a horizontal rule (the
    memory-horizon threshold). ``y_decades`` clamps the y range (:func:`y_range_scale`).
    """
    frames = [with_log10(curve).assign(kind="measured")]
    if theory is not None and len(theory):
        frames.append(with_log10(theory).assign(kind="theory"))
    data = pd.concat(frames, ignore_index=True)
    if log_x:
        data = data[data["distance"] > 0]
    names = list(dict.fromkeys(data["name"]))
    color = alt.Color(
        "name:N",
        title=None,
        sort=names,
        scale=alt.Scale(domain=names, range=list(DECAY_COLORS[: len(names)]))
        if len(names) <= len(DECAY_COLORS)
        else alt.Undefined,
        legend=bottom_legend(names),
    )
    base = alt.Chart(data).encode(
        x=_distance_x(x_title, log_x, _max_distance(data)),
        y=alt.Y("log10:Q", axis=log10_axis(y_title), scale=y_range_scale(data, y_decades)),
        color=color,
        strokeDash=alt.StrokeDash(
            "kind:N",
            scale=alt.Scale(domain=["measured", "theory"], range=[[1, 0], [6, 4]]),
            legend=None,
        ),
        tooltip=[
            alt.Tooltip("name:N", title=""),
            alt.Tooltip("distance:Q", title=x_title, format=","),
            alt.Tooltip("value:N", title=y_title.split("(")[0].strip()),
            alt.Tooltip("log10:Q", title="log10", format=".3f"),
        ],
    )
    layers: list[alt.Chart] = [base.mark_line(strokeWidth=2.2, clip=True)]
    if threshold_log10 is not None:
        rule = alt.Chart(
            pd.DataFrame({"log10": [threshold_log10], "label": [threshold_label]})
        ).encode(y="log10:Q", tooltip=alt.Tooltip("label:N", title=""))
        layers.append(rule.mark_rule(color="#888", strokeDash=[2, 3], clip=True))
    return alt.LayerChart(layer=layers).properties(height=height)


def layered_curves_chart(
    curves: pd.DataFrame,
    *,
    x_title: str,
    y_title: str,
    threshold_log10: float | None = None,
    threshold_label: str = "",
    log_x: bool = False,
    height: int = 440,
    y_decades: float | None = None,
) -> alt.LayerChart:
    """Many cells on one chart; clicking a legend entry highlights that cell.

    ``curves`` has columns ``name``, ``distance``, ``log_norm``. The legend is bound to
    a point selection on ``name`` (shift-click adds more names). ``y_decades`` clamps
    the y range (:func:`y_range_scale`).
    """
    data = with_log10(curves)
    if log_x:
        data = data[data["distance"] > 0]
    names = list(dict.fromkeys(data["name"]))
    # Below the chart, so a phone's narrow screen keeps the plot's whole width.
    legend = alt.Legend(
        orient="bottom",
        columns=legend_columns(names),
        labelLimit=600,
        symbolStrokeWidth=3,
        symbolType="stroke",
    )
    colors, dashes = curve_styles(len(names))
    select = alt.selection_point(fields=["name"], bind="legend", name="pick")
    base = alt.Chart(data).encode(
        x=_distance_x(x_title, log_x, _max_distance(data)),
        y=alt.Y("log10:Q", axis=log10_axis(y_title), scale=y_range_scale(data, y_decades)),
        color=alt.Color(
            "name:N",
            title=None,
            sort=names,
            scale=alt.Scale(domain=names, range=colors),
            legend=legend,
        ),
        # The same field, title and legend as the colour: Vega-Lite draws one legend
        # whose symbols show both.
        strokeDash=alt.StrokeDash(
            "name:N",
            title=None,
            sort=names,
            scale=alt.Scale(domain=names, range=dashes),
            legend=legend,
        ),
        opacity=alt.when(select).then(alt.value(1.0)).otherwise(alt.value(0.12)),
        tooltip=[
            alt.Tooltip("name:N", title=""),
            alt.Tooltip("distance:Q", title=x_title, format=","),
            alt.Tooltip("value:N", title=y_title.split("(")[0].strip()),
        ],
    )
    layers: list[alt.Chart] = [
        base.mark_line(strokeWidth=2.4, clip=True).add_params(select),
    ]
    if threshold_log10 is not None:
        rule = alt.Chart(
            pd.DataFrame({"log10": [threshold_log10], "label": [threshold_label]})
        ).encode(y="log10:Q", tooltip=alt.Tooltip("label:N", title=""))
        layers.append(rule.mark_rule(color="#888", strokeDash=[2, 3], clip=True))
    # The plot keeps its height and the legend grows below it ("fit-x"): on a phone the
    # legend wraps into more rows (legend_columns) instead of squeezing the plot.
    autosize = alt.AutoSizeParams(type="fit-x", contains="padding")
    return alt.LayerChart(layer=layers).properties(height=height, autosize=autosize)


def rate_bar_chart(
    rates: pd.DataFrame,
    *,
    x_title: str,
    sign_labels: tuple[str, str],
    height: int = 440,
) -> alt.Chart:
    """The decay rate of every curve as one bar, fastest forgetting at the top.

    ``rates`` has columns ``name`` and ``rate`` (decades per step; negative: vanishing).
    Bars are coloured by sign (``sign_labels``: growing, decaying). Unlike the curves,
    bars stay apart however wide the range of the norms is.
    """
    data = rates[np.isfinite(rates["rate"])].copy()
    grow, decay = sign_labels
    data["sign"] = np.where(data["rate"] > 0, grow, decay)
    return (
        alt.Chart(data)
        .mark_bar()
        .encode(
            y=alt.Y("name:N", sort=alt.EncodingSortField("rate", order="ascending"), title=None),
            x=alt.X("rate:Q", title=x_title, axis=alt.Axis(format="~g")),
            color=alt.Color(
                "sign:N",
                title=None,
                scale=alt.Scale(domain=[grow, decay], range=[OKABE_ITO[6], OKABE_ITO[5]]),
                legend=bottom_legend([grow, decay]),
            ),
            tooltip=[
                alt.Tooltip("name:N", title=""),
                alt.Tooltip("rate:Q", title=x_title, format=".3g"),
            ],
        )
        .properties(height=height)
    )


def telephone_chart(
    df: pd.DataFrame,
    *,
    x_title: str,
    y_title: str,
    height: int = 360,
) -> alt.LayerChart:
    """Surviving fraction of the first message after each person, on a log scale.

    ``df`` has columns ``person`` (1..n), ``model`` and ``fraction`` (> 0).
    """
    data = df.copy()
    data["fraction"] = np.clip(data["fraction"].to_numpy(dtype=float), 1e-300, None)
    data["percent"] = [f"{100 * f:.3g} %" for f in data["fraction"]]
    models = list(dict.fromkeys(data["model"]))
    low = math.floor(math.log10(float(data["fraction"].min())))
    step = max(1, math.ceil(-low / 8))
    ticks = [10.0**-k for k in range(0, -low + 1, step)]
    # One label format per chart: all percentages, or all powers of ten when that is
    # shorter (below 1e-6 a percentage needs more than six zeros).
    label_expr = PERCENT_LABEL_EXPR if ticks[-1] >= 1e-6 else POW10_LABEL_EXPR
    base = alt.Chart(data).encode(
        x=alt.X(
            "person:Q",
            title=x_title,
            scale=alt.Scale(domain=[1, max(2, int(data["person"].max()))], nice=False),
            axis=alt.Axis(tickMinStep=1, format="d"),
        ),
        y=alt.Y(
            "fraction:Q",
            title=y_title,
            scale=alt.Scale(type="log"),
            axis=alt.Axis(labelExpr=label_expr, values=ticks),
        ),
        color=alt.Color(
            "model:N",
            title=None,
            sort=models,
            scale=alt.Scale(domain=models, range=list(TELEPHONE_COLORS[: len(models)])),
            legend=bottom_legend(models),
        ),
        tooltip=[
            alt.Tooltip("model:N", title=""),
            alt.Tooltip("person:Q", title=x_title),
            alt.Tooltip("percent:N", title=y_title),
        ],
    )
    return alt.LayerChart(
        layer=[base.mark_line(strokeWidth=2.5), base.mark_circle(size=38)]
    ).properties(height=height)


def block_average(values: np.ndarray, max_rows: int = 100, max_cols: int = 100) -> np.ndarray:
    """Average non-overlapping blocks so the grid has at most ``max_rows x max_cols`` cells.

    Blocks are ``ceil(rows / max_rows) x ceil(cols / max_cols)``; the last block in each
    direction may be smaller. NaNs are ignored inside a block.
    """
    arr = np.asarray(values, dtype=float)
    if arr.ndim != 2:
        raise ValueError(f"values must be a 2-D grid; got {arr.ndim} dimensions")
    rows, cols = arr.shape
    br, bc = max(1, math.ceil(rows / max_rows)), max(1, math.ceil(cols / max_cols))
    if br == 1 and bc == 1:
        return arr.copy()
    out_r, out_c = math.ceil(rows / br), math.ceil(cols / bc)
    pad = np.full((out_r * br, out_c * bc), np.nan)
    pad[:rows, :cols] = arr
    blocks = pad.reshape(out_r, br, out_c, bc)
    with np.errstate(invalid="ignore"):
        return np.nanmean(blocks, axis=(1, 3))


def _edges(centres: np.ndarray, log: bool) -> tuple[np.ndarray, np.ndarray]:
    """Cell boundaries around sorted centres (midpoints; geometric ones for a log axis)."""
    c = np.log(centres) if log else np.asarray(centres, dtype=float)
    if len(c) == 1:
        half = 0.5 if log else max(abs(c[0]) * 0.05, 0.05)
        lo, hi = np.array([c[0] - half]), np.array([c[0] + half])
    else:
        mid = (c[1:] + c[:-1]) / 2
        lo = np.concatenate([[c[0] - (mid[0] - c[0])], mid])
        hi = np.concatenate([mid, [c[-1] + (c[-1] - mid[-1])]])
    return (np.exp(lo), np.exp(hi)) if log else (lo, hi)


def _powers_of_two(lo: float, hi: float) -> list[float]:
    """``2^k`` in ``[lo, hi]`` (``0 < lo``): the round ticks of a base-2 log axis."""
    if not (0 < lo <= hi):
        return []
    return [2.0**k for k in range(math.ceil(math.log2(lo)), math.floor(math.log2(hi)) + 1)]


def heatmap_chart(
    grid: np.ndarray,
    x_values: Sequence[float],
    y_values: Sequence[float],
    *,
    x_title: str,
    y_title: str,
    color_title: str,
    diverging: bool = False,
    color_log10: bool = False,
    y_log: bool = False,
    edge: pd.DataFrame | None = None,
    edge_label: str = "",
    marker: tuple[float, float] | None = None,
    height: int = 420,
    pick: str | None = None,
) -> alt.LayerChart:
    """Heatmap of ``grid[i, j]`` at ``(x_values[j], y_values[i])`` with an optional edge line
    and an optional ``marker`` (a ring at one ``(x, y)`` point, e.g. the one inspected below).

    The grid is block-averaged to at most 100 x 100 first. ``diverging`` centres a
    red-blue scale on zero (decay rate: blue vanishing, red exploding). ``color_log10``
    says the values are log10 of a quantity: the legend then reads as powers of ten at
    whole decades ("1e1", "1e2"), like the gradient axes. A ``y_log`` axis (base 2) has
    its ticks at the powers of two (8, 16, 32, … for H). ``edge`` has
    columns ``x``, ``y`` (and optionally ``line`` to draw several lines). ``pick`` names a
    click selection of one cell (its ``x``, ``y``), for ``st.altair_chart(on_select=...)``.
    """
    values = np.asarray(grid, dtype=float)
    xs, ys = np.asarray(x_values, dtype=float), np.asarray(y_values, dtype=float)
    if values.shape != (len(ys), len(xs)):
        raise ValueError(
            f"grid must have shape (len(y_values), len(x_values)) = ({len(ys)}, {len(xs)}); "
            f"got {values.shape}"
        )
    if values.shape[0] > 100 or values.shape[1] > 100:
        values = block_average(values)
        xs = block_average(xs[None, :], 1, 100)[0]
        ys = block_average(ys[None, :], 1, 100)[0]
    x0, x1 = _edges(xs, False)
    y0, y1 = _edges(ys, y_log)
    jj, ii = np.meshgrid(np.arange(len(xs)), np.arange(len(ys)))
    data = pd.DataFrame(
        {
            "x": xs[jj.ravel()],
            "x0": x0[jj.ravel()],
            "x1": x1[jj.ravel()],
            "y": ys[ii.ravel()],
            "y0": y0[ii.ravel()],
            "y1": y1[ii.ravel()],
            "value": values.ravel(),
        }
    )
    data = data[np.isfinite(data["value"])]
    if diverging:
        # Saturate at the 90th percentile so the cells near the edge are not all white.
        vmax = float(np.nanpercentile(np.abs(data["value"]), 90)) if len(data) else 1.0
        vmax = vmax if vmax > 0 else 1.0
        scale = alt.Scale(
            scheme="redblue", reverse=True, domainMid=0, domain=[-vmax, vmax], clamp=True
        )
    else:
        scale = alt.Scale(scheme="viridis")
    # The colour bar above the plot, not at its right: at its right (as wide as its title)
    # it took half of a phone's width from the cells and from the edge legend below them.
    legend_kw: dict[str, Any] = {
        "orient": "top",
        "direction": "horizontal",
        "titleOrient": "top",
        "titleLimit": alt.ExprRef("max(80, width)"),
        "gradientLength": alt.ExprRef("clamp(width - 40, 80, 300)"),
    }
    if color_log10 and len(data):
        lo, hi = float(data["value"].min()), float(data["value"].max())
        decades = list(range(math.ceil(lo - 1e-9), math.floor(hi + 1e-9) + 1))
        legend_kw.update(labelExpr=LOG10_LABEL_EXPR, values=decades)
    legend = alt.Legend(**legend_kw)
    xscale = alt.Scale(domain=[float(x0[0]), float(x1[-1])], nice=False, zero=False)
    yscale = alt.Scale(
        type="log" if y_log else "linear",
        domain=[float(y0[0]), float(y1[-1])],
        nice=False,
        zero=False,
        base=2 if y_log else alt.Undefined,
    )
    rect = (
        alt.Chart(data)
        .mark_rect()
        .encode(
            x=alt.X("x0:Q", title=x_title, scale=xscale),
            x2="x1:Q",
            y=alt.Y(
                "y0:Q",
                title=y_title,
                scale=yscale,
                axis=alt.Axis(values=_powers_of_two(float(y0[0]), float(y1[-1])))
                if y_log
                else alt.Undefined,
            ),
            y2="y1:Q",
            color=alt.Color("value:Q", title=color_title, scale=scale, legend=legend),
            tooltip=[
                alt.Tooltip("x:Q", title=x_title, format=".3g"),
                alt.Tooltip("y:Q", title=y_title, format=".4g"),
                alt.Tooltip("value:Q", title=color_title, format=".4g"),
            ],
        )
    )
    if pick is not None:
        rect = rect.add_params(alt.selection_point(name=pick, fields=["x", "y"], on="click"))
    layers: list[alt.Chart] = [rect]
    if edge is not None and len(edge):
        e = edge.copy()
        if "line" not in e:
            e["line"] = edge_label
        e = e[(e["x"] >= x0[0]) & (e["x"] <= x1[-1])]
        layers.append(
            alt.Chart(e)
            .mark_line(color="black", strokeWidth=2.5)
            .encode(
                x=alt.X("x:Q", scale=xscale),
                y=alt.Y("y:Q", scale=yscale),
                order="y:Q",
                strokeDash=alt.StrokeDash(
                    "line:N",
                    title=None,
                    scale=alt.Scale(range=[[6, 3], [2, 2]]),
                    legend=bottom_legend(list(dict.fromkeys(e["line"])), symbolStrokeColor="black"),
                ),
                tooltip=alt.Tooltip("line:N", title=""),
            )
        )
    if marker is not None:
        layers.append(
            alt.Chart(pd.DataFrame({"x": [marker[0]], "y": [marker[1]]}))
            .mark_point(shape="circle", size=260, filled=False, strokeWidth=3, color="black")
            .encode(x=alt.X("x:Q", scale=xscale), y=alt.Y("y:Q", scale=yscale))
        )
    return alt.LayerChart(layer=layers).properties(height=height)


def lyapunov_chart(
    exponents: Sequence[float],
    *,
    x_title: str,
    y_title: str,
    height: int = 300,
) -> alt.LayerChart:
    """Lyapunov exponents (nats per step) by index, with the zero line (order | chaos)."""
    lam = np.asarray(exponents, dtype=float)
    data = pd.DataFrame({"index": np.arange(1, len(lam) + 1), "exponent": lam})
    data["sign"] = np.where(data["exponent"] > 0, "> 0", "≤ 0")
    bars = (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X("index:O", title=x_title),
            y=alt.Y("exponent:Q", title=y_title),
            color=alt.Color(
                "sign:N",
                scale=alt.Scale(domain=["> 0", "≤ 0"], range=["#d62728", "#1f77b4"]),
                legend=None,
            ),
            tooltip=[
                alt.Tooltip("index:O", title=x_title),
                alt.Tooltip("exponent:Q", title=y_title, format=".4f"),
            ],
        )
    )
    zero = alt.Chart(pd.DataFrame({"y": [0.0]})).mark_rule(color="black").encode(y="y:Q")
    return alt.LayerChart(layer=[bars, zero]).properties(height=height)


#: At most this many points per training curve reach the browser.
TRAIN_MAX_POINTS = 500


def smooth_geometric(values: np.ndarray, window: int) -> np.ndarray:
    """Centred running geometric mean over ``window`` steps: a running mean of log10 values,
    so one spike of a loss spanning decades does not dominate its neighbours."""
    logs = pd.Series(np.log10(np.asarray(values, dtype=float)))
    return 10.0 ** logs.rolling(max(1, int(window)), center=True, min_periods=1).mean().to_numpy()


def log_ticks(lo: float, hi: float, max_ticks: int = 8) -> list[float]:
    """Powers of ten between the decades around ``lo`` and ``hi`` (both > 0), every k-th
    decade for a round k (1, 2, 5, 10, 20, 50, …) so that there are at most ``max_ticks``:
    labels and grid lines only where a log axis is easy to read."""
    k0, k1 = math.floor(math.log10(lo)), math.ceil(math.log10(hi))
    step = 1
    for scale in (1, 10, 100, 1000):
        for base in (1, 2, 5):
            step = base * scale
            if k1 // step - math.ceil(k0 / step) + 1 <= max_ticks:
                return [10.0**k for k in range(math.ceil(k0 / step) * step, k1 + 1, step)]
    return [10.0**k for k in range(math.ceil(k0 / step) * step, k1 + 1, step)]


def _training_frames(
    history: pd.DataFrame, value: str, smooth: int, max_points: int
) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """Raw and smoothed curves (``name``, ``step``, ``y``) with non-finite and non-positive
    values dropped (a log axis has no place for them), thinned to ``max_points``."""
    df = history[["name", "step", value]].rename(columns={value: "y"})
    y = df["y"].to_numpy(dtype=float)
    df = df[np.isfinite(y) & (y > 0)]
    names = list(dict.fromkeys(history["name"]))
    raw, smoothed = [], []
    for _, g in df.groupby("name", sort=False):
        g = g.sort_values("step")
        window = smooth or 2 * round(len(g) / 80) + 1  # odd: centred exactly
        s = g.assign(y=smooth_geometric(g["y"].to_numpy(), window))
        stride = max(1, math.ceil(len(g) / max_points))
        raw.append(g.iloc[::stride])
        smoothed.append(pd.concat([s.iloc[::stride], s.iloc[[-1]]]).drop_duplicates("step"))
    empty = pd.DataFrame({"name": [], "step": [], "y": []})
    return (
        pd.concat(raw, ignore_index=True) if raw else empty,
        pd.concat(smoothed, ignore_index=True) if smoothed else empty,
        names,
    )


def training_chart(
    history: pd.DataFrame,
    *,
    x_title: str,
    y_title: str,
    value: str = "loss",
    hlines: pd.DataFrame | None = None,
    vlines: pd.DataFrame | None = None,
    vline_color: str = "#d62728",
    smooth: int = 0,
    max_points: int = TRAIN_MAX_POINTS,
    y_max: float | None = None,
    height: int = 420,
) -> alt.LayerChart:
    """A training curve per run (loss or gradient norm against step) on a log y axis.

    ``history`` has columns ``name``, ``step`` and ``value``. Each run is drawn twice: the
    per-batch values thin and faint, a centred running geometric mean over ``smooth``
    steps (0: an odd window of about 1/40 of the run) on top. ``hlines`` (``y``, ``label``) are dashed
    horizontal references labelled at the right end (the memoryless baseline, the
    clipping threshold); ``vlines`` (``step``, ``label``) mark events such as the step
    where a run diverged, labelled at the top. ``y_max`` cuts the axis there (curves
    leave the chart at the top), so a diverging run does not flatten the others. Colours
    follow the order of first appearance of ``name``.
    """
    raw, smoothed, names = _training_frames(history, value, smooth, max_points)
    yscale = alt.Scale(type="log") if y_max is None else alt.Scale(type="log", domainMax=y_max)
    values = pd.concat([raw["y"], smoothed["y"]])
    if hlines is not None and len(hlines):
        values = pd.concat([values, hlines["y"]])
    if y_max is not None:
        values = values[values <= y_max]
    ticks = log_ticks(float(values.min()), float(values.max())) if len(values) else []
    color = alt.Color(
        "name:N",
        title=None,
        sort=names,
        scale=alt.Scale(domain=names, scheme="tableau10" if len(names) <= 10 else "tableau20"),
        legend=alt.Legend(
            orient="bottom",
            labelLimit=400,
            symbolStrokeWidth=3,
            symbolOpacity=1,
            columns=legend_columns(names),
        ),
    )
    x = alt.X(
        "step:Q",
        title=x_title,
        scale=alt.Scale(nice=False, zero=False),
        axis=alt.Axis(labelExpr=STEPS_LABEL_EXPR),
    )
    y = alt.Y("y:Q", title=y_title, scale=yscale, axis=alt.Axis(format="~g", values=ticks))
    tip_title = y_title.split("(")[0].split("（")[0].strip()
    tooltip = [
        alt.Tooltip("name:N", title=""),
        alt.Tooltip("step:Q", title=x_title, format=","),
        alt.Tooltip("y:Q", title=tip_title, format=".4g"),
    ]
    layers: list[alt.Chart] = [
        alt.Chart(raw)
        .mark_line(strokeWidth=1, opacity=0.3, clip=True)
        .encode(x=x, y=y, color=color, detail="name:N"),
        alt.Chart(smoothed)
        .mark_line(strokeWidth=2.4, clip=True)
        .encode(x=x, y=y, color=color, tooltip=tooltip),
    ]
    steps = pd.concat([raw["step"], smoothed["step"]])
    x_right = float(steps.max()) if len(steps) else 0.0
    if hlines is not None and len(hlines):
        hl = hlines.assign(step=x_right)
        rule = alt.Chart(hl).encode(
            y=alt.Y("y:Q", scale=yscale), tooltip=alt.Tooltip("label:N", title="")
        )
        layers.append(rule.mark_rule(color="#555", strokeDash=[6, 4], strokeWidth=1.5))
        text: dict[str, Any] = {
            "align": "right",
            "baseline": "bottom",
            "dx": -4,
            "dy": -3,
            "fontSize": 12,
        }
        for halo in (True, False):  # a white outline first keeps the label readable on curves
            style: dict[str, Any] = {"stroke": "white", "strokeWidth": 4} if halo else {}
            layers.append(
                rule.mark_text(color="#444", **text, **style).encode(
                    x=alt.X("step:Q"), text="label:N"
                )
            )
    if vlines is not None and len(vlines):
        for i, (_, row) in enumerate(vlines.iterrows()):
            one = pd.DataFrame({"step": [row["step"]], "label": [row["label"]]})
            base = alt.Chart(one).encode(
                x=alt.X("step:Q"), tooltip=alt.Tooltip("label:N", title="")
            )
            layers.append(base.mark_rule(color=vline_color, strokeDash=[4, 3], strokeWidth=1.5))
            for halo in (True, False):
                style = {"stroke": "white", "strokeWidth": 4} if halo else {}
                layers.append(
                    base.mark_text(
                        align="left", baseline="top", dx=5, color=vline_color, fontSize=12,
                        **style,
                    ).encode(y=alt.value(4 + 16 * i), text="label:N")
                )  # fmt: skip
    autosize = alt.AutoSizeParams(type="fit-x", contains="padding")  # legend below the plot
    return alt.LayerChart(layer=layers).properties(height=height, autosize=autosize)


# -- hear page: connectivity over the words of a sentence ------------------------------------


def _word_axis(words: Sequence[str], title: str, angle: int) -> alt.Axis:
    """An axis of word positions 0..T-1 labelled with the words themselves (a word may
    repeat, so the positions are the values and the words only their labels)."""
    import json

    return alt.Axis(
        title=title,
        labelExpr=f"{json.dumps(list(words), ensure_ascii=False)}[datum.value]",
        labelAngle=angle,
        labelOverlap=False,
    )


def token_heatmap_chart(
    C: np.ndarray,
    words: Sequence[str],
    *,
    row: int,
    column: int,
    x_title: str,
    y_title: str,
    color_title: str,
    height: int = 460,
) -> alt.LayerChart:
    """Connectivity ``C[t, k]`` over the words of one sentence: a cell per output word
    ``t`` (rows) and input word ``k <= t`` (columns), coloured by its share of its row,
    ``C[t, k] / sum_k C[t, k]`` ("where word t listens"). Row ``row`` (the pronoun) is
    outlined in red and its cell in column ``column`` (the name) ringed in black."""
    values = np.asarray(C, dtype=float)
    T = len(words)
    if values.shape != (T, T):
        raise ValueError(f"C must have shape ({T}, {T}) for {T} words; got {values.shape}")
    t, k = np.tril_indices(T)
    totals = values.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(totals[t] > 0, values[t, k] / totals[t], 0.0)
    frame = pd.DataFrame(
        {
            "t": t,
            "k": k,
            "share": share,
            "value": values[t, k],
            "word_t": [words[int(i)] for i in t],
            "word_k": [words[int(i)] for i in k],
        }
    )
    positions = list(range(T))
    x = alt.X("k:O", scale=alt.Scale(domain=positions), axis=_word_axis(words, x_title, -50))
    y = alt.Y("t:O", scale=alt.Scale(domain=positions), axis=_word_axis(words, y_title, 0))
    tooltip = [
        alt.Tooltip("word_t:N", title=y_title),
        alt.Tooltip("word_k:N", title=x_title),
        alt.Tooltip("share:Q", title=color_title, format=".1%"),
        alt.Tooltip("value:Q", title="‖∂h_t/∂x_k‖", format=".3g"),
    ]
    cells = (
        alt.Chart(frame)
        .mark_rect()
        .encode(
            x=x,
            y=y,
            color=alt.Color(
                "share:Q",
                title=color_title,
                scale=alt.Scale(type="sqrt", domain=[0, 1], range=["#ffffff", "#08306b"]),
                legend=alt.Legend(format="~%", orient="right"),
            ),
            tooltip=tooltip,
        )
    )
    on_row = frame[frame["t"] == row]
    outline = (
        alt.Chart(on_row)
        .mark_rect(fill=None, stroke="#d62728", strokeWidth=2.5)
        .encode(x=x, y=y, tooltip=tooltip)
    )
    ring = (
        alt.Chart(on_row[on_row["k"] == column])
        .mark_rect(fill=None, stroke="black", strokeWidth=3.5)
        .encode(x=x, y=y, tooltip=tooltip)
    )
    return alt.LayerChart(layer=[cells, outline, ring]).properties(height=height)


def share_bar_chart(shares: pd.DataFrame, *, x_title: str, height: int = 220) -> alt.Chart:
    """One bar per model: ``shares`` has columns ``name`` and ``share`` (0..1), shown in
    the frame's order with the percentage at the end of each bar."""
    base = alt.Chart(shares).encode(
        y=alt.Y("name:N", sort=list(shares["name"]), title=None, axis=alt.Axis(labelLimit=300)),
        x=alt.X(
            "share:Q",
            title=x_title,
            scale=alt.Scale(domain=[0, 1]),
            axis=alt.Axis(format="~%", values=[0, 0.25, 0.5, 0.75, 1]),
        ),
        tooltip=[
            alt.Tooltip("name:N", title=""),
            alt.Tooltip("share:Q", title=x_title, format=".1%"),
        ],
    )
    bars = base.mark_bar(color=OKABE_ITO[5])
    labels = base.mark_text(align="left", dx=4, fontSize=12).encode(
        text=alt.Text("share:Q", format=".1%")
    )
    return (bars + labels).properties(height=height)


# -- your model: the depth x time map of a stack ----------------------------------------------


def layer_map_chart(
    log10: np.ndarray,
    distance: Sequence[float],
    layers: Sequence[str],
    *,
    x_title: str,
    y_title: str,
    color_title: str,
    height: int | None = None,
) -> alt.Chart:
    """The depth x time decay map: one row per layer (``layers``, bottom first, drawn with
    the bottom layer at the bottom), one cell per distance from the loss, coloured by
    ``log10[l, j]`` = log10 of that layer's gradient norm, the legend as powers of ten.
    Columns are the exact values at ``distance`` (no averaging): the cell of column ``j``
    spans the midpoints to its neighbours."""
    grid = np.asarray(log10, dtype=float)
    xs = np.asarray(distance, dtype=float)
    if grid.shape != (len(layers), len(xs)):
        raise ValueError(
            f"log10 must have shape (len(layers), len(distance)) = ({len(layers)}, {len(xs)}); "
            f"got {grid.shape}"
        )
    x0, x1 = _edges(xs, False)
    jj, ii = np.meshgrid(np.arange(len(xs)), np.arange(len(layers)))
    frame = pd.DataFrame(
        {
            "distance": xs[jj.ravel()],
            "x0": x0[jj.ravel()],
            "x1": x1[jj.ravel()],
            "layer": [layers[int(i)] for i in ii.ravel()],
            "log10": grid.ravel(),
        }
    )
    frame = frame[np.isfinite(frame["log10"])]
    legend: Any = alt.Legend(labelExpr=LOG10_LABEL_EXPR)
    if len(frame):
        lo, hi = math.ceil(frame["log10"].min() - 1e-9), math.floor(frame["log10"].max() + 1e-9)
        if lo <= hi:  # whole decades, at most about seven of them
            step = max(1, math.ceil((hi - lo) / 6))
            legend = alt.Legend(labelExpr=LOG10_LABEL_EXPR, values=list(range(lo, hi + 1, step)))
    return (
        alt.Chart(frame)
        .mark_rect()
        .encode(
            x=alt.X(
                "x0:Q",
                title=x_title,
                scale=alt.Scale(domain=[float(x0[0]), float(x1[-1])], nice=False, zero=False),
            ),
            x2="x1:Q",
            y=alt.Y("layer:O", title=y_title, sort=list(layers)[::-1]),
            color=alt.Color(
                "log10:Q", title=color_title, scale=alt.Scale(scheme="viridis"), legend=legend
            ),
            tooltip=[
                alt.Tooltip("layer:O", title=y_title),
                alt.Tooltip("distance:Q", title=x_title, format=",d"),
                alt.Tooltip("log10:Q", title=color_title, format=".3g"),
            ],
        )
        .properties(height=height or max(160, 60 * len(layers)))
    )
