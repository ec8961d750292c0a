"""The `releasegate` command. It parses arguments, calls the core, prints, and exits with the
documented codes: 0 GO, 1 ROLLBACK, 2 HOLD, 3 usage or configuration error. No logic lives here."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

import click

from releasegate import __version__
from releasegate.config import (
    check_all,
    environments_dir,
    known_environments,
    load_environment,
    load_for_review,
)
from releasegate.decide import Decision, ExitCode, decide, decide_missing
from releasegate.errors import ConfigError, ReleasegateError
from releasegate.evidence import STAGES, EvidenceError, Results, read_results
from releasegate.runs import LATEST, new_run_id, resolve_run_dir


def _fail(message: str, code: int = ExitCode.USAGE) -> NoReturn:
    click.echo(f"releasegate: error: {message}", err=True)
    sys.exit(code)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="releasegate")
def cli() -> None:
    """Deployment gates as pytest suites: evidence in, GO / ROLLBACK / HOLD out."""


# --- decide ----------------------------------------------------------------------------------


def print_decision(decision: Decision, results: Results | None) -> None:
    if results is not None:
        run = results.run
        click.echo(
            f"run {run.id}: env={run.environment} target={run.target_url}"
            f" stages={','.join(run.stages_requested) or '-'} status={run.status}"
        )
    for reason in decision.reasons:
        click.echo(f"  {reason.line()}")
    for warning in decision.warnings:
        click.echo(f"  warning: {warning.line()}")
    click.echo(f"verdict: {decision.summary()}")


def decide_run_dir(run_dir: Path) -> tuple[Decision, Results | None]:
    try:
        results = read_results(resolve_run_dir(run_dir))
    except EvidenceError as exc:
        return decide_missing(exc), None
    return decide(results), results


@cli.command("decide")
@click.argument("run_dir", type=click.Path(path_type=Path))
def decide_command(run_dir: Path) -> None:
    """Decide GO / ROLLBACK / HOLD from RUN_DIR (reports/<run-id> or reports/latest)."""
    if not run_dir.exists():
        runs = sorted(p.name for p in run_dir.parent.glob("*") if p.is_dir() and p.name != LATEST)
        known = f"; runs there: {', '.join(runs[-5:])}" if runs else ""
        _fail(f"{run_dir}: no such run directory{known}")
    decision, results = decide_run_dir(run_dir)
    print_decision(decision, results)
    sys.exit(int(decision.verdict))


# --- envs ------------------------------------------------------------------------------------


@cli.group("envs", invoke_without_command=True)
@click.pass_context
def envs(ctx: click.Context) -> None:
    """List the environments (environments/*.toml)."""
    if ctx.invoked_subcommand is not None:
        return
    directory = environments_dir()
    names = known_environments(directory)
    if not names:
        _fail(f"no environment files in {directory}")
    for name in names:
        try:
            env = load_for_review(name, directory)
        except ConfigError as exc:
            click.echo(f"{name:24} INVALID: {exc}")
            continue
        target = env.model.target.base_url or (
            "reference service (started on demand)" if env.model.reference.start else "-"
        )
        mode = "read-only" if env.read_only else "writable"
        click.echo(f"{name:24} {env.redactor.redact(target)}  [{mode}]  {env.model.description}")


@envs.command("check")
def envs_check() -> None:
    """Validate every environment file; exit 3 if any is invalid."""
    directory = environments_dir()
    names = known_environments(directory)
    if not names:
        _fail(f"no environment files in {directory}")
    bad = 0
    for name, problems in check_all(directory).items():
        if problems:
            bad += 1
            for problem in problems:
                click.echo(f"FAIL {name}: {problem}")
        else:
            click.echo(f"ok   {name}")
    if bad:
        _fail(f"{bad} of {len(names)} environment files are invalid")


# --- target ----------------------------------------------------------------------------------


@cli.group("target")
def target() -> None:
    """The bundled reference service (a real web app with switchable faults)."""


def _add_target_commands() -> None:
    from releasegate.target.command import serve_command

    target.add_command(serve_command, "serve")


_add_target_commands()


# --- demo ------------------------------------------------------------------------------------


def _project_root() -> Path:
    for candidate in (Path.cwd(), *Path.cwd().parents):
        if (candidate / "suites").is_dir() and (
            candidate / "environments" / "local.toml"
        ).is_file():
            return candidate
    _fail(
        "releasegate demo runs from a releasegate checkout (a folder with suites/ and"
        " environments/local.toml); cd into one"
    )


def existing_stages(root: Path) -> list[str]:
    """Stages that have a suite folder with tests in it."""
    return [s for s in STAGES if any((root / "suites" / s).glob("test_*.py"))]


@cli.command("demo")
@click.option(
    "--fault",
    "faults",
    multiple=True,
    metavar="NAME[=VALUE]",
    help="switch a fault on in the reference service (repeatable), e.g. latency=300ms",
)
@click.option("-n", "workers", default=None, help="pytest-xdist workers (e.g. 2 or auto)")
@click.option(
    "--reports-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="where the run is written (default: reports/ in the checkout)",
)
def demo(faults: Sequence[str], workers: str | None, reports_dir: Path | None) -> None:
    """Start the reference service, run every gate against it, and decide."""
    from releasegate.target.faults import FaultError, parse_faults
    from releasegate.target.process import ReferenceServiceError, ReferenceServiceProcess

    root = _project_root()
    try:
        parse_faults(faults)
        env = load_environment("local", root / "environments")
    except (FaultError, ConfigError) as exc:
        _fail(str(exc))
    stages = existing_stages(root)
    run_id = new_run_id("local")
    reports = (reports_dir or root / "reports").resolve()
    ref = env.model.reference
    click.echo(
        f"releasegate demo: stages {', '.join(stages)}; faults: {', '.join(faults) or 'none'}"
    )
    try:
        with ReferenceServiceProcess(
            host=ref.host,
            faults=list(faults),
            api_token=ref.api_token,
            database_url=ref.database_url,
            service_version=ref.service_version,
        ) as service:
            click.echo(f"reference service listening on {service.base_url}")
            stage_expr = " or ".join(stages)
            argv = [sys.executable, "-m", "pytest", "suites", "-m", stage_expr, "--env", "local"]
            argv += ["--base-url", service.base_url, "--run-id", run_id]
            argv += [f"--reports-dir={reports}", "-p", "no:cacheprovider"]
            if workers:
                argv += ["-n", workers]
            subprocess.run(argv, cwd=root, check=False)
    except ReferenceServiceError as exc:
        _fail(f"cannot start the reference service: {exc}")
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
    run_dir = reports / run_id
    decision, results = decide_run_dir(run_dir)
    click.echo("")
    click.echo(f"reports: {run_dir}  (report.html, junit.xml, allure-results/, results.json)")
    print_decision(decision, results)
    sys.exit(int(decision.verdict))


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point: every usage or configuration error is one line and exit code 3."""
    try:
        cli.main(args=argv, prog_name="releasegate", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("releasegate: interrupted", err=True)
        sys.exit(ExitCode.HOLD)
    except click.ClickException as exc:
        _fail(exc.format_message())
    except ReleasegateError as exc:
        _fail(str(exc))
    sys.exit(0)
