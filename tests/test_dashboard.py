"""The dashboard without a browser: every page in both languages through Streamlit's
AppTest (no exception, the expected charts with log axes and titled axes), the chart
builders as pure functions, the i18n table, the cached computations against closed forms,
and the validation of uploaded files."""

from __future__ import annotations

import io
import json
import math
import re
import string
import sys
import tomllib
import zipfile
from html import unescape as html_unescape
from pathlib import Path

import altair as alt
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from markdown_it import MarkdownIt
from streamlit.testing.v1 import AppTest

import longdep as ld
from longdep.dashboard import APP_PATH, THEME, charts, data, i18n, uploads

ROOT = Path(__file__).resolve().parents[1]
SHIM = ROOT / "dashboard" / "app.py"
VIEWS = APP_PATH.parent / "views"
PAGES = ("problem", "decay", "remedies", "landscape", "your_model", "training", "hear")
#: Vega-Lite charts each page shows by default (the training lab trains on request only).
CHARTS = {
    "problem": 1, "decay": 1, "remedies": 2, "landscape": 2, "your_model": 0, "training": 0,
    "hear": 2,
}  # fmt: skip
CJK = range(0x4E00, 0xA000)


# -- helpers ------------------------------------------------------------------------------


def _run_page(page: str, lang: str) -> AppTest:
    at = AppTest.from_file(str(SHIM), default_timeout=120)
    at.query_params["lang"] = lang
    at.run()
    if page != "problem":
        at.switch_page(str(VIEWS / f"{page}.py")).run()
    return at


def _specs(at: AppTest) -> list[dict]:
    return [json.loads(el.proto.spec) for el in at.get("vega_lite_chart")]


def _datasets(at: AppTest, i: int = 0) -> list[pd.DataFrame]:
    proto = at.get("vega_lite_chart")[i].proto
    return [pa.ipc.open_stream(d.data.data).read_all().to_pandas() for d in proto.datasets]


def _layers(spec: dict) -> list[dict]:
    """Every unit spec inside a (possibly layered) spec."""
    if "layer" in spec:
        return [u for layer in spec["layer"] for u in _layers(layer)]
    return [spec]


def _encodings(spec: dict, channel: str) -> list[dict]:
    return [u["encoding"][channel] for u in _layers(spec) if channel in u.get("encoding", {})]


def _params(spec: dict) -> list[dict]:
    """Selection parameters, wherever Altair put them (top level for a layer chart)."""
    return [*spec.get("params", []), *(p for u in _layers(spec) for p in u.get("params", []))]


def _has_cjk(text: str) -> bool:
    return any(ord(c) in CJK for c in text)


def _assert_log10_y(spec: dict, title: str) -> None:
    ys = [y for y in _encodings(spec, "y") if y.get("field") == "log10"]
    assert ys, "the chart must plot log10 values on y"
    axis = ys[0]["axis"]
    assert axis["title"] == title
    assert axis["labelExpr"] == charts.LOG10_LABEL_EXPR


# -- every page, both languages -----------------------------------------------------------


@pytest.mark.parametrize("lang", i18n.LANGS)
@pytest.mark.parametrize("page", PAGES)
def test_page_renders_without_exception_with_its_charts(page, lang):
    at = _run_page(page, lang)
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert len(_specs(at)) == CHARTS[page]
    title = at.title[0].value
    assert title == i18n.text(f"p{PAGES.index(page) + 1}_title", lang)
    assert _has_cjk(title) == (lang == "zh")


@pytest.mark.parametrize("lang", i18n.LANGS)
def test_decay_page_plots_log10_norms_against_distance_with_titled_axes(lang):
    at = _run_page("decay", lang)
    (spec,) = _specs(at)
    _assert_log10_y(spec, i18n.text("axis_grad", lang))
    xs = _encodings(spec, "x")
    assert xs[0]["title"] == i18n.text("axis_distance", lang)
    curve = _datasets(at)[0]
    measured = curve[curve["kind"] == "measured"]
    # ~300 log-spaced points reach the browser, not T = 10^4.
    assert 200 <= len(measured) <= 300
    assert measured["distance"].max() == 9_999
    assert set(curve["kind"]) == {"measured", "theory"}
    labels = [m.label for m in at.metric]
    assert labels[:3] == [i18n.text(k, lang) for k in ("m_rate", "m_horizon_steps", "m_regime")]


def test_decay_page_reaches_below_the_float64_range_at_long_t():
    at = _run_page("decay", "en")
    at.select_slider(key="p2_T").set_value(100_000)
    at.slider(key="p2_radius_elman").set_value(0.5)
    at.button(key="p2_form_go").click().run()  # the form's values count on Compute
    assert not at.exception
    curve = _datasets(at)[0]
    measured = curve[curve["kind"] == "measured"]
    assert measured["distance"].max() == 99_999
    assert len(measured) <= 300
    # ln-norms far below ln(1e-308) ~ -709 are still finite points on the chart.
    assert measured["log10"].min() < -10_000
    assert np.isfinite(measured["log10"]).all()


def test_decay_page_linear_cell_overflow_is_a_warning_not_an_exception():
    at = _run_page("decay", "en")
    at.selectbox(key="p2_nl").set_value("linear")
    at.slider(key="p2_radius_elman").set_value(1.5)
    at.slider(key="p2_input").set_value(1.0)
    at.button(key="p2_form_go").click().run()
    assert not at.exception
    assert at.warning and "float" in at.warning[0].value


def test_decay_page_asks_before_a_minute_long_computation():
    at = _run_page("decay", "en")
    at.selectbox(key="p2_kind").set_value("lstm")
    at.select_slider(key="p2_H").set_value(512)
    at.select_slider(key="p2_T").set_value(200_000)  # 10^6: refused (test_dashboard_budget)
    at.button(key="p2_form_go").click().run()
    assert not at.exception
    assert not _specs(at)  # nothing computed yet
    assert at.button(key="p2_go").label == i18n.text("budget_go", "en")
    assert "s of computation" in at.info[0].value


@pytest.mark.parametrize("kind", [k for k in data.CELL_KINDS if k != "elman"])
def test_decay_page_every_cell_kind_renders(kind):
    at = _run_page("decay", "en")
    at.selectbox(key="p2_kind").set_value(kind).run()
    assert not at.exception
    assert len(_specs(at)) == 1
    assert {"mingru", "minlstm", "rglru", "slstm"} <= set(data.CELL_KINDS)


@pytest.mark.parametrize("lang", i18n.LANGS)
def test_remedies_chart_is_one_layered_chart_with_a_legend_bound_selection(lang):
    at = _run_page("remedies", lang)
    spec, bars = _specs(at)
    _assert_log10_y(spec, i18n.text("axis_grad", lang))
    # Beside the curves: one bar per remedy with its decay rate (decades per step).
    assert bars["mark"] in ("bar", {"type": "bar"})
    assert bars["encoding"]["x"]["title"] == i18n.text("p3_rate_axis", lang)
    params = _params(spec)
    assert any(p["select"]["fields"] == ["name"] and p.get("bind") == "legend" for p in params)
    names = set(_datasets(at)[0]["name"])
    expected = {i18n.text(f"rem_{r}", lang) for r in data.REMEDIES}
    assert names == expected
    assert len(at.dataframe) == 1 and len(at.table) == 1  # horizons, clipping numbers


