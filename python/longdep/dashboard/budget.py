"""A cost budget on every request: estimate before computing, confirm, refuse, queue.

Every page prices what a click would compute with one function, :func:`estimate`, before
it computes anything. :func:`verdict` turns the price into a decision against the
server's :class:`Limits`:

- below ``confirm_seconds`` the page computes at once;
- above it the page asks first (:func:`allowed` shows the estimate and a button);
- above ``max_seconds`` or ``max_bytes`` it refuses and says why, in the user's language.

A request that may run (estimated at ``queue_seconds`` or more) then waits for one of a
fixed number of slots shared by every session of the server (:class:`JobQueue`), so eight
heavy sessions take turns instead of sharing two cores eightfold, while light requests
(and cached results of light settings) never wait. A queued session sees its place in
line; a session that stops while it waits leaves the line (and, once running, its
computation is cancelled by :func:`longdep.dashboard.session.watch_session`).

The limits come from the environment, read on every request (the number of slots once,
when the first heavy request comes):

================================  ==========================================  =========
``LONGDEP_DASHBOARD_JOBS``        heavy computations running at once          CPUs, ≤ 4
``LONGDEP_DASHBOARD_CONFIRM_S``   ask before computing above (seconds)        4
``LONGDEP_DASHBOARD_MAX_S``       refuse above (seconds)                      120
``LONGDEP_DASHBOARD_MAX_BYTES``   refuse above (bytes; also ≤ free RAM/jobs)  2 GiB
``LONGDEP_DASHBOARD_QUEUE_S``     wait for a slot from (seconds)              0.5
================================  ==========================================  =========
"""

from __future__ import annotations

import math
import os
import threading
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import streamlit as st

import longdep as ld
from longdep import sweep

from . import data, i18n
from .session import _stop_requested

__all__ = [
    "Cost",
    "JobQueue",
    "Limits",
    "QueueLeft",
    "allowed",
    "decay_cost",
    "estimate",
    "jobs",
    "lab_cost",
    "landscape_cost",
    "limits",
    "lyapunov_cost",
    "ordinal",
    "queued",
    "remedies_cost",
    "upload_cost",
    "verdict",
]

# -- the estimate ---------------------------------------------------------------------------
#
# Per-step cost of ``ld.grad_norms`` (forward, recomputation and reverse pass together),
# measured on the 2-core AMD EPYC this dashboard was written on (L2 1 MiB per core, L3
# 32 MiB), B = 1, H from 64 to 2048:
#
#     step = 0.2 us + rows * 0.002 us * H               (elementwise work per gate row)
#          + a * penalty * (rows * H^2 + in_rows * H * I)  (the matrix products)
#
# While the weights fit the second-level caches (<= 1.5 MiB) a multiply-add costs ``a`` =
# 8e-5 us in float64 and 4.5e-5 us in float32; beyond, the products stream from the
# shared cache, at 1.9e-4 and 1.0e-4 us, and once the weights outgrow that too
# ``penalty`` grows from 1 (<= 8 MiB) to 3.7 (>= 128 MiB, from memory), log-linearly
# between (LSTM H = 2048, 128 MiB: 11.7 ms per step).
# Measured (float64 / float32, us per step) against this model (in brackets), H = 128, 512,
# 1024: Elman 1.63 (1.8) / 1.22 (1.2), 48.4 (51) / 18.1 (13), 198 (202) / 98 (107);
# LSTM 8.1 (6.5) / 3.3 (4.2), 205 (204) / 106 (109), 1456 (1884) / 373 (712);
# GRU 4.2 (4.9) / 2.1 (3.2), 140 (153) / 77 (82), 777 (1245) / 264 (446).
#
# The diagonal recurrences have no recurrent matrix; their input projections run as one
# matrix-matrix product over a block of steps, and their elementwise work per state entry
# depends on the kind (vectorised exponentials; the SSM's softplus is scalar):
#
#     step = 0.1 us + d(kind) * S + a_mm * penalty * in_rows * H * I
#
# with ``a_mm`` = 5e-5 us per multiply-add in float64, 2.5e-5 in float32. Measured
# (float64, the Decay page's ``grad_norms`` run) at H = 64 / 256 / 1024:
# minGRU 0.34 / 1.13 / 4.89 us, minLSTM 0.69 / 2.15 / 9.42, RG-LRU (I = H) 1.33 / 8.15 /
# 220, SSM (N = 16) 10.6 / 49.9 / 225, LRU 0.15 / 0.30 / 1.05. The estimate is meant to be
# right within a factor of two or three: enough to tell seconds from minutes.

