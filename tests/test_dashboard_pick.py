"""Landscape heatmap: a click on a cell picks that point (issue 14, point 11). The chart
carries a click selection of ``(x, y)``; a selection event maps to the nearest grid point,
and anything malformed is ignored."""

from __future__ import annotations

import json

import numpy as np
from streamlit.testing.v1 import AppTest
from test_dashboard import SHIM, VIEWS, _specs

from longdep.dashboard import charts
from longdep.dashboard.views import landscape


def test_the_heatmap_has_a_click_selection_of_the_cell() -> None:
    grid = np.arange(12.0).reshape(3, 4)
    chart = charts.heatmap_chart(
        grid, [1, 2, 3, 4], [10, 20, 30], x_title="x", y_title="y", color_title="c", pick="p"
    )
    spec = json.dumps(chart.to_dict())
    assert '"name": "p"' in spec and '"fields": ["x", "y"]' in spec and '"on": "click"' in spec


def test_nearest_pick_snaps_to_the_grid_and_ignores_garbage() -> None:
    xs, ys = [0.5, 1.0, 1.5], [8.0, 16.0, 32.0]
    ev = {"selection": {landscape.PICK: [{"x": 1.1, "y": 30.0}]}}
    assert landscape.nearest_pick(ev, xs, ys) == (1.0, 32.0)
    for bad in (None, {}, {"selection": {}}, {"selection": {landscape.PICK: []}},
                {"selection": {landscape.PICK: [{"x": "a", "y": 1}]}},
                {"selection": {landscape.PICK: [{"x": float("nan"), "y": 1}]}}):  # fmt: skip
        assert landscape.nearest_pick(bad, xs, ys) is None


def test_the_landscape_page_draws_a_pickable_map() -> None:
    at = AppTest.from_file(str(SHIM), default_timeout=180)
    at.query_params.update({"lang": "en", "p4_nx": "5", "p4_ny_gain_input": "3", "p4_T": "200"})
    at.run()
    at.switch_page(str(VIEWS / "landscape.py")).run()
    assert not at.exception
    specs = [json.dumps(spec) for spec in _specs(at)]
    assert any(landscape.PICK in s and '"click"' in s for s in specs)