def test_remedies_clipping_keeps_the_far_to_recent_ratio():
    at = _run_page("remedies", "en")
    clip = at.table[0].value  # one row per quantity (the index), one column per case
    assert list(clip.columns) == [i18n.text(f"clip_{c}", "en") for c in ("vanishing", "exploding")]
    before = clip.loc[i18n.text("clip_col_ratio", "en")]
    after = clip.loc[i18n.text("clip_col_ratio_after", "en")]
    assert list(before) == list(after)
    assert clip.loc[i18n.text("clip_col_total_after", "en")].iloc[1] == "1.00e+0"


@pytest.mark.parametrize("lang", i18n.LANGS)
def test_landscape_shows_a_heatmap_at_most_100_by_100_and_the_lyapunov_spectrum(lang):
    at = _run_page("landscape", lang)
    heat, lyap = _specs(at)
    marks = [u["mark"]["type"] if isinstance(u["mark"], dict) else u["mark"] for u in _layers(heat)]
    assert "rect" in marks and "line" in marks  # the cells and the edge lines
    cells = _datasets(at, 0)
    assert 0 < max(len(d) for d in cells) <= 100 * 100
    assert _encodings(heat, "x")[0]["title"] == i18n.text("p4_x_gain", lang)
    assert _encodings(lyap, "y")[0]["title"] == i18n.text("p4_lyap_y", lang)


def test_landscape_radius_mode_uses_a_log_axis_for_h():
    at = _run_page("landscape", "en")
    at.radio(key="p4_mode").set_value("radius_H").run()
    assert not at.exception
    heat = _specs(at)[0]
    y = _encodings(heat, "y")[0]
    assert y["scale"]["type"] == "log"
    assert y["title"] == i18n.text("p4_y_H", "en")


@pytest.mark.parametrize("lang", i18n.LANGS)
def test_problem_page_telephone_game_uses_a_log_scale(lang):
    at = _run_page("problem", lang)
    (spec,) = _specs(at)
    ys = [y for y in _encodings(spec, "y") if y.get("field") == "fraction"]
    assert ys[0]["scale"]["type"] == "log"
    assert ys[0]["title"] == i18n.text("p1_tel_y", lang)
    at.slider(key="p1_n").set_value(50).run()
    assert not at.exception
    assert _datasets(at)[0]["person"].max() == 50


def test_language_comes_from_the_query_then_the_selector():
    at = AppTest.from_file(str(SHIM), default_timeout=60).run()
    assert at.title[0].value == i18n.text("p1_title", "en")  # no locale in tests: English
    at.sidebar.selectbox[0].set_value("zh").run()
    assert at.title[0].value == i18n.text("p1_title", "zh")
    assert at.query_params["lang"] in ("zh", ["zh"])


# -- page 5: uploads ------------------------------------------------------------------------


def _npz(**arrays) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def _safetensors(tensors: dict[str, np.ndarray], dtype: str = "F32") -> bytes:
    """A .safetensors file written from the format description, independently of the reader."""
    np_dtype = {"F32": "<f4", "F64": "<f8", "F16": "<f2"}[dtype]
    header, blobs, offset = {}, [], 0
    for name, arr in tensors.items():
        raw = np.ascontiguousarray(arr, dtype=np_dtype).tobytes()
        header[name] = {
            "dtype": dtype,
            "shape": list(arr.shape),
            "data_offsets": [offset, offset + len(raw)],
        }
        blobs.append(raw)
        offset += len(raw)
    head = json.dumps(header).encode()
    head += b" " * (-len(head) % 8)
    return len(head).to_bytes(8, "little") + head + b"".join(blobs)


def _torch_state(kind: str, H: int = 6, I: int = 3, prefix: str = "", seed: int = 0) -> dict:
    g = {"rnn": 1, "gru": 3, "lstm": 4}[kind]
    rng = np.random.default_rng(seed)
    return {
        f"{prefix}weight_ih_l0": rng.normal(size=(g * H, I)) * 0.3,
        f"{prefix}weight_hh_l0": rng.normal(size=(g * H, H)) * 0.3,
        f"{prefix}bias_ih_l0": rng.normal(size=g * H) * 0.1,
        f"{prefix}bias_hh_l0": rng.normal(size=g * H) * 0.1,
    }


@pytest.mark.parametrize("kind", ["rnn", "gru", "lstm"])
def test_cell_kind_follows_the_row_ratio_and_weights_round_trip(kind):
    state = _torch_state(kind, prefix="model.rnn.")
    tensors = uploads.read_weights("m.safetensors", _safetensors(state, "F64"))
    (layer,) = uploads.find_layers(tensors)
    assert layer.prefix == "model.rnn." and layer.layer == 0
    cell, got = uploads.build_cell(tensors, layer)
    assert got == kind
    assert isinstance(cell, {"rnn": ld.Elman, "gru": ld.GRU, "lstm": ld.LSTM}[kind])
    np.testing.assert_array_equal(cell.weight_hh, state["model.rnn.weight_hh_l0"])
    np.testing.assert_array_equal(cell.bias_hh, state["model.rnn.bias_hh_l0"])


def test_safetensors_float16_and_bfloat16_are_widened_exactly():
    values = np.array([[1.0, -2.5], [0.15625, 3.0]])
    f16 = uploads.read_safetensors("x", _safetensors({"w": values}, "F16"))["w"]
    np.testing.assert_array_equal(f16, values)
    # bfloat16 = the top 16 bits of the float32 pattern.
    bits = (values.astype("<f4").view("<u4") >> 16).astype("<u2")
    raw = bits.tobytes()
    head = json.dumps(
        {"w": {"dtype": "BF16", "shape": [2, 2], "data_offsets": [0, len(raw)]}}
    ).encode()
    bf16 = uploads.read_safetensors("x", len(head).to_bytes(8, "little") + head + raw)["w"]
    np.testing.assert_array_equal(bf16, values)


@pytest.mark.parametrize("dtype", ["float64", "float32", "float16"])
def test_safetensors_reader_agrees_with_the_reference_implementation(dtype):
    st_numpy = pytest.importorskip("safetensors.numpy", reason="safetensors is not installed")
    state = {k: v.astype(dtype) for k, v in _torch_state("gru", prefix="rnn.").items()}
    state["rnn.empty"] = np.zeros((0, 3), dtype=dtype)
    payload = st_numpy.save(state, metadata={"format": "pt"})
    ours = uploads.read_safetensors("m.safetensors", payload)
    reference = st_numpy.load(payload)
    assert ours.keys() == reference.keys()
    for name in reference:
        assert ours[name].dtype == reference[name].dtype
        np.testing.assert_array_equal(ours[name], reference[name])


def _object_npz() -> bytes:
    buf = io.BytesIO()
    np.savez(buf, weight_hh_l0=np.array([{"a": 1}], dtype=object))
    return buf.getvalue()


def _npy(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, arr)
    return buf.getvalue()


