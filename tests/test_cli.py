"""The `longdep` command: sweep (in-process and as a real process, killed and resumed), collect, report, bench."""

from __future__ import annotations

import io
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from longdep import sweep
from longdep.cli import main

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
QUICK = EXAMPLES / "quick.toml"
LONGDEP = (
    [shutil.which("longdep")] if shutil.which("longdep") else [sys.executable, "-m", "longdep.cli"]
)

# Twelve cases of a fraction of a second each: long enough to be stopped mid-run.
SLOW = """\
name = "slow"
length = 60000
seeds = [0, 1, 2]
[grid]
cell = ["elman", "gru"]
hidden = [32, 48]
"""


@pytest.fixture(scope="module")
def quick_results(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The quick example swept once through the CLI (two local worker processes)."""
    out = tmp_path_factory.mktemp("quick") / "results"
    result = CliRunner().invoke(main, ["sweep", str(QUICK), "--out", str(out), "--workers", "2"])
    assert result.exit_code == 0, result.output
    return out, result.output


def case_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*.parquet") if p.name != "summary.parquet")


def temp_files(folder: Path) -> list[Path]:
    return sorted(folder.glob(".*.tmp-*"))


def assert_complete(folder: Path) -> None:
    for path in case_files(folder):
        table = pq.read_table(path)  # raises on a torn file
        assert table.num_rows > 0 and sweep.read_case(path)["case"] == path.stem


def test_every_command_has_help_with_examples() -> None:
    runner = CliRunner()
    top = runner.invoke(main, ["--help"])
    assert top.exit_code == 0
    for name in ("sweep", "collect", "report", "bench"):
        assert name in top.output
    for name in ("sweep", "collect", "report"):
        res = runner.invoke(main, [name, "--help"])
        assert res.exit_code == 0 and "Example" in res.output and f"longdep {name}" in res.output


def test_sweep_in_process_writes_every_case(quick_results: tuple[Path, str]) -> None:
    out, log = quick_results
    cases = sweep.load_config(QUICK).cases
    assert [p.name for p in case_files(out)] == sorted(c.filename for c in cases)
    assert "quick: 8 cases to run on 2 local processes" in log
    assert re.search(r"quick: 8/8 cases \(100%\)  [\d.]+ cases/s", log)  # not a TTY: plain lines
    assert "8 cases written, 0 skipped" in log
    assert_complete(out)


def test_config_errors_exit_2_with_key_and_line(tmp_path: Path) -> None:
    cfg = tmp_path / "bad.toml"
    cfg.write_text('name = "x"\nlength = 10\n[grid]\ncell = ["elman"]\nhiden = [8]\n')
    res = CliRunner().invoke(main, ["sweep", str(cfg), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2
    assert f"{cfg}:5: [grid] hiden: unknown key; did you mean 'hidden'?" in res.output
    assert not (tmp_path / "o").exists()  # nothing ran


def test_dry_run_lists_the_case_files(tmp_path: Path) -> None:
    res = CliRunner().invoke(main, ["sweep", str(QUICK), "--out", str(tmp_path / "o"), "--dry-run"])
    assert res.exit_code == 0
    assert "quick: 8 cases" in res.output
    assert "cell=lstm_hidden=8_spectral_radius=1.1_seed=1.parquet" in res.output
    assert not (tmp_path / "o").exists()


def test_existing_results_need_resume(quick_results: tuple[Path, str]) -> None:
    out, _ = quick_results
    runner = CliRunner()
    res = runner.invoke(main, ["sweep", str(QUICK), "--out", str(out)])
    assert res.exit_code == 1 and "pass --resume" in res.output
    res = runner.invoke(main, ["sweep", str(QUICK), "--out", str(out), "--resume"])
    assert res.exit_code == 0 and "all 8 cases already done" in res.output


def test_collect_writes_summary_tables(quick_results: tuple[Path, str]) -> None:
    out, _ = quick_results
    res = CliRunner().invoke(main, ["collect", str(out)])
    assert res.exit_code == 0 and "8 cases" in res.output
    summary = pd.read_csv(out / "summary.csv")
    assert len(summary) == 8 and set(summary["cell"]) == {"elman", "lstm"}
    assert len(pd.read_parquet(out / "summary.parquet")) == 8


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_report_renders_png_svg_and_markdown(
    quick_results: tuple[Path, str], tmp_path: Path
) -> None:
    out, _ = quick_results
    dest = tmp_path / "report"
    res = CliRunner().invoke(main, ["report", str(out), "--out", str(dest)])
    assert res.exit_code == 0, res.output
    titles = {
        "curves": ["distance from the loss (steps, log scale)", "ρ = 0.9", "elman", "lstm"],
        "horizon": ["memory horizon (steps, log scale)", "spectral radius ρ of W_hh"],
        "decay": ["decay rate (slope of ln-norm per step)", "spectral radius ρ of W_hh"],
    }
    for stem, texts in titles.items():
        width, height = png_size((dest / f"{stem}.png").read_bytes())
        svg = (dest / f"{stem}.svg").read_text()
        assert "<svg" in svg
        for text in texts:
            assert text in svg, (stem, text)
        svg_w, svg_h = (
            float(v)
            for v in re.search(r'<svg[^>]*?width="([\d.]+)" height="([\d.]+)"', svg).groups()
        )
        # --scale 2 (default): the PNG has twice the SVG's pixel size
        assert abs(width - 2 * svg_w) <= 2 and abs(height - 2 * svg_h) <= 2
        assert 700 <= width <= 4000 and 400 <= height <= 2000, (stem, width, height)
    md = (dest / "report.md").read_text()
    assert md.startswith("# Sweep report: quick")
    for ref in ("curves.png", "horizon.png", "decay.png", "curves.svg"):
        assert f"({ref})" in md
    rows = [line for line in md.splitlines() if re.match(r"\| (elman|lstm) \|", line)]
    assert len(rows) == 4  # 2 cells x 2 radii, seeds averaged


def test_report_charts_keep_cells_that_lack_the_swept_parameter(tmp_path: Path) -> None:
    """LRU has no spectral radius: a dotted reference line, its own curve panel, "off" labels."""
    from longdep import report

    cfg = sweep.parse_config(
        'name = "mixed"\nquantity = "lyapunov"\nlength = 400\nn_points = 30\nhidden = 4\n'
        '[grid]\ncell = ["gru", "lru"]\nspectral_radius = [0.8, 1.2]\nchrono = [false, 50]\n'
    )
    assert len(cfg.cases) == 2 * 2 + 1
    sweep.run_sweep(cfg, tmp_path, workers=1, progress=False, stream=io.StringIO())
    summary, curves = sweep.collect(tmp_path, write=False), sweep.read_curves(tmp_path)
    decay = report.decay_chart(summary).to_dict()
    assert decay["layer"][1]["encoding"]["x"]["field"] == "spectral_radius"
    assert decay["layer"][2]["encoding"]["y"]["field"] == "lyapunov_1"
    (rule,) = [
        layer
        for layer in decay["layer"]
        if layer["mark"]["type"] == "rule" and "strokeWidth" in layer["mark"]
    ]
    assert [row["cell"] for row in decay["datasets"][rule["data"]["name"]]] == ["lru"]
    horizon = report.horizon_chart(summary).to_dict()
    assert len(horizon["layer"]) == 3  # line, points, the LRU's reference line
    spec = report.curves_chart(curves, summary).to_dict()
    rows = next(iter(spec["datasets"].values()))
    assert {r["cell"] for r in rows} == {"gru", "lru"}
    assert {r["line"] for r in rows} == {"chrono off", "chrono = 50"}  # chrono is a swept key


def test_bench_passes_its_arguments_to_the_benchmark() -> None:
    res = subprocess.run([*LONGDEP, "bench", "--help"], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert "bench_core.py" in res.stdout and "--quick" in res.stdout


# -- real processes: the console script, SIGKILL and resume, Ctrl-C ------------------------------


# `longdep` with Ctrl-C restored: a shell that runs the tests in the background starts
# them with SIGINT ignored, and children inherit that. (A preexec_fn would do it too,
# but forking a process that has JAX's threads risks a deadlock.)
LONGDEP_WITH_SIGINT = [
    sys.executable,
    "-c",
    "import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "from longdep.cli import main; sys.argv[0] = 'longdep'; main()",
]


def start_sweep(config: Path, out: Path, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*LONGDEP_WITH_SIGINT, "sweep", str(config), "--out", str(out), "--workers", "1", *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group: the test can tell its workers apart
    )


def wait_for_first_case(proc: subprocess.Popen[str], out: Path) -> None:
    deadline = time.monotonic() + 120
    while not case_files(out):
        assert proc.poll() is None, f"sweep ended before writing a case: {proc.communicate()}"
        assert time.monotonic() < deadline, "no case file within 120 s"
        time.sleep(0.01)


def wait_for_group_to_exit(pgid: int) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return
        if time.monotonic() > deadline:
            os.killpg(pgid, signal.SIGKILL)
            pytest.fail("worker processes outlived the killed sweep by 30 s")
        time.sleep(0.05)


def test_sigkilled_sweep_resumes_every_case_exactly_once(tmp_path: Path) -> None:
    config = tmp_path / "slow.toml"
    config.write_text(SLOW)
    expected = sorted(c.filename for c in sweep.load_config(config).cases)
    out = tmp_path / "out"
    proc = start_sweep(config, out)
    wait_for_first_case(proc, out)
    os.kill(proc.pid, signal.SIGKILL)  # the main process only: its workers must notice
    proc.communicate()
    assert proc.returncode == -signal.SIGKILL
    wait_for_group_to_exit(proc.pid)

    done = {p.name: (p.stat().st_mtime_ns, p.stat().st_ino) for p in case_files(out)}
    assert 0 < len(done) < len(expected), "the kill must land mid-run"
    assert_complete(out)  # temp files may remain; every *.parquet is whole

    res = subprocess.run(
        [*LONGDEP, "sweep", str(config), "--out", str(out), "--resume", "--workers", "2"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 0, res.stderr
    todo = len(expected) - len(done)
    assert f"{todo} cases to run ({len(done)} already done)" in res.stderr
    assert [p.name for p in case_files(out)] == expected
    assert temp_files(out) == []
    assert_complete(out)
    for name, stamp in done.items():
        p = out / name
        assert (p.stat().st_mtime_ns, p.stat().st_ino) == stamp, f"{name} was recomputed"


def test_ctrl_c_stops_cleanly_with_exit_code_130(tmp_path: Path) -> None:
    config = tmp_path / "slow.toml"
    config.write_text(SLOW)
    out = tmp_path / "out"
    proc = start_sweep(config, out)
    wait_for_first_case(proc, out)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "stopped;" in err and "rerun with --resume" in err and "Traceback" not in err
    wait_for_group_to_exit(proc.pid)
    assert temp_files(out) == []
    assert_complete(out)
    assert 0 < len(case_files(out)) < 12
