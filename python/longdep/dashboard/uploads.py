"""Reading and validating user files: weights (.npz, .safetensors) and sweep results (Parquet).

Nothing here trusts its input. Every problem raises :class:`UploadError` with an i18n key
and the values for its message, so the page can show a clear sentence in the user's
language instead of a traceback. ``.npz`` files are read with ``allow_pickle=False``;
``.safetensors`` files are parsed here with ``json`` and NumPy (8-byte little-endian
header length, JSON header of ``dtype``/``shape``/``data_offsets``, then the raw bytes).
"""

from __future__ import annotations

import io
import json
import math
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import longdep as ld

__all__ = [
    "MAX_BYTES",
    "Layer",
    "Named",
    "UploadError",
    "build_cell",
    "build_named",
    "example_npz",
    "find_layers",
    "find_models",
    "find_named",
    "read_safetensors",
    "read_sweep",
    "read_sweep_dir",
    "read_train",
    "read_train_dir",
    "read_weights",
    "thin_log",
]

#: Largest accepted upload (bytes); Streamlit's own upload limit is set to the same.
MAX_BYTES = 200 * 2**20
_MAX_HEADER = 100 * 2**20
#: The one-row-per-case table `longdep collect` writes next to the case files.
SUMMARY = "summary.parquet"
#: The one-row-per-run table `longdep train` writes next to the histories.
TRAIN_SUMMARY = "summary.csv"
#: Columns every `longdep train` history needs; ``run``, ``task``, ``length``,
#: ``grad_norm`` and ``diverged`` are used when present.
TRAIN_COLUMNS = ("step", "loss", "model")
_TRAIN_OPTIONAL = ("grad_norm", "diverged", "run", "task", "length")
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


def read_npz(filename: str, payload: bytes) -> dict[str, np.ndarray]:
    """Arrays of an ``.npz`` archive, loaded with ``allow_pickle=False``.

    NumPy's own messages are never shown: for a file that is not a zip archive
    ``np.load`` falls back to unpickling and its error advises ``allow_pickle=True``,
    which must not be suggested to anyone uploading a file of unknown origin."""
    if not zipfile.is_zipfile(io.BytesIO(payload)):
        raise UploadError("err_npz_not_zip", file=filename)
    try:
        archive = np.load(io.BytesIO(payload), allow_pickle=False)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, RuntimeError):
        raise UploadError("err_npz_damaged", file=filename) from None
    if not isinstance(archive, np.lib.npyio.NpzFile):  # cannot happen for a zip; be safe
        raise UploadError("err_npz_not_zip", file=filename)
    out = {}
    with archive:
        for name in archive.files:
            try:
                arr = archive[name]
            except ValueError as exc:
                if "pickle" in str(exc).lower():
                    raise UploadError("err_pickle", file=filename, name=name) from None
                raise UploadError("err_npz_entry", file=filename, name=name) from None
            except (zipfile.BadZipFile, OSError, EOFError, RuntimeError):
                raise UploadError("err_npz_entry", file=filename, name=name) from None
            if not isinstance(
                arr, np.ndarray
            ):  # NumPy hands back the raw bytes of a non-.npy entry
                raise UploadError("err_npz_entry", file=filename, name=name)
            out[name] = _check_float(name, arr)
    return out


