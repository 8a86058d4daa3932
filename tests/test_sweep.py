"""Sweep configs, grid expansion, case names, one case's numbers, files, resume, executors."""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import doctest
import io
import math
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

import longdep as ld
from longdep import sweep
from longdep.sweep import SweepConfigError, SweepError, parse_config

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

BASE = """\
name = "t"
length = 300
seeds = [0, 1]
"""


def errors_of(text: str) -> list[str]:
    with pytest.raises(SweepConfigError) as info:
        parse_config(text, source="cfg.toml")
    return info.value.errors


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


# -- validation --------------------------------------------------------------------------------


def test_unknown_keys_are_reported_with_their_line_and_a_suggestion() -> None:
    text = BASE + 'quantitty = "grad_norms"\n[grid]\ncell = ["elman"]\nhiden = [64]\n'
    errs = errors_of(text)
    assert len(errs) == 2
    top, grid = errs
    assert top.startswith(f"cfg.toml:{line_of(text, 'quantitty')}: quantitty: unknown key")
    assert "did you mean 'quantity'" in top
    assert grid.startswith(f"cfg.toml:{line_of(text, 'hiden')}: [grid] hiden: unknown key")
    assert "did you mean 'hidden'" in grid


def test_bad_values_are_all_reported_at_once_with_key_and_line() -> None:
    text = (
        'name = "t"\nlength = "long"\nbatch = 0\nseeds = [0, -1]\nlayer_norm = "yes"\n'
        '[grid]\ncell = ["elman", "rnn"]\nhidden = [16]\nspectral_radius = [0.9, "x"]\n'
    )
    errs = errors_of(text)
    expected = {
        "length": "must be an integer >= 2; got 'long'",
        "batch": "must be an integer >= 1; got 0",
        "seeds": "item 1 is -1",
        "layer_norm": "must be true or false; got 'yes'",
        "[grid] cell": "item 1: must be one of 'elman', 'lstm', 'gru', 'lru', 'attention', 'mingru', "
        "'minlstm', 'rglru', 'slstm', 'ssm'; got 'rnn'",
        "[grid] spectral_radius": "item 1: must be a number in (0, inf); got 'x'",
    }
    assert len(errs) == len(expected)
    for key, msg in expected.items():
        bare = key.removeprefix("[grid] ")
        no = line_of(text, f"{bare} =")
        hits = [e for e in errs if e.startswith(f"cfg.toml:{no}: {key}: ")]
        assert len(hits) == 1 and msg in hits[0], (key, errs)


def test_config_errors_are_argument_errors() -> None:
    with pytest.raises(ld.ArgumentError):
        parse_config("name = 1\n")
    assert issubclass(SweepConfigError, ValueError)


def test_empty_grid_lists_and_scalars_in_grid_are_rejected() -> None:
    text = BASE + "[grid]\ncell = []\nhidden = 8\n"
    errs = errors_of(text)
    assert any(
        e.startswith(f"cfg.toml:{line_of(text, 'cell =')}: [grid] cell: must be a non-empty list")
        for e in errs
    )
    assert any("[grid] hidden: must be a list of values to sweep; got 8" in e for e in errs)


def test_missing_required_keys_are_named() -> None:
    errs = errors_of('cell = "elman"\n')
    assert {re.sub(r"^cfg.toml(:\d+)?: ", "", e).split(":")[0] for e in errs} == {
        "hidden",
        "length",
        "name",
    }


def test_a_key_both_at_the_top_level_and_in_the_grid_is_rejected() -> None:
    text = BASE + "hidden = 8\n[grid]\ncell = ['elman']\nhidden = [8, 16]\n"
    (err,) = errors_of(text)
    assert err.startswith(f"cfg.toml:{line_of(text, 'hidden = [')}: [grid] hidden:")
    assert f"top level (line {line_of(text, 'hidden = 8')})" in err


def test_a_key_no_cell_of_the_sweep_uses_is_rejected() -> None:
    text = BASE + 'init = "orthogonal"\nhidden = 8\n[grid]\ncell = ["lstm", "gru"]\n'
    (err,) = errors_of(text)
    assert err.startswith(f"cfg.toml:{line_of(text, 'init')}: init: applies to cell = elman only")


