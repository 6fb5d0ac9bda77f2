"""The command line: the only module that prints, exits and builds Settings.

Errors the user can fix become one line on stderr and exit 2; a missing host facility
exits 3; a failed check exits 1; Ctrl-C or SIGTERM tear everything down and exit 130.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

import click
from rich.console import Console

from harness import __version__
from harness.errors import HarnessError, UserError
from harness.settings import Settings

# Logs and CI capture output without a terminal: give tables room instead of 80 columns.
# No emoji codes: "file.yaml:100: field" would print as "file.yaml💯 field".
out = Console(highlight=False, emoji=False, width=None if sys.stdout.isatty() else 150)
err = Console(stderr=True, highlight=False, emoji=False, width=None if sys.stderr.isatty() else 200)

backend_option = click.option("--backend", default="local", show_default=True, help="where servers run")
xrootd_option = click.option("--xrootd", default=None, metavar="VERSION",
                              help="XRootD version of the servers: 5.5.3 or 5.8.1 (docker images; "
                                   "local runs the installed one)")
scale_option = click.option("--scale", default=None, metavar="ci|full|FACTOR",
                             help="data sizes: ci (seconds), full (as written; the default) or a factor")
results_option = click.option("--results", type=click.Path(path_type=Path), default=None,
                              help="results directory (default ./results, or HARNESS_RESULTS_DIR)")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="xcache-harness")
def cli() -> None:
    """Test harness for XCache/XRootD: real servers, real credentials, real numbers."""


@cli.command()
@click.argument("scenario", type=click.Path(path_type=Path))
@backend_option
@xrootd_option
@results_option
@scale_option
def run(scenario: Path, backend: str, xrootd: str | None, results: Path | None, scale: str | None) -> None:
    """Run SCENARIO (a YAML file) and write results/<run-id>/."""
    from harness.commands.run import run_scenario

    run_scenario(scenario, backend, make_settings(results), out, xrootd, scale)


@cli.command()
@backend_option
@xrootd_option
@results_option
def demo(backend: str, xrootd: str | None, results: Path | None) -> None:
    """Run the embedded default scenario (scenarios/smoke.yaml)."""
    from harness.commands.run import default_scenario, run_scenario

    run_scenario(default_scenario(), backend, make_settings(results), out, xrootd)


run_dir_argument = click.Path(exists=True, file_okay=False, path_type=Path)
warmup_options = [click.option("--warmup-ops", default=0, show_default=True,
                               help="leave out each repetition's first N ops"),
                  click.option("--warmup-s", default=0.0, show_default=True,
                               help="leave out ops starting in each repetition's first S seconds")]


def with_warmup(command: Callable[..., None]) -> Callable[..., None]:
    for option in reversed(warmup_options):
        command = option(command)
    return command


@cli.command()
@click.argument("run_dirs", metavar="RUN...", nargs=-1, required=True, type=run_dir_argument)
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="directory for report.html and summary.md (default: RUN; needed for several runs)")
@with_warmup
def report(run_dirs: tuple[Path, ...], out_dir: Path | None, warmup_ops: int, warmup_s: float) -> None:
    """Write RUN's report.html (plots) and summary.md, offline from its raw files.

    Several runs with identical settings are merged as repetitions (figures over all, spread between them)."""
    from harness.commands.report import warmup, write_report

    write_report(list(run_dirs), out_dir, warmup(warmup_ops, warmup_s), out)


@cli.command()
@click.argument("run_a", metavar="RUN_A", type=run_dir_argument)
@click.argument("run_b", metavar="RUN_B", type=run_dir_argument)
@with_warmup
def compare(run_a: Path, run_b: Path, warmup_ops: int, warmup_s: float) -> None:
    """Figures of RUN_A and RUN_B per phase with the change, and the settings that differ."""
    from harness.commands.report import compare as compare_runs
    from harness.commands.report import warmup

    compare_runs(run_a, run_b, warmup(warmup_ops, warmup_s), out)


@cli.command()
@click.argument("run_dir", metavar="RUN", type=run_dir_argument)
@click.option("--format", "fmt", type=click.Choice(["json", "openmetrics"]), default="json", show_default=True)
@click.option("--out", "out_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="file (default: stdout)")
@with_warmup
def export(run_dir: Path, fmt: str, out_file: Path | None, warmup_ops: int, warmup_s: float) -> None:
    """RUN's figures as JSON or OpenMetrics text."""
    from harness.commands.report import export as export_run
    from harness.commands.report import warmup

    export_run(run_dir, fmt, out_file, warmup(warmup_ops, warmup_s))


