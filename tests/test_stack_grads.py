"""Parameter gradients of an ``ld.Stack`` (per-layer dicts) against JAX autodiff of
torch's multi-layer LSTM/GRU equations written in ``test_stack`` (float64), for a loss
at every step ``L = sum_t v_t . h^top_t``."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from test_stack import B, I, _jax_stack, _stack, _weights

import longdep as ld

NAMES = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


@pytest.mark.parametrize("kind", ["lstm", "gru"])
@pytest.mark.parametrize("sizes", [(5, 4), (5, 4, 3)])
def test_stack_param_grads_match_jax_autodiff(jax: Any, kind: str, sizes: tuple[int, ...]) -> None:
    import jax.numpy as jnp

    ws = _weights(kind, sizes, seed=3)
    stack = _stack(kind, ws)
    rng = np.random.default_rng(1)
    t = 9
    x = rng.normal(size=(t, B, I))
    v = rng.normal(size=(t, B, sizes[-1]))
    grads = ld.param_grads(stack, x, v, inputs=True)

    def loss(params: list[dict[str, Any]], xx: Any) -> Any:
        run = _jax_stack(jax, kind, params)
        zs = [jnp.zeros((B, w["weight_hh"].shape[1])) for w in params]
        es = [jnp.zeros((t, B, w["weight_hh"].shape[1])) for w in params]
        return jnp.sum(jnp.asarray(v) * run(xx, zs, zs, es, es)[-1])

    jparams = [{k: jnp.asarray(w[k]) for k in NAMES} for w in ws]
    ref, ref_x = jax.grad(loss, argnums=(0, 1))(jparams, jnp.asarray(x))
    assert len(grads) == len(sizes)
    worst = 0.0
    for g, r in zip(grads, ref, strict=True):
        for k in NAMES:
            want = np.asarray(r[k])
            err = np.max(np.abs(g[k] - want)) / np.max(np.abs(want))
            worst = max(worst, err)
            np.testing.assert_allclose(g[k], want, rtol=1e-9, atol=1e-12 * np.abs(want).max())
    np.testing.assert_allclose(grads[0]["x"], np.asarray(ref_x), rtol=1e-9, atol=1e-13)
    print(f"{kind} {sizes}: worst relative error {worst:.2e}")


def test_stack_param_grads_of_one_layer_equal_the_cell_s() -> None:
    ws = _weights("gru", (4,), seed=0)
    stack = _stack("gru", ws)
    x = np.random.default_rng(0).normal(size=(6, I))
    v = np.random.default_rng(1).normal(size=(6, 4))
    (g,) = ld.param_grads(stack, x, v)
    ref = ld.param_grads(stack[0], x, v)
    for k in NAMES:
        np.testing.assert_allclose(g[k], ref[k], rtol=1e-13)