def _damaged_npz() -> bytes:
    """A zip archive whose one entry is not a .npy array."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("weight_hh_l0.npy", b"this is no array")
    return buf.getvalue()


def _st_header(header: object, body: bytes = b"") -> bytes:
    head = json.dumps(header).encode()
    return len(head).to_bytes(8, "little") + head + body


_GOOD = _torch_state("lstm")
BAD_UPLOADS = {
    "empty": ("m.npz", b"", "err_empty"),
    "wrong_extension": ("m.pt", b"1234", "err_ext"),
    "not_a_zip": ("m.npz", b"definitely not a zip archive", "err_npz_not_zip"),
    "bare_npy": ("m.npz", _npy(np.ones(3)), "err_npz_not_zip"),
    "damaged_entry": ("m.npz", _damaged_npz(), "err_npz_entry"),
    "pickled_objects": ("m.npz", _object_npz(), "err_pickle"),
    "integer_weights": ("m.npz", _npz(weight_hh_l0=np.ones((4, 4), dtype=np.int64)), "err_dtype"),
    "short_safetensors": ("m.safetensors", b"\x01\x02", "err_st_short"),
    "huge_header_length": (
        "m.safetensors",
        (10**12).to_bytes(8, "little") + b"{}",
        "err_st_header_size",
    ),
    "header_not_json": ("m.safetensors", (4).to_bytes(8, "little") + b"{{{{", "err_st_json"),
    "header_not_object": ("m.safetensors", _st_header([1, 2]), "err_st_object"),
    "entry_incomplete": ("m.safetensors", _st_header({"w": {"dtype": "F32"}}), "err_st_entry"),
    "bad_shape": (
        "m.safetensors",
        _st_header({"w": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 0]}}),
        "err_st_shape",
    ),
    "unknown_dtype": (
        "m.safetensors",
        _st_header({"w": {"dtype": "Q7", "shape": [0], "data_offsets": [0, 0]}}),
        "err_st_dtype",
    ),
    "wrong_byte_count": (
        "m.safetensors",
        _st_header({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 4]}}, b"\0" * 4),
        "err_st_bytes",
    ),
    "offsets_outside": (
        "m.safetensors",
        (lambda h: len(h).to_bytes(8, "little") + h)(
            json.dumps({"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}).encode()
        ),
        "err_st_offsets",
    ),
    "wrong_names": (
        "m.npz",
        _npz(encoder_weight=np.ones((3, 3)), decoder=np.ones(3)),
        "err_no_weights",
    ),
    "missing_weight_ih": ("m.npz", _npz(weight_hh_l0=np.ones((8, 2))), "err_missing"),
    "ratio_two": (
        "m.npz",
        _npz(weight_ih_l0=np.ones((8, 1)), weight_hh_l0=np.ones((8, 4))),
        "err_ratio",
    ),
    "weight_ih_rows": (
        "m.npz",
        _npz(weight_ih_l0=np.ones((5, 1)), weight_hh_l0=np.ones((8, 2))),
        "err_shape",
    ),
    "bias_shape": ("m.npz", _npz(**(_GOOD | {"bias_ih_l0": np.ones(3)})), "err_shape"),
    "weight_hh_3d": (
        "m.npz",
        _npz(weight_ih_l0=np.ones((2, 1)), weight_hh_l0=np.ones((2, 2, 2))),
        "err_ndim",
    ),
    "nan_weights": (
        "m.npz",
        _npz(**(_GOOD | {"weight_hh_l0": np.where(np.eye(24, 6) > 0, np.nan, 0.1)})),
        "err_nan",
    ),
}


@pytest.mark.parametrize("case", list(BAD_UPLOADS))
def test_bad_upload_raises_a_translatable_upload_error(case):
    filename, payload, key = BAD_UPLOADS[case]
    with pytest.raises(uploads.UploadError) as info:
        tensors = uploads.read_weights(filename, payload)
        for layer in uploads.find_layers(tensors):
            uploads.build_cell(tensors, layer)
    assert info.value.key == key
    for lang in i18n.LANGS:  # every message formats with the values it carries
        assert i18n.text(info.value.key, lang, **info.value.params)


def test_upload_larger_than_the_limit_is_refused(monkeypatch):
    monkeypatch.setattr(uploads, "MAX_BYTES", 1000)
    with pytest.raises(uploads.UploadError) as info:
        uploads.read_weights("big.npz", b"x" * 1001)
    assert info.value.key == "err_too_large"
    assert info.value.params["size"] > info.value.params["limit"] * 0  # MB, formatted below
    assert "big.npz" in i18n.text("err_too_large", "en", **info.value.params)


def _weights_page(filename: str, payload: bytes, lang: str = "en") -> AppTest:
    def script(filename: str, payload: bytes, lang: str) -> None:
        from longdep.dashboard import i18n
        from longdep.dashboard.views import your_model

        your_model.show_weights(i18n.translator(lang), filename, payload)

    return AppTest.from_function(script, args=(filename, payload, lang), default_timeout=60).run()


@pytest.mark.parametrize("case", list(BAD_UPLOADS))
def test_bad_upload_on_the_page_is_an_st_error_not_an_exception(case):
    filename, payload, _ = BAD_UPLOADS[case]
    at = _weights_page(filename, payload, "zh")
    assert not at.exception
    assert len(at.error) == 1
    assert not _specs(at)


#: Parameters an UploadError may carry: names and numbers from the file, never the text of
#: an exception (which would reach the user in English, whatever their language).
UPLOAD_PARAMS = {
    "file", "name", "dtype", "shape", "ndim", "count", "size", "limit", "have", "missing",
    "names", "kind", "hh", "want", "n", "offsets", "path", "column",
}  # fmt: skip
#: Two Latin words in a row: an English phrase inside a Chinese message.
ENGLISH_PHRASE = re.compile(r"[A-Za-z]{2,}[ ,;:]+[A-Za-z]{2,}")


@pytest.mark.parametrize("case", list(BAD_UPLOADS))
def test_bad_upload_messages_carry_no_exception_text_and_no_english_in_chinese(case):
    filename, payload, _ = BAD_UPLOADS[case]
    with pytest.raises(uploads.UploadError) as info:
        tensors = uploads.read_weights(filename, payload)
        for layer in uploads.find_layers(tensors):
            uploads.build_cell(tensors, layer)
    assert set(info.value.params) <= UPLOAD_PARAMS, info.value.params
    zh = i18n.text(info.value.key, "zh", **info.value.params)
    # the list of tensor names in err_no_weights is the file's own content
    shown = zh.replace(str(info.value.params.get("names", "\0")), "")
    assert not ENGLISH_PHRASE.search(shown), zh
    for lang in i18n.LANGS:
        assert "allow_pickle" not in i18n.text(info.value.key, lang, **info.value.params)


@pytest.mark.parametrize("lang", i18n.LANGS)
def test_garbage_renamed_npz_says_it_is_not_a_zip_archive_in_the_users_language(lang):
    garbage = bytes(range(256)) * 4  # no zip, no .npy: np.load would try to unpickle it
    at = _run_page("your_model", lang)
    at.file_uploader(key="p5_file").upload("weights.npz", garbage).run()
    assert not at.exception
    (error,) = at.error
    assert error.value == i18n.text("err_npz_not_zip", lang, file="weights.npz")
    assert "pickle" not in error.value.lower()
    assert not _specs(at)


def test_unexpected_error_is_a_translated_message_without_the_exception_text():
    def script() -> None:
        from longdep.dashboard import i18n
        from longdep.dashboard.views import your_model

        your_model.show_error(i18n.translator("zh"), RuntimeError("internal detail XYZ"))

    at = AppTest.from_function(script, default_timeout=60).run()
    assert [e.value for e in at.error] == [i18n.text("err_unexpected", "zh")]


def test_unreadable_results_folder_is_a_message(tmp_path):
    with pytest.raises(uploads.UploadError) as info:
        uploads.read_train_dir("~no_such_user_longdep/results")  # expanduser raises
    assert info.value.key in ("err_dir", "err_dir_read")
    assert data.train_stamp("~no_such_user_longdep/results") == ()
    assert data.folder_stamp("~no_such_user_longdep/results") == ()


@pytest.mark.parametrize("lang", i18n.LANGS)
def test_file_uploaders_label_and_help_are_in_the_users_language(lang):
    at = _run_page("your_model", lang)
    uploaders = list(at.get("file_uploader"))
    at = _run_page("training", lang)
    uploaders += list(at.get("file_uploader"))
    assert len(uploaders) == 3
    limit = i18n.text("upload_help_limit", lang, limit=uploads.MAX_BYTES // 2**20)
    for u in uploaders:
        assert _has_cjk(u.proto.label) == (lang == "zh"), u.proto.label
        assert u.proto.help.endswith(limit)  # the size limit, and in zh what "Upload" means


def test_good_upload_on_the_page_draws_the_decay_curve():
    at = _weights_page("example.npz", uploads.example_npz())
    assert not at.exception and not at.error
    assert "LSTM" in at.success[0].value and "H = 32" in at.success[0].value
    (spec,) = _specs(at)
    _assert_log10_y(spec, i18n.text("axis_grad", "en"))


def test_two_layer_bidirectional_file_offers_the_forward_layers():
    H = 5
    rng = np.random.default_rng(3)
    state = {}
    for layer, inputs in ((0, 2), (1, 2 * H)):
        for suffix in ("", "_reverse"):
            state[f"weight_ih_l{layer}{suffix}"] = rng.normal(size=(3 * H, inputs))
            state[f"weight_hh_l{layer}{suffix}"] = rng.normal(size=(3 * H, H))
    layers = uploads.find_layers(state)
    assert [(lay.prefix, lay.layer) for lay in layers] == [("", 0), ("", 1)]
    cell, kind = uploads.build_cell(state, layers[1])
    assert kind == "gru" and cell.input_size == 2 * H and cell.bias_ih is None
    at = _weights_page("m.npz", _npz(**state))
    assert not at.exception and not at.error
    # ld.load reads it as one Bidirectional model: one map with a row per cell, both ways
    assert i18n.text("p5_kind_bidir", "en", kind="GRU", n=2) in at.success[0].value
    assert len(_specs(at)) == 1


def test_example_file_matches_the_library_cell():
    tensors = uploads.read_weights("example.npz", uploads.example_npz())
    cell, kind = uploads.build_cell(tensors, uploads.find_layers(tensors)[0])
    assert kind == "lstm" and cell.hidden_size == 32 and cell.input_size == 4


def test_sweep_parquet_files_load_and_plot(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    for rho in (0.5, 0.9):
        d = np.arange(5000)
        pd.DataFrame(
            {
                "case": f"rho={rho}",
                "distance": d,
                "log_norm": d * math.log(rho) + rng.normal(size=d.size) * 1e-3,
                "decay_rate": math.log(rho),
                "memory_horizon": math.log(1e-6) / math.log(rho),
                "regime": "vanishing",
            }
        ).to_parquet(tmp_path / f"rho={rho}.parquet")
    pd.DataFrame({"case": ["x"], "decay_rate": [0.0]}).to_parquet(tmp_path / uploads.SUMMARY)
    curves, metrics = uploads.read_sweep_dir(str(tmp_path))
    assert set(curves["name"]) == {"rho=0.5", "rho=0.9"}
    assert curves.groupby("name").size().max() <= 301
    assert list(metrics.columns) == ["name", "decay_rate", "memory_horizon", "regime"]

    monkeypatch.setenv(uploads.RESULTS_ENV, str(tmp_path))  # longdep dashboard --results
    at = _run_page("your_model", "en")
    at.text_input(key="p5_dir").input(".").run()
    assert not at.exception and not at.error
    (spec,) = _specs(at)
    _assert_log10_y(spec, i18n.text("axis_grad", "en"))


def test_sweep_results_written_by_longdep_sweep_open_on_the_page(tmp_path):
    from longdep import sweep

    sweep.run_sweep(ROOT / "examples" / "quick.toml", tmp_path, workers=1, progress=False)
    curves, metrics = uploads.read_sweep_dir(str(tmp_path))
    assert len(set(curves["name"])) == 8
    assert {"decay_rate", "memory_horizon", "regime"} <= set(metrics.columns)


@pytest.mark.parametrize(
    ("frame", "key"),
    [
        (pd.DataFrame({"distance": [0, 1], "log_norm": [0.0, -1.0]}), "err_columns"),
        (pd.DataFrame({"name": ["a"], "log_norm": [0.0]}), "err_columns"),
        (pd.DataFrame({"name": ["a"], "distance": ["far"], "log_norm": [0.0]}), "err_values"),
    ],
)
def test_sweep_files_without_the_needed_columns_are_refused(frame, key):
    buf = io.BytesIO()
    frame.to_parquet(buf)
    with pytest.raises(uploads.UploadError) as info:
        uploads.read_sweep([("case.parquet", buf.getvalue())])
    assert info.value.key == key


def test_sweep_folder_errors():
    with pytest.raises(uploads.UploadError, match="err_dir"):
        uploads.read_sweep_dir("/no/such/folder")
    with pytest.raises(uploads.UploadError, match="err_parquet"):
        uploads.read_sweep([("x.parquet", b"not parquet")])


# -- page 6: training lab --------------------------------------------------------------------


def _log_y(spec: dict, title: str) -> dict:
    """The y encoding of the curves: a log scale with the given title."""
    ys = [y for y in _encodings(spec, "y") if y.get("field") == "y" and "title" in y]
    assert ys, "the chart must plot its values on a titled y axis"
    assert ys[0]["scale"]["type"] == "log"
    assert ys[0]["title"] == title
    return ys[0]


def _rule_values(at: AppTest, chart: int) -> dict[float, str]:
    """Horizontal reference lines (value -> label) in a training chart's datasets."""
    out = {}
    for d in _datasets(at, chart):
        if {"y", "label"} <= set(d.columns) and "name" not in d.columns:
            out.update(zip(d["y"], d["label"], strict=True))
    return out


