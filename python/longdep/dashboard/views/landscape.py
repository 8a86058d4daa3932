"""Page 4 — landscape: decay rate / memory horizon over a parameter grid, the order-to-chaos
edge, and the Lyapunov spectrum of one chosen point."""

from __future__ import annotations

from typing import Any

import numpy as np
import streamlit as st

from longdep.dashboard import budget, charts, data, i18n, scenes, urlstate
from longdep.dashboard.progress import compute_form, reporter

MODES = ("gain_input", "radius_H")
#: Above this decay rate (nats/step) a gradient explodes (``ld.regime``'s tolerance).
EXPLODING_RATE = 1e-3
AXES = {"gain_input": ("p4_x_gain", "p4_y_input"), "radius_H": ("p4_x_radius", "p4_y_H")}


#: Key of the heatmap (its click selection) and name of the selection.
HEAT_KEY, PICK = "p4_heat", "p4_pick"


def nearest_pick(event: Any, xs: list[float], ys: list[float]) -> tuple[float, float] | None:
    """The grid point nearest to the cell clicked on the heatmap (``event``: the chart's
    selection state), or None when nothing is selected."""
    try:
        points = event["selection"][PICK]
        x, y = float(points[0]["x"]), float(points[0]["y"])
    except (KeyError, IndexError, TypeError, ValueError):
        return None
    if not (np.isfinite(x) and np.isfinite(y)) or not xs or not ys:
        return None
    return min(xs, key=lambda v: abs(v - x)), min(ys, key=lambda v: abs(v - y))


def apply_pick(mode: str, xs: list[float], ys: list[float]) -> bool:
    """A new click on the heatmap moves the two point sliders there: their URL values and
    their state are set before the sliders are drawn. Setting the state (not dropping it)
    is what moves them in the browser too: a slider is identified by its key alone, so a
    dropped state would leave the browser showing its old value. True after a new pick."""
    picked = nearest_pick(st.session_state.get(HEAT_KEY), xs, ys)
    if picked is None or st.session_state.get("_p4_applied") == (mode, *picked):
        return False
    st.session_state["_p4_applied"] = (mode, *picked)
    for key, value, options in zip(
        (f"p4_lx_{mode}", f"p4_ly_{mode}"), picked, (xs, ys), strict=True
    ):
        st.query_params[key] = urlstate.encode(value)
        # The option itself (the same object the slider is given), not an equal copy.
        st.session_state[key] = next((o for o in options if o == value), value)
    return True


