"""Large sweeps are planned before they run: --dry-run gives the count, time and memory,
grids above 10^5 cases need --yes, and a case too large for the machine fails unrun."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from longdep import sweep
from longdep.cli import main

MIXED = """
name = "mixed"
cell = "elman"
hidden = 8
seeds = [0]
[grid]
length = [300, 100000]
"""

# 11 seeds x 10^4 grid points = 110,000 cases.
BIG = """
name = "big"
cell = "elman"
length = 100
seeds = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
[grid]
hidden = [8, 9, 10, 11, 12, 13, 14, 15, 16, 17]
spectral_radius = [0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3, 1.4]
input_scale = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]
batch = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
"""


def test_estimate_grows_with_the_case() -> None:
    base = dict(sweep.parse_config(MIXED).cases[0].params)
    small = sweep.estimate_case(base)
    longer = sweep.estimate_case(base | {"length": 100 * base["length"]})
    wider = sweep.estimate_case(base | {"hidden": 64, "input_size": 64})
    assert longer["bytes"] > 50 * small["bytes"] and longer["seconds"] > small["seconds"]
    assert wider["seconds"] > small["seconds"]
    # x is drawn as float64 (8 bytes) and cast (8 more), the curves take 3 x 8 per step:
    # the estimate is at least that.
    t = 100 * base["length"]
    assert longer["bytes"] >= t * (16 + 24)


def test_dry_run_prints_count_time_and_memory_and_writes_nothing(tmp_path: Path) -> None:
    cfg = tmp_path / "mixed.toml"
    cfg.write_text(MIXED)
    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["sweep", str(cfg), "--out", str(out), "--dry-run"])
    assert res.exit_code == 0, res.output
    assert "mixed: 2 cases" in res.output
    assert "estimated " in res.output and " GB per case" in res.output
    assert not out.exists()


def test_a_grid_above_1e5_cases_needs_yes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "big.toml"
    cfg.write_text(BIG)
    out = tmp_path / "out"
    runner = CliRunner()
    res = runner.invoke(main, ["sweep", str(cfg), "--out", str(out)], input="")
    assert res.exit_code == 1
    assert "110,000 cases" in res.output and "--yes" in res.output
    assert not out.exists()
    ran: list[Any] = []
    monkeypatch.setattr(sweep, "run_sweep", lambda cfg, out, **kw: ran.append(len(cfg.cases)))
    res = runner.invoke(main, ["sweep", str(cfg), "--out", str(out), "--yes"])
    assert res.exit_code == 0, res.output
    assert ran == [110_000]


def test_a_case_too_large_for_the_machine_fails_before_it_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = sweep.parse_config(MIXED)
    small, large = cfg.cases
    need = sweep.estimate_case(large.params)["bytes"]
    assert sweep.estimate_case(small.params)["bytes"] < 2e6 < need
    monkeypatch.setattr(sweep, "machine_memory", lambda: 2_000_000)
    with pytest.raises(sweep.SweepError, match="1 of 2 cases failed") as err:
        sweep.run_sweep(cfg, tmp_path, workers=1, stream=io.StringIO())
    assert f"{large.name}: needs about" in str(err.value) and "estimated before" in str(err.value)
    assert [p.name for p in tmp_path.glob("*.parquet")] == [small.filename]
    assert list(json.loads((tmp_path / sweep.FAILED).read_text())["failed"]) == [large.name]
