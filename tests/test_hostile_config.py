"""Hostile sweep configs and output folders give clear errors, never tracebacks or hangs.

- a UTF-8 byte-order mark is accepted (tomllib alone refuses it);
- control or invisible characters in ``name`` are a config error with key and line;
- TOML nested 10^5 deep (arrays, inline tables, dotted keys) is a config error, not a
  RecursionError or an out-of-memory kill;
- ``--out`` under a regular file or under /proc is an error with exit code 1;
- neither the lock file nor the default ``report/`` folder is followed through a
  symbolic link out of the results folder.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from longdep import plumbing, sweep, trainlab
from longdep.cli import main

ROOT = Path(__file__).resolve().parents[1]
QUICK = ROOT / "examples" / "quick.toml"
TINY = 'name = "tiny"\nlength = 20\ncell = "elman"\nhidden = 2\n'
DEEP = 10**5


def cli(*args: str) -> tuple[int, str]:
    res = CliRunner().invoke(main, list(args))
    if res.exception is not None and not isinstance(res.exception, SystemExit):
        raise AssertionError(f"uncaught {type(res.exception).__name__}: {res.exception}")
    assert "Traceback" not in res.output
    return res.exit_code, res.output


# -- byte-order mark -----------------------------------------------------------------------


def test_a_utf8_bom_is_accepted(tmp_path: Path) -> None:
    cfg = tmp_path / "bom.toml"
    cfg.write_bytes(b"\xef\xbb\xbf" + QUICK.read_bytes())
    assert len(sweep.load_config(cfg).cases) == len(sweep.load_config(QUICK).cases)
    assert sweep.parse_config("\ufeff" + TINY).name == "tiny"
    code, out = cli("sweep", str(cfg), "--out", str(tmp_path / "o"), "--dry-run")
    assert code == 0 and "quick: 8 cases" in out


def test_lines_are_still_right_after_a_bom(tmp_path: Path) -> None:
    cfg = tmp_path / "bom.toml"
    cfg.write_bytes(b"\xef\xbb\xbf" + (TINY + "hiden = 3\n").encode())
    with pytest.raises(sweep.SweepConfigError, match=rf"{cfg}:5: hiden: unknown key"):
        sweep.load_config(cfg)


def test_a_bom_is_accepted_by_the_train_config_too(tmp_path: Path) -> None:
    cfg = tmp_path / "train.toml"
    cfg.write_bytes(b"\xef\xbb\xbf" + b'task = "adding"\nlength = 10\nsteps = 1\n')
    assert trainlab.load_train_config(cfg).task == "adding"


# -- control characters in the name ----------------------------------------------------------


@pytest.mark.parametrize(
    "escape",
    [
        r"\u001b[2J",
        r"\n",
        r"\t",
        r"\r",
        r"\u0007",
        r"\u007f",
        r"\u0085",
        r"\u202e",
        r"\u200b",
        r"\u2028",
    ],
)
def test_control_characters_in_the_name_are_a_config_error_with_key_and_line(
    escape: str, tmp_path: Path
) -> None:
    cfg = tmp_path / "ctl.toml"
    cfg.write_text(
        f'# a sweep\nname = "evil{escape}name"\nlength = 20\ncell = "elman"\nhidden = 2\n'
    )
    with pytest.raises(sweep.SweepConfigError) as info:
        sweep.load_config(cfg)
    (line,) = info.value.errors
    assert line.startswith(
        f"{cfg}:2: name: must not contain control or invisible characters; got 'evil"
    )
    assert "U+" in line and "at position 4" in line
    assert line.isprintable()  # the message itself cannot drive the terminal
    code, out = cli("sweep", str(cfg), "--out", str(tmp_path / "o"))
    assert code == 2 and f"{cfg}:2: name: must not contain control" in out
    assert not (tmp_path / "o").exists()


def test_ordinary_unicode_names_are_fine() -> None:
    assert (
        sweep.parse_config(TINY.replace("tiny", "Überblick ρ=0.9 — 扫描")).name
        == "Überblick ρ=0.9 — 扫描"
    )


def test_a_line_separator_in_a_comment_does_not_shift_the_lines() -> None:
    text = '# note\u2028more\nname = "a\\u001bb"\nlength = 20\ncell = "elman"\nhidden = 2\n'
    with pytest.raises(sweep.SweepConfigError, match=r"<config>:2: name: "):
        sweep.parse_config(text)


def test_a_key_with_control_characters_is_shown_escaped() -> None:
    with pytest.raises(sweep.SweepConfigError) as info:
        sweep.parse_config(TINY + '"bad\\u001b[2Jkey" = 1\n')
    (line,) = info.value.errors
    assert "'bad\\x1b[2Jkey': unknown key" in line and line.isprintable()


# -- deep nesting ----------------------------------------------------------------------------

# Nested arrays and inline tables made tomllib raise RecursionError; a dotted key or a
# table name of 10^5 parts made it take quadratic memory (tens of GB: an OOM kill), so
# those two are only ever parsed in a child process capped at 2 GiB.
RECURSIVE = {
    "arrays": TINY + "x = " + "[" * DEEP + "]" * DEEP + "\n",
    "inline-tables": TINY + "x = " + "{a = " * DEEP + "1" + "}" * DEEP + "\n",
    "grid-value": TINY.replace(
        "hidden = 2\n", "[grid]\nhidden = " + "[" * DEEP + "]" * DEEP + "\n"
    ),
}
MEMORY_HUNGRY = {
    "dotted-key": TINY + "a" + ".a" * DEEP + " = 1\n",
    "table-header": TINY + "[" + "a." * DEEP + "a]\n",
}
CAPPED_CLI = textwrap.dedent(
    """
    import resource, sys
    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))
    from longdep.cli import main
    sys.argv = ["longdep", "sweep", sys.argv[1], "--out", sys.argv[2]]
    main()
    """
)


@pytest.mark.parametrize("text", RECURSIVE.values(), ids=RECURSIVE.keys())
def test_toml_nested_10_5_deep_is_a_config_error(text: str) -> None:
    with pytest.raises(
        sweep.SweepConfigError, match=r"^invalid sweep config:\n  <config>:5: too deeply nested: "
    ):
        sweep.parse_config(text)


@pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_AS caps the child's memory on Linux")
@pytest.mark.parametrize("name", ["arrays", "dotted-key", "table-header"])
def test_the_cli_reports_deep_nesting_cleanly_in_a_memory_capped_process(
    name: str, tmp_path: Path
) -> None:
    cfg = tmp_path / f"{name}.toml"
    cfg.write_text({**RECURSIVE, **MEMORY_HUNGRY}[name])
    res = subprocess.run(
        [sys.executable, "-c", CAPPED_CLI, str(cfg), str(tmp_path / "o")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "Traceback" not in res.stderr, res.stderr[-2000:]
    assert res.returncode == 2, res.stderr[-2000:]  # the exit code of every config error
    assert f"{cfg}:5: too deeply nested: " in res.stderr
    assert not (tmp_path / "o").exists()


def test_a_recursion_error_from_the_parser_is_a_config_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def loads(text: str) -> dict[str, object]:
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(plumbing.tomllib, "loads", loads)
    with pytest.raises(
        sweep.SweepConfigError, match=r"<config>: not valid TOML: nested too deeply"
    ):
        sweep.parse_config(TINY)


def test_brackets_dots_and_braces_inside_strings_and_comments_are_not_nesting() -> None:
    text = (
        f'name = "{"[{." * 200}"  # {"[{." * 200}\n'
        "length = 20\n"
        f"cell = '{'[' * 200}'\n"
        'hidden = 2\nquantity = """\n' + "[[[..." * 100 + '\n"""\n'
        "n_points = '''\n" + "{{{..." * 100 + "\n'''\n"
    )
    with pytest.raises(sweep.SweepConfigError) as info:
        sweep.parse_config(text)
    assert "too deeply nested" not in str(info.value)  # the usual value errors instead
    assert "<config>:3: cell: must be one of" in str(info.value)


def test_nesting_within_the_limit_is_parsed_as_usual() -> None:
    depth = plumbing.MAX_TOML_NESTING - 1
    with pytest.raises(sweep.SweepConfigError, match=r"<config>:5: x: unknown key"):
        sweep.parse_config(TINY + "x = " + "[" * depth + "]" * depth + "\n")


def test_a_header_line_with_a_long_run_of_spaces_is_scanned_in_linear_time(tmp_path: Path) -> None:
    """The key-line scan used a lazy regex that took cubic time on such a (valid) line."""
    text = TINY + "x = [\n[" + " " * 20000 + "[1]],\n]\n"
    script = "import sys; from longdep import sweep\ntry:\n    sweep.parse_config(sys.stdin.read())\nexcept sweep.SweepConfigError as e:\n    print(e)"
    res = subprocess.run(
        [sys.executable, "-c", script], input=text, capture_output=True, text=True, timeout=60
    )
    assert res.returncode == 0 and "<config>:5: x: unknown key" in res.stdout, res.stderr


def test_the_train_config_refuses_deep_nesting_too(tmp_path: Path) -> None:
    cfg = tmp_path / "train.toml"
    cfg.write_text('task = "adding"\nx = ' + "[" * DEEP + "]" * DEEP + "\n")
    with pytest.raises(trainlab.TrainConfigError, match=rf"{cfg}:2: too deeply nested"):
        trainlab.load_train_config(cfg)


# -- output folders ---------------------------------------------------------------------------


def test_out_under_a_regular_file_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a folder")
    code, out = cli("sweep", str(QUICK), "--out", str(tmp_path / "file" / "results"), "-q")
    assert code == 1
    assert (
        f"Error: cannot create the results folder {tmp_path / 'file' / 'results'}: Not a directory"
        in out
    )


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs /proc")
@pytest.mark.parametrize("out", ["/proc/longdep-results", "/proc/self/results", "/proc/self"])
def test_out_under_proc_is_a_clear_error(out: str) -> None:
    code, text = cli("sweep", str(QUICK), "--out", out, "-q")
    assert code == 1 and text.startswith("Error: cannot create the ") and out in text


def test_run_sweep_raises_sweep_error_for_an_unusable_folder(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    with pytest.raises(sweep.SweepError, match=r"cannot create the results folder"):
        sweep.run_sweep(sweep.parse_config(TINY), tmp_path / "file" / "x", stream=io.StringIO())


@pytest.mark.skipif(os.name != "posix", reason="symbolic links and O_NOFOLLOW")
def test_the_lock_file_is_never_followed_through_a_symlink(tmp_path: Path) -> None:
    out, outside = tmp_path / "results", tmp_path / "outside"
    out.mkdir()
    outside.mkdir()
    (out / ".longdep-sweep.lock").symlink_to(outside / "victim")
    with pytest.raises(sweep.SweepError, match=r"lock file .* symbolic link"):
        sweep.run_sweep(sweep.parse_config(TINY), out, workers=1, stream=io.StringIO())
    assert not (outside / "victim").exists() and list(outside.iterdir()) == []


@pytest.fixture(scope="module")
def tiny_results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("tiny") / "results"
    sweep.run_sweep(sweep.parse_config(TINY), out, workers=1, progress=False, stream=io.StringIO())
    return out


@pytest.mark.skipif(os.name != "posix", reason="symbolic links")
def test_a_symlinked_report_folder_is_refused(tiny_results: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    link = tiny_results / "report"
    link.symlink_to(outside, target_is_directory=True)
    try:
        code, out = cli("report", str(tiny_results))
    finally:
        link.unlink()
    assert code == 1 and f"{link} is a symbolic link" in out
    assert list(outside.iterdir()) == []


def test_report_out_under_a_regular_file_is_a_clear_error(
    tiny_results: Path, tmp_path: Path
) -> None:
    (tmp_path / "file").write_text("")
    code, out = cli("report", str(tiny_results), "--out", str(tmp_path / "file" / "report"))
    assert code == 1 and "Error: cannot write the report:" in out
