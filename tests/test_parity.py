"""longdep's forward, grad_norms and sensitivity equal independent references.

Forward passes are checked against a plain NumPy loop of the torch formulas, gradient
norms against JAX reverse-mode autodiff and sensitivities against ``jax.jvp`` (see
``reference.py``), all in float64, for every cell variant on awkward sizes.
"""

from __future__ import annotations

import functools
import zlib
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from reference import (
    CELL_CONFIGS,
    CellParams,
    jax_reference,
    max_preactivation,
    numpy_forward,
    numpy_states,
    random_params,
)
from reference import step as reference_step

import longdep as ld

T = 50
#: (H, I, B): every H in {1, 7, 33}, I in {1, 3} and B in {1, 3} appears.
SHAPES = [(1, 1, 1), (7, 3, 3), (33, 1, 3), (33, 3, 1)]
CASES = [(cfg, *shape) for cfg in CELL_CONFIGS for shape in SHAPES]
CASE_IDS = [f"{cfg}-H{h}-I{i}-B{b}" for cfg, h, i, b in CASES]

#: Beyond this |pre-activation| a tanh/sigmoid derivative computed as 1 - y^2 from a
#: rounded y is no longer good to 1e-10 relative in any implementation (see
#: ``reference.max_preactivation``); the random cases stay inside it.
SATURATION_LIMIT = 7.0


def wrts(cfg: str) -> list[str]:
    return ["state", "input", "cell"] if CELL_CONFIGS[cfg]["kind"] == "lstm" else ["state", "input"]


GRAD_CASES = [(*case, wrt) for case in CASES for wrt in wrts(case[0])]
GRAD_IDS = [
    f"{cid}-{wrt}" for cid, case in zip(CASE_IDS, CASES, strict=True) for wrt in wrts(case[0])
]
SENS_CASES = [(*case, part) for case in CASES for part in ("state", "hidden")]
SENS_IDS = [f"{cid}-{part}" for cid in CASE_IDS for part in ("state", "hidden")]


@dataclass(frozen=True)
class Case:
    """One random cell with data: x (T, B, I), initial state s0 (B, S), v (B, H), u (B, S)."""

    params: CellParams
    cell: Any
    x: np.ndarray
    s0: np.ndarray
    v: np.ndarray
    u: np.ndarray

    @property
    def h0(self) -> Any:
        """The initial state as longdep takes it: (h0, c0) for the LSTM."""
        hidden = self.params.hidden_size
        if self.params.kind == "lstm":
            return (self.s0[:, :hidden], self.s0[:, hidden:])
        return self.s0

    @property
    def saturating(self) -> bool:
        p = self.params
        return p.kind != "elman" or p.nonlinearity == "tanh"


@functools.cache
def make_case(cfg: str, hidden: int, inputs: int, batch: int, seed: int = 0) -> Case:
    rng = np.random.default_rng([seed, hidden, inputs, batch, zlib.crc32(cfg.encode())])
    p = random_params(cfg, hidden, inputs, rng)
    return Case(
        params=p,
        cell=p.to_longdep(),
        x=rng.normal(size=(T, batch, inputs)),
        s0=0.5 * rng.normal(size=(batch, p.state_size)),
        v=rng.normal(size=(batch, hidden)),
        u=rng.normal(size=(batch, p.state_size)),
    )


@functools.cache
def reference(cfg: str, hidden: int, inputs: int, batch: int) -> dict[str, np.ndarray]:
    c = make_case(cfg, hidden, inputs, batch)
    return jax_reference(c.params, c.x, c.s0, c.v, c.u)


def check_conditioning(c: Case) -> None:
    if c.saturating:
        a = max_preactivation(c.params, c.x, c.s0)
        assert a < SATURATION_LIMIT, f"test data saturates (|a| = {a:.1f}); pick another seed"


def assert_close_to_scale(got: np.ndarray, want: np.ndarray, rtol: float) -> None:
    """Elementwise |got - want| <= rtol * max|want| (a relative error for the array)."""
    np.testing.assert_allclose(got, want, rtol=0, atol=rtol * float(np.abs(want).max()))


# ---------------------------------------------------------------------------------
# float64 parity


