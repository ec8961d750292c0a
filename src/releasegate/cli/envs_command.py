"""`releasegate envs [check]`: the environment files, listed or validated."""

from __future__ import annotations

from pathlib import Path

import click

from releasegate.cli.common import fail, reports_dir_option
from releasegate.config import (
    check_all,
    environments_dir,
    known_environments,
    load_for_review,
)
from releasegate.errors import ConfigError
from releasegate.evidence.policy import lint, lint_errors
from releasegate.slo.sampling_plan import review


@click.group("envs", invoke_without_command=True)
@click.pass_context
def envs_group(ctx: click.Context) -> None:
    """List the environments (environments/*.toml)."""
    if ctx.invoked_subcommand is not None:
        return
    directory = environments_dir()
    names = known_environments(directory)
    if not names:
        fail(f"no environment files in {directory}")
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


@envs_group.command("check")
@reports_dir_option("where the newest run's samples are read from, for the SLO sampling plan")
def envs_check(reports_dir: Path) -> None:
    """Validate every environment file, and say what its SLO sampling can show; exit 3 if any
    is invalid."""
    directory = environments_dir()
    names = known_environments(directory)
    if not names:
        fail(f"no environment files in {directory}")
    bad = 0
    for name, problems in check_all(directory).items():
        warnings: list[str] = []
        planned: list[str] = []
        if not problems:
            env = load_for_review(name, directory)
            problems = lint_errors(env)
            planned, budget = review(env, reports_dir)
            warnings = lint(env) + budget
        if problems:
            bad += 1
            for problem in problems:
                click.echo(f"FAIL {name}: {problem}")
        else:
            click.echo(f"ok   {name}")
        for line in planned:
            click.echo(f"     slo sampling: {line}")
        for warning in warnings:
            click.echo(f"     warning: {warning}")
    if bad:
        fail(f"{bad} of {len(names)} environment files are invalid")
