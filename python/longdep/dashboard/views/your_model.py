"""Page 5 — your model: measure uploaded weights, or plot a sweep's Parquet results."""

from __future__ import annotations

import hashlib
import logging
import math
from pathlib import Path

import pandas as pd
import streamlit as st

import longdep as ld
from longdep.dashboard import budget, charts, data, i18n, uploads, urlstate
from longdep.dashboard.progress import compute_form
from longdep.dashboard.views.decay import format_steps, metric_row

KIND_LABEL = {"rnn": "RNN (Elman)", "gru": "GRU", "lstm": "LSTM"}
MAX_CURVES = 10
#: The tabs, by their id in the URL (``?p5_tab=sweep``), with the i18n keys of their labels.
TABS = {"weights": "p5_tab_weights", "sweep": "p5_tab_sweep"}
#: Models of one file whose decay is drawn at once (more: the user picks).
MAX_MODELS = 8
_LOG = logging.getLogger(__name__)


def show_error(tr: i18n.Translator, exc: Exception) -> None:
    """A validation problem as a sentence in the user's language. Anything unexpected is
    a translated message too, never a traceback or an exception's English text; the
    details go to the server log."""
    if isinstance(exc, uploads.UploadError):
        st.error(tr(exc.key, **exc.params), icon=":material/error:")
    else:
        _LOG.error("unexpected error while reading a file", exc_info=exc)
        st.error(tr("err_unexpected"), icon=":material/error:")


def root_folder_box(
    tr: i18n.Translator, label: str, key: str, placeholder: str
) -> tuple[Path | None, str]:
    """The results root given at start-up (``longdep dashboard --results DIR``) and the
    folder typed under it; without a root, no text box at all (a caption says how)."""
    root = uploads.results_root()
    if root is None:
        st.caption(tr("folder_disabled"))
        return None, ""
    return root, st.text_input(tr(label), urlstate.text(key), key=key, placeholder=placeholder)


