"""``ld.load`` on checkpoints built here with torch's names and prefixes (``.safetensors``,
``.npz``, state dicts, duck-typed modules), ``ld.Bidirectional`` in torch's layered
layout, and ``ld.connectivity`` against JAX Jacobians of torch's equations (float64)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

import longdep as ld
from longdep.errors import ArgumentError, ShapeError

I = 3


def _layer(rng: np.random.Generator, g: int, h: int, i: int) -> dict[str, np.ndarray]:
    return {
        "weight_ih": rng.normal(scale=0.6, size=(g * h, i)),
        "weight_hh": rng.normal(scale=0.6, size=(g * h, h)),
        "bias_ih": rng.normal(scale=0.3, size=g * h),
        "bias_hh": rng.normal(scale=0.3, size=g * h),
    }


def _bidir_state(g: int, h: int, layers: int, prefix: str, seed: int = 0) -> dict[str, Any]:
    """torch's bidirectional names: layer k > 0 reads both directions (2h inputs)."""
    rng = np.random.default_rng(seed)
    sd = {}
    for k in range(layers):
        for tail in ("", "_reverse"):
            for n, a in _layer(rng, g, h, I if k == 0 else 2 * h).items():
                sd[f"{prefix}{n}_l{k}{tail}"] = a
    return sd


def _jax_gru_layer(jax: Any, w: dict[str, np.ndarray], x: Any) -> Any:
    import jax.numpy as jnp

    h = w["weight_hh"].shape[1]

    def body(hh: Any, x_t: Any) -> Any:
        gi = x_t @ jnp.asarray(w["weight_ih"]).T + w["bias_ih"]
        gh = hh @ jnp.asarray(w["weight_hh"]).T + w["bias_hh"]
        r = jax.nn.sigmoid(gi[:h] + gh[:h])
        z = jax.nn.sigmoid(gi[h : 2 * h] + gh[h : 2 * h])
        n = jnp.tanh(gi[2 * h :] + r * gh[2 * h :])
        hh = (1 - z) * n + z * hh
        return hh, hh

    return jax.lax.scan(body, jnp.zeros(h), x)[1]