_STEP_US = 0.2
_ROW_US = 0.002
_MULADD_US = {4: 4.5e-5, 8: 8e-5}
_MULADD_MISS_US = {4: 1.0e-4, 8: 1.9e-4}
_L2_FIT = 3 << 19
_DIAG_STEP_US = 0.1
#: Microseconds per state entry and step of each diagonal kind (others: the largest).
_DIAG_US = {"mingru": 0.005, "minlstm": 0.009, "rglru": 0.01, "ssm": 0.012, "lru": 0.0005}
_DIAG_MULADD_US = {4: 2.5e-5, 8: 5e-5}
_CACHE_FIT, _CACHE_MISS = 8 << 20, 128 << 20
_MISS_PENALTY = 3.7
#: Seconds a call costs besides its steps (building the cell, drawing inputs, metrics).
_CALL_S = 0.005
#: Extra seconds per optimisation step of the training lab (Python: optimiser, batches).
_TRAIN_STEP_S = 8e-3
#: Passes over the sequence, relative to ``grad_norms``'s three.
_PASSES = {"grad_norms": 1.0, "forward": 1 / 3, "sensitivity": 2 / 3, "train": 1.8}
#: Kinds of the dashboard that are not catalogue names, and their catalogue kind.
_ALIASES = {"rnn": "elman", "vanilla": "elman", "irnn": "elman"}
#: Dense rows per step of the one non-recurrent model the dashboard compares.
_ATTENTION_ROWS = 2


@dataclass(frozen=True)
class Cost:
    """What a request costs: ``seconds`` of computation and the peak ``nbytes`` of memory.
    Costs of calls made one after the other add their seconds and keep the larger peak."""

    seconds: float
    nbytes: float

    def __add__(self, other: Cost) -> Cost:
        return Cost(self.seconds + other.seconds, max(self.nbytes, other.nbytes))


def _shape(kind: str, H: int) -> tuple[int, int, int, int]:
    """(dense recurrent rows, input rows, diagonal state size, state size) of a kind."""
    kind = _ALIASES.get(kind, kind)
    if kind == "attention":
        return _ATTENTION_ROWS, _ATTENTION_ROWS, 0, H
    cls: Any = ld.kinds.cell_class(kind)
    gates, state = int(cls.gates), int(cls.state_size_for(H))
    if cls.diagonal:
        return 0, gates + 1, state, state
    return gates, gates, 0, state


def _penalty(nbytes: float) -> float:
    """How much slower products get once their weights exceed the caches."""
    if nbytes <= _CACHE_FIT:
        return 1.0
    span = math.log(_CACHE_MISS / _CACHE_FIT)
    return 1.0 + (_MISS_PENALTY - 1) * min(1.0, math.log(nbytes / _CACHE_FIT) / span)


def _step_us(kind: str, H: int, I: int, item: int) -> float:
    rows, in_rows, diag, _ = _shape(kind, H)
    if diag:
        inputs = in_rows * H * I
        per_entry = _DIAG_US.get(_ALIASES.get(kind, kind), max(_DIAG_US.values()))
        return (
            _DIAG_STEP_US
            + per_entry * diag
            + _DIAG_MULADD_US[item] * _penalty(inputs * item) * inputs
        )
    products = rows * H * H + in_rows * H * I
    elementwise = _STEP_US + rows * _ROW_US * H
    weights = products * item
    if weights <= _L2_FIT:
        return elementwise + _MULADD_US[item] * products
    return elementwise + _MULADD_MISS_US[item] * _penalty(weights) * products