def uploader_help(tr: i18n.Translator, key: str | None = None) -> str:
    """The help tooltip of a file uploader: the page's own help text (if any), then the
    size limit and how to use the drop zone, in the user's language.

    Of ``st.file_uploader``'s text, Streamlit 1.67 lets an app set only the label and this
    help. The drop zone's own words come from Streamlit's frontend, in English whatever
    the app's language, and no parameter or config option changes them: the "Upload"
    button, the "200MB per file • NPZ, SAFETENSORS" line (from ``server.maxUploadSize``
    and ``type``) and "Drag and drop a file here" while a file is dragged over it. So the
    help names them in the user's language."""
    limit = tr("upload_help_limit", limit=uploads.MAX_BYTES // 2**20)
    return f"{tr(key)}\n\n{limit}" if key else limit


def model_label(tr: i18n.Translator, model: uploads.Layer | uploads.Named) -> str:
    """How the layer picker shows one model found in a file."""
    if isinstance(model, uploads.Named):
        return f"{tr(f'cell_{model.kind}')}: {model.label}"
    return model.label


def model_kind(tr: i18n.Translator, model: uploads.Model) -> str:
    """What a model found by ``ld.load`` is: "LSTM", "a stack of 2 GRU layers" ..."""
    cells = uploads.model_layers(model)
    cell = cells[0][1]
    kind = "rnn" if type(cell) is ld.Elman else str(getattr(cell, "kind", ""))
    key = f"cell_{kind}"
    label = KIND_LABEL.get(kind) or (tr(key) if key in i18n.STRINGS else type(cell).__name__)
    if isinstance(model, ld.Bidirectional):
        return tr("p5_kind_bidir", kind=label, n=model.num_layers)
    if isinstance(model, ld.Stack):
        return tr("p5_kind_stack", kind=label, n=model.num_layers)
    return label


def found_message(tr: i18n.Translator, found: dict[str, uploads.Model]) -> None:
    """What ``ld.load`` found: one sentence for one model, else a sentence and a table."""
    if len(found) == 1:
        ((name, model),) = found.items()
        st.success(
            tr("p5_found", kind=model_kind(tr, model), prefix=name, H=model.hidden_size,
               I=model.input_size),
            icon=":material/check_circle:",
        )  # fmt: skip
        return
    st.success(tr("p5_found_many", n=len(found)), icon=":material/check_circle:")
    rows = [
        {
            tr("p5_col_name"): name, tr("p5_col_kind"): model_kind(tr, m),
            tr("p5_col_layers"): len(uploads.model_layers(m)), "H": m.hidden_size,
            "I": m.input_size,
        }
        for name, m in found.items()
    ]  # fmt: skip
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")


def show_weights(tr: i18n.Translator, filename: str, payload: bytes) -> None:
    """Everything below the uploader: parse and bound the file, then ``ld.load``; every
    recurrent model it found with its decay (a curve, or the per-layer map of a stack)."""
    digest = hashlib.sha256(payload).hexdigest()
    try:
        tensors = data.parsed_upload(digest, filename, payload)
        found = uploads.load_models(tensors)  # ld.load, after the size-checked parse
    except Exception as exc:
        show_error(tr, exc)
        return
    nonlinearity = "tanh"
    if any(type(c) is ld.Elman for m in found.values() for _, c in uploads.model_layers(m)):
        nonlinearity = st.selectbox(
            tr("ctl_nonlinearity"), ("tanh", "relu"), format_func=lambda k: tr(f"nl_{k}"),
            help=tr("p5_nonlinearity_help"), key="p5_nl",
            index=urlstate.index("p5_nl", ("tanh", "relu")),
        )  # fmt: skip
        if nonlinearity != "tanh":
            try:
                found = uploads.load_models(tensors, nonlinearity=nonlinearity)
            except Exception as exc:
                show_error(tr, exc)
                return
    found_message(tr, found)
    names = list(found)
    if len(names) > MAX_MODELS:
        names = st.multiselect(
            tr("p5_models_shown"), names, default=names[:MAX_MODELS], key="p5_models"
        )
    with compute_form(tr, "p5_form", width="content"):
        c1, c2, c3 = st.columns(3)
        T = c1.select_slider(
            tr("ctl_T"), data.T_CHOICES, value=urlstate.choice("p5_T", data.T_CHOICES, 10_000),
            format_func=format_steps, key="p5_T",
        )  # fmt: skip
        input_scale = c2.slider(
            tr("ctl_input_scale"), 0.0, 3.0, urlstate.number("p5_in", 0.0, 3.0, 1.0, 0.05),
            0.05, key="p5_in",
        )  # fmt: skip
        seed = c3.number_input(
            tr("ctl_seed"), 0, 1_000_000, urlstate.number("p5_seed", 0, 1_000_000, 0),
            key="p5_seed",
        )  # fmt: skip
    for name in names:
        if len(found) > 1:
            st.subheader(f"{model_kind(tr, found[name])} `{name}`")
        show_decay(
            tr, digest, name, found[name], nonlinearity, int(T), float(input_scale), int(seed)
        )


def show_decay(
    tr: i18n.Translator, digest: str, name: str, model: uploads.Model, nonlinearity: str,
    T: int, input_scale: float, seed: int,
) -> None:  # fmt: skip
    """One model's decay: a single cell's curve, or the depth x time map of every layer of
    a stack (a bidirectional model: every cell of both directions, each on its own)."""
    cells = uploads.model_layers(model)
    cost = sum((budget.upload_cost(c, T) for _, c in cells[1:]), budget.upload_cost(cells[0][1], T))
    asked = {"file": digest, "layer": name, "nl": nonlinearity, "T": T,
             "in": input_scale, "seed": seed}  # fmt: skip
    if not budget.allowed(tr, cost, "p5", asked, "budget_lower_upload"):
        return
    if not isinstance(model, (ld.Stack, ld.Bidirectional)):
        with budget.queued(tr, cost), st.spinner(tr("computing")):
            res = data.upload_curve(
                digest, name, nonlinearity, T, input_scale, seed, _cell=model
            )  # fmt: skip
        if res["error"]:
            st.warning(tr("p2_overflow", msg=res["error"]), icon=":material/warning:")
            return
        refs = st.multiselect(
            tr("p5_compare"), data.REFERENCES, format_func=lambda k: tr(f"rem_{k}"),
            default=urlstate.choices("p5_refs", data.REFERENCES, []), key="p5_refs",
            help=tr("p5_compare_help"),
        )  # fmt: skip
        H = model.hidden_size
        curves = [res["curve"].assign(name=tr("p5_yours"))]
        ref_cost = budget.estimate("lstm", H, T, calls=len(refs))
        if refs and budget.allowed(
            tr, ref_cost, "p5r", {"refs": refs, "T": T}, "budget_lower_upload"
        ):
            with budget.queued(tr, ref_cost):  # one curve after the other, a bar between
                bar = st.progress(0.0, text=tr("p5_ref_progress", i=0, n=len(refs)))
                for k, ref in enumerate(refs):
                    ref_curve = data.reference_curve(ref, H, T, input_scale, seed)
                    curves.append(ref_curve.assign(name=tr(f"rem_{ref}")))
                    text = tr("p5_ref_progress", i=k + 1, n=len(refs))
                    bar.progress((k + 1) / len(refs), text=text)
                bar.empty()
        chart = charts.decay_chart(
            pd.concat(curves, ignore_index=True),
            x_title=tr("axis_distance"),
            y_title=tr("axis_grad"),
            threshold_log10=math.log10(data.HORIZON_THRESHOLD),
            threshold_label=tr("threshold"),
        )
        st.altair_chart(chart, width="stretch")
        metric_row(tr, res["metrics"], res["seconds"])
        st.caption(tr("p5_curve_caption"))
        return
    with budget.queued(tr, cost), st.spinner(tr("computing")):
        res = data.upload_map(digest, name, nonlinearity, T, input_scale, seed, _model=model)
    if res["error"]:
        st.warning(tr("p2_overflow", msg=res["error"]), icon=":material/warning:")
        return
    st.altair_chart(
        charts.layer_map_chart(
            res["log10"], res["distance"], res["layers"], x_title=tr("axis_distance"),
            y_title=tr("p5_map_layer"), color_title=tr("axis_grad"),
        ),
        width="stretch",
    )  # fmt: skip
    stack = isinstance(model, ld.Stack)
    st.caption(tr("p5_map_caption_stack" if stack else "p5_map_caption_bidir"))
    table = pd.DataFrame(
        {
            tr("p5_map_layer"): res["layers"],
            tr("col_rate"): [m["decay_rate"] for m in res["metrics"]],
            tr("col_horizon"): [m["memory_horizon"] for m in res["metrics"]],
            tr("col_regime"): [tr(f"regime_{m['regime']}") for m in res["metrics"]],
        }
    )
    st.dataframe(table, hide_index=True, width="stretch")
    st.caption(tr("p5_curve_caption") + " " + tr("seconds", s=res["seconds"]))


def weights_tab(tr: i18n.Translator) -> None:
    upload = st.file_uploader(
        tr("p5_upload"), type=["npz", "safetensors"], help=uploader_help(tr, "p5_upload_help"),
        key="p5_file",
    )  # fmt: skip
    st.download_button(
        tr("p5_example"),
        uploads.example_npz(),
        file_name="example_lstm.npz",
        mime="application/octet-stream",
        icon=":material/download:",
    )
    if upload is None:
        st.info(tr("p5_waiting"), icon=":material/info:")
        return
    show_weights(tr, upload.name, upload.getvalue())


def show_sweep(
    tr: i18n.Translator, curves: pd.DataFrame, metrics: pd.DataFrame, n_files: int
) -> None:
    names = list(dict.fromkeys(curves["name"]))
    st.success(tr("p5_sweep_loaded", cases=len(names), files=n_files))
    chosen = names
    if len(names) > MAX_CURVES:
        chosen = st.multiselect(tr("p5_shown"), names, default=names[:MAX_CURVES], key="p5_pick")
    shown = curves[curves["name"].isin(chosen)]
    if shown.empty:
        return
    chart = charts.layered_curves_chart(
        shown,
        x_title=tr("axis_distance"),
        y_title=tr("axis_grad"),
        threshold_log10=math.log10(data.HORIZON_THRESHOLD),
        threshold_label=tr("threshold"),
    )
    st.altair_chart(chart, width="stretch")
    if len(metrics.columns) > 1:
        table = metrics[metrics["name"].isin(chosen)].copy()
        if "regime" in table:
            known = {"vanishing", "stable", "exploding"}
            table["regime"] = [tr(f"regime_{r}") if r in known else r for r in table["regime"]]
        table = table.rename(
            columns={
                "name": tr("col_cell"),
                "decay_rate": tr("col_rate"),
                "memory_horizon": tr("col_horizon"),
                "regime": tr("col_regime"),
            }
        )
        st.dataframe(table, hide_index=True, width="stretch")


def sweep_tab(tr: i18n.Translator) -> None:
    st.caption(tr("p5_sweep_waiting"))
    files = st.file_uploader(
        tr("p5_sweep_upload"), type=["parquet"], accept_multiple_files=True,
        help=uploader_help(tr), key="p5_sweep",
    )  # fmt: skip
    root, folder = root_folder_box(tr, "p5_sweep_root_dir", "p5_dir", "radius-scan")
    try:
        if files:
            curves, metrics = uploads.read_sweep([(f.name, f.getvalue()) for f in files])
            n_files = len(files)
        elif root is not None and folder.strip():
            path = uploads.confine(folder.strip(), root)
            stamp = uploads.folder_stamp(path)
            curves, metrics = data.sweep_dir(str(path), stamp)
            n_files = len(stamp)
        else:
            return
    except Exception as exc:
        show_error(tr, exc)
        return
    show_sweep(tr, curves, metrics, n_files)


def render() -> None:
    tr = i18n.translator()
    st.title(tr("p5_title"))
    st.markdown(tr("p5_intro"))
    weights, sweep = urlstate.tabs("p5_tab", TABS)
    with weights:
        weights_tab(tr)
    with sweep:
        sweep_tab(tr)


if __name__ == "__main__":
    render()
