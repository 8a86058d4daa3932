"""The 2023–2025 recurrences: minGRU, minLSTM, RG-LRU, Mamba's selective SSM and sLSTM.

Each class here is the whole Python declaration of its kind: its parameters by name
and shape (``PARAMS``, in the order of the core's flat gradient), how it is built,
copied and initialised (``random``, with the initialisation its paper uses), which sweep
keys it takes and which dashboard group shows it. The numerics live in the Rust file of
the same kind (``rnn_core/src/cells/<kind>.rs``), found by the name in ``kind``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import numpy as np

from ._validate import as_float_array, frozen_copy, require_finite, shape_str
from .cells import RecurrentCell, _cast, _tensor_to_numpy
from .errors import ArgumentError, ShapeError

__all__ = ["RGLRU", "SLSTM", "MinGRU", "MinLSTM", "NamedCell", "SelectiveSSM"]

#: A parameter's shape from (H, I).
Shape = Callable[[int, int], tuple[int, ...]]


def _positive(name: str, v: Any) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
        raise ArgumentError(f"{name} must be a positive integer; got {v!r}")
    return int(v)


class NamedCell(RecurrentCell):
    """A cell stored as named arrays, as its checkpoints name them.

    A subclass declares ``PARAMS``: ``{name: (shape from (H, I), required)}`` in the order
    of the core's flat gradient, and how ``H`` and ``I`` follow from the arrays
    (``_sizes``). Optional arrays absent at construction are zeros. The arrays are
    copied and stored read-only (float64).
    """

    PARAMS: ClassVar[dict[str, tuple[Shape, bool]]] = {}
    #: Which group of remedies the dashboard shows it in.
    era: ClassVar[str] = "2023-2025"
    #: A short name with its paper, for listings (``longdep train``'s models).
    label: ClassVar[str] = ""
    #: Whether the input size is the hidden size (the cell gates ``x_t`` itself).
    input_is_hidden: ClassVar[bool] = False
    diagonal = True

    def __init__(self, **arrays: Any) -> None:
        unknown = set(arrays) - set(self.PARAMS)
        if unknown:
            raise ArgumentError(
                f"{type(self).__name__} has no parameter {sorted(unknown)}; "
                f"its parameters are {list(self.PARAMS)}"
            )
        got = {}
        for name, a in arrays.items():
            if a is None:
                continue
            arr = as_float_array(name, a, np.float64)
            require_finite(name, arr)
            got[name] = arr
        for name, (_, required) in self.PARAMS.items():
            if required and name not in got:
                raise ArgumentError(f"{type(self).__name__} needs {name}; got none")
        H, I = self._sizes(got)
        if H < 1 or I < 1:
            raise ShapeError(
                f"{type(self).__name__} needs hidden and input sizes >= 1; got H = {H}, I = {I}"
            )
        self._H, self._I = H, I
        self._arrays: dict[str, np.ndarray] = {}
        for name in self.PARAMS:
            want = self._shape(name, H, I)
            arr = got.get(name, np.zeros(want))
            if arr.shape != want:
                raise ShapeError(
                    f"{name} must have shape {shape_str(want)} for {type(self).__name__} "
                    f"(H = {H}, I = {I}); got {shape_str(arr.shape)}"
                )
            self._arrays[name] = frozen_copy(arr)
        self._cache: dict[str, dict[str, Any]] = {}

    def _sizes(self, arrays: Mapping[str, np.ndarray]) -> tuple[int, int]:
        raise NotImplementedError

    def _shape(self, name: str, H: int, I: int) -> tuple[int, ...]:
        """The shape parameter ``name`` must have (``PARAMS``; after ``_sizes``)."""
        return self.PARAMS[name][0](H, I)

    def __getattr__(self, name: str) -> np.ndarray:
        arrays = self.__dict__.get("_arrays", {})
        if name in arrays:
            return arrays[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    @property
    def hidden_size(self) -> int:
        return self._H

    @property
    def input_size(self) -> int:
        return self._I

    def spec(self, dtype: np.dtype | type = np.float64) -> dict[str, Any]:
        key = np.dtype(dtype).name
        if key not in self._cache:
            spec: dict[str, Any] = {"kind": self.kind}
            for name, a in self._arrays.items():
                spec[name] = _cast(name, a, dtype)
            self._cache[key] = spec
        return self._cache[key]

    def trainable(self, copy: bool = True) -> dict[str, np.ndarray]:
        return {k: v.copy() for k, v in self._arrays.items()} if copy else dict(self._arrays)

    def replace(self, params: Mapping[str, np.ndarray]) -> NamedCell:
        return type(self)(**{k: params[k] for k in self.PARAMS})

    @classmethod
    def from_state_dict(
        cls, state: Mapping[str, Any], *, layer: int = 0, **kwargs: Any
    ) -> RecurrentCell:
        """Build from a state dict with this kind's parameter names (optionally with a
        ``_l{layer}`` suffix, as torch names layers)."""
        if kwargs:
            raise ArgumentError(f"{cls.__name__} takes no options; got {sorted(kwargs)}")
        arrays = {}
        for name in cls.PARAMS:
            for key in (f"{name}_l{layer}", name):
                if key in state:
                    arrays[name] = _tensor_to_numpy(state[key])
                    break
        missing = [n for n, (_, req) in cls.PARAMS.items() if req and n not in arrays]
        if missing:
            have = ", ".join(sorted(str(k) for k in state)) or "nothing"
            raise ArgumentError(f"state dict must contain {missing} for {cls.__name__}; has {have}")
        return cls(**arrays)

    @classmethod
    def from_torch(cls, module: Any) -> RecurrentCell:
        """Copy the parameters of a module that names them like this kind does."""
        state = {n: getattr(module, n) for n in cls.PARAMS if getattr(module, n, None) is not None}
        return cls.from_state_dict(state)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(input_size={self._I}, hidden_size={self._H})"


def _torch_linear(rng: np.random.Generator, rows: int, cols: int) -> tuple[np.ndarray, np.ndarray]:
    """PyTorch's ``nn.Linear`` default: weight and bias ``U(-1/sqrt(cols), 1/sqrt(cols))``."""
    bound = 1.0 / math.sqrt(cols)
    return rng.uniform(-bound, bound, size=(rows, cols)), rng.uniform(-bound, bound, size=rows)