def _train_tiny(lang: str, task: str = "adding") -> AppTest:
    at = _run_page("training", lang)
    at.selectbox(key="p6_task").set_value(task)
    at.select_slider(key="p6_T").set_value(10)
    at.select_slider(key="p6_H").set_value(8)
    at.select_slider(key="p6_steps").set_value(50)
    at.multiselect(key="p6_models").set_value(["vanilla", "gru"])
    return at.button(key="p6_train").click().run()


@pytest.mark.parametrize("lang", i18n.LANGS)
def test_training_lab_trains_only_on_the_button_and_plots_log_loss_with_the_baseline(lang):
    at = _run_page("training", lang)
    at.select_slider(key="p6_steps").set_value(50).run()  # a widget change alone trains nothing
    assert not _specs(at) and not at.exception
    at = _train_tiny(lang)
    assert not at.exception and not at.error
    loss, grad = _specs(at)
    _log_y(loss, i18n.text("p6_axis_loss", lang))
    _log_y(grad, i18n.text("p6_axis_grad", lang))
    assert _encodings(loss, "x")[0]["title"] == i18n.text("p6_axis_step", lang)
    rules = _rule_values(at, 0)
    assert list(rules) == [pytest.approx(1 / 6)]  # the adding problem's memoryless baseline
    assert list(rules.values()) == [i18n.text("p6_baseline", lang, v=1 / 6)]
    dashed = [u for u in _layers(loss) if u["mark"].get("type") == "rule"]
    assert dashed and dashed[0]["mark"]["strokeDash"]
    curves = pd.concat([d for d in _datasets(at, 0) if "name" in d.columns])
    models = {i18n.text("p6_model_vanilla", lang), i18n.text("p6_model_gru", lang)}
    assert set(curves["name"]) == models
    assert curves["step"].max() == 49 and (curves["y"] > 0).all()
    assert [m.label for m in at.metric] == [
        i18n.text("p6_model_vanilla", lang),
        i18n.text("p6_model_gru", lang),
    ]
    assert not at.get("progress")  # the bars are removed when the runs finish
    # A rerun (any widget) shows the cached runs again without training.
    at.run()
    assert len(_specs(at)) == 2 and not at.exception


