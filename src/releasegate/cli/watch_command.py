"""`releasegate watch --env E -- DEPLOY_COMMAND...`: the deploy, probed for downtime."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from releasegate.cli.common import fail, reports_dir_option
from releasegate.config import Environment, load_environment
from releasegate.ops.deploy_watch import WatchedDeploy, deploy_command, watch_deploy
from releasegate.ops.watch import WatchPlan
from releasegate.outcome import Verdict
from releasegate.units import parse_duration


def say_watching(env: Environment, plan: WatchPlan, shown: str) -> None:
    redact = env.redactor.redact
    click.echo(
        f"watch: probing {redact(plan.base_url)} ({', '.join(plan.paths)})"
        f" at {plan.rate_per_s:g}/s while running: {redact(shown)}"
    )


def say_watched(env: Environment, watched: WatchedDeploy, label: str) -> None:
    """Where the timeline is, and the verdict on it: `verdict: GO: no downtime: ...`."""
    redact = env.redactor.redact
    click.echo(f"timeline: {watched.timeline_file} (command output: {watched.command_log})")
    message = watched.judged.message
    verdict = watched.verdict
    if verdict is Verdict.HOLD:
        click.echo(f"{label}: HOLD: {redact(message)}")
    elif verdict is Verdict.GO:
        click.echo(f"{label}: GO: no downtime: {message}")
    else:
        click.echo(f"{label}: ROLLBACK: downtime during the deploy: {redact(message)}")


@click.command("watch", context_settings={"ignore_unknown_options": True})
@click.option("--env", "env_name", required=True, metavar="NAME", help="environments/NAME.toml")
@click.option("--base-url", metavar="URL", help="override the environment's base URL")
@reports_dir_option()
@click.option("--rate", type=click.FloatRange(0, 100, min_open=True), help="probes per second")
@click.option("--max-duration", metavar="DURATION", help="stop the deploy command after this")
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
def watch_command(
    env_name: str,
    base_url: str | None,
    reports_dir: Path,
    rate: float | None,
    max_duration: str | None,
    command: tuple[str, ...],
) -> None:
    """Run the deploy COMMAND while probing the target at a fixed rate; write every probe into
    a timeline (reports/watches/<run>/timeline.json) that the post-deploy gate judges.

    Exit 0: no downtime seen; 1: downtime (failed probes or a gap over the limits); 2: no
    evidence (the command failed, ran too long, or was interrupted); 3: usage error.

    \b
    releasegate watch --env staging -- ./deploy.sh v1.4.2
    """
    env = load_environment(env_name)
    target = env.base_url(base_url)
    if target is None:
        fail(
            f"no target: pass --base-url or set [target] base_url in {env.path}"
            " (the bundled service: start it with `releasegate target serve`)"
        )
    try:
        limit = parse_duration(max_duration) if max_duration else None
    except ValueError as exc:
        fail(f"--max-duration: {exc}")
    argv = deploy_command(command)
    watched = watch_deploy(
        env,
        target,
        argv,
        reports_dir,
        rate=rate,
        max_duration_s=limit,
        announce=lambda plan, shown: say_watching(env, plan, shown),
    )
    say_watched(env, watched, "verdict")
    sys.exit(int(watched.verdict))
