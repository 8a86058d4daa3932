"""Page 6 — training lab: small live training runs, the clipping and pre-training
comparisons, and the results of ``longdep train``."""

from __future__ import annotations

import math

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from longdep import tasks, trainlab
from longdep.dashboard import budget, charts, data, export, i18n, uploads, urlstate
from longdep.dashboard.progress import reporter as progress_reporter
from longdep.dashboard.views.your_model import root_folder_box, show_error, uploader_help

TASKS = ("adding", "copy", "subject")
T_CHOICES = (10, 20, 30, 50, 75, 100)
H_CHOICES = (8, 16, 32, 64)
STEP_CHOICES = (50, 100, 150, 200, 250, 300, 400)
LR_CHOICES = (1e-3, 2e-3, 5e-3, 1e-2, 2e-2, 5e-2, 0.1, 0.2)
CLIP_CHOICES = (0.1, 0.3, 1.0, 3.0, 10.0)
DEFAULT_MODELS = ["vanilla", "lstm-chrono", "gru", "lru"]
METRICS_PER_ROW = 4
MAX_CURVES = 10
#: The tabs, by their id in the URL (``?p6_tab=clip``), with the i18n keys of their labels.
TABS = {
    "live": "p6_tab_live", "clip": "p6_tab_clip", "pretrain": "p6_tab_pretrain",
    "folder": "p6_tab_folder",
}  # fmt: skip
#: Where the clipping preset's axes stop, so the diverging run does not flatten the other.
CLIP_LOSS_MAX, CLIP_GRAD_MAX = 1e3, 1e4
#: Runs of one model in the order ``longdep train`` makes them.
RUN_ORDER = ("train", "pretrain", "finetune", "scratch")
#: Steps at the long length after which the pre-training table compares the two runs.
PRETRAIN_MARKS = (20, 50, 100, 200)
#: A final loss within this fraction of the baseline counts as "about the baseline".
BASELINE_BAND = 0.05


def model_label(tr: i18n.Translator, name: str) -> str:
    """``lstm-chrono`` -> "LSTM chrono" (translated), a catalogue kind by its cell name;
    names from a file that are not in ``trainlab.MODELS`` are shown as they are."""
    for key in ("p6_model_" + name.replace("-", "_"), f"cell_{name}"):
        if key in i18n.STRINGS:
            return tr(key)
    return name