@cli.command()
def clean() -> None:
    """Stop servers left behind by harness runs that died, and remove their directories."""
    from harness.commands.clean import clean_docker, clean_local, clean_namespaces

    # Containers first: a dead run's containers may still hold its directories mounted.
    removed = list(clean_docker())
    for line in removed:
        out.print(line)
    if removed:
        out.print(f"{len(removed)} leftover Docker object(s) removed")
    for line in clean_namespaces(make_settings(None)):
        out.print(line)
    lines = list(clean_local(make_settings(None)))
    for line in lines:
        out.print(line)
    out.print(f"{len(lines)} leftover run(s) cleaned")


@cli.command("auth-check")
@click.argument("matrix", type=click.Path(path_type=Path), required=False)
@backend_option
@xrootd_option
@results_option
@click.option("--junit", type=click.Path(path_type=Path), default=None, help="also write JUnit XML here")
def auth_check(matrix: Path | None, backend: str, xrootd: str | None, results: Path | None,
               junit: Path | None) -> None:
    """Run an auth MATRIX (default scenarios/auth-matrix.yaml): every case allowed, denied or refused as expected."""
    from harness.commands.authcheck import default_matrix, run_auth_check

    run_auth_check(matrix or default_matrix(), backend, make_settings(results), out, junit, xrootd)


@cli.command()
@click.argument("file", type=click.Path(path_type=Path), required=False)
@click.option("--backend", default="docker", show_default=True, help="where servers run (faults need docker)")
@xrootd_option
@results_option
@click.option("--only", multiple=True, metavar="NAME", help="run only this case (repeatable)")
def faults(file: Path | None, backend: str, xrootd: str | None, results: Path | None, only: tuple[str, ...]) -> None:
    """Run fault cases (default scenarios/faults.yaml): each must end as its file declares."""
    from harness.commands.faults import default_faults, run_faults

    run_faults(file or default_faults(), backend, make_settings(results), out, xrootd, only)


@cli.group()
def images() -> None:
    """Container images, built here from Debian packages (no registry needed)."""


@images.command("build")
@click.option("--xrootd", "versions", multiple=True, type=click.Choice(["5.5.3", "5.8.1"]),
              help="XRootD version (repeatable; default both)")
@click.option("--force", is_flag=True, help="rebuild even when an image with the recipe's hash exists")
def images_build(versions: tuple[str, ...], force: bool) -> None:
    """Build the base and role images (origin, cache, client, linkemu); unchanged recipes are reused."""
    from harness.images import build_images

    for version in versions or ("5.5.3", "5.8.1"):
        tags = build_images(version, progress=lambda line: out.print(f"  {line}"), force=force)
        for role, tag in tags.items():
            out.print(f"{role:8} {tag}")


@cli.group()
def bench() -> None:
    """Benchmarks that print ratios against reference tools (measurements: exit 0 even when a target misses)."""


@bench.command("readers")
@click.option("--size", default="1GiB", show_default=True, help="size of the warm file read by every reader")
@click.option("--repeat", default=3, show_default=True, help="repetitions (median and spread are over them)")
@click.option("--streams", default=16, show_default=True, help="concurrent xroot streams for the aggregate")
@results_option
def bench_readers(size: str, repeat: int, streams: int, results: Path | None) -> None:
    """Harness readers beside xrdcp, curl and loopback TCP on one warm file in a local XCache."""
    from harness.commands.bench import bench_readers
    from harness.units import parse_size

    try:
        nbytes = parse_size(size)
    except ValueError as exc:
        raise UserError(f"--size: {exc}") from None
    bench_readers(nbytes, repeat, streams, make_settings(results), out)


@cli.command()
def doctor() -> None:
    """Report what this host can do: xrootd binaries, Docker engine and images, link shaping methods."""
    from harness.commands.doctor import findings

    for what, usable, detail in findings():
        mark = "[green]ok[/]     " if usable else "[yellow]missing[/]"
        out.print(f"{mark} {what}: {detail}")


def make_settings(results: Path | None) -> Settings:
    overrides = {"results_dir": results} if results is not None else {}
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValueError as exc:
        raise UserError(f"settings: {str(exc).splitlines()[0]}") from None


def main(argv: list[str] | None = None) -> NoReturn:
    """Entry point: maps every outcome to an exit code in one place."""
    # SIGTERM unwinds like Ctrl-C, so context managers stop every server they started.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    code = _run(argv)
    if argv is None:  # the console script, not a test calling in process
        # Everything the run started is stopped: a late Ctrl-C would only interrupt the XRootD
        # bindings' atexit finalizer and print its traceback.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    sys.exit(code)


def _run(argv: list[str] | None) -> int:
    try:
        cli.main(args=argv, prog_name="xcache-harness", standalone_mode=False)
    except click.exceptions.ClickException as exc:  # usage errors included
        err.print(f"error: {exc.format_message()}", markup=False)
        return 2
    except HarnessError as exc:
        err.print(f"error: {exc}", markup=False)
        return exc.exit_code
    except (KeyboardInterrupt, click.exceptions.Abort):
        err.print("interrupted: servers stopped, partial results kept", markup=False)
        return 130
    return 0