def _jax_bidir(jax: Any, sd: dict[str, Any], layers: int) -> Any:
    import jax.numpy as jnp

    def run(x: Any) -> Any:
        for k in range(layers):
            f = {n: sd[f"{n}_l{k}"] for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")}
            b = {
                n: sd[f"{n}_l{k}_reverse"] for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
            }
            x = jnp.concatenate(
                [_jax_gru_layer(jax, f, x), _jax_gru_layer(jax, b, x[::-1])[::-1]], axis=-1
            )
        return x

    return run


def test_bidirectional_gru_forward_and_connectivity_equal_jax(jax) -> None:
    h, t = 4, 30
    sd = _bidir_state(3, h, 2, "")
    model = ld.load(sd)["rnn"]
    assert isinstance(model, ld.Bidirectional) and model.num_layers == 2
    x = np.random.default_rng(1).normal(size=(t, I))
    run = _jax_bidir(jax, sd, 2)
    np.testing.assert_allclose(model.forward(x), np.asarray(run(x)), rtol=1e-12, atol=1e-13)
    jac = np.asarray(jax.jacrev(run)(x))  # (T, 2H, T, I)
    want = np.sqrt((jac**2).sum(axis=(1, 3)))
    got = ld.connectivity(model, x)
    assert got.exact and got.stderr is None
    np.testing.assert_allclose(got.values, want, rtol=1e-9, atol=1e-14)
    assert (got.values[0, 1:] > 0).all()  # the backward half reaches every later input


def test_stack_connectivity_and_the_probe_estimate(jax) -> None:
    import jax.numpy as jnp

    rng = np.random.default_rng(2)
    ws = [_layer(rng, 4, 5, I), _layer(rng, 4, 5, 5)]
    net = ld.Stack([ld.LSTM(**w) for w in ws])
    t = 25
    x = rng.normal(size=(t, I))

    def lstm(w: dict[str, np.ndarray], xs: Any) -> Any:
        h = w["weight_hh"].shape[1]

        def body(carry: Any, x_t: Any) -> Any:
            hh, cc = carry
            z = x_t @ w["weight_ih"].T + w["bias_ih"] + hh @ w["weight_hh"].T + w["bias_hh"]
            i, f = jax.nn.sigmoid(z[:h]), jax.nn.sigmoid(z[h : 2 * h])
            g, o = jnp.tanh(z[2 * h : 3 * h]), jax.nn.sigmoid(z[3 * h :])
            cc = f * cc + i * g
            hh = o * jnp.tanh(cc)
            return (hh, cc), hh

        return jax.lax.scan(body, (jnp.zeros(h), jnp.zeros(h)), xs)[1]

    jac = np.asarray(jax.jacrev(lambda xs: lstm(ws[1], lstm(ws[0], xs)))(x))
    want = np.sqrt((jac**2).sum(axis=(1, 3)))
    got = ld.connectivity(net, x)
    np.testing.assert_allclose(got.values, want, rtol=1e-9, atol=1e-14)
    assert np.all(np.triu(got.values, 1) == 0)
    est = ld.connectivity(net, x, probes=200, seed=3)
    assert est.stderr is not None and not est.exact
    low = np.tril_indices(t)
    z = np.abs(est.values[low] - want[low]) / np.maximum(est.stderr[low], 1e-300)
    assert np.mean(z < 4) > 0.97  # within four standard errors almost everywhere
    assert np.median(np.abs(est.values[low] / want[low] - 1)) < 0.1


def test_load_files_prefixes_cells_and_mixers(tmp_path: Path) -> None:
    from safetensors.numpy import save_file

    rng = np.random.default_rng(4)
    sd: dict[str, np.ndarray] = {}
    for k in range(2):  # a 2-layer GRU under encoder.rnn.
        for n, a in _layer(rng, 3, 4, I if k == 0 else 4).items():
            sd[f"encoder.rnn.{n}_l{k}"] = a
    for n, a in _layer(rng, 4, 6, 4).items():  # an LSTMCell inside the decoder
        sd[f"decoder.lstm_cell.{n}"] = a
    sd["decoder.out.weight"] = rng.normal(size=(2, 6))
    d, n_state, r = 4, 3, 1
    sd |= {
        "backbone.layers.0.mixer.x_proj.weight": rng.normal(size=(r + 2 * n_state, d)),
        "backbone.layers.0.mixer.dt_proj.weight": rng.normal(size=(d, r)),
        "backbone.layers.0.mixer.dt_proj.bias": rng.normal(size=d),
        "backbone.layers.0.mixer.A_log": rng.normal(size=(d, n_state)),
        "backbone.layers.0.mixer.D": rng.normal(size=d),
    }
    st = tmp_path / "model.safetensors"
    save_file({k: np.ascontiguousarray(v) for k, v in sd.items()}, str(st))
    npz = tmp_path / "model.npz"
    np.savez(npz, **sd)
    for source in (st, npz, sd):
        found = ld.load(source)
        assert set(found) == {"encoder.rnn", "decoder.lstm_cell", "backbone.layers.0.mixer"}
        enc = found["encoder.rnn"]
        assert isinstance(enc, ld.Stack) and enc.hidden_sizes == (4, 4)
        np.testing.assert_array_equal(enc[1].weight_hh, sd["encoder.rnn.weight_hh_l1"])
        assert isinstance(found["decoder.lstm_cell"], ld.LSTM)
        assert isinstance(found["backbone.layers.0.mixer"], ld.SelectiveSSM)
    only = ld.load(sd, prefix="decoder.")
    assert list(only) == ["decoder.lstm_cell"]
    # A mixer that lacks a tensor is an error naming it, not a layer silently skipped.
    for lost in ("D", "dt_proj.bias", "x_proj.weight"):
        broken = {k: v for k, v in sd.items() if k != f"backbone.layers.0.mixer.{lost}"}
        with pytest.raises(ArgumentError, match=rf"lacks backbone\.layers\.0\.mixer\.{lost}"):
            ld.load(broken)


def test_load_a_duck_typed_module_with_relu_and_minrnn_kinds() -> None:
    rng = np.random.default_rng(5)
    w = {f"{n}_l0": a for n, a in _layer(rng, 1, 3, I).items()}
    rnn = SimpleNamespace(nonlinearity="relu", **w)
    module = SimpleNamespace(
        state_dict=lambda: {f"rnn.{k}": v for k, v in w.items()},
        named_modules=lambda: [("", object()), ("rnn", rnn)],
    )
    cell = ld.load(module)["rnn"]
    assert isinstance(cell, ld.Elman) and cell.nonlinearity == "relu"
    mg = ld.MinGRU.random(6, I, seed=0)
    sd = {"weight_ih": mg.weight_ih, "bias_ih": mg.bias_ih}
    with pytest.raises(ArgumentError, match="fit several kinds"):
        ld.load(sd)  # (12, I): a minGRU of H = 6 or a minLSTM of H = 4
    got = ld.load(sd, kind="mingru")
    np.testing.assert_array_equal(next(iter(got.values())).weight_ih, mg.weight_ih)


def test_load_rejects_what_it_cannot_map(tmp_path: Path) -> None:
    with pytest.raises(ArgumentError, match=r"no recurrent layer.*embed\.weight"):
        ld.load({"embed.weight": np.ones((3, 2))})
    with pytest.raises(ArgumentError, match=r"'lstm\.weight_hr_l0': LSTMs with proj_size"):
        ld.load({"lstm.weight_hh_l0": np.ones((8, 2)), "lstm.weight_hr_l0": np.ones((2, 4))})
    with pytest.raises(ArgumentError, match=r"'rnn\.weight_hh_l0'.*2 gate blocks"):
        ld.load({"rnn.weight_ih_l0": np.ones((4, 3)), "rnn.weight_hh_l0": np.ones((4, 2))})
    bad = tmp_path / "junk.npz"
    bad.write_bytes(b"not a zip at all")
    with pytest.raises(ArgumentError, match=r"not a valid \.npz \(zip\) archive") as e:
        ld.load(bad)
    assert "allow_pickle" not in str(e.value)
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"\xff" * 64)
    with pytest.raises(ArgumentError, match=r"not a valid \.safetensors"):
        ld.load(junk)
    pt = tmp_path / "model.pt"
    pt.write_bytes(b"x")
    with pytest.raises(ArgumentError, match="pickle"):
        ld.load(pt)
    with pytest.raises(ArgumentError, match="existing checkpoint file"):
        ld.load(tmp_path / "missing.npz")
    with pytest.raises(ArgumentError, match="source must be"):
        ld.load(42)
    with pytest.raises(ShapeError, match="pair 1 must read the 8 outputs"):
        ld.Bidirectional.layered(
            [(ld.init.gru(4, I, seed=0), ld.init.gru(4, I, seed=1)),
             (ld.init.gru(4, 4, seed=2), ld.init.gru(4, 4, seed=3))]
        )  # fmt: skip
    with pytest.raises(ShapeError, match=r"x must have shape \(T, 3\)"):
        ld.connectivity(ld.init.gru(4, I, seed=0), np.zeros((5, 2)))
    with pytest.raises(ArgumentError, match="probes must be"):
        ld.connectivity(ld.init.gru(4, I, seed=0), np.zeros((5, I)), probes=1)


def test_against_torch_when_installed() -> None:
    torch = pytest.importorskip("torch", reason="torch is optional (pip install torch)")
    torch.manual_seed(0)
    m = torch.nn.LSTM(I, 5, num_layers=2, bidirectional=True, dtype=torch.float64)
    x = torch.randn(20, 1, I, dtype=torch.float64)
    y, _ = m(x)
    model = ld.load(m)["rnn"]
    np.testing.assert_allclose(model.forward(x.numpy()), y.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(
        ld.Bidirectional.from_torch(m).forward(x.numpy()), y.detach().numpy(), rtol=1e-12
    )