class MinGRU(NamedCell):
    """minGRU (Feng et al. 2024, "Were RNNs all we needed?"): the gate and the candidate
    read only the input, so ``h_t`` depends on ``h_{t-1}`` through a diagonal.

    ``z = sigmoid(W_z x + b_z)``, ``h~ = W_h x + b_h``, ``h_t = (1 - z) * h_{t-1} + z * h~``.
    The step Jacobian is ``diag(1 - z_t)``: the input decides, step by step, how much of
    each unit survives (input-dependent forgetting), and training can use a parallel scan.

    Parameters
    ----------
    weight_ih
        ``(2H, I)``, rows ``[z; h~]``.
    bias_ih
        ``(2H,)`` or None (zeros).

    Examples
    --------
    >>> import numpy as np, longdep as ld
    >>> w = np.zeros((2, 1))  # z = sigmoid(0) = 1/2: half of h survives each step
    >>> ld.grad_norms(ld.MinGRU(w), np.zeros((4, 1)), np.ones(1)).tolist()
    [0.125, 0.25, 0.5, 1.0]
    """

    kind = "mingru"
    label = "minGRU (Feng et al. 2024)"
    gates = 2
    PARAMS: ClassVar[dict[str, tuple[Shape, bool]]] = {
        "weight_ih": (lambda H, I: (2 * H, I), True),
        "bias_ih": (lambda H, I: (2 * H,), False),
    }
    sweep_keys = ("chrono",)

    def __init__(self, weight_ih: Any, bias_ih: Any = None) -> None:
        super().__init__(weight_ih=weight_ih, bias_ih=bias_ih)

    def _sizes(self, arrays: Mapping[str, np.ndarray]) -> tuple[int, int]:
        w = arrays["weight_ih"]
        if w.ndim != 2 or w.shape[0] % 2:
            raise ShapeError(
                f"weight_ih must have shape (2*H, I) (rows [z; h~]); got {shape_str(w.shape)}"
            )
        return w.shape[0] // 2, w.shape[1]

    @classmethod
    def random(
        cls,
        H: int,
        I: int = 1,
        *,
        chrono: float | None = None,
        input_scale: float = 1.0,
        seed: int = 0,
    ) -> MinGRU:
        """The paper's initialisation (PyTorch's ``nn.Linear``: weights and biases
        ``U(-1/sqrt(I), 1/sqrt(I))``), the weights times ``input_scale``.

        ``chrono=T_max`` sets the gate bias to ``b_z = -log(U[1, T_max - 1])``, so that at
        zero input unit j keeps ``1 - z_j = u / (1 + u)`` per step: memory times spread
        over ``[2, T_max]``, the minGRU analogue of chrono init (Tallec & Ollivier 2018).
        """
        H, I = _positive("H", H), _positive("I", I)
        rng = np.random.default_rng(seed)
        w, b = _torch_linear(rng, 2 * H, I)
        if chrono is not None:
            if isinstance(chrono, bool) or not isinstance(chrono, (int, float)) or chrono <= 2:
                raise ArgumentError(f"chrono must be a number T_max > 2; got {chrono!r}")
            b[:H] = -np.log(rng.uniform(1.0, chrono - 1.0, size=H))
        return cls(input_scale * w, b)


