"""`releasegate rollout`: start, resume, abort and show phased rollouts. Parsing and printing
only; the engine is `releasegate.ops.rollout.engine`, the steps `releasegate.ops.rollout.steps`,
finding, opening again and locking a rollout `releasegate.ops.rollout.operate`.

Exit codes: 0 the rollout completed (every stage promoted); 1 it was rolled back or aborted (or
its rollback command failed); 2 it is held or was interrupted, its rollback included (resume or
abort it); 3 usage or configuration error.
"""

from __future__ import annotations

import contextlib
import functools
import signal
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType
from typing import Any, NoReturn

import click

from releasegate.cli.common import fail, reports_dir_option, suites_option
from releasegate.config import Environment, load_environment
from releasegate.errors import RolloutBusy, RolloutError
from releasegate.evidence.decide import ExitCode
from releasegate.ops.rollout.engine import (
    STATE_FILE,
    STATUS_VERDICT,
    Event,
    Rollout,
    RolloutState,
    RolloutStatus,
    state_saver,
    summary_json,
)
from releasegate.ops.rollout.operate import (
    LOCK_FILE,
    RolloutRef,
    find_rollout,
    fresh,
    locked,
    new_rollout,
    notify_outcome,
    reopen,
    rollout_target,
    start_rollout,
)
from releasegate.ops.rollout.plan import load_plan
from releasegate.ops.rollout.steps import RolloutContext, dry_run_lines, real_actions

reports_option = reports_dir_option("where runs and rollouts are written")
env_option = click.option(
    "--env", "env_name", metavar="NAME", help="environments/NAME.toml (or a path to one)"
)
id_option = click.option("--id", "rollout_id", metavar="ID", help="the rollout (default: newest)")
base_url_option = click.option(
    "--base-url", metavar="URL", help="override the environment's base URL"
)
release_option = click.option("--release-version", metavar="V", help="the version rolled out")
plan_option = click.option(
    "--plan",
    "plan_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="the rollout plan (TOML)",
)


@click.group("rollout", invoke_without_command=True)
@env_option
@plan_option
@base_url_option
@release_option
@reports_option
@suites_option
@click.option("--dry-run", is_flag=True, help="print every command it would run, and stop")
@click.pass_context
def rollout_group(
    ctx: click.Context,
    env_name: str | None,
    plan_path: Path | None,
    base_url: str | None,
    release_version: str | None,
    reports_dir: Path,
    suites: Path,
    dry_run: bool,
) -> None:
    """Roll out in stages (traffic command, soak, gates), promoting on GO, rolling back on
    ROLLBACK and stopping on HOLD; `resume`, `abort` and `status` act on a rollout.

    \b
    releasegate rollout --env prod --plan rollout.toml --release-version v1.4.2
    releasegate rollout status --env prod
    """
    if ctx.invoked_subcommand is not None:
        return
    if not env_name or plan_path is None:
        fail("releasegate rollout needs --env and --plan (or a subcommand: resume, abort, status)")
    env = load_environment(env_name)
    plan = load_plan(plan_path)
    target = rollout_target(env, base_url)
    if not suites.is_dir():
        fail(f"{suites}: no such folder of gate suites (run from your repository, or --suites)")
    context = new_rollout(
        env,
        plan,
        target=target,
        release_version=release_version,
        reports_dir=reports_dir,
        suites=suites,
    )
    rollout_id = context.state.id
    if dry_run:
        for line in dry_run_lines(context):
            click.echo(env.redactor.redact(line))
        click.echo("dry run: nothing was run")
        return
    with _busy_is_hold():
        start_rollout(context, warn=_warn)
    click.echo(
        f"rollout {rollout_id}: {len(plan.stages)} stages"
        f" ({', '.join(s.name for s in plan.stages)}) against {env.redactor.redact(target)}"
    )
    _drive(context)


def _drive(context: RolloutContext, *, retry_traffic: bool = False) -> NoReturn:
    with _busy_is_hold(), locked(context.folder / LOCK_FILE, f"rollout {context.state.id}"):
        context = fresh(context)
        save = state_saver(context.folder / STATE_FILE, context.env.redactor)
        engine = Rollout(
            context.state, context.plan, real_actions(context), save, _say(context.env)
        )
        try:
            with _sigterm_as_interrupt():
                status = engine.run(retry_traffic=retry_traffic)
        except KeyboardInterrupt:
            status = engine.state.status
        except RolloutError as exc:
            fail(f"rollout {context.state.id}: {exc}")
        except Exception as exc:  # recorded in the state by the engine; one line here
            fail(
                f"rollout {context.state.id} stopped by an error ({type(exc).__name__}: {exc});"
                " its state is saved: fix the cause, then `releasegate rollout resume`",
                ExitCode.HOLD,
            )
    _finish(context, engine.state, status)


@contextlib.contextmanager
def _busy_is_hold() -> Iterator[None]:
    """Another process runs it: HOLD (exit 2), not a usage error."""
    try:
        yield
    except RolloutBusy as exc:
        fail(str(exc), ExitCode.HOLD)


