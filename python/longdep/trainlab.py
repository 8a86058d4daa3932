"""``longdep train``: the training-lab experiments as one TOML config.

Each model is trained on the same task, data stream and budget; one Parquet
history per model is written atomically, plus ``summary.csv``.

.. code-block:: toml

    name = "adding-T200"
    task = "adding"            # adding | copy | subject
    length = 200
    hidden = 128
    steps = 1200
    batch = 32
    lr = 5e-3
    clip = 1.0                 # global-norm clipping; false for none
    seed = 0
    models = ["vanilla", "lstm-chrono", "gru", "lru"]
    pretrain_length = 50       # optional: pre-train at this length, then fine-tune
    pretrain_steps = 300
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from . import init
from ._validate import require_bool
from .cells import RecurrentCell
from .errors import ArgumentError
from .plumbing import Progress, key_lines, load_toml, write_atomic
from .tasks import Task, make_task
from .training import TrainResult, pretrain_finetune, train

__all__ = [
    "MODELS",
    "TrainConfig",
    "TrainConfigError",
    "build_model",
    "load_train_config",
    "run_train",
]

#: Model names a config may list, and what they build.
MODELS = {
    "vanilla": "tanh Elman RNN, W_hh ~ N(0, 1/H)",
    "vanilla-orthogonal": "tanh Elman RNN, orthogonal W_hh",
    "irnn": "relu Elman RNN, identity W_hh (Le et al. 2015)",
    "lstm": "LSTM, forget-gate bias 1",
    "lstm-chrono": "LSTM, chrono init with T_max = length",
    "gru": "GRU",
    "gru-chrono": "GRU, chrono init of the keep gate with T_max = length",
    "lru": "LRU (|lambda| in [0.9, 0.999]) behind a ReLU encoder of width 32",
}
_ENCODER = 32


def _modern_models() -> dict[str, str]:
    """Every 2023–2025 kind of the cell catalogue, with its paper's initialisation."""
    from .kinds import modern

    out = {}
    for kind, cls in modern().items():
        behind = ", behind a ReLU encoder of width H" if cls.input_is_hidden else ""
        out[kind] = f"{cls.label}, its paper's initialisation{behind}"
    return out


def _with_encoder() -> set[str]:
    """Models whose cell reads the task through a trained encoder."""
    from .kinds import modern

    return {"lru", *(k for k, c in modern().items() if c.input_is_hidden)}


MODELS.update(_modern_models())

_KEYS = {
    "name": str,
    "task": str,
    "length": int,
    "hidden": int,
    "steps": int,
    "batch": int,
    "lr": float,
    "clip": (float, bool),
    "seed": int,
    "models": list,
    "pretrain_length": int,
    "pretrain_steps": int,
    "truncate": int,
}


class TrainConfigError(ArgumentError):
    """A train config has an unknown key or a bad value; ``errors`` lists every problem
    as ``"FILE:LINE: key: message"``."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = list(errors)
        super().__init__("invalid train config:\n  " + "\n  ".join(self.errors))

    @classmethod
    def one(
        cls, lines: dict[tuple[str, str], int], source: str, key: str, msg: str
    ) -> TrainConfigError:
        return cls([_fail(lines, source, key, msg)])


@dataclass
class TrainConfig:
    """A validated ``longdep train`` config."""

    name: str
    task: str
    length: int
    hidden: int
    steps: int
    batch: int
    lr: float
    clip: float | None
    seed: int
    models: list[str]
    pretrain_length: int | None = None
    pretrain_steps: int | None = None
    truncate: int | None = None


def _fail(lines: dict[tuple[str, str], int], source: str, key: str, msg: str) -> str:
    line = lines.get(("", key))
    where = f"{source}:{line}" if line else source
    return f"{where}: {key}: {msg}"


def load_train_config(path: str | Path) -> TrainConfig:
    """Read and validate a config; every problem names its key and line."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise TrainConfigError([f"{source}: cannot read the config: {exc}"]) from None
    try:  # a leading byte-order mark is dropped; deep nesting is an error, not a crash
        text, raw = load_toml(text, source)
    except ValueError as exc:
        raise TrainConfigError([str(exc)]) from None
    lines = key_lines(text)
    errors = []
    for key, value in raw.items():
        want = _KEYS.get(key)
        if want is None:
            errors.append(_fail(lines, source, key, f"unknown key (known: {', '.join(_KEYS)})"))
            continue
        types = want if isinstance(want, tuple) else (want,)
        ok = any(
            isinstance(value, t) and not (t in (int, float) and isinstance(value, bool))
            for t in types
        ) or (float in types and isinstance(value, int) and not isinstance(value, bool))
        if not ok:
            errors.append(
                _fail(
                    lines,
                    source,
                    key,
                    f"must be {' or '.join(t.__name__ for t in types)}; got {value!r}",
                )
            )
    for key in ("task", "length", "steps"):
        if key not in raw:
            errors.append(f"{source}: {key}: required key is missing")
    if errors:
        raise TrainConfigError(errors)
    models = raw.get("models", ["vanilla", "lstm-chrono", "gru", "lru"])
    for m in models:
        if m not in MODELS:
            raise TrainConfigError.one(
                lines, source, "models", f"unknown model {m!r} (known: {', '.join(MODELS)})"
            )
    if not models:
        raise TrainConfigError.one(lines, source, "models", "must list at least one model")
    for key in (
        "length",
        "hidden",
        "steps",
        "batch",
        "pretrain_length",
        "pretrain_steps",
        "truncate",
    ):
        if key in raw and raw[key] < 1:
            raise TrainConfigError.one(
                lines, source, key, f"must be a positive integer; got {raw[key]}"
            )
    lr = float(raw.get("lr", 2e-3))
    if not (math.isfinite(lr) and lr > 0):
        raise TrainConfigError.one(lines, source, "lr", f"must be a positive number; got {lr}")
    clip = raw.get("clip", 1.0)
    if clip is True:
        raise TrainConfigError.one(lines, source, "clip", "must be a positive number or false")
    clip = None if clip is False else float(clip)
    if clip is not None and not clip > 0:
        raise TrainConfigError.one(
            lines, source, "clip", f"must be a positive number or false; got {clip}"
        )
    if ("pretrain_length" in raw) != ("pretrain_steps" in raw):
        raise TrainConfigError.one(
            lines, source, "pretrain_length", "pretrain_length and pretrain_steps go together"
        )
    encoded = [m for m in models if m in _with_encoder()]
    if "pretrain_length" in raw and encoded:
        raise TrainConfigError.one(
            lines,
            source,
            "models",
            f"pre-training does not carry an input encoder over; drop {', '.join(map(repr, encoded))} "
            "(they read the task through one) or the pretrain keys",
        )
    try:
        make_task(raw["task"], raw["length"])
    except Exception as exc:
        raise TrainConfigError.one(lines, source, "task", str(exc)) from None
    return TrainConfig(
        name=raw.get("name", Path(path).stem),
        task=raw["task"],
        length=raw["length"],
        hidden=raw.get("hidden", 64),
        steps=raw["steps"],
        batch=raw.get("batch", 32),
        lr=lr,
        clip=clip,
        seed=raw.get("seed", 0),
        models=list(models),
        pretrain_length=raw.get("pretrain_length"),
        pretrain_steps=raw.get("pretrain_steps"),
        truncate=raw.get("truncate"),
    )


