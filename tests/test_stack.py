"""``ld.Stack``: stacked LSTM and GRU layers against JAX autodiff of torch's multi-layer
equations written here (float64): forward, the per-layer decay map, ``vjp`` arrays,
per-step losses, ``at=``, memmap ``out=``, chunked and single-chunk passes; a closed form
far below float64; loading torch names; bad input."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

import longdep as ld
from longdep.errors import ArgumentError, ShapeError

I, B = 3, 2
SIZES = (5, 4, 3)  # hidden sizes, bottom first


def _weights(kind: str, sizes: tuple[int, ...], seed: int = 0) -> list[dict[str, np.ndarray]]:
    rng = np.random.default_rng(seed)
    g = {"lstm": 4, "gru": 3}[kind]
    out, below = [], I
    for h in sizes:
        out.append(
            {
                "weight_ih": rng.normal(scale=0.6, size=(g * h, below)),
                "weight_hh": rng.normal(scale=0.6, size=(g * h, h)),
                "bias_ih": rng.normal(scale=0.3, size=g * h),
                "bias_hh": rng.normal(scale=0.3, size=g * h),
            }
        )
        below = h
    return out


def _stack(kind: str, ws: list[dict[str, np.ndarray]]) -> ld.Stack:
    klass = {"lstm": ld.LSTM, "gru": ld.GRU}[kind]
    return ld.Stack([klass(w["weight_ih"], w["weight_hh"], w["bias_ih"], w["bias_hh"]) for w in ws])


def _jax_stack(jax: Any, kind: str, ws: list[dict[str, np.ndarray]]) -> Any:
    """``run(x, h0s, c0s, eh, ec)`` -> every layer's outputs, torch.nn.LSTM/GRU with
    ``num_layers = len(ws)``. ``eh[l]`` is added to layer l's h_t (what the layer above
    and the next step read); ``ec[l]`` to c_t before h_t reads it: their gradients are the
    total dL/dh^l_t and dL/dc^l_t."""
    import jax.numpy as jnp

    def layer(w: dict[str, np.ndarray], x: Any, h0: Any, c0: Any, eh: Any, ec: Any) -> Any:
        w_ih, w_hh = jnp.asarray(w["weight_ih"]), jnp.asarray(w["weight_hh"])
        b_ih, b_hh = jnp.asarray(w["bias_ih"]), jnp.asarray(w["bias_hh"])
        h_sz = w_hh.shape[1]

        def lstm(carry: Any, inp: Any) -> Any:
            h, c = carry
            x_t, e1, e2 = inp
            z = x_t @ w_ih.T + b_ih + h @ w_hh.T + b_hh
            i = jax.nn.sigmoid(z[:, :h_sz])
            f = jax.nn.sigmoid(z[:, h_sz : 2 * h_sz])
            g = jnp.tanh(z[:, 2 * h_sz : 3 * h_sz])
            o = jax.nn.sigmoid(z[:, 3 * h_sz :])
            c = f * c + i * g + e2
            h = o * jnp.tanh(c) + e1
            return (h, c), h

        def gru(h: Any, inp: Any) -> Any:
            x_t, e1, _ = inp
            gi, gh = x_t @ w_ih.T + b_ih, h @ w_hh.T + b_hh
            r = jax.nn.sigmoid(gi[:, :h_sz] + gh[:, :h_sz])
            z = jax.nn.sigmoid(gi[:, h_sz : 2 * h_sz] + gh[:, h_sz : 2 * h_sz])
            n = jnp.tanh(gi[:, 2 * h_sz :] + r * gh[:, 2 * h_sz :])
            h = (1 - z) * n + z * h + e1
            return h, h

        if kind == "lstm":
            return jax.lax.scan(lstm, (h0, c0), (x, eh, ec))[1]
        return jax.lax.scan(gru, h0, (x, eh, ec))[1]

    def run(x: Any, h0s: Any, c0s: Any, eh: Any, ec: Any) -> list[Any]:
        outs = []
        for k, w in enumerate(ws):
            x = layer(w, x, h0s[k], c0s[k], eh[k], ec[k])
            outs.append(x)
        return outs

    return run


def _grads(
    jax: Any,
    kind: str,
    ws: list[dict[str, np.ndarray]],
    x: np.ndarray,
    v: np.ndarray,
    h0s: list[np.ndarray],
    c0s: list[np.ndarray],
) -> tuple[Any, ...]:
    import jax.numpy as jnp

    run = _jax_stack(jax, kind, ws)
    t = x.shape[0]
    every = v.ndim == 3

    def loss(xx: Any, hh: Any, cc: Any, eh: Any, ec: Any) -> Any:
        top = run(xx, hh, cc, eh, ec)[-1]
        return jnp.sum(jnp.asarray(v) * (top if every else top[-1]))

    zeros = [jnp.zeros((t, B, w["weight_hh"].shape[1])) for w in ws]
    g = jax.grad(loss, argnums=(0, 1, 2, 3, 4))(jnp.asarray(x), h0s, c0s, zeros, zeros)
    gx, gh0, gc0, geh, gec = g
    return (
        np.asarray(gx),
        [np.asarray(a) for a in gh0],
        [np.asarray(a) for a in gc0],
        [np.asarray(a) for a in geh],
        [np.asarray(a) for a in gec],
    )


@pytest.mark.parametrize("kind", ["lstm", "gru"])
@pytest.mark.parametrize("depth", [2, 3])
@pytest.mark.parametrize("every", [False, True])
def test_stack_adjoints_equal_jax(jax, kind: str, depth: int, every: bool) -> None:
    ws = _weights(kind, SIZES[:depth], seed=depth)
    net = _stack(kind, ws)
    t = 150
    rng = np.random.default_rng(7)
    x = rng.normal(size=(t, B, I))
    top = SIZES[depth - 1]
    v = rng.normal(size=(t, B, top)) if every else rng.normal(size=(B, top))
    h0s = [rng.normal(scale=0.5, size=(B, h)) for h in SIZES[:depth]]
    c0s = [rng.normal(scale=0.5, size=(B, h)) for h in SIZES[:depth]]
    gx, gh0, gc0, geh, gec = _grads(jax, kind, ws, x, v, h0s, c0s)
    h0: Any = [(h, c) for h, c in zip(h0s, c0s, strict=True)] if kind == "lstm" else h0s

    # forward: every layer's outputs
    run = _jax_stack(jax, kind, ws)
    zeros = [np.zeros((t, B, h)) for h in SIZES[:depth]]
    want_y = [np.asarray(a) for a in run(x, h0s, c0s, zeros, zeros)]
    got_y = net.forward(x, h0, return_all=True)
    for got, want in zip(got_y, want_y, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(ld.forward(net, x, h0), want_y[-1], rtol=1e-12, atol=1e-13)

    # a small budget: 64-step chunks, checkpoints between them; the default: one chunk
    for budget in (8000, ld.DEFAULT_MEMORY_BUDGET):
        r = ld.vjp(net, x, v, h0, memory_budget=budget)
        for k in range(depth):
            np.testing.assert_allclose(r.h[k], geh[k], rtol=1e-9, atol=1e-13)
            if kind == "lstm":
                np.testing.assert_allclose(r.cell[k], gec[k], rtol=1e-9, atol=1e-13)
                np.testing.assert_allclose(r.h0[k][:, : SIZES[k]], gh0[k], rtol=1e-9, atol=1e-13)
                np.testing.assert_allclose(r.h0[k][:, SIZES[k] :], gc0[k], rtol=1e-9, atol=1e-13)
            else:
                assert r.cell[k] is None
                np.testing.assert_allclose(r.h0[k], gh0[k], rtol=1e-9, atol=1e-13)
        np.testing.assert_allclose(r.x, gx, rtol=1e-9, atol=1e-13)
        norms = ld.grad_norms(net, x, v, h0, memory_budget=budget)
        assert norms.shape == (t, B, depth)
        want = np.stack([np.linalg.norm(g, axis=-1) for g in geh], axis=-1)
        np.testing.assert_allclose(norms, want, rtol=1e-9, atol=1e-300)
        np.testing.assert_allclose(
            ld.grad_norms(net, x, v, h0, wrt="input", memory_budget=budget),
            np.linalg.norm(gx, axis=-1),
            rtol=1e-9,
        )
        if kind == "lstm":
            cells = net.grad_norms(x, v, h0, wrt="cell", memory_budget=budget)
            want_c = np.stack([np.linalg.norm(g, axis=-1) for g in gec], axis=-1)
            np.testing.assert_allclose(cells, want_c, rtol=1e-9, atol=1e-300)


def test_kept_steps_a_memmap_and_float32(jax, tmp_path: Path) -> None:
    ws = _weights("gru", SIZES[:2], seed=5)
    net = _stack("gru", ws)
    t = 200
    rng = np.random.default_rng(1)
    x = rng.normal(size=(t, B, I))
    v = rng.normal(size=(t, B, SIZES[1]))
    zeros = [np.zeros((B, h)) for h in SIZES[:2]]
    gx, _, _, geh, _ = _grads(jax, "gru", ws, x, v, zeros, zeros)
    at = [0, 63, 64, 150, t - 1]
    mm = np.lib.format.open_memmap(
        tmp_path / "x.npy", mode="w+", dtype=np.float64, shape=(len(at), B, I)
    )
    r = ld.vjp(net, x, v, at=at, out={"x": mm}, memory_budget=8000)
    assert np.shares_memory(r.x, mm) and r.steps.tolist() == at
    for k in range(2):
        np.testing.assert_allclose(r.h[k], geh[k][at], rtol=1e-9, atol=1e-13)
    mm.flush()
    del mm, r
    np.testing.assert_allclose(np.load(tmp_path / "x.npy"), gx[at], rtol=1e-9, atol=1e-13)
    # float32 input computes in float32: close to the float64 values
    f32 = ld.grad_norms(net, x.astype(np.float32), v.astype(np.float32))
    want = np.stack([np.linalg.norm(g, axis=-1) for g in geh], axis=-1)
    np.testing.assert_allclose(f32, want, rtol=2e-3, atol=1e-6)


def test_decay_map_of_a_linear_stack_far_below_float64() -> None:
    # Two scalar linear layers h1_t = a h1_{t-1} + x_t, h2_t = a h2_{t-1} + h1_t, loss on
    # h2_{T-1}: dL/dh2_t = a^(T-1-t), dL/dh1_t = sum_{k>=t} a^(k-t) a^(T-1-k)
    # = (T - t) a^(T-1-t). At a = 0.5, T = 3000 that is e^-2078 at t = 0.
    a, t = 0.5, 3000
    lin = ld.Elman(np.ones((1, 1)), a * np.eye(1), nonlinearity="linear")
    net = ld.Stack([lin, lin])
    got = net.grad_norms(np.zeros((t, 1)), np.ones(1), log=True, memory_budget=20_000)
    steps = np.arange(t)
    np.testing.assert_allclose(got[:, 1], (t - 1 - steps) * np.log(a), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(
        got[:, 0], np.log(t - steps) + (t - 1 - steps) * np.log(a), rtol=1e-12, atol=1e-12
    )
    assert got[0, 0] < -2000


def test_single_layer_stacks_equal_the_cell() -> None:
    rng = np.random.default_rng(3)
    for cell in (
        ld.SelectiveSSM.random(4, d_state=3, seed=0),
        ld.MinGRU.random(4, I, seed=0),
        ld.LRU.random(4, I, seed=0) if hasattr(ld.LRU, "random") else None,
    ):
        if cell is None:
            continue
        x = rng.normal(size=(120, B, cell.input_size))
        v = rng.normal(size=(B, cell.hidden_size))
        np.testing.assert_allclose(
            ld.Stack([cell]).grad_norms(x, v, memory_budget=20_000)[..., 0],
            ld.grad_norms(cell, x, v),
            rtol=1e-10,
        )
        np.testing.assert_allclose(ld.Stack([cell]).forward(x), ld.forward(cell, x), rtol=1e-12)


def test_modern_layers_stack_on_classic_ones() -> None:
    rng = np.random.default_rng(4)
    lstm = ld.init.lstm(6, I, seed=0)
    ssm = ld.SelectiveSSM.random(6, d_state=4, seed=1)
    net = ld.Stack([lstm, ssm])
    x = rng.normal(size=(90, I))
    y = net.forward(x)
    np.testing.assert_allclose(y, ld.forward(ssm, ld.forward(lstm, x)), rtol=1e-12)
    # the bottom layer's adjoint is the single-layer vjp with the top's dL/du as a
    # per-step loss (the composition rule, through two independent code paths)
    v = rng.normal(size=6)
    top = ld.vjp(ssm, ld.forward(lstm, x), v)
    bottom = ld.vjp(lstm, x, top.x)
    r = ld.vjp(net, x, v, memory_budget=20_000)
    np.testing.assert_allclose(r.h[0], bottom.h, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(r.h[1], top.h, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(r.x, bottom.x, rtol=1e-10, atol=1e-14)


def _torch_names(ws: list[dict[str, np.ndarray]], prefix: str, tail: str = "") -> dict[str, Any]:
    return {f"{prefix}{n}_l{k}{tail}": a for k, w in enumerate(ws) for n, a in w.items()}


def test_from_state_dict_and_a_duck_typed_module() -> None:
    ws = _weights("lstm", SIZES[:2], seed=9)
    back = _weights("lstm", SIZES[:2], seed=10)
    sd = {**_torch_names(ws, "encoder.rnn."), **_torch_names(back, "encoder.rnn.", "_reverse")}
    net = ld.Stack.from_state_dict(sd, "lstm", prefix="encoder.rnn.")
    assert net.num_layers == 2 and net.hidden_sizes == SIZES[:2]
    np.testing.assert_array_equal(net[1].weight_hh, ws[1]["weight_hh"])
    rev = ld.Stack.from_state_dict(sd, "lstm", prefix="encoder.rnn.", reverse=True)
    np.testing.assert_array_equal(rev[0].weight_ih, back[0]["weight_ih"])
    module = SimpleNamespace(
        mode="LSTM", num_layers=2, bidirectional=False, proj_size=0, **_torch_names(ws, "")
    )
    m = ld.Stack.from_torch(module)
    np.testing.assert_array_equal(m[0].weight_hh, ws[0]["weight_hh"])
    with pytest.raises(ArgumentError, match="reverse=True needs a bidirectional module"):
        ld.Stack.from_torch(module, reverse=True)
    module.bidirectional = True
    with pytest.raises(ArgumentError, match=r"ld\.Bidirectional\.from_torch"):
        ld.Stack.from_torch(module)
    relu = ld.Stack.from_state_dict(_torch_names(_weights("gru", (4,)), ""), "gru")
    assert isinstance(relu[0], ld.GRU)


def test_against_torch_when_installed() -> None:
    torch = pytest.importorskip("torch", reason="torch is optional (pip install torch)")
    torch.manual_seed(0)
    m = torch.nn.LSTM(I, 5, num_layers=2, dtype=torch.float64)
    x = torch.randn(40, B, I, dtype=torch.float64)
    y, _ = m(x)
    net = ld.Stack.from_torch(m)
    np.testing.assert_allclose(net.forward(x.numpy()), y.detach().numpy(), rtol=1e-12)


def test_bad_stacks_and_arguments(tmp_path: Path) -> None:
    a = ld.init.lstm(4, I, seed=0)
    with pytest.raises(ShapeError, match=r"cells\[1\] \(GRU\) must have input_size 4"):
        ld.Stack([a, ld.init.gru(3, 5, seed=0)])
    with pytest.raises(ArgumentError, match="at least one"):
        ld.Stack([])
    with pytest.raises(ArgumentError, match=r"cells\[0\] must be a longdep recurrent cell"):
        ld.Stack([object()])  # type: ignore[list-item]
    net = ld.Stack([a, ld.init.gru(3, 4, seed=0)])
    x = np.zeros((30, B, I))
    with pytest.raises(ArgumentError, match=r"at must hold steps in 0\.\.29"):
        ld.vjp(net, x, np.ones(3), at=[30])
    bad = np.lib.format.open_memmap(
        tmp_path / "b.npy", mode="w+", dtype=np.float64, shape=(30, B, 4)
    )
    with pytest.raises(
        ShapeError, match=r"out\['x'\] must be a float64 array of shape \(30, 2, 3\)"
    ):
        ld.vjp(net, x, np.ones(3), out={"x": bad})
    with pytest.raises(ArgumentError, match="list of 2 initial states"):
        net.forward(x, [None])
    with pytest.raises(ArgumentError, match="layer 1 is GRU"):
        net.grad_norms(x, np.ones(3), wrt="cell")
    with pytest.raises(ShapeError, match="v must have shape"):
        net.grad_norms(x, np.ones(4))
    with pytest.raises(ArgumentError, match="weight_hh_l0"):
        ld.Stack.from_state_dict({"foo": np.ones(2)}, "gru")
    with pytest.raises(ArgumentError, match="proj_size"):
        ld.Stack.from_state_dict({"weight_hh_l0": np.ones((4, 1)), "weight_hr_l0": np.ones(1)})
    with pytest.raises(ArgumentError, match="cell must be one of"):
        ld.Stack.from_state_dict({}, "transformer")
    # Forward mode runs through a stack too; a perturbation list of the wrong length is refused.
    np.testing.assert_array_equal(
        ld.sensitivity(net, x, np.ones(8)), net.sensitivity(x, np.ones(8))
    )
    with pytest.raises(ArgumentError, match="perturbations"):
        ld.sensitivity(net, x, [np.ones(8)] * 3)


@pytest.mark.parametrize("kind", ["lstm", "gru"])
@pytest.mark.parametrize("chunked", [False, True])
def test_stack_jvp_equals_jax_jvp(jax, kind: str, chunked: bool) -> None:
    # d h^l_t of every layer for a perturbation of every layer's initial state and a
    # tangent of the inputs, against jax.jvp of torch's multi-layer equations above.
    import jax.numpy as jnp

    ws = _weights(kind, SIZES, seed=11)
    net = _stack(kind, ws)
    t = 120
    rng = np.random.default_rng(3)
    x = rng.normal(size=(t, B, I))
    dx = rng.normal(size=(t, B, I))
    h0s = [rng.normal(scale=0.5, size=(B, h)) for h in SIZES]
    c0s = [rng.normal(scale=0.5, size=(B, h)) for h in SIZES]
    uh = [rng.normal(size=(B, h)) for h in SIZES]
    uc = [rng.normal(size=(B, h)) for h in SIZES]
    run = _jax_stack(jax, kind, ws)
    zeros = [jnp.zeros((t, B, h)) for h in SIZES]

    def f(xx: Any, hh: Any, cc: Any) -> Any:
        return run(xx, hh, cc, zeros, zeros)

    c_tan = uc if kind == "lstm" else [np.zeros_like(a) for a in uc]
    _, want = jax.jvp(f, (jnp.asarray(x), h0s, c0s), (jnp.asarray(dx), uh, c_tan))
    if kind == "lstm":
        h0: Any = list(zip(h0s, c0s, strict=True))
        u = [np.concatenate([a, c], axis=1) for a, c in zip(uh, uc, strict=True)]
    else:
        h0, u = h0s, uh
    budget = 4096 if chunked else ld.DEFAULT_MEMORY_BUDGET
    got = net.jvp(x, u, h0, dx=dx, memory_budget=budget)
    assert isinstance(got, ld.StackJVP)
    for k, h in enumerate(SIZES):
        w = np.asarray(want[k])
        assert got.h[k].shape == (t, B, h)
        np.testing.assert_allclose(got.h[k], w, rtol=0, atol=1e-11 * np.abs(w).max())
    # ld.jvp dispatches to it; at= keeps those steps of every layer.
    steps = [0, 57, t - 1]
    kept = ld.jvp(net, x, u, h0, dx=dx, at=steps)
    assert isinstance(kept, ld.StackJVP) and kept.steps.tolist() == steps
    for k in range(len(SIZES)):
        # (to rounding: the chunked pass starts each chunk from a re-run forward state)
        np.testing.assert_allclose(kept.state[k], got.state[k][steps], rtol=1e-12, atol=1e-15)
    # Only the bottom layer perturbed (one array, no dx): the layers above still move.
    low = ld.jvp(net, x, u[0], h0)
    assert isinstance(low, ld.StackJVP) and np.abs(low.h[-1][-1]).max() > 0


def test_stack_jvp_rejects_bad_perturbations() -> None:
    net = _stack("gru", _weights("gru", SIZES))
    x = np.zeros((10, B, I))
    with pytest.raises(ArgumentError, match="one per layer"):
        net.jvp(x, [None, None])
    with pytest.raises(ShapeError, match=r"u\[1\]"):
        net.jvp(x, [None, np.ones(7), None])
    with pytest.raises(ShapeError, match="dx"):
        net.jvp(x, None, dx=np.zeros((10, B, I + 1)))
    with pytest.raises(ArgumentError, match="hidden sizes"):  # torch's (L, B, H) h0
        net.jvp(x, None, np.zeros((3, B, 5)))
    with pytest.raises(ArgumentError, match="out is not taken"):
        ld.jvp(net, x, None, out=np.zeros((10, B, 5)))