@pytest.mark.parametrize(("cfg", "hidden", "inputs", "batch"), CASES, ids=CASE_IDS)
def test_forward_equals_numpy_loop(cfg: str, hidden: int, inputs: int, batch: int) -> None:
    c = make_case(cfg, hidden, inputs, batch)
    h = ld.forward(c.cell, c.x, c.h0)
    assert h.shape == (T, batch, hidden)
    assert h.dtype == np.float64
    assert_close_to_scale(h, numpy_forward(c.params, c.x, c.s0), 1e-12)


@pytest.mark.parametrize(("cfg", "hidden", "inputs", "batch", "wrt"), GRAD_CASES, ids=GRAD_IDS)
def test_grad_norms_equal_jax_autodiff(
    jax: Any, cfg: str, hidden: int, inputs: int, batch: int, wrt: str
) -> None:
    c = make_case(cfg, hidden, inputs, batch)
    check_conditioning(c)
    want = reference(cfg, hidden, inputs, batch)[wrt]
    got = ld.grad_norms(c.cell, c.x, c.v, c.h0, wrt=wrt)
    assert got.shape == (T, batch)
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=0)


@pytest.mark.parametrize(("cfg", "hidden", "inputs", "batch", "wrt"), GRAD_CASES, ids=GRAD_IDS)
def test_log_grad_norms_equal_log_of_jax_autodiff(
    jax: Any, cfg: str, hidden: int, inputs: int, batch: int, wrt: str
) -> None:
    c = make_case(cfg, hidden, inputs, batch)
    check_conditioning(c)
    want = reference(cfg, hidden, inputs, batch)[wrt]
    got = ld.grad_norms(c.cell, c.x, c.v, c.h0, wrt=wrt, log=True)
    assert not np.isnan(got).any()
    with np.errstate(divide="ignore"):
        log_want = np.log(want)  # an exactly zero gradient is -inf on both sides
    np.testing.assert_allclose(got, log_want, rtol=0, atol=1e-10)
    with np.errstate(divide="ignore"):
        np.testing.assert_allclose(
            got, np.log(ld.grad_norms(c.cell, c.x, c.v, c.h0, wrt=wrt)), rtol=0, atol=1e-14
        )


@pytest.mark.parametrize(("cfg", "hidden", "inputs", "batch", "part"), SENS_CASES, ids=SENS_IDS)
def test_sensitivity_equals_jax_jvp(
    jax: Any, cfg: str, hidden: int, inputs: int, batch: int, part: str
) -> None:
    c = make_case(cfg, hidden, inputs, batch)
    check_conditioning(c)
    want = reference(cfg, hidden, inputs, batch)[f"sens_{part}"]
    got = ld.sensitivity(c.cell, c.x, c.u, c.h0, part=part)
    assert got.shape == (T, batch)
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=0)
    log_got = ld.sensitivity(c.cell, c.x, c.u, c.h0, part=part, log=True)
    assert not np.isnan(log_got).any()
    with np.errstate(divide="ignore"):
        np.testing.assert_allclose(log_got, np.log(want), rtol=0, atol=1e-10)


@pytest.mark.parametrize(("cfg", "hidden", "inputs", "batch"), CASES, ids=CASE_IDS)
def test_state_grad_at_last_step_is_norm_of_v(
    cfg: str, hidden: int, inputs: int, batch: int
) -> None:
    c = make_case(cfg, hidden, inputs, batch)
    got = ld.grad_norms(c.cell, c.x, c.v, c.h0)
    np.testing.assert_allclose(got[-1], np.linalg.norm(c.v, axis=1), rtol=1e-14)


@pytest.mark.parametrize(
    ("cfg", "wrt"),
    [(cfg, wrt) for cfg in ("elman-tanh", "lstm", "gru") for wrt in wrts(cfg)],
)
def test_checkpointed_reverse_pass_equals_stored_one(cfg: str, wrt: str) -> None:
    c = make_case(cfg, 33, 3, 3)
    stored = ld.grad_norms(c.cell, c.x, c.v, c.h0, wrt=wrt)
    # Half of what storing every state would take forces checkpointing.
    budget = T * 3 * c.params.state_size * 8 // 2
    checkpointed = ld.grad_norms(c.cell, c.x, c.v, c.h0, wrt=wrt, memory_budget=budget)
    np.testing.assert_allclose(checkpointed, stored, rtol=1e-13, atol=0)


