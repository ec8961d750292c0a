"""`releasegate policy explain`: an environment's decision policy in plain words."""

from __future__ import annotations

import os
import sys

import click

from releasegate.config import load_environment, with_placeholders
from releasegate.evidence.decide import ExitCode
from releasegate.evidence.policy import explain, lint, lint_errors


@click.group("policy")
def policy_group() -> None:
    """The decision policy of an environment."""


@policy_group.command("explain")
@click.option("--env", "env_name", required=True, metavar="NAME")
def policy_explain(env_name: str) -> None:
    """Print the effective policy in plain words, and any contradictions in it. Unset
    variables get placeholders: the policy does not depend on secrets."""
    env = load_environment(env_name, environ=with_placeholders(os.environ))
    for line in explain(env):
        click.echo(line)
    for warning in lint(env):
        click.echo(f"warning: {warning}")
    errors = lint_errors(env)
    for error in errors:
        click.echo(f"error: {error}")
    if errors:
        sys.exit(ExitCode.USAGE)
