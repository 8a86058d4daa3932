"""The computations behind the "Which words does the model still hear?" page.

Five small models (a tanh RNN, an LSTM, a GRU, a minGRU and one causal self-attention
head) are trained on :class:`longdep.tasks.PronounTask`: at the pronoun, name the person
it refers to, a few to some 40 words back. The seed's sentence ("Zhang San borrowed a
book ...; he thinks ...", and its Chinese original) is then encoded in that task's
vocabulary (the name is a name token, "he"/"他" the pronoun, every other word a filler
word) and :func:`longdep.connectivity` measures ``C[t, k] = ||dh_t/dx_k||_F``: how
strongly the state at word ``t`` still depends on word ``k``. The number the page reports
per model is the share of the pronoun row's connectivity that falls on the name,
``C[p, n] / sum_{k <= p} C[p, k]``.

The trained models are kept with ``st.cache_resource`` (trained once per server process,
in seconds); the connectivity of one sentence is cached with ``st.cache_data``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

import longdep as ld
from longdep import init, tasks, training
from longdep.kinds import cell_class

__all__ = [
    "EXTRA",
    "MODELS",
    "SENTENCES",
    "TASK",
    "answer",
    "attention_connectivity",
    "connectivity",
    "encode",
    "hear",
    "make_task",
    "name_share",
    "sentence",
    "train_attention",
    "trained_models",
]

#: Model keys in the order the page shows them; the modern cell is the minGRU.
MODELS = ("rnn", "lstm", "gru", "mingru", "attention")
#: The seed's sentence, one token per word (the name and the pronoun are one token each):
#: (words, index of the name, index of the pronoun).
SENTENCES: dict[str, tuple[tuple[str, ...], int, int]] = {
    "en": (
        ("Zhang San", "borrowed", "a", "book", "about", "AI", "in", "the", "library",
         "yesterday", ";", "he", "thinks", "the", "book", "is", "very", "interesting"),
        0, 11,
    ),
    "zh": (
        ("张三", "昨天", "在", "图书馆", "借了", "一本", "关于", "人工智能", "的", "书", "，",
         "他", "觉得", "这本书", "很", "有意思"),
        0, 11,
    ),
}  # fmt: skip
#: Words inserted before the pronoun to move it further from the name (cycled).
EXTRA: dict[str, tuple[str, ...]] = {
    "en": ("after", "class", "with", "a", "friend", "who", "also", "likes", "long",
           "stories", "and", "old", "maps", ","),
    "zh": ("下课", "后", "和", "一位", "也", "喜欢", "长", "故事", "和", "旧", "地图", "的",
           "朋友", "一起", "，"),
}  # fmt: skip
#: The task the models are trained on: sentences of 48 words, 6 names, 24 filler words,
#: the name among the first 4 words and the pronoun 2 to 47 words after it.
TASK: dict[str, int] = {
    "length": 48, "n_subjects": 6, "n_distractors": 24, "min_gap": 2, "max_lead": 4,
}  # fmt: skip
#: Hidden size of every model (head size of the attention head), steps, batch, rate.
HIDDEN, STEPS, BATCH, LR = 24, 200, 32, 1e-2
#: The most words the page inserts before the pronoun (the sentence stays within TASK).
MAX_EXTRA = TASK["length"] - 18
Progress = Callable[[float], None]


def make_task() -> tasks.PronounTask:
    """The task every model of the page is trained on."""
    return tasks.PronounTask(**TASK)


def sentence(lang: str, extra: int = 0) -> tuple[list[str], int, int]:
    """The seed's sentence in ``lang`` with ``extra`` words inserted before the pronoun:
    (words, index of the name, index of the pronoun)."""
    words, name_at, pronoun_at = SENTENCES[lang]
    pad = [EXTRA[lang][i % len(EXTRA[lang])] for i in range(extra)]
    out = [*words[:pronoun_at], *pad, *words[pronoun_at:]]
    return out, name_at, pronoun_at + extra


def encode(words: list[str], name_at: int, pronoun_at: int, task: tasks.PronounTask) -> np.ndarray:
    """One-hot inputs ``(T, I)`` of a sentence in the task's vocabulary: the name is name 0,
    the pronoun the pronoun token, every other word a filler word (the same word the same
    filler, in order of first appearance)."""
    ids: dict[str, int] = {}
    tokens = []
    for i, w in enumerate(words):
        if i == name_at:
            tokens.append(0)
        elif i == pronoun_at:
            tokens.append(task.pronoun)
        else:
            k = ids.setdefault(w, len(ids) % task.n_distractors)
            tokens.append(task.n_subjects + k)
    return np.eye(task.input_size)[tokens]


# -- the attention head, trained in NumPy -----------------------------------------------------


def _attention_step(
    p: dict[str, np.ndarray], x: np.ndarray, target: tuple[np.ndarray, np.ndarray, np.ndarray]
) -> tuple[float, float, dict[str, np.ndarray]]:
    """Loss, accuracy and exact gradients of ``softmax(R z_p + c)`` against the name, where
    ``z_p = sum_{s <= p} a_s W_v x_s`` and ``a = softmax_s(q . k_s / sqrt(d))`` with
    ``q = W_q x_p``, ``k_s = W_k x_s`` (one causal head, its output read at the pronoun)."""
    name, _, at = target
    xb = x.transpose(1, 0, 2)  # (B, T, I)
    B, T, _ = xb.shape
    d = p["W_q"].shape[0]
    rows = np.arange(B)
    xp = xb[rows, at]  # (B, I)
    q = xp @ p["W_q"].T
    k = xb @ p["W_k"].T  # (B, T, d)
    v = xb @ p["W_v"].T
    e = np.einsum("btd,bd->bt", k, q) / math.sqrt(d)
    e[np.arange(T)[None, :] > at[:, None]] = -np.inf
    e -= e.max(axis=1, keepdims=True)
    a = np.exp(e)
    a /= a.sum(axis=1, keepdims=True)
    z = np.einsum("bt,btd->bd", a, v)
    logits = z @ p["R"].T + p["c"]
    logits -= logits.max(axis=1, keepdims=True)
    prob = np.exp(logits)
    prob /= prob.sum(axis=1, keepdims=True)
    loss = float(-np.log(np.maximum(prob[rows, name], 1e-300)).mean())
    acc = float((prob.argmax(axis=1) == name).mean())
    dl = prob.copy()
    dl[rows, name] -= 1.0
    dl /= B
    dz = dl @ p["R"]  # (B, d)
    da = np.einsum("btd,bd->bt", v, dz)
    de = a * (da - (a * da).sum(axis=1, keepdims=True))
    dq = np.einsum("bt,btd->bd", de, k) / math.sqrt(d)
    dk = de[..., None] * q[:, None, :] / math.sqrt(d)  # (B, T, d)
    dv = a[..., None] * dz[:, None, :]
    grads = {
        "W_q": dq.T @ xp,
        "W_k": np.einsum("btd,bti->di", dk, xb),
        "W_v": np.einsum("btd,bti->di", dv, xb),
        "R": dl.T @ z,
        "c": dl.sum(axis=0),
    }
    return loss, acc, grads


def train_attention(
    task: tasks.PronounTask,
    *,
    d: int = HIDDEN,
    steps: int = STEPS,
    batch: int = BATCH,
    lr: float = LR,
    seed: int = 0,
    callback: Callable[[int, dict[str, Any]], None] | None = None,
) -> tuple[ld.Attention, tuple[np.ndarray, np.ndarray], pd.DataFrame]:
    """One causal self-attention head with a linear readout at the pronoun, trained with
    Adam on ``task``: the head (``ld.Attention``, no output projection), its readout
    ``(R, c)`` and its history (step, loss, accuracy)."""
    rng = np.random.default_rng(seed)
    head = init.attention(d, task.input_size, seed=seed)
    p = {
        "W_q": np.array(head.W_q), "W_k": np.array(head.W_k), "W_v": np.array(head.W_v),
        "R": rng.normal(size=(task.output_size, d)) / math.sqrt(d),
        "c": np.zeros(task.output_size),
    }  # fmt: skip
    m = {k: np.zeros_like(w) for k, w in p.items()}
    s = {k: np.zeros_like(w) for k, w in p.items()}
    records = []
    for step in range(steps):
        x, target = task.sample(batch, rng)
        loss, acc, grads = _attention_step(p, x, target)
        for key, g in grads.items():
            m[key] = 0.9 * m[key] + 0.1 * g
            s[key] = 0.999 * s[key] + 0.001 * g * g
            mh, sh = m[key] / (1 - 0.9 ** (step + 1)), s[key] / (1 - 0.999 ** (step + 1))
            p[key] -= lr * mh / (np.sqrt(sh) + 1e-8)
        rec = {"step": step, "loss": loss, "accuracy": acc}
        records.append(rec)
        if callback is not None:
            callback(step, rec)
    head = ld.Attention(p["W_q"], p["W_k"], p["W_v"])
    return head, (p["R"], p["c"]), pd.DataFrame.from_records(records)


def attention_connectivity(head: ld.Attention, x: np.ndarray) -> np.ndarray:
    """``C[t, k] = ||dy_t/dx_k||_F`` ``(T, T)`` of a causal head on one sequence ``(T, I)``:
    row ``t`` from ``ld.grad_norms`` on ``x[:t+1]`` with one lane per output unit."""
    T = x.shape[0]
    o = head.hidden_size
    out = np.zeros((T, T))
    for t in range(T):
        xs = np.ascontiguousarray(np.broadcast_to(x[: t + 1, None, :], (t + 1, o, x.shape[1])))
        g = head.grad_norms(xs, np.eye(o))  # (t+1, o): ||d(e_j . y_t)/dx_k||
        out[t, : t + 1] = np.sqrt((g * g).sum(axis=1))
    return out


def connectivity(model: Any, x: np.ndarray) -> np.ndarray:
    """The ``(T, T)`` connectivity of any model of the page on one sequence."""
    if isinstance(model, ld.Attention):
        return attention_connectivity(model, x)
    return np.asarray(ld.connectivity(model, x).values)


def name_share(C: np.ndarray, pronoun_at: int, name_at: int) -> float:
    """The share of the pronoun row's connectivity on the name:
    ``C[p, n] / sum_{k <= p} C[p, k]`` (0 when the row is all zeros)."""
    row = C[pronoun_at, : pronoun_at + 1]
    total = float(row.sum())
    return float(row[name_at] / total) if total > 0 else 0.0


def answer(model: Any, readout: tuple[np.ndarray, np.ndarray], x: np.ndarray) -> float:
    """The probability the model gives name 0 at the last step of ``x``: the softmax of
    ``W y_{T-1} + b`` over the names."""
    W, b = readout
    logits = np.asarray(ld.forward(model, x))[-1] @ W.T + b
    logits -= logits.max()
    prob = np.exp(logits)
    return float(prob[0] / prob.sum())


# -- cached ---------------------------------------------------------------------------------


def _build(key: str, I: int, seed: int) -> ld.RecurrentCell:
    if key == "rnn":
        # the scale of PyTorch's default nn.RNN init, U(-1/sqrt(H), 1/sqrt(H)): radius ~0.58
        return init.elman(HIDDEN, I, init="normal", gain=1 / math.sqrt(3), seed=seed)
    if key == "lstm":
        return init.lstm(HIDDEN, I, forget_bias=1.0, seed=seed)
    if key == "gru":
        return init.gru(HIDDEN, I, seed=seed)
    cls: Any = cell_class(key)
    return cls.random(HIDDEN, I, seed=seed)


@st.cache_resource(max_entries=4, show_spinner=False)
def trained_models(
    seed: int = 0, steps: int = STEPS, _progress: Progress | None = None
) -> dict[str, dict[str, Any]]:
    """The five models trained on :func:`make_task`, by key of :data:`MODELS`: ``model``,
    ``readout`` (``(W, b)`` of the answer ``W y_t + b`` over the names),
    ``accuracy`` (mean over the last 20 steps) and ``seconds``. ``_progress(fraction)``
    is called while training and with 1.0 at the end (it is not part of the cache key)."""
    task = make_task()
    total = steps * len(MODELS)
    done = 0

    def tick(step: int, record: dict[str, Any]) -> None:
        nonlocal done
        done += 1
        if _progress is not None and done % 10 == 0:
            _progress(min(done / total, 0.999))

    out: dict[str, dict[str, Any]] = {}
    model: Any
    for i, key in enumerate(MODELS):
        t0 = time.perf_counter()
        if key == "attention":
            model, readout, history = train_attention(
                task, steps=steps, seed=seed + i, callback=tick
            )
        else:
            cell = _build(key, task.input_size, seed + i)
            res = training.train(
                cell, task, steps=steps, batch=BATCH, lr=LR, clip=1.0, seed=seed + i,
                callback=tick,
            )  # fmt: skip
            model, readout, history = res.cell, res.readout, res.history
        out[key] = {
            "model": model,
            "readout": readout,
            "accuracy": float(history["accuracy"].iloc[-20:].mean()),
            "seconds": time.perf_counter() - t0,
        }
    if _progress is not None:
        _progress(1.0)
    return out


@st.cache_data(max_entries=32, show_spinner=False)
def hear(
    lang: str, extra: int, seed: int = 0, steps: int = STEPS, _progress: Progress | None = None
) -> dict[str, Any]:
    """Connectivity of the seed's sentence (``extra`` words before the pronoun) in every
    model: ``words``, ``name_at``, ``pronoun_at``, ``C`` (key -> ``(T, T)`` array),
    ``share`` (key -> :func:`name_share`), ``answer`` (key -> the probability the model
    gives the name at the pronoun) and ``accuracy`` (key -> training accuracy)."""
    models = trained_models(seed, steps, _progress=_progress)
    words, name_at, pronoun_at = sentence(lang, extra)
    x = encode(words, name_at, pronoun_at, make_task())
    C = {key: connectivity(m["model"], x) for key, m in models.items()}
    return {
        "words": words,
        "name_at": name_at,
        "pronoun_at": pronoun_at,
        "C": C,
        "share": {key: name_share(c, pronoun_at, name_at) for key, c in C.items()},
        "answer": {
            key: answer(m["model"], m["readout"], x[: pronoun_at + 1]) for key, m in models.items()
        },
        "accuracy": {key: m["accuracy"] for key, m in models.items()},
    }
