"""Training lab: exact parameter gradients (Rust BPTT), Adam/SGD, gradient clipping,
truncated BPTT, and pre-training then fine-tuning.

The model is a recurrent cell followed by a linear readout ``y_t = W h_t + b``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from . import _core
from ._validate import as_float_array, choice, require_bool
from .cells import RecurrentCell
from .core import _check_cell, _initial_state, _prepare_x, forward
from .errors import ArgumentError, NumericsError, ShapeError
from .stack import Stack
from .tasks import Task

__all__ = [
    "TrainResult",
    "clip_grad_norm",
    "param_grads",
    "pretrain_finetune",
    "train",
]


def cell_params(cell: RecurrentCell) -> dict[str, np.ndarray]:
    """The trainable parameters of `cell` by name (float64 copies; absent biases as zeros)."""
    return cell.trainable()


def with_params(cell: RecurrentCell, params: dict[str, np.ndarray]) -> RecurrentCell:
    """A cell like `cell` (same kind and options) holding `params`."""
    return cell.replace(params)


def _model_params(model: Any) -> dict[str, np.ndarray]:
    """:func:`cell_params` of a cell, or of every layer of a Stack as ``"{k}.{name}"``."""
    if isinstance(model, Stack):
        return {
            f"{k}.{n}": v for k, c in enumerate(model.layers) for n, v in cell_params(c).items()
        }
    return cell_params(_check_cell(model))


def _with_model_params(model: Any, params: dict[str, np.ndarray]) -> Any:
    """:func:`with_params` of a cell, or of every layer of a Stack (``"{k}.{name}"`` keys)."""
    if isinstance(model, Stack):
        per: list[dict[str, np.ndarray]] = [{} for _ in model.layers]
        for key, v in params.items():
            k, _, name = key.partition(".")
            per[int(k)][name] = v
        return Stack([with_params(c, p) for c, p in zip(model.layers, per, strict=True)])
    return with_params(model, params)


def _model_grads(
    model: Any, x: np.ndarray, dh: np.ndarray, truncate: int | None, inputs: bool
) -> dict[str, np.ndarray]:
    """:func:`param_grads` of a cell or a Stack, keyed like :func:`_model_params`, plus
    ``"x"`` with ``inputs``."""
    if isinstance(model, Stack):
        per = _stack_param_grads(model, x, dh, truncate=truncate, inputs=inputs)
        out: dict[str, np.ndarray] = {}
        for k, g in enumerate(per):
            for name, v in g.items():
                if name == "x":
                    out["x"] = v
                elif name != "h0":
                    out[f"{k}.{name}"] = v
        return out
    grads = param_grads(model, x, dh, truncate=truncate, inputs=inputs)
    grads.pop("h0")
    return grads


def _named(cell: RecurrentCell, flat: np.ndarray) -> dict[str, np.ndarray]:
    """Split the flat gradient of `_core.param_grads` into named parameter gradients."""
    return cell.split_grads(flat)


def param_grads(
    cell: RecurrentCell,
    x: Any,
    dh: Any,
    h0: Any = None,
    *,
    truncate: int | None = None,
    inputs: bool = False,
    threads: int | None = None,
) -> dict[str, np.ndarray]:
    """Exact BPTT parameter gradients of a loss given ``dh[t] = dL/dh_t``.

    Parameters
    ----------
    dh
        The loss's direct derivative w.r.t. every output, ``(T, B, H)`` (or ``(T, H)``
        for 2-D ``x``); the recurrence adds the indirect paths.
    truncate
        Truncated BPTT: gradients do not flow across boundaries every ``truncate``
        steps (the state is carried forward, its gradient dropped).

    inputs
        Also return ``"x"``: ``dL/dx_t`` with the shape of ``x`` (to train layers
        that feed the cell).

    Returns
    -------
    dict
        Gradient per parameter name (``weight_ih`` ... as in :func:`cell_params`,
        summed over the batch), plus ``"h0"``: ``dL/ds_init`` ``(B, S)``.

        For an ``ld.Stack`` (``dh`` is then ``dL/dh^top_t``): a list with one such
        dict per layer, bottom first (``h0`` a list of one state per layer; with
        ``inputs=True`` the bottom layer's dict holds ``"x"``).
    """
    if isinstance(cell, Stack):
        return _stack_param_grads(
            cell, x, dh, h0, truncate=truncate, inputs=inputs, threads=threads
        )
    cell = _check_cell(cell)
    inputs = require_bool("inputs", inputs)
    arr, dtype, two_d = _prepare_x(cell, x)
    T, B, _ = arr.shape
    d = as_float_array("dh", dh, dtype)
    if two_d and d.ndim == 2:
        d = d[:, None, :]
    if d.shape != (T, B, cell.hidden_size):
        raise ShapeError(
            f"dh must have shape ({T}, {B}, {cell.hidden_size}) like the outputs; got {d.shape}"
        )
    s0 = _initial_state(cell, h0, B, dtype, two_d)
    spec = cell.spec(dtype)
    dx_parts: list[np.ndarray] = []
    if truncate is None or truncate >= T:
        res = _core.param_grads(
            spec, arr, s0, np.ascontiguousarray(d), inputs=inputs, threads=threads
        )
        flat, ds0 = res[0], res[1]
        if inputs:
            dx_parts.append(res[2])
    else:
        if (
            isinstance(truncate, bool)
            or not isinstance(truncate, (int, np.integer))
            or truncate < 1
        ):
            raise ArgumentError(f"truncate must be a positive integer or None; got {truncate!r}")
        states = _core.forward(spec, arr, s0, threads, True)
        flat = np.zeros(0)
        ds0 = np.zeros_like(s0, dtype=np.float64)
        for w0 in range(0, T, truncate):
            w1 = min(T, w0 + truncate)
            start = s0 if w0 == 0 else np.ascontiguousarray(states[w0 - 1])
            res = _core.param_grads(
                spec,
                np.ascontiguousarray(arr[w0:w1]),
                start,
                np.ascontiguousarray(d[w0:w1]),
                inputs=inputs,
                threads=threads,
            )
            f, g0 = res[0], res[1]
            if inputs:
                dx_parts.append(res[2])
            flat = f if flat.size == 0 else flat + f
            if w0 == 0:
                ds0 = g0
    out = _named(cell, flat)
    out["h0"] = ds0[0] if two_d else ds0
    if inputs:
        dx = np.concatenate(dx_parts, axis=0)
        out["x"] = dx[:, 0] if two_d else dx
    return out


def _stack_param_grads(
    stack: Any,
    x: Any,
    dh: Any,
    h0: Any = None,
    *,
    truncate: int | None = None,
    inputs: bool = False,
    threads: int | None = None,
) -> list[dict[str, np.ndarray]]:
    """:func:`param_grads` of an ``ld.Stack``: one dict per layer, bottom first.

    ``dh`` is ``dL/dh^top_t`` ``(T, B, H_top)``. The layers run top down: the input
    adjoint ``dL/dx_t`` of layer ``l + 1`` is the direct per-step loss derivative of
    layer ``l``'s outputs, so each layer is the single-cell case, exactly. Memory holds
    every layer's outputs, ``O(T B sum(H_l))``. ``h0`` is None or a list of one initial
    state per layer (in each cell's own form). With ``inputs=True`` the bottom layer's
    dict also holds ``"x"``, ``dL/dx_t`` of the stack's input.
    """
    inputs = require_bool("inputs", inputs)
    n = stack.num_layers
    if h0 is not None and (not isinstance(h0, list) or len(h0) != n):
        raise ArgumentError(
            f"h0 must be None or a list of {n} initial states (one per layer) for a Stack; "
            f"got {type(h0).__name__}"
        )
    h0s = [None] * n if h0 is None else h0
    outs = stack.forward(x, h0 if h0 is None else list(h0), return_all=True, threads=threads)
    ins = [np.asarray(x), *outs[:-1]]
    grads: list[dict[str, np.ndarray]] = [{} for _ in range(n)]
    d = dh
    for k in range(n - 1, -1, -1):
        need = inputs or k > 0
        g = param_grads(
            stack.layers[k], ins[k], d, h0s[k], truncate=truncate, inputs=need, threads=threads
        )
        if k > 0:
            d = g.pop("x")
        grads[k] = g
    return grads


def clip_grad_norm(grads: dict[str, np.ndarray], max_norm: float) -> tuple[float, float]:
    """Rescale all gradients in place when their global norm exceeds `max_norm`.

    The same rule as ``torch.nn.utils.clip_grad_norm_``: ``total = sqrt(sum ||g||^2)``;
    if ``total > max_norm`` every gradient is multiplied by ``max_norm / (total + 1e-6)``.
    Returns the norms before and after.
    """
    total = math.sqrt(sum(float(np.sum(g * g)) for g in grads.values()))
    coef = max_norm / (total + 1e-6)
    if coef < 1.0:
        for g in grads.values():
            g *= coef
        return total, total * coef
    return total, total


class _Adam:
    def __init__(
        self, lr: float, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8
    ) -> None:
        self.lr, (self.b1, self.b2), self.eps = lr, betas, eps
        self.m: dict[str, np.ndarray] = {}
        self.v: dict[str, np.ndarray] = {}
        self.t = 0

    def step(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        self.t += 1
        for k, g in grads.items():
            m = self.m.setdefault(k, np.zeros_like(g))
            v = self.v.setdefault(k, np.zeros_like(g))
            m *= self.b1
            m += (1 - self.b1) * g
            v *= self.b2
            v += (1 - self.b2) * g * g
            mh = m / (1 - self.b1**self.t)
            vh = v / (1 - self.b2**self.t)
            params[k] -= self.lr * mh / (np.sqrt(vh) + self.eps)


class _SGD:
    def __init__(self, lr: float, momentum: float = 0.0) -> None:
        self.lr, self.momentum = lr, momentum
        self.buf: dict[str, np.ndarray] = {}

    def step(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        for k, g in grads.items():
            if self.momentum:
                b = self.buf.setdefault(k, np.zeros_like(g))
                b *= self.momentum
                b += g
                g = b
            params[k] -= self.lr * g


@dataclass
class TrainResult:
    """What :func:`train` returns."""

    #: One row per optimisation step: step, loss, accuracy, grad_norm (before
    #: clipping), grad_norm_clipped, diverged.
    history: pd.DataFrame
    #: The trained cell (an ``ld.Stack`` when a stack was trained).
    cell: Any
    #: Readout weight ``(O, H)`` and bias ``(O,)``.
    readout: tuple[np.ndarray, np.ndarray]
    #: ``ln ||dL/dh_t||`` curves (index: distance from the loss) at snapshot steps.
    snapshots: dict[int, np.ndarray] = field(default_factory=dict)
    #: True when the loss or a gradient became non-finite and training stopped.
    diverged: bool = False
    #: The task's memoryless baseline loss.
    baseline: float = math.nan
    #: ``encoder_weight`` ``(E, I)`` and ``encoder_bias`` when an encoder was trained.
    encoder: dict[str, np.ndarray] = field(default_factory=dict)


def _loss_and_grads(
    cell: Any,
    params: dict[str, np.ndarray],
    task: Task,
    x: np.ndarray,
    target: Any,
    truncate: int | None,
) -> tuple[float, float, dict[str, np.ndarray], np.ndarray]:
    """Loss and gradients of ``readout(cell(encoder(x)))``; the encoder
    ``u = relu(E x + e)`` is present when ``params`` has ``encoder_weight``."""
    W, b = params["readout_weight"], params["readout_bias"]
    enc = "encoder_weight" in params
    if enc:
        pre = x @ params["encoder_weight"].T + params["encoder_bias"]
        u = np.maximum(pre, 0.0)
    else:
        u = x
    h = cell.forward(u) if isinstance(cell, Stack) else forward(cell, u)
    y = h @ W.T + b
    loss, dy, acc = task.loss(y, target)
    dh = dy @ W
    grads = _model_grads(cell, u, dh, truncate, enc)
    if enc:
        du = grads.pop("x") * (pre > 0)
        grads["encoder_weight"] = np.einsum("tbe,tbi->ei", du, x)
        grads["encoder_bias"] = du.sum(axis=(0, 1))
    grads["readout_weight"] = np.einsum("tbo,tbh->oh", dy, h)
    grads["readout_bias"] = dy.sum(axis=(0, 1))
    return loss, acc, grads, dh


def train(
    cell: Any,
    task: Task,
    *,
    steps: int,
    batch: int = 32,
    lr: float = 1e-3,
    clip: float | None = None,
    optimizer: str = "adam",
    seed: int = 0,
    callback: Callable[[int, dict[str, Any]], bool | None] | None = None,
    readout: tuple[np.ndarray, np.ndarray] | None = None,
    truncate: int | None = None,
    snapshot_every: int = 0,
    encoder: int | None = None,
) -> TrainResult:
    """Train `cell` with a linear readout on `task` by exact BPTT.

    Parameters
    ----------
    cell
        The initial cell (any kind: ``ld.Elman``, ``ld.LSTM``, ``ld.GRU``, ``ld.LRU``,
        the modern cells) or an ``ld.Stack`` (every layer trained; the readout reads
        the top layer); its input size must equal ``task.input_size``.
    task
        An ``ld.tasks`` task (adding, copy, subject).
    steps, batch, lr
        Optimisation steps, sequences per step, learning rate.
    clip
        Global-norm gradient clipping threshold (None: no clipping), as
        ``torch.nn.utils.clip_grad_norm_``.
    optimizer
        ``"adam"`` or ``"sgd"``.
    callback
        Called as ``callback(step, record)`` after every step; returning ``False`` stops.
    readout
        Initial ``(W, b)``; default ``W ~ N(0, 1/H)``, ``b = 0``.
    truncate
        Truncated BPTT window (None: full BPTT).
    snapshot_every
        Record the per-step gradient-norm curve every so many steps (0: never).
    encoder
        Width ``E`` of an optional input layer ``u_t = relu(E x_t + e)`` in front of
        the cell (then the cell's input size must be ``E``). A linear recurrence such
        as the LRU needs it for tasks whose answer is a product of inputs (adding).

    Returns
    -------
    TrainResult
        History, trained cell and readout, gradient-curve snapshots. A run whose loss
        or gradients leave the float range stops with ``diverged=True``.
    """
    if not isinstance(cell, Stack):
        cell = _check_cell(cell)
    want = task.input_size if encoder is None else encoder
    if cell.input_size != want:
        where = f"the {task.name} task" if encoder is None else f"an encoder of width {encoder}"
        raise ShapeError(f"cell input size must be {want} for {where}; got {cell.input_size}")
    for name, val in (("steps", steps), ("batch", batch)):
        if isinstance(val, bool) or not isinstance(val, (int, np.integer)) or val < 1:
            raise ArgumentError(f"{name} must be a positive integer; got {val!r}")
    if not (isinstance(lr, (int, float)) and math.isfinite(lr) and lr > 0):
        raise ArgumentError(f"lr must be a positive number; got {lr!r}")
    if clip is not None and not (
        isinstance(clip, (int, float)) and math.isfinite(clip) and clip > 0
    ):
        raise ArgumentError(f"clip must be a positive number or None; got {clip!r}")
    optimizer = choice("optimizer", optimizer, ("adam", "sgd"))
    rng = np.random.default_rng(seed)
    H, O = cell.hidden_size, task.output_size
    if readout is None:
        W = rng.normal(size=(O, H)) / math.sqrt(H)
        b = np.zeros(O)
    else:
        W, b = (np.array(readout[0], dtype=np.float64), np.array(readout[1], dtype=np.float64))
        if W.shape != (O, H) or b.shape != (O,):
            raise ShapeError(f"readout must be (W ({O}, {H}), b ({O},)); got {W.shape}, {b.shape}")
    params = _model_params(cell)
    params["readout_weight"], params["readout_bias"] = W, b
    if encoder is not None:
        params["encoder_weight"] = rng.normal(size=(encoder, task.input_size)) / math.sqrt(
            task.input_size
        )
        params["encoder_bias"] = np.full(encoder, 0.1)
    opt: _Adam | _SGD = _Adam(lr) if optimizer == "adam" else _SGD(lr)
    records: list[dict[str, Any]] = []
    snapshots: dict[int, np.ndarray] = {}
    diverged = False
    cur = cell
    for step in range(int(steps)):
        x, target = task.sample(int(batch), rng)
        cur = _with_model_params(
            cell, {k: v for k, v in params.items() if not k.startswith(("readout_", "encoder_"))}
        )
        try:
            loss, acc, grads, dh = _loss_and_grads(cur, params, task, x, target, truncate)
        except NumericsError:
            loss, grads = math.inf, {}
        if not math.isfinite(loss) or any(not np.all(np.isfinite(g)) for g in grads.values()):
            records.append(
                dict(
                    step=step,
                    loss=loss,
                    accuracy=math.nan,
                    grad_norm=math.inf,
                    grad_norm_clipped=math.inf,
                )
            )
            diverged = True
            break
        if clip is not None:
            before, after = clip_grad_norm(grads, clip)
        else:
            before = after = math.sqrt(sum(float(np.sum(g * g)) for g in grads.values()))
        if snapshot_every and step % snapshot_every == 0:
            from .core import grad_norms

            v = dh[-1, 0]
            xin = (
                x
                if encoder is None
                else np.maximum(x @ params["encoder_weight"].T + params["encoder_bias"], 0)
            )
            if np.any(v) and isinstance(cur, Stack):
                # The top layer's curve of the depth x time map.
                top = cur.grad_norms(xin[:, 0], v, log=True)[:, -1]
                snapshots[step] = top[::-1].copy()
            elif np.any(v):
                snapshots[step] = grad_norms(cur, xin[:, 0], v, log=True)[::-1].copy()
        opt.step(params, grads)
        rec = dict(step=step, loss=loss, accuracy=acc, grad_norm=before, grad_norm_clipped=after)
        records.append(rec)
        if callback is not None and callback(step, rec) is False:
            break
        if any(not np.all(np.isfinite(p)) for p in params.values()):
            diverged = True
            break
    history = pd.DataFrame.from_records(
        records, columns=["step", "loss", "accuracy", "grad_norm", "grad_norm_clipped"]
    )
    history["diverged"] = diverged
    final_ro = (params.pop("readout_weight"), params.pop("readout_bias"))
    encoder_params: dict[str, np.ndarray] = {
        k: params.pop(k) for k in ("encoder_weight", "encoder_bias") if k in params
    }
    try:
        final = _with_model_params(cell, params)
    except NumericsError:
        final = cur
    return TrainResult(history, final, final_ro, snapshots, diverged, task.baseline, encoder_params)


def pretrain_finetune(
    cell: RecurrentCell,
    short_task: Task,
    long_task: Task,
    *,
    pre_steps: int,
    fine_steps: int,
    **kwargs: Any,
) -> dict[str, TrainResult]:
    """Pre-train on `short_task`, fine-tune on `long_task`, and train from scratch on
    `long_task` for the same `fine_steps`, from the same initial cell and seed.

    Returns ``{"pretrain": ..., "finetune": ..., "scratch": ...}``; compare
    ``finetune.history.loss`` with ``scratch.history.loss``.
    """
    if kwargs.get("encoder") is not None:
        raise ArgumentError(
            "pretrain_finetune does not carry an encoder over yet; use encoder=None"
        )
    pre = train(cell, short_task, steps=pre_steps, **kwargs)
    fine = train(pre.cell, long_task, steps=fine_steps, readout=pre.readout, **kwargs)
    scratch = train(cell, long_task, steps=fine_steps, **kwargs)
    return {"pretrain": pre, "finetune": fine, "scratch": scratch}