def lyapunov_section(
    tr: i18n.Translator, mode: str, res: dict, H: int, input_scale: float, T: int, seed: int
) -> tuple[float, float]:
    """The Lyapunov spectrum of a point picked on the grid; returns that point."""
    st.subheader(tr("p4_lyap_header"))
    st.markdown(tr("p4_lyap_text"))
    xs, ys = list(res["x"]), list(res["y"])
    picked = apply_pick(mode, xs, ys)
    with compute_form(tr, "p4_lyap_form", width="content"):  # a click on the map also picks
        a, b, c = st.columns(3)
        x0 = urlstate.choice(f"p4_lx_{mode}", xs, xs[len(xs) // 2])
        y0 = urlstate.choice(f"p4_ly_{mode}", ys, ys[len(ys) // 2])
        # After a pick the state holds the value: no ``value=`` as well (Streamlit warns
        # about a widget given both).
        xv = a.select_slider(
            tr("p4_lyap_point_x"), xs, value=None if picked else x0,
            format_func=lambda v: f"{v:.3g}", key=f"p4_lx_{mode}",
        )  # fmt: skip
        yv = b.select_slider(
            tr("p4_lyap_point_y"), ys, value=None if picked else y0,
            format_func=lambda v: f"{v:.3g}", key=f"p4_ly_{mode}",
        )  # fmt: skip
        size = int(yv) if mode == "radius_H" else H
        k = c.slider(
            tr("p4_lyap_k"), 1, min(size, 32),
            urlstate.number("p4_k", 1, min(size, 32), min(size, 16)), key="p4_k",
        )  # fmt: skip
    with budget.queued(tr, budget.lyapunov_cost(size, T, int(k))), st.spinner(tr("computing")):
        lam = data.lyapunov(mode, float(xv), float(yv), H, input_scale, T, seed, int(k))
    left, right = st.columns([3, 1], gap="large")
    with left:
        chart = charts.lyapunov_chart(lam, x_title=tr("p4_lyap_x"), y_title=tr("p4_lyap_y"))
        phase = "chaotic" if lam[0] > 0 else "ordered"
        text = tr("desc_lyapunov", k=len(lam), l1=float(lam[0]), phase=tr(f"p4_phase_{phase}"))
        st.altair_chart(chart.properties(description=text), width="stretch")
    with right:
        st.metric(tr("p4_lyap_max"), tr("m_rate_value", v=float(lam[0])))
        phase = "chaotic" if lam[0] > 0 else "ordered"
        st.metric(tr("p4_lyap_phase"), tr(f"p4_phase_{phase}"))
    return float(xv), float(yv)


def render() -> None:
    tr = i18n.translator()
    st.title(tr("p4_title"))
    scenes.banner(tr, "landscape")
    st.markdown(tr("p4_intro"))
    left, right = st.columns([1, 3], gap="large")
    with left, st.container(border=True):
        mode = st.radio(
            tr("p4_mode"), MODES, format_func=lambda m: tr(f"p4_mode_{m}"), key="p4_mode",
            index=urlstate.index("p4_mode", MODES),
        )  # fmt: skip
        quantity = st.radio(
            tr("p4_quantity"), ("rate", "horizon"), format_func=lambda q: tr(f"q_{q}"), key="p4_q",
            index=urlstate.index("p4_q", ("rate", "horizon")),
        )  # fmt: skip
        # The mode and the quantity shown stay live (the first decides the form's controls,
        # the second only redraws); the grid is computed on Compute.
        with compute_form(tr, "p4_form"):
            nx = st.slider(tr("p4_nx"), 5, 100, urlstate.number("p4_nx", 5, 100, 30), key="p4_nx")
            ny_max = 100 if mode == "gain_input" else 24
            ny_default = min(10, ny_max) if mode == "gain_input" else 6
            ny_key = f"p4_ny_{mode}"
            ny = st.slider(
                tr("p4_ny"), 3, ny_max, urlstate.number(ny_key, 3, ny_max, ny_default), key=ny_key
            )
            T_choices = (200, 500, 1000, 2000, 5000)
            T = st.select_slider(
                tr("ctl_T"), T_choices, value=urlstate.choice("p4_T", T_choices, 1000),
                format_func=lambda t: f"{t:,}", key="p4_T",
            )  # fmt: skip
            if mode == "gain_input":
                H_choices = (16, 32, 64, 128)
                H = st.select_slider(
                    tr("ctl_H"), H_choices, value=urlstate.choice("p4_H", H_choices, 64),
                    key="p4_H",
                )  # fmt: skip
                input_scale = 0.0
            else:
                H = 64
                input_scale = st.slider(
                    tr("ctl_input_scale"), 0.0, 2.0,
                    urlstate.number("p4_in", 0.0, 2.0, 0.5, 0.05), 0.05, key="p4_in",
                )  # fmt: skip
            seed = st.number_input(
                tr("ctl_seed"), 0, 1_000_000, urlstate.number("p4_seed", 0, 1_000_000, 0),
                key="p4_seed",
            )  # fmt: skip
    H, T, seed = int(H), int(T), int(seed)
    with right:
        cost = budget.landscape_cost(mode, int(nx), int(ny), T, H)
        asked = {"mode": mode, "nx": nx, "ny": ny, "T": T, "H": H, "in": input_scale, "seed": seed}
        if not budget.allowed(tr, cost, "p4", asked, "budget_lower_grid"):
            return
        xs, ys = data.landscape_axes(mode, int(nx), int(ny))
        with budget.queued(tr, cost):  # the bar advances row by row (a cached grid: no bar)
            progress = reporter(tr("p4_progress", rows=len(ys), cols=len(xs)))
            res = data.landscape(
                mode, int(nx), int(ny), T, H, float(input_scale), seed, _progress=progress
            )
        heat = st.container()  # filled after the point below is picked, to mark it
    point = lyapunov_section(tr, mode, res, H, float(input_scale), T, seed)
    with heat:
        if quantity == "rate":
            grid, color_title, diverging = res["rate"], tr("q_rate"), True
        else:
            # An exploding gradient never falls below the threshold: it has no horizon
            # (left blank), which is not the same as a memory longer than T (capped at T).
            horizon = np.where(res["rate"] > EXPLODING_RATE, np.nan, np.minimum(res["horizon"], T))
            grid, color_title, diverging = np.log10(np.maximum(horizon, 1)), tr("q_horizon"), False
        x_key, y_key = AXES[mode]
        theory_key = "p4_edge_theory_mf" if mode == "gain_input" else "p4_edge_theory_rho"
        labels = {"measured": tr("p4_edge_measured"), "theory": tr(theory_key)}
        edge = res["edge"].assign(line=lambda e: e["line"].map(labels))
        chart = charts.heatmap_chart(
            grid,
            res["x"],
            res["y"],
            x_title=tr(x_key),
            y_title=tr(y_key),
            color_title=color_title,
            diverging=diverging,
            color_log10=quantity == "horizon",
            y_log=mode == "radius_H",
            edge=edge,
            marker=point,
            pick=PICK,
        )
        share = float(np.mean(res["rate"] > EXPLODING_RATE))
        text = tr(
            "desc_heatmap", q=color_title, x=tr(x_key), y=tr(y_key), nx=len(res["x"]),
            ny=len(res["y"]), share=f"{share:.0%}",
        )  # fmt: skip
        st.altair_chart(
            chart.properties(description=text), width="stretch", on_select="rerun",
            selection_mode=PICK, key=HEAT_KEY,
        )  # fmt: skip
        st.caption(tr("p4_pick_hint"))
        present = [labels[k] for k in ("measured", "theory") if k in set(res["edge"]["line"])]
        st.caption(
            tr("p4_edges", lines="; ".join(present)) + " " + tr("p4_caption") + " " + tr("p4_units")
        )


if __name__ == "__main__":
    render()
