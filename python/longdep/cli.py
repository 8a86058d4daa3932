"""The ``longdep`` command: batch sweeps, their summaries and reports, the dashboard, benchmarks."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import click

from . import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="longdep")
def main() -> None:
    """Measure how gradients vanish or explode in recurrent networks over long sequences.

    \b
    Examples:
      longdep sweep examples/radius-scan.toml --out results/
      longdep collect results/
      longdep report results/
      longdep train examples/train-quick.toml --out results/quick
      longdep dashboard
    """


#: Grids above this many cases need --yes (or a confirmation on a terminal).
_BIG_GRID = 100_000
#: Case files a dry run lists before it only counts them.
_LISTED = 1000


def _sweep_cost(cfg: Any, workers: int | None) -> str:
    """ "estimated 2:03:00 on 2 workers, up to 1.2 GB per case" for a dry run."""
    from .plumbing import _duration
    from .sweep import _cpu_count, estimate_case, machine_memory

    costs = [estimate_case(c.params) for c in cfg.cases]
    n = max(1, min(workers or _cpu_count(), len(costs)))
    seconds = sum(c["seconds"] for c in costs) / n
    peak = max(c["bytes"] for c in costs)
    avail = machine_memory()
    over = sum(c["bytes"] > avail for c in costs) if avail else 0
    text = (
        f"estimated {_duration(seconds)} on {n} worker{'s' if n > 1 else ''}, "
        f"up to {peak / 1e9:.2f} GB per case"
    )
    if over and avail:
        text += f"; {over} cases exceed the {avail / 1e9:.1f} GB available and would fail"
    return text


@main.command()
@click.argument("config", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--out",
    "-o",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Results folder: one <case>.parquet per case.",
)
@click.option("--resume", is_flag=True, help="Skip cases whose file already exists.")
@click.option(
    "--retry-failed",
    is_flag=True,
    help="With --resume: run again the cases that failed earlier (listed in failed.json).",
)
@click.option(
    "--workers",
    "-j",
    type=click.IntRange(min=1),
    default=None,
    help="Local worker processes [default: one per core].",
)
@click.option(
    "--scheduler",
    metavar="ADDRESS",
    default=None,
    help="Run on a Dask cluster, e.g. tcp://host:8786 (pip install 'longdep[distributed]').",
)
@click.option(
    "--dry-run", is_flag=True, help="Validate the config and list the cases; run nothing."
)
@click.option(
    "--yes", "-y", is_flag=True, help=f"Run a grid of more than {_BIG_GRID:,} cases without asking."
)
@click.option("--quiet", "-q", is_flag=True, help="No progress bar or progress lines.")
def sweep(
    config: Path,
    out: Path,
    resume: bool,
    retry_failed: bool,
    workers: int | None,
    scheduler: str | None,
    dry_run: bool,
    yes: bool,
    quiet: bool,
) -> None:
    """Run every case of the sweep CONFIG (TOML) and write one Parquet file per case.

    The [grid] lists are crossed with the seeds. Each file is written under a temporary
    name and renamed when complete, so a sweep stopped at any moment (Ctrl-C, kill -9)
    leaves only complete files; --resume then runs exactly the missing cases. A case
    that fails (an error, or its worker process dies) is recorded in failed.json and
    the sweep goes on; --resume reports such cases, --resume --retry-failed reruns
    them. A progress bar shows on a terminal, a line every 10 s otherwise (CI logs).

    \b
    Examples:
      longdep sweep examples/radius-scan.toml --out results/radius-scan
      longdep sweep big.toml --out results/big --resume --workers 8
      longdep sweep big.toml --out /shared/big --scheduler tcp://head:8786
    """
    from .sweep import SweepConfigError, SweepError, load_config, run_sweep

    if workers is not None and scheduler is not None:
        raise click.UsageError(
            "--workers is for the local pool; with --scheduler the cluster decides"
        )
    if retry_failed and not resume:
        raise click.UsageError("--retry-failed continues a sweep: pass it with --resume")
    try:
        cfg = load_config(config)
    except SweepConfigError as e:
        click.echo(f"Error: {e}", err=True)
        sys.exit(2)
    if dry_run:
        click.echo(f"{cfg.name}: {len(cfg.cases)} cases, quantity {cfg.quantity}")
        for note in cfg.notes:
            click.echo(f"note: {note}")
        click.echo(_sweep_cost(cfg, workers))
        for case in cfg.cases[:_LISTED]:
            click.echo(f"  {case.filename}")
        if len(cfg.cases) > _LISTED:
            click.echo(f"  ... and {len(cfg.cases) - _LISTED:,} more")
        return
    if len(cfg.cases) > _BIG_GRID and not yes:
        question = (
            f"{cfg.name} has {len(cfg.cases):,} cases ({_sweep_cost(cfg, workers)}); run them?"
        )
        if not sys.stdin.isatty():
            click.echo(
                f"Error: {question.removesuffix('; run them?')}: more than {_BIG_GRID:,} "
                "cases; pass --yes to run them, or --dry-run to see the plan",
                err=True,
            )
            sys.exit(1)
        if not click.confirm(question, default=False):
            sys.exit(1)
    try:
        run_sweep(
            cfg,
            out,
            resume=resume,
            retry_failed=retry_failed,
            workers=workers,
            scheduler=scheduler,
            progress=not quiet,
        )
    except SweepError as e:
        click.echo(f"Error: {e}", err=True)
        sys.exit(1)
    except KeyboardInterrupt as e:
        signum = getattr(e, "signum", signal.SIGINT)
        sys.exit(128 + int(signum))


@main.command()
@click.argument("results", type=click.Path(exists=True, file_okay=False, path_type=Path))
def collect(results: Path) -> None:
    """Write RESULTS/summary.parquet and summary.csv: one row per case, parameters and metrics.

    \b
    Example:
      longdep collect results/radius-scan
    """
    from .sweep import SweepError
    from .sweep import collect as collect_

    try:
        df = collect_(results)
    except SweepError as e:
        raise click.ClickException(str(e)) from None
    except OSError as e:  # a read-only results folder
        raise click.ClickException(f"cannot write the summary: {e}") from None
    click.echo(f"{len(df)} cases -> {results / 'summary.parquet'}, {results / 'summary.csv'}")


@main.command()
@click.argument("results", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--out",
    "-o",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where to write the report [default: RESULTS/report].",
)
@click.option(
    "--scale",
    type=click.FloatRange(min=0.1),
    default=2.0,
    show_default=True,
    help="PNG pixel scale.",
)
def report(results: Path, out: Path | None, scale: float) -> None:
    """Render charts (PNG and SVG) and report.md for the sweep results in RESULTS.

    Charts: decay curves per cell coloured by spectral radius (log distance axis),
    memory horizon and decay rate against the swept parameter. Also refreshes the
    summary table (as `longdep collect`).

    \b
    Example:
      longdep report results/radius-scan && open results/radius-scan/report/report.md
    """
    from .report import render_report
    from .sweep import SweepError

    default = results / "report"
    if out is None and default.is_symlink():  # it would carry the report out of RESULTS
        raise click.ClickException(
            f"{default} is a symbolic link; the report is not written through it "
            "(remove it, or pass --out with the folder you want)"
        )
    try:
        files = render_report(results, out, scale=scale)
    except SweepError as e:
        raise click.ClickException(str(e)) from None
    except OSError as e:  # --out under a regular file, read-only, no permission
        raise click.ClickException(f"cannot write the report: {e}") from None
    for f in files:
        click.echo(str(f))


#: Where `longdep dashboard` listens unless told otherwise: this machine only.
DASHBOARD_ADDRESS = "127.0.0.1"
#: Server settings `longdep dashboard` passes to streamlit, as in .streamlit/config.toml:
#: visitors see a generic message for an uncaught error, never its traceback or text.
DASHBOARD_SERVER = {
    "browser.gatherUsageStats": "false",
    "server.maxUploadSize": "200",
    "client.showErrorDetails": "none",
}


def _passed(args: tuple[str, ...], option: str) -> bool:
    """Whether `--option` (``--option=value`` or ``--option value``) is among `args`."""
    flag = f"--{option}"
    return any(a == flag or a.startswith(flag + "=") for a in args)


@main.command(
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
)
@click.option(
    "--address",
    metavar="HOST",
    default=None,
    help=f"Interface to listen on [default: {DASHBOARD_ADDRESS}, this machine only]. "
    "To serve on a network: --address 0.0.0.0 (anyone who can reach the port can use it).",
)
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    default=None,
    help="Port to listen on [default: streamlit's, 8501].",
)
@click.option("--headless", is_flag=True, help="Do not open a browser window.")
@click.option(
    "--results",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="Results root: the pages may open the folders below it, by relative path "
    "(never outside it, never through a symbolic link). Without it, no page reads "
    "folders on this machine; uploads work either way.",
)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def dashboard(
    address: str | None,
    port: int | None,
    headless: bool,
    results: Path | None,
    args: tuple[str, ...],
) -> None:
    """Open the dashboard: `streamlit run` on the app inside the installed package.

    It listens on 127.0.0.1 (this machine only) and shows visitors no error details
    (client.showErrorDetails = none). Results folders on this machine can be opened on
    the pages only below --results DIR. Other arguments are passed on to `streamlit run`.

    \b
    Examples:
      longdep dashboard
      longdep dashboard --port 8502 --headless
      longdep dashboard --results results/     (open folders below results/)
      longdep dashboard --address 0.0.0.0 --port 8080   (serve on a network)
    """
    from .dashboard import APP_PATH, THEME
    from .dashboard.uploads import RESULTS_ENV

    # the app reads the root from its environment; without --results it must find none,
    # whatever the caller's environment holds
    if results is None:
        os.environ.pop(RESULTS_ENV, None)
    else:
        os.environ[RESULTS_ENV] = str(results.resolve())

    for name, value, option in (
        ("--address", address, "server.address"),
        ("--port", port, "server.port"),
    ):
        if value is not None and _passed(args, option):
            raise click.UsageError(f"give {name} or --{option}, not both")
    cmd = [sys.executable, "-m", "streamlit", "run", str(APP_PATH)]
    cmd += [f"--theme.{key}={value}" for key, value in THEME.items()]
    cmd += [f"--{key}={value}" for key, value in DASHBOARD_SERVER.items() if not _passed(args, key)]
    if not _passed(args, "server.address"):
        cmd.append(f"--server.address={address or DASHBOARD_ADDRESS}")
    if port is not None:
        cmd.append(f"--server.port={port}")
    if headless:
        cmd.append("--server.headless=true")
    cmd += args
    if os.name == "posix":  # become streamlit: Ctrl-C and SIGTERM reach it directly
        os.execv(sys.executable, cmd)
    try:
        code = subprocess.call(cmd, env=os.environ.copy())
    except KeyboardInterrupt:
        code = 130
    sys.exit(code)


def _bench_script() -> Path | None:
    """benches/bench_core.py of this checkout (editable install) or of the working directory."""
    here = Path(__file__).resolve().parents[2] / "benches" / "bench_core.py"
    for candidate in (here, Path.cwd() / "benches" / "bench_core.py"):
        if candidate.is_file():
            return candidate
    return None


@main.command(
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
    add_help_option=False,
)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def bench(args: tuple[str, ...]) -> None:
    """Run the benchmark (benches/bench_core.py); every argument is passed on to it.

    \b
    Examples:
      longdep bench --quick
      longdep bench --help        (the benchmark's own options)
    """
    script = _bench_script()
    if script is None:
        raise click.ClickException(
            "benches/bench_core.py not found: run `longdep bench` from a longdep checkout"
        )
    try:
        code = subprocess.call([sys.executable, str(script), *args], env=os.environ.copy())
    except KeyboardInterrupt:
        code = 130
    sys.exit(code)


@main.command()
@click.argument("config", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--out",
    "-o",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Results folder: <model>.parquet histories and summary.csv.",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress bar or progress lines.")
def train(config: Path, out: Path, quiet: bool) -> None:
    """Train several recurrent models on a long-range task and compare them.

    The config names a task (adding, copy, subject), its length, the models
    (vanilla, vanilla-orthogonal, irnn, lstm, lstm-chrono, gru, gru-chrono, lru),
    steps, batch, lr, clip and seed; optional pretrain_length/pretrain_steps add a
    pre-train-then-fine-tune run and a from-scratch run per model.

    \b
    Examples:
      longdep train examples/train-quick.toml --out results/quick
      longdep train examples/train-adding.toml --out results/train-adding
    """
    from .trainlab import TrainConfigError, load_train_config, run_train

    try:
        cfg = load_train_config(config)
    except TrainConfigError as exc:
        click.echo(str(exc), err=True)
        sys.exit(2)
    try:
        table = run_train(cfg, out, quiet=quiet)
    except KeyboardInterrupt:
        click.echo("interrupted: finished models are in the results folder", err=True)
        sys.exit(130)
    cols = ["model", "run", "final_loss", "baseline", "baseline_over_final", "diverged", "seconds"]
    click.echo(table[cols].to_string(index=False, float_format=lambda v: f"{v:.4g}"))


if __name__ == "__main__":
    main()