def estimate(
    kind: str,
    H: int,
    T: int,
    *,
    I: int = 1,
    B: int = 1,
    calls: float = 1,
    quantity: str = "grad_norms",
    k: int = 1,
    float64: bool = True,
) -> Cost:
    """The cost of ``calls`` runs of ``quantity`` on a cell of ``kind`` (a catalogue kind,
    ``"rnn"``, or ``"attention"``) with hidden size ``H`` and input size ``I``, over
    ``T`` steps and a batch of ``B``. ``quantity`` is ``grad_norms``, ``forward``,
    ``sensitivity``, ``lyapunov`` (``k`` exponents) or ``train`` (one optimisation step
    of ``B`` sequences per call).

    Time: ``calls * (T * B * step(H, I) * passes + overhead)``, the per-step cost of the
    module's comment (``~ H^2`` for dense cells, ``~ H`` for diagonal ones). Memory: the
    buffers one call keeps (:func:`longdep.sweep.estimate_case`: the inputs, drawn in
    float64, the curves and the reverse pass's records, at most the core's budget) plus
    the weights.

    >>> estimate("lstm", 512, 10**6).seconds > 120 > estimate("elman", 64, 10**4).seconds
    True
    """
    item = 8 if float64 else 4
    passes = (1 + k) / 3 if quantity == "lyapunov" else _PASSES[quantity]
    overhead = _TRAIN_STEP_S if quantity == "train" else _CALL_S
    seconds = T * B * _step_us(kind, H, I, item) * 1e-6 * passes + overhead
    rows, in_rows, _, state = _shape(kind, H)
    case = {
        "cell": _ALIASES.get(kind, kind),
        "hidden": H,
        "length": T,
        "batch": B,
        "input_size": I,
        "dtype": "float64" if float64 else "float32",
        "quantity": "grad_norms" if quantity == "train" else quantity,
        "k": k,
    }
    buffers = sweep.estimate_case(case)["bytes"]
    weights = (max(rows, 1) * H * H + max(in_rows, 1) * H * I + 4 * state) * 8
    return Cost(seconds * calls, buffers + weights)


# -- what each page computes ----------------------------------------------------------------


def _input_size(kind: str, H: int) -> int:
    """Input size of the dashboard's random cells: 1, or H for a kind that reads inputs
    of its own width (the pages encode their 1-wide sequence, ``data._fit_input``)."""
    if kind in ld.kinds.catalogue() and getattr(
        ld.kinds.cell_class(kind), "input_is_hidden", False
    ):
        return H
    return 1


def decay_cost(opts: Mapping[str, Any]) -> Cost:
    """One decay curve of the Decay page (its settings as ``data.decay`` takes them)."""
    kind, H = str(opts["kind"]), int(opts["H"])
    return estimate(kind, H, int(opts["T"]), I=_input_size(kind, H), float64=bool(opts["float64"]))


#: The cell kind of each remedy of the Remedies page that is not named after its kind.
_REMEDY_KINDS = {
    "vanilla": "elman",
    "residual": "elman",
    "layer_norm": "elman",
    "orthogonal": "elman",
    "identity": "elman",
    "lstm_chrono": "lstm",
}


def remedies_cost(H: int, T: int, remedies: tuple[str, ...]) -> Cost:
    """Every remedy's curve, the GRU gate's forward pass and the two clipping curves."""
    cost = estimate("gru", H, T, quantity="forward") + estimate("elman", H, T, calls=2)
    for name in remedies:
        kind = _REMEDY_KINDS.get(name, name)
        cost += estimate(kind, H, T, I=_input_size(kind, H))
    return cost


def landscape_cost(mode: str, nx: int, ny: int, T: int, H: int) -> Cost:
    """The Landscape page's grid (``data.landscape``): one tanh Elman curve per point,
    the hidden size fixed (``gain_input``) or one per row (``radius_H``)."""
    xs, ys = data.landscape_axes(mode, nx, ny)
    hs = [int(y) for y in ys] if mode == "radius_H" else [H] * len(ys)
    cost = Cost(0.0, 0.0)
    for h in hs:
        cost += estimate("elman", h, T, calls=len(xs))
    return cost


def lyapunov_cost(H: int, T: int, k: int) -> Cost:
    """The ``k`` largest Lyapunov exponents of one Elman cell."""
    return estimate("elman", H, T, quantity="lyapunov", k=k)


def upload_cost(cell: ld.RecurrentCell, T: int) -> Cost:
    """The decay curve of an uploaded cell: float64, inputs of the file's input size."""
    kind = _catalogue_kind(cell)
    return estimate(kind, int(cell.hidden_size), T, I=int(cell.input_size), float64=True)


def _catalogue_kind(cell: Any) -> str:
    for name in ld.kinds.catalogue():
        if type(cell) is ld.kinds.cell_class(name):
            return name
    return "elman"


