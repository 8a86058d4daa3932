"""``ld.load``: every recurrent layer of a checkpoint, as longdep models.

A source is a ``.safetensors`` file (read by the ``safetensors`` package), a ``.npz``
(read without pickle), a state dict of arrays or tensors, or a torch ``nn.Module``
(duck-typed: its ``state_dict()``). Found are:

* torch ``nn.RNN/LSTM/GRU`` of any ``num_layers`` under any prefix
  (``encoder.rnn.weight_ih_l0`` ...): a cell for one layer, an :class:`~longdep.Stack`
  for several, an :class:`~longdep.Bidirectional` with ``*_reverse`` names;
* ``nn.RNNCell/LSTMCell/GRUCell`` under any prefix (``decoder.cell.weight_ih``);
* the 2023-2025 kinds by their own parameter names (``minGRU``'s ``weight_ih`` and
  ``bias_ih`` ...), and mamba_ssm mixers (``layers.0.mixer.A_log`` ...).

>>> import numpy as np, longdep as ld
>>> rng = np.random.default_rng(0)
>>> sd = {f"enc.rnn.{n}_l{k}": rng.normal(size=s) for k in (0, 1) for n, s in
...       (("weight_ih", (12, 3 if k == 0 else 4)), ("weight_hh", (12, 4)))}
>>> ld.load(sd)
{'enc.rnn': Stack([GRU(3->4), GRU(4->4)])}
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .cells import GRU, LSTM, Elman, RecurrentCell, _tensor_to_numpy
from .errors import ArgumentError, LongdepError
from .stack import Bidirectional, Stack, _torch_layers

__all__ = ["MAX_FILE_BYTES", "load"]

#: The largest checkpoint file :func:`load` reads (8 GiB).
MAX_FILE_BYTES = 8 << 30

_LAYER = re.compile(
    r"^(?P<prefix>(?:.*\.)?)(?P<role>weight_ih|weight_hh|bias_ih|bias_hh|weight_hr)"
    r"_l(?P<layer>\d+)(?P<reverse>_reverse)?$"
)
_CELL = re.compile(r"^(?P<prefix>(?:.*\.)?)(?P<role>weight_ih|weight_hh|bias_ih|bias_hh)$")
_RATIO = {1: "rnn_tanh", 3: "gru", 4: "lstm"}
_CELL_CLASS: dict[str, type[RecurrentCell]] = {"rnn_tanh": Elman, "gru": GRU, "lstm": LSTM}

Model = RecurrentCell | Stack | Bidirectional


def _read_file(path: Path) -> dict[str, np.ndarray]:
    if not path.is_file():
        raise ArgumentError(f"source must be an existing checkpoint file; got {str(path)!r}")
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise ArgumentError(
            f"source {path.name!r} is {size} bytes, above the {MAX_FILE_BYTES}-byte limit"
        )
    suffix = path.suffix.lower()
    if suffix == ".safetensors":
        try:
            from safetensors.numpy import load_file
        except ImportError:  # pragma: no cover - a dependency of the package
            raise ArgumentError("reading .safetensors needs the safetensors package") from None
        try:
            return dict(load_file(str(path)))
        except Exception as e:  # the package raises its own SafetensorError
            raise ArgumentError(
                f"source {path.name!r} is not a valid .safetensors file ({type(e).__name__}: "
                f"{str(e)[:200]})"
            ) from None
    if suffix == ".npz":
        try:
            with np.load(path, allow_pickle=False) as z:
                return {k: np.asarray(z[k]) for k in z.files}
        except (zipfile.BadZipFile, ValueError, OSError, EOFError) as e:
            why = (
                "a member holds Python objects, which longdep does not unpickle"
                if "pickle" in str(e)
                else "it cannot be read as a zip of .npy arrays"
            )
            raise ArgumentError(
                f"source {path.name!r} is not a valid .npz (zip) archive of plain arrays: {why}"
            ) from None
    if suffix in (".pt", ".pth", ".bin", ".ckpt", ".pkl"):
        raise ArgumentError(
            f"source {path.name!r} is a pickle-based checkpoint, which longdep does not "
            "unpickle (it can run code); save it with safetensors.torch.save_file or as .npz"
        )
    raise ArgumentError(
        f"source must be a .safetensors or .npz file, a state dict or a module; got {path.name!r}"
    )


def _tensors(source: Any) -> tuple[dict[str, Any], set[str]]:
    """The named arrays of `source` and the prefixes of ReLU RNNs (from a module)."""
    relu: set[str] = set()
    if isinstance(source, (str, Path)):
        return _read_file(Path(source)), relu
    if isinstance(source, Mapping):
        bad = [k for k in source if not isinstance(k, str)]
        if bad:
            raise ArgumentError(f"state dict keys must be strings; got {bad[0]!r}")
        return dict(source), relu
    if callable(getattr(source, "state_dict", None)):
        named = getattr(source, "named_modules", None)
        if callable(named):
            for name, m in named():
                if getattr(m, "nonlinearity", None) == "relu":
                    relu.add(f"{name}." if name else "")
        return dict(source.state_dict()), relu
    raise ArgumentError(
        "source must be a path to a .safetensors/.npz file, a state dict or a torch module; "
        f"got {type(source).__name__}"
    )


def _kind(name: str, w_hh: np.ndarray) -> str:
    if w_hh.ndim != 2 or w_hh.shape[1] == 0 or w_hh.shape[0] % w_hh.shape[1]:
        raise ArgumentError(
            f"tensor {name!r} of shape {tuple(w_hh.shape)} is not a recurrent weight: torch's "
            "weight_hh is (G*H, H) with G = 1 (RNN), 3 (GRU) or 4 (LSTM)"
        )
    kind = _RATIO.get(w_hh.shape[0] // w_hh.shape[1])
    if kind is None:
        raise ArgumentError(
            f"tensor {name!r} of shape {tuple(w_hh.shape)} has {w_hh.shape[0] // w_hh.shape[1]} "
            "gate blocks; torch's RNN, GRU and LSTM have 1, 3 and 4"
        )
    return kind


def _build(what: str, make: Any) -> Any:
    try:
        return make()
    except LongdepError as e:
        raise type(e)(f"{what}: {e}") from None


def _torch_groups(
    tensors: dict[str, Any], relu: set[str], nonlinearity: str
) -> tuple[dict[str, Model], set[str]]:
    found: dict[str, Model] = {}
    used: set[str] = set()
    prefixes: dict[str, dict[str, Any]] = {}
    for key in tensors:
        m = _LAYER.match(key)
        if m:
            if m["role"] == "weight_hr":
                raise ArgumentError(f"tensor {key!r}: LSTMs with proj_size > 0 are not supported")
            prefixes.setdefault(m["prefix"], {})[key] = tensors[key]
    for prefix, group in sorted(prefixes.items()):
        w0 = f"{prefix}weight_hh_l0"
        if w0 not in group:
            raise ArgumentError(
                f"tensor {next(iter(group))!r} has no '{w0}': not a complete torch RNN layer"
            )
        kind = _kind(w0, _tensor_to_numpy(group[w0]))
        if kind == "rnn_tanh" and (prefix in relu or nonlinearity == "relu"):
            kind = "rnn_relu"
        name = prefix.rstrip(".") or "rnn"
        fwd = _build(name, lambda g=group, k=kind, p=prefix: _torch_layers(g, k, p, False, None))
        if f"{prefix}weight_hh_l0_reverse" in group:
            bwd = _build(name, lambda g=group, k=kind, p=prefix: _torch_layers(g, k, p, True, None))
            model: Model = _build(
                name, lambda f=fwd, b=bwd: Bidirectional.layered(list(zip(f, b, strict=False)))
            )
            if len(fwd) != len(bwd):
                raise ArgumentError(f"{name}: {len(fwd)} forward and {len(bwd)} reverse layers")
        elif len(fwd) == 1:
            model = fwd[0]
        else:
            model = _build(name, lambda f=fwd: Stack(f))
        found[name] = model
        used |= set(group)
    return found, used


def _cell_groups(
    tensors: dict[str, Any], used: set[str], relu: set[str], nonlinearity: str
) -> tuple[dict[str, Model], set[str]]:
    """torch ``*Cell`` modules: exactly weight_ih, weight_hh (and biases) under a prefix."""
    found: dict[str, Model] = {}
    groups: dict[str, dict[str, str]] = {}
    for key in tensors:
        m = _CELL.match(key)
        if m and key not in used:
            groups.setdefault(m["prefix"], {})[m["role"]] = key
    taken: set[str] = set()
    for prefix, roles in sorted(groups.items()):
        if "weight_hh" not in roles or "weight_ih" not in roles:
            continue
        others = [k for k in tensors if k.startswith(prefix) and "." not in k[len(prefix) :]]
        if set(others) != set(roles.values()):
            continue  # more arrays under the prefix: a kind of its own (the sLSTM ...)
        kind = _kind(roles["weight_hh"], _tensor_to_numpy(tensors[roles["weight_hh"]]))
        klass = _CELL_CLASS[kind]
        kwargs = {}
        if kind == "rnn_tanh":
            kwargs["nonlinearity"] = "relu" if prefix in relu or nonlinearity == "relu" else "tanh"
        name = prefix.rstrip(".") or "cell"
        state = {r: tensors[k] for r, k in roles.items()}
        found[name] = _build(name, lambda s=state, c=klass, kw=kwargs: c.from_state_dict(s, **kw))
        taken |= set(roles.values())
    return found, taken


def _named_groups(tensors: dict[str, Any], used: set[str], kind: str | None) -> dict[str, Model]:
    """The 2023-2025 kinds by their own names, and mamba_ssm mixers."""
    from . import kinds as catalogue

    found: dict[str, Model] = {}
    modern = catalogue.modern()
    free = {k: v for k, v in tensors.items() if k not in used}
    # mamba_ssm mixers under any prefix
    ssm = modern.get("ssm")
    if ssm is not None:
        # A_log marks a mamba_ssm mixer (found by it, so that one lacking another tensor
        # is reported, not skipped).
        tail = ssm.MAMBA_NAMES["A_log"]
        for key in sorted(free):
            if not (key == tail or key.endswith("." + tail)):
                continue
            prefix = key[: -len(tail)]
            names = {p: prefix + n for p, n in ssm.MAMBA_NAMES.items()}
            missing = sorted(n for n in names.values() if n not in free)
            if missing:
                raise ArgumentError(
                    f"the mamba_ssm mixer {prefix.rstrip('.') or 'mixer'!r} lacks "
                    f"{', '.join(missing)} (it needs {', '.join(sorted(names.values()))})"
                )
            name = prefix.rstrip(".") or "mixer"
            arrays = {p: _tensor_to_numpy(free[n]) for p, n in names.items()}
            found[name] = _build(name, lambda a=arrays: ssm(**a))
            used |= set(names.values())
    # the other kinds: groups of `{prefix}{param}` or `{prefix}{param}_l{k}`
    groups: dict[str, dict[str, str]] = {}
    pattern = re.compile(r"^(?P<prefix>(?:.*\.)?)(?P<role>[A-Za-z_]+?)(?P<layer>_l\d+)?$")
    for key in free:
        if key in used:
            continue
        m = pattern.match(key)
        if m:
            groups.setdefault(m["prefix"] + (m["layer"] or ""), {})[m["role"]] = key
    for where, roles in sorted(groups.items()):
        candidates = []
        for k, cls in modern.items():
            if k == "ssm" or (kind is not None and k != kind):
                continue
            required = {n for n, (_, req) in cls.PARAMS.items() if req}
            if required <= set(roles) <= set(cls.PARAMS):
                arrays = {r: _tensor_to_numpy(tensors[key]) for r, key in roles.items()}
                try:
                    candidates.append((k, cls(**arrays)))
                except LongdepError:
                    continue
        if len(candidates) > 1:
            raise ArgumentError(
                f"the arrays {sorted(roles.values())} fit several kinds "
                f"({', '.join(k for k, _ in candidates)}); pass kind=... to choose"
            )
        if candidates:
            found[where.strip(".").replace("._l", "_l") or candidates[0][0]] = candidates[0][1]
    return found


def load(
    source: Any,
    *,
    prefix: str | None = None,
    nonlinearity: str = "tanh",
    kind: str | None = None,
) -> dict[str, Model]:
    """Every recurrent layer in ``source``, by name (its prefix without the trailing dot).

    Parameters
    ----------
    source
        A path to a ``.safetensors`` or ``.npz`` file, a state dict (arrays or tensors),
        or a torch module (duck-typed: ``state_dict()``; ReLU RNNs are recognised from
        its modules).
    prefix
        Only names starting with it (e.g. ``"encoder."``).
    nonlinearity
        For plain RNN weights from a file or state dict (they do not say): ``"tanh"`` or
        ``"relu"``.
    kind
        For arrays that fit several 2023-2025 kinds (a minGRU's and a minLSTM's names
        are the same), the kind they are (``"mingru"``, ``"minlstm"`` ...).

    Returns
    -------
    dict
        ``{name: cell | Stack | Bidirectional}``; ArgumentError naming the tensors when
        there is no recurrent layer, or when one cannot be mapped.
    """
    if nonlinearity not in ("tanh", "relu"):
        raise ArgumentError(f"nonlinearity must be 'tanh' or 'relu'; got {nonlinearity!r}")
    tensors, relu = _tensors(source)
    if prefix is not None:
        if not isinstance(prefix, str):
            raise ArgumentError(f"prefix must be a string; got {type(prefix).__name__}")
        tensors = {k: v for k, v in tensors.items() if k.startswith(prefix)}
    found, used = _torch_groups(tensors, relu, nonlinearity)
    cells, taken = _cell_groups(tensors, used, relu, nonlinearity)
    found.update(cells)
    found.update(_named_groups(tensors, used | taken, kind))
    if not found:
        shown = ", ".join(sorted(tensors)[:12]) or "nothing"
        more = f", ... ({len(tensors)} in all)" if len(tensors) > 12 else ""
        raise ArgumentError(
            f"source holds no recurrent layer longdep can read (torch RNN/LSTM/GRU or their "
            f"*Cell, the 2023-2025 kinds, mamba_ssm mixers); its tensors: {shown}{more}"
        )
    return found
