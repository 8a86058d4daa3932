"""Charts of many curves stay readable: a colour-blind-safe palette with line styles, no
two curves drawn alike, the legend below the plot."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("altair", reason="the dashboard needs altair")

from longdep.dashboard import charts


def _rgb(hex_colour: str) -> np.ndarray:
    return np.array([int(hex_colour[k : k + 2], 16) for k in (1, 3, 5)], float)


def test_palette_is_okabe_ito_and_curves_differ_in_colour_or_dash() -> None:
    colors, dashes = charts.curve_styles(24)
    pairs = {(c, tuple(d)) for c, d in zip(colors, dashes, strict=True)}
    assert len(pairs) == 24  # no two curves look the same
    first = colors[:8]
    assert len(set(first)) == 8
    # the eight colours are far apart (the old vanilla/orthogonal teals were ~20 apart)
    gaps = [np.linalg.norm(_rgb(a) - _rgb(b)) for i, a in enumerate(first) for b in first[i + 1 :]]
    assert min(gaps) > 60
    # neighbours differ in dash as well as colour
    assert all(dashes[k] != dashes[k + 1] for k in range(23))


def _spec_layers(chart: Any) -> list[dict[str, Any]]:
    return chart.to_dict()["layer"]


def test_layered_curves_chart_uses_the_styles_and_a_legend_below() -> None:
    names = [f"cell {k}" for k in range(10)]
    curves = pd.DataFrame(
        [
            {"name": n, "distance": d, "log_norm": -0.1 * k * d}
            for k, n in enumerate(names)
            for d in range(1, 30)
        ]
    )
    chart = charts.layered_curves_chart(curves, x_title="steps", y_title="norm")
    enc = _spec_layers(chart)[0]["encoding"]
    colors, dashes = charts.curve_styles(10)
    assert enc["color"]["scale"]["range"] == colors
    assert enc["strokeDash"]["scale"]["range"] == dashes
    assert enc["color"]["legend"]["orient"] == "bottom"
    assert enc["strokeDash"]["legend"]["orient"] == "bottom"
