"""`releasegate rollout`: start, resume, abort and show phased rollouts. Parsing and printing
only; the engine is `releasegate.rollout`, the steps `releasegate.rollout_actions`.

Exit codes: 0 the rollout completed (every stage promoted); 1 it was rolled back or aborted (or
its rollback command failed); 2 it is held or was interrupted (resume or abort it); 3 usage or
configuration error.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType
from typing import NoReturn

import click

from releasegate.actions import notify
from releasegate.cli_common import fail as _fail
from releasegate.cli_common import reports_dir_option, suites_option
from releasegate.config import Environment, load_environment
from releasegate.decide import ExitCode
from releasegate.errors import ConfigError
from releasegate.rollout import (
    ROLLOUTS_DIR,
    STATE_FILE,
    Event,
    Rollout,
    RolloutState,
    RolloutStatus,
    find_rollouts,
    new_state,
    state_saver,
    summary_json,
)
from releasegate.rollout_actions import RolloutContext, dry_run_lines, real_actions
from releasegate.rollout_plan import RolloutPlan, load_plan
from releasegate.runs import new_run_id

EXIT_CODES: dict[RolloutStatus, ExitCode] = {
    "completed": ExitCode.GO,
    "rolled_back": ExitCode.ROLLBACK,
    "rollback_failed": ExitCode.ROLLBACK,
    "aborted": ExitCode.ROLLBACK,
    "rolling_back": ExitCode.ROLLBACK,
    "held": ExitCode.HOLD,
    "interrupted": ExitCode.HOLD,
    "running": ExitCode.HOLD,
}
LOCK_FILE = "lock"


reports_option = reports_dir_option("where runs and rollouts are written")
env_option = click.option(
    "--env", "env_name", metavar="NAME", help="environments/NAME.toml (or a path to one)"
)
id_option = click.option("--id", "rollout_id", metavar="ID", help="the rollout (default: newest)")


@click.group("rollout", invoke_without_command=True)
@env_option
@click.option(
    "--plan",
    "plan_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="the rollout plan (TOML)",
)
@click.option("--base-url", metavar="URL", help="override the environment's base URL")
@click.option("--release-version", metavar="V", help="the version being rolled out")
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
        _fail("releasegate rollout needs --env and --plan (or a subcommand: resume, abort, status)")
    env = load_environment(env_name)
    plan = load_plan(plan_path)
    target = env.base_url(base_url)
    if target is None:
        _fail(f"no target: pass --base-url or set [target] base_url in {env.path}")
    if not suites.is_dir():
        _fail(f"{suites}: no such folder of gate suites (run from your repository, or --suites)")
    rollout_id = f"{new_run_id(env.name)}-{plan.name}"
    state = new_state(
        rollout_id,
        plan,
        environment=env.name,
        env_file=env.path,
        base_url=target,
        release_version=release_version,
        suites=suites,
    )
    folder = reports_dir / ROLLOUTS_DIR / rollout_id
    context = RolloutContext(env, plan, state, folder, reports_dir)
    if dry_run:
        for line in dry_run_lines(context):
            click.echo(env.redactor.redact(line))
        click.echo("dry run: nothing was run")
        return
    for path, other in find_rollouts(reports_dir):
        if other.environment == env.name and other.plan == plan.name and not other.finished:
            _fail(
                f"rollout {other.id} of plan {plan.name} on {env.name} is {other.status}"
                f" ({path / STATE_FILE}): `releasegate rollout resume --env {env.name}` or"
                f" `releasegate rollout abort --env {env.name}` it first"
            )
    click.echo(
        f"rollout {rollout_id}: {len(plan.stages)} stages"
        f" ({', '.join(s.name for s in plan.stages)}) against {env.redactor.redact(target)}"
    )
    _drive(context, start=True)


def _drive(
    context: RolloutContext, *, start: bool = False, retry_traffic: bool = False
) -> NoReturn:
    with _locked(context.folder, context.state.id):
        save = state_saver(context.folder / STATE_FILE, context.env.redactor)
        if start:
            save(context.state)
        engine = Rollout(
            context.state,
            context.plan,
            real_actions(context),
            save,
            say=_say(context.env),
        )
        try:
            with _sigterm_as_interrupt():
                status = engine.run(retry_traffic=retry_traffic)
        except KeyboardInterrupt:
            status = engine.state.status
    _finish(context, engine.state, status)


def _finish(context: RolloutContext, state: RolloutState, status: RolloutStatus) -> NoReturn:
    _print_status(state, context.folder)
    _notify(context.env, state)
    if status in ("held", "interrupted"):
        click.echo(
            f"next: `releasegate rollout resume --env {state.environment}` goes on,"
            f" `releasegate rollout abort --env {state.environment}` rolls back"
        )
    sys.exit(int(EXIT_CODES[status]))


def _say(env: Environment) -> Callable[[Event], None]:
    def say(event: Event) -> None:
        when = event.at[11:19]
        where = f" [{event.stage}]" if event.stage else ""
        click.echo(env.redactor.redact(f"{when}{where} {event.message}"))

    return say


@contextlib.contextmanager
def _locked(folder: Path, rollout_id: str) -> Iterator[None]:
    """One process per rollout: a second `resume` while one runs is refused, not interleaved.
    flock is released by the kernel when the holder dies, so a lost process never blocks."""
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / LOCK_FILE).open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            _fail(f"rollout {rollout_id} is being run right now by pid {holder}", ExitCode.HOLD)
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


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
        verdict = stage.verdict or "-"
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
    """The rollout's outcome to the environment's webhook (the gates' own runs do not send)."""
    config = env.model.notify
    if config.webhook_url is None or state.status in ("running", "rolling_back"):
        return
    text = f"releasegate rollout {state.plan} on {state.environment}: {state.status.upper()}"
    if state.reason:
        text += f": {state.reason}"
    payload: dict[str, object] = (
        {"text": text}
        if config.format == "slack"
        else {
            "event": "rollout",
            "rollout_id": state.id,
            "environment": state.environment,
            "plan": state.plan,
            "status": state.status,
            "release_version": state.release_version,
            "stages": {s.name: s.status for s in state.stages},
            "reason": state.reason,
        }
    )
    sent = notify(config, payload, env.redactor)
    if sent is not None and not sent.delivered:
        click.echo(f"notification to {sent.url} FAILED: {sent.error}", err=True)


# --- acting on an existing rollout -----------------------------------------------------------


def _existing(
    env_name: str | None, rollout_id: str | None, reports_dir: Path, *, unfinished: bool
) -> tuple[Path, RolloutState]:
    found = find_rollouts(reports_dir)
    if not found:
        _fail(f"no rollouts under {reports_dir / ROLLOUTS_DIR}")
    if rollout_id is not None:
        for path, state in found:
            if state.id == rollout_id:
                return path, state
        _fail(f"no rollout {rollout_id!r}; newest: {', '.join(s.id for _, s in found[:5])}")
    if env_name is None:
        _fail("name the rollout: --env NAME (its newest rollout) or --id ID")
    env_name = Path(env_name).stem if env_name.endswith(".toml") else env_name
    mine = [(p, s) for p, s in found if s.environment == env_name]
    if unfinished:
        mine = [(p, s) for p, s in mine if not s.finished]
    if not mine:
        what = "unfinished rollout" if unfinished else "rollout"
        _fail(f"no {what} of environment {env_name!r} under {reports_dir / ROLLOUTS_DIR}")
    return mine[0]


def _context(folder: Path, state: RolloutState, reports_dir: Path) -> RolloutContext:
    env = load_environment(state.env_file)
    plan: RolloutPlan = load_plan(Path(state.plan_file))
    if plan.digest != state.plan_digest:
        raise ConfigError(
            [
                f"{state.plan_file}: the plan changed since rollout {state.id} started; a rollout"
                " follows the plan it started with: restore the file, or abort this rollout and"
                " start a new one"
            ]
        )
    return RolloutContext(env, plan, state, folder, reports_dir)


@rollout_group.command("resume")
@env_option
@id_option
@reports_option
@click.option(
    "--retry-traffic",
    is_flag=True,
    help="run the current stage's traffic command again (after it failed or was cut off)",
)
def resume_command(
    env_name: str | None, rollout_id: str | None, reports_dir: Path, retry_traffic: bool
) -> None:
    """Go on with a held or interrupted rollout from where it stopped: gates run again, a
    promoted stage is never re-run, a traffic command only with --retry-traffic."""
    folder, state = _existing(env_name, rollout_id, reports_dir, unfinished=True)
    context = _context(folder, state, reports_dir)
    click.echo(f"rollout {state.id}: resuming ({state.status})")
    _drive(context, retry_traffic=retry_traffic)


@rollout_group.command("abort")
@env_option
@id_option
@reports_option
@click.option("--no-rollback", is_flag=True, help="stop without running the rollback command")
def abort_command(
    env_name: str | None, rollout_id: str | None, reports_dir: Path, no_rollback: bool
) -> None:
    """Stop an unfinished rollout for good, running the plan's rollback command."""
    folder, state = _existing(env_name, rollout_id, reports_dir, unfinished=True)
    context = _context(folder, state, reports_dir)
    with _locked(folder, state.id):
        save = state_saver(folder / STATE_FILE, context.env.redactor)
        engine = Rollout(state, context.plan, real_actions(context), save, _say(context.env))
        status = engine.abort(roll_back=not no_rollback)
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
    folder, state = _existing(env_name, rollout_id, reports_dir, unfinished=False)
    if as_json:
        click.echo(summary_json(state))
    else:
        _print_status(state, folder)
        for event in state.events[-10:]:
            where = f" [{event.stage}]" if event.stage else ""
            click.echo(f"  {event.at}{where} {event.message}")
    sys.exit(int(EXIT_CODES[state.status]))
