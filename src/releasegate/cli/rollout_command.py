"""`releasegate rollout`: start, resume, abort and show phased rollouts. Parsing and printing
only; the engine is `releasegate.ops.rollout.engine`, the steps `releasegate.ops.rollout.steps`.

Exit codes: 0 the rollout completed (every stage promoted); 1 it was rolled back or aborted (or
its rollback command failed); 2 it is held or was interrupted, its rollback included (resume or
abort it); 3 usage or configuration error.
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

from releasegate.cli.common import fail as _fail
from releasegate.cli.common import reports_dir_option, suites_option
from releasegate.config import Environment, load_environment
from releasegate.errors import ConfigError, RolloutError, StateUnreadable
from releasegate.evidence.decide import ExitCode
from releasegate.evidence.runs import new_run_id
from releasegate.ops.rollout.engine import (
    ROLLOUTS_DIR,
    STATE_FILE,
    STATUS_VERDICT,
    Event,
    Rollout,
    RolloutState,
    RolloutStatus,
    digest,
    find_rollouts,
    new_state,
    read_state,
    state_saver,
    summary_json,
)
from releasegate.ops.rollout.plan import RolloutPlan, load_plan
from releasegate.ops.rollout.steps import RolloutContext, dry_run_lines, real_actions
from releasegate.ops.verdict_actions import notify
from releasegate.redact import MASK

EXIT_CODES: dict[RolloutStatus, ExitCode] = {
    "completed": ExitCode.GO,
    "rolled_back": ExitCode.ROLLBACK,
    "rollback_failed": ExitCode.ROLLBACK,
    "aborted": ExitCode.ROLLBACK,
    "rolling_back": ExitCode.HOLD,  # cut off while rolling back: traffic may not be restored
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


def _target(env: Environment, base_url: str | None) -> str:
    try:
        target = env.base_url(base_url)
    except ValueError as exc:
        _fail(f"--base-url {exc}")
    if target is None:
        _fail(f"no target: pass --base-url or set [target] base_url in {env.path}")
    return target


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
        _fail("releasegate rollout needs --env and --plan (or a subcommand: resume, abort, status)")
    env = load_environment(env_name)
    plan = load_plan(plan_path)
    target = _target(env, base_url)
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
    context = RolloutContext(env, plan, state, folder, reports_dir, target, release_version)
    if dry_run:
        for line in dry_run_lines(context):
            click.echo(env.redactor.redact(line))
        click.echo("dry run: nothing was run")
        return
    # one start at a time per environment and plan, so two cannot both find none unfinished
    start_lock = reports_dir / ROLLOUTS_DIR / f".start-{env.name}-{plan.name}"
    with _locked(start_lock, f"a start of plan {plan.name} on {env.name}"):
        unreadable: list[Path] = []
        for path, other in find_rollouts(reports_dir, unreadable):
            if other.environment == env.name and other.plan == plan.name and not other.finished:
                _fail(
                    f"rollout {other.id} of plan {plan.name} on {env.name} is {other.status}"
                    f" ({path / STATE_FILE}): `releasegate rollout resume --id {other.id}` or"
                    f" `releasegate rollout abort --id {other.id}` it first"
                )
        for path in unreadable:
            click.echo(f"warning: {path}: unreadable rollout state, not considered", err=True)
        state_saver(folder / STATE_FILE, env.redactor)(state)
    click.echo(
        f"rollout {rollout_id}: {len(plan.stages)} stages"
        f" ({', '.join(s.name for s in plan.stages)}) against {env.redactor.redact(target)}"
    )
    _drive(context)


def _drive(context: RolloutContext, *, retry_traffic: bool = False) -> NoReturn:
    with _locked(context.folder / LOCK_FILE, f"rollout {context.state.id}"):
        context = _fresh(context)
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
            _fail(f"rollout {context.state.id}: {exc}")
        except Exception as exc:  # recorded in the state by the engine; one line here
            _fail(
                f"rollout {context.state.id} stopped by an error ({type(exc).__name__}: {exc});"
                " its state is saved: fix the cause, then `releasegate rollout resume`",
                ExitCode.HOLD,
            )
    _finish(context, engine.state, status)


def _fresh(context: RolloutContext) -> RolloutContext:
    """The state as it is on disk now that the lock is ours: another process may have moved it
    on between our first read and the lock."""
    try:
        state = read_state(context.folder / STATE_FILE)
    except StateUnreadable as exc:
        _fail(str(exc))
    return RolloutContext(
        context.env,
        context.plan,
        state,
        context.folder,
        context.reports_dir,
        context.target,
        context.release_version,
    )


def _finish(context: RolloutContext, state: RolloutState, status: RolloutStatus) -> NoReturn:
    _print_status(state, context.folder)
    _notify(context.env, state)
    if status in ("held", "interrupted", "rolling_back"):
        click.echo(
            f"next: `releasegate rollout resume --id {state.id}` goes on,"
            f" `releasegate rollout abort --id {state.id}` rolls back"
        )
    sys.exit(int(EXIT_CODES[status]))


def _say(env: Environment) -> Callable[[Event], None]:
    def say(event: Event) -> None:
        when = event.at[11:19]
        where = f" [{event.stage}]" if event.stage else ""
        click.echo(env.redactor.redact(f"{when}{where} {event.message}"))

    return say


@contextlib.contextmanager
def _locked(path: Path, what: str) -> Iterator[None]:
    """One process at a time: a second `resume` while one runs is refused, not interleaved.
    flock is released by the kernel when the holder dies, so a lost process never blocks."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = path.open("a+")
    except OSError as exc:
        _fail(f"{path}: cannot write the rollout's lock: {exc.strerror}")
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            _fail(f"{what} is being run right now by pid {holder}", ExitCode.HOLD)
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
    """The rollout's outcome to the environment's webhook (the gates' own runs do not send),
    under its `[notify] on` filter."""
    config = env.model.notify
    verdict = STATUS_VERDICT[state.status].name
    if config.webhook_url is None or state.status == "running" or verdict not in config.on:
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
            "verdict": verdict,
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
    unreadable: list[Path] = []
    found = find_rollouts(reports_dir, unreadable)
    also = f"; unreadable: {', '.join(map(str, unreadable))}" if unreadable else ""
    if not found:
        _fail(f"no rollouts under {reports_dir / ROLLOUTS_DIR}{also}")
    if rollout_id is not None:
        for path, state in found:
            if state.id == rollout_id:
                return path, state
        _fail(f"no rollout {rollout_id!r}; newest: {', '.join(s.id for _, s in found[:5])}{also}")
    if env_name is None:
        _fail("name the rollout: --env NAME (its newest rollout) or --id ID")
    env_name = Path(env_name).stem if env_name.endswith(".toml") else env_name
    mine = [(p, s) for p, s in found if s.environment == env_name]
    if unfinished:
        mine = [(p, s) for p, s in mine if not s.finished]
        if len(mine) > 1:
            listing = ", ".join(f"{s.id} ({s.plan}, {s.status})" for _, s in mine)
            _fail(f"{len(mine)} unfinished rollouts of {env_name!r}: {listing}; pick one with --id")
    if not mine:
        what = "unfinished rollout" if unfinished else "rollout"
        _fail(f"no {what} of environment {env_name!r} under {reports_dir / ROLLOUTS_DIR}{also}")
    return mine[0]