def read_safetensors(filename: str, payload: bytes) -> dict[str, np.ndarray]:
    """Tensors of a ``.safetensors`` file (F64/F32/F16; BF16 is widened to float32).

    Every problem is an ``err_st_*`` message: the file name and numbers, no English
    detail text."""
    if len(payload) < 8:
        raise UploadError("err_st_short", file=filename)
    n = int.from_bytes(payload[:8], "little")
    if n > len(payload) - 8:
        raise UploadError("err_st_header_size", file=filename, n=n, size=len(payload))
    if n > _MAX_HEADER:
        raise UploadError("err_st_header_limit", file=filename, n=n, limit=_MAX_HEADER // 2**20)
    try:
        header = json.loads(payload[8 : 8 + n].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise UploadError("err_st_json", file=filename) from None
    if not isinstance(header, dict):
        raise UploadError("err_st_object", file=filename)
    body = memoryview(payload)[8 + n :]
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if not (isinstance(info, dict) and {"dtype", "shape", "data_offsets"} <= info.keys()):
            raise UploadError("err_st_entry", file=filename, name=name)
        dtype, shape, offsets = info["dtype"], info["shape"], info["data_offsets"]
        if not (isinstance(shape, list) and all(isinstance(s, int) and s >= 0 for s in shape)):
            raise UploadError("err_st_shape", file=filename, name=name, shape=_short(shape))
        if not (
            isinstance(offsets, list)
            and len(offsets) == 2
            and all(isinstance(o, int) for o in offsets)
            and 0 <= offsets[0] <= offsets[1] <= len(body)
        ):
            raise UploadError(
                "err_st_offsets", file=filename, name=name, offsets=_short(offsets), size=len(body)
            )
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
        raw = body[offsets[0] : offsets[1]]
        if dtype == "BF16":
            bits = np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16
            arr = bits.view(np.float32)
        else:
            arr = np.frombuffer(raw, dtype=_ST_DTYPES[dtype])
        out[name] = arr.reshape(shape)
    return out


def _short(value: object, limit: int = 60) -> str:
    """A value from the file, as JSON, cut to ``limit`` characters (it goes into a message)."""
    text = json.dumps(value, ensure_ascii=False, default=str)
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
        return cls(**{p: tensors[names[p]] if p in names else None for p in cls.PARAMS})
    except ld.LongdepError:
        have = ", ".join(f"{n} {_shape(tensors[n].shape)}" for n in names.values())
        raise UploadError(
            "err_named", kind=cls.label or named.kind, names=", ".join(cls.PARAMS), have=have
        ) from None


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


def read_sweep(files: list[tuple[str, bytes]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Curves (``name``, ``distance``, ``log_norm``) and per-case metrics (``name`` and
    whichever of ``decay_rate``, ``memory_horizon``, ``regime`` the files hold) of
    uploaded sweep Parquet files. A ``summary.parquet`` (one row per case) is skipped."""
    parts = []
    for filename, payload in files:
        _check_size(filename, len(payload))
        if filename == SUMMARY and len(files) > 1:
            continue
        try:
            df = pd.read_parquet(io.BytesIO(payload))
        except Exception:  # pyarrow raises many types for a corrupt file
            raise UploadError("err_parquet", file=filename) from None
        parts.append(_one_sweep_frame(filename, df))
    return _combine(parts)


def read_sweep_dir(path: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every ``*.parquet`` below a results folder (except ``summary.parquet``), as in
    :func:`read_sweep`."""
    files = _parquet_below(path, skip=SUMMARY)
    parts = []
    for f in files:
        try:
            df = pd.read_parquet(f)
        except Exception:  # pyarrow raises many types for a corrupt file
            raise UploadError("err_parquet", file=f.name) from None
        parts.append(_one_sweep_frame(f.name, df))
    return _combine(parts)


def _parquet_below(path: str, skip: str | None = None) -> list[Path]:
    """Every ``*.parquet`` below the folder ``path`` (except one named ``skip``), sorted;
    a missing, unreadable or empty folder is an :class:`UploadError`."""
    try:
        root = Path(path).expanduser()
        if not root.is_dir():
            raise UploadError("err_dir", path=path)
        files = sorted(f for f in root.rglob("*.parquet") if f.name != skip)
    except (OSError, RuntimeError):  # no permission, name too long, unknown ~user
        raise UploadError("err_dir_read", path=path) from None
    if not files:
        raise UploadError("err_no_parquet", path=path)
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
    for filename, payload in files:
        _check_size(filename, len(payload))
        if filename.lower().endswith(".csv"):
            summary = _read_summary(filename, payload)
            continue
        try:
            df = pd.read_parquet(io.BytesIO(payload))
        except Exception:  # pyarrow raises many types for a corrupt file
            raise UploadError("err_parquet", file=filename) from None
        histories.append(_one_train_frame(filename, df))
    if not histories:
        raise UploadError("err_no_parquet", path=", ".join(f for f, _ in files))
    return pd.concat(histories, ignore_index=True), summary


def read_train_dir(path: str) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Every ``*.parquet`` below a ``longdep train`` output folder and its ``summary.csv``,
    as in :func:`read_train`."""
    files = _parquet_below(path)
    root = Path(path).expanduser()
    histories = []
    for f in files:
        try:
            df = pd.read_parquet(f)
        except Exception:  # pyarrow raises many types for a corrupt file
            raise UploadError("err_parquet", file=f.name) from None
        histories.append(_one_train_frame(f.name, df))
    summary_file = root / TRAIN_SUMMARY
    summary = None
    if summary_file.is_file():
        try:
            payload = summary_file.read_bytes()
        except OSError:
            raise UploadError("err_csv", file=summary_file.name) from None
        summary = _read_summary(summary_file.name, payload)
    return pd.concat(histories, ignore_index=True), summary
