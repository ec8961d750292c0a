"""The `releasegate` command: the click group of every command (one module each under cli/)
and the entry point. Exit codes: 0 GO, 1 ROLLBACK, 2 HOLD, 3 usage or configuration error."""

from __future__ import annotations

import sys
from collections.abc import Sequence

import click

from releasegate import __version__
from releasegate.cli.baseline_command import baseline_command
from releasegate.cli.common import fail
from releasegate.cli.decide_command import decide_command
from releasegate.cli.demo_command import demo_command
from releasegate.cli.envs_command import envs_group
from releasegate.cli.init_command import init_command
from releasegate.cli.load_command import load_group
from releasegate.cli.monitor_command import monitor_command
from releasegate.cli.policy_command import policy_group
from releasegate.cli.report_command import report_group
from releasegate.cli.rollout_command import rollout_group
from releasegate.cli.run_command import run_command
from releasegate.cli.target_command import target_group
from releasegate.cli.watch_command import watch_command
from releasegate.errors import UsageError
from releasegate.evidence.decide import ExitCode


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="releasegate")
def cli() -> None:
    """Deployment gates as pytest suites: evidence in, GO / ROLLBACK / HOLD out."""


for command in (
    decide_command,
    run_command,
    report_group,
    policy_group,
    load_group,
    baseline_command,
    watch_command,
    envs_group,
    init_command,
    target_group,
    monitor_command,
    rollout_group,
    demo_command,
):
    cli.add_command(command)


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
        fail(exc.format_message())
    except UsageError as exc:  # not ReleasegateError: missing evidence is no usage error
        fail(str(exc))
    sys.exit(0)
