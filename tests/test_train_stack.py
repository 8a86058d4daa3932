"""``ld.train`` on an ``ld.Stack``: every layer's parameters get the exact BPTT gradient of
the task loss (checked against central finite differences of that loss, written in the
test from the forward pass), and training lowers the loss."""

from __future__ import annotations

import numpy as np

import longdep as ld
from longdep import tasks, training


def _stack() -> ld.Stack:
    return ld.Stack([ld.init.lstm(6, 2, seed=1), ld.init.gru(5, 6, seed=2)])


def test_stack_gradients_of_the_task_loss_match_finite_differences() -> None:
    st = _stack()
    task = tasks.make_task("adding", 12)
    rng = np.random.default_rng(0)
    x, target = task.sample(4, rng)
    params = training._model_params(st)
    params["readout_weight"] = rng.standard_normal((task.output_size, 5)) / 3
    params["readout_bias"] = np.zeros(task.output_size)
    _, _, grads, _ = training._loss_and_grads(st, params, task, x, target, None)

    def loss(p: dict[str, np.ndarray]) -> float:
        cells = {k: v for k, v in p.items() if not k.startswith("readout_")}
        model = training._with_model_params(st, cells)
        return training._loss_and_grads(model, p, task, x, target, None)[0]

    eps = 1e-6
    for key in ("0.weight_hh", "0.bias_ih", "1.weight_ih", "1.weight_hh", "readout_weight"):
        g = grads[key].ravel()
        for idx in rng.choice(g.size, size=3, replace=False):
            hi = {k: v.copy() for k, v in params.items()}
            lo = {k: v.copy() for k, v in params.items()}
            hi[key].flat[idx] += eps
            lo[key].flat[idx] -= eps
            fd = (loss(hi) - loss(lo)) / (2 * eps)
            assert abs(fd - g[idx]) <= 1e-6 * max(1.0, abs(fd)), (key, idx, fd, g[idx])


def test_training_a_stack_lowers_the_loss() -> None:
    task = tasks.make_task("adding", 10)
    res = ld.train(_stack(), task, steps=150, batch=32, lr=1e-2, seed=0)
    assert isinstance(res.cell, ld.Stack) and res.cell.hidden_sizes == (6, 5)
    loss = res.history["loss"].to_numpy()
    assert not res.diverged
    assert loss[-20:].mean() < 0.6 * loss[:10].mean()
    assert loss[-20:].mean() < task.baseline