def _finish(context: RolloutContext, state: RolloutState, status: RolloutStatus) -> NoReturn:
    _print_status(state, context.folder)
    _notify(context.env, state)
    if status in ("held", "interrupted", "rolling_back"):
        click.echo(
            f"next: `releasegate rollout resume --id {state.id}` goes on,"
            f" `releasegate rollout abort --id {state.id}` rolls back"
        )
    sys.exit(int(STATUS_VERDICT[status]))


def _say(env: Environment) -> Callable[[Event], None]:
    def say(event: Event) -> None:
        when = event.at[11:19]
        where = f" [{event.stage}]" if event.stage else ""
        click.echo(env.redactor.redact(f"{when}{where} {event.message}"))

    return say


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """A CI job cancelled sends SIGTERM: stop like Ctrl-C, with the state saved."""

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _print_status(state: RolloutState, folder: Path) -> None:
    click.echo(
        f"rollout {state.id}: plan {state.plan} on {state.environment}"
        f" release {state.release_version or '-'}: {state.status.upper()}"
    )
    for number, stage in enumerate(state.stages, start=1):
        share = f"{stage.percent:g} %" if stage.percent is not None else "-"
        marker = ">" if number - 1 == state.current and not state.finished else " "
        verdict = stage.verdict.name if stage.verdict is not None else "-"
        click.echo(
            f" {marker}{number} {stage.name:16} {share:>7}  {stage.status:11} {verdict:8}"
            f" {stage.reason[:100]}"
        )
    if state.rollback is not None:
        outcome = "ok" if state.rollback.ok else f"FAILED: {state.rollback.failure()}"
        click.echo(f"  rollback: {state.rollback.command}: {outcome}")
    if state.reason:
        click.echo(f"  reason: {state.reason}")
    click.echo(f"  state: {folder / STATE_FILE}")


def _notify(env: Environment, state: RolloutState) -> None:
    sent = notify_outcome(env, state)
    if sent is not None and not sent.delivered:
        click.echo(f"notification to {sent.url} FAILED: {sent.error}", err=True)


# --- acting on an existing rollout -----------------------------------------------------------


def existing_rollout_options(command: Callable[..., None]) -> Callable[..., None]:
    """The options that name an existing rollout and give its files and values again, passed
    to the command as one `RolloutRef`."""

    @functools.wraps(command)
    def with_ref(
        env_name: str | None,
        rollout_id: str | None,
        reports_dir: Path,
        plan_path: Path | None,
        base_url: str | None,
        release_version: str | None,
        **rest: Any,
    ) -> None:
        ref = RolloutRef(env_name, rollout_id, reports_dir, plan_path, base_url, release_version)
        command(ref, **rest)

    for option in reversed(
        (env_option, id_option, reports_option, plan_option, base_url_option, release_option)
    ):
        with_ref = option(with_ref)
    return with_ref


def _warn(line: str) -> None:
    click.echo(f"warning: {line}", err=True)


@rollout_group.command("resume")
@existing_rollout_options
@click.option(
    "--retry-traffic",
    is_flag=True,
    help="run the current stage's traffic command again (after it failed or was cut off)",
)
def resume_command(ref: RolloutRef, retry_traffic: bool) -> None:
    """Go on with a held or interrupted rollout from where it stopped: gates run again, a
    promoted stage is never re-run, a traffic command only with --retry-traffic."""
    context = reopen(ref, to_roll_back=False, warn=_warn)
    state = context.state
    click.echo(f"rollout {state.id}: resuming ({state.status})")
    _drive(context, retry_traffic=retry_traffic)


@rollout_group.command("abort")
@existing_rollout_options
@click.option("--no-rollback", is_flag=True, help="stop without running the rollback command")
def abort_command(ref: RolloutRef, no_rollback: bool) -> None:
    """Stop an unfinished rollout for good, running the plan's rollback command."""
    context = reopen(ref, to_roll_back=True, warn=_warn)
    folder, state = context.folder, context.state
    with _busy_is_hold(), locked(folder / LOCK_FILE, f"rollout {state.id}"):
        context = fresh(context)
        save = state_saver(folder / STATE_FILE, context.env.redactor)
        engine = Rollout(
            context.state, context.plan, real_actions(context), save, _say(context.env)
        )
        try:
            with _sigterm_as_interrupt():
                status = engine.abort(roll_back=not no_rollback)
        except KeyboardInterrupt:
            status = engine.state.status
    _finish(context, engine.state, status)


@rollout_group.command("status")
@env_option
@id_option
@reports_option
@click.option("--json", "as_json", is_flag=True, help="one JSON object, for scripts")
def status_command(
    env_name: str | None, rollout_id: str | None, reports_dir: Path, as_json: bool
) -> None:
    """Show a rollout's stages and where it stands; exit with its code (0/1/2)."""
    folder, state = find_rollout(env_name, rollout_id, reports_dir, unfinished=False)
    if as_json:
        click.echo(summary_json(state))
    else:
        _print_status(state, folder)
        for event in state.events[-10:]:
            where = f" [{event.stage}]" if event.stage else ""
            click.echo(f"  {event.at}{where} {event.message}")
    sys.exit(int(STATUS_VERDICT[state.status]))
