"""Stacked recurrent networks: layer ``l + 1`` reads layer ``l``'s output.

A :class:`Stack` holds any catalogue cells whose sizes chain (``input_size`` of each
layer is the ``hidden_size`` of the one below). Its passes run in time chunks whose
length follows ``memory_budget``: a forward pass keeps each layer's state at the start
of every chunk; the reverse pass then goes through the chunks from the last one,
recomputes a chunk's layer inputs, and runs each layer's exact reverse pass from the top
down. A layer's loss weights at step ``t`` are the adjoint ``dL/dx_t`` of the layer
above's input, and the adjoint of its last state enters from the chunk after it, both
carried as normalised vectors with natural-log scales, so nothing under- or overflows
float64 at any length. Memory is ``O(chunk x B x sum of sizes + T / chunk x B x sum of
state sizes)``.

>>> import numpy as np, longdep as ld
>>> lin = ld.Elman(np.ones((1, 1)), 0.5 * np.eye(1), nonlinearity="linear")
>>> net = ld.Stack([lin, lin])
>>> net.forward(np.ones((3, 1))).ravel().tolist()
[1.0, 2.0, 2.75]
>>> net.grad_norms(np.zeros((3, 1)), np.ones(1)).round(12).tolist()
[[0.75, 0.25], [1.0, 0.5], [1.0, 1.0]]
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import _core
from ._validate import as_float_array, choice, require_bool, shape_str
from .cells import GRU, LSTM, Elman, RecurrentCell
from .core import (
    DEFAULT_MEMORY_BUDGET,
    _exp_inplace,
    _initial_state,
    _memory_budget,
    _prepare_x,
    _rows,
    _threads,
)
from .errors import ArgumentError, NumericsError, ShapeError

__all__ = ["Bidirectional", "Stack", "StackVJP"]

#: torch's ``mode`` names of the classic stacks and the catalogue class of each.
TORCH_CELLS: dict[str, tuple[type[RecurrentCell], dict[str, Any]]] = {
    "lstm": (LSTM, {}),
    "gru": (GRU, {}),
    "rnn_tanh": (Elman, {"nonlinearity": "tanh"}),
    "rnn_relu": (Elman, {"nonlinearity": "relu"}),
}


def _into(out: np.ndarray | None, result: np.ndarray) -> np.ndarray:
    """`result`, or copied into the caller's `out` (float64 of its shape)."""
    if out is None:
        return result
    if not isinstance(out, np.ndarray) or out.dtype != np.float64 or out.shape != result.shape:
        raise ShapeError(
            f"out must be a float64 array of shape {shape_str(result.shape)}; got "
            + (
                f"{out.dtype} array of shape {shape_str(out.shape)}"
                if isinstance(out, np.ndarray)
                else type(out).__name__
            )
        )
    out[...] = result
    return out


def _adjoint_dim(cell: RecurrentCell) -> int:
    """The length of the part of ``dL/ds_t`` reported as ``dL/dh_t``: H, or the
    selective SSM's whole (D, N) state."""
    if len(cell.state_parts) == 1 and len(cell.state_shape) > 1:
        return cell.state_size
    return cell.hidden_size


def _log_norms(a: np.ndarray, scales: np.ndarray) -> np.ndarray:
    """ln ||a[t, b]|| + scales[t, b] for normalised rows (-inf where a row is 0)."""
    with np.errstate(divide="ignore"):
        n = 0.5 * np.log(np.einsum("tbk,tbk->tb", a, a))
    n += scales
    n[np.isneginf(n) | np.isnan(n)] = -np.inf
    return n


def _unscale(a: np.ndarray, scales: np.ndarray, what: str, t0: int) -> np.ndarray:
    """``a exp(scales)`` in float64 (0 where that underflows; an error naming the
    step where it overflows)."""
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        f = np.exp(scales)
        r = a * f[..., None]
    bad = ~np.isfinite(r).all(axis=-1)
    if bad.any():
        t, b = np.argwhere(bad)[0]
        raise NumericsError(
            f"{what} at step {t0 + int(t)} (lane {int(b)}) exceeds the float64 range (its "
            f"norm is e^{float(scales[t, b]):.1f}); use grad_norms with log=True for its size"
        )
    return r


def _torch_layers(
    state: Mapping[str, Any], cell: str, prefix: str, reverse: bool, num_layers: int | None
) -> list[RecurrentCell]:
    """The cells of torch's ``{prefix}weight_ih_l{k}[_reverse]`` ... names."""
    kind = choice("cell", cell, tuple(TORCH_CELLS))
    reverse = require_bool("reverse", reverse)
    if not isinstance(state, Mapping):
        raise ArgumentError(
            f"state must be a mapping of names to arrays; got {type(state).__name__}"
        )
    if not isinstance(prefix, str):
        raise ArgumentError(f"prefix must be a string; got {type(prefix).__name__}")
    klass, kwargs = TORCH_CELLS[kind]
    tail = "_reverse" if reverse else ""
    if num_layers is None:
        n = 0
        while f"{prefix}weight_hh_l{n}{tail}" in state:
            n += 1
    else:
        n = operator.index(num_layers)
    if n < 1:
        have = ", ".join(sorted(map(str, state))[:12]) or "nothing"
        raise ArgumentError(
            f"state must contain '{prefix}weight_hh_l0{tail}' for a {kind} stack; has {have}"
        )
    proj = [k for k in state if str(k).startswith(f"{prefix}weight_hr_l")]
    if proj:
        raise ArgumentError(
            f"LSTM with proj_size > 0 is not supported: the state holds '{proj[0]}'"
        )
    layers = []
    for k in range(n):
        sub = {}
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            key = f"{prefix}{name}_l{k}{tail}"
            if key in state:
                sub[f"{name}_l{k}"] = state[key]
            elif name.startswith("weight"):
                raise ArgumentError(f"state must contain '{key}' for layer {k} of the stack")
        layers.append(klass.from_state_dict(sub, layer=k, **kwargs))
    return layers


