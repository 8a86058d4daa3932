"""Charts and a markdown summary of a sweep's results folder (``longdep report DIR``).

The chart builders return Altair charts, so they can be checked without rendering;
:func:`render_report` turns them into PNG and SVG with vl-convert and writes
``report.md`` beside them.

- ``curves``: the log-norm curve of every configuration (mean over seeds) against the
  distance on a log axis, one panel per cell, coloured by spectral radius (or by the
  parameter the sweep varies).
- ``horizon``: memory horizon against the swept parameter, log scale; one line per cell.
- ``decay``: decay rate (``lyapunov``: the largest Lyapunov exponent) against it.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd

from .plumbing import write_atomic
from .sweep import SweepError, collect, read_curves

__all__ = ["curves_chart", "decay_chart", "horizon_chart", "render_report"]

#: Numeric parameters that make a good x axis, most telling first.
_X_CANDIDATES = (
    "spectral_radius",
    "hidden",
    "length",
    "gain",
    "r_max",
    "r_min",
    "input_scale",
    "residual",
    "chrono",
    "forget_bias",
    "batch",
    "input_size",
)
_CATEGORICAL = ("init", "nonlinearity", "layer_norm", "dtype")
_SETTINGS = ("sweep", "quantity", "n_points", "wrt", "k", "warmup")
_LN10 = math.log(10.0)
_NOT_REACHED = "no (drawn at T)"
_CELL_ORDER = ["elman", "lstm", "gru", "lru", "attention"]
_THRESHOLD = "1e-6"

_SYMBOL = {
    "spectral_radius": "ρ",
    "hidden": "H",
    "length": "T",
    "gain": "gain",
    "r_max": "r_max",
    "r_min": "r_min",
}


def _alt() -> Any:
    import altair as alt

    return alt


def _varied(df: pd.DataFrame, cols: Sequence[str]) -> list[str]:
    """Columns of ``cols`` that take more than one value within some cell.

    A missing value counts as a value (GRU without and with ``chrono``), but a key
    that one cell lacks and another has once (LRU and Elman's radius) is not varied.
    """

    def varies(c: str) -> bool:
        values = df[c].astype(object).where(df[c].notna(), None).map(repr)
        if "cell" not in df:
            return values.nunique() > 1
        return bool((values.groupby(df["cell"]).nunique() > 1).any())

    return [c for c in cols if c in df and varies(c)]


def _x_param(summary: pd.DataFrame) -> str:
    varied = _varied(summary, _X_CANDIDATES)
    if varied:
        return varied[0]
    varied = _varied(summary, _CATEGORICAL)
    return varied[0] if varied else "cell"


def _group_cols(summary: pd.DataFrame) -> list[str]:
    """The parameters that tell configurations apart (seeds excluded)."""
    params = [c for c in (*_X_CANDIDATES, *_CATEGORICAL) if c in summary]
    return ["cell", *_varied(summary, params)]


def _titles(summary: pd.DataFrame) -> tuple[str, str]:
    quantity = str(summary["quantity"].iloc[0])
    if quantity == "grad_norms":
        wrt = str(summary["wrt"].iloc[0]) if "wrt" in summary else "state"
        of = {"state": "∂L/∂h_t", "input": "∂L/∂x_t", "cell": "∂L/∂c_t"}.get(wrt, "∂L/∂h_t")
        return "distance from the loss (steps, log scale)", f"log₁₀ ‖{of}‖"
    if quantity == "sensitivity":
        return "steps since the perturbation (log scale)", "log₁₀ ‖∂h_t/∂h_0 · u‖"
    return "steps (log scale)", "log₁₀ growth of the leading tangent vector"


def _label(key: str, value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return f"{key} off" if key in ("chrono", "residual") else "n/a"
    if isinstance(value, float) and value.is_integer() and key not in ("spectral_radius",):
        value = int(value)
    return f"{_SYMBOL.get(key, key)} = {value}"


def curves_chart(curves: pd.DataFrame, summary: pd.DataFrame) -> Any:
    """Mean log-norm curve per configuration against distance (log x), panel per cell."""
    alt = _alt()
    group = _group_cols(summary)
    colour_key = next((c for c in _varied(summary, ("spectral_radius",))), None)
    colour_key = colour_key or next((c for c in group if c != "cell"), "cell")
    df = curves[curves["distance"] >= 1].copy()
    keys = [c for c in group if c in df]
    for c in keys:
        df[c] = df[c].astype(object).where(df[c].notna(), None)
    df["log10_norm"] = df["log_norm"] / _LN10
    mean = (
        df.groupby([*keys, "distance"], dropna=False, sort=True)["log10_norm"].mean().reset_index()
    )
    mean = mean[np.isfinite(mean["log10_norm"])]
    mean["series"] = [" ".join(map(str, row)) for row in mean[keys].itertuples(index=False)]
    mean["colour"] = [_label(colour_key, v) for v in mean[colour_key]]
    x_title, y_title = _titles(summary)
    n_seeds = summary["seed"].nunique() if "seed" in summary else 1
    seeds = f"mean over {n_seeds} seeds" if n_seeds > 1 else "one seed"
    numeric = colour_key in _X_CANDIDATES
    colour = alt.Color(
        "colour:N",
        title=_SYMBOL.get(colour_key, colour_key),
        sort=_sorted_labels(mean, colour_key) if numeric else "ascending",
        scale=alt.Scale(scheme="viridis") if numeric else alt.Undefined,
    )
    dash_key = next((c for c in keys if c not in ("cell", colour_key)), None)
    dash: Any = alt.Undefined
    if dash_key is not None:
        mean["line"] = [_label(dash_key, v) for v in mean[dash_key]]
        dash = alt.StrokeDash("line:N", title=_SYMBOL.get(dash_key, dash_key))
    chart = (
        alt.Chart(mean.drop(columns=[c for c in keys if c != "cell"]))
        .mark_line(strokeWidth=1.5, opacity=0.85)
        .encode(
            x=alt.X(
                "distance:Q",
                scale=alt.Scale(type="log"),
                title=x_title,
                axis=alt.Axis(format="~s", values=_decades(df["distance"].max())),
            ),
            y=alt.Y("log10_norm:Q", title=y_title),
            color=colour,
            strokeDash=dash,
            detail="series:N",
            tooltip=["series:N", "distance:Q", alt.Tooltip("log10_norm:Q", format=".4g")],
        )
        .properties(width=260, height=220)
    )
    title = alt.TitleParams(
        "Decay curves",
        subtitle=f"{y_title} against {x_title.split(' (')[0]}; {seeds}; a straight falling line is exponential vanishing",
        anchor="start",
    )
    if summary["cell"].nunique() > 1:
        order = [c for c in _CELL_ORDER if c in set(mean["cell"])]
        return chart.facet(column=alt.Column("cell:N", title=None, sort=order), title=title)
    return chart.properties(title=title)


def _decades(top: float) -> list[int]:
    """1, 10, 100, ... up to ``top``: tick values of a log distance axis."""
    return [10**k for k in range(int(math.log10(max(top, 1.0))) + 1)]


def _sorted_labels(df: pd.DataFrame, key: str) -> list[str]:
    values = sorted({v for v in df[key] if v is not None and not pd.isna(v)})
    labels = [_label(key, v) for v in values]
    return [*labels, "n/a"] if df[key].isna().any() else labels


def _per_config(summary: pd.DataFrame, value: str) -> pd.DataFrame:
    """Seed rows plus a ``mean`` per configuration, ready for a line-and-points chart."""
    group = _group_cols(summary)
    df = summary.copy()
    for c in group:
        df[c] = df[c].astype(object).where(df[c].notna(), "n/a")
    return df[[*group, value, *(["seed"] if "seed" in df else []), "length"]]


def _x_encoding(alt: Any, x: str) -> Any:
    title = {
        "spectral_radius": "spectral radius ρ of W_hh",
        "hidden": "hidden size H",
        "length": "sequence length T (steps)",
        "gain": "recurrent gain",
    }.get(x, x)
    if x in _X_CANDIDATES:
        log = x in ("hidden", "length", "chrono")
        return alt.X(
            f"{x}:Q",
            title=title,
            scale=alt.Scale(type="log" if log else "linear", zero=False),
            axis=alt.Axis(labelOverlap=True, tickCount=8),
        )
    return alt.X(f"{x}:N", title=title)


def _colour_and_detail(summary: pd.DataFrame, x: str) -> tuple[str, list[str]]:
    group = _group_cols(summary)
    rest = [c for c in group if c not in (x, "cell")]
    return "cell", rest


def _split_reference(df: pd.DataFrame, x: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rows that have the x parameter, and the cells without it (LRU, attention)."""
    if x == "cell" or x not in df:
        return df, df.iloc[:0]
    missing = df[x] == "n/a"
    return df[~missing], df[missing]


def _reference_rules(alt: Any, ref: pd.DataFrame, value: str, how: str, log: bool = False) -> Any:
    """A dotted horizontal line per cell that has no x parameter (its value over seeds)."""
    agg = ref.groupby("cell", sort=False)[value].agg(how).reset_index()
    scale = alt.Scale(type="log") if log else alt.Undefined
    return (
        alt.Chart(agg)
        .mark_rule(strokeDash=[2, 3], strokeWidth=2)
        .encode(
            y=alt.Y(f"{value}:Q", scale=scale),
            color=alt.Color("cell:N", sort=_CELL_ORDER),
            tooltip=["cell:N", alt.Tooltip(f"{value}:Q", format=".4g")],
        )
    )


def _censored_horizon(df: pd.DataFrame) -> pd.Series:
    """The memory horizon with "not reached within T" counted as T: the one rule the chart
    and the summary table share (their medians over seeds then agree)."""
    h = df["memory_horizon"].astype(float)
    return h.where(np.isfinite(h), df["length"].astype(float))


def horizon_chart(summary: pd.DataFrame) -> Any:
    """Memory horizon against the swept parameter (log y); ▲ marks "not reached within T"."""
    alt = _alt()
    x = _x_param(summary)
    df = _per_config(summary, "memory_horizon")
    reached = np.isfinite(df["memory_horizon"].astype(float))
    df = df.assign(horizon=_censored_horizon(df), within_T=np.where(reached, "yes", _NOT_REACHED))
    df["horizon"] = df["horizon"].clip(lower=1.0)
    df, ref = _split_reference(df, x)
    colour, rest = _colour_and_detail(summary, x)
    base = alt.Chart(df).encode(
        x=_x_encoding(alt, x),
        color=alt.Color(f"{colour}:N", title=colour, sort=_CELL_ORDER),
    )
    y_title = "memory horizon (steps, log scale)"
    y = alt.Y("horizon:Q", scale=alt.Scale(type="log"), title=y_title)
    points = base.mark_point(filled=True, size=40, opacity=0.6).encode(
        y=y,
        shape=alt.Shape(
            "within_T:N",
            title="reached within T",
            scale=alt.Scale(domain=["yes", _NOT_REACHED], range=["circle", "triangle-up"]),
        ),
        tooltip=[*(f"{c}:N" for c in _group_cols(summary)), "horizon:Q", "within_T:N"],
    )
    line = base.mark_line().encode(
        y=alt.Y("median(horizon):Q", scale=alt.Scale(type="log"), title=y_title),
        detail=[f"{c}:N" for c in rest] or alt.Undefined,
        strokeDash=alt.StrokeDash(f"{rest[0]}:N", title=rest[0]) if rest else alt.Undefined,
    )
    title = alt.TitleParams(
        "Memory horizon",
        subtitle=f"steps until the norm falls below {_THRESHOLD} of its start; points: one per seed; line: median over seeds",
        anchor="start",
    )
    layers = [line, points]
    if len(ref):
        layers.append(_reference_rules(alt, ref, "horizon", "median", log=True))
    return alt.layer(*layers).properties(width=420, height=260, title=title)


def decay_chart(summary: pd.DataFrame) -> Any:
    """Decay rate (ln-norm per step) against the swept parameter; lyapunov: lambda_1."""
    alt = _alt()
    x = _x_param(summary)
    lyap = str(summary["quantity"].iloc[0]) == "lyapunov" and "lyapunov_1" in summary
    value = "lyapunov_1" if lyap else "decay_rate"
    df = _per_config(summary, value)
    df = df[np.isfinite(df[value].astype(float))]
    df, ref = _split_reference(df, x)
    colour, rest = _colour_and_detail(summary, x)
    y_title = (
        "largest Lyapunov exponent λ₁ (nats per step)"
        if lyap
        else "decay rate (slope of ln-norm per step)"
    )
    base = alt.Chart(df).encode(
        x=_x_encoding(alt, x), color=alt.Color(f"{colour}:N", title=colour, sort=_CELL_ORDER)
    )
    points = base.mark_point(filled=True, size=40, opacity=0.6).encode(
        y=alt.Y(f"{value}:Q", title=y_title),
        tooltip=[
            *(f"{c}:N" for c in _group_cols(summary)),
            alt.Tooltip(f"{value}:Q", format=".4g"),
        ],
    )
    line = base.mark_line().encode(
        y=alt.Y(f"mean({value}):Q", title=y_title),
        detail=[f"{c}:N" for c in rest] or alt.Undefined,
        strokeDash=alt.StrokeDash(f"{rest[0]}:N", title=rest[0]) if rest else alt.Undefined,
    )
    zero = (
        alt.Chart(pd.DataFrame({"y": [0.0]}))
        .mark_rule(strokeDash=[4, 4], color="gray")
        .encode(y="y:Q")
    )
    title = alt.TitleParams(
        "Lyapunov exponent" if lyap else "Decay rate",
        subtitle="below the dashed zero line gradients vanish, above it they explode; line: mean over seeds; dotted: cells without this parameter",
        anchor="start",
    )
    layers = [zero, line, points]
    if len(ref):
        layers.append(_reference_rules(alt, ref, value, "mean"))
    return alt.layer(*layers).properties(width=420, height=260, title=title)


def _fmt(v: Any) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    if isinstance(v, float):
        if math.isinf(v):
            return "∞" if v > 0 else "-∞"
        return f"{v:.4g}"
    return str(v)


def _markdown_table(df: pd.DataFrame) -> str:
    cols = list(df.columns)
    rows = [[_fmt(v) for v in row] for row in df.itertuples(index=False)]
    out = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(out)


def _summary_table(summary: pd.DataFrame) -> pd.DataFrame:
    group = _group_cols(summary)
    df = summary.copy()
    for c in group:
        df[c] = df[c].astype(object).where(df[c].notna(), "–")
    agg: dict[str, Any] = {"seeds": ("seed", "nunique")}
    if "memory_horizon" in df:
        df["_censored"] = ~np.isfinite(df["memory_horizon"].astype(float))
        df["memory_horizon"] = _censored_horizon(df)
        agg["_censored"] = ("_censored", "any")
    for col, how in (
        ("decay_rate", "mean"),
        ("memory_horizon", "median"),
        ("lyapunov_1", "mean"),
        ("exp_r2", "mean"),
        ("power_r2", "mean"),
        ("elapsed_s", "sum"),
    ):
        if col in df:
            agg[f"{col} ({how})"] = (col, how)
    if "regime" in df:
        agg["regime"] = ("regime", lambda s: s.iloc[0] if s.nunique() == 1 else "mixed")
    table = df.groupby(group, sort=False, dropna=False).agg(**agg).reset_index()
    if "_censored" in table:
        # A seed that never fell below the threshold counts as T: the median is a lower bound.
        col = "memory_horizon (median)"
        table[col] = [
            f"≥ {_fmt(float(v))}" if c else _fmt(float(v))
            for v, c in zip(table[col], table.pop("_censored"), strict=True)
        ]
    return table.sort_values(group, key=_sort_key, kind="stable").reset_index(drop=True)


def _sort_key(s: pd.Series) -> pd.Series:
    if s.name == "cell":
        order = {c: i for i, c in enumerate(_CELL_ORDER)}
        return s.map(lambda v: order.get(v, 99))
    return s.map(lambda v: (0, float(v)) if isinstance(v, (int, float)) else (1, str(v)))


def _write_bytes(data: bytes, f: IO[bytes]) -> None:
    f.write(data)


def _render(chart: Any, folder: Path, stem: str, scale: float) -> list[Path]:
    try:
        import vl_convert as vlc
    except ImportError:
        raise SweepError(
            "rendering charts needs vl-convert-python: pip install vl-convert-python"
        ) from None
    alt = _alt()
    # DejaVu has the ‖ ∂ ₁₀ glyphs of the axis titles; vl-convert falls back if it is missing.
    chart = chart.configure(font="DejaVu Sans")
    with alt.data_transformers.disable_max_rows():
        spec = chart.to_dict()
    png = vlc.vegalite_to_png(spec, scale=scale)
    svg = vlc.vegalite_to_svg(spec).encode()
    paths = []
    for ext, data in (("png", png), ("svg", svg)):
        path = folder / f"{stem}.{ext}"
        write_atomic(path, partial(_write_bytes, data))
        paths.append(path)
    return paths


def render_report(
    results: str | os.PathLike[str],
    dest: str | os.PathLike[str] | None = None,
    *,
    scale: float = 2.0,
) -> list[Path]:
    """Collect a results folder and write charts (PNG + SVG) and ``report.md``.

    ``dest`` defaults to ``results/report``. Also refreshes ``summary.parquet`` and
    ``summary.csv`` in ``results``. Returns the files written.
    """
    folder = Path(results)
    summary = collect(folder)
    curves = read_curves(folder)
    out = Path(dest) if dest is not None else folder / "report"
    if dest is None and out.is_symlink():
        raise SweepError(f"{out} is a symbolic link; the report is not written through it")
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    charts = {
        "curves": curves_chart(curves, summary),
        "horizon": horizon_chart(summary),
        "decay": decay_chart(summary),
    }
    for stem, chart in charts.items():
        written += _render(chart, out, stem, scale)
    name = str(summary["sweep"].iloc[0]) if "sweep" in summary else folder.name
    quantity = str(summary["quantity"].iloc[0])
    constant = [
        f"{c} = {_fmt(summary[c].iloc[0])}"
        for c in summary.columns
        if c in (*_X_CANDIDATES, *_CATEGORICAL, *_SETTINGS)
        and c not in ("sweep", "quantity")
        and summary[c].notna().all()
        and summary[c].astype(str).nunique() == 1
    ]
    decay_title = "Lyapunov exponent" if quantity == "lyapunov" else "Decay rate"
    lines = [
        f"# Sweep report: {name}",
        "",
        f"Quantity `{quantity}`, {len(summary)} cases from `{folder}`.",
        f"Fixed for every case: {', '.join(constant)}." if constant else "",
        "",
        "## Decay curves",
        "",
        "![decay curves](curves.png)",
        "",
        "Each line is one configuration (mean log-norm over seeds) against the distance in steps,"
        " on a log axis. A straight falling line means exponential vanishing; flat means the"
        " signal survives. Vector version: [curves.svg](curves.svg).",
        "",
        "## Memory horizon",
        "",
        "![memory horizon](horizon.png)",
        "",
        f"Steps until the norm falls below {_THRESHOLD} of its starting value (median over seeds);"
        " triangles never fell that far within the sequence and count as T, in the chart and in"
        ' the table alike (the table then prints the median as a lower bound, "≥ …").'
        " Vector version: [horizon.svg](horizon.svg).",
        "",
        f"## {decay_title}",
        "",
        f"![{decay_title.lower()}](decay.png)",
        "",
        "Vector version: [decay.svg](decay.svg).",
        "",
        "## Summary",
        "",
        _markdown_table(_summary_table(summary)),
        "",
        "Per-case rows: `summary.csv` / `summary.parquet` in the results folder.",
        "",
    ]
    md = out / "report.md"
    text = "\n".join(lines).encode()
    write_atomic(md, lambda f: f.write(text))
    written.append(md)
    return written
