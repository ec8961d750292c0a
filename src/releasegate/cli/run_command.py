"""`releasegate run --env E --stage S...`: one pytest run of the stages, decided and acted on."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import click

from releasegate.cli.common import fail, reports_dir_option, suites_option
from releasegate.cli.live import run_pytest
from releasegate.cli.verdict_output import finish
from releasegate.config import load_environment
from releasegate.evidence.policy import lint, lint_errors
from releasegate.evidence.runs import check_run_id, new_run_id, scrub_tree
from releasegate.ops.conclude import conclude
from releasegate.ops.pytest_argv import pytest_argv, stage_markers


@click.command("run")
@click.option("--env", "env_name", required=True, metavar="NAME", help="environments/NAME.toml")
@click.option(
    "--stage",
    "stages",
    multiple=True,
    required=True,
    metavar="STAGE",
    help="pre-deploy, smoke, post-deploy, slo or load (repeatable)",
)
@click.option("--base-url", metavar="URL", help="override the environment's base URL")
@click.option("--release-version", metavar="V", help="the version this deploy should run")
@click.option("-n", "workers", metavar="N", help="pytest-xdist workers (e.g. 2 or auto)")
@click.option("--run-id", metavar="ID", help="name the run (default: time, env, random)")
@reports_dir_option()
@suites_option
@click.option(
    "--execute-rollback",
    is_flag=True,
    help="on ROLLBACK run [rollback] command (else it is only shown)",
)
@click.option("--no-notify", is_flag=True, help="do not send the [notify] webhook")
@click.option(
    "--load-workers",
    type=click.IntRange(0, 64),
    default=None,
    help="Locust workers under a local master for the load stage (default: [load] workers)",
)
def run_command(
    env_name: str,
    stages: Sequence[str],
    base_url: str | None,
    release_version: str | None,
    workers: str | None,
    run_id: str | None,
    reports_dir: Path,
    suites: Path,
    execute_rollback: bool,
    no_notify: bool,
    load_workers: int | None,
) -> None:
    """Run the asked-for stages with pytest (one run), decide, act, and exit 0/1/2/3."""
    try:
        markers = stage_markers(stages)
    except ValueError as exc:
        fail(str(exc))
    env = load_environment(env_name)
    for warning in [*env.warnings, *lint(env)]:
        click.echo(f"warning: {warning}", err=True)
    for error in lint_errors(env):
        click.echo(f"error: {error} (the run goes on, and will not say GO)", err=True)
    if not suites.is_dir():
        fail(f"{suites}: no such folder of gate suites (run from your repository, or --suites)")
    run_id = run_id or new_run_id(env.name)
    try:
        check_run_id(run_id)
    except ValueError as exc:
        fail(f"--run-id: {exc}")
    reports = reports_dir.resolve()
    argv = pytest_argv(
        suites,
        markers,
        env_file=env.path,
        run_id=run_id,
        reports_dir=reports,
        base_url=base_url,
        release_version=release_version,
        workers=workers,
        load_workers=load_workers,
        reruns=env.model.policy.retries,
    )
    click.echo(f"releasegate run {run_id}: env={env.name} stages={', '.join(markers)}")
    try:
        run_pytest(argv, reports / run_id)
    except KeyboardInterrupt:
        click.echo("interrupted: deciding on the evidence so far", err=True)
    scrub_tree(reports / run_id, env.redactor)  # pytest's saved output is written after its own
    finish(
        conclude(
            reports / run_id, env, execute_hooks=execute_rollback, send_notifications=not no_notify
        )
    )
