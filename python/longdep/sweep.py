"""Batch sweeps: a TOML grid of configurations, one Parquet file per case, on a laptop or a cluster.

A sweep config names a quantity (``grad_norms``, ``sensitivity`` or ``lyapunov``), a
sequence length, seeds and a ``[grid]`` whose lists are crossed::

    name = "radius-scan"
    quantity = "grad_norms"
    length = 100000
    seeds = [0, 1, 2]
    [grid]
    cell = ["elman", "lstm", "gru"]
    hidden = [64, 128]
    spectral_radius = [0.9, 1.0, 1.1]

Every case builds its cell with :mod:`longdep.init`, feeds it ``x ~ N(0, input_scale^2)``
(seeded), computes the quantity in the log domain, downsamples the curve to about
``n_points`` log-spaced distances (:func:`longdep.analysis.downsample_log`) and measures
it (:func:`longdep.analysis.curve_metrics`). The result is written to
``OUT/<case name>.parquet`` under a temporary name, fsynced and renamed, so a sweep
killed at any moment leaves only complete files and ``resume=True`` skips exactly the
finished cases.

Examples
--------
>>> from longdep import sweep
>>> cfg = sweep.parse_config('''
... name = "demo"
... length = 1000
... seeds = [0, 1]
... [grid]
... cell = ["elman", "lstm"]
... spectral_radius = [0.9, 1.1]
... hidden = [16]
... ''')
>>> len(cfg.cases), cfg.cases[0].name
(8, 'cell=elman_spectral_radius=0.9_hidden=16_seed=0')
"""

from __future__ import annotations

import contextlib
import difflib
import errno
import hashlib
import itertools
import json
import math
import os
import re
import signal
import sys
import threading
import time
import unicodedata
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np

from ._validate import require_bool
from .errors import ArgumentError, LongdepError
from .plumbing import Progress, key_lines, load_toml, write_atomic
from .workers import WorkerDied

__all__ = [
    "CELLS",
    "PARAMETERS",
    "QUANTITIES",
    "SETTINGS",
    "Case",
    "DaskExecutor",
    "Executor",
    "LocalExecutor",
    "SweepConfig",
    "SweepConfigError",
    "SweepError",
    "SweepResult",
    "build_cell",
    "case_name",
    "collect",
    "compute_case",
    "load_config",
    "parse_config",
    "read_case",
    "run_sweep",
]

QUANTITIES = ("grad_norms", "sensitivity", "lyapunov")
_CLASSIC = ("elman", "lstm", "gru", "lru", "attention")
#: Keys of every case, whatever its cell.
_COMMON = ("cell", "hidden", "length", "batch", "input_size", "input_scale", "dtype")


def _modern() -> dict[str, Any]:
    """The catalogue's 2023–2025 kinds: each declares its ``random`` initialiser, the sweep
    keys that initialiser takes and whether its input size is its hidden size."""
    from .kinds import modern

    return modern()


CELLS = _CLASSIC + tuple(_modern())

#: Parquet schema-metadata key holding a case's parameters and metrics as JSON.
META_KEY = b"longdep.case"
SUMMARY = "summary.parquet"
_TMP_GLOB = ".*.parquet.tmp-*"
#: The record of failed cases in a results folder (name -> error message).
FAILED = "failed.json"
_FAILED_TMP_GLOB = f".{FAILED}.tmp-*"
_FAILED_MAX_BYTES = 16 << 20
_LOCK_NAME = ".longdep-sweep.lock"
_MAX_NAME = 120


class SweepConfigError(ArgumentError):
    """A sweep config is not valid TOML, has an unknown key or a bad value.

    ``errors`` lists every problem found, each as ``"FILE:LINE: key: message"``.
    """

    def __init__(self, errors: Sequence[str]) -> None:
        self.errors = list(errors)
        n = len(self.errors)
        head = "invalid sweep config" if n == 1 else f"invalid sweep config ({n} problems)"
        super().__init__(head + ":\n  " + "\n  ".join(self.errors))


class SweepError(LongdepError):
    """A sweep cannot run or finish: output folder in use or inconsistent, cases failed."""


# -- parameter schema ---------------------------------------------------------------------


class _Bad(Exception):
    """A value failed its check; the message says what was expected and what came."""


def _int(lo: int) -> Callable[[Any], int]:
    def check(v: Any) -> int:
        if isinstance(v, bool) or not isinstance(v, int) or v < lo:
            raise _Bad(f"must be an integer >= {lo}; got {v!r}")
        return int(v)

    return check


def _float(
    lo: float, hi: float = math.inf, *, lo_open: bool = False, hi_open: bool = False
) -> Callable[[Any], float]:
    def check(v: Any) -> float:
        ok = not isinstance(v, bool) and isinstance(v, (int, float)) and math.isfinite(v)
        if ok:
            ok = (v > lo if lo_open else v >= lo) and (v < hi if hi_open else v <= hi)
        if not ok:
            left = "(" if lo_open else "["
            right = ")" if hi_open or hi == math.inf else "]"
            top = "inf" if hi == math.inf else f"{hi:g}"
            raise _Bad(f"must be a number in {left}{lo:g}, {top}{right}; got {v!r}")
        return float(v)

    return check


def _choice(options: Sequence[str]) -> Callable[[Any], str]:
    def check(v: Any) -> str:
        if not isinstance(v, str) or v not in options:
            allowed = ", ".join(repr(o) for o in options)
            raise _Bad(f"must be one of {allowed}; got {v!r}")
        return v

    return check


def _bool(v: Any) -> bool:
    if not isinstance(v, bool):
        raise _Bad(f"must be true or false; got {v!r}")
    return v


def _residual(v: Any) -> float | None:
    if v is False:
        return None
    try:
        return _float(0.0, lo_open=True)(v)
    except _Bad:
        raise _Bad(f"must be a number > 0 (the residual scale alpha) or false; got {v!r}") from None


def _chrono(v: Any) -> int | bool | None:
    if v is False:
        return None
    if v is True:
        return True
    if isinstance(v, bool) or not isinstance(v, int) or v < 2:
        raise _Bad(f"must be an integer T_max >= 2, true (T_max = length) or false; got {v!r}")
    return int(v)