def build_model(name: str, task: Task, hidden: int, seed: int) -> tuple[RecurrentCell, int | None]:
    """The initial cell for a model name and its encoder width (None: no encoder)."""
    I, T = task.input_size, task.steps
    if name == "vanilla":
        return init.elman(hidden, I, init="normal", gain=1.0, seed=seed), None
    if name == "vanilla-orthogonal":
        return init.elman(hidden, I, init="orthogonal", seed=seed), None
    if name == "irnn":
        return init.elman(hidden, I, init="identity", nonlinearity="relu", seed=seed), None
    if name == "lstm":
        return init.lstm(hidden, I, forget_bias=1.0, seed=seed), None
    if name == "lstm-chrono":
        return init.lstm(hidden, I, chrono=max(T, 2), seed=seed), None
    if name == "gru":
        return init.gru(hidden, I, seed=seed), None
    if name == "gru-chrono":
        return init.gru(hidden, I, chrono=max(T, 2), seed=seed), None
    if name == "lru":
        return init.lru(max(hidden // 2, 1), _ENCODER, r_min=0.9, r_max=0.999, seed=seed), _ENCODER
    from .kinds import modern

    cls = modern().get(name)
    if cls is None:
        raise ArgumentError(f"model must be one of {', '.join(MODELS)}; got {name!r}")
    if cls.input_is_hidden:
        return cls.random(hidden, seed=seed), hidden
    return cls.random(hidden, I, seed=seed), None


def _to_parquet(frame: pd.DataFrame, f: Any) -> None:
    frame.to_parquet(f, compression="zstd")


def _summary(model: str, run: str, res: TrainResult, seconds: float) -> dict[str, Any]:
    tail = res.history.loss.iloc[-max(1, min(50, len(res.history) // 5)) :]
    final = float(tail.mean())
    return dict(
        model=model,
        run=run,
        final_loss=final,
        baseline=res.baseline,
        baseline_over_final=res.baseline / final if final > 0 else math.inf,
        final_accuracy=float(res.history.accuracy.iloc[-len(tail) :].mean()),
        diverged=res.diverged,
        steps=len(res.history),
        seconds=seconds,
    )


def run_train(cfg: TrainConfig, out: str | Path, *, quiet: bool = False) -> pd.DataFrame:
    """Train every model of `cfg`, writing ``<model>[-run].parquet`` and ``summary.csv``."""
    import time

    quiet = require_bool("quiet", quiet)
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    task = make_task(cfg.task, cfg.length)
    pre = cfg.pretrain_steps or 0
    per_model = cfg.steps * (2 if pre else 1) + pre
    progress = Progress(
        per_model * len(cfg.models), label=cfg.name, enabled=not quiet, unit="steps"
    )
    rows = []
    kw: dict[str, Any] = dict(
        batch=cfg.batch, lr=cfg.lr, clip=cfg.clip, seed=cfg.seed, truncate=cfg.truncate
    )

    def tick(step: int, rec: dict[str, Any]) -> None:
        progress.update()

    for model in cfg.models:
        cell, enc = build_model(model, task, cfg.hidden, cfg.seed)
        t0 = time.monotonic()
        if pre:
            assert cfg.pretrain_length is not None
            short = make_task(cfg.task, cfg.pretrain_length)
            runs = pretrain_finetune(
                cell, short, task, pre_steps=pre, fine_steps=cfg.steps, callback=tick, **kw
            )
        else:
            runs = {"train": train(cell, task, steps=cfg.steps, callback=tick, encoder=enc, **kw)}
        seconds = time.monotonic() - t0
        for run, res in runs.items():
            name = model if run == "train" else f"{model}-{run}"
            length = cfg.pretrain_length if run == "pretrain" else cfg.length
            hist = res.history.assign(model=model, run=run, task=cfg.task, length=length)
            write_atomic(folder / f"{name}.parquet", functools.partial(_to_parquet, hist))
            rows.append(_summary(model, run, res, seconds))
    progress.close()
    table = pd.DataFrame(rows)
    write_atomic(folder / "summary.csv", lambda f: f.write(table.to_csv(index=False).encode()))
    return table