def test_training_lab_copy_task_baseline_is_10_ln8_over_its_length():
    at = _train_tiny("en", "copy")
    assert not at.exception
    (value,) = _rule_values(at, 0)
    assert value == pytest.approx(10 * math.log(8) / (10 + 20))


def test_training_lab_lab_run_is_cached_on_its_scalar_settings():
    calls = []
    args = ("subject", 10, 8, 30, "lstm", 1e-2, "adam", 1.0, 3)
    first = data.lab_run(*args, _progress=calls.append)
    assert calls[-1] == 1.0 and all(0 < f <= 1 for f in calls)
    assert calls == sorted(calls) and len(calls) >= 10  # reported while training, in order
    reported = len(calls)
    again = data.lab_run(*args, _progress=calls.append)  # a new callback is not in the key
    assert len(calls) == reported  # served from the cache: nothing trained, nothing reported
    assert again["final"] == first["final"]
    assert first["baseline"] == pytest.approx(math.log(8))
    assert len(first["history"]) == 30


def test_clipping_preset_diverges_without_clipping_and_stays_finite_with_it():
    none = data.clipping_run(None, 200, 0)
    clipped = data.clipping_run(1.0, 200, 0)
    loss = none["history"]["loss"].to_numpy()
    assert none["diverged"] and math.isinf(none["final"])
    assert loss[0] == clipped["history"]["loss"].iloc[0]  # same weights, same first batch
    assert np.isfinite(loss[:-1]).all() and not np.isfinite(loss[-1])  # stops at the overflow
    assert loss[-2] > 1e100
    assert not clipped["diverged"]
    h = clipped["history"]
    assert h["grad_norm_clipped"].max() <= 1.0 + 1e-9 < h["grad_norm"].max()
    # the loss falls from 1.23 to near the memoryless baseline 1/6 and stays finite
    assert h["loss"].iloc[-50:].mean() < min(h["loss"].iloc[0] / 3, 2 * clipped["baseline"])


@pytest.mark.parametrize(
    ("final", "key"),
    [
        (0.10, "p6_clip_verdict_below"),
        (0.16, "p6_clip_verdict_near"),
        (1 / 6, "p6_clip_verdict_near"),
        (0.17, "p6_clip_verdict_near"),
        (0.24, "p6_clip_verdict_above"),
    ],
)
def test_clip_verdict_follows_the_numbers(final, key):
    from longdep.dashboard.views import training

    assert training.clip_verdict(final, 1 / 6) == key


@pytest.mark.parametrize("lang", i18n.LANGS)
def test_clipping_demo_states_what_its_numbers_show(lang):
    """The headline promises nothing the run may not deliver; the summary below the charts
    prints both runs' outcome and the clipped run's final loss next to the baseline, in
    the sentence that matches them (the preset's clipped run ends above the baseline)."""
    for claim in ("rescue", "挽救", "converge"):
        assert claim not in i18n.text("p6_clip_header", lang).lower()
    p = data.CLIP_PRESET
    none = data.clipping_run(None, p["steps"], p["seed"])
    clipped = data.clipping_run(p["c"], p["steps"], p["seed"])
    final, base = clipped["final"], clipped["baseline"]
    assert none["diverged"] and not clipped["diverged"]
    from longdep.dashboard.views import training

    key = training.clip_verdict(final, base)
    if key == "p6_clip_verdict_below":
        assert final < base
    elif key == "p6_clip_verdict_above":
        assert final > base
    else:
        assert final == pytest.approx(base, rel=training.BASELINE_BAND)
    at = _run_page("training", lang)
    at.button(key="p6_clip_go").click().run()
    assert not at.exception and not at.error
    verdict = i18n.text(key, lang, final=final, base=base)
    (summary,) = [m.value for m in at.markdown if verdict in m.value]
    assert f"{final:.3g}" in summary and f"{base:.3g}" in summary
    step = int(none["history"]["step"].iloc[-1])
    assert str(step) in summary  # where the run without clipping overflowed
    others = {"p6_clip_verdict_below", "p6_clip_verdict_near", "p6_clip_verdict_above"} - {key}
    for other in others:
        assert i18n.text(other, lang, final=final, base=base) not in summary


def test_training_lab_presets_render_on_the_page(monkeypatch):
    monkeypatch.setitem(data.CLIP_PRESET, "steps", 160)
    small = {"H": 8, "short": 10, "long": 20, "pre_steps": 30, "fine_steps": 30}
    for key, value in small.items():
        monkeypatch.setitem(data.PRETRAIN_PRESET, key, value)
    at = _run_page("training", "zh")
    at.button(key="p6_clip_go").click().run()
    assert not at.exception and not at.error
    loss, _ = _specs(at)
    _log_y(loss, i18n.text("p6_axis_loss", "zh"))
    marks = [d for d in _datasets(at, 0) if "step" in d.columns and "name" not in d.columns]
    assert any("label" in d and d["label"].str.contains("146").any() for d in marks)
    assert set(_rule_values(at, 1)) == {1.0}  # the clipping threshold on the gradient chart
    assert at.metric[0].value == i18n.text("p6_diverged", "zh")
    at.button(key="p6_pre_go").click().run()
    assert not at.exception and not at.error
    assert len(_specs(at)) == 3
    names = set(pd.concat([d for d in _datasets(at, 2) if "name" in d.columns])["name"])
    assert names == {
        i18n.text("p6_pre_pretrain", "zh", T=10),
        i18n.text("p6_pre_finetune", "zh", T=20),
        i18n.text("p6_pre_scratch", "zh", T=20),
    }
    pre = pd.concat([d for d in _datasets(at, 2) if "name" in d.columns])
    assert pre["step"].min() == -30  # pre-training is drawn before the switch at step 0