def test_lstm_cell_grad_is_the_total_derivative_at_the_last_step() -> None:
    """L = v . h_{T-1} reaches c_{T-1} only through h_{T-1} = o tanh(c_{T-1}), so the total
    dL/dc_{T-1} is v o (1 - tanh^2 c_{T-1}): not 0 (which a partial through c_T gives)."""
    c = make_case("lstm", 7, 3, 3)
    hidden = c.params.hidden_size
    states = numpy_states(c.params, c.x, c.s0)
    gates = reference_step(c.params, np, states[-2], c.x[-1], preactivation=True)
    o = 1.0 / (1.0 + np.exp(-gates[:, 3 * hidden : 4 * hidden]))
    c_last = states[-1][:, hidden:]
    want = np.linalg.norm(c.v * o * (1.0 - np.tanh(c_last) ** 2), axis=1)
    got = ld.grad_norms(c.cell, c.x, c.v, c.h0, wrt="cell")
    np.testing.assert_allclose(got[-1], want, rtol=1e-12)
    assert (got > 0).all()
    log = ld.grad_norms(c.cell, c.x, c.v, c.h0, wrt="cell", log=True)
    np.testing.assert_allclose(log, np.log(got), rtol=0, atol=1e-12)


def test_lstm_cell_grad_equals_torch_retain_grad() -> None:
    """The definition a torch user compares with: c_t.grad after retain_grad()."""
    torch = pytest.importorskip("torch", reason="torch is optional; needed for this parity test")
    c = make_case("lstm", 7, 3, 3)
    p = c.params
    cell = torch.nn.LSTMCell(p.input_size, p.hidden_size, dtype=torch.float64)
    with torch.no_grad():
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            getattr(cell, name).copy_(torch.from_numpy(getattr(p, name)))
    h = torch.from_numpy(c.s0[:, : p.hidden_size].copy())
    cs = torch.from_numpy(c.s0[:, p.hidden_size :].copy())
    kept = []
    for t in range(T):
        h, cs = cell(torch.from_numpy(c.x[t]), (h, cs))
        cs.retain_grad()
        kept.append(cs)
    (h * torch.from_numpy(c.v)).sum().backward()
    want = np.stack([k.grad.norm(dim=1).numpy() for k in kept])
    got = ld.grad_norms(c.cell, c.x, c.v, c.h0, wrt="cell")
    np.testing.assert_allclose(got, want, rtol=1e-10)


# ---------------------------------------------------------------------------------
# dtypes, shapes and memory layouts


@pytest.mark.parametrize(("cfg", "hidden", "inputs", "batch"), CASES, ids=CASE_IDS)
def test_float32_input_computes_in_float32_close_to_float64(
    cfg: str, hidden: int, inputs: int, batch: int
) -> None:
    c = make_case(cfg, hidden, inputs, batch)
    x32 = c.x.astype(np.float32)
    h0_32 = (
        tuple(a.astype(np.float32) for a in c.h0)
        if isinstance(c.h0, tuple)
        else c.h0.astype(np.float32)
    )
    h32 = ld.forward(c.cell, x32, h0_32)
    assert h32.dtype == np.float32
    h64 = ld.forward(c.cell, x32.astype(np.float64), h0_32)
    assert h64.dtype == np.float64
    assert_close_to_scale(h32, h64, 1e-4)
    g32 = ld.grad_norms(c.cell, x32, c.v, h0_32, log=True)
    assert g32.dtype == np.float64
    g64 = ld.grad_norms(c.cell, x32.astype(np.float64), c.v, h0_32, log=True)
    # Log norms: an absolute error here is a relative error of the norm.
    np.testing.assert_allclose(g32, g64, rtol=0, atol=1e-3)


@pytest.mark.parametrize("cfg", ["elman-tanh", "lstm", "gru"])
def test_two_d_x_gives_squeezed_shapes(cfg: str) -> None:
    c = make_case(cfg, 7, 3, 1)
    h0_1d = tuple(a[0] for a in c.h0) if isinstance(c.h0, tuple) else c.h0[0]
    x2 = c.x[:, 0, :]
    h = ld.forward(c.cell, x2, h0_1d)
    assert h.shape == (T, 7)
    np.testing.assert_array_equal(h, ld.forward(c.cell, c.x, c.h0)[:, 0, :])
    g = ld.grad_norms(c.cell, x2, c.v[0], h0_1d)
    assert g.shape == (T,)
    np.testing.assert_array_equal(g, ld.grad_norms(c.cell, c.x, c.v, c.h0)[:, 0])
    s = ld.sensitivity(c.cell, x2, c.u[0], h0_1d)
    assert s.shape == (T,)
    np.testing.assert_array_equal(s, ld.sensitivity(c.cell, c.x, c.u, c.h0)[:, 0])