@pytest.mark.parametrize(
    ("extra", "key", "message"),
    [
        ('quantity = "lyapunov"\nk = 20\ncell = "elman"\n', "k", "at most the state size 16"),
        ('quantity = "lyapunov"\nwarmup = 300\ncell = "elman"\n', "warmup", "smaller than length"),
        ('quantity = "sensitivity"\ncell = "attention"\n', "quantity", "needs a recurrent state"),
        ('wrt = "cell"\ncell = "gru"\n', "wrt", "needs an LSTM"),
        ('k = 2\ncell = "elman"\n', "k", "applies to quantity = 'lyapunov' only"),
        ('cell = "lru"\nr_min = 0.99\nr_max = 0.9\n', "r_min", "must be <= r_max"),
    ],
)
def test_constraints_between_keys_name_the_key_to_change(
    extra: str, key: str, message: str
) -> None:
    text = BASE + "hidden = 16\n" + extra
    (err,) = errors_of(text)
    assert err.startswith(f"cfg.toml:{line_of(text, key + ' =')}: {key}: ") and message in err


def test_invalid_toml_is_reported_with_its_position() -> None:
    (err,) = errors_of(BASE + "hidden == 2\n")
    assert err.startswith("cfg.toml: not valid TOML:") and "line 4" in err


def test_load_config_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(BASE + "[grid]\ncell = ['elman']\nhidden = [8]\ncolour = [1]\n")
    with pytest.raises(SweepConfigError, match=re.escape(f"{path}:7: [grid] colour: unknown key")):
        sweep.load_config(path)


def test_example_configs_are_valid() -> None:
    assert len(sweep.load_config(EXAMPLES / "radius-scan.toml").cases) == 3 * 2 * 4 * 2
    assert len(sweep.load_config(EXAMPLES / "quick.toml").cases) == 2 * 1 * 2 * 2


# -- grid expansion and names -------------------------------------------------------------------


def test_grid_is_the_cross_product_of_every_list_and_the_seeds() -> None:
    cfg = parse_config(
        BASE
        + "[grid]\ncell = ['elman', 'gru']\nhidden = [8, 16]\nspectral_radius = [0.9, 1.0, 1.1]\n"
        "input_scale = [0.5, 1.0]\n"
    )
    assert len(cfg.cases) == 2 * 2 * 3 * 2 * 2
    assert len({c.name for c in cfg.cases}) == len(cfg.cases)


def test_keys_that_do_not_apply_to_a_cell_do_not_multiply_its_cases() -> None:
    cfg = parse_config(
        BASE + "hidden = 8\n[grid]\ncell = ['elman', 'lstm', 'lru']\n"
        "init = ['normal', 'orthogonal']\nspectral_radius = [0.9, 1.1]\n"
    )
    per_cell = pd.Series([c.params["cell"] for c in cfg.cases]).value_counts().to_dict()
    # elman: 2 inits x 2 radii; lstm: 2 radii (init is Elman's); lru: neither applies.
    assert per_cell == {"elman": 2 * 2 * 2, "lstm": 2 * 2, "lru": 1 * 2}
    lru = next(c for c in cfg.cases if c.params["cell"] == "lru")
    assert "spectral_radius" not in lru.params and lru.name == "cell=lru_seed=0"
    assert any("init does not apply to cell = lru, lstm" in n for n in cfg.notes)


def test_case_names_are_stable_readable_and_filesystem_safe() -> None:
    text = BASE + "[grid]\ncell = ['lstm']\nhidden = [64]\nspectral_radius = [0.9, 1]\n"
    first, again = parse_config(text), parse_config(text)
    assert [c.name for c in first.cases] == [c.name for c in again.cases]
    assert first.cases[0].name == "cell=lstm_hidden=64_spectral_radius=0.9_seed=0"
    # an integer radius is the same case as the float one
    assert first.cases[2].name == "cell=lstm_hidden=64_spectral_radius=1.0_seed=0"
    assert first.cases[2].params["spectral_radius"] == 1.0
    for case in first.cases:
        assert re.fullmatch(r"[A-Za-z0-9_=.+-]+", case.name)


def test_long_case_names_are_cut_and_end_in_a_hash_of_the_full_name() -> None:
    keys = {f"key_number_{i}": "value" * 3 for i in range(10)}
    a = sweep.case_name(keys, list(keys))
    b = sweep.case_name(keys | {"key_number_9": "other"}, list(keys))
    assert len(a) <= 120 and len(b) <= 120
    assert a != b and a[:100] == b[:100]
    assert a == sweep.case_name(dict(keys), list(keys))


# -- one case -------------------------------------------------------------------------------------

LINEAR = BASE + (
    'cell = "elman"\nhidden = 12\nnonlinearity = "linear"\ninit = "orthogonal"\n'
    "spectral_radius = 0.5\nbatch = 2\nn_points = 40\n"
)


