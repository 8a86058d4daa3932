"""Every cell kind of the catalogue side by side: forward + per-step ‖dL/dh_t‖ in µs per
step, H = 128, B = 1, float32, one run, on this machine's CPU.

The cells come from ``longdep.kinds.catalogue()``: a kind added to the catalogue shows up
here with no change to this file (classic kinds through ``ld.init``, the others through
their ``random`` initialiser). Results go to ``<out>/cells-<date>.json`` and ``.md``.

    python benches/bench_cells.py            # T = 10^5, best of 3, ~1 min on 2 cores
    python benches/bench_cells.py --T 10000 --reps 1
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import time
from pathlib import Path
from typing import Any

import numpy as np

import longdep as ld
from longdep import kinds


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def make(kind: str, cls: Any, h: int, i: int) -> Any:
    """A cell of `kind` with hidden size about `h` (LRU: h/2 complex units = h reals)."""
    if kind == "lru":
        return ld.init.lru(h // 2, i, seed=0)
    if hasattr(ld.init, kind):
        return getattr(ld.init, kind)(h, i, seed=0)
    return cls.random(h, i, seed=0)


def best_seconds(fn: Any, reps: int) -> float:
    fn()  # warm-up: packs the weights, spins up the threads
    best = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--H", type=int, default=128)
    ap.add_argument("--T", type=int, default=100_000)
    ap.add_argument("--I", type=int, default=32)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    rows = []
    for kind, cls in kinds.catalogue().items():
        i = args.H if getattr(cls, "input_is_hidden", False) else args.I  # e.g. RG-LRU, SSM
        cell = make(kind, cls, args.H, i)
        x = rng.normal(size=(args.T, 1, i)).astype(np.float32)
        v = np.ones(cell.hidden_size, np.float32)
        fwd = best_seconds(lambda c=cell, x=x: ld.forward(c, x), args.reps)
        grad = best_seconds(lambda c=cell, x=x, v=v: ld.grad_norms(c, x, v, log=True), args.reps)
        rows.append(
            {
                "kind": kind,
                "hidden": cell.hidden_size,
                "input": i,
                "forward_us_per_step": 1e6 * fwd / args.T,
                "grad_us_per_step": 1e6 * grad / args.T,
            }
        )
        print(f"{kind:8s} forward {rows[-1]['forward_us_per_step']:8.3f}  "
              f"fwd+grad {rows[-1]['grad_us_per_step']:8.3f} µs/step", flush=True)  # fmt: skip
    lstm = next(r["grad_us_per_step"] for r in rows if r["kind"] == "lstm")
    meta = {
        "cpu": cpu_name(),
        "simd": ld.simd_level(),
        "T": args.T,
        "B": 1,
        "dtype": "float32",
        "reps": args.reps,
        "longdep": ld.__version__,
        "date": dt.date.today().isoformat(),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    stem = args.out / f"cells-{meta['date']}"
    stem.with_suffix(".json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=1))
    lines = [
        f"# Cell kinds side by side ({meta['cpu']}, {meta['simd']}, T = {args.T}, B = 1, float32)",
        "",
        "| kind | H | I | forward µs/step | forward + per-step ‖dL/dh_t‖ µs/step | ÷ LSTM |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        lines.append(
            f"| {r['kind']} | {r['hidden']} | {r['input']} | {r['forward_us_per_step']:.3f} | "
            f"{r['grad_us_per_step']:.3f} | {r['grad_us_per_step'] / lstm:.2f} |"
        )
    stem.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print(f"wrote {stem}.json and .md")


if __name__ == "__main__":
    main()
