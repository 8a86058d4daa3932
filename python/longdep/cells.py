"""Recurrent cells in PyTorch's single-layer layout.

All weights follow ``torch.nn.RNN/LSTM/GRU``: ``weight_ih (G*H, I)``,
``weight_hh (G*H, H)``, ``bias_ih (G*H,)``, ``bias_hh (G*H,)`` with gate order
LSTM (i, f, g, o) and GRU (r, z, n), ``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))``.
Weights are stored as float64 and cast to the dtype of each computation.

A cell copies its weights when it is built and stores them read-only: editing the
arrays you passed in does not change the cell, and editing ``cell.weight_hh`` (or any
other stored array) in place raises ``ValueError``. To change weights, build a new
cell (``training.with_params`` does that).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from ._validate import as_float_array, choice, frozen_copy, require_bool, require_finite, shape_str
from .errors import ArgumentError, NumericsError, ShapeError

__all__ = ["GRU", "LRU", "LSTM", "Elman", "RecurrentCell"]


def _cast(name: str, a: np.ndarray, dtype: np.dtype | type) -> np.ndarray:
    """`a` as contiguous `dtype`; values beyond that dtype's range are an error, not inf."""
    with np.errstate(over="ignore"):
        out = np.ascontiguousarray(a, dtype=dtype)
    if not np.all(np.isfinite(out)):
        big = float(np.max(np.abs(a)))
        raise NumericsError(
            f"{name} has values beyond the {np.dtype(dtype).name} range (max |value| = {big:.3g}); "
            "pass float64 input to compute in float64"
        )
    if out is not a:  # a new array (another dtype): as read-only as the stored weights
        out.flags.writeable = False
    return out


def _tensor_to_numpy(t: Any) -> np.ndarray:
    if hasattr(t, "detach"):
        t = t.detach().cpu()
        if hasattr(t, "double"):
            t = t.double()
        return np.asarray(t.numpy())
    return np.asarray(t)