def _same(value: str, wanted: str | None, what: str) -> str:
    """`value`, if it is the one the rollout started with (the state keeps its digest)."""
    if digest(value) != wanted:
        _fail(f"{what} is not the one this rollout started with")
    return value


def _context(
    folder: Path,
    state: RolloutState,
    reports_dir: Path,
    env_name: str | None,
    plan_path: Path | None,
    base_url: str | None,
    release_version: str | None,
    *,
    allow_changed_plan: bool,
) -> RolloutContext:
    """The rollout's environment, plan and target again. The environment and plan files can
    be given anew (another checkout path); the plan must be the one it started with, except to
    roll back (abort, or a rollback that failed), when its current rollback command is used."""
    env = load_environment(env_name if env_name and env_name.endswith(".toml") else state.env_file)
    if env.name != state.environment:
        _fail(f"{env.path} is environment {env.name!r}, not this rollout's {state.environment!r}")
    plan: RolloutPlan = load_plan(plan_path or Path(state.plan_file))
    if plan.digest != state.plan_digest:
        if not allow_changed_plan:
            raise ConfigError(
                [
                    f"{plan.path}: the plan changed since rollout {state.id} started; a rollout"
                    " follows the plan it started with: restore the file, or `releasegate"
                    f" rollout abort --id {state.id}` and start a new one"
                ]
            )
        click.echo(
            f"warning: {plan.path} changed since rollout {state.id} started; only its rollback"
            " command is used",
            err=True,
        )
    if base_url is not None:
        target = _same(_target(env, base_url), state.base_url_sha256, "--base-url")
    elif MASK not in state.base_url:
        target = state.base_url
    else:  # a secret target (from a ${VAR}): the environment gives it again
        target = _same(_target(env, None), state.base_url_sha256, "the environment's base_url")
    if release_version is not None:
        version: str | None = _same(
            release_version, state.release_version_sha256, "--release-version"
        )
    elif state.release_version is not None and MASK in state.release_version:
        _fail("this rollout's release version is a secret (masked in its state): pass it again")
    else:
        version = state.release_version
    return RolloutContext(env, plan, state, folder, reports_dir, target, version)


