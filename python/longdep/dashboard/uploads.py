"""Reading and validating user files: weights (.npz, .safetensors) and sweep results (Parquet).

Nothing here trusts its input. Every problem raises :class:`UploadError` with an i18n key
and the values for its message, so the page can show a clear sentence in the user's
language instead of a traceback. ``.npz`` files are read with ``allow_pickle=False``;
``.safetensors`` files are parsed here with ``json`` and NumPy (8-byte little-endian
header length, JSON header of ``dtype``/``shape``/``data_offsets``, then the raw bytes).

Nothing is unpacked before its size is known: an ``.npz`` member's ``.npy`` header and its
zip entry, a safetensors header, a Parquet file's metadata are checked against the caps
below first. Results folders on the server are opened only below the root given with
``longdep dashboard --results DIR`` (:func:`confine`), never through a symbolic link.
"""

from __future__ import annotations

import io
import json
import math
import os
import re
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

import longdep as ld

__all__ = [
    "MAX_BYTES",
    "MAX_H",
    "MAX_I",
    "MAX_ROWS",
    "MAX_TOTAL_BYTES",
    "RESULTS_ENV",
    "Layer",
    "Named",
    "UploadError",
    "build_cell",
    "build_named",
    "confine",
    "example_npz",
    "find_layers",
    "find_models",
    "find_named",
    "folder_stamp",
    "load_models",
    "model_layers",
    "read_safetensors",
    "read_sweep",
    "read_sweep_dir",
    "read_train",
    "read_train_dir",
    "read_weights",
    "results_root",
    "thin_log",
]

#: Largest accepted upload (bytes); Streamlit's own upload limit is set to the same.
MAX_BYTES = 200 * 2**20
# -- caps on what one file may unpack to, all checked from headers before reading ---------
#: Largest hidden size H of an uploaded cell.
MAX_H = 4096
#: Largest input size I of an uploaded cell.
MAX_I = 8192
#: All arrays of one weights file together, unpacked (float32 after widening BF16).
MAX_TOTAL_BYTES = 256 * 2**20
#: Arrays in one weights file (.npz members, safetensors entries).
MAX_TENSORS = 4096
#: Dimensions of one array.
MAX_NDIM = 8
#: Bytes of an .npz central directory (bounds the entries zipfile builds objects for).
MAX_ZIP_DIRECTORY = 2**20
#: Bytes of a safetensors JSON header (headers of large models are some 100 KB).
MAX_ST_HEADER = 2**20
#: Digits of one integer in a safetensors header.
_MAX_DIGITS = 20
#: Rows of all Parquet files of one request together, from their metadata.
MAX_ROWS = 2 * 10**6
#: Files walked below a results folder.
MAX_FILES = 10_000
#: Environment variable through which ``longdep dashboard --results DIR`` hands the
#: results root to the app; unset, the pages show no server folder box.
RESULTS_ENV = "LONGDEP_RESULTS"
_MAX_PATH = 4096
#: The one-row-per-case table `longdep collect` writes next to the case files.
SUMMARY = "summary.parquet"
#: The one-row-per-run table `longdep train` writes next to the histories.
TRAIN_SUMMARY = "summary.csv"
#: Columns every `longdep train` history needs; ``run``, ``task``, ``length``,
#: ``grad_norm`` and ``diverged`` are used when present.
TRAIN_COLUMNS = ("step", "loss", "model")
_TRAIN_OPTIONAL = ("grad_norm", "diverged", "run", "task", "length")
_TRAIN_READ = (*TRAIN_COLUMNS, *_TRAIN_OPTIONAL)
_ST_DTYPES: dict[str, np.dtype[Any]] = {
    "F64": np.dtype("<f8"),
    "F32": np.dtype("<f4"),
    "F16": np.dtype("<f2"),
}
_ST_OTHER = {"BF16", "I64", "I32", "I16", "I8", "U8", "U16", "U32", "U64", "BOOL", "F8_E4M3", "F8_E5M2"}  # fmt: skip
_NAME = re.compile(
    r"^(?P<prefix>.*?)(?P<role>weight_ih|weight_hh|bias_ih|bias_hh)"
    r"(?:_l(?P<layer>\d+))?(?P<reverse>_reverse)?$"
)
_KINDS = {1: "rnn", 3: "gru", 4: "lstm"}


class UploadError(ValueError):
    """A user file that cannot be used; ``key`` names the message in ``i18n.STRINGS``."""

    def __init__(self, key: str, **params: object) -> None:
        self.key = key
        self.params = params
        super().__init__(f"{key}: {params}")


def _check_size(filename: str, size: int) -> None:
    if size == 0:
        raise UploadError("err_empty", file=filename)
    if size > MAX_BYTES:
        raise UploadError(
            "err_too_large", file=filename, size=size / 2**20, limit=MAX_BYTES // 2**20
        )


def _check_float(name: str, arr: np.ndarray) -> np.ndarray:
    if arr.dtype.kind != "f":
        raise UploadError("err_dtype", name=name, dtype=str(arr.dtype))
    return arr


