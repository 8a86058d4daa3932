"""The adding problem at T = 200 (H = 128): which cells learn it?

Vanilla tanh RNN vs LSTM (chrono init) vs GRU vs LRU (with a ReLU input encoder),
all with Adam and global-norm clipping at 1, the same seed, data and budget.
Prints a table and writes examples/results/adding_T200.parquet.

    python examples/train_adding.py --steps 600
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

import longdep as ld
from longdep import tasks, training


def cells(H: int, seed: int) -> dict[str, tuple[ld.RecurrentCell, int | None]]:
    rng = np.random.default_rng(seed)

    def w(*shape: int, s: float) -> np.ndarray:
        return rng.normal(size=shape) * s

    lstm = ld.LSTM(
        w(4 * H, 2, s=0.5), w(4 * H, H, s=1 / np.sqrt(H)), np.zeros(4 * H), np.zeros(4 * H)
    )
    # Chrono initialisation (Tallec & Ollivier 2018) for time scales up to T.
    b = np.zeros(4 * H)
    b[H : 2 * H] = np.log(rng.uniform(1, 200 - 1, size=H))
    b[:H] = -b[H : 2 * H]
    lstm = ld.LSTM(lstm.weight_ih, lstm.weight_hh, b, np.zeros(4 * H))
    return {
        "vanilla tanh": (
            ld.Elman(w(H, 2, s=0.5), w(H, H, s=1 / np.sqrt(H)), np.zeros(H), np.zeros(H)),
            None,
        ),
        "LSTM (chrono)": (lstm, None),
        "GRU": (
            ld.GRU(
                w(3 * H, 2, s=0.5), w(3 * H, H, s=1 / np.sqrt(H)), np.zeros(3 * H), np.zeros(3 * H)
            ),
            None,
        ),
        "LRU": (ld.LRU.random(H // 2, 32, r_min=0.9, r_max=0.999, seed=seed), 32),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--length", type=int, default=200)
    ap.add_argument("--hidden", type=int, default=128)
    ap.add_argument("--steps", type=int, default=600)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--only", default="")
    args = ap.parse_args()
    task = tasks.AddingTask(args.length)
    rows, hist = [], []
    for name, (cell, enc) in cells(args.hidden, args.seed).items():
        if args.only and args.only.lower() not in name.lower():
            continue
        t0 = time.time()
        res = training.train(
            cell,
            task,
            steps=args.steps,
            batch=args.batch,
            lr=args.lr,
            clip=1.0,
            seed=args.seed,
            encoder=enc,
        )
        h = res.history.assign(model=name)
        hist.append(h)
        final = float(h.loss.iloc[-50:].mean())
        rows.append(
            dict(
                model=name,
                final_mse=final,
                baseline=task.baseline,
                ratio=task.baseline / final,
                seconds=time.time() - t0,
            )
        )
        print(rows[-1], flush=True)
    table = pd.DataFrame(rows)
    print(table.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    pd.concat(hist).to_parquet(out / f"adding_T{args.length}.parquet")


if __name__ == "__main__":
    main()