@pytest.mark.parametrize("cfg", ["elman-tanh", "lstm", "gru"])
@pytest.mark.parametrize("layout", ["strided", "fortran", "transposed", "reversed"])
def test_non_contiguous_x_equals_contiguous_copy(cfg: str, layout: str) -> None:
    c = make_case(cfg, 7, 3, 3)
    rng = np.random.default_rng(5)
    if layout == "strided":
        x = rng.normal(size=(T, 6, 3))[:, ::2, :]
    elif layout == "fortran":
        x = np.asfortranarray(rng.normal(size=(T, 3, 3)))
    elif layout == "transposed":
        x = rng.normal(size=(3, 3, T)).transpose(2, 1, 0)
    else:
        x = rng.normal(size=(T, 3, 3))[::-1]
    assert not x.flags.c_contiguous
    xc = np.ascontiguousarray(x)
    np.testing.assert_array_equal(ld.forward(c.cell, x, c.h0), ld.forward(c.cell, xc, c.h0))
    np.testing.assert_array_equal(
        ld.grad_norms(c.cell, x, c.v, c.h0, wrt="input"),
        ld.grad_norms(c.cell, xc, c.v, c.h0, wrt="input"),
    )
    np.testing.assert_array_equal(
        ld.sensitivity(c.cell, x, c.u, c.h0), ld.sensitivity(c.cell, xc, c.u, c.h0)
    )


def test_non_contiguous_h0_v_u_equal_contiguous_copies() -> None:
    c = make_case("gru", 7, 3, 3)
    h0 = np.asfortranarray(c.s0)
    v = np.asfortranarray(c.v)
    u = np.ascontiguousarray(c.u.T).T
    assert not (h0.flags.c_contiguous or v.flags.c_contiguous or u.flags.c_contiguous)
    np.testing.assert_array_equal(
        ld.grad_norms(c.cell, c.x, v, h0), ld.grad_norms(c.cell, c.x, c.v, c.s0)
    )
    np.testing.assert_array_equal(
        ld.sensitivity(c.cell, c.x, u, h0), ld.sensitivity(c.cell, c.x, c.u, c.s0)
    )


@pytest.mark.parametrize("dtype", [np.int8, np.int32, np.int64, np.uint16, np.bool_])
def test_integer_and_bool_x_compute_in_float64(dtype: type) -> None:
    c = make_case("elman-tanh", 7, 3, 3)
    x = (np.random.default_rng(1).integers(0, 3, size=(T, 3, 3))).astype(dtype)
    h = ld.forward(c.cell, x, c.h0)
    assert h.dtype == np.float64
    np.testing.assert_array_equal(h, ld.forward(c.cell, x.astype(np.float64), c.h0))
    np.testing.assert_array_equal(
        ld.grad_norms(c.cell, x, c.v, c.h0), ld.grad_norms(c.cell, x.astype(np.float64), c.v, c.h0)
    )


def test_nested_lists_are_accepted_as_x() -> None:
    cell = ld.Elman([[1.0]], [[0.5]], nonlinearity="linear")
    assert ld.forward(cell, [[1.0], [1.0], [1.0]]).ravel().tolist() == [1.0, 1.5, 1.75]


@pytest.mark.parametrize("cfg", ["elman-tanh", "lstm", "gru"])
def test_thread_count_does_not_change_results(cfg: str) -> None:
    c = make_case(cfg, 33, 1, 3)
    for fn, arg in ((ld.grad_norms, c.v), (ld.sensitivity, c.u)):
        one = fn(c.cell, c.x, arg, c.h0, threads=1)
        np.testing.assert_array_equal(fn(c.cell, c.x, arg, c.h0, threads=3), one)
    np.testing.assert_array_equal(
        ld.forward(c.cell, c.x, c.h0, threads=3), ld.forward(c.cell, c.x, c.h0, threads=1)
    )


