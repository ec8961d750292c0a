"""`releasegate policy explain`: an environment's decision policy in plain words."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from releasegate.cli.common import reports_dir_option
from releasegate.config import load_environment, with_placeholders
from releasegate.evidence.decide import ExitCode
from releasegate.evidence.policy import explain, lint, lint_errors
from releasegate.slo.sampling_plan import review


@click.group("policy")
def policy_group() -> None:
    """The decision policy of an environment."""


@policy_group.command("explain")
@click.option("--env", "env_name", required=True, metavar="NAME")
@reports_dir_option("where the newest run's samples are read from, for the SLO sampling plan")
def policy_explain(env_name: str, reports_dir: Path) -> None:
    """Print the effective policy in plain words, and any contradictions in it. Unset
    variables get placeholders: the policy does not depend on secrets."""
    env = load_environment(env_name, environ=with_placeholders(os.environ))
    for line in explain(env):
        click.echo(line)
    planned, budget = review(env, reports_dir)
    if planned:
        click.echo("- SLO sampling stops once every objective is decided; samples it needs:")
    for line in planned:
        click.echo(f"  - {line}")
    for warning in lint(env) + budget:
        click.echo(f"warning: {warning}")
    errors = lint_errors(env)
    for error in errors:
        click.echo(f"error: {error}")
    if errors:
        sys.exit(ExitCode.USAGE)