def _tiny_train_config(tmp_path: Path) -> Path:
    cfg = tmp_path / "tiny.toml"
    cfg.write_text(
        'name = "tiny"\ntask = "adding"\nlength = 10\nhidden = 8\nsteps = 30\n'
        'models = ["vanilla", "gru"]\n'
    )
    return cfg


@pytest.mark.parametrize("lang", i18n.LANGS)
def test_training_results_folder_errors_are_messages_and_a_good_folder_plots(
    tmp_path, lang, monkeypatch
):
    from longdep import trainlab

    out = tmp_path / "results"
    trainlab.run_train(trainlab.load_train_config(_tiny_train_config(tmp_path)), out, quiet=True)
    empty = tmp_path / "empty"
    empty.mkdir()
    wrong = tmp_path / "wrong"
    wrong.mkdir()
    pd.DataFrame({"distance": [0, 1], "log_norm": [0.0, -1.0]}).to_parquet(wrong / "x.parquet")
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "h.parquet").write_bytes(b"not parquet at all")

    monkeypatch.setenv(uploads.RESULTS_ENV, str(tmp_path))  # longdep dashboard --results
    at = _run_page("training", lang)
    for folder, expected in (
        ("missing", i18n.text("err_folder", lang)),
        ("empty", i18n.text("err_no_parquet", lang, path="empty")),
        (
            "wrong",
            i18n.text("err_train_columns", lang, file="x.parquet", missing="step, loss, model"),
        ),
        ("broken", i18n.text("err_parquet", lang, file="h.parquet")),
    ):
        at.text_input(key="p6_dir").input(folder).run()
        assert not at.exception
        assert len(at.error) == 1
        assert at.error[0].value.startswith(expected)
        assert not _specs(at)

    at.text_input(key="p6_dir").input("results").run()
    assert not at.exception and not at.error
    loss, grad = _specs(at)
    _log_y(grad, i18n.text("p6_axis_grad", lang))
    _log_y(loss, i18n.text("p6_axis_loss", lang))
    assert list(_rule_values(at, 0)) == [pytest.approx(1 / 6)]
    curves = pd.concat([d for d in _datasets(at, 0) if "name" in d.columns])
    assert set(curves["name"]) == {
        i18n.text("p6_model_vanilla", lang),
        i18n.text("p6_model_gru", lang),
    }
    summary = at.dataframe[0].value
    assert list(summary["model"]) == ["vanilla", "gru"]
    assert "final_loss" in summary.columns


def test_training_results_uploads_are_validated():
    buf = io.BytesIO()
    pd.DataFrame({"step": [0, 1], "loss": [1.0, 0.5], "model": "gru"}).to_parquet(buf)
    hist, summary = uploads.read_train([("gru.parquet", buf.getvalue())])
    assert summary is None
    assert list(hist["run"]) == ["train", "train"] and hist["grad_norm"].isna().all()
    csv = b"model,final_loss\ngru,0.5\n"
    _, summary = uploads.read_train([("gru.parquet", buf.getvalue()), ("summary.csv", csv)])
    assert summary["final_loss"].iloc[0] == 0.5
    with pytest.raises(uploads.UploadError) as info:
        uploads.read_train([("summary.csv", csv)])
    assert info.value.key == "err_no_parquet"
    bad = io.BytesIO()
    pd.DataFrame({"step": ["a"], "loss": [1.0], "model": ["gru"]}).to_parquet(bad)
    with pytest.raises(uploads.UploadError) as info:
        uploads.read_train([("bad.parquet", bad.getvalue())])
    assert info.value.key == "err_train_values"


# -- charts.py as pure functions ----------------------------------------------------------


@pytest.mark.parametrize(
    ("log10", "text"),
    [
        (0.0, "1.00e+0"),
        (-325.5, "3.16e-326"),
        (2.0, "1.00e+2"),
        (-0.0000001, "1.00e+0"),
        (-np.inf, "0"),
    ],
)
def test_sci_from_log10_prints_any_magnitude(log10, text):
    assert charts.sci_from_log10(log10) == text


def _curve(name: str, rate: float, T: int = 1000) -> pd.DataFrame:
    d = np.arange(T)
    return pd.DataFrame({"name": name, "distance": d, "log_norm": rate * d})


def test_decay_chart_spec_has_log10_axis_theory_dash_and_tooltips():
    theory = _curve("theory", -0.1)
    spec = charts.decay_chart(
        _curve("measured", -0.2), theory=theory, x_title="distance (steps)", y_title="‖g‖ (log10)",
        threshold_log10=-6, threshold_label="threshold",
    ).to_dict()  # fmt: skip
    _assert_log10_y(spec, "‖g‖ (log10)")
    assert _encodings(spec, "strokeDash")[0]["field"] == "kind"
    tips = {t["field"] for t in _encodings(spec, "tooltip")[0]}
    assert {"name", "distance", "value"} <= tips
    rows = next(iter(spec["datasets"].values()))
    log10 = [r["log10"] for r in rows if r.get("kind") == "measured"]
    np.testing.assert_allclose(log10, -0.2 * np.arange(1000) / math.log(10))


def test_decay_chart_drops_non_finite_points_instead_of_breaking_the_scale():
    curve = _curve("m", -1.0, 5)
    curve.loc[2, "log_norm"] = -np.inf
    spec = charts.decay_chart(curve, x_title="x", y_title="y").to_dict()
    rows = next(iter(spec["datasets"].values()))
    assert len(rows) == 4 and all(math.isfinite(r["log10"]) for r in rows)


def test_log_x_switches_the_distance_axis_to_log_without_distance_zero():
    spec = charts.decay_chart(_curve("m", -1.0), x_title="x", y_title="y", log_x=True).to_dict()
    assert _encodings(spec, "x")[0]["scale"]["type"] == "log"
    rows = next(iter(spec["datasets"].values()))
    assert min(r["distance"] for r in rows) == 1  # distance 0 has no place on a log axis


def test_layered_curves_chart_binds_the_legend_to_a_name_selection():
    df = pd.concat([_curve("a", -0.1), _curve("b", -0.01)])
    spec = charts.layered_curves_chart(df, x_title="x", y_title="y").to_dict()
    params = _params(spec)
    assert params[0]["select"] == {"type": "point", "fields": ["name"]}
    assert params[0]["bind"] == "legend"
    assert "condition" in _encodings(spec, "opacity")[0]


def test_telephone_chart_has_power_of_ten_ticks_on_a_log_scale():
    df = pd.DataFrame({"person": [1, 2, 3] * 2, "model": ["a"] * 3 + ["b"] * 3,
                       "fraction": [1.0, 1e-3, 1e-7, 1.0, 1.0, 1.0]})  # fmt: skip
    spec = charts.telephone_chart(df, x_title="person", y_title="share").to_dict()
    y = _encodings(spec, "y")[0]
    assert y["scale"]["type"] == "log"
    assert y["axis"]["values"] == [10.0**-k for k in range(8)]


