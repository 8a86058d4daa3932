"""Hostile uploads and server folders (issue 15, items 4, 7 and 8).

Every hostile file is built here, in the test. Each must come back as the translated
upload error, in English and in Chinese, never as an exception or a traceback; sizes are
checked from headers before anything is unpacked (a 3 GiB zip bomb is parsed in a
subprocess under a 1 GiB address-space limit); folders on the server are opened only
below the root given with ``longdep dashboard --results DIR``.
"""

from __future__ import annotations

import io
import json
import os
import struct
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from test_dashboard import _npz, _run_page, _specs, _st_header, _torch_state, _weights_page
from test_hostile_server import dashboard_command

from longdep.dashboard import i18n, uploads

# -- building hostile files ---------------------------------------------------------------


def _npy_header(shape: object, descr: str = "<f4") -> bytes:
    """A version 1.0 ``.npy`` header declaring ``shape`` (written out as text, so that
    shapes NumPy would never write, booleans or 65 dimensions, can be declared)."""
    text = f"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}".encode()
    text += b" " * (-(len(text) + 11) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + len(text).to_bytes(2, "little") + text


def _zip(members: dict[str, bytes], compression: int = zipfile.ZIP_STORED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


def _zip_bomb(unpacked_gib: int = 3) -> bytes:
    """An ``.npz`` of one deflated member ``weight_hh_l0.npy``: a valid ``.npy`` header
    and ``unpacked_gib`` GiB of zeros, a few MB on disk. The deflate stream is one
    full-flushed block of 1 MiB of zeros repeated (identical after each full flush), so
    building it costs no compression time; sizes and CRC are the true ones."""
    zeros = bytes(2**20)
    n = unpacked_gib * 2**30
    head = _npy_header((n // 4,))
    co = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = co.compress(head) + co.flush(zlib.Z_FULL_FLUSH)
    block = co.compress(zeros) + co.flush(zlib.Z_FULL_FLUSH)
    data = first + block * (n // len(zeros)) + co.flush(zlib.Z_FINISH)
    crc = zlib.crc32(head)
    for _ in range(n // len(zeros)):
        crc = zlib.crc32(zeros, crc)
    name = b"weight_hh_l0.npy"
    usize = len(head) + n
    sizes = (crc, len(data), usize, len(name))
    local = struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, 0, 8, 0, 0x21, *sizes, 0)
    central = struct.pack(
        "<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 20, 20, 0, 8, 0, 0x21, *sizes, 0, 0, 0, 0, 0, 0
    )
    offset = len(local) + len(name) + len(data)
    end = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, 1, 1, len(central) + len(name), offset, 0)
    return local + name + data + central + name + end


def _st(header: object, body: bytes = b"") -> bytes:
    return _st_header(header, body)


def _st_raw(header: bytes, body: bytes = b"") -> bytes:
    return len(header).to_bytes(8, "little") + header + body


_W = {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]}

#: name -> (file name, payload, the UploadError key it must give)
HOSTILE = {
    "npz_only_a_non_npy_member": ("m.npz", _zip({"notes.txt": b"hello"}), "err_npz_no_arrays"),
    "npz_nested_zip": ("m.npz", _zip({"inner.zip": _npz(w=np.ones(2))}), "err_npz_nested"),
    "npz_nested_zip_named_npy": (
        "m.npz",
        _zip({"weight_hh_l0.npy": _npz(w=np.ones(2))}),
        "err_npz_nested",
    ),
    "npz_2_40_elements": (
        "m.npz",
        _zip({"weight_hh_l0.npy": _npy_header((2**20, 2**20))}),
        "err_unpacked",
    ),
    "npz_boolean_shape": (
        "m.npz",
        _zip({"weight_hh_l0.npy": _npy_header((True, 3)) + bytes(12)}),
        "err_bad_shape",
    ),
    "npz_65_dimensions": (
        "m.npz",
        _zip({"weight_hh_l0.npy": _npy_header((1,) * 65) + bytes(4)}),
        "err_bad_shape",
    ),
    "npz_object_dtype": ("m.npz", _zip({"w.npy": _npy_header((1,), "|O")}), "err_pickle"),
    "npz_truncated_data": (
        "m.npz",
        _zip({"weight_hh_l0.npy": _npy_header((4, 4)) + bytes(10)}),
        "err_npz_entry",
    ),
    "garbage_renamed_npz": ("weights.npz", bytes(range(256)) * 16, "err_npz_not_zip"),
    "garbage_with_a_zip_end_record": (
        "weights.npz",
        b"garbage" * 100 + struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, 1, 1, 46, 0, 0),
        "err_npz_damaged",
    ),
    "st_million_nested_brackets": ("m.safetensors", _st_raw(b"[" * 10**6), "err_st_json"),
    "st_100000_digit_integer": (
        "m.safetensors",
        _st_raw(
            b'{"w": {"dtype": "F32", "shape": [' + b"9" * 10**5 + b'], "data_offsets": [0, 0]}}'
        ),
        "err_st_json",
    ),
    "st_dtype_as_a_list": (
        "m.safetensors",
        _st({"w": {**_W, "dtype": ["F32"]}}, bytes(16)),
        "err_st_dtype",
    ),
    "st_boolean_shape": ("m.safetensors", _st({"w": {**_W, "shape": [True, 4]}}), "err_st_shape"),
    "st_65_dimensions": (
        "m.safetensors",
        _st({"w": {**_W, "shape": [1] * 65, "data_offsets": [0, 4]}}, bytes(4)),
        "err_st_shape",
    ),
    "st_2_40_elements": (
        "m.safetensors",
        _st({"w": {**_W, "shape": [2**20, 2**20]}}, bytes(16)),
        "err_st_bytes",
    ),
    "st_overlapping_offsets": (
        "m.safetensors",
        _st({"weight_hh_l0": _W, "weight_ih_l0": {**_W, "data_offsets": [8, 24]}}, bytes(24)),
        "err_st_overlap",
    ),
    "st_boolean_offsets": (
        "m.safetensors",
        _st({"w": {**_W, "shape": [1], "data_offsets": [False, True]}}, bytes(1)),
        "err_st_offsets",
    ),
    "st_header_over_the_cap": (
        "m.safetensors",
        _st_raw(b" " * (uploads.MAX_ST_HEADER + 8)),
        "err_st_header_limit",
    ),
    "st_nan_literal": (
        "m.safetensors",
        _st_raw(b'{"w": {"dtype": "F32", "shape": [NaN], "data_offsets": [0, 0]}}'),
        "err_st_json",
    ),
}


def _upload_error(filename: str, payload: bytes) -> uploads.UploadError:
    """The UploadError the page's path (read, find the models, build each) raises."""
    with pytest.raises(uploads.UploadError) as info:
        tensors = uploads.read_weights(filename, payload)
        for model in uploads.find_models(tensors):
            if isinstance(model, uploads.Named):
                uploads.build_named(tensors, model)
            else:
                uploads.build_cell(tensors, model)
    return info.value


def _cjk(text: str) -> bool:
    return any(0x4E00 <= ord(c) < 0xA000 for c in text)


# -- item 8: every parser failure is the translated upload error ---------------------------


@pytest.mark.parametrize("case", list(HOSTILE))
def test_hostile_weights_file_is_the_upload_error_with_its_key(case: str) -> None:
    filename, payload, key = HOSTILE[case]
    err = _upload_error(filename, payload)
    assert err.key == key, err
    en, zh = (i18n.text(err.key, lang, **err.params) for lang in i18n.LANGS)
    assert filename in en and filename in zh
    assert _cjk(zh) and not _cjk(en)
    assert "pickle" not in (en + zh).lower() or key == "err_pickle"
    assert "allow_pickle" not in en + zh


@pytest.mark.parametrize("lang", i18n.LANGS)
@pytest.mark.parametrize("case", list(HOSTILE))
def test_hostile_weights_file_on_the_page_is_the_translated_error(case: str, lang: str) -> None:
    filename, payload, _ = HOSTILE[case]
    err = _upload_error(filename, payload)
    at = _weights_page(filename, payload, lang)
    assert not at.exception
    assert [e.value for e in at.error] == [i18n.text(err.key, lang, **err.params)]
    assert not _specs(at)


def test_garbage_renamed_npz_says_not_a_zip_archive_and_never_suggests_allow_pickle() -> None:
    filename, payload, _ = HOSTILE["garbage_renamed_npz"]
    err = _upload_error(filename, payload)
    assert "not a zip archive" in i18n.text(err.key, "en", **err.params)
    assert "zip 压缩包" in i18n.text(err.key, "zh", **err.params)


def test_npz_members_that_are_not_npy_are_skipped_next_to_weights() -> None:
    state = _torch_state("gru")
    arrays = {f"{k}.npy": io.BytesIO() for k in state}
    for k, buf in arrays.items():
        np.save(buf, state[k[:-4]])
    members = {k: b.getvalue() for k, b in arrays.items()} | {"README.txt": b"\x00" * 10**6}
    tensors = uploads.read_weights("m.npz", _zip(members, zipfile.ZIP_DEFLATED))
    assert set(tensors) == set(state)
    for k, v in state.items():
        np.testing.assert_array_equal(tensors[k], v)


def test_fortran_ordered_member_reads_as_numpy_does() -> None:
    w = np.asfortranarray(np.arange(12.0).reshape(3, 4))
    payload = _npz(weight_hh_l0=w)
    np.testing.assert_array_equal(uploads.read_weights("m.npz", payload)["weight_hh_l0"], w)


def test_total_across_npz_members_is_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(uploads, "MAX_TOTAL_BYTES", 1000)
    uploads.read_weights("ok.npz", _npz(a=np.ones(100)))  # 800 bytes: under the cap
    err = _upload_error("m.npz", _npz(a=np.ones(100), b=np.ones(100)))
    assert err.key == "err_unpacked" and err.params["name"] == "b.npy"
    assert err.params["limit"] == 0 and err.params["size"] > 0  # MB: 1600 B of 1000 B


def test_compressed_member_declaring_more_than_the_cap_is_not_decompressed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(uploads, "MAX_TOTAL_BYTES", 1000)
    payload = _zip({"weight_hh_l0.npy": bytes(2000)}, zipfile.ZIP_DEFLATED)

    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("the member was opened")

    monkeypatch.setattr(zipfile.ZipFile, "open", never)
    err = _upload_error("m.npz", payload)
    assert err.key == "err_unpacked" and err.params["name"] == "weight_hh_l0.npy"


def test_total_across_safetensors_entries_is_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(uploads, "MAX_TOTAL_BYTES", 20)
    header = {"a": _W, "b": {**_W, "data_offsets": [16, 32]}}
    err = _upload_error("m.safetensors", _st(header, bytes(32)))
    assert err.key == "err_unpacked" and err.params["name"] == "b"


def test_hidden_and_input_sizes_are_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    payload = _npz(**_torch_state("lstm", H=6, I=3))
    monkeypatch.setattr(uploads, "MAX_H", 5)
    err = _upload_error("m.npz", payload)
    assert (err.key, err.params["n"], err.params["limit"]) == ("err_hidden_limit", 6, 5)
    monkeypatch.setattr(uploads, "MAX_H", 6)
    monkeypatch.setattr(uploads, "MAX_I", 2)
    err = _upload_error("m.npz", payload)
    assert (err.key, err.params["n"], err.params["limit"]) == ("err_input_limit", 3, 2)
    for lang in i18n.LANGS:
        assert "I = 3" in i18n.text(err.key, lang, **err.params)


def test_adjacent_and_empty_safetensors_entries_are_not_overlaps() -> None:
    w = np.arange(4, dtype=np.float32).reshape(2, 2)
    header = {
        "a": _W,
        "b": {**_W, "data_offsets": [16, 32]},
        "e": {"dtype": "F32", "shape": [0], "data_offsets": [8, 8]},
    }
    tensors = uploads.read_weights("m.safetensors", _st(header, w.tobytes() * 2))
    np.testing.assert_array_equal(tensors["b"], w)
    assert tensors["e"].shape == (0,)


_BOMB_SCRIPT = """
import json, resource, sys
limit = int(sys.argv[2])
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
from longdep.dashboard import uploads
payload = open(sys.argv[1], "rb").read()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    uploads.read_weights("bomb.npz", payload)
    key = None
except uploads.UploadError as e:
    key = e.key
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"key": key, "grew_kib": after - before}))
"""


def test_zip_bomb_is_refused_before_unpacking_within_a_1_gib_address_space(
    tmp_path: Path,
) -> None:
    bomb = _zip_bomb(3)
    assert len(bomb) < 8 * 2**20  # a few MB that unpack to 3 GiB
    with zipfile.ZipFile(io.BytesIO(bomb)) as z:  # a true archive: its first MiB is a .npy
        (info,) = z.infolist()
        assert info.file_size > 3 * 2**30
        with z.open(info) as f:
            assert f.read(2**20)[:6] == b"\x93NUMPY"
    path = tmp_path / "bomb.npz"
    path.write_bytes(bomb)
    res = subprocess.run(
        [sys.executable, "-c", _BOMB_SCRIPT, str(path), str(2**30)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 0, res.stderr[-2000:]
    out = json.loads(res.stdout)
    assert out["key"] == "err_unpacked"
    assert out["grew_kib"] < 64 * 1024  # peak RSS grew by less than 64 MB


# -- item 7: Parquet row counts come from the metadata ------------------------------------


def _parquet(table: pa.Table) -> bytes:
    buf = io.BytesIO()
    pq.write_table(table, buf)
    return buf.getvalue()


@pytest.mark.parametrize("lang", i18n.LANGS)
def test_parquet_of_twenty_million_rows_is_refused_from_its_metadata(
    lang: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = 10 * uploads.MAX_ROWS
    payload = _parquet(pa.table({"case": pa.nulls(rows), "distance": pa.nulls(rows)}))
    assert len(payload) < 2**20  # under a megabyte on disk

    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("the rows were read")

    monkeypatch.setattr(pq.ParquetFile, "read", never)
    for read in (uploads.read_sweep, uploads.read_train):
        with pytest.raises(uploads.UploadError) as info:
            read([("big.parquet", payload)])
        assert info.value.key == "err_rows" and info.value.params["n"] == rows
        text = i18n.text(info.value.key, lang, **info.value.params)
        assert "big.parquet" in text and str(rows) in text and _cjk(text) == (lang == "zh")


def test_parquet_row_cap_counts_all_files_together(monkeypatch: pytest.MonkeyPatch) -> None:
    frame = pd.DataFrame({"case": "a", "distance": np.arange(60), "log_norm": 0.0})
    payload = _parquet(pa.Table.from_pandas(frame))
    monkeypatch.setattr(uploads, "MAX_ROWS", 100)
    uploads.read_sweep([("a.parquet", payload)])
    with pytest.raises(uploads.UploadError) as info:
        uploads.read_sweep([("a.parquet", payload), ("b.parquet", payload)])
    assert info.value.key == "err_rows" and info.value.params["file"] == "b.parquet"


def test_parquet_reads_only_the_columns_it_uses(monkeypatch: pytest.MonkeyPatch) -> None:
    frame = pd.DataFrame(
        {"case": "a", "distance": np.arange(5), "log_norm": 0.0, "junk": ["x" * 1000] * 5}
    )
    calls: list[object] = []
    original = pq.ParquetFile.read

    def spy(self: pq.ParquetFile, columns: object = None, **kw: object) -> pa.Table:
        calls.append(columns)
        return original(self, columns=columns, **kw)

    monkeypatch.setattr(pq.ParquetFile, "read", spy)
    curves, _ = uploads.read_sweep([("a.parquet", _parquet(pa.Table.from_pandas(frame)))])
    assert calls == [["case", "distance", "log_norm"]]
    assert len(curves) == 5


# -- item 4: server folders only below --results ------------------------------------------


def _sweep_file(path: Path, case: str) -> None:
    d = np.arange(1, 200)
    pd.DataFrame({"case": case, "distance": d, "log_norm": -0.01 * d}).to_parquet(path)


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A results root with a good sweep folder and a train folder, links out of it to a
    secret folder beside it, and the root handed to the app as `--results` does."""
    secret = tmp_path / "secret"
    secret.mkdir()
    _sweep_file(secret / "secret.parquet", "SECRET")
    pd.DataFrame({"step": [0, 1], "loss": [1.0, 0.5], "model": "SECRET"}).to_parquet(
        secret / "h.parquet"
    )
    root = tmp_path / "results"
    (root / "good" / "sub").mkdir(parents=True)
    _sweep_file(root / "good" / "a.parquet", "a")
    _sweep_file(root / "good" / "sub" / "b.parquet", "b")
    (root / "good" / "leak.parquet").symlink_to(secret / "secret.parquet")
    (root / "good" / "linked").symlink_to(secret, target_is_directory=True)
    (root / "link").symlink_to(secret, target_is_directory=True)
    train = root / "train"
    train.mkdir()
    pd.DataFrame({"step": [0, 1, 2], "loss": [1.0, 0.7, 0.5], "model": "gru"}).to_parquet(
        train / "gru.parquet"
    )
    (train / "summary.csv").symlink_to(secret / "secret.parquet")
    monkeypatch.setenv(uploads.RESULTS_ENV, str(root))
    return root


def refused(root: Path) -> dict[str, str]:
    secret = root.parent / "secret"
    return {
        "symlink": "link",
        "symlink_then_more": "good/linked",
        "dotdot": "../secret",
        "dotdot_inside": "good/../../secret",
        "absolute": str(secret),
        "absolute_inside_root": str(root / "good"),
        "missing": "no-such-folder",
        "a_file": "good/a.parquet",
        "nul_byte": "go\x00od",
        "home": "~",
    }


def test_confine_refuses_every_escape_with_one_and_the_same_error(root: Path) -> None:
    for case, text in refused(root).items():
        with pytest.raises(uploads.UploadError) as info:
            uploads.confine(text, root)
        assert (info.value.key, info.value.params) == ("err_folder", {}), case


def test_confine_accepts_a_subfolder_and_the_root_itself(root: Path) -> None:
    assert uploads.confine("good", root) == (root / "good").resolve()
    assert uploads.confine("good/sub/", root) == (root / "good" / "sub").resolve()
    assert uploads.confine(".", root) == root.resolve()


def test_folder_readers_never_follow_links_out_of_the_folder(root: Path) -> None:
    curves, _ = uploads.read_sweep_dir(str(uploads.confine("good", root)))
    assert set(curves["name"]) == {"a", "b"}  # not SECRET: leak.parquet and linked/ skipped
    stamp = uploads.folder_stamp(uploads.confine("good", root))
    assert [name for name, _ in stamp] == ["a.parquet", "sub/b.parquet"]
    hist, summary = uploads.read_train_dir(str(uploads.confine("train", root)))
    assert set(hist["model"]) == {"gru"} and summary is None  # summary.csv is a link


@pytest.mark.parametrize("lang", i18n.LANGS)
def test_sweep_folder_box_shows_one_translated_error_for_every_refused_path(
    root: Path, lang: str
) -> None:
    at = _run_page("your_model", lang)
    for case, text in refused(root).items():
        at.text_input(key="p5_dir").input(text).run()
        assert not at.exception, case
        assert [e.value for e in at.error] == [i18n.text("err_folder", lang)], case
        assert not _specs(at)
    at.text_input(key="p5_dir").input("good").run()
    assert not at.exception and not at.error
    assert at.success[0].value == i18n.text("p5_sweep_loaded", lang, cases=2, files=2)
    assert len(_specs(at)) == 1


@pytest.mark.parametrize("lang", i18n.LANGS)
def test_training_folder_box_is_confined_to_the_root(root: Path, lang: str) -> None:
    at = _run_page("training", lang)
    for case, text in refused(root).items():
        at.text_input(key="p6_dir").input(text).run()
        assert not at.exception, case
        assert [e.value for e in at.error] == [i18n.text("err_folder", lang)], case
    at.text_input(key="p6_dir").input("train").run()
    assert not at.exception and not at.error
    assert at.success[0].value == i18n.text("p6_folder_loaded", lang, runs=1, files=1)


def test_messages_about_a_folder_name_it_relative_to_the_root(root: Path) -> None:
    empty = root / "empty"
    empty.mkdir()
    with pytest.raises(uploads.UploadError) as info:
        uploads.read_sweep_dir(str(uploads.confine("empty", root)))
    assert info.value.params == {"path": "empty"}


@pytest.mark.parametrize("lang", i18n.LANGS)
def test_without_results_root_no_page_offers_a_folder_box(
    lang: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(uploads.RESULTS_ENV, raising=False)
    for page, key in (("your_model", "p5_dir"), ("training", "p6_dir")):
        at = _run_page(page, lang)
        assert not at.exception
        assert key not in {w.key for w in at.text_input}
        assert i18n.text("folder_disabled", lang) in [c.value for c in at.caption]
    assert "--results" in i18n.text("folder_disabled", "zh")


def test_results_root_that_is_not_a_folder_is_no_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(uploads.RESULTS_ENV, str(tmp_path / "missing"))
    assert uploads.results_root() is None
    monkeypatch.setenv(uploads.RESULTS_ENV, "")
    assert uploads.results_root() is None
    monkeypatch.setenv(uploads.RESULTS_ENV, str(tmp_path))
    assert uploads.results_root() == tmp_path.resolve()


def test_cli_results_flag_hands_the_resolved_root_to_the_app(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "res").mkdir()
    monkeypatch.setenv(uploads.RESULTS_ENV, "/somewhere/else")  # restored after the test
    code, cmd, out = dashboard_command(monkeypatch, "--results", "res")
    assert code == 0, out
    assert os.environ[uploads.RESULTS_ENV] == str((tmp_path / "res").resolve())
    assert not any("results" in a for a in cmd)  # not a streamlit option
    code, _, out = dashboard_command(monkeypatch)
    assert code == 0, out
    assert uploads.RESULTS_ENV not in os.environ  # no flag: no root, whatever was set


@pytest.mark.parametrize("bad", ["missing", "file.txt"])
def test_cli_results_must_be_an_existing_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bad: str
) -> None:
    (tmp_path / "file.txt").write_text("x")
    code, cmd, out = dashboard_command(monkeypatch, "--results", str(tmp_path / bad))
    assert code == 2 and not cmd, out


def test_cli_help_documents_results() -> None:
    from click.testing import CliRunner

    from longdep import cli

    out = " ".join(CliRunner().invoke(cli.main, ["dashboard", "--help"]).output.split())
    assert "--results DIRECTORY" in out and "symbolic link" in out


def test_readme_documents_the_results_root() -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    assert "longdep dashboard --results" in readme