@pytest.mark.parametrize("quantity", ["grad_norms", "sensitivity", "lyapunov"])
def test_a_linear_orthogonal_cell_gives_the_closed_form_curve(quantity: str) -> None:
    """W_hh = rho Q: every quantity is exactly distance * ln(rho) (unit v and u)."""
    cfg = parse_config(LINEAR + f'quantity = "{quantity}"\n')
    res = sweep.compute_case(cfg.cases[0].params)
    d = res["distance"]
    first = 0 if quantity == "grad_norms" else 1
    assert d[0] == first and d[-1] == 300 - 1 + first and len(d) == 40
    assert np.all(np.diff(d) > 0)
    np.testing.assert_allclose(res["log_norm"], d * math.log(0.5), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(res["log_norm_std"], 0.0, atol=1e-9)
    m = res["metrics"]
    assert m["decay_rate"] == pytest.approx(math.log(0.5), rel=1e-9)
    assert m["regime"] == "vanishing"
    # first distance with (d - first) ln 0.5 < ln 1e-6 is 20 steps after the first
    assert m["memory_horizon"] == 20 + first
    if quantity == "lyapunov":
        assert m["lyapunov_1"] == pytest.approx(math.log(0.5), rel=1e-9)


def test_lstm_and_gru_spectral_radius_scales_every_gate_block() -> None:
    for cell, gates in (("lstm", 4), ("gru", 3)):
        cfg = parse_config(BASE + f'cell = "{cell}"\nhidden = 6\nspectral_radius = 0.7\n')
        built = sweep.build_cell(cfg.cases[0].params)
        for block in np.split(built.weight_hh, gates):
            assert np.abs(np.linalg.eigvals(block)).max() == pytest.approx(0.7, rel=1e-12)


def test_same_case_gives_identical_numbers_and_seeds_differ() -> None:
    cfg = parse_config(BASE + 'cell = "gru"\nhidden = 8\n')
    a, b = (sweep.compute_case(cfg.cases[0].params) for _ in range(2))
    c = sweep.compute_case(cfg.cases[1].params)
    np.testing.assert_array_equal(a["log_norm"], b["log_norm"])
    assert not np.array_equal(a["log_norm"], c["log_norm"])


# -- running, files, resume -----------------------------------------------------------------------


class ThreadExecutor(sweep.Executor):
    """In-process executor (threads) for driver tests; fails the cases named in ``fail``."""

    description = "test threads"
    max_in_flight = 3

    def __init__(self, fail: tuple[str, ...] = ()) -> None:
        self.pool = cf.ThreadPoolExecutor(2)
        self.fail = fail
        self.submitted: list[str] = []

    def submit(self, case: sweep.Case) -> Any:
        self.submitted.append(case.name)
        if case.name in self.fail:
            return self.pool.submit(_raise, case.name)
        return self.pool.submit(sweep.compute_case, case.params, threads=1)

    def wait(self, futures: set[Any], timeout: float) -> set[Any]:
        return set(cf.wait(futures, timeout, return_when=cf.FIRST_COMPLETED)[0])

    def close(self, *, abort: bool = False) -> None:
        self.pool.shutdown(cancel_futures=abort)


def _raise(name: str) -> None:
    raise ld.NumericsError(f"boom in {name}")


QUICK = sweep.load_config(EXAMPLES / "quick.toml")


def run(out: Path, **kw: Any) -> sweep.SweepResult:
    kw.setdefault("executor", ThreadExecutor())
    return sweep.run_sweep(QUICK, out, stream=io.StringIO(), **kw)


def test_each_case_is_one_zstd_parquet_with_curve_parameters_and_metrics(tmp_path: Path) -> None:
    result = run(tmp_path)
    assert sorted(result.computed) == sorted(c.name for c in QUICK.cases)
    files = sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("."))
    assert files == sorted(c.filename for c in QUICK.cases)
    case = QUICK.cases[-1]
    pf = pq.ParquetFile(tmp_path / case.filename)
    assert pf.metadata.row_group(0).column(0).compression == "ZSTD"
    df = pf.read().to_pandas()
    assert len(df) == QUICK.settings["n_points"]
    direct = sweep.compute_case(case.params)
    np.testing.assert_array_equal(df["distance"], direct["distance"])
    np.testing.assert_array_equal(df["log_norm"], direct["log_norm"])
    for key, value in case.params.items():
        assert (df[key].isna() if value is None else df[key] == value).all(), key
    for key, value in direct["metrics"].items():
        assert (df[key] == value).all(), key
    assert sweep.read_case(tmp_path / case.filename)["params"] == case.params


