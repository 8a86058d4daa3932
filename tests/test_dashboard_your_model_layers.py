"""The "Your model" page reads uploads with ``ld.load`` and shows every recurrent layer it
found: a 2-layer LSTM state dict with torch names (saved as .npz and as .safetensors)
gets one depth x time map with one row per layer, whose values are the per-layer norms of
``ld.Stack.from_state_dict(...).grad_norms`` computed here; several models in one file
each get their own decay; what ``ld.load`` cannot assemble is a translated error."""

from __future__ import annotations

import io
import math

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from streamlit.testing.v1 import AppTest

import longdep as ld
from longdep.dashboard import APP_PATH, i18n, uploads

SHIM = APP_PATH.parents[3] / "dashboard" / "app.py"
YOUR_MODEL = APP_PATH.parent / "views" / "your_model.py"
H, I = 6, 3
PREFIX = "encoder.lstm."
#: Settings of the page used below (the smallest T keeps the test fast).
T, SCALE, SEED = 100, 1.0, 0


def _lstm_state(rng: np.random.Generator, prefix: str = PREFIX, layers: int = 2) -> dict:
    """A torch nn.LSTM(num_layers=layers) state dict, float64, built with NumPy."""
    state = {}
    for k in range(layers):
        fan_in = I if k == 0 else H
        state[f"{prefix}weight_ih_l{k}"] = rng.uniform(-0.6, 0.6, (4 * H, fan_in))
        state[f"{prefix}weight_hh_l{k}"] = rng.uniform(-0.6, 0.6, (4 * H, H))
        state[f"{prefix}bias_ih_l{k}"] = rng.uniform(-0.3, 0.3, 4 * H)
        state[f"{prefix}bias_hh_l{k}"] = rng.uniform(-0.3, 0.3, 4 * H)
    return state


def _npz(state: dict) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **state)
    return buf.getvalue()


def _safetensors(state: dict) -> bytes:
    st = pytest.importorskip("safetensors.numpy", reason="safetensors writes the test file")
    return st.save({k: np.ascontiguousarray(v) for k, v in state.items()})


def _upload(filename: str, payload: bytes, lang: str = "en") -> AppTest:
    at = AppTest.from_file(str(SHIM), default_timeout=120)
    at.query_params["lang"] = lang
    at.run()
    at.switch_page(str(YOUR_MODEL)).run()
    at.file_uploader(key="p5_file").upload(filename, payload).run()
    if any(getattr(w, "key", None) == "p5_T" for w in at.select_slider):
        at.select_slider(key="p5_T").set_value(T)
        at.button(key="p5_form_go").click().run()  # the form's values count on Compute
    return at


def _charts(at: AppTest) -> list:
    return list(at.get("arrow_vega_lite_chart")) or list(at.get("vega_lite_chart"))


def _frame(el) -> pd.DataFrame:
    return pa.ipc.open_stream(el.proto.datasets[0].data.data).read_all().to_pandas()


def _expected_map(state: dict, prefix: str = PREFIX) -> np.ndarray:
    """log10 ||dL/dh^l_t|| by distance from the loss, (T, L), from the library's Stack
    built here from the same arrays, on the page's documented inputs: i.i.d.
    N(0, s^2) from ``default_rng([seed, 7919])``, ``L = v . h^top_{T-1}`` with unit ``v``."""
    stack = ld.Stack.from_state_dict(state, "lstm", prefix=prefix)
    x = SCALE * np.random.default_rng([SEED, 7919]).normal(size=(T, I))
    v = np.full(H, 1.0 / math.sqrt(H))
    return stack.grad_norms(x, v, log=True)[::-1] / math.log(10.0)


@pytest.mark.parametrize("suffix", ["npz", "safetensors"])
def test_a_two_layer_lstm_gets_one_decay_row_per_layer_matching_stack_grad_norms(suffix):
    state = _lstm_state(np.random.default_rng(11))
    payload = _npz(state) if suffix == "npz" else _safetensors(state)
    at = _upload(f"model.{suffix}", payload)
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert "encoder.lstm" in at.success[0].value
    assert i18n.text("p5_kind_stack", "en", kind="LSTM", n=2) in at.success[0].value
    (chart,) = _charts(at)
    frame = _frame(chart)
    assert sorted(set(frame["layer"])) == ["l0", "l1"]  # one map row per layer
    want = _expected_map(state)
    assert want.shape == (T, 2)
    for k, layer in enumerate(("l0", "l1")):
        row = frame[frame["layer"] == layer].sort_values("distance")
        d = row["distance"].to_numpy().astype(int)
        assert d[0] == 0 and d[-1] == T - 1 and len(d) == T  # T = 100: every step
        np.testing.assert_allclose(row["log10"].to_numpy(), want[d, k], rtol=1e-9, atol=1e-12)
    # the two layers decay differently: the map is not one curve drawn twice
    assert not np.allclose(want[:, 0], want[:, 1])
    # the per-layer metrics table has a row per layer
    (table,) = at.dataframe
    assert list(table.value.iloc[:, 0]) == ["l0", "l1"]