@rollout_group.command("resume")
@env_option
@id_option
@reports_option
@plan_option
@base_url_option
@release_option
@click.option(
    "--retry-traffic",
    is_flag=True,
    help="run the current stage's traffic command again (after it failed or was cut off)",
)
def resume_command(
    env_name: str | None,
    rollout_id: str | None,
    reports_dir: Path,
    plan_path: Path | None,
    base_url: str | None,
    release_version: str | None,
    retry_traffic: bool,
) -> None:
    """Go on with a held or interrupted rollout from where it stopped: gates run again, a
    promoted stage is never re-run, a traffic command only with --retry-traffic."""
    folder, state = _existing(env_name, rollout_id, reports_dir, unfinished=True)
    rolling_back = state.status in ("rolling_back", "rollback_failed")
    options = (env_name, plan_path, base_url, release_version)
    context = _context(folder, state, reports_dir, *options, allow_changed_plan=rolling_back)
    click.echo(f"rollout {state.id}: resuming ({state.status})")
    _drive(context, retry_traffic=retry_traffic)


@rollout_group.command("abort")
@env_option
@id_option
@reports_option
@plan_option
@base_url_option
@release_option
@click.option("--no-rollback", is_flag=True, help="stop without running the rollback command")
def abort_command(
    env_name: str | None,
    rollout_id: str | None,
    reports_dir: Path,
    plan_path: Path | None,
    base_url: str | None,
    release_version: str | None,
    no_rollback: bool,
) -> None:
    """Stop an unfinished rollout for good, running the plan's rollback command."""
    folder, state = _existing(env_name, rollout_id, reports_dir, unfinished=True)
    options = (env_name, plan_path, base_url, release_version)
    context = _context(folder, state, reports_dir, *options, allow_changed_plan=True)
    with _locked(folder / LOCK_FILE, f"rollout {state.id}"):
        context = _fresh(context)
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
    folder, state = _existing(env_name, rollout_id, reports_dir, unfinished=False)
    if as_json:
        click.echo(summary_json(state))
    else:
        _print_status(state, folder)
        for event in state.events[-10:]:
            where = f" [{event.stage}]" if event.stage else ""
            click.echo(f"  {event.at}{where} {event.message}")
    sys.exit(int(EXIT_CODES[state.status]))