def _zip_directory_size(payload: bytes) -> int:
    """Bytes of the central directory the end record of a zip archive declares (as
    ``zipfile`` finds it); more than any cap for a Zip64 archive, 0 without an end record."""
    end = len(payload) - 22
    if end < 0:
        return 0
    if payload[end : end + 4] != b"PK\x05\x06":
        end = payload.rfind(b"PK\x05\x06", max(0, len(payload) - 22 - 65535))
        if end < 0 or len(payload) - end < 22:
            return 0
    if end >= 20 and payload[end - 20 : end - 16] == b"PK\x06\x07":  # Zip64 locator
        return 2**64
    entries = int.from_bytes(payload[end + 10 : end + 12], "little")
    size = int.from_bytes(payload[end + 12 : end + 16], "little")
    return 2**64 if entries == 0xFFFF or size == 0xFFFFFFFF else size


def _npy_header(
    filename: str, name: str, stream: Any
) -> tuple[tuple[int, ...], bool, np.dtype[Any]]:
    """(shape, fortran_order, dtype) from the ``.npy`` header at the start of ``stream``;
    a nested zip or anything that is not a version 1/2 ``.npy`` is an UploadError."""
    magic = stream.read(8)
    if magic[:2] == b"PK":
        raise UploadError("err_npz_nested", file=filename, name=name)
    if magic[:6] != b"\x93NUMPY" or len(magic) < 8:
        raise UploadError("err_npz_entry", file=filename, name=name)
    version = (magic[6], magic[7])
    if version == (1, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(stream)
    elif version == (2, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_2_0(stream)
    else:
        raise UploadError("err_npz_entry", file=filename, name=name)
    return shape, bool(fortran), dtype


def _check_dims(filename: str, name: str, shape: object) -> tuple[int, ...]:
    """``shape`` as a tuple of non-negative ints (no booleans), at most MAX_NDIM long."""
    if not (
        isinstance(shape, (tuple, list))
        and len(shape) <= MAX_NDIM
        and all(type(s) is int and s >= 0 for s in shape)
    ):
        raise UploadError("err_bad_shape", file=filename, name=name, shape=_short(shape))
    return tuple(shape)


def _unpacked(filename: str, name: str, nbytes: int) -> UploadError:
    return UploadError(
        "err_unpacked", file=filename, name=name, size=nbytes / 2**20,
        limit=MAX_TOTAL_BYTES // 2**20,
    )  # fmt: skip


def read_npz(filename: str, payload: bytes) -> dict[str, np.ndarray]:
    """Arrays of an ``.npz`` archive, read member by member without ``np.load``.

    Each ``.npy`` member's header (shape, dtype) and zip entry (declared unpacked size)
    are checked against :data:`MAX_TOTAL_BYTES` before a byte of its data is unpacked, so
    a zip bomb costs nothing. Members not named ``*.npy`` are skipped; nested archives,
    object arrays and anything else are UploadErrors.

    NumPy's own messages are never shown: for a file that is not a zip archive
    ``np.load`` falls back to unpickling and its error advises ``allow_pickle=True``,
    which must not be suggested to anyone uploading a file of unknown origin."""
    if not zipfile.is_zipfile(io.BytesIO(payload)):
        raise UploadError("err_npz_not_zip", file=filename)
    if _zip_directory_size(payload) > MAX_ZIP_DIRECTORY:
        raise UploadError("err_npz_members", file=filename, limit=MAX_TENSORS)
    try:
        archive = zipfile.ZipFile(io.BytesIO(payload))
        infos = archive.infolist()
    except Exception:  # BadZipFile, OSError, ValueError, ...: a damaged directory
        raise UploadError("err_npz_damaged", file=filename) from None
    if len(infos) > MAX_TENSORS:
        raise UploadError("err_npz_members", file=filename, limit=MAX_TENSORS)
    out: dict[str, np.ndarray] = {}
    skipped: list[str] = []
    total = 0
    with archive:
        for info in infos:
            name = info.filename
            if info.is_dir():
                continue
            if name.lower().endswith((".zip", ".npz")):
                raise UploadError("err_npz_nested", file=filename, name=name)
            if not name.endswith(".npy"):
                skipped.append(name)
                continue
            if info.file_size > MAX_TOTAL_BYTES - total:  # declared, before decompressing
                raise _unpacked(filename, name, total + info.file_size)
            try:
                with archive.open(info) as stream:
                    raw_shape, fortran, dtype = _npy_header(filename, name, stream)
                    if dtype.hasobject:
                        raise UploadError("err_pickle", file=filename, name=name)
                    if dtype.kind != "f":
                        raise UploadError("err_dtype", name=name[:-4], dtype=str(dtype))
                    shape = _check_dims(filename, name, raw_shape)
                    nbytes = math.prod(shape) * dtype.itemsize
                    if nbytes > MAX_TOTAL_BYTES - total:
                        raise _unpacked(filename, name, total + nbytes)
                    if nbytes > info.file_size:  # the header promises more than the entry holds
                        raise UploadError("err_npz_entry", file=filename, name=name)
                    raw = stream.read(nbytes)
            except UploadError:
                raise
            except Exception:  # damaged data, bad header, encryption, unknown compression
                raise UploadError("err_npz_entry", file=filename, name=name) from None
            if len(raw) != nbytes:
                raise UploadError("err_npz_entry", file=filename, name=name)
            total += nbytes
            arr = np.frombuffer(raw, dtype=dtype)
            arr = arr.reshape(shape[::-1]).T if fortran else arr.reshape(shape)
            out[name[:-4]] = arr
    if not out:
        shown = ", ".join(skipped[:12]) + (
            f", … (+{len(skipped) - 12})" if len(skipped) > 12 else ""
        )
        raise UploadError("err_npz_no_arrays", file=filename, names=_cut(shown or "—"))
    return out


def _small_int(text: str) -> int:
    """``json`` integer hook: a 10**5-digit integer is an error, not a second of CPU."""
    if len(text.lstrip("-")) > _MAX_DIGITS:
        raise ValueError("integer too long")
    return int(text)


def _no_constant(text: str) -> float:
    raise ValueError(f"{text} is not JSON")


def read_safetensors(filename: str, payload: bytes) -> dict[str, np.ndarray]:
    """Tensors of a ``.safetensors`` file (F64/F32/F16; BF16 is widened to float32).

    The header is at most :data:`MAX_ST_HEADER` bytes, parsed by ``json`` with integers
    of at most 20 digits; shapes are lists of at most :data:`MAX_NDIM` non-negative
    integers, data offsets may not overlap, and all tensors together at most
    :data:`MAX_TOTAL_BYTES`. Every problem is an ``err_*`` message: the file name and
    numbers, no English detail text."""
    if len(payload) < 8:
        raise UploadError("err_st_short", file=filename)
    n = int.from_bytes(payload[:8], "little")
    if n > len(payload) - 8:
        raise UploadError("err_st_header_size", file=filename, n=n, size=len(payload))
    if n > MAX_ST_HEADER:
        raise UploadError("err_st_header_limit", file=filename, n=n, limit=MAX_ST_HEADER // 2**20)
    try:
        header = json.loads(
            payload[8 : 8 + n].decode("utf-8"), parse_int=_small_int, parse_constant=_no_constant
        )
    except (ValueError, RecursionError, MemoryError):  # JSONDecodeError, UnicodeDecodeError
        raise UploadError("err_st_json", file=filename) from None
    if not isinstance(header, dict):
        raise UploadError("err_st_object", file=filename)
    entries = [(k, v) for k, v in header.items() if k != "__metadata__"]
    if len(entries) > MAX_TENSORS:
        raise UploadError("err_tensors", file=filename, n=len(entries), limit=MAX_TENSORS)
    body = memoryview(payload)[8 + n :]
    checked = []
    total = 0
    for name, info in entries:
        if not (isinstance(info, dict) and {"dtype", "shape", "data_offsets"} <= info.keys()):
            raise UploadError("err_st_entry", file=filename, name=name)
        dtype, shape, offsets = info["dtype"], info["shape"], info["data_offsets"]
        if not (
            isinstance(shape, list)
            and len(shape) <= MAX_NDIM
            and all(type(s) is int and s >= 0 for s in shape)
        ):
            raise UploadError("err_st_shape", file=filename, name=name, shape=_short(shape))
        if not (
            isinstance(offsets, list)
            and len(offsets) == 2
            and all(type(o) is int for o in offsets)
            and 0 <= offsets[0] <= offsets[1] <= len(body)
        ):
            raise UploadError(
                "err_st_offsets", file=filename, name=name, offsets=_short(offsets), size=len(body)
            )
        if not isinstance(dtype, str):
            raise UploadError("err_st_dtype", file=filename, name=name, dtype=_short(dtype))
        if dtype in _ST_OTHER and dtype != "BF16":
            raise UploadError("err_dtype", name=name, dtype=dtype)
        if dtype not in _ST_DTYPES and dtype != "BF16":
            raise UploadError("err_st_dtype", file=filename, name=name, dtype=_short(dtype))
        itemsize = 2 if dtype == "BF16" else _ST_DTYPES[dtype].itemsize
        count = math.prod(shape)
        if offsets[1] - offsets[0] != count * itemsize:
            raise UploadError(
                "err_st_bytes", file=filename, name=name, have=offsets[1] - offsets[0],
                shape=_shape(tuple(shape)), dtype=dtype, want=count * itemsize,
            )  # fmt: skip
        total += count * (4 if dtype == "BF16" else itemsize)
        if total > MAX_TOTAL_BYTES:
            raise _unpacked(filename, name, total)
        checked.append((offsets[0], offsets[1], name, dtype, shape))
    checked.sort(key=lambda c: (c[0], c[1]))
    end, last = 0, ""
    for start, stop, name, _, _ in checked:
        if start == stop:  # an empty tensor occupies no bytes
            continue
        if start < end:
            raise UploadError("err_st_overlap", file=filename, name=name, have=last)
        end, last = stop, name
    out = {}
    for start, stop, name, dtype, shape in checked:
        raw = body[start:stop]
        if dtype == "BF16":
            bits = np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16
            arr = bits.view(np.float32)
        else:
            arr = np.frombuffer(raw, dtype=_ST_DTYPES[dtype])
        out[name] = arr.reshape(shape)
    return out


def _short(value: object, limit: int = 60) -> str:
    """A value from the file, as JSON, cut to ``limit`` characters (it goes into a message)."""
    try:
        text = json.dumps(value, ensure_ascii=False, default=str)
    except (ValueError, TypeError, RecursionError):  # a 5000-digit int, a deep list
        text = "…"
    return _cut(text, limit)


def _cut(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def read_weights(filename: str, payload: bytes) -> dict[str, np.ndarray]:
    """Tensors of an uploaded ``.npz`` or ``.safetensors`` file, size- and type-checked."""
    _check_size(filename, len(payload))
    suffix = Path(filename).suffix.lower()
    if suffix == ".npz":
        return read_npz(filename, payload)
    if suffix == ".safetensors":
        return read_safetensors(filename, payload)
    raise UploadError("err_ext", file=filename)


@dataclass(frozen=True)
class Layer:
    """One recurrent layer found in a file: parameter names by role."""

    prefix: str
    layer: int | None
    names: dict[str, str] = field(hash=False)

    @property
    def label(self) -> str:
        """``rnn.`` + ``l0`` -> ``rnn.*_l0``; what the page shows to pick a layer."""
        suffix = "" if self.layer is None else f"_l{self.layer}"
        return f"{self.prefix}*{suffix}"


def find_layers(tensors: dict[str, np.ndarray]) -> list[Layer]:
    """Recurrent layers named in PyTorch style (reverse directions are skipped)."""
    groups: dict[tuple[str, int | None], dict[str, str]] = {}
    for name in tensors:
        m = _NAME.match(name)
        if not m or m["reverse"]:
            continue
        layer = None if m["layer"] is None else int(m["layer"])
        groups.setdefault((m["prefix"], layer), {})[m["role"]] = name
    layers = []
    for (prefix, layer), names in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][1] or 0)):
        if "weight_hh" not in names:
            have = next(iter(names.values()))
            missing = have.replace(_role(have), "weight_hh")
            raise UploadError("err_missing", have=have, missing=missing)
        if "weight_ih" not in names:
            have = names["weight_hh"]
            raise UploadError(
                "err_missing", have=have, missing=have.replace("weight_hh", "weight_ih")
            )
        layers.append(Layer(prefix, layer, names))
    if not layers:
        shown = sorted(tensors)[:12]
        more = f", … (+{len(tensors) - 12})" if len(tensors) > 12 else ""
        raise UploadError("err_no_weights", names=(", ".join(shown) or "—") + more)
    return layers


def _role(name: str) -> str:
    m = _NAME.match(name)
    return m["role"] if m else name


def _shape(shape: tuple[int, ...]) -> str:
    return "(" + ", ".join(str(s) for s in shape) + (",)" if len(shape) == 1 else ")")


def _check_sizes(name: str, H: int, I: int) -> None:
    """Hidden and input size of an uploaded cell within :data:`MAX_H` and :data:`MAX_I`."""
    if H > MAX_H:
        raise UploadError("err_hidden_limit", name=name, n=H, limit=MAX_H)
    if I > MAX_I:
        raise UploadError("err_input_limit", name=name, n=I, limit=MAX_I)


def cell_kind(weight_hh_shape: tuple[int, ...]) -> str | None:
    """``"rnn"``, ``"gru"`` or ``"lstm"`` from the row ratio of ``weight_hh``; None if none fits."""
    if len(weight_hh_shape) != 2 or weight_hh_shape[1] == 0:
        return None
    rows, cols = weight_hh_shape
    return _KINDS.get(rows // cols) if rows % cols == 0 else None


def build_cell(
    tensors: dict[str, np.ndarray], layer: Layer, *, nonlinearity: str = "tanh"
) -> tuple[ld.RecurrentCell, str]:
    """The longdep cell for ``layer`` and its kind (``"rnn"``, ``"gru"``, ``"lstm"``)."""
    n = layer.names
    w_hh = tensors[n["weight_hh"]]
    if w_hh.ndim != 2:
        raise UploadError("err_ndim", name=n["weight_hh"], ndim=2, shape=_shape(w_hh.shape))
    kind = cell_kind(w_hh.shape)
    if kind is None:
        raise UploadError("err_ratio", name=n["weight_hh"], shape=_shape(w_hh.shape))
    rows = w_hh.shape[0]
    w_ih = tensors[n["weight_ih"]]
    if w_ih.ndim != 2 or w_ih.shape[0] != rows or w_ih.shape[1] == 0:
        raise UploadError(
            "err_shape", name=n["weight_ih"], shape=_shape(w_ih.shape), kind=kind.upper(),
            hh=_shape(w_hh.shape), want=f"({rows}, I)",
        )  # fmt: skip
    _check_sizes(n["weight_hh"], w_hh.shape[1], w_ih.shape[1])
    biases = {}
    for role in ("bias_ih", "bias_hh"):
        if role in n:
            b = tensors[n[role]]
            if b.shape != (rows,):
                raise UploadError(
                    "err_shape", name=n[role], shape=_shape(b.shape), kind=kind.upper(),
                    hh=_shape(w_hh.shape), want=f"({rows},)",
                )  # fmt: skip
            biases[role] = b
    for name in n.values():
        bad = int(np.size(tensors[name]) - np.count_nonzero(np.isfinite(tensors[name])))
        if bad:
            raise UploadError("err_nan", name=name, count=bad)
    cls = {"rnn": ld.Elman, "gru": ld.GRU, "lstm": ld.LSTM}[kind]
    extra = {"nonlinearity": nonlinearity} if kind == "rnn" else {}
    try:
        cell = cls(w_ih, w_hh, biases.get("bias_ih"), biases.get("bias_hh"), **extra)
    except ld.LongdepError:
        raise UploadError("err_cell", kind=kind.upper()) from None
    return cell, kind


@dataclass(frozen=True)
class Named:
    """A cell of a catalogue kind stored under its own parameter names (a minGRU's
    ``weight_ih``, a Mamba mixer's ``x_proj.weight`` ...): ``names`` maps each of the
    kind's parameters to the tensor that holds it."""

    kind: str
    where: str
    names: tuple[tuple[str, str], ...] = field(hash=False)

    @property
    def label(self) -> str:
        """What the page shows to pick it: the prefix or layer it was found under."""
        return self.where or "—"


def _ssm_sources(tensors: dict[str, np.ndarray], cls: Any) -> list[tuple[str, dict[str, str]]]:
    """Mamba mixers: every prefix under which all of x_proj.weight, dt_proj.weight,
    dt_proj.bias, A_log and D exist."""
    tail = cls.MAMBA_NAMES["x_proj_weight"]
    out = []
    for prefix in sorted({k[: -len(tail)] for k in tensors if k.endswith(tail)}):
        names = {p: prefix + m for p, m in cls.MAMBA_NAMES.items()}
        if all(n in tensors for n in names.values()):
            out.append((prefix.rstrip("."), names))
    return out


def _named_sources(tensors: dict[str, np.ndarray], cls: Any) -> list[tuple[str, dict[str, str]]]:
    """Layers of a kind named as its class names them: ``name`` or ``name_l{k}``."""
    required = [n for n, (_, req) in cls.PARAMS.items() if req]
    out = []
    layer = re.compile(r"_l\d+$")
    suffixes = {""} | {m.group(0) for k in tensors if (m := layer.search(k))}
    for suffix in sorted(suffixes):
        if not all(n + suffix in tensors for n in required):
            continue
        # the other arrays of that layer must be this kind's too: an sLSTM's weight_hh
        # and bias say that its weight_ih is not a minGRU's
        group = {
            k[: len(k) - len(suffix)]
            for k in tensors
            if "." not in k and k.endswith(suffix) and (suffix or not layer.search(k))
        }
        if group <= set(cls.PARAMS):
            names = {n: n + suffix for n in cls.PARAMS if n + suffix in tensors}
            out.append((suffix.lstrip("_"), names))
    return out


def find_named(tensors: dict[str, np.ndarray]) -> list[Named]:
    """Every cell of a 2023–2025 kind (``longdep.kinds.modern()``) whose required
    parameters the file holds, by the kind's own names (the selective SSM: a mamba_ssm
    mixer's names under any prefix)."""
    found = []
    for kind, cls in ld.kinds.modern().items():
        sources = (
            _ssm_sources(tensors, cls) if hasattr(cls, "MAMBA_NAMES") else []
        ) + _named_sources(tensors, cls)
        for where, names in sources:
            found.append(Named(kind, where, tuple(sorted(names.items()))))
    return found


def find_models(tensors: dict[str, np.ndarray]) -> list[Layer | Named]:
    """What a weights file holds: PyTorch RNN/GRU/LSTM layers, then cells of the newer
    kinds under their own names. UploadError when there is neither."""
    try:
        layers: list[Layer | Named] = list(find_layers(tensors))
    except UploadError:
        # no complete PyTorch layer: a minGRU's lone weight_ih_l0 is not a broken RNN
        named = find_named(tensors)
        if not named:
            raise
        return list(named)
    return layers + list(find_named(tensors))


def build_named(tensors: dict[str, np.ndarray], named: Named) -> ld.RecurrentCell:
    """The cell of a :class:`Named` entry; UploadError (translated) if its arrays do not
    fit together."""
    cls: Any = ld.kinds.cell_class(named.kind)
    names = dict(named.names)
    for name in names.values():
        bad = int(np.size(tensors[name]) - np.count_nonzero(np.isfinite(tensors[name])))
        if bad:
            raise UploadError("err_nan", name=name, count=bad)
    try:
        cell = cls(**{p: tensors[names[p]] if p in names else None for p in cls.PARAMS})
    except ld.LongdepError:
        have = ", ".join(f"{n} {_shape(tensors[n].shape)}" for n in names.values())
        raise UploadError(
            "err_named", kind=cls.label or named.kind, names=", ".join(cls.PARAMS), have=have
        ) from None
    _check_sizes(named.label, int(cell.hidden_size), int(cell.input_size))
    return cell


# -- every recurrent layer, as ld.load finds it (issue 13) ----------------------------------

#: What :func:`load_models` returns per name.
Model = ld.RecurrentCell | ld.Stack | ld.Bidirectional


def model_layers(model: Model) -> list[tuple[str, ld.RecurrentCell]]:
    """The cells of a model with their place, bottom first: ``("l0", cell)`` ... for a
    stack, ``("l0", f), ("l0_reverse", b)`` ... for a bidirectional model, ``("", cell)``
    for a single cell."""
    if isinstance(model, ld.Bidirectional):
        out = []
        for k, (f, b) in enumerate(model.pairs):
            for suffix, half in (("", f), ("_reverse", b)):
                cells = list(half) if isinstance(half, ld.Stack) else [half]
                out += [(f"l{k}{suffix}" if len(cells) == 1 else f"l{k}.{j}{suffix}", c)
                        for j, c in enumerate(cells)]  # fmt: skip
        return out
    if isinstance(model, ld.Stack):
        return [(f"l{k}", c) for k, c in enumerate(model)]
    return [("", model)]


def _first_loaded(tensors: dict[str, np.ndarray], nonlinearity: str) -> dict[str, Model]:
    """``ld.load`` of the tensors; arrays that fit several 2023–2025 kinds (a minGRU's
    and a minLSTM's names are the same) are read as the first kind, in catalogue order,
    that builds."""
    try:
        return ld.load(tensors, nonlinearity=nonlinearity)
    except ld.LongdepError:
        for kind in dict.fromkeys(n.kind for n in find_named(tensors)):
            try:
                return ld.load(tensors, nonlinearity=nonlinearity, kind=kind)
            except ld.LongdepError:
                continue
        raise


def load_models(tensors: dict[str, np.ndarray], *, nonlinearity: str = "tanh") -> dict[str, Model]:
    """Every recurrent layer of an uploaded file as :func:`longdep.load` finds it:
    ``{name: cell | Stack | Bidirectional}`` (torch RNN/LSTM/GRU of any depth, their
    ``*Cell`` modules, the 2023–2025 kinds, mamba_ssm mixers).

    ``tensors`` come from :func:`read_weights`, so their sizes were bounded and nothing was
    unpickled before ``ld.load`` sees them. When ``ld.load`` cannot map the file, the
    page's own per-layer checks (:func:`find_models`, :func:`build_cell`,
    :func:`build_named`) name the problem in the user's language; what only ``ld.load``
    rejects (stacked layers whose sizes do not chain, an LSTM with ``proj_size`` ...) is
    ``err_load``. Every cell found must be finite and within :data:`MAX_H` and
    :data:`MAX_I`."""
    try:
        found = _first_loaded(tensors, nonlinearity)
    except ld.LongdepError:
        for entry in find_models(tensors):
            if isinstance(entry, Named):
                build_named(tensors, entry)
            else:
                build_cell(tensors, entry, nonlinearity=nonlinearity)
        raise UploadError("err_load", names=_cut(", ".join(sorted(tensors)))) from None
    for name, model in found.items():
        for where, cell in model_layers(model):
            label = f"{name} {where}".strip()
            _check_sizes(label, int(cell.hidden_size), int(cell.input_size))
    return found


def example_npz(H: int = 32, I: int = 4, seed: int = 0) -> bytes:
    """A small LSTM state dict in PyTorch names, as ``.npz`` bytes (for the download button)."""
    rng = np.random.default_rng(seed)
    k = 1 / math.sqrt(H)
    state = {
        "lstm.weight_ih_l0": rng.uniform(-k, k, (4 * H, I)),
        "lstm.weight_hh_l0": rng.uniform(-k, k, (4 * H, H)),
        "lstm.bias_ih_l0": rng.uniform(-k, k, 4 * H),
        "lstm.bias_hh_l0": rng.uniform(-k, k, 4 * H),
    }
    arrays: dict[str, Any] = {k: v.astype(np.float32) for k, v in state.items()}
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


# -- sweep results ------------------------------------------------------------------------


def _names(df: pd.DataFrame) -> pd.Series:
    """Curve names: the sweep's ``case`` column, else ``name``, else ``params`` as JSON."""
    for col in ("case", "name"):
        if col in df:
            return df[col].astype(str)
    return df["params"].map(
        lambda p: json.dumps(p, sort_keys=True, default=str) if isinstance(p, dict) else str(p)
    )


_METRICS = ("decay_rate", "memory_horizon", "regime")


def _one_sweep_frame(filename: str, df: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(curve rows, metric rows) of one results file, validated."""
    missing = [c for c in ("distance", "log_norm") if c not in df]
    if not any(c in df for c in ("case", "name", "params")):
        missing.append("case/name/params")
    if missing:
        raise UploadError("err_columns", file=filename, missing=", ".join(missing))
    for col in ("distance", "log_norm"):
        if not pd.api.types.is_numeric_dtype(df[col]):
            raise UploadError("err_values", file=filename, column=col)
    if df["distance"].isna().any():
        raise UploadError("err_values", file=filename, column="distance")
    names = _names(df)
    curve = pd.DataFrame(
        {
            "name": names.to_numpy(),
            "distance": df["distance"].to_numpy(dtype=float),
            "log_norm": df["log_norm"].to_numpy(dtype=float),
        }
    )
    curve = curve[np.isfinite(curve["log_norm"])]
    have = [c for c in _METRICS if c in df]
    metrics = pd.DataFrame({"name": names, **{c: df[c] for c in have}}).drop_duplicates("name")
    return curve, metrics


#: Columns read from a sweep result file; any others are never unpacked.
_SWEEP_READ = ("case", "name", "params", "distance", "log_norm", *_METRICS)


def _read_parquet(
    filename: str, source: bytes | Path, columns: tuple[str, ...], rows_left: int
) -> pd.DataFrame:
    """The ``columns`` (those present) of one Parquet file, after its metadata showed at
    most ``rows_left`` rows and at most :data:`MAX_TOTAL_BYTES` unpacked in them."""
    try:
        pf = pq.ParquetFile(io.BytesIO(source) if isinstance(source, bytes) else source)
        meta = pf.metadata
        rows = int(meta.num_rows)
        present = [c for c in pf.schema_arrow.names if c in columns]
        unpacked = 0
        for g in range(meta.num_row_groups):
            group = meta.row_group(g)
            for c in range(group.num_columns):
                chunk = group.column(c)
                if chunk.path_in_schema.split(".")[0] in present:
                    unpacked += max(int(chunk.total_uncompressed_size), 0)
    except Exception:  # pyarrow raises many types for a corrupt file
        raise UploadError("err_parquet", file=filename) from None
    if rows > rows_left:
        raise UploadError("err_rows", file=filename, n=rows, limit=MAX_ROWS)
    if unpacked > MAX_TOTAL_BYTES:
        raise UploadError(
            "err_parquet_unpacked", file=filename, size=unpacked / 2**20,
            limit=MAX_TOTAL_BYTES // 2**20,
        )  # fmt: skip
    try:
        df = pf.read(columns=present).to_pandas()
    except Exception:
        raise UploadError("err_parquet", file=filename) from None
    if len(df) != rows:  # the metadata lied
        raise UploadError("err_parquet", file=filename)
    return df


def read_sweep(files: list[tuple[str, bytes]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Curves (``name``, ``distance``, ``log_norm``) and per-case metrics (``name`` and
    whichever of ``decay_rate``, ``memory_horizon``, ``regime`` the files hold) of
    uploaded sweep Parquet files. A ``summary.parquet`` (one row per case) is skipped.
    All files together hold at most :data:`MAX_ROWS` rows (from their metadata)."""
    parts = []
    rows_left = MAX_ROWS
    for filename, payload in files:
        _check_size(filename, len(payload))
        if filename == SUMMARY and len(files) > 1:
            continue
        df = _read_parquet(filename, payload, _SWEEP_READ, rows_left)
        rows_left -= len(df)
        parts.append(_one_sweep_frame(filename, df))
    return _combine(parts)


def read_sweep_dir(path: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every ``*.parquet`` below a results folder (except ``summary.parquet``), as in
    :func:`read_sweep`. Symbolic links below it are not followed."""
    files = _parquet_below(path, skip=SUMMARY)
    parts = []
    rows_left = MAX_ROWS
    for f in files:
        df = _read_parquet(f.name, _checked_file(f), _SWEEP_READ, rows_left)
        rows_left -= len(df)
        parts.append(_one_sweep_frame(f.name, df))
    return _combine(parts)


# -- results folders on the server ----------------------------------------------------------


def results_root() -> Path | None:
    """The results root given with ``longdep dashboard --results DIR`` (resolved), or None
    when none was given or it is not a folder: then no page opens server folders."""
    raw = os.environ.get(RESULTS_ENV, "")
    if not raw:
        return None
    try:
        root = Path(raw).resolve(strict=True)
        return root if root.is_dir() else None
    except (OSError, RuntimeError, ValueError):
        return None


def confine(text: str, root: Path) -> Path:
    """The folder named by ``text``, a path relative to ``root``, resolved.

    Refused, all with the one message ``err_folder`` so that nothing can be learnt about
    the server's files from the answer: absolute paths, ``..``, a symbolic link at any
    step below ``root``, anything missing or not a folder, and any path whose resolved
    form is not below ``root``."""
    refused = UploadError("err_folder")
    try:
        root = root.resolve(strict=True)
        rel = Path(text)
        if len(text) > _MAX_PATH or rel.is_absolute() or rel.anchor or ".." in rel.parts:
            raise refused
        here = root
        for part in rel.parts:
            here = here / part
            if not stat.S_ISDIR(os.lstat(here).st_mode):  # lstat: a link is not a folder
                raise refused
        resolved = here.resolve(strict=True)
    except (OSError, RuntimeError, ValueError):  # missing, no permission, NUL byte
        raise refused from None
    if not resolved.is_relative_to(root):
        raise refused
    return resolved


def _shown(path: str | Path) -> str:
    """How a folder is named in a message: relative to the results root when below it
    (the server's own layout is nobody's business), else as given."""
    root = results_root()
    p = Path(path)
    if root is not None and p.is_absolute() and p.is_relative_to(root):
        return str(p.relative_to(root))
    return str(path)


def _files_below(folder: Path, suffixes: tuple[str, ...], skip: str | None = None) -> list[Path]:
    """Regular files below ``folder`` whose names end in ``suffixes`` (except one named
    ``skip``), sorted; symbolic links (to files or folders) are neither read nor walked
    into, and at most :data:`MAX_FILES` entries are visited."""
    found: list[Path] = []
    seen = 0
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        seen += len(dirnames) + len(filenames)
        if seen > MAX_FILES:
            raise UploadError("err_too_many_files", path=_shown(folder), limit=MAX_FILES)
        dirnames[:] = sorted(d for d in dirnames if not os.path.islink(os.path.join(dirpath, d)))
        for name in filenames:
            f = Path(dirpath, name)
            if name.endswith(suffixes) and name != skip and not f.is_symlink():
                found.append(f)
    return sorted(found)


def _checked_file(f: Path) -> Path:
    """``f`` if it is a regular file (not a link) of at most :data:`MAX_BYTES`."""
    try:
        info = os.lstat(f)
    except OSError:
        raise UploadError("err_parquet", file=f.name) from None
    if not stat.S_ISREG(info.st_mode):
        raise UploadError("err_parquet", file=f.name)
    _check_size(f.name, info.st_size)
    return f


def folder_stamp(path: Path, *, train: bool = False) -> tuple[tuple[str, int], ...]:
    """(relative name, mtime in ns) of every file the folder's reader would read (sweep
    results, or with ``train`` histories and summary.csv): the cache key of a folder.
    Walks as the readers do, without following links; empty if it cannot be read."""
    try:
        files = (
            _files_below(path, (".parquet", ".csv"))
            if train
            else _files_below(path, (".parquet",), skip=SUMMARY)
        )
        return tuple((str(f.relative_to(path)), os.lstat(f).st_mtime_ns) for f in files)
    except (OSError, UploadError):
        return ()


def _parquet_below(path: str, skip: str | None = None) -> list[Path]:
    """Every ``*.parquet`` below the folder ``path`` (except one named ``skip``), sorted,
    not following links; a missing, unreadable or empty folder is an :class:`UploadError`."""
    try:
        root = Path(path)
        if root.is_symlink() or not root.is_dir():
            raise UploadError("err_dir", path=_shown(path))
        os.listdir(root)  # unreadable: say so, rather than "no files"
        files = _files_below(root, (".parquet",), skip=skip)
    except (OSError, RuntimeError, ValueError):  # no permission, name too long, NUL byte
        raise UploadError("err_dir_read", path=_shown(path)) from None
    if not files:
        raise UploadError("err_no_parquet", path=_shown(path))
    return files


def _combine(parts: list[tuple[pd.DataFrame, pd.DataFrame]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    curves = pd.concat([c for c, _ in parts], ignore_index=True)
    metrics = pd.concat([m for _, m in parts], ignore_index=True).drop_duplicates("name")
    thinned = [thin_log(g) for _, g in curves.groupby("name", sort=False)]
    return (pd.concat(thinned, ignore_index=True) if thinned else curves), metrics


def thin_log(curve: pd.DataFrame, n: int = 300) -> pd.DataFrame:
    """At most about ``n`` rows of one curve, at log-spaced distances (sorted by distance)."""
    curve = curve.sort_values("distance")
    if len(curve) <= n:
        return curve
    d = curve["distance"].to_numpy()
    targets = np.geomspace(max(d[0], 1.0), max(d[-1], 1.0), n)
    idx = np.unique(np.concatenate([[0], np.searchsorted(d, targets).clip(0, len(d) - 1)]))
    return curve.iloc[idx]


# -- `longdep train` results ------------------------------------------------------------


def _one_train_frame(filename: str, df: pd.DataFrame) -> pd.DataFrame:
    """Validate one history file and bring it to the columns ``step``, ``loss``,
    ``grad_norm``, ``diverged``, ``model``, ``run``, ``task``, ``length``."""
    missing = [c for c in TRAIN_COLUMNS if c not in df.columns]
    if missing:
        raise UploadError("err_train_columns", file=filename, missing=", ".join(missing))
    for column in ("step", "loss", "grad_norm", "length"):
        if column in df.columns and not pd.api.types.is_numeric_dtype(df[column]):
            raise UploadError("err_train_values", file=filename, column=column)
    if df["step"].isna().any():
        raise UploadError("err_train_values", file=filename, column="step")
    out = df[[c for c in (*TRAIN_COLUMNS, *_TRAIN_OPTIONAL) if c in df.columns]].copy()
    defaults: dict[str, Any] = {
        "grad_norm": math.nan, "diverged": False, "run": "train", "task": "", "length": math.nan,
    }  # fmt: skip
    for column, value in defaults.items():
        if column not in out:
            out[column] = value
    out["model"] = out["model"].astype(str)
    out["run"] = out["run"].astype(str)
    out["task"] = out["task"].fillna("").astype(str)
    return out


def _read_summary(filename: str, payload: bytes) -> pd.DataFrame:
    try:
        return pd.read_csv(io.BytesIO(payload))
    except Exception:  # pandas raises several types for a broken CSV
        raise UploadError("err_csv", file=filename) from None


def read_train(files: list[tuple[str, bytes]]) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Histories (one frame, see :func:`_one_train_frame`) and the summary table (None
    if no ``.csv`` was given) of uploaded ``longdep train`` files."""
    histories, summary = [], None
    rows_left = MAX_ROWS
    for filename, payload in files:
        _check_size(filename, len(payload))
        if filename.lower().endswith(".csv"):
            summary = _read_summary(filename, payload)
            continue
        df = _read_parquet(filename, payload, _TRAIN_READ, rows_left)
        rows_left -= len(df)
        histories.append(_one_train_frame(filename, df))
    if not histories:
        raise UploadError("err_no_parquet", path=", ".join(f for f, _ in files))
    return pd.concat(histories, ignore_index=True), summary


def read_train_dir(path: str) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Every ``*.parquet`` below a ``longdep train`` output folder and its ``summary.csv``,
    as in :func:`read_train`. Symbolic links below it are not followed."""
    files = _parquet_below(path)
    root = Path(path)
    histories = []
    rows_left = MAX_ROWS
    for f in files:
        df = _read_parquet(f.name, _checked_file(f), _TRAIN_READ, rows_left)
        rows_left -= len(df)
        histories.append(_one_train_frame(f.name, df))
    summary_file = root / TRAIN_SUMMARY
    summary = None
    if summary_file.is_file() and not summary_file.is_symlink():
        try:
            _check_size(summary_file.name, summary_file.stat().st_size)
            payload = summary_file.read_bytes()
        except OSError:
            raise UploadError("err_csv", file=summary_file.name) from None
        summary = _read_summary(summary_file.name, payload)
    return pd.concat(histories, ignore_index=True), summary