def test_every_model_in_a_file_gets_its_own_decay():
    rng = np.random.default_rng(4)
    state = _lstm_state(rng)
    cell = ld.init.gru(5, 2, seed=3)
    state |= {f"decoder.cell.{k}": np.asarray(v) for k, v in cell.trainable().items()}
    at = _upload("two.npz", _npz(state))
    assert not at.exception and not at.error
    assert at.success[0].value == i18n.text("p5_found_many", "en", n=2)
    found = at.dataframe[0].value
    assert list(found.iloc[:, 0]) == ["encoder.lstm", "decoder.cell"]
    assert list(found[i18n.text("p5_col_layers", "en")]) == [2, 1]
    charts = _charts(at)
    assert len(charts) == 2  # the stack's map and the GRU cell's curve
    assert sorted(set(_frame(charts[0])["layer"])) == ["l0", "l1"]
    assert "log_norm" in _frame(charts[1])


def test_a_bidirectional_two_layer_file_maps_all_four_cells():
    rng = np.random.default_rng(3)
    state = {}
    for layer, inputs in ((0, 2), (1, 10)):
        for suffix in ("", "_reverse"):
            state[f"weight_ih_l{layer}{suffix}"] = rng.normal(size=(15, inputs))
            state[f"weight_hh_l{layer}{suffix}"] = rng.normal(size=(15, 5))
    at = _upload("bi.npz", _npz(state), "zh")
    assert not at.exception and not at.error
    (chart,) = _charts(at)
    assert sorted(set(_frame(chart)["layer"])) == ["l0", "l0_reverse", "l1", "l1_reverse"]


@pytest.mark.parametrize("lang", i18n.LANGS)
def test_layers_whose_sizes_do_not_chain_are_a_translated_error(lang):
    state = _lstm_state(np.random.default_rng(0))
    state[f"{PREFIX}weight_ih_l1"] = np.zeros((4 * H, H + 1))  # layer 1 must read H inputs
    with pytest.raises(uploads.UploadError) as info:
        uploads.load_models(state)
    assert info.value.key == "err_load"
    at = _upload("bad.npz", _npz(state), lang)
    assert not at.exception
    (error,) = at.error
    assert error.value.startswith(i18n.text("err_load", lang, names="")[:20])
    assert not _charts(at)


def test_uploads_are_bounded_before_ld_load_sees_them(monkeypatch):
    called = []
    monkeypatch.setattr(uploads.ld, "load", lambda *a, **k: called.append(a))
    monkeypatch.setattr(uploads, "MAX_BYTES", 1000)
    with pytest.raises(uploads.UploadError) as info:
        uploads.read_weights("big.npz", _npz(_lstm_state(np.random.default_rng(0))))
    assert info.value.key == "err_too_large" and not called


def test_a_single_cell_is_drawn_beside_the_reference_cells_it_is_compared_with() -> None:
    from test_dashboard import _datasets

    from longdep.dashboard import data

    state = _lstm_state(np.random.default_rng(3), prefix="", layers=1)
    state = {k.replace("_l0", ""): v for k, v in state.items()}  # an nn.LSTMCell
    at = _upload("cell.npz", _npz(state))
    assert not at.exception, [e.value for e in at.exception]
    at.multiselect(key="p5_refs").set_value(["vanilla", "gru"]).run()
    assert not at.exception, [e.value for e in at.exception]
    tr = i18n.translator("en")
    frames = pd.concat(_datasets(at, 0))
    names = set(frames["name"])
    assert {tr("p5_yours"), tr("rem_vanilla"), tr("rem_gru")} <= names
    # The reference curve is that cell's own decay, computed the page's way.
    want = data.reference_curve("gru", H, T, SCALE, SEED)
    got = frames[frames["name"] == tr("rem_gru")].sort_values("distance")
    np.testing.assert_allclose(got["log_norm"].to_numpy(), want["log_norm"].to_numpy(), rtol=1e-9)
