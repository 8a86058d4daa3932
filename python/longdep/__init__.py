"""longdep: measure the long-range dependency problem of recurrent networks.

Exact forward passes, BPTT gradient norms and forward sensitivities of Elman, LSTM,
GRU, LRU and the 2023–2025 recurrences (minGRU, ...) over very long sequences,
computed by a Rust core.

>>> import longdep as ld
"""

from __future__ import annotations

from . import _core, analysis, init, kinds, tasks, training
from .analysis import (
    compare,
    compare_metrics,
    curve_metrics,
    decay_rate,
    memory_capacity,
    memory_horizon,
    regime,
)
from .attention import Attention
from .cells import GRU, LRU, LSTM, Elman, RecurrentCell
from .connectivity import Connectivity, connectivity
from .core import (
    DEFAULT_MEMORY_BUDGET,
    cancel,
    forward,
    grad_norms,
    jacobian_norms,
    lyapunov_spectrum,
    sensitivity,
)
from .errors import (
    ArgumentError,
    BudgetError,
    DTypeError,
    LongdepError,
    NumericsError,
    ShapeError,
)
from .load import load
from .modern import RGLRU, SLSTM, MinGRU, MinLSTM, SelectiveSSM
from .products import JVP, VJP, jvp, vjp
from .stack import Bidirectional, Stack, StackJVP, StackVJP
from .training import param_grads, train

__version__: str = _core.__version__

__all__ = [
    "DEFAULT_MEMORY_BUDGET",
    "GRU",
    "JVP",
    "LRU",
    "LSTM",
    "RGLRU",
    "SLSTM",
    "VJP",
    "ArgumentError",
    "Attention",
    "Bidirectional",
    "BudgetError",
    "Connectivity",
    "DTypeError",
    "Elman",
    "LongdepError",
    "MinGRU",
    "MinLSTM",
    "NumericsError",
    "RecurrentCell",
    "SelectiveSSM",
    "ShapeError",
    "Stack",
    "StackJVP",
    "StackVJP",
    "__version__",
    "analysis",
    "cancel",
    "compare",
    "compare_metrics",
    "connectivity",
    "curve_metrics",
    "decay_rate",
    "forward",
    "grad_norms",
    "init",
    "jacobian_norms",
    "jvp",
    "kinds",
    "load",
    "lyapunov_spectrum",
    "memory_capacity",
    "memory_horizon",
    "param_grads",
    "regime",
    "sensitivity",
    "simd_level",
    "tasks",
    "train",
    "training",
    "vjp",
]


def simd_level() -> str:
    """The SIMD instruction set the Rust kernels use on this CPU."""
    return _core.simd_level()