#: Unicode categories refused in a sweep name: control characters (tab, newline, ESC,
#: DEL, C1), invisible format characters (bidirectional overrides, zero-width) and
#: line/paragraph separators. The name is printed on terminals and written in reports.
_NAME_REFUSED = ("Cc", "Cf", "Zl", "Zp")


def _name(v: Any) -> str:
    if not isinstance(v, str) or not v.strip():
        raise _Bad(f"must be a non-empty string; got {v!r}")
    for i, ch in enumerate(v):
        if unicodedata.category(ch) in _NAME_REFUSED:
            raise _Bad(
                f"must not contain control or invisible characters; got {v!r} "
                f"(U+{ord(ch):04X} at position {i})"
            )
    return v


def _seeds(v: Any) -> list[int]:
    items = v if isinstance(v, list) else [v]
    if not items:
        raise _Bad("must be a non-empty list of integers >= 0; got []")
    out = []
    for i, s in enumerate(items):
        if isinstance(s, bool) or not isinstance(s, int) or s < 0:
            raise _Bad(f"must be integers >= 0; item {i} is {s!r}")
        out.append(int(s))
    if len(set(out)) != len(out):
        raise _Bad(f"must not repeat a seed; got {out}")
    return out


_REQUIRED = object()


@dataclass(frozen=True)
class _Spec:
    check: Callable[[Any], Any]
    default: Any = _REQUIRED
    doc: str = ""


#: Parameters of a case: each may be a top-level scalar or a list under ``[grid]``.
PARAMETERS: dict[str, _Spec] = {
    "cell": _Spec(_choice(CELLS), doc=", ".join(CELLS)),
    "hidden": _Spec(_int(1), doc="hidden size H (LRU: complex units; attention: head size)"),
    "length": _Spec(_int(2), doc="sequence length T in steps"),
    "batch": _Spec(_int(1), 1, doc="independent input sequences; the curve is their mean log"),
    "input_size": _Spec(_int(1), 1, doc="input size I"),
    "input_scale": _Spec(_float(0.0), 1.0, doc="x ~ N(0, input_scale^2)"),
    "dtype": _Spec(_choice(("float64", "float32")), "float64", doc="compute precision"),
    "spectral_radius": _Spec(
        _float(0.0, lo_open=True),
        None,
        "recurrent weights rescaled to this eigenvalue modulus (LSTM/GRU: each gate block)",
    ),
    "gain": _Spec(_float(0.0), 1.0, "W_hh ~ N(0, gain^2 / H)"),
    "init": _Spec(_choice(("normal", "orthogonal", "identity")), "normal"),
    "nonlinearity": _Spec(_choice(("tanh", "relu", "linear")), "tanh"),
    "residual": _Spec(_residual, None, "h_t = h_{t-1} + alpha phi(...), or false"),
    "layer_norm": _Spec(_bool, False),
    "forget_bias": _Spec(_float(-math.inf), 1.0),
    "chrono": _Spec(_chrono, None, "chrono init T_max, true (= length) or false"),
    "r_min": _Spec(_float(0.0, 1.0, hi_open=True), 0.9, "smallest |lambda|"),
    "r_max": _Spec(_float(0.0, 1.0, hi_open=True), 0.999, "largest |lambda|"),
}

#: Sweep-wide settings: top-level keys only.
SETTINGS: dict[str, _Spec] = {
    "name": _Spec(_name, doc="the sweep's name"),
    "quantity": _Spec(_choice(QUANTITIES), "grad_norms"),
    "seeds": _Spec(_seeds, [0], doc="each case runs once per seed (cell init and input)"),
    "n_points": _Spec(_int(2), 300, doc="log-spaced distances kept per curve"),
    "wrt": _Spec(_choice(("state", "input", "cell")), "state", doc="grad_norms only"),
    "k": _Spec(_int(1), 1, doc="lyapunov only: number of exponents"),
    "warmup": _Spec(_int(0), 0, doc="lyapunov only: steps left out of the exponents"),
}
_SETTING_QUANTITY = {"wrt": "grad_norms", "k": "lyapunov", "warmup": "lyapunov"}


# -- config ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One point of the grid: its file-safe ``name`` and full ``params``."""

    name: str
    params: dict[str, Any]

    @property
    def filename(self) -> str:
        return f"{self.name}.parquet"


@dataclass(frozen=True)
class SweepConfig:
    """A validated sweep: settings, the grid as written, and the expanded cases."""

    name: str
    quantity: str
    settings: dict[str, Any]
    fixed: dict[str, Any]
    grid: dict[str, list[Any]]
    cases: tuple[Case, ...]
    source: str = "<config>"
    notes: tuple[str, ...] = field(default=())