def named_histories(runs: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One frame of several histories, ``name`` = the key (already translated)."""
    return pd.concat([h.assign(name=name) for name, h in runs.items()], ignore_index=True)


def diverged_marks(tr: i18n.Translator, runs: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Vertical marks (``step``, ``label``) at the last step of every diverged run."""
    rows = []
    for name, h in runs.items():
        if len(h) and bool(h["diverged"].any()):
            step = int(h["step"].iloc[-1])
            rows.append({"step": step, "label": tr("p6_diverged_at", model=name, step=step)})
    return pd.DataFrame(rows, columns=["step", "label"])


def loss_chart(
    tr: i18n.Translator,
    runs: dict[str, pd.DataFrame],
    baselines: pd.DataFrame,
    x_title: str | None = None,
    vlines: pd.DataFrame | None = None,
    vline_color: str = "#d62728",
    y_max: float | None = None,
) -> alt.LayerChart:
    return charts.training_chart(
        named_histories(runs),
        x_title=x_title or tr("p6_axis_step"),
        y_title=tr("p6_axis_loss"),
        value="loss",
        hlines=baselines,
        vlines=diverged_marks(tr, runs) if vlines is None else vlines,
        vline_color=vline_color,
        y_max=y_max,
    )


def grad_chart(
    tr: i18n.Translator,
    runs: dict[str, pd.DataFrame],
    clip: float | None,
    y_max: float | None = None,
) -> alt.LayerChart:
    hlines = None
    if clip is not None:
        hlines = pd.DataFrame({"y": [clip], "label": [tr("p6_threshold", c=clip)]})
    return charts.training_chart(
        named_histories(runs),
        x_title=tr("p6_axis_step"),
        y_title=tr("p6_axis_grad"),
        value="grad_norm",
        hlines=hlines,
        vlines=diverged_marks(tr, runs),
        y_max=y_max,
        height=330,
    )


def baseline_rule(tr: i18n.Translator, value: float) -> pd.DataFrame:
    return pd.DataFrame({"y": [value], "label": [tr("p6_baseline", v=value)]})


def metric_rows(tr: i18n.Translator, results: dict[str, dict]) -> None:
    """Final loss and baseline ÷ final loss per run, at most ``METRICS_PER_ROW`` a row."""
    items = list(results.items())
    for start in range(0, len(items), METRICS_PER_ROW):
        row = items[start : start + METRICS_PER_ROW]
        cols = st.columns(METRICS_PER_ROW)
        for col, (name, res) in zip(cols, row, strict=False):
            final, base = res["final"], res["baseline"]
            if res["diverged"] or not math.isfinite(final):
                step = int(res["history"]["step"].iloc[-1])
                col.metric(
                    name,
                    tr("p6_diverged"),
                    tr("p6_diverged_delta", step=step),
                    delta_color="inverse",
                    delta_arrow="off",
                    help=tr("p6_ratio_help"),
                )
                continue
            ratio = base / final if final > 0 else math.inf
            col.metric(
                name,
                f"{final:.3g}",
                tr("p6_ratio", r=ratio),
                delta_color="normal" if ratio >= 2 else "off",
                delta_arrow="off",
                help=tr("p6_ratio_help"),
            )


# -- tab 1: live experiment ---------------------------------------------------------------


def live_controls(tr: i18n.Translator) -> dict | None:
    """The form; returns the settings when Train was pressed (else None)."""
    with st.form("p6_form"):
        task = st.selectbox(
            tr("p6_task"), TASKS, format_func=lambda k: tr(f"p6_task_{k}"), key="p6_task",
            index=urlstate.index("p6_task", TASKS),
        )  # fmt: skip
        T = st.select_slider(
            tr("p6_T"), T_CHOICES, value=urlstate.choice("p6_T", T_CHOICES, 50),
            help=tr("p6_T_help"), key="p6_T",
        )  # fmt: skip
        H = st.select_slider(
            tr("ctl_H"), H_CHOICES, value=urlstate.choice("p6_H", H_CHOICES, 32), key="p6_H"
        )
        steps = st.select_slider(
            tr("p6_steps"), STEP_CHOICES, value=urlstate.choice("p6_steps", STEP_CHOICES, 200),
            key="p6_steps",
        )  # fmt: skip
        models = st.multiselect(
            tr("p6_models"),
            list(trainlab.MODELS),
            default=urlstate.choices("p6_models", list(trainlab.MODELS), DEFAULT_MODELS),
            format_func=lambda m: model_label(tr, m),
            help=tr("p6_models_help"),
            key="p6_models",
        )
        lr = st.select_slider(
            tr("p6_lr"), LR_CHOICES, value=urlstate.choice("p6_lr", LR_CHOICES, 1e-2),
            format_func=lambda v: f"{v:g}", key="p6_lr",
        )  # fmt: skip
        optimizer = st.selectbox(
            tr("p6_optimizer"), ("adam", "sgd"), format_func=lambda k: tr(f"p6_opt_{k}"),
            index=urlstate.index("p6_opt", ("adam", "sgd")), key="p6_opt",
        )  # fmt: skip
        clip_on = st.checkbox(tr("p6_clip_on"), urlstate.flag("p6_clip_on", True), key="p6_clip_on")
        c = st.select_slider(
            tr("p6_clip_c"), CLIP_CHOICES, value=urlstate.choice("p6_c", CLIP_CHOICES, 1.0),
            format_func=lambda v: f"{v:g}", help=tr("p6_clip_c_help"), key="p6_c",
        )  # fmt: skip
        seed = st.number_input(
            tr("ctl_seed"), 0, 1_000_000, urlstate.number("p6_seed", 0, 1_000_000, 0),
            key="p6_seed",
        )  # fmt: skip
        pressed = st.form_submit_button(
            tr("p6_train"), type="primary", icon=":material/play_arrow:", key="p6_train",
            width="stretch",
        )  # fmt: skip
    # A link to trained results (``?p6_run=1``) trains again with its settings on opening.
    from_link = urlstate.flag("p6_run", False) and "p6_settings" not in st.session_state
    if not (pressed or from_link):
        return None
    return {
        "task": task,
        "T": int(T),
        "H": int(H),
        "steps": int(steps),
        "models": tuple(models),
        "lr": float(lr),
        "optimizer": optimizer,
        "clip": float(c) if clip_on else None,
        "seed": int(seed),
    }


def live_results(tr: i18n.Translator, s: dict, progress_area: DeltaGenerator) -> None:
    """Train (or fetch from the cache) every chosen model; the charts grow as each one
    finishes. The progress bar (and a place in the job queue) shows in ``progress_area``,
    right below the Train button the user just pressed."""
    clip = tr("p6_clip_at", c=s["clip"]) if s["clip"] is not None else tr("p6_no_clip")
    st.caption(
        tr(
            "p6_settings", task=tr(f"p6_task_{s['task']}"), T=s["T"], H=s["H"],
            steps=s["steps"], batch=data.LAB_BATCH, opt=tr(f"p6_opt_{s['optimizer']}"),
            lr=s["lr"], clip=clip, seed=s["seed"],
        )
    )  # fmt: skip
    cost = budget.lab_cost(s["models"], s["T"], s["H"], s["steps"], data.LAB_BATCH)
    if not budget.allowed(tr, cost, "p6", s, "budget_lower_train", ask=False):
        return  # the Train button was the confirmation; above the cap, the reason
    loss_slot = st.empty()
    st.caption(tr("p6_loss_caption"))
    grad_slot = st.empty()
    st.caption(tr("p6_grad_caption"))
    results: dict[str, dict] = {}
    n = len(s["models"])
    for i, model in enumerate(s["models"]):
        name = model_label(tr, model)
        one = budget.lab_cost((model,), s["T"], s["H"], s["steps"], data.LAB_BATCH)
        with progress_area, budget.queued(tr, one):
            results[name] = data.lab_run(
                s["task"], s["T"], s["H"], s["steps"], model, s["lr"], s["optimizer"],
                s["clip"], s["seed"],
                _progress=progress_reporter(tr("p6_training", model=name, i=i + 1, n=n), i, n),
            )  # fmt: skip
        runs = {k: r["history"] for k, r in results.items()}
        base = baseline_rule(tr, next(iter(results.values()))["baseline"])
        loss = loss_chart(tr, runs, base).properties(
            description=runs_text(tr, runs, "loss", tr("p6_axis_loss"))
        )
        grad = grad_chart(tr, runs, s["clip"]).properties(
            description=runs_text(tr, runs, "grad_norm", tr("p6_axis_grad"))
        )
        loss_slot.altair_chart(loss, width="stretch")
        grad_slot.altair_chart(grad, width="stretch")
    metric_rows(tr, results)
    st.caption(tr("p6_total_time", s=sum(r["seconds"] for r in results.values())))
    if results:
        export.downloads(
            loss, name=f"training-{s['task']}", frame=named_histories(runs),
            settings={**s, "batch": data.LAB_BATCH}, page="training",
        )  # fmt: skip


def runs_text(tr: i18n.Translator, runs: dict[str, pd.DataFrame], column: str, what: str) -> str:
    """The text description of a chart of training curves: each run's last value."""
    finals = "; ".join(
        f"{name} {float(h[column].iloc[-1]):.3g}" if len(h) else name for name, h in runs.items()
    )
    steps = max((len(h) for h in runs.values()), default=0)
    return tr("desc_training", what=what, n=len(runs), steps=steps, finals=finals)


def tasks_text(tr: i18n.Translator) -> None:
    st.subheader(tr("p6_tasks_header"))
    for col, task in zip(st.columns(3), TASKS, strict=True):
        col.markdown(tr(f"p6_task_{task}_text"))
    st.markdown(tr("p6_meaning"))
    st.info(tr("p6_full"), icon=":material/terminal:")


def live_tab(tr: i18n.Translator) -> None:
    left, right = st.columns([1.3, 3], gap="large")
    with left:
        pressed = live_controls(tr)
        progress_area = st.container()  # in view after pressing Train: below the button
    if pressed is not None:
        if pressed["models"]:
            st.session_state["p6_settings"] = pressed
        else:
            right.warning(tr("p6_no_models"), icon=":material/warning:")
    with right:
        settings = st.session_state.get("p6_settings")
        st.session_state["p6_run"] = settings is not None  # into the URL (urlstate.sync)
        if settings is None:
            st.info(tr("p6_waiting"), icon=":material/play_arrow:")
        else:
            live_results(tr, settings, progress_area)
    tasks_text(tr)


# -- tab 2: clipping ------------------------------------------------------------------------


def clipping_tab(tr: i18n.Translator) -> None:
    p = data.CLIP_PRESET
    st.subheader(tr("p6_clip_header"))
    st.markdown(
        tr("p6_clip_intro", H=p["H"], rho=p["rho"], T=p["T"], lr=p["lr"], steps=p["steps"],
           c=p["c"])
    )  # fmt: skip
    if st.button(tr("p6_clip_run"), key="p6_clip_go", type="primary", icon=":material/bolt:"):
        st.session_state["p6_clip_done"] = True
    if st.session_state.get("p6_clip_done"):
        clipping_results(tr)
    st.markdown(tr("p6_clip_why"))


def clip_verdict(final: float, baseline: float) -> str:
    """The i18n key of the sentence that compares the clipped run's final loss with the
    memoryless baseline: below, about (within ``BASELINE_BAND``) or above it. The sentence
    is chosen from the numbers it prints, so the text cannot contradict them."""
    if final < (1 - BASELINE_BAND) * baseline:
        return "p6_clip_verdict_below"
    if final <= (1 + BASELINE_BAND) * baseline:
        return "p6_clip_verdict_near"
    return "p6_clip_verdict_above"


def clipping_results(tr: i18n.Translator) -> None:
    p = data.CLIP_PRESET
    cases = {tr("p6_clip_none"): None, tr("p6_clip_with", c=p["c"]): p["c"]}
    area = st.container()
    results = {}
    one = budget.lab_cost(("vanilla",), p["T"], p["H"], p["steps"], data.LAB_BATCH)
    for i, (name, clip) in enumerate(cases.items()):
        with area, budget.queued(tr, one):
            results[name] = data.clipping_run(
                clip, p["steps"], p["seed"],
                _progress=progress_reporter(tr("p6_training", model=name, i=i + 1, n=2), i, 2),
            )  # fmt: skip
    runs = {k: r["history"] for k, r in results.items()}
    none, clipped = results.values()
    base = clipped["baseline"]
    chart = loss_chart(tr, runs, baseline_rule(tr, base), y_max=CLIP_LOSS_MAX)
    loss_text = runs_text(tr, runs, "loss", tr("p6_axis_loss"))
    st.altair_chart(chart.properties(description=loss_text), width="stretch")
    grad = grad_chart(tr, runs, p["c"], y_max=CLIP_GRAD_MAX)
    grad_text = runs_text(tr, runs, "grad_norm", tr("p6_axis_grad"))
    st.altair_chart(grad.properties(description=grad_text), width="stretch")
    st.caption(tr("p6_clip_caption" if none["diverged"] else "p6_clip_caption_finite"))
    metric_rows(tr, results)
    st.caption(tr("p6_preset_time", s=sum(r["seconds"] for r in results.values())))
    st.markdown(clipping_summary(tr, none, clipped))


def clipping_summary(tr: i18n.Translator, none: dict, clipped: dict) -> str:
    """What the two runs did, with their numbers: how the run without clipping ended, then
    the clipped run's final loss against the baseline (see :func:`clip_verdict`)."""
    if clipped["diverged"] or not math.isfinite(clipped["final"]):
        verdict = tr("p6_clip_verdict_diverged", step=int(clipped["history"]["step"].iloc[-1]))
    else:
        key = clip_verdict(clipped["final"], clipped["baseline"])
        verdict = tr(key, final=clipped["final"], base=clipped["baseline"])
    if not none["diverged"]:
        return tr("p6_clip_result_finite", none=none["final"], verdict=verdict)
    grads = none["history"]["grad_norm"].to_numpy(dtype=float)
    finite = grads[np.isfinite(grads)]
    return tr(
        "p6_clip_result",
        gmax=charts.sci_from_log10(math.log10(finite.max())) if len(finite) else "inf",
        step=int(none["history"]["step"].iloc[-1]),
        gclip=f"{clipped['history']['grad_norm'].max():.3g}",
        verdict=verdict,
    )


# -- tab 3: pre-training --------------------------------------------------------------------


def pretrain_tab(tr: i18n.Translator) -> None:
    p = data.PRETRAIN_PRESET
    st.subheader(tr("p6_pre_header"))
    st.markdown(
        tr("p6_pre_intro", H=p["H"], short=p["short"], long=p["long"], pre=p["pre_steps"],
           fine=p["fine_steps"], lr=p["lr"])
    )  # fmt: skip
    if st.button(tr("p6_pre_run"), key="p6_pre_go", type="primary", icon=":material/school:"):
        st.session_state["p6_pre_done"] = True
    if st.session_state.get("p6_pre_done"):
        pretrain_results(tr)
    st.markdown(
        tr("p6_pre_text", pre=p["pre_steps"], short=p["short"], long=p["long"],
           equiv=round(p["pre_steps"] * p["short"] / p["long"]))
    )  # fmt: skip


def pretrain_results(tr: i18n.Translator) -> None:
    p = data.PRETRAIN_PRESET
    cost = budget.lab_cost(("gru",), p["short"], p["H"], p["pre_steps"], data.LAB_BATCH)
    cost += budget.lab_cost(("gru",), p["long"], p["H"], 2 * p["fine_steps"], data.LAB_BATCH)
    with budget.queued(tr, cost):
        res = data.pretrain_run(
            p["H"], p["short"], p["long"], p["pre_steps"], p["fine_steps"], p["lr"], p["c"],
            p["seed"],
            _progress=progress_reporter(tr("p6_training", model="GRU", i=1, n=1), 0, 1),
        )  # fmt: skip
    h = res["histories"]
    pre = h["pretrain"].assign(step=h["pretrain"]["step"] - len(h["pretrain"]))
    runs = {
        tr("p6_pre_pretrain", T=p["short"]): pre,
        tr("p6_pre_finetune", T=p["long"]): h["finetune"],
        tr("p6_pre_scratch", T=p["long"]): h["scratch"],
    }
    switch = pd.DataFrame({"step": [0], "label": [tr("p6_pre_switch", T=p["long"])]})
    chart = loss_chart(
        tr, runs, baseline_rule(tr, res["baseline"]),
        x_title=tr("p6_pre_axis", T=p["long"]), vlines=switch, vline_color="#555",
    )  # fmt: skip
    loss_text = runs_text(tr, runs, "loss", tr("p6_axis_loss"))
    st.altair_chart(chart.properties(description=loss_text), width="stretch")
    fine, scratch = h["finetune"]["loss"], h["scratch"]["loss"]
    marks = [k for k in PRETRAIN_MARKS if k <= len(fine)]
    cols = (tr("p6_pre_col_fine"), tr("p6_pre_col_scratch"))
    table = pd.DataFrame(
        {
            tr("p6_pre_col_steps", T=p["long"]): marks,
            cols[0]: [float(fine.iloc[max(0, k - 20) : k].mean()) for k in marks],
            cols[1]: [float(scratch.iloc[max(0, k - 20) : k].mean()) for k in marks],
        }
    )
    number = st.column_config.NumberColumn(format="%.3g")
    st.dataframe(table, hide_index=True, width="content", column_config={c: number for c in cols})
    st.caption(tr("p6_pre_table_caption") + " " + tr("p6_preset_time", s=res["seconds"]))


# -- tab 4: results of `longdep train` ------------------------------------------------------


def run_name(tr: i18n.Translator, model: str, run: str) -> str:
    label = model_label(tr, model)
    if run in ("", "train", "nan"):
        return label
    key = f"p6_run_{run}"
    return f"{label} · {tr(key) if key in i18n.STRINGS else run}"


def file_baselines(tr: i18n.Translator, hist: pd.DataFrame) -> pd.DataFrame:
    """One dashed rule per distinct memoryless baseline of the (task, length) pairs."""
    rows: dict[float, str] = {}
    pairs = hist[["task", "length"]].drop_duplicates()
    for task, length in pairs.itertuples(index=False):
        try:
            value = tasks.make_task(str(task), int(length)).baseline
        except Exception:  # unknown task or missing length: no rule
            continue
        label = tr("p6_baseline_of", task=task, T=int(length), v=value)
        rows[round(value, 12)] = rows.get(round(value, 12), label)
    return pd.DataFrame({"y": list(rows), "label": list(rows.values())})


def show_train_results(
    tr: i18n.Translator, hist: pd.DataFrame, summary: pd.DataFrame | None, n_files: int
) -> None:
    order = {m: i for i, m in enumerate(trainlab.MODELS)}
    run_order = {r: i for i, r in enumerate(RUN_ORDER)}
    hist = hist.assign(
        name=[run_name(tr, m, r) for m, r in zip(hist["model"], hist["run"], strict=True)],
        model_order=hist["model"].map(lambda m: order.get(m, len(order))),
        run_order=hist["run"].map(lambda r: run_order.get(r, len(run_order))),
    ).sort_values(["model_order", "model", "run_order", "run", "step"], kind="stable")
    names = list(dict.fromkeys(hist["name"]))
    st.success(tr("p6_folder_loaded", runs=len(names), files=n_files))
    chosen = names
    if len(names) > MAX_CURVES:
        chosen = st.multiselect(tr("p6_shown"), names, default=names[:MAX_CURVES], key="p6_pick")
    runs = {name: g for name, g in hist.groupby("name", sort=False) if name in chosen}
    if not runs:
        return
    loss = loss_chart(tr, runs, file_baselines(tr, hist))
    loss_text = runs_text(tr, runs, "loss", tr("p6_axis_loss"))
    st.altair_chart(loss.properties(description=loss_text), width="stretch")
    if any(g["grad_norm"].notna().any() for g in runs.values()):
        st.altair_chart(grad_chart(tr, runs, None), width="stretch")
    st.subheader(tr("p6_summary"))
    if summary is None:
        st.caption(tr("p6_no_summary"))
    else:
        st.dataframe(summary, hide_index=True, width="stretch")


def folder_tab(tr: i18n.Translator) -> None:
    st.markdown(tr("p6_folder_intro"))
    st.info(tr("p6_full"), icon=":material/terminal:")
    root, folder = root_folder_box(tr, "p6_root_dir", "p6_dir", "train-adding")
    files = st.file_uploader(
        tr("p6_folder_upload"), type=["parquet", "csv"], accept_multiple_files=True,
        help=uploader_help(tr), key="p6_files",
    )  # fmt: skip
    try:
        if files:
            hist, summary = uploads.read_train([(f.name, f.getvalue()) for f in files])
            n_files = len(files)
        elif root is not None and folder.strip():
            path = uploads.confine(folder.strip(), root)
            stamp = uploads.folder_stamp(path, train=True)
            hist, summary = data.train_dir(str(path), stamp)
            n_files = len(stamp)
        else:
            return
    except Exception as exc:
        show_error(tr, exc)
        return
    show_train_results(tr, hist, summary, n_files)


def render() -> None:
    tr = i18n.translator()
    st.title(tr("p6_title"))
    st.markdown(tr("p6_intro"))
    live, clip, pre, folder = urlstate.tabs("p6_tab", TABS)
    with live:
        live_tab(tr)
    with clip:
        clipping_tab(tr)
    with pre:
        pretrain_tab(tr)
    with folder:
        folder_tab(tr)


if __name__ == "__main__":
    render()