def test_training_chart_uses_a_log_axis_and_drops_what_it_cannot_place():
    steps = np.arange(100)
    df = pd.DataFrame({"name": "a", "step": steps, "loss": np.exp(-steps / 20.0)})
    df.loc[99, "loss"] = np.inf  # the step where a run diverged
    df.loc[98, "loss"] = 0.0
    hl = pd.DataFrame({"y": [0.5], "label": ["baseline"]})
    vl = pd.DataFrame({"step": [99], "label": ["diverged"]})
    spec = charts.training_chart(
        df, x_title="step", y_title="loss", hlines=hl, vlines=vl, y_max=10.0
    ).to_dict()
    y = next(e for e in _encodings(spec, "y") if e.get("field") == "y")
    assert y["scale"] == {"type": "log", "domainMax": 10.0}
    sets = list(spec["datasets"].values())
    raw, smooth = sets[0], sets[1]
    assert len(raw) == 98 and all(r["y"] > 0 for r in raw)
    # the smoothed curve is a running geometric mean: exact for an exponential inside
    mid = {r["step"]: r["y"] for r in smooth}
    assert mid[50] == pytest.approx(math.exp(-50 / 20.0))
    assert any(s == [{"y": 0.5, "label": "baseline", "step": 97}] for s in sets)
    assert any(s == [{"step": 99, "label": "diverged"}] for s in sets)


@pytest.mark.parametrize(
    ("lo", "hi", "ticks"),
    [
        (0.004, 1.2, [1e-3, 1e-2, 1e-1, 1.0, 10.0]),
        (0.1, 1e305, [10.0**k for k in range(0, 306, 50)]),
        (0.02, 3e9, [1e-2, 1.0, 1e2, 1e4, 1e6, 1e8, 1e10]),
        (1.0, 1.0, [1.0]),
    ],
)
def test_log_ticks_are_powers_of_ten_at_most_eight(lo, hi, ticks):
    got = charts.log_ticks(lo, hi)
    assert got == pytest.approx(ticks, rel=1e-12)
    assert len(got) <= 8


def test_training_chart_thins_long_runs():
    df = pd.DataFrame({"name": "a", "step": np.arange(5000), "loss": 1.0})
    spec = charts.training_chart(df, x_title="x", y_title="y", max_points=400).to_dict()
    assert all(len(s) <= 401 for s in spec["datasets"].values())


def test_block_average_matches_a_loop_and_caps_the_grid():
    rng = np.random.default_rng(1)
    grid = rng.normal(size=(250, 130))
    out = charts.block_average(grid)
    assert out.shape == (84, 65)  # blocks of 3 x 2
    for i, j in [(0, 0), (83, 64), (41, 7)]:
        block = grid[3 * i : 3 * i + 3, 2 * j : 2 * j + 2]
        assert out[i, j] == pytest.approx(block.mean())
    small = rng.normal(size=(20, 30))
    np.testing.assert_array_equal(charts.block_average(small), small)


def test_heatmap_chart_block_averages_large_grids_and_keeps_edge_lines():
    xs, ys = np.linspace(0, 1, 300), np.linspace(0, 2, 150)
    grid = np.add.outer(ys, xs)
    edge = pd.DataFrame({"x": [0.5, 0.6], "y": [0.0, 2.0], "line": "edge"})
    chart = charts.heatmap_chart(grid, xs, ys, x_title="gain", y_title="input", color_title="rate",
                                 diverging=True, edge=edge)  # fmt: skip
    with alt.data_transformers.enable("default", max_rows=None):  # as Streamlit serialises it
        spec = chart.to_dict()
    sets = list(spec["datasets"].values())
    assert max(len(s) for s in sets) <= 100 * 100
    color = _encodings(spec, "color")[0]
    assert color["scale"]["domainMid"] == 0
    assert any(len(s) == 2 and s[0]["line"] == "edge" for s in sets)


def test_heatmap_chart_rejects_a_grid_of_the_wrong_shape():
    with pytest.raises(ValueError, match="shape"):
        charts.heatmap_chart(
            np.zeros((3, 4)), [1, 2, 3], [1, 2, 3], x_title="x", y_title="y", color_title="c"
        )


def test_lyapunov_chart_colours_positive_exponents():
    spec = charts.lyapunov_chart([0.2, -0.1, -0.5], x_title="i", y_title="λ").to_dict()
    rows = next(iter(spec["datasets"].values()))
    assert [r["sign"] for r in rows] == ["> 0", "≤ 0", "≤ 0"]


# -- data.py against closed forms ---------------------------------------------------------


def test_linear_orthogonal_cell_matches_the_exact_theory():
    res = data.decay("elman", "linear", "orthogonal", 32, 5000, 0.97, 0.5, 3, True)
    assert res["theory_kind"] == "exact"
    np.testing.assert_allclose(
        res["curve"]["log_norm"], res["theory"]["log_norm"], rtol=0, atol=1e-8
    )
    # (T-1-t) ln rho, i.e. rho^k at distance k
    np.testing.assert_allclose(
        res["theory"]["log_norm"], res["theory"]["distance"] * math.log(0.97)
    )
    assert res["metrics"]["decay_rate"] == pytest.approx(math.log(0.97), abs=1e-9)


def test_lru_theory_is_exact():
    res = data.decay("lru", "tanh", "normal", 16, 3000, 0.99, 1.0, 0, True)
    np.testing.assert_allclose(res["curve"]["log_norm"], res["theory"]["log_norm"], atol=1e-8)


def test_tanh_linearisation_bounds_the_measured_decay():
    res = data.decay("elman", "tanh", "orthogonal", 64, 2000, 0.9, 1.0, 0, True)
    assert res["theory_kind"] == "linearised"
    # |tanh'| <= 1, so for an orthogonal W_hh every step shrinks at least by rho.
    assert (res["curve"]["log_norm"] <= res["theory"]["log_norm"] + 1e-9).all()


def test_telephone_attention_is_flat_and_the_rnn_forgets_faster_than_the_lstm():
    df = data.telephone(0).pivot(index="person", columns="model", values="fraction")
    assert (df["attention"] == 1.0).all()
    assert df.loc[20, "rnn"] < 1e-3 < 0.1 < df.loc[20, "lstm"]


def test_clipping_rescales_everything_by_one_factor():
    df = data.clipping(32, 1000, 0, 0.0, 100).set_index("case")
    exp = df.loc["exploding"]
    assert exp["total"] > 10 and exp["total_after"] == pytest.approx(0.0)  # ||g|| -> c = 1
    for case in ("vanishing", "exploding"):
        row = df.loc[case]
        assert row["ratio_after"] == pytest.approx(row["ratio"])
        assert row["far_after"] - row["far_norm"] == pytest.approx(row["scale"])


def test_landscape_grid_and_measured_edge():
    res = data.landscape("gain_input", 12, 4, 1000, 64, 0.0, 0)
    assert res["rate"].shape == (4, 12)
    rows = res["rate"]
    assert (rows[:, 0] < 0).all() and (rows[:, -1] > 0).all()  # order on the left, chaos right
    measured = res["edge"][res["edge"]["line"] == "measured"]
    assert len(measured) == 4 and measured["x"].between(0.5, 3.0).all()