def lab_cost(models: tuple[str, ...], T: int, H: int, steps: int, batch: int) -> Cost:
    """Training runs of the training lab: ``steps`` optimisation steps of ``batch``
    sequences for every model of ``trainlab.MODELS`` named in ``models``."""
    cost = Cost(0.0, 0.0)
    for model in models:
        kind = _ALIASES.get(model.split("-")[0], model.split("-")[0])
        # diagonal kinds read their inputs through an encoder of width ~H; the tasks'
        # own inputs are a few numbers wide
        I = H if _shape(kind, H)[2] else 8
        cost += estimate(kind, H, T, I=I, B=batch, calls=steps, quantity="train", float64=False)
    return cost


# -- limits and the decision ----------------------------------------------------------------


@dataclass(frozen=True)
class Limits:
    """The server's budget per request (see the module's table)."""

    jobs: int
    confirm_seconds: float
    max_seconds: float
    max_bytes: float
    queue_seconds: float


def _env(name: str, default: float) -> float:
    try:
        value = float(os.environ.get(name, default))
    except ValueError:
        return default
    return value if math.isfinite(value) and value >= 0 else default


def limits() -> Limits:
    """The limits in force, from the environment; memory also at most the machine's
    available memory shared between the slots."""
    jobs = max(1, int(_env("LONGDEP_DASHBOARD_JOBS", min(os.cpu_count() or 1, 4))))
    max_bytes = _env("LONGDEP_DASHBOARD_MAX_BYTES", 2 * 2**30)
    available = sweep.machine_memory()
    if available is not None:
        max_bytes = min(max_bytes, available / jobs)
    return Limits(
        jobs=jobs,
        confirm_seconds=_env("LONGDEP_DASHBOARD_CONFIRM_S", 4.0),
        max_seconds=_env("LONGDEP_DASHBOARD_MAX_S", 120.0),
        max_bytes=max_bytes,
        queue_seconds=_env("LONGDEP_DASHBOARD_QUEUE_S", 0.5),
    )


def verdict(cost: Cost, lim: Limits | None = None) -> str:
    """``"run"``, ``"confirm"``, ``"refuse_memory"`` or ``"refuse_time"`` for ``cost``."""
    lim = lim or limits()
    if cost.nbytes > lim.max_bytes:
        return "refuse_memory"
    if cost.seconds > lim.max_seconds:
        return "refuse_time"
    return "confirm" if cost.seconds > lim.confirm_seconds else "run"


def _bytes_text(n: float) -> str:
    for unit, size in (("GB", 1e9), ("MB", 1e6)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n / 1e3:.0f} kB"


def allowed(
    tr: i18n.Translator,
    cost: Cost,
    page: str,
    settings: Mapping[str, Any],
    hint: str,
    *,
    ask: bool = True,
) -> bool:
    """Whether the page may compute ``cost`` now. Refuses above the limits with the reason
    and ``hint`` (an i18n key: what to lower); above the confirmation threshold shows the
    estimate and a button (``<page>_go``) unless ``ask`` is False (the page's own button
    was the confirmation). Approved settings are remembered for the session."""
    lim = limits()
    decision = verdict(cost, lim)
    mem, s = _bytes_text(cost.nbytes), cost.seconds
    if decision == "refuse_memory":
        cap = _bytes_text(lim.max_bytes)
        st.error(
            tr("budget_refuse_memory", mem=mem, cap=cap) + " " + tr(hint), icon=":material/block:"
        )
        return False
    if decision == "refuse_time":
        text = tr("budget_refuse_time", s=s, cap=lim.max_seconds, mem=mem)
        st.error(text + " " + tr(hint), icon=":material/block:")
        return False
    if decision == "run" or not ask:
        return True
    approved = st.session_state.setdefault("_budget_approved", set())
    key = (page, tuple(sorted((k, repr(v)) for k, v in settings.items())))
    if key in approved:
        return True
    st.info(tr("budget_confirm", s=s, mem=mem), icon=":material/hourglass_top:")
    if st.button(tr("budget_go"), key=f"{page}_go", type="primary"):
        approved.add(key)
        return True
    return False


# -- the queue ------------------------------------------------------------------------------


class QueueLeft(Exception):
    """The session stopped while its request waited for a slot."""