class MinLSTM(NamedCell):
    """minLSTM (Feng et al. 2024): forget and input gates that read only the input,
    normalised to sum to one.

    ``f, i = sigmoid(W_f x + b_f), sigmoid(W_i x + b_i)``, ``f' = f / (f + i)``,
    ``i' = i / (f + i)``, ``h~ = W_h x + b_h``, ``h_t = f' * h_{t-1} + i' * h~``.
    The step Jacobian is ``diag(f'_t)``.

    Parameters
    ----------
    weight_ih
        ``(3H, I)``, rows ``[f; i; h~]``.
    bias_ih
        ``(3H,)`` or None (zeros).
    """

    kind = "minlstm"
    label = "minLSTM (Feng et al. 2024)"
    gates = 3
    PARAMS: ClassVar[dict[str, tuple[Shape, bool]]] = {
        "weight_ih": (lambda H, I: (3 * H, I), True),
        "bias_ih": (lambda H, I: (3 * H,), False),
    }
    sweep_keys = ("forget_bias",)

    def __init__(self, weight_ih: Any, bias_ih: Any = None) -> None:
        super().__init__(weight_ih=weight_ih, bias_ih=bias_ih)

    def _sizes(self, arrays: Mapping[str, np.ndarray]) -> tuple[int, int]:
        w = arrays["weight_ih"]
        if w.ndim != 2 or w.shape[0] % 3:
            raise ShapeError(
                f"weight_ih must have shape (3*H, I) (rows [f; i; h~]); got {shape_str(w.shape)}"
            )
        return w.shape[0] // 3, w.shape[1]

    @classmethod
    def random(
        cls,
        H: int,
        I: int = 1,
        *,
        forget_bias: float = 0.0,
        input_scale: float = 1.0,
        seed: int = 0,
    ) -> MinLSTM:
        """PyTorch's ``nn.Linear`` initialisation (the paper's), the weights times
        ``input_scale``; ``forget_bias`` is added to ``b_f`` (a positive value makes
        ``f'`` start nearer 1: longer memory)."""
        H, I = _positive("H", H), _positive("I", I)
        w, b = _torch_linear(np.random.default_rng(seed), 3 * H, I)
        b[:H] += float(forget_bias)
        return cls(input_scale * w, b)


