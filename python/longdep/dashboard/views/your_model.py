"""Page 5 — your model: measure uploaded weights, or plot a sweep's Parquet results."""

from __future__ import annotations

import hashlib
import logging
import math
from pathlib import Path

import pandas as pd
import streamlit as st

from longdep.dashboard import charts, data, i18n, uploads
from longdep.dashboard.views.decay import format_steps, metric_row

KIND_LABEL = {"rnn": "RNN (Elman)", "gru": "GRU", "lstm": "LSTM"}
MAX_CURVES = 10
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
    return root, st.text_input(tr(label), key=key, placeholder=placeholder)


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


def show_weights(tr: i18n.Translator, filename: str, payload: bytes) -> None:
    """Everything below the uploader: parse, validate, pick a layer, plot the decay."""
    digest = hashlib.sha256(payload).hexdigest()
    try:
        tensors = data.parsed_upload(digest, filename, payload)
        models = uploads.find_models(tensors)
    except Exception as exc:
        show_error(tr, exc)
        return
    model = models[0]
    if len(models) > 1:
        model = st.selectbox(tr("p5_layer"), models, format_func=lambda m: model_label(tr, m))
    nonlinearity = "tanh"
    try:
        if isinstance(model, uploads.Named):
            cell, kind_name, where = uploads.build_named(tensors, model), model.kind, model.label
            label = tr(f"cell_{kind_name}")
        else:
            kind = uploads.cell_kind(tensors[model.names["weight_hh"]].shape)
            if kind == "rnn":
                nonlinearity = st.selectbox(
                    tr("ctl_nonlinearity"), ("tanh", "relu"), format_func=lambda k: tr(f"nl_{k}"),
                    help=tr("p5_nonlinearity_help"), key="p5_nl",
                )  # fmt: skip
            cell, kind_name = uploads.build_cell(tensors, model, nonlinearity=nonlinearity)
            where, label = model.label, KIND_LABEL[kind_name]
    except Exception as exc:
        show_error(tr, exc)
        return
    st.success(
        tr("p5_found", kind=label, prefix=where, H=cell.hidden_size, I=cell.input_size),
        icon=":material/check_circle:",
    )
    c1, c2, c3 = st.columns(3)
    T = c1.select_slider(
        tr("ctl_T"), data.T_CHOICES, value=10_000, format_func=format_steps, key="p5_T"
    )
    input_scale = c2.slider(tr("ctl_input_scale"), 0.0, 3.0, 1.0, 0.05, key="p5_in")
    seed = c3.number_input(tr("ctl_seed"), 0, 1_000_000, 0, key="p5_seed")
    with st.spinner(tr("computing")):
        res = data.upload_curve(
            digest, f"{kind_name}:{where}", nonlinearity, int(T), float(input_scale), int(seed),
            _cell=cell,
        )  # fmt: skip
    if res["error"]:
        st.warning(tr("p2_overflow", msg=res["error"]), icon=":material/warning:")
        return
    chart = charts.decay_chart(
        res["curve"].assign(name=tr("p2_measured")),
        x_title=tr("axis_distance"),
        y_title=tr("axis_grad"),
        threshold_log10=math.log10(data.HORIZON_THRESHOLD),
        threshold_label=tr("threshold"),
    )
    st.altair_chart(chart, width="stretch")
    metric_row(tr, res["metrics"], res["seconds"])
    st.caption(tr("p5_curve_caption"))


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
    weights, sweep = st.tabs([tr("p5_tab_weights"), tr("p5_tab_sweep")])
    with weights:
        weights_tab(tr)
    with sweep:
        sweep_tab(tr)


if __name__ == "__main__":
    render()
