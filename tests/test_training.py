"""Training lab: BPTT parameter gradients against JAX autodiff, clipping, tasks,
and short real training runs that must reduce the loss."""

from __future__ import annotations

import math

import numpy as np
import pytest

import longdep as ld
from longdep import tasks, training

jax = pytest.importorskip(
    "jax", reason="JAX autodiff is the independent reference for BPTT gradients"
)
jax.config.update("jax_enable_x64", True)
jnp = jax.numpy


def _jax_step(kind: str, opts: dict, p: dict, s, x):
    """One step of each cell from the PyTorch formulas, in JAX."""
    if kind == "lru":
        lam = jnp.exp(-jnp.exp(p["nu_log"]) + 1j * jnp.exp(p["theta_log"]))
        g = jnp.exp(p["gamma_log"])
        H = p["nu_log"].shape[0]
        h = s[:H] + 1j * s[H:]
        h = lam * h + g * ((p["B_re"] + 1j * p["B_im"]) @ x)
        new = jnp.concatenate([h.real, h.imag])
        return new, new
    H = p["weight_hh"].shape[1]
    if kind == "elman":
        a = p["weight_ih"] @ x + p["bias_ih"] + p["weight_hh"] @ s + p["bias_hh"]
        if opts.get("layer_norm"):
            mu = a.mean()
            var = ((a - mu) ** 2).mean()
            a = p["ln_weight"] * (a - mu) / jnp.sqrt(var + 1e-5) + p["ln_bias"]
        phi = {"tanh": jnp.tanh, "relu": lambda v: jnp.maximum(v, 0), "linear": lambda v: v}[
            opts["nonlinearity"]
        ]
        h = phi(a)
        if opts.get("residual") is not None:
            h = s + opts["residual"] * h
        return h, h
    if kind == "lstm":
        h, c = s[:H], s[H:]
        a = p["weight_ih"] @ x + p["bias_ih"] + p["weight_hh"] @ h + p["bias_hh"]
        i, f, g, o = (
            jax.nn.sigmoid(a[:H]),
            jax.nn.sigmoid(a[H : 2 * H]),
            jnp.tanh(a[2 * H : 3 * H]),
            jax.nn.sigmoid(a[3 * H :]),
        )
        c = f * c + i * g
        h = o * jnp.tanh(c)
        return jnp.concatenate([h, c]), h
    gi = p["weight_ih"] @ x + p["bias_ih"]
    gh = p["weight_hh"] @ s + p["bias_hh"]
    r = jax.nn.sigmoid(gi[:H] + gh[:H])
    z = jax.nn.sigmoid(gi[H : 2 * H] + gh[H : 2 * H])
    n = jnp.tanh(gi[2 * H :] + r * gh[2 * H :])
    h = (1 - z) * n + z * s
    return h, h


def _jax_loss(kind, opts, p, s0, x, dh):
    def body(s, inp):
        xt, dt = inp
        s, h = _jax_step(kind, opts, p, s, xt)
        return s, jnp.dot(h, dt)

    _, terms = jax.lax.scan(body, s0, (x, dh))
    return terms.sum()


def _cells(rng: np.random.Generator, H: int, I: int) -> list[tuple[str, dict, ld.RecurrentCell]]:
    def w(*shape: int, s: float = 1.0) -> np.ndarray:
        return rng.normal(size=shape) * s

    sc = 1.2 / np.sqrt(H)
    return [
        (
            "elman",
            {"nonlinearity": "tanh"},
            ld.Elman(w(H, I), w(H, H, s=sc), w(H, s=0.3), w(H, s=0.3)),
        ),
        (
            "elman",
            {"nonlinearity": "relu"},
            ld.Elman(w(H, I), w(H, H, s=sc), w(H, s=0.3), w(H, s=0.3), "relu"),
        ),
        (
            "elman",
            {"nonlinearity": "tanh", "residual": 0.5, "layer_norm": True},
            ld.Elman(
                w(H, I),
                w(H, H, s=sc),
                w(H, s=0.3),
                w(H, s=0.3),
                residual=0.5,
                layer_norm=True,
                ln_weight=1 + w(H, s=0.2),
                ln_bias=w(H, s=0.2),
            ),
        ),
        ("lstm", {}, ld.LSTM(w(4 * H, I), w(4 * H, H, s=sc), w(4 * H, s=0.3), w(4 * H, s=0.3))),
        ("gru", {}, ld.GRU(w(3 * H, I), w(3 * H, H, s=sc), w(3 * H, s=0.3), w(3 * H, s=0.3))),
        ("lru", {}, ld.LRU.random(H, I, r_min=0.8, r_max=0.99, seed=int(rng.integers(1000)))),
    ]