def _torch_mode(module: Any) -> str:
    """torch's mode name of an ``nn.RNN/LSTM/GRU`` (duck-typed)."""
    if getattr(module, "proj_size", 0):
        raise ArgumentError(
            f"LSTM with proj_size > 0 is not supported; got proj_size={module.proj_size}"
        )
    mode = str(getattr(module, "mode", "")).lower()
    if mode in TORCH_CELLS:
        return mode
    name = type(module).__name__.lower()
    kind = {"lstm": "lstm", "gru": "gru", "rnn": "rnn_tanh"}.get(name, "")
    if kind == "rnn_tanh" and getattr(module, "nonlinearity", "tanh") == "relu":
        kind = "rnn_relu"
    if not kind:
        raise ArgumentError(
            f"module must be a torch.nn.RNN, LSTM or GRU; got {type(module).__name__}"
        )
    return kind


def _module_state(module: Any, n: int, reverse: bool) -> dict[str, Any]:
    """The ``*_l{k}`` (and with ``reverse`` also ``*_l{k}_reverse``) parameters of a module."""
    state: dict[str, Any] = {}
    for k in range(n):
        for tail in ("", "_reverse") if reverse else ("",):
            for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                key = f"{name}_l{k}{tail}"
                value = getattr(module, key, None)
                if value is not None:
                    state[key] = value
    return state