# -- i18n, app wiring, CLI ------------------------------------------------------------------


def _fields(template: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(template) if f}


def test_every_string_exists_in_both_languages_with_the_same_placeholders():
    for key, entry in i18n.STRINGS.items():
        assert set(entry) == set(i18n.LANGS), key
        assert all(entry[lang].strip() for lang in i18n.LANGS), key
        assert _fields(entry["en"]) == _fields(entry["zh"]), key
    for key, entry in i18n.STRINGS.items():
        if (
            key.startswith(("p1_", "p2_", "p3_", "p4_", "p5_", "p6_", "rem_", "err_"))
            and len(entry["en"]) > 12
        ):
            assert _has_cjk(entry["zh"]), key


# -- Markdown as Streamlit renders it ----------------------------------------------------------
#
# Streamlit renders st.markdown, captions, alerts and labels with remark, a CommonMark
# parser. CommonMark opens and closes `**` / `*` / `_` emphasis only at "flanking"
# delimiter runs, judged by the characters on either side (spec 6.2): `**基线：**始终`
# stays literal, because its closing `**` follows punctuation and precedes a letter.
# markdown-it-py (test extra) is a CommonMark renderer; tests/test_browser.py checks the
# dashboard's real renderer in Chromium too.

_COMMONMARK = MarkdownIt("commonmark")


def _md_render(text: str) -> str:
    """``text`` as CommonMark shows it: the HTML's text, code spans left out."""
    html = _COMMONMARK.render(text)
    html = re.sub(r"<code>.*?</code>", "", html, flags=re.S)
    return html_unescape(re.sub(r"<[^>]+>", "", html))


def _filled(template: str) -> str:
    """A template with every placeholder filled (a digit for formatted numbers)."""
    parts = []
    for literal, name, spec, _ in string.Formatter().parse(template):
        parts.append(literal)
        if name is not None:
            parts.append("1" if spec else "x")
    return "".join(parts)


@pytest.mark.parametrize(
    ("source", "shown"),
    [  # the CJK cases of the issue: punctuation inside the closing `**` keeps it literal
        ("**基线：**始终", "**基线：**始终"),
        ("**基线**：始终", "基线：始终"),
        ("的**“梯度”**是", "的**“梯度”**是"),
        ("按 **开始训练**。", "按 开始训练。"),
    ],
)
def test_commonmark_keeps_bold_literal_after_cjk_punctuation(source, shown):
    assert _md_render(source).strip() == shown


@pytest.mark.parametrize("lang", i18n.LANGS)
def test_every_string_renders_its_markdown_emphasis(lang):
    """Every `*` and `**` of every string opens or closes emphasis (none is shown as a
    literal asterisk), and no underscore is taken for emphasis."""
    bad = {}
    for key, entry in i18n.STRINGS.items():
        source = _filled(entry[lang])
        shown = _md_render(source)
        code_free = re.sub(r"`[^`]*`", "", source)
        if "*" in shown or shown.count("_") != code_free.count("_"):
            bad[key] = shown
    assert not bad, bad


def _markdown_texts(at: AppTest) -> list[str]:
    """The source text of every element Streamlit renders as Markdown."""
    kinds = ("markdown", "caption", "info", "warning", "error", "success", "subheader")
    texts = [el.value for kind in kinds for el in at.get(kind)]
    texts += [m.proto.help for m in at.metric if m.proto.help]
    return texts


def test_training_lab_in_chinese_renders_every_bold_span():
    at = _run_page("training", "zh")
    texts = _markdown_texts(at)
    for key in ("p6_task_adding_text", "p6_meaning", "p6_clip_why"):
        assert i18n.text(key, "zh") in texts  # the six strings of the issue are on the page
    for text in texts:
        assert "**" not in _md_render(text), text


def test_views_use_only_keys_that_exist():
    import re

    used = set()
    for path in [*VIEWS.glob("*.py"), APP_PATH]:
        used |= set(re.findall(r'tr\(\s*"([a-z0-9_]+)"', path.read_text()))
    assert used and used <= set(i18n.STRINGS), used - set(i18n.STRINGS)
    for name in data.REMEDIES:
        assert f"rem_{name}" in i18n.STRINGS and f"rem_{name}_how" in i18n.STRINGS


def test_every_page_answers_at_its_own_path_and_the_first_also_at_the_root():
    """Streamlit serves the default page at "/" and gives it the url_path "" whatever
    st.Page was told, so a link to /problem needs a second, hidden page at that path."""

    def script() -> None:
        import streamlit as st

        from longdep.dashboard import app, i18n

        for page in app.navigation_pages(i18n.translator("en")):
            st.text(f"{page.url_path}|{page.visibility}|{page.title}|{page._default}")

    at = AppTest.from_function(script, default_timeout=60).run()
    assert not at.exception
    rows = [t.value.split("|") for t in at.text]
    by_path = {path: (visibility, title) for path, visibility, title, _ in rows}
    assert len(by_path) == len(rows)  # no url_path twice
    first = i18n.text("nav_problem", "en")
    assert by_path[""] == ("visible", first)  # the default page, at the root
    for name, key, _ in app_pages():
        assert name in by_path, name  # /problem, /decay, ...
        assert by_path[name][1] == i18n.text(key, "en")
    menu = [title for path, visibility, title, _ in rows if visibility == "visible"]
    assert menu == [i18n.text(key, "en") for _, key, _ in app_pages()]
    assert [d for *_, d in rows].count("True") == 1


def app_pages() -> tuple[tuple[str, str, str], ...]:
    from longdep.dashboard import app

    assert tuple(name for name, _, _ in app.PAGES) == PAGES
    return app.PAGES


def test_locale_default():
    assert i18n._from_locale("zh-CN") == "zh"
    assert i18n._from_locale("en-GB") == "en"
    assert i18n._from_locale(None) == "en"


def test_shim_and_config():
    assert SHIM.read_text().strip().splitlines()[0] == "from longdep.dashboard.app import main"
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["theme"] == THEME
    assert config["server"]["headless"] is True
    assert config["browser"]["gatherUsageStats"] is False


def test_cli_dashboard_runs_streamlit_on_the_package_app(monkeypatch):
    from click.testing import CliRunner

    from longdep import cli

    calls = []

    def run(*args, **kwargs):
        calls.append(args[-1])
        raise SystemExit(0)

    monkeypatch.setattr(cli.os, "execv", run)
    monkeypatch.setattr(cli.subprocess, "call", run)
    result = CliRunner().invoke(
        cli.main, ["dashboard", "--port", "8599", "--headless", "--server.address=127.0.0.1"]
    )
    assert result.exit_code == 0, result.output
    (cmd,) = calls
    assert cmd[:5] == [sys.executable, "-m", "streamlit", "run", str(APP_PATH)]
    assert "--server.port=8599" in cmd and "--server.headless=true" in cmd
    assert cmd[-1] == "--server.address=127.0.0.1"
    assert f"--theme.primaryColor={THEME['primaryColor']}" in cmd
