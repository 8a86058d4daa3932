"""Bad input raises the documented exception class with a message naming the argument.

And nothing a user can pass crashes the interpreter (no panic, no segfault): a child
Python process runs a batch of bad calls and must exit normally.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import longdep as ld

H, IN, T, B = 3, 2, 5, 2
RNG = np.random.default_rng(0)
ELMAN = ld.Elman(RNG.normal(size=(H, IN)), 0.5 * RNG.normal(size=(H, H)))
LSTM = ld.LSTM(RNG.normal(size=(4 * H, IN)), 0.5 * RNG.normal(size=(4 * H, H)))
GRU = ld.GRU(RNG.normal(size=(3 * H, IN)), 0.5 * RNG.normal(size=(3 * H, H)))
X = RNG.normal(size=(T, B, IN))
V = np.ones(H)


def with_value(a: np.ndarray, index: tuple[int, ...], value: float) -> np.ndarray:
    a = a.copy()
    a[index] = value
    return a


# (id, call, expected class, regex the message must match: it names the argument)
BAD_CALLS: list[tuple[str, Callable[[], Any], type[Exception], str]] = [
    # x
    ("x-wrong-input-size", lambda: ld.forward(ELMAN, np.ones((T, B, 4))), ld.ShapeError,
     r"^x must have shape \(T, B, 2\) .*input size I = 2 of Elman; got \(5, 2, 4\)"),
    ("x-wrong-input-size-2d", lambda: ld.grad_norms(ELMAN, np.ones((T, 4)), V), ld.ShapeError,
     r"^x must have shape \(T, 2\).*got \(5, 4\)"),
    ("x-1d", lambda: ld.forward(ELMAN, np.ones(T)), ld.ShapeError, r"^x must have 2 or 3 dim.*\(5,\)"),
    ("x-4d", lambda: ld.sensitivity(ELMAN, np.ones((T, B, 1, IN)), V), ld.ShapeError,
     r"^x must have 2 or 3 dim.*\(5, 2, 1, 2\)"),
    ("x-0d", lambda: ld.forward(ELMAN, 1.0), ld.ShapeError, r"^x must have 2 or 3 dim"),
    ("x-T0", lambda: ld.forward(ELMAN, np.ones((0, B, IN))), ld.ShapeError, r"^x .*T = 0"),
    ("x-T0-grad", lambda: ld.grad_norms(ELMAN, np.ones((0, IN)), V), ld.ShapeError, r"^x .*T = 0"),
    ("x-B0", lambda: ld.grad_norms(ELMAN, np.ones((T, 0, IN)), V), ld.ShapeError, r"^x .*B = 0"),
    ("x-I0", lambda: ld.forward(ELMAN, np.ones((T, B, 0))), ld.ShapeError, r"^x must have shape"),
    ("x-nan", lambda: ld.forward(ELMAN, with_value(X, (2, 1, 0), np.nan)), ld.NumericsError,
     r"^x contains NaN"),
    ("x-inf", lambda: ld.grad_norms(ELMAN, with_value(X, (0, 0, 1), np.inf), V), ld.NumericsError,
     r"^x contains infinity"),
    ("x-minus-inf-sens", lambda: ld.sensitivity(GRU, with_value(X, (4, 1, 1), -np.inf), V),
     ld.NumericsError, r"^x contains infinity"),
    ("x-complex", lambda: ld.forward(ELMAN, X + 1j), ld.DTypeError, r"^x must be a real numeric.*complex"),
    ("x-object", lambda: ld.forward(ELMAN, X.astype(object)), ld.DTypeError, r"^x must be a real numeric.*object"),
    ("x-string", lambda: ld.grad_norms(ELMAN, X.astype(str), V), ld.DTypeError, r"^x must be a real numeric"),
    ("x-None", lambda: ld.forward(ELMAN, None), ld.DTypeError, r"^x "),
    ("x-ragged", lambda: ld.forward(ELMAN, [[1.0, 2.0], [1.0]]), ld.DTypeError, r"^x must be a numeric"),
    # v, u
    ("v-wrong-size", lambda: ld.grad_norms(ELMAN, X, np.ones(H + 1)), ld.ShapeError,
     r"^v must have shape \(2, 3\) or \(3,\).*got \(4,\)"),
    ("v-wrong-batch", lambda: ld.grad_norms(ELMAN, X, np.ones((B + 1, H))), ld.ShapeError, r"^v must have shape"),
    # 2-D x and 2-D v: a loss at every step, (T, H), whose T is wrong
    ("v-batched-with-2d-x", lambda: ld.grad_norms(ELMAN, X[:, 0], np.ones((1, H))), ld.ShapeError,
     r"^v must have shape \(\d+, 3\) for a loss at every step \(or \(3,\) on the last"),
    ("v-nan", lambda: ld.grad_norms(LSTM, X, with_value(V, (1,), np.nan)), ld.NumericsError, r"^v contains NaN"),
    ("v-complex", lambda: ld.grad_norms(GRU, X, V * 1j), ld.DTypeError, r"^v must be a real"),
    ("u-hidden-size-for-lstm", lambda: ld.sensitivity(LSTM, X, np.ones(H)), ld.ShapeError,
     r"^u must have shape \(2, 6\) or \(6,\).*got \(3,\)"),
    ("u-inf", lambda: ld.sensitivity(ELMAN, X, with_value(V, (0,), np.inf)), ld.NumericsError,
     r"^u contains infinity"),
    # h0
    ("h0-wrong-shape", lambda: ld.forward(ELMAN, X, np.ones((H, H))), ld.ShapeError,
     r"^h0 must have shape \(2, 3\) or \(3,\).*got \(3, 3\)"),
    ("h0-wrong-size", lambda: ld.grad_norms(GRU, X, V, np.ones(H + 2)), ld.ShapeError, r"^h0 must have shape"),
    ("h0-3d", lambda: ld.forward(ELMAN, X, np.ones((1, B, H))), ld.ShapeError, r"^h0 must have shape"),
    ("h0-nan", lambda: ld.forward(ELMAN, X, with_value(V, (2,), np.nan)), ld.NumericsError, r"^h0 contains NaN"),
    ("h0-string", lambda: ld.forward(ELMAN, X, "abc"), ld.DTypeError, r"^h0 must be a real"),
    ("lstm-h0-array", lambda: ld.forward(LSTM, X, np.zeros(H)), ld.ArgumentError,
     r"^h0 must be a tuple \(h0, c0\).*ndarray"),
    ("lstm-h0-list", lambda: ld.grad_norms(LSTM, X, V, [np.zeros(H), np.zeros(H)]), ld.ArgumentError,
     r"^h0 must be a tuple"),
    ("lstm-h0-3-tuple", lambda: ld.forward(LSTM, X, (np.zeros(H),) * 3), ld.ArgumentError,
     r"^h0 must be a tuple.*length 3"),
    ("lstm-c0-wrong-shape", lambda: ld.forward(LSTM, X, (np.zeros(H), np.zeros(H + 1))), ld.ShapeError,
     r"^h0\[1\] must have shape"),
    ("lstm-c0-nan", lambda: ld.sensitivity(LSTM, X, np.ones(2 * H), (np.zeros(H), with_value(V, (0,), np.nan))),
     ld.NumericsError, r"h0.* contains NaN"),
    ("gru-h0-tuple", lambda: ld.forward(GRU, X, (np.zeros(H), np.zeros(H))), ld.ArgumentError,
     r"^h0 must be an array.*tuple"),
    # options
    ("wrt-unknown", lambda: ld.grad_norms(ELMAN, X, V, wrt="weights"), ld.ArgumentError,
     r"^wrt must be one of 'state', 'input', 'cell'; got 'weights'"),
    ("wrt-not-a-string", lambda: ld.grad_norms(ELMAN, X, V, wrt=0), ld.ArgumentError, r"^wrt must be one of"),
    ("wrt-cell-elman", lambda: ld.grad_norms(ELMAN, X, V, wrt="cell"), ld.ArgumentError, r"^wrt='cell'.*Elman"),
    ("wrt-cell-gru", lambda: ld.grad_norms(GRU, X, V, wrt="cell"), ld.ArgumentError, r"^wrt='cell'.*GRU"),
    ("part-unknown", lambda: ld.sensitivity(LSTM, X, np.ones(2 * H), part="cell"), ld.ArgumentError,
     r"^part must be one of"),
    ("threads-0", lambda: ld.forward(ELMAN, X, threads=0), ld.ArgumentError, r"^threads must be an integer between 1 and.*got 0"),
    ("threads-negative", lambda: ld.grad_norms(ELMAN, X, V, threads=-2), ld.ArgumentError, r"^threads must be"),
    ("threads-float", lambda: ld.sensitivity(ELMAN, X, V, threads=1.5), ld.ArgumentError, r"^threads must be"),
    ("threads-bool", lambda: ld.forward(ELMAN, X, threads=True), ld.ArgumentError, r"^threads must be"),
    ("memory-budget-0", lambda: ld.grad_norms(ELMAN, X, V, memory_budget=0), ld.ArgumentError, r"^memory_budget must be"),
    ("memory-budget-float", lambda: ld.grad_norms(ELMAN, X, V, memory_budget=1e9), ld.ArgumentError,
     r"^memory_budget must be"),
    ("memory-budget-too-small", lambda: ld.grad_norms(ELMAN, np.zeros((10**5, IN)), V, memory_budget=100),
     ld.BudgetError, r"^memory_budget of 100 bytes is too small"),
    ("out-wrong-shape", lambda: ld.grad_norms(ELMAN, X, V, out=np.zeros((T, B + 1))), ld.ShapeError,
     r"^out must be a float64 array of shape \(5, 2\); got float64 array of shape \(5, 3\)"),
    ("out-wrong-shape-2d-x", lambda: ld.sensitivity(ELMAN, X[:, 0], V, out=np.zeros((T, 1))), ld.ShapeError,
     r"^out must be a float64 array of shape \(5,\)"),
    ("out-not-contiguous", lambda: ld.grad_norms(ELMAN, X, V, out=np.zeros((B, T)).T), ld.ShapeError,
     r"^out must be a writeable C-contiguous"),
    ("out-read-only", lambda: ld.grad_norms(ELMAN, X, V, out=np.broadcast_to(np.zeros(1), (T, B))),
     ld.ShapeError, r"^out must be"),
    ("out-list", lambda: ld.grad_norms(ELMAN, X, V, out=[[0.0] * B] * T), ld.ShapeError, r"^out must be.*got list"),
    ("cell-not-a-cell", lambda: ld.forward("elman", X), ld.DTypeError, r"^cell must be a longdep recurrent cell"),
    # cells
    ("elman-weight-hh-not-square", lambda: ld.Elman(np.ones((3, 2)), np.ones((3, 4))), ld.ShapeError,
     r"^weight_hh must be square.*got \(3, 4\)"),
    ("lstm-gate-rows-not-4H", lambda: ld.LSTM(np.ones((10, 2)), np.ones((10, 3))), ld.ShapeError,
     r"^weight_hh must be shape \(4\*H, H\).*\(12, 3\).*got \(10, 3\)"),
    ("gru-gate-rows-not-3H", lambda: ld.GRU(np.ones((10, 2)), np.ones((10, 3))), ld.ShapeError,
     r"^weight_hh must be shape \(3\*H, H\).*\(9, 3\).*got \(10, 3\)"),
    ("elman-weight-ih-rows", lambda: ld.Elman(np.ones((4, 2)), np.eye(3)), ld.ShapeError,
     r"^weight_ih must have shape \(3, I\).*got \(4, 2\)"),
    ("lstm-weight-ih-rows", lambda: ld.LSTM(np.ones((9, 2)), np.ones((12, 3))), ld.ShapeError,
     r"^weight_ih must have shape \(12, I\)"),
    ("weight-ih-1d", lambda: ld.Elman(np.ones(3), np.eye(3)), ld.ShapeError, r"^weight_ih must have 2 dim"),
    ("weight-hh-empty", lambda: ld.Elman(np.ones((0, 2)), np.ones((0, 0))), ld.ShapeError, r"^weight_hh must have at least"),
    ("weight-hh-nan", lambda: ld.Elman(np.ones((3, 2)), with_value(np.eye(3), (1, 2), np.nan)),
     ld.NumericsError, r"^weight_hh contains NaN at index \(1, 2\)"),
    ("weight-ih-inf-gru", lambda: ld.GRU(with_value(np.ones((9, 2)), (8, 1), np.inf), np.ones((9, 3))),
     ld.NumericsError, r"^weight_ih contains infinity"),
    ("bias-hh-inf", lambda: ld.Elman(np.ones((3, 2)), np.eye(3), None, np.array([0.0, np.inf, 0.0])),
     ld.NumericsError, r"^bias_hh contains infinity at index \(1,\)"),
    ("bias-ih-nan-lstm", lambda: ld.LSTM(np.ones((12, 2)), np.ones((12, 3)), np.full(12, np.nan)),
     ld.NumericsError, r"^bias_ih contains NaN"),
    ("bias-wrong-shape", lambda: ld.Elman(np.ones((3, 2)), np.eye(3), np.ones(4)), ld.ShapeError,
     r"^bias_ih must have shape \(3,\); got \(4,\)"),
    ("weight-hh-complex", lambda: ld.Elman(np.ones((3, 2)), np.eye(3) * 1j), ld.DTypeError, r"^weight_hh must be a real"),
    ("weight-ih-string", lambda: ld.GRU("abc", np.ones((9, 3))), ld.DTypeError, r"^weight_ih must be a real"),
    ("weight-overflows-float32", lambda: ld.forward(ld.Elman(np.ones((3, 2)), 1e39 * np.eye(3)), X.astype(np.float32)),
     ld.NumericsError, r"^weight_hh has values beyond the float32 range"),
    ("nonlinearity-unknown", lambda: ld.Elman(np.ones((3, 2)), np.eye(3), nonlinearity="sigmoid"), ld.ArgumentError,
     r"^nonlinearity must be one of 'tanh', 'relu', 'linear'; got 'sigmoid'"),
    ("residual-nan", lambda: ld.Elman(np.ones((3, 2)), np.eye(3), residual=float("nan")), ld.ArgumentError,
     r"^residual must be a finite number"),
    ("ln-eps-zero", lambda: ld.Elman(np.ones((3, 2)), np.eye(3), layer_norm=True, ln_eps=0.0), ld.ArgumentError,
     r"^ln_eps must be a positive"),
    ("ln-weight-wrong-shape", lambda: ld.Elman(np.ones((3, 2)), np.eye(3), layer_norm=True, ln_weight=np.ones(4)),
     ld.ShapeError, r"^ln_weight must have shape \(3,\)"),
    ("ln-bias-nan", lambda: ld.Elman(np.ones((3, 2)), np.eye(3), layer_norm=True, ln_bias=np.full(3, np.nan)),
     ld.NumericsError, r"^ln_bias contains NaN"),
    ("ln-weight-without-layer-norm", lambda: ld.Elman(np.ones((3, 2)), np.eye(3), ln_weight=np.ones(3)),
     ld.ArgumentError, r"ln_weight.*layer_norm"),
    ("state-dict-missing-key", lambda: ld.GRU.from_state_dict({"weight_ih_l0": np.ones((9, 2))}), ld.ArgumentError,
     r"^state dict must contain 'weight_hh_l0'"),
    ("from-torch-two-layers", lambda: ld.LSTM.from_torch(type("M", (), {"num_layers": 2})()), ld.ArgumentError,
     r"num_layers"),
    ("from-torch-bidirectional", lambda: ld.GRU.from_torch(type("M", (), {"bidirectional": True})()),
     ld.ArgumentError, r"bidirectional"),
    # numerics during the run
    ("forward-overflow", lambda: ld.forward(ld.Elman(np.ones((3, 2)), 2 * np.eye(3), nonlinearity="relu"), np.ones((2000, 2))),
     ld.NumericsError, r"left the float64 range"),
]  # fmt: skip


@pytest.mark.filterwarnings("ignore:overflow encountered in cast:RuntimeWarning")
@pytest.mark.parametrize(
    ("call", "cls", "match"), [c[1:] for c in BAD_CALLS], ids=[c[0] for c in BAD_CALLS]
)
def test_bad_input_raises_named_error(
    call: Callable[[], Any], cls: type[Exception], match: str
) -> None:
    with pytest.raises(cls, match=match):
        call()


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_out_of_wrong_dtype_is_rejected_by_name(dtype: type) -> None:
    out = np.zeros((T, B), dtype=np.float32 if dtype is np.float64 else np.int64)
    with pytest.raises((ld.ShapeError, ld.DTypeError), match=r"^out must be a float64 array"):
        ld.grad_norms(ELMAN, X.astype(dtype), V, out=out)


def test_error_classes_subclass_the_builtin_families() -> None:
    assert issubclass(ld.ShapeError, ld.LongdepError) and issubclass(ld.ShapeError, ValueError)
    assert issubclass(ld.ArgumentError, ld.LongdepError) and issubclass(
        ld.ArgumentError, ValueError
    )
    assert issubclass(ld.DTypeError, ld.LongdepError) and issubclass(ld.DTypeError, TypeError)
    assert issubclass(ld.NumericsError, ld.LongdepError)
    assert issubclass(ld.NumericsError, FloatingPointError)
    assert issubclass(ld.BudgetError, ld.LongdepError) and issubclass(ld.BudgetError, MemoryError)


@pytest.mark.filterwarnings("ignore:overflow encountered in cast:RuntimeWarning")
def test_bad_input_leaves_the_library_usable() -> None:
    before = ld.grad_norms(LSTM, X, V, wrt="cell")
    for _, call, cls, _ in BAD_CALLS:
        with pytest.raises(cls):
            call()
    np.testing.assert_array_equal(ld.grad_norms(LSTM, X, V, wrt="cell"), before)


# --- arguments that are valid in kind but extreme in size: currently bare errors --------


def test_residual_that_is_not_a_number_is_rejected_by_name() -> None:
    with pytest.raises(ld.ArgumentError, match="residual"):
        ld.Elman(np.ones((3, 2)), np.eye(3), residual="half")


def test_thread_count_beyond_machine_integers_is_rejected_by_name() -> None:
    with pytest.raises(ld.ArgumentError, match="threads"):
        ld.forward(ELMAN, X, threads=10**20)


def test_memory_budget_beyond_machine_integers_means_no_limit() -> None:
    """A budget larger than any machine could hold is a valid (if odd) choice."""
    want = ld.grad_norms(ELMAN, X, V)
    try:
        got = ld.grad_norms(ELMAN, X, V, memory_budget=10**30)
    except ld.ArgumentError as exc:  # rejecting it by name would be acceptable too
        assert "memory_budget" in str(exc)
    else:
        np.testing.assert_array_equal(got, want)


# --- no crash ----------------------------------------------------------------------------

CHILD = textwrap.dedent(
    """
    import json, resource, sys
    import numpy as np
    import longdep as ld

    # A safety net: a bug that allocates without bound fails here instead of the host.
    resource.setrlimit(resource.RLIMIT_AS, (4 * 2**30, 4 * 2**30))
    rng = np.random.default_rng(0)
    e = ld.Elman(rng.normal(size=(3, 2)), rng.normal(size=(3, 3)))
    l = ld.LSTM(rng.normal(size=(12, 2)), rng.normal(size=(12, 3)))
    g = ld.GRU(rng.normal(size=(9, 2)), rng.normal(size=(9, 3)))
    x = rng.normal(size=(7, 2, 2))
    nan_x = x.copy(); nan_x[3, 1, 0] = np.nan
    calls = {
        "x-nan-grad": lambda: ld.grad_norms(l, nan_x, np.ones(3), wrt="cell"),
        "x-inf-sens": lambda: ld.sensitivity(g, np.full((7, 2), np.inf), np.ones(3)),
        "x-T0-sens": lambda: ld.sensitivity(l, np.ones((0, 2)), np.ones(6)),
        "x-B0-fwd": lambda: ld.forward(g, np.ones((4, 0, 2))),
        "x-I0": lambda: ld.grad_norms(e, np.ones((4, 2, 0)), np.ones(3)),
        "x-empty-everything": lambda: ld.forward(e, np.ones((0, 0, 0))),
        "x-5d": lambda: ld.forward(l, np.ones((1, 1, 1, 1, 2))),
        "x-complex64": lambda: ld.forward(e, x.astype(np.complex64)),
        "x-datetime": lambda: ld.forward(e, np.zeros((7, 2), dtype="datetime64[s]")),
        "x-structured": lambda: ld.forward(e, np.zeros((7, 2), dtype=[("a", "f8")])),
        "x-bytes": lambda: ld.forward(e, b"abc"),
        "x-dict": lambda: ld.forward(e, {"a": 1}),
        "v-empty": lambda: ld.grad_norms(e, x, np.ones(0)),
        "v-2d-wrong": lambda: ld.grad_norms(g, x, np.ones((2, 2))),
        "v-object": lambda: ld.grad_norms(g, x, np.array([1, None, 2], dtype=object)),
        "u-3d": lambda: ld.sensitivity(e, x, np.ones((1, 2, 3))),
        "h0-empty-tuple": lambda: ld.forward(l, x, ()),
        "h0-tuple-of-none": lambda: ld.forward(l, x, (None, None)),
        "h0-c0-wrong": lambda: ld.grad_norms(l, x, np.ones(3), (np.zeros(3), np.zeros((5, 3)))),
        "h0-huge-batch": lambda: ld.forward(e, x, np.zeros((1000, 3))),
        "wrt-cell-gru": lambda: ld.grad_norms(g, x, np.ones(3), wrt="cell"),
        "wrt-none": lambda: ld.grad_norms(l, x, np.ones(3), wrt=None),
        "threads-neg": lambda: ld.sensitivity(e, x, np.ones(3), threads=-1),
        "threads-str": lambda: ld.forward(e, x, threads="4"),
        "budget-neg": lambda: ld.grad_norms(e, x, np.ones(3), memory_budget=-5),
        "budget-1": lambda: ld.grad_norms(l, np.zeros((10**4, 2)), np.ones(3), memory_budget=1),
        "out-f32": lambda: ld.grad_norms(e, x, np.ones(3), out=np.zeros((7, 2), np.float32)),
        "out-too-small": lambda: ld.sensitivity(e, x, np.ones(3), out=np.zeros((1, 1))),
        "out-strided": lambda: ld.grad_norms(e, x, np.ones(3), out=np.zeros((7, 4))[:, ::2]),
        "lstm-rows": lambda: ld.LSTM(np.ones((10, 2)), np.ones((10, 3))),
        "gru-rows": lambda: ld.GRU(np.ones((9, 2)), np.ones((8, 3))),
        "elman-nonsquare": lambda: ld.Elman(np.ones((3, 2)), np.ones((3, 1))),
        "weights-3d": lambda: ld.GRU(np.ones((9, 2, 1)), np.ones((9, 3))),
        "weights-empty-ih": lambda: ld.LSTM(np.ones((12, 0)), np.ones((12, 3))),
        "weights-nan": lambda: ld.GRU(np.ones((9, 2)), np.full((9, 3), np.nan)),
        "bias-inf": lambda: ld.LSTM(np.ones((12, 2)), np.ones((12, 3)), None, np.full(12, -np.inf)),
        "bias-2d": lambda: ld.LSTM(np.ones((12, 2)), np.ones((12, 3)), np.ones((12, 1))),
        "nonlinearity-none": lambda: ld.Elman(np.ones((3, 2)), np.eye(3), nonlinearity=None),
        "ln-eps-nan": lambda: ld.Elman(np.ones((3, 2)), np.eye(3), layer_norm=True, ln_eps=float("nan")),
        "overflow-relu-grad": lambda: ld.grad_norms(
            ld.Elman(np.ones((3, 2)), 3 * np.eye(3), nonlinearity="relu"), np.ones((1000, 2)), np.ones(3)
        ),
        "overflow-float32-sens": lambda: ld.sensitivity(
            ld.Elman(np.ones((3, 2)), 3 * np.eye(3), nonlinearity="linear"),
            np.ones((200, 2), np.float32), np.ones(3, np.float32),
        ),
        "cell-none": lambda: ld.grad_norms(None, x, np.ones(3)),
    }
    report = {}
    for name, call in calls.items():
        try:
            call()
        except BaseException as exc:  # a pyo3 PanicException is a BaseException
            report[name] = [type(exc).__name__, isinstance(exc, ld.LongdepError)]
        else:
            report[name] = ["no error", False]
    # The library still works after all of that.
    ld.grad_norms(l, x, np.ones(3), wrt="cell")
    print(json.dumps(report))
    """
)


def test_a_batch_of_bad_inputs_never_crashes_the_interpreter() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", CHILD], capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 0, f"child died ({proc.returncode}):\n{proc.stderr[-3000:]}"
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    wrong = {name: r for name, r in report.items() if not r[1]}
    assert not wrong, f"calls that did not raise a LongdepError: {wrong}"