def test_resume_runs_only_missing_cases_and_keeps_finished_files(tmp_path: Path) -> None:
    run(tmp_path)
    gone = tmp_path / QUICK.cases[3].filename
    gone.unlink()
    stale = tmp_path / f".{QUICK.cases[3].filename}.tmp-99999-deadbeef"
    stale.write_bytes(b"half a file")
    before = {p.name: p.stat().st_mtime_ns for p in tmp_path.glob("*.parquet")}
    executor = ThreadExecutor()
    result = run(tmp_path, resume=True, executor=executor)
    assert executor.submitted == [QUICK.cases[3].name] == result.computed
    assert len(result.skipped) == len(QUICK.cases) - 1
    assert not stale.exists() and gone.exists()
    after = {p.name: p.stat().st_mtime_ns for p in tmp_path.glob("*.parquet")}
    assert all(after[name] == t for name, t in before.items())


def test_an_existing_sweep_is_not_overwritten_and_a_changed_one_not_resumed(tmp_path: Path) -> None:
    run(tmp_path)
    with pytest.raises(SweepError, match="pass --resume"):
        run(tmp_path)
    text = (EXAMPLES / "quick.toml").read_text().replace("length = 400", "length = 500")
    with pytest.raises(SweepError, match="other parameters"):
        sweep.run_sweep(
            parse_config(text),
            tmp_path,
            resume=True,
            executor=ThreadExecutor(),
            stream=io.StringIO(),
        )


def test_failed_cases_write_no_file_are_recorded_and_retried_on_request(tmp_path: Path) -> None:
    bad = QUICK.cases[1].name
    with pytest.raises(SweepError, match=re.escape("1 of 8 cases failed")) as info:
        run(tmp_path, executor=ThreadExecutor(fail=(bad,)))
    assert f"{bad}: NumericsError: boom in {bad}" in str(info.value)
    assert not (tmp_path / f"{bad}.parquet").exists()
    assert len(list(tmp_path.glob("*.parquet"))) == 7
    # Recorded: --resume reports it without running it; --retry-failed runs it.
    again = run(tmp_path, resume=True)
    assert again.computed == [] and list(again.failed_before) == [bad]
    assert run(tmp_path, resume=True, retry_failed=True).computed == [bad]
    assert not (tmp_path / sweep.FAILED).exists()


def test_collect_writes_one_row_per_case(tmp_path: Path) -> None:
    run(tmp_path)
    df = sweep.collect(tmp_path)
    for saved in (
        pd.read_parquet(tmp_path / "summary.parquet"),
        pd.read_csv(tmp_path / "summary.csv"),
    ):
        assert sorted(saved["case"]) == sorted(c.name for c in QUICK.cases)
        for col in (
            "cell",
            "hidden",
            "spectral_radius",
            "seed",
            "decay_rate",
            "memory_horizon",
            "regime",
        ):
            assert col in saved
    row = df.set_index("case").loc[QUICK.cases[0].name]
    assert row["decay_rate"] == sweep.compute_case(QUICK.cases[0].params)["metrics"]["decay_rate"]
    # the summary is not a case: collecting again gives the same table
    pd.testing.assert_frame_equal(sweep.collect(tmp_path), df)


def test_local_process_pool_runs_the_sweep(tmp_path: Path) -> None:
    result = sweep.run_sweep(QUICK, tmp_path, workers=2, stream=io.StringIO())
    assert len(result.computed) == len(QUICK.cases)
    ref = sweep.compute_case(QUICK.cases[0].params)
    df = pd.read_parquet(tmp_path / QUICK.cases[0].filename)
    np.testing.assert_array_equal(df["log_norm"], ref["log_norm"])


_CLUSTER = """
import sys
from dask.distributed import LocalCluster

if __name__ == "__main__":
    with LocalCluster(n_workers=2, threads_per_worker=1, host="127.0.0.1", processes=True,
                      dashboard_address=None) as cluster:
        print(cluster.scheduler_address, flush=True)
        sys.stdin.read()  # until the test closes the pipe
"""


