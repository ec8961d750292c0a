"""`releasegate decide RUN_DIR`: the decision from a run's files alone."""

from __future__ import annotations

from pathlib import Path

import click

from releasegate.cli.common import fail
from releasegate.cli.verdict_output import finish
from releasegate.config import load_environment
from releasegate.ops.conclude import conclude, environment_of_run, missing_run


@click.command("decide")
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.option(
    "--env", "env_name", metavar="NAME", help="environment whose hooks and webhook to use"
)
@click.option("--execute-rollback", is_flag=True, help="run the rollback / on_hold hook")
@click.option("--notify", "send", is_flag=True, help="send the notification again")
def decide_command(run_dir: Path, env_name: str | None, execute_rollback: bool, send: bool) -> None:
    """Decide GO / ROLLBACK / HOLD from RUN_DIR (reports/<run-id> or reports/latest) alone,
    and write its decision.json."""
    problem = missing_run(run_dir)
    if problem is not None:
        fail(problem)
    env = load_environment(env_name) if env_name else environment_of_run(run_dir)
    finish(conclude(run_dir, env, execute_hooks=execute_rollback, send_notifications=send))