@pytest.mark.parametrize("log", [False, True])
def test_out_receives_the_result(log: bool) -> None:
    c = make_case("lstm", 7, 3, 3)
    out = np.full((T, 3), np.nan)
    res = ld.grad_norms(c.cell, c.x, c.v, c.h0, log=log, out=out)
    assert res is out
    np.testing.assert_array_equal(out, ld.grad_norms(c.cell, c.x, c.v, c.h0, log=log))
    out_s = np.full((T, 3), np.nan)
    assert ld.sensitivity(c.cell, c.x, c.u, c.h0, log=log, out=out_s) is out_s
    np.testing.assert_array_equal(out_s, ld.sensitivity(c.cell, c.x, c.u, c.h0, log=log))


def test_v_of_shape_h_broadcasts_over_the_batch() -> None:
    c = make_case("gru", 7, 3, 3)
    v = c.v[1]
    np.testing.assert_array_equal(
        ld.grad_norms(c.cell, c.x, v, c.h0), ld.grad_norms(c.cell, c.x, np.tile(v, (3, 1)), c.h0)
    )


# ---------------------------------------------------------------------------------
# cell objects


@pytest.mark.parametrize(("cls", "gates"), [(ld.Elman, 1), (ld.LSTM, 4), (ld.GRU, 3)])
def test_cell_sizes_and_repr(cls: Any, gates: int) -> None:
    cell = cls(np.ones((gates * 5, 2)), np.zeros((gates * 5, 5)))
    assert (cell.hidden_size, cell.input_size) == (5, 2)
    assert cell.state_size == (10 if cls is ld.LSTM else 5)
    text = repr(cell)
    assert text.startswith(cls.__name__)
    assert "hidden_size=5" in text and "input_size=2" in text


def fake_torch_module(p: CellParams, **extra: Any) -> SimpleNamespace:
    """Duck-typed stand-in for torch.nn.RNN/LSTM/GRU: numpy arrays as parameters."""
    return SimpleNamespace(
        weight_ih_l0=p.weight_ih,
        weight_hh_l0=p.weight_hh,
        bias_ih_l0=p.bias_ih,
        bias_hh_l0=p.bias_hh,
        num_layers=1,
        bidirectional=False,
        **extra,
    )


@pytest.mark.parametrize(
    ("cfg", "cls", "extra"),
    [
        ("elman-relu", ld.Elman, {"nonlinearity": "relu"}),
        ("lstm", ld.LSTM, {"proj_size": 0}),
        ("gru", ld.GRU, {}),
    ],
    ids=["rnn-relu", "lstm", "gru"],
)
def test_from_torch_duck_typed_module_equals_direct_constructor(
    cfg: str, cls: Any, extra: dict[str, Any]
) -> None:
    c = make_case(cfg, 7, 3, 3)
    cell = cls.from_torch(fake_torch_module(c.params, **extra))
    assert type(cell) is cls
    np.testing.assert_array_equal(ld.forward(cell, c.x, c.h0), ld.forward(c.cell, c.x, c.h0))
    if cls is ld.Elman:
        assert cell.nonlinearity == "relu"


def test_from_state_dict_equals_direct_constructor() -> None:
    c = make_case("gru", 7, 3, 3)
    state = {
        "weight_ih_l0": c.params.weight_ih,
        "weight_hh_l0": c.params.weight_hh,
        "bias_ih_l0": c.params.bias_ih,
        "bias_hh_l0": c.params.bias_hh,
    }
    cell = ld.GRU.from_state_dict(state)
    np.testing.assert_array_equal(ld.forward(cell, c.x, c.h0), ld.forward(c.cell, c.x, c.h0))


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_from_torch_module_equals_torch_forward(kind: str) -> None:
    torch = pytest.importorskip("torch", reason="torch is optional; needed for this parity test")
    torch.manual_seed(0)
    module = getattr(torch.nn, kind)(3, 7, dtype=torch.float64)
    cell = getattr(ld, "Elman" if kind == "RNN" else kind).from_torch(module)
    x = torch.randn(T, 2, 3, dtype=torch.float64)
    with torch.no_grad():
        want = module(x)[0].numpy()
    np.testing.assert_allclose(ld.forward(cell, x.numpy()), want, rtol=1e-12, atol=1e-13)


# ---------------------------------------------------------------------------------
# properties


def orthogonal(n: int, seed: int) -> np.ndarray:
    q, r = np.linalg.qr(np.random.default_rng(seed).normal(size=(n, n)))
    return q * np.sign(np.diag(r))


