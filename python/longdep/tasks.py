"""Long-range benchmark tasks, generated on the fly from a seed.

Each task returns inputs ``x`` of shape ``(T, B, I)`` and knows its loss: given the
readout ``y`` ``(T, B, O)`` it returns the loss, ``dL/dy`` and an accuracy (NaN
where it has none). Losses are means over the batch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .errors import ArgumentError

__all__ = ["AddingTask", "CopyTask", "PronounTask", "SubjectTask", "Task", "make_task"]


def _softmax_ce(logits: np.ndarray, target: np.ndarray) -> tuple[float, np.ndarray, float]:
    """Mean cross-entropy over the given positions, its gradient, and the accuracy."""
    z = logits - logits.max(axis=-1, keepdims=True)
    p = np.exp(z)
    p /= p.sum(axis=-1, keepdims=True)
    n = target.size
    flat_p = p.reshape(n, -1)
    t = target.reshape(n)
    loss = float(-np.log(np.maximum(flat_p[np.arange(n), t], 1e-300)).mean())
    grad = flat_p.copy()
    grad[np.arange(n), t] -= 1.0
    acc = float((flat_p.argmax(axis=1) == t).mean())
    return loss, grad.reshape(p.shape), acc


@dataclass
class Task:
    """Base class: a sequence task with input size, output size and a loss."""

    length: int
    name: str = field(init=False, default="task")

    def __post_init__(self) -> None:
        if (
            isinstance(self.length, bool)
            or not isinstance(self.length, (int, np.integer))
            or self.length < 2
        ):
            raise ArgumentError(f"length must be an integer >= 2; got {self.length!r}")

    input_size: int = field(init=False, default=1)
    output_size: int = field(init=False, default=1)

    @property
    def steps(self) -> int:
        """Number of time steps of one sequence."""
        return int(self.length)

    @property
    def baseline(self) -> float:
        """Loss of the best memoryless predictor."""
        raise NotImplementedError

    def sample(self, batch: int, rng: np.random.Generator) -> tuple[np.ndarray, Any]:
        """Inputs ``(T, B, I)`` and the targets."""
        raise NotImplementedError

    def loss(self, y: np.ndarray, target: Any) -> tuple[float, np.ndarray, float]:
        """``(loss, dL/dy, accuracy)`` for readouts ``y`` ``(T, B, O)``."""
        raise NotImplementedError


@dataclass
class AddingTask(Task):
    """The adding problem (Hochreiter & Schmidhuber 1997).

    Two channels: values uniform in [0, 1] and a marker channel with a 1 at one
    position in the first half and one in the second half. The target is the sum of
    the two marked values, read from the last output; loss MSE. Predicting the
    constant 1 scores the variance of that sum, 1/6 ~ 0.167.
    """

    name: str = field(init=False, default="adding")

    def __post_init__(self) -> None:
        super().__post_init__()
        self.input_size, self.output_size = 2, 1

    @property
    def baseline(self) -> float:
        return 1.0 / 6.0

    def sample(self, batch: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        T = self.steps
        x = np.zeros((T, batch, 2))
        x[:, :, 0] = rng.uniform(size=(T, batch))
        half = T // 2
        i = rng.integers(0, half, size=batch)
        j = rng.integers(half, T, size=batch)
        b = np.arange(batch)
        x[i, b, 1] = 1.0
        x[j, b, 1] = 1.0
        target = x[i, b, 0] + x[j, b, 0]
        return x, target

    def loss(self, y: np.ndarray, target: np.ndarray) -> tuple[float, np.ndarray, float]:
        err = y[-1, :, 0] - target
        dy = np.zeros_like(y)
        dy[-1, :, 0] = 2.0 * err / err.size
        with np.errstate(over="ignore"):  # a diverging run reports an infinite loss
            return float(np.mean(err**2)), dy, math.nan


@dataclass
class CopyTask(Task):
    """The copy task (Arjovsky et al. 2016) with a delay of ``length`` steps.

    Symbols 1..8 (``n_symbols``) form a sequence of ``copy_len`` = 10 to remember;
    then ``length - 1`` blanks (0), a delimiter (9), and ``copy_len`` blanks during
    which the sequence must be reproduced. Cross-entropy over all
    ``length + 2 * copy_len`` steps; the memoryless baseline is
    ``copy_len * ln(n_symbols) / (length + 2 * copy_len)``.
    """

    n_symbols: int = 8
    copy_len: int = 10
    name: str = field(init=False, default="copy")

    def __post_init__(self) -> None:
        super().__post_init__()
        self.input_size = self.output_size = self.n_symbols + 2

    @property
    def steps(self) -> int:
        return int(self.length) + 2 * self.copy_len

    @property
    def baseline(self) -> float:
        return self.copy_len * math.log(self.n_symbols) / self.steps

    def sample(self, batch: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        T, L, K = self.steps, self.copy_len, self.n_symbols
        seq = rng.integers(1, K + 1, size=(L, batch))
        tokens = np.zeros((T, batch), dtype=np.int64)
        tokens[:L] = seq
        tokens[T - L - 1] = K + 1
        target = np.zeros((T, batch), dtype=np.int64)
        target[T - L :] = seq
        x = np.eye(K + 2)[tokens]
        return x, target

    def loss(self, y: np.ndarray, target: np.ndarray) -> tuple[float, np.ndarray, float]:
        loss, grad, _ = _softmax_ce(y, target)
        L = self.copy_len
        acc = float((y[-L:].argmax(axis=-1) == target[-L:]).mean())
        return loss, grad / target.size, acc


@dataclass
class SubjectTask(Task):
    """Remember the subject: a toy version of pronoun reference.

    Step 0 names one of ``n_subjects`` subjects; ``length - 2`` distractor words
    follow (drawn from ``n_distractors`` other symbols); the last step is a query
    ("who?") and the answer is the subject, read from the last output with
    cross-entropy. The memoryless baseline is ``ln(n_subjects)``.
    """

    n_subjects: int = 8
    n_distractors: int = 16
    name: str = field(init=False, default="subject")

    def __post_init__(self) -> None:
        super().__post_init__()
        self.input_size = self.n_subjects + self.n_distractors + 1
        self.output_size = self.n_subjects

    @property
    def baseline(self) -> float:
        return math.log(self.n_subjects)

    def sample(self, batch: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        T, S, D = self.steps, self.n_subjects, self.n_distractors
        subject = rng.integers(0, S, size=batch)
        tokens = S + rng.integers(0, D, size=(T, batch))
        tokens[0] = subject
        tokens[-1] = S + D
        x = np.eye(S + D + 1)[tokens]
        return x, subject

    def loss(self, y: np.ndarray, target: np.ndarray) -> tuple[float, np.ndarray, float]:
        loss, grad, acc = _softmax_ce(y[-1], target)
        dy = np.zeros_like(y)
        dy[-1] = grad / target.size
        return loss, dy, acc


@dataclass
class PronounTask(Task):
    """Who is "he"? :class:`SubjectTask` with the pronoun inside the sentence.

    A sentence of ``length`` words: filler words (``n_distractors`` symbols), one name
    (one of ``n_subjects``) at a position ``n`` in ``[0, max_lead]``, more filler, the
    pronoun at a position ``p`` with ``p - n`` in ``[min_gap, length - 1 - n]``, and
    filler after it. The answer, read from the output at the pronoun with
    cross-entropy, is the name: "Zhang San borrowed a book ...; he ..." asks the model
    at "he" who borrowed it. Unlike :class:`SubjectTask` the pronoun is not the last
    word and the distance varies, so a model cannot count steps; the words after it
    have no loss. Token ids: names ``0 .. S-1``, filler ``S .. S+D-1``, the pronoun
    ``S+D`` (the inputs are one-hot). The memoryless baseline is ``ln(n_subjects)``.

    ``sample`` returns the one-hot inputs and ``(name, name_at, pronoun_at)``, three
    ``(B,)`` integer arrays; :meth:`tokens` gives the token ids of a batch.

    >>> import numpy as np
    >>> t = PronounTask(12, n_subjects=4, n_distractors=8, min_gap=3, max_lead=2)
    >>> x, (name, n, p) = t.sample(2, np.random.default_rng(0))
    >>> bool(np.all(t.tokens(x)[n, [0, 1]] == name) and np.all(p - n >= 3))
    True
    """

    n_subjects: int = 8
    n_distractors: int = 16
    min_gap: int = 2
    max_lead: int = 0
    name: str = field(init=False, default="pronoun")

    def __post_init__(self) -> None:
        super().__post_init__()
        self.input_size = self.n_subjects + self.n_distractors + 1
        self.output_size = self.n_subjects
        for what, val, low in (("min_gap", self.min_gap, 1), ("max_lead", self.max_lead, 0)):
            if isinstance(val, bool) or not isinstance(val, (int, np.integer)) or val < low:
                raise ArgumentError(f"{what} must be an integer >= {low}; got {val!r}")
        if self.max_lead + self.min_gap > self.length - 1:
            raise ArgumentError(
                f"max_lead + min_gap must be at most length - 1 = {self.length - 1} so that "
                f"the pronoun fits; got {self.max_lead} + {self.min_gap}"
            )

    @property
    def baseline(self) -> float:
        return math.log(self.n_subjects)

    @property
    def pronoun(self) -> int:
        """The pronoun's token id (after the names and the filler words)."""
        return self.n_subjects + self.n_distractors

    def tokens(self, x: np.ndarray) -> np.ndarray:
        """Token ids ``(T, B)`` of one-hot inputs ``x`` ``(T, B, I)``."""
        return np.asarray(x).argmax(axis=-1)

    def sample(
        self, batch: int, rng: np.random.Generator
    ) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray, np.ndarray]]:
        T, S, D = self.steps, self.n_subjects, self.n_distractors
        b = np.arange(batch)
        name = rng.integers(0, S, size=batch)
        name_at = rng.integers(0, self.max_lead + 1, size=batch)
        pronoun_at = name_at + rng.integers(self.min_gap, T - name_at, size=batch)
        tokens = S + rng.integers(0, D, size=(T, batch))
        tokens[name_at, b] = name
        tokens[pronoun_at, b] = S + D
        return np.eye(S + D + 1)[tokens], (name, name_at, pronoun_at)

    def loss(
        self, y: np.ndarray, target: tuple[np.ndarray, np.ndarray, np.ndarray]
    ) -> tuple[float, np.ndarray, float]:
        name, _, pronoun_at = target
        b = np.arange(len(name))
        loss, grad, acc = _softmax_ce(y[pronoun_at, b], name)
        dy = np.zeros_like(y)
        dy[pronoun_at, b] = grad / len(name)
        return loss, dy, acc


_TASKS: dict[str, type[Task]] = {
    "adding": AddingTask,
    "copy": CopyTask,
    "subject": SubjectTask,
    "pronoun": PronounTask,
}


def make_task(name: str, length: int, **kwargs: Any) -> Task:
    """A task by name: ``"adding"``, ``"copy"``, ``"subject"`` or ``"pronoun"``."""
    if name not in _TASKS:
        raise ArgumentError(
            f"task must be one of {', '.join(repr(k) for k in _TASKS)}; got {name!r}"
        )
    return _TASKS[name](length, **kwargs)