@pytest.mark.parametrize("truncate", [None, 7], ids=["full", "truncated"])
def test_param_grads_equal_jax_autodiff(truncate: int | None) -> None:
    rng = np.random.default_rng(0)
    H, I, T, B = 5, 3, 23, 2
    for kind, opts, cell in _cells(rng, H, I):
        x = rng.normal(size=(T, B, I))
        dh = rng.normal(size=(T, B, cell.hidden_size))
        h0 = rng.normal(size=(B, cell.state_size)) * 0.5
        got = training.param_grads(
            cell, x, dh, h0 if kind != "lstm" else (h0[:, :H], h0[:, H:]), truncate=truncate
        )
        params = {k: jnp.asarray(v) for k, v in training.cell_params(cell).items()}
        for b in range(B):
            if truncate is None:
                g_b, g_s0 = jax.grad(_jax_loss, argnums=(2, 3))(
                    kind,
                    opts,
                    params,
                    jnp.asarray(h0[b]),
                    jnp.asarray(x[:, b]),
                    jnp.asarray(dh[:, b]),
                )
                np.testing.assert_allclose(
                    got["h0"][b], g_s0, rtol=1e-10, atol=1e-12, err_msg=f"{kind} {opts} h0"
                )
            else:
                # Truncated BPTT: the sum of per-window gradients with the state carried in.
                states = ld.forward(
                    cell,
                    x[:, b],
                    h0[b] if kind != "lstm" else (h0[b, :H], h0[b, H:]),
                    return_state=True,
                )
                g_b = None
                for w0 in range(0, T, truncate):
                    s_in = jnp.asarray(h0[b] if w0 == 0 else states[w0 - 1])
                    gw = jax.grad(_jax_loss, argnums=2)(
                        kind,
                        opts,
                        params,
                        s_in,
                        jnp.asarray(x[w0 : w0 + truncate, b]),
                        jnp.asarray(dh[w0 : w0 + truncate, b]),
                    )
                    g_b = gw if g_b is None else jax.tree_util.tree_map(jnp.add, g_b, gw)
            if b == 0:
                total = g_b
            else:
                total = jax.tree_util.tree_map(jnp.add, total, g_b)
        for name, ref in total.items():
            np.testing.assert_allclose(
                got[name],
                np.asarray(ref),
                rtol=1e-10,
                atol=1e-11,
                err_msg=f"{kind} {opts} {name} truncate={truncate}",
            )


def test_clip_grad_norm_follows_torch_rule() -> None:
    g = {"a": np.array([3.0, 0.0]), "b": np.array([[0.0, 4.0]])}
    before, after = training.clip_grad_norm(g, 1.0)
    assert before == pytest.approx(5.0)
    assert after == pytest.approx(5.0 / (5.0 + 1e-6))
    np.testing.assert_allclose(g["a"], [3.0 / (5 + 1e-6), 0.0])
    small = {"a": np.array([0.1])}
    assert training.clip_grad_norm(small, 1.0) == (pytest.approx(0.1), pytest.approx(0.1))
    assert small["a"][0] == 0.1


