# Hand-written stubs of the compiled module (checked with `python -m mypy.stubtest longdep._core`).
from typing import Any

import numpy as np
import numpy.typing as npt

__version__: str
DEFAULT_MEMORY_BUDGET: int
MAX_THREADS: int
__all__ = [
    "DEFAULT_MEMORY_BUDGET",
    "MAX_THREADS",
    "__version__",
    "adjoints",
    "cancel",
    "forward",
    "gemv_seconds",
    "grad_norms",
    "grad_norms_every",
    "jacobian_norms",
    "lyapunov_spectrum",
    "param_grads",
    "plan_segment",
    "sensitivity",
    "simd_level",
    "split_parts",
    "tangents",
]

def forward(
    spec: dict[str, Any],
    x: npt.NDArray[Any],
    s0: npt.NDArray[Any],
    threads: int | None = None,
    full: bool = False,
) -> npt.NDArray[Any]: ...
def grad_norms(
    spec: dict[str, Any],
    x: npt.NDArray[Any],
    s0: npt.NDArray[Any],
    v: npt.NDArray[Any],
    wrt: str = "state",
    memory_budget: int = ...,
    threads: int | None = None,
    out: npt.NDArray[np.float64] | None = None,
    split: bool = True,
) -> npt.NDArray[np.float64]: ...
def grad_norms_every(
    spec: dict[str, Any],
    x: npt.NDArray[Any],
    s0: npt.NDArray[Any],
    v: npt.NDArray[Any],
    wrt: str = "state",
    memory_budget: int = ...,
    out: npt.NDArray[np.float64] | None = None,
) -> npt.NDArray[np.float64]: ...
def adjoints(
    spec: dict[str, Any],
    x: npt.NDArray[Any],
    s0: npt.NDArray[Any],
    v: npt.NDArray[Any],
    every: bool,
    at: list[int] | None,
    memory_budget: int,
    threads: int | None,
    state: npt.NDArray[np.float64],
    initial: npt.NDArray[np.float64],
    input: npt.NDArray[np.float64] | None = None,
    memory: npt.NDArray[np.float64] | None = None,
    v_scale: npt.NDArray[np.float64] | None = None,
    seed: npt.NDArray[np.float64] | None = None,
    seed_scale: npt.NDArray[np.float64] | None = None,
    scales: npt.NDArray[np.float64] | None = None,
    initial_scale: npt.NDArray[np.float64] | None = None,
) -> None: ...
def tangents(
    spec: dict[str, Any],
    x: npt.NDArray[Any],
    s0: npt.NDArray[Any],
    u: npt.NDArray[Any],
    dx: npt.NDArray[Any],
    at: list[int] | None,
    out: npt.NDArray[np.float64],
    dx_scale: npt.NDArray[np.float64] | None = None,
    scales: npt.NDArray[np.float64] | None = None,
) -> None: ...
def sensitivity(
    spec: dict[str, Any],
    x: npt.NDArray[Any],
    s0: npt.NDArray[Any],
    u: npt.NDArray[Any],
    part: str = "state",
    threads: int | None = None,
    out: npt.NDArray[np.float64] | None = None,
) -> npt.NDArray[np.float64]: ...
def lyapunov_spectrum(
    spec: dict[str, Any],
    x: npt.NDArray[Any],
    s0: npt.NDArray[Any],
    k: int,
    warmup: int = 0,
    return_local: bool = False,
    threads: int | None = None,
) -> Any: ...
def jacobian_norms(
    spec: dict[str, Any],
    x: npt.NDArray[Any],
    s0: npt.NDArray[Any],
    every: int = 1,
    threads: int | None = None,
) -> npt.NDArray[np.float64]: ...
def param_grads(
    spec: dict[str, Any],
    x: npt.NDArray[Any],
    s0: npt.NDArray[Any],
    dh: npt.NDArray[Any],
    inputs: bool = False,
    memory_budget: int = ...,
    threads: int | None = None,
) -> Any: ...
def gemv_seconds(rows: int, cols: int, reps: int = 2000, double: bool = False) -> float: ...
def simd_level() -> str: ...
def cancel(ident: int | None = None) -> int: ...
def plan_segment(
    spec: dict[str, Any], steps: int, memory_budget: int, double: bool = True
) -> int: ...
def split_parts(
    spec: dict[str, Any], batch: int, steps: int, threads: int | None = None, double: bool = True
) -> int: ...