class JobQueue:
    """At most ``slots`` jobs at once, process-wide; the others wait first come, first
    served. :meth:`slot` reports the waiting job's place in line and lets it leave."""

    #: Seconds between two looks at the line while waiting.
    POLL_S = 0.2

    def __init__(self, slots: int) -> None:
        if slots < 1:
            raise ValueError(f"slots must be at least 1; got {slots}")
        self.slots = slots
        self._cond = threading.Condition()
        self._line: deque[object] = deque()
        self._running = 0

    @property
    def running(self) -> int:
        with self._cond:
            return self._running

    @property
    def waiting(self) -> int:
        with self._cond:
            return len(self._line)

    @contextmanager
    def slot(
        self,
        on_wait: Callable[[int], None] | None = None,
        leave: Callable[[], bool] | None = None,
        poke: Callable[[], bool] | None = None,
    ) -> Iterator[None]:
        """Hold one slot for the ``with`` body. While waiting, ``on_wait(place)`` (1 =
        next) is called whenever the place changes or ``poke()`` is true (a Streamlit
        call there lets a pending rerun or stop interrupt the wait); when ``leave()`` is
        true the job leaves the line and :class:`QueueLeft` is raised."""
        ticket = object()
        with self._cond:
            self._line.append(ticket)
        try:
            shown = 0
            while True:
                with self._cond:
                    if self._line[0] is ticket and self._running < self.slots:
                        self._line.popleft()
                        self._running += 1
                        self._cond.notify_all()
                        break
                    place = self._line.index(ticket) + 1
                    if place == shown:
                        self._cond.wait(self.POLL_S)
                        place = self._line.index(ticket) + 1
                if on_wait is not None and (place != shown or (poke is not None and poke())):
                    on_wait(place)
                    shown = place
                if leave is not None and leave():
                    raise QueueLeft("the session stopped while waiting for a slot")
        except BaseException:
            with self._cond:
                if ticket in self._line:
                    self._line.remove(ticket)
                self._cond.notify_all()
            raise
        try:
            yield
        finally:
            with self._cond:
                self._running -= 1
                self._cond.notify_all()


_JOBS: JobQueue | None = None
_JOBS_LOCK = threading.Lock()
#: Whether this thread holds a slot (``slot``), so that nested ``queued`` blocks do not wait.
_HOLDING = threading.local()


def jobs() -> JobQueue:
    """The server's queue (created on first use with ``limits().jobs`` slots)."""
    global _JOBS
    with _JOBS_LOCK:
        if _JOBS is None:
            _JOBS = JobQueue(limits().jobs)
        return _JOBS


def ordinal(n: int, lang: str) -> str:
    """A place in line as the ``budget_queue`` string of ``lang`` wants it: ``3rd``, ``3``."""
    if lang != "en":
        return str(n)
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _requests() -> Any:
    try:
        from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx
    except ImportError:
        return None
    ctx = get_script_run_ctx(suppress_warning=True)
    return getattr(ctx, "script_requests", None)


def _pending(requests: Any) -> bool:
    """Whether Streamlit asked this script to rerun or stop (not yet handled)."""
    try:
        from streamlit.runtime.scriptrunner_utils.script_requests import ScriptRequestType
    except ImportError:
        return False
    return getattr(requests, "_state", ScriptRequestType.CONTINUE) != ScriptRequestType.CONTINUE


@contextmanager
def queued(tr: i18n.Translator, cost: Cost) -> Iterator[None]:
    """Run the ``with`` body in one of the server's slots when ``cost`` is heavy enough
    to queue, showing the place in line while it waits ("waiting: 3rd in line"). Inside
    a slot, a nested ``queued`` runs at once (the thread already holds one)."""
    if cost.seconds < limits().queue_seconds or getattr(_HOLDING, "slot", False):
        yield
        return
    queue, requests, lang = jobs(), _requests(), i18n.current_language()
    box = st.empty()

    def show(place: int) -> None:
        text = tr("budget_queue", pos=ordinal(place, lang), slots=queue.slots)
        box.info(text, icon=":material/hourglass_empty:")

    with queue.slot(show, lambda: _stop_requested(requests), lambda: _pending(requests)):
        box.empty()
        _HOLDING.slot = True
        try:
            yield
        finally:
            _HOLDING.slot = False