def test_task_baselines_match_their_closed_forms() -> None:
    rng = np.random.default_rng(1)
    t = tasks.AddingTask(100)
    x, y = t.sample(20000, rng)
    assert x.shape == (100, 20000, 2) and np.all(x[:, :, 1].sum(axis=0) == 2)
    const = np.ones((100, 20000, 1))
    loss, _, _ = t.loss(const, y)
    assert loss == pytest.approx(1 / 6, rel=0.03)
    c = tasks.CopyTask(50)
    assert c.baseline == pytest.approx(10 * math.log(8) / 70)
    xc, yc = c.sample(4, rng)
    assert xc.shape == (70, 4, 10) and np.array_equal(yc[-10:], xc[:10].argmax(axis=-1))
    s = tasks.SubjectTask(30)
    xs, ys = s.sample(5, rng)
    assert np.array_equal(xs[0].argmax(axis=-1), ys) and s.baseline == pytest.approx(math.log(8))
    with pytest.raises(ld.ArgumentError, match="task must be"):
        tasks.make_task("parity", 10)
    with pytest.raises(ld.ArgumentError, match="length"):
        tasks.AddingTask(1)


def test_short_training_reduces_the_loss_for_every_cell() -> None:
    task = tasks.AddingTask(20)
    rng = np.random.default_rng(2)
    H = 16
    cells = {
        "elman": ld.Elman(
            rng.normal(size=(H, 2)) * 0.5, rng.normal(size=(H, H)) * 0.5 / np.sqrt(H)
        ),
        "lstm": ld.LSTM(
            rng.normal(size=(4 * H, 2)) * 0.3, rng.normal(size=(4 * H, H)) / np.sqrt(H)
        ),
        "gru": ld.GRU(rng.normal(size=(3 * H, 2)) * 0.3, rng.normal(size=(3 * H, H)) / np.sqrt(H)),
        "lru": ld.LRU.random(H // 2, 2, r_min=0.5, r_max=0.95, seed=3),
    }
    for name, cell in cells.items():
        res = training.train(cell, task, steps=150, batch=32, lr=5e-3, seed=4)
        first, last = res.history.loss.iloc[:10].mean(), res.history.loss.iloc[-20:].mean()
        assert not res.diverged
        assert last < 0.6 * first, f"{name}: loss {first:.3f} -> {last:.3f}"


def test_clipping_turns_a_diverging_run_into_a_converging_one() -> None:
    # A relu network with spectral radius ~2.5 and a large step size explodes.
    rng = np.random.default_rng(5)
    H = 16
    cell = ld.Elman(
        rng.normal(size=(H, 2)), 2.5 * np.linalg.qr(rng.normal(size=(H, H)))[0], nonlinearity="relu"
    )
    task = tasks.AddingTask(30)
    wild = training.train(cell, task, steps=60, batch=16, lr=0.05, optimizer="sgd", seed=6)
    tame = training.train(
        cell, task, steps=60, batch=16, lr=0.05, optimizer="sgd", seed=6, clip=1.0
    )
    assert wild.diverged or wild.history.loss.iloc[-1] > 10 * wild.history.loss.iloc[0]
    assert not tame.diverged
    assert np.all(np.isfinite(tame.history.loss))
    assert tame.history.grad_norm_clipped.max() <= 1.0 + 1e-9


def test_train_rejects_bad_arguments() -> None:
    cell = ld.Elman(np.ones((3, 2)), np.eye(3) * 0.5)
    task = tasks.AddingTask(10)
    with pytest.raises(ld.ShapeError, match="input size"):
        training.train(ld.Elman(np.ones((3, 1)), np.eye(3)), task, steps=1)
    with pytest.raises(ld.ArgumentError, match="lr"):
        training.train(cell, task, steps=1, lr=-1)
    with pytest.raises(ld.ArgumentError, match="clip"):
        training.train(cell, task, steps=1, clip=0)
    with pytest.raises(ld.ArgumentError, match="optimizer"):
        training.train(cell, task, steps=1, optimizer="rmsprop")