@given(
    hidden=st.integers(1, 20),
    steps=st.integers(1, 300),
    batch=st.integers(1, 3),
    seed=st.integers(0, 2**32 - 1),
)
def test_orthogonal_linear_elman_preserves_norms_exactly(
    hidden: int, steps: int, batch: int, seed: int
) -> None:
    """W_hh orthogonal and phi linear: ||dL/dh_t|| = ||v|| and ||J^t u|| = ||u|| for all t."""
    rng = np.random.default_rng(seed)
    cell = ld.Elman(
        rng.normal(size=(hidden, 2)),
        orthogonal(hidden, seed),
        rng.normal(size=hidden),
        nonlinearity="linear",
    )
    x = rng.normal(size=(steps, batch, 2))
    v = rng.normal(size=(batch, hidden))
    u = rng.normal(size=(batch, hidden))
    g = ld.grad_norms(cell, x, v)
    np.testing.assert_allclose(g, np.broadcast_to(np.linalg.norm(v, axis=1), g.shape), rtol=1e-12)
    s = ld.sensitivity(cell, x, u)
    np.testing.assert_allclose(s, np.broadcast_to(np.linalg.norm(u, axis=1), s.shape), rtol=1e-12)


@given(
    cfg=st.sampled_from(list(CELL_CONFIGS)),
    shape=st.sampled_from(SHAPES),
    scale=st.sampled_from([-3.0, -1.0, 0.5, 2.0, 1e-3, 1e5]),
    wrt=st.sampled_from(["state", "input"]),
)
def test_grad_norms_are_linear_in_v(
    cfg: str, shape: tuple[int, int, int], scale: float, wrt: str
) -> None:
    """The reverse pass is linear in the seed v: grad_norms(c v) = |c| grad_norms(v).

    The unit seed differs from v/|v| by rounding; entries that are small through
    cancellation (layer norm's centring) amplify that to ~1e-12, hence rtol 1e-10.
    """
    c = make_case(cfg, *shape)
    base = ld.grad_norms(c.cell, c.x, c.v, c.h0, wrt=wrt)
    scaled = ld.grad_norms(c.cell, c.x, scale * c.v, c.h0, wrt=wrt)
    np.testing.assert_allclose(scaled, abs(scale) * base, rtol=1e-10, atol=0)


@given(
    cfg=st.sampled_from(list(CELL_CONFIGS)),
    shape=st.sampled_from(SHAPES),
    scale=st.sampled_from([-2.0, 0.25, 3.0, 1e-4]),
)
def test_sensitivity_is_linear_in_u(cfg: str, shape: tuple[int, int, int], scale: float) -> None:
    c = make_case(cfg, *shape)
    base = ld.sensitivity(c.cell, c.x, c.u, c.h0)
    scaled = ld.sensitivity(c.cell, c.x, scale * c.u, c.h0)
    np.testing.assert_allclose(scaled, abs(scale) * base, rtol=1e-12, atol=0)


@given(
    kind=st.sampled_from(["elman", "lstm", "gru"]),
    hidden=st.integers(1, 9),
    inputs=st.integers(1, 4),
    steps=st.integers(1, 20),
    batch=st.integers(1, 4),
    two_d=st.booleans(),
)
def test_output_shapes_follow_input_shapes(
    kind: str, hidden: int, inputs: int, steps: int, batch: int, two_d: bool
) -> None:
    gates = {"elman": 1, "lstm": 4, "gru": 3}[kind]
    cls = {"elman": ld.Elman, "lstm": ld.LSTM, "gru": ld.GRU}[kind]
    rng = np.random.default_rng(0)
    cell = cls(rng.normal(size=(gates * hidden, inputs)), rng.normal(size=(gates * hidden, hidden)))
    lead = (steps,) if two_d else (steps, batch)
    x = rng.normal(size=(*lead, inputs))
    v = rng.normal(size=hidden)
    u = rng.normal(size=cell.state_size)
    assert ld.forward(cell, x).shape == (*lead, hidden)
    for wrt in ["state", "input"] + (["cell"] if kind == "lstm" else []):
        assert ld.grad_norms(cell, x, v, wrt=wrt).shape == lead
    for part in ("state", "hidden"):
        assert ld.sensitivity(cell, x, u, part=part).shape == lead