@contextlib.contextmanager
def _local_cluster() -> Iterator[str]:
    """A Dask LocalCluster (2 worker processes on 127.0.0.1) in its own interpreter: its
    workers are spawned from that script, not from whatever runs the tests."""
    proc = subprocess.Popen(
        [sys.executable, "-c", _CLUSTER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        address = proc.stdout.readline().strip()
        assert address.startswith("tcp://127.0.0.1:"), f"the cluster did not start: {address!r}"
        yield address
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_dask_cluster_gives_the_same_results_as_the_local_pool(tmp_path: Path) -> None:
    pytest.importorskip(
        "dask.distributed", reason="Dask is optional: pip install 'longdep[distributed]'"
    )
    local, remote = tmp_path / "local", tmp_path / "dask"
    sweep.run_sweep(QUICK, local, workers=2, stream=io.StringIO())
    with _local_cluster() as address:
        log = io.StringIO()
        result = sweep.run_sweep(QUICK, remote, scheduler=address, stream=log)
    assert "Dask at tcp://127.0.0.1" in log.getvalue() and "2 workers" in log.getvalue()
    assert len(result.computed) == len(QUICK.cases)
    for case in QUICK.cases:
        a = pd.read_parquet(local / case.filename).drop(columns="elapsed_s")
        b = pd.read_parquet(remote / case.filename).drop(columns="elapsed_s")
        pd.testing.assert_frame_equal(a, b, check_exact=True)


def test_dask_scheduler_that_cannot_be_reached_is_a_clear_error(tmp_path: Path) -> None:
    pytest.importorskip("dask.distributed", reason="Dask is optional")
    with pytest.raises(SweepError, match="cannot connect to the Dask scheduler"):
        sweep.DaskExecutor("tcp://127.0.0.1:1", timeout=1)


# -- progress ---------------------------------------------------------------------------------------


def test_progress_prints_plain_lines_off_a_terminal() -> None:
    out = io.StringIO()
    bar = sweep.Progress(4, 1, label="s", stream=out, interval=3600)
    for _ in range(3):
        bar.update()
    bar.close()
    lines = out.getvalue().splitlines()
    assert "\r" not in out.getvalue()
    assert lines[0].startswith("s: 2/4 cases (50%)") and lines[-1].startswith("s: 4/4 cases (100%)")
    assert len(lines) == 2 and "cases/s" in lines[0] and "ETA" in lines[0]


def test_progress_redraws_one_bar_on_a_terminal() -> None:
    out = io.StringIO()
    bar = sweep.Progress(2, label="s", stream=out, tty=True)
    bar.update(force=True)
    bar.update()
    bar.close()
    text = out.getvalue()
    assert text.count("\r") == 2 and text.endswith("\n") and text.count("\n") == 1
    assert "[############------------] 1/2" in text and "[########################] 2/2" in text


def test_docstring_examples_hold() -> None:
    result = doctest.testmod(sweep)
    assert result.attempted > 0 and result.failed == 0


def test_missing_dask_is_a_clear_error_naming_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "dask", None)  # import dask -> ImportError
    with pytest.raises(SweepError, match=re.escape("pip install 'longdep[distributed]'")):
        sweep.DaskExecutor("tcp://127.0.0.1:8786")


@pytest.mark.parametrize("cell", ["mingru", "minlstm", "rglru", "slstm"])
def test_catalogue_kinds_sweep_like_the_cell_built_directly(cell: str) -> None:
    """A 2023–2025 kind in a sweep is its class's ``random`` initialiser with the case's
    keys; the curve is the library's grad_norms of that cell on the case's input."""
    extra = {"mingru": "chrono = 100\n", "rglru": "r_min = 0.8\nr_max = 0.9\n"}.get(cell, "")
    cfg = parse_config(BASE + f'cell = "{cell}"\nhidden = 6\nn_points = 300\n' + extra)
    params = cfg.cases[0].params
    res = sweep.compute_case(params)
    cls = ld.kinds.cell_class(cell)
    i = 6 if cell == "rglru" else 1  # the RG-LRU's input size is its hidden size
    assert params["input_size"] == i
    keys = {"mingru": {"chrono": 100}, "rglru": {"r_min": 0.8, "r_max": 0.9}}.get(cell, {})
    if cell == "minlstm":
        keys = {"forget_bias": params["forget_bias"]}
    direct = cls.random(6, i, seed=0, **keys)
    x = np.random.default_rng([0, 1]).standard_normal((300, 1, i))
    v = np.random.default_rng([0, 2]).standard_normal(direct.hidden_size)
    want = ld.grad_norms(direct, x, v / np.linalg.norm(v), log=True)[::-1, 0]
    np.testing.assert_allclose(res["log_norm"], want[res["distance"]], rtol=1e-12, atol=1e-12)


def test_rglru_input_size_other_than_hidden_is_a_config_error() -> None:
    with pytest.raises(SweepConfigError, match="input_size: must equal hidden"):
        parse_config(BASE + 'cell = "rglru"\nhidden = 6\ninput_size = 2\n')