class RecurrentCell:
    """Common part of the recurrent cells (not instantiated directly).

    The weights are copied at construction and stored read-only (float64): a later
    edit of the caller's arrays does not reach the cell, and an in-place edit of a
    stored array raises ``ValueError`` instead of being silently ignored by the
    computations (which pack the weights once per dtype). Build a new cell to change
    its weights.

    Examples
    --------
    >>> import numpy as np, longdep as ld
    >>> w = 0.5 * np.eye(2)
    >>> cell = ld.Elman(np.ones((2, 1)), w)
    >>> w[0, 0] = 9.0  # the cell holds its own copy
    >>> float(cell.weight_hh[0, 0])
    0.5
    >>> cell.weight_hh[0, 0] = 9.0
    Traceback (most recent call last):
    ...
    ValueError: assignment destination is read-only
    """

    kind: ClassVar[str] = ""
    gates: ClassVar[int] = 1
    #: The parts of the state, each ``state_size / len(state_parts)`` long: ``h0`` is one
    #: array, or a tuple of that many arrays (``(h0, c0)`` for the LSTM).
    state_parts: ClassVar[tuple[str, ...]] = ("h",)
    #: Whether ``grad_norms(wrt="cell")`` applies (a memory cell ``c``, as the LSTM's).
    memory_cell: ClassVar[bool] = False
    #: Whether the step Jacobian is diagonal (a step costs O(state size), not O(H^2)).
    diagonal: ClassVar[bool] = False
    #: Whether the output ``y_t`` is computed from the state by a map of its own (the
    #: selective SSM's ``C_t h_t + D u_t``) rather than being its first ``H`` entries.
    output_map: ClassVar[bool] = False

    #: Sweep keys (beyond hidden, input_size, input_scale, seed) this kind's cells take;
    #: :meth:`for_sweep` receives them by name.
    sweep_keys: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def for_sweep(cls, H: int, I: int, *, seed: int, **keys: Any) -> RecurrentCell:
        """The cell of a sweep case: this kind's initialiser with the case's
        ``sweep_keys`` (default: ``cls.random(H, I, seed=seed, **keys)``)."""
        random = getattr(cls, "random", None)
        if random is None:
            raise ArgumentError(f"{cls.__name__} has no initialiser for sweeps")
        return random(H, I, seed=seed, **keys)

    @classmethod
    def state_size_for(cls, H: int) -> int:
        """The state size of this kind's cells of hidden (output) size ``H`` as the
        initialisers build them (what cost estimates and a sweep's ``k`` bound read)."""
        return len(cls.state_parts) * H

    def __init__(
        self,
        weight_ih: Any,
        weight_hh: Any,
        bias_ih: Any = None,
        bias_hh: Any = None,
    ) -> None:
        w_hh = as_float_array("weight_hh", weight_hh, np.float64, ndim=(2,))
        w_ih = as_float_array("weight_ih", weight_ih, np.float64, ndim=(2,))
        g = self.gates
        rows, hidden = w_hh.shape
        if hidden == 0:
            raise ShapeError(
                f"weight_hh must have at least one column (H >= 1); got shape {shape_str(w_hh.shape)}"
            )
        if rows != g * hidden:
            what = "square (H, H)" if g == 1 else f"shape ({g}*H, H) with {g} gates"
            raise ShapeError(
                f"weight_hh must be {what} = ({g * hidden}, {hidden}) for {type(self).__name__}; "
                f"got {shape_str(w_hh.shape)}"
            )
        if w_ih.shape[0] != rows or w_ih.shape[1] == 0:
            raise ShapeError(
                f"weight_ih must have shape ({rows}, I) with I >= 1 to match weight_hh "
                f"{shape_str(w_hh.shape)}; got {shape_str(w_ih.shape)}"
            )
        require_finite("weight_ih", w_ih)
        require_finite("weight_hh", w_hh)
        self.weight_ih = frozen_copy(w_ih)
        self.weight_hh = frozen_copy(w_hh)
        self.bias_ih = self._bias("bias_ih", bias_ih, rows)
        self.bias_hh = self._bias("bias_hh", bias_hh, rows)
        self._cache: dict[str, dict[str, Any]] = {}

    @staticmethod
    def _bias(name: str, b: Any, rows: int) -> np.ndarray | None:
        if b is None:
            return None
        arr = as_float_array(name, b, np.float64)
        if arr.shape != (rows,):
            raise ShapeError(f"{name} must have shape ({rows},); got {shape_str(arr.shape)}")
        require_finite(name, arr)
        return frozen_copy(arr)

    @property
    def hidden_size(self) -> int:
        """H, the size of the hidden output h."""
        return int(self.weight_hh.shape[1])

    @property
    def input_size(self) -> int:
        """I, the size of one input vector x_t."""
        return int(self.weight_ih.shape[1])

    @property
    def state_size(self) -> int:
        """Length of the full recurrent state (2H for LSTM's (h, c), else H)."""
        return self.hidden_size

    @property
    def state_shape(self) -> tuple[int, ...]:
        """The shape of one part of the state for one sequence: ``(H,)`` (each of
        ``state_parts``), ``(D, N)`` for the selective SSM."""
        return (self.state_size // len(self.state_parts),)

    def _options(self) -> dict[str, Any]:
        return {}

    def _extra_arrays(self) -> dict[str, np.ndarray | None]:
        return {}

    def spec(self, dtype: np.dtype | type = np.float64) -> dict[str, Any]:
        """The dict `longdep._core` takes: kind, weights cast to `dtype`, options."""
        key = np.dtype(dtype).name
        if key not in self._cache:
            arrays = {
                "weight_ih": self.weight_ih,
                "weight_hh": self.weight_hh,
                "bias_ih": self.bias_ih,
                "bias_hh": self.bias_hh,
                **self._extra_arrays(),
            }
            spec: dict[str, Any] = {"kind": self.kind, **self._options()}
            for k, v in arrays.items():
                spec[k] = None if v is None else _cast(k, v, dtype)
            self._cache[key] = spec
        return self._cache[key]

    @classmethod
    def _torch_kwargs(cls, get: Any) -> dict[str, Any]:
        return {}

    @classmethod
    def from_state_dict(
        cls, state: Mapping[str, Any], *, layer: int = 0, **kwargs: Any
    ) -> RecurrentCell:
        """Build from PyTorch parameter names (``weight_ih_l0`` ... or ``weight_ih`` of a *Cell).

        Extra keyword arguments (e.g. ``nonlinearity``) are passed to the constructor.
        """
        suffixes = (f"_l{layer}", "")

        def get(name: str, required: bool = True) -> np.ndarray | None:
            for suf in suffixes:
                if name + suf in state:
                    return _tensor_to_numpy(state[name + suf])
            if required:
                have = ", ".join(sorted(str(k) for k in state)) or "nothing"
                raise ArgumentError(
                    f"state dict must contain '{name}_l{layer}' (or '{name}') for {cls.__name__}; has {have}"
                )
            return None

        return cls(
            get("weight_ih"),
            get("weight_hh"),
            get("bias_ih", False),
            get("bias_hh", False),
            **kwargs,
        )

    @classmethod
    def from_torch(cls, module: Any) -> RecurrentCell:
        """Copy the weights of a ``torch.nn.RNN/LSTM/GRU`` (single layer) or ``*Cell`` module.

        Duck-typed: reads ``weight_ih_l0``/``weight_ih`` etc.; torch is not imported.
        """
        layers = getattr(module, "num_layers", 1)
        if layers != 1:
            raise ArgumentError(
                f"module must be single-layer (num_layers=1); got num_layers={layers}"
            )
        if getattr(module, "bidirectional", False):
            raise ArgumentError("module must be unidirectional; got bidirectional=True")
        if getattr(module, "proj_size", 0):
            raise ArgumentError(
                f"LSTM with proj_size > 0 is not supported; got proj_size={module.proj_size}"
            )
        state = {}
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            for suf in ("_l0", ""):
                if hasattr(module, name + suf) and getattr(module, name + suf) is not None:
                    state[name + suf] = getattr(module, name + suf)
        kwargs = cls._torch_kwargs(module)
        return cls.from_state_dict(state, **kwargs)

    # -- the training protocol: every kind names its parameters, rebuilds itself from
    # them and splits the core's flat gradient (its Rust `accumulate_grads` layout).

    def trainable(self, copy: bool = True) -> dict[str, np.ndarray]:
        """The trainable parameters by name, in the order of the core's flat gradient
        (``[W_ih | W_hh | b_ih | b_hh | extras]``; absent biases as zeros)."""
        rows = self.weight_hh.shape[0]
        out = {
            "weight_ih": self.weight_ih,
            "weight_hh": self.weight_hh,
            "bias_ih": np.zeros(rows) if self.bias_ih is None else self.bias_ih,
            "bias_hh": np.zeros(rows) if self.bias_hh is None else self.bias_hh,
        }
        return {k: v.copy() for k, v in out.items()} if copy else out

    def replace(self, params: Mapping[str, np.ndarray]) -> RecurrentCell:
        """A cell of the same kind and options holding `params` (names as in
        :meth:`trainable`)."""
        return type(self)(
            params["weight_ih"], params["weight_hh"], params["bias_ih"], params["bias_hh"]
        )

    def split_grads(self, flat: np.ndarray) -> dict[str, np.ndarray]:
        """The core's flat parameter gradient, split by name into the shapes of
        :meth:`trainable`."""
        out, pos = {}, 0
        for name, a in self.trainable(copy=False).items():
            out[name] = flat[pos : pos + a.size].reshape(a.shape)
            pos += a.size
        if pos != flat.size:
            raise ArgumentError(f"the flat gradient must have {pos} values; got {flat.size}")
        return out

    def __repr__(self) -> str:
        opts = "".join(
            f", {k}={v!r}" for k, v in self._options().items() if v is not None and v is not False
        )
        bias = self.bias_ih is not None or self.bias_hh is not None
        return (
            f"{type(self).__name__}(input_size={self.input_size}, hidden_size={self.hidden_size}"
            f"{opts}, bias={bias})"
        )


class Elman(RecurrentCell):
    """Vanilla RNN: ``h_t = phi(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)``.

    Parameters
    ----------
    weight_ih, weight_hh, bias_ih, bias_hh
        PyTorch layout, ``(H, I)``, ``(H, H)``, ``(H,)``, ``(H,)``.
    nonlinearity
        ``"tanh"``, ``"relu"`` or ``"linear"``.
    residual
        If given, ``h_t = h_{t-1} + residual * phi(...)`` (a residual connection).
    layer_norm
        Apply layer normalisation to the pre-activation: ``phi(LN(a))`` with gain
        ``ln_weight`` and bias ``ln_bias`` (default ones and zeros), ``eps = ln_eps``.
        Must be ``True`` or ``False`` (a string such as ``"no"`` is an ArgumentError).

    The weights (and ``ln_weight``, ``ln_bias``) are copied and stored read-only; see
    :class:`RecurrentCell`.

    Examples
    --------
    >>> import numpy as np, longdep as ld
    >>> cell = ld.Elman(np.ones((2, 1)), 0.5 * np.eye(2), nonlinearity="linear")
    >>> ld.forward(cell, np.ones((3, 1)))[:, 0].tolist()
    [1.0, 1.5, 1.75]
    """

    kind = "elman"
    sweep_keys = ("init", "spectral_radius", "gain", "nonlinearity", "residual", "layer_norm")

    @classmethod
    def for_sweep(cls, H: int, I: int, *, seed: int, **keys: Any) -> RecurrentCell:
        """``ld.init.elman`` with ``spectral_radius`` as its ``rho``."""
        from . import init

        rho = keys.pop("spectral_radius", None)
        return init.elman(H, I, rho=rho, seed=seed, **keys)

    gates = 1

    def __init__(
        self,
        weight_ih: Any,
        weight_hh: Any,
        bias_ih: Any = None,
        bias_hh: Any = None,
        nonlinearity: str = "tanh",
        *,
        residual: float | None = None,
        layer_norm: bool = False,
        ln_weight: Any = None,
        ln_bias: Any = None,
        ln_eps: float = 1e-5,
    ) -> None:
        super().__init__(weight_ih, weight_hh, bias_ih, bias_hh)
        self.nonlinearity = choice("nonlinearity", nonlinearity, ("tanh", "relu", "linear"))
        if residual is not None:
            try:
                ok = not isinstance(residual, bool) and bool(np.isfinite(float(residual)))
            except (TypeError, ValueError):
                ok = False
            if not ok:
                raise ArgumentError(f"residual must be a finite number or None; got {residual!r}")
            residual = float(residual)
        self.residual = residual
        self.layer_norm = require_bool("layer_norm", layer_norm)
        h = self.hidden_size
        if not self.layer_norm and (ln_weight is not None or ln_bias is not None):
            raise ArgumentError(
                "ln_weight/ln_bias were given but layer_norm=False; pass layer_norm=True"
            )
        if not (isinstance(ln_eps, (int, float)) and np.isfinite(ln_eps) and ln_eps > 0):
            raise ArgumentError(f"ln_eps must be a positive finite number; got {ln_eps!r}")
        self.ln_eps = float(ln_eps)
        self.ln_weight = self.ln_bias = None
        if self.layer_norm:
            self.ln_weight = self._bias(
                "ln_weight", np.ones(h) if ln_weight is None else ln_weight, h
            )
            self.ln_bias = self._bias("ln_bias", np.zeros(h) if ln_bias is None else ln_bias, h)

    @property
    def state_size(self) -> int:
        return self.hidden_size

    def _options(self) -> dict[str, Any]:
        return {
            "nonlinearity": self.nonlinearity,
            "residual": self.residual,
            "layer_norm": self.layer_norm,
            "ln_eps": self.ln_eps if self.layer_norm else None,
        }

    def _extra_arrays(self) -> dict[str, np.ndarray | None]:
        return {"ln_weight": self.ln_weight, "ln_bias": self.ln_bias}

    def trainable(self, copy: bool = True) -> dict[str, np.ndarray]:
        out = super().trainable(copy)
        if self.layer_norm:
            assert self.ln_weight is not None and self.ln_bias is not None
            ln = {"ln_weight": self.ln_weight, "ln_bias": self.ln_bias}
            out.update({k: v.copy() for k, v in ln.items()} if copy else ln)
        return out

    def replace(self, params: Mapping[str, np.ndarray]) -> Elman:
        return Elman(
            params["weight_ih"],
            params["weight_hh"],
            params["bias_ih"],
            params["bias_hh"],
            nonlinearity=self.nonlinearity,
            residual=self.residual,
            layer_norm=self.layer_norm,
            ln_weight=params.get("ln_weight"),
            ln_bias=params.get("ln_bias"),
            ln_eps=self.ln_eps,
        )

    @classmethod
    def _torch_kwargs(cls, module: Any) -> dict[str, Any]:
        nl = getattr(module, "nonlinearity", "tanh")
        return {"nonlinearity": nl}


class LSTM(RecurrentCell):
    """LSTM, PyTorch gate order (i, f, g, o); state ``(h, c)``.

    ``c_t = f * c_{t-1} + i * g``, ``h_t = o * tanh(c_t)``. The initial state is the
    tuple ``(h0, c0)``. Gradients flow through both the h and the c path. The weights
    are copied and stored read-only; see :class:`RecurrentCell`.
    """

    kind = "lstm"
    gates = 4
    state_parts = ("h", "c")
    memory_cell = True
    sweep_keys = ("forget_bias", "chrono", "gain", "spectral_radius")

    @classmethod
    def for_sweep(cls, H: int, I: int, *, seed: int, **keys: Any) -> RecurrentCell:
        """``ld.init.lstm``; ``spectral_radius`` rescales every gate's block of ``W_hh``."""
        from . import init

        rho = keys.pop("spectral_radius", None)
        return _gate_radius(init.lstm(H, I, seed=seed, **keys), rho)

    @property
    def state_size(self) -> int:
        return 2 * self.hidden_size


class GRU(RecurrentCell):
    """GRU with PyTorch's formula, gate order (r, z, n).

    ``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))``, ``h' = (1 - z) * n + z * h``.
    The weights are copied and stored read-only; see :class:`RecurrentCell`.
    """

    kind = "gru"
    gates = 3
    sweep_keys = ("chrono", "gain", "spectral_radius")

    @classmethod
    def for_sweep(cls, H: int, I: int, *, seed: int, **keys: Any) -> RecurrentCell:
        """``ld.init.gru``; ``spectral_radius`` rescales every gate's block of ``W_hh``."""
        from . import init

        rho = keys.pop("spectral_radius", None)
        return _gate_radius(init.gru(H, I, seed=seed, **keys), rho)


def _gate_radius(cell: Any, rho: float | None) -> Any:
    """``cell`` with each gate's ``H x H`` block of ``weight_hh`` rescaled to spectral
    radius ``rho`` (unchanged for None)."""
    if rho is None:
        return cell
    from .init import scale_to_spectral_radius

    blocks = np.split(cell.weight_hh, cell.gates)
    w_hh = np.vstack([scale_to_spectral_radius(b, rho) for b in blocks])
    return type(cell)(cell.weight_ih, w_hh, cell.bias_ih, cell.bias_hh)


class LRU(RecurrentCell):
    """Linear recurrent unit (Orvieto et al. 2023): a diagonal complex recurrence.

    ``h_t = lambda * h_{t-1} + gamma * (B x_t)`` over ``H`` complex units, with
    ``lambda = exp(-exp(nu_log) + i exp(theta_log))`` and
    ``gamma = exp(gamma_log)`` (default ``sqrt(1 - |lambda|^2)``, the paper's
    normalisation). Its real hidden vector is ``[Re h, Im h]`` of length ``2H``:
    ``hidden_size == state_size == 2H`` and ``v``/``u`` have ``2H`` entries.

    The parameters and the arrays derived from them (``gamma``, ``eigenvalues``,
    ``weight_ih``) are copies stored read-only; see :class:`RecurrentCell`.

    Examples
    --------
    >>> import numpy as np, longdep as ld
    >>> cell = ld.LRU.random(4, 1, r_min=0.99, r_max=0.99, seed=0)
    >>> np.allclose(np.abs(cell.eigenvalues), 0.99)
    True
    """

    kind = "lru"
    gates = 1
    diagonal = True
    sweep_keys = ("r_min", "r_max")

    @classmethod
    def for_sweep(cls, H: int, I: int, *, seed: int, **keys: Any) -> RecurrentCell:
        """``ld.init.lru``."""
        from . import init

        return init.lru(H, I, seed=seed, **keys)

    @classmethod
    def state_size_for(cls, H: int) -> int:
        return 2 * H  # [Re h, Im h]

    def __init__(
        self,
        nu_log: Any,
        theta_log: Any,
        B_re: Any,
        B_im: Any,
        *,
        gamma_log: Any = None,
    ) -> None:
        nu = as_float_array("nu_log", nu_log, np.float64, ndim=(1,))
        units = nu.shape[0]
        if units == 0:
            raise ShapeError("nu_log must have at least one unit (H >= 1); got shape (0,)")
        theta = as_float_array("theta_log", theta_log, np.float64, ndim=(1,))
        if theta.shape != (units,):
            raise ShapeError(
                f"theta_log must have shape ({units},) to match nu_log; got {shape_str(theta.shape)}"
            )
        b_re = as_float_array("B_re", B_re, np.float64, ndim=(2,))
        b_im = as_float_array("B_im", B_im, np.float64, ndim=(2,))
        if b_re.shape[0] != units or b_re.shape[1] == 0:
            raise ShapeError(
                f"B_re must have shape ({units}, I) with I >= 1; got {shape_str(b_re.shape)}"
            )
        if b_im.shape != b_re.shape:
            raise ShapeError(
                f"B_im must have shape {shape_str(b_re.shape)} like B_re; got {shape_str(b_im.shape)}"
            )
        for name, arr in (("nu_log", nu), ("theta_log", theta), ("B_re", b_re), ("B_im", b_im)):
            require_finite(name, arr)
        lam = np.exp(-np.exp(nu) + 1j * np.exp(theta))
        if gamma_log is None:
            gamma = np.sqrt(np.maximum(1.0 - np.abs(lam) ** 2, 0.0))
        else:
            g = self._bias("gamma_log", gamma_log, units)
            assert g is not None
            gamma = np.exp(g)
        self.nu_log, self.theta_log = frozen_copy(nu), frozen_copy(theta)
        self.B_re, self.B_im = frozen_copy(b_re), frozen_copy(b_im)
        self.gamma = frozen_copy(gamma)
        self.eigenvalues = frozen_copy(lam)
        self.weight_ih = frozen_copy(np.vstack([gamma[:, None] * b_re, gamma[:, None] * b_im]))
        self.bias_ih = self.bias_hh = None
        self._cache = {}

    @classmethod
    def random(
        cls,
        units: int,
        input_size: int = 1,
        *,
        r_min: float = 0.9,
        r_max: float = 0.999,
        max_phase: float = 2 * np.pi,
        seed: int = 0,
    ) -> LRU:
        """The paper's initialisation: ``|lambda|`` uniform on the ring ``[r_min, r_max]``,
        phase uniform in ``[0, max_phase]``, ``B ~ CN(0, 1/I)``, gamma normalisation."""
        if not (0 <= r_min <= r_max < 1):
            raise ArgumentError(
                f"r_min, r_max must satisfy 0 <= r_min <= r_max < 1; got {r_min}, {r_max}"
            )
        if units < 1 or input_size < 1:
            raise ArgumentError(f"units and input_size must be >= 1; got {units}, {input_size}")
        rng = np.random.default_rng(seed)
        u1, u2 = rng.uniform(size=units), rng.uniform(size=units)
        mod2 = u1 * (r_max**2 - r_min**2) + r_min**2
        nu_log = np.log(-0.5 * np.log(mod2))
        theta_log = np.log(np.maximum(max_phase * u2, 1e-12))
        b = rng.normal(size=(2, units, input_size)) / np.sqrt(2 * input_size)
        return cls(nu_log, theta_log, b[0], b[1])

    @property
    def units(self) -> int:
        """Number of complex units H."""
        return int(self.nu_log.shape[0])

    @property
    def hidden_size(self) -> int:
        """2H: the real vector [Re h, Im h]."""
        return 2 * self.units

    @property
    def state_size(self) -> int:
        return 2 * self.units

    def spec(self, dtype: np.dtype | type = np.float64) -> dict[str, Any]:
        key = np.dtype(dtype).name
        if key not in self._cache:
            self._cache[key] = {
                "kind": "lru",
                "weight_ih": _cast("weight_ih", self.weight_ih, dtype),
                "lambda_re": _cast("lambda_re", self.eigenvalues.real, dtype),
                "lambda_im": _cast("lambda_im", self.eigenvalues.imag, dtype),
            }
        return self._cache[key]

    def trainable(self, copy: bool = True) -> dict[str, np.ndarray]:
        """``nu_log``, ``theta_log``, ``B_re``, ``B_im`` and ``gamma_log`` (copies)."""
        return {
            "nu_log": self.nu_log.copy(),
            "theta_log": self.theta_log.copy(),
            "B_re": self.B_re.copy(),
            "B_im": self.B_im.copy(),
            "gamma_log": np.log(np.maximum(self.gamma, 1e-300)),
        }

    def replace(self, params: Mapping[str, np.ndarray]) -> LRU:
        return LRU(
            params["nu_log"],
            params["theta_log"],
            params["B_re"],
            params["B_im"],
            gamma_log=params["gamma_log"],
        )

    def split_grads(self, flat: np.ndarray) -> dict[str, np.ndarray]:
        """The core's gradient in ``[W_ih (2H x I) | Re lambda | Im lambda]``, carried by the
        chain rule to the parametrisation ``lambda = exp(-exp(nu) + i exp(theta))``,
        ``W_ih = [gamma B_re; gamma B_im]``."""
        H, I = self.units, self.input_size
        dW = flat[: 2 * H * I].reshape(2 * H, I)
        da, db = flat[2 * H * I : 2 * H * I + H], flat[2 * H * I + H :]
        g, lam = self.gamma, self.eigenvalues
        a, b = lam.real, lam.imag
        e_nu, phi = np.exp(self.nu_log), np.exp(self.theta_log)
        d_gamma = (dW[:H] * self.B_re + dW[H:] * self.B_im).sum(axis=1)
        return {
            "nu_log": -e_nu * (da * a + db * b),
            "theta_log": phi * (db * a - da * b),
            "B_re": g[:, None] * dW[:H],
            "B_im": g[:, None] * dW[H:],
            "gamma_log": g * d_gamma,
        }

    def __repr__(self) -> str:
        mod = np.abs(self.eigenvalues)
        return (
            f"LRU(input_size={self.input_size}, units={self.units}, "
            f"|lambda| in [{mod.min():.4g}, {mod.max():.4g}])"
        )