class RGLRU(NamedCell):
    """RG-LRU (De et al. 2024, Griffin; RecurrentGemma's recurrence): a real-gated
    diagonal linear recurrence whose decay the input selects.

    ``gate_a = sigmoid(W_a x + b_a)``, ``gate_x = sigmoid(W_x x + b_x)``,
    ``log a = -8 gate_a softplus(a_param)``, ``h_t = a * h_{t-1} + sqrt(1 - a^2) * (gate_x * x_t)``.
    The input size equals ``H``. Block-diagonal (multi-head) gates are the special case
    of full matrices with zero off-diagonal blocks.

    Parameters
    ----------
    weight_a, weight_x
        ``(H, H)``.
    bias_a, bias_x
        ``(H,)`` or None (zeros).
    a_param
        ``(H,)``: ``softplus(a_param)`` sets the slowest decay.
    """

    kind = "rglru"
    label = "RG-LRU (De et al. 2024, Griffin)"
    PARAMS: ClassVar[dict[str, tuple[Shape, bool]]] = {
        "weight_a": (lambda H, I: (H, I), True),
        "bias_a": (lambda H, I: (H,), False),
        "weight_x": (lambda H, I: (H, I), True),
        "bias_x": (lambda H, I: (H,), False),
        "a_param": (lambda H, I: (H,), True),
    }
    sweep_keys = ("r_min", "r_max")
    input_is_hidden = True

    def __init__(
        self,
        weight_a: Any,
        bias_a: Any,
        weight_x: Any,
        bias_x: Any,
        a_param: Any,
    ) -> None:
        super().__init__(
            weight_a=weight_a, bias_a=bias_a, weight_x=weight_x, bias_x=bias_x, a_param=a_param
        )

    def _sizes(self, arrays: Mapping[str, np.ndarray]) -> tuple[int, int]:
        w = arrays["weight_a"]
        if w.ndim != 2 or w.shape[0] != w.shape[1]:
            raise ShapeError(
                f"weight_a must have shape (H, H): the RG-LRU's input size equals its hidden "
                f"size; got {shape_str(w.shape)}"
            )
        return w.shape[0], w.shape[1]

    @classmethod
    def random(
        cls,
        H: int,
        I: int | None = None,
        *,
        r_min: float = 0.9,
        r_max: float = 0.999,
        input_scale: float = 1.0,
        seed: int = 0,
    ) -> RGLRU:
        """RecurrentGemma's initialisation: ``a^(1/8)`` at ``gate_a = 1`` uniform in
        modulus² on ``[r_min², r_max²]`` (``softplus(a_param) = -ln r``), gate weights
        ``N(0, input_scale² / H)``, zero gate biases. ``I`` must be ``H`` (or None)."""
        H = _positive("H", H)
        if I is not None and I != H:
            raise ArgumentError(f"the RG-LRU's input size equals H = {H}; got I = {I}")
        if not (0 < r_min <= r_max < 1):
            raise ArgumentError(
                f"r_min, r_max must satisfy 0 < r_min <= r_max < 1; got {r_min}, {r_max}"
            )
        rng = np.random.default_rng(seed)
        r = np.sqrt(rng.uniform(r_min**2, r_max**2, size=H))
        sp = -np.log(r)  # softplus(a_param) > 0
        a_param = sp + np.log(-np.expm1(-sp))  # inverse softplus
        std = input_scale / math.sqrt(H)
        return cls(
            rng.normal(scale=std, size=(H, H)),
            np.zeros(H),
            rng.normal(scale=std, size=(H, H)),
            np.zeros(H),
            a_param,
        )


class SLSTM(NamedCell):
    """sLSTM (Beck et al. 2024, xLSTM): exponential gating with a normaliser and a
    stabiliser, the pointwise step of NX-AI/xlstm. State ``(h, c, n, m)``.

    ``[i_r f_r z_r o_r] = W x + R h_{t-1} + b``; ``log f~ = m_{t-1} + log sigmoid(f_r)``,
    ``m_t = max(i_r, log f~)``, ``i' = exp(i_r - m_t)``, ``f' = exp(log f~ - m_t)``;
    ``c_t = f' c_{t-1} + i' tanh(z_r)``, ``n_t = f' n_{t-1} + i'``,
    ``h_t = sigmoid(o_r) c_t / n_t``. The initial state is a 4-tuple ``(h0, c0, n0, m0)``;
    ``grad_norms(wrt="state")`` is the total ``||dL/dh_t||``, which the stabiliser does
    not change.

    Parameters
    ----------
    weight_ih
        ``(4H, I)``, gates ``(i, f, z, o)``.
    weight_hh
        ``(4H, H)``: the recurrent ``R``.
    bias
        ``(4H,)`` or None (zeros).
    """

    kind = "slstm"
    label = "sLSTM (Beck et al. 2024, xLSTM)"
    gates = 4
    diagonal = False
    state_parts = ("h", "c", "n", "m")
    PARAMS: ClassVar[dict[str, tuple[Shape, bool]]] = {
        "weight_ih": (lambda H, I: (4 * H, I), True),
        "weight_hh": (lambda H, I: (4 * H, H), True),
        "bias": (lambda H, I: (4 * H,), False),
    }

    def __init__(self, weight_ih: Any, weight_hh: Any, bias: Any = None) -> None:
        super().__init__(weight_ih=weight_ih, weight_hh=weight_hh, bias=bias)

    def _sizes(self, arrays: Mapping[str, np.ndarray]) -> tuple[int, int]:
        w_hh, w_ih = arrays["weight_hh"], arrays["weight_ih"]
        if w_hh.ndim != 2 or w_hh.shape[0] != 4 * w_hh.shape[1]:
            raise ShapeError(
                f"weight_hh must have shape (4*H, H) (gates i, f, z, o); got {shape_str(w_hh.shape)}"
            )
        if w_ih.ndim != 2:
            raise ShapeError(f"weight_ih must have shape (4*H, I); got {shape_str(w_ih.shape)}")
        return w_hh.shape[1], w_ih.shape[1]

    @property
    def state_size(self) -> int:
        return 4 * self._H

    @classmethod
    def random(
        cls,
        H: int,
        I: int = 1,
        *,
        input_scale: float = 1.0,
        seed: int = 0,
    ) -> SLSTM:
        """xLSTM's initialisation of the sLSTM: ``W ~ N(0, input_scale² / I)``,
        ``R ~ N(0, 1 / H)``, forget-gate bias spread linearly over ``[3, 6]`` (long memory
        at the start), other biases zero."""
        H, I = _positive("H", H), _positive("I", I)
        rng = np.random.default_rng(seed)
        b = np.zeros(4 * H)
        b[H : 2 * H] = np.linspace(3.0, 6.0, H)
        return cls(
            rng.normal(scale=input_scale / math.sqrt(I), size=(4 * H, I)),
            rng.normal(scale=1.0 / math.sqrt(H), size=(4 * H, H)),
            b,
        )