def _fmt(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return re.sub(r"[^A-Za-z0-9.+-]", "-", str(value))


def case_name(params: Mapping[str, Any], keys: Iterable[str]) -> str:
    """A stable, filesystem-safe name ``key=value_key=value...`` of the given keys.

    Floats print in their shortest round-trip form (``0.9``, ``1e-05``); names longer
    than 120 characters are cut and end in a 10-digit hash of the full name, so the
    same parameters give the same name in every run and on every machine.

    Examples
    --------
    >>> case_name({"cell": "lstm", "hidden": 64, "spectral_radius": 0.9, "seed": 1},
    ...           ["cell", "hidden", "spectral_radius", "seed"])
    'cell=lstm_hidden=64_spectral_radius=0.9_seed=1'
    """
    name = "_".join(f"{k}={_fmt(params[k])}" for k in keys)
    if len(name) > _MAX_NAME:
        digest = hashlib.sha1(name.encode()).hexdigest()[:10]
        name = name[: _MAX_NAME - 11].rstrip("_") + "_" + digest
    return name


def _applies(key: str, cell: str) -> bool:
    """Whether sweep key ``key`` means something for ``cell``: the keys every case has,
    and those its kind declares (``sweep_keys`` on its class)."""
    if key not in PARAMETERS or key in _COMMON:
        return True
    if cell == "attention":
        return key == "layer_norm"
    from .kinds import catalogue

    cls = catalogue().get(cell)
    return cls is not None and key in cls.sweep_keys


def parse_config(text: str, source: str = "<config>") -> SweepConfig:
    """Validate a sweep config given as TOML text and expand its grid.

    Every problem is collected and raised at once as :class:`SweepConfigError`, each
    message naming the key and its line in ``source``.
    """
    if not isinstance(text, str):
        raise ArgumentError(
            f"text must be the TOML text of a config (str); got {type(text).__name__}"
            + ("; to read a file use load_config(path)" if isinstance(text, os.PathLike) else "")
        )
    try:
        text, raw = load_toml(text, source)
    except ValueError as e:
        raise SweepConfigError([str(e)]) from None
    lines = key_lines(text)
    errors: list[str] = []

    def err(table: str, key: str, msg: str) -> None:
        no = lines.get((table, key)) or (lines.get(("", table)) if table else None)
        where = f"{source}:{no}" if no else source
        shown = key if key.isprintable() else repr(key)  # a quoted key may hold ESC etc.
        label = f"[{table}] {shown}" if table else shown
        line = f"{where}: {label}: {msg}"
        if line not in errors:
            errors.append(line)

    allowed_top = [*SETTINGS, *PARAMETERS, "grid"]
    settings: dict[str, Any] = {}
    fixed: dict[str, Any] = {}
    grid: dict[str, list[Any]] = {}
    suggested: set[str] = set()  # a misspelt key is reported once, not also as missing

    for key, value in raw.items():
        if key == "grid":
            if not isinstance(value, dict):
                err("", "grid", f"must be a table [grid] of lists; got {type(value).__name__}")
            continue
        if key in SETTINGS:
            try:
                settings[key] = SETTINGS[key].check(value)
            except _Bad as e:
                err("", key, str(e))
        elif key in PARAMETERS:
            if isinstance(value, (list, dict)):
                err(
                    "",
                    key,
                    f"must be a single value at the top level (put lists under [grid]); got {value!r}",
                )
                continue
            try:
                fixed[key] = PARAMETERS[key].check(value)
            except _Bad as e:
                err("", key, str(e))
        else:
            hint = _did_you_mean(key, allowed_top, suggested)
            if key == "seed":
                hint = "; did you mean 'seeds'?"
            err("", key, f"unknown key{hint} (allowed: {', '.join(allowed_top)})")

    raw_grid = raw.get("grid", {})
    if isinstance(raw_grid, dict):
        for key, values in raw_grid.items():
            if key not in PARAMETERS:
                hint = _did_you_mean(key, list(PARAMETERS), suggested)
                if key in ("seeds", "seed"):
                    hint = "; seeds are swept from the top-level key 'seeds'"
                err("grid", key, f"unknown key{hint} (allowed in [grid]: {', '.join(PARAMETERS)})")
                continue
            if key in raw:
                err(
                    "grid",
                    key,
                    f"is also given at the top level (line {lines.get(('', key), '?')}); keep one",
                )
                continue
            if not isinstance(values, list):
                err("grid", key, f"must be a list of values to sweep; got {values!r}")
                continue
            if not values:
                err("grid", key, "must be a non-empty list; got []")
                continue
            checked = []
            for i, v in enumerate(values):
                try:
                    checked.append(PARAMETERS[key].check(v))
                except _Bad as e:
                    err("grid", key, f"item {i}: {e}")
                    break
            else:
                if len(set(map(repr, checked))) != len(checked):
                    err("grid", key, f"must not repeat a value; got {values!r}")
                grid[key] = checked

    for key, spec in PARAMETERS.items():
        if spec.default is _REQUIRED and key not in fixed and key not in grid:
            if key not in raw and key not in raw_grid and key not in suggested:
                err("", key, "is required (a top-level value or a list under [grid])")
    for key, spec in SETTINGS.items():
        if spec.default is _REQUIRED and key not in raw and key not in suggested:
            err("", key, "is required")
    if errors:
        raise SweepConfigError(errors)

    full = {k: s.default for k, s in SETTINGS.items()} | settings
    quantity = full["quantity"]
    for key, q in _SETTING_QUANTITY.items():
        if key in settings and quantity != q:
            err("", key, f"applies to quantity = {q!r} only; this sweep computes {quantity!r}")

    cells_used = set(grid.get("cell", [fixed.get("cell")]))
    for table, keys in (("", fixed), ("grid", grid)):
        for key in keys:
            if key == "cell":
                continue
            spec = PARAMETERS[key]
            if not any(_applies(key, str(c)) for c in cells_used):
                users = [c for c in CELLS if _applies(key, c)]
                err(
                    table,
                    key,
                    f"applies to cell = {' / '.join(users)} only, and this sweep has "
                    f"{' / '.join(sorted(map(str, cells_used)))}",
                )

    cases, notes = _expand(full, fixed, grid, err)
    if errors:
        raise SweepConfigError(errors)
    return SweepConfig(
        name=full["name"],
        quantity=quantity,
        settings=full,
        fixed=fixed,
        grid=grid,
        cases=tuple(cases),
        source=source,
        notes=tuple(notes),
    )


def _did_you_mean(key: str, options: Sequence[str], suggested: set[str] | None = None) -> str:
    close = difflib.get_close_matches(key, options, n=1, cutoff=0.6)
    if close and suggested is not None:
        suggested.add(close[0])
    return f"; did you mean {close[0]!r}?" if close else ""


def _state_size(cell: str, hidden: int) -> int:
    from .kinds import catalogue

    cls = catalogue().get(cell)
    if cls is not None:
        return int(cls.state_size_for(hidden))
    return hidden  # attention: its output


def _expand(
    settings: dict[str, Any],
    fixed: dict[str, Any],
    grid: dict[str, list[Any]],
    err: Callable[[str, str, str], None],
) -> tuple[list[Case], list[str]]:
    """Cross product of the grid lists and the seeds, non-applicable keys dropped, deduplicated."""
    quantity = settings["quantity"]
    sweep_keys = ["quantity", "n_points"] + [
        k for k, q in _SETTING_QUANTITY.items() if q == quantity
    ]
    grid_keys = list(grid)
    name_keys = ["cell"] + [k for k in grid_keys if k != "cell"]
    cases: list[Case] = []
    seen: set[str] = set()
    dropped: dict[str, set[str]] = {}
    for combo in itertools.product(*(grid[k] for k in grid_keys)):
        values = dict(zip(grid_keys, combo, strict=True))
        merged = {k: s.default for k, s in PARAMETERS.items()} | fixed | values
        cell = merged["cell"]
        for k in list(merged):
            if not _applies(k, cell):
                if k in values or k in fixed:
                    dropped.setdefault(k, set()).add(cell)
                del merged[k]
        cls = _modern().get(cell)
        if cls is not None and cls.input_is_hidden:
            # The cell gates x_t itself (RG-LRU): its input size is its hidden size.
            if ("input_size" in values or "input_size" in fixed) and (
                merged["input_size"] != merged["hidden"]
            ):
                err(
                    "grid" if "input_size" in grid else "",
                    "input_size",
                    f"must equal hidden for cell = {cell!r} (its input size is its hidden "
                    f"size); got input_size = {merged['input_size']}, hidden = {merged['hidden']}",
                )
            merged["input_size"] = merged["hidden"]
        _check_case(merged, settings, grid, fixed, err)
        for seed in settings["seeds"]:
            params = {"sweep": settings["name"]} | {k: settings[k] for k in sweep_keys}
            params |= merged | {"seed": seed}
            name = case_name(params, [k for k in [*name_keys, "seed"] if k in params])
            if name in seen:
                continue
            seen.add(name)
            cases.append(Case(name, params))
    notes = [
        f"{k} does not apply to cell = {', '.join(sorted(c))}; those cases run once without it"
        for k, c in dropped.items()
    ]
    return cases, notes


def _check_case(
    p: dict[str, Any],
    settings: dict[str, Any],
    grid: dict[str, Any],
    fixed: dict[str, Any],
    err: Callable[[str, str, str], None],
) -> None:
    """Constraints between keys, reported against the key that one would change."""

    def where(key: str) -> str:
        return "grid" if key in grid else ""

    cell, quantity = p["cell"], settings["quantity"]
    if cell == "attention" and quantity != "grad_norms":
        err(
            "",
            "quantity",
            f"{quantity!r} needs a recurrent state; cell = 'attention' has none (use 'grad_norms')",
        )
    if quantity == "grad_norms" and settings["wrt"] == "cell" and cell != "lstm":
        err(
            "",
            "wrt",
            f"'cell' needs an LSTM (the only cell with a memory cell c); this sweep has cell = {cell!r}",
        )
    if "r_min" in p and "r_max" in p and p["r_min"] > p["r_max"]:
        err(
            where("r_min"),
            "r_min",
            f"must be <= r_max; got r_min = {p['r_min']}, r_max = {p['r_max']}",
        )
    if quantity == "lyapunov":
        size = _state_size(cell, p["hidden"])
        if settings["k"] > size:
            err(
                "",
                "k",
                f"must be at most the state size {size} of cell = {cell!r}, hidden = {p['hidden']}; got {settings['k']}",
            )
        if settings["warmup"] >= p["length"]:
            err(
                "",
                "warmup",
                f"must be smaller than length = {p['length']}; got {settings['warmup']}",
            )


def load_config(path: str | os.PathLike[str]) -> SweepConfig:
    """Read and validate a sweep config file (TOML). See :func:`parse_config`."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise SweepConfigError([f"{p}: cannot read the config: {e}"]) from None
    return parse_config(text, source=str(p))


# -- one case ---------------------------------------------------------------------------------


def build_cell(params: Mapping[str, Any]) -> Any:
    """The cell of a case: its kind's :meth:`~longdep.cells.RecurrentCell.for_sweep` with
    the case's seed and the sweep keys the kind declares (``chrono = true`` is the
    case's length). For LSTM and GRU, ``spectral_radius`` rescales every gate's
    recurrent block ``W_h*`` (an ``H x H`` slice of ``weight_hh``) to that modulus.
    """
    from . import init
    from .kinds import catalogue

    cell, h, i, seed = params["cell"], params["hidden"], params["input_size"], params["seed"]
    if cell == "attention":
        return init.attention(h, i, layer_norm=params["layer_norm"], seed=seed)
    cls = catalogue().get(cell)
    if cls is None:
        raise ArgumentError(f"cell must be one of {', '.join(CELLS)}; got {cell!r}")
    extra = {k: params[k] for k in cls.sweep_keys if k in params}
    if extra.get("chrono") is True:
        extra["chrono"] = params["length"]
    elif "chrono" in extra and extra["chrono"] in (None, False):
        extra.pop("chrono")
    return cls.for_sweep(h, i, seed=seed, **extra)


def _unit(rng: np.random.Generator, n: int) -> np.ndarray:
    v = rng.standard_normal(n)
    return v / np.linalg.norm(v)


def compute_case(params: Mapping[str, Any], *, threads: int | None = None) -> dict[str, Any]:
    """Run one case: its downsampled log curve and metrics (a worker's whole job).

    ``x ~ N(0, input_scale^2)`` of shape ``(length, batch, input_size)`` comes from
    ``default_rng([seed, 1])`` and the loss weights ``v`` (or the perturbation ``u``)
    are a random unit vector from ``default_rng([seed, 2])``, so a case gives the same
    numbers wherever it runs. The curve is ordered by distance: ``T - 1 - t`` from the
    loss for ``grad_norms``, ``t + 1`` steps for ``sensitivity``, and for ``lyapunov``
    the accumulated ``ln |R_t,11|`` (the log growth of the leading tangent vector).
    With ``batch > 1`` the curve is the mean log norm over the batch (``log_norm_std``
    its spread).
    """
    from . import analysis
    from .core import grad_norms, lyapunov_spectrum, sensitivity

    start = time.perf_counter()
    cell = build_cell(params)
    length, batch, seed = params["length"], params["batch"], params["seed"]
    x = np.random.default_rng([seed, 1]).standard_normal((length, batch, params["input_size"]))
    x = (x * params["input_scale"]).astype(params["dtype"])
    vec = np.random.default_rng([seed, 2])
    quantity = params["quantity"]
    extra: dict[str, float] = {}
    if quantity == "grad_norms":
        v = _unit(vec, cell.hidden_size)
        curves = grad_norms(cell, x, v, wrt=params["wrt"], log=True, threads=threads)[::-1]
        distance = np.arange(length)
    elif quantity == "sensitivity":
        u = _unit(vec, cell.state_size)
        curves = sensitivity(cell, x, u, log=True, threads=threads)
        distance = np.arange(1, length + 1)
    else:
        mean, local = lyapunov_spectrum(
            cell, x, params["k"], warmup=params["warmup"], return_local=True, threads=threads
        )
        curves = np.cumsum(local[:, :, 0], axis=0)
        distance = np.arange(1, length + 1)
        extra = {f"lyapunov_{j + 1}": float(mean[:, j].mean()) for j in range(params["k"])}
    log_norm = curves.mean(axis=1)
    spread = curves.std(axis=1) if batch > 1 else np.zeros(length)
    metrics = dict(analysis.curve_metrics(log_norm, distance=distance))
    metrics |= {"log_norm_start": float(log_norm[0]), "log_norm_end": float(log_norm[-1])} | extra
    idx, _ = analysis.downsample_log(length, n=params["n_points"])
    return {
        "distance": distance[idx].astype(np.int64),
        "log_norm": log_norm[idx].astype(np.float64),
        "log_norm_std": spread[idx].astype(np.float64),
        "metrics": {k: (v.item() if isinstance(v, np.generic) else v) for k, v in metrics.items()},
        "elapsed_s": time.perf_counter() - start,
    }


# -- cost estimates ------------------------------------------------------------------------------

#: Recurrent multiply-adds per step, as a multiple of ``H^2`` (dense cells) or ``H``
#: (diagonal recurrences, whose step has no matrix product: their input projection,
#: ``~ rows x I``, is counted apart).
_DENSE_ROWS = {"elman": 1, "rnn": 1, "lstm": 4, "gru": 3, "slstm": 4, "attention": 2}
#: Multiply-adds per second one worker sustains, for the time estimate (a rough, modest
#: figure: the estimate says whether a sweep takes seconds, hours or weeks, not when).
_FLOPS_PER_S = 2e9
#: Seconds a case costs besides its arithmetic (drawing inputs, metrics, the file).
_CASE_OVERHEAD_S = 0.05
#: Bytes of per-step records the reverse pass keeps before it checkpoints (the core's
#: default ``memory_budget``).
_REVERSE_BUDGET = 512 << 20


def estimate_case(params: Mapping[str, Any]) -> dict[str, float]:
    """Rough cost of one case before it runs: ``{"seconds", "bytes"}`` (peak memory).

    Memory counts the input (drawn in float64, then cast), the ``(T, B)`` curves, the
    reverse pass's stored records (at most the core's default budget) and, for
    ``lyapunov``, the local exponents. Time counts the recurrent multiply-adds of the
    passes (forward, recomputation and reverse: three) at a modest single-core rate.
    """
    cell, h = str(params["cell"]), int(params["hidden"])
    t, b, i = int(params["length"]), int(params.get("batch", 1)), int(params["input_size"])
    item = 4 if params.get("dtype") == "float32" else 8
    s = _state_size(cell, h)
    rows = _DENSE_ROWS.get(cell)
    quantity = params.get("quantity", "grad_norms")
    per_step = (rows * h * h if rows else 4 * s) + 4 * h * i
    passes = {"grad_norms": 3, "sensitivity": 2, "lyapunov": 1 + int(params.get("k", 1))}
    seconds = _CASE_OVERHEAD_S + passes.get(str(quantity), 3) * per_step * t * b / _FLOPS_PER_S
    nbytes = t * b * i * (8 + item) + 3 * t * b * 8
    if quantity == "grad_norms":
        nbytes += min(t * b * (s + 4 * h) * item, _REVERSE_BUDGET)
    elif quantity == "lyapunov":
        nbytes += 2 * t * b * int(params.get("k", 1)) * 8
    return {"seconds": float(seconds), "bytes": float(nbytes)}


def machine_memory() -> int | None:
    """Bytes of memory available now (Linux ``MemAvailable``), or the physical total."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return None


def _too_big(case: Case, available: int | None) -> str | None:
    """Why ``case`` cannot run on this machine (its estimated memory), or None."""
    need = estimate_case(case.params)["bytes"]
    if available is None or need <= available:
        return None
    return (
        f"needs about {need / 1e9:.1f} GB of memory (estimated before running), more than "
        f"the {available / 1e9:.1f} GB available on this machine; lower length, batch or "
        "hidden"
    )


# -- Parquet files -------------------------------------------------------------------------------


def _case_table(case: Case, result: Mapping[str, Any]) -> Any:
    import pyarrow as pa

    n = len(result["distance"])
    cols: dict[str, Any] = {
        "case": pa.repeat(case.name, n),
        "distance": pa.array(result["distance"], pa.int64()),
        "log_norm": pa.array(result["log_norm"], pa.float64()),
        "log_norm_std": pa.array(result["log_norm_std"], pa.float64()),
    }
    for key, value in (case.params | result["metrics"]).items():
        cols[key] = pa.repeat(value, n)
    cols["elapsed_s"] = pa.repeat(float(result["elapsed_s"]), n)
    meta = {
        "format": 1,
        "case": case.name,
        "params": case.params,
        "metrics": result["metrics"],
        "elapsed_s": float(result["elapsed_s"]),
    }
    return pa.table(cols).replace_schema_metadata({META_KEY: json.dumps(meta).encode()})


def _write_case(folder: Path, case: Case, result: Mapping[str, Any]) -> Path:
    import pyarrow.parquet as pq

    table = _case_table(case, result)
    path = folder / case.filename
    write_atomic(path, lambda f: pq.write_table(table, f, compression="zstd"))
    return path


def _read_failures(folder: Path) -> dict[str, str]:
    """The failed cases recorded in ``folder`` (empty when there is no valid record)."""
    path = folder / FAILED
    try:
        if path.is_symlink() or not path.is_file() or path.stat().st_size > _FAILED_MAX_BYTES:
            return {}
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return {}
    cases = data.get("failed") if isinstance(data, dict) else None
    if not isinstance(cases, dict):
        return {}
    return {str(k): str(v) for k, v in cases.items()}


def _record_failures(folder: Path, failed: Mapping[str, str], done: list[str]) -> None:
    """Add ``failed`` to the record in ``folder`` and drop ``done`` from it, atomically."""
    cases = _read_failures(folder)
    cases.update(failed)
    for name in done:
        cases.pop(name, None)
    path = folder / FAILED
    if not cases:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        return
    body = json.dumps({"failed": cases}, indent=1, sort_keys=True).encode()
    write_atomic(path, lambda f: f.write(body))


def read_case(path: str | os.PathLike[str]) -> dict[str, Any]:
    """A case file's metadata: ``{"case", "params", "metrics", "elapsed_s"}`` (footer only)."""
    import pyarrow.parquet as pq

    meta = pq.read_schema(path).metadata or {}
    if META_KEY not in meta:
        raise SweepError(f"{path} is not a longdep case file (no {META_KEY.decode()} metadata)")
    return json.loads(meta[META_KEY])


def _same_params(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    def canonical(d: Mapping[str, Any]) -> str:
        return json.dumps({k: v for k, v in d.items() if k != "sweep"}, sort_keys=True)

    return canonical(a) == canonical(b)


def _case_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*.parquet") if p.name != SUMMARY)


# -- executors ----------------------------------------------------------------------------------


class Executor:
    """Runs :func:`compute_case` somewhere. Futures follow ``concurrent.futures``:
    ``done()``, ``result()``, ``cancel()``."""

    description = "executor"
    #: Cases handed out at once (``None``: all); a small window keeps Ctrl-C quick.
    max_in_flight: int | None = None
    #: Rust threads per case.
    threads: int | None = 1

    def submit(self, case: Case) -> Any:
        raise NotImplementedError

    def wait(self, futures: set[Any], timeout: float) -> set[Any]:
        """The futures that are done, waiting up to ``timeout`` s for at least one."""
        raise NotImplementedError

    def close(self, *, abort: bool = False) -> None:
        raise NotImplementedError


class LocalExecutor(Executor):
    """A pool of ``workers`` processes on this machine (:class:`longdep.workers.WorkerPool`:
    fresh interpreters, no inherited threads, the caller's script is not run again)."""

    def __init__(self, workers: int | None = None) -> None:
        import concurrent.futures as cf

        from .workers import WorkerPool

        n = workers or _cpu_count()
        if n < 1:
            raise ArgumentError(f"workers must be a positive integer; got {workers!r}")
        self.threads = max(1, _cpu_count() // n)
        # Children read these when NumPy loads its BLAS: n processes each spinning a
        # BLAS thread per core made small cases 3x slower.
        env = {k: os.environ.get(k) or str(self.threads) for k in _BLAS_ENV}
        self._cf = cf
        # A case that kills its worker (a crash, the OOM killer) fails alone: a fresh
        # worker takes its place and the sweep goes on.
        self._pool = WorkerPool(n, env=env, replace=True)
        self.workers = n
        self.max_in_flight = 2 * n
        self.description = f"{n} local process{'es' if n > 1 else ''}"

    def submit(self, case: Case) -> Any:
        return self._pool.submit(compute_case, case.params, threads=self.threads)

    def wait(self, futures: set[Any], timeout: float) -> set[Any]:
        done, _ = self._cf.wait(futures, timeout=timeout, return_when=self._cf.FIRST_COMPLETED)
        return set(done)

    def close(self, *, abort: bool = False) -> None:
        self._pool.close(abort=abort)  # abort: a running case may take minutes, stop it now


class DaskExecutor(Executor):
    """Cases as tasks on a Dask distributed cluster (``pip install longdep[distributed]``).

    The workers need longdep installed; they return results to this process, which
    writes the files, so the workers need no access to the output folder.
    """

    def __init__(self, address: str | Any, *, timeout: float = 30.0) -> None:
        try:
            from dask import distributed
        except ImportError:
            raise SweepError(
                "--scheduler needs Dask distributed, which is not installed; "
                "install it with: pip install 'longdep[distributed]'"
            ) from None
        self._dist = distributed
        try:
            self.client = distributed.Client(address, timeout=timeout, set_as_default=False)
        except (OSError, TimeoutError) as e:
            raise SweepError(f"cannot connect to the Dask scheduler at {address!r}: {e}") from None
        workers = self.client.scheduler_info().get("workers", {})
        threads = sum(int(w.get("nthreads", 1)) for w in workers.values())
        self.description = (
            f"Dask at {self.client.scheduler.address} ({len(workers)} workers, {threads} threads)"
        )
        self.threads = 1
        self._keys: set[str] = set()

    def submit(self, case: Case) -> Any:
        key = f"longdep-{case.name}-{uuid.uuid4().hex[:8]}"
        self._keys.add(key)
        return self.client.submit(
            compute_case, case.params, threads=self.threads, key=key, pure=False
        )

    def wait(self, futures: set[Any], timeout: float) -> set[Any]:
        try:
            with self.client.as_current():
                self._dist.wait(list(futures), timeout=timeout, return_when="FIRST_COMPLETED")
        except TimeoutError:
            pass
        return {f for f in futures if f.done()}

    def close(self, *, abort: bool = False) -> None:
        if abort:  # queued cases are dropped; a case already running finishes on its worker
            with contextlib.suppress(Exception):
                futures: list[Any] = [self._dist.Future(k, client=self.client) for k in self._keys]
                self.client.cancel(futures, force=True)
        self.client.close()


_BLAS_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def _cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


# -- progress ---------------------------------------------------------------------------------


# -- the sweep ---------------------------------------------------------------------------------


@dataclass
class SweepResult:
    """What a sweep did: cases written now, skipped as done, failed (name -> message)."""

    out: Path
    total: int
    computed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    #: Cases that failed in an earlier run and were not retried (name -> message).
    failed_before: dict[str, str] = field(default_factory=dict)
    #: Earlier failures run again (``retry_failed``).
    retried: list[str] = field(default_factory=list)


class _Stopped(KeyboardInterrupt):
    """SIGTERM (or SIGINT) asked the sweep to stop; ``signum`` tells which."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


@contextlib.contextmanager
def _stop_on_sigterm() -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        raise _Stopped(signum)

    old = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


@contextlib.contextmanager
def _folder_lock(folder: Path) -> Iterator[None]:
    """One sweep per output folder: an advisory lock on ``.longdep-sweep.lock``, released
    even on SIGKILL. The file is removed when the sweep ends; a sweep that locked a file
    another one has just removed opens the path again, so two sweeps never both hold it.
    The lock file is opened with ``O_NOFOLLOW``: a symlink there is refused."""
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks here
        yield
        return
    path = folder / _LOCK_NAME
    flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0)
    while True:
        try:
            fd = os.open(path, flags, 0o644)
        except OSError as e:
            why = e.strerror
            if e.errno == errno.ELOOP:
                why = "it is a symbolic link, which a sweep never follows; remove it"
            raise SweepError(f"cannot create the lock file {path}: {why}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise SweepError(f"another sweep is writing to {folder} (its lock is held)") from None
        try:
            same = os.stat(path, follow_symlinks=False).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)  # the previous holder removed this file: lock the new one
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)
        os.close(fd)


def run_sweep(
    config: SweepConfig | str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    resume: bool = False,
    retry_failed: bool = False,
    workers: int | None = None,
    scheduler: str | Any = None,
    executor: Executor | None = None,
    progress: bool = True,
    stream: IO[str] | None = None,
    interval: float = 10.0,
) -> SweepResult:
    """Run every case of a sweep that has no file in ``out`` yet.

    Parameters
    ----------
    config
        A :class:`SweepConfig` or the path of a TOML config.
    out
        The results folder: one ``<case>.parquet`` per case.
    resume
        Skip cases whose file exists (checked to hold the same parameters). Without it
        a folder that already holds cases of this sweep is refused. Cases that failed
        in an earlier run (recorded in ``failed.json``) are reported, not rerun.
    retry_failed
        With ``resume``: run the recorded failed cases again too.
    workers
        Local processes (default: one per core). Ignored with ``scheduler``.
    scheduler
        A Dask scheduler address (``tcp://host:8786``) or ``distributed.Client``-
        compatible cluster; runs the cases there.
    progress
        Show a bar on a terminal, a line every ``interval`` seconds otherwise;
        ``False`` prints only the plan and the end.

    Raises
    ------
    SweepError
        Folder in use or inconsistent with the config, or some cases failed (their
        files are not written; ``resume`` retries them).
    KeyboardInterrupt
        On Ctrl-C or SIGTERM, after cancelling the pending cases: every file in
        ``out`` is complete.
    """
    resume = require_bool("resume", resume)
    retry_failed = require_bool("retry_failed", retry_failed)
    progress = require_bool("progress", progress)
    cfg = config if isinstance(config, SweepConfig) else load_config(config)
    stream = stream if stream is not None else sys.stderr
    folder = Path(out)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:  # under a regular file, in /proc, read-only, no permission
        raise SweepError(
            f"cannot create the results folder {folder}: {e.strerror or e}"
            + (f" ({e.filename})" if e.filename and str(e.filename) != str(folder) else "")
        ) from None
    if not folder.is_dir():
        raise SweepError(f"cannot use {folder} as the results folder: it is not a folder")
    result = SweepResult(out=folder, total=len(cfg.cases))

    def say(msg: str) -> None:
        stream.write(msg + "\n")
        stream.flush()

    with _folder_lock(folder):
        for pattern in (_TMP_GLOB, _FAILED_TMP_GLOB):
            for stale in folder.glob(pattern):
                stale.unlink(missing_ok=True)
        before = _read_failures(folder) if resume else {}
        todo: list[Case] = []
        for case in cfg.cases:
            path = folder / case.filename
            if not path.exists():
                if case.name in before and not retry_failed:
                    result.failed_before[case.name] = before[case.name]
                    continue
                if case.name in before:
                    result.retried.append(case.name)
                todo.append(case)
                continue
            if not resume:
                raise SweepError(
                    f"{folder} already holds results of this sweep (e.g. {case.filename}); "
                    "pass --resume to continue it, or choose another --out folder"
                )
            try:
                meta = read_case(path)
            except Exception as e:  # only a file written by something else can be unreadable
                say(f"warning: {path.name} is unreadable ({e}); computing it again")
                path.unlink()
                todo.append(case)
                continue
            if not _same_params(meta.get("params", {}), case.params):
                raise SweepError(
                    f"{path} was computed with other parameters than this config gives for case "
                    f"{case.name} (for example a different length or setting); use a new --out folder"
                )
            result.skipped.append(case.name)
        for note in cfg.notes:
            say(f"note: {note}")
        if scheduler is None and executor is None:
            # A case too large for this machine fails before it runs (a cluster's
            # workers may have more memory: there the core's BudgetError decides).
            available = machine_memory()
            fits = []
            for case in todo:
                why = _too_big(case, available)
                if why is None:
                    fits.append(case)
                else:
                    result.failed[case.name] = why
                    say(f"case {case.name} not run: {why}")
            if result.failed:
                _keep_record(folder, result.failed, [])
            todo = fits
        if result.failed_before:
            lines = "\n  ".join(f"{k}: {v}" for k, v in result.failed_before.items())
            say(
                f"{len(result.failed_before)} cases failed in an earlier run and are not "
                f"rerun (pass --retry-failed to run them again):\n  {lines}"
            )
        if not todo and result.failed:
            _raise_failed(cfg, folder, result)
        if not todo:
            if result.failed_before:
                say(
                    f"{cfg.name}: {len(result.skipped)} of {len(cfg.cases)} cases done in "
                    f"{folder}, {len(result.failed_before)} failed earlier"
                )
            else:
                say(f"{cfg.name}: all {len(cfg.cases)} cases already done in {folder}")
            return result
        owned = executor is None
        if executor is None:
            if scheduler is not None:
                executor = DaskExecutor(scheduler)
            else:
                executor = LocalExecutor(min(workers or _cpu_count(), len(todo)))
        skipped = f" ({len(result.skipped)} already done)" if result.skipped else ""
        say(f"{cfg.name}: {len(todo)} cases to run{skipped} on {executor.description} -> {folder}")
        bar = Progress(
            len(cfg.cases),
            len(result.skipped),
            label=cfg.name,
            stream=stream,
            interval=interval,
            enabled=progress,
        )
        aborted = True
        try:
            with _stop_on_sigterm():
                _drive(executor, todo, folder, result, bar, say)
            aborted = False
        finally:
            bar.close()
            if owned:
                executor.close(abort=aborted)
            if aborted:
                for stale in folder.glob(_TMP_GLOB):
                    stale.unlink(missing_ok=True)
                done = len(result.skipped) + len(result.computed)
                say(
                    f"{cfg.name}: stopped; {done} of {len(cfg.cases)} cases are complete in {folder} (rerun with --resume)"
                )
    if result.failed:
        _raise_failed(cfg, folder, result)
    say(
        f"{cfg.name}: {len(result.computed)} cases written, {len(result.skipped)} skipped, in {folder}"
    )
    return result


def _raise_failed(cfg: SweepConfig, folder: Path, result: SweepResult) -> None:
    lines = "\n  ".join(f"{k}: {v}" for k, v in result.failed.items())
    raise SweepError(
        f"{len(result.failed)} of {len(cfg.cases)} cases failed (no file written; "
        f"recorded in {folder / FAILED}: --resume reports them, --resume --retry-failed "
        f"runs them again):\n  {lines}"
    )


@contextlib.contextmanager
def _writing(path: Path) -> Iterator[None]:
    """Turn a failed write of ``path`` during a run into a SweepError that says so."""
    try:
        yield
    except OSError as e:  # disk full, folder removed or made read-only mid-run
        raise SweepError(
            f"cannot write {path}: {e.strerror or e}; finished cases are saved, rerun with --resume"
        ) from None


def _keep_record(folder: Path, failed: Mapping[str, str], done: list[str]) -> None:
    with _writing(folder / FAILED):
        _record_failures(folder, failed, done)


def _drive(
    executor: Executor,
    todo: list[Case],
    folder: Path,
    result: SweepResult,
    bar: Progress,
    say: Callable[[str], None],
) -> None:
    """Keep at most ``max_in_flight`` cases submitted; write each result as it arrives."""
    pending = iter(todo)
    in_flight: dict[Any, Case] = {}
    limit = executor.max_in_flight or len(todo)
    exhausted = False
    while True:
        while not exhausted and len(in_flight) < limit:
            case = next(pending, None)
            if case is None:
                exhausted = True
                break
            try:
                in_flight[executor.submit(case)] = case
            except Exception as e:  # a broken pool or a lost scheduler: nothing more will run
                raise SweepError(
                    f"cannot hand case {case.name} to {executor.description}: {e}"
                ) from e
        if not in_flight:
            return
        done = executor.wait(set(in_flight), timeout=0.5)
        for fut in done:
            case = in_flight.pop(fut)
            try:
                res = fut.result()
            except Exception as e:
                if isinstance(e, WorkerDied):
                    why = f"its worker process died (killed, out of memory or crashed): {e}"
                else:
                    why = f"{type(e).__name__}: {e}"
                result.failed[case.name] = why
                _keep_record(folder, result.failed, [])
                say(("\n" if bar.tty else "") + f"case {case.name} failed: {why}")
                bar.update()
                continue
            with _writing(folder / case.filename):
                _write_case(folder, case, res)
            result.computed.append(case.name)
            if case.name in result.retried:
                _keep_record(folder, result.failed, [case.name])
            bar.update()
        if not done and bar.tty:
            bar.update(0)  # keep the rate and ETA moving


# -- collect ------------------------------------------------------------------------------------


def collect(out: str | os.PathLike[str], *, write: bool = True) -> Any:
    """One row per case (parameters, metrics, runtime) from a results folder.

    Reads only the files' footers. With ``write`` also saves ``summary.parquet`` and
    ``summary.csv`` in the folder (atomically). Returns a ``pandas.DataFrame`` sorted
    by case name.
    """
    import pandas as pd

    write = require_bool("write", write)
    folder = Path(out)
    if not folder.is_dir():
        raise SweepError(f"{folder} is not a folder of sweep results")
    rows = []
    params: dict[str, None] = {}
    metrics: dict[str, None] = {}
    for path in _case_files(folder):
        try:
            meta = read_case(path)
        except SweepError:
            raise
        except Exception as e:
            raise SweepError(f"{path} is not a readable Parquet file: {e}") from None
        params |= dict.fromkeys(meta["params"])
        metrics |= dict.fromkeys(meta["metrics"])
        row = {"case": meta["case"]} | meta["params"] | meta["metrics"]
        row |= {"elapsed_s": meta.get("elapsed_s"), "file": path.name}
        rows.append(row)
    if not rows:
        raise SweepError(f"{folder} holds no case files (*.parquet); run `longdep sweep` first")
    columns = ["case", *params, *metrics, "elapsed_s", "file"]
    df = pd.DataFrame(rows, columns=columns).sort_values("case", kind="stable")
    df = df.reset_index(drop=True)
    if write:
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.Table.from_pandas(df, preserve_index=False)
        write_atomic(folder / SUMMARY, lambda f: pq.write_table(table, f, compression="zstd"))
        csv = df.to_csv(index=False).encode()
        write_atomic(folder / "summary.csv", lambda f: f.write(csv))
    return df


def read_curves(out: str | os.PathLike[str]) -> Any:
    """Every case's downsampled curve in one long ``pandas.DataFrame`` (all columns)."""
    import pandas as pd
    import pyarrow.parquet as pq

    files = _case_files(Path(out))
    if not files:
        raise SweepError(f"{out} holds no case files (*.parquet); run `longdep sweep` first")
    return pd.concat([pq.read_table(p).to_pandas() for p in files], ignore_index=True)
