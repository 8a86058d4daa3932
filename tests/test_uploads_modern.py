"""The "Your model" page with the 2023–2025 kinds: a file holding a minGRU, an RG-LRU, an
sLSTM or a Mamba model's mixers (mamba_ssm names, written by the safetensors package) is
found, built as the library builds it and measured; bad shapes are a translated error."""

from __future__ import annotations

import io

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

import longdep as ld
from longdep.dashboard import i18n, uploads


def _npz(**arrays: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def _mamba_model(layers: int = 2) -> tuple[dict[str, np.ndarray], list[ld.SelectiveSSM]]:
    """A whole Mamba model's state dict: embedding, in_proj/conv/out_proj around each
    mixer's scan parameters (only the latter make the cell)."""
    state: dict[str, np.ndarray] = {"backbone.embedding.weight": np.zeros((10, 4), np.float32)}
    cells = []
    for k in range(layers):
        cell = ld.SelectiveSSM.random(8, d_state=4, seed=k)
        cells.append(cell)
        pre = f"backbone.layers.{k}.mixer."
        for name, mamba in ld.SelectiveSSM.MAMBA_NAMES.items():
            state[pre + mamba] = getattr(cell, name).astype(np.float32)
        state[pre + "in_proj.weight"] = np.zeros((16, 4), np.float32)
        state[pre + "conv1d.weight"] = np.zeros((8, 1, 4), np.float32)
        state[pre + "out_proj.weight"] = np.zeros((4, 8), np.float32)
    return state, cells


def test_a_mamba_safetensors_file_offers_each_mixer() -> None:
    st = pytest.importorskip("safetensors.numpy", reason="safetensors writes the test file")
    state, cells = _mamba_model()
    tensors = uploads.read_weights("mamba.safetensors", st.save(state))
    models = uploads.find_models(tensors)
    assert [(m.kind, m.label) for m in models] == [
        ("ssm", "backbone.layers.0.mixer"),
        ("ssm", "backbone.layers.1.mixer"),
    ]
    got = uploads.build_named(tensors, models[1])
    x = np.random.default_rng(0).normal(size=(50, 8))
    # float32 in the file: the same cell up to that rounding
    np.testing.assert_allclose(ld.forward(got, x), ld.forward(cells[1], x), rtol=1e-5, atol=1e-6)


def test_named_kinds_in_an_npz_are_found_by_their_names() -> None:
    mingru = ld.MinGRU.random(5, 2, seed=1)
    rglru = ld.RGLRU.random(4, seed=2)
    slstm = ld.SLSTM.random(3, 2, seed=3)
    arrays = {f"{k}_l0": v for k, v in mingru.trainable().items()}
    arrays |= {f"{k}_l1": v for k, v in rglru.trainable().items() if k != "bias_x"}
    models = uploads.find_models(arrays)
    kinds = {(m.kind, m.label) for m in models}
    # 10 rows: a minGRU (2H) but not a minLSTM (3H); the RG-LRU's optional bias may be absent
    assert ("mingru", "l0") in kinds and ("rglru", "l1") in kinds
    built = {
        m.kind: uploads.build_named(arrays, m) for m in models if m.kind in ("mingru", "rglru")
    }
    x = np.random.default_rng(1).normal(size=(30, 2))
    np.testing.assert_array_equal(ld.forward(built["mingru"], x), ld.forward(mingru, x))
    assert np.array_equal(built["rglru"].bias_x, np.zeros(4))
    # an sLSTM file (weight_ih, weight_hh, bias) also looks like an LSTM's two weights: both are offered
    models = uploads.find_models(dict(slstm.trainable()))
    assert {m.kind for m in models if isinstance(m, uploads.Named)} == {"slstm"}
    assert any(isinstance(m, uploads.Layer) for m in models)


@pytest.mark.parametrize("lang", i18n.LANGS)
def test_bad_shapes_are_a_translated_error(lang: str) -> None:
    arrays = dict(ld.SelectiveSSM.random(6, d_state=2, seed=0).trainable())
    arrays["x_proj_weight"] = np.zeros((9, 6))  # R + 2N = 5 rows expected
    (model,) = uploads.find_models(arrays)
    with pytest.raises(uploads.UploadError) as info:
        uploads.build_named(arrays, model)
    assert info.value.key == "err_named"
    text = i18n.text("err_named", lang, **info.value.params)
    assert "x_proj_weight (9, 6)" in text
    assert ("文件" in text) == (lang == "zh")


def _weights_page(filename: str, payload: bytes, lang: str = "en") -> AppTest:
    def script(filename: str, payload: bytes, lang: str) -> None:
        from longdep.dashboard import i18n
        from longdep.dashboard.views import your_model

        your_model.show_weights(i18n.translator(lang), filename, payload)

    return AppTest.from_function(script, args=(filename, payload, lang), default_timeout=60).run()


def test_the_page_measures_an_uploaded_mamba_mixer() -> None:
    state, _ = _mamba_model(1)
    at = _weights_page("mamba.npz", _npz(**state))
    assert not at.exception and not at.error
    assert "Mamba" in at.success[0].value and "H = 8" in at.success[0].value
    assert at.get("vega_lite_chart") or at.get("arrow_vega_lite_chart")