def _inverse_softplus(y: np.ndarray) -> np.ndarray:
    """``z`` with ``softplus(z) = y`` (``y > 0``)."""
    return y + np.log(-np.expm1(-y))


class SelectiveSSM(NamedCell):
    """Mamba's selective state-space recurrence (S6; Gu & Dao 2023), the scan of
    mamba_ssm's ``selective_scan_ref`` with ``delta_softplus`` and the mixer's ``x_proj``
    and ``dt_proj``. ``D`` channels, ``N`` states per channel, step-size rank ``R``.

    ``[delta; B_t; C_t] = x_proj_weight u_t``, ``Delta_t = softplus(dt_proj_weight delta +
    dt_proj_bias)``, ``A = -exp(A_log)``;
    ``h_t[d, n] = exp(Delta_t[d] A[d, n]) h_{t-1}[d, n] + Delta_t[d] B_t[n] u_t[d]``,
    output ``y_t[d] = sum_n C_t[n] h_t[d, n] + D[d] u_t[d]``.

    The input ``u_t`` has ``D`` entries (``input_size == hidden_size == D``); the state
    is ``(D, N)``, so ``h0`` is ``(B, D, N)`` (``(D, N)`` for 2-D ``x``); ``forward``
    returns ``y`` ``(T, B, D)``; ``grad_norms(wrt="state")`` is ``||dL/dh_t||`` over the
    whole ``(D, N)`` state for ``L = v . y_{T-1}``; ``sensitivity``'s ``u`` has ``D N``
    entries (the state flattened ``d``-major). The step Jacobian is
    ``diag(exp(Delta_t A))``: the input selects the decay of every state entry.

    The cell is the recurrence only: a Mamba block's ``in_proj``, causal convolution,
    SiLU gate and ``out_proj`` stay outside it (``u_t`` is the mixer's input to the scan).

    Parameters
    ----------
    x_proj_weight
        ``(R + 2N, D)``, rows ``[delta; B; C]`` (mamba_ssm's ``x_proj.weight``).
    dt_proj_weight
        ``(D, R)``.
    dt_proj_bias
        ``(D,)``.
    A_log
        ``(D, N)``; ``A = -exp(A_log)``.
    D
        ``(D,)``: the skip weight.

    Examples
    --------
    >>> import numpy as np, longdep as ld
    >>> z = np.log(np.expm1(0.5))  # dt_proj_bias with softplus(z) = 0.5: Delta = 0.5
    >>> cell = ld.SelectiveSSM(np.array([[0.0], [1.0], [1.0]]), np.zeros((1, 1)),
    ...                        np.array([z]), np.zeros((1, 1)), np.zeros(1))
    >>> # A = -1: a state perturbation keeps exp(Delta A) = exp(-0.5) of itself per step
    >>> s = ld.sensitivity(cell, np.zeros((3, 1)), np.ones(1))
    >>> np.allclose(s, np.exp(-0.5) ** np.arange(1, 4))
    True
    """

    kind = "ssm"
    output_map = True
    label = "selective SSM (Gu & Dao 2023, Mamba's S6)"
    PARAMS: ClassVar[dict[str, tuple[Shape, bool]]] = {
        "x_proj_weight": (lambda H, I: (0, I), True),
        "dt_proj_weight": (lambda H, I: (H, 0), True),
        "dt_proj_bias": (lambda H, I: (H,), True),
        "A_log": (lambda H, I: (H, 0), True),
        "D": (lambda H, I: (H,), True),
    }
    input_is_hidden = True
    #: Mamba's default state size per channel.
    D_STATE: ClassVar[int] = 16
    #: The names in a mamba_ssm ``Mamba`` mixer's state dict.
    MAMBA_NAMES: ClassVar[dict[str, str]] = {
        "x_proj_weight": "x_proj.weight",
        "dt_proj_weight": "dt_proj.weight",
        "dt_proj_bias": "dt_proj.bias",
        "A_log": "A_log",
        "D": "D",
    }

    def __init__(
        self, x_proj_weight: Any, dt_proj_weight: Any, dt_proj_bias: Any, A_log: Any, D: Any
    ) -> None:
        super().__init__(
            x_proj_weight=x_proj_weight,
            dt_proj_weight=dt_proj_weight,
            dt_proj_bias=dt_proj_bias,
            A_log=A_log,
            D=D,
        )

    def _sizes(self, arrays: Mapping[str, np.ndarray]) -> tuple[int, int]:
        a_log, dt_w, x_w = arrays["A_log"], arrays["dt_proj_weight"], arrays["x_proj_weight"]
        if a_log.ndim != 2 or 0 in a_log.shape:
            raise ShapeError(
                f"A_log must have shape (D, N) with D, N >= 1; got {shape_str(a_log.shape)}"
            )
        d, n = a_log.shape
        if dt_w.ndim != 2 or dt_w.shape[0] != d or dt_w.shape[1] < 1:
            raise ShapeError(
                f"dt_proj_weight must have shape (D, R) = ({d}, R) with R >= 1 (D from A_log); "
                f"got {shape_str(dt_w.shape)}"
            )
        r = dt_w.shape[1]
        if x_w.ndim != 2 or x_w.shape[0] != r + 2 * n:
            raise ShapeError(
                f"x_proj_weight must have R + 2N = {r + 2 * n} rows (rows [delta; B; C]: R = {r} "
                f"from dt_proj_weight, N = {n} from A_log); got {shape_str(x_w.shape)}"
            )
        if x_w.shape[1] != d:
            raise ShapeError(
                f"x_proj_weight must have D = {d} columns (the input u_t has one entry per "
                f"channel); got {shape_str(x_w.shape)}"
            )
        self._N, self._R = n, r
        return d, d

    def _shape(self, name: str, H: int, I: int) -> tuple[int, ...]:
        n, r = self._N, self._R
        return {
            "x_proj_weight": (r + 2 * n, H),
            "dt_proj_weight": (H, r),
            "dt_proj_bias": (H,),
            "A_log": (H, n),
            "D": (H,),
        }[name]

    @property
    def state_size(self) -> int:
        return self._H * self._N

    @property
    def state_shape(self) -> tuple[int, ...]:
        return (self._H, self._N)

    @property
    def d_state(self) -> int:
        """``N``, the states per channel."""
        return self._N

    @property
    def dt_rank(self) -> int:
        """``R``, the rank of the step-size projection."""
        return self._R

    @classmethod
    def state_size_for(cls, H: int) -> int:
        return H * cls.D_STATE

    @classmethod
    def from_state_dict(
        cls,
        state: Mapping[str, Any],
        *,
        layer: int | None = None,
        prefix: str | None = None,
        **kwargs: Any,
    ) -> RecurrentCell:
        """Build from a mamba_ssm ``Mamba`` mixer's parameters: ``x_proj.weight``,
        ``dt_proj.weight``, ``dt_proj.bias``, ``A_log``, ``D`` (or this class's names).

        In a whole model's state dict the names carry a prefix
        (``backbone.layers.3.mixer.``): pass ``prefix``, or ``layer=k`` to take the mixer
        whose prefix contains ``layers.k.``; a dict with one mixer needs neither.
        """
        if kwargs:
            raise ArgumentError(f"SelectiveSSM.from_state_dict takes no options {sorted(kwargs)}")
        keys = [str(k) for k in state]
        if prefix is None:
            found = sorted(
                {k[: -len("x_proj.weight")] for k in keys if k.endswith("x_proj.weight")}
            )
            if layer is not None:
                found = [p for p in found if f"layers.{layer}." in p or p.startswith(f"{layer}.")]
            if len(found) == 1:
                prefix = found[0]
            elif "x_proj_weight" in state:
                prefix = ""
            elif not found:
                have = ", ".join(sorted(keys)[:20]) or "nothing"
                raise ArgumentError(
                    "state dict has no selective SSM: SelectiveSSM reads x_proj.weight, "
                    f"dt_proj.weight, dt_proj.bias, A_log and D; has {have}"
                )
            else:
                raise ArgumentError(
                    f"state dict has {len(found)} mixers ({', '.join(repr(p) for p in found[:8])}); "
                    "choose one with prefix=... or layer=k"
                )
        arrays = {}
        for name, mamba in cls.MAMBA_NAMES.items():
            for key in (prefix + mamba, prefix + name):
                if key in state:
                    arrays[name] = _tensor_to_numpy(state[key])
                    break
            else:
                raise ArgumentError(
                    f"state dict must contain {prefix + mamba!r} for SelectiveSSM "
                    f"(prefix {prefix!r})"
                )
        return cls(**arrays)

    @classmethod
    def from_torch(cls, module: Any) -> RecurrentCell:
        """Copy the scan parameters of a mamba_ssm ``Mamba`` mixer (or of any module with
        ``x_proj``, ``dt_proj``, ``A_log`` and ``D``)."""
        try:
            state = module.state_dict()
        except AttributeError:
            raise ArgumentError(
                f"from_torch needs a torch module with a state_dict; got {type(module).__name__}"
            ) from None
        return cls.from_state_dict(state, prefix="")

    @classmethod
    def random(
        cls,
        H: int,
        I: int | None = None,
        *,
        d_state: int | None = None,
        dt_rank: int | None = None,
        dt_min: float = 0.001,
        dt_max: float = 0.1,
        input_scale: float = 1.0,
        seed: int = 0,
    ) -> SelectiveSSM:
        """Mamba's initialisation for ``H`` channels: ``A_log = log(1..N)`` in every
        channel (S4D-real), ``D = 1``, ``Delta`` at zero input log-uniform on
        ``[dt_min, dt_max]`` (through ``dt_proj_bias``), ``dt_proj_weight`` uniform within
        ``±R^-1/2``, ``x_proj`` as ``nn.Linear`` without bias (times ``input_scale``).
        ``N = 16`` and ``R = ceil(H / 32)`` (Mamba's ``d_inner / 32``) by default. ``I``
        must be ``H`` (or None)."""
        H = _positive("H", H)
        if I is not None and I != H:
            raise ArgumentError(f"the selective SSM's input size equals H = {H}; got I = {I}")
        n = _positive("d_state", cls.D_STATE if d_state is None else d_state)
        r = _positive("dt_rank", math.ceil(H / 32) if dt_rank is None else dt_rank)
        if not (0 < dt_min <= dt_max):
            raise ArgumentError(
                f"dt_min, dt_max must satisfy 0 < dt_min <= dt_max; got {dt_min}, {dt_max}"
            )
        rng = np.random.default_rng(seed)
        x_w, _ = _torch_linear(rng, r + 2 * n, H)
        bound = r**-0.5
        dt_w = rng.uniform(-bound, bound, size=(H, r))
        dt = np.exp(rng.uniform(math.log(dt_min), math.log(dt_max), size=H))
        dt = np.maximum(dt, 1e-4)
        a_log = np.log(np.broadcast_to(np.arange(1, n + 1, dtype=np.float64), (H, n)))
        return cls(input_scale * x_w, dt_w, _inverse_softplus(dt), a_log, np.ones(H))

    def __repr__(self) -> str:
        return f"SelectiveSSM(channels={self._H}, d_state={self._N}, dt_rank={self._R})"