class Stack:
    """Recurrent cells stacked in depth: ``x -> cell_0 -> cell_1 -> ... -> y``.

    Parameters
    ----------
    cells
        Two or more (or one) catalogue cells (``ld.Elman``, ``ld.LSTM``, ``ld.GRU``,
        ``ld.LRU``, ``ld.MinGRU``, ... , ``ld.SelectiveSSM``); layer ``l + 1``'s
        ``input_size`` must equal layer ``l``'s ``hidden_size``.

    The initial state ``h0`` of every pass is ``None`` (zeros), a list with one entry per
    layer (each what that layer takes, ``None`` for zeros), or torch's layout for a stack
    of one kind: an array ``(L, B, H)`` / ``(L, H)``, a tuple ``(h0, c0)`` of them for LSTMs.
    """

    def __init__(self, cells: Sequence[RecurrentCell]) -> None:
        if isinstance(cells, RecurrentCell) or not isinstance(cells, Sequence):
            raise ArgumentError(
                f"cells must be a list of longdep recurrent cells; got {type(cells).__name__}"
            )
        layers = tuple(cells)
        if not layers:
            raise ArgumentError("cells must hold at least one recurrent cell; got an empty list")
        for k, c in enumerate(layers):
            if not isinstance(c, RecurrentCell):
                raise ArgumentError(
                    f"cells[{k}] must be a longdep recurrent cell (ld.Elman, ld.LSTM, ...); "
                    f"got {type(c).__name__}"
                )
        for k in range(1, len(layers)):
            below, here = layers[k - 1], layers[k]
            if here.input_size != below.hidden_size:
                raise ShapeError(
                    f"cells[{k}] ({type(here).__name__}) must have input_size "
                    f"{below.hidden_size} to read the output of cells[{k - 1}] "
                    f"({type(below).__name__}, hidden_size {below.hidden_size}); got "
                    f"input_size {here.input_size}"
                )
        self.layers: tuple[RecurrentCell, ...] = layers

    # -- sizes -----------------------------------------------------------------------

    @property
    def num_layers(self) -> int:
        """L, the number of layers."""
        return len(self.layers)

    @property
    def input_size(self) -> int:
        """I, the size of one input vector (the bottom layer's)."""
        return self.layers[0].input_size

    @property
    def hidden_size(self) -> int:
        """The size of the output (the top layer's ``hidden_size``)."""
        return self.layers[-1].hidden_size

    @property
    def hidden_sizes(self) -> tuple[int, ...]:
        """Every layer's ``hidden_size``, bottom first."""
        return tuple(c.hidden_size for c in self.layers)

    def __len__(self) -> int:
        return len(self.layers)

    def __getitem__(self, k: int) -> RecurrentCell:
        return self.layers[k]

    def __iter__(self) -> Iterator[RecurrentCell]:
        return iter(self.layers)

    def __repr__(self) -> str:
        inner = ", ".join(
            f"{type(c).__name__}({c.input_size}->{c.hidden_size})" for c in self.layers
        )
        return f"Stack([{inner}])"

    # -- loading -----------------------------------------------------------------------

    @classmethod
    def from_state_dict(
        cls,
        state: Mapping[str, Any],
        cell: str = "lstm",
        *,
        prefix: str = "",
        reverse: bool = False,
        num_layers: int | None = None,
    ) -> Stack:
        """A stack from torch's ``nn.RNN/LSTM/GRU`` names ``{prefix}weight_ih_l{k}``, ...

        ``cell`` is torch's mode: ``"lstm"``, ``"gru"``, ``"rnn_tanh"`` or ``"rnn_relu"``;
        ``reverse=True`` reads the ``*_reverse`` direction of a bidirectional module.
        Layers are counted from the names unless ``num_layers`` is given.
        """
        return cls(_torch_layers(state, cell, prefix, reverse, num_layers))

    @classmethod
    def from_torch(cls, module: Any, *, reverse: bool = False) -> Stack:
        """Copy a ``torch.nn.RNN/LSTM/GRU`` of any ``num_layers`` (duck-typed; torch is not
        imported). A bidirectional module gives its forward direction, or with
        ``reverse=True`` its backward one (see :class:`longdep.Bidirectional`)."""
        kind = _torch_mode(module)
        n = int(getattr(module, "num_layers", 1))
        if getattr(module, "bidirectional", False) and n > 1:
            raise ArgumentError(
                "a bidirectional module with num_layers > 1 feeds each layer both directions "
                "of the one below: load it with ld.Bidirectional.from_torch"
            )
        if reverse and not getattr(module, "bidirectional", False):
            raise ArgumentError("reverse=True needs a bidirectional module")
        state = _module_state(module, n, reverse)
        return cls.from_state_dict(state, kind, reverse=reverse, num_layers=n)

    # -- inputs ------------------------------------------------------------------------

    def _states(self, h0: Any, batch: int, dtype: np.dtype, two_d: bool) -> list[np.ndarray]:
        """Each layer's flat initial state (B, S_l)."""
        n = self.num_layers
        if h0 is None:
            return [_initial_state(c, None, batch, dtype, two_d) for c in self.layers]
        if isinstance(h0, list):
            if len(h0) != n:
                raise ArgumentError(
                    f"h0 must be a list of {n} initial states (one per layer); got {len(h0)}"
                )
            return [
                _initial_state(c, h, batch, dtype, two_d)
                for c, h in zip(self.layers, h0, strict=True)
            ]
        kinds = {type(c) for c in self.layers}
        first = self.layers[0]
        if len(kinds) != 1 or len(first.state_shape) != 1:
            raise ArgumentError(
                "h0 must be a list with one initial state per layer for this stack "
                "(torch's (L, B, H) layout needs layers of one kind)"
            )
        if len(set(self.hidden_sizes)) != 1:
            raise ArgumentError(
                f"h0 must be a list with one initial state per layer for this stack: its "
                f"layers' hidden sizes {self.hidden_sizes} differ, so torch's (L, B, H) "
                f"layout cannot hold them"
            )
        parts = first.state_parts
        blocks = h0 if isinstance(h0, tuple) else (h0,)
        if len(blocks) != len(parts):
            raise ArgumentError(
                f"h0 must be a tuple of {len(parts)} arrays {tuple(p + '0' for p in parts)} "
                f"of shape (L, B, H) for this stack; got {len(blocks)}"
            )
        arrs = [np.asarray(a) for a in blocks]
        for k, a in enumerate(arrs):
            if a.ndim == 0 or a.shape[0] != n:
                raise ShapeError(
                    f"h0{'' if len(arrs) == 1 else f'[{k}]'} must have {n} layers on its first "
                    f"axis (torch's (L, B, H)); got shape {shape_str(a.shape)}"
                )
        out = []
        for layer, c in enumerate(self.layers):
            per = tuple(a[layer] for a in arrs)
            out.append(_initial_state(c, per if len(per) > 1 else per[0], batch, dtype, two_d))
        return out

    def _perturbations(
        self, what: str, u: Any, batch: int, dtype: np.dtype, two_d: bool
    ) -> list[np.ndarray]:
        """Each layer's initial-state perturbation ``(B, S_l)`` (new arrays) from ``u``:
        one entry per layer (None: none), or one array for the bottom layer. ``what``
        names the pass, which needs every layer below the top to output its state."""
        mapped = [k for k, c in enumerate(self.layers[:-1]) if getattr(c, "output_map", False)]
        if mapped:
            raise ArgumentError(
                f"{what} through a stack needs every layer below the top to output its "
                f"state; layer {mapped[0]} ({type(self.layers[mapped[0]]).__name__}) has an "
                f"output map"
            )
        n = self.num_layers
        if not isinstance(u, list):
            u = [u] + [None] * (n - 1)
        if len(u) != n:
            raise ArgumentError(
                f"u must be a list of {n} perturbations (one per layer, None for none); "
                f"got {len(u)}"
            )
        return [
            np.zeros((batch, c.state_size), dtype)
            if ul is None
            else np.array(
                _rows(
                    f"u[{k}]", ul, batch, c.state_size, dtype, two_d, "initial-state perturbation"
                )
            )
            for k, (c, ul) in enumerate(zip(self.layers, u, strict=True))
        ]

    def _chunk(self, steps: int, batch: int, memory_budget: int, reverse: bool) -> int:
        """Steps per chunk so the chunk's arrays take about half the budget."""
        per = 0
        for c in self.layers:
            per += c.input_size + c.state_size + c.hidden_size
            if reverse:
                per += c.state_size + c.input_size + c.hidden_size + 1
        per *= 8 * batch
        return int(max(64, min(steps, (memory_budget // 2) // max(per, 1))))

    @staticmethod
    def _run(
        cell: RecurrentCell,
        x: np.ndarray,
        s0: np.ndarray,
        dtype: np.dtype,
        threads: int | None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """One layer over a chunk: its outputs (K, B, H) and its last state (B, S)."""
        spec = cell.spec(dtype)
        full = _core.forward(spec, x, s0, threads, True)
        last = np.ascontiguousarray(full[-1])
        if getattr(cell, "output_map", False):
            y = _core.forward(spec, x, s0, threads, False)
        else:
            y = np.ascontiguousarray(full[..., : cell.hidden_size])
        return y, last

    # -- forward -----------------------------------------------------------------------

    def forward(
        self,
        x: Any,
        h0: Any = None,
        *,
        threads: int | None = None,
        return_all: bool = False,
        memory_budget: int = DEFAULT_MEMORY_BUDGET,
    ) -> Any:
        """The top layer's outputs ``(T, B, H_top)`` (``(T, H_top)`` for 2-D x), or with
        ``return_all=True`` a list of every layer's outputs, bottom first."""
        return_all = require_bool("return_all", return_all)
        budget = _memory_budget(memory_budget)
        n_threads = _threads(threads)
        arr, dtype, two_d = _prepare_x(self.layers[0], x)
        t, b, _ = arr.shape
        states = self._states(h0, b, dtype, two_d)
        keep = range(self.num_layers) if return_all else (self.num_layers - 1,)
        outs = {k: np.empty((t, b, self.layers[k].hidden_size), dtype) for k in keep}
        k_len = self._chunk(t, b, budget, False)
        for a in range(0, t, k_len):
            xin = arr[a : a + k_len]
            for layer, cell in enumerate(self.layers):
                xin, states[layer] = self._run(cell, xin, states[layer], dtype, n_threads)
                if layer in outs:
                    outs[layer][a : a + k_len] = xin
        res = [o[:, 0] if two_d else o for o in outs.values()]
        return res if return_all else res[0]

    # -- reverse -----------------------------------------------------------------------

    def _reverse(
        self,
        x: Any,
        v: Any,
        h0: Any,
        *,
        memory_budget: Any,
        threads: Any,
        inputs: bool,
        memory: bool,
        sink: Callable[[int, int, int, dict[str, np.ndarray]], None],
    ) -> tuple[list[np.ndarray], list[np.ndarray], bool]:
        """The exact reverse pass of ``L`` (``v`` on the top layer's last output or at
        every step), chunk by chunk from the end, each layer from the top; calls
        ``sink(layer, t0, t1, arrays)`` for steps ``t0..t1`` with the normalised
        ``"state"`` adjoints ``(k, B, S_l)``, their ``"scales"`` ``(k, B)``, and
        ``"x"`` (``dL/dx`` of the layer's input, with ``inputs`` for layer 0) and
        ``"cell"`` (with ``memory``). Returns ``dL/dh0`` per layer (normalised, scales)
        and whether x was 2-D."""
        budget = _memory_budget(memory_budget)
        n_threads = _threads(threads)
        top = self.layers[-1]
        arr, dtype, two_d = _prepare_x(self.layers[0], x)
        t, b, _ = arr.shape
        states = self._states(h0, b, dtype, two_d)
        from .products import loss_weights

        vv, every = loss_weights(top, v, t, b, dtype, two_d)
        k_len = self._chunk(t, b, budget, True)
        starts = list(range(0, t, k_len))
        ckpt: list[list[np.ndarray]] = []
        # The layers' inputs of every chunk are kept when they fit in a quarter of the
        # budget, else recomputed from the checkpoints chunk by chunk.
        per_step = b * dtype.itemsize * sum(c.input_size for c in self.layers[1:])
        store = per_step * t <= budget // 4
        kept: list[list[np.ndarray]] = []
        for a in starts:
            ckpt.append([s.copy() for s in states])
            xin = arr[a : a + k_len]
            ins = [xin]
            for layer, cell in enumerate(self.layers):
                xin, states[layer] = self._run(cell, xin, states[layer], dtype, n_threads)
                ins.append(xin)
            if store:
                kept.append(ins[:-1])
        n = self.num_layers
        seeds: list[tuple[np.ndarray, np.ndarray] | None] = [None] * n
        for ci in reversed(range(len(starts))):
            a = starts[ci]
            e = min(a + k_len, t)
            k = e - a
            if store:
                xs = kept[ci]
            else:
                xs = [arr[a:e]]
                for layer in range(n - 1):
                    cell = self.layers[layer]
                    xs.append(self._run(cell, xs[-1], ckpt[ci][layer], dtype, n_threads)[0])
            below: tuple[np.ndarray, np.ndarray] | None = None
            for layer in reversed(range(n)):
                cell = self.layers[layer]
                s = cell.state_size
                v_scale = None
                if layer == n - 1:
                    if every:
                        lv, ev = np.ascontiguousarray(vv[a:e]), True
                    elif e == t:
                        lv, ev = vv, False
                    else:
                        lv, ev = np.zeros((k, b, cell.hidden_size), dtype), True
                else:
                    assert below is not None
                    lv = below[0].astype(dtype)
                    v_scale, ev = below[1], True
                want_x = layer > 0 or inputs
                arrays = {
                    "state": np.empty((k, b, s)),
                    "scales": np.empty((k, b)),
                }
                xa = np.empty((k, b, cell.input_size)) if want_x else None
                ca = np.empty((k, b, cell.hidden_size)) if memory and cell.memory_cell else None
                initial, iscale = np.empty((b, s)), np.empty(b)
                seed = seeds[layer]
                _core.adjoints(
                    cell.spec(dtype),
                    xs[layer],
                    ckpt[ci][layer],
                    lv,
                    ev,
                    None,
                    budget // 2,
                    n_threads,
                    arrays["state"],
                    initial,
                    xa,
                    ca,
                    v_scale=v_scale,
                    seed=None if seed is None else seed[0],
                    seed_scale=None if seed is None else seed[1],
                    scales=arrays["scales"],
                    initial_scale=iscale,
                )
                seeds[layer] = (initial, iscale)
                if xa is not None:
                    arrays["x"] = xa
                if ca is not None:
                    arrays["cell"] = ca
                sink(layer, a, e, arrays)
                if layer > 0:
                    assert xa is not None
                    below = (xa, arrays["scales"])
        g0 = [sd[0] for sd in seeds if sd is not None]
        l0 = [sd[1] for sd in seeds if sd is not None]
        return g0, l0, two_d

    def grad_norms(
        self,
        x: Any,
        v: Any,
        h0: Any = None,
        *,
        wrt: str = "state",
        log: bool = False,
        memory_budget: int = DEFAULT_MEMORY_BUDGET,
        threads: int | None = None,
        out: np.ndarray | None = None,
    ) -> np.ndarray:
        """The depth x time decay map: ``(T, B, L)`` (``(T, L)`` for 2-D x) of
        ``||dL/dh^l_t||``, the total derivative of ``L = v . y^top_{T-1}`` (or, with ``v``
        at every step, ``L = sum_t v_t . y^top_t``) with respect to layer ``l``'s output,
        through every path (its own recurrence and every layer above).

        ``wrt="cell"`` (LSTM stacks) gives each layer's total ``||dL/dc^l_t||``;
        ``wrt="input"`` gives ``||dL/dx_t||`` of the stack's input, ``(T, B)``. ``log``,
        ``memory_budget``, ``threads`` and ``out`` as for :func:`longdep.grad_norms`.
        """
        wrt = choice("wrt", wrt, ("state", "input", "cell"))
        log = require_bool("log", log)
        if wrt == "cell":
            bad = [k for k, c in enumerate(self.layers) if not c.memory_cell]
            if bad:
                raise ArgumentError(
                    f"wrt='cell' needs every layer to have a memory cell (LSTM); layer "
                    f"{bad[0]} is {type(self.layers[bad[0]]).__name__}"
                )
        arr, _, two_d = _prepare_x(self.layers[0], x)
        t, b, _ = arr.shape
        n = self.num_layers
        want: tuple[int, ...] = (t, b) if wrt == "input" else (t, b, n)
        res = np.empty(want)

        def sink(layer: int, a: int, e: int, arrays: dict[str, np.ndarray]) -> None:
            sc = arrays["scales"]
            if wrt == "input":
                if layer == 0:
                    res[a:e] = _log_norms(arrays["x"], sc)
                return
            key = "cell" if wrt == "cell" else "state"
            part = arrays[key]
            if key == "state":
                part = part[..., : _adjoint_dim(self.layers[layer])]
            res[a:e, :, layer] = _log_norms(part, sc)

        self._reverse(
            x,
            v,
            h0,
            memory_budget=memory_budget,
            threads=threads,
            inputs=wrt == "input",
            memory=wrt == "cell",
            sink=sink,
        )
        if not log:
            _exp_inplace(res)
        return _into(out, res[:, 0] if two_d else res)

    def sensitivity(
        self,
        x: Any,
        u: Any,
        h0: Any = None,
        *,
        log: bool = False,
        part: str = "state",
        threads: int | None = None,
        memory_budget: int = DEFAULT_MEMORY_BUDGET,
        out: np.ndarray | None = None,
    ) -> np.ndarray:
        """Forward mode through the stack: ``(T, B, L)`` (``(T, L)`` for 2-D x) of
        ``||u^l_t||``, the tangent of layer ``l``'s state after step ``t`` carried from a
        perturbation ``u`` of the initial states. Layer ``l+1`` receives layer ``l``'s
        output tangent as an input tangent at every step (``ld.jvp(..., dx=)``).

        ``u`` is a list with one entry per layer, each ``(S_l,)``, ``(B, S_l)`` or
        ``None`` (no perturbation of that layer); a single array perturbs the bottom
        layer only. ``part="hidden"`` reports the outputs' part of each state (LSTM:
        ``h`` without ``c``). Every tangent is carried as a direction and a log-size, so
        the norms stay exact far below the smallest float, and the pass runs in chunks
        of steps (memory ``O(chunk * B * sum S_l)`` whatever T is; ``memory_budget``
        sets the chunk). Layers below the top must output their hidden state (no output
        map). ``ld.sensitivity(stack, ...)`` calls this; ``out`` as for it.
        """
        log = require_bool("log", log)
        part = choice("part", part, ("state", "hidden"))
        budget = _memory_budget(memory_budget)
        n_threads = _threads(threads)
        arr, dtype, two_d = _prepare_x(self.layers[0], x)
        t, b, _ = arr.shape
        n = self.num_layers
        states = self._states(h0, b, dtype, two_d)
        tans = self._perturbations("sensitivity", u, b, np.dtype(np.float64), two_d)
        # Each layer's tangent is carried as a direction (unit norm, or 0) and a log-size
        # per lane: the core writes them so, and takes the layer below's the same way.
        offset = []
        for tan in tans:
            size = np.linalg.norm(tan, axis=1)
            live = size > 0
            tan[live] /= size[live, None]
            with np.errstate(divide="ignore"):
                offset.append(np.log(size))
        res = np.empty((t, b, n))
        k_len = self._chunk(t, b, budget, False)
        for a in range(0, t, k_len):
            xin = arr[a : a + k_len]
            below: tuple[np.ndarray, np.ndarray] | None = None
            for layer, cell in enumerate(self.layers):
                k = xin.shape[0]
                tan_out = np.empty((k, b, cell.state_size))
                scales = np.empty((k, b))
                base = np.where(np.isfinite(offset[layer]), offset[layer], 0.0)
                u_l = np.ascontiguousarray(tans[layer], dtype)
                if below is None:
                    dxx, dsc = np.empty(0, dtype), None
                else:
                    dxx = np.ascontiguousarray(below[0], dtype)
                    dsc = np.ascontiguousarray(below[1] - base)
                spec = cell.spec(dtype)
                _core.tangents(spec, xin, states[layer], u_l, dxx, None, tan_out, dsc, scales)
                scales += base
                keep = cell.hidden_size if part == "hidden" else cell.state_size
                with np.errstate(divide="ignore"):
                    sizes = np.log(np.linalg.norm(tan_out[..., :keep], axis=-1))
                res[a : a + k, :, layer] = sizes + scales
                tans[layer], offset[layer] = tan_out[-1].copy(), scales[-1].copy()
                below = (tan_out[..., : cell.hidden_size], scales)
                xin, states[layer] = self._run(cell, xin, states[layer], dtype, n_threads)
        if not log:
            _exp_inplace(res)
        return _into(out, res[:, 0] if two_d else res)

    def jvp(
        self,
        x: Any,
        u: Any,
        h0: Any = None,
        *,
        dx: Any = None,
        at: Sequence[int] | None = None,
        threads: int | None = None,
        memory_budget: int = DEFAULT_MEMORY_BUDGET,
    ) -> StackJVP:
        """The tangent arrays of every layer (see :func:`longdep.jvp`): ``.state[l]``
        ``(rows, B, S_l)`` is ``d s^l_t`` carried from a perturbation ``u`` of the
        initial states and a tangent ``dx`` of the stack's input (the shape of ``x``);
        layer ``l+1`` reads layer ``l``'s output tangent as its input tangent. ``u`` as
        for :meth:`sensitivity` (one entry per layer, one array for the bottom layer, or
        None). ``at=`` keeps chosen steps (memory ``O(len(at) * B * sum S_l)`` plus one
        chunk of steps). Float64 values: 0 where a tangent has vanished below float64
        (:meth:`sensitivity` gives the norms in the log domain)."""
        from .products import _steps

        budget = _memory_budget(memory_budget)
        n_threads = _threads(threads)
        arr, dtype, two_d = _prepare_x(self.layers[0], x)
        t, b, _ = arr.shape
        states = self._states(h0, b, dtype, two_d)
        tans = self._perturbations("jvp", u, b, dtype, two_d)
        dx_all = None
        if dx is not None:
            dx_all = as_float_array("dx", dx, dtype=dtype)
            if dx_all.shape != np.shape(x):
                raise ShapeError(
                    f"dx must have the shape of x {shape_str(np.shape(x))}; "
                    f"got {shape_str(dx_all.shape)}"
                )
            dx_all = dx_all.reshape(arr.shape)
        steps = _steps(at, t)
        keep = np.arange(t) if steps is None else np.asarray(steps, dtype=np.int64)
        res = [np.zeros((len(keep), b, c.state_size)) for c in self.layers]
        k_len = self._chunk(t, b, budget, False)
        for a in range(0, t, k_len):
            xin = arr[a : a + k_len]
            k = xin.shape[0]
            sel = np.nonzero((keep >= a) & (keep < a + k))[0]
            below = (
                np.empty(0, dtype) if dx_all is None else np.ascontiguousarray(dx_all[a : a + k])
            )
            for layer, cell in enumerate(self.layers):
                tan_out = np.empty((k, b, cell.state_size))
                spec = cell.spec(dtype)
                _core.tangents(spec, xin, states[layer], tans[layer], below, None, tan_out)
                res[layer][sel] = tan_out[keep[sel] - a]
                tans[layer] = np.ascontiguousarray(tan_out[-1], dtype)
                below = np.ascontiguousarray(tan_out[..., : cell.hidden_size], dtype)
                xin, states[layer] = self._run(cell, xin, states[layer], dtype, n_threads)
        views = [r[:, 0] if two_d else r for r in res]
        return StackJVP(
            state=views,
            h=[v[..., : c.hidden_size] for v, c in zip(views, self.layers, strict=True)],
            steps=keep,
        )

    def vjp(
        self,
        x: Any,
        v: Any,
        h0: Any = None,
        *,
        at: Sequence[int] | None = None,
        out: Mapping[str, Any] | np.ndarray | None = None,
        inputs: bool = True,
        memory_budget: int = DEFAULT_MEMORY_BUDGET,
        threads: int | None = None,
    ) -> StackVJP:
        """The adjoint arrays of every layer (see :func:`longdep.vjp`): ``.h[l]``
        ``(rows, B, H_l)`` the total ``dL/dh^l_t``, ``.state[l]``, ``.cell[l]`` (LSTM
        layers), ``.x`` ``dL/dx_t`` of the stack's input, ``.h0[l]``. ``out`` may give
        arrays or memmaps to write into: ``{"x": array, "state": [one per layer]}``."""
        from .products import _steps, _target

        inputs = require_bool("inputs", inputs)
        arr, _, two_d = _prepare_x(self.layers[0], x)
        t, b, i = arr.shape
        steps = _steps(at, t)
        rows = t if steps is None else len(steps)
        n = self.num_layers
        given: dict[str, Any] = {}
        if out is not None:
            if not isinstance(out, Mapping):
                raise ArgumentError(
                    "out must be a dict with 'x' and/or 'state' (a list of one array per "
                    f"layer) for a Stack; got {type(out).__name__}"
                )
            unknown = set(out) - {"x", "state"}
            if unknown:
                raise ArgumentError(f"out may have keys 'x', 'state'; got {sorted(unknown)}")
            given = dict(out)
        st_given = given.get("state")
        if st_given is not None and (not isinstance(st_given, Sequence) or len(st_given) != n):
            raise ArgumentError(f"out['state'] must be a list of {n} arrays, one per layer")
        state = [
            _target(
                f"out['state'][{k}]",
                None if st_given is None else st_given[k],
                (rows, b, c.state_size),
                two_d,
            )
            for k, c in enumerate(self.layers)
        ]
        xs = _target("out['x']", given.get("x"), (rows, b, i), two_d) if inputs else None
        cells: list[np.ndarray | None] = [
            np.empty((rows, b, c.hidden_size)) if c.memory_cell else None for c in self.layers
        ]
        rows_of = None if steps is None else {s: r for r, s in enumerate(steps)}

        def sink(layer: int, a: int, e: int, arrays: dict[str, np.ndarray]) -> None:
            if rows_of is None:
                src, dst = slice(0, e - a), slice(a, e)
            else:
                picked = [s for s in range(a, e) if s in rows_of]
                if not picked:
                    return
                src = np.asarray(picked) - a  # type: ignore[assignment]
                dst = np.asarray([rows_of[s] for s in picked])  # type: ignore[assignment]
            sc = arrays["scales"][src]
            state[layer][dst] = _unscale(arrays["state"][src], sc, f"dL/ds^{layer}_t", a)
            c = cells[layer]
            if c is not None:
                c[dst] = _unscale(arrays["cell"][src], sc, f"dL/dc^{layer}_t", a)
            if layer == 0 and xs is not None:
                xs[dst] = _unscale(arrays["x"][src], sc, "dL/dx_t", a)

        g0, l0, _ = self._reverse(
            x,
            v,
            h0,
            memory_budget=memory_budget,
            threads=threads,
            inputs=inputs,
            memory=True,
            sink=sink,
        )
        h0s = [
            _unscale(g[None], s[None], f"dL/ds^{k}_init", 0)[0]
            for k, (g, s) in enumerate(zip(g0, l0, strict=True))
        ]

        def lanes(a: np.ndarray | None) -> np.ndarray | None:
            return a[:, 0] if a is not None and two_d else a

        hs = []
        for c, st in zip(self.layers, state, strict=True):
            if len(c.state_parts) == 1 and len(c.state_shape) > 1:
                hs.append(st.reshape(rows, b, *c.state_shape))
            else:
                hs.append(st[..., : c.hidden_size])
        return StackVJP(
            state=[lanes(s) for s in state],  # type: ignore[misc]
            h=[lanes(h) for h in hs],  # type: ignore[misc]
            cell=[lanes(c) for c in cells],
            x=lanes(xs),
            h0=[g[0] if two_d else g for g in h0s],
            steps=np.arange(t) if steps is None else np.asarray(steps),
        )


@dataclass(frozen=True)
class StackJVP:
    """What :meth:`Stack.jvp` returns: one entry per layer, bottom first."""

    #: The tangent of each layer's whole state, ``(rows, B, S_l)``.
    state: list[np.ndarray]
    #: Its output part ``(rows, B, H_l)`` (views of ``state``).
    h: list[np.ndarray]
    #: The steps of the rows.
    steps: np.ndarray


@dataclass(frozen=True)
class StackVJP:
    """What :meth:`Stack.vjp` returns: one entry per layer, bottom first."""

    #: ``dL/ds^l_t`` of each layer's whole state, ``(rows, B, S_l)``.
    state: list[np.ndarray]
    #: The total ``dL/dh^l_t``, ``(rows, B, H_l)`` (views of ``state``).
    h: list[np.ndarray]
    #: The total ``dL/dc^l_t`` of LSTM layers (None for the others).
    cell: list[np.ndarray | None]
    #: ``dL/dx_t`` of the stack's input ``(rows, B, I)``, or None with ``inputs=False``.
    x: np.ndarray | None
    #: ``dL/ds^l_init`` of each layer, flat ``(B, S_l)``.
    h0: list[np.ndarray]
    #: The steps of the rows.
    steps: np.ndarray


Half = RecurrentCell | Stack


def _input_adjoint(model: Half, x: np.ndarray, v: np.ndarray) -> np.ndarray:
    """``dL/dx`` ``(T, B, I)`` of ``L = sum_t v_t . y_t`` (float64 arrays)."""
    from .products import vjp

    r = vjp(model, x, v)
    assert r.x is not None
    return r.x


class Bidirectional:
    """Two recurrent models read one sequence in opposite directions (torch's
    ``bidirectional=True``): the output at step ``t`` is ``[y^fwd_t, y^bwd_t]``, where the
    backward model reads ``x_{T-1}, ..., x_0``. Each half is a cell or a :class:`Stack`.

    torch's multi-layer bidirectional modules feed each layer both directions of the
    layer below; :meth:`layered` (and :meth:`from_torch`) build that: a list of
    (forward, backward) pairs, each reading the concatenated output of the pair below.

    >>> import numpy as np, longdep as ld
    >>> lin = ld.Elman(np.ones((1, 1)), 0.5 * np.eye(1), nonlinearity="linear")
    >>> ld.Bidirectional(lin, lin).forward(np.ones((3, 1))).tolist()
    [[1.0, 1.75], [1.5, 1.5], [1.75, 1.0]]
    """

    def __init__(self, forward: Half, backward: Half) -> None:
        self.pairs: tuple[tuple[Half, Half], ...] = ()
        self._add(forward, backward)

    def _add(self, forward: Half, backward: Half) -> None:
        k = len(self.pairs)
        for name, m in (("forward", forward), ("backward", backward)):
            if not isinstance(m, (RecurrentCell, Stack)):
                raise ArgumentError(
                    f"{name} of pair {k} must be a longdep recurrent cell or Stack; got "
                    f"{type(m).__name__}"
                )
        if forward.input_size != backward.input_size:
            raise ShapeError(
                f"forward and backward of pair {k} must read the same input size; got "
                f"{forward.input_size} and {backward.input_size}"
            )
        if self.pairs:
            below = self.pairs[-1][0].hidden_size + self.pairs[-1][1].hidden_size
            if forward.input_size != below:
                raise ShapeError(
                    f"pair {k} must read the {below} outputs of pair {k - 1} (both "
                    f"directions); its input_size is {forward.input_size}"
                )
        self.pairs = (*self.pairs, (forward, backward))

    @classmethod
    def layered(cls, pairs: Sequence[tuple[Half, Half]]) -> Bidirectional:
        """Bidirectional layers stacked as torch stacks them: pair ``l + 1`` reads the
        concatenated outputs of pair ``l``."""
        pairs = list(pairs)
        if not pairs:
            raise ArgumentError("pairs must hold at least one (forward, backward) pair")
        out = cls(*pairs[0])
        for f, b in pairs[1:]:
            out._add(f, b)
        return out

    @property
    def fwd(self) -> Half:
        """The forward half of the bottom pair."""
        return self.pairs[0][0]

    @property
    def bwd(self) -> Half:
        """The backward half of the bottom pair."""
        return self.pairs[0][1]

    @property
    def num_layers(self) -> int:
        """The number of (forward, backward) pairs."""
        return len(self.pairs)

    @property
    def input_size(self) -> int:
        """I, the size of one input vector."""
        return self.pairs[0][0].input_size

    @property
    def hidden_size(self) -> int:
        """The output size: the top pair's two halves together."""
        f, b = self.pairs[-1]
        return f.hidden_size + b.hidden_size

    def __repr__(self) -> str:
        return (
            "Bidirectional.layered([" + ", ".join(f"({f!r}, {b!r})" for f, b in self.pairs) + "])"
        )

    def _inputs(self, x: Any, threads: int | None) -> tuple[list[np.ndarray], bool]:
        """Every pair's input (T, B, .) and the output on top; whether x was 2-D."""
        from .core import forward as run

        first = self.fwd if isinstance(self.fwd, RecurrentCell) else self.fwd[0]
        arr, _, two_d = _prepare_x(first, x)
        ys = [arr]
        for f, b in self.pairs:
            y_f = run(f, ys[-1], threads=threads)  # type: ignore[arg-type]
            y_b = run(b, np.ascontiguousarray(ys[-1][::-1]), threads=threads)  # type: ignore[arg-type]
            ys.append(np.ascontiguousarray(np.concatenate([y_f, y_b[::-1]], axis=-1)))
        return ys, two_d

    def forward(self, x: Any, h0: Any = None, *, threads: int | None = None) -> np.ndarray:
        """``(T, B, H_fwd + H_bwd)`` of the top pair (``(T, .)`` for 2-D x), from zero
        initial states."""
        if h0 is not None:
            raise ArgumentError("h0 must be None for a Bidirectional model (zero initial states)")
        ys, two_d = self._inputs(x, _threads(threads))
        return ys[-1][:, 0] if two_d else ys[-1]

    def grad_norms(self, x: Any, v: Any, h0: Any = None, **kwargs: Any) -> np.ndarray:
        """Not available: use :func:`longdep.connectivity` (a Bidirectional output depends
        on the whole sequence)."""
        raise ArgumentError(
            "grad_norms is not defined for a Bidirectional model; use ld.connectivity"
        )

    def sensitivity(self, x: Any, u: Any, h0: Any = None, **kwargs: Any) -> np.ndarray:
        """Not available: use :func:`longdep.connectivity`."""
        raise ArgumentError(
            "sensitivity is not defined for a Bidirectional model; use ld.connectivity"
        )

    def input_adjoint(self, x: Any, v: Any) -> np.ndarray:
        """``dL/dx_t`` ``(T, B, I)`` of ``L = sum_t v_t . y_t`` with ``v`` ``(T, B, O)``:
        each pair from the top, its backward half on the reversed sequence."""
        ys, two_d = self._inputs(x, None)
        g = np.asarray(v, dtype=np.float64)
        t, b = ys[0].shape[:2]
        if two_d and g.ndim == 2:
            g = g[:, None]
        if g.shape != (t, b, self.hidden_size):
            raise ShapeError(
                f"v must have shape {shape_str((t, b, self.hidden_size))} (weights on every "
                f"output); got {shape_str(g.shape)}"
            )
        for k in reversed(range(len(self.pairs))):
            f, bk = self.pairs[k]
            hf = f.hidden_size
            xin = ys[k]
            g_f = _input_adjoint(f, xin, np.ascontiguousarray(g[..., :hf]).astype(xin.dtype))
            g_b = _input_adjoint(
                bk,
                np.ascontiguousarray(xin[::-1]),
                np.ascontiguousarray(g[::-1, :, hf:]).astype(xin.dtype),
            )
            g = g_f + g_b[::-1]
        return g[:, 0] if two_d else g

    @classmethod
    def from_torch(cls, module: Any) -> Bidirectional:
        """Every layer of a ``torch.nn.RNN/LSTM/GRU(bidirectional=True)`` (duck-typed)."""
        if not getattr(module, "bidirectional", False):
            raise ArgumentError("module must have bidirectional=True")
        state = _module_state(module, int(getattr(module, "num_layers", 1)), True)
        kind = _torch_mode(module)
        f = _torch_layers(state, kind, "", False, None)
        b = _torch_layers(state, kind, "", True, None)
        return cls.layered(list(zip(f, b, strict=True)))

    @classmethod
    def from_state_dict(
        cls, state: Mapping[str, Any], cell: str = "lstm", *, prefix: str = ""
    ) -> Bidirectional:
        """Both directions of torch's names ``{prefix}weight_ih_l{k}`` and
        ``{prefix}weight_ih_l{k}_reverse`` ... (``cell`` as for :meth:`Stack.from_state_dict`)."""
        f = _torch_layers(state, cell, prefix, False, None)
        b = _torch_layers(state, cell, prefix, True, None)
        if len(f) != len(b):
            raise ArgumentError(
                f"state has {len(f)} forward and {len(b)} reverse layers under prefix {prefix!r}"
            )
        return cls.layered(list(zip(f, b, strict=True)))
